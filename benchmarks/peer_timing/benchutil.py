"""Timing helpers with the interface the PyTorch peer (``bench_torch.py``) imports, without its guard.

The team's reference ``benchutil`` waits for other processes to leave the machine before and between
timed repeats; on a machine shared with other jobs that can block for a long time. ``train_speed.py
--peer`` puts this module first on the peer's path (unless ``--peer-guard``) so that the peer is timed
under the same conditions as the JAX run beside it: warm-up calls, a call count calibrated to last about
``min_time``, then ``repeats`` timed repeats, per-call seconds reported.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path


def env_info() -> dict:
    """The environment facts the peer records with its result."""
    return {"loadavg": os.getloadavg(), "cpu_count": os.cpu_count(), "guard": "none"}


def time_fn(fn, min_time=0.4, repeats=7, warmup=3, sync=None, quiet=True):
    """Per-call seconds of ``fn()`` over ``repeats`` repeats of a calibrated number of calls."""

    def call():
        result = fn()
        if sync is not None:
            sync(result)

    for _ in range(warmup):
        call()
    start = time.perf_counter()
    call()
    once = time.perf_counter() - start
    calls = max(1, round(min_time / max(once, 1e-9)))
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        values.append((time.perf_counter() - start) / calls)
    median = statistics.median(values)
    return {
        "median": median,
        "median_clean": median,
        "min": min(values),
        "max": max(values),
        "n_clean": len(values),
        "repeats": len(values),
        "k": calls,
        "all": values,
    }


def dump(obj, path):
    """Write ``obj`` as JSON."""
    with Path(path).open("w") as handle:
        json.dump(obj, handle, indent=1, default=str)
