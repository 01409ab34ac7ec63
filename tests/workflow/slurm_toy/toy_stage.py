"""Stages of the SLURM stand-in workflow: tiny, deterministic, standard library only.

Each stage reads and writes small CSV/JSON files and, like the pipeline's stages, writes a
``run.json`` record whose ``host`` block says where it ran (SLURM job id, visible GPUs). The
SLURM test reads that block to check that the training stages got a GPU and the others did not.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import statistics
import sys
import time
from pathlib import Path

logger = logging.getLogger("toy_stage")


def read_column(path: Path) -> list[float]:
    """Read one float per line."""
    return [float(line) for line in path.read_text().split()]


def write_column(path: Path, values: list[float]) -> None:
    """Write one float per line, rounded so that the text does not depend on the platform."""
    path.write_text("".join(f"{value:.10f}\n" for value in values))


def prepare(args: argparse.Namespace) -> dict[str, object]:
    """Draw ``n_cells`` values from N(3, 2) with a seeded generator."""
    rng = random.Random(args.seed)
    write_column(args.output, [rng.gauss(3.0, 2.0) for _ in range(args.n_cells)])
    return {"n_cells": args.n_cells, "seed": args.seed}


def train_representation(args: argparse.Namespace) -> dict[str, object]:
    """Standardise the values ("codes") and save the fitted mean and deviation ("model")."""
    values = read_column(args.input)
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    write_column(args.output, [(value - mean) / std for value in values])
    return {"mean": round(mean, 10), "std": round(std, 10)}


def train_generator(args: argparse.Namespace) -> dict[str, object]:
    """Scale the codes by a factor that moves halfway towards 2 in each of ``epochs`` "epochs"."""
    codes = read_column(args.input)
    scale = 1.0
    for _ in range(args.epochs):
        scale = 0.5 * (scale + 2.0)
    write_column(args.output, [scale * code for code in codes])
    return {"epochs": args.epochs, "scale": round(scale, 10)}


def evaluate_representation(args: argparse.Namespace) -> dict[str, object]:
    """Write the mean and variance of the codes (0 and 1 by construction)."""
    codes = read_column(args.input)
    metrics = {
        "mean": round(statistics.fmean(codes), 8),
        "var": round(statistics.pvariance(codes), 8),
    }
    args.output.write_text(json.dumps(metrics, sort_keys=True) + "\n")
    return metrics


STAGES = {
    stage.__name__: stage
    for stage in (prepare, train_representation, train_generator, evaluate_representation)
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line of one stage."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--input", type=Path)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--run-record", type=Path, required=True)
    parser.add_argument("--n-cells", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fail", action="store_true", help="fail on purpose (failure reporting)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run one stage and write its run record."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    start = time.perf_counter()
    logger.info("stage %s starts in SLURM job %s", args.stage, os.environ.get("SLURM_JOB_ID"))
    if args.fail:
        msg = f"toy stage {args.stage} fails on purpose (--fail)"
        raise SystemExit(msg)
    result = STAGES[args.stage](args)
    record = {
        "stage": args.stage,
        "result": result,
        "host": {
            "hostname": socket.gethostname(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        },
        "wall_time_s": round(time.perf_counter() - start, 3),
    }
    args.run_record.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    logger.info("stage %s done: %s", args.stage, result)


if __name__ == "__main__":
    main(sys.argv[1:])
