"""The shared scanpy preprocessing recipe, used for every dataset (real and simulated).

Steps, in order (scanpy 1.11 functions):

1. ``filter_cells(min_genes)``: keep cells with at least ``min_genes`` genes of non-zero count.
2. ``filter_genes(min_cells)``: keep genes with a non-zero count in at least ``min_cells`` cells.
3. Copy the counts of the kept cells and genes to ``layers["counts"]``.
4. ``normalize_total(target_sum)``: x_cg ← target_sum · x_cg / Σ_g' x_cg'.
5. ``log1p``: x ← ln(1 + x).
6. ``highly_variable_genes(flavor="seurat")``: per gene, the mean m and the dispersion
   d = var/m of expm1(x); genes are binned into 20 bins of ln(1 + m), d's logarithm is z-scored
   within its bin, and a gene is kept if ``min_mean < ln(1 + m) < max_mean`` and the normalised
   dispersion exceeds ``min_disp`` (or, with ``n_top_genes``, the ``n_top_genes`` largest
   normalised dispersions are kept and the cut-offs ignored). The flavour is always passed
   explicitly, since scanpy's newer presets change its default.
7. Keep the highly variable genes only.
8. Optional ``scale(max_value)``: per gene, (x − mean) / std, clipped at ``max_value``.

Input checks first (:mod:`michigan.data.checks`): unique cell and gene names, and ``X`` holding
raw counts (finite, non-negative whole numbers). A user's dataset imported with ``normalised: true``
holds log-normalised values instead (``uns[keys.NORMALISED]``); steps 3-5 are then skipped, so
nothing is normalised or log-transformed twice.

Genes are chosen on the whole dataset; a subset such as the Tabula Muris heart is taken as rows of
the result (:func:`subset_cells`), so it keeps the whole dataset's genes (the authors' heart matrix
is 4,221 × 4,062, the same 4,062 genes as the whole data).

Scaling default (the paper and the original code are silent; original-code-spec §5.1): on, with
``max_value = 10``. The β-TCVAE decoder is a Gaussian with unit variance, the generator's output is
linear, and the reported VAE random-forest error survives unit noise added to reconstructions; all
three fit per-gene standardised data and not log-normalised values, whose per-gene variances are
far below 1. Set ``scale=False`` to train on log-normalised values instead.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import numpy as np
import scanpy as sc
import scipy.sparse as sp

from michigan import keys
from michigan.data.checks import check_counts, check_unique_names

if TYPE_CHECKING:
    from collections.abc import Sequence

    import anndata as ad

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreprocessParams:
    """Parameters of the shared recipe (defaults: datasets.md §3.2 and the module docstring).

    Attributes
    ----------
    min_genes
        ``filter_cells``: minimum number of detected genes per cell.
    min_cells
        ``filter_genes``: minimum number of cells in which a gene is detected.
    target_sum
        ``normalize_total``: total count of every cell after normalisation.
    hvg_min_mean, hvg_max_mean
        Bounds on ln(1 + mean) for a highly variable gene (seurat flavour).
    hvg_min_disp
        Lower bound on the normalised dispersion for a highly variable gene.
    n_top_genes
        If set, keep exactly this many genes by normalised dispersion instead of the cut-offs
        (e.g. 4062 to force the paper's Tabula Muris dimension).
    scale
        Standardise every gene to zero mean and unit variance after the gene selection.
    scale_max_value
        Clip standardised values at this absolute value (``None``: no clipping).
    """

    min_genes: int = 200
    min_cells: int = 3
    target_sum: float = 1e4
    hvg_min_mean: float = 0.0125
    hvg_max_mean: float = 3.0
    hvg_min_disp: float = 0.5
    n_top_genes: int | None = None
    scale: bool = True
    scale_max_value: float | None = 10.0

    def __post_init__(self) -> None:
        """Reject values outside their ranges."""
        problems = []
        if self.min_genes < 0 or self.min_cells < 0:
            problems.append(
                f"min_genes={self.min_genes} and min_cells={self.min_cells} must be >= 0"
            )
        if not self.target_sum > 0:
            problems.append(f"target_sum={self.target_sum} must be > 0")
        if not self.hvg_min_mean < self.hvg_max_mean:
            problems.append(
                f"hvg_min_mean={self.hvg_min_mean} must be < hvg_max_mean={self.hvg_max_mean}"
            )
        if self.n_top_genes is not None and self.n_top_genes < 1:
            problems.append(f"n_top_genes={self.n_top_genes} must be >= 1 or None")
        if self.scale_max_value is not None and not self.scale_max_value > 0:
            problems.append(f"scale_max_value={self.scale_max_value} must be > 0 or None")
        if problems:
            msg = "invalid PreprocessParams: " + "; ".join(problems)
            raise ValueError(msg)


def preprocess(
    adata: ad.AnnData, *, params: PreprocessParams | None = None, source: str = "adata"
) -> ad.AnnData:
    """Run the shared recipe on raw counts and return a new AnnData (``adata`` is not modified).

    Parameters
    ----------
    adata
        ``[cells, genes]`` raw counts in ``X`` (dense or sparse, non-negative whole numbers), or
        log-normalised values when ``uns[keys.NORMALISED]`` is true (a user's dataset imported
        with ``normalised: true``): then steps 3-5 (counts layer, normalisation, log1p) are
        skipped.
    params
        Recipe parameters (default :class:`PreprocessParams()`).
    source
        The file ``adata`` was read from, for the messages.

    Returns
    -------
    anndata.AnnData
        ``[kept_cells, highly_variable_genes]``. Slots written:

        - ``X``: log-normalised values, standardised if ``params.scale`` (then dense float32).
        - ``layers["counts"]``: the raw counts of the kept cells and genes (not for normalised
          input, which has none).
        - ``obs["n_genes"]``: detected genes per cell (``filter_cells``).
        - ``var["n_cells"]``: cells per gene (``filter_genes``); ``var["highly_variable"]``,
          ``"means"``, ``"dispersions"``, ``"dispersions_norm"`` (``highly_variable_genes``);
          ``var["mean"]``, ``"std"`` (``scale``, to undo it).
        - ``uns["log1p"]``, ``uns["hvg"]`` (scanpy) and ``uns["michigan_preprocessing"]``:
          the parameters, the scanpy version, whether the input was normalised and the cell and
          gene counts after each step.

    Raises
    ------
    ValueError
        If cell or gene names repeat, ``X`` is not counts (or not log-normalised values when so
        declared), a step leaves no cell or no gene, or ``n_top_genes`` exceeds the genes left.
    """
    params = params or PreprocessParams()
    normalised = bool(adata.uns.get(keys.NORMALISED, False))
    check_unique_names(adata.obs_names, what="cell", where=source)
    check_unique_names(adata.var_names, what="gene", where=source)
    check_counts(adata.X, where=f"{source} X", normalised=normalised)
    out = adata.copy()
    steps: dict[str, list[int]] = {"input": list(out.shape)}
    sc.pp.filter_cells(out, min_genes=params.min_genes)
    _require_nonempty(out, "filter_cells", params)
    steps["filter_cells"] = list(out.shape)
    sc.pp.filter_genes(out, min_cells=params.min_cells)
    _require_nonempty(out, "filter_genes", params)
    steps["filter_genes"] = list(out.shape)
    if params.n_top_genes is not None and params.n_top_genes > out.n_vars:
        msg = (
            f"n_top_genes={params.n_top_genes} asks for more genes than the {out.n_vars} left "
            f"after filter_genes ({adata.n_vars} in {source}); lower preprocess.n_top_genes"
        )
        raise ValueError(msg)
    if not normalised:
        out.layers[keys.COUNTS_LAYER] = out.X.copy()
        sc.pp.normalize_total(out, target_sum=params.target_sum)
        sc.pp.log1p(out)
    sc.pp.highly_variable_genes(
        out,
        flavor="seurat",
        min_mean=params.hvg_min_mean,
        max_mean=params.hvg_max_mean,
        min_disp=params.hvg_min_disp,
        n_top_genes=params.n_top_genes,
    )
    out = out[:, out.var["highly_variable"].to_numpy()].copy()
    _require_nonempty(out, "highly_variable_genes", params)
    steps["highly_variable_genes"] = list(out.shape)
    if params.scale:
        # zero-centring fills a sparse matrix; densify first so scanpy does not warn about it
        out.X = out.X.toarray() if sp.issparse(out.X) else np.asarray(out.X)
        sc.pp.scale(out, max_value=params.scale_max_value)
        out.X = out.X.astype(np.float32, copy=False)
    out.uns[keys.PREPROCESSING] = {
        "params": {k: v for k, v in asdict(params).items() if v is not None},
        "scanpy_version": version("scanpy"),
        "normalised_input": normalised,
        "shape_after": steps,
    }
    logger.info(
        "preprocessed %d x %d -> %d cells x %d highly variable genes (%s)",
        adata.n_obs,
        adata.n_vars,
        out.n_obs,
        out.n_vars,
        ", ".join(f"{step}: {shape[0]}x{shape[1]}" for step, shape in steps.items()),
    )
    return out


def _require_nonempty(adata: ad.AnnData, step: str, params: PreprocessParams) -> None:
    if adata.n_obs == 0 or adata.n_vars == 0:
        msg = f"{step} left {adata.n_obs} cells x {adata.n_vars} genes with {params}; relax it"
        raise ValueError(msg)


def subset_cells(adata: ad.AnnData, *, key: str, values: Sequence[str]) -> ad.AnnData:
    """Return the rows of ``adata`` whose ``obs[key]`` is one of ``values`` (same genes).

    Used for the Tabula Muris heart: ``subset_cells(tm, key="tissue", values=["Heart"])``.

    Parameters
    ----------
    adata
        Any AnnData (typically the preprocessed whole dataset).
    key
        obs column to select on.
    values
        Values to keep; each must occur.

    Returns
    -------
    anndata.AnnData
        A copy holding the selected rows, all genes and all slots of ``adata``.

    Raises
    ------
    KeyError
        If ``key`` is not an obs column.
    ValueError
        If ``values`` is empty or a value does not occur in ``obs[key]``.
    """
    if key not in adata.obs.columns:
        msg = f"obs has no column {key!r} to subset on; columns: {list(adata.obs.columns)}"
        raise KeyError(msg)
    present = set(adata.obs[key].astype(str))
    absent = [v for v in values if v not in present]
    if not values or absent:
        msg = f"cannot subset on obs[{key!r}] = {list(values)}: absent {absent}; present {sorted(present)}"
        raise ValueError(msg)
    mask = adata.obs[key].astype(str).isin(values).to_numpy()
    return adata[mask].copy()
