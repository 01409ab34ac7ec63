"""Training curves of the generation metrics (paper Figs S4 and S5c)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from michigan.plots._figure import level_colors, panel_grid, save_figure

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: metrics drawn, in panel order, when a curve holds them, and their axis labels
CURVE_METRICS = {
    "rf_error": "RF error",
    "rf_auc": "RF ROC AUC",
    "inception_score": "inception score",
}


def plot_training_curves(
    curves: Mapping[str, pd.DataFrame], *, path: str | Path, title: str, dpi: int = 150
) -> Figure:
    """Draw models' generation metrics against the training epoch, one panel per metric.

    Every model is one line of each panel, in one colour throughout and named by the legend.

    Parameters
    ----------
    curves
        ``{model: curve}`` in legend order; each curve a tidy table with columns ``epoch``,
        ``metric`` and ``value`` (one row per snapshot and metric, as written by
        ``michigan training-curve``). A model lacking a metric has no line in its panel.
    path, title, dpi
        Image file, figure title and resolution.

    Raises
    ------
    ValueError
        If no curve holds any of :data:`CURVE_METRICS`.
    """
    metrics = _curve_metrics(curves)
    colors = dict(zip(curves, level_colors(len(curves)), strict=True))
    fig, axes = panel_grid(1, len(metrics), panel_size=(3.0, 2.4))
    for ax, metric in zip(axes[0], metrics, strict=True):
        _draw_metric(ax, curves, metric, colors=colors)
    # one legend entry per model, from the first panel that draws it
    lines = {line.get_label(): line for ax in axes[0] for line in ax.get_lines()}
    fig.legend(handles=list(lines.values()), loc="outside right upper", fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig


def _curve_metrics(curves: Mapping[str, pd.DataFrame]) -> list[str]:
    """The :data:`CURVE_METRICS` some curve holds, in panel order, or ``ValueError``."""
    found = {metric for curve in curves.values() for metric in curve["metric"]}
    metrics = [m for m in CURVE_METRICS if m in found]
    if not metrics:
        msg = f"no training curve holds any of {list(CURVE_METRICS)}; found {sorted(found)}"
        raise ValueError(msg)
    return metrics


def _draw_metric(
    ax: Axes, curves: Mapping[str, pd.DataFrame], metric: str, *, colors: Mapping[str, np.ndarray]
) -> None:
    """One panel: ``metric`` against the epoch, a line (``colors[model]``, RGBA) per model that records it."""
    for model, curve in curves.items():
        rows = curve[curve["metric"] == metric].sort_values("epoch")
        if len(rows):
            ax.plot(
                rows["epoch"],
                rows["value"],
                marker="o",
                markersize=3,
                label=model,
                color=colors[model],
            )
    ax.set_xlabel("epoch", fontsize=8)
    ax.set_ylabel(CURVE_METRICS[metric], fontsize=8)
    ax.tick_params(labelsize=7)
