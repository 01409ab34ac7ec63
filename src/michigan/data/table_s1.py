"""The paper's Table S1 (sci-Plex 3 subset: cells per cell type and drug) and the comparison with it.

``table_s1.tsv`` (package data) holds the 18 treatments of Yu & Welch (2021), Table S1, one per
pathway, with the A549 / K562 / MCF7 cell counts as printed (total 64,050: A549 20,225, K562 14,717,
MCF7 29,108). Product names and targets are those of the Selleck catalog table used by the sci-Plex
authors (``drugProperties_short.tsv``), joined on the catalog number.

Deliberate deviation from the paper: its row "Proteases S1261" is a typo for **S1262**
(Avagacestat, BMS-708163). S1261 is Celecoxib, whose pathway is Neuronal Signaling, not Proteases,
and the paper's own Fig. 5 uses MCF7-S1262. The table keeps the printed number in
``paper_catalog_number`` and the corrected one in ``catalog_number``, which is what the data holds.
"""

from __future__ import annotations

import functools
import io
import logging
from importlib import resources
from typing import TYPE_CHECKING

import pandas as pd

from michigan import keys

if TYPE_CHECKING:
    from collections.abc import Iterable

logger = logging.getLogger(__name__)

TABLE_S1_RESOURCE = "table_s1.tsv"
TABLE_S1_CELL_TYPES = ("A549", "K562", "MCF7")
#: catalog numbers printed in the paper that name a different compound than the one meant
PAPER_CATALOG_TYPOS = {"S1261": "S1262"}


@functools.cache
def _read_table_s1() -> pd.DataFrame:
    text = resources.files("michigan.data").joinpath(TABLE_S1_RESOURCE).read_text("utf-8")
    return pd.read_csv(io.StringIO(text), sep="\t", dtype={c: "int64" for c in TABLE_S1_CELL_TYPES})


def load_table_s1() -> pd.DataFrame:
    """Return Table S1 as a data frame (a fresh copy; one row per drug).

    Returns
    -------
    pandas.DataFrame
        Columns ``pathway``, ``catalog_number`` (corrected), ``paper_catalog_number`` (as printed),
        ``product_name``, ``target`` and the cell counts ``A549``, ``K562``, ``MCF7``.
    """
    return _read_table_s1().copy()


def table_s1_drugs() -> tuple[str, ...]:
    """Catalog numbers of the 18 Table S1 drugs, corrected (S1262, not S1261), in table order."""
    return tuple(_read_table_s1()["catalog_number"])


def table_s1_counts() -> pd.DataFrame:
    """Table S1 in long form: one row per (cell type, drug) with the paper's cell count.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell_type``, ``drug`` (corrected catalog number), ``product_name``, ``paper``;
        54 rows.
    """
    table = _read_table_s1()
    long = table.melt(
        id_vars=["catalog_number", "product_name"],
        value_vars=list(TABLE_S1_CELL_TYPES),
        var_name=keys.CELL_TYPE,
        value_name="paper",
    )
    long = long.rename(columns={"catalog_number": keys.DRUG})
    return long[[keys.CELL_TYPE, keys.DRUG, "product_name", "paper"]]


def warn_paper_typos(drugs: Iterable[str]) -> None:
    """Log a warning for every catalog number in ``drugs`` that the paper printed by mistake.

    The number is not changed: S1261 (Celecoxib) exists in sci-Plex 3 and may be wanted on purpose.
    """
    for drug in drugs:
        if drug in PAPER_CATALOG_TYPOS:
            logger.warning(
                "drug %s requested: the paper's Table S1 prints %s but means %s; keeping %s as given",
                drug,
                drug,
                PAPER_CATALOG_TYPOS[drug],
                drug,
            )


def compare_with_table_s1(
    obs: pd.DataFrame,
    *,
    cell_type_key: str = keys.CELL_TYPE,
    drug_key: str = keys.DRUG,
) -> pd.DataFrame:
    """Count cells per (cell type, drug) in ``obs`` and put the counts next to Table S1's.

    ``difference = obtained - paper`` and ``ratio = obtained / paper``. Pairs present in ``obs`` but
    not in Table S1 (vehicle controls, other drugs) get ``paper`` = NA; Table S1 pairs absent from
    ``obs`` get ``obtained`` = 0.

    Parameters
    ----------
    obs
        Cell table, one row per cell (e.g. ``adata.obs``).
    cell_type_key, drug_key
        Columns holding the cell type and the catalog number.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell_type``, ``drug``, ``product_name``, ``paper`` (nullable int), ``obtained``,
        ``difference`` (nullable int), ``ratio`` (float); rows sorted by cell type, then drug.

    Raises
    ------
    KeyError
        If ``cell_type_key`` or ``drug_key`` is not a column of ``obs``.
    """
    for key in (cell_type_key, drug_key):
        if key not in obs.columns:
            msg = f"obs has no column {key!r} to count Table S1 cells by; columns: {list(obs.columns)}"
            raise KeyError(msg)
    obtained = (
        obs.groupby([obs[cell_type_key].astype(str), obs[drug_key].astype(str)], observed=True)
        .size()
        .rename("obtained")
        .rename_axis([keys.CELL_TYPE, keys.DRUG])
        .reset_index()
    )
    merged = table_s1_counts().merge(obtained, on=[keys.CELL_TYPE, keys.DRUG], how="outer")
    merged["paper"] = merged["paper"].astype("Int64")
    merged["obtained"] = merged["obtained"].fillna(0).astype("int64")
    merged["difference"] = merged["obtained"] - merged["paper"]
    merged["ratio"] = merged["obtained"] / merged["paper"].astype("float64")
    return merged.sort_values([keys.CELL_TYPE, keys.DRUG], ignore_index=True)
