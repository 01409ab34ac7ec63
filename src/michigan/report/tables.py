"""Tables of our results beside the paper's: mean ± 95 % confidence interval over seeds, and the difference."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from michigan.progress import format_duration
from michigan.report.collect import BESIDE_PAPER_METRICS
from michigan.report.paper import TABLES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

KEYS = ["dataset", "model", "metric"]
SUMMARY = ["mean", "ci95", "n_seeds", "train_time_s", "hardware"]


def summarise_over_seeds(records: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Mean and 95 % t-interval half-width of each ``(dataset, model, metric)`` over seeds.

    Parameters
    ----------
    records
        One mapping per measured value with keys ``dataset``, ``model``, ``metric``, ``seed``,
        ``value`` and optionally ``train_time_s`` and ``hardware``.

    Returns
    -------
    One row per ``(dataset, model, metric)`` with ``mean``, ``ci95`` (half-width
    t_{0.975, n-1} · sd / √n; NaN with a single seed), ``n_seeds``, the mean training wall time
    ``train_time_s`` and the ``hardware`` (records may leave the last two out).
    """
    columns = [*KEYS, "seed", "value", "train_time_s", "hardware"]
    frame = pd.DataFrame(list(records), columns=columns)
    if frame.empty:
        return pd.DataFrame(columns=[*KEYS, *SUMMARY])
    frame["train_time_s"] = frame["train_time_s"].astype(float)
    frame["hardware"] = frame["hardware"].fillna("unknown")
    summary = (
        frame.groupby(KEYS, sort=True)
        .agg(
            mean=("value", "mean"),
            sd=("value", "std"),
            n_seeds=("value", "count"),
            train_time_s=("train_time_s", "mean"),
            hardware=("hardware", lambda h: "; ".join(sorted(set(h)))),
        )
        .reset_index()
    )
    n = summary["n_seeds"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.975, np.maximum(n - 1, 1))
        summary["ci95"] = np.where(n > 1, t * summary["sd"] / np.sqrt(n), np.nan)
    return summary[[*KEYS, *SUMMARY]]


def compare_with_paper(summary: pd.DataFrame, table: str) -> pd.DataFrame:
    """Join our summary with the paper's values of ``table`` (``table1``, ``table2`` or ``table3``).

    Every paper entry appears, with NaN where we have no value, followed by our rows of the table's
    data sets and metrics that no paper table reports (e.g. CWGAN-GP), with NaN as the paper's value,
    and by our variants of the table's metrics (:data:`~michigan.report.collect.BESIDE_PAPER_METRICS`,
    e.g. ``factorvae_score_dlib`` in Table 1). ``difference`` = ours − paper.
    """
    if table not in TABLES:
        msg = f"unknown paper table {table!r}; known: {sorted(TABLES)}"
        raise KeyError(msg)
    paper = pd.DataFrame(
        [(*key, value) for key, value in TABLES[table].items()], columns=[*KEYS, "paper"]
    )
    reported = {(model, metric) for entries in TABLES.values() for _, model, metric in entries}
    unreported = np.array(
        [(row.model, row.metric) not in reported for row in summary.itertuples()], dtype=bool
    )
    metrics = set(paper["metric"])
    metrics |= {ours for ours, (_, beside) in BESIDE_PAPER_METRICS.items() if beside in metrics}
    extra = summary[
        summary["dataset"].isin(paper["dataset"]) & summary["metric"].isin(metrics) & unreported
    ]
    merged = pd.concat([paper.merge(summary, on=KEYS, how="left"), extra], ignore_index=True)
    merged["difference"] = merged["mean"] - merged["paper"]
    return merged[
        [*KEYS, "mean", "ci95", "n_seeds", "paper", "difference", "train_time_s", "hardware"]
    ]


def to_markdown(frame: pd.DataFrame) -> str:
    """Render a comparison table as Markdown, ``mean ± ci`` in one column."""
    shown = frame.copy()
    shown["ours"] = [
        "–" if pd.isna(m) else (f"{m:.3f}" if pd.isna(c) else f"{m:.3f} ± {c:.3f}")
        for m, c in zip(shown["mean"], shown["ci95"], strict=True)
    ]
    shown["paper"] = ["–" if pd.isna(p) else f"{p:.3f}" for p in shown["paper"]]
    shown["difference"] = [("–" if pd.isna(d) else f"{d:+.3f}") for d in shown["difference"]]
    shown["n_seeds"] = shown["n_seeds"].fillna(0).astype(int)
    shown["train time"] = ["–" if pd.isna(t) else format_duration(t) for t in shown["train_time_s"]]
    shown["hardware"] = shown["hardware"].fillna("–")
    columns = [*KEYS, "ours", "n_seeds", "paper", "difference", "train time", "hardware"]
    return shown[columns].to_markdown(index=False, floatfmt=".3f")
