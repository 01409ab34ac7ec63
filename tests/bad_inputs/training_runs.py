"""Tiny ``michigan`` training runs shared by the checkpoint and fault cases of the bad-input suite.

Not a test module: ``test_bad_checkpoints.py`` and ``test_bad_faults.py`` import it. Each run trains a
β-TCVAE with 8 hidden units on 64 cells x 12 genes; runs with the same settings share one compiled
chunk (in this process, and across processes through the session's JAX compilation cache).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np

from michigan.cli import main
from michigan.io import HOST_TAG
from michigan.train import loop

CELLS, GENES = 64, 12
PARAMS = {
    "epochs": 40,
    "checkpoint_every": 10,
    "batch_size": 16,
    "encoder_hidden": [8],
    "decoder_hidden": [8],
    "latent_dim": 2,
    "validation_fraction": 0.0,
}


def write_cells(path: Path, *, seed: int = 0) -> Path:
    """Log-normalised Poisson counts, ``CELLS x GENES``, as an ``.h5ad``."""
    counts = np.random.default_rng(seed).poisson(2.0, (CELLS, GENES))
    adata = ad.AnnData(np.log1p(counts).astype(np.float32))
    adata.obs_names = [f"cell{i}" for i in range(CELLS)]
    adata.var_names = [f"gene{j}" for j in range(GENES)]
    adata.write_h5ad(path)
    return path


def train_argv(
    data: Path, out: Path, checkpoints: Path, *, seed: int = 0, **params: Any
) -> list[str]:
    """``michigan train-representation`` arguments for a β-TCVAE run with ``PARAMS`` | ``params``."""
    return [
        "train-representation",
        "--params",
        json.dumps(PARAMS | params),
        "--seed",
        str(seed),
        "--input",
        str(data),
        "--model",
        "btcvae",
        "--output",
        str(out),
        "--checkpoint-dir",
        str(checkpoints),
    ]


def run_cli(argv: list[str]) -> tuple[int, list[str]]:
    """Run ``michigan`` in this process; return the exit status and the ERROR lines it logged."""
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    handler = Collect()
    logging.getLogger().addHandler(handler)
    try:
        return main(argv), errors
    finally:
        logging.getLogger().removeHandler(handler)


def start_cli(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start ``michigan`` in a subprocess (its own session, so that it can be killed alone)."""
    return subprocess.Popen(
        [sys.executable, "-m", "michigan", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def interrupt_after_epoch(monkeypatch: Any, epoch: int) -> None:
    """Make the next run stop (``KeyboardInterrupt``) right after writing its checkpoint of ``epoch``."""
    real_save = loop.save_checkpoint

    def save_then_stop(*args: Any, **kwargs: Any) -> Any:
        path = real_save(*args, **kwargs)
        if int(kwargs["state"].epoch) == epoch:
            monkeypatch.setattr(loop, "save_checkpoint", real_save)
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(loop, "save_checkpoint", save_then_stop)


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def stale_temporary(path: Path) -> Path:
    """A hidden temporary folder beside ``path`` as a write killed on this host leaves it."""
    folder = path.parent / f".{path.name}.{HOST_TAG}.{dead_pid()}.k1ll3d_x.tmp"
    folder.mkdir(parents=True)
    (folder / path.name).write_bytes(b"half-written")
    return folder


def single_line(errors: list[str]) -> str:
    """The one error line of a failed run (an assertion error if there are several or newlines)."""
    assert len(errors) == 1, errors
    assert "\n" not in errors[0], errors[0]
    return errors[0]
