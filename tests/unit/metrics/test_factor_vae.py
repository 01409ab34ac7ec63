from __future__ import annotations

import numpy as np
import pytest

from michigan.metrics import (
    FactorVAEDraws,
    factor_vae_score,
    factor_vae_votes,
    sample_factor_vae_draws,
)


def recorded_draws(case) -> FactorVAEDraws:
    return FactorVAEDraws(
        case["fvae_variance_cells"].astype(np.int64),
        case["fvae_train_factor"].astype(np.int64),
        case["fvae_train_cells"].astype(np.int64),
        case["fvae_eval_factor"].astype(np.int64),
        case["fvae_eval_cells"].astype(np.int64),
    )


def test_replay_of_recorded_draws_is_exact(disentanglement_case):
    case = disentanglement_case
    draws = recorded_draws(case)
    result = factor_vae_votes(case["mu"], draws, n_factors=4)
    # votes are integers: replaying the library's draws must give identical tables and scores
    np.testing.assert_array_equal(result.train_votes, case.intermediates["factorvae_train_votes"])
    np.testing.assert_array_equal(result.eval_votes, case.intermediates["factorvae_eval_votes"])
    np.testing.assert_array_equal(
        np.flatnonzero(result.active_latents), case.intermediates["factorvae_active_dims"]
    )
    assert result.eval_accuracy == case.expected["factorvae_dlib_eval_accuracy"]
    assert result.train_accuracy == case.expected["factorvae_dlib_train_accuracy"]
    assert factor_vae_score(case["mu"], case["v"], draws=draws) == result.eval_accuracy


def test_fresh_draws_within_tolerance(disentanglement_case):
    case = disentanglement_case
    # README: own random draws agree with the library within abs 0.03
    score = factor_vae_score(case["mu"], case["v"], seed=5)
    assert score == pytest.approx(case.expected["factorvae_dlib_eval_accuracy"], abs=0.03)


def test_michigan_code_variant_reproduces_original_numbers(disentanglement_case):
    case = disentanglement_case
    draws = sample_factor_vae_draws(
        case["v"], seed=11, variant="michigan_code", batch_size=40, n_train=8000, n_eval=2000
    )
    result = factor_vae_votes(case["mu"], draws, n_factors=4, variant="michigan_code")
    # stochastic reference (other RNG): README tolerance abs 0.03; near chance (0.25) by design
    assert result.eval_accuracy == pytest.approx(
        case.expected["factorvae_michigan_code_test"], abs=0.03
    )
    assert result.train_accuracy == pytest.approx(
        case.expected["factorvae_michigan_code_train"], abs=0.03
    )
    # without replacement, one level per vote, global scale from all cells
    assert np.array_equal(draws.variance_cells, np.arange(len(case["v"])))
    for factor, cells in zip(draws.train_factor[:50], draws.train_cells[:50], strict=True):
        assert np.unique(cells).size == 40
        assert np.unique(case["v"][cells, factor]).size == 1


def test_draws_fix_the_factor_and_are_seeded(load_case):
    case = load_case("A5_unbalanced_levels")
    draws = sample_factor_vae_draws(case["v"], seed=3, n_train=500, n_eval=200, n_var=300)
    assert draws.train_cells.shape == (500, 64)
    assert draws.eval_cells.shape == (200, 64)
    assert draws.variance_cells.shape == (300,)
    for factor, cells in zip(draws.train_factor, draws.train_cells, strict=True):
        assert np.unique(case["v"][cells, factor]).size == 1
    # the fixed value is that of a uniformly drawn cell: batch 0 (960 of 1280 cells) dominates
    batch_votes = draws.train_factor == 0
    share = np.mean(case["v"][draws.train_cells[batch_votes, 0], 0] == 0)
    assert share == pytest.approx(0.75, abs=0.15)  # binomial sd ~0.06 on ~125 votes
    again = sample_factor_vae_draws(case["v"], seed=3, n_train=500, n_eval=200, n_var=300)
    assert all(np.array_equal(a, b) for a, b in zip(draws, again, strict=True))


def test_extremes(perfect_code):
    factors, mu, _, _ = perfect_code
    assert factor_vae_score(mu, factors, seed=0, n_train=2000, n_eval=1000) == 1.0
    # a constant code has no active latent: disentanglement_lib returns 0
    assert factor_vae_score(np.zeros_like(mu), factors, seed=0, n_train=200, n_eval=100) == 0.0
    # MichiGAN's argmax picks the latent that varies MOST, so a perfect code is scored near
    # chance (3 factors: 1/3); the 0.15 margin covers 2,000 votes of sampling noise and the
    # classifier's majority effect
    code = factor_vae_score(
        mu, factors, seed=0, variant="michigan_code", batch_size=40, n_train=8000, n_eval=2000
    )
    assert code < 1 / 3 + 0.15


def test_bad_inputs_raise(perfect_code):
    factors, mu, _, _ = perfect_code
    with pytest.raises(ValueError, match="needs a seed"):
        factor_vae_score(mu, factors)
    with pytest.raises(ValueError, match="row counts differ"):
        factor_vae_score(mu[:-1], factors, seed=0)
    bad = mu.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        factor_vae_score(bad, factors, seed=0, n_train=10, n_eval=10)
    one_level = factors.copy()
    one_level[:, 2] = 0
    with pytest.raises(ValueError, match="column 2 has a single level"):
        factor_vae_score(mu, one_level, seed=0)
    with pytest.raises(ValueError, match="batch_size must be >= 2"):
        sample_factor_vae_draws(factors, seed=0, batch_size=1)
    # the 4-level factor has 1440 / 4 = 360 cells per level
    with pytest.raises(ValueError, match="only 360 cells"):
        sample_factor_vae_draws(factors, seed=0, variant="michigan_code", batch_size=361)
    draws = sample_factor_vae_draws(factors, seed=0, n_train=10, n_eval=10, n_var=10)
    with pytest.raises(ValueError, match="outside"):
        factor_vae_votes(mu[:100], draws, n_factors=3)
    with pytest.raises(ValueError, match="variant='argmax'"):
        factor_vae_votes(mu, draws, n_factors=3, variant="argmax")
