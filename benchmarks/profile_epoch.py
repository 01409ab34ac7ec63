"""Where a compiled training epoch spends its time: XLA:CPU operations grouped by kind.

usage: python benchmarks/profile_epoch.py [btcvae wgan_gp michigan] [--shape paper screen]
           [--cells N --genes G] [--epochs 2] [--top 12] [--json]

Builds each model at each shape exactly as ``train_speed.py`` does (same defaults and synthetic data),
compiles one epoch, runs one untimed epoch, and records ``--epochs`` epochs with JAX's profiler
(``host_tracer_level=3``, which makes XLA:CPU's thunk executor trace every operation it runs). Each
operation's *exclusive* time (its duration minus that of the operations it runs inside it, such as
the body of a ``while`` loop) is summed by operation and by kind:

matrix products   ``dot`` thunks and YNNPACK / oneDNN fusions (XLA:CPU's kernels around a dot)
elementwise       loop, input and other fusions (activations, BatchNorm, losses, Adam updates)
copies            ``copy`` and ``transpose`` thunks and dynamic-update-slices (data movement only)
random numbers    ``rng`` thunks and threefry / Philox fusions
control           ``while``, ``conditional`` and ``call`` thunks themselves (their bodies excluded)
other             anything else, e.g. reductions that XLA left unfused

Printed: per model and shape, the wall time of the traced epochs, the share of it the traced
operations cover, a table by kind (ms per epoch, share) and the ``--top`` operations by time. The
trace adds a few microseconds per operation, so shares are meaningful and absolute times are a bit
high; ``train_speed.py`` gives the throughput.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import tempfile
import time
from pathlib import Path

import jax

from train_speed import SHAPES, Shape, build, warmed_up_epoch

KINDS = ("matrix products", "elementwise", "copies", "random numbers", "control", "other")
PROFILER_EVENTS = ("Thunk", "Threadpool", "PjRt", "Pjit", "Python", "$", "end: ")


def operation_kind(name: str) -> str:
    """The kind of an XLA:CPU operation, from its HLO instruction name (see the module docstring)."""
    base = name.split(".")[0]
    if base.startswith(("ynn_", "onednn", "xnn_")) or "dot" in base or "gemm" in base:
        return "matrix products"
    if base.startswith(("copy", "transpose", "dynamic-update-slice", "dynamic_update_slice")):
        return "copies"
    if base.startswith(("rng", "threefry", "philox")) or "random" in base:
        return "random numbers"
    if base == "call" or base.startswith(("while", "conditional")):
        return "control"
    if "fusion" in base:
        return "elementwise"
    return "other"


def exclusive_times(events: list[dict]) -> dict[str, float]:
    """Microseconds per operation name, each event's duration less its children on the same thread."""
    totals: dict[str, float] = collections.defaultdict(float)
    by_thread: dict[tuple, list[dict]] = collections.defaultdict(list)
    for event in events:
        by_thread[event.get("pid"), event.get("tid")].append(event)
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[tuple[dict, float]] = []  # (event, children's time)
        for event in thread_events:
            while stack and event["ts"] >= stack[-1][0]["ts"] + stack[-1][0]["dur"]:
                done, children = stack.pop()
                totals[done["name"]] += done["dur"] - children
            if stack:
                parent, children = stack[-1]
                stack[-1] = (parent, children + event["dur"])
            stack.append((event, 0.0))
        for done, children in stack:
            totals[done["name"]] += done["dur"] - children
    return totals


def traced_operations(trace_dir: Path) -> list[dict]:
    """The operation events (complete events with a duration) of the perfetto trace in ``trace_dir``."""
    (path,) = trace_dir.rglob("*.trace.json.gz")
    with gzip.open(path) as handle:
        trace = json.load(handle)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return [
        event
        for event in events
        if event.get("ph") == "X"
        and "dur" in event
        and not str(event.get("name", "")).startswith(PROFILER_EVENTS)
    ]


def profile(model: str, shape: Shape, epochs: int) -> dict:
    task, data = build(model, shape)
    chunk, state, _ = warmed_up_epoch(task, data)
    options = jax.profiler.ProfileOptions()
    options.host_tracer_level = 3
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir, create_perfetto_trace=True, profiler_options=options)
        start = time.perf_counter()
        for _ in range(epochs):
            state, _ = chunk(state, data, None)
            jax.block_until_ready(state)
        wall_s = time.perf_counter() - start
        jax.profiler.stop_trace()
        per_operation = exclusive_times(traced_operations(Path(trace_dir)))
    per_epoch_ms = {name: us / 1000 / epochs for name, us in per_operation.items()}
    by_kind = collections.Counter()
    for name, ms in per_epoch_ms.items():
        by_kind[operation_kind(name)] += ms
    return {
        "model": model,
        "shape": shape.name,
        "cells": shape.cells,
        "genes": shape.genes,
        "epoch_ms": wall_s * 1000 / epochs,
        "traced_ms": sum(per_epoch_ms.values()),
        "kinds_ms": {kind: by_kind[kind] for kind in KINDS},
        "operations_ms": dict(sorted(per_epoch_ms.items(), key=lambda item: -item[1])),
    }


def report(result: dict, top: int) -> str:
    epoch = result["epoch_ms"]
    lines = [
        f"{result['model']} {result['shape']} ({result['cells']} cells x {result['genes']} genes): "
        f"{epoch:,.0f} ms per epoch, operations traced {result['traced_ms']:,.0f} ms "
        f"({result['traced_ms'] / epoch:.0%})",
        f"  {'kind':<16} {'ms/epoch':>9} {'share':>6}",
    ]
    for kind, ms in result["kinds_ms"].items():
        lines.append(f"  {kind:<16} {ms:>9,.1f} {ms / epoch:>6.1%}")
    lines.append(f"  top {top} operations:")
    for name, ms in list(result["operations_ms"].items())[:top]:
        lines.append(f"    {name:<40} {operation_kind(name):<16} {ms:>8,.1f} ms {ms / epoch:>6.1%}")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["btcvae", "wgan_gp", "michigan"])
    parser.add_argument("--shape", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--cells", type=int, help="with --genes: profile this shape instead")
    parser.add_argument("--genes", type=int)
    parser.add_argument("--epochs", type=int, default=2, help="traced epochs")
    parser.add_argument("--top", type=int, default=12, help="operations listed by time")
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    args = parser.parse_args()
    if (args.cells is None) != (args.genes is None):
        parser.error("--cells and --genes go together")
    return args


def main() -> None:
    args = parse_args()
    shapes = (
        [Shape("custom", args.cells, args.genes)]
        if args.cells
        else [SHAPES[name] for name in args.shape]
    )
    results = [profile(model, shape, args.epochs) for model in args.models for shape in shapes]
    if args.json:
        print(json.dumps(results))
        return
    for result in results:
        print(report(result, args.top))


if __name__ == "__main__":
    main()
