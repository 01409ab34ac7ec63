"""The shared scanpy recipe against an independent NumPy/pandas computation."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from michigan import keys
from michigan.data.checks import check_counts
from michigan.data.preprocess import PreprocessParams, preprocess, subset_cells

PARAMS = PreprocessParams(
    min_genes=60,
    min_cells=3,
    target_sum=1e4,
    hvg_min_mean=0.0125,
    hvg_max_mean=3.0,
    hvg_min_disp=0.5,
    scale=True,
    scale_max_value=10.0,
)


def synthetic_counts(seed: int = 0) -> ad.AnnData:
    """300 cells x 400 genes of gamma-Poisson counts with a few sparse cells and rare genes."""
    rng = np.random.default_rng(seed)
    n_cells, n_genes = 300, 400
    gene_mean = np.exp(rng.uniform(-4, 3, size=n_genes))
    shape = rng.uniform(0.2, 5.0, size=n_genes)  # per-gene overdispersion: some genes vary more
    library = rng.lognormal(0, 0.3, size=(n_cells, 1))
    rate = rng.gamma(shape, gene_mean / shape, size=(n_cells, n_genes)) * library
    counts = rng.poisson(rate).astype(np.float64)
    counts[:5, 40:] = 0  # 5 cells with at most 40 genes: removed by min_genes=60
    counts[:, :3] = 0
    counts[10:12, :3] = 4  # 3 genes seen in only 2 cells: removed by min_cells=3
    obs = pd.DataFrame({"group": np.where(np.arange(n_cells) % 2, "a", "b")})
    obs.index = [f"cell{i}" for i in range(n_cells)]
    return ad.AnnData(
        X=sp.csr_matrix(counts), obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(n_genes)])
    )


def numpy_recipe(counts: np.ndarray, params: PreprocessParams) -> dict[str, np.ndarray]:
    """The recipe written out with NumPy and pandas, following the formulas in the docstring."""
    cells = (counts > 0).sum(1) >= params.min_genes
    x = counts[cells]
    genes = (x > 0).sum(0) >= params.min_cells
    x = x[:, genes]
    logged = np.log1p(params.target_sum * x / x.sum(1, keepdims=True))
    expressed = np.expm1(logged)
    mean = expressed.mean(0)
    var = expressed.var(0, ddof=1)
    mean[mean == 0] = 1e-12
    dispersion = var / mean
    dispersion[dispersion == 0] = np.nan
    dispersion = np.log(dispersion)
    log_mean = np.log1p(mean)
    frame = pd.DataFrame({"mean": log_mean, "disp": dispersion})
    frame["bin"] = pd.cut(frame["mean"], bins=20)
    stats = frame.groupby("bin", observed=True)["disp"].agg(["mean", "std"])
    single = stats["std"].isna()  # one gene in the bin: normalised dispersion 1 (Seurat)
    stats.loc[single, "std"] = stats.loc[single, "mean"]
    stats.loc[single, "mean"] = 0.0
    per_gene = stats.loc[frame["bin"]].to_numpy()
    norm = np.nan_to_num((frame["disp"].to_numpy() - per_gene[:, 0]) / per_gene[:, 1])
    hvg = (
        (log_mean > params.hvg_min_mean)
        & (log_mean < params.hvg_max_mean)
        & (norm > params.hvg_min_disp)
    )
    selected = logged[:, hvg]
    std = selected.std(0, ddof=1)
    std[std == 0] = 1
    scaled = np.clip(
        (selected - selected.mean(0)) / std, -params.scale_max_value, params.scale_max_value
    )
    return {
        "cells": cells,
        "genes": np.flatnonzero(genes)[hvg],
        "counts": x[:, hvg],
        "logged": selected,
        "scaled": scaled,
        "filtered_genes": np.flatnonzero(genes),
        "dispersions_norm": norm,
    }


def test_recipe_matches_numpy():
    adata = synthetic_counts()
    expected = numpy_recipe(adata.X.toarray(), PARAMS)
    out = preprocess(adata, params=PARAMS)
    assert out.obs_names.tolist() == adata.obs_names[expected["cells"]].tolist()
    assert 0 < out.n_vars < 300  # the cut-offs select a real subset
    assert out.var_names.tolist() == adata.var_names[expected["genes"]].tolist()
    # counts are copied, never recomputed: exact
    np.testing.assert_array_equal(out.layers[keys.COUNTS_LAYER].toarray(), expected["counts"])
    # float32 output vs float64 reference: 1e-5 relative covers float32 rounding of values <= 10
    np.testing.assert_allclose(out.X, expected["scaled"], rtol=1e-5, atol=1e-5)
    assert out.X.dtype == np.float32
    assert np.abs(out.X).max() <= PARAMS.scale_max_value
    record = out.uns[keys.PREPROCESSING]
    assert record["shape_after"]["filter_cells"] == [295, 400]
    n_genes_kept = len(expected["filtered_genes"])
    assert record["shape_after"]["filter_genes"] == [295, n_genes_kept]
    assert not {0, 1, 2} & set(expected["filtered_genes"])  # the planted rare genes are gone
    assert record["params"]["min_genes"] == 60
    assert adata.shape == (300, 400)  # the input is not modified
    assert "n_genes" in out.obs
    assert {"highly_variable", "means", "dispersions_norm", "mean", "std"} <= set(out.var)


def test_unscaled_recipe_keeps_log_normalised_values():
    params = PreprocessParams(min_genes=60, min_cells=3, scale=False)
    adata = synthetic_counts()
    expected = numpy_recipe(adata.X.toarray(), params)
    out = preprocess(adata, params=params)
    values = out.X.toarray() if sp.issparse(out.X) else out.X
    # float32 log1p values below ~10: 1e-5 relative is float32 precision with margin
    np.testing.assert_allclose(values, expected["logged"], rtol=1e-5, atol=1e-6)


def test_n_top_genes_overrides_cutoffs():
    adata = synthetic_counts()
    params = PreprocessParams(min_genes=60, n_top_genes=50)
    expected = numpy_recipe(adata.X.toarray(), params)
    out = preprocess(adata, params=params)
    assert out.n_vars == 50
    top = np.argsort(-expected["dispersions_norm"], kind="stable")[:50]
    expected_genes = adata.var_names[expected["filtered_genes"][np.sort(top)]]
    assert out.var_names.tolist() == expected_genes.tolist()


def test_subset_cells_keeps_genes_and_rows():
    out = preprocess(synthetic_counts(), params=PARAMS)
    part = subset_cells(out, key="group", values=["a"])
    assert part.var_names.tolist() == out.var_names.tolist()
    assert part.obs_names.tolist() == out.obs_names[out.obs["group"] == "a"].tolist()
    with pytest.raises(KeyError, match="'tissue'"):
        subset_cells(out, key="tissue", values=["Heart"])
    with pytest.raises(ValueError, match=r"absent \['c'\]"):
        subset_cells(out, key="group", values=["a", "c"])


@pytest.mark.parametrize(
    ("value", "message"),
    [(-1.0, "1 negative values"), (np.nan, "1 NaN or infinite"), (np.inf, "1 NaN or infinite")],
)
def test_counts_must_be_finite_and_non_negative(value, message):
    counts = np.ones((4, 3))
    counts[2, 1] = value
    with pytest.raises(ValueError, match=message):
        preprocess(ad.AnnData(X=counts))
    with pytest.raises(ValueError, match=message):
        check_counts(sp.csr_matrix(counts), where="sparse")


def test_recipe_that_removes_everything_says_so():
    with pytest.raises(ValueError, match="filter_cells left 0 cells"):
        preprocess(synthetic_counts(), params=PreprocessParams(min_genes=10_000))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_genes": -1},
        {"target_sum": 0.0},
        {"hvg_min_mean": 3.0, "hvg_max_mean": 1.0},
        {"n_top_genes": 0},
        {"scale_max_value": 0.0},
    ],
)
def test_params_are_validated(kwargs):
    with pytest.raises(ValueError, match="invalid PreprocessParams"):
        PreprocessParams(**kwargs)
