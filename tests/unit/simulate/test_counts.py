"""Cell-level Splat draws: gamma-Poisson moments, dropout, reproducibility across threads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from michigan.simulate import counts as counts_module
from michigan.simulate.counts import (
    CellLayout,
    Dropout,
    _dense_to_csr,
    block_size,
    negative_binomial_by_inversion,
    sample_counts,
)

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
    # non-zero shares from two independent runs, each from 4e4 cells (sd < 0.25 % each): the
    # ratio is 1/2 up to < 1 % noise; margin 2 %
    kept = (with_dropout > 0).mean(axis=0) / (without > 0).mean(axis=0)
    np.testing.assert_allclose(kept, 0.5, atol=0.02)


def test_dropout_removes_low_means_first():
    n = 20_000
    # midpoint log(5), steep negative slope: lambda well below 5 drops, well above stays
    steep = Dropout(midpoint=np.full(n, np.log(5.0)), shape=np.full(n, -20.0))
    counts = _counts(n, dropout=steep).toarray()
    zero = (counts == 0).mean(axis=0)
    assert zero[0] > 0.97  # mean 0.5: dropped almost always
    assert zero[3] < 0.01  # mean 50: lambda < 5 has probability < 1e-3 and Poisson(>5) = 0 < 1 %


@pytest.mark.parametrize(("mean", "size"), [(0.01, 0.02), (0.5, 0.4), (1.9, 1.2), (1.5, 30.0)])
def test_negative_binomial_by_inversion_matches_the_pmf(mean, size):
    n = 200_000
    draws = negative_binomial_by_inversion(
        np.random.default_rng(3), np.full(n, mean), np.full(n, size)
    )
    law = stats.nbinom(n=size, p=size / (size + mean))  # Poisson(Gamma(size, mean / size))
    observed = np.bincount(draws, minlength=6)[:6] / n
    expected = law.pmf(np.arange(6))
    # each frequency is Binomial(n, p) / n: sd = sqrt(p (1 - p) / n) <= 0.0011; 5 sd margin
    tolerance = 5 * np.sqrt(expected * (1 - expected) / n) + 1e-6
    assert np.all(np.abs(observed - expected) <= tolerance), (observed, expected)
    # the mean's sd is sqrt(var / n) with var = mean + mean^2 / size; 5 sd margin
    assert draws.mean() == pytest.approx(mean, abs=5 * np.sqrt((mean + mean**2 / size) / n))


class _LargestUniform:
    """A generator stand-in whose uniforms are the largest double below 1."""

    def random(self, shape):
        return np.full(shape, 1 - 2**-53)


def test_inversion_ends_where_rounding_keeps_the_cdf_below_u():
    mean, size = np.array([0.5, 1.9, 0.01]), np.array([0.4, 1.2, 0.02])
    draws = negative_binomial_by_inversion(_LargestUniform(), mean, size)
    # the search stops in the far tail: beyond the 1 - 1e-12 quantile of each law
    law = stats.nbinom(n=size, p=size / (size + mean))
    assert np.all(draws >= law.ppf(1 - 1e-12))


def test_result_does_not_depend_on_threads_and_is_int32_csr(monkeypatch):
    monkeypatch.setattr(counts_module, "BLOCK_ENTRIES", 64)  # 16 cells of 4 genes per block
    n = 3 * block_size(GENE_MEANS.size) + 5  # several blocks, the last one partial
    assert n == 53
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


def test_dense_to_csr_matches_scipy():
    dense = np.random.default_rng(0).poisson(0.3, (7, 5)).astype(np.int32)
    dense[2] = 0  # an empty row
    converted = _dense_to_csr(dense)
    assert converted.has_canonical_format
    np.testing.assert_array_equal(converted.toarray(), dense)
    assert (converted != sp.csr_matrix(dense)).nnz == 0
