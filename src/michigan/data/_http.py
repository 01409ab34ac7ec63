"""HTTP requests with retries: which failures are worth another try, and how long to wait."""

from __future__ import annotations

import http.client
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

USER_AGENT = "michigan-data/0.1 (reproducibility pipeline; python urllib)"
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})

T = TypeVar("T")


class DownloadError(OSError):
    """A file could not be downloaded; the message names the URL and says what to do instead."""


class TransientError(Exception):
    """A failure worth retrying (connection dropped, short body, HTTP 5xx)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a download tries before giving up.

    Attributes
    ----------
    retries
        Further attempts after the first failed one (each resumes where the last stopped).
    timeout_s
        Socket timeout of one request, in seconds.
    backoff_s
        Wait before the first retry; doubled at each further retry.
    max_backoff_s
        Upper bound of the wait between two attempts.
    """

    retries: int = 5
    timeout_s: float = 60.0
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0

    def __post_init__(self) -> None:
        """Reject negative counts and non-positive timeouts."""
        if self.retries < 0 or self.timeout_s <= 0 or self.backoff_s < 0 or self.max_backoff_s < 0:
            msg = (
                f"invalid RetryPolicy {self}: retries, backoff_s and max_backoff_s must be >= 0 "
                "and timeout_s > 0"
            )
            raise ValueError(msg)

    def wait_s(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


def retrying(attempt: Callable[[], T], *, policy: RetryPolicy, what: str, hint: str) -> T:
    """Call ``attempt`` until it returns, retrying :class:`TransientError` with back-off.

    Parameters
    ----------
    attempt
        One try; raises :class:`TransientError` when another try may succeed.
    policy
        Number of retries and waits.
    what
        The operation, for messages, e.g. ``"download of https://…"``.
    hint
        What the user can do instead, appended to the final error.

    Raises
    ------
    DownloadError
        After ``policy.retries`` retries have failed too.
    """
    failures = 0
    while True:
        try:
            return attempt()
        except TransientError as exc:
            failures += 1
            if failures > policy.retries:
                msg = f"{what} failed {failures} times (last: {exc}); {hint}"
                raise DownloadError(msg) from exc
            wait = policy.wait_s(failures)
            logger.warning(
                "%s interrupted (%s); retry %d/%d in %.1f s",
                what,
                exc,
                failures,
                policy.retries,
                wait,
            )
            time.sleep(wait)


def open_url(
    url: str, *, headers: Mapping[str, str], timeout_s: float, hint: str
) -> http.client.HTTPResponse:
    """Send a GET request; a failure worth retrying becomes :class:`TransientError`.

    ``hint`` (what the user can do instead) ends the message of a refusal.

    Raises
    ------
    urllib.error.HTTPError
        For HTTP 416, which the caller interprets.
    DownloadError
        For any other HTTP error that a retry cannot fix (e.g. 404), naming the URL.
    TransientError
        For 5xx, 408, 429, timeouts and network errors.
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:
            raise
        if exc.code in _TRANSIENT_HTTP:
            msg = f"HTTP {exc.code} {exc.reason}"
            raise TransientError(msg) from exc
        msg = f"{url} refused: HTTP {exc.code} {exc.reason}; {hint}"
        raise DownloadError(msg) from exc
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise TransientError(str(exc)) from exc
