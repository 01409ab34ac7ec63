"""Chunked JAX kernels for log-mixtures of diagonal Gaussian posteriors.

Both kernels evaluate ``log sum_n q(z_s | x_n)`` for every sample ``z_s`` against the mixture of
all posteriors ``q(. | x_n) = Normal(mu_n, exp(logsigma_n))``: an ``O(S N D)`` computation. The
samples are processed in chunks inside ``jax.lax.map`` so that memory stays at one
``[chunk, latents, components]`` block; components sit on the last (contiguous) axis, which lets
XLA vectorise the exponentials. Each chunk uses a max-subtracted log-sum-exp.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
#: elements of one ``[chunk, latents, components]`` block (4 MB in float32: stays in cache)
_BLOCK_ELEMENTS = 1_000_000


def _chunk_size(n_samples: int, n_latents: int, n_components: int) -> int:
    """Samples per chunk so that one block holds about ``_BLOCK_ELEMENTS`` values."""
    return int(np.clip(_BLOCK_ELEMENTS // (n_latents * n_components), 1, n_samples))


def _pad_rows(x: np.ndarray, multiple: int) -> np.ndarray:
    """Repeat the first row until the row count is a multiple of ``multiple``."""
    extra = -x.shape[0] % multiple
    return np.concatenate([x, np.repeat(x[:1], extra, axis=0)]) if extra else x


def _log_normal(
    z_chunk: jax.Array, mu_t: jax.Array, logsigma_t: jax.Array, inv_sigma_t: jax.Array
) -> jax.Array:
    """Log densities ``[chunk, latents, components]`` of ``z_chunk [chunk, latents]``."""
    scaled = (z_chunk[:, :, None] - mu_t[None]) * inv_sigma_t[None]
    return -_HALF_LOG_2PI - logsigma_t[None] - 0.5 * jnp.square(scaled)


@partial(jax.jit, static_argnames="chunk")
def _per_latent_kernel(
    z: jax.Array,
    mu: jax.Array,
    logsigma: jax.Array,
    sample_groups: jax.Array,
    component_groups: jax.Array,
    chunk: int,
) -> tuple[jax.Array, jax.Array]:
    mu_t, logsigma_t = mu.T, logsigma.T
    inv_sigma_t = jnp.exp(-logsigma_t)
    groups_t = component_groups.T  # [factors, components]

    def one_chunk(args: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        z_chunk, groups_chunk = args
        log_dens = _log_normal(z_chunk, mu_t, logsigma_t, inv_sigma_t)
        peak = jnp.max(log_dens, axis=2)  # [chunk, latents]
        dens = jnp.exp(log_dens - peak[:, :, None])
        total = jnp.sum(dens, axis=2)
        # same[c, k, n] = 1 where component n shares sample c's level of factor k
        same = (groups_chunk[:, :, None] == groups_t[None]).astype(dens.dtype)
        own = jnp.einsum("cdn,ckn->ckd", dens, same)
        return peak + jnp.log(total), peak[:, None, :] + jnp.log(own)

    n_factors = sample_groups.shape[1]
    marginal, own = jax.lax.map(
        one_chunk,
        (z.reshape(-1, chunk, z.shape[1]), sample_groups.reshape(-1, chunk, n_factors)),
    )
    return marginal.reshape(z.shape), own.reshape(z.shape[0], n_factors, z.shape[1])


@partial(jax.jit, static_argnames=("chunk", "leave_own_out"))
def _joint_kernel(
    z: jax.Array, mu: jax.Array, logsigma: jax.Array, chunk: int, *, leave_own_out: bool
) -> jax.Array:
    mu_t, logsigma_t = mu.T, logsigma.T
    inv_sigma_t = jnp.exp(-logsigma_t)
    components = jnp.arange(mu.shape[0])

    def one_chunk(args: tuple[jax.Array, jax.Array]) -> jax.Array:
        z_chunk, index = args
        log_dens = jnp.sum(_log_normal(z_chunk, mu_t, logsigma_t, inv_sigma_t), axis=1)
        if leave_own_out:
            log_dens = jnp.where(index[:, None] == components[None], -jnp.inf, log_dens)
        return jax.nn.logsumexp(log_dens, axis=1)

    index = jnp.arange(z.shape[0]).reshape(-1, chunk)
    return jax.lax.map(one_chunk, (z.reshape(-1, chunk, z.shape[1]), index)).reshape(-1)


def log_mixture_per_latent(
    z: np.ndarray,
    mu: np.ndarray,
    logsigma: np.ndarray,
    groups: np.ndarray,
    *,
    float64: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-latent log-sums over all components and over the components of the sample's level.

    Parameters
    ----------
    z, mu, logsigma
        ``[cells, latents]``; sample ``s`` and component ``s`` are the same cell.
    groups
        ``[cells, factors]`` integer levels.
    float64
        Compute in float64 (exact to ~1e-12) instead of float32 (~1e-6 nats).

    Returns
    -------
    marginal
        ``[cells, latents]``: ``log sum_n q(z_sj | x_n)``.
    own
        ``[cells, factors, latents]``: the same sum over the ``n`` with ``v_nk = v_sk``.
    """
    n_cells, n_latents = z.shape
    chunk = _chunk_size(n_cells, n_latents, n_cells)
    dtype = np.float64 if float64 else np.float32
    with jax.enable_x64(float64):
        marginal, own = _per_latent_kernel(
            jnp.asarray(_pad_rows(z, chunk), dtype),
            jnp.asarray(mu, dtype),
            jnp.asarray(logsigma, dtype),
            jnp.asarray(_pad_rows(groups, chunk), jnp.int32),
            jnp.asarray(groups, jnp.int32),
            chunk,
        )
    return (
        np.asarray(marginal, np.float64)[:n_cells],
        np.asarray(own, np.float64)[:n_cells],
    )


def log_mixture_joint(
    z: np.ndarray,
    mu: np.ndarray,
    logsigma: np.ndarray,
    *,
    leave_own_out: bool,
    float64: bool,
) -> np.ndarray:
    """``log sum_n prod_j q(z_sj | x_n)`` for each sample ``z [samples, latents]``, shape ``[samples]``.

    With ``leave_own_out`` the component ``n = s`` is skipped (samples and components must then be
    the same cells, in the same order).
    """
    n_samples, n_latents = z.shape
    chunk = _chunk_size(n_samples, n_latents, mu.shape[0])
    dtype = np.float64 if float64 else np.float32
    with jax.enable_x64(float64):
        out = _joint_kernel(
            jnp.asarray(_pad_rows(z, chunk), dtype),
            jnp.asarray(mu, dtype),
            jnp.asarray(logsigma, dtype),
            chunk,
            leave_own_out=leave_own_out,
        )
    return np.asarray(out, np.float64)[:n_samples]
