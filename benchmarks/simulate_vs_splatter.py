"""Compare the native Splat port with real Splatter 1.22.1 on the reference settings, over seeds.

Prints a Markdown table per setting (linear and non-linear step): the statistic of the real
Splatter reference (seed 1, copied into tests/data/simulate/splatter_reference_stats.json), the
port's mean and standard deviation over seeds, and z = (port mean - Splatter) / (sd sqrt(1 + 1/n)),
the deviation in units of the seed-to-seed spread (the reference is itself one draw).

    python benchmarks/simulate_vs_splatter.py --seeds 12 --splatter-seeds 10  # docs table
    python benchmarks/simulate_vs_splatter.py --seeds 20 --cells 2000   # tests: "genes" sample
    python benchmarks/simulate_vs_splatter.py --seeds 20 --genes 2000 --scale-library  # "cells"
    python benchmarks/simulate_vs_splatter.py --seeds 12                # tests: reference size

``--cells`` / ``--genes`` shrink the simulation (cells split evenly over the two batches), and
``--scale-library`` shrinks the library size with the gene count so that every gene keeps the
reference's expected count per cell; the unit tests' tolerances come from the spreads printed
this way. ``--splatter-seeds K`` also runs R Splatter (backend "splatter", needs rpy2 + R +
splatter) with seeds 2..K+1 (or from ``--splatter-first-seed``) at the same size.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from michigan.progress import setup_logging
from michigan.simulate import splat_paths
from michigan.simulate.stats import splat_summary

REFERENCE = Path(__file__).parents[1] / "tests/data/simulate/splatter_reference_stats.json"
logger = logging.getLogger("simulate_vs_splatter")


def run_seeds(params: dict, seeds: list[int], backend: str) -> dict[str, np.ndarray]:
    """Summary statistics of one simulation per seed, as arrays over seeds."""
    rows = []
    for seed in seeds:
        started = time.perf_counter()
        adata = splat_paths(backend=backend, **{**params, "seed": seed})
        rows.append(splat_summary(adata))
        logger.info("%s seed %d: %.1f s", backend, seed, time.perf_counter() - started)
    return {name: np.array([row.get(name, np.nan) for row in rows]) for name in rows[0]}


def table(reference: dict[str, float], columns: dict[str, dict[str, np.ndarray]]) -> str:
    """Markdown table: statistic, Splatter reference, then mean ± sd (and z) per column."""
    header = "| statistic | Splatter 1.22.1 (seed 1) | " + " | ".join(columns) + " |"
    lines = [header, "|" + " --- |" * (2 + len(columns))]
    for name, ref in reference.items():
        cells = []
        for values in columns.values():
            if name not in values:
                cells.append("n/a")
                continue
            v = values[name]
            sd = v.std(ddof=1) if v.size > 1 else np.nan
            z = (v.mean() - ref) / (sd * np.sqrt(1 + 1 / v.size)) if sd > 0 else np.nan
            cells.append(f"{v.mean():.4g} ± {sd:.2g} (z {z:+.1f})")
        lines.append(f"| {name} | {ref:.4g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="port seeds (101, 102, ...)")
    parser.add_argument("--splatter-seeds", type=int, default=0, help="number of R Splatter seeds")
    parser.add_argument(
        "--splatter-first-seed", type=int, default=2, help="first R Splatter seed (then +1, ...)"
    )
    parser.add_argument("--cells", type=int, default=None, help="total cells (default: reference)")
    parser.add_argument("--genes", type=int, default=None, help="genes (default: reference)")
    parser.add_argument(
        "--scale-library",
        action="store_true",
        help="shift lib_loc by log(genes / reference genes): same expected counts per gene",
    )
    parser.add_argument("--settings", nargs="+", default=["linear", "nonlinear"])
    args = parser.parse_args()
    setup_logging()

    reference = json.loads(REFERENCE.read_text())
    base = dict(reference["params"])
    if args.cells is not None:
        base["batch_cells"] = [args.cells // 2, args.cells - args.cells // 2]
    if args.genes is not None:
        base["n_genes"] = args.genes
    if args.scale_library:
        default_lib_loc = 11.0  # Splatter's lib.loc, which the reference kept
        base["lib_loc"] = default_lib_loc + np.log(base["n_genes"] / reference["params"]["n_genes"])
    cells, genes = sum(base["batch_cells"]), base["n_genes"]
    for setting in args.settings:
        params = {**base, "path_nonlinear_prob": reference["path_nonlinear_prob"][setting]}
        port_seeds = list(range(101, 101 + args.seeds))
        columns = {f"port, {args.seeds} seeds": run_seeds(params, port_seeds, "native")}
        if args.splatter_seeds:
            first = args.splatter_first_seed
            r_seeds = list(range(first, first + args.splatter_seeds))
            columns[f"R Splatter, {args.splatter_seeds} seeds"] = run_seeds(
                params, r_seeds, "splatter"
            )
        print(f"\n### {setting} step, {cells} cells x {genes} genes\n")
        print(table(reference["stats"][setting], columns))


if __name__ == "__main__":
    main()
