"""The gene-level draws of the Splat model against the distributions splat-model.md derives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.interpolate import CubicSpline

from michigan.simulate import model


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_lognormal_factors_selection_direction_and_magnitude():
    n = 200_000
    factors = model.lognormal_factors(_rng(), n, sel_prob=0.3, neg_prob=0.25, loc=0.1, scale=0.4)
    selected = factors != 1
    # binomial sd of a fraction at n = 2e5 is <= 0.0011; 0.005 is > 4 sd
    assert selected.mean() == pytest.approx(0.3, abs=0.005)
    # neg_prob is exactly the share of selected factors below 1 (splat-model.md §2); n_sel ~ 6e4,
    # sd 0.0018, 0.008 is > 4 sd
    assert (factors[selected] < 1).mean() == pytest.approx(0.25, abs=0.008)
    # |log factor| ~ |N(0.1, 0.4^2)|: folded normal mean; the sample mean's sd is ~0.0013
    folded = stats.foldnorm(c=0.1 / 0.4, scale=0.4)
    assert np.abs(np.log(factors[selected])).mean() == pytest.approx(folded.mean(), abs=0.006)


def test_lognormal_factors_edge_probabilities_draw_nothing():
    rng = _rng(1)
    state = rng.bit_generator.state
    assert np.all(model.lognormal_factors(rng, 50, sel_prob=0.0, neg_prob=0.5, loc=0, scale=1) == 1)
    assert rng.bit_generator.state == state  # nothing selected: no magnitudes, no draws at all
    up = model.lognormal_factors(rng, 1000, sel_prob=1.0, neg_prob=0.0, loc=1.0, scale=0.5)
    assert np.all(up > 1)  # neg_prob 0: every factor is up-regulated (outliers)


def test_library_sizes_lognormal_and_normal_with_negatives_replaced():
    sizes = model.library_sizes(_rng(), 100_000, loc=11, scale=0.2, normal=False)
    # log sizes ~ N(11, 0.2^2): mean's sd is 6e-4, the sd's sd is 4.5e-4
    assert np.log(sizes).mean() == pytest.approx(11, abs=0.003)
    assert np.log(sizes).std() == pytest.approx(0.2, abs=0.002)
    normal = model.library_sizes(_rng(), 1000, loc=10, scale=20, normal=True)
    drawn = _rng().normal(10, 20, 1000)  # the same stream: the same raw draws
    positive_min = drawn[drawn > 0].min()
    np.testing.assert_array_equal(normal, np.where(drawn < 0, positive_min / 2, drawn))


def test_gene_means_outliers_replace_the_base_mean():
    means = model.gene_means(
        _rng(), 20_000, shape=0.6, rate=0.3, out_prob=0.05, out_fac_loc=4, out_fac_scale=0.5
    )
    outlier = means.outlier_factor != 1
    np.testing.assert_array_equal(means.mean[~outlier], means.base[~outlier])
    np.testing.assert_allclose(
        means.mean[outlier], np.median(means.base) * means.outlier_factor[outlier], rtol=1e-15
    )
    assert np.all(means.outlier_factor[outlier] > 1)
    # Gamma(0.6, rate 0.3) has mean 2, sd 1.29; the mean of 2e4 draws has sd 0.009
    assert means.base.mean() == pytest.approx(2.0, abs=0.04)
    assert stats.kstest(means.base, stats.gamma(a=0.6, scale=1 / 0.3).cdf).pvalue > 1e-3


def test_spline_matrix_is_rs_natural_spline():
    weights = model._spline_matrix(9)
    knots = np.array([1.0, 2.5, 0.3, 0.8, 2.0])
    expected = CubicSpline(np.arange(1, 6), knots, bc_type="natural")(np.linspace(1, 5, 9))
    np.testing.assert_allclose(weights @ knots, expected, rtol=1e-13)
    np.testing.assert_allclose(model._spline_matrix(5), np.eye(5), atol=1e-14)  # through the knots
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-13)  # constants are reproduced
    np.testing.assert_allclose(model._spline_matrix(1), [[1, 0, 0, 0, 0]])  # one step: the start


def test_bridges_are_pinned_and_linear_genes_straight():
    n_genes, n_steps = 4000, 21
    start = np.ones(n_genes)
    end = np.exp(_rng(2).normal(0, 0.5, n_genes))
    sigma = np.where(np.arange(n_genes) < n_genes // 2, 0.8, 0.0)
    trajectory = model.bridge_trajectories(_rng(3), start, end, sigma, n_steps)
    assert trajectory.shape == (n_steps, n_genes)
    np.testing.assert_allclose(trajectory[0], start, rtol=1e-12)  # pinned at both ends
    np.testing.assert_allclose(trajectory[-1], end, rtol=1e-12)
    assert trajectory.min() >= model.TRAJECTORY_FLOOR
    line = start + np.linspace(0, 1, n_steps)[:, None] * (end - start)
    np.testing.assert_allclose(trajectory[:, sigma == 0], line[:, sigma == 0], rtol=1e-12)
    # mid-path wiggle of a bridge: sd = s * mean(x, y) * sqrt(1/3) * sqrt(t (1 - t)) at t = 1/2
    # (sigma ~ U(0, s mean(x, y)), splat-model.md §3.5); step 11 of 21 is the middle knot
    wiggle = (trajectory[10] - line[10])[sigma > 0] / ((start + end)[sigma > 0] / 2)
    # 2000 genes: the sd estimate has a relative sd of ~2.5% (heavier tails than normal); 8% margin
    assert wiggle.std() == pytest.approx(0.8 * np.sqrt(1 / 3) * 0.5, rel=0.08)


def test_step_probabilities():
    np.testing.assert_allclose(model.step_probabilities(4, 0.5), 0.25)
    np.testing.assert_allclose(model.step_probabilities(3, 1.0), [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(model.step_probabilities(3, 0.0), [0, 1 / 3, 2 / 3])
    np.testing.assert_allclose(model.step_probabilities(1, 0.0), [1.0])


def test_bcv_gene_scale():
    scale = model.bcv_gene_scale(_rng(), 100_000, 60)
    # E[df / chi2_df] = df / (df - 2); the mean's sd is ~6e-4
    assert (scale**2).mean() == pytest.approx(60 / 58, abs=0.003)
    np.testing.assert_array_equal(model.bcv_gene_scale(_rng(), 5, np.inf), 1.0)


def test_batch_factors_shape_and_direction():
    factors = model.batch_factors(_rng(), 50_000, locs=[0.1, 0.5], scales=[0.1, 0.2])
    assert factors.shape == (2, 50_000)
    assert np.all(factors != 1)
    # half up, half down: binomial sd 0.0022, margin 0.01
    assert (factors < 1).mean(axis=1) == pytest.approx([0.5, 0.5], abs=0.01)
    # |log| ~ folded N(0.5, 0.2^2), mean 0.5 (folding negligible at 2.5 sd); sd of the mean 9e-4
    assert np.abs(np.log(factors[1])).mean() == pytest.approx(0.5, abs=0.005)
