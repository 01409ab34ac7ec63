"""The on-device minibatch samplers: the window sampler's distribution and the partition's coverage."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import chisquare

from michigan.train.sampling import (
    check_sampler,
    epoch_permutations,
    minibatch_rows,
    steps_per_epoch,
)

N, B = 12, 4


@pytest.fixture(scope="module")
def windows():
    """20,000 windows of one permutation, drawn with the jitted sampler."""
    perms = epoch_permutations(jax.random.PRNGKey(0), "window", N, streams=3)
    draw = jax.jit(
        jax.vmap(lambda k: minibatch_rows(perms, sampler="window", batch_size=B, step=0, key=k))
    )
    return np.asarray(perms), np.asarray(draw(jax.random.split(jax.random.PRNGKey(1), 20_000)))


def test_window_is_contiguous_in_the_epoch_permutation(windows):
    perms, rows = windows
    assert perms.shape == (1, N)  # one permutation for the window sampler
    starts = np.array([np.flatnonzero(perms[0] == r[0])[0] for r in rows])
    np.testing.assert_array_equal(rows, perms[0][starts[:, None] + np.arange(B)])


def test_window_start_is_uniform_on_0_to_n_minus_b_exclusive(windows):
    perms, rows = windows
    starts = np.array([np.flatnonzero(perms[0] == r[0])[0] for r in rows])
    counts = np.bincount(starts, minlength=N)
    assert counts[N - B :].sum() == 0  # start < n - B, as the original's randint upper bound
    # chi-square test of uniformity over the n - B = 8 starts; p > 1e-4 fails only on a real bias
    assert chisquare(counts[: N - B]).pvalue > 1e-4


def test_partition_blocks_cover_distinct_cells():
    perms = epoch_permutations(jax.random.PRNGKey(3), "partition", N, streams=2)
    assert perms.shape == (2, N)
    for stream in range(2):
        blocks = [
            np.asarray(
                minibatch_rows(
                    perms,
                    sampler="partition",
                    batch_size=B,
                    step=i,
                    stream=stream,
                    key=jax.random.PRNGKey(0),
                )
            )
            for i in range(steps_per_epoch(N, B))
        ]
        np.testing.assert_array_equal(np.sort(np.concatenate(blocks)), np.arange(N))
    assert not np.array_equal(perms[0], perms[1])  # each stream has its own permutation


def test_permutations_are_permutations():
    perms = np.asarray(epoch_permutations(jax.random.PRNGKey(4), "partition", 50, streams=4))
    for perm in perms:
        np.testing.assert_array_equal(np.sort(perm), np.arange(50))
    assert jnp.issubdtype(perms.dtype, jnp.integer)


def test_steps_per_epoch_is_floor():
    assert steps_per_epoch(4221, 128) == 32  # the original's 32 steps (spec §4.1)


@pytest.mark.parametrize(
    ("sampler", "n", "match"), [("random", 10, "sampler"), ("window", 4, "more cells")]
)
def test_check_sampler_errors(sampler, n, match):
    with pytest.raises(ValueError, match=match):
        check_sampler(sampler, n, 4)
