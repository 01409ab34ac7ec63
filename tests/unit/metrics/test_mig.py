from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from michigan.metrics import _gaussian, discrete_mig, gaussian_entropies, gaussian_mig
from michigan.metrics.mig import MIG_CONVENTIONS

EXPECTED_KEY = {
    "michigan_balanced": "mig_gaussian_michigan_balanced",
    "michigan_empirical": "mig_gaussian_michigan_empirical_entropy",
    "betatcvae": "mig_gaussian_betatcvae",
}
FACTOR_NAMES = ("batch", "path", "step", "libsize_quartile")


def test_gaussian_mig_matches_references_float64(disentanglement_case):
    case = disentanglement_case
    entropies = gaussian_entropies(
        case["z_sample"], case["mu"], case["logsigma"], case["v"], float64=True
    )
    for convention in MIG_CONVENTIONS:
        # README tolerance for Gaussian MIG computed in float64: abs 1e-8
        assert entropies.mig(convention) == pytest.approx(
            case.expected[EXPECTED_KEY[convention]], abs=1e-8
        )
    inter = case.intermediates
    np.testing.assert_allclose(entropies.marginal, inter["gaussian_marginal_entropies"], atol=1e-8)
    for k, name in enumerate(FACTOR_NAMES):
        np.testing.assert_allclose(
            entropies.conditional[k],
            inter[f"gaussian_conditional_entropies_per_level_{name}"],
            atol=1e-8,
        )
    np.testing.assert_allclose(
        entropies.normalized_mi("michigan_balanced"),
        inter["normalized_mi_michigan_balanced"],
        atol=1e-8,
    )
    np.testing.assert_allclose(
        entropies.factor_entropies("michigan_empirical"),
        inter["factor_entropy_empirical"],
        rtol=1e-12,
    )


def test_gaussian_mig_matches_references_float32(disentanglement_case):
    case = disentanglement_case
    entropies = gaussian_entropies(case["z_sample"], case["mu"], case["logsigma"], case["v"])
    for convention in MIG_CONVENTIONS:
        # README tolerance for float32 log-densities (logsumexp over N): abs 2e-4
        assert entropies.mig(convention) == pytest.approx(
            case.expected[EXPECTED_KEY[convention]], abs=2e-4
        )
    # the public one-call form gives the same number as the entropies' method
    assert gaussian_mig(
        case["z_sample"], case["mu"], case["logsigma"], case["v"], convention="betatcvae"
    ) == entropies.mig("betatcvae")


def test_unbalanced_conventions_differ(load_case):
    # A5 separates the three conventions by up to 0.07: a switch that did nothing would fail here
    case = load_case("A5_unbalanced_levels")
    entropies = gaussian_entropies(case["z_sample"], case["mu"], case["logsigma"], case["v"])
    values = [entropies.mig(c) for c in MIG_CONVENTIONS]
    assert min(abs(a - b) for a in values for b in values if a is not b) > 0.01


def _brute_force_entropy(z: np.ndarray, mu: np.ndarray, logsigma: np.ndarray) -> np.ndarray:
    sigma = np.exp(logsigma)
    log_dens = (
        -0.5 * np.log(2 * np.pi)
        - logsigma[None]
        - 0.5 * ((z[:, None, :] - mu[None]) / sigma[None]) ** 2
    )
    return np.log(len(mu)) - logsumexp(log_dens, axis=1).mean(axis=0)


def test_entropies_match_brute_force_with_padded_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    n, d = 37, 3
    mu = rng.standard_normal((n, d))
    logsigma = rng.uniform(-1.5, 0.5, (n, d))
    z = mu + np.exp(logsigma) * rng.standard_normal((n, d))
    factors = np.stack([rng.integers(0, 2, n), rng.integers(0, 3, n)], axis=1)
    # blocks of 5 samples: 37 samples need 8 chunks and 3 padded rows
    monkeypatch.setattr(_gaussian, "_BLOCK_ELEMENTS", 5 * d * n)
    entropies = gaussian_entropies(z, mu, logsigma, factors, float64=True)
    # independent NumPy computation; both float64, so agreement to rounding (1e-12)
    np.testing.assert_allclose(
        entropies.marginal, _brute_force_entropy(z, mu, logsigma), atol=1e-12
    )
    for k in range(2):
        for level in range(factors[:, k].max() + 1):
            rows = factors[:, k] == level
            np.testing.assert_allclose(
                entropies.conditional[k][level],
                _brute_force_entropy(z[rows], mu[rows], logsigma[rows]),
                atol=1e-12,
            )


def test_perfect_code_scores_one(perfect_code):
    factors, mu, logsigma, z = perfect_code
    # one narrow latent per factor: MI ~ H(v) on its latent and ~0 elsewhere; the residual is
    # finite-sample estimation noise of order 0.01
    for convention in MIG_CONVENTIONS:
        assert gaussian_mig(z, mu, logsigma, factors, convention=convention) > 0.97
    assert discrete_mig(mu, factors) > 0.95


def test_duplicated_and_constant_codes_score_zero(perfect_code):
    factors, mu, logsigma, z = perfect_code
    doubled = np.hstack([mu[:, :3], mu[:, :3]])
    doubled_ls = np.hstack([logsigma[:, :3], logsigma[:, :3]])
    doubled_z = np.hstack([z[:, :3], z[:, :3]])
    # two identical latents per factor: top-1 and top-2 MI are the same number
    assert gaussian_mig(doubled_z, doubled, doubled_ls, factors, float64=True) == pytest.approx(
        0.0, abs=1e-12
    )
    assert discrete_mig(doubled, factors) == pytest.approx(0.0, abs=1e-12)
    constant = np.zeros_like(mu)
    assert gaussian_mig(constant, constant, np.zeros_like(mu), factors) == pytest.approx(
        0.0,
        abs=1e-5,  # float32 rounding of identical log-sums
    )
    assert discrete_mig(constant, factors) == pytest.approx(0.0, abs=1e-12)


def test_discrete_mig_matches_disentanglement_lib(disentanglement_case):
    case = disentanglement_case
    # deterministic float64 reference: rel 1e-9
    assert discrete_mig(case["mu"], case["v"]) == pytest.approx(
        case.expected["mig_discrete_dlib_means"], rel=1e-9
    )
    assert discrete_mig(case["z_sample"], case["v"]) == pytest.approx(
        case.expected["mig_discrete_dlib_samples"], rel=1e-9
    )


def test_subsample_is_seeded_and_bounded(perfect_code):
    factors, mu, logsigma, z = perfect_code
    a = gaussian_mig(z, mu, logsigma, factors, max_cells=500, seed=1)
    b = gaussian_mig(z, mu, logsigma, factors, max_cells=500, seed=1)
    c = gaussian_mig(z, mu, logsigma, factors, max_cells=500, seed=2)
    assert a == b
    assert a != c
    assert a > 0.9  # still a near-perfect code on a third of the cells


def test_bad_inputs_raise(perfect_code):
    factors, mu, logsigma, z = perfect_code
    with pytest.raises(ValueError, match="row counts differ"):
        gaussian_mig(z, mu, logsigma, factors[:-1])
    with pytest.raises(ValueError, match="same shape"):
        gaussian_mig(z[:, :3], mu, logsigma, factors)
    bad = mu.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match="mu contains 1 non-finite"):
        gaussian_mig(z, bad, logsigma, factors)
    one_level = factors.copy()
    one_level[:, 1] = 7
    with pytest.raises(ValueError, match="column 1 has a single level"):
        gaussian_mig(z, mu, logsigma, one_level)
    continuous = factors.astype(float)
    continuous[:, 2] += 0.5 * np.random.default_rng(0).random(len(continuous))
    with pytest.raises(ValueError, match="column 2 has non-integer values"):
        gaussian_mig(z, mu, logsigma, continuous)
    with pytest.raises(ValueError, match="convention='paper'"):
        gaussian_mig(z, mu, logsigma, factors, convention="paper")
    with pytest.raises(ValueError, match="row counts differ"):
        discrete_mig(mu, factors[:-1])
    with pytest.raises(ValueError, match="single level"):
        discrete_mig(mu, one_level)
    with pytest.raises(ValueError, match="at least two latents"):
        discrete_mig(mu[:, :1], factors)
