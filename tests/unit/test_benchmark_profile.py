"""``benchmarks/profile_epoch.py``: exclusive times of nested trace events, operation kinds, one real trace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def profile_epoch():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import profile_epoch

        yield profile_epoch
    finally:
        sys.path.remove(str(REPO / "benchmarks"))


def event(name, ts, dur, tid=1):
    return {"name": name, "ts": ts, "dur": dur, "pid": 1, "tid": tid, "ph": "X"}


def test_a_loop_keeps_only_the_time_outside_its_body(profile_epoch):
    events = [
        event("while.1", 0, 100),
        event("dot.2", 10, 30),
        event("fusion.3", 50, 20),
        event("copy.4", 75, 5),
        event("dot.2", 200, 10),  # after the loop
        event("fusion.3", 0, 40, tid=2),  # another thread: nothing to subtract
    ]
    totals = profile_epoch.exclusive_times(events)
    assert totals == {"while.1": 45, "dot.2": 40, "fusion.3": 60, "copy.4": 5}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ynn_fusion.36", "matrix products"),
        ("dot.74", "matrix products"),
        ("multiply_add_fusion.46", "elementwise"),
        ("loop_fusion.2", "elementwise"),
        ("copy.3", "copies"),
        ("transpose.1", "copies"),
        ("while.5", "control"),
        ("conditional", "control"),
        ("reduce.7", "other"),
    ],
)
def test_operations_are_grouped_by_kind(profile_epoch, name, kind):
    assert profile_epoch.operation_kind(name) == kind


@pytest.mark.slow
def test_a_traced_epoch_accounts_its_operations_by_kind(profile_epoch):
    result = profile_epoch.profile("btcvae", profile_epoch.Shape("tiny", 256, 64), epochs=1)
    kinds = result["kinds_ms"]
    assert set(kinds) == set(profile_epoch.KINDS)
    assert kinds["matrix products"] > 0
    assert sum(kinds.values()) == pytest.approx(result["traced_ms"])
    assert sum(result["operations_ms"].values()) == pytest.approx(result["traced_ms"])
    assert "matrix products" in profile_epoch.report(result, top=3)
