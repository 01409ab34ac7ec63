"""Probabilistic PCA against scikit-learn's PCA and the closed-form posteriors of spec §2.8."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from michigan.models.ppca import fit_ppca, ppca_decode, ppca_posterior


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(200, 3)) * np.array([5.0, 3.0, 2.0])
    loadings = np.linalg.qr(rng.normal(size=(12, 3)))[0].T
    return latent @ loadings + 0.5 * rng.normal(size=(200, 12)) + 1.0


@pytest.fixture(scope="module")
def fitted(data):
    return fit_ppca(data, 3), PCA(n_components=3, svd_solver="full").fit(data)


def test_fit_matches_sklearn(fitted):
    ours, ref = fitted
    # both are float64 eigen-solvers of the same covariance: agree to ~1e-10
    np.testing.assert_allclose(ours.explained_variance, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.noise_variance, ref.noise_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.mean, ref.mean_, rtol=1e-10)
    # axes agree up to sign
    np.testing.assert_allclose(np.abs(ours.components @ ref.components_.T), np.eye(3), atol=1e-8)


def test_code_posterior_follows_the_original_formulas(data, fitted):
    ours, ref = fitted
    sigma2, lam = ref.noise_variance_, ref.explained_variance_
    precision = 1 / sigma2 + 1 / (lam - sigma2)
    scores = (data - ref.mean_) @ ours.components.T
    mean, std = ppca_posterior(ours, data, posterior="code")
    np.testing.assert_allclose(mean, scores / precision, rtol=1e-8)
    np.testing.assert_allclose(std[0], np.sqrt(precision) / sigma2, rtol=1e-8)
    np.testing.assert_allclose(std, np.broadcast_to(std[0], std.shape))


def test_textbook_posterior_is_tipping_bishop(data, fitted):
    ours, ref = fitted
    sigma2, lam = ref.noise_variance_, ref.explained_variance_
    scores = (data - ref.mean_) @ ours.components.T
    mean, std = ppca_posterior(ours, data, posterior="textbook")
    # score-space latent with prior N(0, lam - sigma2): posterior mean shrinks scores by (lam-s2)/lam
    np.testing.assert_allclose(mean, scores * (lam - sigma2) / lam, rtol=1e-8)
    np.testing.assert_allclose(std[0], np.sqrt(sigma2 * (lam - sigma2) / lam), rtol=1e-8)


def test_decode_mean_and_noise(fitted):
    ours, _ = fitted
    z = np.random.default_rng(1).normal(size=(5000, 3))
    mean = ppca_decode(ours, z)
    np.testing.assert_allclose(mean, z @ ours.components + ours.mean, rtol=1e-10)
    for posterior, std in (
        ("code", ours.noise_variance),
        ("textbook", np.sqrt(ours.noise_variance)),
    ):
        noisy = ppca_decode(ours, z, posterior=posterior, rng=np.random.default_rng(2))
        # 60,000 residuals estimate the noise sd within 1 %
        np.testing.assert_allclose(np.std(noisy - mean), std, rtol=0.01)


def test_errors():
    with pytest.raises(ValueError, match="components"):
        fit_ppca(np.ones((3, 10)), 3)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="ppca_posterior"):
        ppca_posterior(fit_ppca(rng.normal(size=(20, 6)), 2), np.ones((1, 6)), posterior="exact")
