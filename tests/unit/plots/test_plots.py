"""Every figure function on tiny inputs: the file, the panels, what they show, the errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from michigan import plots
from michigan.cli import main
from michigan.io import run_record_path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def panels(fig):
    """The titled axes of a figure (colour bars and switched-off panels have no title)."""
    return [ax for ax in fig.axes if ax.get_title() and ax.axison]


def points(ax, index=-1):
    """Coordinates of the ``index``-th scatter of a panel."""
    return ax.collections[index].get_offsets()


@pytest.fixture
def cells():
    rng = np.random.default_rng(0)
    n = 30
    obs = pd.DataFrame(
        {
            "batch": pd.Categorical(rng.choice(["B1", "B2"], n)),
            "step": rng.integers(1, 6, n),
            "library_size": rng.normal(1e4, 1e3, n),
            "vehicle": rng.random(n) < 0.5,
            "cell_type": [f"type{i % 25}" for i in range(n)],
        },
        index=[f"c{i}" for i in range(n)],
    )
    return rng.normal(size=(n, 2)), obs


def test_default_colours_are_the_known_metadata_present(cells):
    _, obs = cells
    assert plots.default_color_columns(obs) == ["batch", "step", "library_size", "cell_type"]


def test_umap_by_obs_draws_one_panel_per_column(cells, tmp_path):
    xy, obs = cells
    path = tmp_path / "factors.png"
    columns = ["batch", "step", "library_size", "vehicle", "cell_type"]
    fig = plots.plot_umap_by_obs(xy, obs, columns, path=path, title="toy")
    assert path.read_bytes().startswith(PNG_MAGIC)
    drawn = panels(fig)
    assert [ax.get_title() for ax in drawn] == columns
    for ax in drawn:
        np.testing.assert_allclose(np.sort(points(ax, 0), axis=0), np.sort(xy, axis=0))
    # categorical panels get a legend unless they have more than 20 levels (cell_type has 25)
    legends = {ax.get_title(): ax.get_legend() is not None for ax in drawn}
    assert legends == {
        "batch": True,
        "step": False,
        "library_size": False,
        "vehicle": True,
        "cell_type": False,
    }
    assert sum(not ax.axison for ax in fig.axes) == 3  # 2 rows of 4, 5 used


def test_umap_by_obs_writes_other_formats(cells, tmp_path):
    xy, obs = cells
    path = tmp_path / "factors.svg"
    plots.plot_umap_by_obs(xy, obs, ["batch"], path=path, title="toy")
    assert b"<svg" in path.read_bytes()[:500]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"columns": ["tissue"]}, KeyError, "lacks the column"),
        ({"columns": []}, ValueError, "at least one obs column"),
        ({"xy": np.zeros((29, 2))}, ValueError, "29 coordinates for 30 cells"),
        ({"xy": np.full((30, 2), np.nan)}, ValueError, "coordinates contains 60 non-finite"),
        ({"xy": np.zeros((30, 3))}, ValueError, r"\[cells, 2\]"),
    ],
)
def test_umap_by_obs_rejects_bad_input(cells, tmp_path, change, error, match):
    xy, obs = cells
    arguments = {"xy": xy, "columns": ["batch"], **change}
    with pytest.raises(error, match=match):
        plots.plot_umap_by_obs(
            arguments["xy"], obs, arguments["columns"], path=tmp_path / "x.png", title="t"
        )
    assert not (tmp_path / "x.png").exists()


def test_umap_by_codes_draws_a_row_per_model_and_a_panel_per_dimension(cells, tmp_path):
    xy, _ = cells
    codes = {"ppca": np.arange(90.0).reshape(30, 3), "btcvae": np.ones((30, 2))}
    fig = plots.plot_umap_by_codes(xy, codes, path=tmp_path / "codes.png", title="toy")
    titles = [ax.get_title() for ax in panels(fig)]
    assert titles == ["ppca z0", "ppca z1", "ppca z2", "btcvae z0", "btcvae z1"]
    # the colours are the code values, drawn in a fixed permuted order
    first = panels(fig)[0].collections[0].get_array()
    np.testing.assert_array_equal(np.sort(first), codes["ppca"][:, 0])
    with pytest.raises(ValueError, match=r"codes of 'ppca' must be \[30, K\]"):
        plots.plot_umap_by_codes(xy, {"ppca": np.ones((3, 2))}, path=tmp_path / "x.png", title="")
    with pytest.raises(ValueError, match="at least one model"):
        plots.plot_umap_by_codes(xy, {}, path=tmp_path / "x.png", title="")


def test_umap_by_codes_places_each_models_cells_where_given(cells, tmp_path):
    xy, _ = cells
    generated = xy[:10] + 100.0
    codes = {"btcvae": np.ones((30, 2)), "infowgan_gp": np.arange(20.0).reshape(10, 2)}
    fig = plots.plot_umap_by_codes(
        {"btcvae": xy, "infowgan_gp": generated}, codes, path=tmp_path / "gen.png", title="toy"
    )
    drawn = {ax.get_title(): ax for ax in panels(fig)}
    np.testing.assert_allclose(
        np.sort(points(drawn["infowgan_gp z1"], 0), axis=0), np.sort(generated, axis=0)
    )
    np.testing.assert_allclose(np.sort(points(drawn["btcvae z0"], 0), axis=0), np.sort(xy, axis=0))
    with pytest.raises(KeyError, match=r"no coordinates for the model\(s\) \['infowgan_gp'\]"):
        plots.plot_umap_by_codes({"btcvae": xy}, codes, path=tmp_path / "x.png", title="")


def test_code_factor_bars_without_mutual_information_draw_correlations_only(tmp_path):
    spearman = {"infowgan_gp": np.array([[-0.9, 0.1], [0.2, 0.8]])}
    fig = plots.plot_code_factor_bars(
        spearman, None, factor_names=["path", "step"], path=tmp_path / "bars.png", title="toy"
    )
    (drawn,) = panels(fig)
    assert drawn.get_title() == "infowgan_gp: |Spearman ρ|"
    heights = np.array([bar.get_height() for bar in drawn.patches]).reshape(2, 2)
    np.testing.assert_allclose(heights, np.abs(spearman["infowgan_gp"]))


def test_embedding_groups_draw_each_group_over_the_real_cells(cells, tmp_path):
    xy, _ = cells
    groups = {
        "MCF7-S7259 from A549": {"control": xy[:3], "real": xy[3:8], "predicted": xy[8:10]},
        "K562-S1096 from A549": {"control": xy[:2], "real": xy[2:4], "predicted": xy[4:5]},
    }
    path = tmp_path / "groups.png"
    fig = plots.plot_embedding_groups(xy, groups, path=path, title="toy")
    assert path.read_bytes().startswith(PNG_MAGIC)
    drawn = panels(fig)
    assert [ax.get_title() for ax in drawn] == list(groups)
    first = drawn[0]
    np.testing.assert_allclose(points(first, 0), xy)
    np.testing.assert_allclose(points(first, 3), xy[8:10])
    labels = [t.get_text() for t in first.get_legend().get_texts()]
    assert labels == ["control (3)", "real (5)", "predicted (2)"]
    with pytest.raises(ValueError, match="at least one group"):
        plots.plot_embedding_groups(xy, {"empty": {}}, path=tmp_path / "x.png", title="")


def test_code_factor_bars_show_absolute_correlations_and_mutual_information(tmp_path):
    rng = np.random.default_rng(1)
    spearman = {"vae": rng.uniform(-1, 1, (3, 4)), "btcvae": rng.uniform(-1, 1, (3, 4))}
    mi = {"vae": rng.uniform(0, 1, (3, 4)), "btcvae": rng.uniform(0, 1, (3, 4))}
    path = tmp_path / "bars.png"
    fig = plots.plot_code_factor_bars(
        spearman, mi, factor_names=["batch", "path", "step"], path=path, title="toy"
    )
    assert path.read_bytes().startswith(PNG_MAGIC)
    drawn = panels(fig)
    assert [ax.get_title() for ax in drawn] == [
        "vae: |Spearman ρ|",
        "vae: normalised MI",
        "btcvae: |Spearman ρ|",
        "btcvae: normalised MI",
    ]
    # bars are drawn factor by factor: heights reshape to [factors, K]
    for ax, expected in zip(
        drawn,
        [np.abs(spearman["vae"]), mi["vae"], np.abs(spearman["btcvae"]), mi["btcvae"]],
        strict=True,
    ):
        heights = np.array([bar.get_height() for bar in ax.patches]).reshape(3, 4)
        np.testing.assert_allclose(heights, expected)


@pytest.mark.parametrize(
    ("spearman", "mi", "match"),
    [
        ({"vae": np.ones((3, 4))}, {"pca": np.ones((3, 4))}, "same, non-empty models"),
        ({}, {}, "same, non-empty models"),
        ({"vae": np.ones((2, 4))}, {"vae": np.ones((2, 4))}, r"\[3 factors, K\]"),
        ({"vae": np.ones((3, 4))}, {"vae": np.full((3, 4), np.nan)}, "NaN or infinite"),
    ],
)
def test_code_factor_bars_reject_bad_scores(tmp_path, spearman, mi, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_code_factor_bars(
            spearman, mi, factor_names=["a", "b", "c"], path=tmp_path / "x.png", title=""
        )


def traversal_tables(n_cells=5, n_steps=3, n_top=4):
    rng = np.random.default_rng(2)
    cells, genes = [], []
    for model in ("btcvae_decoder", "wgan_gp_noise10"):
        for dim in (1, 0):
            steps = np.repeat(np.arange(n_steps), n_cells)
            cells.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "dim": dim,
                        "step": steps,
                        "value": steps * 0.5,
                        "umap1": rng.normal(size=steps.size),
                        "umap2": rng.normal(size=steps.size),
                    }
                )
            )
            steps = np.repeat(np.arange(n_steps), n_top)
            genes.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "dim": dim,
                        "step": steps,
                        "value": steps * 0.5,
                        "gene": np.tile([f"{model[:3]}{dim}g{i}" for i in range(n_top)], n_steps),
                        "rank": np.tile(np.arange(1, n_top + 1), n_steps),
                        "mean_expression": rng.normal(size=steps.size),
                        "change": rng.normal(size=steps.size),
                    }
                )
            )
    return pd.concat(cells, ignore_index=True), pd.concat(genes, ignore_index=True)


def test_traversal_embedding_draws_each_model_and_dimension_over_the_real_cells(tmp_path):
    cells, _ = traversal_tables()
    real = np.random.default_rng(3).normal(size=(40, 2))
    population = real[:6]
    fig = plots.plot_traversal_embedding(
        real, population, cells, path=tmp_path / "t.png", title="toy"
    )
    drawn = panels(fig)
    assert [ax.get_title() for ax in drawn] == [
        "btcvae_decoder z0",
        "btcvae_decoder z1",
        "wgan_gp_noise10 z0",
        "wgan_gp_noise10 z1",
    ]
    for ax in drawn:
        assert len(points(ax, 0)) == 40  # the real cells
        assert len(points(ax, 1)) == 6  # the population
        model, dim = ax.get_title().split(" z")
        own = cells[(cells["model"] == model) & (cells["dim"] == int(dim))]
        np.testing.assert_allclose(points(ax, 2), own[["umap1", "umap2"]].to_numpy())
        np.testing.assert_array_equal(ax.collections[2].get_array(), own["step"])
    steps_bar = fig.axes[-1].get_yticks()  # the colour bar: whole steps only
    np.testing.assert_array_equal(steps_bar, np.round(steps_bar))
    with pytest.raises(KeyError, match="umap2"):
        plots.plot_traversal_embedding(
            real, population, cells.drop(columns="umap2"), path=tmp_path / "x.png", title=""
        )
    with pytest.raises(ValueError, match="empty"):
        plots.plot_traversal_embedding(
            real, population, cells.iloc[:0], path=tmp_path / "x.png", title=""
        )


def test_traversal_genes_draws_the_changes_of_each_panel_on_one_scale(tmp_path):
    _, genes = traversal_tables()
    fig = plots.plot_traversal_genes(genes, path=tmp_path / "g.png", title="toy")
    drawn = panels(fig)
    assert len(drawn) == 4
    limits = {ax.images[0].norm.vmax for ax in drawn}
    assert limits == {np.abs(genes["change"]).max()}
    for ax in drawn:
        model, dim = ax.get_title().split(" z")
        own = genes[(genes["model"] == model) & (genes["dim"] == int(dim))]
        expected = own["change"].to_numpy().reshape(3, 4).T  # rows: genes by rank; columns: steps
        np.testing.assert_allclose(ax.images[0].get_array(), expected)
        labels = [tick.get_text() for tick in ax.get_yticklabels()]
        assert labels == own["gene"].iloc[:4].tolist()
    bad = genes.assign(change=np.where(genes.index == 0, np.inf, genes["change"]))
    with pytest.raises(ValueError, match="NaN or infinite changes"):
        plots.plot_traversal_genes(bad, path=tmp_path / "x.png", title="")


def write_curve(path, values):
    """A training-curve TSV like ``michigan training-curve`` writes: ``{metric: [value per epoch]}``."""
    rows = [
        {"epoch": 10 * (i + 1), "metric": metric, "value": value, "convention": "toy"}
        for metric, series in values.items()
        for i, value in enumerate(series)
    ]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture
def curve_files(tmp_path):
    """Two models' curves; the first (as if from a run without cell types) has no inception score."""
    return {
        "wgan_gp": write_curve(tmp_path / "wgan.tsv", {"rf_error": [0.05, 0.3, 0.45]}),
        "michigan_mean": write_curve(
            tmp_path / "michigan.tsv",
            {"rf_error": [0.2, 0.1, 0.4], "inception_score": [2.0, 3.0, 4.0]},
        ),
    }


def test_training_curves_overlay_one_line_per_model_in_each_metric_panel(curve_files, tmp_path):
    curves = {name: pd.read_csv(path, sep="\t") for name, path in curve_files.items()}
    path = tmp_path / "training_curves.png"
    fig = plots.plot_training_curves(curves, path=path, title="toy")
    assert path.read_bytes().startswith(PNG_MAGIC)
    rf_error, inception = fig.axes
    assert (rf_error.get_xlabel(), rf_error.get_ylabel()) == ("epoch", "RF error")
    assert inception.get_ylabel() == "inception score"
    assert [line.get_label() for line in rf_error.get_lines()] == ["wgan_gp", "michigan_mean"]
    assert [line.get_label() for line in inception.get_lines()] == ["michigan_mean"]
    wgan = rf_error.get_lines()[0]
    np.testing.assert_array_equal(wgan.get_xdata(), [10, 20, 30])
    np.testing.assert_array_equal(wgan.get_ydata(), [0.05, 0.3, 0.45])
    # a model keeps its colour in every panel, also where an earlier model has no line
    np.testing.assert_array_equal(
        rf_error.get_lines()[1].get_color(), inception.get_lines()[0].get_color()
    )
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["wgan_gp", "michigan_mean"]


def test_training_curves_without_a_drawn_metric_are_refused(tmp_path):
    curve = pd.DataFrame({"epoch": [1], "metric": ["inception_score_std"], "value": [0.1]})
    with pytest.raises(ValueError, match="no training curve holds any of"):
        plots.plot_training_curves({"vae": curve}, path=tmp_path / "x.png", title="toy")


def test_plot_training_curves_stage_writes_the_figure_and_its_record(curve_files, tmp_path):
    output = tmp_path / "figures" / "training_curves.png"
    curves = [word for name, path in curve_files.items() for word in ("--curve", name, str(path))]
    options = ["--params", '{"dpi": 50}', "--output", str(output), "--label", "toy, seed 0"]
    code = main(["plot-training-curves", *options, *curves])
    assert code == 0
    assert output.read_bytes().startswith(PNG_MAGIC)
    record = json.loads(run_record_path(output).read_text())
    assert record["result"]["models"] == ["wgan_gp", "michigan_mean"]
