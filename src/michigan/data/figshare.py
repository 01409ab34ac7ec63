"""The size and MD5 digest figshare publishes for each file of an article (public API v2).

``GET {api}/articles/<article id>/files`` lists the article's files as JSON objects with ``id``,
``name``, ``size`` and ``computed_md5`` (the MD5 figshare computed on upload). A download from
figshare is checked against both.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from michigan.data._http import DownloadError, RetryPolicy, TransientError, open_url, retrying

if TYPE_CHECKING:
    from michigan.data.sources import FigshareFile

logger = logging.getLogger(__name__)

_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class PublishedFile:
    """What the publisher states about a file.

    Attributes
    ----------
    size
        Size in bytes.
    md5
        Lower-case hex MD5 digest.
    source
        Where the two values were read (a URL), for messages.
    """

    size: int
    md5: str
    source: str


def published_file(ref: FigshareFile, *, policy: RetryPolicy, hint: str) -> PublishedFile:
    """Ask the figshare API for the size and MD5 of ``ref``.

    Parameters
    ----------
    ref
        The article and file.
    policy
        Retries and timeout of the API request.
    hint
        What the user can do instead, appended to error messages.

    Raises
    ------
    DownloadError
        If the API cannot be reached after all retries, answers something that is not a file
        list, or does not list ``ref.file_id``.
    """
    url = ref.listing_url

    def attempt() -> bytes:
        response = open_url(
            url, headers={"Accept": "application/json"}, timeout_s=policy.timeout_s, hint=hint
        )
        with response:
            try:
                return response.read()
            except (http.client.HTTPException, TimeoutError, ConnectionError) as exc:
                raise TransientError(str(exc)) from exc

    body = retrying(attempt, policy=policy, what=f"figshare file list {url}", hint=hint)
    entry = _find_file(_parse_listing(body, url), ref, url, hint)
    md5 = str(entry.get("computed_md5", "")).lower()
    size = entry.get("size")
    if not _MD5.fullmatch(md5) or not isinstance(size, int) or size <= 0:
        msg = (
            f"figshare lists file {ref.file_id} in {url} without a usable size and MD5 "
            f"(size={size!r}, computed_md5={md5!r}); {hint}"
        )
        raise DownloadError(msg)
    logger.info("figshare publishes %d bytes and MD5 %s for file %d", size, md5, ref.file_id)
    return PublishedFile(size=size, md5=md5, source=url)


def _parse_listing(body: bytes, url: str) -> list[dict[str, object]]:
    """The list of file objects in an API answer."""
    try:
        listing = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"figshare API answered {url} with something that is not JSON: {body[:80]!r}"
        raise DownloadError(msg) from exc
    if not isinstance(listing, list) or not all(isinstance(item, dict) for item in listing):
        msg = f"figshare API answered {url} with JSON that is not a list of files: {body[:80]!r}"
        raise DownloadError(msg)
    return listing


def _find_file(
    listing: list[dict[str, object]], ref: FigshareFile, url: str, hint: str
) -> dict[str, object]:
    """The entry of ``ref.file_id`` in ``listing``."""
    for entry in listing:
        if entry.get("id") == ref.file_id:
            return entry
    listed = ", ".join(f"{entry.get('id')} ({entry.get('name')})" for entry in listing)
    msg = (
        f"figshare article {ref.article_id} lists no file {ref.file_id} at {url} (it lists: "
        f"{listed or 'nothing'}); the package table may be out of date; {hint}"
    )
    raise DownloadError(msg)
