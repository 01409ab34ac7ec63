"""Shared drawing helpers: panel grids, scatter colouring, saving.

Figures are ``matplotlib.figure.Figure`` objects built without pyplot, so no global backend or
figure registry is involved and the Agg renderer draws them (no display needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from michigan.io import atomic_path
from michigan.metrics.checks import as_float64_matrix

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.cm import ScalarMappable
    from numpy.typing import ArrayLike

#: categorical colourings with more levels than this get no legend (it would hide the panel)
MAX_LEGEND_LEVELS = 20
#: seed of the order in which points are drawn (so no group is always painted over the others)
DRAW_ORDER_SEED = 0
BACKGROUND_COLOR = "#d9d9d9"


def panel_grid(
    n_rows: int, n_cols: int, *, panel_size: tuple[float, float] = (2.6, 2.4)
) -> tuple[Figure, np.ndarray]:
    """A figure with an ``[n_rows, n_cols]`` array of axes, each ``panel_size`` inches."""
    width, height = panel_size
    fig = Figure(figsize=(width * n_cols + 0.8, height * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    return fig, axes


def save_figure(fig: Figure, path: str | Path, *, dpi: int) -> None:
    """Write ``fig`` atomically; the format follows the file suffix (``.png``, ``.svg``, ``.pdf``)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=tmp.suffix.lstrip(".") or None)


def point_size(n_points: int) -> float:
    """Marker area that keeps a scatter of ``n_points`` readable (large for few, small for many)."""
    return float(np.clip(20_000 / max(n_points, 1), 0.5, 12.0))


def draw_order(n_points: int) -> np.ndarray:
    """A fixed random permutation of the points, the order they are drawn in."""
    return np.random.default_rng(DRAW_ORDER_SEED).permutation(n_points)


def is_categorical(values: pd.Series) -> bool:
    """Categorical, boolean and text columns are coloured by level; numbers by value."""
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def scatter_values(
    ax: Axes, xy: np.ndarray, values: ArrayLike | pd.Series, *, title: str
) -> ScalarMappable | None:
    """Scatter ``xy [n, 2]`` coloured by ``values [n]``; return the mappable of a numeric colouring.

    Levels of a categorical ``values`` get the ``tab10``/``tab20`` colours and a legend (up to
    :data:`MAX_LEGEND_LEVELS` levels; more get evenly spaced ``turbo`` colours and no legend).
    Numeric values use ``viridis`` between their 1st and 99th percentiles, so a few outliers do not
    flatten the scale.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    order = draw_order(len(series))
    size = point_size(len(series))
    style_axes(ax, title)
    if is_categorical(series):
        levels = pd.Categorical(series.astype(str) if series.dtype == bool else series)
        n_levels = len(levels.categories)
        colors = level_colors(n_levels)
        ax.scatter(xy[order, 0], xy[order, 1], c=colors[levels.codes[order]], s=size, linewidths=0)
        if n_levels <= MAX_LEGEND_LEVELS:
            handles = [
                ax.scatter([], [], color=colors[i], s=12, label=str(level))
                for i, level in enumerate(levels.categories)
            ]
            ax.legend(handles=handles, fontsize=6, markerscale=1.0, loc="best", frameon=False)
        return None
    numbers = series.to_numpy(dtype=float)
    low, high = np.nanpercentile(numbers, [1, 99])
    norm = Normalize(vmin=low, vmax=high if high > low else low + 1.0)
    return ax.scatter(
        xy[order, 0],
        xy[order, 1],
        c=numbers[order],
        cmap="viridis",
        norm=norm,
        s=size,
        linewidths=0,
    )


def add_colorbar(
    fig: Figure,
    mappable: ScalarMappable,
    ax: Axes | np.ndarray,
    *,
    label: str = "",
    shrink: float = 0.8,
    integer: bool = False,
) -> None:
    """A colour bar beside ``ax`` (one panel or an array of them) with small tick labels."""
    bar = fig.colorbar(mappable, ax=ax, shrink=shrink)
    bar.ax.tick_params(labelsize=6)
    if integer:
        bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if label:
        bar.set_label(label, fontsize=7)


def level_colors(n_levels: int) -> np.ndarray:
    """``[n_levels, 4]`` RGBA colours: ``tab10``, ``tab20``, then samples of ``turbo``."""
    if n_levels <= 10:
        return np.asarray(colormaps["tab10"].colors)[:n_levels]
    if n_levels <= 20:
        return np.asarray(colormaps["tab20"].colors)[:n_levels]
    return colormaps["turbo"](np.linspace(0.0, 1.0, n_levels))


def style_axes(ax: Axes, title: str) -> None:
    """An embedding panel: title, no ticks, equal footing for both axes."""
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def hide_unused(axes: np.ndarray, n_used: int) -> None:
    """Switch off the panels after the first ``n_used`` (row-major) of a grid."""
    for ax in axes.ravel()[n_used:]:
        ax.set_axis_off()


def check_xy(xy: ArrayLike, name: str) -> np.ndarray:
    """A ``[n, 2]`` float array of finite coordinates, or ``ValueError`` naming ``name``."""
    coords = as_float64_matrix(xy, name)
    if coords.shape[1] != 2:
        msg = f"{name} must be [cells, 2] coordinates, got shape {coords.shape}"
        raise ValueError(msg)
    return coords
