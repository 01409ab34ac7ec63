"""Report stages: the tables of our results beside the paper's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan.report.paper import TABLES
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse


@stage(
    "table",
    help="One paper table (1-3) of our results beside the paper's (mean ± 95%% CI over seeds).",
    section=None,
    arguments=(
        arg("--metrics", type=Path, nargs="+", required=True, help="metrics .json files"),
        arg("--table", required=True, choices=sorted(TABLES), help="paper table"),
        arg("--output", type=Path, required=True, help="TSV to write"),
        arg("--markdown", type=Path, required=True, help="Markdown rendering to write"),
    ),
    inputs=lambda a: {f"metrics_{i}": path for i, path in enumerate(a.metrics)},
    outputs=lambda a: {"table": a.output, "markdown": a.markdown},
)
def table(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Summarise the metrics files over seeds and join them with the paper's values."""
    from michigan.io import atomic_path
    from michigan.report.collect import metric_records
    from michigan.report.tables import compare_with_paper, summarise_over_seeds, to_markdown

    summary = summarise_over_seeds(metric_records(args.metrics))
    comparison = compare_with_paper(summary, args.table)
    with atomic_path(args.output) as tmp:
        comparison.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(to_markdown(comparison) + "\n", encoding="utf-8")
    return {"paper_values_with_ours": int(comparison["mean"].notna().sum())}


@stage(
    "orderings",
    help="Check the paper's orderings between models (Tables 1 and 3) on our values and the paper's.",
    section=None,
    arguments=(
        arg("--tables", type=Path, nargs="+", required=True, help="comparison table TSVs"),
        arg("--output", type=Path, required=True, help="TSV to write"),
        arg("--markdown", type=Path, required=True, help="Markdown rendering to write"),
    ),
    inputs=lambda a: {f"table_{i}": path for i, path in enumerate(a.tables)},
    outputs=lambda a: {"orderings": a.output, "markdown": a.markdown},
)
def orderings(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """One row per claim and dataset, saying whether our values and the paper's satisfy it."""
    import pandas as pd

    from michigan.io import atomic_path
    from michigan.report.orderings import check_claims

    checked = check_claims(pd.read_csv(path, sep="\t") for path in args.tables)
    with atomic_path(args.output) as tmp:
        checked.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(checked.to_markdown(index=False, floatfmt=".3f") + "\n", encoding="utf-8")
    held = checked["ours_hold"].dropna().astype(bool)
    return {"claims_checked": int(held.size), "claims_holding": int(held.sum())}
