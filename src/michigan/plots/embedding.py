"""The real cells' UMAP, fitted once per dataset and reused to place generated cells on it.

The original code's figures (shared spec §5.9): PCA fitted on the real data, ``umap.UMAP(
random_state=42, min_dist=0.5, n_neighbors=30)`` fitted on the real cells' first 50 principal
components, then ``transform`` applied to generated cells (after the same PCA), so that traversal
cells appear on the real cells' map.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from michigan.io import atomic_path

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
class UMAPEmbedding:
    """A PCA and a UMAP fitted on the real cells.

    Attributes
    ----------
    pca
        ``sklearn.decomposition.PCA`` fitted on the real ``[cells, genes]`` matrix.
    umap
        ``umap.UMAP`` fitted on the real cells' principal components.
    coordinates
        ``[cells, 2]`` UMAP coordinates of the real cells, in the order they were fitted.
    """

    pca: Any
    umap: Any
    coordinates: np.ndarray

    @property
    def n_genes(self) -> int:
        """Number of genes the PCA expects."""
        return int(self.pca.n_features_in_)

    def pca_transform(self, x: ArrayLike) -> np.ndarray:
        """Principal components ``[cells, P]`` of expression ``x [cells, genes]`` (dense or sparse)."""
        matrix = _dense(x)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_genes:
            msg = f"expected [cells, {self.n_genes}] expression, got shape {matrix.shape}"
            raise ValueError(msg)
        return self.pca.transform(matrix).astype(np.float32)

    def umap_transform(self, components: ArrayLike) -> np.ndarray:
        """UMAP coordinates ``[cells, 2]`` of new cells given by their principal components."""
        start = time.perf_counter()
        coordinates = self.umap.transform(np.asarray(components, dtype=np.float32))
        logger.info(
            "placed %d cells on the UMAP in %.1f s", len(coordinates), time.perf_counter() - start
        )
        return np.asarray(coordinates, dtype=np.float32)


def fit_umap_embedding(
    x: ArrayLike,
    *,
    n_pcs: int = 50,
    n_neighbors: int = 30,
    min_dist: float = 0.5,
    random_state: int = 42,
) -> UMAPEmbedding:
    """Fit the PCA and the UMAP of the real cells (the original's figure settings by default).

    Parameters
    ----------
    x
        Real expression ``[cells, genes]`` (dense or sparse).
    n_pcs
        Principal components fed to UMAP; capped at ``min(cells - 1, genes)``.
    n_neighbors, min_dist
        UMAP's neighbourhood size (capped at ``cells - 1``) and minimum distance.
    random_state
        Seeds the PCA solver and UMAP (UMAP then runs single-threaded, as umap-learn requires for
        reproducibility).

    Notes
    -----
    The neighbours are found by NN-descent for every data size. umap-learn's exact search for fewer
    than 4,096 cells would make :meth:`UMAPEmbedding.umap_transform` compute the distances of every
    new cell to every real cell through a Python-level callable (minutes for ten thousand cells);
    NN-descent's search index places them in seconds. The original code used umap-learn's default.

    Returns
    -------
    UMAPEmbedding
        The fitted models and the real cells' coordinates.
    """
    matrix = _dense(x)
    if matrix.ndim != 2 or matrix.shape[0] < 3:
        msg = f"a UMAP needs a [cells, genes] matrix of at least 3 cells, got shape {matrix.shape}"
        raise ValueError(msg)
    umap = import_umap()
    from sklearn.decomposition import PCA

    n_cells, n_genes = matrix.shape
    n_components = min(n_pcs, n_cells - 1, n_genes)
    neighbors = min(n_neighbors, n_cells - 1)
    start = time.perf_counter()
    logger.info("UMAP of %d cells: PCA to %d components", n_cells, n_components)
    pca = PCA(n_components=n_components, random_state=random_state).fit(matrix)
    logger.info(
        "UMAP of %d cells: fitting (%d neighbours); without cached numba code "
        "(NUMBA_CACHE_DIR) its first call compiles for 1-2 minutes",
        n_cells,
        neighbors,
    )
    reducer = umap.UMAP(
        n_neighbors=neighbors,
        min_dist=min_dist,
        random_state=random_state,
        n_jobs=1,
        force_approximation_algorithm=True,
        # umap-learn's own steps (neighbours, NN-descent iterations, epochs) on the job's log
        verbose=logger.isEnabledFor(logging.INFO),
        tqdm_kwds={"mininterval": 10.0, "ascii": True},
    )
    coordinates = reducer.fit_transform(pca.transform(matrix))
    logger.info(
        "UMAP of %d cells on %d principal components (%d neighbours) in %.1f s",
        n_cells,
        n_components,
        neighbors,
        time.perf_counter() - start,
    )
    return UMAPEmbedding(pca, reducer, np.asarray(coordinates, dtype=np.float32))


def import_umap() -> Any:
    """Import umap-learn with its numba functions cached on disk (``NUMBA_CACHE_DIR``).

    umap-learn 0.5 asks numba to cache one of its jitted functions, so every process that fits or
    applies a UMAP compiled the others anew (about a minute and a half on 2 cores); with caching
    enabled, later processes load them. Imported only when needed: the import itself is slow.
    """
    import umap
    from numba.core.caching import FunctionCache
    from numba.core.dispatcher import Dispatcher

    for name, module in list(sys.modules.items()):
        if name != "umap" and not name.startswith("umap."):
            continue
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and not isinstance(value._cache, FunctionCache):
                value.enable_caching()
    return umap


def _dense(x: Any) -> np.ndarray:
    """``x`` as a dense float32 array (sparse matrices densified)."""
    import scipy.sparse

    return np.asarray(x.toarray() if scipy.sparse.issparse(x) else x, dtype=np.float32)


def save_embedding(embedding: UMAPEmbedding, path: str | Path) -> None:
    """Pickle ``embedding`` to ``path`` atomically (a pipeline intermediate, read by the same versions)."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        pickle.dump(embedding, handle, protocol=pickle.HIGHEST_PROTOCOL)


def load_embedding(path: str | Path) -> UMAPEmbedding:
    """Read an embedding written by :func:`save_embedding` (trusted pipeline output only)."""
    path = Path(path)
    if not path.is_file():
        msg = f"UMAP embedding not found: {path}"
        raise FileNotFoundError(msg)
    with path.open("rb") as handle:
        embedding = pickle.load(handle)
    if not isinstance(embedding, UMAPEmbedding):
        msg = f"{path} holds a {type(embedding).__name__}, not a UMAPEmbedding"
        raise ValueError(msg)
    if "umap" in sys.modules:  # a real UMAP came back: its transform's numba code is cached too
        import_umap()
    return embedding
