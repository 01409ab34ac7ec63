"""Tabula Muris FACS reader on fixtures in the exact figshare formats (tests/data/tabula_muris)."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import TABULA_MURIS_DIR
from michigan import keys
from michigan.data.preprocess import PreprocessParams, preprocess, subset_cells
from michigan.data.tabula_muris import read_facs_annotations, read_tabula_muris_facs

ZIP = TABULA_MURIS_DIR / "FACS.zip"
ANNOTATIONS = TABULA_MURIS_DIR / "annotations_FACS.csv"
GENES = ["0610005C13Rik", "0610007C21Rik", "Actb", "Col1a1", "Myh6", "Pecam1", "Zzz3"]
ANNOTATED = {
    "Heart": ["A1.B000412.3_56_F.1.1", "B1.B000412.3_56_F.1.1", "C1.B000412.3_56_F.1.1",
              "E1.D042103.3_11_M.1"],
    "Aorta": ["A1.MAA000123.3_10_M.1.1", "B1.MAA000123.3_10_M.1.1"],
    "Fat": ["A1.MAA000456.3_38_F.1.1", "B1.MAA000456.3_38_F.1.1"],
}  # fmt: skip


def independent_counts() -> pd.DataFrame:
    """cells x genes counts of all fixture CSVs, parsed with the csv module, ERCC rows dropped."""
    frames = []
    with zipfile.ZipFile(ZIP) as archive:
        for name in archive.namelist():
            rows = list(csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))
            body = [r for r in rows[1:] if not r[0].startswith("ERCC-")]
            frames.append(
                pd.DataFrame(
                    [[float(v) for v in r[1:]] for r in body],
                    index=[r[0] for r in body],
                    columns=rows[0][1:],
                ).T
            )
    return pd.concat(frames)


def test_reads_annotated_cells_without_spike_ins():
    adata = read_tabula_muris_facs(ZIP, ANNOTATIONS)
    # zip members are read sorted by tissue name: Aorta, Fat, Heart
    assert adata.obs_names.tolist() == ANNOTATED["Aorta"] + ANNOTATED["Fat"] + ANNOTATED["Heart"]
    assert adata.var_names.tolist() == GENES  # ERCC-00002 and ERCC-00003 removed
    expected = independent_counts().loc[adata.obs_names, GENES].to_numpy()
    np.testing.assert_array_equal(adata.X.toarray(), expected)  # integer counts: exact
    obs = adata.obs
    assert obs.loc["E1.D042103.3_11_M.1", keys.CELL_TYPE] == "cardiac muscle cell"
    assert obs.loc["A1.MAA000123.3_10_M.1.1", "mouse_id"] == "3_10_M/3_11_M"
    assert obs.loc["A1.B000412.3_56_F.1.1", "mouse_sex"] == "F"
    assert obs.loc["A1.B000412.3_56_F.1.1", "cell_ontology_id"] == "CL:0000057"
    assert obs[keys.TISSUE].value_counts().to_dict() == {"Heart": 4, "Aorta": 2, "Fat": 2}
    assert "D1.B000412.3_56_F.1.1" not in adata.obs_names  # failed QC: not annotated
    assert "F1.B000412.3_56_F.1.1" not in adata.obs_names  # annotated without a cell type


def test_unzipped_folder_gives_the_same_data(tmp_path):
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(tmp_path)
    from_dir = read_tabula_muris_facs(tmp_path / "FACS", ANNOTATIONS)
    from_zip = read_tabula_muris_facs(ZIP, ANNOTATIONS, chunk_genes=2)  # chunk borders too
    assert from_dir.obs_names.tolist() == from_zip.obs_names.tolist()
    np.testing.assert_array_equal(from_dir.X.toarray(), from_zip.X.toarray())


def test_min_cells_per_type_drops_small_types():
    obs = read_facs_annotations(ANNOTATIONS, min_cells_per_type=3)
    # fibroblast 3 (2 heart + 1 aorta) and endothelial cell 3 stay; B cell 1 and cardiac muscle 1 go
    assert sorted(obs[keys.CELL_TYPE].unique()) == ["endothelial cell", "fibroblast"]
    assert len(obs) == 6
    with pytest.raises(ValueError, match="no annotated cell left"):
        read_facs_annotations(ANNOTATIONS, min_cells_per_type=10)


def test_missing_annotation_column_is_named(tmp_path):
    table = pd.read_csv(ANNOTATIONS).drop(columns=["mouse.sex"])
    path = tmp_path / "annotations.csv"
    table.to_csv(path, index=False)
    with pytest.raises(KeyError, match=r"mouse\.sex"):
        read_facs_annotations(path)


def test_annotated_cell_missing_from_counts_is_an_error(tmp_path):
    with zipfile.ZipFile(ZIP) as archive, zipfile.ZipFile(tmp_path / "FACS.zip", "w") as out:
        for name in archive.namelist():
            if "Fat" not in name:
                out.writestr(name, archive.read(name))
    with pytest.raises(ValueError, match=r"2 annotated cells .* are in no counts file"):
        read_tabula_muris_facs(tmp_path / "FACS.zip", ANNOTATIONS)


def test_counts_files_with_other_genes_are_rejected(tmp_path):
    folder = tmp_path / "FACS"
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(tmp_path)
    heart = folder / "Heart-counts.csv"
    heart.write_text(heart.read_text().replace("Myh6", "Myh7"))
    with pytest.raises(ValueError, match=r"Heart-counts\.csv lists other genes"):
        read_tabula_muris_facs(folder, ANNOTATIONS)


def test_header_must_start_with_empty_field(tmp_path):
    folder = tmp_path / "FACS"
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(tmp_path)
    aorta = folder / "Aorta-counts.csv"
    aorta.write_text("gene" + aorta.read_text())
    with pytest.raises(ValueError, match="must start with an empty field"):
        read_tabula_muris_facs(folder, ANNOTATIONS)


def test_missing_or_wrong_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="Tabula Muris counts not found"):
        read_tabula_muris_facs(tmp_path / "FACS.zip", ANNOTATIONS)
    with pytest.raises(FileNotFoundError, match="annotation file not found"):
        read_tabula_muris_facs(ZIP, tmp_path / "annotations.csv")
    not_zip = tmp_path / "FACS.zip"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="neither a zip file nor a folder"):
        read_tabula_muris_facs(not_zip, ANNOTATIONS)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(ValueError, match=r"holds no <Tissue>-counts\.csv"):
        read_tabula_muris_facs(empty_dir, ANNOTATIONS)


def test_heart_is_a_row_subset_of_the_whole_preprocessed_data(tmp_path):
    shutil.copy(ZIP, tmp_path / "FACS.zip")
    whole = preprocess(
        read_tabula_muris_facs(tmp_path / "FACS.zip", ANNOTATIONS),
        params=PreprocessParams(min_genes=1, min_cells=1, n_top_genes=4),
    )
    heart = subset_cells(whole, key=keys.TISSUE, values=["Heart"])
    heart.write_h5ad(tmp_path / "heart.h5ad")  # every slot (obs categoricals, uns record) storable
    assert heart.n_obs == 4
    assert heart.var_names.tolist() == whole.var_names.tolist()  # genes chosen on the whole data
    np.testing.assert_array_equal(heart.X, whole[whole.obs[keys.TISSUE] == "Heart"].X)


def test_non_numeric_count_names_the_file(tmp_path):
    folder = tmp_path / "FACS"
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(tmp_path)
    fat = folder / "Fat-counts.csv"
    lines = fat.read_text().splitlines()
    gene, _, rest = lines[3].split(",", 2)
    lines[3] = f"{gene},many,{rest}"  # column of an annotated cell (A1...3_38_F)
    fat.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"Fat-counts\.csv: expected a gene symbol then one read"):
        read_tabula_muris_facs(folder, ANNOTATIONS)
