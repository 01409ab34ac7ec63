"""Bar charts of |Spearman ρ| and normalised mutual information per code dimension and factor (paper Figs S1, S3, S6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from michigan.plots._figure import level_colors, panel_grid, save_figure

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike


def plot_code_factor_bars(
    spearman: Mapping[str, ArrayLike],
    normalized_mi: Mapping[str, ArrayLike] | None = None,
    *,
    factor_names: Sequence[str],
    path: str | Path,
    title: str,
    dpi: int = 150,
) -> Figure:
    """Draw, for each model, grouped bars of |ρ| and of normalised MI per code dimension and factor.

    A disentangled code shows, for each factor, one tall bar (one dimension) and short others.

    Parameters
    ----------
    spearman
        ``{model: [factors, K]}`` Spearman correlations ``ρ(z_j, v_k)``; their absolute values
        are drawn (``michigan.metrics.spearman_matrix``).
    normalized_mi
        ``{model: [factors, K]}`` ``I(z_j; v_k) / H(v_k)`` (``michigan.metrics.gaussian_entropies``);
        the same models as ``spearman``. None for codes without a posterior (a generator's input
        codes against the factors inferred for its cells): |ρ| only.
    factor_names
        ``[factors]`` names, in row order.
    path, title, dpi
        Image file, figure title and resolution.

    Returns
    -------
    matplotlib.figure.Figure
        One row per model; the left panel |ρ|, the right panel normalised MI (if given); bars
        grouped by dimension, one colour per factor.

    Raises
    ------
    ValueError
        If the models differ between the two mappings, a matrix is not ``[factors, K]`` or holds
        non-finite values.
    """
    if not spearman or (normalized_mi is not None and set(spearman) != set(normalized_mi)):
        msg = (
            f"spearman and normalized_mi need the same, non-empty models; got {sorted(spearman)} "
            f"and {sorted(normalized_mi or {})}"
        )
        raise ValueError(msg)
    panels = {
        "|Spearman ρ|": {
            name: np.abs(_scores(spearman[name], name, factor_names)) for name in spearman
        }
    }
    if normalized_mi is not None:
        panels["normalised MI"] = {
            name: _scores(normalized_mi[name], name, factor_names) for name in spearman
        }
    colors = level_colors(len(factor_names))
    fig, axes = panel_grid(len(spearman), len(panels), panel_size=(4.2, 2.2))
    for row, name in zip(axes, spearman, strict=True):
        for ax, (metric, scores) in zip(row, panels.items(), strict=True):
            _grouped_bars(ax, scores[name], colors, factor_names)
            ax.set_title(f"{name}: {metric}", fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(factor_names), fontsize=7)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=dpi)
    return fig


def _scores(matrix: ArrayLike, name: str, factor_names: Sequence[str]) -> np.ndarray:
    scores = np.asarray(matrix, dtype=float)
    if scores.ndim != 2 or scores.shape[0] != len(factor_names):
        msg = (
            f"scores of {name!r} must be [{len(factor_names)} factors, K], got shape {scores.shape}"
        )
        raise ValueError(msg)
    if not np.isfinite(scores).all():
        msg = f"scores of {name!r} contain NaN or infinite values"
        raise ValueError(msg)
    return scores


def _grouped_bars(
    ax: Axes, scores: np.ndarray, colors: np.ndarray, factor_names: Sequence[str]
) -> None:
    """Bars of ``scores [factors, K]``: groups along the K dimensions, one bar per factor."""
    n_factors, n_dims = scores.shape
    width = 0.8 / n_factors
    positions = np.arange(n_dims)
    for k in range(n_factors):
        offset = (k - (n_factors - 1) / 2) * width
        ax.bar(positions + offset, scores[k], width, color=colors[k], label=factor_names[k])
    ax.set_xticks(positions, [f"z{j}" for j in range(n_dims)], fontsize=6)
    ax.tick_params(axis="y", labelsize=6)
    ax.set_ylim(bottom=min(0.0, float(scores.min())))
