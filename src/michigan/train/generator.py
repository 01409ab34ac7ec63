"""Train, save, load and sample the generators: WGAN-GP, InfoWGAN-GP, CWGAN-GP and MichiGAN.

``train_generator`` trains on a ``[cells, genes]`` matrix and, for the conditional models, the cells'
codes: the posterior means (``codes="mean"``) or the posterior means and log standard deviations
(``codes="sampled"``: a fresh posterior sample for every minibatch). ``load_generator`` returns a
:class:`TrainedGenerator` whose :meth:`~TrainedGenerator.generate` makes cells from codes or from noise.

The generator's *code* is its first input block: the condition for CWGAN-GP and MichiGAN, the InfoGAN
code ``c`` for InfoWGAN-GP and the whole noise vector for WGAN-GP. The remaining inputs are fresh
standard-normal noise.
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

from michigan.config import GeneratorConfig, as_dict, from_mapping
from michigan.models.layers import BlockOptions
from michigan.train.artifacts import as_float32_matrix, digest, read_model_dir, split_cells
from michigan.train.gan import CONDITIONING, GAN_KINDS, GANData, GANTask
from michigan.train.loop import ProgressHook
from michigan.train.run import config_fingerprint, fit_and_save, map_in_batches
from michigan.train.sampling import check_sampler

logger = logging.getLogger(__name__)

GeneratorModel = Literal["wgan_gp", "infowgan_gp", "cwgan_gp", "michigan"]
GENERATOR_MODELS: tuple[str, ...] = GAN_KINDS
CodeMode = Literal["mean", "sampled"]
CODE_MODES: tuple[str, ...] = ("mean", "sampled")
KIND = "generator"


def is_conditional(model: str) -> bool:
    """Whether ``model`` is trained on (and generates from) given codes."""
    return CONDITIONING[model] != "none"


def code_and_noise_dims(config: GeneratorConfig, model: str, condition_dim: int) -> tuple[int, int]:
    """``(code_dim, noise_dim)`` of the generator input (see the module docstring)."""
    if model == "wgan_gp":
        return config.wgan_noise_dim, 0
    if model == "infowgan_gp":
        return config.info_code_dim, config.noise_dim
    return condition_dim, config.noise_dim


#: the critic's hidden widths before its feature layer when ``critic_hidden`` is null
DEFAULT_CRITIC_WIDTHS = (1024, 512)


def critic_widths(config: GeneratorConfig, code_dim: int) -> tuple[int, ...]:
    """The critic's hidden widths: ``critic_hidden``, or by default ``(1024, 512, code_dim)``.

    The default's last width follows the code dimension, so MichiGAN's projection always fits.
    """
    if config.critic_hidden is None:
        return (*DEFAULT_CRITIC_WIDTHS, code_dim)
    return tuple(config.critic_hidden)


def generator_task(
    config: GeneratorConfig, *, model: str, n_genes: int, condition_dim: int = 0
) -> GANTask:
    """The compiled-epoch task of ``model`` (``condition_dim``: ``K`` of the conditional models)."""
    code_dim, noise_dim = code_and_noise_dims(config, model, condition_dim)
    return GANTask(
        name=model,
        n_genes=n_genes,
        code_dim=code_dim,
        noise_dim=noise_dim,
        generator_hidden=tuple(config.generator_hidden),
        critic_hidden=critic_widths(config, code_dim),
        generator_options=BlockOptions(config.bn_mode, config.dropout_rate, config.dropout_active),
        critic_bn_mode=config.critic_bn_mode,
        batch_size=config.batch_size,
        n_critic=config.n_critic,
        learning_rate=float(config.learning_rate),
        adam_b1=float(config.adam_b1),
        adam_b2=float(config.adam_b2),
        gp_weight=float(config.gp_weight),
        gp_eps=config.gp_eps,
        mi_weight=float(config.mi_weight),
        sampler=config.sampler,
    )


def _check_codes(
    model: str,
    codes: str | None,
    code_mean: Any,
    code_logsigma: Any,
    n_cells: int,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate the code arguments of :func:`train_generator`; return ``(loc, scale)`` arrays."""
    if not is_conditional(model):
        if codes is not None or code_mean is not None or code_logsigma is not None:
            msg = f"{model} is unconditional: pass neither codes nor code_mean/code_logsigma"
            raise ValueError(msg)
        return None, None
    if codes not in CODE_MODES:
        msg = f"{model} needs codes in {CODE_MODES}, got {codes!r}"
        raise ValueError(msg)
    if code_mean is None:
        msg = f"{model} needs code_mean [cells, K]"
        raise ValueError(msg)
    loc = as_float32_matrix(code_mean, name="code_mean", rows=n_cells)
    if codes == "mean":
        return loc, None
    if code_logsigma is None:
        msg = f"{model} with codes='sampled' needs code_logsigma [cells, K]"
        raise ValueError(msg)
    logsigma = as_float32_matrix(
        code_logsigma, name="code_logsigma", rows=n_cells, columns=loc.shape[1]
    )
    return loc, np.exp(logsigma)


def train_generator(
    x: Any,
    config: GeneratorConfig,
    *,
    model: GeneratorModel,
    seed: int,
    out_dir: str | Path,
    codes: CodeMode | None = None,
    code_mean: Any = None,
    code_logsigma: Any = None,
    checkpoint_dir: str | Path | None = None,
    keep_checkpoint: bool = False,
    on_progress: ProgressHook | None = None,
) -> Path:
    """Train a generator on ``x`` (and, for conditional models, the cells' codes); save it to ``out_dir``.

    Parameters
    ----------
    x
        Expression matrix ``[cells, genes]`` (converted to float32; sparse is densified).
    config
        The ``generator`` section.
    model
        ``"wgan_gp"``, ``"infowgan_gp"``, ``"cwgan_gp"`` or ``"michigan"``.
    seed
        Seeds the validation split, initialisation and every random draw of training.
    out_dir
        The model directory to write (``model.json``, ``variables.msgpack``, ``history.json``).
    codes
        Conditional models only: ``"mean"`` trains on ``code_mean``; ``"sampled"`` draws
        ``code_mean + exp(code_logsigma) * N(0, 1)`` afresh for every minibatch.
    code_mean, code_logsigma
        ``[cells, K]`` posterior means and log standard deviations of the cells of ``x``
        (:meth:`~michigan.train.representation.TrainedRepresentation.encode`); ``code_logsigma`` is
        used only with ``codes="sampled"``.
    checkpoint_dir, keep_checkpoint, on_progress
        As in :func:`~michigan.train.representation.train_representation`.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ValueError
        Unknown model, bad matrices, missing or superfluous codes, a MichiGAN critic whose last width
        differs from ``K``, too few cells, or a checkpoint that is corrupt or of another run.
    michigan.train.loop.NonFiniteLossError
        If a loss becomes NaN/Inf (the last good checkpoint is kept).
    """
    if model not in GENERATOR_MODELS:
        msg = f"generator model must be one of {GENERATOR_MODELS}, got {model!r}"
        raise ValueError(msg)
    matrix = as_float32_matrix(x, name="expression matrix x")
    n_cells, n_genes = matrix.shape
    loc, scale = _check_codes(model, codes, code_mean, code_logsigma, n_cells)
    condition_dim = 0 if loc is None else loc.shape[1]
    task = generator_task(config, model=model, n_genes=n_genes, condition_dim=condition_dim)
    train_rows, valid_rows = split_cells(n_cells, config.validation_fraction, seed)
    check_sampler(config.sampler, train_rows.size, config.batch_size)

    def device_data(rows: np.ndarray) -> GANData:
        def pick(a: np.ndarray | None) -> jax.Array | None:
            return None if a is None else jnp.asarray(a[rows])

        return GANData(pick(matrix), pick(loc), pick(scale))

    valid_data = device_data(valid_rows) if valid_rows.size else None
    fingerprint = {
        "model": model,
        "config": config_fingerprint(config),
        "codes": codes,
        "data": digest(matrix, loc, scale),
    }
    info = {
        "model": model,
        "kind": KIND,
        "config": as_dict(config),
        "seed": seed,
        "codes": codes,
        "n_cells": n_cells,
        "n_genes": n_genes,
        "n_train": int(train_rows.size),
        "n_valid": int(valid_rows.size),
        "code_dim": task.code_dim,
        "noise_dim": task.noise_dim,
    }
    return fit_and_save(
        task,
        device_data(train_rows),
        valid_data,
        config=config,
        seed=seed,
        out_dir=out_dir,
        checkpoint_dir=checkpoint_dir,
        keep_checkpoint=keep_checkpoint,
        on_progress=on_progress,
        fingerprint=fingerprint,
        info=info,
        variables_of=lambda s: {
            "generator": {"params": s.g_params, "batch_stats": s.g_stats},
            "critic": {"params": s.d_params, "batch_stats": s.d_stats},
        },
    )


class Generated(NamedTuple):
    """Generated cells ``[cells, G]`` and the generator code they were made from ``[cells, code_dim]``."""

    x: np.ndarray
    code: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedGenerator:
    """A loaded generator (:func:`load_generator`).

    Attributes
    ----------
    model
        The model name.
    config
        Its configuration section.
    n_genes, code_dim, noise_dim
        Output and input dimensions (see the module docstring).
    variables
        ``{"generator": ..., "critic": ...}`` network variables.
    info
        The contents of ``model.json``.
    """

    model: str
    config: GeneratorConfig
    n_genes: int
    code_dim: int
    noise_dim: int
    variables: dict[str, Any]
    info: dict[str, Any]

    @property
    def conditional(self) -> bool:
        """Whether :meth:`generate` needs ``codes``."""
        return is_conditional(self.model)

    def generate(self, *, seed: int, codes: Any = None, n_cells: int | None = None) -> Generated:
        """Generate cells with the generator in inference mode (BatchNorm moving averages, no dropout).

        Parameters
        ----------
        seed
            Seeds the noise (and the code of unconditional models when ``codes`` is not given).
        codes
            ``[cells, code_dim]`` generator codes: required for conditional models; optional for the
            unconditional ones (e.g. fixed InfoGAN codes for traversals), which otherwise draw them
            from ``N(0, I)``.
        n_cells
            Number of cells when no ``codes`` are given.

        Raises
        ------
        ValueError
            If codes are missing for a conditional model, have the wrong width, or neither codes nor
            ``n_cells`` are given.
        """
        rng = np.random.default_rng(seed)
        if codes is None:
            if self.conditional:
                msg = f"{self.model} is conditional: generate needs codes [cells, {self.code_dim}]"
                raise ValueError(msg)
            if n_cells is None or n_cells < 1:
                msg = f"give codes or a positive n_cells, got n_cells={n_cells!r}"
                raise ValueError(msg)
            code = rng.standard_normal((n_cells, self.code_dim)).astype(np.float32)
        else:
            code = as_float32_matrix(codes, name="codes", rows=n_cells, columns=self.code_dim)
        noise = rng.standard_normal((code.shape[0], self.noise_dim)).astype(np.float32)
        inputs = np.concatenate([code, noise], axis=1)
        x = map_in_batches(
            functools.partial(self._generate_fn, self.variables["generator"]), inputs
        )
        return Generated(x, code)

    @functools.cached_property
    def _generate_fn(self) -> Any:
        task = generator_task(
            self.config, model=self.model, n_genes=self.n_genes, condition_dim=self.code_dim
        )
        module = task.generator
        return jax.jit(lambda variables, inputs: module.apply(variables, inputs, train=False))


def load_generator(model_dir: str | Path) -> TrainedGenerator:
    """Load a model directory written by :func:`train_generator`."""
    info, variables = read_model_dir(model_dir, kind=KIND)
    config = from_mapping(GeneratorConfig, info["config"])
    return TrainedGenerator(
        info["model"], config, info["n_genes"], info["code_dim"], info["noise_dim"], variables, info
    )
