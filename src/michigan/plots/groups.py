"""Groups of cells highlighted on the real cells' UMAP (paper Figs 5, S7b, S8c, S10a).

One panel per case: every real cell in grey, then each named group of cells in its own colour, e.g.
the heart fibroblasts within the whole Tabula Muris, or a held-out combination's control, real and
predicted cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from michigan.plots._figure import (
    BACKGROUND_COLOR,
    check_xy,
    hide_unused,
    level_colors,
    panel_grid,
    point_size,
    save_figure,
    style_axes,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

#: panels per row
MAX_COLUMNS = 3


def plot_embedding_groups(
    background: ArrayLike,
    panels: Mapping[str, Mapping[str, ArrayLike]],
    *,
    path: str | Path,
    title: str,
    dpi: int = 150,
) -> Figure:
    """Draw named groups of cells over the real cells' UMAP, one panel per case.

    Parameters
    ----------
    background
        ``[cells, 2]`` UMAP coordinates of every real cell (grey).
    panels
        ``{panel title: {group name: [group cells, 2] coordinates}}``; groups are drawn in order,
        each in one colour (the same colour for the same position in every panel), with a legend
        giving the group's name and size.
    path, title, dpi
        Image file, figure title and resolution.

    Returns
    -------
    matplotlib.figure.Figure
        ``ceil(len(panels) / 3)`` rows of at most 3 panels.

    Raises
    ------
    ValueError
        If there is no panel, a panel has no group, or coordinates are not finite ``[n, 2]`` arrays.
    """
    grey = check_xy(background, "background")
    if not panels or not all(panels.values()):
        msg = f"plot_embedding_groups needs panels with at least one group each; got {dict(panels)}"
        raise ValueError(msg)
    n_groups = max(len(groups) for groups in panels.values())
    colors = level_colors(n_groups)
    n_cols = min(MAX_COLUMNS, len(panels))
    fig, axes = panel_grid(-(-len(panels) // n_cols), n_cols, panel_size=(3.0, 2.8))
    for ax, (panel, groups) in zip(axes.ravel(), panels.items(), strict=False):
        style_axes(ax, panel)
        ax.scatter(*grey.T, s=point_size(len(grey)), c=BACKGROUND_COLOR, lw=0)
        for color, (name, coordinates) in zip(colors, groups.items(), strict=False):
            xy = check_xy(coordinates, f"{panel}: {name}")
            ax.scatter(*xy.T, s=point_size(len(xy)), color=color, lw=0, label=f"{name} ({len(xy)})")
        ax.legend(fontsize=6, markerscale=2, loc="best")
    hide_unused(axes, len(panels))
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig
