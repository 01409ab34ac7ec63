"""The Python API: scvi-tools-like models on AnnData, in and out.

>>> import michigan as mg
>>> rep = mg.BetaTCVAE(adata, latent_dim=10, beta=10).train(epochs=200, seed=0)
>>> adata.obsm["X_btcvae"] = rep.get_latent_representation(adata)
>>> gen = mg.MichiGAN(adata, representation=rep, codes="sampled").train(epochs=100, seed=0)
>>> fake = gen.generate(adata, seed=0)

See docs/api.md.
"""

from __future__ import annotations

import importlib
from typing import Any

#: every name of the API and the submodule that defines it, imported on first use (PEP 562), so
#: that a pipeline stage importing one submodule does not pay for the others (scikit-learn, ...)
_DEFINED_IN = {
    "unscale": "cells",
    "evaluate_disentanglement": "evaluate",
    "CWGANGP": "generator",
    "WGANGP": "generator",
    "Generator": "generator",
    "InfoWGANGP": "generator",
    "MichiGAN": "generator",
    "Model": "model",
    "predict_combination": "predict",
    "PPCA": "representation",
    "VAE": "representation",
    "BetaTCVAE": "representation",
    "Representation": "representation",
}

__all__ = sorted(_DEFINED_IN)


def __getattr__(name: str) -> Any:
    """Import an API name from its submodule on first use (PEP 562)."""
    if name in _DEFINED_IN:
        return getattr(importlib.import_module(f"michigan.api.{_DEFINED_IN[name]}"), name)
    msg = f"module 'michigan.api' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
