"""The Snakemake report's front page: what reproduces, what does not, what this run cannot decide.

:func:`front_page` writes a reStructuredText fragment from the checked claims
(:mod:`michigan.report.orderings`) and the held-out verdicts (``verdicts.tsv`` of the
``prediction-verdicts`` stage); ``workflow/report/workflow.rst`` includes it. Links name report
files by their base name (Snakemake defines a link target per report file, ``<name>_``) and report
categories by their name, so the fragment only links what the caller says is in the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from michigan.predict.summary import seed_average_tests
from michigan.report.orderings import FAILS, HOLDS, UNINFORMATIVE

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_GROUPS = (
    (HOLDS, "Reproduced"),
    (FAILS, "Not reproduced"),
    (UNINFORMATIVE, "Cannot be decided at this scale"),
)
_VERDICT_COLUMNS = ("test", "n", "p_value", "median_generator", "median_arm", "median_floor")


def front_page(
    orderings: pd.DataFrame,
    verdicts: Mapping[str, pd.DataFrame],
    *,
    files: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> str:
    """The front page fragment (reStructuredText).

    Parameters
    ----------
    orderings
        Checked claims (:func:`~michigan.report.orderings.check_claims` and
        :func:`~michigan.report.orderings.check_heldout_claims`).
    verdicts
        Dataset -> its verdict table (:func:`michigan.predict.summary.seed_verdicts`).
    files
        Base names of the report files to link (e.g. ``orderings.tsv``).
    categories
        Report categories to link (e.g. ``Held-out prediction``).

    Returns
    -------
    str
        A section per verdict group (claim, dataset, reason, values), then per held-out dataset a
        table of the seed-averaged tests over all predictions, then the links.
    """
    lines = ["Verdicts", "--------", ""]
    counts = orderings["ours"].value_counts()
    lines += [
        "Every conclusion the paper draws from Tables 1-3 and Fig. 4a, checked on this run: "
        + ", ".join(f"{counts.get(status, 0)} {status}" for status, _ in _GROUPS)
        + " (docs/prediction.md and src/michigan/report/orderings.py say how).",
        "",
    ]
    for status, title in _GROUPS:
        rows = orderings[orderings["ours"] == status]
        lines += [f"**{title}** ({len(rows)})", ""]
        lines += [f"- {_claim_line(row)}" for row in rows.itertuples()] or ["- none"]
        lines.append("")
    for dataset, table in sorted(verdicts.items()):
        lines += _verdict_table(dataset, table)
    links = [f"`{name}`_" for name in files] + [f"`{name}`_" for name in categories]
    if links:
        lines += ["The tables and figures behind these: " + ", ".join(links) + ".", ""]
    return "\n".join(lines)


def _claim_line(row: tuple) -> str:
    values = f"ours {format_value(row.ours_left)} vs {format_value(row.ours_right)}"
    if pd.notna(row.paper_left):
        values += f"; paper {format_value(row.paper_left)} vs {format_value(row.paper_right)}"
    return f"{_escape(row.claim)}, *{row.dataset}*: {_escape(row.reason)} ({values})"


def _verdict_table(dataset: str, table: pd.DataFrame) -> list[str]:
    """A list-table of the seed-averaged tests over all predictions of one dataset."""
    shown = seed_average_tests(table)
    if shown.empty:
        return []
    header = ["run", *_VERDICT_COLUMNS, "verdict"]
    lines = [
        f".. list-table:: Held-out tests on *{dataset}*, seed average, all predictions "
        "(medians: MichiGAN, arm, floor)",
        "   :header-rows: 1",
        "",
        "   * - " + "\n     - ".join(header),
    ]
    for row in shown.itertuples():
        cells = [
            row.run,
            _escape(row.test),
            str(int(row.n)) if pd.notna(row.n) else "–",
            "–" if pd.isna(row.p_value) else f"{row.p_value:.2g}",
            format_value(row.median_generator),
            format_value(row.median_arm),
            format_value(row.median_floor),
            f"**{row.verdict}**: {_escape(row.reason)}",
        ]
        lines.append("   * - " + "\n     - ".join(cells))
    return [*lines, ""]


def format_value(value: object) -> str:
    """A value with three decimals, or an en dash when it is missing."""
    return "–" if value is None or pd.isna(value) else f"{float(value):.3f}"


def _escape(text: object) -> str:
    """Text safe inside reStructuredText inline markup (no stray emphasis or references)."""
    return (
        str(text).replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("_", "\\_")
    )
