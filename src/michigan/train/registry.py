"""The registry of the catalogue's models and the contract they share.

Every model is trained by its kind's ``train`` function into a model directory and loaded back by its
``load`` function; a loaded representation model *encodes* (and decodes) cells, a loaded generator
*samples* cells. The iterative models additionally implement :class:`~michigan.train.loop.EpochTask`
(``init_state`` and a compiled ``train_epoch``), which the chunked driver runs with checkpoints. The
contract tests in ``tests/contract/`` run every entry of :data:`MODELS` through this surface.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from michigan import catalogue
from michigan.catalogue import ModelKind
from michigan.train.generator import load_generator, train_generator
from michigan.train.representation import load_representation, train_representation


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


#: each kind's entry points
_ENTRY_POINTS: dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]] = {
    "representation": (train_representation, load_representation),
    "generator": (train_generator, load_generator),
}


def _entry(model: catalogue.Model) -> ModelEntry:
    train, load = _ENTRY_POINTS[model.kind]
    return ModelEntry(
        model.name,
        model.kind,
        iterative=model.iterative,
        conditional=model.conditional,
        summary=model.summary,
        train=train,
        load=load,
    )


#: every model of the catalogue (:data:`michigan.catalogue.MODELS`) with its entry points
MODELS: dict[str, ModelEntry] = {name: _entry(model) for name, model in catalogue.MODELS.items()}


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
