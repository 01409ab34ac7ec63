"""Metrics of the MichiGAN paper and of perturbation prediction, exact to their references.

Pure functions of arrays (``[cells, genes]`` or ``[cells, latents]``), plus the families in
:mod:`michigan.metrics.evaluate` that record each value with its convention for
``metrics.json`` and readers of AnnData codes and factors.
"""

from __future__ import annotations

from michigan.metrics.adata import read_codes, read_factors
from michigan.metrics.correlation import infer_factors_knn, spearman_gap, spearman_matrix
from michigan.metrics.evaluate import (
    LatentCodes,
    MetricEntry,
    evaluate_disentanglement,
    evaluate_generation,
    evaluate_generator_disentanglement,
    evaluate_prediction,
)
from michigan.metrics.factor_vae import (
    FactorVAEDraws,
    FactorVAEResult,
    factor_vae_score,
    factor_vae_votes,
    sample_factor_vae_draws,
)
from michigan.metrics.generation import (
    InceptionScore,
    RandomForestError,
    inception_score,
    rf_error,
    rf_inception_score,
)
from michigan.metrics.latent_entropy import delta_h, latent_entropy
from michigan.metrics.mig import (
    MIG_CONVENTIONS,
    GaussianEntropies,
    discrete_mig,
    gaussian_entropies,
    gaussian_mig,
    mig_from_normalized_mi,
)
from michigan.metrics.perturbation import CPA_MMD_ALPHAS, e_distance, mmd, r2_mean

__all__ = [
    "CPA_MMD_ALPHAS",
    "MIG_CONVENTIONS",
    "FactorVAEDraws",
    "FactorVAEResult",
    "GaussianEntropies",
    "InceptionScore",
    "LatentCodes",
    "MetricEntry",
    "RandomForestError",
    "delta_h",
    "discrete_mig",
    "e_distance",
    "evaluate_disentanglement",
    "evaluate_generation",
    "evaluate_generator_disentanglement",
    "evaluate_prediction",
    "factor_vae_score",
    "factor_vae_votes",
    "gaussian_entropies",
    "gaussian_mig",
    "inception_score",
    "infer_factors_knn",
    "latent_entropy",
    "mig_from_normalized_mi",
    "mmd",
    "r2_mean",
    "read_codes",
    "read_factors",
    "rf_error",
    "rf_inception_score",
    "sample_factor_vae_draws",
    "spearman_gap",
    "spearman_matrix",
]
