"""Session-wide test settings (one persistent JAX compilation cache) and shared fixtures.

The tests compile the same small training chunks again and again, in this process and in the
``michigan`` and Snakemake processes they start; with the cache each is compiled once per machine
(see :mod:`michigan.jaxcache`). The folder is the pipeline's own, ``.snakemake/jax-cache`` at the
repository root, unless ``MICHIGAN_JAX_CACHE`` or ``JAX_COMPILATION_CACHE_DIR`` names another.
"""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pytest

from michigan.jaxcache import CACHE_VARIABLE, JAX_VARIABLE, configure_compilation_cache

REPO = Path(__file__).resolve().parents[1]

if not (os.environ.get(CACHE_VARIABLE) or os.environ.get(JAX_VARIABLE)):
    os.environ[JAX_VARIABLE] = str(REPO / ".snakemake" / "jax-cache")
configure_compilation_cache()


@pytest.fixture
def serve_http():
    """Start a threaded HTTP server on 127.0.0.1 for a handler class; returns its base URL.

    Every server started in a test is stopped after it.
    """
    running = []

    def start(handler: type[http.server.BaseHTTPRequestHandler]) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
