"""Figures of the held-out prediction experiment (paper Fig. 4a-c), drawn from result files only.

Each function reads prediction tables (TSV) and summaries (JSON) written by the ``predict-heldout``
stage, one per code mode, and writes one figure with a panel per code mode (atomically, with the
shared helpers of :mod:`michigan.plots._figure`). Nothing is computed beyond pairing the two decoders
of each prediction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from michigan.io import read_json
from michigan.plots._figure import panel_grid, save_figure
from michigan.predict.summary import decoder_column, paired_predictions
from michigan.predict.tasks import read_prediction_table

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

_PANEL_INCHES = 4.2
#: resolution of the figures
DPI = 150
_TRUTH_STYLE = {
    "interacting": ("tab:red", "interacting combination"),
    "control interacting": ("tab:orange", "interacting control"),
    "clean": ("tab:blue", "no interaction"),
}


def _paired_runs(
    tables: Mapping[str, Path], summaries: Mapping[str, Path]
) -> list[tuple[str, pd.DataFrame, dict[str, Any]]]:
    """``(code mode, paired predictions, summary)`` per run, in the order given."""
    runs = []
    for mode, table_path in tables.items():
        summary = read_json(summaries[mode])
        decoders = summary["decoders"]
        paired = paired_predictions(
            read_prediction_table(table_path),
            generator=decoders["generator"],
            representation=decoders["representation"],
        )
        runs.append((mode, paired, summary))
    return runs


def _panels(n: int) -> tuple[Figure, np.ndarray]:
    figure, axes = panel_grid(1, n, panel_size=(_PANEL_INCHES, _PANEL_INCHES))
    return figure, axes[0]


def _save(figure: Figure, output: Path) -> None:
    save_figure(figure, output, dpi=DPI)
    logger.info("wrote %s", output)


def _error_axis_limit(errors: np.ndarray) -> float:
    """Up to the largest RF error (at least 0.05, at most 0.55: chance is 0.5), so points near 0 show."""
    return float(np.clip(1.1 * np.nanmax(errors, initial=0.0), 0.05, 0.55))


def _p_text(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _truth_group(paired: pd.DataFrame) -> pd.Series | None:
    if "interacting" not in paired.columns:
        return None
    group = np.where(
        paired["interacting"].astype(bool),
        "interacting",
        np.where(paired["control_interacting"].astype(bool), "control interacting", "clean"),
    )
    return pd.Series(group, index=paired.index)


def _label_held_out(ax: Axes, paired: pd.DataFrame, x: str, y: str) -> None:
    held_out = paired[paired["held_out"].astype(bool)]
    ax.scatter(
        held_out[x], held_out[y], s=70, facecolors="none", edgecolors="black", label="held out"
    )
    for _, row in held_out.iterrows():
        ax.annotate(
            f"{row['condition']}\n(from {row['control_cell_type']})",
            (row[x], row[y]),
            fontsize=6,
            xytext=(3, 3),
            textcoords="offset points",
        )


def plot_rf_error_scatter(
    tables: Mapping[str, Path], summaries: Mapping[str, Path], output: Path
) -> None:
    """Fig. 4a: RF error of the representation decoder (x) vs MichiGAN (y), every prediction.

    Points above the diagonal are predictions where MichiGAN's cells are easier to tell from the
    real ones; held-out predictions are circled and labelled; the panel title gives the one-sided
    Wilcoxon p-value of the summary.

    Parameters
    ----------
    tables, summaries
        Code mode -> prediction table (TSV) and summary (JSON) of one run.
    output
        Figure file to write (the format follows the suffix).
    """
    runs = _paired_runs(tables, summaries)
    figure, axes = _panels(len(runs))
    for ax, (mode, paired, summary) in zip(axes, runs, strict=True):
        decoders = summary["decoders"]
        x, y = (
            decoder_column("rf_error", decoders[role]) for role in ("representation", "generator")
        )
        ax.scatter(paired[x], paired[y], s=14, color="tab:blue", alpha=0.7, label="prediction")
        _label_held_out(ax, paired, x, y)
        limit = _error_axis_limit(paired[[x, y]].to_numpy())
        ax.plot([0, limit], [0, limit], color="grey", lw=0.8, ls="--")
        ax.set(
            xlim=(0, limit),
            ylim=(0, limit),
            xlabel=f"RF error, {decoders['representation']} decoder",
            ylabel=f"RF error, {decoders['generator']}",
            title=(
                f"{mode} codes: one-sided Wilcoxon p = "
                f"{_p_text(summary['wilcoxon']['all']['p_value'])} "
                f"(n = {summary['wilcoxon']['all']['n']})"
            ),
        )
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7, loc="lower right")
    _save(figure, output)


def plot_delta_h(tables: Mapping[str, Path], summaries: Mapping[str, Path], output: Path) -> None:
    """Fig. 4b: Delta H (paper estimator) vs the RF-error difference MichiGAN minus decoder.

    Points are coloured by the simulated screen's truth when the tables carry it; the panel title
    gives Spearman's rho of the summary.

    Parameters
    ----------
    tables, summaries
        Code mode -> prediction table (TSV) and summary (JSON) of one run.
    output
        Figure file to write.
    """
    runs = _paired_runs(tables, summaries)
    figure, axes = _panels(len(runs))
    for ax, (mode, paired, summary) in zip(axes, runs, strict=True):
        groups = _truth_group(paired)
        if groups is None:
            ax.scatter(paired["delta_h"], paired["rf_error_difference"], s=14, color="tab:blue")
        else:
            for group, (color, label) in _TRUTH_STYLE.items():
                rows = paired[groups == group]
                if len(rows):
                    ax.scatter(
                        rows["delta_h"], rows["rf_error_difference"], s=14, color=color, label=label
                    )
        _label_held_out(ax, paired, "delta_h", "rf_error_difference")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        correlation = summary["delta_h_vs_rf_error_difference"]["delta_h"]
        rho = correlation["spearman_rho"]
        decoders = summary["decoders"]
        ax.set(
            xlabel=f"Delta H (nats, N = {summary['delta_h_cells']})",
            ylabel=f"RF error {decoders['generator']} - {decoders['representation']}",
            title=(
                f"{mode} codes: Spearman rho = {'n/a' if rho is None else f'{rho:.2f}'} "
                f"(p = {_p_text(correlation['spearman_p'])})"
            ),
        )
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7)
    _save(figure, output)


def plot_lowdh(tables: Mapping[str, Path], summaries: Mapping[str, Path], output: Path) -> None:
    """Fig. 4c: RF errors of both decoders for the predictions of the low-Delta H retrain.

    One bar pair per prediction (combination, from control cell type); the dashed line at 0.5 is
    the error of indistinguishable cells.

    Parameters
    ----------
    tables, summaries
        Code mode -> prediction table (TSV) and summary (JSON) of a lowdh run.
    output
        Figure file to write.
    """
    runs = _paired_runs(tables, summaries)
    figure, axes = _panels(len(runs))
    for ax, (mode, paired, summary) in zip(axes, runs, strict=True):
        rows = paired[paired["held_out"].astype(bool)]
        decoders = summary["decoders"]
        positions = np.arange(len(rows))
        for offset, role in ((-0.2, "representation"), (0.2, "generator")):
            ax.bar(
                positions + offset,
                rows[decoder_column("rf_error", decoders[role])],
                width=0.4,
                label=decoders[role],
            )
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(
            positions,
            [
                f"{c}\n(from {k})"
                for c, k in zip(rows["condition"], rows["control_cell_type"], strict=True)
            ],
            rotation=45,
            ha="right",
            fontsize=6,
        )
        ax.set(
            ylim=(0, 0.55),
            ylabel="RF error (0.5: indistinguishable)",
            title=f"{mode} codes: low-Delta H combinations held out",
        )
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7)
    _save(figure, output)
