"""Readers for the raw sci-Plex 3 files of GEO GSM4150378, in their exact published formats.

- ``UMI.count.matrix.gz``: one non-zero per line, ``gene_idx <TAB> cell_idx <TAB> count``, no header,
  **1-based** indices into the gene and cell annotation files; 3.1 GB compressed. It is streamed in
  chunks and only the requested cells and genes are kept.
- ``gene.annotations.txt.gz``: space-separated ``id gene_short_name`` **with a header line**;
  ``gene_idx`` k is the k-th row *after* the header (reading the header as a gene shifts every gene,
  the bug of sanderlab/scPerturb issues 7 and 27). Human ``ENSG`` rows first, then mouse ones.
- ``cell.annotations.txt.gz``: tab-separated ``barcode sample``, no header; row j is ``cell_idx`` j.
- ``pData.txt.gz``: R ``write.table`` output, space-separated with quoted strings, a header of column
  names and one more field (the row name = barcode) on every data row, ``NA`` for missing values.
"""

from __future__ import annotations

import csv
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from michigan.data._files import open_binary, open_text, parsed_chunks, require_file
from michigan.data._reporting import ThrottledProgress, peak_rss_mib
from michigan.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import BinaryIO

logger = logging.getLogger(__name__)

GENE_HEADER = ("id", "gene_short_name")


# --------------------------------------------------------------------------------------------------
# annotation files


def read_gene_annotations(path: Path) -> pd.DataFrame:
    """Read ``gene.annotations``: one row per gene, row ``k - 1`` is ``gene_idx`` k of the matrix.

    The header line ``id gene_short_name`` is recognised and skipped; a file without it is accepted
    when its first field looks like an Ensembl id (``ENS…``). Quoted fields and a leading row-name
    column (R ``write.table`` with row names) are accepted.

    Parameters
    ----------
    path
        The (optionally gzip-compressed) gene annotation file.

    Returns
    -------
    pandas.DataFrame
        Columns ``gene_id`` and ``gene_short_name`` (strings), default integer index.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If the first line is neither the expected header nor a gene row, or rows do not have 2
        (or 3, with a row name) fields.
    """
    require_file(path, what="sci-Plex gene annotation file")
    with open_text(path) as handle:
        rows = [
            row for row in csv.reader(handle, delimiter=" ", quotechar='"', skipinitialspace=True)
        ]
    rows = [[token for token in row if token] for row in rows if any(row)]
    if not rows:
        msg = f"gene annotation file {path} is empty"
        raise ValueError(msg)
    first = tuple(rows[0])
    if first == GENE_HEADER:
        data = rows[1:]
    elif len(first) >= 2 and first[-2].startswith("ENS"):
        logger.warning("%s has no 'id gene_short_name' header; its first line is gene 1", path)
        data = rows
    else:
        msg = (
            f"gene annotation file {path}: first line {' '.join(first)!r} is neither the header "
            f"{' '.join(GENE_HEADER)!r} nor a gene row starting with an Ensembl id"
        )
        raise ValueError(msg)
    widths = {len(row) for row in data}
    if not widths <= {2, 3} or len(widths) != 1:
        msg = (
            f"gene annotation file {path}: rows must have 2 fields (id, gene_short_name) or 3 "
            f"(row name, id, gene_short_name); found widths {sorted(widths)}"
        )
        raise ValueError(msg)
    table = pd.DataFrame([row[-2:] for row in data], columns=["gene_id", "gene_short_name"])
    logger.info("read %d genes from %s", len(table), path)
    return table


def read_cell_annotations(path: Path) -> pd.DataFrame:
    """Read ``cell.annotations`` (tab-separated ``barcode sample``, no header).

    Returns
    -------
    pandas.DataFrame
        Columns ``barcode`` and ``sample``; row ``j - 1`` is ``cell_idx`` j of the matrix.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If a row does not have exactly 2 tab-separated fields.
    """
    require_file(path, what="sci-Plex cell annotation file")
    with open_text(path) as handle:
        try:
            table = pd.read_csv(
                handle, sep="\t", header=None, names=["barcode", "sample"], dtype=str
            )
        except pd.errors.ParserError as exc:
            msg = f"cell annotation file {path}: expected 2 tab-separated fields per row ({exc})"
            raise ValueError(msg) from exc
    if table.isna().to_numpy().any():
        msg = f"cell annotation file {path}: some rows have fewer than 2 tab-separated fields"
        raise ValueError(msg)
    logger.info("read %d cells from %s", len(table), path)
    return table


def _pdata_layout(path: Path) -> tuple[list[str], bool]:
    """Column names of ``pData`` and whether data rows carry a leading row name."""
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=" ", quotechar='"')
        try:
            header = next(reader)
            first = next(reader)
        except StopIteration:
            msg = f"pData file {path} has no data rows"
            raise ValueError(msg) from None
    if len(first) == len(header) + 1:
        return header, True
    if len(first) == len(header):
        return header, False
    msg = (
        f"pData file {path}: header has {len(header)} names but the first data row has "
        f"{len(first)} fields (expected {len(header) + 1} with a row name, or {len(header)})"
    )
    raise ValueError(msg)


def iter_pdata(
    path: Path, *, columns: tuple[str, ...], chunk_rows: int = 200_000
) -> Iterator[pd.DataFrame]:
    """Yield ``pData`` in chunks of rows, with the barcode and the requested columns as strings.

    Parameters
    ----------
    path
        The (optionally gzip-compressed) pData file.
    columns
        Column names to read besides the barcode; ``NA`` becomes a missing value.
    chunk_rows
        Rows per chunk.

    Yields
    ------
    pandas.DataFrame
        Column ``barcode`` (row name, or the ``cell`` column when rows have no name) and ``columns``.

    Raises
    ------
    KeyError
        If a requested column is not in the header; the message names the file and the column.
    """
    require_file(path, what="sci-Plex pData file")
    header, has_row_names = _pdata_layout(path)
    missing = [name for name in columns if name not in header]
    if missing:
        msg = f"pData file {path} lacks the columns {missing}; its header has {header}"
        raise KeyError(msg)
    if not has_row_names and "cell" not in header:
        msg = f"pData file {path} has neither row names nor a 'cell' column to take barcodes from"
        raise KeyError(msg)
    names = ["barcode", *header] if has_row_names else header
    barcode_column = "barcode" if has_row_names else "cell"
    usecols = sorted({barcode_column, *columns}, key=names.index)
    with open_text(path) as handle:
        reader = pd.read_csv(
            handle,
            sep=" ",
            quotechar='"',
            header=None,
            skiprows=1,
            names=names,
            usecols=usecols,
            dtype=str,
            keep_default_na=False,
            na_values=["NA"],
            chunksize=chunk_rows,
        )
        for chunk in reader:
            yield chunk.rename(columns={barcode_column: "barcode"})


# --------------------------------------------------------------------------------------------------
# the UMI triplet matrix


def read_umi_triplets(
    path: Path,
    *,
    keep_cells: np.ndarray,
    keep_genes: np.ndarray,
    n_cells: int,
    n_genes: int,
    chunk_lines: int = 4_000_000,
    progress_interval_s: float = 30.0,
) -> sp.csr_matrix:
    """Stream the 1-based ``gene cell count`` triplet file into a cells × genes sparse matrix.

    Only entries of ``keep_cells`` and ``keep_genes`` are kept, in the order given, so memory grows
    with the subset, not with the file. Progress is logged in compressed MiB read, with rate and ETA.

    Parameters
    ----------
    path
        The (optionally gzip-compressed) triplet file: whitespace-separated integers
        ``gene_idx cell_idx count``, 1-based, no header.
    keep_cells
        0-based rows of the cell annotation file to keep, ``[kept_cells]``; row i of the result is
        cell ``keep_cells[i]``.
    keep_genes
        0-based rows of the gene annotation file (after its header) to keep, ``[kept_genes]``.
    n_cells, n_genes
        Number of rows of the cell and gene annotation files (the valid index ranges).
    chunk_lines
        Lines parsed at a time.
    progress_interval_s
        Seconds between progress lines.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``[kept_cells, kept_genes]`` float32 UMI counts (duplicate triplets summed).

    Raises
    ------
    ValueError
        On a line that is not three integers, an index of 0 or beyond ``n_cells``/``n_genes``
        (the file is 1-based; a gene index one too large points at a miscounted header line),
        or a negative count.
    """
    require_file(path, what="sci-Plex UMI count matrix")
    _require_three_fields(path)
    cell_map = _position_map(keep_cells, n_cells)
    gene_map = _position_map(keep_genes, n_genes)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    total_mib = path.stat().st_size / 2**20
    progress = ThrottledProgress(
        Progress(total_mib, desc=f"stream {path.name} (compressed MiB)", unit="MiB", logger=logger),
        interval_s=progress_interval_s,
    )
    n_lines = n_kept = 0
    with path.open("rb") as raw, open_binary(raw, path) as stream:
        for triplets in _triplet_chunks(stream, path=path, chunk_lines=chunk_lines):
            _check_triplets(
                triplets, path=path, first_line=n_lines + 1, n_cells=n_cells, n_genes=n_genes
            )
            row = cell_map[triplets[:, 1]]
            col = gene_map[triplets[:, 0]]
            keep = (row >= 0) & (col >= 0)
            rows.append(row[keep].astype(np.int32))
            cols.append(col[keep].astype(np.int32))
            vals.append(triplets[keep, 2].astype(np.float32))
            n_lines += len(triplets)
            n_kept += int(keep.sum())
            progress.update(raw.tell() / 2**20)
    progress.finish(total_mib)
    matrix = sp.coo_matrix(
        (
            np.concatenate(vals) if vals else np.zeros(0, np.float32),
            (
                np.concatenate(rows) if rows else np.zeros(0, np.int32),
                np.concatenate(cols) if cols else np.zeros(0, np.int32),
            ),
        ),
        shape=(len(keep_cells), len(keep_genes)),
    ).tocsr()
    logger.info(
        "UMI matrix: %d triplets read, %d kept (%d cells x %d genes); peak RSS %.0f MiB",
        n_lines,
        n_kept,
        matrix.shape[0],
        matrix.shape[1],
        peak_rss_mib(),
    )
    return matrix


def _require_three_fields(path: Path) -> None:
    """Reject a triplet file whose first line is not exactly three fields (a header, or a 4th column)."""
    with open_text(path) as handle:
        first = handle.readline().split()
    if first and (len(first) != 3 or not all(field.lstrip("+-").isdigit() for field in first)):
        msg = (
            f"UMI matrix {path} line 1 is {' '.join(first)!r}; expected three integers "
            "'gene_idx cell_idx count' and no header"
        )
        raise ValueError(msg)


def _triplet_chunks(stream: BinaryIO, *, path: Path, chunk_lines: int) -> Iterator[np.ndarray]:
    """Yield ``[lines, 3]`` int64 arrays of the triplet file; parse failures name the file."""
    reader = pd.read_csv(
        stream,
        sep=r"\s+",
        header=None,
        names=["gene", "cell", "count"],
        dtype=np.int64,
        index_col=False,
        chunksize=chunk_lines,
    )
    expected = "expected three whitespace-separated integers 'gene_idx cell_idx count' per line"
    for chunk in parsed_chunks(reader, source=f"UMI matrix {path}", expected=expected):
        yield chunk.to_numpy()


def _position_map(keep: np.ndarray, n: int) -> np.ndarray:
    """Array indexed by a 1-based file index giving the output position, or -1 if dropped."""
    keep = np.asarray(keep, dtype=np.int64)
    if keep.size and (keep.min() < 0 or keep.max() >= n):
        msg = f"positions to keep must lie in [0, {n}), got range [{keep.min()}, {keep.max()}]"
        raise ValueError(msg)
    mapping = np.full(n + 1, -1, dtype=np.int64)
    mapping[keep + 1] = np.arange(keep.size)
    return mapping


def _check_triplets(
    triplets: np.ndarray, *, path: Path, first_line: int, n_cells: int, n_genes: int
) -> None:
    """Validate one chunk of triplets; the message names the file and the first bad line."""
    checks = (
        (triplets[:, 0] < 1, "gene index < 1 (the file is 1-based; 0 is not a valid index)"),
        (triplets[:, 1] < 1, "cell index < 1 (the file is 1-based; 0 is not a valid index)"),
        (
            triplets[:, 0] > n_genes,
            f"gene index beyond the {n_genes} genes of the gene annotation file (was its header "
            "line counted as a gene, or is it the wrong file?)",
        ),
        (
            triplets[:, 1] > n_cells,
            f"cell index beyond the {n_cells} cells of the cell annotation file",
        ),
        (triplets[:, 2] < 0, "negative count"),
    )
    for bad, what in checks:
        if bad.any():
            line = first_line + int(np.flatnonzero(bad)[0])
            msg = f"UMI matrix {path} line {line}: {what}: {' '.join(map(str, triplets[line - first_line]))}"
            raise ValueError(msg)
