"""Training engine: compiled epochs, chunked driver with checkpoints, and the models' entry points."""

from __future__ import annotations

from michigan.train.artifacts import read_history
from michigan.train.generator import (
    GENERATOR_MODELS,
    Generated,
    TrainedGenerator,
    load_generator,
    train_generator,
)
from michigan.train.loop import NonFiniteLossError
from michigan.train.registry import MODELS, ModelEntry, model_entry
from michigan.train.representation import (
    REPRESENTATION_MODELS,
    Codes,
    TrainedRepresentation,
    load_representation,
    train_representation,
)

__all__ = [
    "GENERATOR_MODELS",
    "MODELS",
    "REPRESENTATION_MODELS",
    "Codes",
    "Generated",
    "ModelEntry",
    "NonFiniteLossError",
    "TrainedGenerator",
    "TrainedRepresentation",
    "load_generator",
    "load_representation",
    "model_entry",
    "read_history",
    "train_generator",
    "train_representation",
]
