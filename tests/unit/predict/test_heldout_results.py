"""Reading prediction results: pairing, Wilcoxon test, correlations, truth check, figures, stages."""

from __future__ import annotations

import itertools
import json
import math

import anndata as ad
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from michigan import keys
from michigan.cli import main
from michigan.data.splits import read_split
from michigan.io import write_json
from michigan.predict.summary import (
    correlations,
    interaction_check,
    paired_predictions,
    statistics_table,
    summarize_predictions,
    wilcoxon_greater,
)


def prediction_table(rf_errors, *, delta_h=None, held_out=None, truth=None):
    """A prediction table: prediction i gets rf_errors[i] = (btcvae, michigan) and delta_h[i]."""
    n = len(rf_errors)
    delta_h = np.arange(n, dtype=float) if delta_h is None else delta_h
    held_out = [i < 2 for i in range(n)] if held_out is None else held_out
    rows = []
    for i, errors in enumerate(rf_errors):
        for decoder, error in zip(("btcvae", "michigan"), errors, strict=True):
            row = {
                "condition": f"T{i}-d",
                "cell_type": f"T{i}",
                "drug": "d",
                "control_cell_type": "C",
                "held_out": held_out[i],
                "codes": "sampled",
                "decoder": decoder,
                "delta_h_cells": 10,
                "delta_h": delta_h[i],
                "delta_h_leave_own_out": delta_h[i] - 1.0,
                "rf_error": error,
                "edistance": 10 * error,
                "r2_mean_cpa_de": np.nan,
            }
            if truth is not None:
                row["interacting"], row["control_interacting"] = truth[i]
            rows.append(row)
    return pd.DataFrame(rows)


def exact_signed_rank_p(differences):
    """P(W+ >= observed) under H0 by enumerating all 2^n sign patterns (no ties, no zeros)."""
    ranks = np.argsort(np.argsort(np.abs(differences))) + 1
    observed = ranks[np.asarray(differences) > 0].sum()
    sums = [sum(signs) for signs in itertools.product(*[(0, r) for r in ranks])]
    return np.mean(np.array(sums) >= observed), observed


def test_paired_predictions_put_both_decoders_side_by_side():
    table = prediction_table([(0.4, 0.3), (0.2, 0.25), (0.1, 0.1)])
    paired = paired_predictions(table)
    assert len(paired) == 3
    np.testing.assert_allclose(paired["rf_error_btcvae"], [0.4, 0.2, 0.1])
    np.testing.assert_allclose(paired["rf_error_difference"], [-0.1, 0.05, 0.0], atol=1e-12)
    with pytest.raises(KeyError, match="'vae' is not in the prediction table"):
        paired_predictions(table, representation="vae")
    with pytest.raises(KeyError, match="delta_h"):
        paired_predictions(table.drop(columns="delta_h"))


def test_wilcoxon_matches_the_exact_enumeration():
    differences = np.array([0.01, 0.02, 0.03, -0.04, 0.05, 0.06])
    p_exact, w_plus = exact_signed_rank_p(differences)
    result = wilcoxon_greater(0.3 + differences, np.full(6, 0.3))
    assert result["n"] == result["n_nonzero"] == 6
    assert result["statistic"] == w_plus == 17
    # exact test, no ties: identical up to float round-off
    assert result["p_value"] == pytest.approx(p_exact, rel=1e-12)
    # six positive differences: the smallest p-value of six pairs, 2^-6
    assert wilcoxon_greater(np.arange(1, 7) + 1.0, np.ones(6))["p_value"] == pytest.approx(1 / 64)


def test_wilcoxon_of_identical_errors_has_no_p_value():
    result = wilcoxon_greater([0.2, 0.3], [0.2, 0.3])
    assert result["n_nonzero"] == 0
    assert result["p_value"] is None
    with pytest.raises(ValueError, match="1-d arrays of one length"):
        wilcoxon_greater([0.1, 0.2], [0.1])


def test_correlations_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=20)
    y = x + rng.normal(size=20)
    record = correlations(x, y)
    ranks = [np.argsort(np.argsort(v)) for v in (x, y)]
    # Spearman = Pearson of the ranks (no ties); float round-off only
    assert record["spearman_rho"] == pytest.approx(np.corrcoef(*ranks)[0, 1], rel=1e-12)
    assert record["pearson_r"] == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12)
    assert 0 < record["spearman_p"] < 0.05
    assert correlations([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])["spearman_rho"] is None
    assert correlations([1.0, 2.0], [1.0, 2.0])["pearson_r"] is None


def test_interaction_check_compares_interacting_with_clean_predictions():
    delta_h = np.array([5.0, 6.0, 7.0, 1.0, 2.0, 3.0, 4.0, 100.0])
    truth = [(True, False)] * 3 + [(False, False)] * 4 + [(False, True)]
    paired = paired_predictions(prediction_table([(0.3, 0.3)] * 8, delta_h=delta_h, truth=truth))
    check = interaction_check(paired)
    record = check["delta_h"]
    # the prediction from an interacting control (Delta H 100) is left out
    assert (record["n_interacting"], record["n_clean"]) == (3, 4)
    assert record["auc"] == 1.0
    assert record["interacting_larger"]
    # exact one-sided Mann-Whitney: the observed ordering is 1 of C(7, 3) equally likely ones
    assert record["p_value"] == pytest.approx(1 / math.comb(7, 3), rel=1e-12)
    assert record["median_interacting"] == 6.0
    assert record["median_clean"] == 2.5
    assert check["delta_h_leave_own_out"]["auc"] == 1.0


def test_interaction_check_needs_truth_and_both_groups():
    assert interaction_check(paired_predictions(prediction_table([(0.3, 0.3)] * 3))) is None
    only_clean = prediction_table([(0.3, 0.3)] * 3, truth=[(False, False)] * 3)
    assert interaction_check(paired_predictions(only_clean)) is None


def test_summary_and_statistics_table():
    errors = [(0.40, 0.45), (0.30, 0.20), (0.35, 0.40), (0.20, 0.30), (0.25, 0.26)]
    truth = [(True, False), (False, False), (False, False), (True, False), (False, False)]
    table = prediction_table(errors, truth=truth)
    summary = summarize_predictions(table, conventions={"rf_error": "x"})
    assert summary["n_predictions"] == 5
    assert summary["n_combinations"] == 5
    assert summary["delta_h_cells"] == 10
    assert summary["wilcoxon"]["all"]["n"] == 5
    assert summary["wilcoxon"]["held_out"]["n"] == 2
    assert [p["condition"] for p in summary["held_out_predictions"]] == ["T0-d", "T1-d"]
    means = summary["mean_by_decoder"]["all"]
    assert means["michigan"]["rf_error"] == pytest.approx(np.mean([e[1] for e in errors]))
    assert means["btcvae"]["r2_mean_cpa_de"] is None  # NaN is written as null
    # truth checks of both Delta H and both decoders' E-distances (10 x RF error here)
    check = summary["interaction_check"]
    assert set(check) >= {"delta_h", "edistance_btcvae", "edistance_michigan"}
    assert check["edistance_michigan"]["median_interacting"] == pytest.approx(3.75)
    stats_table = statistics_table({"heldout/sampled": summary})
    # 2 metrics (RF error, E-distance) x 2 scopes + 2 Delta H hypotheses + 4 truth checks
    assert len(stats_table) == 10
    assert list(stats_table["value_is"]) == (
        ["median difference, michigan minus arm"] * 4 + ["Spearman rho"] * 2 + ["AUC"] * 4
    )
    assert stats_table["test"].iloc[0] == ("Wilcoxon rf_error: michigan > btcvae (all predictions)")
    # five pairs cannot decide anything; the truth checks are no claim of the paper
    assert list(stats_table["verdict"].iloc[:6]) == ["uninformative"] * 6
    assert stats_table["verdict"].iloc[6:].isna().all()


# --------------------------------------------------------------------------------------------------
# stages: figures, statistics, split


@pytest.fixture
def run_files(tmp_path):
    """Prediction table and summary of a "mean" and a "sampled" run, written as the stage does."""
    errors = [(0.40, 0.45), (0.30, 0.20), (0.35, 0.40), (0.20, 0.30), (0.25, 0.26)]
    truth = [(True, False), (False, False), (False, True), (True, False), (False, False)]
    files = {}
    for mode in ("mean", "sampled"):
        table = prediction_table(errors, truth=truth).assign(codes=mode)
        files[mode] = (tmp_path / f"{mode}.tsv", tmp_path / f"{mode}.json")
        table.to_csv(files[mode][0], sep="\t", index=False)
        write_json(summarize_predictions(table), files[mode][1])
    return files


@pytest.mark.parametrize("figure", ["rf_error", "delta_h", "lowdh"])
def test_plot_prediction_draws_one_panel_per_run(run_files, tmp_path, figure):
    output = tmp_path / f"{figure}.png"
    argv = ["plot-prediction", "--figure", figure, "--codes", "mean", "sampled"]
    argv += ["--tables", *(str(run_files[m][0]) for m in ("mean", "sampled"))]
    argv += ["--summaries", *(str(run_files[m][1]) for m in ("mean", "sampled")), "--output"]
    assert main([*argv, str(output)]) == 0
    height, width, _ = matplotlib.image.imread(output).shape
    # two square panels side by side
    assert width == pytest.approx(2 * height, rel=0.05)
    assert (tmp_path / f"{figure}.run.json").is_file()


def test_plot_prediction_needs_one_table_and_summary_per_run(run_files, tmp_path):
    argv = ["plot-prediction", "--figure", "rf_error", "--codes", "mean", "sampled"]
    argv += ["--tables", str(run_files["mean"][0]), "--summaries", str(run_files["mean"][1])]
    assert main([*argv, "--output", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


def test_prediction_statistics_collects_every_run(run_files, tmp_path):
    output = tmp_path / "statistics.tsv"
    argv = ["prediction-statistics", "--summaries"]
    argv += [str(run_files[m][1]) for m in ("mean", "sampled")]
    assert (
        main([*argv, "--labels", "heldout/mean", "heldout/sampled", "--output", str(output)]) == 0
    )
    table = pd.read_csv(output, sep="\t")
    assert list(table["run"].unique()) == ["heldout/mean", "heldout/sampled"]
    assert len(table) == 2 * 10
    assert main([*argv, "--labels", "one", "--output", str(tmp_path / "y.tsv")]) == 2


def test_split_heldout_stage_writes_the_configured_pairs(tmp_path):
    obs = pd.DataFrame(
        {keys.CELL_TYPE: list("AABBCC"), keys.DRUG: ["v", "d", "v", "d", "v", "d"]},
        index=[f"c{i}" for i in range(6)],
    )
    data = tmp_path / "data.h5ad"
    ad.AnnData(np.zeros((6, 2), np.float32), obs=obs).write_h5ad(data)
    output = tmp_path / "splits" / "heldout.json"
    params = json.dumps({"heldout": [["A", "d"]]})
    argv = ["split-heldout", "--params", params, "--input", str(data), "--output", str(output)]
    assert main(argv) == 0
    split = read_split(output)
    assert split.pairs == (("A", "d"),)
    assert split.held_out == {"A-d": ("c1",)}
    assert len(split.train) == 5
    bad = json.dumps({"heldout": [["A", "x"]]})
    assert main(["split-heldout", "--params", bad, "--input", str(data), "--output", "z"]) == 2
