"""The real Splatter (R/Bioconductor) as a Splat backend, through rpy2, imported lazily.

``simulate_splatter(params)`` calls ``splatter::newSplatParams(...)`` with the parameters under
their dotted Splatter names and ``splatter::splatSimulatePaths``, then converts the
``SingleCellExperiment`` into the same AnnData layout as the native port
(:func:`michigan.simulate.layout.splat_anndata`). Splatter 1.22.1 (Bioconductor 3.16, R 4.2) is the
version the port and the reference data follow; rpy2 must be < 3.6 with R 4.2.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from michigan.simulate.layout import batch_names, path_names, splat_anndata, splat_var_columns
from michigan.simulate.params import SplatParams, param_specs

logger = logging.getLogger(__name__)

SPLATTER_VERSION = "1.22.1"
#: largest seed R's ``set.seed`` accepts (``.Machine$integer.max``)
R_INTEGER_MAX = 2**31 - 1
HOW_TO_GET_SPLATTER = (
    "install it with `conda env create -f envs/splatter.yaml` (R, Splatter and rpy2), or in R with "
    '`BiocManager::install("splatter")`; or use `backend: native` (the NumPy port, no R needed)'
)

#: R helpers: the pieces of a SingleCellExperiment as plain vectors and data frames
_R_SCE_PARTS = """
function(sce, assay_name) {
    counts <- methods::as(SummarizedExperiment::assay(sce, assay_name), "CsparseMatrix")
    list(i = counts@i, p = counts@p, x = counts@x, dim = dim(counts),
         obs = as.data.frame(SummarizedExperiment::colData(sce)),
         var = as.data.frame(SummarizedExperiment::rowData(sce)))
}
"""


class SplatterUnavailableError(ImportError):
    """R, rpy2 or the R package splatter is missing; the message says which and how to get it."""


def splatter_arguments(params: SplatParams) -> dict[str, Any]:
    """Parameters under their Splatter names, in an order ``newSplatParams`` accepts.

    Every parameter with a Splatter name is passed (also the defaults, so that the run does not
    depend on the installed Splatter's defaults). Per-batch and per-path values are passed
    recycled; ``dropout.type`` comes last because Splatter checks it against the lengths of
    ``dropout.mid`` and ``dropout.shape`` already set.

    Returns
    -------
    dict
        ``{"nGenes": 10000, "batchCells": [100], ..., "dropout.type": "none"}``: Python scalars
        for scalar parameters and lists for the others.
    """
    arguments = {
        spec.splatter_name: list(value)
        if isinstance(value := getattr(params, spec.name), tuple)
        else value
        for spec in param_specs(SplatParams)
        if spec.splatter_name is not None
    }
    arguments["dropout.type"] = arguments.pop("dropout.type")
    return arguments


def _require_rpy2() -> Any:
    """Import ``rpy2.robjects`` (which starts R) or say what is missing."""
    if importlib.util.find_spec("rpy2") is None:
        msg = (
            "backend 'splatter' needs the Python package rpy2, which is not installed: "
            "`uv sync --extra r` or `pip install 'rpy2>=3.5.17,<3.6'`; " + HOW_TO_GET_SPLATTER
        )
        raise SplatterUnavailableError(msg)
    try:
        import rpy2.robjects as ro
    except Exception as err:  # rpy2 raises OSError, RuntimeError, ... when R cannot be loaded
        msg = (
            f"backend 'splatter' needs R, but rpy2 could not start it ({type(err).__name__}: "
            f"{err}); install R >= 4.0 (e.g. Debian's r-base-core) and make sure R_HOME or `R` "
            "on PATH points to it; " + HOW_TO_GET_SPLATTER
        )
        raise SplatterUnavailableError(msg) from err
    return ro


def _r_package(name: str) -> Any:
    """``importr(name)``, or :class:`SplatterUnavailableError` naming R's library paths."""
    ro = _require_rpy2()
    from rpy2.robjects.packages import PackageNotInstalledError, importr

    try:
        return importr(name)
    except PackageNotInstalledError as err:
        libraries = ", ".join(ro.r(".libPaths()"))
        msg = (
            f"backend 'splatter' needs the R package {name!r}, which is not installed in R's "
            f"libraries ({libraries}); " + HOW_TO_GET_SPLATTER
        )
        raise SplatterUnavailableError(msg) from err


def to_r_vector(value: Any) -> Any:
    """Python scalar or list -> R vector of the matching type (logical, integer, double, character).

    Raises
    ------
    ValueError
        For an empty list or elements of mixed or unsupported type.
    """
    ro = _require_rpy2()
    values = list(value) if isinstance(value, list | tuple | np.ndarray) else [value]
    if not values:
        msg = "cannot pass an empty list to R"
        raise ValueError(msg)
    for kind, vector in (
        (bool, ro.BoolVector),
        (int, ro.IntVector),
        (float, ro.FloatVector),
        (str, ro.StrVector),
    ):
        if all(type(v) is kind for v in values):
            return vector(values)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return ro.FloatVector([float(v) for v in values])
    msg = f"cannot pass {value!r} to R: expected booleans, integers, numbers or strings"
    raise ValueError(msg)


def call_with_splatter_names(function: Any, arguments: Mapping[str, Any], **extra: Any) -> Any:
    """Call an R function with dotted argument names (``group.prob=...``) through R's ``...``.

    rpy2's automatic ``_`` -> ``.`` translation applies only to formal arguments, not to ``...``,
    so the names are passed verbatim.
    """
    converted = {name: to_r_vector(value) for name, value in arguments.items()}
    return function(**converted, **extra)


def _numpy(vector: Any) -> np.ndarray:
    """An R numeric/integer vector as a NumPy array (one copy)."""
    return np.array(vector, copy=True)


def sce_to_anndata(sce: Any, *, assay: str = "counts") -> ad.AnnData:
    """Convert an R ``SingleCellExperiment`` (or ``SummarizedExperiment``) into AnnData.

    Parameters
    ----------
    sce
        rpy2 handle of the R object, genes x cells.
    assay
        Assay that becomes ``X`` (dense or sparse in R; converted through ``dgCMatrix``).

    Returns
    -------
    anndata.AnnData
        ``[cells, genes]``: ``X`` CSR (int32 when every value is integral and fits, else
        float64), ``obs`` = ``colData``, ``var`` = ``rowData`` (factors become categoricals), indexed
        by the column / row names.
    """
    from rpy2.robjects import default_converter, pandas2ri
    from rpy2.robjects.conversion import localconverter

    ro = _require_rpy2()
    parts = ro.r(_R_SCE_PARTS)(sce, assay)
    n_genes, n_cells = (int(d) for d in parts.rx2("dim"))
    genes_by_cells = sp.csc_matrix(
        (_numpy(parts.rx2("x")), _numpy(parts.rx2("i")), _numpy(parts.rx2("p"))),
        shape=(n_genes, n_cells),
    )
    matrix = genes_by_cells.T.tocsr()
    integral = np.array_equal(matrix.data, np.round(matrix.data))
    if integral and matrix.data.size and np.abs(matrix.data).max() <= np.iinfo(np.int32).max:
        matrix = matrix.astype(np.int32)
    with localconverter(default_converter + pandas2ri.converter) as converter:
        obs = converter.rpy2py(parts.rx2("obs"))
        var = converter.rpy2py(parts.rx2("var"))
    return ad.AnnData(X=matrix, obs=pd.DataFrame(obs), var=pd.DataFrame(var))


def splat_from_sce(sce: Any, params: SplatParams, *, version: str) -> ad.AnnData:
    """Lay out Splatter's paths output like the native port (see :func:`splat_anndata`).

    ``version`` (e.g. ``"splatter 1.22.1; R version 4.2.2 ..."``) is recorded in
    ``uns[keys.SIMULATION_BACKEND]``.

    Raises
    ------
    KeyError
        If ``colData`` or ``rowData`` lacks a column of Splatter's paths output.
    """
    raw = sce_to_anndata(sce)
    obs, var = raw.obs, raw.var
    missing = [c for c in ("Batch", "Group", "ExpLibSize", "Step") if c not in obs.columns]
    var_columns = splat_var_columns(params.n_batches, params.n_paths)
    missing += [c for c in var_columns if c not in var.columns]
    if missing:
        msg = f"Splatter output lacks the column(s) {missing}; expected splatSimulatePaths output"
        raise KeyError(msg)
    return splat_anndata(
        sp.csr_matrix(raw.X),
        batch=_label_codes(obs["Batch"], batch_names(params.n_batches), "Batch"),
        path=_label_codes(obs["Group"], path_names(params.n_paths), "Group"),
        step=np.asarray(obs["Step"], dtype=np.int64),
        exp_lib_size=np.asarray(obs["ExpLibSize"], dtype=np.float64),
        var=var[var_columns].astype(np.float64).reset_index(drop=True),
        params=params,
        backend={"backend": "splatter", "version": version},
    )


def _label_codes(labels: pd.Series, names: list[str], column: str) -> np.ndarray:
    """0-based index of every label in ``names`` (``KeyError`` naming an unexpected label)."""
    codes = pd.Categorical(np.asarray(labels, dtype=str), categories=names).codes
    if (codes < 0).any():
        unexpected = sorted(set(np.asarray(labels, dtype=str)) - set(names))
        msg = f"Splatter column {column!r} has labels {unexpected} outside {names}"
        raise KeyError(msg)
    return codes.astype(np.int64)


def _splatter_version() -> str:
    """``"splatter <version>; R version ..."`` of the R session."""
    ro = _require_rpy2()
    splatter = ro.r('as.character(packageVersion("splatter"))')[0]
    return f"splatter {splatter}; {ro.r('R.version.string')[0]}"


def simulate_splatter(params: SplatParams) -> ad.AnnData:
    """Simulate with the real R Splatter (``splatSimulatePaths``) and return the port's layout.

    Raises
    ------
    SplatterUnavailableError
        When rpy2, R or the R package splatter is missing (the message says how to get it).
    ValueError
        When ``seed`` exceeds R's integer range.
    """
    if params.seed > R_INTEGER_MAX:
        msg = (
            f"Splat parameter 'seed' must be an integer in [0, {R_INTEGER_MAX}] for backend "
            f"'splatter' (R's set.seed takes 32-bit integers); got {params.seed}"
        )
        raise ValueError(msg)
    splatter = _r_package("splatter")
    version = _splatter_version()
    if not version.startswith(f"splatter {SPLATTER_VERSION}"):
        logger.warning(
            "the port and the reference data follow splatter %s; running %s",
            SPLATTER_VERSION,
            version,
        )
    logger.info("R Splatter: %d cells x %d genes (%s)", params.n_cells, params.n_genes, version)
    splat_params = call_with_splatter_names(splatter.newSplatParams, splatter_arguments(params))
    sce = splatter.splatSimulatePaths(splat_params, verbose=False)
    return splat_from_sce(sce, params, version=version)
