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
TISSUE = "tissue"  # Tabula Muris tissue (heart subset = rows with tissue "Heart")
PATHWAY = "pathway"  # sci-Plex drug pathway
DOSE = "dose"  # sci-Plex dose in nM (0 for vehicle)
TIME_POINT = "time_point"  # sci-Plex hours after treatment (24 or 72)

#: factor columns of a Splat paths simulation, in the paper's plotting order
SIMULATION_FACTORS = (BATCH, PATH, STEP, LIBRARY_SIZE_QUARTILE)

# obsm: codes of a representation model
CODE_MEAN = "X_code_mean"
CODE_LOGSIGMA = "X_code_logsigma"  # log standard deviation of q(z|x)
CODE_SAMPLE = "X_code_sample"  # one posterior sample per cell

# uns
RUN_INFO = "michigan_run"
PREPROCESSING = "michigan_preprocessing"  # parameters and counts of the shared recipe
NORMALISED = "michigan_normalised"  # True: X holds log-normalised values, not counts (user data)

# uns: simulations
SPLAT_PARAMS = "splat_params"  # SplatParams.to_dict() of a Splat simulation (snake_case names)
SIMULATION_BACKEND = "simulation_backend"  # {"backend": "native" | "splatter", "version": ...}
SCREEN_PARAMS = "screen_params"  # ScreenParams.to_dict() of a simulated perturbation screen
INTERACTING_CONDITIONS = (
    "interacting_conditions"  # ground truth: "<cell_type>-<drug>" with interaction
)

# obsm of generated cells: the generator's input code (condition, InfoGAN code or WGAN noise)
GENERATOR_CODE = "X_generator_code"

# obsm of the real cells' figure embedding (michigan.plots.embedding; scanpy's name)
UMAP = "X_umap"
