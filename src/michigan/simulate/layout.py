"""The AnnData layout shared by both Splat backends (native port and real Splatter through rpy2)."""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import anndata as ad
import numpy as np
import pandas as pd

from michigan import keys
from michigan.simulate.counts import row_totals

if TYPE_CHECKING:
    import scipy.sparse as sp

    from michigan.simulate.params import SplatParams

#: Splatter's colData columns kept in ``obs`` (paths mode), in Splatter's order
SPLAT_OBS_COLUMNS = ("Batch", "Group", "ExpLibSize", "Step")


def native_backend() -> dict[str, str]:
    """Provenance of the native port for ``uns[keys.SIMULATION_BACKEND]``."""
    return {"backend": "native", "version": f"michigan {version('michigan')}"}


def batch_names(n: int) -> list[str]:
    """Splatter's batch labels ``Batch1..BatchB``."""
    return [f"Batch{i}" for i in range(1, n + 1)]


def path_names(n: int) -> list[str]:
    """Splatter's path labels ``Path1..PathP`` (column ``Group`` in paths mode)."""
    return [f"Path{i}" for i in range(1, n + 1)]


def splat_var_columns(n_batches: int, n_paths: int) -> list[str]:
    """Splatter's rowData columns of a paths simulation, in Splatter's order."""
    batch_columns = [f"BatchFac{b}" for b in batch_names(n_batches)] if n_batches > 1 else []
    return [
        "BaseGeneMean",
        "OutlierFactor",
        "GeneMean",
        *batch_columns,
        *(f"DEFac{p}" for p in path_names(n_paths)),
        *(f"SigmaFac{p}" for p in path_names(n_paths)),
    ]


def splat_anndata(
    counts: sp.csr_matrix,
    *,
    batch: np.ndarray,
    path: np.ndarray,
    step: np.ndarray,
    exp_lib_size: np.ndarray,
    var: pd.DataFrame,
    params: SplatParams,
    backend: dict[str, Any],
) -> ad.AnnData:
    """Assemble a Splat paths simulation as AnnData (the layout of both backends).

    Parameters
    ----------
    counts
        ``[cells, genes]`` integer counts (CSR).
    batch, path
        ``[cells]`` 0-based batch and path index of every cell.
    step
        ``[cells]`` 1-based step along the cell's path.
    exp_lib_size
        ``[cells]`` expected library size (``ExpLibSize``).
    var
        Gene table with the columns of :func:`splat_var_columns`, one row per gene.
    params
        The parameters that produced the simulation.
    backend
        Provenance stored in ``uns[keys.SIMULATION_BACKEND]`` (backend name and versions).

    Returns
    -------
    anndata.AnnData
        ``X``: CSR integer counts. ``obs`` (index ``Cell1..``): ``Batch`` (categorical
        ``Batch1..``), ``Group`` (categorical ``Path1..``, the path), ``ExpLibSize`` (float64),
        ``Step`` (int32), ``library_size`` (int64, row sums of ``X``). ``var`` (index
        ``Gene1..``): Splatter's gene columns. ``uns``: ``keys.SPLAT_PARAMS`` (the parameters,
        snake_case, per-batch/per-path values recycled) and ``keys.SIMULATION_BACKEND``.
    """
    n_cells, n_genes = counts.shape
    obs = pd.DataFrame(
        {
            "Batch": pd.Categorical.from_codes(batch, categories=batch_names(params.n_batches)),
            "Group": pd.Categorical.from_codes(path, categories=path_names(params.n_paths)),
            "ExpLibSize": np.asarray(exp_lib_size, dtype=np.float64),
            "Step": np.asarray(step, dtype=np.int32),
            keys.LIBRARY_SIZE: row_totals(counts),
        },
        index=pd.Index([f"Cell{i}" for i in range(1, n_cells + 1)]),
    )
    var = var.set_axis(pd.Index([f"Gene{i}" for i in range(1, n_genes + 1)]), axis=0)
    adata = ad.AnnData(X=counts, obs=obs, var=var)
    adata.uns[keys.SPLAT_PARAMS] = params.to_dict()
    adata.uns[keys.SIMULATION_BACKEND] = backend
    return adata
