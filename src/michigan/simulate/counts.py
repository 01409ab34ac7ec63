"""Cell-level draws of the Splat model: library-size scaling, BCV gamma, Poisson counts, dropout.

The gene x cell arrays of Splatter (``BaseCellMeans``, ``BCV``, ``CellMeans``, ``TrueCounts``) are
never held in full: cells are processed in blocks of a fixed size, each with its own random stream
spawned from one :class:`numpy.random.SeedSequence`, so the result depends only on the seed and
the parameters, not on the number of threads. Blocks run in a thread pool (NumPy's samplers
release the GIL).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from michigan.progress import Progress

logger = logging.getLogger(__name__)

#: target number of gene x cell entries per block (about 16 MB per float64 temporary)
BLOCK_ENTRIES = 1 << 21
#: without dropout, genes whose expected count stays below this in every cell are drawn from their
#: negative binomial directly (see :func:`negative_binomial_by_inversion`), the others as gamma
#: then Poisson
INVERSION_MAX_MEAN = 2.0
#: counts are stored as int32 when they fit (as Splatter's output converted to AnnData)
INT32_MAX = np.iinfo(np.int32).max


class Dropout(NamedTuple):
    """Per-cell logistic dropout parameters (Splatter's ``dropout.mid`` / ``dropout.shape`` per cell)."""

    midpoint: np.ndarray  # [cells] x0_c on the natural-log scale of CellMeans
    shape: np.ndarray  # [cells] slope k_c (negative: low means drop out more)


class CellLayout(NamedTuple):
    """Which relative mean profile each cell draws from.

    A cell's relative means are ``gene_means[batch[c]] * cell_factors[factor_row[c]]`` (Splatter's
    ``BatchCellMeans * CellFactor``), before scaling to its library size.
    """

    gene_means: np.ndarray  # [batches, genes] GeneMean x batch factor
    cell_factors: np.ndarray  # [rows, genes] path/step (or group, or condition) factors
    batch: np.ndarray  # [cells] row of gene_means
    factor_row: np.ndarray  # [cells] row of cell_factors
    library_size: np.ndarray  # [cells] expected library size L_c


def row_totals(counts: sp.spmatrix | np.ndarray) -> np.ndarray:
    """Library size of every cell: row sums ``[cells]`` (int64) of a ``[cells, genes]`` count matrix."""
    return np.asarray(counts.sum(axis=1), dtype=np.int64).ravel()


def block_size(n_genes: int) -> int:
    """Cells per block for ``n_genes`` genes (fixed by the gene count so results are reproducible)."""
    return max(1, BLOCK_ENTRIES // n_genes)


def default_threads() -> int:
    """Number of CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _GenePart(NamedTuple):
    """A set of genes whose counts are drawn the same way, with its columns of the layout copied."""

    genes: np.ndarray  # [part] column indices in the full gene order
    gene_means: np.ndarray  # [batches, part]
    cell_factors: np.ndarray  # [rows, part]
    bcv_scale: np.ndarray  # [part]
    inversion: bool  # negative binomial by inversion (else gamma then Poisson)


def _split_genes(
    layout: CellLayout, bcv_scale: np.ndarray, *, allow_inversion: bool
) -> tuple[np.ndarray, list[_GenePart]]:
    """Per-cell normalisers and the gene parts (inversion / gamma-Poisson) of a layout.

    A gene is drawn by inversion when no cell can expect ``INVERSION_MAX_MEAN`` counts of it:
    ``max_c(L_c / sum_g M[c, g]) * max_b gene_means[b, g] * max_r cell_factors[r, g]`` bounds its
    ``mu``. Which method draws a gene does not change its distribution, only the speed.

    Returns
    -------
    scale
        ``[cells]`` ``L_c / sum_g M[c, g]``, the factor from relative means to ``mu``.
    parts
        Non-empty gene parts covering every gene once.
    """
    # sum_g M[c, g] depends only on the cell's (batch, factor row) pair
    pairs, pair_of_cell = np.unique(
        np.stack([layout.batch, layout.factor_row]), axis=1, return_inverse=True
    )
    pair_totals = (layout.gene_means[pairs[0]] * layout.cell_factors[pairs[1]]).sum(axis=1)
    scale = layout.library_size / pair_totals[pair_of_cell.ravel()]
    bound = scale.max(initial=0.0) * layout.gene_means.max(axis=0) * layout.cell_factors.max(axis=0)
    low = bound < INVERSION_MAX_MEAN if allow_inversion else np.zeros(bound.size, dtype=bool)
    parts = [
        _GenePart(
            genes=genes,
            gene_means=np.ascontiguousarray(layout.gene_means[:, genes]),
            cell_factors=np.ascontiguousarray(layout.cell_factors[:, genes]),
            bcv_scale=bcv_scale[genes],
            inversion=inversion,
        )
        for genes, inversion in ((np.flatnonzero(low), True), (np.flatnonzero(~low), False))
        if genes.size
    ]
    return scale, parts


def sample_counts(
    layout: CellLayout,
    *,
    bcv_common: float,
    bcv_scale: np.ndarray,
    dropout: Dropout | None,
    seed: np.random.SeedSequence,
    n_threads: int | None = None,
) -> sp.csr_matrix:
    """Draw the count matrix of the Splat model (model §3.6-3.9), block by block over cells.

    For cell c and gene g, with relative means ``M[c, g]`` from ``layout``:

    * ``mu[c, g] = L_c M[c, g] / sum_g' M[c, g']`` (``BaseCellMeans``; rows sum to ``L_c``),
    * ``BCV[c, g] = (bcv_common + 1 / sqrt(mu)) * bcv_scale[g]``,
    * ``lambda ~ Gamma(shape = 1 / BCV^2, scale = mu BCV^2)`` (``CellMeans``),
    * ``counts ~ Poisson(lambda)`` (``TrueCounts``),
    * with dropout: ``p = 1 / (1 + exp(-k_c (log lambda - x0_c)))`` and each count is kept with
      probability ``1 - p``.

    Without dropout ``lambda`` itself is not needed, and genes whose ``mu`` stays below
    ``INVERSION_MAX_MEAN`` in every cell (about half of them) draw their counts directly from the
    same gamma-Poisson (negative binomial) law by CDF inversion, which is faster.

    Parameters
    ----------
    layout
        Relative means and per-cell indices, see :class:`CellLayout`.
    bcv_common
        Common biological coefficient of variation.
    bcv_scale
        ``[genes]`` per-gene BCV scaling ``sqrt(df / chi2_df)`` (ones for ``df = inf``).
    dropout
        Per-cell logistic dropout, or ``None`` for no dropout.
    seed
        Seed sequence; block b uses the b-th spawned child, so the result does not depend on
        ``n_threads``.
    n_threads
        Worker threads (default: the CPUs available to the process).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``[cells, genes]`` integer counts (int32 unless a count exceeds its range, then int64).

    Notes
    -----
    Splatter draws each gene x cell array in one go, gene index fastest; here each block of cells
    has its own stream. The distribution is the same; the streams are not R's.
    """
    n_cells = layout.batch.size
    n_genes = layout.gene_means.shape[1]
    if n_cells == 0:
        return sp.csr_matrix((0, n_genes), dtype=np.int32)
    scale, parts = _split_genes(layout, bcv_scale, allow_inversion=dropout is None)
    size = block_size(n_genes)
    starts = range(0, n_cells, size)
    seeds = seed.spawn(len(starts))
    progress = Progress(n_cells, desc="splat counts, cells", unit="cells", logger=logger)

    def run(block: int) -> sp.csr_matrix:
        cells = slice(starts[block], min(starts[block] + size, n_cells))
        rng = np.random.default_rng(seeds[block])
        counts = np.empty((cells.stop - cells.start, n_genes), dtype=np.int64)
        for part in parts:
            drawn = _sample_part(part, layout, scale, cells, bcv_common, dropout, rng)
            if part.genes.size == n_genes:
                counts = drawn
            else:
                counts[:, part.genes] = drawn
        dtype = np.int32 if counts.max(initial=0) <= INT32_MAX else np.int64
        return _dense_to_csr(counts.astype(dtype, copy=False))

    blocks: list[sp.csr_matrix] = []
    with ThreadPoolExecutor(max_workers=n_threads or default_threads()) as pool:
        for block in pool.map(run, range(len(starts))):
            blocks.append(block)
            if len(blocks) % 16 == 0 or len(blocks) == len(starts):
                progress.update(sum(b.shape[0] for b in blocks))
    return sp.vstack(blocks, format="csr")


def _sample_part(
    part: _GenePart,
    layout: CellLayout,
    scale: np.ndarray,
    cells: slice,
    bcv_common: float,
    dropout: Dropout | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """int64 counts ``[block cells, part genes]`` of one gene part (see :func:`sample_counts`)."""
    mu = part.gene_means[layout.batch[cells]] * part.cell_factors[layout.factor_row[cells]]
    mu *= scale[cells, None]
    bcv2 = (bcv_common + 1.0 / np.sqrt(mu)) * part.bcv_scale
    bcv2 **= 2
    if part.inversion:
        drawn = negative_binomial_by_inversion(rng, mu.ravel(), 1.0 / bcv2.ravel())
        return drawn.reshape(mu.shape)
    cell_means = _gamma_cell_means(rng, mu, bcv2)
    counts = rng.poisson(cell_means)
    if dropout is not None:
        x0 = dropout.midpoint[cells, None]
        slope = dropout.shape[cells, None]
        with np.errstate(divide="ignore", over="ignore"):  # log(0), exp(inf): probability 0 or 1
            drop_prob = 1.0 / (1.0 + np.exp(-slope * (np.log(cell_means) - x0)))
        counts[rng.random(counts.shape) < drop_prob] = 0
    return counts


def _dense_to_csr(dense: np.ndarray) -> sp.csr_matrix:
    """CSR of a C-ordered 2-D array (row-major scan of the non-zeros; faster than ``csr_matrix``)."""
    n_rows, n_cols = dense.shape
    flat = np.flatnonzero(dense)
    # int32 indices when they fit, so that stacking blocks does not convert them
    index_dtype = np.int32 if dense.size <= INT32_MAX else np.int64
    indptr = np.zeros(n_rows + 1, dtype=index_dtype)
    np.cumsum(np.bincount(flat // n_cols, minlength=n_rows), out=indptr[1:])
    indices = (flat % n_cols).astype(index_dtype)
    return sp.csr_matrix((dense.ravel()[flat], indices, indptr), shape=dense.shape)


def _gamma_cell_means(rng: np.random.Generator, mu: np.ndarray, bcv2: np.ndarray) -> np.ndarray:
    """``CellMeans ~ Gamma(shape = 1 / BCV^2, scale = mu BCV^2)`` (model §3.7)."""
    cell_means = rng.standard_gamma(1.0 / bcv2)
    cell_means *= mu
    cell_means *= bcv2
    return cell_means


def negative_binomial_by_inversion(
    rng: np.random.Generator, mean: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """Negative binomial draws with the given mean and size (shape) parameter, by CDF inversion.

    ``Poisson(Gamma(shape = r, scale = mean / r))`` is the negative binomial with
    ``P(0) = (r / (r + mean))^r`` and ``P(k + 1) = P(k) (k + r) / (k + 1) * mean / (r + mean)``;
    one uniform per entry is compared with the running CDF. The work per entry is about
    ``mean + 1`` steps, so this is used for small means, where it is cheaper than a gamma and a
    Poisson draw.

    Parameters
    ----------
    rng
        Random generator (one uniform per entry).
    mean, size
        Arrays of the same shape: mean ``mu`` and size ``r = 1 / BCV^2`` of each entry.

    Returns
    -------
    numpy.ndarray
        int64 counts, same shape.
    """
    success = mean / (size + mean)
    prob = np.exp(-size * np.log1p(mean / size))  # P(0)
    uniform = rng.random(mean.shape)
    counts = np.zeros(mean.shape, dtype=np.int64)
    # entries still searching, as compact arrays that shrink every step
    active = np.flatnonzero(uniform > prob)
    u, cdf, pk = uniform[active], prob[active], prob[active]
    r, q = size[active], success[active]
    k = 0
    while active.size:
        pk *= (k + r) / (k + 1) * q
        cdf += pk
        k += 1
        counts[active] = k
        # the second test ends the search where rounding keeps the CDF just below u (u ~ 1)
        more = (u > cdf) & (pk > cdf * np.finfo(np.float64).eps)
        active, u, cdf, pk, r, q = active[more], u[more], cdf[more], pk[more], r[more], q[more]
    return counts
