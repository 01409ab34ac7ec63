"""Simulation speed: native Splat port vs real R Splatter, 10,000 cells x 10,000 genes.

Runs the paper's setting (2 batches x 5,000 cells, 2 paths, 20 steps, de_prob 0.5,
de_fac_loc 0.01, de_fac_scale 0.5, bcv_common 0.1, linear step) at 10,000 genes with the native
port and, when rpy2 + R + splatter are available, with R Splatter in the same process, and
prints cells/s of each and their ratio (target: port >= 5x faster). Times cover the simulation
and the conversion to AnnData; R's start-up and package loading are excluded (done before). The
process CPU time is printed too: on a shared machine the wall time of the threaded port suffers
more from other processes than that of single-threaded R.

    python benchmarks/simulate_speed.py [--cells 10000] [--genes 10000] [--repeats 1] [--threads N]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import time

from michigan.progress import setup_logging
from michigan.simulate import SplatParams, splat_paths
from michigan.simulate.counts import default_threads
from michigan.simulate.splatter_r import SplatterUnavailableError, _r_package


def paper_params(cells: int, genes: int, seed: int) -> SplatParams:
    return SplatParams(
        seed=seed,
        n_genes=genes,
        batch_cells=[cells // 2, cells - cells // 2],
        group_prob=[0.5, 0.5],
        path_n_steps=20,
        path_nonlinear_prob=0.0,
        de_prob=0.5,
        de_fac_loc=0.01,
        de_fac_scale=0.5,
        bcv_common=0.1,
    )


def best_time(
    params: SplatParams, backend: str, repeats: int, threads: int | None
) -> tuple[float, float]:
    """Shortest wall time and shortest process CPU time over ``repeats`` runs (seeds +0, +1, ...)."""
    walls, cpus = [], []
    for repeat in range(repeats):
        run = SplatParams.from_dict({**params.to_dict(), "seed": params.seed + repeat})
        wall, cpu = time.perf_counter(), time.process_time()
        adata = splat_paths(run, backend=backend, n_threads=threads)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        del adata
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--genes", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="native threads (default: all)")
    args = parser.parse_args()
    setup_logging(logging.WARNING)
    params = paper_params(args.cells, args.genes, seed=1)
    threads = args.threads or default_threads()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible")
    print(f"simulation: {args.cells} cells x {args.genes} genes, best of {args.repeats}")

    native, native_cpu = best_time(params, "native", args.repeats, args.threads)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"native port ({threads} threads): {native:.2f} s wall, {args.cells / native:,.0f} cells/s; "
        f"{native_cpu:.2f} s CPU; peak RSS {peak_gb:.2f} GB"
    )
    try:
        _r_package("splatter")  # start R and load splatter outside the timing
    except SplatterUnavailableError as err:
        print(f"R Splatter: skipped ({err})")
        return
    splatter, splatter_cpu = best_time(params, "splatter", args.repeats, None)
    print(
        f"R Splatter: {splatter:.2f} s wall, {args.cells / splatter:,.0f} cells/s; "
        f"{splatter_cpu:.2f} s CPU"
    )
    print(
        f"ratio (port speed / Splatter speed): {splatter / native:.1f}x wall, "
        f"{splatter_cpu / native_cpu:.1f}x CPU time"
    )
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
