"""Fixtures that skip the R-backed tests where R, rpy2 or the R package splatter is missing."""

from __future__ import annotations

from typing import Any

import pytest

#: R packages (Debian: r-bioc-singlecellexperiment, r-cran-matrix) the bridge tests build objects with
BRIDGE_R_PACKAGES = ("SingleCellExperiment", "SummarizedExperiment", "S4Vectors", "Matrix")


@pytest.fixture(scope="session")
def robjects() -> Any:
    """``rpy2.robjects`` with a running R and the Bioconductor classes, or skip."""
    pytest.importorskip("rpy2", reason="rpy2 is not installed (uv sync --extra r)")
    try:
        import rpy2.robjects as ro
    except Exception as err:  # any failure to start R means: skip
        pytest.skip(f"R cannot be started by rpy2: {err}")
    for package in BRIDGE_R_PACKAGES:
        if not ro.r(f'isTRUE(requireNamespace("{package}", quietly = TRUE))')[0]:
            pytest.skip(f"R package {package} is not installed")
    return ro


@pytest.fixture(scope="session")
def splatter_installed(robjects: Any) -> None:
    """Skip unless the R package splatter can be loaded."""
    if not robjects.r('isTRUE(requireNamespace("splatter", quietly = TRUE))')[0]:
        pytest.skip("R package splatter is not installed (see envs/splatter.yaml)")
