"""The low-Delta H retrain (paper Fig. 4c and 5): which combinations to hold out next.

After the held-out run has scored every combination, the paper holds out the three combinations
with the lowest Delta H, retrains, and predicts them. The paper does not say how Delta H of a
combination is formed from its predictions nor what happens when the lowest ones cannot all be
held out together; here (docs/prediction.md):

- a combination's Delta H is the mean over its predictions (one per control cell type);
- vehicle controls are not candidates (the question is a drug's response);
- combinations are taken in increasing Delta H order (ties by name), skipping any whose holding
  out, together with those already taken, would leave a taken combination without a usable control
  (another cell type with training cells under the drug and a shared training treatment) or its
  cell type without training cells.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, NamedTuple

import pandas as pd

from michigan.data.splits import condition_name
from michigan.predict.tasks import PREDICTION_COLUMNS, can_hold_out

if TYPE_CHECKING:
    from collections.abc import Collection

logger = logging.getLogger(__name__)

Estimator = Literal["paper", "leave_own_out"]
_ESTIMATOR_COLUMN = {"paper": "delta_h", "leave_own_out": "delta_h_leave_own_out"}


class LowDeltaHChoice(NamedTuple):
    """The chosen combinations and the ranking they were chosen from.

    Attributes
    ----------
    pairs
        ``(cell_type, drug)`` to hold out, lowest Delta H first.
    ranking
        Every candidate: ``cell_type``, ``drug``, ``condition``, ``delta_h`` (mean over its
        predictions), ``n_predictions`` and ``chosen`` (bool), in increasing Delta H order.
    """

    pairs: tuple[tuple[str, str], ...]
    ranking: pd.DataFrame


def lowest_delta_h_pairs(
    table: pd.DataFrame,
    *,
    k: int,
    design: Collection[tuple[str, str]],
    estimator: Estimator = "paper",
    exclude_drugs: Collection[str] = (),
) -> LowDeltaHChoice:
    """Choose the ``k`` combinations of lowest Delta H that can be held out together.

    Parameters
    ----------
    table
        Prediction table of the held-out run (:func:`michigan.predict.heldout.predict_heldout`).
    k
        Number of combinations to choose.
    design
        Every observed ``(cell_type, drug)`` combination of the data (vehicles included), for the
        feasibility check.
    estimator
        ``"paper"`` (column ``delta_h``) or ``"leave_own_out"``.
    exclude_drugs
        Drugs that are never candidates (the vehicle labels).

    Returns
    -------
    LowDeltaHChoice
        The pairs and the ranking.

    Raises
    ------
    KeyError
        If a column is missing.
    ValueError
        If ``k`` < 1, the estimator is unknown, or fewer than ``k`` combinations can be held out
        together.
    """
    if estimator not in _ESTIMATOR_COLUMN:
        msg = f"estimator must be one of {sorted(_ESTIMATOR_COLUMN)}, got {estimator!r}"
        raise ValueError(msg)
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValueError(msg)
    column = _ESTIMATOR_COLUMN[estimator]
    missing = [c for c in (*PREDICTION_COLUMNS, column) if c not in table.columns]
    if missing:
        msg = f"prediction table lacks the columns {missing}"
        raise KeyError(msg)
    per_prediction = table.drop_duplicates(list(PREDICTION_COLUMNS))
    per_prediction = per_prediction[~per_prediction["drug"].isin(list(exclude_drugs))]
    ranking = (
        per_prediction.groupby(["cell_type", "drug"], as_index=False)
        .agg(delta_h=(column, "mean"), n_predictions=(column, "size"))
        .assign(
            condition=lambda f: [
                condition_name(c, d) for c, d in zip(f.cell_type, f.drug, strict=True)
            ]
        )
        .sort_values(["delta_h", "condition"], kind="stable")
        .reset_index(drop=True)
    )
    design_set = {(str(c), str(d)) for c, d in design}
    chosen: list[tuple[str, str]] = []
    for pair in zip(ranking["cell_type"], ranking["drug"], strict=True):
        if len(chosen) == k:
            break
        if can_hold_out([*chosen, pair], design_set):
            chosen.append(pair)
        else:
            logger.info("%s skipped: it cannot be held out with %s", condition_name(*pair), chosen)
    if len(chosen) < k:
        msg = (
            f"only {len(chosen)} of the {len(ranking)} ranked combinations can be held out "
            f"together ({chosen}); lower lowdh_k={k}"
        )
        raise ValueError(msg)
    ranking["chosen"] = [
        pair in set(chosen) for pair in zip(ranking["cell_type"], ranking["drug"], strict=True)
    ]
    logger.info(
        "lowest %s Delta H: %s",
        estimator,
        ", ".join(f"{condition_name(*p)}" for p in chosen),
    )
    return LowDeltaHChoice(tuple(chosen), ranking)
