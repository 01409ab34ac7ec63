"""Latent-space arithmetic: predict the codes of an unseen cell type x drug combination.

The procedure of the MichiGAN paper (section 2.4; steps as in the original code's
``LatentSpaceVectorArithmetic``, whose shipped ``estimate`` cannot run, see the shared spec §6):

1. *Balance* each cell type over the shared treatments Ω (the treatments observed in both the control and
   the target cell type, the target drug excluded): every treatment's cells are resampled with
   replacement up to the largest per-treatment count of that cell type.
2. *Equalise*: both balanced sets are subsampled without replacement to the smaller size.
3. Δ = mean z(target cell type, balanced) − mean z(control cell type, balanced).
4. The control cell type's cells under the target drug are subsampled without replacement to ``n_target``
   cells (or resampled with replacement when there are fewer).
5. ẑ = z(control cell type, target drug) + Δ.

Only cells marked ``available`` (the training cells) enter steps 1–4, so a held-out combination never
informs its own prediction.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike


@dataclasses.dataclass(frozen=True)
class CodePrediction:
    """Predicted codes of one (cell type, drug) combination from one control cell type.

    Attributes
    ----------
    cell_type, drug
        The predicted combination.
    control_cell_type
        The cell type whose cells under ``drug`` were shifted.
    codes
        ``[n_target, K]`` predicted codes ẑ.
    delta
        ``[K]`` shift Δ = mean z(target) − mean z(control) over the balanced shared treatments.
    control_rows
        ``[n_target]`` row indices (into the arrays passed in) of the control cells that were shifted.
    shared_treatments
        The treatments Ω the shift was estimated on.
    """

    cell_type: str
    drug: str
    control_cell_type: str
    codes: np.ndarray
    delta: np.ndarray
    control_rows: np.ndarray
    shared_treatments: tuple[str, ...]


def balance_by_treatment(
    rows: np.ndarray, treatments: np.ndarray, *, rng: np.random.Generator
) -> np.ndarray:
    """Resample each treatment's rows with replacement up to the largest treatment's count.

    Parameters
    ----------
    rows
        ``[n]`` row indices of one cell type's cells under the shared treatments.
    treatments
        ``[n]`` treatment label of each of those rows.
    rng
        Random generator.

    Returns
    -------
    ``[n_treatments * max_count]`` row indices, treatment by treatment in sorted label order.
    """
    labels, counts = np.unique(treatments, return_counts=True)
    largest = counts.max()
    return np.concatenate(
        [rng.choice(rows[treatments == label], size=largest, replace=True) for label in labels]
    )


def resample_to(rows: np.ndarray, size: int, *, rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` rows: without replacement when there are enough, with replacement otherwise."""
    return rng.choice(rows, size=size, replace=len(rows) < size)


def predict_codes(
    codes: ArrayLike,
    cell_types: ArrayLike,
    drugs: ArrayLike,
    *,
    cell_type: str,
    drug: str,
    control_cell_type: str,
    n_target: int,
    available: ArrayLike | None = None,
    rng: np.random.Generator,
) -> CodePrediction:
    """Predict the codes of ``(cell_type, drug)`` by shifting ``control_cell_type``'s cells under ``drug``.

    Parameters
    ----------
    codes
        ``[cells, K]`` codes (posterior means or samples) of every cell.
    cell_types, drugs
        ``[cells]`` labels of every cell (vehicle controls are a treatment like any other).
    cell_type, drug
        The combination to predict.
    control_cell_type
        The cell type whose cells under ``drug`` are shifted; must differ from ``cell_type``.
    n_target
        Number of predicted cells (the paper uses the number of real cells of the combination).
    available
        ``[cells]`` boolean mask of the cells the model was trained on (default: all). Only these enter
        the estimate, so a held-out combination's own cells are never used.
    rng
        Random generator for the resampling steps.

    Returns
    -------
    The prediction; see :class:`CodePrediction`.

    Raises
    ------
    ValueError
        If the arrays disagree in length, the control equals the target cell type, no treatment is
        shared, or the control cell type has no available cells under ``drug``.
    """
    codes = np.asarray(codes, dtype=np.float64)
    cell_types = np.asarray(cell_types).astype(str)
    drugs = np.asarray(drugs).astype(str)
    mask = np.ones(len(codes), bool) if available is None else np.asarray(available, dtype=bool)
    if codes.ndim != 2 or not (len(codes) == len(cell_types) == len(drugs) == len(mask)):
        msg = (
            f"codes {codes.shape}, cell_types {cell_types.shape}, drugs {drugs.shape} and available "
            f"{mask.shape} must describe the same cells ([cells, K] and [cells])"
        )
        raise ValueError(msg)
    if control_cell_type == cell_type:
        msg = f"the control cell type must differ from the target cell type {cell_type!r}"
        raise ValueError(msg)
    if n_target < 1:
        msg = f"n_target must be at least 1, got {n_target}"
        raise ValueError(msg)

    in_target = mask & (cell_types == cell_type)
    in_control = mask & (cell_types == control_cell_type)
    shared = sorted((set(drugs[in_target]) & set(drugs[in_control])) - {drug})
    if not shared:
        msg = (
            f"cell types {cell_type!r} and {control_cell_type!r} share no treatment besides {drug!r} "
            "among the available cells, so no shift can be estimated"
        )
        raise ValueError(msg)
    source = np.flatnonzero(in_control & (drugs == drug))
    if source.size == 0:
        msg = f"no available cells of the control {control_cell_type!r} under {drug!r} to shift"
        raise ValueError(msg)

    balanced = []
    for members in (in_target, in_control):
        rows = np.flatnonzero(members & np.isin(drugs, shared))
        balanced.append(balance_by_treatment(rows, drugs[rows], rng=rng))
    size = min(len(rows) for rows in balanced)
    target_rows, control_rows_balanced = (
        rng.choice(rows, size=size, replace=False) for rows in balanced
    )
    delta = codes[target_rows].mean(axis=0) - codes[control_rows_balanced].mean(axis=0)

    shifted = resample_to(source, n_target, rng=rng)
    return CodePrediction(
        cell_type=cell_type,
        drug=drug,
        control_cell_type=control_cell_type,
        codes=codes[shifted] + delta,
        delta=delta,
        control_rows=shifted,
        shared_treatments=tuple(shared),
    )


def combinations(
    cell_types: ArrayLike, drugs: ArrayLike, *, exclude_drugs: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Every observed (cell type, drug) pair, sorted, without the drugs in ``exclude_drugs``."""
    pairs = {
        (str(c), str(d)) for c, d in zip(np.asarray(cell_types), np.asarray(drugs), strict=True)
    }
    return sorted(p for p in pairs if p[1] not in set(exclude_drugs))
