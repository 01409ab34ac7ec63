"""Ground-truth factor columns of a Splat paths simulation, under the names the metrics read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from michigan import keys
from michigan.simulate.counts import row_totals

if TYPE_CHECKING:
    import anndata as ad

#: labels of the library-size quartiles, smallest libraries first
QUARTILE_LABELS = ("Q1", "Q2", "Q3", "Q4")
#: Splatter's column behind each factor
SPLATTER_FACTOR_COLUMNS = {keys.BATCH: "Batch", keys.PATH: "Group", keys.STEP: "Step"}


def library_size_quartiles(library_size: np.ndarray) -> pd.Categorical:
    """Quartile of each cell's library size, ``Q1`` (smallest) to ``Q4``, as an ordered categorical.

    Cells are ranked (ties broken by cell order) and cut into four groups of equal size (sizes
    differ by at most one), so every quartile is populated even with tied library sizes.

    Parameters
    ----------
    library_size
        ``[cells]`` library sizes.

    Returns
    -------
    pandas.Categorical
        ``[cells]`` with ordered categories ``Q1 < Q2 < Q3 < Q4``.
    """
    sizes = np.asarray(library_size)
    rank = np.empty(sizes.size, dtype=np.int64)
    rank[np.argsort(sizes, kind="stable")] = np.arange(sizes.size)
    quartile = rank * len(QUARTILE_LABELS) // max(sizes.size, 1)
    return pd.Categorical.from_codes(quartile, categories=list(QUARTILE_LABELS), ordered=True)


def add_ground_truth_factors(adata: ad.AnnData, *, copy: bool = False) -> ad.AnnData | None:
    """Copy Splatter's factor columns to the names the metrics use and add library-size quartiles.

    Parameters
    ----------
    adata
        A Splat paths simulation with raw counts in ``X`` and Splatter's ``obs`` columns
        ``Batch``, ``Group`` and ``Step`` (either backend's output).
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    anndata.AnnData or None
        The copy if ``copy``, else ``None``. Written to ``obs``: ``keys.BATCH`` (categorical,
        from ``Batch``), ``keys.PATH`` (categorical, from ``Group``), ``keys.STEP`` (int, from
        ``Step``), ``keys.LIBRARY_SIZE`` (int64; kept if present, else the row sums of ``X``, so
        call this on counts, before normalisation), ``keys.LIBRARY_SIZE_QUARTILE`` (ordered
        categorical ``Q1..Q4`` of the observed library size).

    Raises
    ------
    KeyError
        If ``obs`` lacks one of Splatter's columns.
    """
    missing = [c for c in SPLATTER_FACTOR_COLUMNS.values() if c not in adata.obs.columns]
    if missing:
        msg = (
            f"obs lacks the Splatter column(s) {missing} (have {list(adata.obs.columns)}); "
            "expected a Splat paths simulation"
        )
        raise KeyError(msg)
    target = adata.copy() if copy else adata
    obs = target.obs
    obs[keys.BATCH] = pd.Categorical(obs["Batch"])
    obs[keys.PATH] = pd.Categorical(obs["Group"])
    obs[keys.STEP] = np.asarray(obs["Step"], dtype=np.int64)
    if keys.LIBRARY_SIZE not in obs.columns:
        obs[keys.LIBRARY_SIZE] = row_totals(target.X)
    obs[keys.LIBRARY_SIZE_QUARTILE] = library_size_quartiles(np.asarray(obs[keys.LIBRARY_SIZE]))
    return target if copy else None
