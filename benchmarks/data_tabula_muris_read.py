"""Parse rate and peak memory of the Tabula Muris FACS CSV reader, on a synthetic counts CSV.

Writes one ``<Tissue>-counts.csv`` shaped like the real ones (23,433 rows = 23,341 genes + 92
ERCC, ``--cells`` columns, about 85 % zeros as in Smart-seq2 data), reads it in a fresh process
with :func:`michigan.data.tabula_muris.read_counts_csv`, and prints a Markdown table with the rate
and its projection to the 53,760 cells of the 20 real files.

    python benchmarks/data_tabula_muris_read.py --cells 2000
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from michigan.data._reporting import peak_rss_mib
from michigan.data.tabula_muris import read_counts_csv
from michigan.progress import setup_logging

N_GENES, N_ERCC, N_CELLS_REAL = 23_341, 92, 53_760
logger = logging.getLogger("data_tabula_muris_read")


def write_csv(path: Path, *, n_cells: int, seed: int) -> None:
    """Genes x cells CSV with an empty first header field and ~85 % zero read counts."""
    rng = np.random.default_rng(seed)
    cells = [f"A{i}.B000412.3_56_F.1.1" for i in range(n_cells)]
    genes = [f"Gene{g}" for g in range(N_GENES)] + [f"ERCC-{e:05d}" for e in range(N_ERCC)]
    expressed = rng.random((len(genes), n_cells)) < 0.15
    counts = np.where(expressed, rng.geometric(0.01, size=expressed.shape), 0)
    pd.DataFrame(counts, index=genes, columns=cells).to_csv(path)


def read(path: Path, n_cells: int, queue) -> None:
    """Child process: parse the CSV keeping every cell; report time and peak memory."""
    cells = pd.Index([f"A{i}.B000412.3_56_F.1.1" for i in range(n_cells)])
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        genes, _, counts = read_counts_csv(handle, source=str(path), cells=cells)
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            "genes": len(genes),
            "nnz": int(counts.nnz),
            "peak_mib": peak_rss_mib(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    setup_logging()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Heart-counts.csv"
        writer = context.Process(
            target=write_csv, args=(path,), kwargs={"n_cells": args.cells, "seed": args.seed}
        )
        writer.start()
        writer.join()
        size = path.stat().st_size
        queue = context.Queue()
        child = context.Process(target=read, args=(path, args.cells, queue))
        child.start()
        result = queue.get()
        child.join()
    fields = (N_GENES + N_ERCC) * args.cells
    rate = fields / result["seconds"]
    rows = [
        ("CSV", f"{N_GENES + N_ERCC:,} rows x {args.cells:,} cells, {size / 2**20:,.0f} MiB"),
        ("genes kept (ERCC removed)", f"{result['genes']:,}"),
        ("parse time", f"{result['seconds']:.1f} s ({rate / 1e6:.1f} M fields/s, "
                       f"{size / 2**20 / result['seconds']:.1f} MiB/s)"),
        ("peak RSS", f"{result['peak_mib']:,.0f} MiB"),
        ("sparse counts kept", f"{result['nnz']:,} non-zeros ({result['nnz'] * 8 / 2**20:,.0f} MiB)"),
        ("20 real files (53,760 cells), projected parse time",
         f"{(N_GENES + N_ERCC) * N_CELLS_REAL / rate / 60:,.1f} min"),
    ]  # fmt: skip
    print("| quantity | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
