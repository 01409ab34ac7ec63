"""Minibatch samplers that run on the device, inside the compiled epoch.

``window`` (the original code, spec §1): every epoch permutes the training rows once; each step then takes
a random contiguous window ``perm[start : start + B]`` with ``start ~ UniformInt[0, n - B)`` (upper bound
exclusive, as in the original). Windows overlap and are drawn with replacement across steps.
Instead of permuting the whole ``[n, G]`` matrix, the step gathers the ``B`` rows its window names, which
selects exactly the same cells at a fraction of the memory traffic.

``partition`` (an accepted deviation): every stream of steps walks through the blocks
``perm[i B : (i + 1) B]`` of its own per-epoch permutation, so each pass is a partition of the cells (the
last ``n mod B`` cells of the permutation are skipped). A GAN epoch has ``n_critic + 1`` streams (one per
critic step of an iteration and one for the generator step), a VAE epoch one.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

Sampler = Literal["window", "partition"]
SAMPLERS: tuple[str, ...] = ("window", "partition")


def check_sampler(sampler: str, n_cells: int, batch_size: int) -> None:
    """Raise ``ValueError`` if ``sampler`` is unknown or ``n_cells`` too small for ``batch_size``."""
    if sampler not in SAMPLERS:
        msg = f"sampler must be one of {SAMPLERS}, got {sampler!r}"
        raise ValueError(msg)
    if n_cells <= batch_size:
        msg = f"need more cells than batch_size={batch_size} to draw minibatches, got {n_cells}"
        raise ValueError(msg)


def steps_per_epoch(n_cells: int, batch_size: int) -> int:
    """``floor(n / B)`` steps per epoch, as in the original code."""
    return n_cells // batch_size


def epoch_permutations(key: jax.Array, sampler: Sampler, n_cells: int, streams: int) -> jax.Array:
    """The per-epoch permutations ``[S, n]``: one for ``window``, ``streams`` for ``partition``."""
    count = 1 if sampler == "window" else streams
    return jax.vmap(lambda k: jax.random.permutation(k, n_cells))(jax.random.split(key, count))


def minibatch_rows(
    permutations: jax.Array,
    *,
    sampler: Sampler,
    batch_size: int,
    step: jax.Array | int,
    stream: int = 0,
    key: jax.Array,
) -> jax.Array:
    """Row indices ``[B]`` of one minibatch.

    Parameters
    ----------
    permutations
        ``[S, n]`` from :func:`epoch_permutations`.
    sampler
        ``"window"``: a random window of ``permutations[0]`` drawn with ``key``; ``"partition"``: block
        ``step`` of ``permutations[stream]`` (``key`` unused).
    batch_size
        ``B``.
    step
        Step index within the epoch (partition only).
    stream
        Which permutation (partition only).
    key
        PRNG key of this minibatch.
    """
    n_cells = permutations.shape[1]
    if sampler == "window":
        start = jax.random.randint(key, (), 0, n_cells - batch_size)
        return jax.lax.dynamic_slice_in_dim(permutations[0], start, batch_size)
    start = jnp.asarray(step) * batch_size
    return jax.lax.dynamic_slice_in_dim(permutations[stream], start, batch_size)
