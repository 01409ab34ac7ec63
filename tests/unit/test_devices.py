from __future__ import annotations

import logging

import pytest

from michigan.devices import FALLBACK_VARIABLE, GPUUnavailableError, check_gpus


def test_no_request_runs_on_whatever_jax_has():
    assert check_gpus(0) in {"cpu", "gpu", "tpu"}


def test_gpu_request_without_a_gpu_fails_with_a_way_out(monkeypatch):
    monkeypatch.delenv(FALLBACK_VARIABLE, raising=False)
    monkeypatch.setattr("jax.default_backend", lambda: "cpu")
    with pytest.raises(GPUUnavailableError, match=r"asked for 1 GPU\(s\) but JAX sees 0") as info:
        check_gpus(1)
    assert f"{FALLBACK_VARIABLE}=cpu" in str(info.value)
    assert "michigan-cuda.yaml" in str(info.value)


def test_cpu_fallback_warns_and_continues(monkeypatch, caplog):
    monkeypatch.setenv(FALLBACK_VARIABLE, "cpu")
    monkeypatch.setattr("jax.default_backend", lambda: "cpu")
    with caplog.at_level(logging.WARNING, logger="michigan.devices"):
        assert check_gpus(2) == "cpu"
    assert "running on the CPU" in caplog.text


def test_unknown_fallback_is_rejected():
    with pytest.raises(ValueError, match="MICHIGAN_GPU_FALLBACK='gpu'"):
        check_gpus(1, fallback="gpu")
