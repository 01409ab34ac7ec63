"""Downloads against a local HTTP server: resume, retries, atomic completion and checksums."""

from __future__ import annotations

import hashlib
import logging
import socket

import pytest

from michigan.data.checksums import ChecksumMismatchError, record_path
from michigan.data.download import DownloadError, RetryPolicy, fetch, fetch_dataset
from michigan.data.sources import DATASET_FILES, RemoteFile, remote_file

FAST = RetryPolicy(retries=3, timeout_s=5.0, backoff_s=0.0)
pytestmark = pytest.mark.timeout(30)


def remote(url: str, *, sha256: str | None = None, trusted: bool = False) -> RemoteFile:
    return RemoteFile(
        name="blob.bin",
        url=url,
        size=None,
        sha256=sha256,
        sha256_trusted=trusted,
        provenance="test server",
    )


def test_plain_download_verifies_and_records_digest(http_server, tmp_path, caplog):
    dest = tmp_path / "raw" / "blob.bin"
    caplog.set_level(logging.INFO)
    fetch(remote(f"{http_server.url}/range"), dest, policy=FAST, progress_interval_s=0.0)
    assert dest.read_bytes() == http_server.state.payload
    assert not dest.with_name("blob.bin.part").exists()
    digest = hashlib.sha256(http_server.state.payload).hexdigest()
    assert record_path(dest).read_text() == f"{digest}  blob.bin\n"
    assert "TRUST ON FIRST USE" in caplog.text
    assert "MiB/s" in caplog.text
    assert "ETA" in caplog.text


def test_dropped_connection_resumes_with_range(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    fetch(remote(f"{http_server.url}/drop"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    half = len(http_server.state.payload) // 2
    # first request without Range, the retry asks for exactly the bytes after the half received
    assert http_server.state.requests == [("/drop", None), ("/drop", f"bytes={half}-")]


def test_server_ignoring_range_restarts_from_zero(http_server, tmp_path, caplog):
    dest = tmp_path / "blob.bin"
    caplog.set_level(logging.WARNING)
    fetch(remote(f"{http_server.url}/drop-norange"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    assert "ignored the Range request" in caplog.text


def test_existing_part_file_is_resumed(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    payload = http_server.state.payload
    dest.with_name("blob.bin.part").write_bytes(payload[:1000])
    fetch(remote(f"{http_server.url}/range"), dest, policy=FAST)
    assert dest.read_bytes() == payload
    assert http_server.state.requests == [("/range", "bytes=1000-")]


def test_complete_part_file_answered_416_is_kept(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(http_server.state.payload)
    fetch(remote(f"{http_server.url}/range"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload


def test_transient_503_is_retried(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    fetch(remote(f"{http_server.url}/flaky"), dest, policy=FAST)
    assert dest.read_bytes() == http_server.state.payload
    assert len(http_server.state.requests) == 2


def test_404_fails_at_once_with_manual_hint(http_server, tmp_path):
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(remote(f"{http_server.url}/missing"), dest, policy=FAST)
    assert len(http_server.state.requests) == 1


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
    with pytest.raises(ChecksumMismatchError, match="recorded in"):
        fetch(remote("https://unreachable.invalid/blob.bin"), dest, offline=True)


def test_retry_policy_rejects_bad_values_and_doubles_waits():
    with pytest.raises(ValueError, match="timeout_s"):
        RetryPolicy(timeout_s=0)
    policy = RetryPolicy(backoff_s=2.0, max_backoff_s=5.0)
    assert [policy.wait_s(i) for i in (1, 2, 3)] == [2.0, 4.0, 5.0]


def test_source_tables_are_complete():
    for files in DATASET_FILES.values():
        for entry in files.values():
            assert entry.url.startswith("https://")
            assert entry.sha256 is None or len(entry.sha256) == 64
    assert remote_file("sciplex3", "matrix").size == 3_096_224_606
    with pytest.raises(KeyError, match="roles are"):
        remote_file("sciplex3", "nope")
    with pytest.raises(KeyError, match="downloadable datasets"):
        remote_file("nope", "matrix")


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
    assert record_path(mine).exists()  # the local copy is verified (and recorded) in place


def test_fetch_dataset_offline_and_unknown_roles(tmp_path):
    files = {"matrix": remote("https://example.org/blob.bin")}
    with pytest.raises(FileNotFoundError, match=r"https://example\.org/blob\.bin"):
        fetch_dataset(files, tmp_path, offline=True)
    with pytest.raises(KeyError, match="unknown roles \\['pdata'\\]"):
        fetch_dataset(files, tmp_path, local_paths={"pdata": tmp_path / "p"})
    with pytest.raises(FileNotFoundError, match="downloads are off"):
        fetch_dataset(files, tmp_path, local_paths={"matrix": tmp_path / "absent.gz"})
