"""Summary statistics of a Splat paths simulation, as tabulated for the real Splatter references.

The definitions follow the team's reference README (``reference/splatter/README.md``) so that a
simulation from either backend can be compared number by number with real Splatter 1.22.1 output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from michigan.simulate.counts import row_totals

if TYPE_CHECKING:
    import anndata as ad

#: edges of the gene-mean bins of the dispersion table
MEAN_BIN_EDGES = (0.0, 0.1, 1.0, 10.0, 100.0, np.inf)
#: library-size normalisation target of the step-profile statistics
NORMALISED_TOTAL = 1e4
#: genes enter the step-profile statistics above this mean count
PROFILE_MIN_MEAN = 10.0
GENE_MEAN_QUANTILES = (5, 25, 50, 75, 95)


def gene_moments(counts: sp.spmatrix | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene mean and variance (ddof = 1) over cells of a ``[cells, genes]`` count matrix."""
    matrix = sp.csr_matrix(counts, dtype=np.float64)
    n = matrix.shape[0]
    mean = np.asarray(matrix.mean(axis=0)).ravel()
    square = np.asarray(matrix.multiply(matrix).mean(axis=0)).ravel()
    return mean, (square - mean**2) * n / (n - 1)


def step_profiles(adata: ad.AnnData, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-step mean of library-size-normalised expression on one path.

    Returns
    -------
    steps
        ``[steps]`` the steps present on the path, ascending.
    profiles
        ``[steps, genes]`` mean over the cells at each step of ``counts / total * 1e4``.
    """
    on_path = np.asarray(adata.obs["Group"] == path)
    matrix = sp.csr_matrix(adata.X[on_path], dtype=np.float64)
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    normalised = sp.diags(NORMALISED_TOTAL / np.maximum(totals, 1)) @ matrix
    step = np.asarray(adata.obs["Step"])[on_path]
    steps, index = np.unique(step, return_inverse=True)
    indicator = sp.csr_matrix((np.ones(step.size), (index, np.arange(step.size))))
    sums = np.asarray((indicator @ normalised).todense())
    return steps, sums / np.bincount(index)[:, None]


def _linear_r2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R^2 of a least-squares line ``y ~ x`` for every column of ``y`` ``[points, genes]``."""
    xc = x - x.mean()
    yc = y - y.mean(axis=0)
    slope = xc @ yc / (xc @ xc)
    residual = yc - np.outer(xc, slope)
    total = (yc**2).sum(axis=0)
    return 1.0 - (residual**2).sum(axis=0) / total


def splat_summary(adata: ad.AnnData) -> dict[str, float]:
    """The reference README's summary statistics of a Splat paths simulation.

    Parameters
    ----------
    adata
        ``[cells, genes]`` raw counts in ``X`` with Splatter's ``obs`` (``Batch``, ``Group``,
        ``Step``, ``ExpLibSize``) and ``var`` (``OutlierFactor``, ``DEFacPath*``,
        ``SigmaFacPath*``) columns, as written by either backend.

    Returns
    -------
    dict
        Flat ``name -> value``: ``zero_fraction``; ``lib_mean``, ``lib_sd`` (ddof 1), ``lib_min``,
        ``lib_median``, ``lib_max``; ``exp_lib_mean``, ``exp_lib_sd``, ``log_exp_lib_mean``,
        ``log_exp_lib_sd``, ``lib_exp_corr``; ``cells_<batch or path>``; ``cells_per_step_min`` /
        ``_max``; ``gene_mean_q<5..95>``; ``genes_no_counts``; ``outlier_genes``;
        ``de_genes_<path>``; ``nonlinear_genes_<path>``; ``loglog_slope``, ``loglog_intercept``
        (least squares of log10 var on log10 mean over genes with mean > 0); per mean bin
        ``bin<k>_n``, ``bin<k>_var_over_mean``, ``bin<k>_excess_dispersion`` (medians of var/mean
        and (var - mean)/mean^2 over the bin's genes with mean > 0; ``n`` counts all its genes); ``step_r2_median``, ``step_r2_frac_090`` (R^2 of a line through
        the per-step means of genes with mean > 10 and ``|log DEFac| > log 2``, pooled over
        paths); ``nonde_profile_cv`` (median over genes with mean > 10 and ``DEFac = 1`` of
        sd/mean of the per-step means, ddof 0).
    """
    counts = sp.csr_matrix(adata.X)
    n_cells, n_genes = counts.shape
    obs, var = adata.obs, adata.var
    library = row_totals(counts).astype(np.float64)
    exp_lib = np.asarray(obs["ExpLibSize"], dtype=np.float64)
    stats: dict[str, float] = {
        "zero_fraction": 1.0 - counts.nnz / (n_cells * n_genes),
        "lib_mean": library.mean(),
        "lib_sd": library.std(ddof=1),
        "lib_min": library.min(),
        "lib_median": float(np.median(library)),
        "lib_max": library.max(),
        "exp_lib_mean": exp_lib.mean(),
        "exp_lib_sd": exp_lib.std(ddof=1),
        "log_exp_lib_mean": np.log(exp_lib).mean(),
        "log_exp_lib_sd": np.log(exp_lib).std(ddof=1),
        "lib_exp_corr": float(np.corrcoef(library, exp_lib)[0, 1]),
    }
    for column in ("Batch", "Group"):
        for label, count in obs[column].value_counts(sort=False).items():
            stats[f"cells_{label}"] = float(count)
    per_step = obs.groupby(["Group", "Step"], observed=True).size()
    stats["cells_per_step_min"] = float(per_step.min())
    stats["cells_per_step_max"] = float(per_step.max())

    mean, variance = gene_moments(counts)
    for q, value in zip(GENE_MEAN_QUANTILES, np.percentile(mean, GENE_MEAN_QUANTILES), strict=True):
        stats[f"gene_mean_q{q}"] = float(value)
    stats["genes_no_counts"] = float((mean == 0).sum())
    stats["outlier_genes"] = float((var["OutlierFactor"] != 1).sum())
    paths = list(obs["Group"].cat.categories)
    for path in paths:
        stats[f"de_genes_{path}"] = float((var[f"DEFac{path}"] != 1).sum())
        stats[f"nonlinear_genes_{path}"] = float((var[f"SigmaFac{path}"] > 0).sum())
    expressed = mean > 0
    slope, intercept = np.polyfit(np.log10(mean[expressed]), np.log10(variance[expressed]), 1)
    stats["loglog_slope"], stats["loglog_intercept"] = float(slope), float(intercept)
    bins = np.digitize(mean, MEAN_BIN_EDGES[1:-1])
    for k in range(len(MEAN_BIN_EDGES) - 1):
        stats[f"bin{k}_n"] = float((bins == k).sum())  # genes without counts included, as tabulated
        in_bin = (bins == k) & expressed
        m, v = mean[in_bin], variance[in_bin]
        stats[f"bin{k}_var_over_mean"] = float(np.median(v / m)) if in_bin.any() else np.nan
        stats[f"bin{k}_excess_dispersion"] = (
            float(np.median((v - m) / m**2)) if in_bin.any() else np.nan
        )

    r2, cv = [], []
    for path in paths:
        steps, profiles = step_profiles(adata, path)
        log_fac = np.log(np.asarray(var[f"DEFac{path}"], dtype=np.float64))
        high = mean > PROFILE_MIN_MEAN
        strong = high & (np.abs(log_fac) > np.log(2))
        r2.append(_linear_r2(steps.astype(np.float64), profiles[:, strong]))
        flat = profiles[:, high & (log_fac == 0)]
        cv.append(flat.std(axis=0) / flat.mean(axis=0))
    pooled_r2 = np.concatenate(r2)
    stats["step_r2_median"] = float(np.median(pooled_r2))
    stats["step_r2_frac_090"] = float((pooled_r2 > 0.9).mean())
    stats["nonde_profile_cv"] = float(np.median(np.concatenate(cv)))
    stats.update({"n_cells": float(n_cells), "n_genes": float(n_genes)})
    return {name: float(value) for name, value in stats.items()}
