"""Each loss against an independent NumPy computation on a tiny batch (float64 references)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from michigan.models import losses

# float32 JAX against float64 NumPy on O(1..100) values: 1e-5 relative covers float32 rounding.
RTOL = 1e-5


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    b, k, g = 5, 3, 4
    return {
        "x": rng.normal(size=(b, g)),
        "x_mean": rng.normal(size=(b, g)),
        "z": rng.normal(size=(b, k)),
        "loc": rng.normal(size=(b, k)),
        "scale": rng.uniform(0.3, 2.0, size=(b, k)),
    }


def f32(a):
    return jnp.asarray(a, jnp.float32)


def test_gaussian_log_density_matches_scipy(batch):
    got = losses.gaussian_log_density(f32(batch["z"]), f32(batch["loc"]), f32(batch["scale"]))
    want = norm.logpdf(batch["z"], batch["loc"], batch["scale"])
    np.testing.assert_allclose(got, want, rtol=RTOL)


def test_reconstruction_nll_sums_genes_and_averages_cells(batch):
    got = losses.reconstruction_nll(f32(batch["x"]), f32(batch["x_mean"]))
    want = -norm.logpdf(batch["x"], batch["x_mean"], 1.0).sum(axis=1).mean()
    np.testing.assert_allclose(got, want, rtol=RTOL)


def test_reconstruction_includes_the_log_2pi_constant():
    x = jnp.zeros((2, 3))
    # a perfect reconstruction still costs G/2 log(2 pi) per cell (spec §3.1)
    np.testing.assert_allclose(
        losses.reconstruction_nll(x, x), 1.5 * math.log(2 * math.pi), rtol=RTOL
    )


def test_kl_is_the_single_sample_monte_carlo_estimate(batch):
    z, loc, scale = batch["z"], batch["loc"], batch["scale"]
    got = losses.kl_monte_carlo(f32(z), f32(loc), f32(scale))
    want = (norm.logpdf(z, loc, scale) - norm.logpdf(z)).sum(axis=1).mean()
    np.testing.assert_allclose(got, want, rtol=RTOL)


def numpy_mss_weights(b: int, n: int) -> np.ndarray:
    """The spec §3.2 pattern written entry by entry."""
    w = np.empty((b, b))
    for i in range(b):
        for j in range(b):
            if i == j:
                w[i, j] = 1 / n
            elif (i >= 1 and j == i - 1) or (i == 0 and j == 1):
                w[i, j] = 1 / (b - 1) - 1 / n
            else:
                w[i, j] = 1 / (b - 1)
    return w


@pytest.mark.parametrize(("b", "n"), [(3, 10), (5, 40), (8, 1000)])
def test_mss_weight_matrix_pattern_and_row_sums(b, n):
    got = np.exp(np.asarray(losses.mss_log_weights(b, n), np.float64)) - 1e-16
    want = numpy_mss_weights(b, n)
    np.testing.assert_allclose(got, want, rtol=1e-6)  # float32 storage of 1/N etc.
    np.testing.assert_allclose(want.sum(axis=1), 1.0, rtol=1e-12)  # exact by construction


@pytest.mark.parametrize(("b", "n", "match"), [(2, 10, "batch_size >= 3"), (5, 4, "n_train")])
def test_mss_weights_reject_bad_sizes(b, n, match):
    with pytest.raises(ValueError, match=match):
        losses.mss_log_weights(b, n)


def numpy_tc(z, loc, scale, n):
    b, k = z.shape
    logw = np.log(numpy_mss_weights(b, n) + 1e-16)
    pair = np.empty((b, b, k))
    for i in range(b):
        for j in range(b):
            pair[i, j] = norm.logpdf(z[i], loc[j], scale[j])
    marginal = np.array([[logsumexp(pair[i, :, d] + logw[i]) for d in range(k)] for i in range(b)])
    joint = np.array([logsumexp(pair[i].sum(axis=1) + logw[i]) for i in range(b)])
    return (-marginal.mean(axis=0)).sum() - (-joint.mean())


def test_total_correlation_matches_loops(batch):
    n = 50
    got = losses.total_correlation_mss(
        f32(batch["z"]), f32(batch["loc"]), f32(batch["scale"]), losses.mss_log_weights(5, n)
    )
    # TC is a difference of O(10) entropies: 1e-4 absolute allows for float32 cancellation.
    np.testing.assert_allclose(
        got, numpy_tc(batch["z"], batch["loc"], batch["scale"], n), atol=1e-4
    )


def test_total_correlation_vanishes_for_identical_factorised_posteriors():
    # all cells share one posterior: q(z) = q(z|x) is factorised, so TC = 0 exactly (up to rounding)
    z = jax.random.normal(jax.random.PRNGKey(0), (6, 3))
    loc, scale = jnp.zeros((6, 3)), jnp.ones((6, 3))
    tc = losses.total_correlation_mss(z, loc, scale, losses.mss_log_weights(6, 100))
    assert abs(float(tc)) < 1e-5


def test_beta_tcvae_loss_combines_parts(batch):
    logw = losses.mss_log_weights(5, 50)
    args = [f32(batch[k]) for k in ("x", "x_mean", "z", "loc", "scale")]
    out = losses.beta_tcvae_loss(*args, log_weights=logw, beta=7.0, kl_weight=0.5)
    np.testing.assert_allclose(
        out.total, out.reconstruction + 0.5 * out.kl + 7.0 * out.tc, rtol=RTOL
    )
    np.testing.assert_allclose(
        out.tc, numpy_tc(batch["z"], batch["loc"], batch["scale"], 50), atol=1e-4
    )


def test_wasserstein_terms():
    real, fake = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5])
    np.testing.assert_allclose(losses.wasserstein_critic_loss(real, fake), 2.0 - (-0.25))
    np.testing.assert_allclose(losses.wasserstein_generator_loss(fake), -0.25)


def test_interpolate_per_batch_and_per_sample():
    x, y = np.ones((2, 3)), np.zeros((2, 3))
    np.testing.assert_allclose(losses.interpolate(x, y, 0.25), np.full((2, 3), 0.25))
    eps = np.array([[0.0], [1.0]])
    np.testing.assert_allclose(losses.interpolate(x, y, eps), [[0, 0, 0], [1, 1, 1]])


def test_gradient_penalty_matches_numpy():
    g = np.random.default_rng(1).normal(size=(4, 6))
    want = np.mean((np.linalg.norm(g, axis=1) - 1.0) ** 2)
    np.testing.assert_allclose(losses.gradient_penalty(f32(g)), want, rtol=RTOL)


def test_gradient_penalty_is_finite_with_finite_gradient_at_zero():
    value, grad = jax.value_and_grad(losses.gradient_penalty)(jnp.zeros((3, 4)))
    np.testing.assert_allclose(value, 1.0, rtol=1e-5)  # sqrt(1e-12) = 1e-6 shifts the norm by 1e-6
    assert np.all(np.isfinite(grad))


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # D(x) = x . w has the same input gradient w for every cell: GP = (|w| - 1)^2
    w = jnp.array([3.0, 4.0])
    x_hat = jnp.ones((5, 2))
    grads = jax.grad(lambda xh: jnp.sum(xh @ w))(x_hat)
    np.testing.assert_allclose(losses.gradient_penalty(grads), 16.0, rtol=RTOL)


def test_info_mutual_information_matches_numpy():
    rng = np.random.default_rng(3)
    c, q = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    want = norm.logpdf(c, q, 1.0).sum(axis=1).mean()
    np.testing.assert_allclose(losses.info_mutual_information(f32(c), f32(q)), want, rtol=RTOL)
