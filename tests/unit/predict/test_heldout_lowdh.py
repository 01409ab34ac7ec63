"""The low-Delta H choice: ranking, vehicles excluded, infeasible combinations skipped."""

from __future__ import annotations

import pandas as pd
import pytest

from michigan.predict.lowdh import lowest_delta_h_pairs

CELL_TYPES = ("A", "B", "C")
DRUGS = ("vehicle", "d1", "d2")
DESIGN = [(c, d) for c in CELL_TYPES for d in DRUGS]


def table(delta_h):
    """Two predictions (controls) per combination, two decoder rows each; Delta H per control."""
    rows = []
    for (cell_type, drug), values in delta_h.items():
        for control, value in zip([c for c in CELL_TYPES if c != cell_type], values, strict=True):
            for decoder in ("btcvae", "michigan"):
                rows.append(
                    {
                        "condition": f"{cell_type}-{drug}",
                        "cell_type": cell_type,
                        "drug": drug,
                        "control_cell_type": control,
                        "decoder": decoder,
                        "delta_h": value,
                        "delta_h_leave_own_out": -value,
                    }
                )
    return pd.DataFrame(rows)


DELTA_H = {
    ("A", "vehicle"): (-9.0, -9.0),  # lowest, but a vehicle
    ("A", "d1"): (0.0, 1.0),  # mean 0.5
    ("B", "d1"): (0.5, 0.7),  # mean 0.6
    ("C", "d1"): (0.6, 0.8),  # mean 0.7: with A-d1 and B-d1 no cell type keeps d1
    ("C", "d2"): (1.0, 1.2),  # mean 1.1
    ("B", "d2"): (3.0, 3.0),
}


def test_lowest_mean_delta_h_first_vehicles_and_infeasible_skipped():
    choice = lowest_delta_h_pairs(table(DELTA_H), k=3, design=DESIGN, exclude_drugs=["vehicle"])
    assert choice.pairs == (("A", "d1"), ("B", "d1"), ("C", "d2"))
    ranking = choice.ranking
    assert list(ranking["condition"]) == ["A-d1", "B-d1", "C-d1", "C-d2", "B-d2"]
    assert ranking["delta_h"].tolist() == pytest.approx([0.5, 0.6, 0.7, 1.1, 3.0])
    assert (ranking["n_predictions"] == 2).all()
    assert list(ranking["chosen"]) == [True, True, False, True, False]


def test_leave_own_out_estimator_ranks_by_its_own_column():
    choice = lowest_delta_h_pairs(
        table(DELTA_H), k=1, design=DESIGN, estimator="leave_own_out", exclude_drugs=["vehicle"]
    )
    assert choice.pairs == (("B", "d2"),)


def test_vehicles_are_candidates_unless_excluded():
    choice = lowest_delta_h_pairs(table(DELTA_H), k=1, design=DESIGN)
    assert choice.pairs == (("A", "vehicle"),)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"k": 6}, ValueError, "lower lowdh_k=6"),
        ({"k": 0}, ValueError, "at least 1"),
        ({"estimator": "median"}, ValueError, "estimator must be"),
    ],
)
def test_bad_requests(kwargs, error, message):
    with pytest.raises(error, match=message):
        lowest_delta_h_pairs(
            table(DELTA_H), design=DESIGN, exclude_drugs=["vehicle"], **{"k": 3, **kwargs}
        )


def test_missing_column_is_named():
    with pytest.raises(KeyError, match="delta_h_leave_own_out"):
        lowest_delta_h_pairs(
            table(DELTA_H).drop(columns="delta_h_leave_own_out"),
            k=1,
            design=DESIGN,
            estimator="leave_own_out",
        )
