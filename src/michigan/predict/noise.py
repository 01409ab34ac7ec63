"""Observation-noise arms of the representation model's decoder in the held-out experiment.

The original code turns beta-TCVAE codes into cells by adding unit Gaussian noise per gene to the
decoder mean (shared spec §2.1, §8 item 7). On log-normalised expression that noise is larger than
most genes' own spread, so a random forest tells such cells from real ones whatever the arithmetic
did, and the paper's comparison with MichiGAN partly measures the noise convention. The held-out
experiment therefore decodes every prediction in three arms (docs/prediction.md):

- ``unit`` (named like the model, the paper's convention): the model's own observation noise,
  N(0, 1) per gene for the VAEs;
- ``none``: the decoder mean;
- ``spread``: the decoder mean plus N(0, s_g^2) per gene, with s_g the gene's residual spread
  around the decoder mean on the training cells (:func:`gene_spread`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    #: ``decode(codes [cells, K], seed or None) -> [cells, genes]``; ``None``: the decoder mean
    Decode = Callable[[np.ndarray, int | None], np.ndarray]

#: arm -> suffix of its decoder name (the paper's arm keeps the model's name)
NOISE_ARMS = {"unit": "", "none": "_none", "spread": "_spread"}


def arm_name(model: str, arm: str) -> str:
    """Decoder name of a noise arm: ``btcvae``, ``btcvae_none``, ``btcvae_spread``."""
    if arm not in NOISE_ARMS:
        msg = f"unknown noise arm {arm!r}; known: {sorted(NOISE_ARMS)}"
        raise ValueError(msg)
    return model + NOISE_ARMS[arm]


def gene_spread(x: ArrayLike, decoded_mean: ArrayLike) -> np.ndarray:
    """Per-gene standard deviation (ddof 1) of the cells around their decoder means.

    Parameters
    ----------
    x
        ``[cells, genes]`` training cells (never a held-out one), dense or sparse.
    decoded_mean
        ``[cells, genes]`` the decoder mean of each cell's posterior mean code.

    Returns
    -------
    np.ndarray
        ``[genes]`` s_g, the noise scale of the ``spread`` arm.
    """
    cells = x.toarray() if scipy.sparse.issparse(x) else x
    residual = np.asarray(cells, dtype=np.float64) - np.asarray(decoded_mean, dtype=np.float64)
    if residual.ndim != 2 or residual.shape[0] < 2:
        msg = f"need [cells >= 2, genes] cells and decoder means, got shape {residual.shape}"
        raise ValueError(msg)
    return residual.std(axis=0, ddof=1)


def noise_arms(decode: Decode, *, model: str, spread: ArrayLike) -> dict[str, Decode]:
    """The three decoders of :data:`NOISE_ARMS` built on one model's ``decode``.

    Parameters
    ----------
    decode
        ``decode(codes, seed)``: with a seed the model's own observation noise is added, with
        ``None`` the decoder mean is returned (:meth:`TrainedRepresentation.decode`).
    model
        Name of the model (``"btcvae"``): the ``unit`` arm's decoder name.
    spread
        ``[genes]`` s_g of the ``spread`` arm (:func:`gene_spread`).

    Returns
    -------
    dict
        Decoder name -> ``decode(codes, seed) -> [cells, genes]``.
    """
    scale = np.asarray(spread, dtype=np.float64)
    if scale.ndim != 1 or (scale < 0).any() or not np.isfinite(scale).all():
        msg = f"spread must be a 1-d array of finite non-negative scales, got shape {scale.shape}"
        raise ValueError(msg)

    def spread_matched(codes: np.ndarray, seed: int | None) -> np.ndarray:
        mean = np.asarray(decode(codes, None), dtype=np.float64)
        if mean.shape[1] != scale.size:
            msg = f"decoder gives {mean.shape[1]} genes but spread has {scale.size}"
            raise ValueError(msg)
        return mean + scale * np.random.default_rng(seed).standard_normal(mean.shape)

    return {
        arm_name(model, "unit"): decode,
        arm_name(model, "none"): lambda codes, seed: decode(codes, None),
        arm_name(model, "spread"): spread_matched,
    }
