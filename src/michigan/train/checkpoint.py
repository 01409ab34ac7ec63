"""Atomic files and training checkpoints (flax msgpack serialisation).

A checkpoint holds everything a run needs to continue exactly where it stopped: the whole loop state
(parameters, BatchNorm statistics, optimiser states, the PRNG key, the epoch counter and the early-stopping
state), the per-epoch history so far, and a fingerprint of the run (model, configuration, seed, data) that
a resumed run must match.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from michigan.io import atomic_path

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoint.msgpack"


def save_checkpoint(
    directory: str | Path,
    *,
    state: Any,
    history: dict[str, np.ndarray],
    fingerprint: dict[str, Any],
) -> Path:
    """Write the loop ``state`` pytree, the ``history`` and the run ``fingerprint`` atomically."""
    payload = {
        "state": serialization.to_state_dict(jax.device_get(state)),
        "history": {name: np.asarray(values) for name, values in history.items()},
        "fingerprint": json.dumps(fingerprint, sort_keys=True),
    }
    path = Path(directory) / CHECKPOINT_FILE
    with atomic_path(path) as tmp:
        tmp.write_bytes(serialization.msgpack_serialize(payload))
    return path


def load_checkpoint(
    directory: str | Path, *, template: Any, fingerprint: dict[str, Any]
) -> tuple[Any, dict[str, np.ndarray]] | None:
    """Restore ``(state, history)`` from ``directory``, or ``None`` when there is no checkpoint.

    Parameters
    ----------
    directory
        The checkpoint directory.
    template
        A freshly initialised loop state with the structure to restore into.
    fingerprint
        The current run's fingerprint; it must equal the stored one.

    Raises
    ------
    ValueError
        If the checkpoint belongs to a different run (the message lists the differing entries).
    """
    path = Path(directory) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    payload = serialization.msgpack_restore(path.read_bytes())
    stored = json.loads(payload["fingerprint"])
    if stored != fingerprint:
        keys = sorted(set(stored) | set(fingerprint))
        diffs = [
            f"{key}: checkpoint {stored.get(key)!r} != run {fingerprint.get(key)!r}"
            for key in keys
            if stored.get(key) != fingerprint.get(key)
        ]
        msg = (
            f"checkpoint {path} belongs to a different run ({'; '.join(diffs)}); "
            "delete it to start afresh"
        )
        raise ValueError(msg)
    state = serialization.from_state_dict(template, payload["state"])
    history = {name: np.asarray(values) for name, values in payload["history"].items()}
    logger.info("resuming from %s", path)
    return state, history
