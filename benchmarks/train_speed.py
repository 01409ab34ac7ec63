"""Training throughput (cells/s) of whole compiled epochs, its dense-layer GFLOP/s and the GEMM ceiling
of the same layer shapes, optionally beside the PyTorch peer of the team's performance study.

usage: python benchmarks/train_speed.py [btcvae wgan_gp michigan] [--shape paper screen]
           [--cells N --genes G] [--repeats 5] [--rounds 1] [--json] [--peer] [--peer-python PY]
           [--peer-guard] [--peer-script PATH]

Models default to all three, shapes to both: ``paper`` (4,096 cells x 4,000 genes, the paper's
shapes) and ``screen`` (5,400 cells x 250 genes, the simulated screen after preprocessing);
``--cells N --genes G`` times one other shape instead. The data are a synthetic standard-normal
float32 matrix (values do not change the speed of dense float math) and, for michigan, 10-d
standard-normal mean codes. The models use the configuration defaults at every shape: beta-TCVAE
batch 128 (512-256 encoder, 256-512 decoder, K = 10, beta 100); WGAN-GP and MichiGAN batch 32, 5
critic steps per generator step, generator 256-512-1024, critic 1024-512-10. One epoch is
floor(cells / batch) steps (VAE) or generator iterations (GANs); cells/s counts cells of epoch
progress (the GANs also read n_critic more batches per iteration). The first epoch's compilation is
timed on its own (compile s); after it and one untimed epoch, the median over ``--repeats`` timed
epochs is reported.

Columns of the table (one row per model and shape; also in the final JSON line, with the CPU model):

cells/s         median over rounds of the median epoch's cells of epoch progress per second
MFLOP/cell      dense-layer FLOPs per cell of one training step, forward and backward, counted from
                the task's layer shapes by ``benchmarks/flops.py`` (its docstring states the rules)
GFLOP/s         MFLOP/cell x cells/s: the dense-layer work the epoch achieves
ceiling GFLOP/s the same step's largest matrix products (together 99% of its FLOPs) timed alone, in
                float32, with the layouts of the training step (x W, x^T g, g W^T): their FLOPs over
                their summed times, each product weighted by how often a step runs it
fraction        GFLOP/s / ceiling GFLOP/s, the roofline fraction
compile s       compilation of the epoch (first round)
peer cells/s, ratio   with ``--peer``: the PyTorch peer's cells/s and JAX / PyTorch

Each ceiling product is timed as ``CEILING_CALLS`` products in one compiled ``lax.scan`` over fresh
left operands, summed into one output, so that per-call dispatch does not count (the sum adds one
elementwise pass over the output, which the training step also has, for its bias or Adam).

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
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from flops import Product, flops_per_cell, step_products
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
CEILING_SHARE = 0.99  # the ceiling times the largest products holding this share of a step's FLOPs
CEILING_CALLS = 16  # products per compiled scan when timing one product


class Shape(NamedTuple):
    """A named data shape: cells x genes."""

    name: str
    cells: int
    genes: int


SHAPES = {
    "paper": Shape("paper", 4096, 4000),
    "screen": Shape("screen", 5400, 250),
}


def build(model: str, shape: Shape):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((shape.cells, shape.genes), dtype=np.float32))
    if model == "btcvae":
        config = load_section("representation", params={})
        task = representation_task(config, model=model, n_genes=shape.genes, n_train=shape.cells)
        return task, VAEData(x)
    config = load_section("generator", params={})
    if model == "michigan":
        codes = jnp.asarray(rng.standard_normal((shape.cells, 10), dtype=np.float32))
        task = generator_task(config, model=model, n_genes=shape.genes, condition_dim=10)
        return task, GANData(x, codes)
    return generator_task(config, model=model, n_genes=shape.genes), GANData(x)


def warmed_up_epoch(task, data):
    """The compiled one-epoch chunk, the state after one untimed epoch, and the compile seconds."""
    state = initial_state(task, 0)
    start = time.perf_counter()
    chunk = compiled_chunk(task, state, data, length=1)
    compile_s = time.perf_counter() - start
    state, _ = chunk(state, data, None)
    jax.block_until_ready(state)
    return chunk, state, compile_s


def time_jax(task, data, repeats: int) -> dict:
    chunk, state, compile_s = warmed_up_epoch(task, data)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        state, _ = chunk(state, data, None)
        jax.block_until_ready(state)
        times.append(time.perf_counter() - start)
    epoch_s = statistics.median(times)
    return {
        "cells_per_s": task.cells_per_epoch(data) / epoch_s,
        "epoch_s_median": epoch_s,
        "epoch_s_all": times,
        "compile_s": compile_s,
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


def time_product(product: Product, repeats: int) -> float:
    """Median seconds of one ``product`` (see the module docstring: ``CEILING_CALLS`` in one scan)."""
    lhs_shape, rhs_shape, contracting = product.operands
    lhs_key, rhs_key = jax.random.split(jax.random.key(0))
    lhs = jax.random.normal(lhs_key, (CEILING_CALLS, *lhs_shape), jnp.float32)
    rhs = jax.random.normal(rhs_key, rhs_shape, jnp.float32)
    dimensions = (((contracting[0],), (contracting[1],)), ((), ()))

    @jax.jit
    def products(lhs: jax.Array, rhs: jax.Array) -> jax.Array:
        def accumulate(total: jax.Array, left: jax.Array) -> tuple[jax.Array, None]:
            return total + jax.lax.dot_general(left, rhs, dimensions), None

        first = jax.lax.dot_general(lhs[0], rhs, dimensions)
        return jax.lax.scan(accumulate, first, lhs[1:])[0]

    products(lhs, rhs).block_until_ready()  # compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        products(lhs, rhs).block_until_ready()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / CEILING_CALLS


def largest_products(products: Counter[Product], share: float) -> list[tuple[Product, int]]:
    """The largest products (FLOPs x count) that together hold at least ``share`` of the FLOPs."""
    ranked = sorted(products.items(), key=lambda item: item[0].flops * item[1], reverse=True)
    total = sum(product.flops * count for product, count in ranked)
    chosen, covered = [], 0
    for product, count in ranked:
        if covered >= share * total:
            break
        chosen.append((product, count))
        covered += product.flops * count
    return chosen


def gemm_ceiling(products: Counter[Product], repeats: int) -> dict:
    """FLOP-weighted achievable GFLOP/s of a step's largest products, each timed alone."""
    timed = [
        (product, count, time_product(product, repeats))
        for product, count in largest_products(products, CEILING_SHARE)
    ]
    flops = sum(product.flops * count for product, count, _ in timed)
    seconds = sum(count * product_s for _, count, product_s in timed)
    return {
        "gflops": flops / seconds / 1e9,
        "share_of_flops": flops / sum(p.flops * n for p, n in products.items()),
        "products": [
            {**product._asdict(), "per_step": count, "gflops": product.flops / product_s / 1e9}
            for product, count, product_s in timed
        ],
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``"unknown"`` where there is none)."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else "unknown"


def timed_rounds(model: str, shape: Shape, task, data, args: argparse.Namespace) -> list[dict]:
    """Interleaved rounds: each times the JAX epochs, then (with ``--peer``) the peer."""
    rounds = []
    for _ in range(args.rounds):
        load_before = os.getloadavg()[0]
        result = time_jax(task, data, args.repeats)
        if args.peer:
            result |= time_peer(
                model,
                shape.genes,
                shape.cells,
                args.peer_python,
                args.peer_script,
                guard=args.peer_guard,
            )
            result["ratio"] = result["cells_per_s"] / result["peer_cells_per_s"]
        result["loadavg_before_after"] = [load_before, os.getloadavg()[0]]
        rounds.append(result)
    return rounds


def summarise_rounds(rounds: list[dict], *, peer: bool) -> dict:
    """The last round's record with the rounds' medians (compile time: the first round's)."""
    result = dict(rounds[-1])
    result["compile_s"] = rounds[0]["compile_s"]  # later rounds reuse the compilation
    result["cells_per_s"] = statistics.median(r["cells_per_s"] for r in rounds)
    if peer:
        result["peer_cells_per_s"] = statistics.median(r["peer_cells_per_s"] for r in rounds)
        result["ratio"] = statistics.median(r["ratio"] for r in rounds)
        result["round_ratios"] = [r["ratio"] for r in rounds]
    keys = ("cells_per_s", "peer_cells_per_s", "ratio", "loadavg_before_after")
    result["rounds"] = [{k: r[k] for k in keys if k in r} for r in rounds]
    return result


def measure(model: str, shape: Shape, args: argparse.Namespace) -> dict:
    """Throughput, FLOP rate, GEMM ceiling and roofline fraction of one model at one shape."""
    task, data = build(model, shape)
    rounds = timed_rounds(model, shape, task, data, args)
    result = {"model": model, "shape": shape.name, "cells": shape.cells, "genes": shape.genes}
    result |= summarise_rounds(rounds, peer=args.peer)
    ceiling = gemm_ceiling(step_products(task), args.repeats)
    per_cell = flops_per_cell(task)
    gflops = per_cell * result["cells_per_s"] / 1e9
    return result | {
        "flops_per_cell": per_cell,
        "gflops": gflops,
        "ceiling_gflops": ceiling["gflops"],
        "roofline_fraction": gflops / ceiling["gflops"],
        "ceiling": ceiling,
    }


def print_rounds(result: dict, *, peer: bool) -> None:
    """One line per round and the compile time on its own line."""
    label = (
        f"{result['model']} {result['shape']} ({result['cells']} cells x {result['genes']} genes)"
    )
    for index, r in enumerate(result["rounds"], 1):
        line = f"{label} round {index}: JAX {r['cells_per_s']:,.1f} cells/s"
        if peer:
            line += f", peer {r['peer_cells_per_s']:,.1f} cells/s, ratio {r['ratio']:.2f}"
        print(f"{line}, load average {r['loadavg_before_after']}")
    print(f"{label} compile: {result['compile_s']:.1f} s")


def table_row(result: dict, *, peer: bool) -> list[str]:
    """The table's cells of one model and shape."""
    row = [
        result["model"],
        result["shape"],
        f"{result['cells_per_s']:,.1f}",
        f"{result['flops_per_cell'] / 1e6:,.1f}",
        f"{result['gflops']:,.1f}",
        f"{result['ceiling_gflops']:,.1f}",
        f"{result['roofline_fraction']:.2f}",
        f"{result['compile_s']:.1f}",
    ]
    if peer:
        row += [f"{result['peer_cells_per_s']:,.1f}", f"{result['ratio']:.2f}"]
    return row


def table(results: list[dict], *, peer: bool) -> str:
    """The results as a fixed-width table, one row per model and shape."""
    header = ["model", "shape", "cells/s", "MFLOP/cell", "GFLOP/s", "ceiling GFLOP/s", "fraction"]
    header += ["compile s", *(["peer cells/s", "ratio"] if peer else [])]
    rows = [header, *(table_row(result, peer=peer) for result in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "models", nargs="*", metavar="MODEL", help=f"{', '.join(PEER_MODEL)} (default: all)"
    )
    parser.add_argument("--shape", nargs="+", choices=sorted(SHAPES), default=None)
    parser.add_argument("--cells", type=int, help="with --genes: time this shape instead")
    parser.add_argument("--genes", type=int, help="with --cells: time this shape instead")
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
    if (args.cells is None) != (args.genes is None):
        parser.error("--cells and --genes go together")
    if args.cells is not None and args.shape:
        parser.error("give either --shape or --cells/--genes")
    unknown = sorted(set(args.models) - set(PEER_MODEL))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(PEER_MODEL)}")
    args.models = args.models or list(PEER_MODEL)
    if args.cells is not None:
        args.shapes = [Shape("custom", args.cells, args.genes)]
    else:
        args.shapes = [SHAPES[name] for name in args.shape or SHAPES]
    return args


def main() -> None:
    args = parse_args()
    results = []
    for model in args.models:
        for shape in args.shapes:
            results.append(measure(model, shape, args))
            if not args.json:
                print_rounds(results[-1], peer=args.peer)
    summary = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "device": str(jax.devices()[0]),
        "results": results,
    }
    if args.json:
        print(json.dumps(summary))
        return
    print(f"CPU: {summary['cpu']} ({summary['cpu_count']} cores); JAX device: {summary['device']}")
    print(table(results, peer=args.peer))
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
