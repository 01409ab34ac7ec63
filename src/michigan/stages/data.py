"""Data stages: download, build the real datasets, import users' h5ad files, preprocess."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue, keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    import anndata as ad

    from michigan import config as cfg

logger = logging.getLogger(__name__)


def _summary(adata: ad.AnnData) -> dict[str, Any]:
    return {"n_cells": adata.n_obs, "n_genes": adata.n_vars}


def _verified_local(source: str, role: str, path: Path) -> Path:
    """Check a raw input where it is (a folder is left to the reader); never write beside it."""
    from michigan.data.download import verify_local_copy

    if path.is_file():
        verify_local_copy(catalogue.remote_file(source, role), path)
    return path


@stage(
    "download",
    help="Fetch one raw file of a public dataset into resources/ and verify its size and digests.",
    section="downloads",
    arguments=(
        arg("--source", required=True, choices=list(catalogue.SOURCES), help="raw-file source"),
        arg("--role", required=True, help="file role, e.g. counts, annotations, matrix, pdata"),
        arg("--output", type=Path, required=True, help="where the verified file goes"),
    ),
    inputs=lambda a: {},
    outputs=lambda a: {"file": a.output},
)
def download(args: argparse.Namespace, section: cfg.DownloadsConfig) -> dict[str, Any]:
    """Download (with retries and resume) or verify one raw file."""
    from michigan.data.download import RetryPolicy, fetch

    remote = catalogue.remote_file(args.source, args.role)
    policy = RetryPolicy(
        retries=section.retries, timeout_s=section.timeout_s, backoff_s=section.backoff_s
    )
    verified = fetch(remote, args.output, offline=section.offline, policy=policy)
    return {"url": remote.url, "bytes": verified.size, "sha256": verified.sha256}


@stage(
    "tabula-muris",
    help="Build one AnnData of the annotated Tabula Muris FACS cells (ERCC spike-ins removed).",
    section="tabula_muris",
    arguments=(
        arg("--counts", type=Path, required=True, help="FACS.zip or its unzipped folder"),
        arg("--annotations", type=Path, required=True, help="annotations_FACS.csv"),
        arg("--output", type=Path, required=True, help="counts .h5ad to write"),
    ),
    inputs=lambda a: {"counts": a.counts, "annotations": a.annotations},
    outputs=lambda a: {"counts": a.output},
)
def tabula_muris(args: argparse.Namespace, section: cfg.TabulaMurisConfig) -> dict[str, Any]:
    """Read the per-tissue count tables and the annotations into one AnnData."""
    counts = _verified_local("tabula_muris", "counts", args.counts)
    annotations = _verified_local("tabula_muris", "annotations", args.annotations)

    from michigan.data.tabula_muris import read_tabula_muris_facs
    from michigan.io import write_h5ad

    adata = read_tabula_muris_facs(
        counts, annotations, min_cells_per_type=section.min_cells_per_type
    )
    write_h5ad(adata, args.output)
    return {**_summary(adata), "n_cell_types": int(adata.obs[keys.CELL_TYPE].nunique())}


@stage(
    "sciplex",
    help="Stream the sci-Plex 3 files into the paper's subset and compare its counts with Table S1.",
    section="sciplex",
    arguments=(
        arg("--matrix", type=Path, required=True, help="UMI triplet file"),
        arg("--genes", type=Path, required=True, help="gene annotation file"),
        arg("--cells", type=Path, required=True, help="cell annotation file"),
        arg("--pdata", type=Path, required=True, help="pData file"),
        arg("--output", type=Path, required=True, help="counts .h5ad to write"),
        arg("--table-s1", type=Path, required=True, help="TSV: our cell counts beside Table S1"),
    ),
    inputs=lambda a: {"matrix": a.matrix, "genes": a.genes, "cells": a.cells, "pdata": a.pdata},
    outputs=lambda a: {"counts": a.output, "table_s1": a.table_s1},
)
def sciplex(args: argparse.Namespace, section: cfg.SciPlexConfig) -> dict[str, Any]:
    """Select the paper's cells while streaming the matrix; write the Table S1 comparison."""
    roles = {"matrix": args.matrix, "genes": args.genes, "cells": args.cells, "pdata": args.pdata}
    paths = {role: _verified_local("sciplex3", role, path) for role, path in roles.items()}

    from michigan import config as cfg
    from michigan.data.sciplex import SciPlexSelection, read_sciplex3
    from michigan.data.table_s1 import compare_with_table_s1
    from michigan.io import atomic_path, write_h5ad

    adata = read_sciplex3(
        paths["matrix"],
        paths["genes"],
        paths["cells"],
        paths["pdata"],
        selection=cfg.library_params(SciPlexSelection, section),
        chunk_lines=section.chunk_lines,
    )
    write_h5ad(adata, args.output)
    comparison = compare_with_table_s1(adata.obs, cell_type_key=keys.CELL_TYPE, drug_key=keys.DRUG)
    with atomic_path(args.table_s1) as tmp:
        comparison.to_csv(tmp, sep="\t", index=False)
    return {**_summary(adata), "table_s1_total_paper": 64050}


@stage(
    "import-h5ad",
    help="Validate a user's .h5ad and write its counts (or log-normalised values) with the pipeline's obs keys.",
    section="h5ad",
    arguments=(
        arg("--name", required=True, help="dataset name under h5ad.datasets in the config"),
        arg("--output", type=Path, required=True, help="counts .h5ad to write"),
    ),
    inputs=lambda a: {},
    outputs=lambda a: {"counts": a.output},
)
def import_h5ad(args: argparse.Namespace, section: cfg.H5adConfig) -> dict[str, Any]:
    """Load and validate one configured user dataset."""
    from michigan.data.user_h5ad import load_h5ad
    from michigan.io import write_h5ad
    from michigan.messages import examples, quote

    if args.name not in section.datasets:
        msg = (
            f"h5ad.datasets has no dataset {quote(args.name)}; "
            f"configured: {examples(sorted(section.datasets), limit=20)}"
        )
        raise KeyError(msg)
    entry = section.datasets[args.name]
    adata = load_h5ad(
        Path(entry.path),
        counts_layer=entry.counts_layer,
        factor_keys=entry.factor_keys,
        cell_type_key=entry.cell_type_key,
        drug_key=entry.drug_key,
        min_cells_per_group=entry.min_cells_per_group,
        normalised=entry.normalised,
    )
    write_h5ad(adata, args.output)
    return {**_summary(adata), "source": entry.path, "normalised": entry.normalised}


@stage(
    "preprocess",
    help="Run the shared scanpy recipe (filters, normalisation, log1p, HVG, scaling) on counts.",
    section="preprocess",
    arguments=(
        arg("--input", type=Path, required=True, help="counts .h5ad"),
        arg("--output", type=Path, required=True, help="preprocessed .h5ad to write"),
    ),
    inputs=lambda a: {"counts": a.input},
    outputs=lambda a: {"preprocessed": a.output},
)
def preprocess(args: argparse.Namespace, section: cfg.PreprocessConfig) -> dict[str, Any]:
    """Apply :func:`michigan.data.preprocess.preprocess`; the raw counts stay in a layer."""
    from michigan import config as cfg
    from michigan.data.preprocess import PreprocessParams
    from michigan.data.preprocess import preprocess as run_recipe
    from michigan.io import read_h5ad, write_h5ad

    adata = run_recipe(
        read_h5ad(args.input),
        params=cfg.library_params(PreprocessParams, section),
        source=str(args.input),
    )
    write_h5ad(adata, args.output)
    return _summary(adata)


@stage(
    "subset",
    help="Take the rows of a preprocessed dataset whose obs column has the given values.",
    section=None,
    arguments=(
        arg("--input", type=Path, required=True, help="preprocessed .h5ad"),
        arg("--key", required=True, help="obs column to select on, e.g. tissue"),
        arg("--values", nargs="+", required=True, help="values to keep, e.g. Heart"),
        arg("--output", type=Path, required=True, help="subset .h5ad to write"),
    ),
    inputs=lambda a: {"preprocessed": a.input},
    outputs=lambda a: {"subset": a.output},
)
def subset(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Subset rows, keeping the genes chosen on the whole dataset (the Tabula Muris heart)."""
    from michigan.data.preprocess import subset_cells
    from michigan.io import read_h5ad, write_h5ad

    adata = subset_cells(read_h5ad(args.input), key=args.key, values=args.values)
    write_h5ad(adata, args.output)
    return _summary(adata)
