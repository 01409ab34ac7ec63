from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "metrics"
DISENTANGLEMENT_CASES = (
    "A1_disentangled",
    "A3_continuous_libsize_nonlinear_step",
    "A5_unbalanced_levels",
)


class Case:
    """One reference case: input arrays, expected values and intermediates."""

    def __init__(self, name: str) -> None:
        with np.load(DATA / f"{name}.npz") as npz:
            self.arrays = {key: npz[key] for key in npz.files}
        record: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
        self.expected = {key: entry["value"] for key, entry in record["expected"].items()}
        self.intermediates = record["intermediates"]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


@pytest.fixture(scope="session")
def load_case():
    cache: dict[str, Case] = {}

    def load(name: str) -> Case:
        if name not in cache:
            cache[name] = Case(name)
        return cache[name]

    return load


@pytest.fixture(params=DISENTANGLEMENT_CASES)
def disentanglement_case(request: pytest.FixtureRequest, load_case) -> Case:
    """Each disentanglement reference case in turn (A1, A3, A5)."""
    return load_case(request.param)


@pytest.fixture(scope="session")
def perfect_code() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 2x3x4 full factorial design (60 cells per combination) and a code with one narrow,
    well separated latent per factor plus two prior-like noise latents.

    Returns factors [1440, 3], mu, logsigma and z [1440, 5].
    """
    rng = np.random.default_rng(0)
    levels = (2, 3, 4)
    grids = np.meshgrid(*[np.arange(n) for n in levels], indexing="ij")
    factors = np.repeat(np.stack([g.ravel() for g in grids], axis=1), 60, axis=0)
    n, k = factors.shape
    mu = np.hstack([5.0 * factors, rng.standard_normal((n, 2))])
    mu += 0.01 * rng.standard_normal(mu.shape)
    logsigma = np.full(mu.shape, np.log(0.05))
    logsigma[:, k:] = 0.0
    z = mu + np.exp(logsigma) * rng.standard_normal(mu.shape)
    return factors, mu, logsigma, z
