"""Cheap checks that a raw file is what its name promises: its size, and no web page in its place.

A server that answers an error or a login page with HTTP 200 leaves a small HTML file where a
3 GB matrix was expected; these checks catch it before any digest is recorded for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_HEAD_BYTES = 512
_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")
# Leading bytes every file of a format starts with (zip: a local file header or an empty archive).
_MAGIC = {".gz": (b"\x1f\x8b",), ".zip": (b"PK\x03\x04", b"PK\x05\x06")}


class SizeMismatchError(ValueError):
    """A file, or a server's answer, does not have the size it must have."""


class UnexpectedContentError(ValueError):
    """A file does not look like its format (an HTML page, an empty file, no gzip header)."""


def check_size(actual: int, expected: int | None, *, what: str, source: str) -> None:
    """Raise :class:`SizeMismatchError` if ``expected`` is known and differs from ``actual``.

    Parameters
    ----------
    actual
        The size found, in bytes.
    expected
        The size required, or ``None`` when unknown (nothing is checked).
    what
        What has the size ``actual``, e.g. ``"resources/x.gz"`` or ``"the server's answer for …"``.
    source
        Where ``expected`` comes from, e.g. ``"the package table"``.
    """
    if expected is not None and actual != expected:
        msg = f"{what} has {actual:,} bytes but {source} says {expected:,}"
        raise SizeMismatchError(msg)


def check_format(path: Path, *, name: str, source: str) -> None:
    """Raise :class:`UnexpectedContentError` if ``path`` cannot be the file ``name``.

    The file must not be empty and must not start like an HTML or XML page; a ``.gz`` file must
    start with the gzip magic bytes and a ``.zip`` file with a zip header.

    Parameters
    ----------
    path
        The file to look at (possibly a ``.part`` file).
    name
        The file name it is meant to have, which gives the format (``….gz``, ``….zip``).
    source
        Where the file came from (a URL, or "your copy"), for the message.
    """
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    problem = _format_problem(head, name)
    if problem is not None:
        msg = f"{path} from {source} is not the file {name}: {problem} (first bytes {head[:40]!r})"
        raise UnexpectedContentError(msg)


def _format_problem(head: bytes, name: str) -> str | None:
    """Why a file starting with ``head`` cannot be ``name``, or ``None`` if it may be."""
    if not head:
        return "it is empty"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_HTML_STARTS):
        return "it is an HTML or XML page, such as a server's error or login page"
    for suffix, magics in _MAGIC.items():
        if name.endswith(suffix) and not head.startswith(magics):
            return f"a {suffix} file starts with {magics[0]!r}"
    return None
