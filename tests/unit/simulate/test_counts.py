"""Cell-level Splat draws: gamma-Poisson moments, dropout, reproducibility across threads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from michigan.simulate.counts import CellLayout, Dropout, block_size, sample_counts

GENE_MEANS = np.array([0.5, 2.0, 10.0, 50.0])  # relative means of four genes


def _layout(n_cells: int, library: float) -> CellLayout:
    """Identical cells: one batch, one factor row, a fixed library size."""
    return CellLayout(
        gene_means=GENE_MEANS[None, :],
        cell_factors=np.ones((1, GENE_MEANS.size)),
        batch=np.zeros(n_cells, dtype=np.intp),
        factor_row=np.zeros(n_cells, dtype=np.intp),
        library_size=np.full(n_cells, library),
    )


def _counts(n_cells: int = 40_000, *, dropout: Dropout | None = None, threads: int = 2):
    return sample_counts(
        _layout(n_cells, library=GENE_MEANS.sum()),  # library = sum of means: mu = GENE_MEANS
        bcv_common=0.1,
        bcv_scale=np.full(GENE_MEANS.size, 1.2),
        dropout=dropout,
        seed=np.random.SeedSequence(7),
        n_threads=threads,
    )


def test_gamma_poisson_mean_and_variance():
    counts = _counts().toarray()
    mu = GENE_MEANS
    bcv = (0.1 + 1 / np.sqrt(mu)) * 1.2
    expected_var = mu + mu**2 * bcv**2  # splat-model.md §3.8
    # 4e4 cells: the mean's relative sd is sqrt(var / n) / mu <= 1.3 %; 5 % is > 3.8 sd
    np.testing.assert_allclose(counts.mean(axis=0), mu, rtol=0.05)
    # the variance's relative sd is about sqrt((kurtosis - 1) / n) <= 4 % for these shapes; 15 %
    np.testing.assert_allclose(counts.var(axis=0, ddof=1), expected_var, rtol=0.15)


def test_library_size_scales_every_cell():
    layout = _layout(3, library=1.0)._replace(library_size=np.array([1e3, 1e4, 1e5]))
    counts = sample_counts(
        layout, bcv_common=0.1, bcv_scale=np.ones(4), dropout=None, seed=np.random.SeedSequence(0)
    )
    totals = np.asarray(counts.sum(axis=1)).ravel()
    # totals ~ L with relative sd ~ bcv of the dominant gene (~0.25 at 1e3, 0.1 above): 4 sd margin
    np.testing.assert_allclose(totals, [1e3, 1e4, 1e5], rtol=0.4)
    assert totals[0] < totals[1] < totals[2]


def test_dropout_with_flat_logistic_halves_the_counts():
    n = 40_000
    flat = Dropout(midpoint=np.zeros(n), shape=np.zeros(n))  # p = 1 / (1 + e^0) = 1/2 everywhere
    with_dropout = _counts(n, dropout=flat).toarray()
    without = _counts(n).toarray()
    # the kept share of non-zero entries is Binomial(n_nonzero, 1/2): sd < 0.4 %, margin 2 %
    kept = (with_dropout > 0).sum(axis=0) / (without > 0).sum(axis=0)
    np.testing.assert_allclose(kept, 0.5, atol=0.02)
    assert np.all(with_dropout <= without)  # same streams for counts, dropout only removes


def test_dropout_removes_low_means_first():
    n = 20_000
    # midpoint log(5), steep negative slope: lambda well below 5 drops, well above stays
    steep = Dropout(midpoint=np.full(n, np.log(5.0)), shape=np.full(n, -20.0))
    counts = _counts(n, dropout=steep).toarray()
    zero = (counts == 0).mean(axis=0)
    assert zero[0] > 0.97  # mean 0.5: dropped almost always
    assert zero[3] < 0.01  # mean 50: lambda < 5 has probability < 1e-3 and Poisson(>5) = 0 < 1 %


def test_result_does_not_depend_on_threads_and_is_int32_csr():
    n = 3 * block_size(GENE_MEANS.size) + 17  # several blocks, the last one partial
    one = _counts(n, threads=1)
    three = _counts(n, threads=3)
    assert isinstance(one, sp.csr_matrix)
    assert one.dtype == np.int32
    assert one.shape == (n, GENE_MEANS.size)
    assert (one != three).nnz == 0


def test_huge_counts_switch_to_int64():
    layout = _layout(2, library=1.0)._replace(library_size=np.array([1e10, 1e10]))
    counts = sample_counts(
        layout, bcv_common=0.0, bcv_scale=np.ones(4), dropout=None, seed=np.random.SeedSequence(1)
    )
    assert counts.dtype == np.int64
    assert counts.max() > np.iinfo(np.int32).max


@pytest.mark.parametrize("n_cells", [0, 1])
def test_tiny_inputs(n_cells):
    assert _counts(n_cells).shape == (n_cells, GENE_MEANS.size)
