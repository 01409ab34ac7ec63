"""The registry of all seven models and the contract they share.

Every model is trained by its kind's ``train`` function into a model directory and loaded back by its
``load`` function; a loaded representation model *encodes* (and decodes) cells, a loaded generator
*samples* cells. The iterative models additionally implement :class:`~michigan.train.loop.EpochTask`
(``init_state`` and a compiled ``train_epoch``), which the chunked driver runs with checkpoints. The
contract tests in ``tests/contract/`` run every entry of :data:`MODELS` through this surface.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

from michigan.train.generator import is_conditional, load_generator, train_generator
from michigan.train.representation import load_representation, train_representation

ModelKind = Literal["representation", "generator"]


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One registered model.

    Attributes
    ----------
    name
        Config name of the model.
    kind
        ``"representation"`` or ``"generator"``.
    iterative
        Trained by epochs (every model but the closed-form PPCA).
    conditional
        Generator trained on and sampled from given codes.
    summary
        One line for logs and docs.
    train, load
        The kind's entry points (:func:`~michigan.train.representation.train_representation` /
        :func:`~michigan.train.generator.train_generator` and the matching ``load_*``).
    """

    name: str
    kind: ModelKind
    iterative: bool
    conditional: bool
    summary: str
    train: Callable[..., Any]
    load: Callable[[Any], Any]


def _representation(name: str, summary: str, *, iterative: bool = True) -> ModelEntry:
    return ModelEntry(
        name,
        "representation",
        iterative=iterative,
        conditional=False,
        summary=summary,
        train=train_representation,
        load=load_representation,
    )


def _generator(name: str, summary: str) -> ModelEntry:
    return ModelEntry(
        name,
        "generator",
        iterative=True,
        conditional=is_conditional(name),
        summary=summary,
        train=train_generator,
        load=load_generator,
    )


MODELS: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        _representation("ppca", "probabilistic PCA in closed form", iterative=False),
        _representation("vae", "Gaussian VAE, MC-KL + unit-variance reconstruction"),
        _representation("btcvae", "beta-TCVAE: VAE loss + beta * TC (minibatch-stratified)"),
        _generator("wgan_gp", "WGAN-GP from noise"),
        _generator("infowgan_gp", "InfoWGAN-GP: Q head on the critic features, lambda_MI * MI"),
        _generator("cwgan_gp", "conditional WGAN-GP, code concatenated to the critic input"),
        _generator("michigan", "MichiGAN: projection critic w.h + b + <y, h>"),
    )
}


def model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``.

    Raises
    ------
    KeyError
        Naming the unknown model and the registered ones.
    """
    if name not in MODELS:
        msg = f"unknown model {name!r}; registered models are {sorted(MODELS)}"
        raise KeyError(msg)
    return MODELS[name]
