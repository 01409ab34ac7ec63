"""Splat *paths* simulation: the native NumPy port of Splatter 1.22.1 and the backend switch.

Reference: Zappia, Phipson & Oshlack, "Splatter: simulation of single-cell RNA sequencing data",
Genome Biology 18:174 (2017); ``splatSimulatePaths`` of Splatter 1.22.1. The model, step by step,
is in the team's ``splat-model.md``; this port follows it in the order of its random draws.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from michigan.simulate import counts, model
from michigan.simulate.layout import native_backend, splat_anndata, splat_var_columns
from michigan.simulate.params import SplatParams, path_order

if TYPE_CHECKING:
    import anndata as ad

logger = logging.getLogger(__name__)

Backend = Literal["native", "splatter"]
BACKENDS: tuple[str, ...] = ("native", "splatter")


def splat_paths(
    params: SplatParams | None = None,
    /,
    *,
    backend: Backend = "native",
    n_threads: int | None = None,
    **values: Any,
) -> ad.AnnData:
    """Simulate single-cell counts along paths with the Splat model (Splatter's ``splatSimulatePaths``).

    Cells belong to ``B`` batches (``batch_cells``) and to one of ``P`` paths (``group_prob``); on
    path p a cell sits at a step ``1..path_n_steps[p]``. Gene means ``~ Gamma(mean_shape,
    mean_rate)`` with outliers; every gene has a log-normal factor per batch and a DE factor at the
    end of each path, reached from 1 along a straight line (linear genes) or a smoothed Brownian
    bridge (non-linear genes, probability ``path_nonlinear_prob``). Means are rescaled to each
    cell's expected library size ``~ LN(lib_loc, lib_scale)`` and counts are gamma-Poisson with
    ``BCV = (bcv_common + mu^-1/2) sqrt(bcv_df / chi2_bcv_df)``, optionally with logistic dropout.

    Parameters
    ----------
    params
        Parameters; or leave out and give them as keywords (``seed`` is required).
    backend
        ``"native"`` (NumPy port, default) or ``"splatter"`` (the R package through rpy2).
    n_threads
        Threads for the native backend's count sampling (default: all available CPUs; the result
        does not depend on it).
    **values
        Parameters by their snake_case Splatter names (see :class:`SplatParams`), e.g.
        ``seed=1, batch_cells=[5000, 5000], group_prob=[0.5, 0.5], path_n_steps=20``; with
        ``params`` given, they override its values.

    Returns
    -------
    anndata.AnnData
        ``[cells, genes]``. ``X``: integer counts (CSR, Splatter's ``counts``). ``obs``:
        ``Batch``, ``Group`` (the path), ``ExpLibSize``, ``Step``, ``library_size``. ``var``:
        ``BaseGeneMean``, ``OutlierFactor``, ``GeneMean``, ``BatchFacBatch*`` (if B > 1),
        ``DEFacPath*``, ``SigmaFacPath*``. ``uns``: ``splat_params``, ``simulation_backend``.

    Raises
    ------
    ValueError
        For an unknown parameter name, a value out of range, or an unknown backend.
    michigan.simulate.splatter_r.SplatterUnavailableError
        For ``backend="splatter"`` when R, rpy2 or the R package splatter is missing.

    Notes
    -----
    The native port cannot reproduce R's random streams; it matches Splatter in distribution
    (see ``docs/simulation.md`` for the comparison). Same seed and parameters give identical
    output. Deviations from Splatter 1.22.1: a path that receives no cell does not shift the steps
    and trajectories of later paths (Splatter re-indexes the occurring paths), and batches are
    matched to their own factors also for 10 or more batches (Splatter orders batch names
    alphabetically, so ``Batch10`` gets ``Batch2``'s factors).
    """
    if params is None:
        params = SplatParams.from_dict(values)
    elif values:
        params = SplatParams.from_dict({**params.to_dict(), **values})
    if backend == "native":
        return simulate_native(params, n_threads=n_threads)
    if backend == "splatter":
        from michigan.simulate import splatter_r

        return splatter_r.simulate_splatter(params)
    msg = f"unknown Splat backend {backend!r}; expected one of {', '.join(BACKENDS)}"
    raise ValueError(msg)


def simulate_native(params: SplatParams, *, n_threads: int | None = None) -> ad.AnnData:
    """Run the NumPy port of ``splatSimulatePaths`` (see :func:`splat_paths` for the model and layout)."""
    started = time.perf_counter()
    main_seed, counts_seed = np.random.SeedSequence(params.seed).spawn(2)
    rng = np.random.default_rng(main_seed)
    n_genes, n_paths = params.n_genes, params.n_paths

    batch = np.repeat(np.arange(params.n_batches), params.batch_cells)
    path = rng.choice(
        n_paths, size=params.n_cells, p=np.divide(params.group_prob, sum(params.group_prob))
    )
    exp_lib_size, means = model.library_sizes_and_gene_means(rng, params, params.n_cells)
    batch_factors = np.ones((params.n_batches, n_genes))
    if params.n_batches > 1:
        batch_factors = model.batch_factors(
            rng, n_genes, locs=params.batch_fac_loc, scales=params.batch_fac_scale
        )
        if params.batch_rm_effect:
            batch_factors[:] = 1.0
    de_factors, sigma_factors, trajectories = _path_factors(rng, params)
    step = _draw_steps(rng, path, params)
    first_row = np.cumsum([0, *params.path_n_steps[:-1]])
    layout = counts.CellLayout(
        gene_means=means.mean * batch_factors,
        cell_factors=trajectories,
        batch=batch,
        factor_row=first_row[path] + step - 1,
        library_size=exp_lib_size,
    )
    matrix = model.counts_for_layout(
        rng,
        layout,
        params,
        dropout=_cell_dropout(params, batch, path),
        seed=counts_seed,
        n_threads=n_threads,
    )
    var = pd.DataFrame(
        np.column_stack(
            [
                means.base,
                means.outlier_factor,
                means.mean,
                *(batch_factors if params.n_batches > 1 else []),
                *de_factors,
                *sigma_factors,
            ]
        ),
        columns=splat_var_columns(params.n_batches, n_paths),
    )
    adata = splat_anndata(
        matrix,
        batch=batch,
        path=path,
        step=step,
        exp_lib_size=exp_lib_size,
        var=var,
        params=params,
        backend=native_backend(),
    )
    logger.info(
        "native Splat: %d cells x %d genes in %.1f s",
        params.n_cells,
        n_genes,
        time.perf_counter() - started,
    )
    return adata


def _path_factors(
    rng: np.random.Generator, params: SplatParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """End-point DE factors, non-linear flags and step trajectories of every path (model §3.4-3.5).

    Returns
    -------
    de_factors
        ``[paths, genes]`` ``DEFacPath*``, drawn in the topological order of ``path_from``.
    sigma_factors
        ``[paths, genes]`` ``SigmaFacPath*``.
    trajectories
        ``[sum of path_n_steps, genes]``: the step factors of path 1, then path 2, ...
    """
    n_genes = params.n_genes
    de_factors = np.ones((params.n_paths, n_genes))
    for p in path_order(params.path_from):
        de_factors[p] = model.lognormal_factors(
            rng,
            n_genes,
            sel_prob=params.de_prob[p],
            neg_prob=params.de_down_prob[p],
            loc=params.de_fac_loc[p],
            scale=params.de_fac_scale[p],
        )
    sigma_factors = np.stack(
        [
            model.nonlinear_sigma_factors(
                rng,
                n_genes,
                nonlinear_prob=params.path_nonlinear_prob,
                sigma_fac=params.path_sigma_fac,
            )
            for _ in range(params.n_paths)
        ]
    )
    trajectories = []
    for p, origin in enumerate(params.path_from):
        start = np.ones(n_genes) if origin == 0 else de_factors[origin - 1]
        trajectories.append(
            model.bridge_trajectories(
                rng, start, de_factors[p], sigma_factors[p], params.path_n_steps[p]
            )
        )
    return de_factors, sigma_factors, np.concatenate(trajectories)


def _draw_steps(rng: np.random.Generator, path: np.ndarray, params: SplatParams) -> np.ndarray:
    """1-based step of every cell: one uniform per cell, read through its path's step CDF."""
    uniform = rng.random(path.size)
    step = np.empty(path.size, dtype=np.int64)
    for p in range(params.n_paths):
        on_path = path == p
        cdf = np.cumsum(model.step_probabilities(params.path_n_steps[p], params.path_skew[p]))
        cdf[-1] = 1.0  # guard against rounding at the last step
        step[on_path] = 1 + np.searchsorted(cdf, uniform[on_path], side="right")
    return step


def _cell_dropout(
    params: SplatParams, batch: np.ndarray, path: np.ndarray
) -> counts.Dropout | None:
    """Per-cell dropout midpoint and slope for ``params.dropout_type`` (``None`` without dropout)."""
    if params.dropout_type == "none":
        return None
    index = {
        "experiment": np.zeros(params.n_cells, dtype=np.intp),
        "batch": batch,
        "group": path,
        "cell": np.arange(params.n_cells),
    }[params.dropout_type]
    return counts.Dropout(
        midpoint=np.asarray(params.dropout_mid)[index],
        shape=np.asarray(params.dropout_shape)[index],
    )
