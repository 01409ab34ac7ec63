"""Fixtures of the data tests: fixture folders and a scripted HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

TEST_DATA = Path(__file__).resolve().parents[2] / "data"
SCIPLEX_DIR = TEST_DATA / "sciplex"
TABULA_MURIS_DIR = TEST_DATA / "tabula_muris"


@dataclass
class ServerState:
    """What the test server serves and what it saw.

    ``replacement``: if set, the file is replaced by it (with ETag ``"v2"``) right after the first
    cut-short answer, as if the publisher changed the file between two attempts.
    """

    payload: bytes
    etag: str = '"v1"'
    api_answer: bytes = b"[]"  # served as JSON under /api/ (a figshare file list)
    replacement: bytes | None = None
    # (path, Range header, If-Range header) of every request
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)  # paths whose first answer was cut short
    failed: set[str] = field(default_factory=set)  # paths that already answered 503 once


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves one payload under several behaviours chosen by the URL path.

    Every answer carries the state's ``ETag``. ``/range``: honours ``Range`` unless ``If-Range``
    names another ETag (then 200 with the whole file). ``/drop``: the first answer stops after half
    the body, later answers like ``/range``. ``/drop-norange``: drops the first answer and ignores
    ``Range``. ``/drop-no-if-range``: like ``/drop`` but ignores ``If-Range`` (a faulty server).
    ``/flaky``: 503 once, then like ``/range``. ``/api/...``: the state's ``api_answer`` as JSON.
    Anything else: 404.
    """

    state: ServerState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        state = self.state
        range_header = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        state.requests.append((self.path, range_header, if_range))
        payload = state.payload
        if self.path.startswith("/api/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.api_answer)))
            self.end_headers()
            self.wfile.write(state.api_answer)
            return
        if self.path not in {"/range", "/drop", "/drop-norange", "/drop-no-if-range", "/flaky"}:
            self.send_error(404)
            return
        if self.path == "/flaky" and self.path not in state.failed:
            state.failed.add(self.path)
            self.send_error(503)
            return
        honour_range = self.path != "/drop-norange" and (
            if_range in {None, state.etag} or self.path == "/drop-no-if-range"
        )
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if honour_range and match:
            start = int(match.group(1))
            if start >= len(payload):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(payload)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(payload) - 1}/{len(payload)}")
        else:
            self.send_response(200)
        body = payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", state.etag)
        self.end_headers()
        if self.path.startswith("/drop") and self.path not in state.dropped:
            state.dropped.add(self.path)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            if state.replacement is not None:
                state.payload, state.etag = state.replacement, '"v2"'
            return
        self.wfile.write(body)


@dataclass
class LocalServer:
    """Base URL and state of the running test server."""

    url: str
    state: ServerState


@pytest.fixture
def http_server(serve_http):
    """A threaded HTTP server on 127.0.0.1 serving 300 kB of seeded random bytes."""
    payload = np.random.default_rng(7).integers(0, 256, size=300_000, dtype=np.uint8).tobytes()
    state = ServerState(payload=payload)
    url = serve_http(type("Handler", (_Handler,), {"state": state}))
    return LocalServer(url=url, state=state)
