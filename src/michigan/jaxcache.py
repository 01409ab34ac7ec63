"""JAX's persistent compilation cache: compile a training chunk once, reuse it in every later process.

The cache is on when ``MICHIGAN_JAX_CACHE`` or JAX's own ``JAX_COMPILATION_CACHE_DIR`` names a folder.
The workflow sets the latter to ``.snakemake/jax-cache`` for every job, and the test session does the
same, so the pipeline's jobs and the tests share their compiled programs. JAX keys each entry by the
program, the JAX version, the backend and the compiler flags, so a stale entry is never used.
"""

from __future__ import annotations

import os
import sys

#: variable naming the cache folder for the ``michigan`` command (JAX's own name works too)
CACHE_VARIABLE = "MICHIGAN_JAX_CACHE"
JAX_VARIABLE = "JAX_COMPILATION_CACHE_DIR"
#: cache compilations from this many seconds on (JAX's default, 1 s, would miss small models)
MIN_COMPILE_TIME_S = "0"


def configure_compilation_cache() -> str | None:
    """Turn the persistent cache on when a folder is named; return the folder (or ``None``).

    Works before and after JAX is imported: the settings are passed to JAX through its environment
    variables and, when JAX is already loaded, through ``jax.config``.
    """
    directory = os.environ.get(CACHE_VARIABLE) or os.environ.get(JAX_VARIABLE)
    if not directory:
        return None
    os.environ[JAX_VARIABLE] = directory
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", MIN_COMPILE_TIME_S)
    if "jax" in sys.modules:
        import jax

        jax.config.update("jax_compilation_cache_dir", directory)
        jax.config.update(
            "jax_persistent_cache_min_compile_time_secs",
            float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
        )
    return directory
