"""Held-out (cell type, drug) splits for sci-Plex and a simulated perturbation screen."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from michigan import keys
from michigan.data.splits import PAPER_HELD_OUT, held_out_split, read_split, write_split


def screen(cell_types, drugs, cells_per_pair=3) -> ad.AnnData:
    """Every cell type x drug combination with ``cells_per_pair`` cells, named c0, c1, ..."""
    rows = [(ct, d) for ct in cell_types for d in drugs for _ in range(cells_per_pair)]
    obs = pd.DataFrame(rows, columns=[keys.CELL_TYPE, keys.DRUG])
    obs[keys.CONDITION] = obs[keys.CELL_TYPE] + "-" + obs[keys.DRUG]
    obs.index = [f"c{i}" for i in range(len(obs))]
    return ad.AnnData(X=np.zeros((len(obs), 2), dtype=np.float32), obs=obs)


def test_paper_default_on_sciplex_like_obs():
    adata = screen(["A549", "K562", "MCF7"], ["S0000", "S1628", "S1096", "S7259"])
    split = held_out_split(adata)
    assert split.pairs == PAPER_HELD_OUT
    conditions = adata.obs[keys.CONDITION]
    for name in ("A549-S1628", "K562-S1096", "MCF7-S7259"):
        assert list(split.held_out[name]) == conditions.index[conditions == name].tolist()
    held = {c for cells in split.held_out.values() for c in cells}
    assert len(split.train) == adata.n_obs - 9
    assert held.isdisjoint(split.train)
    assert sorted(held | set(split.train)) == sorted(adata.obs_names)
    assert list(split.train) == [c for c in adata.obs_names if c not in held]  # obs order


def test_simulated_screen_with_its_own_labels(tmp_path):
    adata = screen(["typeA", "typeB"], ["control", "drug1", "drug2"], cells_per_pair=2)
    split = held_out_split(adata, pairs=[["typeB", "drug2"]])
    assert split.held_out == {"typeB-drug2": ("c10", "c11")}
    path = tmp_path / "splits" / "split.json"
    write_split(split, path)
    assert read_split(path) == split


def test_custom_obs_keys():
    adata = screen(["a", "b"], ["x", "y"])
    adata.obs = adata.obs.rename(columns={keys.CELL_TYPE: "line", keys.DRUG: "compound"})
    split = held_out_split(adata, pairs=[("a", "x")], cell_type_key="line", drug_key="compound")
    assert split.held_out["a-x"] == ("c0", "c1", "c2")


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("HeLa", "S1628")], r"cell type 'HeLa' is not in obs\['cell_type'\]"),
        ([("A549", "S9999")], r"drug 'S9999' is not in obs\['drug'\]"),
        ([], "no held-out"),
        ([("A549", "S1628"), ("A549", "S1628")], "given twice"),
        (["A549-S1628"], "must be \\[cell_type, drug\\]"),
        ([("A549", "S1628", "x")], "must be \\[cell_type, drug\\]"),
    ],
)
def test_bad_pairs(pairs, message):
    adata = screen(["A549", "K562"], ["S0000", "S1628"])
    with pytest.raises(ValueError, match=message):
        held_out_split(adata, pairs=pairs)


def test_absent_combination():
    adata = screen(["A549", "K562"], ["S0000", "S1628"])
    keep = ~((adata.obs[keys.CELL_TYPE] == "K562") & (adata.obs[keys.DRUG] == "S1628"))
    with pytest.raises(ValueError, match="no cell of type 'K562' received drug 'S1628'"):
        held_out_split(adata[keep.to_numpy()].copy(), pairs=[("K562", "S1628")])


def test_latent_arithmetic_needs_training_cells():
    adata = screen(["A549", "K562"], ["S0000", "S1628"])
    with pytest.raises(ValueError, match="no training cell treated with 'S1628'"):
        held_out_split(adata, pairs=[("A549", "S1628"), ("K562", "S1628")])
    with pytest.raises(ValueError, match="no training cell of type 'A549'"):
        held_out_split(adata, pairs=[("A549", "S1628"), ("A549", "S0000")])


def test_missing_keys_and_files(tmp_path):
    adata = screen(["a"], ["x"])
    with pytest.raises(KeyError, match="'cell_line'"):
        held_out_split(adata, pairs=[("a", "x")], cell_type_key="cell_line")
    with pytest.raises(FileNotFoundError, match="split file"):
        read_split(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"pairs": []}')
    with pytest.raises(KeyError, match=r"\['train', 'held_out'\]"):
        read_split(broken)


def test_repeated_cell_names_are_refused_before_they_can_be_both_trained_and_held_out():
    adata = screen(["typeA", "typeB"], ["control", "drug1"], cells_per_pair=2)
    adata.obs_names = ["dup"] * 3 + [f"c{i}" for i in range(3, adata.n_obs)]
    with pytest.raises(ValueError, match=r"screen\.h5ad has 1 cell names .*'dup'"):
        held_out_split(adata, pairs=[["typeB", "drug1"]], source="screen.h5ad")
