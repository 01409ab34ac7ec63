"""Throughput and peak memory of the sci-Plex 3 triplet streaming, on a synthetic file.

Writes a gzip triplet file shaped like GSM4150378's (1-based ``gene cell count``, gene-major,
110,981 genes, 799,317 cells, mostly count 1), then streams it in a fresh process keeping a
``--keep-fraction`` of the cells (the MichiGAN subset with its vehicles is about 9 % of the cells)
and prints a Markdown table: lines/s, compressed MiB/s, peak RSS, and the projection of time and
matrix memory to the real 3.1 GB file.

    python benchmarks/data_sciplex_stream.py                    # 20 M lines
    python benchmarks/data_sciplex_stream.py --lines 60000000   # closer to the real chunk count
"""

from __future__ import annotations

import argparse
import gzip
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from michigan.catalogue import remote_file
from michigan.data._reporting import peak_rss_mib
from michigan.data.sciplex_files import read_umi_triplets
from michigan.progress import setup_logging

N_GENES = 110_981
N_CELLS = 799_317
N_HUMAN_GENES = 58_347
HUMAN_UMI_FRACTION = 0.98  # assumed; mouse genes only catch cross-mapped reads
logger = logging.getLogger("data_sciplex_stream")


def write_triplets(path: Path, *, n_lines: int, seed: int, block: int = 2_000_000) -> None:
    """Write ``n_lines`` sorted-by-gene triplets with geometric counts to a gzip file."""
    rng = np.random.default_rng(seed)
    # human cell lines: nearly all UMIs on the 58,347 human genes, which come first
    human = rng.random(n_lines) < HUMAN_UMI_FRACTION
    genes = np.where(
        human,
        rng.integers(1, N_HUMAN_GENES + 1, size=n_lines),
        rng.integers(N_HUMAN_GENES + 1, N_GENES + 1, size=n_lines),
    )
    genes.sort()
    with gzip.open(path, "wt", compresslevel=6) as handle:
        for start in range(0, n_lines, block):
            g = genes[start : start + block]
            c = rng.integers(1, N_CELLS + 1, size=g.size)
            x = rng.geometric(0.7, size=g.size)
            handle.write("\n".join(f"{a}\t{b}\t{n}" for a, b, n in zip(g, c, x, strict=True)))
            handle.write("\n")


def stream(path: Path, keep_fraction: float, seed: int, chunk_lines: int, queue) -> None:
    """Child process: stream the file and report the timings and the peak memory."""
    setup_logging()
    rng = np.random.default_rng(seed + 1)
    keep_cells = np.sort(rng.choice(N_CELLS, size=int(keep_fraction * N_CELLS), replace=False))
    started = time.perf_counter()
    matrix = read_umi_triplets(
        path,
        keep_cells=keep_cells,
        keep_genes=np.arange(N_HUMAN_GENES),  # the human genes come first in the gene file
        n_cells=N_CELLS,
        n_genes=N_GENES,
        chunk_lines=chunk_lines,
    )
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            "kept": int(matrix.nnz),
            "peak_mib": peak_rss_mib(),
        }
    )


def run_child(context, target, *args) -> dict:
    """Run ``target(*args, queue)`` in a fresh process and return what it put on the queue."""
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000_000)
    parser.add_argument("--keep-fraction", type=float, default=0.09)
    parser.add_argument("--chunk-lines", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    setup_logging()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "UMI.count.matrix.gz"
        context = multiprocessing.get_context("spawn")  # fresh processes: clean peak memory
        started = time.perf_counter()
        writer = context.Process(
            target=write_triplets, args=(path,), kwargs={"n_lines": args.lines, "seed": args.seed}
        )
        writer.start()
        writer.join()
        logger.info("wrote %d lines in %.0f s", args.lines, time.perf_counter() - started)
        # keep no cell, the subset, every cell: memory growing with the kept triplets is
        # measured between the first and the last run, where it dominates the chunk buffers
        empty, result, full = (
            run_child(context, stream, path, fraction, args.seed, args.chunk_lines)
            for fraction in (0.0, args.keep_fraction, 1.0)
        )
        compressed = path.stat().st_size
    real_size = remote_file("sciplex3", "matrix").size
    bytes_per_line = compressed / args.lines
    real_lines = real_size / bytes_per_line
    rate_lines = args.lines / result["seconds"]
    per_kept = (full["peak_mib"] - empty["peak_mib"]) * 2**20 / full["kept"]
    real_kept = result["kept"] / args.lines * real_lines
    rows = [
        ("triplet lines", f"{args.lines:,}"),
        ("compressed size", f"{compressed / 2**20:,.1f} MiB ({bytes_per_line:.2f} B/line)"),
        ("cells kept", f"{args.keep_fraction:.0%} of {N_CELLS:,}; {result['kept']:,} triplets"),
        ("stream time", f"{result['seconds']:.1f} s"),
        ("rate", f"{rate_lines / 1e6:.2f} M lines/s, "
                 f"{compressed / 2**20 / result['seconds']:.1f} compressed MiB/s"),
        ("peak RSS", f"{result['peak_mib']:,.0f} MiB (no cell kept: {empty['peak_mib']:,.0f} MiB, all: {full['peak_mib']:,.0f} MiB)"),
        ("memory per kept triplet", f"{per_kept:.0f} B (arrays and the CSR build, from the keep-all run)"),
        ("real file, estimated lines", f"{real_lines / 1e6:,.0f} M (same B/line assumed)"),
        ("real file, projected time", f"{real_lines / rate_lines / 60:,.0f} min"),
        ("real file, projected peak", f"{empty['peak_mib'] + per_kept * real_kept / 2**20:,.0f} MiB"),
    ]  # fmt: skip
    print("| quantity | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
