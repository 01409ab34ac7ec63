"""The real cells' PCA + UMAP: saving without pickle, loading, projecting and the input checks.

The fit itself, the refit after loading and the placement of new cells are checked on a real run
of the rules (``test_figure_rules.py``), where the UMAP is fitted anyway: one numba compilation
instead of two.
"""

from __future__ import annotations

import pickle
from pathlib import Path

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
    """A stand-in for a fitted UMAP."""

    def transform(self, x):
        return np.zeros((len(x), 2))


class Payload:
    """Unpickling it creates a file: the proof that a loader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def stub():
    x = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    pca = PCA(n_components=3).fit(x)
    embedding = UMAPEmbedding(
        pca_components=pca.components_,
        pca_mean=pca.mean_,
        coordinates=np.ones((20, 2), dtype=np.float32),
        settings={"n_neighbors": 5, "min_dist": 0.5, "random_state": 42},
        umap=PlacedAtOrigin(),
    )
    return embedding, x, pca


def test_saved_embedding_loads_and_projects_like_the_fitted_pca(stub, tmp_path):
    embedding, x, pca = stub
    np.testing.assert_allclose(embedding.pca_transform(x), pca.transform(x), atol=1e-5)
    assert embedding.umap_transform(np.zeros((4, 3))).shape == (4, 2)
    save_embedding(embedding, tmp_path / "e.npz")
    loaded = load_embedding(tmp_path / "e.npz")
    np.testing.assert_array_equal(loaded.pca_transform(x), embedding.pca_transform(x))
    np.testing.assert_array_equal(loaded.coordinates, embedding.coordinates)
    assert dict(loaded.settings) == dict(embedding.settings)
    # the UMAP object is never stored: placing cells needs a refit first
    assert loaded.umap is None
    with pytest.raises(ValueError, match=r"with_umap"):
        loaded.umap_transform(np.zeros((4, 3)))


def test_loading_never_unpickles(tmp_path):
    marker = tmp_path / "code-ran"
    old = tmp_path / "embedding.npz"
    old.write_bytes(pickle.dumps(Payload(marker)))  # an old pickled embedding, or a crafted one
    with pytest.raises(ValueError, match=r"embedding\.npz cannot be read without unpickling"):
        load_embedding(old)
    crafted = tmp_path / "crafted.npz"
    with crafted.open("wb") as handle:
        np.savez(handle, pca_components=np.array([Payload(marker)], dtype=object))
    with pytest.raises(ValueError, match=r"crafted\.npz cannot be read without unpickling"):
        load_embedding(crafted)
    assert not marker.exists()


def test_projection_and_loading_errors_name_the_problem(stub, tmp_path):
    embedding, x, _ = stub
    with pytest.raises(ValueError, match=r"expected \[cells, 6\] expression, got shape \(20, 5\)"):
        embedding.pca_transform(x[:, :5])
    with pytest.raises(ValueError, match=r"e\.npz embeds 20 cells; got 19"):
        embedding.with_umap(x[:19], source="e.npz")
    with pytest.raises(FileNotFoundError, match=r"nowhere\.npz"):
        load_embedding(tmp_path / "nowhere.npz")
    partial = tmp_path / "partial.npz"
    np.savez(partial, coordinates=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"partial\.npz lacks the arrays \['pca_components'"):
        load_embedding(partial)
    with pytest.raises(ValueError, match="at least 3 cells"):
        fit_umap_embedding(x[:2])
    with pytest.raises(ValueError, match="n_neighbors >= 2"):
        fit_umap_embedding(x, n_neighbors=1)


@pytest.mark.slow  # a cold numba compile in a subprocess: 1-2 minutes
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


@pytest.mark.slow  # umap-learn's numba import compiles for about half a minute without a cache
def test_exact_neighbour_umap_refits_identically_and_places_cells_beside_their_neighbours():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(3, 8))
    x = np.concatenate([c + rng.normal(size=(60, 8)) for c in centres]).astype(np.float32)
    fitted = fit_umap_embedding(x, n_pcs=5, n_neighbors=10)
    refitted = fitted.with_umap(x)
    np.testing.assert_array_equal(refitted.coordinates, fitted.coordinates)
    # a slightly moved copy of every real cell lands near that cell, far from the other clusters
    placed = refitted.umap_transform(refitted.pca_transform(x + 0.01))
    own = np.linalg.norm(placed - fitted.coordinates, axis=1)
    spread = np.ptp(fitted.coordinates, axis=0).max()
    assert np.median(own) < 0.1 * spread
