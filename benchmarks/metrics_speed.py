"""Time the two expensive metrics at the paper's sizes.

1. Gaussian-posterior MIG (all three conventions from one pass) at N cells x D latents with four
   factors of 2, 2, 20 and 4 levels (the simulation's batch, path, step, library-size quartile):
   first call (includes JIT compilation) and the median of repeated calls, in float32 (the
   default) and float64. Target: about 1 s at N = 10,000, D = 10 on 2 cores.
2. One RF error at the paper's size: 3,000 real + 3,000 generated cells, PCA to 50 components
   (pooled), RandomForestClassifier(1000 trees) refitted on each of 5 folds. The generated cells
   differ from the real ones by a 0.05 shift in 200 of 1,000 genes, a hard case near chance
   (deep trees, the slow case). Target: <= 60 s on 2 cores.

    python benchmarks/metrics_speed.py                   # both, paper sizes
    python benchmarks/metrics_speed.py --skip-rf --n 12000
    python benchmarks/metrics_speed.py --trees 50         # a quick RF check

The machine's load average is logged with every figure: wall times are only comparable on an
otherwise idle machine. The process CPU time (all threads) is logged too; divided by the cores
the work can use, it estimates the wall time on an idle machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time

import numpy as np

from michigan.metrics import MIG_CONVENTIONS, gaussian_entropies, rf_error
from michigan.progress import setup_logging

logger = logging.getLogger("metrics_speed")
LEVELS = (2, 2, 20, 4)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def time_mig(n: int, d: int, repeats: int, *, float64: bool) -> None:
    """Log the first-call and median time of the Gaussian MIG (three conventions)."""
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, levels, n) for levels in LEVELS], axis=1)
    mu = rng.standard_normal((n, d))
    mu[:, : len(LEVELS)] += 2.0 * factors  # one informative latent per factor
    logsigma = rng.uniform(-2.0, 0.0, (n, d))
    z = mu + np.exp(logsigma) * rng.standard_normal((n, d))

    def run() -> dict[str, float]:
        entropies = gaussian_entropies(z, mu, logsigma, factors, max_cells=None, float64=float64)
        return {c: entropies.mig(c) for c in MIG_CONVENTIONS}

    start = time.perf_counter()
    values = run()
    first = time.perf_counter() - start
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    logger.info(
        "Gaussian MIG N=%d D=%d factors=%s %s: first call %.2f s (with compilation), "
        "median %.2f s [%.2f-%.2f] over %d runs (median CPU time %.2f s); MIG %s; %s",
        n,
        d,
        LEVELS,
        "float64" if float64 else "float32",
        first,
        statistics.median(times),
        min(times),
        max(times),
        repeats,
        statistics.median(cpu),
        {c: round(v, 4) for c, v in values.items()},
        load(),
    )


def time_rf(n_cells: int, n_genes: int, trees: int, n_jobs: int | None) -> None:
    """Log the time of one RF error (pooled PCA, 5 folds)."""
    rng = np.random.default_rng(1)
    real = rng.standard_normal((n_cells, n_genes)).astype(np.float32)
    fake = rng.standard_normal((n_cells, n_genes)).astype(np.float32)
    fake[:, :200] += 0.05
    start, start_cpu = time.perf_counter(), time.process_time()
    result = rf_error(real, fake, n_pcs=50, n_estimators=trees, n_splits=5, seed=42, n_jobs=n_jobs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    logger.info(
        "RF error %d + %d cells x %d genes -> 50 PCs, %d trees, 5 folds, n_jobs=%s: %.1f s "
        "(CPU time %.1f s; error %.3f, AUC %.3f); %s",
        n_cells,
        n_cells,
        n_genes,
        trees,
        n_jobs,
        elapsed,
        cpu,
        result.error,
        result.auc,
        load(),
    )


def main() -> None:
    """Parse the options and run the timings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="cells for the MIG")
    parser.add_argument("--d", type=int, default=10, help="latents for the MIG")
    parser.add_argument("--repeats", type=int, default=3, help="timed MIG runs after the first")
    parser.add_argument("--skip-float64", action="store_true", help="time float32 only")
    parser.add_argument("--skip-rf", action="store_true", help="time the MIG only")
    parser.add_argument("--rf-cells", type=int, default=3000, help="real (= generated) cells")
    parser.add_argument("--rf-genes", type=int, default=1000, help="genes before the PCA")
    parser.add_argument("--trees", type=int, default=1000, help="trees per forest")
    parser.add_argument("--n-jobs", type=int, default=-1, help="forest jobs (-1: all CPUs)")
    args = parser.parse_args()
    setup_logging()
    time_mig(args.n, args.d, args.repeats, float64=False)
    if not args.skip_float64:
        time_mig(args.n, args.d, args.repeats, float64=True)
    if not args.skip_rf:
        time_rf(args.rf_cells, args.rf_genes, args.trees, args.n_jobs)


if __name__ == "__main__":
    main()
