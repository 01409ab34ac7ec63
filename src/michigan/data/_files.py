"""Open raw text files whether or not they are gzip-compressed, and fail clearly when missing."""

from __future__ import annotations

import gzip
import io
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    import pandas as pd

_GZIP_MAGIC = b"\x1f\x8b"


def require_file(path: Path, *, what: str) -> None:
    """Raise :class:`FileNotFoundError` naming ``what`` the missing ``path`` should have held."""
    if not path.is_file():
        msg = f"{what} not found: {path} does not exist or is not a file"
        raise FileNotFoundError(msg)


def is_gzip(path: Path) -> bool:
    """Whether ``path`` starts with the gzip magic bytes."""
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def open_binary(raw: BinaryIO, path: Path) -> BinaryIO:
    """Wrap the open file ``raw`` of ``path`` in a gzip reader if ``path`` is gzip-compressed."""
    return gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip(path) else raw


def open_text(path: Path) -> io.TextIOBase:
    """Open ``path`` for reading text (UTF-8), decompressing gzip transparently."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", newline="")  # type: ignore[return-value]
    return path.open("r", encoding="utf-8", newline="")  # type: ignore[return-value]


def parsed_chunks(
    reader: Iterable[pd.DataFrame], *, source: str, expected: str
) -> Iterator[pd.DataFrame]:
    """Iterate a pandas chunk reader; a parse failure becomes a ValueError naming ``source``.

    Parameters
    ----------
    reader
        ``pandas.read_csv(..., chunksize=n)``.
    source
        The file (and member) being read, for the message.
    expected
        What a valid line looks like, for the message.
    """
    chunks = iter(reader)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except (ValueError, TypeError) as exc:  # pandas.errors.ParserError is a ValueError
            msg = f"{source}: {expected} ({exc})"
            raise ValueError(msg) from exc
        yield chunk
