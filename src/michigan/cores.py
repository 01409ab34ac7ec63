"""Pin a local pipeline job to CPU cores of its own, so that concurrent jobs do not share cores.

XLA and Eigen size their thread pools by the cores a process may run on, so two training jobs that
each see every core oversubscribe them: on 2 cores, two concurrent quick-preset WGAN-GP epochs took
1.8-1.9 s each, against 1.1-1.3 s when each was pinned to a core of its own (docs/models.md §5.0a).

A job claims ``threads`` cores by taking an exclusive ``flock`` on one file per core in a folder
shared by the local runs' jobs; the locks are released by the operating system when the process ends,
however it ends. Snakemake never runs more threads at once than it has cores, so a local job always
finds enough free cores; if it does not (another run's jobs hold them), it runs unpinned. The workflow
names the folder (``MICHIGAN_CORE_SLOTS``, by default ``/tmp/michigan-core-slots-<uid>``: one per user
and machine, so that concurrent runs share the cores rather than all starting on the first) only for
local runs: cluster jobs get their cores from the scheduler.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

#: folder of the per-core lock files, shared by the jobs of a user's local runs
SLOTS_VARIABLE = "MICHIGAN_CORE_SLOTS"
#: the job's thread count (Snakemake sets it to the rule's ``threads`` for every shell command)
THREADS_VARIABLE = "OMP_NUM_THREADS"

_held: list[IO[str]] = []


def claim_cores(threads: int, slots: Path) -> list[int] | None:
    """Pin this process to ``threads`` free cores; return them, or ``None`` when it stays unpinned.

    A core is free when no other process holds the lock file ``slots/cpu<N>.lock``. The locks are
    held until the process exits. Nothing is pinned when ``threads`` covers every allowed core.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return None
    slots.mkdir(parents=True, exist_ok=True)
    claimed: list[tuple[int, IO[str]]] = []
    for cpu in allowed:
        handle = (slots / f"cpu{cpu}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        claimed.append((cpu, handle))
        if len(claimed) == threads:
            break
    if len(claimed) < threads:
        for _, handle in claimed:
            handle.close()
        return None
    cpus = [cpu for cpu, _ in claimed]
    os.sched_setaffinity(0, cpus)
    _held.extend(handle for _, handle in claimed)
    return cpus


def pin_from_environment() -> list[int] | None:
    """Claim cores as the workflow asks through ``MICHIGAN_CORE_SLOTS`` and ``OMP_NUM_THREADS``.

    Call before JAX creates its CPU client (its first computation). Does nothing when either
    variable is unset or the platform cannot pin (no ``sched_setaffinity``).
    """
    slots = os.environ.get(SLOTS_VARIABLE)
    threads = os.environ.get(THREADS_VARIABLE, "")
    if not slots or not threads.isdigit() or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        cpus = claim_cores(max(1, int(threads)), Path(slots))
    except OSError as error:
        logger.warning("running on all allowed cores (cannot claim cores in %s: %s)", slots, error)
        return None
    if cpus is None:
        logger.info("running on all allowed cores (none free to pin %s thread(s) to)", threads)
    else:
        logger.info("pinned to core(s) %s", ", ".join(map(str, cpus)))
    return cpus
