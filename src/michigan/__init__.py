"""MichiGAN reproduction pipeline, and its Python API on AnnData (:mod:`michigan.api`, docs/api.md).

The API's names (``michigan.BetaTCVAE``, ``michigan.MichiGAN``, ...) are imported on first use, so
that ``import michigan`` and the ``michigan`` command stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_API = (
    "BetaTCVAE",
    "CWGANGP",
    "Generator",
    "InfoWGANGP",
    "MichiGAN",
    "Model",
    "PPCA",
    "Representation",
    "VAE",
    "WGANGP",
    "evaluate_disentanglement",
    "predict_combination",
    "unscale",
)

__all__ = list(_API)


def __getattr__(name: str) -> Any:
    """Import the API lazily (PEP 562)."""
    if name in _API:
        return getattr(importlib.import_module("michigan.api"), name)
    msg = f"module 'michigan' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
