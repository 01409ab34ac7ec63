"""The Python API: scvi-tools-like models on AnnData, in and out.

>>> import michigan as mg
>>> rep = mg.BetaTCVAE(adata, latent_dim=10, beta=10).train(epochs=200, seed=0)
>>> adata.obsm["X_btcvae"] = rep.get_latent_representation(adata)
>>> gen = mg.MichiGAN(adata, representation=rep, codes="sampled").train(epochs=100, seed=0)
>>> fake = gen.generate(adata, seed=0)

See docs/api.md.
"""

from __future__ import annotations

from michigan.api.cells import unscale
from michigan.api.evaluate import evaluate_disentanglement
from michigan.api.generator import CWGANGP, WGANGP, Generator, InfoWGANGP, MichiGAN
from michigan.api.model import Model
from michigan.api.predict import predict_combination
from michigan.api.representation import PPCA, VAE, BetaTCVAE, Representation

__all__ = [
    "CWGANGP",
    "PPCA",
    "VAE",
    "WGANGP",
    "BetaTCVAE",
    "Generator",
    "InfoWGANGP",
    "MichiGAN",
    "Model",
    "Representation",
    "evaluate_disentanglement",
    "predict_combination",
    "unscale",
]
