"""Simulated single-cell data with known factors: Splat paths (native port or real Splatter) and a perturbation screen."""

from __future__ import annotations

from michigan.simulate.params import ParamSpec, SplatParams, json_schema_properties, param_specs
from michigan.simulate.splat import BACKENDS, simulate_native, splat_paths

__all__ = [
    "BACKENDS",
    "ParamSpec",
    "SplatParams",
    "json_schema_properties",
    "param_specs",
    "simulate_native",
    "splat_paths",
]
