"""docs/figures.md lists every panel of the paper, and the paper preset's dry run schedules each file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from workflow_runs import snakemake

REPO = Path(__file__).resolve().parents[2]
FIGURES_DOC = REPO / "docs" / "figures.md"
PAPER_PRESET = REPO / "config" / "paper.yaml"
#: every figure and table panel of Yu & Welch (2021) and its supplement
PAPER_PANELS = (
    *("Fig 1", "Fig 2a", "Fig 2b", "Fig 3a", "Fig 3b", "Fig 3c", "Fig 3d"),
    *("Fig 4a", "Fig 4b", "Fig 4c", "Fig 5"),
    *("Fig S1a", "Fig S1b", "Fig S2a", "Fig S2b", "Fig S3a", "Fig S3b", "Fig S3c", "Fig S4"),
    *("Fig S5a", "Fig S5b", "Fig S5c", "Fig S6a", "Fig S6b", "Fig S7a", "Fig S7b"),
    *("Fig S8a", "Fig S8b", "Fig S8c", "Fig S9a", "Fig S9b", "Fig S10a", "Fig S10b", "Fig S11"),
    *("Table 1", "Table 2", "Table 3", "Table S1"),
)


def panel_table() -> dict[str, dict[str, str]]:
    """``{panel: {column: cell}}`` of the table in docs/figures.md whose header starts ``| paper |``."""
    lines = FIGURES_DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| paper |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        row = dict(zip(header, cells, strict=True))
        rows[row["paper"].rstrip("*")] = row
    return rows


def listed_outputs(row: dict[str, str]) -> list[str]:
    return re.findall(r"`(results/[^`]+)`", row["output"])


@pytest.fixture(scope="module")
def paper_dry_run(tmp_path_factory) -> dict[str, str]:
    """``{output file: rule}`` of every job the paper preset's dry run schedules (the raw data are
    absent, so the downloads and everything after them are scheduled)."""
    workdir = tmp_path_factory.mktemp("paper_dry_run")
    done = snakemake(workdir, "--dry-run", "--configfile", str(PAPER_PRESET), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    scheduled, rule = {}, None
    for line in (done.stdout + done.stderr).splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):$", line):
            rule = match.group(1)
        elif line.startswith("    output: ") and rule:
            for path in line.removeprefix("    output: ").split(", "):
                scheduled[path] = rule
    return scheduled


def test_every_paper_panel_has_one_row():
    rows = panel_table()
    assert sorted(rows) == sorted(PAPER_PANELS)


def test_a_panel_without_output_says_why():
    for panel, row in panel_table().items():
        if not listed_outputs(row):
            assert row["output"].startswith("none: "), panel
            assert len(row["output"]) > len("none: ") + 10, f"{panel} needs a reason"


def test_the_paper_preset_schedules_every_listed_output_with_its_rule(paper_dry_run):
    seeds = yaml.safe_load(PAPER_PRESET.read_text())["seeds"]
    missing, wrong_rule = [], []
    for panel, row in panel_table().items():
        rules = set(re.findall(r"`(\w+)`", row["rule"]))
        for pattern in listed_outputs(row):
            for path in {pattern.replace("{seed}", str(seed)) for seed in seeds}:
                if path not in paper_dry_run:
                    missing.append(f"{panel}: {path}")
                elif paper_dry_run[path] not in rules:
                    wrong_rule.append(f"{panel}: {path} by {paper_dry_run[path]}")
    assert not missing, missing
    assert not wrong_rule, wrong_rule
