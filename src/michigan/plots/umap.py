"""UMAPs coloured by metadata and by code dimensions (paper Figs 2, S2, S3, S5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from michigan import keys
from michigan.plots._figure import (
    add_colorbar,
    check_xy,
    hide_unused,
    panel_grid,
    save_figure,
    scatter_values,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

#: obs columns coloured by default, where present: the simulations' factors (library size as the
#: count rather than its quartile) and the real datasets' cell metadata
COLOR_COLUMNS = (
    keys.BATCH,
    keys.PATH,
    keys.STEP,
    keys.LIBRARY_SIZE,
    keys.TISSUE,
    keys.CELL_TYPE,
    keys.DRUG,
    keys.PATHWAY,
    keys.DOSE,
    keys.TIME_POINT,
)
#: panels per row of a metadata figure
MAX_COLUMNS = 4


def default_color_columns(obs: pd.DataFrame) -> list[str]:
    """The columns of :data:`COLOR_COLUMNS` present in ``obs``, in that order."""
    return [column for column in COLOR_COLUMNS if column in obs.columns]


def plot_umap_by_obs(
    coordinates: ArrayLike,
    obs: pd.DataFrame,
    columns: Sequence[str],
    *,
    path: str | Path,
    title: str,
    dpi: int = 150,
) -> Figure:
    """Draw the real cells' UMAP once per ``obs`` column, coloured by it.

    Parameters
    ----------
    coordinates
        ``[cells, 2]`` UMAP coordinates, row-aligned with ``obs``.
    obs
        Cell metadata.
    columns
        Columns to colour by, one panel each (categorical: a colour per level; numeric: viridis).
    path
        Image file to write (format from its suffix).
    title
        Figure title, e.g. the dataset.
    dpi
        Resolution of raster formats.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one panel per column (``ceil(len(columns) / 4)`` rows of at most 4).

    Raises
    ------
    KeyError
        If a column is not in ``obs``.
    ValueError
        If no columns are given or the coordinates do not match ``obs``.
    """
    xy = check_xy(coordinates, "coordinates")
    if not columns:
        msg = "plot_umap_by_obs needs at least one obs column"
        raise ValueError(msg)
    missing = [c for c in columns if c not in obs.columns]
    if missing:
        msg = f"obs lacks the column(s) {missing}; columns are {list(obs.columns)}"
        raise KeyError(msg)
    if len(obs) != len(xy):
        msg = f"{len(xy)} coordinates for {len(obs)} cells"
        raise ValueError(msg)
    n_cols = min(MAX_COLUMNS, len(columns))
    n_rows = -(-len(columns) // n_cols)
    fig, axes = panel_grid(n_rows, n_cols)
    for ax, column in zip(axes.ravel(), columns, strict=False):
        mappable = scatter_values(ax, xy, obs[column].reset_index(drop=True), title=column)
        if mappable is not None:
            add_colorbar(fig, mappable, ax)
    hide_unused(axes, len(columns))
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig


def plot_umap_by_codes(
    coordinates: ArrayLike | Mapping[str, ArrayLike],
    codes: Mapping[str, ArrayLike],
    *,
    path: str | Path,
    title: str,
    dpi: int = 150,
) -> Figure:
    """Draw cells on the UMAP coloured by each code dimension of each model.

    Parameters
    ----------
    coordinates
        ``[cells, 2]`` UMAP coordinates shared by every model (the real cells, coloured by their
        posterior means), or ``{model: [cells, 2]}`` per model (generated cells placed on the real
        UMAP, coloured by the code they were generated from).
    codes
        ``{model: [cells, K]}`` codes, row-aligned with the model's coordinates.
    path, title, dpi
        As in :func:`plot_umap_by_obs`.

    Returns
    -------
    matplotlib.figure.Figure
        One row per model, one panel per dimension (``K_max`` columns; shorter codes leave blanks).

    Raises
    ------
    ValueError
        If ``codes`` is empty or a code matrix does not match the coordinates.
    KeyError
        If per-model coordinates lack a model of ``codes``.
    """
    if not codes:
        msg = "plot_umap_by_codes needs the codes of at least one model"
        raise ValueError(msg)
    if isinstance(coordinates, Mapping):
        missing = sorted(set(codes) - set(coordinates))
        if missing:
            msg = f"no coordinates for the model(s) {missing}"
            raise KeyError(msg)
        places = {name: check_xy(coordinates[name], f"coordinates of {name!r}") for name in codes}
    else:
        shared = check_xy(coordinates, "coordinates")
        places = dict.fromkeys(codes, shared)
    matrices = {name: np.asarray(z, dtype=float) for name, z in codes.items()}
    for name, z in matrices.items():
        if z.ndim != 2 or z.shape[0] != len(places[name]):
            msg = f"codes of {name!r} must be [{len(places[name])}, K], got shape {z.shape}"
            raise ValueError(msg)
    n_cols = max(z.shape[1] for z in matrices.values())
    fig, axes = panel_grid(len(matrices), n_cols, panel_size=(2.0, 1.9))
    for row, (name, z) in zip(axes, matrices.items(), strict=True):
        for dim, ax in enumerate(row):
            if dim >= z.shape[1]:
                ax.set_axis_off()
                continue
            mappable = scatter_values(ax, places[name], z[:, dim], title=f"{name} z{dim}")
            add_colorbar(fig, mappable, ax, shrink=0.7)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig
