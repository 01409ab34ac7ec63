"""sci-Plex 3 readers on fixtures in the exact GEO formats (tests/data/sciplex)."""

from __future__ import annotations

import gzip
import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from conftest import SCIPLEX_DIR
from michigan import keys
from michigan.data.sciplex import (
    SciPlexSelection,
    design_mask,
    hash_qc_mask,
    parse_r_logical,
    pick_drug_per_pathway,
    read_sciplex3,
    select_pdata,
)
from michigan.data.sciplex_files import (
    iter_pdata,
    read_cell_annotations,
    read_gene_annotations,
    read_umi_triplets,
)

MATRIX = SCIPLEX_DIR / "UMI.count.matrix.gz"
GENES = SCIPLEX_DIR / "gene.annotations.txt.gz"
CELLS = SCIPLEX_DIR / "cell.annotations.txt.gz"
PDATA = SCIPLEX_DIR / "pData.txt.gz"
FIXTURE_DRUGS = ("S1628", "S1096", "S7259", "S1262", "S1180")
SELECTION = SciPlexSelection(drugs=FIXTURE_DRUGS, keep_vehicle=True)
# 1-based cell_idx of the cells the fixture is built to keep (see make_fixtures.py comments)
KEPT_CELLS = [1, 2, 3, 4, 5, 7, 9, 15, 16]


def barcode(j: int) -> str:
    return f"A{j:02d}_F10_RT_BC_{j}_Lig_BC_{100 + j}"


def independent_counts() -> dict[tuple[int, int], int]:
    """(gene_idx, cell_idx) -> count, parsed with plain Python from the fixture."""
    with gzip.open(MATRIX, "rt") as handle:
        return {(int(g), int(c)): int(x) for g, c, x in (line.split() for line in handle)}


def test_gene_header_line_is_not_a_gene():
    genes = read_gene_annotations(GENES)
    assert len(genes) == 7  # 8 lines minus the header
    # gene_idx 1 must be TSPAN6 (the scPerturb off-by-one bug made it the header)
    assert genes.loc[0, "gene_short_name"] == "TSPAN6"
    assert genes.loc[2, "gene_id"] == "ENSG00000000419.12"
    assert "gene_short_name" not in set(genes["gene_short_name"])


def test_gene_file_without_header_and_with_row_names(tmp_path, caplog):
    plain = tmp_path / "genes.txt"
    plain.write_text("ENSG1.1 A\nENSG2.1 B\n")
    caplog.set_level(logging.WARNING)
    assert read_gene_annotations(plain)["gene_short_name"].tolist() == ["A", "B"]
    assert "no 'id gene_short_name' header" in caplog.text
    named = tmp_path / "named.txt"
    named.write_text('"id" "gene_short_name"\n"1" "ENSG1.1" "A"\n"2" "ENSG2.1" "B"\n')
    assert read_gene_annotations(named)["gene_id"].tolist() == ["ENSG1.1", "ENSG2.1"]


def test_gene_file_with_unknown_first_line_is_rejected(tmp_path):
    bad = tmp_path / "genes.txt"
    bad.write_text("gene symbol\nENSG1.1 A\n")
    with pytest.raises(ValueError, match="neither the header"):
        read_gene_annotations(bad)


def test_cell_annotations_have_no_header():
    cells = read_cell_annotations(CELLS)
    assert len(cells) == 16
    assert cells.loc[0, "barcode"] == barcode(1)
    assert cells["sample"].eq("sciPlex3").all()


def test_pdata_row_names_become_barcodes():
    chunks = list(iter_pdata(PDATA, columns=("cell_type", "pathway"), chunk_rows=5))
    assert [len(c) for c in chunks] == [5, 5, 5, 1]
    table = pd.concat(chunks, ignore_index=True)
    assert table["barcode"].tolist() == [barcode(j) for j in range(1, 17)]
    assert table.loc[8, "pathway"] == "Stem Cells &  Wnt"  # quoted field with two spaces kept
    assert pd.isna(table.loc[13, "cell_type"])  # NA token


def test_pdata_missing_column_is_named():
    with pytest.raises(KeyError, match="lacks the columns \\['dose_nM'\\]"):
        next(iter_pdata(PDATA, columns=("dose_nM",)))


def test_pdata_out_of_order_is_rejected():
    barcodes = read_cell_annotations(CELLS)["barcode"]
    swapped = barcodes.copy()
    swapped.iloc[[3, 4]] = swapped.iloc[[4, 3]].to_numpy()
    with pytest.raises(ValueError, match="row 4 has barcode"):
        select_pdata(PDATA, barcodes=swapped, selection=SELECTION)
    with pytest.raises(ValueError, match="has 16 rows but the cell annotation file has 17"):
        select_pdata(PDATA, barcodes=pd.concat([barcodes, pd.Series(["x"])]), selection=SELECTION)


def test_hash_qc_each_condition():
    table = pd.DataFrame(
        {
            "top_oligo_P": ["a", None, "a", "a", "a", "a", "a"],
            "top_oligo_W": ["a", "a", "a", "a", "a", "a", "a"],
            "hash_umis_P": ["5", "9", "4", "9", "9", "9", "9"],
            "hash_umis_W": ["9", "9", "9", "9", "9", "9", "9"],
            "top_to_second_best_ratio_P": ["5", "9", "9", "4.99", "9", "9", "9"],
            "top_to_second_best_ratio_W": ["9", "9", "9", "9", "NA", "9", "9"],
            "rt_well": ["2", "2", "2", "2", "2", "1", None],
        }
    )
    # row 0 sits exactly on both thresholds (>= passes); each other row breaks one rule
    assert hash_qc_mask(table).tolist() == [True, False, False, False, False, False, False]


def test_design_mask_keeps_both_time_points_and_vehicles_only_on_request():
    table = pd.DataFrame(
        {
            "cell_type": ["A549", "A549", "A549", "HeLa", "K562", None],
            "time_point": ["24", "72", "24", "24", "48", None],
            "catalog_number": ["S1628", "S1628", "S0000", "S1628", "S1628", None],
            "vehicle": ["FALSE", "FALSE", "TRUE", "FALSE", "FALSE", "NA"],
        }
    )
    selection = SciPlexSelection(drugs=("S1628",), keep_vehicle=True)
    assert design_mask(table, selection).tolist() == [True, True, True, False, False, False]
    # the paper's subset (Table S1) has no vehicle: the default drops them
    paper = SciPlexSelection(drugs=("S1628",))
    assert design_mask(table, paper).tolist() == [True, True, False, False, False, False]
    no_vehicle = SciPlexSelection(drugs=("S1628",), keep_vehicle=False, time_points=(24,))
    assert design_mask(table, no_vehicle).tolist() == [True, False, False, False, False, False]


def test_parse_r_logical():
    values = pd.Series(["TRUE", "FALSE", "T", "NA", None, "true"])
    assert parse_r_logical(values).tolist() == [True, False, True, False, False, True]


def test_triplets_are_one_based_and_chunking_is_exact():
    counts = independent_counts()
    keep_cells = np.array([15, 0, 6])  # 0-based rows: cell_idx 16, 1, 7, in this output order
    keep_genes = np.array([3, 0])  # gene_idx 4 (SCYL3), 1 (TSPAN6)
    expected = np.array(
        [[counts.get((g + 1, c + 1), 0) for g in keep_genes] for c in keep_cells], dtype=np.float32
    )
    for chunk_lines in (1, 7, 1000):  # chunk borders must not lose or double a line
        matrix = read_umi_triplets(
            MATRIX,
            keep_cells=keep_cells,
            keep_genes=keep_genes,
            n_cells=16,
            n_genes=7,
            chunk_lines=chunk_lines,
        )
        np.testing.assert_array_equal(matrix.toarray(), expected)  # integers: exact
    # spot values from the fixture's formula (7 g + 3 c) mod 5 with 1-based g and c
    assert expected[0, 0] == (7 * 4 + 3 * 16) % 5
    assert expected[1, 1] == 0  # gene 1 in cell 1: (7 + 3) mod 5 = 0, not written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0\t1\t3\n", "gene index < 1 \\(the file is 1-based"),
        ("1\t0\t3\n", "cell index < 1"),
        ("8\t1\t3\n", "beyond the 7 genes .*header"),
        ("1\t17\t3\n", "beyond the 16 cells"),
        ("1\t1\t-2\n", "negative count"),
        ("gene\tcell\tcount\n1\t1\t3\n", "no header"),
        ("1\t1\t3\t9\n", "line 1 is"),
        ("1\t1\t3\n2\t2\t2.5\n", "three whitespace-separated integers"),
    ],
)
def test_bad_triplet_files_are_named(tmp_path, text, message):
    path = tmp_path / "matrix.txt.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    with pytest.raises(ValueError, match=message) as info:
        read_umi_triplets(
            path, keep_cells=np.arange(16), keep_genes=np.arange(7), n_cells=16, n_genes=7
        )
    assert str(path) in str(info.value)


def test_read_sciplex3_builds_the_subset(tmp_path):
    adata = read_sciplex3(MATRIX, GENES, CELLS, PDATA, selection=SELECTION)
    adata.write_h5ad(tmp_path / "sciplex.h5ad")  # every slot is storable
    adata = ad.read_h5ad(tmp_path / "sciplex.h5ad")
    assert adata.obs_names.tolist() == [barcode(j) for j in KEPT_CELLS]
    assert adata.obs["cell_idx"].tolist() == KEPT_CELLS
    # human genes only, in file order; the mouse rows 6 and 7 are gone
    assert adata.var_names.tolist() == [
        "ENSG00000000003.14",
        "ENSG00000000005.5",
        "ENSG00000000419.12",
        "ENSG00000000457.13",
        "ENSG00000000460.16",
    ]
    counts = independent_counts()
    expected = np.array([[counts.get((g, c), 0) for g in range(1, 6)] for c in KEPT_CELLS])
    np.testing.assert_array_equal(adata.X.toarray(), expected)  # integers: exact
    obs = adata.obs
    assert obs[keys.VEHICLE].tolist() == [False] * 5 + [True, False, True, False]
    assert obs.loc[barcode(7), keys.VEHICLE]
    assert obs.loc[barcode(7), keys.DRUG] == "S0000"
    assert obs.loc[barcode(15), keys.CONDITION] == "K562-S0000"
    assert obs.loc[barcode(2), keys.TIME_POINT] == 72  # A549 72 h plate kept
    assert obs.loc[barcode(5), keys.DRUG] == "S1262"
    assert obs.loc[barcode(5), "product_name"] == "Avagacestat (BMS-708163)"
    assert obs.loc[barcode(9), keys.PATHWAY] == "Stem Cells & Wnt"  # whitespace normalised
    assert obs.loc[barcode(1), keys.DOSE] == 10000.0
    assert barcode(6) not in adata.obs_names  # Celecoxib, S1261, is not the paper's drug
    assert obs[keys.CONDITION].value_counts().to_dict() == {
        "MCF7-S7259": 2,
        "A549-S1628": 2,
        "K562-S1096": 1,
        "MCF7-S1262": 1,
        "A549-S0000": 1,
        "A549-S1180": 1,
        "K562-S0000": 1,
    }


def test_hash_qc_can_be_switched_off():
    selection = SciPlexSelection(drugs=FIXTURE_DRUGS, keep_vehicle=True, hash_qc=False)
    adata = read_sciplex3(MATRIX, GENES, CELLS, PDATA, selection=selection)
    assert adata.obs["cell_idx"].tolist() == sorted([*KEPT_CELLS, 10, 11, 12, 13])


def test_default_selection_reports_absent_drugs():
    with pytest.raises(ValueError, match="catalog_number in \\['S1010'"):
        read_sciplex3(MATRIX, GENES, CELLS, PDATA)


def test_paper_typo_warns_but_is_kept(caplog):
    caplog.set_level(logging.WARNING)
    selection = SciPlexSelection(cell_types=("MCF7",), drugs=("S1261",))
    adata = read_sciplex3(MATRIX, GENES, CELLS, PDATA, selection=selection)
    assert "prints S1261 but means S1262" in caplog.text
    assert adata.obs.loc[barcode(6), "product_name"] == "Celecoxib"


def test_selection_rejects_repeats():
    with pytest.raises(ValueError, match="drugs must be a non-empty list without repeats"):
        SciPlexSelection(drugs=("S1628", "S1628"))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="sci-Plex UMI count matrix"):
        read_sciplex3(tmp_path / "absent.gz", GENES, CELLS, PDATA, selection=SELECTION)


def test_drug_counts_cover_every_drug_after_qc():
    barcodes = read_cell_annotations(CELLS)["barcode"]
    counts = select_pdata(PDATA, barcodes=barcodes, selection=SELECTION).drug_counts
    table = {(r.cell_type, r.drug): r.n_cells for r in counts.itertuples()}
    # treated, QC-passing cells of any drug; vehicles (7, 15) and QC failures (10-13) not counted
    assert table == {
        ("A549", "S1628"): 2,
        ("A549", "S1180"): 1,
        ("K562", "S1096"): 1,
        ("K562", "S1007"): 1,
        ("MCF7", "S7259"): 2,
        ("MCF7", "S1262"): 1,
        ("MCF7", "S1261"): 1,
    }
    assert set(counts[keys.PATHWAY]) >= {"Stem Cells & Wnt", "Proteases"}


def test_pick_drug_per_pathway():
    counts = pd.DataFrame(
        [
            ("A", "d1", "P", 5),
            ("B", "d1", "P", 1),
            ("A", "d2", "P", 2),
            ("B", "d2", "P", 3),  # d1: 6 cells, d2: 5 cells -> d1
            ("A", "d3", "Q", 4),
            ("B", "d4", "Q", 4),  # Q shared through two drugs; tie 4 vs 4 -> lower name d3
            ("A", "d5", "R", 9),  # R only in A: not common
            ("C", "d6", "R", 9),  # cell type outside the selection
        ],
        columns=[keys.CELL_TYPE, keys.DRUG, keys.PATHWAY, "n_cells"],
    )
    picks = pick_drug_per_pathway(counts, cell_types=("A", "B"))
    assert picks.to_dict("list") == {
        keys.PATHWAY: ["P", "Q"],
        keys.DRUG: ["d1", "d3"],
        "n_cells": [6, 4],
    }


def test_rule_disagreement_is_logged(caplog):
    caplog.set_level(logging.WARNING)
    selection = SciPlexSelection(cell_types=("MCF7",), drugs=("S7259", "S1261"))
    adata = read_sciplex3(MATRIX, GENES, CELLS, PDATA, selection=selection)
    # MCF7 pathways: JAK/STAT (S7259), Proteases (S1262), Neuronal Signaling (S1261)
    record = adata.uns["sciplex_selection"]
    assert record["rule_pathways"] == ["JAK/STAT", "Neuronal Signaling", "Proteases"]
    assert record["rule_drugs"] == ["S7259", "S1261", "S1262"]
    assert "picked but not selected ['S1262']" in caplog.text


def test_uncompressed_triplets_read_the_same(tmp_path):
    plain = tmp_path / "matrix.txt"
    with gzip.open(MATRIX, "rb") as handle:
        plain.write_bytes(handle.read())
    kwargs = {"keep_cells": np.arange(16), "keep_genes": np.arange(7), "n_cells": 16, "n_genes": 7}
    np.testing.assert_array_equal(
        read_umi_triplets(plain, **kwargs).toarray(), read_umi_triplets(MATRIX, **kwargs).toarray()
    )
