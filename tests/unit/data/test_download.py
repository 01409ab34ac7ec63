"""Downloads against a local HTTP server: resume, retries, atomic completion and checksums."""

from __future__ import annotations

import hashlib
import json
import logging
import socket

import pytest

from michigan.data.checksums import ChecksumMismatchError, RecordMismatchError, record_path
from michigan.data.content import SizeMismatchError, UnexpectedContentError
from michigan.data.download import (
    DownloadError,
    RetryPolicy,
    fetch,
    fetch_dataset,
    verify_local_copy,
)
from michigan.data.sources import FigshareFile, RemoteFile

FAST = RetryPolicy(retries=3, timeout_s=5.0, backoff_s=0.0)
pytestmark = pytest.mark.timeout(30)


def remote(
    url: str,
    *,
    sha256: str | None = None,
    trusted: bool = False,
    size: int | None = None,
    figshare: FigshareFile | None = None,
) -> RemoteFile:
    return RemoteFile(
        name="blob.bin",
        url=url,
        size=size,
        sha256=sha256,
        sha256_trusted=trusted,
        provenance="test server",
        figshare=figshare,
    )


def leftovers(dest):
    """Files beside ``dest`` other than itself and its record (a .part, .json or .new)."""
    return sorted(p.name for p in dest.parent.glob(dest.name + ".*") if p.suffix != ".sha256")


def test_plain_download_verifies_records_digest_and_reports_progress(http_server, tmp_path, caplog):
    dest = tmp_path / "raw" / "blob.bin"
    caplog.set_level(logging.INFO)
    verified = fetch(remote(f"{http_server.url}/range"), dest, policy=FAST, progress_interval_s=0.0)
    assert dest.read_bytes() == http_server.state.payload
    assert leftovers(dest) == []
    digest = hashlib.sha256(http_server.state.payload).hexdigest()
    assert (verified.path, verified.size, verified.sha256) == (dest, 300_000, digest)
    assert record_path(dest).read_text() == f"{digest}  blob.bin\n"
    assert "TRUST ON FIRST USE" in caplog.text
    # progress: MiB done / total, rate and ETA
    assert "download blob.bin (MiB) 0.29/0.29 (100%)" in caplog.text
    assert "MiB/s" in caplog.text
    assert "ETA" in caplog.text


def test_dropped_connection_resumes_with_range_and_if_range(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    fetch(remote(f"{http_server.url}/drop"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    half = len(http_server.state.payload) // 2
    # the retry asks for exactly the bytes after the half received, if the file is still "v1"
    assert http_server.state.requests == [
        ("/drop", None, None),
        ("/drop", f"bytes={half}-", '"v1"'),
    ]


def test_file_changed_between_attempts_is_downloaded_again_not_spliced(http_server, tmp_path):
    new = bytes(reversed(http_server.state.payload))
    http_server.state.replacement = new
    dest = tmp_path / "blob.bin"
    fetch(remote(f"{http_server.url}/drop"), dest, policy=FAST)
    assert dest.read_bytes() == new  # not the old first half followed by the new second half
    assert leftovers(dest) == []


def test_partial_answer_of_another_version_is_never_appended(http_server, tmp_path, caplog):
    # a faulty server answers 206 although If-Range names the old ETag
    new = bytes(reversed(http_server.state.payload))
    http_server.state.replacement = new
    dest = tmp_path / "blob.bin"
    caplog.set_level(logging.WARNING)
    fetch(remote(f"{http_server.url}/drop-no-if-range"), dest, policy=FAST)
    assert dest.read_bytes() == new
    assert "does not continue" in caplog.text
    assert http_server.state.requests[-1] == ("/drop-no-if-range", None, None)


def test_interrupted_download_keeps_part_and_validator_then_resumes(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    url = f"{http_server.url}/drop"
    with pytest.raises(DownloadError, match="failed 1 times") as info:
        fetch(remote(url), dest, policy=RetryPolicy(retries=0, timeout_s=5.0))
    assert url in str(info.value)
    assert not dest.exists()
    assert leftovers(dest) == ["blob.bin.part", "blob.bin.part.json"]
    fetch(remote(url), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    assert http_server.state.requests[-1][1:] == ("bytes=150000-", '"v1"')
    assert leftovers(dest) == []


def test_part_file_without_validator_is_downloaded_again(http_server, tmp_path, caplog):
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(b"bytes of some other file")
    caplog.set_level(logging.WARNING)
    fetch(remote(f"{http_server.url}/range"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    assert http_server.state.requests == [("/range", None, None)]  # no Range: nothing resumed
    assert "no stored ETag or Last-Modified" in caplog.text


def test_complete_part_file_with_validator_is_not_fetched_again(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    url = f"{http_server.url}/range"
    payload = http_server.state.payload
    dest.with_name("blob.bin.part").write_bytes(payload)
    state = {"url": url, "size": len(payload), "etag": '"v1"', "last_modified": None}
    dest.with_name("blob.bin.part.json").write_text(json.dumps(state))
    fetch(remote(url), dest, policy=FAST)
    assert dest.read_bytes() == payload
    assert http_server.state.requests == []


def test_server_size_differing_from_the_table_is_an_error(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    url = f"{http_server.url}/range"
    with pytest.raises(SizeMismatchError) as info:
        fetch(remote(url, size=299_999), dest, policy=FAST)
    assert url in str(info.value)
    assert "300,000" in str(info.value)
    assert "299,999" in str(info.value)
    assert not dest.exists()
    assert leftovers(dest) == []


def test_html_page_served_with_status_200_is_rejected(http_server, tmp_path):
    http_server.state.payload = b"<!DOCTYPE html><html>Not found</html>\n"
    dest = tmp_path / "blob.bin"
    with pytest.raises(UnexpectedContentError, match="HTML"):
        fetch(remote(f"{http_server.url}/range"), dest, policy=FAST)
    assert not dest.exists()
    assert not record_path(dest).exists()
    assert leftovers(dest) == []


def _figshare(http_server, *, md5: str, size: int) -> FigshareFile:
    listing = [{"id": 7, "name": "other.csv", "size": 1, "computed_md5": "0" * 32}]
    listing.append({"id": 42, "name": "blob.bin", "size": size, "computed_md5": md5})
    http_server.state.api_answer = json.dumps(listing).encode()
    return FigshareFile(article_id=1, file_id=42, api=f"{http_server.url}/api")


def test_figshare_md5_and_size_are_checked(http_server, tmp_path, caplog):
    payload = http_server.state.payload
    ref = _figshare(http_server, md5=hashlib.md5(payload).hexdigest(), size=len(payload))
    dest = tmp_path / "blob.bin"
    caplog.set_level(logging.INFO)
    fetch(remote(f"{http_server.url}/range", figshare=ref), dest, policy=FAST)
    assert dest.read_bytes() == payload
    assert http_server.state.requests[0][0] == "/api/articles/1/files?page_size=100"
    assert "matches figshare's MD5" in caplog.text
    assert "TRUST ON FIRST USE" not in caplog.text


def test_figshare_md5_mismatch_deletes_the_download(http_server, tmp_path):
    payload = http_server.state.payload
    ref = _figshare(http_server, md5="a" * 32, size=len(payload))
    dest = tmp_path / "blob.bin"
    url = f"{http_server.url}/range"
    with pytest.raises(ChecksumMismatchError) as info:
        fetch(remote(url, figshare=ref), dest, policy=FAST)
    assert url in str(info.value)
    assert "a" * 32 in str(info.value)
    assert hashlib.md5(payload).hexdigest() in str(info.value)
    assert not dest.exists()
    assert not record_path(dest).exists()
    assert leftovers(dest) == []


def test_figshare_listing_without_the_file_names_the_ids(http_server, tmp_path):
    ref = _figshare(http_server, md5="a" * 32, size=1)
    missing = FigshareFile(article_id=1, file_id=99, api=ref.api)
    with pytest.raises(DownloadError, match=r"lists no file 99 .*7 \(other\.csv\)"):
        fetch(remote(f"{http_server.url}/range", figshare=missing), tmp_path / "b", policy=FAST)


def test_new_download_disagreeing_with_the_record_keeps_both(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    old = "1" * 64
    record_path(dest).write_text(f"{old}  blob.bin\n")
    with pytest.raises(RecordMismatchError) as info:
        fetch(remote(f"{http_server.url}/range"), dest, policy=FAST)
    message = str(info.value)
    new = hashlib.sha256(http_server.state.payload).hexdigest()
    kept = dest.with_name("blob.bin.new")
    assert kept.read_bytes() == http_server.state.payload  # the download is not deleted
    assert record_path(dest).read_text() == f"{old}  blob.bin\n"  # nor is the record
    assert not dest.exists()
    for part in (old, new, str(kept), str(record_path(dest)), f"mv {kept} {dest}"):
        assert part in message


def test_server_ignoring_range_restarts_from_zero(http_server, tmp_path, caplog):
    dest = tmp_path / "blob.bin"
    caplog.set_level(logging.WARNING)
    fetch(remote(f"{http_server.url}/drop-norange"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    assert "sent the whole file instead of the missing bytes" in caplog.text


def test_transient_503_is_retried(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    fetch(remote(f"{http_server.url}/flaky"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    assert len(http_server.state.requests) == 2


def test_404_fails_at_once_with_manual_hint(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    url = f"{http_server.url}/missing"
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        fetch(remote(url), dest, policy=FAST)
    assert len(http_server.state.requests) == 1
    assert url in str(info.value)
    assert f"save it as {dest}" in str(info.value)


def test_unreachable_server_says_what_to_fetch_and_where(tmp_path):
    with socket.socket() as sock:  # a port that nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/blob.bin"
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError) as info:
        fetch(remote(url), dest, policy=RetryPolicy(retries=1, timeout_s=2.0, backoff_s=0.0))
    assert url in str(info.value)
    assert str(dest) in str(info.value)
    assert "failed 2 times" in str(info.value)


def test_offline_missing_file_names_url_and_destination(tmp_path):
    dest = tmp_path / "blob.bin"
    with pytest.raises(FileNotFoundError) as info:
        fetch(remote("https://example.org/blob.bin"), dest, offline=True)
    assert "https://example.org/blob.bin" in str(info.value)
    assert str(dest) in str(info.value)


def test_offline_existing_file_is_only_verified(tmp_path):
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"local copy")
    fetch(remote("https://unreachable.invalid/blob.bin"), dest, offline=True)
    assert record_path(dest).read_text().split()[0] == hashlib.sha256(b"local copy").hexdigest()


def test_trusted_digest_mismatch_names_file_and_both_digests(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    wrong = "0" * 64
    actual = hashlib.sha256(http_server.state.payload).hexdigest()
    with pytest.raises(ChecksumMismatchError) as info:
        fetch(remote(f"{http_server.url}/range", sha256=wrong, trusted=True), dest, policy=FAST)
    message = str(info.value)
    assert "blob.bin" in message
    assert wrong in message
    assert actual in message
    assert not dest.exists()  # nothing unverified is left where downstream rules look
    assert not dest.with_name("blob.bin.part").exists()


def test_trusted_digest_match_is_accepted(http_server, tmp_path):
    digest = hashlib.sha256(http_server.state.payload).hexdigest()
    dest = tmp_path / "blob.bin"
    fetch(remote(f"{http_server.url}/range", sha256=digest.upper(), trusted=True), dest)
    assert dest.is_file()


def test_untrusted_digest_mismatch_only_warns(http_server, tmp_path, caplog):
    dest = tmp_path / "blob.bin"
    caplog.set_level(logging.WARNING)
    fetch(remote(f"{http_server.url}/range", sha256="1" * 64, trusted=False), dest, policy=FAST)
    assert dest.is_file()
    assert "third-party source lists " + "1" * 64 in caplog.text


def test_recorded_digest_catches_a_changed_file(tmp_path):
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"first copy")
    fetch(remote("https://unreachable.invalid/blob.bin"), dest, offline=True)  # records it
    dest.write_bytes(b"tampered copy")
    with pytest.raises(RecordMismatchError, match="changed since"):
        fetch(remote("https://unreachable.invalid/blob.bin"), dest, offline=True)


def test_retry_policy_rejects_bad_values_and_doubles_waits():
    with pytest.raises(ValueError, match="timeout_s"):
        RetryPolicy(timeout_s=0)
    policy = RetryPolicy(backoff_s=2.0, max_backoff_s=5.0)
    assert [policy.wait_s(i) for i in (1, 2, 3)] == [2.0, 4.0, 5.0]


def test_fetch_dataset_mixes_downloads_and_local_copies(http_server, tmp_path):
    files = {
        "matrix": remote(f"{http_server.url}/range"),
        "genes": RemoteFile(
            name="genes.txt",
            url="https://unreachable.invalid/genes.txt",
            size=None,
            sha256=None,
            sha256_trusted=False,
            provenance="test",
        ),
    }
    mine = tmp_path / "elsewhere" / "my_genes.txt"
    mine.parent.mkdir()
    mine.write_text("id gene_short_name\n")
    paths = fetch_dataset(files, tmp_path / "resources", local_paths={"genes": mine}, policy=FAST)
    assert paths == {"matrix": tmp_path / "resources" / "blob.bin", "genes": mine}
    assert paths["matrix"].read_bytes() == http_server.state.payload
    assert list(mine.parent.iterdir()) == [mine]  # checked in place, nothing written beside it


def test_local_copy_is_checked_but_nothing_is_written_beside_it(tmp_path, caplog):
    mine = tmp_path / "my_matrix.gz"
    mine.write_bytes(b"<html>login</html>")
    table = remote("https://unreachable.invalid/x.gz")
    with pytest.raises(UnexpectedContentError, match=r"my_matrix\.gz"):
        verify_local_copy(table, mine)
    mine.write_bytes(b"\x1f\x8b rest of a gzip file")
    caplog.set_level(logging.WARNING)
    verify_local_copy(table, mine)
    assert "nothing is written beside it" in caplog.text
    assert list(tmp_path.iterdir()) == [mine]


def test_fetch_dataset_offline_and_unknown_roles(tmp_path):
    files = {"matrix": remote("https://example.org/blob.bin")}
    with pytest.raises(FileNotFoundError, match=r"https://example\.org/blob\.bin"):
        fetch_dataset(files, tmp_path, offline=True)
    with pytest.raises(KeyError, match="unknown roles \\['pdata'\\]"):
        fetch_dataset(files, tmp_path, local_paths={"pdata": tmp_path / "p"})
    with pytest.raises(FileNotFoundError, match=r"absent\.gz does not exist"):
        fetch_dataset(files, tmp_path, local_paths={"matrix": tmp_path / "absent.gz"})
