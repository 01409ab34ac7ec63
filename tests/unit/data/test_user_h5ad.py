"""Loading and validating a user's own .h5ad file."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from michigan import keys
from michigan.data.user_h5ad import load_h5ad


def write_h5ad(path, *, counts=None, layer=None, obs=None):
    """A 24-cell x 5-gene AnnData with raw counts in X (or in ``layer``, with junk in X)."""
    rng = np.random.default_rng(3)
    counts = rng.poisson(3.0, size=(24, 5)).astype(np.float32) if counts is None else counts
    if obs is None:
        obs = pd.DataFrame(
            {
                "celltype": np.repeat(["A549", "K562"], 12),
                "perturbation": np.tile(np.repeat(["ctrl", "drugA"], 6), 2),
                "dose": np.linspace(0, 1, 24),
            },
            index=[f"c{i}" for i in range(24)],
        )
    adata = ad.AnnData(X=sp.csr_matrix(counts), obs=obs)
    if layer is not None:
        adata.layers[layer] = adata.X.copy()
        adata.X = np.full(counts.shape, -1.0, dtype=np.float32)  # scaled-like values, not counts
    adata.write_h5ad(path)
    return counts


def test_counts_from_a_layer_and_shared_keys(tmp_path):
    path = tmp_path / "mine.h5ad"
    counts = write_h5ad(path, layer="raw_counts")
    adata = load_h5ad(
        path,
        counts_layer="raw_counts",
        factor_keys=["celltype", "dose"],
        cell_type_key="celltype",
        drug_key="perturbation",
        min_cells_per_group=6,
    )
    np.testing.assert_array_equal(adata.X.toarray(), counts)  # copied counts: exact
    assert adata.obs[keys.CONDITION].value_counts().to_dict() == {
        "A549-ctrl": 6,
        "A549-drugA": 6,
        "K562-ctrl": 6,
        "K562-drugA": 6,
    }
    assert adata.obs[keys.DRUG].iloc[6] == "drugA"
    assert not adata.layers


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.h5ad does not exist"):
        load_h5ad(tmp_path / "absent.h5ad")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.h5ad"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.h5ad is empty \(0 bytes\)"):
        load_h5ad(path)


def test_not_an_h5ad(tmp_path):
    path = tmp_path / "table.h5ad"
    path.write_text("gene,cell,count\n1,1,3\n")
    with pytest.raises(ValueError, match=r"table\.h5ad is not an HDF5 file"):
        load_h5ad(path)


@pytest.mark.filterwarnings("ignore:Element .* without encoding metadata")
def test_hdf5_that_is_not_anndata(tmp_path):
    import h5py

    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["x"] = np.arange(3)
    with pytest.raises(ValueError, match="could not be read as AnnData"):
        load_h5ad(path)


def test_missing_obs_key(tmp_path):
    path = tmp_path / "mine.h5ad"
    write_h5ad(path)
    with pytest.raises(KeyError, match=r"mine\.h5ad has no obs column 'batch'"):
        load_h5ad(path, factor_keys=["batch"])


def test_missing_layer(tmp_path):
    path = tmp_path / "mine.h5ad"
    write_h5ad(path)
    with pytest.raises(KeyError, match=r"no layer 'counts'.*layers: none"):
        load_h5ad(path, counts_layer="counts")


def test_negative_counts(tmp_path):
    path = tmp_path / "mine.h5ad"
    counts = np.ones((24, 5), dtype=np.float32)
    counts[3, 2] = -2
    write_h5ad(path, counts=counts)
    with pytest.raises(ValueError, match=r"mine\.h5ad X holds 1 negative values \(minimum -2"):
        load_h5ad(path)


def test_nan_counts_in_a_layer(tmp_path):
    path = tmp_path / "mine.h5ad"
    counts = np.ones((24, 5), dtype=np.float32)
    counts[0, 0] = np.nan
    write_h5ad(path, counts=counts, layer="counts")
    with pytest.raises(ValueError, match=r"layers\['counts'\] holds 1 NaN"):
        load_h5ad(path, counts_layer="counts")


def test_scaled_x_is_rejected_when_no_layer_is_named(tmp_path):
    path = tmp_path / "mine.h5ad"
    write_h5ad(path, layer="counts")
    with pytest.raises(ValueError, match="negative values"):
        load_h5ad(path)


def test_small_groups(tmp_path):
    path = tmp_path / "mine.h5ad"
    write_h5ad(path)
    with pytest.raises(ValueError, match=r"obs\['celltype x perturbation'\] has 4 groups"):
        load_h5ad(path, cell_type_key="celltype", drug_key="perturbation", min_cells_per_group=7)
    # numeric factors are continuous: no group-size check
    load_h5ad(path, factor_keys=["dose"], min_cells_per_group=7)


def test_missing_labels(tmp_path):
    path = tmp_path / "mine.h5ad"
    obs = pd.DataFrame({"celltype": ["A"] * 23 + [None]}, index=[f"c{i}" for i in range(24)])
    write_h5ad(path, obs=obs)
    with pytest.raises(ValueError, match=r"obs\['celltype'\] has 1 missing labels"):
        load_h5ad(path, factor_keys=["celltype"])


def test_non_integer_counts_are_refused_unless_declared_normalised(tmp_path):
    path = tmp_path / "mine.h5ad"
    logged = np.log1p(np.random.default_rng(0).poisson(3.0, (24, 5))).astype(np.float32)
    write_h5ad(path, counts=logged)
    with pytest.raises(
        ValueError, match=r"mine\.h5ad X holds \d+ non-integer values.*normalised: true"
    ):
        load_h5ad(path)
    adata = load_h5ad(path, normalised=True)
    assert adata.uns[keys.NORMALISED] is True
    np.testing.assert_allclose(adata.X.toarray(), logged)


def test_counts_declared_normalised_are_refused(tmp_path):
    path = tmp_path / "mine.h5ad"
    write_h5ad(path)
    with pytest.raises(ValueError, match="whole numbers only, like raw counts"):
        load_h5ad(path, normalised=True)
