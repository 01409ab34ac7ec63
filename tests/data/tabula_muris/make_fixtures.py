"""Write the tiny Tabula Muris FACS fixtures of this folder in the exact figshare formats.

Run from the repository root: ``.venv/bin/python tests/data/tabula_muris/make_fixtures.py``.
See PROVENANCE.md for what each file mimics and which traps it contains.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent

# ERCC rows sit between genes (not only at the end) so that removal by name is tested
GENES = ["0610005C13Rik", "0610007C21Rik", "Actb", "ERCC-00002", "Col1a1", "ERCC-00003", "Myh6",
         "Pecam1", "Zzz3"]  # fmt: skip

# tissue -> cell ids (header order of its counts CSV)
TISSUE_CELLS = {
    "Heart": [
        "A1.B000412.3_56_F.1.1",
        "B1.B000412.3_56_F.1.1",
        "C1.B000412.3_56_F.1.1",
        "D1.B000412.3_56_F.1.1",  # failed the consortium QC: not in the annotations
        "E1.D042103.3_11_M.1",  # a 4-part id
        "F1.B000412.3_56_F.1.1",  # annotated without a cell_ontology_class
    ],
    "Aorta": ["A1.MAA000123.3_10_M.1.1", "B1.MAA000123.3_10_M.1.1"],
    "Fat": ["A1.MAA000456.3_38_F.1.1", "B1.MAA000456.3_38_F.1.1", "C1.MAA000456.3_38_F.1.1"],
}

ANNOTATION_COLUMNS = ["cell", "tissue", "subtissue", "FACS.selection", "plate.barcode",
                      "cell_ontology_class", "cell_ontology_id", "free_annotation", "cluster.ids",
                      "mouse.sex", "mouse.id"]  # fmt: skip

# cell -> (tissue, subtissue, class, ontology id, mouse id, sex); "" = NA in the CSV
ANNOTATIONS = {
    "A1.B000412.3_56_F.1.1": ("Heart", "LV", "fibroblast", "CL:0000057", "3_56_F", "F"),
    "B1.B000412.3_56_F.1.1": ("Heart", "RA", "fibroblast", "CL:0000057", "3_56_F", "F"),
    "C1.B000412.3_56_F.1.1": ("Heart", "LV", "endothelial cell", "CL:0000115", "3_56_F", "F"),
    "E1.D042103.3_11_M.1": ("Heart", "LA", "cardiac muscle cell", "CL:0000746", "3_11_M", "M"),
    "F1.B000412.3_56_F.1.1": ("Heart", "Unknown", "", "", "3_56_F", "F"),
    "A1.MAA000123.3_10_M.1.1": ("Aorta", "", "endothelial cell", "CL:0000115", "3_10_M/3_11_M", "M"),
    "B1.MAA000123.3_10_M.1.1": ("Aorta", "", "fibroblast", "CL:0000057", "3_10_M/3_11_M", "M"),
    "A1.MAA000456.3_38_F.1.1": ("Fat", "SCAT", "B cell", "CL:0000236", "3_38_F/3_39_F", "F"),
    "B1.MAA000456.3_38_F.1.1": ("Fat", "GAT", "endothelial cell", "CL:0000115", "3_38_F", "F"),
    "C1.MAA000456.3_38_F.1.1": ("Fat", "MAT", "", "", "3_38_F", "F"),
}  # fmt: skip


def count(gene: int, cell: str) -> int:
    """Read count of gene row ``gene`` (0-based, ERCC rows included) in ``cell``."""
    return (gene * 11 + sum(map(ord, cell))) % 7 * (gene + 1)


def counts_csv(cells: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["", *cells])
    for g, gene in enumerate(GENES):
        writer.writerow([gene, *(count(g, c) for c in cells)])
    return out.getvalue()


def annotations_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ANNOTATION_COLUMNS)
    for cell, (tissue, sub, klass, onto, mouse, sex) in ANNOTATIONS.items():
        plate = cell.split(".")[1]
        free = klass.title() if klass else ""
        writer.writerow([cell, tissue, sub, "Viable", plate, klass, onto, free, "1", sex, mouse])
    return out.getvalue()


def main() -> None:
    with zipfile.ZipFile(HERE / "FACS.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for tissue, cells in TISSUE_CELLS.items():
            info = zipfile.ZipInfo(f"FACS/{tissue}-counts.csv", date_time=(2018, 3, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, counts_csv(cells))
    (HERE / "annotations_FACS.csv").write_text(annotations_csv(), encoding="utf-8")


if __name__ == "__main__":
    main()
