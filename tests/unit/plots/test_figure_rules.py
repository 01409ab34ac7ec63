"""The figure rules (workflow/rules/figures.smk) end to end on a tiny simulation.

A dry run checks which jobs the figures need; a miniature run (marker ``slow``) goes from the
simulation through the models to every figure and checks the images, the traversal tables and the
real cells' embedding. The networks, epochs and cell counts are minimal: the numbers are not meant
to be good, only well-formed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import workflow_runs

REPO = Path(__file__).resolve().parents[3]
TIMEOUT_S = 1800
DATASET = "simulated/linear"
RUN = f"results/{DATASET}/all/seed0"
FIGURES = (
    f"results/{DATASET}/figures/umap_factors.png",
    f"{RUN}/figures/umap_codes.png",
    f"{RUN}/figures/code_factor_bars.png",
    f"{RUN}/figures/traversal_umap.png",
    f"{RUN}/figures/traversal_genes.png",
    f"results/{DATASET}/figures/traversal_population.png",
    f"{RUN}/figures/generated_codes.png",
    f"{RUN}/figures/generated_code_factor_bars.png",
)
WIDE_NOISE = 5
LATENT_DIM = 3
STEPS = 3
TOP_GENES = 4
MAX_CELLS = 12
TINY = {
    "seeds": [0],
    "simulation": {
        "variants": ["linear"],
        "n_genes": 150,
        "batch_cells": [60, 60],
        "group_prob": [0.5, 0.5],
        "path_n_steps": 5,
    },
    "preprocess": {"min_genes": 10, "n_top_genes": 40},
    "representation": {
        "models": ["btcvae"],
        "latent_dim": LATENT_DIM,
        "encoder_hidden": [16],
        "decoder_hidden": [16],
        "epochs": 2,
        "batch_size": 16,
        "checkpoint_every": 2,
    },
    "generator": {
        "models": ["wgan_gp", "infowgan_gp", "michigan"],
        "codes": ["mean"],
        "wgan_noise_dim": LATENT_DIM,
        "noise_dim": 2,
        "generator_hidden": [8],
        "critic_hidden": [8, LATENT_DIM],
        "epochs": 1,
        "batch_size": 16,
        "n_critic": 1,
        "checkpoint_every": 1,
    },
    "figures": {
        "umap_n_pcs": 10,
        "umap_n_neighbors": 10,
        "dpi": 60,
        "traversal_max_cells": MAX_CELLS,
        "traversal_steps": STEPS,
        "traversal_top_genes": TOP_GENES,
        "traversal_wgan_candidates": 50,
        "traversal_wgan_noise_dims": [WIDE_NOISE],
    },
}
MODELS = [
    "btcvae_decoder",
    "michigan_mean",
    f"wgan_gp_noise{LATENT_DIM}",
    f"wgan_gp_noise{WIDE_NOISE}",
]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the repository's Snakefile in ``workdir`` on the tiny configuration."""
    return workflow_runs.snakemake(
        workdir, *args, config=TINY, targets=FIGURES, profile=None, timeout=TIMEOUT_S
    )


def test_dry_run_plans_one_umap_per_dataset_and_one_job_per_figure_kind(tmp_path):
    done = snakemake(tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout, flags=re.MULTILINE))
    expected = {
        "umap": "1",
        "umap_codes": "1",
        "code_factor_bars": "1",
        "latent_traversal": "1",
        "traversal_population": "1",
        "generated_codes": "1",
        "generated_code_factor_bars": "1",
        # the traversal's second WGAN-GP, with figures.traversal_wgan_noise_dims
        "train_wide_wgan": "1",
    }
    assert {rule: counts.get(rule) for rule in expected} == expected
    # WGAN-GP, InfoWGAN-GP (generated codes) and MichiGAN (traversal, generated codes)
    assert counts.get("train_generator") == "3"


@pytest.fixture(scope="module")
def figures_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("figures")
    done = snakemake(workdir, "--cores", "2")
    assert done.returncode == 0, done.stderr[-4000:]
    return workdir


@pytest.mark.slow
def test_every_figure_is_a_png_image(figures_run):
    for figure in FIGURES:
        assert (figures_run / figure).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), figure


@pytest.mark.slow
def test_traversal_tables_cover_every_model_dimension_and_step(figures_run):
    genes = pd.read_csv(figures_run / RUN / "traversal/genes.tsv", sep="\t")
    cells = pd.read_csv(figures_run / RUN / "traversal/cells.tsv", sep="\t")
    assert list(dict.fromkeys(genes["model"])) == MODELS
    assert len(genes) == len(MODELS) * LATENT_DIM * STEPS * TOP_GENES
    n_population = len(cells) // (len(MODELS) * LATENT_DIM * STEPS)
    assert 1 <= n_population <= MAX_CELLS
    assert len(cells) == len(MODELS) * LATENT_DIM * STEPS * n_population
    assert np.isfinite(genes[["value", "mean_expression", "change"]].to_numpy()).all()
    assert np.isfinite(cells[["value", "umap1", "umap2"]].to_numpy()).all()
    # the population: Path1 at steps <= 5 (the default for the simulations), at most MAX_CELLS
    real = ad.read_h5ad(figures_run / f"results/{DATASET}/preprocessed.h5ad")
    matching = int(((real.obs["path"] == "Path1") & (real.obs["step"] <= 5)).sum())
    assert n_population == min(MAX_CELLS, matching)
    record = json.loads((figures_run / RUN / "traversal/genes.run.json").read_text())
    assert record["result"]["population_cells"] == n_population
    for _, panel in genes.groupby(["model", "dim"]):
        # the values of a traversal increase from step to step
        assert np.all(np.diff(panel.drop_duplicates("step")["value"].to_numpy()) >= 0)


@pytest.mark.slow
def test_embedding_keeps_batches_apart_and_places_new_cells_among_their_own(figures_run):
    from michigan.plots.embedding import load_embedding

    real = ad.read_h5ad(figures_run / f"results/{DATASET}/preprocessed.h5ad")
    embedded = ad.read_h5ad(figures_run / f"results/{DATASET}/umap/cells.h5ad")
    assert list(embedded.obs_names) == list(real.obs_names)
    coordinates = embedded.obsm["X_umap"]
    assert coordinates.shape == (real.n_obs, 2)
    batch = real.obs["batch"].to_numpy()
    # the simulated batches differ in every gene: on the map, a cell's nearest other cell is
    # of its own batch
    distances = np.linalg.norm(coordinates[:, None] - coordinates[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.mean(batch[distances.argmin(axis=1)] == batch) >= 0.95
    # new cells (real cells plus noise of a tenth of a standard deviation per gene) are placed
    # among the cells of their own batch
    # the stored embedding holds no UMAP object; the seeded refit reproduces the stored map
    stored = load_embedding(figures_run / f"results/{DATASET}/umap/embedding.npz")
    embedding = stored.with_umap(real.X)
    np.testing.assert_array_equal(embedding.coordinates, coordinates)
    noisy = real.X + 0.1 * np.random.default_rng(0).normal(size=real.X.shape)
    placed = embedding.umap_transform(embedding.pca_transform(noisy))
    nearest = np.linalg.norm(placed[:, None] - coordinates[None], axis=-1).argmin(axis=1)
    assert np.mean(batch[nearest] == batch) >= 0.95
    # and the traversal cells lie within the extent of the real cells' map
    cells = pd.read_csv(figures_run / RUN / "traversal/cells.tsv", sep="\t")
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    span = high - low
    inside = cells[["umap1", "umap2"]].to_numpy()
    assert np.all(inside >= low - span)
    assert np.all(inside <= high + span)
