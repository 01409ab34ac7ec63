"""A training job killed mid-way (as a preempted cluster job is) resumes to the uninterrupted result.

Also: a GPU request on a machine where JAX sees no GPU fails with a clear message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import workflow_runs

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).with_name("tiny_config.yaml")
MODEL = "results/simulated/linear/all/seed0/btcvae"
#: long enough to be killed between two checkpoints, short enough for a test
LONG_TRAINING = {"representation": {"epochs": 400, "checkpoint_every": 20}}


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    return workflow_runs.snakemake_command(workdir, "--cores", "2", *args)


def run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        snakemake_command(workdir, *args), capture_output=True, text=True, timeout=600, check=False
    )
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("configs")
    long = directory / "long.yaml"
    long.write_text(yaml.safe_dump(LONG_TRAINING))
    return str(TINY), str(long)


@pytest.mark.slow
def test_killed_training_resumes_to_the_parameters_of_an_uninterrupted_run(tmp_path, configs):
    target = f"{MODEL}/model"
    uninterrupted, interrupted = tmp_path / "uninterrupted", tmp_path / "interrupted"
    run(uninterrupted, target, "--configfile", *configs)
    run(interrupted, "results/simulated/linear/preprocessed.h5ad", "--configfile", *configs)

    # start the training job, wait for its first checkpoint, then kill everything hard, the way a
    # preempted job is killed (its process group: Snakemake and the training process)
    process = subprocess.Popen(
        snakemake_command(interrupted, target, "--configfile", *configs),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    checkpoint = interrupted / MODEL / "checkpoint" / "checkpoint.msgpack"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert checkpoint.exists(), "the training job wrote no checkpoint before it ended"
    os.killpg(process.pid, signal.SIGTERM)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)

    # no partial output is taken for complete: the model must be (re)made
    assert not (interrupted / target / "variables.msgpack").exists()
    plan = run(interrupted, target, "--dry-run", "--rerun-incomplete", "--configfile", *configs)
    assert "train_representation" in plan.stdout + plan.stderr

    run(interrupted, target, "--rerun-incomplete", "--configfile", *configs)
    log = (
        interrupted / "results/logs/train_representation" / f"{MODEL.removeprefix('results/')}.log"
    )
    assert "resuming from" in log.read_text()
    resumed = (interrupted / target / "variables.msgpack").read_bytes()
    reference = (uninterrupted / target / "variables.msgpack").read_bytes()
    # bit-identical: the PRNG key, optimizer state and epoch are part of the checkpoint
    assert resumed == reference


@pytest.mark.slow
def test_a_gpu_request_without_a_gpu_fails_with_a_clear_message(tmp_path, configs):
    env_without_fallback = {k: v for k, v in os.environ.items() if k != "MICHIGAN_GPU_FALLBACK"}
    command = snakemake_command(
        tmp_path,
        f"{MODEL}/model",
        "--set-resources",
        "train_representation:gpu=1",
        "--show-failed-logs",
        "--configfile",
        configs[0],
    )
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, env=env_without_fallback
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "asked for 1 GPU(s) but JAX sees 0" in output
    assert "MICHIGAN_GPU_FALLBACK=cpu" in output
