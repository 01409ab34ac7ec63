from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from michigan.metrics import _gaussian, delta_h, latent_entropy


def _brute_force(z, mu, logsigma, *, leave_own_out=False):
    log_dens = (
        -0.5 * np.log(2 * np.pi)
        - logsigma[None]
        - 0.5 * ((z[:, None, :] - mu[None]) / np.exp(logsigma)[None]) ** 2
    ).sum(axis=2)
    n = len(mu)
    if leave_own_out:
        np.fill_diagonal(log_dens, -np.inf)
        n -= 1
    return float(np.mean(np.log(n) - logsumexp(log_dens, axis=1)))


@pytest.mark.parametrize(("float64", "tol"), [(True, 1e-8), (False, 2e-4)])
def test_matches_beta_tcvae_joint_entropy(load_case, float64, tol):
    # README: abs 1e-8 in float64, abs 2e-4 in float32
    case = load_case("D1_latent_entropy_accurate")
    mu, logsigma = case["mu"], case["logsigma"]
    assert latent_entropy(case["z_real"], mu, logsigma, float64=float64) == pytest.approx(
        case.expected["H_real"], abs=tol
    )
    assert latent_entropy(case["z_fake"], mu, logsigma, float64=float64) == pytest.approx(
        case.expected["H_fake"], abs=tol
    )
    assert latent_entropy(mu, mu, logsigma, float64=float64) == pytest.approx(
        case.expected["H_real_means"], abs=tol
    )
    assert delta_h(case["z_fake"], case["z_real"], mu, logsigma, float64=float64) == pytest.approx(
        case.expected["delta_H"], abs=tol
    )
    # the leave-own-out check of the README's intermediates (own implementation there)
    assert delta_h(
        case["z_fake"], case["z_real"], mu, logsigma, leave_own_out=True, float64=float64
    ) == pytest.approx(case.intermediates["delta_H_leave_one_out_own"], abs=tol)


def test_leave_own_out_removes_the_self_term_bias(load_case):
    case = load_case("D1_latent_entropy_accurate")
    args = (case["z_fake"], case["z_real"], case["mu"], case["logsigma"])
    # the prediction is distributed like the real codes: the paper's estimator still reports
    # ~5 nats, leaving the own posterior out brings it within 0.5 nats of 0
    assert delta_h(*args) > 4.0
    assert abs(delta_h(*args, leave_own_out=True)) < 0.5


def test_matches_brute_force_with_padded_chunks(monkeypatch):
    rng = np.random.default_rng(4)
    mu = rng.standard_normal((23, 4))
    logsigma = rng.uniform(-1.0, 0.0, (23, 4))
    z = mu + np.exp(logsigma) * rng.standard_normal((23, 4))
    far = z + 3.0  # far from most posteriors: the max-shift must keep it finite
    # blocks of 6 samples: 23 samples need 4 chunks and one padded row
    monkeypatch.setattr(_gaussian, "_BLOCK_ELEMENTS", 6 * 4 * 23)
    for points in (z, far):
        # independent NumPy computation in float64: agreement to rounding
        assert latent_entropy(points, mu, logsigma) == pytest.approx(
            _brute_force(points, mu, logsigma), abs=1e-12
        )
    assert latent_entropy(z, mu, logsigma, leave_own_out=True) == pytest.approx(
        _brute_force(z, mu, logsigma, leave_own_out=True), abs=1e-12
    )


def test_bad_inputs_raise():
    rng = np.random.default_rng(5)
    mu, logsigma = rng.standard_normal((10, 3)), np.zeros((10, 3))
    with pytest.raises(ValueError, match="row counts differ"):
        latent_entropy(mu[:5], mu, logsigma, leave_own_out=True)
    with pytest.raises(ValueError, match="row counts differ"):
        delta_h(mu, mu[:5], mu, logsigma)
    with pytest.raises(ValueError, match="column counts differ"):
        latent_entropy(mu[:, :2], mu, logsigma)
    with pytest.raises(ValueError, match="row counts differ"):
        latent_entropy(mu, mu, logsigma[:4])
    bad = mu.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="z_fake contains 1 non-finite"):
        delta_h(bad, mu, mu, logsigma)
