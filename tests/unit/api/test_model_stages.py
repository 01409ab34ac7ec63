"""The model stages call the API: train, encode, train a generator, generate, score codes, on files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from michigan import keys
from michigan.api.cells import PROVENANCE
from michigan.cli import main
from michigan.data.preprocess import PreprocessParams, preprocess
from michigan.io import read_h5ad, read_json, write_h5ad
from michigan.predict.tasks import CEILING, FLOOR
from michigan.simulate import add_ground_truth_factors, splat_paths

REP = {
    "latent_dim": 2,
    "encoder_hidden": [8],
    "decoder_hidden": [8],
    "batch_size": 16,
    "epochs": 2,
    "checkpoint_every": 2,
}
GEN = {
    "generator_hidden": [8],
    "critic_hidden": [8, 2],
    "noise_dim": 2,
    "batch_size": 16,
    "n_critic": 1,
    "epochs": 2,
    "checkpoint_every": 2,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """data.h5ad -> btcvae/ -> codes.h5ad -> michigan/ -> generated.h5ad, through the CLI."""
    root = tmp_path_factory.mktemp("stages")
    raw = splat_paths(seed=2, n_genes=40, batch_cells=[40, 40], group_prob=[0.5, 0.5])
    add_ground_truth_factors(raw)
    params = PreprocessParams(min_genes=1, min_cells=1, n_top_genes=20)
    data = preprocess(raw, params=params)
    data.obs[keys.CELL_TYPE] = data.obs[keys.BATCH].map({"Batch1": "A549", "Batch2": "K562"})
    data.obs[keys.DRUG] = data.obs[keys.PATH].map({"Path1": "S1628", "Path2": "DMSO"})
    write_h5ad(data, root / "data.h5ad")
    data = ["--input", str(root / "data.h5ad"), "--seed", "0"]
    run_out = root / "generated.h5ad"
    codes = ["--codes", str(root / "c.h5ad"), "--code-mode", "sampled"]
    steps = [
        ["train-representation", *data, "--model", "btcvae", "--output", str(root / "btcvae")],
        ["encode", *data, "--model-dir", str(root / "btcvae"), "--output", str(root / "c.h5ad")],
        [
            "train-generator",
            *data,
            *codes,
            "--model",
            "michigan",
            "--output",
            str(root / "michigan"),
        ],
        [
            "generate",
            *data,
            *codes,
            "--model-dir",
            str(root / "michigan"),
            "--output",
            str(run_out),
        ],
    ]
    sections = {"train-representation": REP, "train-generator": GEN}
    for argv in steps:
        extra = ["--params", json.dumps(sections[argv[0]])] if argv[0] in sections else []
        assert main([*argv, *extra]) == 0, argv[0]
    return root


def test_a_trained_model_directory_records_its_genes(run):
    info = read_json(run / "btcvae" / "model.json")
    data = read_h5ad(run / "data.h5ad")
    assert info["genes"] == list(data.var_names)
    assert info["epochs_done"] == 2
    assert not (run / "btcvae" / "checkpoint").exists()


def test_encode_writes_the_three_codes_of_every_cell(run):
    codes = read_h5ad(run / "c.h5ad")
    assert codes.obsm[keys.CODE_MEAN].shape == (80, 2)
    assert {keys.CODE_LOGSIGMA, keys.CODE_SAMPLE} <= set(codes.obsm)


def test_generated_h5ad_has_labels_scaling_and_provenance(run):
    fake, real = read_h5ad(run / "generated.h5ad"), read_h5ad(run / "data.h5ad")
    assert fake.obs["generated"].all()
    assert list(fake.obs[keys.BATCH]) == list(real.obs[keys.BATCH])
    np.testing.assert_array_equal(fake.var["mean"], real.var["mean"])
    record = fake.uns[PROVENANCE]
    assert (record["model"], record["codes"], record["seed"]) == ("michigan", "sampled", 0)
    assert record["settings"]["critic_hidden"].tolist() == [8, 2]
    assert fake.obsm[keys.GENERATOR_CODE].shape == (80, 2)


def test_evaluate_disentanglement_stage_scores_the_codes_file(run):
    output = run / "metrics.json"
    argv = ["evaluate-disentanglement", "--codes", str(run / "c.h5ad"), "--seed", "0"]
    argv += ["--factors", keys.BATCH, keys.PATH, "--output", str(output)]
    argv += ["--params", json.dumps({"factor_vae_n_train": 50, "factor_vae_n_eval": 20})]
    assert main(argv) == 0
    metrics = read_json(output)
    assert {"mig_betatcvae", "mig_discrete", "spearman_gap"} <= set(metrics)


def test_generate_refuses_a_conditional_generator_without_codes(run, caplog):
    argv = ["generate", "--input", str(run / "data.h5ad"), "--seed", "0"]
    argv += ["--model-dir", str(run / "michigan"), "--output", str(run / "x.h5ad")]
    assert main(argv) == 2
    assert "give --codes and --code-mode" in caplog.text


def test_predict_heldout_stage_decodes_with_both_loaded_models(run):
    pairs = {"heldout": [["A549", "S1628"]], "delta_h_cells": 10, "n_de_genes": 0}
    data = ["--input", str(run / "data.h5ad")]
    split = ["split-heldout", *data, "--output", str(run / "split.json")]
    assert main([*split, "--params", json.dumps(pairs)]) == 0
    argv = ["predict-heldout", *data, "--seed", "0", "--split", str(run / "split.json")]
    argv += ["--codes", str(run / "c.h5ad"), "--representation", str(run / "btcvae")]
    argv += ["--generator", str(run / "michigan"), "--code-mode", "sampled", "--held-out-only"]
    argv += ["--evaluation", json.dumps({"rf_trees": 5, "rf_folds": 2, "n_pcs": 5})]
    argv += ["--output", str(run / "p.tsv"), "--summary", str(run / "p.json")]
    assert main([*argv, "--params", json.dumps(pairs)]) == 0
    table = pd.read_csv(run / "p.tsv", sep="\t")
    decoders = {"btcvae", "btcvae_none", "btcvae_spread", "michigan"}
    assert decoders <= set(table["decoder"]) <= decoders | {FLOOR, CEILING}
    assert set(table["condition"]) == {"A549-S1628"}
