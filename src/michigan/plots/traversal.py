"""Latent traversal panels (paper Figs 3, S7–S9): generated cells on the real UMAP, gene changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import Normalize

from michigan.plots._figure import (
    BACKGROUND_COLOR,
    add_colorbar,
    check_xy,
    panel_grid,
    point_size,
    save_figure,
    style_axes,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

POPULATION_COLOR = "#e7298a"


def plot_traversal_embedding(
    real: ArrayLike,
    population: ArrayLike,
    cells: pd.DataFrame,
    *,
    path: str | Path,
    title: str,
    dpi: int = 150,
) -> Figure:
    """Draw the cells generated along each traversal on the real cells' UMAP.

    Parameters
    ----------
    real
        ``[cells, 2]`` UMAP coordinates of all real cells (grey background).
    population
        ``[population cells, 2]`` coordinates of the real cells the traversals start from (pink).
    cells
        One row per generated cell with columns ``model``, ``dim``, ``step``, ``umap1``, ``umap2``
        (the ``cells`` table of :func:`michigan.predict.traversal.traverse` placed on the UMAP);
        points are coloured by step, from low (dark) to high (yellow) values of the dimension.
    path, title, dpi
        Image file, figure title and resolution.

    Returns
    -------
    matplotlib.figure.Figure
        One row per model (in order of appearance), one column per dimension, and a colour bar.

    Raises
    ------
    KeyError
        If ``cells`` lacks a column.
    ValueError
        If ``cells`` is empty or coordinates are not finite ``[n, 2]`` arrays.
    """
    background = check_xy(real, "real")
    start = check_xy(population, "population")
    models, dims = _grid_labels(cells, ("model", "dim", "step", "umap1", "umap2"))
    xy = check_xy(cells[["umap1", "umap2"]].to_numpy(), "cells' umap1/umap2")
    norm = Normalize(vmin=0, vmax=max(int(cells["step"].max()), 1))
    fig, axes = panel_grid(len(models), len(dims), panel_size=(2.0, 1.9))
    mappable = None
    for row, model in zip(axes, models, strict=True):
        for ax, dim in zip(row, dims, strict=True):
            style_axes(ax, f"{model} z{dim}")
            ax.scatter(*background.T, s=point_size(len(background)), c=BACKGROUND_COLOR, lw=0)
            ax.scatter(*start.T, s=point_size(len(start)), c=POPULATION_COLOR, lw=0)
            rows = ((cells["model"] == model) & (cells["dim"] == dim)).to_numpy()
            mappable = ax.scatter(
                *xy[rows].T,
                c=cells["step"].to_numpy()[rows],
                cmap="viridis",
                norm=norm,
                s=point_size(int(rows.sum())),
                lw=0,
            )
    add_colorbar(fig, mappable, axes, shrink=0.6, label="traversal step (low → high)", integer=True)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig


def plot_traversal_genes(
    genes: pd.DataFrame,
    *,
    path: str | Path,
    title: str,
    dpi: int = 150,
) -> Figure:
    """Draw heat maps of the top-varying genes' expression change along each traversal.

    Parameters
    ----------
    genes
        The ``genes`` table of :func:`michigan.predict.traversal.traverse`: columns ``model``,
        ``dim``, ``step``, ``gene``, ``rank`` and ``change`` (mean expression minus the untraversed
        baseline).
    path, title, dpi
        Image file, figure title and resolution.

    Returns
    -------
    matplotlib.figure.Figure
        One row per model, one column per dimension; each panel genes (by rank) × steps, on one
        symmetric colour scale shared by all panels, with one colour bar.

    Raises
    ------
    KeyError
        If ``genes`` lacks a column.
    ValueError
        If ``genes`` is empty or a change is not finite.
    """
    models, dims = _grid_labels(genes, ("model", "dim", "step", "gene", "rank", "change"))
    change = genes["change"].to_numpy(dtype=float)
    if not np.isfinite(change).all():
        msg = "genes table has NaN or infinite changes"
        raise ValueError(msg)
    limit = max(float(np.abs(change).max()), 1e-12)
    norm = Normalize(vmin=-limit, vmax=limit)
    fig, axes = panel_grid(len(models), len(dims), panel_size=(2.2, 2.3))
    image = None
    for row, model in zip(axes, models, strict=True):
        for ax, dim in zip(row, dims, strict=True):
            panel = genes[(genes["model"] == model) & (genes["dim"] == dim)]
            grid = panel.pivot_table(index="rank", columns="step", values="change")
            names = panel.drop_duplicates("rank").set_index("rank")["gene"].loc[grid.index]
            image = ax.imshow(grid.to_numpy(), cmap="RdBu_r", norm=norm, aspect="auto")
            ax.set_title(f"{model} z{dim}", fontsize=8)
            ax.set_yticks(np.arange(len(names)), [str(n) for n in names], fontsize=5)
            ax.set_xticks([0, grid.shape[1] - 1], ["low", "high"], fontsize=6)
    add_colorbar(fig, image, axes, shrink=0.6, label="mean expression change from start")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig


def _grid_labels(table: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[int]]:
    """Models (in order of appearance) and sorted dimensions of a traversal table."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        msg = f"traversal table lacks the column(s) {missing}; it has {list(table.columns)}"
        raise KeyError(msg)
    if table.empty:
        msg = "traversal table is empty"
        raise ValueError(msg)
    return list(dict.fromkeys(table["model"])), sorted(set(table["dim"].tolist()))
