"""The user_data experiment on an AnnData file written by other software: counts in a layer, its
own obs column names (one with a space), a cell type, a drug and held-out pairs (issue 13, item 4).

A dry run checks the jobs the experiment plans; a miniature real run (marker ``slow``) goes from the
user's file to metrics, generated cells, figures and the held-out prediction.
"""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import yaml

from workflow_runs import snakemake

REPO = Path(__file__).resolve().parents[2]
RUN = "results/h5ad/mine/all/seed0"
PREDICTION = "results/h5ad/mine/prediction/seed0"


def user_file(path: Path) -> Path:
    """2 cell lines x 3 treatments x 30 cells of negative-binomial counts, stored as another tool
    would: log-normalised X, the raw counts in layers["raw_counts"], its own obs names."""
    rng = np.random.default_rng(0)
    lines, treatments, per_group, n_genes = ["L1", "L2"], ["ctrl", "t1", "t2"], 30, 120
    base = rng.gamma(2.0, 1.0, n_genes)
    rows, obs = [], []
    for i, line in enumerate(lines):
        for j, treatment in enumerate(treatments):
            effect = np.exp(rng.normal(0, 0.6, n_genes) * (0.5 * i + 0.5 * j))
            rows.append(rng.negative_binomial(5, 5 / (5 + base * effect), (per_group, n_genes)))
            obs += [(line, treatment) for _ in range(per_group)]
    counts = np.vstack(rows).astype(np.float32)
    frame = pd.DataFrame(obs, columns=["cell line", "treatment"])
    frame["donor batch"] = rng.choice(["b1", "b2"], len(frame))
    frame["vehicle"] = frame["treatment"] == "ctrl"
    frame.index = [f"bc{i:04d}" for i in range(len(frame))]
    adata = ad.AnnData(
        np.log1p(counts / counts.sum(1, keepdims=True) * 1e4),
        obs=frame.astype({"cell line": "category", "treatment": "category"}),
        var=pd.DataFrame(index=[f"gene{g}" for g in range(n_genes)]),
    )
    adata.layers["raw_counts"] = counts
    adata.write_h5ad(path)
    return path


def user_config(workdir: Path) -> Path:
    latent = 3
    config = {
        "seeds": [0],
        "experiments": ["user_data"],
        "h5ad": {
            "datasets": {
                "mine": {
                    "path": str(user_file(workdir / "cells.h5ad")),
                    "counts_layer": "raw_counts",
                    "factor_keys": ["donor batch", "cell line"],
                    "cell_type_key": "cell line",
                    "drug_key": "treatment",
                }
            }
        },
        "preprocess": {"min_genes": 1, "min_cells": 1, "n_top_genes": 60},
        "representation": {
            "models": ["ppca", "btcvae"],
            "latent_dim": latent,
            "encoder_hidden": [16],
            "decoder_hidden": [16],
            "epochs": 2,
            "batch_size": 16,
            "checkpoint_every": 2,
        },
        "generator": {
            "models": ["wgan_gp", "michigan"],
            "codes": ["sampled"],
            "noise_dim": 4,
            "wgan_noise_dim": latent,
            "generator_hidden": [16],
            "critic_hidden": [16, latent],
            "epochs": 1,
            "batch_size": 16,
            "n_critic": 2,
            "checkpoint_every": 1,
        },
        "evaluation": {
            "mig_max_cells": 150,
            "factor_vae_n_train": 100,
            "factor_vae_n_eval": 50,
            "factor_vae_n_var": 100,
            "factor_vae_batch_size": 16,
            "n_pcs": 5,
            "n_cells": 50,
            "rf_trees": 5,
            "rf_folds": 2,
        },
        "prediction": {
            "max_cells": 16,
            "delta_h_cells": 10,
            "n_de_genes": 5,
            "lowdh_k": 1,
            "lowdh_codes": "sampled",
            "by_dataset": {"h5ad/mine": {"heldout": [["L2", "t2"]]}},
        },
        "figures": {
            "umap_n_pcs": 5,
            "umap_n_neighbors": 10,
            "traversal_max_cells": 20,
            "traversal_steps": 3,
            "traversal_top_genes": 5,
            "traversal_wgan_candidates": 50,
            "mi_max_cells": 150,
            "dpi": 50,
        },
    }
    path = workdir / "user.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_plans_every_part_of_the_experiment(tmp_path):
    result = snakemake(tmp_path, "--dry-run", "--configfile", str(user_config(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout
    for rule in (
        "import_h5ad",
        "evaluate_disentanglement",
        "evaluate_generator_disentanglement",
        "evaluate_generation",
        "umap",
        "code_factor_bars",
        "latent_traversal",
        "split_heldout",
        "predict_heldout",
        "prediction_statistics",
    ):
        assert f"rule {rule}:" in text or f"\n{rule} " in text, rule


@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("user_data")
    result = snakemake(workdir, "--cores", "2", "--configfile", str(user_config(workdir)))
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


@pytest.mark.slow
def test_user_file_goes_to_metrics_generated_cells_figures_and_predictions(user_run):
    disentanglement = json.loads((user_run / RUN / "btcvae" / "disentanglement.json").read_text())
    assert "factorvae_score" in disentanglement
    generated = ad.read_h5ad(user_run / RUN / "michigan_sampled" / "generated.h5ad")
    assert generated.n_vars == ad.read_h5ad(user_run / "results/h5ad/mine/preprocessed.h5ad").n_vars
    assert (user_run / RUN / "wgan_gp" / "generation.json").is_file()
    for figure in ("umap_codes", "traversal_umap", "code_factor_bars"):
        assert (user_run / RUN / "figures" / f"{figure}.png").stat().st_size > 0
    statistics = pd.read_csv(user_run / PREDICTION / "statistics.tsv", sep="\t")
    assert len(statistics)
    record = json.loads((user_run / "results/h5ad/mine/counts.run.json").read_text())
    assert record["config"]["datasets"]["mine"]["counts_layer"] == "raw_counts"
