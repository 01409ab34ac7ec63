"""Generators on AnnData: :class:`WGANGP`, :class:`InfoWGANGP`, :class:`CWGANGP` and :class:`MichiGAN`.

The conditional generators (CWGAN-GP, MichiGAN) are conditioned, as in the paper and the pipeline, on
the codes of a trained representation model: each training cell's posterior mean (``codes="mean"``) or
a fresh posterior sample every minibatch (``codes="sampled"``). Generating then feeds each cell's code
(mean or one posterior sample) to the generator, so a generated cell is the counterpart of the real
cell whose code it got and carries that cell's ``obs`` labels. The unconditional ones (WGAN-GP,
InfoWGAN-GP) need no representation and draw their inputs from noise.

Keyword hyperparameters are the keys of the config's ``generator`` section, with its defaults;
MichiGAN's projection critic's last width (``critic_hidden[-1]``) follows the representation's
``latent_dim`` unless ``critic_hidden`` is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from michigan.api.cells import conditioning_codes, generated_anndata, provenance
from michigan.api.model import Model
from michigan.api.representation import Representation
from michigan.train import load_generator, train_generator
from michigan.train.generator import CODE_MODES, generator_task, is_conditional

if TYPE_CHECKING:
    from pathlib import Path

    import anndata as ad

    from michigan.train import Codes

CodeMode = Literal["mean", "sampled"]


class Generator(Model):
    """A Wasserstein GAN with gradient penalty that generates cells.

    Parameters
    ----------
    adata
        Training cells ``[cells, genes]``.
    representation
        Trained representation model whose codes condition the generator (conditional generators
        only; the same genes as ``adata``).
    codes
        Conditional generators: ``"mean"`` (posterior means) or ``"sampled"`` (a fresh posterior
        sample every minibatch, and posterior samples when generating).
    layer
        Read ``adata.layers[layer]`` instead of ``adata.X``.
    **hyperparameters
        Keys of the config's ``generator`` section, e.g. ``noise_dim=118, n_critic=5``.

    Raises
    ------
    ValueError
        A conditional generator without a trained representation or code mode, an unconditional one
        with them, or a MichiGAN ``critic_hidden`` whose last width differs from ``latent_dim``.
    """

    section = "generator"

    def __init__(
        self,
        adata: ad.AnnData,
        *,
        representation: Representation | None = None,
        codes: CodeMode | None = None,
        layer: str | None = None,
        **hyperparameters: Any,
    ):
        super().__init__(adata, layer=layer, **hyperparameters)
        self._condition(representation, codes)
        condition_dim = representation.latent_dim if representation is not None else 0
        generator_task(
            self.config, model=self.model, n_genes=adata.n_vars, condition_dim=condition_dim
        )

    @classmethod
    def from_config(
        cls,
        adata: ad.AnnData,
        config: Any,
        *,
        layer: str | None = None,
        representation: Representation | None = None,
        codes: CodeMode | None = None,
        cell_codes: Codes | None = None,
    ) -> Generator:
        """A generator with a whole validated ``generator`` config section (the pipeline's route).

        ``cell_codes`` (the cells' codes, e.g. read from the pipeline's codes file) condition a
        conditional generator in place of a ``representation``'s.
        """
        model = super().from_config(adata, config, layer=layer)
        model._condition(representation, codes)
        model._cell_codes = cell_codes
        return model

    def _condition(self, representation: Representation | None, codes: CodeMode | None) -> None:
        if not self.conditional:
            if representation is not None or codes is not None:
                msg = (
                    f"{type(self).__name__} is unconditional: give neither representation nor codes"
                )
                raise ValueError(msg)
        elif codes not in CODE_MODES:
            msg = f"{type(self).__name__} is conditional: give codes='mean' or 'sampled', got {codes!r}"
            raise ValueError(msg)
        if representation is not None:
            representation.trained  # noqa: B018  (raises if it is untrained)
            if list(representation.genes) != list(self.genes):
                msg = (
                    f"the representation was trained on other genes than the {type(self).__name__}"
                )
                raise ValueError(msg)
        self.representation = representation
        self.codes = codes
        self._cell_codes: Codes | None = None

    def _loaded(self, representation: Representation | None = None) -> None:
        self._condition(representation, self.trained.info.get("codes"))

    @property
    def conditional(self) -> bool:
        """Whether the generator is conditioned on codes."""
        return is_conditional(self.model)

    def _fit(self, x: Any, config: Any, **kwargs: Any) -> Path:
        mean = logsigma = None
        if self.conditional:
            codes = self._cell_codes
            if codes is None:
                if self.representation is None:
                    msg = f"{type(self).__name__} needs a trained representation= to train on"
                    raise ValueError(msg)
                codes = self.representation.encode(self.adata, seed=kwargs["seed"])
            mean, logsigma = codes.mean, codes.logsigma
        return train_generator(
            x, config, codes=self.codes, code_mean=mean, code_logsigma=logsigma, **kwargs
        )

    def _read(self, model_dir: Path) -> Any:
        return load_generator(model_dir)

    def decode(self, codes: Any, seed: int) -> np.ndarray:
        """Cells ``[cells, genes]`` generated from given codes ``[cells, code_dim]`` and fresh noise."""
        return self.trained.generate(seed=seed, codes=codes).x

    def generate(
        self, adata: ad.AnnData | None = None, *, seed: int = 0, codes: Any = None
    ) -> ad.AnnData:
        """One generated cell per cell of ``adata`` (default: the training cells), same genes.

        Parameters
        ----------
        adata
            The cells to mirror: a conditional generator is fed their codes (posterior means, or
            one posterior sample each with ``codes="sampled"``) and the result carries their
            ``obs``; an unconditional one makes ``adata.n_obs`` cells from noise.
        seed
            Seeds the noise (and the posterior samples): the same seed gives the same cells.
        codes
            ``[cells, code_dim]`` codes to feed instead of the representation's (e.g. a codes file
            of the pipeline).

        Returns
        -------
        anndata.AnnData
            See :mod:`michigan.api.cells`.
        """
        adata = self.adata if adata is None else adata
        self.expression(adata)  # the same genes
        if self.conditional and codes is None:
            codes = self._conditioning_codes(adata, seed=seed)
        generated = self.trained.generate(seed=seed, codes=codes, n_cells=adata.n_obs)
        uns = provenance(
            self.model,
            settings=self.settings(),
            seed=seed,
            training_seed=self.seed,
            codes=self.codes,
            representation=None if self.representation is None else self.representation.model,
        )
        obs = adata.obs if self.conditional else None
        return generated_anndata(
            generated.x, reference=adata, obs=obs, code=generated.code, uns=uns
        )

    def _conditioning_codes(self, adata: ad.AnnData, *, seed: int) -> np.ndarray:
        if self.representation is None:
            msg = f"{type(self).__name__} needs representation= (or codes=) to generate"
            raise ValueError(msg)
        sample_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
        encoded = self.representation.encode(adata, seed=sample_seed)
        return conditioning_codes(encoded, self.codes)


class WGANGP(Generator):
    """WGAN-GP from noise (``wgan_noise_dim`` inputs)."""

    model = "wgan_gp"


class InfoWGANGP(Generator):
    """InfoWGAN-GP: a Q head on the critic features recovers the ``info_code_dim`` code."""

    model = "infowgan_gp"


class CWGANGP(Generator):
    """Conditional WGAN-GP: the code is concatenated to the critic's input."""

    model = "cwgan_gp"


class MichiGAN(Generator):
    """MichiGAN: projection critic ``w.h + b + <y, h>`` conditioned on the representation's codes."""

    model = "michigan"
