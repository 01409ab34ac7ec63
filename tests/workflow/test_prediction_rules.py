"""The held-out prediction experiment's rules (workflow/rules/predict.smk) on a tiny screen.

A dry run checks the jobs the experiment's targets need; a miniature run (marker ``slow``) goes
from the simulated screen through both training sets (heldout, lowdh) to the figures and checks
every table, summary and figure. The tiny configuration keeps the networks, epochs and forests
minimal; the numbers are not meant to be good, only well-formed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workflow_runs

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 1800  # a loaded 2-core machine needs up to ~16 min for the tiny experiment
FIGURES = "results/screen/prediction/seed0"
TARGETS = (
    f"{FIGURES}/fig4a_rf_error.png",
    f"{FIGURES}/fig4b_delta_h.png",
    f"{FIGURES}/fig4c_lowdh.png",
    f"{FIGURES}/statistics.tsv",
    "results/screen/prediction/verdicts.tsv",
)
TINY = {
    "seeds": [0],
    "screen": {
        "n_genes": 60,
        "n_drugs": 4,
        "cells_per_condition": 24,
        "interactions": ["CellType1-Drug1", "CellType2-Drug3"],
    },
    "preprocess": {"min_genes": 1, "min_cells": 1, "n_top_genes": 40},
    "representation": {
        "models": ["btcvae"],
        "latent_dim": 3,
        "encoder_hidden": [16],
        "decoder_hidden": [16],
        "beta": 2.0,
        "epochs": 2,
        "batch_size": 16,
        "learning_rate": 1.0e-2,
        "checkpoint_every": 2,
    },
    "generator": {
        "models": ["michigan"],
        "codes": ["sampled"],
        "noise_dim": 4,
        "generator_hidden": [16],
        "critic_hidden": [16, 3],
        "epochs": 1,
        "batch_size": 16,
        "n_critic": 2,
        "checkpoint_every": 1,
    },
    "evaluation": {"rf_trees": 5, "rf_folds": 2, "n_pcs": 5},
    "prediction": {"max_cells": 16, "delta_h_cells": 10, "n_de_genes": 10, "lowdh_k": 2},
}
# the default held-out pairs of the screen (CellType1-Drug1, CellType2-Drug2, CellType3-Drug4):
# 15 combinations x 2 controls, less the held-out cell type as control of the same drug elsewhere
N_PREDICTIONS = 15 * 2 - 3 * 2
# per prediction: three beta-TCVAE noise arms, MichiGAN, the floor and the ceiling reference
ROWS_PER_PREDICTION = 6


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the repository's Snakefile in ``workdir`` with the tiny configuration."""
    return workflow_runs.snakemake(
        workdir, *args, config=TINY, targets=TARGETS, profile=None, timeout=TIMEOUT_S
    )


def test_dry_run_lists_the_experiments_jobs(tmp_path):
    done = snakemake(tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout, flags=re.MULTILINE))
    # one code mode: a btcvae and a MichiGAN per training set (heldout, lowdh), one prediction run
    # per training set, one split of each kind, three figure jobs
    expected = {
        "split_heldout": "1",
        "split_lowdh": "1",
        "train_representation": "2",
        "encode": "2",
        "train_generator": "2",
        "predict_heldout": "2",
        "prediction_figures": "1",
        "prediction_figure_lowdh": "1",
        "prediction_statistics": "1",
        "prediction_verdicts": "1",
    }
    assert {rule: counts.get(rule) for rule in expected} == expected


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("prediction")
    done = snakemake(workdir, "--cores", "2")
    assert done.returncode == 0, done.stderr[-4000:]
    return workdir


def read_run(workdir: Path, trainset: str) -> tuple[pd.DataFrame, dict]:
    run = workdir / f"results/screen/{trainset}/seed0/prediction/sampled"
    table = pd.read_csv(run / "predictions.tsv", sep="\t")
    return table, json.loads((run / "summary.json").read_text())


@pytest.mark.slow
def test_heldout_run_predicts_every_combination_from_each_control(experiment):
    table, summary = read_run(experiment, "heldout")
    assert len(table) == ROWS_PER_PREDICTION * N_PREDICTIONS
    assert set(table["decoder"]) == {
        "btcvae",
        "btcvae_none",
        "btcvae_spread",
        "michigan",
        "unshifted_control",
        "real_half",
    }
    assert table["held_out"].sum() == ROWS_PER_PREDICTION * 6  # the six predictions
    values = table[["rf_error", "r2_mean_scgen", "r2_mean_cpa", "edistance", "delta_h"]]
    assert np.isfinite(values.to_numpy()).all()
    assert table["rf_error"].between(0, 1).all()
    assert summary["n_predictions"] == N_PREDICTIONS
    assert summary["wilcoxon"]["held_out"]["n"] == 6
    assert set(summary["interaction_check"]) >= {"delta_h", "edistance_michigan"}
    assert 0 <= summary["interaction_check"]["delta_h"]["auc"] <= 1


@pytest.mark.slow
def test_lowdh_run_predicts_only_the_chosen_combinations(experiment):
    split = json.loads((experiment / "results/screen/splits/lowdh.json").read_text())
    ranking = pd.read_csv(experiment / "results/screen/splits/lowdh_ranking.tsv", sep="\t")
    chosen = ranking[ranking["chosen"]]
    assert [list(p) for p in zip(chosen["cell_type"], chosen["drug"], strict=True)] == split[
        "pairs"
    ]
    assert len(split["pairs"]) == 2
    assert "Vehicle" not in set(ranking["drug"])
    table, summary = read_run(experiment, "lowdh")
    assert table["held_out"].all()
    assert set(table["condition"]) == {f"{c}-{d}" for c, d in split["pairs"]}
    assert np.isfinite(table["rf_error"]).all()
    assert summary["wilcoxon"]["all"]["n"] == len(table) // ROWS_PER_PREDICTION


@pytest.mark.slow
def test_figures_and_statistics_are_written(experiment):
    for target in TARGETS[:3]:  # the figures
        path = experiment / target
        assert path.stat().st_size > 10_000, target  # a drawn figure, not an empty canvas
    statistics = pd.read_csv(experiment / TARGETS[3], sep="\t")
    assert set(statistics["run"]) == {"heldout/sampled", "lowdh/sampled"}
    heldout = statistics[statistics["run"] == "heldout/sampled"]
    # Wilcoxon: 3 metrics x 3 noise arms x 2 scopes; 2 Delta H hypotheses; truth checks of 2
    # Delta H and 2 E-distances
    assert len(heldout) == 3 * 3 * 2 + 2 + 4
    assert heldout["p_value"].dropna().between(0, 1).all()
    assert set(heldout["verdict"].dropna()) <= {"reproduced", "not reproduced", "uninformative"}
    assert heldout["verdict"].notna().sum() == 3 * 3 * 2 + 2
    verdicts = pd.read_csv(experiment / TARGETS[4], sep="\t")
    assert set(verdicts["run"]) == {"sampled/seed0", "sampled/combined"}
    # one seed: the seed average is that seed
    seed0, combined = (verdicts[verdicts["run"] == run] for run in verdicts["run"].unique())
    np.testing.assert_allclose(seed0["value"].to_numpy(float), combined["value"].to_numpy(float))
