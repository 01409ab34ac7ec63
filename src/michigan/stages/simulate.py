"""Simulation stages: the Splat paths simulations and the perturbation screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    from michigan import config as cfg

_OUTPUT = arg("--output", type=Path, required=True, help="counts .h5ad to write")


@stage(
    "simulate",
    help="Simulate counts along paths with the Splat model (native port or R Splatter).",
    section="simulation",
    arguments=(_OUTPUT,),
    inputs=lambda a: {},
    outputs=lambda a: {"counts": a.output},
)
def simulate(args: argparse.Namespace, section: cfg.SimulationConfig) -> dict[str, Any]:
    """Run the configured backend and add the ground-truth factor columns."""
    from michigan import config as cfg
    from michigan.io import write_h5ad
    from michigan.simulate import SplatParams, splat_paths
    from michigan.simulate.truth import add_ground_truth_factors

    params = cfg.library_params(SplatParams, section)
    adata = splat_paths(params, backend=section.backend)
    add_ground_truth_factors(adata)
    write_h5ad(adata, args.output)
    return {
        "backend": section.backend,
        "n_cells": adata.n_obs,
        "n_genes": adata.n_vars,
        "zero_fraction": 1.0 - adata.X.nnz / (adata.n_obs * adata.n_vars),
    }


@stage(
    "simulate-screen",
    help="Simulate a cell type x drug perturbation screen with known interactions.",
    section="screen",
    arguments=(_OUTPUT,),
    inputs=lambda a: {},
    outputs=lambda a: {"counts": a.output},
)
def simulate_screen(args: argparse.Namespace, section: cfg.ScreenConfig) -> dict[str, Any]:
    """Run :func:`michigan.simulate.screen.simulate_screen`."""
    from michigan import config as cfg
    from michigan.io import write_h5ad
    from michigan.simulate.screen import ScreenParams
    from michigan.simulate.screen import simulate_screen as run_screen

    adata = run_screen(cfg.library_params(ScreenParams, section))
    write_h5ad(adata, args.output)
    return {
        "n_cells": adata.n_obs,
        "n_genes": adata.n_vars,
        "interacting_conditions": list(adata.uns[keys.INTERACTING_CONDITIONS]),
    }
