"""AnnData slot names used across the package, in one place."""

from __future__ import annotations

# layers
COUNTS_LAYER = "counts"

# obs: ground-truth factors of the simulations and cell metadata of the real data
BATCH = "batch"
PATH = "path"
STEP = "step"
LIBRARY_SIZE = "library_size"
LIBRARY_SIZE_QUARTILE = "library_size_quartile"
CELL_TYPE = "cell_type"
DRUG = "drug"  # catalog number for sci-Plex, drug name for the simulated screen
CONDITION = "condition"  # "<cell_type>-<drug>"
VEHICLE = "vehicle"

#: factor columns of a Splat paths simulation, in the paper's plotting order
SIMULATION_FACTORS = (BATCH, PATH, STEP, LIBRARY_SIZE_QUARTILE)

# obsm: codes of a representation model
CODE_MEAN = "X_code_mean"
CODE_LOGSIGMA = "X_code_logsigma"  # log standard deviation of q(z|x)
CODE_SAMPLE = "X_code_sample"  # one posterior sample per cell

# uns
RUN_INFO = "michigan_run"
