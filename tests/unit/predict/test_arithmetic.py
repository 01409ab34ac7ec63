from __future__ import annotations

import numpy as np
import pytest

from michigan.predict.arithmetic import balance_by_treatment, combinations, predict_codes

CELL_TYPES = ["A", "B", "C"]
DRUGS = ["vehicle", "d1", "d2", "d3"]


def additive_screen(counts, *, k=4, seed=0):
    """Codes = cell-type offset + drug offset, `counts[(cell_type, drug)]` cells each."""
    rng = np.random.default_rng(seed)
    type_offset = {c: rng.normal(size=k) * 3 for c in CELL_TYPES}
    drug_offset = {d: rng.normal(size=k) for d in DRUGS}
    codes, types, drugs = [], [], []
    for (c, d), n in counts.items():
        codes.append(np.tile(type_offset[c] + drug_offset[d], (n, 1)))
        types += [c] * n
        drugs += [d] * n
    return np.concatenate(codes), np.array(types), np.array(drugs), type_offset, drug_offset


def test_additive_effects_are_recovered_exactly_on_a_balanced_design():
    counts = {(c, d): 20 for c in CELL_TYPES for d in DRUGS}
    codes, types, drugs, a, b = additive_screen(counts)
    held_out = (types == "A") & (drugs == "d2")
    prediction = predict_codes(
        codes,
        types,
        drugs,
        cell_type="A",
        drug="d2",
        control_cell_type="B",
        n_target=15,
        available=~held_out,
        rng=np.random.default_rng(1),
    )
    # equal counts per treatment: balancing and equalising keep the design balanced, so the
    # drug offsets cancel in the difference of means and the shift is exact (float64 round-off)
    np.testing.assert_allclose(prediction.delta, a["A"] - a["B"], atol=1e-12)
    np.testing.assert_allclose(prediction.codes, np.tile(a["A"] + b["d2"], (15, 1)), atol=1e-12)
    assert prediction.shared_treatments == ("d1", "d3", "vehicle")
    assert prediction.codes.shape == (15, 4)
    assert np.all(
        (types[prediction.control_rows] == "B") & (drugs[prediction.control_rows] == "d2")
    )


def test_unbalanced_design_is_balanced_before_the_shift():
    # type A has many vehicle cells, type B few: without balancing the vehicle offset would dominate
    counts = {(c, d): 10 for c in CELL_TYPES for d in DRUGS}
    counts[("A", "vehicle")] = 400
    codes, types, drugs, a, _ = additive_screen(counts, seed=3)
    deltas = [
        predict_codes(
            codes,
            types,
            drugs,
            cell_type="A",
            drug="d1",
            control_cell_type="B",
            n_target=10,
            rng=np.random.default_rng(seed),
        ).delta
        for seed in range(200)
    ]
    # balancing resamples every treatment to 400 rows in A and 10 in B; equalising then draws 40
    # of A's 1600 rows, so each single delta is noisy but unbiased: the mean over 200 draws is within
    # a few standard errors of the true shift (the drug offsets have sd 1; se ~ 1/sqrt(40*200) ~ 0.01)
    np.testing.assert_allclose(np.mean(deltas, axis=0), a["A"] - a["B"], atol=0.06)


def test_held_out_cells_never_enter_the_prediction():
    counts = {(c, d): 12 for c in CELL_TYPES for d in DRUGS}
    codes, types, drugs, *_ = additive_screen(counts)
    held_out = (types == "A") & (drugs == "d2")
    codes[held_out] = np.nan
    prediction = predict_codes(
        codes,
        types,
        drugs,
        cell_type="A",
        drug="d2",
        control_cell_type="C",
        n_target=30,
        available=~held_out,
        rng=np.random.default_rng(0),
    )
    assert np.isfinite(prediction.codes).all()


def test_fewer_control_cells_than_targets_are_resampled_with_replacement():
    counts = {(c, d): 5 for c in CELL_TYPES for d in DRUGS}
    codes, types, drugs, *_ = additive_screen(counts)
    prediction = predict_codes(
        codes,
        types,
        drugs,
        cell_type="A",
        drug="d1",
        control_cell_type="B",
        n_target=50,
        rng=np.random.default_rng(0),
    )
    assert len(prediction.control_rows) == 50
    assert len(set(prediction.control_rows)) <= 5


def test_balance_by_treatment_gives_every_treatment_the_largest_count():
    rows = np.arange(10)
    treatments = np.array(["x"] * 7 + ["y"] * 3)
    balanced = balance_by_treatment(rows, treatments, rng=np.random.default_rng(0))
    assert len(balanced) == 14
    assert set(balanced[7:]) <= {7, 8, 9}
    assert set(balanced[:7]) <= set(range(7))


def test_combinations_lists_observed_pairs_without_excluded_drugs():
    types = np.array(["A", "A", "B"])
    drugs = np.array(["vehicle", "d1", "d1"])
    assert combinations(types, drugs, exclude_drugs=["vehicle"]) == [("A", "d1"), ("B", "d1")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"control_cell_type": "A"}, "must differ"),
        ({"n_target": 0}, "at least 1"),
        ({"drug": "d9"}, "no available cells of the control"),
    ],
)
def test_bad_requests_fail_with_a_clear_message(kwargs, message):
    counts = {(c, d): 4 for c in CELL_TYPES for d in DRUGS}
    codes, types, drugs, *_ = additive_screen(counts)
    request = {"cell_type": "A", "drug": "d1", "control_cell_type": "B", "n_target": 3}
    with pytest.raises(ValueError, match=message):
        predict_codes(codes, types, drugs, **{**request, **kwargs}, rng=np.random.default_rng(0))


def test_no_shared_treatment_is_an_error():
    codes = np.zeros((4, 2))
    types = np.array(["A", "A", "B", "B"])
    drugs = np.array(["d1", "d2", "d1", "d3"])
    with pytest.raises(ValueError, match="share no treatment"):
        predict_codes(
            codes,
            types,
            drugs,
            cell_type="A",
            drug="d1",
            control_cell_type="B",
            n_target=2,
            rng=np.random.default_rng(0),
        )


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="same cells"):
        predict_codes(
            np.zeros((3, 2)),
            ["A"] * 2,
            ["d"] * 3,
            cell_type="A",
            drug="d",
            control_cell_type="B",
            n_target=1,
            rng=np.random.default_rng(0),
        )
