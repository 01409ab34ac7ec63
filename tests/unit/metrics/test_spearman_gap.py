from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from michigan.metrics import infer_factors_knn, spearman_gap, spearman_matrix


def test_gap_matches_michigan(disentanglement_case):
    case = disentanglement_case
    # deterministic float64 reference: rel 1e-9
    assert spearman_gap(case["mu"], case["v"]) == pytest.approx(
        case.expected["spearman_gap_means"], rel=1e-9
    )
    assert spearman_gap(case["z_sample"], case["v"]) == pytest.approx(
        case.expected["spearman_gap_samples"], rel=1e-9
    )
    np.testing.assert_allclose(
        spearman_matrix(case["mu"], case["v"]),
        case.intermediates["spearman_matrix_means"],
        atol=1e-12,
    )


def test_gap_with_continuous_factor(load_case):
    case = load_case("A3_continuous_libsize_nonlinear_step")
    factors = case["v"].astype(float)
    factors[:, 3] = case["libsize"]
    assert spearman_gap(case["mu"], factors) == pytest.approx(
        case.expected["spearman_gap_means_continuous_libsize"], rel=1e-9
    )


def test_matrix_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    codes = np.round(rng.standard_normal((50, 4)), 1)  # rounding makes ties
    factors = rng.integers(0, 3, (50, 2))
    expected = np.array(
        [[spearmanr(codes[:, j], factors[:, k])[0] for j in range(4)] for k in range(2)]
    )
    # independent computation (scipy); both float64: agreement to rounding
    np.testing.assert_allclose(spearman_matrix(codes, factors), expected, atol=1e-12)


def test_extremes(perfect_code):
    factors, mu, _, _ = perfect_code
    # latents equal to the factors (ties and all): |rho| = 1 on its latent; the noise latents'
    # sample correlations are of order 1/sqrt(1440) ~ 0.03
    exact = np.hstack([factors.astype(float), mu[:, 3:]])
    assert spearman_gap(exact, factors) > 0.9
    # a continuous latent that orders a binary factor perfectly still has |rho| = sqrt(3)/2
    # (ties in the factor only): the ceiling of the gap for balanced binary factors
    binary = spearman_matrix(mu[:, :1], factors[:, :1])[0, 0]
    assert binary == pytest.approx(np.sqrt(3) / 2, abs=1e-3)  # 1440 cells: O(1/n^2) off
    assert spearman_gap(np.zeros_like(mu), factors) == 0.0
    assert spearman_gap(np.hstack([mu, mu]), factors) == pytest.approx(0.0, abs=1e-12)


def test_knn_recovers_factors_of_copied_cells(perfect_code):
    factors, mu, _, _ = perfect_code
    rng = np.random.default_rng(2)
    # "genes": the code plus noise genes; generated cells are jittered copies of real cells
    real_x = np.hstack([mu, rng.standard_normal((len(mu), 5))])
    pick = rng.choice(len(mu), 200, replace=False)
    fake_x = real_x[pick] + 0.01 * rng.standard_normal((200, real_x.shape[1]))
    inferred = infer_factors_knn(real_x, factors, fake_x, k=3, n_pcs=5)
    # levels are 5 apart in the code; neighbours within 0.01 share every level
    np.testing.assert_array_equal(inferred, factors[pick])
    assert infer_factors_knn(real_x, factors[:, 0], fake_x, n_pcs=None).shape == (200, 1)


def test_bad_inputs_raise(perfect_code):
    factors, mu, _, _ = perfect_code
    with pytest.raises(ValueError, match="row counts differ"):
        spearman_gap(mu[:-1], factors)
    bad = mu.copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="codes contains 1 non-finite"):
        spearman_gap(bad, factors)
    with pytest.raises(ValueError, match="column 1 has a single value"):
        spearman_gap(mu, np.stack([factors[:, 0], np.ones(len(mu))], axis=1))
    with pytest.raises(ValueError, match="at least two latents"):
        spearman_gap(mu[:, :1], factors)
    with pytest.raises(ValueError, match="column counts differ"):
        infer_factors_knn(mu, factors, mu[:, :3])
    with pytest.raises(ValueError, match="row counts differ"):
        infer_factors_knn(mu, factors[:-1], mu)
    with pytest.raises(ValueError, match="n_pcs=50"):
        infer_factors_knn(mu, factors, mu)


def test_a_constant_inferred_factor_adds_a_gap_of_zero():
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((50, 3))
    varying = (codes[:, 0] > 0).astype(int)
    factors = np.stack([varying, np.zeros(50, int)], axis=1)
    with pytest.raises(ValueError, match="single value"):
        spearman_gap(codes, factors)
    # the varying factor alone gives its gap; the constant one contributes 0 to the mean
    alone = spearman_gap(codes, varying[:, None])
    assert spearman_gap(codes, factors, allow_constant_factors=True) == pytest.approx(alone / 2)
