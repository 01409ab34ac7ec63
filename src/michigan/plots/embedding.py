"""The real cells' UMAP, fitted once per dataset and reused to place generated cells on it.

The original code's figures (shared spec §5.9): PCA fitted on the real data, ``umap.UMAP(
random_state=42, min_dist=0.5, n_neighbors=30)`` fitted on the real cells' first 50 principal
components, then ``transform`` applied to generated cells (after the same PCA), so that traversal
cells appear on the real cells' map.

Storage: an ``.npz`` of plain arrays (the PCA's components and mean, the real cells' coordinates)
and the fitted settings as JSON text, read with ``allow_pickle=False``, so that loading it cannot
run code. A fitted ``umap.UMAP`` object can only be stored by pickling it; instead, the stage that
places new cells refits the UMAP from the stored settings on the real cells' principal components
(:meth:`UMAPEmbedding.with_umap`): seeded and single-threaded, the refit reproduces the stored map,
and if a different umap-learn or numba version makes it differ, it says so and the refitted map is
used for everything drawn with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import sys
import time
import warnings
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from michigan.io import atomic_path

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

#: arrays of a saved embedding
_ARRAYS = ("pca_components", "pca_mean", "coordinates", "settings")


@dataclasses.dataclass(frozen=True, eq=False)
class UMAPEmbedding:
    """A PCA and a UMAP fitted on the real cells.

    Attributes
    ----------
    pca_components
        ``[P, genes]`` principal axes of the PCA fitted on the real ``[cells, genes]`` matrix.
    pca_mean
        ``[genes]`` per-gene mean the PCA subtracts.
    coordinates
        ``[cells, 2]`` UMAP coordinates of the real cells, in the order they were fitted.
    settings
        The UMAP's settings as fitted (``n_neighbors`` after capping, ``min_dist``,
        ``random_state``) and the umap-learn version.
    umap
        The fitted UMAP (:class:`ExactNeighbourUMAP`), needed to place new cells; ``None`` after
        loading (never saved), see :meth:`with_umap`.
    """

    pca_components: np.ndarray
    pca_mean: np.ndarray
    coordinates: np.ndarray
    settings: Mapping[str, Any]
    umap: Any = None

    @property
    def n_genes(self) -> int:
        """Number of genes the PCA expects."""
        return int(self.pca_components.shape[1])

    @property
    def n_pcs(self) -> int:
        """Number of principal components fed to the UMAP."""
        return int(self.pca_components.shape[0])

    def pca_transform(self, x: ArrayLike) -> np.ndarray:
        """Principal components ``[cells, P]`` of expression ``x [cells, genes]`` (dense or sparse)."""
        matrix = _dense(x)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_genes:
            msg = f"expected [cells, {self.n_genes}] expression, got shape {matrix.shape}"
            raise ValueError(msg)
        return ((matrix - self.pca_mean) @ self.pca_components.T).astype(np.float32)

    def umap_transform(self, components: ArrayLike) -> np.ndarray:
        """UMAP coordinates ``[cells, 2]`` of new cells given by their principal components."""
        if self.umap is None:
            msg = "this embedding was loaded without its UMAP; call with_umap(real cells) first"
            raise ValueError(msg)
        start = time.perf_counter()
        coordinates = self.umap.transform(np.asarray(components, dtype=np.float32))
        logger.info(
            "placed %d cells on the UMAP in %.1f s", len(coordinates), time.perf_counter() - start
        )
        return np.asarray(coordinates, dtype=np.float32)

    def with_umap(self, x: ArrayLike, *, source: str = "the stored map") -> UMAPEmbedding:
        """Refit the UMAP on the real cells ``x`` with the stored settings, to place new cells.

        Parameters
        ----------
        x
            The real expression ``[cells, genes]`` the embedding was fitted on, in the same order.
        source
            Where the embedding was read from, for the messages.

        Returns
        -------
        UMAPEmbedding
            With the fitted UMAP and its coordinates of the real cells (the stored ones when the
            refit reproduces them; a warning names the largest difference otherwise).

        Raises
        ------
        ValueError
            If ``x`` does not have the embedded number of cells and genes.
        """
        components = self.pca_transform(x)
        if len(components) != len(self.coordinates):
            msg = f"{source} embeds {len(self.coordinates)} cells; got {len(components)}"
            raise ValueError(msg)
        reducer, coordinates = _fit_umap(
            components,
            n_neighbors=int(self.settings["n_neighbors"]),
            min_dist=float(self.settings["min_dist"]),
            random_state=int(self.settings["random_state"]),
        )
        if not np.array_equal(coordinates, self.coordinates):
            logger.warning(
                "the refitted UMAP differs from %s (largest coordinate difference %.3g; fitted "
                "with umap-learn %s, refitted with %s); the refitted map is used",
                source,
                float(np.abs(coordinates - self.coordinates).max()),
                self.settings.get("umap_version"),
                _umap_version(),
            )
        return dataclasses.replace(self, coordinates=coordinates, umap=reducer)


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
    The neighbours are exact (scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`) and
    handed to umap-learn as a precomputed k-nearest-neighbour graph; new cells are placed through
    their exact neighbours among the real cells the same way. umap-learn's own exact search (its
    default below 4,096 cells) computes the distance of every new cell to every real cell through a
    Python-level callable (minutes for ten thousand cells), and its NN-descent search compiles for
    one to two minutes in every process. The original code used umap-learn's default.

    Returns
    -------
    UMAPEmbedding
        The fitted models and the real cells' coordinates.
    """
    matrix = _dense(x)
    if matrix.ndim != 2 or matrix.shape[0] < 3:
        msg = f"a UMAP needs a [cells, genes] matrix of at least 3 cells, got shape {matrix.shape}"
        raise ValueError(msg)
    if n_neighbors < 2:
        msg = (
            f"a UMAP needs n_neighbors >= 2 (each cell counts as its own first), got {n_neighbors}"
        )
        raise ValueError(msg)
    from sklearn.decomposition import PCA

    n_cells, n_genes = matrix.shape
    start = time.perf_counter()
    pca = PCA(n_components=min(n_pcs, n_cells - 1, n_genes), random_state=random_state)
    pca.fit(matrix)
    fitted = UMAPEmbedding(
        pca_components=np.asarray(pca.components_, dtype=np.float32),
        pca_mean=np.asarray(pca.mean_, dtype=np.float32),
        coordinates=np.empty((0, 2), dtype=np.float32),
        settings={
            "n_neighbors": min(n_neighbors, n_cells - 1),
            "min_dist": min_dist,
            "random_state": random_state,
            "umap_version": _umap_version(),
        },
    )
    components = fitted.pca_transform(matrix)
    reducer, coordinates = _fit_umap(
        components,
        n_neighbors=fitted.settings["n_neighbors"],
        min_dist=min_dist,
        random_state=random_state,
    )
    logger.info(
        "UMAP of %d cells on %d principal components (%d neighbours) in %.1f s",
        n_cells,
        fitted.n_pcs,
        fitted.settings["n_neighbors"],
        time.perf_counter() - start,
    )
    return dataclasses.replace(fitted, coordinates=coordinates, umap=reducer)


def _fit_umap(
    components: np.ndarray, *, n_neighbors: int, min_dist: float, random_state: int
) -> tuple[ExactNeighbourUMAP, np.ndarray]:
    """Fit ``umap.UMAP`` on principal components; return it and the float32 coordinates."""
    from sklearn.neighbors import NearestNeighbors

    umap = import_umap()  # slow to import (numba); only when a UMAP is fitted
    logger.info(
        "UMAP of %d cells: fitting (%d exact neighbours); without cached numba code "
        "(NUMBA_CACHE_DIR) umap-learn's import compiles for about half a minute",
        len(components),
        n_neighbors,
    )
    neighbours = NearestNeighbors(n_neighbors=n_neighbors).fit(components)
    distances, indices = neighbours.kneighbors(n_neighbors=n_neighbors - 1)  # the other cells
    graph = _distance_matrix(distances, indices, n_real=len(components))
    # umap-learn counts each cell as its own first neighbour, at distance 0
    own = np.arange(len(components))[:, None]
    indices = np.hstack([own, indices]).astype(np.int32)
    distances = np.hstack([np.zeros_like(own, dtype=np.float32), distances]).astype(np.float32)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        random_state=random_state,
        n_jobs=1,
        metric="precomputed",
        precomputed_knn=(indices, distances),
        # umap-learn's own steps (graph, layout epochs) on the job's log
        verbose=logger.isEnabledFor(logging.INFO),
        tqdm_kwds={"mininterval": 10.0, "ascii": True},
    )
    with _precomputed_warnings_silenced():
        coordinates = reducer.fit_transform(graph.maximum(graph.T).tocsr())
    fitted = ExactNeighbourUMAP(reducer, neighbours)
    return fitted, np.asarray(coordinates, dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class ExactNeighbourUMAP:
    """A ``umap.UMAP`` fitted on exact neighbours, with the search that places new cells."""

    reducer: Any
    neighbours: Any  # sklearn.neighbors.NearestNeighbors fitted on the real cells' components

    def transform(self, components: np.ndarray) -> np.ndarray:
        """UMAP coordinates of new cells, from their exact neighbours among the real cells."""
        distances, indices = self.neighbours.kneighbors(
            components, n_neighbors=self.reducer.n_neighbors
        )
        to_real = _distance_matrix(distances, indices, n_real=self.neighbours.n_samples_fit_)
        with _precomputed_warnings_silenced():
            return self.reducer.transform(to_real)


def _distance_matrix(distances: np.ndarray, indices: np.ndarray, *, n_real: int) -> Any:
    """Sparse ``[cells, n_real]`` float32 distances from each cell's neighbour search (one row each)."""
    import scipy.sparse

    rows = np.repeat(np.arange(len(indices)), indices.shape[1])
    return scipy.sparse.csr_matrix(
        (distances.ravel().astype(np.float32), (rows, indices.ravel())),
        shape=(len(indices), n_real),
    )


@contextlib.contextmanager
def _precomputed_warnings_silenced() -> Iterator[None]:
    """Silence umap-learn's notes on a precomputed neighbour graph, which this module accounts for.

    It warns that ``inverse_transform`` is unavailable (never used), that ``transform`` would be
    unavailable without an NN-descent index (new cells are given as their neighbour distances
    instead) and that it assumes those distances are to the nearest real cells (they are).
    """
    with warnings.catch_warnings():
        for message in (
            "using precomputed metric",
            r"precomputed_knn\[2\]",
            "Transforming new data with precomputed metric",
        ):
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        yield


def _umap_version() -> str:
    try:
        return metadata.version("umap-learn")
    except metadata.PackageNotFoundError:
        return "not installed"


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
    """Write ``embedding`` as an ``.npz`` of plain arrays and JSON settings, atomically (no UMAP object)."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez(
            handle,
            pca_components=embedding.pca_components,
            pca_mean=embedding.pca_mean,
            coordinates=embedding.coordinates,
            settings=np.array(json.dumps(dict(embedding.settings), sort_keys=True)),
        )


def load_embedding(path: str | Path) -> UMAPEmbedding:
    """Read an embedding written by :func:`save_embedding`; nothing in the file is unpickled.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is not an ``.npz`` of the expected plain arrays (e.g. an old pickle), naming it.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"UMAP embedding not found: {path}"
        raise FileNotFoundError(msg)
    try:
        with np.load(path, allow_pickle=False) as stored:
            missing = [name for name in _ARRAYS if name not in stored.files]
            arrays = {name: stored[name] for name in _ARRAYS if name in stored.files}
    except (OSError, zipfile.BadZipFile) as exc:
        msg = f"{path} is not a UMAP embedding written by fit-umap (.npz): {exc}"
        raise ValueError(msg) from exc
    except ValueError as exc:  # numpy refuses anything that would need unpickling
        msg = f"{path} cannot be read without unpickling it, which is refused: {exc}"
        raise ValueError(msg) from exc
    if missing:
        msg = f"{path} lacks the arrays {missing} of a UMAP embedding; refit it with fit-umap"
        raise ValueError(msg)
    settings = json.loads(str(arrays.pop("settings")))
    return UMAPEmbedding(settings=settings, **arrays)
