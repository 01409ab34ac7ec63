"""The beta-TCVAE decoder's noise arms of the held-out experiment."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from michigan.predict.noise import arm_name, gene_spread, noise_arms

MEAN = np.array([[1.0, 2.0, 3.0]])


def decode(codes, seed):
    """A decoder whose mean is MEAN for every code and whose own noise is N(0, 1)."""
    mean = np.repeat(MEAN, len(codes), axis=0)
    return mean if seed is None else mean + np.random.default_rng(seed).standard_normal(mean.shape)


def test_arms_add_unit_none_and_spread_matched_noise():
    arms = noise_arms(decode, model="btcvae", spread=[0.0, 0.1, 2.0])
    assert list(arms) == ["btcvae", "btcvae_none", "btcvae_spread"]
    codes = np.zeros((20_000, 2))
    np.testing.assert_array_equal(arms["btcvae_none"](codes, 3), decode(codes, None))
    np.testing.assert_array_equal(arms["btcvae"](codes, 3), decode(codes, 3))
    spread = arms["btcvae_spread"](codes, 3)
    np.testing.assert_allclose(spread.std(axis=0), [0.0, 0.1, 2.0], rtol=0.03)
    np.testing.assert_allclose(spread.mean(axis=0), MEAN[0], atol=0.05)
    np.testing.assert_array_equal(arms["btcvae_spread"](codes, 3), spread)  # seeded


def test_gene_spread_is_the_residual_sd_and_reads_sparse_cells():
    x = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 4.0]])
    decoded = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    expected = np.std(x - decoded, axis=0, ddof=1)
    np.testing.assert_allclose(gene_spread(x, decoded), expected)
    np.testing.assert_allclose(gene_spread(scipy.sparse.csr_matrix(x), decoded), expected)


def test_bad_arms_fail_naming_the_culprit():
    with pytest.raises(ValueError, match="unknown noise arm 'loud'"):
        arm_name("btcvae", "loud")
    with pytest.raises(ValueError, match="non-negative"):
        noise_arms(decode, model="btcvae", spread=[1.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="cells >= 2"):
        gene_spread(np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="decoder gives 3 genes but spread has 2"):
        noise_arms(decode, model="btcvae", spread=[1.0, 1.0])["btcvae_spread"](np.zeros((2, 1)), 0)
