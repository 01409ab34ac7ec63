"""Training throughput (cells/s) of one whole compiled epoch at the paper's shapes, optionally beside
the PyTorch peer of the team's performance study.

usage: python benchmarks/train_speed.py {btcvae,wgan_gp,michigan} [--genes 4000] [--cells 4096]
           [--repeats 5] [--rounds 1] [--json] [--peer] [--peer-python PY] [--peer-guard]
           [--peer-script PATH]

The data are a synthetic standard-normal float32 matrix (values do not change the speed of dense float
math) and, for michigan, 10-d standard-normal mean codes. The models use the configuration defaults:
beta-TCVAE batch 128 (512-256 encoder, 256-512 decoder, K = 10, beta 100); WGAN-GP and MichiGAN batch 32,
5 critic steps per generator step, generator 256-512-1024, critic 1024-512-10. One epoch is
floor(cells / batch) steps (VAE) or generator iterations (GANs); cells/s counts cells of epoch progress
(the GANs also read n_critic more batches per iteration). After compilation and one untimed epoch, the
median over ``--repeats`` timed epochs is reported.

``--peer`` runs the PyTorch implementation ``bench_torch.py`` of the team's performance study (fused
Adam, its fastest f32 setting: ``vae --adam fused`` for btcvae, ``wgan --adam fused`` for the GANs; its
``wgan`` is the MichiGAN architecture, so for wgan_gp the ratio compares against a slightly larger model)
in a subprocess, in the same run, and prints the JAX/PyTorch ratio. torch is not a project dependency:
install it into a separate environment, e.g. ``uv venv /tmp/torchvenv && VIRTUAL_ENV=/tmp/torchvenv uv pip
install torch==2.13.0 numpy``, and point ``--peer-python`` (or ``MICHIGAN_PEER_PYTHON``) at its python;
``--peer-script`` (or ``MICHIGAN_PEER_SCRIPT``) locates bench_torch.py (default: the shared folder beside
the repository). The peer's own timing module waits for a quiet machine before and between repeats; by
default ``benchmarks/peer_timing/benchutil.py`` replaces it (same interface, no waiting), so that both
sides are timed under the same load; ``--peer-guard`` keeps the peer's guard.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from michigan.config import load_section
from michigan.train.gan import GANData
from michigan.train.generator import generator_task
from michigan.train.loop import compiled_chunk, initial_state
from michigan.train.representation import representation_task
from michigan.train.vae import VAEData

PEER_MODEL = {"btcvae": "vae", "wgan_gp": "wgan", "michigan": "wgan"}
PEER_TIMING = Path(__file__).resolve().parent / "peer_timing"
DEFAULT_PEER_SCRIPT = (
    Path(__file__).resolve().parents[2] / "shared/benchmarks-reference/bench_torch.py"
)


def build(model: str, genes: int, cells: int):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((cells, genes), dtype=np.float32))
    if model == "btcvae":
        config = load_section("representation", params={})
        return representation_task(config, model=model, n_genes=genes, n_train=cells), VAEData(x)
    config = load_section("generator", params={})
    if model == "michigan":
        codes = jnp.asarray(rng.standard_normal((cells, 10), dtype=np.float32))
        task = generator_task(config, model=model, n_genes=genes, condition_dim=10)
        return task, GANData(x, codes)
    return generator_task(config, model=model, n_genes=genes), GANData(x)


def time_jax(model: str, genes: int, cells: int, repeats: int) -> dict:
    task, data = build(model, genes, cells)
    state = initial_state(task, 0)
    start = time.perf_counter()
    chunk = compiled_chunk(task, state, data, length=1)
    compile_s = time.perf_counter() - start
    state, _ = chunk(state, data, None)  # warm-up epoch
    jax.block_until_ready(state)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        state, _ = chunk(state, data, None)
        jax.block_until_ready(state)
        times.append(time.perf_counter() - start)
    epoch_s = statistics.median(times)
    return {
        "model": model,
        "cells_per_s": task.cells_per_epoch(data) / epoch_s,
        "epoch_s_median": epoch_s,
        "epoch_s_all": times,
        "compile_s": compile_s,
        "genes": genes,
        "cells": cells,
        "device": str(jax.devices()[0]),
    }


def time_peer(
    model: str, genes: int, cells: int, python: str, script: Path, *, guard: bool
) -> dict:
    peer = PEER_MODEL[model]
    path = [str(script.parent)] if guard else [str(PEER_TIMING), str(script.parent)]
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        # run_path keeps the script's folder off sys.path, so PYTHONPATH decides which benchutil loads
        launcher = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
        command = [
            python,
            "-c",
            launcher,
            str(script),
            peer,
            "--adam",
            "fused",
            "--genes",
            str(genes),
            "--cells",
            str(cells),
        ]
        subprocess.run(command, cwd=work, env=env, check=True, timeout=3600)
        result = json.loads((Path(work) / f"results/torch_{peer}_fused.json").read_text())
    return {"peer": f"torch {peer} --adam fused", "peer_cells_per_s": result["cells_per_s_median"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(PEER_MODEL))
    parser.add_argument("--genes", type=int, default=4000)
    parser.add_argument("--cells", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--rounds", type=int, default=1, help="interleaved JAX/peer rounds; medians are reported"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    parser.add_argument("--peer", action="store_true", help="also time the PyTorch peer")
    parser.add_argument("--peer-python", default=os.environ.get("MICHIGAN_PEER_PYTHON"))
    parser.add_argument(
        "--peer-guard",
        action="store_true",
        help="time the peer with its own quiet-machine guard (may wait long)",
    )
    parser.add_argument(
        "--peer-script",
        type=Path,
        default=Path(os.environ.get("MICHIGAN_PEER_SCRIPT", DEFAULT_PEER_SCRIPT)),
    )
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    if args.peer and not args.peer_python:
        parser.error("--peer needs --peer-python or MICHIGAN_PEER_PYTHON (a python with torch)")
    rounds = []
    for _ in range(args.rounds):  # interleaved: each round times JAX, then the peer
        load_before = os.getloadavg()[0]
        result = time_jax(args.model, args.genes, args.cells, args.repeats)
        if args.peer:
            result |= time_peer(
                args.model,
                args.genes,
                args.cells,
                args.peer_python,
                args.peer_script,
                guard=args.peer_guard,
            )
            result["ratio"] = result["cells_per_s"] / result["peer_cells_per_s"]
        result["loadavg_before_after"] = [load_before, os.getloadavg()[0]]
        rounds.append(result)
    result = dict(rounds[-1])
    result["compile_s"] = rounds[0]["compile_s"]  # later rounds reuse the compilation
    result["cells_per_s"] = statistics.median(r["cells_per_s"] for r in rounds)
    if args.peer:
        result["peer_cells_per_s"] = statistics.median(r["peer_cells_per_s"] for r in rounds)
        result["ratio"] = statistics.median(r["ratio"] for r in rounds)
        result["round_ratios"] = [r["ratio"] for r in rounds]
    result["rounds"] = [
        {
            k: r[k]
            for k in ("cells_per_s", "peer_cells_per_s", "ratio", "loadavg_before_after")
            if k in r
        }
        for r in rounds
    ]
    if args.json:
        print(json.dumps(result))
        return
    for index, r in enumerate(rounds, 1):
        line = f"round {index}: JAX {r['cells_per_s']:,.1f} cells/s"
        if args.peer:
            line += f", peer {r['peer_cells_per_s']:,.1f} cells/s, ratio {r['ratio']:.2f}"
        print(f"{line}, load average {r['loadavg_before_after']}")
    print(
        f"{args.model}: {result['cells_per_s']:,.1f} cells/s (median over {args.rounds} round(s) of "
        f"the median of {args.repeats} epochs; compile {result['compile_s']:.1f} s, "
        f"{args.cells} cells x {args.genes} genes, {result['device']})"
    )
    if args.peer:
        print(
            f"peer {result['peer']}: {result['peer_cells_per_s']:,.1f} cells/s; "
            f"JAX / PyTorch = {result['ratio']:.2f} (median of the rounds' ratios)"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
