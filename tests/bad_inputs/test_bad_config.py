"""Bad configurations stop a stage before any work: exit status 2, a message naming the key, and
nothing written (issue 12, item 6). The workflow runs the same checks (tests/workflow)."""

from __future__ import annotations

import logging

import pytest
import yaml

from michigan.cli import main

MICHIGAN = {"generator": {"models": ["michigan"]}}

CASES = {
    "nan learning rate": ({"representation": {"learning_rate": float("nan")}}, "representation.learning_rate"),
    "inf learning rate": ({"representation": {"learning_rate": float("inf")}}, "representation.learning_rate"),
    "nan beta": ({"representation": {"beta": float("nan")}}, "representation.beta"),
    "inf beta": ({"representation": {"beta": float("inf")}}, "representation.beta"),
    "-inf generator learning rate": ({"generator": {"learning_rate": float("-inf")}}, "generator.learning_rate"),
    "nan gradient penalty": ({"generator": {"gp_weight": float("nan")}}, "generator.gp_weight"),
    "nan in a by_dataset override": (
        {"representation": {"by_dataset": {"simulated/linear": {"beta": float("nan")}}}},
        "representation.by_dataset.simulated/linear.beta",
    ),
    "huge latent_dim": ({"representation": {"latent_dim": 1.0e9}}, "representation.latent_dim"),
    "huge hidden width": ({"representation": {"encoder_hidden": [1.0e9]}}, "representation.encoder_hidden.0"),
    "huge simulated gene count": ({"simulation": {"n_genes": 2.0e9}}, "simulation.n_genes"),
    "huge screen gene count": ({"screen": {"n_genes": 2.0e9}}, "screen.n_genes"),
    "simulation too big for memory": (
        {"simulation": {"n_genes": 100000, "batch_cells": [9000000, 9000000]}},
        "simulation.n_genes",
    ),
    "critic width against latent_dim": (
        {**MICHIGAN, "generator": {"models": ["michigan"], "critic_hidden": [16, 8]}},
        "generator.critic_hidden",
    ),
    "critic width against a dataset's latent_dim": (
        {
            "generator": {"models": ["michigan"], "critic_hidden": [16, 10]},
            "representation": {"by_dataset": {"screen": {"latent_dim": 4}}},
        },
        "generator.critic_hidden",
    ),
    "a dataset's critic width": (
        {"generator": {"models": ["michigan"], "by_dataset": {"screen": {"critic_hidden": [8, 3]}}}},
        "generator.by_dataset.screen.critic_hidden",
    ),
    "by_dataset key naming no dataset": (
        {"representation": {"by_dataset": {"simulated/lineer": {"beta": 10}}}},
        "representation.by_dataset.simulated/lineer",
    ),
    "by_dataset key naming an unconfigured user dataset": (
        {"preprocess": {"by_dataset": {"h5ad/absent": {"min_genes": 1}}}},
        "preprocess.by_dataset.h5ad/absent",
    ),
    "no experiments": ({"experiments": []}, "experiments"),
    "user dataset named ..": ({"h5ad": {"datasets": {"..": {"path": "x.h5ad"}}}}, "h5ad.datasets"),
}  # fmt: skip


def run_stage(tmp_path, config, *extra):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    output = tmp_path / "out" / "model"
    argv = ["train-representation", "--config", str(path), "--seed", "0", "--model", "vae"]
    argv += ["--input", str(tmp_path / "cells.h5ad"), "--output", str(output), *extra]
    return main(argv), output


@pytest.mark.parametrize(("config", "key"), CASES.values(), ids=CASES.keys())
def test_a_bad_value_stops_the_stage_naming_the_key(tmp_path, caplog, config, key):
    with caplog.at_level(logging.ERROR, logger="michigan"):
        status, output = run_stage(tmp_path, config)
    assert status == 2
    assert f"'{key}" in caplog.text, caplog.text
    assert not output.parent.exists()


def test_an_unknown_dataset_option_is_named(tmp_path, caplog):
    with caplog.at_level(logging.ERROR, logger="michigan"):
        status, output = run_stage(tmp_path, {}, "--dataset", "simulated/lineer")
    assert status == 2
    assert "--dataset 'simulated/lineer'" in caplog.text
    assert not output.parent.exists()
