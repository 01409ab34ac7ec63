"""Train, save, load and use the representation models: PPCA, VAE and β-TCVAE.

``train_representation`` fits a model to a ``[cells, genes]`` matrix and writes a model directory
(:mod:`michigan.train.artifacts`); ``load_representation`` returns a :class:`TrainedRepresentation` that
encodes cells (posterior mean, log standard deviation, one sample), decodes codes and reconstructs cells.
The VAE "generation" of the original code (spec §2.1, §8 item 7) is :meth:`TrainedRepresentation.reconstruct`:
the decoder mean of a posterior sample plus unit Gaussian noise per gene.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from michigan.config import RepresentationConfig, as_dict, from_mapping
from michigan.models.layers import BlockOptions
from michigan.models.ppca import PPCAFit, fit_ppca, ppca_decode, ppca_posterior
from michigan.train.artifacts import (
    as_float32_matrix,
    digest,
    read_model_dir,
    split_cells,
    write_model_dir,
)
from michigan.train.loop import ProgressHook
from michigan.train.run import config_fingerprint, fit_and_save, map_in_batches
from michigan.train.sampling import check_sampler
from michigan.train.vae import VAEData, VAETask

logger = logging.getLogger(__name__)

RepresentationModel = Literal["ppca", "vae", "btcvae"]
REPRESENTATION_MODELS: tuple[str, ...] = ("ppca", "vae", "btcvae")
KIND = "representation"


class Codes(NamedTuple):
    """Codes of cells: posterior mean, log standard deviation and one posterior sample, each ``[cells, K]``."""

    mean: np.ndarray
    logsigma: np.ndarray
    sample: np.ndarray


def representation_task(
    config: RepresentationConfig, *, model: str, n_genes: int, n_train: int
) -> VAETask:
    """The compiled-epoch task of ``model`` (``"vae"``: β forced to 0; ``"btcvae"``: ``config.beta``)."""
    if model not in ("vae", "btcvae"):
        msg = f"iterative representation models are 'vae' and 'btcvae', got {model!r}"
        raise ValueError(msg)
    options = BlockOptions(config.bn_mode, config.dropout_rate, config.dropout_active)
    return VAETask(
        name=model,
        n_genes=n_genes,
        latent_dim=config.latent_dim,
        encoder_hidden=tuple(config.encoder_hidden),
        decoder_hidden=tuple(config.decoder_hidden),
        options=options,
        batch_size=config.batch_size,
        n_train=n_train,
        beta=0.0 if model == "vae" else float(config.beta),
        kl_weight=float(config.kl_weight),
        learning_rate=float(config.learning_rate),
        adam_b1=float(config.adam_b1),
        adam_b2=float(config.adam_b2),
        sampler=config.sampler,
    )


def train_representation(
    x: Any,
    config: RepresentationConfig,
    *,
    model: RepresentationModel,
    seed: int,
    out_dir: str | Path,
    checkpoint_dir: str | Path | None = None,
    keep_checkpoint: bool = False,
    on_progress: ProgressHook | None = None,
) -> Path:
    """Fit a representation model to ``x`` and save it to ``out_dir``.

    Parameters
    ----------
    x
        Expression matrix ``[cells, genes]`` (converted to float32; sparse is densified).
    config
        The ``representation`` section (``beta`` applies to ``btcvae`` only; the VAE uses 0).
    model
        ``"ppca"`` (closed form on all cells; the network, optimiser, epoch and validation
        settings are unused), ``"vae"`` or ``"btcvae"``.
    seed
        Seeds the validation split, initialisation and every random draw of training.
    out_dir
        The model directory to write (``model.json``, ``variables.msgpack``, ``history.json``).
    checkpoint_dir
        Where the training checkpoint lives (default ``out_dir/checkpoint``). An interrupted run called
        again with the same arguments resumes from it bit-identically; a call whose settings, seed,
        ``epochs`` or data differ is refused (:class:`~michigan.train.checkpoint.CheckpointError`).
        It is locked while the run lasts: a second run on it fails with
        :class:`~michigan.io.BusyError`. Put it outside ``out_dir`` if a workflow manager deletes the
        outputs of failed jobs.
    keep_checkpoint
        Keep the checkpoint after success (default: remove it).
    on_progress
        Called with a :class:`~michigan.train.loop.TrainingProgress` when compilation starts and ends
        and after every chunk (e.g. to drive a ``tqdm`` bar).

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ValueError
        Unknown model, bad matrix, too few cells for a batch, or a checkpoint that is corrupt or of
        another run (:class:`~michigan.train.checkpoint.CheckpointError`).
    michigan.train.loop.NonFiniteLossError
        If a loss becomes NaN/Inf (the last good checkpoint is kept).
    """
    if model not in REPRESENTATION_MODELS:
        msg = f"representation model must be one of {REPRESENTATION_MODELS}, got {model!r}"
        raise ValueError(msg)
    matrix = as_float32_matrix(x, name="expression matrix x")
    n_cells, n_genes = matrix.shape
    info = {
        "model": model,
        "kind": KIND,
        "config": as_dict(config),
        "seed": seed,
        "n_cells": n_cells,
        "n_genes": n_genes,
        "latent_dim": config.latent_dim,
    }
    if model == "ppca":
        fit = fit_ppca(matrix, config.latent_dim)
        info |= {"n_train": n_cells, "epochs_done": 0, "stopped_early": False}
        return write_model_dir(out_dir, info=info, variables=dataclasses.asdict(fit), history={})
    train_rows, valid_rows = split_cells(n_cells, config.validation_fraction, seed)
    check_sampler(config.sampler, train_rows.size, config.batch_size)
    task = representation_task(config, model=model, n_genes=n_genes, n_train=train_rows.size)
    train_data = VAEData(jnp.asarray(matrix[train_rows]))
    valid_data = VAEData(jnp.asarray(matrix[valid_rows])) if valid_rows.size else None
    fingerprint = {"model": model, "config": config_fingerprint(config), "data": digest(matrix)}
    info |= {"n_train": int(train_rows.size), "n_valid": int(valid_rows.size)}
    return fit_and_save(
        task,
        train_data,
        valid_data,
        config=config,
        seed=seed,
        out_dir=out_dir,
        checkpoint_dir=checkpoint_dir,
        keep_checkpoint=keep_checkpoint,
        on_progress=on_progress,
        fingerprint=fingerprint,
        info=info,
        variables_of=lambda s: {"params": s.params, "batch_stats": s.batch_stats},
    )


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedRepresentation:
    """A loaded representation model (:func:`load_representation`).

    Attributes
    ----------
    model
        ``"ppca"``, ``"vae"`` or ``"btcvae"``.
    config
        Its configuration section.
    n_genes, latent_dim
        ``G`` and ``K``.
    variables
        Network variables (VAE) or the :class:`~michigan.models.ppca.PPCAFit` (PPCA).
    info
        The contents of ``model.json``.
    """

    model: str
    config: RepresentationConfig
    n_genes: int
    latent_dim: int
    variables: Any
    info: dict[str, Any]

    def posterior(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation ``[cells, K]`` of ``x`` ``[cells, G]`` (inference mode)."""
        matrix = as_float32_matrix(x, name="expression matrix x", columns=self.n_genes)
        if self.model == "ppca":
            mean, std = ppca_posterior(self.variables, matrix, posterior=self.config.ppca_posterior)
            return mean.astype(np.float32), std.astype(np.float32)
        loc, scale = map_in_batches(functools.partial(self._encode_fn, self.variables), matrix)
        return loc, scale

    def encode(self, x: Any, *, seed: int) -> Codes:
        """Posterior mean, log standard deviation and one sample ``mean + std * N(0, 1)`` per cell.

        Parameters
        ----------
        x
            Expression ``[cells, G]``.
        seed
            Seeds the posterior sample.
        """
        mean, std = self.posterior(x)
        noise = np.random.default_rng(seed).standard_normal(mean.shape).astype(np.float32)
        return Codes(mean, np.log(std), mean + std * noise)

    def decode(self, z: Any, *, seed: int | None) -> np.ndarray:
        """Decode codes ``[cells, K]`` to expression ``[cells, G]``.

        With ``seed=None`` the decoder mean (VAE) or ``z C + mu`` (PPCA) is returned; with a seed, the
        model's observation noise is added: unit Gaussian noise per gene for the VAE (the original
        code's generated data, spec §2.1), the PPCA noise of :mod:`michigan.models.ppca`.
        """
        codes = as_float32_matrix(z, name="codes z", columns=self.latent_dim)
        rng = None if seed is None else np.random.default_rng(seed)
        if self.model == "ppca":
            out = ppca_decode(self.variables, codes, posterior=self.config.ppca_posterior, rng=rng)
            return out.astype(np.float32)
        mean = map_in_batches(functools.partial(self._decode_fn, self.variables), codes)
        if rng is None:
            return mean
        return mean + rng.standard_normal(mean.shape).astype(np.float32)

    def reconstruct(self, x: Any, *, seed: int) -> np.ndarray:
        """The original's VAE "generation": decode one posterior sample per cell, plus observation noise."""
        sample_seed, noise_seed = np.random.SeedSequence(seed).generate_state(2)
        return self.decode(self.encode(x, seed=int(sample_seed)).sample, seed=int(noise_seed))

    @functools.cached_property
    def _task(self) -> VAETask:
        return representation_task(
            self.config, model=self.model, n_genes=self.n_genes, n_train=self.info["n_train"]
        )

    @functools.cached_property
    def _encode_fn(self) -> Any:
        module = self._task.module
        return jax.jit(lambda variables, x: tuple(module.apply(variables, x, method="encode")))

    @functools.cached_property
    def _decode_fn(self) -> Any:
        module = self._task.module
        return jax.jit(lambda variables, z: module.apply(variables, z, method="decode"))


def load_representation(model_dir: str | Path) -> TrainedRepresentation:
    """Load a model directory written by :func:`train_representation`."""
    info, variables = read_model_dir(model_dir, kind=KIND)
    config = from_mapping(RepresentationConfig, info["config"])
    if info["model"] == "ppca":
        variables = PPCAFit(
            mean=np.asarray(variables["mean"]),
            components=np.asarray(variables["components"]),
            explained_variance=np.asarray(variables["explained_variance"]),
            noise_variance=float(variables["noise_variance"]),
        )
    return TrainedRepresentation(
        info["model"], config, info["n_genes"], info["latent_dim"], variables, info
    )
