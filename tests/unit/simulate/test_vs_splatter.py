"""The native port against real Splatter 1.22.1: the reference README's summary statistics.

The references are single Splatter runs (seed 1) of 10,000 cells x 5,000 genes. Simulating that
in a test takes too long on two cores, so each setting is simulated twice at a smaller size, and
every statistic is checked on the sample that keeps it comparable:

* ``genes``: all 5,000 genes, 2,000 cells. Gene-level statistics (gene-mean quantiles, outlier
  and DE shares, the mean-variance relation for means >= 0.1, library sizes, the zero fraction)
  do not depend on the cell count in expectation; only their noise grows.
* ``cells``: all 10,000 cells, 2,000 genes, ``lib_loc`` lowered by ``log(5000 / 2000)`` so every
  gene keeps the reference's expected count per cell. Cell-level statistics (cells per path and
  step, step-profile R^2 and CV, genes without counts, the lowest mean bin) depend on cells per
  step and on the per-gene depth, both kept; only the number of genes behind each median drops.

Counts of genes are compared as shares of the genes simulated.

Tolerances. For every statistic, ``SPREAD`` holds the port's seed-to-seed standard deviation at
the test size (20 seeds) and at the reference size (12 seeds), measured with
``python benchmarks/simulate_vs_splatter.py --seeds 20 --cells 2000`` (``genes``),
``--seeds 20 --genes 2000 --scale-library`` (``cells``) and ``--seeds 12`` (full size). The port
run and the Splatter reference are two independent draws, so their difference has sd
``hypot(sd_test, sd_reference)``; the check allows ``K = 4`` of those. Real Splatter's own spread
over seeds matches the port's (docs/simulation.md), so a correct port fails a statistic with
probability ~6e-5 per statistic. A wrong model is caught: ``bcv_common = 0.2`` instead of 0.1
fails the dispersion checks, and a linear step fails the non-linear reference (tests below).
The checks pass for seeds 1-8 as well as for the SEED used here (checked when they were written).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from michigan.simulate import SplatParams, splat_paths
from michigan.simulate.stats import splat_summary

REFERENCE = json.loads(
    (Path(__file__).parents[2] / "data/simulate/splatter_reference_stats.json").read_text()
)
SEED = 7
K = 4.0
GENES_SAMPLE = {"batch_cells": [1000, 1000]}
CELLS_SAMPLE_GENES = 2000
#: statistics that count genes (by name prefix or suffix), compared as a share of the genes simulated
PER_GENE_PREFIXES = ("outlier_genes", "de_genes_", "nonlinear_genes_", "genes_no_counts")
PER_GENE_SUFFIX = "_n"

# statistic: (sample, (sd at test size, sd at reference size) for the linear, then the non-linear
# setting); shares of genes for the PER_GENE statistics
SPREAD = {
    "zero_fraction": ("genes", (0.007, 0.0055), (0.0071, 0.0053)),
    "lib_mean": ("genes", (300, 120), (300, 130)),
    "lib_sd": ("genes", (180, 72), (180, 72)),
    "lib_median": ("genes", (400, 170), (430, 170)),
    "exp_lib_mean": ("genes", (300, 130), (300, 130)),
    "exp_lib_sd": ("genes", (180, 70), (180, 70)),
    "log_exp_lib_mean": ("genes", (0.0047, 0.002), (0.0047, 0.002)),
    "log_exp_lib_sd": ("genes", (0.0021, 0.00077), (0.0021, 0.00077)),
    "lib_exp_corr": ("genes", (6.6e-05, 5.2e-05), (6.4e-05, 4.1e-05)),
    "gene_mean_q5": ("genes", (0.0045, 0.005), (0.0039, 0.0048)),
    "gene_mean_q25": ("genes", (0.039, 0.035), (0.041, 0.032)),
    "gene_mean_q50": ("genes", (0.12, 0.092), (0.13, 0.087)),
    "gene_mean_q75": ("genes", (0.31, 0.26), (0.32, 0.25)),
    "gene_mean_q95": ("genes", (8.5, 10), (7.7, 10)),
    "outlier_genes": ("genes", (0.003, 0.0032), (0.003, 0.0032)),
    "de_genes_Path1": ("genes", (0.0078, 0.0082), (0.0078, 0.0082)),
    "de_genes_Path2": ("genes", (0.0086, 0.0034), (0.0086, 0.0034)),
    "loglog_slope": ("genes", (0.0029, 0.0039), (0.0027, 0.0039)),
    "loglog_intercept": ("genes", (0.0019, 0.002), (0.0022, 0.0022)),
    "bin1_n": ("genes", (0.0064, 0.0064), (0.0066, 0.0068)),
    "bin1_var_over_mean": ("genes", (0.0096, 0.0064), (0.011, 0.007)),
    "bin1_excess_dispersion": ("genes", (0.087, 0.053), (0.085, 0.067)),
    "bin2_n": ("genes", (0.0074, 0.0052), (0.0074, 0.0052)),
    "bin2_var_over_mean": ("genes", (0.014, 0.007), (0.015, 0.01)),
    "bin2_excess_dispersion": ("genes", (0.0087, 0.0065), (0.0083, 0.0068)),
    "bin3_n": ("genes", (0.0084, 0.0082), (0.0094, 0.0082)),
    "bin3_var_over_mean": ("genes", (0.044, 0.054), (0.067, 0.041)),
    "bin3_excess_dispersion": ("genes", (0.0029, 0.004), (0.0033, 0.0032)),
    "bin4_n": ("genes", (0.0013, 0.002), (0.0015, 0.002)),
    "bin4_var_over_mean": ("genes", (0.44, 0.62), (0.45, 0.82)),
    "bin4_excess_dispersion": ("genes", (0.0035, 0.0022), (0.0036, 0.0031)),
    "cells_Path1": ("cells", (41, 44), (41, 44)),
    "cells_Path2": ("cells", (41, 44), (41, 44)),
    "cells_per_step_min": ("cells", (5.1, 5.8), (7.2, 5.3)),
    "cells_per_step_max": ("cells", (7.2, 5.9), (8.8, 5.9)),
    "genes_no_counts": ("cells", (0.0008, 0.00056), (0.0007, 0.00034)),
    "bin0_n": ("cells", (0.0049, 0.0022), (0.0047, 0.0024)),
    "bin0_var_over_mean": ("cells", (0.029, 0.011), (0.031, 0.012)),
    "bin0_excess_dispersion": ("cells", (3.5, 1.3), (3.3, 1.5)),
    "step_r2_median": ("cells", (0.0011, 0.00057), (0.016, 0.0085)),
    # the linear port gave exactly 1.0 in all 32 runs, as Splatter: no spread, exact match
    "step_r2_frac_090": ("cells", (0, 0), (0.049, 0.031)),
    "nonde_profile_cv": ("cells", (0.0044, 0.0026), (0.0039, 0.0021)),
}
#: statistics fixed by the design (no randomness), compared exactly
EXACT = {
    "nonlinear_genes_Path1": "genes",
    "nonlinear_genes_Path2": "genes",
    "cells_Batch1": "cells",
}


def _simulate(setting: str, sample: str, **overrides: float) -> dict[str, float]:
    params = {
        **REFERENCE["params"],
        "seed": SEED,
        "path_nonlinear_prob": REFERENCE["path_nonlinear_prob"][setting],
    }
    if sample == "genes":
        params.update(GENES_SAMPLE)
    else:
        reference_genes = params["n_genes"]
        params["n_genes"] = CELLS_SAMPLE_GENES
        splatter_lib_loc = SplatParams(seed=0).lib_loc  # the reference kept Splatter's default
        params["lib_loc"] = splatter_lib_loc + math.log(CELLS_SAMPLE_GENES / reference_genes)
    return splat_summary(splat_paths(**{**params, **overrides}))


def _comparable(name: str, value: float, n_genes: float) -> float:
    """Gene counts as shares of the genes simulated; everything else as is."""
    if name.startswith(PER_GENE_PREFIXES) or name.endswith(PER_GENE_SUFFIX):
        return value / n_genes
    return value


def _violations(
    setting: str, summaries: dict[str, dict[str, float]], reference: dict[str, float]
) -> list[str]:
    """Statistics of the given samples outside their tolerance, as readable lines."""
    index = 0 if setting == "linear" else 1
    reference_genes = REFERENCE["params"]["n_genes"]
    checks = [
        (name, sample, K * math.hypot(*spreads[index]))
        for name, (sample, *spreads) in SPREAD.items()
    ]
    checks += [(name, sample, 0.0) for name, sample in EXACT.items()]
    lines = []
    for name, sample, tolerance in checks:
        if sample not in summaries:
            continue
        ours = _comparable(name, summaries[sample][name], summaries[sample]["n_genes"])
        theirs = _comparable(name, reference[name], reference_genes)
        if abs(ours - theirs) > tolerance:
            lines.append(
                f"{name}: port {ours:.5g}, Splatter {theirs:.5g}, tolerance {tolerance:.3g}"
            )
    return lines


@pytest.fixture(scope="module", params=["linear", "nonlinear"])
def port(request) -> tuple[str, dict[str, dict[str, float]]]:
    setting = request.param
    return setting, {sample: _simulate(setting, sample) for sample in ("genes", "cells")}


# slow tier: simulates the reference's data sets (the `port` fixture)
@pytest.mark.slow
def test_port_matches_real_splatter(port):
    setting, summaries = port
    violations = _violations(setting, summaries, REFERENCE["stats"][setting])
    assert not violations, f"{setting} step:\n" + "\n".join(violations)


# slow tier: shares the `port` fixture's simulations
@pytest.mark.slow
def test_a_linear_step_fails_the_nonlinear_reference(port):
    setting, summaries = port
    if setting != "linear":
        pytest.skip("uses the linear simulation")
    violations = _violations("nonlinear", summaries, REFERENCE["stats"]["nonlinear"])
    failed = {line.split(":")[0] for line in violations}
    assert {"step_r2_frac_090", "nonde_profile_cv"} <= failed


def test_a_wrong_dispersion_fails_the_check():
    summaries = {"genes": _simulate("linear", "genes", bcv_common=0.2)}
    failed = {
        line.split(":")[0]
        for line in _violations("linear", summaries, REFERENCE["stats"]["linear"])
    }
    assert {"bin3_excess_dispersion", "bin4_excess_dispersion"} <= failed
