"""Bad input data through the CLI: every case exits 2, names the file, key or value, and leaves nothing.

Each case runs a stage the way a Snakemake rule does (``michigan <stage> --params JSON ...``, through
the console script's entry point in this process; one case runs the real console script) on a
small file that is wrong in one way, and checks: exit status 2, one error line naming the file and
the key or values at fault (quoting at most a few values, each cut short), and no output, run
record or temporary folder left where the next rule looks.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from michigan import keys
from michigan.cli import main

# the files are wrong on purpose: anndata's warnings about repeated names are expected
pytestmark = pytest.mark.filterwarnings("ignore:(Observation|Variable) names are not unique")

N_CELLS, N_GENES = 40, 30

Corruption = Callable[[ad.AnnData], ad.AnnData]


def cells(corrupt: Corruption | None = None) -> ad.AnnData:
    """40 cells x 30 genes of whole-number counts, two cell types x two treatments, unique names."""
    rng = np.random.default_rng(0)
    obs = pd.DataFrame(
        {
            "cell_type": np.repeat(["hepatocyte", "kupffer"], N_CELLS // 2),
            "treatment": np.tile(np.repeat(["DMSO", "drug"], N_CELLS // 4), 2),
        },
        index=[f"cell{i}" for i in range(N_CELLS)],
    )
    var = pd.DataFrame(index=[f"GENE{j}" for j in range(N_GENES)])
    adata = ad.AnnData(rng.poisson(4.0, (N_CELLS, N_GENES)).astype(np.float32), obs=obs, var=var)
    return corrupt(adata) if corrupt else adata


def write(adata: ad.AnnData, path: Path) -> Path:
    adata.write_h5ad(path)
    return path


def stage_fails(caplog, tmp_path: Path, *argv: object, output: Path) -> str:
    """Run ``michigan <argv>``; check exit 2 and that nothing was left; return the error line."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        code = main([str(a) for a in argv])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert code == 2, caplog.text[-2000:]
    assert len(errors) == 1, errors
    assert not output.exists(), f"{output} was left behind"
    assert not output.with_name(f"{output.stem}.run.json").exists()
    assert not list(output.parent.glob(".*.tmp")), "a temporary folder was left behind"
    return errors[0]


def import_fails(caplog, tmp_path: Path, path: Path, **entry: object) -> str:
    """``michigan import-h5ad`` of ``path`` as dataset ``mine`` (with config keys ``entry``)."""
    section = {"datasets": {"mine": {"path": str(path), **entry}}}
    output = tmp_path / "results" / "counts.h5ad"
    return stage_fails(
        caplog,
        tmp_path,
        "import-h5ad",
        "--params",
        json.dumps(section),
        "--name",
        "mine",
        "--output",
        output,
        output=output,
    )


def rename(axis: str, names: list[str]) -> Corruption:
    def corrupt(adata: ad.AnnData) -> ad.AnnData:
        setattr(adata, f"{axis}_names", names)
        return adata

    return corrupt


def set_value(row: int, column: int, value: float) -> Corruption:
    def corrupt(adata: ad.AnnData) -> ad.AnnData:
        adata.X[row, column] = value
        return adata

    return corrupt


def log_normalised(adata: ad.AnnData) -> ad.AnnData:
    x = adata.X / adata.X.sum(axis=1, keepdims=True) * 1e4
    adata.X = np.log1p(x).astype(np.float32)
    return adata


def nan_in_layer(adata: ad.AnnData) -> ad.AnnData:
    counts = adata.X.copy()
    counts[5, 5] = np.nan
    adata.layers["counts"] = sp.csr_matrix(counts)
    adata.X = log_normalised(adata.copy()).X
    return adata


DUPLICATE_CELLS = [f"cell{i % 35}" for i in range(N_CELLS)]
DUPLICATE_GENES = ["GENE0", "GENE1", *(f"GENE{j}" for j in range(N_GENES - 2))]

IMPORT_CASES = {
    "duplicate cell names": (
        rename("obs", DUPLICATE_CELLS),
        {},
        r"has 5 cell names that occur more than once \('cell0', 'cell1', 'cell2', 'cell3', 'cell4'\)",
    ),
    "duplicate gene names": (
        rename("var", DUPLICATE_GENES),
        {},
        r"has 2 gene names that occur more than once \('GENE0', 'GENE1'\)",
    ),
    "log-normalised values given as counts": (
        log_normalised,
        {},
        r"X holds \d+ non-integer values \(e\.g\. [\d.]+\), so it is not raw counts.*normalised: true",
    ),
    "negative value": (set_value(3, 2, -2.0), {}, r"X holds 1 negative values \(minimum -2"),
    "NaN in the counts layer": (
        nan_in_layer,
        {"counts_layer": "counts"},
        r"layers\['counts'\] holds 1 NaN or infinite values",
    ),
    "missing layer": (
        None,
        {"counts_layer": "raw"},
        r"has no layer 'raw' to take counts from; layers: none",
    ),
    "missing obs key": (
        None,
        {"factor_keys": ["donor"]},
        r"has no obs column 'donor'; obs columns: 'cell_type', 'treatment'",
    ),
    "factor with one level": (
        lambda a: _with_obs(a, tissue="liver"),
        {"factor_keys": ["tissue"]},
        r"obs\['tissue'\] has a single value \('liver'\) for all 40 cells",
    ),
    "per-cell ID as a factor": (
        lambda a: _with_obs(a, barcode=[f"AAAC{i:04d}" for i in range(N_CELLS)]),
        {"factor_keys": ["barcode"]},
        r"obs\['barcode'\] gives every one of its 40 cells its own value \('AAAC0000', .*like a cell ID",
    ),
    "counts declared normalised": (
        None,
        {"normalised": True},
        r"X holds whole numbers only, like raw counts, but the dataset is declared normalised",
    ),
    "normalised but not log-transformed": (
        lambda a: _with_x(a, a.X / a.X.sum(axis=1, keepdims=True) * 1e4),
        {"normalised": True},
        r"X holds values up to [\d.e+]+, more than any log-normalised value reaches",
    ),
    "zero cells": (lambda a: a[:0].copy(), {}, r"X is empty \(0 cells x 30 genes\)"),
}


def _with_obs(adata: ad.AnnData, **columns: object) -> ad.AnnData:
    for name, values in columns.items():
        adata.obs[name] = values
    return adata


def _with_x(adata: ad.AnnData, x: np.ndarray) -> ad.AnnData:
    adata.X = np.asarray(x, dtype=np.float32)
    return adata


@pytest.mark.parametrize("case", list(IMPORT_CASES))
def test_import_refuses_bad_data_naming_file_and_values(case, caplog, tmp_path):
    corrupt, entry, pattern = IMPORT_CASES[case]
    path = write(cells(corrupt), tmp_path / "user data.h5ad")
    error = import_fails(caplog, tmp_path, path, **entry)
    assert str(path) in error
    assert re.search(pattern, error), error


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", r"is empty \(0 bytes\); expected an AnnData \.h5ad file"),
        (b"gene,cell,count\nGENE1,cell1,3\n", r"is not an HDF5 file, so not an \.h5ad"),
    ],
    ids=["empty file", "not an h5ad"],
)
def test_import_refuses_files_that_are_not_anndata(content, pattern, caplog, tmp_path):
    path = tmp_path / "mine.h5ad"
    path.write_bytes(content)
    error = import_fails(caplog, tmp_path, path)
    assert str(path) in error
    assert re.search(pattern, error), error


def test_a_dataset_that_is_not_configured_is_named(caplog, tmp_path):
    output = tmp_path / "counts.h5ad"
    error = stage_fails(
        caplog,
        tmp_path,
        "import-h5ad",
        "--params",
        json.dumps({"datasets": {"liver": {"path": "liver.h5ad"}}}),
        "--name",
        "livr",
        "--output",
        output,
        output=output,
    )
    assert "h5ad.datasets has no dataset 'livr'; configured: 'liver'" in error


def test_a_message_about_huge_input_quotes_only_a_little(caplog, tmp_path):
    # 2,000 cells whose 10,000-character names repeat: quoting them all would paste 20 MB
    n, long = 2_000, "x" * 10_000
    adata = ad.AnnData(
        sp.csr_matrix((n, 2), dtype=np.float32),
        obs=pd.DataFrame(index=[f"{long}{i % 1_000}" for i in range(n)]),
    )
    path = write(adata, tmp_path / "huge.h5ad")
    error = import_fails(caplog, tmp_path, path)
    assert "has 1000 cell names that occur more than once" in error
    assert "more characters)" in error
    assert "and 995 more" in error
    assert len(error) < 1_000 + len(str(path))


def preprocess_fails(caplog, tmp_path: Path, path: Path, **section: object) -> str:
    output = tmp_path / "results" / "preprocessed.h5ad"
    params = json.dumps({"min_genes": 1, "min_cells": 1, **section})
    return stage_fails(
        caplog,
        tmp_path,
        "preprocess",
        "--params",
        params,
        "--input",
        path,
        "--output",
        output,
        output=output,
    )


@pytest.mark.parametrize(
    ("corrupt", "section", "pattern"),
    [
        (None, {"n_top_genes": 500}, r"n_top_genes=500 asks for more genes than the 30 left"),
        (log_normalised, {}, r"X holds \d+ non-integer values.*not raw counts"),
        (rename("var", DUPLICATE_GENES), {}, r"has 2 gene names that occur more than once"),
    ],
    ids=["n_top_genes above the gene count", "log data as counts", "duplicate genes"],
)
def test_preprocess_refuses_what_the_recipe_cannot_use(corrupt, section, pattern, caplog, tmp_path):
    path = write(cells(corrupt), tmp_path / "counts.h5ad")
    error = preprocess_fails(caplog, tmp_path, path, **section)
    assert str(path) in error
    assert re.search(pattern, error), error


def codes_file(path: Path, **columns: object) -> Path:
    """A codes .h5ad (obs factors, obsm posterior) as the encode stage writes it."""
    rng = np.random.default_rng(0)
    adata = cells()
    out = ad.AnnData(obs=_with_obs(adata, **columns).obs)
    out.obsm[keys.CODE_MEAN] = rng.standard_normal((N_CELLS, 2))
    out.obsm[keys.CODE_LOGSIGMA] = np.full((N_CELLS, 2), -1.0)
    out.obsm[keys.CODE_SAMPLE] = rng.standard_normal((N_CELLS, 2))
    return write(out, path)


@pytest.mark.parametrize(
    ("factor", "pattern"),
    [
        ("cell_index", r"obs\['cell_index'\] gives every one of its 40 cells its own value"),
        ("organ", r"obs\['organ'\] has a single value \('liver'\)"),
        ("donor", r"lacks the factor column\(s\) 'donor'; obs columns: 'cell_type'"),
    ],
    ids=["per-cell ID", "one level", "missing column"],
)
def test_evaluation_refuses_factors_that_are_no_factors(factor, pattern, caplog, tmp_path):
    codes = codes_file(tmp_path / "codes.h5ad", cell_index=np.arange(N_CELLS), organ="liver")
    output = tmp_path / "results" / "metrics.json"
    error = stage_fails(
        caplog,
        tmp_path,
        "evaluate-disentanglement",
        "--params",
        "{}",
        "--seed",
        0,
        "--codes",
        codes,
        "--factors",
        "cell_type",
        factor,
        "--output",
        output,
        output=output,
    )
    assert str(codes) in error
    assert re.search(pattern, error), error


def test_split_refuses_repeated_cell_names_that_could_be_trained_on_and_held_out(caplog, tmp_path):
    path = write(cells(rename("obs", DUPLICATE_CELLS)), tmp_path / "data.h5ad")
    output = tmp_path / "results" / "split.json"
    error = stage_fails(
        caplog,
        tmp_path,
        "split-heldout",
        "--params",
        json.dumps({"heldout": [["kupffer", "drug"]]}),
        "--input",
        path,
        "--output",
        output,
        output=output,
    )
    assert re.search(rf"{re.escape(str(path))} has 5 cell names that occur more than once", error)


def test_the_console_script_exits_2_with_one_line(tmp_path):
    path = tmp_path / "notes.h5ad"
    path.write_text("not a matrix\n")
    output = tmp_path / "counts.h5ad"
    section = json.dumps({"datasets": {"mine": {"path": str(path)}}})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "michigan",
            "import-h5ad",
            "--params",
            section,
            "--name",
            "mine",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    assert f"import-h5ad failed: {path} is not an HDF5 file" in done.stderr
    assert "Traceback" not in done.stderr
    assert not output.exists()
