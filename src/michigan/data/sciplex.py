"""sci-Plex 3 (Srivatsan et al. 2020, GEO GSM4150378) → the MichiGAN subset as one AnnData.

The subset (Yu & Welch 2021, Table S1): cell types A549, K562 and MCF7, the 18 drugs of
:func:`michigan.data.table_s1.table_s1_drugs`, all doses, **both time points** (24 h and the A549-only
72 h plates; Table S1's A549 counts include them), no vehicle controls (Table S1 counts none; they
can be kept as an option). Cells pass the sci-Plex authors' hash quality filter first (both hash oligos assigned,
``hash_umis >= 5`` and ``top_to_second_best_ratio >= 5`` for the P and W hashes, ``rt_well != 1``;
sci-plex ``Notebook3_preprocess_data.R``, confirmed by the first author in welch-lab/PerturbNet
issue 7). Whether MichiGAN applied this filter is not stated; it can be switched off.

Drug names, targets and pathways come from pData, where the sci-Plex authors joined them from the
Selleck catalog table (``drugProperties_short.tsv``) on the catalog number; the paper's catalog
typo (S1261 for S1262) is handled in :mod:`michigan.data.table_s1`. The raw file formats are
described in :mod:`michigan.data.sciplex_files`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from michigan import keys
from michigan.data._files import require_file
from michigan.data._reporting import ThrottledProgress, peak_rss_mib
from michigan.data.sciplex_files import (
    iter_pdata,
    read_cell_annotations,
    read_gene_annotations,
    read_umi_triplets,
)
from michigan.data.table_s1 import TABLE_S1_CELL_TYPES, table_s1_drugs, warn_paper_typos
from michigan.progress import Progress

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

VEHICLE_CATALOG = "S0000"
#: obs columns copied from pData (renamed where a shared key exists)
PDATA_OBS_COLUMNS = {
    "cell_type": keys.CELL_TYPE,
    "catalog_number": keys.DRUG,
    "product_name": "product_name",
    "pathway": keys.PATHWAY,
    "target": "target",
    "dose": keys.DOSE,
    "time_point": keys.TIME_POINT,
    "replicate": "replicate",
    "vehicle": keys.VEHICLE,
}
HASH_QC_COLUMNS = (
    "top_oligo_P",
    "top_oligo_W",
    "hash_umis_P",
    "hash_umis_W",
    "top_to_second_best_ratio_P",
    "top_to_second_best_ratio_W",
    "rt_well",
)
_TRUE_TOKENS = frozenset({"TRUE", "T", "1", "YES"})
SELECTION_UNS_KEY = "sciplex_selection"


@dataclass(frozen=True)
class SciPlexSelection:
    """Which sci-Plex 3 cells and genes make the MichiGAN subset.

    Attributes
    ----------
    cell_types
        Cell lines kept (pData ``cell_type``).
    drugs
        Catalog numbers kept (pData ``catalog_number``); default the 18 of Table S1, with the
        paper's S1261 corrected to S1262.
    keep_vehicle
        Also keep the vehicle (DMSO) controls of these cell types (catalog ``S0000``); the paper
        did not (Table S1).
    time_points
        Hours after treatment kept (pData ``time_point``); 72 h exists for A549 only.
    hash_qc
        Apply the sci-Plex authors' hash-assignment filter.
    min_hash_umis
        Minimum ``hash_umis_P`` and ``hash_umis_W`` for ``hash_qc``.
    min_hash_ratio
        Minimum ``top_to_second_best_ratio_P`` and ``_W`` for ``hash_qc``.
    gene_id_prefix
        Genes kept by id prefix (``ENSG`` = human; drops the mouse rows of the barnyard reference).
    """

    cell_types: tuple[str, ...] = TABLE_S1_CELL_TYPES
    drugs: tuple[str, ...] = field(default_factory=table_s1_drugs)
    keep_vehicle: bool = False
    time_points: tuple[int, ...] = (24, 72)
    hash_qc: bool = True
    min_hash_umis: float = 5.0
    min_hash_ratio: float = 5.0
    gene_id_prefix: str = "ENSG"

    def __post_init__(self) -> None:
        """Reject empty or duplicated lists and negative thresholds."""
        for name in ("cell_types", "drugs", "time_points"):
            values = getattr(self, name)
            if not values or len(set(values)) != len(values):
                msg = f"SciPlexSelection.{name} must be a non-empty list without repeats, got {values}"
                raise ValueError(msg)
        if self.min_hash_umis < 0 or self.min_hash_ratio < 0:
            msg = (
                "SciPlexSelection.min_hash_umis and min_hash_ratio must be >= 0, got "
                f"{self.min_hash_umis} and {self.min_hash_ratio}"
            )
            raise ValueError(msg)


# --------------------------------------------------------------------------------------------------
# cell selection (pure functions of the pData table)


def parse_r_logical(values: pd.Series) -> np.ndarray:
    """Map R logicals written as text (``TRUE``/``FALSE``/``T``/``F``/``NA``) to a bool array."""
    return values.fillna("FALSE").astype(str).str.strip().str.upper().isin(_TRUE_TOKENS).to_numpy()


def hash_qc_mask(
    pdata: pd.DataFrame, *, min_hash_umis: float = 5.0, min_hash_ratio: float = 5.0
) -> np.ndarray:
    """Cells that pass the sci-Plex authors' hash-assignment filter.

    ``top_oligo_P`` and ``top_oligo_W`` assigned, ``hash_umis_{P,W} >= min_hash_umis``,
    ``top_to_second_best_ratio_{P,W} >= min_hash_ratio`` and ``rt_well != 1``; a missing value
    fails the test it appears in.

    Parameters
    ----------
    pdata
        pData rows with the columns of :data:`HASH_QC_COLUMNS` (strings or numbers).
    min_hash_umis, min_hash_ratio
        Thresholds (the authors use 5 and 5).

    Returns
    -------
    numpy.ndarray
        Boolean mask, one entry per row.
    """

    def number(name: str) -> pd.Series:
        return pd.to_numeric(pdata[name], errors="coerce")

    mask = pdata["top_oligo_P"].notna() & pdata["top_oligo_W"].notna()
    for hash_name in ("P", "W"):
        mask &= number(f"hash_umis_{hash_name}") >= min_hash_umis
        mask &= number(f"top_to_second_best_ratio_{hash_name}") >= min_hash_ratio
    mask &= number("rt_well").fillna(1) != 1
    return mask.to_numpy(dtype=bool)


def design_mask(pdata: pd.DataFrame, selection: SciPlexSelection) -> np.ndarray:
    """Cells of the selected cell types, time points and drugs (plus vehicles if kept).

    Parameters
    ----------
    pdata
        pData rows with ``cell_type``, ``time_point``, ``catalog_number`` and ``vehicle``.
    selection
        What to keep.

    Returns
    -------
    numpy.ndarray
        Boolean mask, one entry per row.
    """
    vehicle = parse_r_logical(pdata["vehicle"])
    treated = pdata["catalog_number"].isin(selection.drugs).to_numpy() & ~vehicle
    mask = treated | (vehicle if selection.keep_vehicle else False)
    return mask & _population_mask(pdata, selection)


def _population_mask(pdata: pd.DataFrame, selection: SciPlexSelection) -> np.ndarray:
    """Cells of the selected cell types and time points, whatever their treatment."""
    hours = pd.to_numeric(pdata["time_point"], errors="coerce")
    return (
        pdata["cell_type"].isin(selection.cell_types).to_numpy()
        & hours.isin(selection.time_points).to_numpy()
    )


@dataclass(frozen=True)
class PDataSelection:
    """The result of :func:`select_pdata`.

    Attributes
    ----------
    cells
        The kept rows: column ``cell_position`` (0-based row in the cell annotations), ``barcode``
        and the pData columns of :data:`PDATA_OBS_COLUMNS`.
    drug_counts
        Cells per (``cell_type``, ``drug``, ``pathway``) over **every** drug, counting treated
        cells of the selected cell types and time points that pass the hash QC; the input of
        :func:`pick_drug_per_pathway`.
    """

    cells: pd.DataFrame
    drug_counts: pd.DataFrame


def select_pdata(
    pdata_path: Path,
    *,
    barcodes: pd.Series,
    selection: SciPlexSelection,
    progress_interval_s: float = 30.0,
) -> PDataSelection:
    """Stream ``pData``, check its rows against the cell annotations and keep the selected cells.

    Parameters
    ----------
    pdata_path
        The pData file.
    barcodes
        Barcodes of the cell annotation file, in its order (``cell_idx`` j is ``barcodes[j - 1]``).
    selection
        What to keep.
    progress_interval_s
        Seconds between progress lines (rows read, rate, ETA).

    Returns
    -------
    PDataSelection
        The kept rows and the per-drug cell counts.

    Raises
    ------
    ValueError
        If a pData barcode differs from the cell annotation barcode of the same row, or the two
        files have different numbers of rows.
    """
    columns = tuple(PDATA_OBS_COLUMNS) + (HASH_QC_COLUMNS if selection.hash_qc else ())
    barcode_array = barcodes.to_numpy()
    kept: list[pd.DataFrame] = []
    counts: list[pd.Series] = []
    start = n_design = n_kept = 0
    progress = ThrottledProgress(
        Progress(len(barcode_array), desc="pData rows", unit="rows", logger=logger),
        interval_s=progress_interval_s,
    )
    for chunk in iter_pdata(pdata_path, columns=columns):
        stop = start + len(chunk)
        expected = barcode_array[start:stop]
        if stop > len(barcode_array) or not np.array_equal(chunk["barcode"].to_numpy(), expected):
            msg = _alignment_message(pdata_path, chunk["barcode"].to_numpy(), expected, start)
            raise ValueError(msg)
        passed = (
            hash_qc_mask(
                chunk,
                min_hash_umis=selection.min_hash_umis,
                min_hash_ratio=selection.min_hash_ratio,
            )
            if selection.hash_qc
            else np.ones(len(chunk), dtype=bool)
        )
        design = design_mask(chunk, selection)
        keep = design & passed
        n_design += int(design.sum())
        n_kept += int(keep.sum())
        part = chunk.loc[keep, ["barcode", *PDATA_OBS_COLUMNS]].copy()
        part.insert(0, "cell_position", np.flatnonzero(keep) + start)
        kept.append(part)
        treated = passed & _population_mask(chunk, selection) & ~parse_r_logical(chunk["vehicle"])
        counts.append(
            chunk.loc[treated]
            .assign(pathway=chunk.loc[treated, "pathway"].fillna("").map(normalize_whitespace))
            .groupby(["cell_type", "catalog_number", "pathway"])
            .size()
        )
        start = stop
        progress.update(start)
    if start != len(barcode_array):
        msg = (
            f"pData file {pdata_path} has {start} rows but the cell annotation file has "
            f"{len(barcode_array)}; they must describe the same cells in the same order"
        )
        raise ValueError(msg)
    logger.info(
        "pData: %d cells, %d in the selected cell types/drugs/time points, %d kept after hash QC "
        "(%s)",
        start,
        n_design,
        n_kept,
        "on" if selection.hash_qc else "off",
    )
    drug_counts = (
        pd.concat(counts)
        .groupby(level=[0, 1, 2])
        .sum()
        .rename("n_cells")
        .rename_axis([keys.CELL_TYPE, keys.DRUG, keys.PATHWAY])
        .reset_index()
    )
    return PDataSelection(cells=pd.concat(kept, ignore_index=True), drug_counts=drug_counts)


def pick_drug_per_pathway(
    drug_counts: pd.DataFrame, *, cell_types: tuple[str, ...] = TABLE_S1_CELL_TYPES
) -> pd.DataFrame:
    """The paper's drug choice: per pathway shared by all cell types, the drug with most cells.

    Yu & Welch (2021) chose "the drug with the most cells" in each of the pathways common to the
    three cell types. Here a pathway is common when every cell type has a treated cell in it, and
    a drug's cells are summed over cell types, doses and time points; ties go to the lower
    catalog number.

    Parameters
    ----------
    drug_counts
        Columns ``cell_type``, ``drug``, ``pathway``, ``n_cells`` (:attr:`PDataSelection.drug_counts`).
    cell_types
        The cell types a pathway must be shared by.

    Returns
    -------
    pandas.DataFrame
        Columns ``pathway``, ``drug``, ``n_cells`` (summed over cell types), one row per common
        pathway, sorted by pathway.
    """
    counts = drug_counts[drug_counts[keys.CELL_TYPE].isin(cell_types)]
    per_pathway = counts.groupby(keys.PATHWAY)[keys.CELL_TYPE].nunique()
    common = per_pathway.index[per_pathway == len(cell_types)]
    totals = (
        counts[counts[keys.PATHWAY].isin(common)]
        .groupby([keys.PATHWAY, keys.DRUG], as_index=False)["n_cells"]
        .sum()
        .sort_values([keys.PATHWAY, "n_cells", keys.DRUG], ascending=[True, False, True])
    )
    return totals.drop_duplicates(keys.PATHWAY).reset_index(drop=True)


def _alignment_message(path: Path, found: np.ndarray, expected: np.ndarray, start: int) -> str:
    """Describe the first row where pData and the cell annotations disagree."""
    n = min(len(found), len(expected))
    bad = np.flatnonzero(found[:n] != expected[:n])
    row = start + (int(bad[0]) if bad.size else n)
    got = found[row - start] if row - start < len(found) else "<none>"
    want = expected[row - start] if row - start < len(expected) else "<none>"
    return (
        f"pData file {path} row {row + 1} has barcode {got!r} but the cell annotation file has "
        f"{want!r}; the two files must list the same cells in the same order"
    )


# --------------------------------------------------------------------------------------------------
# assembly


def normalize_whitespace(text: str) -> str:
    """Collapse runs of whitespace (pData writes ``"Stem Cells &  Wnt"`` with two spaces)."""
    return " ".join(text.split())


def read_sciplex3(
    matrix: Path,
    genes: Path,
    cells: Path,
    pdata: Path,
    *,
    selection: SciPlexSelection | None = None,
    chunk_lines: int = 4_000_000,
) -> ad.AnnData:
    """Build the sci-Plex 3 subset of Yu & Welch (2021) as an AnnData of raw UMI counts.

    Parameters
    ----------
    matrix, genes, cells, pdata
        The four GEO files of GSM4150378 (UMI triplets, gene annotations, cell annotations, pData).
    selection
        Cells and genes to keep (default :class:`SciPlexSelection()`: the paper's subset).
    chunk_lines
        Triplet lines parsed at a time (memory of one chunk ≈ 24 bytes × ``chunk_lines``).

    Returns
    -------
    anndata.AnnData
        ``[cells, genes]`` float32 CSR UMI counts. ``obs`` (index = barcode): ``cell_type``,
        ``drug`` (catalog number; ``S0000`` for vehicle), ``product_name``, ``pathway``
        (whitespace normalised), ``target``, ``dose`` (nM, float), ``time_point`` (h, int),
        ``replicate``, ``vehicle`` (bool), ``condition`` (``"<cell_type>-<drug>"``) and
        ``cell_idx`` (1-based index in the raw files). ``var`` (index = Ensembl id):
        ``gene_short_name``.

    Raises
    ------
    FileNotFoundError
        If a file is missing.
    KeyError
        If pData lacks a needed column.
    ValueError
        If a requested cell type or drug has no selected cell, or the files disagree (see the
        readers).
    """
    selection = selection or SciPlexSelection()
    for path, what in (
        (matrix, "UMI count matrix"),
        (genes, "gene annotation file"),
        (cells, "cell annotation file"),
        (pdata, "pData file"),
    ):
        require_file(path, what=f"sci-Plex {what}")
    warn_paper_typos(selection.drugs)
    gene_table = read_gene_annotations(genes)
    cell_table = read_cell_annotations(cells)
    selected = select_pdata(pdata, barcodes=cell_table["barcode"], selection=selection)
    chosen = selected.cells
    rule = pick_drug_per_pathway(selected.drug_counts, cell_types=selection.cell_types)
    _log_rule_disagreements(rule, selection.drugs)
    _require_present(chosen, "cell_type", selection.cell_types, pdata)
    _require_present(chosen, "catalog_number", selection.drugs, pdata)
    keep_genes = np.flatnonzero(
        gene_table["gene_id"].str.startswith(selection.gene_id_prefix).to_numpy()
    )
    if keep_genes.size == 0:
        msg = f"no gene id in {genes} starts with {selection.gene_id_prefix!r}"
        raise ValueError(msg)
    counts = read_umi_triplets(
        matrix,
        keep_cells=chosen["cell_position"].to_numpy(),
        keep_genes=keep_genes,
        n_cells=len(cell_table),
        n_genes=len(gene_table),
        chunk_lines=chunk_lines,
    )
    adata = ad.AnnData(X=counts, obs=_obs_table(chosen), var=_var_table(gene_table, keep_genes))
    adata.uns[SELECTION_UNS_KEY] = {
        **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(selection).items()},
        # lists, not a mapping: pathway names such as "JAK/STAT" cannot be HDF5 keys
        "rule_pathways": rule[keys.PATHWAY].tolist(),
        "rule_drugs": rule[keys.DRUG].tolist(),
    }
    logger.info(
        "sci-Plex 3 subset: %d cells x %d genes (%d vehicle cells); peak RSS %.0f MiB",
        adata.n_obs,
        adata.n_vars,
        int(adata.obs[keys.VEHICLE].sum()),
        peak_rss_mib(),
    )
    return adata


def _log_rule_disagreements(rule: pd.DataFrame, drugs: tuple[str, ...]) -> None:
    """Report where the paper's rule, applied to these data, picks other drugs than the selection."""
    picked = set(rule[keys.DRUG])
    extra, missing = sorted(set(drugs) - picked), sorted(picked - set(drugs))
    if extra or missing:
        logger.warning(
            "the most-cells-per-pathway rule on these data picks %d drugs; the selection differs: "
            "selected but not picked %s, picked but not selected %s",
            len(rule),
            extra,
            missing,
        )
    else:
        logger.info(
            "the most-cells-per-pathway rule picks exactly the selected %d drugs", len(rule)
        )


def _require_present(table: pd.DataFrame, column: str, wanted: tuple[str, ...], path: Path) -> None:
    """Raise if a requested value of ``column`` has no selected cell."""
    absent = sorted(set(wanted) - set(table[column].dropna()))
    if absent:
        msg = (
            f"no selected cell in {path} has {column} in {absent} (after the cell type, drug, "
            "time point and hash filters); check the values in the config"
        )
        raise ValueError(msg)


def _obs_table(chosen: pd.DataFrame) -> pd.DataFrame:
    """Build the obs table of the subset from the kept pData rows."""
    obs = chosen.rename(columns=PDATA_OBS_COLUMNS).set_index("barcode")
    obs.index.name = None
    obs[keys.VEHICLE] = parse_r_logical(obs[keys.VEHICLE])
    obs.loc[obs[keys.VEHICLE], keys.DRUG] = VEHICLE_CATALOG
    obs[keys.PATHWAY] = obs[keys.PATHWAY].fillna("").map(normalize_whitespace)
    obs[keys.DOSE] = pd.to_numeric(obs[keys.DOSE], errors="coerce")
    obs[keys.TIME_POINT] = pd.to_numeric(obs[keys.TIME_POINT]).astype("int64")
    obs[keys.CONDITION] = obs[keys.CELL_TYPE] + "-" + obs[keys.DRUG]
    obs["cell_idx"] = obs.pop("cell_position").astype("int64") + 1
    for column in (
        keys.CELL_TYPE,
        keys.DRUG,
        "product_name",
        keys.PATHWAY,
        "target",
        "replicate",
        keys.CONDITION,
    ):
        obs[column] = obs[column].astype("category")
    return obs


def _var_table(gene_table: pd.DataFrame, keep_genes: np.ndarray) -> pd.DataFrame:
    """Build the var table of the subset: Ensembl ids as names, symbols as a column."""
    var = gene_table.iloc[keep_genes].set_index("gene_id")
    var.index.name = None
    if not var.index.is_unique:
        duplicated = var.index[var.index.duplicated()].unique()[:5].tolist()
        msg = f"gene ids are not unique in the gene annotation file, e.g. {duplicated}"
        raise ValueError(msg)
    return var
