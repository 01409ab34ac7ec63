"""Logging set-up and progress reporting with rates and ETA."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int | str = logging.INFO) -> None:
    """Send the package's log records to stderr (a rule redirects stderr to its log file)."""
    root = logging.getLogger()
    if not any(getattr(h, "_michigan", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
        handler._michigan = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # JAX and absl are chatty at INFO about backends; keep them at WARNING.
    for noisy in ("jax", "absl", "numba", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def format_duration(seconds: float) -> str:
    """Format seconds as ``H:MM:SS`` (or ``M:SS`` under an hour)."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Log ``done/total``, the rate and the ETA of a long step.

    Parameters
    ----------
    total
        Number of units (epochs, chunks, bytes, cells) the step will process.
    desc
        What is being done, e.g. ``"btcvae epoch"``.
    unit
        Name of the unit the rate is given in, e.g. ``"cells"``.
    logger
        Where the lines go.
    start
        Units already done before this reporter was created (a resumed run).
    """

    def __init__(
        self,
        total: float,
        *,
        desc: str,
        unit: str,
        logger: logging.Logger,
        start: float = 0,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.logger = logger
        self.start = start
        self.done = start
        self._t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the reporter was created."""
        return time.perf_counter() - self._t0

    def rate(self) -> float:
        """Units per second since the reporter was created."""
        elapsed = self.elapsed
        return (self.done - self.start) / elapsed if elapsed > 0 else float("nan")

    def update(
        self,
        done: float,
        *,
        rate_units: float | None = None,
        metrics: Mapping[str, float] | None = None,
    ) -> None:
        """Record that ``done`` units are finished and log one progress line.

        ``rate_units`` (default: units done so far) lets the rate be given in another unit than
        the progress, e.g. progress in epochs, rate in cells.
        """
        self.done = done
        elapsed = self.elapsed
        progressed = done - self.start
        eta = elapsed / progressed * (self.total - done) if progressed > 0 else float("nan")
        rate_amount = progressed if rate_units is None else rate_units
        rate = rate_amount / elapsed if elapsed > 0 else float("nan")
        pct = 100.0 * done / self.total if self.total else 100.0
        parts = [
            f"{self.desc} {_fmt_count(done)}/{_fmt_count(self.total)} ({pct:.0f}%)",
            f"{rate:,.1f} {self.unit}/s",
            f"elapsed {format_duration(elapsed)}",
            f"ETA {format_duration(eta) if eta == eta else '?'}",
        ]
        if metrics:
            parts.append(" ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        self.logger.info(" | ".join(parts))


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
