"""Training curves of the generation metrics (paper Fig. S4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from michigan.plots._figure import panel_grid, save_figure

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from matplotlib.figure import Figure

#: metrics drawn, in panel order, when present
CURVE_METRICS = ("rf_error", "rf_auc", "inception_score")


def plot_training_curve(
    curve: pd.DataFrame, *, path: str | Path, title: str, dpi: int = 150
) -> Figure:
    """Draw each generation metric against the training epoch, one panel per metric.

    Parameters
    ----------
    curve
        Tidy table with columns ``epoch``, ``metric`` and ``value`` (one row per snapshot and
        metric, as written by ``michigan training-curve``).
    path, title, dpi
        Image file, figure title and resolution.

    Raises
    ------
    ValueError
        If the table holds none of :data:`CURVE_METRICS`.
    """
    metrics = [m for m in CURVE_METRICS if m in set(curve["metric"])]
    if not metrics:
        msg = f"the training curve holds none of {CURVE_METRICS}; found {sorted(set(curve['metric']))}"
        raise ValueError(msg)
    fig, axes = panel_grid(1, len(metrics), panel_size=(3.0, 2.4))
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = curve[curve["metric"] == metric].sort_values("epoch")
        ax.plot(rows["epoch"], rows["value"], marker="o", markersize=3)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_title(metric, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig
