"""Fill ``<dest>.part`` with a remote file, resuming only when the server proves it is the same file.

The first answer's validator (a strong ``ETag``, else ``Last-Modified``) and total size are stored
beside the ``.part`` file in ``<dest>.part.json``. A resume asks for the missing bytes with
``Range`` and ``If-Range: <validator>``; a server whose file changed answers ``200`` with the whole
new file, and the download starts again from zero. A ``206`` answer is appended only if its
``Content-Range``, total size and validator continue the ``.part`` file, so bytes of two versions
of a file are never spliced. A ``.part`` file without a stored validator is discarded.

Sizes are checked as they arrive: the server's size must equal the expected one (package table or
publisher), and a download without any known size is refused, since a cut connection could not be
told from the end of the file.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from michigan.data._http import DownloadError, RetryPolicy, TransientError, open_url, retrying
from michigan.data._reporting import ThrottledProgress
from michigan.data.content import SizeMismatchError, check_size
from michigan.progress import Progress

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)")


@dataclass(frozen=True)
class _PartState:
    """What the server said about the file whose first bytes are in the ``.part`` file."""

    url: str
    size: int
    etag: str | None
    last_modified: str | None

    @property
    def validator(self) -> str | None:
        """The value sent as ``If-Range`` (``None``: the download cannot be resumed)."""
        return self.etag or self.last_modified

    def same_file(self, headers: http.client.HTTPMessage) -> bool:
        """Whether an answer's ETag (or, without one, Last-Modified) equals the stored one."""
        if self.etag is not None:
            return headers.get("ETag") == self.etag
        return headers.get("Last-Modified") == self.last_modified


def state_path(part: Path) -> Path:
    """Where the validator of ``part`` is stored (``<dest>.part.json``)."""
    return part.with_name(part.name + ".json")


def discard_part(part: Path) -> None:
    """Delete a ``.part`` file and its stored validator."""
    part.unlink(missing_ok=True)
    state_path(part).unlink(missing_ok=True)


def download_to_part(
    url: str,
    part: Path,
    *,
    expected_size: int | None,
    size_source: str,
    policy: RetryPolicy,
    chunk_size: int,
    progress_interval_s: float,
    hint: str,
) -> None:
    """Make ``part`` hold every byte of ``url``, retrying and resuming after transient failures.

    Parameters
    ----------
    url
        What to download.
    part
        The partial file, created or resumed.
    expected_size
        Size the file must have, or ``None`` if only the server can say.
    size_source
        Where ``expected_size`` comes from, for messages.
    policy
        Retries, timeout and back-off.
    chunk_size
        Bytes read from the socket at a time.
    progress_interval_s
        Seconds between progress lines (MiB done and total, rate, ETA).
    hint
        What the user can do instead, appended to final errors.

    Raises
    ------
    DownloadError
        After all retries, or at once for a refusal (e.g. HTTP 404) or an unknown size.
    SizeMismatchError
        If the server's size differs from ``expected_size``, or it sends more bytes than it said.
    """

    def attempt() -> None:
        _download_once(
            url,
            part,
            expected_size=expected_size,
            size_source=size_source,
            timeout_s=policy.timeout_s,
            chunk_size=chunk_size,
            progress_interval_s=progress_interval_s,
            hint=hint,
        )

    retrying(
        attempt,
        policy=policy,
        what=f"download of {url}",
        hint=f"the next run resumes from {part} where the server allows it; or {hint}",
    )


def _load_state(part: Path, url: str) -> _PartState | None:
    """The stored state of a resumable ``part``; discard a ``part`` that cannot be resumed."""
    if not part.exists():
        state_path(part).unlink(missing_ok=True)
        return None
    state = _read_state(state_path(part))
    have = part.stat().st_size
    if state is None or state.url != url or state.validator is None or have > state.size:
        logger.warning(
            "discarding %s (%d bytes): no stored ETag or Last-Modified proves that it belongs to "
            "the file now at %s; downloading from byte 0",
            part,
            have,
            url,
        )
        discard_part(part)
        return None
    return state


def _read_state(path: Path) -> _PartState | None:
    """The state stored in ``path``, or ``None`` if it is missing or unreadable."""
    try:
        return _PartState(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write_state(part: Path, state: _PartState) -> None:
    """Store ``state`` beside ``part`` atomically."""
    path = state_path(part)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(state)), encoding="utf-8")
    tmp.replace(path)


def _download_once(
    url: str,
    part: Path,
    *,
    expected_size: int | None,
    size_source: str,
    timeout_s: float,
    chunk_size: int,
    progress_interval_s: float,
    hint: str,
) -> None:
    """One request: resume ``part`` if its validator allows, else download from byte 0."""
    state = _load_state(part, url)
    have = part.stat().st_size if state is not None else 0
    if state is not None and have == state.size:
        logger.info("%s already holds all %d bytes of %s", part, have, url)
        return
    headers = {}
    if state is not None and have:
        headers = {"Range": f"bytes={have}-", "If-Range": state.validator or ""}
        logger.info("resuming %s at byte %d of %d", url, have, state.size)
    try:
        response = open_url(url, headers=headers, timeout_s=timeout_s, hint=hint)
    except urllib.error.HTTPError as exc:  # 416: the file is shorter than what we hold
        discard_part(part)
        msg = f"HTTP {exc.code} for a resume at byte {have}; starting again from byte 0"
        raise TransientError(msg) from exc
    with response:
        if response.status == 206:
            offset, total = _check_continuation(response, part, state, have)
        else:
            offset, total = (
                0,
                _start_over(
                    response,
                    part,
                    url,
                    have=have,
                    expected_size=expected_size,
                    size_source=size_source,
                ),
            )
        _stream_body(
            response,
            part,
            url=url,
            offset=offset,
            total=total,
            chunk_size=chunk_size,
            progress_interval_s=progress_interval_s,
        )


def _check_continuation(
    response: http.client.HTTPResponse, part: Path, state: _PartState | None, have: int
) -> tuple[int, int]:
    """Offset and total of a 206 answer that continues ``part``; anything else starts over."""
    content_range = response.headers.get("Content-Range", "")
    match = _CONTENT_RANGE.fullmatch(content_range.strip())
    if (
        state is None
        or match is None
        or int(match.group(1)) != have
        or int(match.group(3)) != state.size
        or not state.same_file(response.headers)
    ):
        discard_part(part)
        msg = (
            f"the partial answer (Content-Range {content_range!r}, ETag "
            f"{response.headers.get('ETag')!r}) does not continue {part}; starting again from "
            "byte 0"
        )
        raise TransientError(msg)
    return have, state.size


def _start_over(
    response: http.client.HTTPResponse,
    part: Path,
    url: str,
    *,
    have: int,
    expected_size: int | None,
    size_source: str,
) -> int:
    """Check the size of a whole-file answer, store its validator, and return its size."""
    if have:
        logger.warning(
            "%s sent the whole file instead of the missing bytes (it changed, or the server "
            "ignores ranges); downloading again from byte 0",
            url,
        )
    length = response.headers.get("Content-Length")
    total = int(length) if length is not None and length.isdigit() else None
    if total is None and expected_size is None:
        discard_part(part)
        msg = (
            f"{url} sent no Content-Length and no size is known for it, so a cut download "
            "could not be told from a complete one; fetch it by hand"
        )
        raise DownloadError(msg)
    if total is not None:
        try:
            check_size(total, expected_size, what=f"{url}", source=size_source)
        except SizeMismatchError:
            discard_part(part)
            raise
    size = total if total is not None else expected_size
    etag = response.headers.get("ETag")
    state = _PartState(
        url=url,
        size=size,
        etag=etag if etag and not etag.startswith("W/") else None,
        last_modified=response.headers.get("Last-Modified"),
    )
    if state.validator is None:
        state_path(part).unlink(missing_ok=True)
        logger.warning(
            "%s sends no strong ETag and no Last-Modified; an interrupted download of it will "
            "start again from byte 0",
            url,
        )
    else:
        _write_state(part, state)
    logger.info("downloading %s (%d bytes) to %s", url, size, part)
    return size


def _stream_body(
    response: http.client.HTTPResponse,
    part: Path,
    *,
    url: str,
    offset: int,
    total: int,
    chunk_size: int,
    progress_interval_s: float,
) -> None:
    """Write the body into ``part`` from ``offset`` (dropping anything after it); check its size."""
    progress = ThrottledProgress(
        Progress(
            total / 2**20,
            desc=f"download {part.name.removesuffix('.part')} (MiB)",
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
            while (block := response.read(chunk_size)) and done + len(block) <= total:
                handle.write(block)
                done += len(block)
                progress.update(done / 2**20)
    except (http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        msg = f"connection lost after {done} of {total} bytes: {exc}"
        raise TransientError(msg) from exc
    if block:
        discard_part(part)
        msg = f"{url} sent more than the {total:,} bytes it should have"
        raise SizeMismatchError(msg)
    progress.finish(done / 2**20)
    if done != total:
        msg = f"body ended after {done} of {total} bytes"
        raise TransientError(msg)
