"""Flax networks and pure loss functions of the representation models and the generators."""

from __future__ import annotations

from michigan.models.gan import Critic, CriticOutput, Generator
from michigan.models.layers import BlockOptions, HiddenBlock, glorot_dense
from michigan.models.losses import (
    VAELoss,
    beta_tcvae_loss,
    gaussian_log_density,
    gradient_penalty,
    info_mutual_information,
    interpolate,
    kl_monte_carlo,
    mss_log_weights,
    reconstruction_nll,
    total_correlation_mss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from michigan.models.ppca import PPCAFit, fit_ppca, ppca_decode, ppca_posterior
from michigan.models.vae import VAE, Decoder, Encoder, Posterior, VAEOutput

__all__ = [
    "VAE",
    "BlockOptions",
    "Critic",
    "CriticOutput",
    "Decoder",
    "Encoder",
    "Generator",
    "HiddenBlock",
    "PPCAFit",
    "Posterior",
    "VAELoss",
    "VAEOutput",
    "beta_tcvae_loss",
    "fit_ppca",
    "gaussian_log_density",
    "glorot_dense",
    "gradient_penalty",
    "info_mutual_information",
    "interpolate",
    "kl_monte_carlo",
    "mss_log_weights",
    "ppca_decode",
    "ppca_posterior",
    "reconstruction_nll",
    "total_correlation_mss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
