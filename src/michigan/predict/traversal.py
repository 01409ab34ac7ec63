"""Latent traversals: vary one code dimension of a population's codes and generate cells from them.

The paper's Figs 3 and S7–S9 start from the codes of one population (Tabula Muris heart fibroblasts,
sci-Plex MCF7 under S7259), vary one latent dimension "from low to high" with the others fixed, and
generate cells with β-TCVAE's decoder, with MichiGAN and with WGAN-GP. The paper gives neither the
range, nor the number of steps, nor how WGAN-GP's start is found (shared spec §7). Here:

* **Range.** ``n_steps`` evenly spaced values between two quantiles of the dimension over a
  reference set of codes: all cells' codes for β-TCVAE and MichiGAN, the candidate noise vectors
  (draws of the ``N(0, I)`` prior) for WGAN-GP (:func:`traversal_values`).
* **Start.** Every population cell's own code (:func:`set_dimension` replaces one column). For an
  unconditional WGAN-GP the start of a population cell is the candidate noise vector whose generated
  cell lies nearest to it in the real data's PCA space (:func:`nearest_candidates`,
  :func:`unconditional_start`).
* **Noise.** A generator's noise (and a decoder's observation noise, when asked for) is drawn once
  per model and dimension and shared by that dimension's steps and its untraversed baseline, so a
  change along the traversal comes from the code alone (common random numbers).
* **Summary.** For each model and dimension, the mean expression ``m[s, g]`` of the cells generated
  at step ``s``, minus the mean expression ``b[g]`` of the cells generated from the untraversed start
  (same noise): ``change[s, g] = m[s, g] - b[g]``. The *top-varying genes* are those with the
  largest range ``max_s m[s, g] - min_s m[s, g]`` (:func:`top_varying_genes`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from michigan.metrics.checks import as_float64_matrix
from michigan.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import ArrayLike

    from michigan.train import TrainedGenerator, TrainedRepresentation

logger = logging.getLogger(__name__)

GENE_COLUMNS = ("model", "dim", "step", "value", "gene", "rank", "mean_expression", "change")
CELL_COLUMNS = ("model", "dim", "step", "value")


def select_population(obs: pd.DataFrame, selection: Mapping[str, Any]) -> np.ndarray:
    """Boolean mask of the cells that match every condition of ``selection``.

    Parameters
    ----------
    obs
        Cell metadata ``[cells, columns]``.
    selection
        ``{column: condition}``; a condition is a list of accepted values (compared as text, so
        ``[1, 2]`` matches integer and string columns alike) or a mapping with ``min`` and/or
        ``max`` (inclusive bounds of a numeric column). An empty selection keeps every cell.

    Returns
    -------
    numpy.ndarray
        ``[cells]`` bool.

    Raises
    ------
    KeyError
        If a column is not in ``obs``.
    ValueError
        If a range has no bound or unknown keys, its column is not numeric, or no cell matches.
    """
    mask = np.ones(len(obs), dtype=bool)
    for column, condition in selection.items():
        if column not in obs.columns:
            msg = f"population column {column!r} is not in obs; columns are {list(obs.columns)}"
            raise KeyError(msg)
        values = obs[column]
        if isinstance(condition, Mapping):
            mask &= _in_range(values, condition, column)
        else:
            accepted = {str(v) for v in condition}
            mask &= values.astype(str).isin(accepted).to_numpy()
    if not mask.any():
        msg = f"no cell matches the traversal population {dict(selection)!r}"
        raise ValueError(msg)
    return mask


def _in_range(values: pd.Series, bounds: Mapping[str, float], column: str) -> np.ndarray:
    """Cells whose numeric ``values`` lie within the inclusive ``min``/``max`` ``bounds``."""
    unknown = set(bounds) - {"min", "max"}
    if unknown or not bounds:
        msg = (
            f"range of population column {column!r} needs 'min' and/or 'max', got {dict(bounds)!r}"
        )
        raise ValueError(msg)
    if not pd.api.types.is_numeric_dtype(values):
        msg = f"population column {column!r} is not numeric ({values.dtype}); list its values"
        raise ValueError(msg)
    numbers = values.to_numpy(dtype=float)
    inside = np.ones(numbers.size, dtype=bool)
    if "min" in bounds:
        inside &= numbers >= bounds["min"]
    if "max" in bounds:
        inside &= numbers <= bounds["max"]
    return inside


def population_rows(
    obs: pd.DataFrame, selection: Mapping[str, Any], *, max_cells: int, seed: int
) -> np.ndarray:
    """Rows of the traversal population: the cells of :func:`select_population`, at most ``max_cells``.

    Parameters
    ----------
    obs
        Cell metadata.
    selection
        As in :func:`select_population`.
    max_cells
        Above this many matching cells, a seeded subsample without replacement is kept.
    seed
        Seeds the subsample.

    Returns
    -------
    numpy.ndarray
        Sorted int64 row indices.
    """
    if max_cells < 1:
        msg = f"max_cells must be positive, got {max_cells}"
        raise ValueError(msg)
    rows = np.flatnonzero(select_population(obs, selection))
    if rows.size > max_cells:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_cells, replace=False))
        logger.info("traversal population: %d of the matching cells kept", max_cells)
    return rows.astype(np.int64)


def traversal_values(
    reference: ArrayLike,
    dims: Sequence[int],
    *,
    quantiles: tuple[float, float],
    n_steps: int,
) -> np.ndarray:
    """Evenly spaced values of each traversed dimension between two of its quantiles.

    ``values[i] = linspace(Q_d(q_low), Q_d(q_high), n_steps)`` for ``d = dims[i]``, with ``Q_d``
    the empirical quantile function (linear interpolation, NumPy's default) of ``reference[:, d]``.

    Parameters
    ----------
    reference
        ``[cells, D]`` codes whose distribution sets the range.
    dims
        Dimensions to traverse, each in ``[0, D)``.
    quantiles
        ``(q_low, q_high)`` with ``0 <= q_low < q_high <= 1``.
    n_steps
        Values per dimension (at least 2).

    Returns
    -------
    numpy.ndarray
        ``[len(dims), n_steps]``, increasing along each row (non-decreasing for a constant code).

    Raises
    ------
    ValueError
        For a dimension out of range, bad quantiles or fewer than 2 steps.
    """
    codes = _as_codes(reference, "reference")
    low, high = quantiles
    if not 0.0 <= low < high <= 1.0:
        msg = f"traversal quantiles must satisfy 0 <= low < high <= 1, got {quantiles!r}"
        raise ValueError(msg)
    if n_steps < 2:
        msg = f"a traversal needs at least 2 steps, got {n_steps}"
        raise ValueError(msg)
    _check_dims(dims, codes.shape[1])
    bounds = np.quantile(codes[:, list(dims)], [low, high], axis=0)
    return np.linspace(bounds[0], bounds[1], n_steps, axis=1)


def set_dimension(codes: ArrayLike, dim: int, values: ArrayLike) -> np.ndarray:
    """Copies of ``codes`` with dimension ``dim`` set to each of ``values``, the others unchanged.

    Parameters
    ----------
    codes
        ``[cells, D]`` start codes.
    dim
        The dimension to set.
    values
        ``[steps]`` values.

    Returns
    -------
    numpy.ndarray
        ``[steps, cells, D]`` float32: ``out[s, i, j] = values[s] if j == dim else codes[i, j]``.
    """
    start = _as_codes(codes, "codes")
    _check_dims([dim], start.shape[1])
    steps = np.asarray(values, dtype=np.float32).reshape(-1)
    out = np.repeat(start[None], steps.size, axis=0)
    out[:, :, dim] = steps[:, None]
    return out


def nearest_candidates(candidates: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """Index of the nearest candidate (Euclidean distance) for every target.

    Parameters
    ----------
    candidates
        ``[m, P]`` coordinates of the candidates (e.g. generated cells in the real data's PCA space).
    targets
        ``[n, P]`` coordinates of the targets (the population's real cells in the same space).

    Returns
    -------
    numpy.ndarray
        ``[n]`` int64 rows of ``candidates``; ties go to the lower index.
    """
    pool = _as_codes(candidates, "candidates")
    points = _as_codes(targets, "targets")
    if pool.shape[1] != points.shape[1]:
        msg = f"candidates {pool.shape} and targets {points.shape} need the same number of columns"
        raise ValueError(msg)
    index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(pool)
    return index.kneighbors(points, return_distance=False)[:, 0].astype(np.int64)


def unconditional_start(
    generate: Callable[[np.ndarray, int], np.ndarray],
    *,
    code_dim: int,
    targets: ArrayLike,
    project: Callable[[np.ndarray], np.ndarray],
    n_candidates: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Start codes of an unconditional generator: the prior draws that generate cells nearest the targets.

    Draws ``n_candidates`` codes from ``N(0, I_code_dim)``, generates one cell from each, projects the
    cells with ``project`` and, for every target, keeps the code whose cell is nearest
    (:func:`nearest_candidates`). The paper says only that WGAN-GP starts from "latent values that
    generate data closest to" the population; this is our reading of it.

    Parameters
    ----------
    generate
        ``(codes [m, code_dim], seed) -> cells [m, genes]``.
    code_dim
        Width of the generator's code (the whole noise vector of WGAN-GP).
    targets
        ``[n, P]`` projected real cells of the population.
    project
        ``cells [m, genes] -> [m, P]``, the projection of ``targets``.
    n_candidates
        Prior draws to search.
    seed
        Seeds the draws and the generator's noise.

    Returns
    -------
    start, candidates
        ``[n, code_dim]`` start codes and the ``[n_candidates, code_dim]`` draws (the reference of
        :func:`traversal_values`).
    """
    if n_candidates < 1:
        msg = f"n_candidates must be positive, got {n_candidates}"
        raise ValueError(msg)
    draw_seed, noise_seed = np.random.SeedSequence(seed).generate_state(2)
    rng = np.random.default_rng(draw_seed)
    candidates = rng.standard_normal((n_candidates, code_dim)).astype(np.float32)
    nearest = nearest_candidates(project(generate(candidates, int(noise_seed))), targets)
    return candidates[nearest], candidates


def top_varying_genes(mean_expression: ArrayLike, n_top: int) -> np.ndarray:
    """Genes whose mean expression varies most along a traversal.

    Parameters
    ----------
    mean_expression
        ``[steps, genes]`` mean expression at each step.
    n_top
        How many genes (all of them if there are fewer).

    Returns
    -------
    numpy.ndarray
        ``[min(n_top, genes)]`` gene indices by decreasing range ``max_s m[s, g] - min_s m[s, g]``;
        equal ranges keep the lower index first.
    """
    means = np.asarray(mean_expression, dtype=np.float64)
    if means.ndim != 2:
        msg = f"mean_expression must be [steps, genes], got shape {means.shape}"
        raise ValueError(msg)
    if n_top < 1:
        msg = f"n_top must be positive, got {n_top}"
        raise ValueError(msg)
    spread = np.ptp(means, axis=0)
    return np.argsort(-spread, kind="stable")[: min(n_top, means.shape[1])]


@dataclasses.dataclass(frozen=True, eq=False)
class TraversalSource:
    """A model to traverse.

    Attributes
    ----------
    name
        Label in the tables and figures, e.g. ``"michigan_mean"``.
    generate
        ``(codes [cells, D], seed) -> cells [cells, genes]``; the same seed must give the same noise.
    start
        ``[population cells, D]`` codes the traversal starts from.
    reference
        ``[cells, D]`` codes whose quantiles set the traversal range.
    """

    name: str
    generate: Callable[[np.ndarray, int], np.ndarray]
    start: np.ndarray
    reference: np.ndarray


def decoder_source(
    model: TrainedRepresentation, *, start: ArrayLike, reference: ArrayLike, noise: bool
) -> TraversalSource:
    """A representation model's decoder as a traversal source, named ``<model>_decoder``.

    ``noise=False`` decodes to the decoder mean; ``noise=True`` adds the model's observation noise
    (unit Gaussian per gene for the VAEs, the original code's "generated" cells).
    """

    def generate(codes: np.ndarray, noise_seed: int) -> np.ndarray:
        return model.decode(codes, seed=noise_seed if noise else None)

    return TraversalSource(
        f"{model.model}_decoder",
        generate,
        _as_codes(start, "start"),
        _as_codes(reference, "reference"),
    )


def conditional_source(
    model: TrainedGenerator, *, start: ArrayLike, reference: ArrayLike
) -> TraversalSource:
    """A conditional generator (MichiGAN, CWGAN-GP) as a traversal source, named ``<model>_<codes>``.

    Its cells come from the traversed codes and fresh standard-normal noise.
    """
    if not model.conditional:
        msg = f"{model.model} is unconditional; use unconditional_source"
        raise ValueError(msg)

    def generate(codes: np.ndarray, noise_seed: int) -> np.ndarray:
        return model.generate(seed=noise_seed, codes=codes).x

    return TraversalSource(
        f"{model.model}_{model.info.get('codes')}",
        generate,
        _as_codes(start, "start"),
        _as_codes(reference, "reference"),
    )


def unconditional_source(
    model: TrainedGenerator,
    *,
    targets: ArrayLike,
    project: Callable[[np.ndarray], np.ndarray],
    n_candidates: int,
    seed: int,
) -> TraversalSource:
    """An unconditional generator (WGAN-GP) as a traversal source, named ``<model>_noise<D>``.

    Its start codes come from :func:`unconditional_start`; the candidate draws are the reference of
    the traversal range, so the range is a quantile range of the ``N(0, 1)`` prior.
    """
    if model.conditional:
        msg = f"{model.model} is conditional; use conditional_source"
        raise ValueError(msg)

    def generate(codes: np.ndarray, noise_seed: int) -> np.ndarray:
        return model.generate(seed=noise_seed, codes=codes).x

    start, candidates = unconditional_start(
        generate,
        code_dim=model.code_dim,
        targets=targets,
        project=project,
        n_candidates=n_candidates,
        seed=seed,
    )
    return TraversalSource(f"{model.model}_noise{model.code_dim}", generate, start, candidates)


class Traversal(NamedTuple):
    """The outcome of :func:`traverse`.

    Attributes
    ----------
    genes
        Tidy table with :data:`GENE_COLUMNS`: for every model, dimension, step and top-varying gene,
        the mean expression at that step and its change from the untraversed baseline; ``rank`` 1
        is the gene that varies most.
    cells
        Tidy table with :data:`CELL_COLUMNS`, one row per generated cell.
    projections
        ``[rows of cells, P]`` projections of the generated cells, row-aligned with ``cells``.
    """

    genes: pd.DataFrame
    cells: pd.DataFrame
    projections: np.ndarray


def traverse(
    sources: Sequence[TraversalSource],
    *,
    dims: Sequence[int],
    quantiles: tuple[float, float],
    n_steps: int,
    top_genes: int,
    gene_names: Sequence[str],
    project: Callable[[np.ndarray], np.ndarray],
    seed: int,
) -> Traversal:
    """Traverse each dimension of ``dims`` for each source and summarise the generated cells.

    For source ``m`` and dimension ``d``: ``v = traversal_values(reference, [d])``; the cells
    ``X_s = generate(set_dimension(start, d, v)[s], seed_md)`` for every step ``s`` and the baseline
    ``X_b = generate(start, seed_md)`` share the seed ``seed_md``; the table rows hold
    ``m[s, g] = mean_i X_s[i, g]`` and ``m[s, g] - mean_i X_b[i, g]`` for the
    :func:`top_varying_genes` of ``m``. See the module docstring for the choices behind this.

    Parameters
    ----------
    sources
        The models, with their start and reference codes.
    dims
        Code dimensions to traverse (every source's code must have them).
    quantiles, n_steps
        The range and resolution of every traversal (:func:`traversal_values`).
    top_genes
        Genes kept per model and dimension in the ``genes`` table.
    gene_names
        ``[genes]`` names of the generated genes.
    project
        ``cells [n, genes] -> [n, P]``, applied to every generated cell (e.g. the real data's PCA).
    seed
        Seeds the noise of every generation.

    Returns
    -------
    Traversal
        The tidy tables and the projections of the generated cells.
    """
    progress = Progress(
        len(sources) * len(dims), desc="traversals", unit="traversals", logger=logger
    )
    genes, cells, projections = [], [], []
    for m, source in enumerate(sources):
        values = traversal_values(source.reference, dims, quantiles=quantiles, n_steps=n_steps)
        for i, dim in enumerate(dims):
            noise_seed = int(np.random.SeedSequence([seed, m, dim]).generate_state(1)[0])
            baseline = source.generate(source.start, noise_seed).mean(axis=0)
            if baseline.size != len(gene_names):
                msg = f"{source.name} generates {baseline.size} genes, expected {len(gene_names)}"
                raise ValueError(msg)
            means = np.empty((n_steps, baseline.size))
            for s, codes in enumerate(set_dimension(source.start, dim, values[i])):
                generated = source.generate(codes, noise_seed)
                means[s] = generated.mean(axis=0)
                projections.append(project(generated))
            top = top_varying_genes(means, top_genes)
            genes.append(_gene_rows(source.name, dim, values[i], means, baseline, top, gene_names))
            n_cells = source.start.shape[0]
            cells.append(
                pd.DataFrame(
                    {
                        "model": source.name,
                        "dim": dim,
                        "step": np.repeat(np.arange(n_steps), n_cells),
                        "value": np.repeat(values[i], n_cells),
                    }
                )
            )
            progress.update(m * len(dims) + i + 1)
    return Traversal(
        pd.concat(genes, ignore_index=True),
        pd.concat(cells, ignore_index=True),
        np.concatenate(projections),
    )


def _gene_rows(
    model: str,
    dim: int,
    values: np.ndarray,
    means: np.ndarray,
    baseline: np.ndarray,
    top: np.ndarray,
    gene_names: Sequence[str],
) -> pd.DataFrame:
    """Rows of the ``genes`` table of one model and dimension (step-major, then rank)."""
    n_steps, n_top = means.shape[0], top.size
    return pd.DataFrame(
        {
            "model": model,
            "dim": dim,
            "step": np.repeat(np.arange(n_steps), n_top),
            "value": np.repeat(values, n_top),
            "gene": np.tile(np.asarray(gene_names, dtype=object)[top], n_steps),
            "rank": np.tile(np.arange(1, n_top + 1), n_steps),
            "mean_expression": means[:, top].reshape(-1),
            "change": (means[:, top] - baseline[top]).reshape(-1),
        }
    )


def _as_codes(x: ArrayLike, name: str) -> np.ndarray:
    """A finite float32 ``[rows, columns]`` array, or ``ValueError`` naming ``name``."""
    return as_float64_matrix(x, name).astype(np.float32)


def _check_dims(dims: Sequence[int], width: int) -> None:
    bad = [d for d in dims if not 0 <= d < width]
    if bad or not len(dims):
        msg = f"traversed dimensions {list(dims)} must be non-empty and within [0, {width})"
        raise ValueError(msg)
