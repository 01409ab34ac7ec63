"""The gene-level random draws of the Splat model (Splatter 1.22.1), vectorised with NumPy.

Each function is one step of the model as described in the team's ``splat-model.md`` (sections in
brackets) and takes an explicit :class:`numpy.random.Generator`. The cell-level draws (gamma-Poisson
counts and dropout) live in :mod:`michigan.simulate.counts`.

Reference: Zappia, Phipson & Oshlack, "Splatter: simulation of single-cell RNA sequencing data",
Genome Biology 18:174 (2017); Splatter 1.22.1 (Bioconductor 3.16).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy.interpolate import CubicSpline

from michigan.simulate.counts import CellLayout, Dropout, sample_counts

if TYPE_CHECKING:
    from collections.abc import Sequence

    import scipy.sparse as sp

    from michigan.simulate.params import SplatCoreParams

#: knots of Splatter's Brownian bridge (an internal constant of ``bridge()``, not a parameter)
BRIDGE_KNOTS = 5
#: trajectory values below zero are replaced by this (Splatter: ``BB[BB < 0] <- 1e-6``)
TRAJECTORY_FLOOR = 1e-6


def lognormal_factors(
    rng: np.random.Generator,
    n: int,
    *,
    sel_prob: float,
    neg_prob: float,
    loc: float,
    scale: float,
) -> np.ndarray:
    """Multiplicative factors that are 1 except for a random selection (Splatter's ``getLNormFactors``).

    Each of ``n`` items is selected with probability ``sel_prob``; a selected item gets
    ``f ** d`` with ``f ~ LN(loc, scale)`` and direction ``d = -1`` with probability ``neg_prob``
    (else +1), flipped when ``f < 1``. Equivalently ``log factor = d0 * |m|``, ``m ~ N(loc, scale^2)``,
    so ``neg_prob`` is exactly the probability that a selected factor is below 1 (model §2).

    Parameters
    ----------
    rng
        Random generator (draws: n selections, then directions and magnitudes of the selected;
        as in R, a probability of exactly 0 or 1 consumes no draws).
    n
        Number of factors.
    sel_prob, neg_prob
        Selection probability and probability that a selected factor is below 1.
    loc, scale
        Meanlog and sdlog of the magnitude.

    Returns
    -------
    numpy.ndarray
        ``[n]`` float64 factors.
    """
    selected = _bernoulli(rng, sel_prob, n)
    n_selected = int(selected.sum())
    down = _bernoulli(rng, neg_prob, n_selected)
    magnitude = rng.lognormal(loc, scale, n_selected)
    direction = np.where(down, -1.0, 1.0)
    direction[magnitude < 1] *= -1
    factors = np.ones(n)
    factors[selected] = magnitude**direction
    return factors


def _bernoulli(rng: np.random.Generator, prob: float, n: int) -> np.ndarray:
    """``n`` Bernoulli draws; no random numbers are used when ``prob`` is 0 or 1 (as R's rbinom)."""
    if prob <= 0:
        return np.zeros(n, dtype=bool)
    if prob >= 1:
        return np.ones(n, dtype=bool)
    return rng.random(n) < prob


def library_sizes(
    rng: np.random.Generator, n_cells: int, *, loc: float, scale: float, normal: bool
) -> np.ndarray:
    """Expected library size of every cell, ``ExpLibSize`` (model §3.1).

    ``L_c ~ LN(loc, scale)``; with ``normal``, ``L_c ~ N(loc, scale^2)`` and negative values are
    replaced by half the smallest positive value drawn (Splatter's rule).

    Returns
    -------
    numpy.ndarray
        ``[cells]`` float64.
    """
    if not normal:
        return rng.lognormal(loc, scale, n_cells)
    sizes = rng.normal(loc, scale, n_cells)
    positive = sizes[sizes > 0]
    if positive.size == 0:
        msg = f"lib_norm=True with lib_loc={loc}, lib_scale={scale} drew no positive library size"
        raise ValueError(msg)
    sizes[sizes < 0] = positive.min() / 2
    return sizes


class GeneMeans(NamedTuple):
    """Per-gene means of the Splat model (Splatter's rowData columns of the same names)."""

    base: np.ndarray  # [genes] BaseGeneMean ~ Gamma(mean_shape, rate=mean_rate)
    outlier_factor: np.ndarray  # [genes] OutlierFactor (1 for non-outliers)
    mean: np.ndarray  # [genes] GeneMean


def gene_means(
    rng: np.random.Generator,
    n_genes: int,
    *,
    shape: float,
    rate: float,
    out_prob: float,
    out_fac_loc: float,
    out_fac_scale: float,
) -> GeneMeans:
    """Base gene means and expression outliers (model §3.2).

    ``BaseGeneMean ~ Gamma(shape, rate)``; about ``out_prob`` of genes are outliers with factor
    ``exp(|N(out_fac_loc, out_fac_scale^2)|)``, and an outlier's ``GeneMean`` is
    ``median(BaseGeneMean) * OutlierFactor`` (it replaces, not multiplies, the base mean).
    """
    base = rng.gamma(shape, 1.0 / rate, n_genes)
    outlier = lognormal_factors(
        rng, n_genes, sel_prob=out_prob, neg_prob=0.0, loc=out_fac_loc, scale=out_fac_scale
    )
    is_outlier = outlier != 1
    mean = np.where(is_outlier, np.median(base) * outlier, base)
    return GeneMeans(base=base, outlier_factor=outlier, mean=mean)


def batch_factors(
    rng: np.random.Generator, n_genes: int, *, locs: Sequence[float], scales: Sequence[float]
) -> np.ndarray:
    """Factor of every gene in every batch (model §3.3): ``log factor = +-|N(loc_b, scale_b^2)|``.

    Every gene is selected; up and down are equally likely. Drawn batch by batch.

    Returns
    -------
    numpy.ndarray
        ``[batches, genes]``.
    """
    return np.stack(
        [
            lognormal_factors(rng, n_genes, sel_prob=1.0, neg_prob=0.5, loc=loc, scale=scale)
            for loc, scale in zip(locs, scales, strict=True)
        ]
    )


def library_sizes_and_gene_means(
    rng: np.random.Generator, params: SplatCoreParams, n_cells: int
) -> tuple[np.ndarray, GeneMeans]:
    """Expected library sizes ``[cells]`` then gene means (model §3.1-3.2), in Splatter's order."""
    sizes = library_sizes(
        rng, n_cells, loc=params.lib_loc, scale=params.lib_scale, normal=params.lib_norm
    )
    means = gene_means(
        rng,
        params.n_genes,
        shape=params.mean_shape,
        rate=params.mean_rate,
        out_prob=params.out_prob,
        out_fac_loc=params.out_fac_loc,
        out_fac_scale=params.out_fac_scale,
    )
    return sizes, means


def counts_for_layout(
    rng: np.random.Generator,
    layout: CellLayout,
    params: SplatCoreParams,
    *,
    dropout: Dropout | None,
    seed: np.random.SeedSequence,
    n_threads: int | None,
) -> sp.csr_matrix:
    """BCV scaling per gene from ``rng``, then the cell-level counts (model §3.6-3.9).

    See :func:`michigan.simulate.counts.sample_counts` for the formulas and the output.
    """
    return sample_counts(
        layout,
        bcv_common=params.bcv_common,
        bcv_scale=bcv_gene_scale(rng, params.n_genes, params.bcv_df),
        dropout=dropout,
        seed=seed,
        n_threads=n_threads,
    )


def nonlinear_sigma_factors(
    rng: np.random.Generator, n_genes: int, *, nonlinear_prob: float, sigma_fac: float
) -> np.ndarray:
    """``SigmaFacPath`` of one path: ``sigma_fac`` for genes drawn non-linear, else 0 (model §3.5)."""
    return np.where(_bernoulli(rng, nonlinear_prob, n_genes), sigma_fac, 0.0)


@functools.cache
def _spline_matrix(n_steps: int) -> np.ndarray:
    """``[n_steps, 5]`` weights: natural cubic spline through 5 knots at x = 1..5, read at the steps.

    The spline is linear in the knot values, so interpolating each unit vector gives the matrix
    ``W`` with ``trajectory = W @ knot_values``. Equals R's ``stats::spline(method = "natural")``
    at ``n`` equally spaced abscissae from 1 to 5.
    """
    knots = np.arange(1.0, BRIDGE_KNOTS + 1.0)
    at = np.linspace(1.0, float(BRIDGE_KNOTS), n_steps) if n_steps > 1 else knots[:1]
    weights = CubicSpline(knots, np.eye(BRIDGE_KNOTS), bc_type="natural")(at)
    weights.setflags(write=False)
    return weights


def bridge_trajectories(
    rng: np.random.Generator,
    start: np.ndarray,
    end: np.ndarray,
    sigma_fac: np.ndarray,
    n_steps: int,
) -> np.ndarray:
    """Step factors of every gene along one path: smoothed Brownian bridges (model §3.5).

    For each gene with start value x, end value y and sigma factor s: knot times
    ``t_j = j/4`` (j = 0..4), ``sigma ~ U(0, s (x + y)/2)``, ``W_j = W_{j-1} + eps_j sqrt(1/4)``
    with ``eps_j ~ N(0, sigma^2)``, bridge ``B_j = x + W_j - t_j (W_4 - y + x)``; then a natural
    cubic spline through ``(1..5, B)`` is evaluated at ``n_steps`` equally spaced points from 1 to
    5, and values below 0 become 1e-6. Genes with ``s = 0`` draw nothing and move on the straight
    line from x to y.

    Parameters
    ----------
    rng
        Random generator (draws: one uniform per non-linear gene, then 4 normals per such gene).
    start, end
        ``[genes]`` factors at the first and the last step.
    sigma_fac
        ``[genes]`` ``SigmaFacPath`` (0 = linear gene).
    n_steps
        Number of steps S of the path.

    Returns
    -------
    numpy.ndarray
        ``[n_steps, genes]`` multiplicative factors, step-major.

    Notes
    -----
    Draw order differs from R's (R draws the uniform and the 4 normals gene by gene); the
    distribution is the same.
    """
    times = np.linspace(0.0, 1.0, BRIDGE_KNOTS)
    knots = start[:, None] + times[None, :] * (end - start)[:, None]  # [genes, 5] straight line
    wander = np.flatnonzero(sigma_fac > 0)
    if wander.size:
        x, y = start[wander], end[wander]
        sigma = rng.uniform(0.0, sigma_fac[wander] * (x + y) / 2)
        steps = rng.standard_normal((wander.size, BRIDGE_KNOTS - 1)) * sigma[:, None]
        walk = np.concatenate(
            [np.zeros((wander.size, 1)), np.cumsum(steps * np.sqrt(times[1]), axis=1)], axis=1
        )
        # walk minus its straight-line pin: zero at both ends, so B_0 = x and B_4 = y
        knots[wander] += walk - times[None, :] * walk[:, -1:]
    trajectory = _spline_matrix(n_steps) @ knots.T
    trajectory[trajectory < 0] = TRAJECTORY_FLOOR
    return trajectory


def step_probabilities(n_steps: int, skew: float) -> np.ndarray:
    """Probability of each step on a path: ``n_steps`` equally spaced values from ``skew`` to ``1 - skew``, normalised.

    ``skew = 0.5`` is uniform; towards 1 more cells sit near the start, towards 0 near the end
    (model §3.5). A one-step path puts every cell on its only step.
    """
    if n_steps == 1:
        return np.ones(1)
    weights = np.linspace(skew, 1.0 - skew, n_steps)
    return weights / weights.sum()


def bcv_gene_scale(rng: np.random.Generator, n_genes: int, df: float) -> np.ndarray:
    """Per-gene inverse chi-squared scaling of the BCV, ``sqrt(df / X_g)``, ``X_g ~ chi2(df)`` (model §3.7).

    Returns ones (and draws nothing) when ``df`` is infinite.
    """
    if np.isinf(df):
        return np.ones(n_genes)
    return np.sqrt(df / rng.chisquare(df, n_genes))
