"""Ground-truth factor columns for the metrics."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from michigan import keys
from michigan.simulate import splat_paths
from michigan.simulate.truth import add_ground_truth_factors, library_size_quartiles


def test_quartiles_are_equal_sized_and_ordered():
    sizes = np.array([5, 1, 9, 3, 7, 2, 8, 4])
    quartile = library_size_quartiles(sizes)
    assert quartile.ordered
    assert list(quartile.categories) == ["Q1", "Q2", "Q3", "Q4"]
    # sorted sizes 1 2 | 3 4 | 5 7 | 8 9
    assert list(quartile) == ["Q3", "Q1", "Q4", "Q2", "Q3", "Q1", "Q4", "Q2"]


def test_quartiles_with_ties_are_still_populated():
    quartile = library_size_quartiles(np.full(10, 7))
    assert pd.Series(quartile).value_counts().to_dict() == {"Q1": 3, "Q2": 2, "Q3": 3, "Q4": 2}


def test_factors_from_splat_output():
    adata = splat_paths(
        seed=4, n_genes=100, batch_cells=[40, 40], group_prob=[0.5, 0.5], path_n_steps=6
    )
    out = add_ground_truth_factors(adata, copy=True)
    assert keys.BATCH not in adata.obs  # copy=True leaves the input alone
    obs = out.obs
    np.testing.assert_array_equal(obs[keys.BATCH].astype(str), adata.obs["Batch"].astype(str))
    np.testing.assert_array_equal(obs[keys.PATH].astype(str), adata.obs["Group"].astype(str))
    np.testing.assert_array_equal(obs[keys.STEP], adata.obs["Step"])
    np.testing.assert_array_equal(obs[keys.LIBRARY_SIZE], adata.X.sum(axis=1).A1)
    # the largest libraries are in Q4, the smallest in Q1, 20 cells each
    order = np.argsort(obs[keys.LIBRARY_SIZE].to_numpy(), kind="stable")
    assert set(obs[keys.LIBRARY_SIZE_QUARTILE].iloc[order[:20]]) == {"Q1"}
    assert set(obs[keys.LIBRARY_SIZE_QUARTILE].iloc[order[-20:]]) == {"Q4"}
    assert all(c in obs for c in keys.SIMULATION_FACTORS)
    assert add_ground_truth_factors(adata) is None  # in place
    assert keys.LIBRARY_SIZE_QUARTILE in adata.obs


def test_library_size_computed_from_counts_when_missing():
    counts = sp.csr_matrix(np.array([[1, 2], [0, 0], [5, 5], [3, 0]]))
    obs = pd.DataFrame({"Batch": ["Batch1"] * 4, "Group": ["Path1"] * 4, "Step": [1, 2, 3, 4]})
    adata = ad.AnnData(X=counts, obs=obs.set_axis([f"Cell{i}" for i in range(4)]))
    add_ground_truth_factors(adata)
    assert adata.obs[keys.LIBRARY_SIZE].tolist() == [3, 0, 10, 3]
    assert adata.obs[keys.LIBRARY_SIZE_QUARTILE].tolist() == ["Q2", "Q1", "Q4", "Q3"]


def test_missing_splatter_columns_are_named():
    adata = ad.AnnData(
        X=np.ones((2, 2)), obs=pd.DataFrame({"Batch": ["a", "b"]}, index=["c1", "c2"])
    )
    with pytest.raises(KeyError, match=r"obs lacks the Splatter column\(s\) \['Group', 'Step'\]"):
        add_ground_truth_factors(adata)
