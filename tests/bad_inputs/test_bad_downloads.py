"""Bad-input suite, downloads: `michigan download` against a scripted server on 127.0.0.1.

Each case runs the stage through the CLI (in this process, with the package's file table pointed at
the local server) and checks the exit status, the one error line and its naming of the URL, file
or value at fault, and that nothing partial or wrong is left where the next rule looks (the
destination and its run record). A ``.part`` file and its ``.part.json`` validator may stay beside
the destination: they are what the next attempt resumes from, and no rule reads them.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from michigan import catalogue
from michigan.cli import main
from michigan.data.sources import FigshareFile, RemoteFile

pytestmark = pytest.mark.timeout(30)

PAYLOAD = gzip.compress(bytes(range(256)) * 400, mtime=0)  # a small valid .gz file
CHANGED = gzip.compress(bytes(range(255, -1, -1)) * 400, mtime=0)
HTML = b"<!DOCTYPE html><html><body>Error</body></html>\n"
SCIPLEX_FIXTURES = Path(__file__).resolve().parents[1] / "data" / "sciplex"


@dataclass
class Answer:
    """One scripted answer. ``length=None`` sends no Content-Length (the body ends at close)."""

    body: bytes = PAYLOAD
    status: int = 200
    etag: str | None = '"a"'
    last_modified: str | None = None
    length: int | None = -1  # -1: the body's length
    cut_at: int | None = None  # close the connection after this many body bytes
    honour_range: bool = True
    honour_if_range: bool = True  # False: a faulty server that answers 206 for a changed file


@dataclass
class Script:
    """Answers per path, used in order (the last one repeats), and the requests seen."""

    answers: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    script: Script
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        range_header, if_range = self.headers.get("Range"), self.headers.get("If-Range")
        self.script.requests.append((self.path, range_header, if_range))
        queue = self.script.answers.get(self.path)
        if not queue:
            self.send_error(404)
            return
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer.status >= 400:
            self.send_error(answer.status)
            return
        if answer.status == 0:  # drop the connection without any answer
            self.close_connection = True
            return
        body, status = answer.body, answer.status
        validator = answer.etag or answer.last_modified
        same = if_range in {None, validator} or not answer.honour_if_range
        ranged = range_header and answer.honour_range and same
        if ranged:
            start = int(range_header.removeprefix("bytes=").rstrip("-"))
            body, status = body[start:], 206
        self.send_response(status)
        if ranged:
            self.send_header(
                "Content-Range", f"bytes {start}-{len(answer.body) - 1}/{len(answer.body)}"
            )
        if answer.etag:
            self.send_header("ETag", answer.etag)
        if answer.last_modified:
            self.send_header("Last-Modified", answer.last_modified)
        if answer.length is not None:
            self.send_header(
                "Content-Length", str(len(body) if answer.length < 0 else answer.length)
            )
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: answer.cut_at])
        self.wfile.flush()
        self.close_connection = answer.cut_at is not None or answer.length is None


@dataclass
class Server:
    url: str
    script: Script


@pytest.fixture
def server(serve_http):
    """A scripted HTTP server on 127.0.0.1, stopped after the test."""
    script = Script()
    url = serve_http(type("Handler", (_Handler,), {"script": script}))
    return Server(url=url, script=script)


def matrix(url: str, *, size: int | None = None, figshare: FigshareFile | None = None):
    return RemoteFile(
        name="matrix.txt.gz",
        url=url,
        size=size,
        sha256=None,
        sha256_trusted=False,
        provenance="test table",
        figshare=figshare,
    )


@pytest.fixture
def dest(tmp_path):
    """Where the download goes: the file the next rule reads."""
    return tmp_path / "resources" / "matrix.txt.gz"


@pytest.fixture
def download(monkeypatch, caplog, dest):
    """Run `michigan download` for one table entry; return (exit status, error lines, dest)."""

    def run(remote: RemoteFile, *, offline: bool = False) -> tuple[int, list[str], Path]:
        source = catalogue.Source("sciplex3", {"matrix": remote}, section="sciplex")
        monkeypatch.setitem(catalogue.SOURCES, "sciplex3", source)
        caplog.clear()
        params = json.dumps({"retries": 2, "timeout_s": 5, "backoff_s": 0, "offline": offline})
        argv = ["download", "--params", params, "--source", "sciplex3", "--role", "matrix"]
        status = main([*argv, "--output", str(dest)])
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        return status, errors, dest

    return run


def failed_with_one_line(status: int, errors: list[str], *names: str) -> str:
    """Exit status 2, exactly one error line, naming each of ``names``."""
    assert status == 2
    assert len(errors) == 1, errors
    line = errors[0]
    assert "\n" not in line
    for name in names:
        assert name in line, f"{name!r} not in {line!r}"
    return line


def nothing_for_the_next_rule(dest: Path, *, part_allowed: bool = False) -> None:
    """No file at ``dest``, no run record, no digest record; a resumable .part only if allowed."""
    assert not dest.exists()
    assert not dest.with_name("matrix.txt.run.json").exists()
    assert not dest.with_name(dest.name + ".sha256").exists()
    if not part_allowed:
        assert sorted(p.name for p in dest.parent.iterdir()) == []


def test_wrong_size_from_the_server_is_an_error(server, download):
    server.script.answers["/m"] = [Answer()]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url, size=len(PAYLOAD) + 1))
    failed_with_one_line(status, errors, url, f"{len(PAYLOAD):,}", f"{len(PAYLOAD) + 1:,}")
    nothing_for_the_next_rule(dest)


def test_no_size_anywhere_is_an_error(server, download):
    server.script.answers["/m"] = [Answer(length=None)]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    failed_with_one_line(status, errors, url, "no Content-Length")
    nothing_for_the_next_rule(dest)


def test_body_longer_than_the_known_size_is_an_error(server, download):
    server.script.answers["/m"] = [Answer(length=None)]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url, size=len(PAYLOAD) - 10))
    failed_with_one_line(status, errors, url, f"{len(PAYLOAD) - 10:,}")
    nothing_for_the_next_rule(dest)


def test_html_page_with_status_200_is_an_error(server, download):
    server.script.answers["/m"] = [Answer(body=HTML)]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    failed_with_one_line(status, errors, url, "HTML", "matrix.txt.gz")
    nothing_for_the_next_rule(dest)


def test_missing_gzip_magic_is_an_error(server, download):
    server.script.answers["/m"] = [Answer(body=b"gene_idx cell_idx count\n1 1 3\n")]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    failed_with_one_line(status, errors, url, r"b'\x1f\x8b'")
    nothing_for_the_next_rule(dest)


def test_body_truncated_on_every_attempt_fails_and_keeps_only_the_part(server, download):
    server.script.answers["/m"] = [Answer(cut_at=len(PAYLOAD) // 2), Answer(cut_at=0)]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    failed_with_one_line(status, errors, url, "failed 3 times", str(dest))
    nothing_for_the_next_rule(dest, part_allowed=True)
    part = dest.with_name("matrix.txt.gz.part")
    assert PAYLOAD.startswith(part.read_bytes())


def test_file_changed_during_resume_is_downloaded_again_not_spliced(server, download, caplog):
    server.script.answers["/m"] = [
        Answer(cut_at=len(PAYLOAD) // 2),
        Answer(body=CHANGED, etag='"b"'),  # If-Range "a" fails: the whole new file, status 200
    ]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == CHANGED
    assert server.script.requests[1][2] == '"a"'
    assert f"{url} sent the whole file instead of the missing bytes" in caplog.text


def test_partial_answer_with_another_etag_is_not_spliced(server, download, caplog):
    server.script.answers["/m"] = [
        Answer(cut_at=len(PAYLOAD) // 2),
        Answer(body=CHANGED, etag='"b"', honour_if_range=False),  # a faulty server: 206 anyway
        Answer(body=CHANGED, etag='"b"'),
    ]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == CHANGED
    assert "does not continue" in caplog.text


def test_part_file_without_validator_is_not_resumed(server, download, dest, caplog):
    dest.parent.mkdir()
    part = dest.with_name("matrix.txt.gz.part")
    part.write_bytes(CHANGED[:100])  # left by an older run, no validator stored beside it
    server.script.answers["/m"] = [Answer()]
    status, errors, dest = download(matrix(f"{server.url}/m"))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == PAYLOAD
    assert server.script.requests == [("/m", None, None)]  # no Range: nothing was resumed
    assert f"discarding {part}" in caplog.text


def test_200_instead_of_206_starts_over(server, download, caplog):
    server.script.answers["/m"] = [
        Answer(cut_at=len(PAYLOAD) // 2),
        Answer(honour_range=False),  # the whole file again, status 200
    ]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == PAYLOAD
    assert server.script.requests[1][1] == f"bytes={len(PAYLOAD) // 2}-"
    assert f"{url} sent the whole file instead of the missing bytes" in caplog.text


def test_last_modified_alone_is_a_usable_validator(server, download):
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.script.answers["/m"] = [
        Answer(etag=None, last_modified=date, cut_at=100),
        Answer(etag=None, last_modified=date),
    ]
    status, errors, dest = download(matrix(f"{server.url}/m"))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == PAYLOAD
    assert server.script.requests[1][1:] == ("bytes=100-", date)


def test_server_without_validator_is_never_resumed(server, download, caplog):
    server.script.answers["/m"] = [Answer(etag='W/"weak"', cut_at=100), Answer(etag=None)]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == PAYLOAD
    assert server.script.requests[1] == ("/m", None, None)  # a weak ETag cannot guard a resume
    assert f"{url} sends no strong ETag and no Last-Modified" in caplog.text


def _figshare_listing(server: Server, *, md5: str, size: int) -> FigshareFile:
    listing = json.dumps([{"id": 42, "name": "matrix.txt.gz", "size": size, "computed_md5": md5}])
    body = listing.encode()
    server.script.answers["/api/articles/1/files?page_size=100"] = [Answer(body=body, etag=None)]
    return FigshareFile(article_id=1, file_id=42, api=f"{server.url}/api")


def test_md5_mismatch_with_figshare_is_an_error(server, download):
    figshare = _figshare_listing(server, md5="0" * 32, size=len(PAYLOAD))
    server.script.answers["/m"] = [Answer()]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url, figshare=figshare))
    failed_with_one_line(status, errors, url, "0" * 32, hashlib.md5(PAYLOAD).hexdigest())
    nothing_for_the_next_rule(dest)


def test_figshare_size_disagreeing_with_the_table_is_an_error(server, download):
    figshare = _figshare_listing(server, md5=hashlib.md5(PAYLOAD).hexdigest(), size=5)
    server.script.answers["/m"] = [Answer()]
    status, errors, dest = download(matrix(f"{server.url}/m", size=len(PAYLOAD), figshare=figshare))
    failed_with_one_line(status, errors, "/api/articles/1/files", "5 bytes")
    nothing_for_the_next_rule(dest)
    assert [path for path, *_ in server.script.requests] == ["/api/articles/1/files?page_size=100"]


def test_figshare_listing_without_the_file_is_an_error(server, download):
    figshare = _figshare_listing(server, md5="0" * 32, size=1)
    missing = FigshareFile(article_id=1, file_id=7, api=figshare.api)
    status, errors, dest = download(matrix(f"{server.url}/m", figshare=missing))
    failed_with_one_line(status, errors, "no file 7", "42 (matrix.txt.gz)")
    nothing_for_the_next_rule(dest)


def test_first_use_digest_mismatch_keeps_both_files(server, download, dest):
    dest.parent.mkdir()
    record = dest.with_name("matrix.txt.gz.sha256")
    recorded = hashlib.sha256(CHANGED).hexdigest()
    record.write_text(f"{recorded}  matrix.txt.gz\n")  # the first download's digest
    server.script.answers["/m"] = [Answer()]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    new = dest.with_name("matrix.txt.gz.new")
    failed_with_one_line(
        status, errors, url, recorded, hashlib.sha256(PAYLOAD).hexdigest(), str(record), str(new)
    )
    assert f"mv {new} {dest} && rm {record}" in errors[0]
    assert new.read_bytes() == PAYLOAD  # the new download is kept, not deleted
    assert record.read_text() == f"{recorded}  matrix.txt.gz\n"  # so is the record
    assert not dest.exists()
    assert not dest.with_name("matrix.txt.run.json").exists()


def test_http_404_fails_at_once(server, download):
    url = f"{server.url}/absent"
    status, errors, dest = download(matrix(url))
    failed_with_one_line(status, errors, url, "HTTP 404", str(dest))
    nothing_for_the_next_rule(dest)
    assert len(server.script.requests) == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [(500, "HTTP 500"), (0, "Remote end closed connection")],
    ids=["http-500", "connection-dropped-without-answer"],
)
def test_transient_failure_is_retried_then_fails(server, download, status, reason):
    server.script.answers["/m"] = [Answer(status=status)]
    url = f"{server.url}/m"
    status, errors, dest = download(matrix(url))
    failed_with_one_line(status, errors, url, reason, "failed 3 times")
    nothing_for_the_next_rule(dest)
    assert len(server.script.requests) == 3


def test_connection_dropped_once_is_resumed(server, download):
    server.script.answers["/m"] = [Answer(status=0), Answer(cut_at=100), Answer()]
    status, errors, dest = download(matrix(f"{server.url}/m"))
    assert (status, errors) == (0, [])
    assert dest.read_bytes() == PAYLOAD
    assert server.script.requests[-1][1:] == ("bytes=100-", '"a"')


def _sciplex_copies(tmp_path: Path, *, matrix_bytes: bytes | None = None) -> dict[str, Path]:
    """The user's own copies of the four sci-Plex files, in a folder of their own."""
    mine = tmp_path / "my_data"
    mine.mkdir()
    names = {
        "matrix": "UMI.count.matrix.gz",
        "genes": "gene.annotations.txt.gz",
        "cells": "cell.annotations.txt.gz",
        "pdata": "pData.txt.gz",
    }
    paths = {role: Path(shutil.copy(SCIPLEX_FIXTURES / name, mine)) for role, name in names.items()}
    if matrix_bytes is not None:
        paths["matrix"].write_bytes(matrix_bytes)
    return paths


def _run_sciplex(paths: dict[str, Path], out: Path) -> int:
    options = [f"--{role}={path}" for role, path in paths.items()]
    outputs = [f"--output={out / 'counts.h5ad'}", f"--table-s1={out / 'table_s1.tsv'}"]
    return main(["sciplex", "--params", "{}", *options, *outputs])


def test_users_html_matrix_is_named_and_nothing_is_written_beside_it(tmp_path, caplog):
    paths = _sciplex_copies(tmp_path, matrix_bytes=HTML)
    status = _run_sciplex(paths, tmp_path / "out")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    failed_with_one_line(status, errors, str(paths["matrix"]), "HTML")
    assert sorted(p.name for p in paths["matrix"].parent.iterdir()) == sorted(
        p.name for p in paths.values()
    )
    assert not (tmp_path / "out" / "counts.h5ad").exists()


def test_users_own_raw_files_get_no_sha256_beside_them(tmp_path, caplog):
    paths = _sciplex_copies(tmp_path)
    _run_sciplex(paths, tmp_path / "out")  # the default drug list is absent from the fixture
    assert not list(paths["matrix"].parent.glob("*.sha256"))
    assert "nothing is written beside it" in caplog.text


def test_offline_missing_file_names_url_and_destination(download):
    url = "https://unreachable.invalid/matrix.txt.gz"
    status, errors, dest = download(matrix(url), offline=True)
    failed_with_one_line(status, errors, url, str(dest), "offline")
    assert not dest.exists()
