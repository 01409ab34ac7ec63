"""Training checkpoints (flax msgpack serialisation), written atomically.

A checkpoint holds everything a run needs to continue exactly where it stopped: the whole loop state
(parameters, BatchNorm statistics, optimiser states, the PRNG key, the epoch counter and the
early-stopping state), the per-epoch history so far, and a fingerprint of the run that a resumed run
must match. The fingerprint covers everything that changes the result: the model, its whole
configuration section including ``epochs``, the seed, the data and codes, the JAX/Flax/Optax versions
and the backend (see :func:`michigan.train.loop.run_fingerprint`).
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


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: corrupt, or written by a run with other settings."""


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
    CheckpointError
        If the file is corrupt or truncated, or belongs to a run with other settings; the message
        names the file, lists the differing entries with both values, and says how to start afresh.
    """
    path = Path(directory) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    payload = _read_payload(path)
    stored = _stored_fingerprint(path, payload)
    diffs = fingerprint_differences(stored, fingerprint)
    if diffs:
        msg = (
            f"checkpoint {path} was written by a run with other settings ({'; '.join(diffs)}); "
            f"resuming it would mix two runs. Run again with the checkpoint's settings to resume "
            f"it, or delete {Path(directory)} to start afresh with the new ones"
        )
        raise CheckpointError(msg)
    try:
        state = serialization.from_state_dict(template, payload["state"])
        history = {name: np.asarray(values) for name, values in payload["history"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _corrupt(path, f"its state does not fit the model ({exc})") from exc
    logger.info("resuming from %s (epoch %d)", path, int(state.epoch))
    return state, history


def fingerprint_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``"key: checkpoint A, this run B"`` for every (dotted, nested) entry that differs."""
    old, new = _flatten(stored), _flatten(current)
    return [
        f"{key}: checkpoint {old.get(key, '<absent>')!r}, this run {new.get(key, '<absent>')!r}"
        for key in sorted(set(old) | set(new))
        if old.get(key, _ABSENT) != new.get(key, _ABSENT)
    ]


_ABSENT = object()


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat |= _flatten(value, f"{name}.")
        else:
            flat[name] = value
    return flat


def _read_payload(path: Path) -> dict[str, Any]:
    try:
        payload = serialization.msgpack_restore(path.read_bytes())
    except Exception as exc:  # msgpack raises several unrelated types on damaged bytes
        raise _corrupt(path, f"it cannot be decoded ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or not {"state", "history", "fingerprint"} <= set(payload):
        raise _corrupt(path, "it lacks the state, history or fingerprint")
    return payload


def _stored_fingerprint(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        stored = json.loads(payload["fingerprint"])
    except (TypeError, ValueError) as exc:
        raise _corrupt(path, f"its fingerprint is unreadable ({exc})") from exc
    if not isinstance(stored, dict):
        raise _corrupt(path, "its fingerprint is not a mapping")
    return stored


def _corrupt(path: Path, why: str) -> CheckpointError:
    msg = (
        f"checkpoint {path} is corrupt or truncated: {why}; delete {path.parent} to start the "
        "training afresh"
    )
    return CheckpointError(msg)
