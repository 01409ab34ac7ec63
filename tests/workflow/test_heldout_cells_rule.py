"""The held-out cells on the UMAP (paper Figs 5 and S10a) on the tiny screen of the prediction tests."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from test_prediction_rules import TINY  # the same tiny screen and models

import workflow_runs

REPO = Path(__file__).resolve().parents[2]
TARGETS = tuple(
    f"results/screen/{trainset}/seed0/figures/heldout_cells.png"
    for trainset in ("heldout", "lowdh")
)
#: the screen's default held-out pairs, each predicted from the two other cell types but the one
#: whose cell type is held out under the same drug elsewhere
HELD_OUT = ("CellType1-Drug1", "CellType2-Drug2", "CellType3-Drug4")


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = TINY | {"figures": {"umap_n_pcs": 5, "dpi": 60}}
    return workflow_runs.snakemake(
        workdir, *args, config=config, targets=TARGETS, profile=None, timeout=900
    )


def test_dry_run_draws_one_figure_per_heldout_run_with_its_michigan(tmp_path):
    done = snakemake(tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout, flags=re.MULTILINE))
    assert counts.get("heldout_cells") == "2"
    assert counts.get("umap") == "1"
    # the lowdh run's models and its split, but no prediction of its own
    assert counts.get("train_generator") == "2"


@pytest.mark.slow
def test_every_held_out_prediction_gets_a_panel(tmp_path):
    done = snakemake(tmp_path, "--cores", "2")
    assert done.returncode == 0, done.stderr[-4000:]
    heldout = tmp_path / "results/screen/heldout/seed0/figures"
    assert (heldout / "heldout_cells.png").stat().st_size > 10_000
    record = json.loads((heldout / "heldout_cells.run.json").read_text())
    panels = record["result"]["predictions"]
    assert {panel.split(" from ")[0] for panel in panels} == set(HELD_OUT)
    assert all(panel.split(" from ")[1] != panel.split("-")[0] for panel in panels)
    assert record["result"]["code_mode"] == "sampled"
