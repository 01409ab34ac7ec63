"""Download raw files over HTTP(S) and accept them only when verified; check users' own copies.

A download goes to ``<dest>.part`` (retries, resume guarded by ``If-Range``, size checks and
progress: :mod:`michigan.data._resumable`). The complete ``.part`` file is then checked, in order:

1. its format: not empty, not an HTML page, gzip or zip magic where the name asks for it
   (:mod:`michigan.data.content`);
2. the publisher's MD5 where there is one (figshare, :mod:`michigan.data.figshare`);
3. a trusted SHA-256 from the package table, or the SHA-256 recorded beside ``dest`` by an earlier
   download (:mod:`michigan.data.checksums`).

Only then is it renamed to ``dest``, so ``dest`` never holds a partial or unverified file. A file
that fails 1, 2 or a trusted digest is deleted: it is not the published file. A file that only
disagrees with the *recorded* digest is kept as ``<dest>.new`` beside the record, and the error says
which of the two to trust and how to accept the new one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from michigan.data._http import DownloadError, RetryPolicy
from michigan.data._resumable import discard_part, download_to_part, state_path
from michigan.data.checksums import (
    ChecksumMismatchError,
    RecordMismatchError,
    file_digests,
    record_path,
    verify_file,
)
from michigan.data.content import UnexpectedContentError, check_format, check_size
from michigan.data.figshare import PublishedFile, published_file

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from michigan.data.sources import RemoteFile

__all__ = [
    "DownloadError",
    "RetryPolicy",
    "VerifiedFile",
    "fetch",
    "fetch_dataset",
    "manual_fetch_hint",
    "verify_local_copy",
]

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
NEW_SUFFIX = ".new"


@dataclass(frozen=True)
class VerifiedFile:
    """A raw file that passed the checks.

    Attributes
    ----------
    path
        Where it is.
    size
        Its size in bytes.
    sha256
        Its hex SHA-256 digest.
    """

    path: Path
    size: int
    sha256: str


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
) -> VerifiedFile:
    """Make ``dest`` a verified copy of ``remote``, downloading it only if it is not there yet.

    An existing ``dest`` (downloaded earlier, or placed there by hand) is only checked: format,
    size from the package table, digest against the table or its record (written if missing).

    Parameters
    ----------
    remote
        What to fetch (URL, known size and digests, figshare file).
    dest
        Final path of the file; its directory is created if needed.
    offline
        Never touch the network: a missing ``dest`` is an error.
    policy
        Retry, timeout and back-off settings (default :class:`RetryPolicy()`).
    chunk_size
        Bytes read from the socket at a time.
    progress_interval_s
        Seconds between progress lines (MiB done and total, rate, ETA).

    Returns
    -------
    VerifiedFile
        ``dest`` with its size and SHA-256 digest.

    Raises
    ------
    FileNotFoundError
        If ``offline`` and ``dest`` is missing; the message says what to fetch and where to put it.
    DownloadError
        If the download failed after all retries, the server refused it (e.g. HTTP 404), no size
        is known for it, or the publisher's checksum could not be read.
    SizeMismatchError
        If the server's or the file's size differs from the table's or the publisher's.
    UnexpectedContentError
        If the file is empty, a web page, or lacks the magic bytes of its format.
    ChecksumMismatchError
        If a digest differs from the publisher's, the table's or the recorded one
        (:class:`~michigan.data.checksums.RecordMismatchError` for the last).
    """
    policy = policy or RetryPolicy()
    if dest.is_file():
        logger.info("%s is present; verifying it", dest)
        return _verify_present(remote, dest, pipeline_copy=True)
    hint = manual_fetch_hint(remote, dest)
    if offline:
        msg = f"{dest} is missing and downloads are off (offline); {hint}"
        raise FileNotFoundError(msg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    published = (
        published_file(remote.figshare, policy=policy, hint=hint) if remote.figshare else None
    )
    expected_size, size_source = _expected_size(remote, published)
    part = dest.with_name(dest.name + PART_SUFFIX)
    download_to_part(
        remote.url,
        part,
        expected_size=expected_size,
        size_source=size_source,
        policy=policy,
        chunk_size=chunk_size,
        progress_interval_s=progress_interval_s,
        hint=hint,
    )
    return _accept(remote, part, dest, published)


def verify_local_copy(remote: RemoteFile, path: Path) -> VerifiedFile:
    """Check a user's own copy of a raw file where it is, writing nothing beside it.

    The copy must not be empty or a web page, its magic bytes must fit its own name (the readers
    accept a decompressed copy, so the table's size is not required), and its digest must match
    the table's trusted digest or a record already beside it (a file downloaded by the pipeline
    has one). A copy with neither is used as it is, with a warning.

    Raises
    ------
    FileNotFoundError, SizeMismatchError, UnexpectedContentError, ChecksumMismatchError
        As :func:`fetch` for a present file.
    """
    if not path.is_file():
        msg = f"your copy of {remote.name} is missing: {path} does not exist or is not a file"
        raise FileNotFoundError(msg)
    return _verify_present(remote, path, pipeline_copy=False)


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
        The dataset's files by role, e.g. ``catalogue.SOURCES["sciplex3"].files``.
    directory
        Where downloads go (``<directory>/<file name>``), e.g. ``resources/sciplex3``.
    local_paths
        Roles the user already holds elsewhere: these files are only checked where they are
        (:func:`verify_local_copy`), never downloaded, and nothing is written beside them.
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
    FileNotFoundError, DownloadError, ValueError
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
            paths[role] = verify_local_copy(remote, local_paths[role]).path
        else:
            target = directory / remote.name
            paths[role] = fetch(remote, target, offline=offline, policy=policy).path
    return paths


def _verify_present(remote: RemoteFile, path: Path, *, pipeline_copy: bool) -> VerifiedFile:
    """Format and digest of a file on disk; the pipeline's own copy also its size and a record."""
    check_format(path, name=path.name, source=str(path))
    size = path.stat().st_size
    if pipeline_copy:
        check_size(size, remote.size, what=str(path), source=_table(remote))
    digest = verify_file(
        path,
        expected_sha256=remote.sha256,
        trusted=remote.sha256_trusted,
        name=remote.name,
        record_new=pipeline_copy,
    )
    return VerifiedFile(path=path, size=size, sha256=digest)


def _table(remote: RemoteFile) -> str:
    return f"the package table ({remote.provenance})"


def _expected_size(remote: RemoteFile, published: PublishedFile | None) -> tuple[int | None, str]:
    """The size a download must have and where it comes from; the table and publisher must agree."""
    if published is None:
        return remote.size, _table(remote)
    check_size(
        published.size,
        remote.size,
        what=f"figshare's entry {published.source}",
        source=_table(remote),
    )
    return published.size, f"figshare ({published.source})"


def _accept(
    remote: RemoteFile, part: Path, dest: Path, published: PublishedFile | None
) -> VerifiedFile:
    """Check a complete ``part`` file and rename it to ``dest``; see the module docstring."""
    try:
        check_format(part, name=remote.name, source=remote.url)
        digests = file_digests(part, ("sha256", "md5") if published else ("sha256",))
        if published is not None and digests["md5"] != published.md5:
            msg = (
                f"MD5 mismatch for {remote.url}: figshare publishes {published.md5} "
                f"({published.source}) but the download has {digests['md5']}; it was deleted, "
                "run again to download it anew"
            )
            raise ChecksumMismatchError(msg)
        digest = verify_file(
            part,
            expected_sha256=remote.sha256,
            trusted=remote.sha256_trusted,
            name=remote.name,
            record=record_path(dest),
            digest=digests["sha256"],
            vouched_by=f"figshare's MD5 {published.md5}" if published else None,
        )
    except RecordMismatchError as exc:
        raise _keep_both(remote, part, dest, exc, published) from exc
    except (UnexpectedContentError, ChecksumMismatchError):
        discard_part(part)
        logger.warning("deleted %s, which failed its check", part)
        raise
    size = part.stat().st_size
    part.replace(dest)
    state_path(part).unlink(missing_ok=True)
    logger.info("downloaded %s (%d bytes) to %s", remote.name, size, dest)
    return VerifiedFile(path=dest, size=size, sha256=digest)


def _keep_both(
    remote: RemoteFile,
    part: Path,
    dest: Path,
    mismatch: RecordMismatchError,
    published: PublishedFile | None,
) -> RecordMismatchError:
    """Move a download that disagrees with its record aside, and say which copy to trust."""
    kept = dest.with_name(dest.name + NEW_SUFFIX)
    part.replace(kept)
    state_path(part).unlink(missing_ok=True)
    if published is not None:
        advice = (
            f"the new download matches figshare's published MD5 {published.md5}, so trust it: "
            "the record came from an older or damaged copy"
        )
    else:
        advice = (
            "no publisher checksum exists for this file, so compare both digests with a "
            "colleague's copy or ask the publisher which is right"
        )
    msg = (
        f"{remote.url} was downloaded again but its sha256 {mismatch.actual} differs from "
        f"{mismatch.recorded}, recorded in {mismatch.record} when the file was first downloaded; "
        f"both are kept (the new download as {kept}, nothing at {dest}); {advice}; to accept the "
        f"new download run: mv {kept} {dest} && rm {mismatch.record}"
    )
    return RecordMismatchError(
        msg, record=mismatch.record, recorded=mismatch.recorded, actual=mismatch.actual
    )
