"""Download raw files over HTTP(S): retries, resume with ``Range``, progress, atomic completion.

A download writes to ``<dest>.part``. After a dropped connection or a timeout it waits and asks the
server for the remaining bytes (``Range: bytes=<have>-``); a server that ignores ``Range`` (status 200)
makes it start again from zero. When all bytes are there, the ``.part`` file is verified
(:func:`michigan.data.checksums.verify_file`) and only then renamed to ``dest``, so ``dest`` never
holds a partial or unverified file.
"""

from __future__ import annotations

import http.client
import logging
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

from michigan.data._reporting import ThrottledProgress
from michigan.data.checksums import ChecksumMismatchError, record_path, verify_file
from michigan.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from michigan.data.sources import RemoteFile

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
_USER_AGENT = "michigan-data/0.1 (reproducibility pipeline; python urllib)"
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


class DownloadError(OSError):
    """A file could not be downloaded; the message says what to fetch by hand and where to put it."""


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


class _TransientError(Exception):
    """A failure worth retrying (connection dropped, short body, 5xx)."""


def manual_fetch_hint(remote: RemoteFile, dest: Path) -> str:
    """One sentence telling a user without network what to fetch, from where, and where to put it."""
    return (
        f"fetch {remote.url} by hand and save it as {dest} (or point the dataset's path in the "
        f"config at an existing copy of {remote.name})"
    )


def fetch(
    remote: RemoteFile,
    dest: Path,
    *,
    offline: bool = False,
    policy: RetryPolicy | None = None,
    chunk_size: int = 1 << 20,
    progress_interval_s: float = 10.0,
) -> Path:
    """Make ``dest`` a verified copy of ``remote``, downloading it only if it is not there yet.

    An existing ``dest`` (already downloaded, or placed there by the user) is only verified. A
    missing one is downloaded to ``<dest>.part`` with retries and resume, verified, then renamed.

    Parameters
    ----------
    remote
        What to fetch (URL, known size and digest).
    dest
        Final path of the file; its directory is created if needed.
    offline
        Never touch the network: a missing ``dest`` is an error.
    policy
        Retry, timeout and back-off settings (default :class:`RetryPolicy()`).
    chunk_size
        Bytes read from the socket at a time.
    progress_interval_s
        Seconds between progress lines (MiB done, rate, ETA).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    FileNotFoundError
        If ``offline`` and ``dest`` is missing; the message says what to fetch and where to put it.
    DownloadError
        If the download failed after all retries, or the server refused it (e.g. HTTP 404).
    ChecksumMismatchError
        If the file's digest differs from a trusted or recorded one; the ``.part`` file is deleted.
    """
    policy = policy or RetryPolicy()
    if dest.is_file():
        logger.info("%s is present; verifying it", dest)
        verify_file(
            dest, expected_sha256=remote.sha256, trusted=remote.sha256_trusted, name=remote.name
        )
        return dest
    if offline:
        msg = (
            f"{dest} is missing and downloads are off (offline); {manual_fetch_hint(remote, dest)}"
        )
        raise FileNotFoundError(msg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + PART_SUFFIX)
    _download_with_retries(
        remote.url,
        part,
        expected_size=remote.size,
        policy=policy,
        chunk_size=chunk_size,
        progress_interval_s=progress_interval_s,
        hint=manual_fetch_hint(remote, dest),
    )
    try:
        verify_file(
            part,
            expected_sha256=remote.sha256,
            trusted=remote.sha256_trusted,
            name=remote.name,
            record=record_path(dest),
        )
    except ChecksumMismatchError:
        part.unlink()
        logger.error("deleted %s after the checksum mismatch", part)
        raise
    part.replace(dest)
    logger.info("downloaded %s (%d bytes) to %s", remote.name, dest.stat().st_size, dest)
    return dest


def fetch_dataset(
    files: Mapping[str, RemoteFile],
    directory: Path,
    *,
    local_paths: Mapping[str, Path] | None = None,
    offline: bool = False,
    policy: RetryPolicy | None = None,
) -> dict[str, Path]:
    """Fetch or verify every file of a dataset; return the path of each role.

    Parameters
    ----------
    files
        The dataset's files by role, e.g. :data:`michigan.data.sources.SCIPLEX3`.
    directory
        Where downloads go (``<directory>/<file name>``), e.g. ``resources/sciplex3``.
    local_paths
        Roles the user already holds elsewhere: these files are only verified where they are and
        never downloaded (a missing one is an error).
    offline
        Download nothing; every file must already be in ``directory`` or in ``local_paths``.
    policy
        Retry settings for the downloads.

    Returns
    -------
    dict
        Role → verified path.

    Raises
    ------
    KeyError
        If ``local_paths`` names a role the dataset does not have.
    FileNotFoundError, DownloadError, ChecksumMismatchError
        As :func:`fetch`; the first failing file stops the loop.
    """
    local_paths = dict(local_paths or {})
    unknown = sorted(set(local_paths) - set(files))
    if unknown:
        msg = f"local paths given for unknown roles {unknown}; the dataset's roles are {sorted(files)}"
        raise KeyError(msg)
    paths = {}
    for role, remote in files.items():
        if role in local_paths:
            paths[role] = fetch(remote, local_paths[role], offline=True)
        else:
            paths[role] = fetch(remote, directory / remote.name, offline=offline, policy=policy)
    return paths


def _download_with_retries(
    url: str,
    part: Path,
    *,
    expected_size: int | None,
    policy: RetryPolicy,
    chunk_size: int,
    progress_interval_s: float,
    hint: str,
) -> None:
    """Fill ``part`` with the whole body of ``url``, resuming after transient failures."""
    failures = 0
    while True:
        try:
            _download_once(
                url,
                part,
                expected_size=expected_size,
                timeout_s=policy.timeout_s,
                chunk_size=chunk_size,
                progress_interval_s=progress_interval_s,
            )
        except _TransientError as exc:
            failures += 1
            if failures > policy.retries:
                msg = f"download of {url} failed {failures} times (last: {exc}); {hint}"
                raise DownloadError(msg) from exc
            wait = policy.wait_s(failures)
            logger.warning(
                "download of %s interrupted (%s); retry %d/%d in %.1f s, resuming at byte %d",
                url,
                exc,
                failures,
                policy.retries,
                wait,
                part.stat().st_size if part.exists() else 0,
            )
            time.sleep(wait)
        else:
            return


def _download_once(
    url: str,
    part: Path,
    *,
    expected_size: int | None,
    timeout_s: float,
    chunk_size: int,
    progress_interval_s: float,
) -> None:
    """One request: resume ``part`` from its current size, or restart it if the server insists."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have and _is_complete_416(exc, have):
            logger.info("%s already holds all %d bytes of %s", part, have, url)
            return
        if exc.code == 416:
            part.unlink(missing_ok=True)
            msg = f"HTTP 416 for a resume at byte {have}; restarting from zero"
            raise _TransientError(msg) from exc
        if exc.code in _TRANSIENT_HTTP:
            msg = f"HTTP {exc.code} {exc.reason}"
            raise _TransientError(msg) from exc
        msg = f"download of {url} refused: HTTP {exc.code} {exc.reason}"
        raise DownloadError(msg) from exc
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise _TransientError(str(exc)) from exc
    with response:
        offset = _resume_offset(response, have, url)
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else expected_size
        if expected_size is not None and total is not None and total != expected_size:
            logger.warning(
                "%s has %d bytes but the package table lists %d", url, total, expected_size
            )
        _stream_body(
            response,
            part,
            offset=offset,
            total=total,
            chunk_size=chunk_size,
            progress_interval_s=progress_interval_s,
        )


def _is_complete_416(exc: urllib.error.HTTPError, have: int) -> bool:
    """Whether a 416 answer says the resource has exactly ``have`` bytes (nothing left to fetch)."""
    match = _UNSATISFIED_RANGE.search(exc.headers.get("Content-Range", "") if exc.headers else "")
    return match is not None and int(match.group(1)) == have


def _resume_offset(response: http.client.HTTPResponse, have: int, url: str) -> int:
    """Byte offset the response body starts at: ``have`` for a matching 206, else 0."""
    if response.status == 206:
        match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
        if match is not None and int(match.group(1)) == have:
            return have
        msg = (
            f"server sent Content-Range {response.headers.get('Content-Range')!r}, not from {have}"
        )
        raise _TransientError(msg)
    if have:
        logger.warning("%s ignored the Range request; downloading again from byte 0", url)
    return 0


def _stream_body(
    response: http.client.HTTPResponse,
    part: Path,
    *,
    offset: int,
    total: int | None,
    chunk_size: int,
    progress_interval_s: float,
) -> None:
    """Append the body to ``part`` (truncated to ``offset`` first) and check its length."""
    progress = ThrottledProgress(
        Progress(
            (total if total is not None else float("nan")) / 2**20,
            desc=f"download {part.name} (MiB)",
            unit="MiB",
            logger=logger,
            start=offset / 2**20,
        ),
        interval_s=progress_interval_s,
    )
    done = offset
    mode = "r+b" if offset else "wb"
    try:
        with part.open(mode) as handle:
            handle.truncate(offset)
            handle.seek(offset)
            while block := response.read(chunk_size):
                handle.write(block)
                done += len(block)
                progress.update(done / 2**20)
    except (http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        msg = f"connection lost after {done} bytes: {exc}"
        raise _TransientError(msg) from exc
    progress.finish(done / 2**20)
    if total is not None and done != total:
        msg = f"body ended after {done} of {total} bytes"
        raise _TransientError(msg)
