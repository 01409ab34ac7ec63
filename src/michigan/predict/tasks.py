"""What a held-out prediction run predicts: its tasks, the usable controls, the table's identity.

Kept free of the models and metrics (no JAX), so that the low-Delta H choice and the figures, which
only read prediction tables, import quickly.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from michigan import keys
from michigan.data.splits import condition_name
from michigan.predict.arithmetic import combinations

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from pathlib import Path

    import anndata as ad
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

#: columns that identify a prediction (one combination from one control cell type)
PREDICTION_COLUMNS = ("condition", "cell_type", "drug", "control_cell_type")
#: reference row of each prediction: the control cells under the drug, unshifted (the floor)
FLOOR = "unshifted_control"
#: reference row of each combination: one half of its real cells against the other (the ceiling)
CEILING = "real_half"


@dataclasses.dataclass(frozen=True)
class PredictionTask:
    """One prediction: the combination ``(cell_type, drug)`` from ``control_cell_type``."""

    cell_type: str
    drug: str
    control_cell_type: str
    held_out: bool

    @property
    def condition(self) -> str:
        """``"<cell_type>-<drug>"``."""
        return condition_name(self.cell_type, self.drug)


def prediction_tasks(
    cell_types: ArrayLike,
    drugs: ArrayLike,
    *,
    available: ArrayLike,
    held_out: Sequence[tuple[str, str]],
    all_combinations: bool,
) -> list[PredictionTask]:
    """Every (combination, control cell type) to predict, held-out combinations first.

    A cell type is a usable control of ``(cell_type, drug)`` when it has training cells under
    ``drug`` and shares at least one other treatment with ``cell_type`` among the training cells
    (the conditions of :func:`~michigan.predict.arithmetic.predict_codes`).

    Parameters
    ----------
    cell_types, drugs
        ``[cells]`` labels.
    available
        ``[cells]`` boolean mask of the training cells.
    held_out
        The held-out ``(cell_type, drug)`` pairs, predicted first, in this order.
    all_combinations
        Also predict every other observed combination (sorted).

    Returns
    -------
    list of PredictionTask
        Combination by combination, controls in sorted order.

    Raises
    ------
    ValueError
        If a held-out pair is not observed or has no usable control cell type.
    """
    cell_types = np.asarray(cell_types).astype(str)
    drugs = np.asarray(drugs).astype(str)
    mask = np.asarray(available, dtype=bool)
    observed = combinations(cell_types, drugs)
    wanted = [(str(c), str(d)) for c, d in held_out]
    absent = [pair for pair in wanted if pair not in set(observed)]
    if absent:
        msg = f"held-out combinations {absent} have no cells; observed: {observed}"
        raise ValueError(msg)
    if all_combinations:
        wanted += [pair for pair in observed if pair not in set(wanted)]
    treatments = {c: set(drugs[mask & (cell_types == c)]) for c in sorted(set(cell_types.tolist()))}
    tasks = []
    for cell_type, drug in wanted:
        is_held_out = (cell_type, drug) in set(held_out)
        controls = usable_controls(cell_type, drug, treatments)
        if not controls:
            if is_held_out:
                msg = (
                    f"held-out combination {condition_name(cell_type, drug)} has no control cell "
                    f"type with training cells under {drug!r} and a shared treatment"
                )
                raise ValueError(msg)
            logger.warning("%s skipped: no usable control", condition_name(cell_type, drug))
        tasks += [PredictionTask(cell_type, drug, other, is_held_out) for other in controls]
    return tasks


def usable_controls(cell_type: str, drug: str, treatments: Mapping[str, set[str]]) -> list[str]:
    """Cell types from which latent arithmetic can predict ``(cell_type, drug)``, sorted.

    Parameters
    ----------
    cell_type, drug
        The combination to predict.
    treatments
        Cell type -> the treatments (drugs and vehicles) of its training cells.

    Returns
    -------
    list of str
        Every other cell type with training cells under ``drug`` that shares a training
        treatment other than ``drug`` with ``cell_type`` (the conditions of
        :func:`~michigan.predict.arithmetic.predict_codes`).
    """
    own = treatments.get(cell_type, set())
    return sorted(
        other
        for other, seen in treatments.items()
        if other != cell_type and drug in seen and (seen & own) - {drug}
    )


def obs_labels(adata: ad.AnnData, key: str) -> np.ndarray:
    """``adata.obs[key]`` as strings, or ``KeyError`` naming the column and the columns there are."""
    if key not in adata.obs.columns:
        msg = f"adata.obs has no column {key!r}; columns: {list(adata.obs.columns)}"
        raise KeyError(msg)
    return adata.obs[key].astype(str).to_numpy()


def vehicle_drugs(
    obs: pd.DataFrame, *, drug_key: str = keys.DRUG, vehicle_key: str = keys.VEHICLE
) -> list[str]:
    """Drug labels of the vehicle controls, sorted (none when ``obs`` has no ``vehicle_key``).

    Parameters
    ----------
    obs
        Cell metadata with the drug label in ``drug_key`` and a boolean ``vehicle_key`` column
        (``Vehicle`` on the simulated screen, ``S0000`` on sci-Plex).
    drug_key, vehicle_key
        Column names.
    """
    if vehicle_key not in obs.columns:
        return []
    vehicle = obs[vehicle_key].to_numpy(dtype=bool)
    return sorted(set(obs[drug_key].astype(str).to_numpy()[vehicle]))


def can_hold_out(pairs: Collection[tuple[str, str]], design: Collection[tuple[str, str]]) -> bool:
    """Whether every pair stays predictable by latent arithmetic when all ``pairs`` are held out.

    A held-out ``(c, d)`` is predictable when its cell type keeps a training treatment and
    :func:`usable_controls` finds a control for it among the remaining combinations.

    Parameters
    ----------
    pairs
        Combinations held out together.
    design
        Every observed ``(cell_type, drug)`` combination.
    """
    remaining = set(design) - set(pairs)
    treatments: dict[str, set[str]] = {}
    for cell_type, drug in remaining:
        treatments.setdefault(cell_type, set()).add(drug)
    return all(
        treatments.get(cell_type) and usable_controls(cell_type, drug, treatments)
        for cell_type, drug in pairs
    )


def read_prediction_table(path: Path) -> pd.DataFrame:
    """Read a prediction table written by the ``predict-heldout`` stage.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    """
    if not path.is_file():
        msg = f"prediction table not found: {path}"
        raise FileNotFoundError(msg)
    return pd.read_csv(path, sep="\t")
