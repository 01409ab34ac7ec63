"""Native Splat paths simulation: output layout, reproducibility, and the model's structure."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from michigan import keys
from michigan.simulate import SplatParams, splat_paths
from michigan.simulate.splat import _path_factors

SMALL = {
    "seed": 11,
    "n_genes": 300,
    "batch_cells": [120, 80],
    "group_prob": [0.5, 0.5],
    "path_n_steps": [5, 8],
    "de_prob": 0.5,
}


@pytest.fixture(scope="module")
def small() -> ad.AnnData:
    return splat_paths(**SMALL)


def test_layout(small):
    assert small.shape == (200, 300)
    assert isinstance(small.X, sp.csr_matrix)
    assert small.X.dtype == np.int32
    assert list(small.obs.columns) == ["Batch", "Group", "ExpLibSize", "Step", keys.LIBRARY_SIZE]
    assert list(small.obs_names[:2]) == ["Cell1", "Cell2"]
    assert list(small.var_names[-1:]) == ["Gene300"]
    assert list(small.var.columns) == [
        "BaseGeneMean",
        "OutlierFactor",
        "GeneMean",
        "BatchFacBatch1",
        "BatchFacBatch2",
        "DEFacPath1",
        "DEFacPath2",
        "SigmaFacPath1",
        "SigmaFacPath2",
    ]
    assert list(small.obs["Batch"].cat.categories) == ["Batch1", "Batch2"]
    assert list(small.obs["Group"].cat.categories) == ["Path1", "Path2"]
    # cells are ordered by batch, as in Splatter
    assert (small.obs["Batch"] == "Batch1").to_numpy()[:120].all()
    np.testing.assert_array_equal(small.obs[keys.LIBRARY_SIZE], small.X.sum(axis=1).A1)
    steps = small.obs.groupby("Group", observed=True)["Step"].agg(["min", "max"])
    assert steps.loc["Path1"].tolist() == [1, 5]
    assert steps.loc["Path2"].tolist() == [1, 8]
    assert small.uns[keys.SPLAT_PARAMS]["path_n_steps"] == [5, 8]
    assert small.uns[keys.SIMULATION_BACKEND]["backend"] == "native"


def test_output_writes_to_h5ad(small, tmp_path):
    path = tmp_path / "sim.h5ad"
    small.write_h5ad(path)
    back = ad.read_h5ad(path)
    assert (back.X != small.X).nnz == 0
    assert SplatParams.from_dict(back.uns[keys.SPLAT_PARAMS]) == SplatParams.from_dict(SMALL)


def test_same_seed_same_output_other_seed_differs(small):
    again = splat_paths(SplatParams.from_dict(SMALL), n_threads=1)
    assert (again.X != small.X).nnz == 0
    np.testing.assert_array_equal(again.var.to_numpy(), small.var.to_numpy())
    np.testing.assert_array_equal(again.obs["Step"], small.obs["Step"])
    other = splat_paths(SplatParams.from_dict(SMALL), seed=12)  # keyword overrides params
    assert other.uns[keys.SPLAT_PARAMS]["seed"] == 12
    assert (other.X != small.X).nnz > 0


def test_gene_columns_follow_the_model(small):
    var = small.var
    outlier = var["OutlierFactor"] != 1
    np.testing.assert_allclose(
        var.loc[outlier, "GeneMean"],
        np.median(var["BaseGeneMean"]) * var.loc[outlier, "OutlierFactor"],
    )
    np.testing.assert_array_equal(var.loc[~outlier, "GeneMean"], var.loc[~outlier, "BaseGeneMean"])
    assert np.all(var["BatchFacBatch1"] != 1)  # every gene has a batch factor
    assert set(np.unique(var["SigmaFacPath1"])) <= {0.0, 0.8}


def test_single_batch_has_no_batch_columns_and_rm_effect_sets_ones():
    single = splat_paths(seed=1, n_genes=50, batch_cells=30)
    assert not any(c.startswith("BatchFac") for c in single.var.columns)
    assert list(single.obs["Group"].cat.categories) == ["Path1"]
    removed = splat_paths(seed=1, n_genes=50, batch_cells=[10, 10], batch_rm_effect=True)
    assert np.all(removed.var[["BatchFacBatch1", "BatchFacBatch2"]] == 1)


def test_trajectories_start_at_origin_and_end_at_de_factor():
    params = SplatParams(
        seed=3,
        n_genes=400,
        group_prob=[0.4, 0.3, 0.3],
        path_from=[0, 1, 1],
        path_n_steps=[6, 4, 9],
        path_nonlinear_prob=0.5,
    )
    de, sigma, trajectories = _path_factors(np.random.default_rng(0), params)
    first, second, third = np.split(trajectories, np.cumsum(params.path_n_steps)[:-1])
    np.testing.assert_allclose(first[0], 1.0, rtol=1e-12)  # root path starts at 1
    np.testing.assert_allclose(first[-1], de[0], rtol=1e-12)
    # child paths start where path 1 ends and end at their own factors (1.22.1: not multiplied)
    np.testing.assert_allclose(second[0], de[0], rtol=1e-12)
    np.testing.assert_allclose(third[-1], de[2], rtol=1e-12)
    assert third.shape == (9, 400)
    assert 0.4 < (sigma > 0).mean() < 0.6  # 1200 Bernoulli(0.5) flags: sd 0.014


def _step_profile_r2(nonlinear_prob: float) -> np.ndarray:
    """R^2 of a line through the per-step mean relative expression of strongly DE genes."""
    adata = splat_paths(
        seed=5,
        n_genes=1000,
        batch_cells=4000,
        path_n_steps=9,
        path_nonlinear_prob=nonlinear_prob,
        de_prob=0.1,
        de_fac_loc=1.5,
        out_prob=0,
    )
    normalised = adata.X.toarray() / adata.obs[keys.LIBRARY_SIZE].to_numpy()[:, None]
    step = adata.obs["Step"].to_numpy()
    profile = np.stack([normalised[step == s].mean(axis=0) for s in range(1, 10)])
    strong = np.abs(np.log(adata.var["DEFacPath1"].to_numpy())) > 1.0
    x = np.arange(1.0, 10.0)
    return np.array([np.corrcoef(x, profile[:, g])[0, 1] ** 2 for g in np.flatnonzero(strong)])


def test_linear_step_is_a_straight_line_and_bridges_are_not():
    # ~440 cells per step; ~90 genes move by e^1 or more, so their per-step means lie on the line
    # up to sampling noise and the compositional renormalisation (median R^2 0.996 at this seed)
    linear = _step_profile_r2(0.0)
    assert np.median(linear) > 0.98
    bridges = _step_profile_r2(1.0)  # smoothed Brownian bridges wander off the line (0.963)
    assert np.median(bridges) < np.median(linear) - 0.02


def test_dropout_zeroes_counts():
    base = {"seed": 2, "n_genes": 200, "batch_cells": 300}
    without = splat_paths(**base)
    with_dropout = splat_paths(
        **base, dropout_type="experiment", dropout_mid=[2.0], dropout_shape=[-1.0]
    )
    # midpoint log(2), slope -1: an entry with CellMeans 2 drops with probability 1/2 (1/3 at 4,
    # 1/6 at 10); 16 % of the ~56,000 non-zero entries go at this seed, while the non-zero count
    # of two runs without dropout differs by < 1 %
    assert with_dropout.X.nnz < 0.92 * without.X.nnz


def test_dropout_per_cell_and_per_group():
    adata = splat_paths(
        seed=2,
        n_genes=50,
        batch_cells=[20, 20],
        group_prob=[0.5, 0.5],
        dropout_type="group",
        dropout_mid=[-100.0, 100.0],
        dropout_shape=[-1.0, -1.0],
    )
    on_path2 = (adata.obs["Group"] == "Path2").to_numpy()
    assert adata.X[on_path2].nnz == 0  # midpoint 100: everything drops on path 2
    assert adata.X[~on_path2].nnz > 0
    per_cell = splat_paths(
        seed=2,
        n_genes=50,
        batch_cells=4,
        dropout_type="cell",
        dropout_mid=[100.0, -100.0, -100.0, 100.0],
        dropout_shape=[-1.0] * 4,
    )
    assert [per_cell.X[i].nnz > 0 for i in range(4)] == [False, True, True, False]


def test_unknown_backend_and_parameter():
    with pytest.raises(
        ValueError, match="unknown Splat backend 'julia'; expected one of native, splatter"
    ):
        splat_paths(seed=1, backend="julia")
    with pytest.raises(ValueError, match=r"unknown Splat parameter\(s\) 'de_porb'"):
        splat_paths(seed=1, de_porb=0.1)
