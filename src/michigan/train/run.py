"""Shared steps of the training entry points: split, train with checkpoints, save, batched inference."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from michigan.train.artifacts import SNAPSHOT_DIR, snapshot_path, write_model_dir, write_variables
from michigan.train.loop import EarlyStopping, EpochTask, fit

logger = logging.getLogger(__name__)

INFERENCE_BATCH = 4096


def early_stopping_of(config: Any, n_valid: int, batch_size: int) -> EarlyStopping | None:
    """The early-stopping rule of a config section, or ``None`` without validation cells.

    Raises
    ------
    ValueError
        If validation is on but the held-out cells cannot fill one minibatch window.
    """
    if config.validation_fraction == 0:
        return None
    if n_valid <= batch_size:
        msg = (
            f"validation_fraction={config.validation_fraction} holds out {n_valid} cells, but "
            f"validation needs more than batch_size={batch_size}"
        )
        raise ValueError(msg)
    return EarlyStopping(config.early_stopping_patience, config.early_stopping_min_delta)


def check_snapshot_every(config: Any) -> None:
    """Snapshots fall on chunk boundaries only: ``snapshot_every`` must be a multiple of ``checkpoint_every``."""
    if config.snapshot_every % config.checkpoint_every:
        msg = (
            f"snapshot_every ({config.snapshot_every}) must be 0 or a multiple of checkpoint_every "
            f"({config.checkpoint_every}): snapshots are taken between compiled chunks"
        )
        raise ValueError(msg)


def fit_and_save(
    task: EpochTask,
    train_data: Any,
    valid_data: Any,
    *,
    config: Any,
    seed: int,
    out_dir: str | Path,
    checkpoint_dir: str | Path | None,
    keep_checkpoint: bool,
    fingerprint: dict[str, Any],
    info: dict[str, Any],
    variables_of: Callable[[Any], Any],
    on_chunk: Callable[[int], None] | None = None,
) -> Path:
    """Train ``task`` (resuming from its checkpoint) and write the model directory.

    ``variables_of`` maps the final model state to the variables to save. The checkpoint directory
    (default ``out_dir/checkpoint``) is removed after success unless ``keep_checkpoint``.
    ``on_chunk`` is called with the epochs done after every compiled chunk (e.g. a progress bar).
    """
    out_dir = Path(out_dir)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else out_dir / "checkpoint"
    check_snapshot_every(config)
    batch_size = config.batch_size

    def after_chunk(epochs_done: int, state: Any) -> None:
        if config.snapshot_every and epochs_done % config.snapshot_every == 0:
            variables = variables_of(jax.device_get(state.model))
            write_variables(variables, snapshot_path(checkpoint_dir, epochs_done))
        if on_chunk is not None:
            on_chunk(epochs_done)

    n_valid = 0 if valid_data is None else int(jax.tree.leaves(valid_data)[0].shape[0])
    result = fit(
        task,
        train_data,
        seed=seed,
        epochs=config.epochs,
        checkpoint_every=config.checkpoint_every,
        checkpoint_dir=checkpoint_dir,
        fingerprint=fingerprint,
        valid_data=valid_data,
        early_stopping=early_stopping_of(config, n_valid, batch_size),
        after_chunk=after_chunk,
    )
    info = {**info, "epochs_done": result.epochs_done, "stopped_early": result.stopped_early}
    variables = variables_of(jax.device_get(result.state.model))
    snapshots = checkpoint_dir / SNAPSHOT_DIR
    if snapshots.is_dir():
        shutil.rmtree(out_dir / SNAPSHOT_DIR, ignore_errors=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(snapshots, out_dir / SNAPSHOT_DIR)
    write_model_dir(out_dir, info=info, variables=variables, history=result.history)
    if not keep_checkpoint:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    logger.info("%s: saved to %s", task.name, out_dir)
    return out_dir


def map_in_batches(
    fn: Callable[..., Any], *arrays: np.ndarray, batch_size: int = INFERENCE_BATCH
) -> Any:
    """Apply a jitted ``fn`` to row blocks of ``arrays`` and concatenate the (pytree) results."""
    n_rows = arrays[0].shape[0]
    outputs = [
        jax.device_get(fn(*(a[start : start + batch_size] for a in arrays)))
        for start in range(0, n_rows, batch_size)
    ]
    return jax.tree.map(lambda *parts: np.concatenate(parts, axis=0), *outputs)
