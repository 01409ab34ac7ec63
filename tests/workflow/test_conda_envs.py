"""Conda environments per rule under ``--sdm conda`` (workflow/rules/envs.smk).

``snakemake --list-conda-envs`` lists the environments of the jobs that a run of the given targets
would make, without creating any. It still asks ``conda`` for its prefix and settings, so a stand-in
``conda`` that answers those three questions goes first on PATH; nothing is installed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workflow_runs import snakemake

REPO = Path(__file__).resolve().parents[2]
FAKE_CONDA = """#!/bin/sh
case "$*" in
  "info --json") printf '{"conda_prefix": "%s", "platform": "linux-64"}\\n' "$PWD/conda" ;;
  "--version") echo "conda 24.7.1" ;;
  "config --get channel_priority --json") echo '{"get": {"channel_priority": "strict"}}' ;;
  *) echo "stand-in conda cannot: $*" >&2; exit 1 ;;
esac
"""
REPRESENTATION = "results/simulated/linear/all/seed0/btcvae/model"
GENERATOR = "results/simulated/linear/all/seed0/michigan_mean/model"
SIMULATION = "results/simulated/linear/counts.h5ad"


def list_conda_envs(
    workdir: Path, *args: str, profile: str = "none"
) -> subprocess.CompletedProcess[str]:
    """``snakemake --list-conda-envs`` of ``args`` (targets, options) in ``workdir``."""
    bin_dir = workdir / "bin"
    bin_dir.mkdir(exist_ok=True)
    conda = bin_dir / "conda"
    conda.write_text(FAKE_CONDA)
    conda.chmod(0o755)
    return snakemake(
        workdir, "--list-conda-envs", *args, profile=profile, path_first=bin_dir, timeout=300
    )


def conda_envs(workdir: Path, *args: str, profile: str = "none") -> set[str]:
    """Environment files (names under envs/) of the jobs that ``args`` (targets, options) plan."""
    result = list_conda_envs(workdir, *args, profile=profile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = result.stdout.split("environment\tcontainer\tlocation\n", 1)[1].splitlines()
    return {Path(row.split("\t", 1)[0]).name for row in rows if row.strip()}


@pytest.mark.parametrize(
    ("targets_and_options", "expected"),
    [
        (
            [REPRESENTATION, "--set-resources", "train_representation:gpu=1"],
            {"michigan.yaml", "michigan-cuda.yaml"},
        ),
        # GPUs for the generator only: the representation's (and simulation's) jobs keep the
        # CPU environment
        ([REPRESENTATION, "--set-resources", "train_generator:gpu=2"], {"michigan.yaml"}),
        (
            [GENERATOR, "--set-resources", "train_generator:gpu=2"],
            {"michigan.yaml", "michigan-cuda.yaml"},
        ),
    ],
    ids=["representation-gpu", "generator-gpu-only", "generator-gpu"],
)
def test_training_rules_get_the_cuda_env_when_given_gpus(tmp_path, targets_and_options, expected):
    assert conda_envs(tmp_path, *targets_and_options) == expected


def test_the_slurm_profile_gives_training_the_cuda_env(tmp_path, monkeypatch):
    monkeypatch.delenv("MICHIGAN_TRAIN_GPUS", raising=False)
    envs = conda_envs(tmp_path, REPRESENTATION, profile=str(REPO / "profiles" / "slurm"))
    assert envs == {"michigan.yaml", "michigan-cuda.yaml"}


def test_simulate_with_the_splatter_backend_gets_the_splatter_env(tmp_path):
    override = tmp_path / "backend.yaml"
    override.write_text("simulation:\n  backend: splatter\n")
    assert conda_envs(tmp_path, SIMULATION, "--configfile", str(override)) == {"splatter.yaml"}


def test_a_gpu_count_that_is_no_number_is_named(tmp_path):
    result = list_conda_envs(
        tmp_path, REPRESENTATION, "--set-resources", "train_representation:gpu=many"
    )
    assert result.returncode != 0
    assert "train_representation:gpu='many'" in result.stdout + result.stderr
