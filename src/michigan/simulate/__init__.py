"""Simulated single-cell data with known factors: Splat paths (native port or real Splatter) and a perturbation screen."""

from __future__ import annotations

from michigan.simulate.params import ParamSpec, SplatParams, json_schema_properties, param_specs
from michigan.simulate.screen import ScreenParams, simulate_screen
from michigan.simulate.splat import BACKENDS, simulate_native, splat_paths
from michigan.simulate.stats import splat_summary
from michigan.simulate.truth import add_ground_truth_factors, library_size_quartiles

__all__ = [
    "BACKENDS",
    "ParamSpec",
    "ScreenParams",
    "SplatParams",
    "add_ground_truth_factors",
    "json_schema_properties",
    "library_size_quartiles",
    "param_specs",
    "simulate_native",
    "simulate_screen",
    "splat_paths",
    "splat_summary",
]
