"""Read the inputs of the metrics from AnnData: a model's codes and the ground-truth factors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from michigan import keys
from michigan.metrics.evaluate import LatentCodes
from michigan.metrics.factors import factor_matrix

if TYPE_CHECKING:
    from collections.abc import Sequence

    from anndata import AnnData


def read_codes(
    adata: AnnData,
    *,
    mean_key: str = keys.CODE_MEAN,
    logsigma_key: str = keys.CODE_LOGSIGMA,
    sample_key: str = keys.CODE_SAMPLE,
) -> LatentCodes:
    """Collect a representation model's codes from ``adata.obsm``.

    Parameters
    ----------
    adata
        Cells with their codes; nothing is written.
    mean_key
        ``obsm`` key of the posterior means ``[cells, latents]`` (required).
    logsigma_key, sample_key
        ``obsm`` keys of the log posterior standard deviations and of one posterior sample per
        cell; missing keys give ``None`` (models without a posterior).

    Returns
    -------
    LatentCodes
        float64 arrays.
    """
    if mean_key not in adata.obsm:
        msg = f"adata.obsm has no {mean_key!r} (posterior means); found {sorted(adata.obsm)}"
        raise KeyError(msg)

    def optional(key: str) -> np.ndarray | None:
        return np.asarray(adata.obsm[key], dtype=np.float64) if key in adata.obsm else None

    return LatentCodes(
        np.asarray(adata.obsm[mean_key], dtype=np.float64),
        optional(logsigma_key),
        optional(sample_key),
    )


def read_factors(
    adata: AnnData,
    *,
    factor_keys: Sequence[str] = keys.SIMULATION_FACTORS,
    source: str = "adata",
) -> np.ndarray:
    """Integer-code the ground-truth factors stored in ``adata.obs``.

    Discrete columns give one level per value; numeric columns with more than
    :data:`~michigan.metrics.factors.FACTOR_BINS` distinct values are continuous and cut into that
    many equal-frequency bins; a column with one value or with one value per cell (an ID) is
    refused (:mod:`michigan.metrics.factors`, docs/metrics.md).

    Parameters
    ----------
    adata
        Cells with factor columns; nothing is written.
    factor_keys
        ``obs`` columns, in order (default: batch, path, step, library-size quartile).
    source
        The file ``adata`` was read from, for the messages.

    Returns
    -------
    numpy.ndarray
        ``[cells, factors]`` int64 codes ``0..levels-1`` (levels in sorted order, bins from low
        to high).

    Raises
    ------
    KeyError
        If a column is missing.
    ValueError
        If a column has missing values, a single value, or one value per cell.
    """
    return factor_matrix(adata.obs, factor_keys, source=source)
