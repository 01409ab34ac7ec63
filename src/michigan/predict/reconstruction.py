"""How closely each decoder reproduces a combination's cells from those cells' own codes.

The held-out gate (docs/prediction.md, "Verdicts") asks whether MichiGAN reproduces the
combinations it was trained on, but scores predictions made by latent arithmetic, so a low RF error
there mixes the arithmetic's error with the generator's. Decoding each combination's *own* codes
(no arithmetic) isolates the generator: its RF error against the same real cells, and its
dispersion, the mean over genes of the decoded cells' standard deviation over the real cells' (1:
as spread as the real cells; below 1: the decoder ignores part of the cells' variation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from michigan import keys
from michigan.data.splits import condition_name
from michigan.metrics import rf_error
from michigan.predict.heldout import dense_rows
from michigan.predict.tasks import CEILING, obs_labels

if TYPE_CHECKING:
    from collections.abc import Mapping

    import anndata as ad

    from michigan.predict.noise import Decode


def dispersion(real: np.ndarray, decoded: np.ndarray) -> float:
    """Mean per-gene standard deviation (ddof 1) of ``decoded`` over that of ``real``."""
    return float(decoded.std(axis=0, ddof=1).mean() / real.std(axis=0, ddof=1).mean())


def reconstruct_combinations(
    adata: ad.AnnData,
    decoders: Mapping[str, Decode],
    *,
    train: np.ndarray,
    code_key: str,
    n_pcs: int = 50,
    rf_trees: int = 50,
    rf_folds: int = 5,
    seed: int = 0,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Score every decoder on every combination's cells decoded from their own codes.

    Parameters
    ----------
    adata
        ``[cells, genes]`` with the expression in ``X``, ``obs`` cell type and drug labels and the
        codes in ``obsm[code_key]``.
    decoders
        Name -> ``decode(codes, seed)`` (e.g. :func:`michigan.predict.decoders.prediction_decoders`).
    train
        Boolean mask of the training cells. A combination with training cells is scored on them
        (``held_out`` False); one without, on all its cells (``held_out`` True).
    code_key
        ``obsm`` key of the codes to decode (:data:`keys.CODE_MEAN` or :data:`keys.CODE_SAMPLE`).
    n_pcs, rf_trees, rf_folds, seed, n_jobs
        The RF error's settings (:func:`michigan.metrics.rf_error`; the results do not depend on
        ``n_jobs``); a combination with fewer than ``2 * rf_folds`` cells is left out.

    Returns
    -------
    pd.DataFrame
        One row per (combination, decoder): ``condition``, ``held_out``, ``decoder``, ``n_cells``,
        ``rf_error``, ``dispersion``; plus a :data:`~michigan.predict.tasks.CEILING` row per
        combination, one half of its real cells against the other.
    """
    codes = np.asarray(adata.obsm[code_key])
    cell_types = obs_labels(adata, keys.CELL_TYPE)
    drugs = obs_labels(adata, keys.DRUG)
    rows = []
    for cell_type, drug in sorted(set(zip(cell_types, drugs, strict=True))):
        members = (cell_types == cell_type) & (drugs == drug)
        held_out = not (members & train).any()
        cells = np.flatnonzero(members if held_out else members & train)
        if cells.size < 2 * rf_folds:
            continue
        real = dense_rows(adata.X, cells)
        half = cells.size // 2
        decoded = {
            name: np.asarray(decode(codes[cells], seed), np.float64)
            for name, decode in decoders.items()
        }
        pairs = {name: (real, decoded_cells) for name, decoded_cells in decoded.items()}
        pairs[CEILING] = (real[:half], real[half : 2 * half])
        for name, (reference, other) in pairs.items():
            forest = rf_error(
                reference,
                other,
                n_pcs=min(n_pcs, real.shape[1], 2 * reference.shape[0]),
                n_estimators=rf_trees,
                n_splits=rf_folds,
                seed=seed,
                n_jobs=n_jobs,
            )
            rows.append(
                {
                    "condition": condition_name(cell_type, drug),
                    "held_out": held_out,
                    "decoder": name,
                    "n_cells": reference.shape[0],
                    "rf_error": forest.error,
                    "dispersion": dispersion(reference, other),
                }
            )
    return pd.DataFrame(rows)
