"""Faults: processes killed while writing or training, two runs on one output, diverging or
exhausted training.

Each case asserts the exit status (2 for a failed ``michigan`` run), one error line naming the file,
key or value at fault, and that nothing partial or wrong is left where the next rule looks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import pytest
from training_runs import (
    run_cli,
    single_line,
    stale_temporary,
    start_cli,
    train_argv,
    write_cells,
)

from michigan.io import HOST_TAG, atomic_path, exclusive_lock, write_json
from michigan.train.checkpoint import CHECKPOINT_FILE

#: a subprocess that starts an atomic write of argv[1] (a file, or a folder with --dir), says so by
#: creating argv[2], then waits to be killed
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from michigan.io import atomic_path
    with atomic_path(Path(sys.argv[1])) as tmp:
        if "--dir" in sys.argv:
            tmp.mkdir()
            (tmp / "model.json").write_text("new, half-written")
        else:
            tmp.write_text("new, half-written")
        Path(sys.argv[2]).touch()
        time.sleep(120)
    """
)


def wait_for(path, process, timeout=300):
    deadline = time.monotonic() + timeout
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.exists(), f"{path} did not appear (process ended with {process.poll()})"


def kill_while_writing(target, tmp_path, *extra):
    started = tmp_path / "started"
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(started), *extra])
    wait_for(started, process, timeout=120)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return list(target.parent.glob(f".{target.name}.*.tmp"))


def test_a_file_write_killed_midway_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "table.json"
    write_json({"old": True}, target)
    leftovers = kill_while_writing(target, tmp_path)
    assert len(leftovers) == 1
    assert json.loads(target.read_text()) == {"old": True}
    write_json({"new": True}, target)
    assert json.loads(target.read_text()) == {"new": True}
    assert not leftovers[0].exists()


def test_a_directory_replacement_killed_midway_keeps_the_old_directory(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.json").write_text("old, complete")
    (target / "variables.msgpack").write_text("old variables")
    leftovers = kill_while_writing(target, tmp_path, "--dir")
    assert len(leftovers) == 1
    assert (target / "model.json").read_text() == "old, complete"
    assert (target / "variables.msgpack").read_text() == "old variables"
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "model.json").write_text("new, complete")
    assert sorted(p.name for p in target.iterdir()) == ["model.json"]
    assert not leftovers[0].exists()


def test_a_failed_move_puts_the_old_directory_back(tmp_path, monkeypatch):
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.json").write_text("old, complete")
    real_replace = type(target).replace
    calls = []

    def fail_second_move(self, other):
        calls.append(self.name)
        if len(calls) == 2:  # the new directory onto the old one's place
            msg = f"simulated failure moving {self}"
            raise OSError(msg)
        return real_replace(self, other)

    monkeypatch.setattr(type(target), "replace", fail_second_move)

    def replace_model():
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "model.json").write_text("new")

    with pytest.raises(OSError, match="simulated"):
        replace_model()
    assert (target / "model.json").read_text() == "old, complete"
    assert list(tmp_path.glob(".model.*.tmp")) == []


def test_a_temporary_of_a_live_process_is_not_taken_for_stale(tmp_path):
    target = tmp_path / "model.json"
    stale = stale_temporary(target)
    alive = tmp_path / f".model.json.{HOST_TAG}.{os.getppid()}.abcdefgh.tmp"
    alive.mkdir()
    write_json({}, target)
    assert not stale.exists()
    assert alive.exists()


def test_leftovers_of_killed_writes_are_removed_by_the_next_training_run(tmp_path):
    data = write_cells(tmp_path / "cells.h5ad")
    out, checkpoints = tmp_path / "model", tmp_path / "checkpoint"
    stale_out = stale_temporary(out)
    stale_checkpoint = stale_temporary(checkpoints / CHECKPOINT_FILE)
    code, errors = run_cli(train_argv(data, out, checkpoints))
    assert (code, errors) == (0, [])
    assert not stale_out.exists()
    assert not stale_checkpoint.exists()
    assert list(tmp_path.glob(".*.tmp")) == []


# --------------------------------------------------------------------------------------------------
# a training run killed, and a second run started while it runs


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A training subprocess killed with SIGKILL after its first checkpoint, and what a second
    ``michigan`` run on the same output said while the first one was running."""
    tmp = tmp_path_factory.mktemp("killed")
    data = write_cells(tmp / "cells.h5ad")
    out, checkpoints = tmp / "model", tmp / "checkpoint"
    argv = train_argv(data, out, checkpoints, epochs=2000, checkpoint_every=10)
    process = start_cli(argv)
    try:
        wait_for(checkpoints / CHECKPOINT_FILE, process)
        second = run_cli(argv)
        assert process.poll() is None, "the first run ended before the second one was tried"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    return {"data": data, "out": out, "checkpoints": checkpoints, "argv": argv, "second": second}


@pytest.mark.slow
def test_a_second_run_on_the_same_output_is_refused_while_the_first_runs(killed_run):
    code, errors = killed_run["second"]
    assert code == 2
    line = single_line(errors)
    assert "already running" in line
    assert str(killed_run["checkpoints"] / ".lock") in line
    assert "process" in line


@pytest.mark.slow
def test_a_killed_run_leaves_no_model_and_resumes_to_the_uninterrupted_parameters(
    killed_run, tmp_path
):
    out, checkpoints = killed_run["out"], killed_run["checkpoints"]
    assert not (out / "model.json").exists()
    assert (checkpoints / CHECKPOINT_FILE).exists()
    code, errors = run_cli(killed_run["argv"])
    assert (code, errors) == (0, [])
    reference = tmp_path / "reference"
    argv = train_argv(
        killed_run["data"], reference, tmp_path / "ref-checkpoint", epochs=2000, checkpoint_every=10
    )
    assert run_cli(argv) == (0, [])
    resumed = (out / "variables.msgpack").read_bytes()
    assert resumed == (reference / "variables.msgpack").read_bytes()
    assert json.loads((out / "model.json").read_text())["epochs_done"] == 2000


def test_the_lock_names_its_holder(tmp_path):
    attempt = (
        "import sys\nfrom michigan.io import exclusive_lock\n"
        "with exclusive_lock(sys.argv[1], what='a test run'):\n    pass\n"
    )
    with exclusive_lock(tmp_path, what="a test run"):
        result = subprocess.run(
            [sys.executable, "-c", attempt, str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode != 0
    assert "BusyError: a test run is already running" in result.stderr
    assert f"process {os.getpid()}" in result.stderr


# --------------------------------------------------------------------------------------------------
# training that diverges or runs out of memory


def test_a_diverging_run_exits_2_naming_the_loss_and_the_learning_rate(tmp_path):
    data = write_cells(tmp_path / "cells.h5ad")
    out, checkpoints = tmp_path / "model", tmp_path / "checkpoint"
    code, errors = run_cli(train_argv(data, out, checkpoints, learning_rate=1000.0))
    assert code == 2
    line = single_line(errors)
    assert "became non-finite in training epoch 1" in line
    assert "Lower representation.learning_rate (now 1000)" in line
    assert "representation.beta" not in line
    assert "no checkpoint was written" in line
    assert not (checkpoints / CHECKPOINT_FILE).exists()
    assert not out.exists()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MemoryError("Unable to allocate 80.0 GiB"), "out of host memory"),
        (
            jax.errors.JaxRuntimeError(
                "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1099511627776 bytes.\n"
                "BufferAssignment OOM Debugging.\n" + "x" * 100_000
            ),
            "out of device memory (RESOURCE_EXHAUSTED: Out of memory while trying to allocate",
        ),
        (jax.errors.JaxRuntimeError("INTERNAL: something failed"), "the JAX runtime failed"),
    ],
    ids=["MemoryError", "RESOURCE_EXHAUSTED", "XlaRuntimeError"],
)
def test_memory_and_runtime_errors_exit_2_with_one_short_line(
    tmp_path, monkeypatch, error, expected
):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("michigan.api.representation.train_representation", fail)
    data = write_cells(tmp_path / "cells.h5ad")
    code, errors = run_cli(train_argv(data, tmp_path / "model", tmp_path / "checkpoint"))
    assert code == 2
    line = single_line(errors)
    assert expected in line
    assert len(line) < 600
    assert not (tmp_path / "model").exists()


def test_a_bug_is_not_disguised_as_bad_input(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr("michigan.api.representation.train_representation", fail)
    data = write_cells(tmp_path / "cells.h5ad")
    with pytest.raises(RuntimeError, match="a bug"):
        run_cli(train_argv(data, tmp_path / "model", tmp_path / "checkpoint"))
