"""Throttled progress lines and the process's peak memory, for the long data steps."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from michigan.progress import Progress


class ThrottledProgress:
    """Forward updates to a :class:`~michigan.progress.Progress` at most once per ``interval_s``.

    Parameters
    ----------
    progress
        The reporter that formats and logs the line.
    interval_s
        Minimum number of seconds between two logged lines; :meth:`finish` always logs.
    """

    def __init__(self, progress: Progress, *, interval_s: float) -> None:
        self.progress = progress
        self.interval_s = interval_s
        self._last = time.monotonic()

    def update(self, done: float) -> None:
        """Log ``done`` if at least ``interval_s`` passed since the last line."""
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self.progress.update(done)

    def finish(self, done: float) -> None:
        """Log the final line unconditionally."""
        self._last = time.monotonic()
        self.progress.update(done)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process image only
    (``getrusage``'s ``ru_maxrss`` also counts the parent's memory at ``fork``). Elsewhere:
    ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 2**10
    return peak * scale
