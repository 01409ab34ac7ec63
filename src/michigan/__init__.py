"""MichiGAN reproduction pipeline, and its Python API on AnnData (:mod:`michigan.api`, docs/api.md).

The API's names (``michigan.BetaTCVAE``, ``michigan.MichiGAN``, ...) are imported on first use, so
that ``import michigan`` and the ``michigan`` command stay fast.
"""

from __future__ import annotations

from typing import Any

from michigan import api  # its names are imported on first use

__all__ = list(api.__all__)


def __getattr__(name: str) -> Any:
    """The API's names (PEP 562), imported from :mod:`michigan.api` on first use."""
    if name in api.__all__:
        return getattr(api, name)
    msg = f"module 'michigan' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
