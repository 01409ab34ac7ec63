"""SHA-256 verification of raw files, with a trust-on-first-use record kept next to each file.

Policy, in order:

1. A *trusted* expected digest (from :data:`michigan.catalogue.SOURCES` or given by the user) must
   match; a mismatch raises :class:`ChecksumMismatchError`.
2. Otherwise, a digest recorded earlier in ``<file>.sha256`` (written in ``sha256sum`` format, so
   ``sha256sum -c`` can read it) must match; a mismatch raises :class:`ChecksumMismatchError`.
3. Otherwise the file is seen for the first time: its digest is written to ``<file>.sha256`` and a
   warning says that it was trusted on first use. An *untrusted* (third-party) expected digest is
   compared at this point and a mismatch is logged as a warning. A user's own copy of a file
   (``record_new=False``) gets no record: nothing is ever written beside it.

A fresh download is checked by :mod:`michigan.data.download`, which adds the publisher's MD5 where
there is one and never deletes a download that only disagrees with a record.

One record file per data file, not one shared list, so that parallel downloads never write the same
file.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from michigan.data._reporting import ThrottledProgress
from michigan.progress import Progress

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

RECORD_SUFFIX = ".sha256"
_HEX_DIGITS = frozenset("0123456789abcdef")


class ChecksumMismatchError(ValueError):
    """A file's digest differs from the expected one; the message names both."""


class RecordMismatchError(ChecksumMismatchError):
    """A file's SHA-256 digest differs from the one recorded beside it when it was first seen.

    Attributes
    ----------
    record
        The record file.
    recorded, actual
        The recorded digest and the file's digest.
    """

    def __init__(self, msg: str, *, record: Path, recorded: str, actual: str) -> None:
        super().__init__(msg)
        self.record = record
        self.recorded = recorded
        self.actual = actual


def file_digests(
    path: Path,
    algorithms: tuple[str, ...] = ("sha256",),
    *,
    chunk_size: int = 1 << 20,
    progress_interval_s: float = 10.0,
) -> dict[str, str]:
    """Return the hex digests of ``path`` (one read for all ``algorithms``), logging progress.

    Parameters
    ----------
    path
        File to hash.
    algorithms
        :mod:`hashlib` names, e.g. ``("sha256", "md5")``.
    chunk_size
        Bytes read at a time.
    progress_interval_s
        Seconds between progress lines (MiB hashed, rate, ETA).
    """
    total = path.stat().st_size
    hashes = {name: hashlib.new(name) for name in algorithms}
    progress = ThrottledProgress(
        Progress(total / 2**20, desc=f"hash {path.name} (MiB)", unit="MiB", logger=logger),
        interval_s=progress_interval_s,
    )
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(chunk_size):
            for digest in hashes.values():
                digest.update(block)
            done += len(block)
            progress.update(done / 2**20)
    return {name: digest.hexdigest() for name, digest in hashes.items()}


def sha256_file(path: Path, *, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 digest of ``path``."""
    return file_digests(path, chunk_size=chunk_size)["sha256"]


def record_path(path: Path) -> Path:
    """Path of the trust-on-first-use record of ``path`` (``<file>.sha256``)."""
    return path.with_name(path.name + RECORD_SUFFIX)


def read_record(record: Path) -> str | None:
    """Return the digest stored in a ``<file>.sha256`` record, or ``None`` if there is none.

    Raises
    ------
    ValueError
        If the record exists but does not start with a 64-digit hex digest.
    """
    if not record.exists():
        return None
    fields = record.read_text(encoding="utf-8").split()
    if not fields or len(fields[0]) != 64 or not set(fields[0].lower()) <= _HEX_DIGITS:
        msg = (
            f"checksum record {record} is malformed: expected '<64 hex digits>  <file name>'; "
            "delete it to record the digest again"
        )
        raise ValueError(msg)
    return fields[0].lower()


def write_record(record: Path, *, file_name: str, digest: str) -> None:
    """Write ``<digest>  <file_name>`` to ``record`` atomically (temporary file, then rename)."""
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(f"{digest}  {file_name}\n", encoding="utf-8")
    tmp.replace(record)


def verify_file(
    path: Path,
    *,
    expected_sha256: str | None = None,
    trusted: bool = True,
    name: str | None = None,
    record: Path | None = None,
    record_new: bool = True,
    digest: str | None = None,
    vouched_by: str | None = None,
) -> str:
    """Check the SHA-256 digest of ``path`` and return it (policy in the module docstring).

    Parameters
    ----------
    path
        File to verify.
    expected_sha256
        Expected hex digest, or ``None`` if unknown.
    trusted
        Whether a mismatch with ``expected_sha256`` is an error (``True``) or a warning.
    name
        File name used in messages and written into the record (default ``path.name``).
    record
        Trust-on-first-use record file (default ``<path>.sha256``).
    record_new
        Write the record when there is none. ``False`` for a user's own copy: an existing record
        is still checked, but nothing is ever written beside the user's file.
    digest
        The file's SHA-256 digest if already computed (it is then not hashed again).
    vouched_by
        A publisher checksum the file already matched (e.g. "figshare's MD5"): a first record is
        then no longer trust on first use.

    Returns
    -------
    str
        The actual hex digest.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ChecksumMismatchError
        If the digest differs from a trusted expected digest; :class:`RecordMismatchError` if it
        differs from the recorded one.
    """
    if not path.is_file():
        msg = f"cannot verify {path}: no such file"
        raise FileNotFoundError(msg)
    name = name or path.name
    record = record or record_path(path)
    expected = expected_sha256.lower() if expected_sha256 else None
    actual = digest or sha256_file(path)
    if expected is not None and trusted:
        if actual != expected:
            msg = (
                f"sha256 mismatch for {name}: expected {expected} (package table or config), "
                f"got {actual} from {path}"
            )
            raise ChecksumMismatchError(msg)
        if record_new:
            write_record(record, file_name=name, digest=actual)
        logger.info("sha256 of %s matches the known digest %s", name, actual)
        return actual
    recorded = read_record(record)
    if recorded is not None:
        if actual != recorded:
            msg = (
                f"sha256 mismatch for {name}: {path} has {actual} but {record} recorded "
                f"{recorded} when the file was first seen, so the file changed since; if you "
                f"replaced it on purpose and trust the new copy, delete {record}, otherwise put "
                "the original file back"
            )
            raise RecordMismatchError(msg, record=record, recorded=recorded, actual=actual)
        logger.info("sha256 of %s matches the digest recorded in %s", name, record)
        return actual
    if expected is not None and actual != expected:
        logger.warning(
            "sha256 of %s is %s but a third-party source lists %s; the file may differ from the "
            "one others used",
            name,
            actual,
            expected,
        )
    if not record_new:
        logger.warning(
            "no trusted or recorded digest is known for %s (sha256 %s); your copy %s is used as "
            "it is and nothing is written beside it",
            name,
            actual,
            path,
        )
        return actual
    write_record(record, file_name=name, digest=actual)
    if vouched_by is not None:
        logger.info("%s matches %s; recorded its sha256 %s in %s", name, vouched_by, actual, record)
        return actual
    logger.warning(
        "TRUST ON FIRST USE: no trusted digest is known for %s; recorded its sha256 %s in %s. "
        "Later runs will fail if the file changes. Compare this digest with a colleague's copy "
        "to be sure.",
        name,
        actual,
        record,
    )
    return actual
