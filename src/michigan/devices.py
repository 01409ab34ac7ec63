"""Which device a training stage runs on: check that requested GPUs exist, or fall back to the CPU.

A rule asks for GPUs through its ``gpu`` resource (set by a cluster profile); the stage receives the
count as ``--gpus``. JAX runs on whatever it finds, so a GPU request on a machine where JAX sees none
(no GPU, or a CPU-only jaxlib) is an error with a message saying how to fix it, unless the
environment variable ``MICHIGAN_GPU_FALLBACK=cpu`` allows running on the CPU instead.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

FALLBACK_VARIABLE = "MICHIGAN_GPU_FALLBACK"
FALLBACKS = ("error", "cpu")


class GPUUnavailableError(OSError):
    """GPUs were requested but JAX sees none (and no CPU fallback is allowed)."""


def check_gpus(requested: int, *, fallback: str | None = None) -> str:
    """Return the JAX backend training will use, after checking a GPU request.

    Parameters
    ----------
    requested
        GPUs the job asked for (0: no request, any device is fine).
    fallback
        ``"error"`` or ``"cpu"``; default: the ``MICHIGAN_GPU_FALLBACK`` environment variable,
        else ``"error"``.

    Raises
    ------
    GPUUnavailableError
        If GPUs were requested, JAX sees fewer, and the fallback is ``"error"``.
    ValueError
        For an unknown fallback value.
    """
    import jax

    fallback = fallback or os.environ.get(FALLBACK_VARIABLE, "error")
    if fallback not in FALLBACKS:
        msg = f"{FALLBACK_VARIABLE}={fallback!r} is not one of {FALLBACKS}"
        raise ValueError(msg)
    backend = jax.default_backend()
    found = len(jax.devices()) if backend == "gpu" else 0
    if requested <= found:
        logger.info("JAX backend %s, devices %s", backend, [str(d) for d in jax.devices()])
        return backend
    problem = (
        f"this job asked for {requested} GPU(s) but JAX sees {found} (backend {backend!r}, "
        f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})"
    )
    if fallback == "cpu":
        logger.warning("%s; running on the CPU because %s=cpu", problem, FALLBACK_VARIABLE)
        return backend
    msg = (
        f"{problem}. Install JAX with CUDA (`pip install 'michigan[gpu]'` or envs/michigan-cuda.yaml), "
        f"run on a GPU node, ask for no GPU (MICHIGAN_TRAIN_GPUS=0 with profiles/slurm), or set "
        f"{FALLBACK_VARIABLE}=cpu to train on the CPU instead"
    )
    raise GPUUnavailableError(msg)
