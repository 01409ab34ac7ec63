"""Table S1 package data and the per-(cell type, drug) comparison with it."""

from __future__ import annotations

import pandas as pd
import pytest

from michigan import keys
from michigan.data.table_s1 import (
    PAPER_CATALOG_TYPOS,
    compare_with_table_s1,
    load_table_s1,
    table_s1_counts,
    table_s1_drugs,
)


def test_documented_totals():
    table = load_table_s1()
    # totals printed in / recomputed from the paper's Table S1 (datasets.md §0.7)
    assert table[["A549", "K562", "MCF7"]].sum().to_dict() == {
        "A549": 20_225,
        "K562": 14_717,
        "MCF7": 29_108,
    }
    assert int(table[["A549", "K562", "MCF7"]].to_numpy().sum()) == 64_050
    assert len(table) == 18
    assert table["pathway"].is_unique  # one drug per pathway
    assert table["catalog_number"].is_unique


def test_typo_is_corrected_and_remembered():
    table = load_table_s1().set_index("catalog_number")
    assert "S1261" not in table.index
    assert table.loc["S1262", "paper_catalog_number"] == "S1261"
    assert table.loc["S1262", "pathway"] == "Proteases"
    assert PAPER_CATALOG_TYPOS == {"S1261": "S1262"}
    # every other row prints the catalog number the data uses
    others = table.drop(index="S1262")
    assert (others.index == others["paper_catalog_number"]).all()


def test_paper_held_out_counts():
    table = load_table_s1().set_index("catalog_number")
    # Fig. S8c: MCF7-S7259 has 2,014 cells; the other two held-out combinations of the paper
    assert table.loc["S7259", "MCF7"] == 2014
    assert table.loc["S1628", "A549"] == 902
    assert table.loc["S1096", "K562"] == 450


def test_long_form_and_drug_list():
    long = table_s1_counts()
    assert len(long) == 54
    assert long["paper"].sum() == 64_050
    assert table_s1_drugs()[:2] == ("S1010", "S1021")
    assert "S1262" in table_s1_drugs()
    assert load_table_s1() is not load_table_s1()  # callers get copies


def test_comparison_arithmetic():
    obs = pd.DataFrame(
        {
            keys.CELL_TYPE: ["A549"] * 5 + ["MCF7"] * 3 + ["K562"] * 2,
            keys.DRUG: ["S1628"] * 3 + ["S0000"] * 2 + ["S7259"] * 3 + ["S1096"] * 2,
        }
    )
    table = compare_with_table_s1(obs).set_index([keys.CELL_TYPE, keys.DRUG])
    assert len(table) == 54 + 1  # all Table S1 pairs plus the vehicle pair
    row = table.loc[("A549", "S1628")]
    assert (row["paper"], row["obtained"], row["difference"]) == (902, 3, 3 - 902)
    assert row["ratio"] == pytest.approx(3 / 902, rel=1e-12)  # float division only
    assert table.loc[("MCF7", "S7259"), "difference"] == 3 - 2014
    vehicle = table.loc[("A549", "S0000")]
    assert pd.isna(vehicle["paper"])
    assert vehicle["obtained"] == 2
    untouched = table.loc[("K562", "S1010")]
    assert (untouched["obtained"], untouched["difference"]) == (0, -800)
    assert table["obtained"].sum() == len(obs)
    paper_rows = table["paper"].notna()
    assert table.loc[paper_rows, "difference"].sum() == (3 + 3 + 2) - 64_050


def test_comparison_needs_its_columns():
    with pytest.raises(KeyError, match="'cell_line'"):
        compare_with_table_s1(pd.DataFrame({keys.DRUG: ["S1628"]}), cell_type_key="cell_line")
