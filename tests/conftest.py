"""Session-wide test settings: one persistent JAX compilation cache for the tests and their subprocesses.

The tests compile the same small training chunks again and again, in this process and in the
``michigan`` and Snakemake processes they start; with the cache each is compiled once per machine
(see :mod:`michigan.jaxcache`). The folder is the pipeline's own, ``.snakemake/jax-cache`` at the
repository root, unless ``MICHIGAN_JAX_CACHE`` or ``JAX_COMPILATION_CACHE_DIR`` names another.
"""

from __future__ import annotations

import os
from pathlib import Path

from michigan.jaxcache import CACHE_VARIABLE, JAX_VARIABLE, configure_compilation_cache

REPO = Path(__file__).resolve().parents[1]

if not (os.environ.get(CACHE_VARIABLE) or os.environ.get(JAX_VARIABLE)):
    os.environ[JAX_VARIABLE] = str(REPO / ".snakemake" / "jax-cache")
configure_compilation_cache()
