"""Pure loss functions of the representation models and the Wasserstein GANs.

Every function works on one minibatch of ``B`` cells; ``G`` is the number of genes and ``K`` the code
dimension. Log densities always include the ``-1/2 log(2 pi)`` constant, as the original code does (it
matters only for reported values and early-stopping thresholds). References: spec = the team's
``original-code-spec.md`` (welch-lab/MichiGAN read line by line); Yu & Welch, Genome Biology 22:158 (2021).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

LOG_2PI = math.log(2.0 * math.pi)
LOG_WEIGHT_FLOOR = 1e-16
GRAD_NORM_EPS = 1e-12


def gaussian_log_density(x: ArrayLike, mean: ArrayLike, std: ArrayLike) -> jax.Array:
    """Elementwise log density of a normal distribution.

    ``log N(x; mu, sigma) = -1/2 log(2 pi) - log(sigma) - (x - mu)^2 / (2 sigma^2)``.

    Parameters
    ----------
    x, mean, std
        Broadcastable arrays; ``std > 0``.

    Returns
    -------
    jax.Array
        The broadcast shape of the inputs.
    """
    x, mean, std = jnp.asarray(x), jnp.asarray(mean), jnp.asarray(std)
    return -0.5 * LOG_2PI - jnp.log(std) - 0.5 * jnp.square((x - mean) / std)


def reconstruction_nll(x: ArrayLike, x_mean: ArrayLike) -> jax.Array:
    """Unit-variance Gaussian reconstruction loss, summed over genes, averaged over cells.

    ``L_rec = -(1/B) sum_i sum_g log N(x_ig; mu_ig, 1)`` (spec §3.1).

    Parameters
    ----------
    x
        Observed expression ``[B, G]``.
    x_mean
        Decoder mean ``[B, G]``.
    """
    return -jnp.mean(jnp.sum(gaussian_log_density(x, x_mean, 1.0), axis=-1))


def kl_monte_carlo(z: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> jax.Array:
    """Single-sample Monte-Carlo KL(q(z|x) || N(0, I)), averaged over cells.

    ``L_KL = (1/B) sum_i sum_k [log N(z_ik; mu_ik, sigma_ik) - log N(z_ik; 0, 1)]`` at the same sample
    ``z_i`` that is decoded (spec §3.1). The original code uses this estimate, not the analytic KL.

    Parameters
    ----------
    z
        Posterior samples ``[B, K]``.
    loc, scale
        Posterior means and standard deviations ``[B, K]``.
    """
    log_q = gaussian_log_density(z, loc, scale)
    log_p = gaussian_log_density(z, 0.0, 1.0)
    return jnp.mean(jnp.sum(log_q - log_p, axis=-1))


def mss_log_weights(batch_size: int, n_train: int) -> jax.Array:
    """Log importance weights of the minibatch-stratified-sampling (MSS) estimator, MichiGAN's pattern.

    The ``[B, B]`` matrix ``W`` (row ``i`` = sample ``z_i``, column ``j`` = component ``q(.|x_j)``) has
    ``W[i, i] = 1/N``, ``W[i, i-1] = 1/(B-1) - 1/N`` for ``i >= 1``, ``W[0, 1] = 1/(B-1) - 1/N`` and
    ``1/(B-1)`` elsewhere; every row sums to 1. Returns ``log(W + 1e-16)`` (spec §3.2).

    Parameters
    ----------
    batch_size
        ``B`` (at least 3).
    n_train
        ``N``, the number of training cells.

    Notes
    -----
    This deliberately differs from Chen et al.'s reference code (stratified weight on the
    super-diagonal plus element ``(B-2, 0)``); the MichiGAN pattern is reproduced exactly.
    """
    if batch_size < 3:
        msg = f"the MSS estimator needs batch_size >= 3, got {batch_size}"
        raise ValueError(msg)
    if n_train < batch_size:
        msg = f"n_train ({n_train}) must be at least batch_size ({batch_size})"
        raise ValueError(msg)
    off = 1.0 / (batch_size - 1)
    strat = off - 1.0 / n_train
    rows = jnp.arange(batch_size)
    w = jnp.full((batch_size, batch_size), off, dtype=jnp.float32)
    w = w.at[rows, rows].set(1.0 / n_train)
    w = w.at[rows[1:], rows[1:] - 1].set(strat)
    w = w.at[0, 1].set(strat)
    return jnp.log(w + LOG_WEIGHT_FLOOR)


def total_correlation_mss(
    z: ArrayLike, loc: ArrayLike, scale: ArrayLike, log_weights: ArrayLike
) -> jax.Array:
    """Total correlation of the aggregate posterior by the MSS estimator (spec §3.2).

    With ``L[i, j, k] = log N(z_ik; mu_jk, sigma_jk)``:
    ``log q(z_ik) = logsumexp_j (L[i,j,k] + logW[i,j])``,
    ``log q(z_i) = logsumexp_j (sum_k L[i,j,k] + logW[i,j])``,
    ``TC = sum_k H_k - H`` with ``H_k = -mean_i log q(z_ik)`` and ``H = -mean_i log q(z_i)``.
    The estimate can be negative. Gradients flow through ``z``, ``loc`` and ``scale``.

    Parameters
    ----------
    z
        Posterior samples ``[B, K]``.
    loc, scale
        Posterior means and standard deviations ``[B, K]``.
    log_weights
        ``[B, B]`` from :func:`mss_log_weights`.
    """
    z, loc, scale = jnp.asarray(z), jnp.asarray(loc), jnp.asarray(scale)
    log_weights = jnp.asarray(log_weights)
    pairwise = gaussian_log_density(z[:, None, :], loc[None, :, :], scale[None, :, :])  # [i, j, k]
    log_q_marginal = jax.nn.logsumexp(pairwise + log_weights[:, :, None], axis=1)  # [i, k]
    log_q_joint = jax.nn.logsumexp(jnp.sum(pairwise, axis=2) + log_weights, axis=1)  # [i]
    marginal_entropies = -jnp.mean(log_q_marginal, axis=0)
    joint_entropy = -jnp.mean(log_q_joint)
    return jnp.sum(marginal_entropies) - joint_entropy


class VAELoss(NamedTuple):
    """The β-TCVAE objective and its parts (all scalars)."""

    total: jax.Array
    reconstruction: jax.Array
    kl: jax.Array
    tc: jax.Array


def beta_tcvae_loss(
    x: ArrayLike,
    x_mean: ArrayLike,
    z: ArrayLike,
    loc: ArrayLike,
    scale: ArrayLike,
    *,
    log_weights: ArrayLike,
    beta: float,
    kl_weight: float = 1.0,
) -> VAELoss:
    """The paper's ``L_VAE + beta * TC``: ``L = L_rec + alpha * L_KL + beta * TC`` (spec §3.1).

    Parameters
    ----------
    x, x_mean
        Data and decoder mean ``[B, G]``.
    z, loc, scale
        Posterior sample, mean and standard deviation ``[B, K]``.
    log_weights
        MSS log weights ``[B, B]`` (:func:`mss_log_weights`).
    beta
        Weight of the TC term alone (0 gives the plain VAE).
    kl_weight
        ``alpha``, weight of the Monte-Carlo KL (1 in the paper).

    Notes
    -----
    β multiplies only the TC on top of the full KL, so the TC is weighted by ``1 + beta`` overall: the
    paper's β equals Chen et al.'s β minus 1. With ``beta = 0`` the TC is still computed and reported
    but does not enter the loss.
    """
    rec = reconstruction_nll(x, x_mean)
    kl = kl_monte_carlo(z, loc, scale)
    tc = total_correlation_mss(z, loc, scale, log_weights)
    return VAELoss(rec + kl_weight * kl + beta * tc, rec, kl, tc)


def wasserstein_critic_loss(d_real: ArrayLike, d_fake: ArrayLike) -> jax.Array:
    """Critic part of the WGAN loss, ``mean D(x_real) - mean D(G(z))`` (real cells get low scores).

    Parameters
    ----------
    d_real, d_fake
        Critic outputs ``[B]`` on real and generated cells.
    """
    return jnp.mean(jnp.asarray(d_real)) - jnp.mean(jnp.asarray(d_fake))


def wasserstein_generator_loss(d_fake: ArrayLike) -> jax.Array:
    """Generator loss ``mean D(G(z))`` (spec §3.3): the generator pushes its scores down to the real ones.

    Parameters
    ----------
    d_fake
        Critic outputs ``[B]`` on generated cells.
    """
    return jnp.mean(jnp.asarray(d_fake))


def interpolate(x_real: ArrayLike, x_fake: ArrayLike, eps: ArrayLike) -> jax.Array:
    """Gradient-penalty interpolate ``x_hat = eps * x_real + (1 - eps) * x_fake``.

    Parameters
    ----------
    x_real, x_fake
        ``[B, G]``.
    eps
        A scalar (one ε per batch, the original code) or ``[B, 1]`` (one per sample, Gulrajani et al.).
    """
    eps = jnp.asarray(eps)
    return eps * jnp.asarray(x_real) + (1.0 - eps) * jnp.asarray(x_fake)


def gradient_penalty(grads: ArrayLike) -> jax.Array:
    """``GP = mean_i (||g_i||_2 - 1)^2`` for the critic's input gradients ``g`` ``[B, G]``.

    ``g`` is the gradient of the *summed* critic output of one call on the whole interpolated batch, so
    with batch-statistics BatchNorm each ``g_i`` includes the cross-sample terms (spec §3.3).

    Notes
    -----
    ``||g||`` is ``sqrt(sum g^2 + 1e-12)``: the tiny constant keeps the gradient of the norm finite at
    ``g = 0``; the original code has none (its effect on the value is below 1e-6).
    """
    grads = jnp.asarray(grads)
    norms = jnp.sqrt(jnp.sum(jnp.square(grads), axis=-1) + GRAD_NORM_EPS)
    return jnp.mean(jnp.square(norms - 1.0))


def info_mutual_information(code: ArrayLike, q_mean: ArrayLike) -> jax.Array:
    """InfoGAN's lower bound on I(c; G(c, n)) without H(c) (spec §3.4).

    ``MI = (1/B) sum_i sum_k log N(c_ik; Q_mu,k(G(c_i, n_i)), 1)``, the unit-variance Q of the paper
    (``fix_std=True``). It is subtracted, times ``lambda_MI``, from both the critic and generator losses.

    Parameters
    ----------
    code
        The generator's input codes ``[B, K]``.
    q_mean
        Q head means on the generated cells ``[B, K]``.
    """
    return jnp.mean(jnp.sum(gaussian_log_density(code, q_mean, 1.0), axis=-1))
