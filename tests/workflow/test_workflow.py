"""The workflow layer: lint, format, dry runs, one tiny end-to-end run, report, partial reruns."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workflow_runs import snakemake

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).with_name("tiny_config.yaml")
RUN_RECORD_KEYS = {
    "stage",
    "config",
    "seed",
    "inputs",
    "outputs",
    "argv",
    "started",
    "finished",
    "wall_time_s",
    "versions",
    "git_commit",
    "device",
}


def planned_jobs(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Rule -> job count of a dry run's "Job stats" table (empty when nothing is to be done)."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = (re.match(r"^(\w+)\s+(\d+)$", line.strip()) for line in table.splitlines())
    return {m.group(1): int(m.group(2)) for m in rows if m and m.group(1) != "total"}


def write_override(path: Path, override: dict) -> Path:
    path.write_text(yaml.safe_dump(override))
    return path


# --------------------------------------------------------------------------------------------------
# static checks


def test_snakemake_lint_is_clean(tmp_path):
    result = snakemake(tmp_path, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_snakefmt_check_passes():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run(
        [str(snakefmt), "--check", *map(str, files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", ["config.yaml", "config/paper.yaml", "config/reproduce.yaml"])
def test_dry_run_of_a_preset_plans_the_pipeline(tmp_path, config):
    result = snakemake(tmp_path, "--dry-run", "--configfile", str(REPO / config))
    jobs = planned_jobs(result)
    assert jobs["all"] == 1
    assert jobs["train_representation"] >= 2
    assert jobs["table"] >= 2


def test_reproduce_preset_is_at_the_scale_of_issue_17():
    preset = yaml.safe_load((REPO / "config" / "reproduce.yaml").read_text())
    assert len(preset["seeds"]) >= 3  # Tables 1 and 3 with a 95 % interval
    assert {"simulated_disentanglement", "screen_heldout"} <= set(preset["experiments"])
    assert preset["screen"]["cells_per_condition"] >= 300
    assert preset["prediction"]["max_cells"] >= 300
    assert set(preset["generator"]["codes"]) == {"mean", "sampled"}  # the claim and its control


def test_dry_run_of_the_real_data_targets(tmp_path):
    override = write_override(
        tmp_path / "real.yaml",
        {"experiments": ["tabula_muris_generation"]},
    )
    jobs = planned_jobs(snakemake(tmp_path, "--dry-run", "--configfile", str(override)))
    assert jobs["download"] == 2  # FACS.zip and the annotations
    assert jobs["tabula_muris"] == 1
    assert jobs["tabula_muris_heart"] == 1


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        (  # schema problems: every one listed, by key, in one message
            {
                "generator": {"epochz": 3},
                "representation": {"latent_dim": 0, "learning_rate": float("nan")},
                "simulation": {"backend": "R"},
                "experiments": ["table1"],
            },
            [
                "generator.epochz",
                "did you mean 'epochs'",
                "representation.latent_dim",
                ">= 1",
                "representation.learning_rate",
                "simulation.backend",
                "'native'",
                "experiments.0",
                "simulated_disentanglement",
            ],
        ),
        (  # the workflow's own checks, after the schema's
            {"generator": {"by_dataset": {"simulated/lineer": {"epochs": 1}}}},
            ["generator.by_dataset.simulated/lineer", "did you mean 'simulated/linear'"],
        ),
    ],
    ids=["schema", "workflow-checks"],
)
def test_a_bad_config_stops_the_workflow_before_any_job(tmp_path, override, fragments):
    result = snakemake(
        tmp_path, "--dry-run", "--configfile", str(write_override(tmp_path / "bad.yaml", override))
    )
    assert result.returncode != 0
    message = result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in message, message[-2000:]


def test_a_preset_by_dataset_value_hiding_a_users_value_is_noted(tmp_path):
    user = write_override(tmp_path / "user.yaml", {"representation": {"beta": 7}})
    result = snakemake(
        tmp_path, "--dry-run", "--configfile", str(REPO / "config" / "paper.yaml"), str(user)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "representation.by_dataset.screen.beta = 10" in result.stderr
    assert "overrides representation.beta = 7" in result.stderr


def test_a_missing_user_file_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "cells.h5ad"
    override = write_override(
        tmp_path / "user.yaml", {"h5ad": {"datasets": {"mine": {"path": str(missing)}}}}
    )
    # targets before --configfile, which takes every following word as a file
    result = snakemake(
        tmp_path, "results/h5ad/mine/preprocessed.h5ad", "--dry-run", "--configfile", str(override)
    )
    assert result.returncode != 0
    assert str(missing) in result.stdout + result.stderr


# --------------------------------------------------------------------------------------------------
# one tiny end-to-end run, then the report and the partial-rerun behaviour on its results


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny_run")
    result = snakemake(workdir, "--configfile", str(TINY), "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return workdir


@pytest.mark.slow
def test_tiny_run_builds_every_target_with_complete_run_records(tiny_run):
    for table in ("table1", "table3"):
        markdown = (tiny_run / "results" / "tables" / f"{table}.md").read_text()
        assert "simulated/linear" in markdown
    metrics = sorted((tiny_run / "results").rglob("disentanglement.json"))
    assert {p.parent.name for p in metrics} == {"ppca", "btcvae", "wgan_gp", "michigan_mean"}
    for path in metrics:
        values = [entry["value"] for entry in json.loads(path.read_text()).values()]
        assert all(v is None or (isinstance(v, float) and v == v) for v in values), path
    records = sorted((tiny_run / "results").rglob("*run.json"))
    stages = {json.loads(p.read_text())["stage"] for p in records}
    assert {"simulate", "preprocess", "train-representation", "encode", "train-generator"} <= stages
    assert {"generate", "evaluate-disentanglement", "table"} <= stages
    for path in records:
        record = json.loads(path.read_text())
        assert set(record) >= RUN_RECORD_KEYS, f"{path}: {RUN_RECORD_KEYS - set(record)}"
        assert record["wall_time_s"] > 0
        assert record["versions"]["jax"] != "not installed"


@pytest.mark.slow
def test_report_builds(tiny_run):
    report = tiny_run / "report.html"
    result = snakemake(tiny_run, "--configfile", str(TINY), "--report", str(report))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert report.stat().st_size > 100_000
    # the front page shows the verdicts (workflow/report/workflow.rst includes the fragment)
    assert (tiny_run / "results/report/front_page.rst").is_file()
    html = report.read_text(encoding="utf-8")
    assert "Cannot be decided at this scale" in html
    assert "are not part of this report" not in html


@pytest.mark.slow
def test_unchanged_config_reruns_nothing(tiny_run):
    assert planned_jobs(snakemake(tiny_run, "--dry-run", "--configfile", str(TINY))) == {}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"evaluation": {"rf_trees": 7}},
            {
                "evaluate_disentanglement",
                "evaluate_generator_disentanglement",
                "table",
                "orderings",
                "front_page",
                "all",
            },
        ),
        (
            {"generator": {"epochs": 3}},
            {
                "train_generator",
                "train_wide_wgan",
                "generate",
                "evaluate_generator_disentanglement",
                "generated_codes",
                "generated_code_factor_bars",
                "latent_traversal",
                "table",
                "orderings",
                "front_page",
                "all",
            },
        ),
        (
            {"representation": {"by_dataset": {"simulated/linear": {"beta": 2}}}},
            {
                "train_representation",
                "encode",
                "evaluate_disentanglement",
                "train_generator",
                "generate",
                "evaluate_generator_disentanglement",
                "umap_codes",
                "code_factor_bars",
                "generated_codes",
                "generated_code_factor_bars",
                "latent_traversal",
                "table",
                "orderings",
                "front_page",
                "all",
            },
        ),
    ],
    ids=["evaluation", "generator", "representation-beta"],
)
def test_changing_one_section_reruns_only_that_stage_and_what_depends_on_it(
    tiny_run, tmp_path, override, expected
):
    path = write_override(tmp_path / "override.yaml", override)
    jobs = planned_jobs(snakemake(tiny_run, "--dry-run", "--configfile", str(TINY), str(path)))
    assert set(jobs) == expected


def test_profiles_default_sets_the_rerun_triggers():
    profile = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert "params" in profile["rerun-triggers"]


@pytest.fixture(autouse=True, scope="module")
def _no_stray_outputs():
    """The tests run in temporary directories; they must not write into the repository."""
    before = set((REPO / "results").glob("*"))
    yield
    assert set((REPO / "results").glob("*")) <= before | {REPO / "results" / ".gitkeep"}
