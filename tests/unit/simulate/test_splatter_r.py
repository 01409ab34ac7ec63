"""The rpy2 bridge to R Splatter: parameter translation, object conversion, and every error path.

The bridge tests build SingleCellExperiment objects in R with Debian's Bioconductor packages; only
the end-to-end tests (marker ``splatter``) need the R package splatter itself.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from michigan import keys
from michigan.simulate import SplatParams, splat_paths, splatter_r
from michigan.simulate.splatter_r import (
    SplatterUnavailableError,
    call_with_splatter_names,
    sce_to_anndata,
    splat_from_sce,
    splatter_arguments,
    to_r_vector,
)

TWO_BY_TWO = {"seed": 3, "n_genes": 6, "batch_cells": [3, 2], "group_prob": [0.5, 0.5]}

# an SCE shaped like splatSimulatePaths output (6 genes x 5 cells), built with Debian's packages
R_SPLAT_LIKE_SCE = """
function(sparse) {
    counts <- matrix(c(0L, 3L, 0L, 1L, 7L, 0L,  2L, 0L, 0L, 0L, 1L, 9L,  0L, 0L, 0L, 0L, 0L, 0L,
                       5L, 1L, 1L, 0L, 0L, 2L,  0L, 4L, 0L, 8L, 0L, 1L), nrow = 6,
                     dimnames = list(paste0("Gene", 1:6), paste0("Cell", 1:5)))
    if (sparse) counts <- methods::as(counts, "CsparseMatrix")
    cells <- S4Vectors::DataFrame(Cell = paste0("Cell", 1:5),
                                  Batch = c("Batch1", "Batch1", "Batch1", "Batch2", "Batch2"),
                                  Group = factor(c("Path2", "Path1", "Path1", "Path2", "Path1"),
                                                 levels = c("Path1", "Path2")),
                                  ExpLibSize = c(100.5, 200, 300, 400, 500),
                                  Step = c(1, 2, 3, 4, 5), row.names = paste0("Cell", 1:5))
    genes <- S4Vectors::DataFrame(Gene = paste0("Gene", 1:6), BaseGeneMean = 1:6 / 2,
                                  OutlierFactor = c(1, 1, 3, 1, 1, 1), GeneMean = 1:6 / 2,
                                  BatchFacBatch1 = rep(1.1, 6), BatchFacBatch2 = rep(0.9, 6),
                                  DEFacPath1 = c(1, 2, 1, 1, 0.5, 1), DEFacPath2 = rep(1, 6),
                                  SigmaFacPath1 = rep(0, 6), SigmaFacPath2 = rep(0.8, 6),
                                  row.names = paste0("Gene", 1:6))
    SingleCellExperiment::SingleCellExperiment(assays = list(counts = counts),
                                               colData = cells, rowData = genes)
}
"""
EXPECTED_COUNTS_CELLS_BY_GENES = np.array(
    [
        [0, 3, 0, 1, 7, 0],
        [2, 0, 0, 0, 1, 9],
        [0, 0, 0, 0, 0, 0],
        [5, 1, 1, 0, 0, 2],
        [0, 4, 0, 8, 0, 1],
    ]
)


def test_splatter_arguments_use_dotted_names_in_a_valid_order():
    params = SplatParams(seed=3, batch_cells=[10, 20], group_prob=[0.3, 0.7], path_n_steps=[5, 7])
    arguments = splatter_arguments(params)
    assert arguments["path.nSteps"] == [5, 7]
    assert arguments["batchCells"] == [10, 20]
    assert arguments["batch.facLoc"] == [0.1, 0.1]  # recycled, as Splatter's expandParams
    assert arguments["seed"] == 3
    assert arguments["nGenes"] == 10000
    assert list(arguments)[-1] == "dropout.type"  # set after dropout.mid / dropout.shape
    assert all("_" not in name for name in arguments)


def test_seed_beyond_r_integers_is_rejected_before_r_starts():
    with pytest.raises(ValueError, match=r"'seed' must be an integer in \[0, 2147483647\]"):
        splat_paths(seed=2**31, backend="splatter")


def test_missing_rpy2_is_named(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "rpy2" else real(name, *a)
    )
    with pytest.raises(
        SplatterUnavailableError, match=r"needs the Python package rpy2.*backend: native"
    ):
        splat_paths(seed=1, backend="splatter")


# slow tier: a fresh interpreter loads rpy2 against a missing R
@pytest.mark.slow
def test_missing_r_is_named():
    pytest.importorskip("rpy2")
    code = (
        "from michigan.simulate.splatter_r import _require_rpy2\n"
        "try:\n    _require_rpy2()\nexcept ImportError as err:\n    print(type(err).__name__, err)\n"
    )
    env = {**os.environ, "R_HOME": "/nonexistent/R"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "SplatterUnavailableError" in result.stdout
    assert "needs R, but rpy2 could not start it" in result.stdout
    assert 'BiocManager::install("splatter")' in result.stdout


@pytest.mark.r
def test_missing_r_package_is_named_with_library_paths(robjects):
    with pytest.raises(
        SplatterUnavailableError, match=r"R package 'noSuchPackageXyz'.*libraries \(/"
    ):
        splatter_r._r_package("noSuchPackageXyz")


@pytest.mark.r
def test_missing_splatter_is_named(robjects):
    if robjects.r('isTRUE(requireNamespace("splatter", quietly = TRUE))')[0]:
        pytest.skip("splatter is installed here")
    with pytest.raises(SplatterUnavailableError, match=r"R package 'splatter'.*envs/splatter.yaml"):
        splat_paths(seed=1, backend="splatter")


@pytest.mark.r
def test_to_r_vector_types(robjects):
    r_class = robjects.r("function(x) class(x)")
    assert r_class(to_r_vector(True))[0] == "logical"
    assert r_class(to_r_vector([1, 2]))[0] == "integer"
    assert r_class(to_r_vector([1, 2.5]))[0] == "numeric"
    assert r_class(to_r_vector("none"))[0] == "character"
    assert math.isinf(to_r_vector(math.inf)[0])
    with pytest.raises(ValueError, match="cannot pass an empty list to R"):
        to_r_vector([])
    with pytest.raises(ValueError, match=r"cannot pass \[1, 'a'\] to R"):
        to_r_vector([1, "a"])


@pytest.mark.r
def test_dotted_names_pass_through_r_dots(robjects):
    echo = robjects.r(
        "function(...) { a <- list(...); "
        "list(names = names(a), classes = vapply(a, class, ''), lengths = lengths(a)) }"
    )
    arguments = splatter_arguments(SplatParams(seed=3, group_prob=[0.5, 0.5]))
    result = call_with_splatter_names(echo, arguments)
    names = list(result.rx2("names"))
    assert names == list(arguments)
    classes = dict(zip(names, result.rx2("classes"), strict=True))
    assert classes["group.prob"] == "numeric"
    assert classes["path.nSteps"] == "integer"
    assert classes["batch.rmEffect"] == "logical"
    assert classes["dropout.type"] == "character"
    assert dict(zip(names, result.rx2("lengths"), strict=True))["de.facLoc"] == 2


@pytest.mark.r
@pytest.mark.parametrize("sparse", [False, True])
def test_sce_to_anndata(robjects, sparse):
    sce = robjects.r(R_SPLAT_LIKE_SCE)(sparse)
    adata = sce_to_anndata(sce)
    np.testing.assert_array_equal(adata.X.toarray(), EXPECTED_COUNTS_CELLS_BY_GENES)
    assert adata.X.dtype == np.int32
    assert list(adata.obs_names) == [f"Cell{i}" for i in range(1, 6)]
    assert list(adata.var_names) == [f"Gene{i}" for i in range(1, 7)]
    assert isinstance(adata.obs["Group"].dtype, pd.CategoricalDtype)
    assert list(adata.obs["Group"].cat.categories) == ["Path1", "Path2"]
    np.testing.assert_array_equal(adata.obs["ExpLibSize"], [100.5, 200, 300, 400, 500])
    np.testing.assert_array_equal(adata.var["DEFacPath1"], [1, 2, 1, 1, 0.5, 1])


@pytest.mark.r
def test_sce_with_non_integer_assay_stays_float(robjects):
    sce = robjects.r(
        "function() SingleCellExperiment::SingleCellExperiment("
        "assays = list(counts = matrix(c(0.5, 1, 0, 2), 2)))"
    )()
    adata = sce_to_anndata(sce)
    assert adata.X.dtype == np.float64
    np.testing.assert_array_equal(adata.X.toarray(), [[0.5, 1.0], [0.0, 2.0]])


@pytest.mark.r
def test_splat_layout_from_sce_matches_native_layout(robjects):
    params = SplatParams.from_dict({**TWO_BY_TWO, "batch_cells": [3, 2], "n_genes": 6})
    adata = splat_from_sce(robjects.r(R_SPLAT_LIKE_SCE)(True), params, version="test")
    native = splat_paths(params)
    assert list(adata.obs.columns) == list(native.obs.columns)
    assert list(adata.var.columns) == list(native.var.columns)
    assert adata.obs.dtypes.to_dict() == native.obs.dtypes.to_dict()
    assert adata.obs["Group"].tolist() == ["Path2", "Path1", "Path1", "Path2", "Path1"]
    assert adata.obs[keys.LIBRARY_SIZE].tolist() == [11, 12, 0, 9, 13]
    assert adata.uns[keys.SIMULATION_BACKEND] == {"backend": "splatter", "version": "test"}


@pytest.mark.r
def test_splat_layout_names_missing_columns(robjects):
    sce = robjects.r(R_SPLAT_LIKE_SCE)(False)
    sce = robjects.r("function(x) { SummarizedExperiment::colData(x)$Step <- NULL; x }")(sce)
    with pytest.raises(KeyError, match=r"lacks the column\(s\) \['Step'\]"):
        splat_from_sce(sce, SplatParams.from_dict(TWO_BY_TWO), version="test")


@pytest.mark.r
@pytest.mark.splatter
def test_real_splatter_end_to_end(splatter_installed):
    params = SplatParams(
        seed=2,
        n_genes=200,
        batch_cells=[60, 40],
        group_prob=[0.5, 0.5],
        path_n_steps=[5, 9],
        de_prob=0.3,
    )
    adata = splat_paths(params, backend="splatter")
    native = splat_paths(params)
    assert adata.shape == native.shape == (100, 200)
    assert list(adata.obs.columns) == list(native.obs.columns)
    assert list(adata.var.columns) == list(native.var.columns)
    steps = adata.obs.groupby("Group", observed=True)["Step"].max()
    assert steps.to_dict() == {"Path1": 5, "Path2": 9}  # path.nSteps passed through R's dots
    assert adata.uns[keys.SIMULATION_BACKEND]["version"].startswith("splatter 1.22.1")
    # DE probability 0.3 reached Splatter: 400 Bernoulli(0.3) draws, sd 0.023
    de_share = (adata.var[["DEFacPath1", "DEFacPath2"]] != 1).to_numpy().mean()
    assert de_share == pytest.approx(0.3, abs=0.1)


@pytest.mark.r
@pytest.mark.splatter
def test_real_splatter_reproduces_the_reference_seed(splatter_installed):
    # expected library sizes and paths are drawn before any gene-level draw, so a 10-gene run
    # with the reference's seed and cells reproduces them exactly (README: 60863.8, 12181.7,
    # Path1 / Path2 = 4953 / 5047); this checks that seed and group.prob reach Splatter
    adata = splat_paths(
        backend="splatter",
        seed=1,
        n_genes=10,
        batch_cells=[5000, 5000],
        group_prob=[0.5, 0.5],
        path_n_steps=20,
    )
    assert adata.obs["ExpLibSize"].mean() == pytest.approx(60863.76, abs=0.01)
    assert adata.obs["ExpLibSize"].std() == pytest.approx(12181.69, abs=0.01)
    assert adata.obs["Group"].value_counts().to_dict() == {"Path1": 4953, "Path2": 5047}
