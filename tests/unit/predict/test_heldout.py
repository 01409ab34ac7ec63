"""Held-out prediction runs: tasks, DE genes, and predict_heldout on a synthetic screen of codes."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc

from michigan import keys
from michigan.predict.heldout import PredictionSettings, predict_heldout, top_de_genes
from michigan.predict.summary import paired_predictions, summarize_predictions
from michigan.predict.tasks import (
    CEILING,
    FLOOR,
    can_hold_out,
    prediction_tasks,
    usable_controls,
    vehicle_drugs,
)

CELL_TYPES = ("A", "B", "C")
DRUGS = ("vehicle", "d1", "d2", "d3")
K, GENES, CELLS = 3, 12, 24
HELD_OUT = (("A", "d1"), ("B", "d2"))
INTERACTING = ("A-d1",)
SETTINGS = PredictionSettings(
    max_cells=20, delta_h_cells=15, n_de_genes=4, n_pcs=4, rf_trees=10, rf_folds=2
)
#: held-out combinations only, no DE genes, small forests: for the tests that run predict_heldout again
LIGHT = PredictionSettings(
    all_combinations=False, max_cells=20, delta_h_cells=15, n_de_genes=0, n_pcs=4, rf_trees=5,
    rf_folds=2,
)  # fmt: skip


def design_labels(cells_per_combination=2):
    types = np.repeat([c for c in CELL_TYPES for _ in DRUGS], cells_per_combination)
    drugs = np.repeat([d for _ in CELL_TYPES for d in DRUGS], cells_per_combination)
    return types, drugs


def synthetic_screen(seed=0, interaction=4.0):
    """Codes = cell type offset + drug offset (+ a large shift for A-d1) + noise; genes linear in codes.

    Returns the AnnData (obs labels, obsm codes, X) and the loading matrix W of the genes.
    """
    rng = np.random.default_rng(seed)
    type_offset = {c: 2.0 * rng.normal(size=K) for c in CELL_TYPES}
    drug_offset = {d: (0.0 if d == "vehicle" else 1.5) * rng.normal(size=K) for d in DRUGS}
    types, drugs = design_labels(CELLS)
    centre = np.array(
        [
            type_offset[c] + drug_offset[d] + (interaction if f"{c}-{d}" in INTERACTING else 0.0)
            for c, d in zip(types, drugs, strict=True)
        ]
    )
    mean = centre + 0.3 * rng.normal(size=centre.shape)
    sigma = np.full_like(mean, 0.3)
    loadings = rng.normal(size=(K, GENES))
    adata = ad.AnnData(
        (mean @ loadings + 0.5 * rng.normal(size=(len(types), GENES))).astype(np.float32),
        obs=pd.DataFrame(
            {keys.CELL_TYPE: types, keys.DRUG: drugs, keys.VEHICLE: drugs == "vehicle"},
            index=[f"cell{i}" for i in range(len(types))],
        ),
    )
    adata.obsm[keys.CODE_MEAN] = mean
    adata.obsm[keys.CODE_LOGSIGMA] = np.log(sigma)
    adata.obsm[keys.CODE_SAMPLE] = mean + sigma * rng.normal(size=mean.shape)
    return adata, loadings


def linear_decoders(loadings):
    """A decoder with the data's own loadings and noise, and one offset by +2 on every gene."""

    def decoder(offset):
        def decode(z, seed):
            noise = np.random.default_rng(seed).normal(size=(z.shape[0], GENES))
            return z @ loadings + 0.5 * noise + offset

        return decode

    return {"faithful": decoder(0.0), "offset": decoder(2.0)}


def train_cells(adata):
    held = np.zeros(adata.n_obs, bool)
    for cell_type, drug in HELD_OUT:
        held |= (adata.obs[keys.CELL_TYPE] == cell_type).to_numpy() & (
            adata.obs[keys.DRUG] == drug
        ).to_numpy()
    return list(adata.obs_names[~held])


def run(adata, loadings, *, seed=0, code_mode="sampled", settings=SETTINGS):
    return predict_heldout(
        adata,
        decoders=linear_decoders(loadings),
        train_cells=train_cells(adata),
        held_out=HELD_OUT,
        code_mode=code_mode,
        settings=settings,
        seed=seed,
        interacting=INTERACTING,
    )


@pytest.fixture(scope="module")
def screen():
    return synthetic_screen()


@pytest.fixture(scope="module")
def result(screen):
    return run(*screen)


# --------------------------------------------------------------------------------------------------
# tasks


def test_tasks_predict_every_combination_from_every_usable_control():
    types, drugs = design_labels()
    held = np.zeros(types.size, bool)
    for cell_type, drug in HELD_OUT:
        held |= (types == cell_type) & (drugs == drug)
    tasks = prediction_tasks(
        types, drugs, available=~held, held_out=HELD_OUT, all_combinations=True
    )
    # 12 combinations x 2 other cell types, less A as control of B-d1 and C-d1 (A-d1 is held out)
    # and B as control of A-d2 and C-d2
    assert len(tasks) == 12 * 2 - 4
    assert [(t.condition, t.control_cell_type) for t in tasks[:4]] == [
        ("A-d1", "B"),
        ("A-d1", "C"),
        ("B-d2", "A"),
        ("B-d2", "C"),
    ]
    assert all(t.held_out for t in tasks[:4])
    assert not any(t.held_out for t in tasks[4:])
    assert ("B-d1", "A") not in {(t.condition, t.control_cell_type) for t in tasks}
    only_held_out = prediction_tasks(
        types, drugs, available=~held, held_out=HELD_OUT, all_combinations=False
    )
    assert only_held_out == tasks[:4]


def test_a_held_out_pair_without_cells_or_control_is_an_error():
    types, drugs = design_labels()
    with pytest.raises(ValueError, match="have no cells"):
        prediction_tasks(
            types,
            drugs,
            available=np.ones(types.size, bool),
            held_out=[("A", "d9")],
            all_combinations=False,
        )
    # d1 only in A: nothing to shift
    keep = (drugs != "d1") | (types == "A")
    with pytest.raises(ValueError, match="no control cell type"):
        prediction_tasks(
            types[keep],
            drugs[keep],
            available=np.ones(keep.sum(), bool),
            held_out=[("A", "d1")],
            all_combinations=False,
        )


def test_usable_controls_need_the_drug_and_a_shared_treatment():
    treatments = {"A": {"v", "d2"}, "B": {"v", "d1"}, "C": {"d1"}, "D": {"d1", "d2"}}
    # C has d1 but shares nothing else with A; D shares d2
    assert usable_controls("A", "d1", treatments) == ["B", "D"]
    assert usable_controls("A", "d3", treatments) == []


@pytest.mark.parametrize(
    ("pairs", "possible"),
    [
        ([("A", "d1"), ("B", "d1")], True),  # C keeps d1
        ([("A", "d1"), ("B", "d1"), ("C", "d1")], False),  # no cell type keeps d1
        ([("A", "vehicle"), ("A", "d1"), ("A", "d2"), ("A", "d3")], False),  # A keeps nothing
        ([("A", "d1"), ("A", "d2")], True),
    ],
)
def test_can_hold_out(pairs, possible):
    design = {(c, d) for c in CELL_TYPES for d in DRUGS}
    assert can_hold_out(pairs, design) is possible


def test_vehicle_drugs_come_from_the_vehicle_column():
    obs = pd.DataFrame({keys.DRUG: ["S0000", "S1", "S0000", "S2"], keys.VEHICLE: [1, 0, 1, 0]})
    assert vehicle_drugs(obs) == ["S0000"]
    assert vehicle_drugs(obs.drop(columns=keys.VEHICLE)) == []


# --------------------------------------------------------------------------------------------------
# DE genes


# slow tier: compiles scanpy's numba Wilcoxon code first (minutes on a loaded 2-core machine)
@pytest.mark.slow
def test_top_de_genes_follow_scanpys_wilcoxon_ranking_by_absolute_score():
    rng = np.random.default_rng(1)
    control = rng.normal(size=(40, 8))
    treated = rng.normal(size=(30, 8))
    treated[:, 5] += 3.0
    treated[:, 2] -= 1.5
    treated[:, 6] += 0.7
    ours = top_de_genes(treated, control, n=3)
    assert list(ours[:2]) == [5, 2]
    # independent reference: scanpy's Wilcoxon test, treated against the control group
    adata = ad.AnnData(
        np.vstack([treated, control]).astype(np.float32),
        obs=pd.DataFrame({"group": ["t"] * 30 + ["c"] * 40}, index=[str(i) for i in range(70)]),
        var=pd.DataFrame(index=[f"g{i}" for i in range(8)]),
    )
    sc.tl.rank_genes_groups(
        adata,
        "group",
        groups=["t"],
        reference="c",
        method="wilcoxon",
        rankby_abs=True,
        tie_correct=False,
        n_genes=3,
    )
    names = [row[0] for row in adata.uns["rank_genes_groups"]["names"]]
    assert [f"g{i}" for i in ours] == names


# --------------------------------------------------------------------------------------------------
# predict_heldout


def test_table_has_one_row_per_prediction_and_decoder(result):
    table = result.table
    # two decoders and the two reference rows (floor, ceiling) per prediction
    assert len(table) == 20 * 4
    assert set(table["decoder"]) == {"faithful", "offset", FLOOR, CEILING}
    assert (table["codes"] == "sampled").all()
    assert list(table["condition"].iloc[:16]) == ["A-d1"] * 8 + ["B-d2"] * 8
    assert table["held_out"].iloc[:16].all()
    assert not table["held_out"].iloc[16:].any()
    # 24 real cells per combination, capped at max_cells; Delta H at min(delta_h_cells, 20)
    assert (table["n_real"] == 20).all()
    predicted = table.loc[table["decoder"] != CEILING, "n_predicted"]
    assert (predicted == 20).all()  # the ceiling compares two halves of 10
    assert (table["delta_h_cells"] == 15).all()
    assert table["interacting"].sum() == 8  # A-d1 from B and from C, four rows each
    # A would be the interacting control of B-d1 and C-d1, but A-d1 is held out: never a control
    assert not table["control_interacting"].any()
    metric_columns = [
        "rf_error",
        "rf_auc",
        "r2_mean_scgen",
        "r2_mean_cpa",
        "r2_var_cpa",
        "edistance",
        "edistance_control",
        "mmd",
        "delta_h",
        "delta_h_leave_own_out",
    ]
    assert np.isfinite(table[metric_columns].to_numpy()).all()
    # DE genes come from treated vs vehicle cells, so vehicle rows have no _de values
    vehicle = table["drug"] == "vehicle"
    assert table.loc[vehicle, "r2_mean_cpa_de"].isna().all()
    assert np.isfinite(table.loc[~vehicle, "r2_mean_cpa_de"]).all()
    assert {"rf_error", "delta_h", "delta_h_leave_own_out"} <= set(result.conventions)


def test_reference_rows_bracket_the_decoders(result):
    paired = paired_predictions(result.table, generator="offset", representation="faithful")
    clean = paired[~paired["interacting"] & ~paired["control_interacting"]]
    # real vs real: a forest cannot tell the halves apart; the unshifted control cells sit two
    # cell-type offsets away and are found; the faithful decoder lies in between
    assert clean[f"rf_error_{CEILING}"].mean() > 0.35
    assert clean[f"rf_error_{FLOOR}"].mean() < clean["rf_error_faithful"].mean()
    assert (clean[f"edistance_{CEILING}"] < clean[f"edistance_{FLOOR}"]).all()
    # the ceiling is computed once per combination
    ceiling = result.table[result.table["decoder"] == CEILING]
    assert (ceiling.groupby("condition")["rf_error"].nunique() == 1).all()
    assert (ceiling["n_predicted"] == 10).all()  # half of the 20 real cells


def test_delta_h_is_one_value_per_prediction(result):
    per_prediction = result.table.groupby(["condition", "control_cell_type"])
    assert (per_prediction["delta_h"].nunique() == 1).all()
    assert (per_prediction["delta_h_leave_own_out"].nunique() == 1).all()


def test_interacting_combination_has_the_largest_delta_h(result):
    paired = paired_predictions(result.table, generator="offset", representation="faithful")
    interacting = paired[paired["condition"] == "A-d1"]["delta_h"]
    clean = paired[~paired["interacting"] & ~paired["control_interacting"]]["delta_h"]
    # the interaction moves A-d1's codes by 4 (13 posterior sds) away from what the arithmetic
    # predicts; no clean prediction comes near
    assert interacting.min() > clean.max()


def test_faithful_decoder_is_harder_to_tell_from_real_cells(result):
    paired = paired_predictions(result.table, generator="offset", representation="faithful")
    clean = paired[~paired["interacting"] & ~paired["control_interacting"]]
    # an offset of 2 on every gene (4 noise sds) is found by any forest: error near 0; the faithful
    # decoder's cells differ from the real ones only by the arithmetic's error
    assert clean["rf_error_offset"].max() < 0.15
    assert clean["rf_error_faithful"].mean() > 0.25


def test_the_same_seed_gives_the_same_table_and_another_seed_another(screen):
    first, again, other = (run(*screen, seed=seed, settings=LIGHT).table for seed in (0, 0, 1))
    pd.testing.assert_frame_equal(again, first)
    assert not np.allclose(other["delta_h"], first["delta_h"])


def test_mean_codes_use_posterior_means(screen):
    adata, loadings = screen
    mean_run = run(adata, loadings, code_mode="mean", settings=LIGHT).table
    shuffled = adata.copy()
    # the mean run must not read the samples: scrambling them changes nothing
    shuffled.obsm[keys.CODE_SAMPLE] = shuffled.obsm[keys.CODE_SAMPLE][::-1]
    pd.testing.assert_frame_equal(
        run(shuffled, loadings, code_mode="mean", settings=LIGHT).table, mean_run
    )
    assert (mean_run["codes"] == "mean").all()
    assert "r2_mean_cpa_de" not in mean_run.columns  # n_de_genes = 0


def test_summary_is_strict_json(result):
    summary = summarize_predictions(
        result.table, generator="offset", representation="faithful", conventions=result.conventions
    )
    json.dumps(summary, allow_nan=False)
    assert summary["n_predictions"] == 20
    assert summary["n_combinations"] == 12
    assert summary["wilcoxon"]["held_out"]["n"] == 4
    assert len(summary["held_out_predictions"]) == 4
    check = summary["interaction_check"]["delta_h"]
    assert check["n_interacting"] == 2
    assert check["auc"] == 1.0


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"code_mode": "median"}, ValueError, "code_mode"),
        ({"decoders": {}}, ValueError, "at least one decoder"),
        ({"decoders": {FLOOR: None}}, ValueError, "reserved"),
        ({"drop_obsm": keys.CODE_LOGSIGMA}, KeyError, keys.CODE_LOGSIGMA),
        ({"drop_obs": keys.DRUG}, KeyError, "drug"),
        ({"settings": PredictionSettings(max_cells=3, rf_folds=5)}, ValueError, "rf_folds=5"),
    ],
)
def test_bad_input_fails_naming_the_culprit(screen, change, error, message):
    adata, loadings = screen
    adata = adata.copy()
    if "drop_obsm" in change:
        del adata.obsm[change["drop_obsm"]]
    if "drop_obs" in change:
        del adata.obs[change["drop_obs"]]
    kwargs = {
        "decoders": change.get("decoders", linear_decoders(loadings)),
        "train_cells": train_cells(adata) if keys.DRUG in adata.obs else [],
        "held_out": HELD_OUT,
        "code_mode": change.get("code_mode", "sampled"),
        "settings": change.get("settings", SETTINGS),
        "seed": 0,
    }
    with pytest.raises(error, match=message):
        predict_heldout(adata, **kwargs)
