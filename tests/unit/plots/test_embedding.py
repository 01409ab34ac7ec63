"""The real cells' PCA + UMAP: saving, loading, projecting and the input checks.

The fit itself and the placement of new cells are checked on a real run of the rules
(``test_figure_rules.py``), where the UMAP is fitted anyway: one numba compilation instead of two.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA

from michigan.plots.embedding import (
    UMAPEmbedding,
    fit_umap_embedding,
    import_umap,
    load_embedding,
    save_embedding,
)


class PlacedAtOrigin:
    """A stand-in for a fitted UMAP (pickles without numba)."""

    def transform(self, x):
        return np.zeros((len(x), 2))


@pytest.fixture
def stub():
    x = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    return UMAPEmbedding(PCA(n_components=3).fit(x), PlacedAtOrigin(), np.ones((20, 2))), x


def test_saved_embedding_loads_and_projects_like_the_original(stub, tmp_path):
    embedding, x = stub
    save_embedding(embedding, tmp_path / "e.pkl")
    loaded = load_embedding(tmp_path / "e.pkl")
    np.testing.assert_array_equal(loaded.pca_transform(x), embedding.pca_transform(x))
    np.testing.assert_array_equal(loaded.coordinates, embedding.coordinates)
    assert loaded.umap_transform(np.zeros((4, 3))).shape == (4, 2)


def test_projection_and_loading_errors_name_the_problem(stub, tmp_path):
    embedding, x = stub
    with pytest.raises(ValueError, match=r"expected \[cells, 6\] expression, got shape \(20, 5\)"):
        embedding.pca_transform(x[:, :5])
    with pytest.raises(FileNotFoundError, match=r"nowhere\.pkl"):
        load_embedding(tmp_path / "nowhere.pkl")
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"not": "an embedding"}))
    with pytest.raises(ValueError, match="holds a dict, not a UMAPEmbedding"):
        load_embedding(other)
    with pytest.raises(ValueError, match="at least 3 cells"):
        fit_umap_embedding(x[:2])


def test_umap_numba_functions_are_cached_on_disk():
    from numba.core.caching import FunctionCache
    from numba.core.dispatcher import Dispatcher

    umap = import_umap()
    dispatchers = [
        value
        for module in (umap.umap_, umap.layouts, umap.spectral, umap.distances)
        for value in vars(module).values()
        if isinstance(value, Dispatcher)
    ]
    assert len(dispatchers) > 20
    assert all(isinstance(d._cache, FunctionCache) for d in dispatchers)
