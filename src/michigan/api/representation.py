"""Representation models on AnnData: :class:`PPCA`, :class:`VAE` and :class:`BetaTCVAE`.

Keyword hyperparameters are the keys of the config's ``representation`` section, with its defaults
(``Representation.hyperparameters()`` lists them; docs/models.md explains them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from michigan.api.cells import generated_anndata, provenance
from michigan.api.model import Model
from michigan.train import load_representation, train_representation

if TYPE_CHECKING:
    from pathlib import Path

    import anndata as ad

    from michigan.train import Codes


class Representation(Model):
    """A representation model: encodes cells to codes and decodes codes to cells.

    Parameters
    ----------
    adata
        Training cells ``[cells, genes]`` (the preprocessed values, e.g. z-scored log-normalised).
    layer
        Read ``adata.layers[layer]`` instead of ``adata.X``.
    **hyperparameters
        Keys of the config's ``representation`` section, e.g. ``latent_dim=10, beta=100``; the
        others keep the schema's defaults.
    """

    section = "representation"

    def _fit(self, x: Any, config: Any, **kwargs: Any) -> Path:
        return train_representation(x, config, **kwargs)

    def _read(self, model_dir: Path) -> Any:
        return load_representation(model_dir)

    @property
    def latent_dim(self) -> int:
        """Dimension K of the codes."""
        return int(self.config.latent_dim)

    def encode(self, adata: ad.AnnData | None = None, *, seed: int = 0) -> Codes:
        """Posterior means, log standard deviations and one posterior sample per cell, each ``[cells, K]``.

        ``adata`` defaults to the training cells; ``seed`` seeds the sample.
        """
        adata = self.adata if adata is None else adata
        return self.trained.encode(self.expression(adata), seed=seed)

    def get_latent_representation(
        self,
        adata: ad.AnnData | None = None,
        *,
        kind: Literal["mean", "sample"] = "mean",
        seed: int = 0,
    ) -> np.ndarray:
        """Codes ``[cells, K]`` of the cells of ``adata`` (default: the training cells).

        Parameters
        ----------
        kind
            ``"mean"``: posterior means; ``"sample"``: one posterior draw per cell.
        seed
            Seeds the draws of ``kind="sample"``.
        """
        if kind not in ("mean", "sample"):
            msg = f"kind must be 'mean' or 'sample', got {kind!r}"
            raise ValueError(msg)
        codes = self.encode(adata, seed=seed)
        return codes.mean if kind == "mean" else codes.sample

    def decode(self, codes: Any, seed: int | None = None) -> np.ndarray:
        """Decode codes ``[cells, K]`` to cells ``[cells, genes]``.

        Without a seed the decoder mean; with one, plus the model's observation noise (unit
        Gaussian noise per gene for the VAEs), as the pipeline's predictions decode.
        """
        return self.trained.decode(codes, seed=seed)

    def generate(self, adata: ad.AnnData | None = None, *, seed: int = 0) -> ad.AnnData:
        """One reconstructed cell per cell of ``adata`` (default: the training cells).

        The original code's VAE "generation": each cell's posterior sample decoded, plus
        observation noise. The result carries the cells' ``obs`` (see :mod:`michigan.api.cells`).
        """
        adata = self.adata if adata is None else adata
        x = self.trained.reconstruct(self.expression(adata), seed=seed)
        uns = provenance(self.model, settings=self.settings(), seed=seed, training_seed=self.seed)
        return generated_anndata(x, reference=adata, obs=adata.obs, code=None, uns=uns)


class PPCA(Representation):
    """Probabilistic PCA in closed form (``latent_dim`` and ``ppca_posterior`` apply)."""

    model = "ppca"


class VAE(Representation):
    """Gaussian VAE: the β-TCVAE loss with β = 0 (``beta`` is ignored)."""

    model = "vae"


class BetaTCVAE(Representation):
    """β-TCVAE: VAE loss + β · total correlation (minibatch-stratified), the paper's encoder."""

    model = "btcvae"
