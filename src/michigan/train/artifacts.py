"""Saved-model directories and the input checks shared by the training entry points.

A model directory holds three files; it is written as a whole in a hidden folder beside it and moved
into place when complete, so a directory with ``model.json`` is complete and an older model is replaced
only by a complete new one:

``variables.msgpack``  the final network variables (flax msgpack; nested dicts of arrays)
``history.json``       per-epoch losses: ``{"epoch": [1, 2, ...], "<loss>": [...], "valid_<loss>": [...]}``
``model.json``         model name, kind, the configuration section, seed, shapes and how training ended:
                       everything needed to rebuild the networks

and, when the configuration asks for them (``snapshot_every``), ``snapshots/epoch<NNNNN>.msgpack``: the
variables after every ``snapshot_every`` epochs, for training curves of the metrics (paper Fig. S4).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
from flax import serialization

from michigan.io import atomic_path, read_json, write_json

MODEL_FILE = "model.json"
VARIABLES_FILE = "variables.msgpack"
HISTORY_FILE = "history.json"
SNAPSHOT_DIR = "snapshots"
FORMAT_VERSION = 1


def write_variables(variables: Any, path: str | Path) -> None:
    """Write network variables (nested dicts of arrays) as flax msgpack, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(serialization.msgpack_serialize(serialization.to_state_dict(variables)))


def snapshot_path(directory: str | Path, epoch: int) -> Path:
    """Where the snapshot of ``epoch`` goes inside ``directory``."""
    return Path(directory) / SNAPSHOT_DIR / f"epoch{epoch:05d}.msgpack"


def read_snapshots(model_dir: str | Path) -> dict[int, dict[str, Any]]:
    """``{epoch: variables}`` of the snapshots of a model directory (empty when there are none)."""
    paths = sorted((Path(model_dir) / SNAPSHOT_DIR).glob("epoch*.msgpack"))
    return {
        int(path.stem.removeprefix("epoch")): serialization.msgpack_restore(path.read_bytes())
        for path in paths
    }


def write_model_dir(
    out_dir: str | Path,
    *,
    info: dict[str, Any],
    variables: Any,
    history: dict[str, np.ndarray],
    copies: dict[str, Path] | None = None,
) -> Path:
    """Write a model directory (see the module docstring) as a whole, atomically; return its path.

    ``copies`` maps names inside the directory to folders copied in (snapshots, a kept checkpoint).
    An existing directory is replaced only once the new one is complete.
    """
    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for name, source in (copies or {}).items():
            shutil.copytree(source, tmp / name, ignore=shutil.ignore_patterns(".lock"))
        write_variables(variables, tmp / VARIABLES_FILE)
        epochs = len(next(iter(history.values()), []))
        table = {"epoch": list(range(1, epochs + 1))}
        table |= {
            name: np.asarray(values, dtype=float).tolist() for name, values in history.items()
        }
        write_json(table, tmp / HISTORY_FILE)
        write_json({"format": FORMAT_VERSION, **info}, tmp / MODEL_FILE)
    return out_dir


def read_model_dir(model_dir: str | Path, *, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read ``(info, variables)`` of a model directory of the given ``kind``.

    Raises
    ------
    FileNotFoundError
        If the directory lacks ``model.json`` or ``variables.msgpack``.
    ValueError
        If it holds another kind of model or an unknown format.
    """
    model_dir = Path(model_dir)
    info = read_json(model_dir / MODEL_FILE)
    if info.get("format") != FORMAT_VERSION or info.get("kind") != kind:
        msg = (
            f"{model_dir / MODEL_FILE} describes a {info.get('kind')!r} model in format "
            f"{info.get('format')!r}; expected a {kind!r} model in format {FORMAT_VERSION}"
        )
        raise ValueError(msg)
    path = model_dir / VARIABLES_FILE
    if not path.is_file():
        msg = f"model variables not found: {path}"
        raise FileNotFoundError(msg)
    return info, serialization.msgpack_restore(path.read_bytes())


def read_history(model_dir: str | Path) -> dict[str, np.ndarray]:
    """The per-epoch history of a model directory as arrays (``epoch`` plus one array per loss)."""
    table = read_json(Path(model_dir) / HISTORY_FILE)
    return {name: np.asarray(values) for name, values in table.items()}


def as_float32_matrix(
    x: Any, *, name: str, rows: int | None = None, columns: int | None = None
) -> np.ndarray:
    """Check and convert ``x`` to a finite float32 ``[rows, columns]`` NumPy array (sparse densified).

    Raises
    ------
    ValueError
        Naming ``name`` when ``x`` is not two-dimensional, has the wrong shape or holds NaN/Inf.
    """
    matrix = x.toarray() if scipy.sparse.issparse(x) else x
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim != 2:
        msg = f"{name} must be a 2-d [cells, features] matrix, got shape {matrix.shape}"
        raise ValueError(msg)
    for axis, (expected, what) in enumerate(((rows, "rows"), (columns, "columns"))):
        if expected is not None and matrix.shape[axis] != expected:
            msg = f"{name} must have {expected} {what}, got shape {matrix.shape}"
            raise ValueError(msg)
    if not np.all(np.isfinite(matrix)):
        msg = f"{name} contains NaN or infinite values"
        raise ValueError(msg)
    return matrix


def digest(*arrays: np.ndarray | None) -> str:
    """A short content hash of arrays (shapes included), to recognise a checkpoint's data."""
    hasher = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if array is None:
            hasher.update(b"none")
            continue
        hasher.update(repr(array.shape).encode())
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def split_cells(
    n_cells: int, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(train, valid)`` row indices; ``round(fraction * n)`` cells are held out (sorted)."""
    n_valid = round(validation_fraction * n_cells)
    order = np.random.default_rng(seed).permutation(n_cells)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])
