"""Bring your own data: load any ``.h5ad`` with raw counts (or log-normalised values) and check it first."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from michigan import keys
from michigan.data.checks import check_counts, check_unique_names
from michigan.messages import examples, quote
from michigan.metrics.factors import factor_codes, is_continuous

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

logger = logging.getLogger(__name__)


def load_h5ad(
    path: Path,
    *,
    counts_layer: str | None = None,
    factor_keys: Sequence[str] = (),
    cell_type_key: str | None = None,
    drug_key: str | None = None,
    min_cells_per_group: int = 10,
    normalised: bool = False,
) -> ad.AnnData:
    """Read a user's ``.h5ad``, validate it, and return its counts with the shared obs keys.

    Checks, each failing with a message that names the file and the key or values at fault
    (quoting at most a few values, each cut short): the file exists, is readable, is not empty,
    is HDF5 and reads as AnnData, with at least one cell and one gene; cell names and gene names
    are unique; the slot read exists and holds finite, non-negative whole numbers (raw counts),
    or, if ``normalised``, log-normalised values (see :func:`michigan.data.checks.check_counts`);
    every requested obs key exists and has no missing label; every factor can be a factor
    (:func:`michigan.metrics.factors.factor_codes`: not a single value, not one value per cell);
    every group of a discrete key (and every cell type × drug condition) has at least
    ``min_cells_per_group`` cells.

    Parameters
    ----------
    path
        The ``.h5ad`` file.
    counts_layer
        Layer holding the raw counts (or the log-normalised values); ``None`` takes ``X``.
    factor_keys
        obs columns of known factors (for the disentanglement metrics). Continuous columns
        (numeric with many values, cut into quantile bins by the metrics) are not checked for
        group sizes.
    cell_type_key, drug_key
        obs columns of the cell type and the perturbation, for perturbation data (held-out splits).
    min_cells_per_group
        Smallest allowed group of a categorical key or condition.
    normalised
        The slot holds log-normalised values (ln(1 + x) of normalised counts), not counts.

    Returns
    -------
    anndata.AnnData
        ``[cells, genes]`` with ``X`` = the counts (or log-normalised values) as float32 (sparse
        if stored sparse), the file's ``obs`` and ``var``, and, when given, ``obs["cell_type"]``,
        ``obs["drug"]`` (copies of the named columns, as strings) and ``obs["condition"] =
        "<cell_type>-<drug>"``; ``uns[keys.NORMALISED]`` is true for log-normalised values. Other
        layers, ``obsm`` and ``uns`` are not carried over.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    PermissionError
        If it cannot be read.
    KeyError
        If the counts layer or an obs key is missing.
    ValueError
        If the file is empty, not HDF5, not AnnData, or the counts or labels are invalid.
    """
    if min_cells_per_group < 1:
        msg = f"min_cells_per_group must be >= 1, got {min_cells_per_group}"
        raise ValueError(msg)
    adata = _read_checked(path)
    check_unique_names(adata.obs_names, what="cell", where=str(path))
    check_unique_names(adata.var_names, what="gene", where=str(path))
    counts = _counts_matrix(adata, path=path, counts_layer=counts_layer, normalised=normalised)
    obs = adata.obs.copy()
    requested = [*factor_keys, *(k for k in (cell_type_key, drug_key) if k is not None)]
    for key in requested:
        _check_labels(obs, key, path=path)
    for key in factor_keys:
        factor_codes(obs[key], name=f"{path} obs[{quote(key)}]")
        if not is_continuous(obs[key]):
            _check_group_sizes(obs[key].astype(str), key, path=path, minimum=min_cells_per_group)
    for key, canonical in ((cell_type_key, keys.CELL_TYPE), (drug_key, keys.DRUG)):
        if key is not None:
            obs[canonical] = obs[key].astype(str)
            _check_group_sizes(obs[canonical], key, path=path, minimum=min_cells_per_group)
    if cell_type_key is not None and drug_key is not None:
        obs[keys.CONDITION] = obs[keys.CELL_TYPE] + "-" + obs[keys.DRUG]
        _check_group_sizes(
            obs[keys.CONDITION],
            f"{cell_type_key} x {drug_key}",
            path=path,
            minimum=min_cells_per_group,
        )
    matrix = counts.astype(np.float32)
    out = ad.AnnData(X=matrix, obs=obs, var=adata.var.copy())
    if normalised:
        out.uns[keys.NORMALISED] = True
    logger.info(
        "loaded %s: %d cells x %d genes, %s from %s",
        path,
        out.n_obs,
        out.n_vars,
        "log-normalised values" if normalised else "counts",
        f"layers[{counts_layer!r}]" if counts_layer else "X",
    )
    return out


def _read_checked(path: Path) -> ad.AnnData:
    """Open ``path`` as AnnData, turning each way it can fail into a message naming the file."""
    if not path.exists():
        msg = f"h5ad file {path} does not exist"
        raise FileNotFoundError(msg)
    if not path.is_file():
        msg = f"h5ad path {path} is not a file"
        raise ValueError(msg)
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except PermissionError as exc:
        msg = f"h5ad file {path} cannot be read: {exc.strerror}"
        raise PermissionError(msg) from exc
    if path.stat().st_size == 0:
        msg = f"h5ad file {path} is empty (0 bytes); expected an AnnData .h5ad file"
        raise ValueError(msg)
    if not h5py.is_hdf5(path):
        msg = f"{path} is not an HDF5 file, so not an .h5ad (AnnData) file"
        raise ValueError(msg)
    try:
        return ad.read_h5ad(path)
    except Exception as exc:  # anndata raises many types for malformed files
        msg = f"{path} is HDF5 but could not be read as AnnData: {type(exc).__name__}: {exc}"
        raise ValueError(msg) from exc


def _counts_matrix(
    adata: ad.AnnData, *, path: Path, counts_layer: str | None, normalised: bool
) -> np.ndarray | sp.spmatrix:
    """The counts slot (or the log-normalised one), validated."""
    if counts_layer is None:
        matrix, where = adata.X, f"{path} X"
    else:
        if counts_layer not in adata.layers:
            msg = (
                f"{path} has no layer {quote(counts_layer)} to take counts from; "
                f"layers: {examples(adata.layers, limit=20) or 'none'}"
            )
            raise KeyError(msg)
        matrix, where = adata.layers[counts_layer], f"{path} layers[{quote(counts_layer)}]"
    if matrix is None or adata.n_obs == 0 or adata.n_vars == 0:
        msg = f"{where} is empty ({adata.n_obs} cells x {adata.n_vars} genes)"
        raise ValueError(msg)
    if not sp.issparse(matrix):
        matrix = np.asarray(matrix)
    check_counts(matrix, where=where, normalised=normalised)
    return matrix


def _check_labels(obs: pd.DataFrame, key: str, *, path: Path) -> None:
    """The obs column ``key`` exists and has no missing value."""
    if key not in obs.columns:
        msg = (
            f"{path} has no obs column {quote(key)}; obs columns: {examples(obs.columns, limit=20)}"
        )
        raise KeyError(msg)
    n_missing = int(obs[key].isna().sum())
    if n_missing:
        msg = f"{path} obs[{quote(key)}] has {n_missing} missing labels"
        raise ValueError(msg)


def _check_group_sizes(labels: pd.Series, key: str, *, path: Path, minimum: int) -> None:
    """Every group of ``labels`` has at least ``minimum`` cells."""
    sizes = labels.value_counts()
    small = sizes[sizes < minimum]
    if len(small):
        shown = ", ".join(f"{quote(name)}: {n}" for name, n in small.head(5).items())
        msg = (
            f"{path} obs[{quote(key)}] has {len(small)} groups with fewer than {minimum} cells "
            f"({shown}); drop them or lower min_cells_per_group"
        )
        raise ValueError(msg)
