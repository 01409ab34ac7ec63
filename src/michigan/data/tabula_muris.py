"""Tabula Muris FACS (Smart-seq2, figshare article 5829687 v2) → one AnnData of annotated cells.

Raw files:

- ``FACS.zip``: one ``FACS/<Tissue>-counts.csv`` per tissue (20 tissues). Each CSV is **genes ×
  cells**, comma-separated; the header row starts with an empty field followed by the cell ids;
  each further row is a gene symbol then integer read counts. Every file has 23,433 rows: 23,341
  genes and 92 ERCC spike-ins (``ERCC-…``), which are dropped. The files hold all 53,760 sequenced
  cells, not only those passing the consortium's QC. An unzipped folder of these CSVs is accepted too.
- ``annotations_FACS.csv``: one row per QC-passed cell (44,949) with the columns ``cell, tissue,
  subtissue, FACS.selection, plate.barcode, cell_ontology_class, cell_ontology_id,
  free_annotation, cluster.ids, mouse.sex, mouse.id``. Joining on it applies the consortium's QC
  (≥ 500 genes, ≥ 50,000 reads); rows without ``cell_ontology_class`` are dropped (44,779 remain,
  81 classes).

The paper reports 41,965 cells of 64 types; its exact filter is unknown. ``min_cells_per_type=64``
keeps exactly 64 types (44,045 cells) and is offered as an option, not a default.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from michigan import keys
from michigan.data._files import parsed_chunks, require_file
from michigan.data._reporting import peak_rss_mib

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

logger = logging.getLogger(__name__)

ERCC_PREFIX = "ERCC-"
COUNTS_FILE_PATTERN = re.compile(r"(?:^|/)([^/]+)-counts\.csv$")
#: annotation columns kept in obs, and their obs names
ANNOTATION_OBS_COLUMNS = {
    "cell_ontology_class": keys.CELL_TYPE,
    "cell_ontology_id": "cell_ontology_id",
    "tissue": keys.TISSUE,
    "subtissue": "subtissue",
    "mouse.id": "mouse_id",
    "mouse.sex": "mouse_sex",
    "plate.barcode": "plate_barcode",
    "FACS.selection": "facs_selection",
    "free_annotation": "free_annotation",
}


def read_facs_annotations(path: Path, *, min_cells_per_type: int = 0) -> pd.DataFrame:
    """Read ``annotations_FACS.csv`` and keep the cells with a cell type.

    Parameters
    ----------
    path
        The annotation CSV.
    min_cells_per_type
        Drop cell types (``cell_ontology_class``) with fewer cells than this; 0 keeps all.

    Returns
    -------
    pandas.DataFrame
        Index = cell id; the columns of :data:`ANNOTATION_OBS_COLUMNS`, renamed to their obs names.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    KeyError
        If a needed column is missing; the message names the file and the column.
    ValueError
        If cell ids repeat, or ``min_cells_per_type`` is negative or removes every cell.
    """
    require_file(path, what="Tabula Muris annotation file")
    if min_cells_per_type < 0:
        msg = f"min_cells_per_type must be >= 0, got {min_cells_per_type}"
        raise ValueError(msg)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=["", "NA"])
    missing = [c for c in ("cell", *ANNOTATION_OBS_COLUMNS) if c not in table.columns]
    if missing:
        msg = f"annotation file {path} lacks the columns {missing}; it has {list(table.columns)}"
        raise KeyError(msg)
    if table["cell"].duplicated().any():
        repeated = table.loc[table["cell"].duplicated(), "cell"].head(5).tolist()
        msg = f"annotation file {path} lists some cells twice, e.g. {repeated}"
        raise ValueError(msg)
    annotated = table[table["cell_ontology_class"].notna()]
    logger.info(
        "%s: %d cells, %d with a cell type (%d types)",
        path,
        len(table),
        len(annotated),
        annotated["cell_ontology_class"].nunique(),
    )
    if min_cells_per_type:
        sizes = annotated["cell_ontology_class"].value_counts()
        small = sizes[sizes < min_cells_per_type]
        annotated = annotated[~annotated["cell_ontology_class"].isin(small.index)]
        logger.info(
            "dropped %d cell types with < %d cells (%d cells): %s",
            len(small),
            min_cells_per_type,
            int(small.sum()),
            ", ".join(small.index),
        )
    if annotated.empty:
        msg = f"no annotated cell left in {path} (min_cells_per_type={min_cells_per_type})"
        raise ValueError(msg)
    obs = annotated.set_index("cell")[list(ANNOTATION_OBS_COLUMNS)]
    obs.index.name = None
    return obs.rename(columns=ANNOTATION_OBS_COLUMNS)


@contextmanager
def _counts_tables(counts: Path) -> Iterator[list[tuple[str, io.TextIOBase]]]:
    """Open every ``<Tissue>-counts.csv`` of a zip file or a folder, sorted by tissue name."""
    if not counts.exists():
        msg = f"Tabula Muris counts not found: {counts} (expected FACS.zip or a folder of CSVs)"
        raise FileNotFoundError(msg)
    if counts.is_dir():
        paths = sorted(p for p in counts.rglob("*-counts.csv"))
        tables = [(_tissue_name(p.name), p.open(encoding="utf-8", newline="")) for p in paths]
        archive = None
    else:
        if not zipfile.is_zipfile(counts):
            msg = f"{counts} is neither a zip file nor a folder of <Tissue>-counts.csv files"
            raise ValueError(msg)
        archive = zipfile.ZipFile(counts)
        members = sorted(n for n in archive.namelist() if COUNTS_FILE_PATTERN.search(n))
        tables = [
            (_tissue_name(n), io.TextIOWrapper(archive.open(n), encoding="utf-8", newline=""))
            for n in members
        ]
    try:
        if not tables:
            msg = f"{counts} holds no <Tissue>-counts.csv file"
            raise ValueError(msg)
        yield tables
    finally:
        for _, handle in tables:
            handle.close()
        if archive is not None:
            archive.close()


def _tissue_name(file_name: str) -> str:
    match = COUNTS_FILE_PATTERN.search(file_name)
    return match.group(1) if match else file_name


def read_counts_csv(
    handle: io.TextIOBase,
    *,
    source: str,
    cells: pd.Index,
    chunk_genes: int = 2000,
) -> tuple[list[str], list[str], sp.csr_matrix]:
    """Read one ``<Tissue>-counts.csv`` (genes × cells) keeping the listed cells and no ERCC rows.

    Parameters
    ----------
    handle
        Open text handle of the CSV.
    source
        Name of the file, for messages.
    cells
        Cell ids to keep (others in the file are skipped while parsing).
    chunk_genes
        Gene rows parsed at a time.

    Returns
    -------
    genes : list of str
        Gene symbols, in file order, without ``ERCC-`` rows.
    kept_cells : list of str
        Ids of the kept cells, in file order.
    counts : scipy.sparse.csr_matrix
        ``[kept_cells, genes]`` float32 counts.

    Raises
    ------
    ValueError
        If the header does not start with an empty field, a count is negative or not a number.
    """
    header = next(csv.reader([handle.readline()]))
    if not header or header[0].strip('"') != "":
        msg = f"{source}: the header row must start with an empty field, then the cell ids"
        raise ValueError(msg)
    wanted = [i for i, cell in enumerate(header) if i > 0 and cell in cells]
    kept_cells = [header[i] for i in wanted]
    genes: list[str] = []
    blocks: list[sp.csr_matrix] = []
    reader = pd.read_csv(
        handle,
        header=None,
        usecols=[0, *wanted],
        dtype={0: str, **dict.fromkeys(wanted, np.float32)},
        keep_default_na=False,  # a gene symbol is never a missing value
        chunksize=chunk_genes,
    )
    expected = "expected a gene symbol then one read count per cell on every row"
    for chunk in parsed_chunks(reader, source=source, expected=expected):
        chunk = chunk[~chunk[0].str.startswith(ERCC_PREFIX)]
        values = chunk[wanted].to_numpy(dtype=np.float32)
        if not np.isfinite(values).all() or (values < 0).any():
            msg = f"{source}: counts must be finite and non-negative"
            raise ValueError(msg)
        genes.extend(chunk[0].tolist())
        blocks.append(sp.csr_matrix(values))
    counts = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, len(wanted)))
    return genes, kept_cells, counts.T.tocsr()


def read_tabula_muris_facs(
    counts: Path,
    annotations: Path,
    *,
    min_cells_per_type: int = 0,
    chunk_genes: int = 2000,
) -> ad.AnnData:
    """Build one AnnData of the annotated Tabula Muris FACS cells, ERCC spike-ins removed.

    Parameters
    ----------
    counts
        ``FACS.zip`` or a folder holding the ``<Tissue>-counts.csv`` files.
    annotations
        ``annotations_FACS.csv``.
    min_cells_per_type
        Drop cell types with fewer cells than this (0: keep all; 64 gives the paper's 64 types).
    chunk_genes
        Gene rows of a CSV parsed at a time (memory ≈ 4 bytes × ``chunk_genes`` × cells per file).

    Returns
    -------
    anndata.AnnData
        ``[cells, genes]`` float32 CSR read counts, cells in file order (tissues sorted by name).
        ``obs`` (index = cell id): ``cell_type`` (``cell_ontology_class``), ``cell_ontology_id``,
        ``tissue``, ``subtissue``, ``mouse_id``, ``mouse_sex``, ``plate_barcode``,
        ``facs_selection``, ``free_annotation`` (categoricals). ``var`` index = gene symbol.

    Raises
    ------
    FileNotFoundError
        If an input is missing.
    KeyError
        If the annotation file lacks a column.
    ValueError
        If the CSVs disagree on the genes, a cell appears twice, or annotated cells are missing
        from the CSVs.
    """
    obs = read_facs_annotations(annotations, min_cells_per_type=min_cells_per_type)
    gene_names: list[str] | None = None
    cell_ids: list[str] = []
    blocks: list[sp.csr_matrix] = []
    with _counts_tables(counts) as tables:
        for tissue, handle in tables:
            source = f"{counts}:{tissue}-counts.csv"
            genes, kept, block = read_counts_csv(
                handle, source=source, cells=obs.index, chunk_genes=chunk_genes
            )
            if gene_names is None:
                gene_names = genes
            elif genes != gene_names:
                msg = f"{source} lists other genes (or another order) than the first counts file"
                raise ValueError(msg)
            logger.info("%s: kept %d annotated cells", source, len(kept))
            cell_ids.extend(kept)
            blocks.append(block)
    _check_cells(cell_ids, obs.index, counts=counts, annotations=annotations)
    matrix = sp.vstack(blocks, format="csr")
    adata = ad.AnnData(X=matrix, obs=obs.loc[cell_ids], var=pd.DataFrame(index=gene_names))
    for column in adata.obs.columns:
        adata.obs[column] = adata.obs[column].astype("category")
    logger.info(
        "Tabula Muris FACS: %d cells x %d genes, %d cell types, %d tissues; peak RSS %.0f MiB",
        adata.n_obs,
        adata.n_vars,
        adata.obs[keys.CELL_TYPE].nunique(),
        adata.obs[keys.TISSUE].nunique(),
        peak_rss_mib(),
    )
    return adata


def _check_cells(found: list[str], wanted: pd.Index, *, counts: Path, annotations: Path) -> None:
    """Every annotated cell must appear exactly once in the counts files."""
    found_index = pd.Index(found)
    if found_index.has_duplicates:
        repeated = found_index[found_index.duplicated()].unique()[:5].tolist()
        msg = f"cells appear in more than one counts file of {counts}, e.g. {repeated}"
        raise ValueError(msg)
    absent = wanted.difference(found_index)
    if len(absent):
        msg = (
            f"{len(absent)} annotated cells of {annotations} are in no counts file of {counts}, "
            f"e.g. {absent[:5].tolist()}; is a tissue CSV missing?"
        )
        raise ValueError(msg)
