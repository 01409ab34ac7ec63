"""Local jobs claim cores of their own (michigan.cores), and give them back when they exit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from michigan.cores import claim_cores, pin_from_environment

ALLOWED = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
pytestmark = pytest.mark.skipif(len(ALLOWED) < 2, reason="needs at least 2 allowed cores")

CLAIM = (
    "import os, sys; from pathlib import Path; from michigan.cores import claim_cores; "
    "print(claim_cores(int(sys.argv[2]), Path(sys.argv[1])), sorted(os.sched_getaffinity(0)), "
    "flush=True); sys.stdin.read()"
)


def _claim_in_child(slots, threads=1):
    """A child process that claims cores and holds them until its stdin closes."""
    child = subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(slots), str(threads)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    claimed, affinity = child.stdout.readline().strip().split(" [")
    return child, claimed, "[" + affinity


def _release(child):
    child.stdin.close()
    child.wait(timeout=30)


def test_concurrent_jobs_get_disjoint_cores_and_pin_to_them(tmp_path):
    first, claimed_first, affinity_first = _claim_in_child(tmp_path)
    second, claimed_second, affinity_second = _claim_in_child(tmp_path)
    try:
        assert claimed_first == affinity_first == f"[{ALLOWED[0]}]"
        assert claimed_second == affinity_second == f"[{ALLOWED[1]}]"
    finally:
        _release(first)
        _release(second)


def test_a_core_is_free_again_when_its_job_exits(tmp_path):
    first, claimed, _ = _claim_in_child(tmp_path)
    _release(first)
    again, claimed_again, _ = _claim_in_child(tmp_path)
    _release(again)
    assert claimed_again == claimed


def test_a_job_runs_unpinned_when_no_core_is_free(tmp_path):
    children = [_claim_in_child(tmp_path)[0] for _ in ALLOWED]
    try:
        late, claimed, affinity = _claim_in_child(tmp_path)
        _release(late)
    finally:
        for child in children:
            _release(child)
    assert claimed == "None"
    assert affinity == str(ALLOWED)


def test_a_job_that_asks_for_every_core_is_not_pinned(tmp_path):
    assert claim_cores(len(ALLOWED), tmp_path) is None
    assert not list(tmp_path.iterdir())


def test_nothing_is_pinned_outside_the_workflow(monkeypatch):
    monkeypatch.delenv("MICHIGAN_CORE_SLOTS", raising=False)
    assert pin_from_environment() is None


def test_a_folder_that_cannot_hold_locks_leaves_the_job_unpinned(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MICHIGAN_CORE_SLOTS", str(blocker))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert pin_from_environment() is None
    assert sorted(os.sched_getaffinity(0)) == ALLOWED
