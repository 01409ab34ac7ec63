"""Write the tiny sci-Plex 3 fixtures of this folder in the exact GEO formats (deterministic).

Run from the repository root: ``.venv/bin/python tests/data/sciplex/make_fixtures.py``.
See PROVENANCE.md for what each file mimics and which traps it contains.
"""

from __future__ import annotations

import gzip
from pathlib import Path

HERE = Path(__file__).parent

# gene_idx k (1-based) = k-th row after the header; human rows first, then mouse rows
GENES = [
    ("ENSG00000000003.14", "TSPAN6"),
    ("ENSG00000000005.5", "TNMD"),
    ("ENSG00000000419.12", "DPM1"),
    ("ENSG00000000457.13", "SCYL3"),
    ("ENSG00000000460.16", "C1orf112"),  # never observed in the matrix
    ("ENSMUSG00000000001.4", "Gnai3"),
    ("ENSMUSG00000000003.15", "Pbsn"),
]

PDATA_COLUMNS = [
    "cell", "sample", "Size_Factor", "n.umi", "top_to_second_best_ratio_W", "hash_umis_W",
    "pval_W", "qval_W", "top_oligo_W", "top_to_second_best_ratio_P", "hash_umis_P", "pval_P",
    "qval_P", "top_oligo_P", "rt_well", "lig_well", "pcr_well", "pcr_plate", "culture_plate",
    "rt_plate", "lig_plate", "Combo", "well_oligo", "plate_oligo", "cell_type", "replicate",
    "time_point", "drug_dose", "catalog_number", "vehicle", "dose_pattern", "dose_character",
    "dose", "treatment", "pathway_level_1", "pathway_level_2", "product_name", "target", "pathway",
]  # fmt: skip

DRUGS = {
    "S1628": ("Triamcinolone Acetonide", "Glucocorticoid Receptor", "Metabolism"),
    "S1096": ("Quisinostat 2HCl", "HDAC", "Epigenetics"),
    "S7259": ("FLLL32", "JAK", "JAK/STAT"),
    "S1262": ("Avagacestat (BMS-708163)", "Beta Amyloid,Gamma-secretase", "Proteases"),
    "S1261": ("Celecoxib", "COX", "Neuronal Signaling"),
    "S1007": ("Belinostat (PXD101)", "HDAC", "Epigenetics"),
    "S1180": ("XAV-939", "Wnt/beta-catenin", "Stem Cells &  Wnt"),  # two spaces, as in pData
    "S0000": ("Vehicle", "Vehicle", "Vehicle"),
}

# (cell_type, time_point, catalog, dose nM, hash_umis_P, ratio_W, top_oligo_P, rt_well); None = NA
CELLS = [
    ("A549", 24, "S1628", 10000, 40, 12.0, "P1", 5),  # 1 kept
    ("A549", 72, "S1628", 1000, 35, 9.0, "P2", 6),  # 2 kept (A549 72 h plate)
    ("K562", 24, "S1096", 100, 22, 30.0, "P3", 7),  # 3 kept
    ("MCF7", 24, "S7259", 10, 18, 6.0, "P4", 8),  # 4 kept
    ("MCF7", 24, "S1262", 10000, 50, 15.0, "P5", 9),  # 5 kept (the paper prints S1261)
    ("MCF7", 24, "S1261", 10000, 50, 15.0, "P6", 10),  # 6 Celecoxib: not in the subset
    ("A549", 24, "S0000", 0, 30, 8.0, "P7", 11),  # 7 vehicle: kept
    ("K562", 24, "S1007", 100, 30, 8.0, "P8", 12),  # 8 drug outside the subset
    ("A549", 24, "S1180", 100, 30, 8.0, "P9", 13),  # 9 kept; pathway with two spaces
    ("A549", 24, "S1628", 10, 3, 12.0, "P10", 14),  # 10 hash_umis_P < 5
    ("K562", 24, "S1096", 10, 30, 2.5, "P11", 15),  # 11 top_to_second_best_ratio_W < 5
    ("MCF7", 24, "S7259", 10, 30, 8.0, None, 16),  # 12 top_oligo_P NA
    ("MCF7", 24, "S7259", 10, 30, 8.0, "P13", 1),  # 13 rt_well == 1
    (None, None, None, None, 1, 1.0, None, 17),  # 14 unassigned hash: NA design
    ("K562", 24, "S0000", 0, 30, 8.0, "P15", 18),  # 15 vehicle: kept
    ("MCF7", 24, "S7259", 1000, 30, 8.0, "P16", 19),  # 16 kept; last cell index
]


def barcode(j: int) -> str:
    """A sci-RNA-seq3-like barcode for cell j (1-based)."""
    return f"A{j:02d}_F10_RT_BC_{j}_Lig_BC_{100 + j}"


def count(gene: int, cell: int) -> int:
    """UMI count of 1-based gene ``gene`` in 1-based cell ``cell`` (0 = not written)."""
    if gene == 5:
        return 0
    return (gene * 7 + cell * 3) % 5


def r_value(value: object) -> str:
    """Format like R write.table: strings quoted, numbers bare, NA bare, logicals TRUE/FALSE."""
    if value is None:
        return "NA"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(value)
    return f'"{value}"'


def pdata_row(j: int, spec: tuple) -> list[object]:
    cell_type, hours, catalog, dose, umis_p, ratio_w, oligo_p, rt_well = spec
    name, target, pathway = DRUGS[catalog] if catalog else (None, None, None)
    vehicle = None if catalog is None else catalog == "S0000"
    values = {
        "cell": barcode(j),
        "sample": "sciPlex3",
        "Size_Factor": 1.0 + j / 100,
        "n.umi": 1000 + j,
        "top_to_second_best_ratio_W": ratio_w,
        "hash_umis_W": 25,
        "pval_W": 0.0,
        "qval_W": 0.0,
        "top_oligo_W": f"W{j}" if cell_type else None,
        "top_to_second_best_ratio_P": 10.0,
        "hash_umis_P": umis_p,
        "pval_P": 0.0,
        "qval_P": 0.0,
        "top_oligo_P": oligo_p,
        "rt_well": rt_well,
        "lig_well": j,
        "pcr_well": j,
        "pcr_plate": 1,
        "culture_plate": 1,
        "rt_plate": 1,
        "lig_plate": 1,
        "Combo": f"combo{j}",
        "well_oligo": oligo_p,
        "plate_oligo": f"W{j}",
        "cell_type": cell_type,
        "replicate": None if cell_type is None else ("rep1" if j % 2 else "rep2"),
        "time_point": hours,
        "drug_dose": None if catalog is None else f"{catalog}_{dose}",
        "catalog_number": catalog,
        "vehicle": vehicle,
        "dose_pattern": None,
        "dose_character": None if dose is None else str(dose),
        "dose": dose,
        "treatment": None if catalog is None else f"{catalog}_treatment",
        "pathway_level_1": pathway,
        "pathway_level_2": pathway,
        "product_name": name,
        "target": target,
        "pathway": pathway,
    }
    return [barcode(j), *(values[c] for c in PDATA_COLUMNS)]


def write_gzip(path: Path, text: str) -> None:
    """gzip with a zero timestamp and no file name, so reruns give identical bytes."""
    with path.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))


def main() -> None:
    write_gzip(
        HERE / "gene.annotations.txt.gz",
        "id gene_short_name\n" + "".join(f"{gid} {sym}\n" for gid, sym in GENES),
    )
    write_gzip(
        HERE / "cell.annotations.txt.gz",
        "".join(f"{barcode(j)}\tsciPlex3\n" for j in range(1, len(CELLS) + 1)),
    )
    lines = [" ".join(f'"{c}"' for c in PDATA_COLUMNS)]
    lines += [
        " ".join(r_value(v) for v in pdata_row(j, spec)) for j, spec in enumerate(CELLS, start=1)
    ]
    write_gzip(HERE / "pData.txt.gz", "\n".join(lines) + "\n")
    triplets = [
        f"{g}\t{c}\t{count(g, c)}"
        for g in range(1, len(GENES) + 1)  # gene-major order, as the GEO file
        for c in range(1, len(CELLS) + 1)
        if count(g, c)
    ]
    write_gzip(HERE / "UMI.count.matrix.gz", "\n".join(triplets) + "\n")


if __name__ == "__main__":
    main()
