"""Bad checkpoints: corrupt or truncated files and checkpoints of runs with other settings.

Each case runs ``michigan train-representation`` on a checkpoint it must not resume and asserts exit
status 2, one error line naming the file and the differing key with both values, the checkpoint left
as it was, and no model directory where the next rule looks.
"""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pytest
from training_runs import (
    CELLS,
    PARAMS,
    interrupt_after_epoch,
    run_cli,
    single_line,
    train_argv,
    write_cells,
)

from michigan import keys
from michigan.train.checkpoint import CHECKPOINT_FILE


@pytest.fixture
def interrupted(tmp_path, monkeypatch):
    """Data, output and checkpoint folder of a 40-epoch run stopped after its epoch-20 checkpoint."""
    data = write_cells(tmp_path / "cells.h5ad")
    out, checkpoints = tmp_path / "model", tmp_path / "checkpoint"
    interrupt_after_epoch(monkeypatch, 20)
    with pytest.raises(KeyboardInterrupt):
        run_cli(train_argv(data, out, checkpoints))
    assert (checkpoints / CHECKPOINT_FILE).is_file()
    return data, out, checkpoints


def assert_refused(argv, out, checkpoints, *expected):
    """The run exits 2 with one line holding ``expected``; checkpoint untouched; no model written."""
    before = (checkpoints / CHECKPOINT_FILE).read_bytes()
    code, errors = run_cli(argv)
    assert code == 2
    line = single_line(errors)
    for text in expected:
        assert text in line, line
    assert (checkpoints / CHECKPOINT_FILE).read_bytes() == before
    assert not (out / "model.json").exists()
    assert not (out / "run.json").exists()
    return line


def test_lower_epochs_after_an_interruption_is_refused(interrupted):
    # issue 12 item 4: this used to resume and save a 40-epoch model labelled epochs=30
    data, out, checkpoints = interrupted
    line = assert_refused(
        train_argv(data, out, checkpoints, epochs=30),
        out,
        checkpoints,
        str(checkpoints / CHECKPOINT_FILE),
        "epochs: checkpoint 40, this run 30",
    )
    assert f"delete {checkpoints}" in line


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"epochs": 80}, "epochs: checkpoint 40, this run 80"),
        ({"learning_rate": 0.01}, "config.learning_rate: checkpoint 0.0001, this run 0.01"),
        ({"beta": 7.0}, "config.beta: checkpoint 100, this run 7.0"),
        ({"batch_size": 8}, "config.batch_size: checkpoint 16, this run 8"),
        ({"encoder_hidden": [6]}, "config.encoder_hidden: checkpoint [8], this run [6]"),
        ({"checkpoint_every": 5}, "checkpoint_every: checkpoint 10, this run 5"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_a_changed_setting_is_refused_naming_the_key_and_both_values(interrupted, change, expected):
    data, out, checkpoints = interrupted
    assert_refused(train_argv(data, out, checkpoints, **change), out, checkpoints, expected)


def test_another_seed_is_refused(interrupted):
    data, out, checkpoints = interrupted
    argv = train_argv(data, out, checkpoints, seed=1)
    assert_refused(argv, out, checkpoints, "seed: checkpoint 0, this run 1")


def test_changed_data_is_refused(interrupted, tmp_path):
    _, out, checkpoints = interrupted
    other = write_cells(tmp_path / "other.h5ad", seed=5)
    assert_refused(train_argv(other, out, checkpoints), out, checkpoints, "data: checkpoint ")


def test_changed_codes_of_a_conditional_generator_are_refused(tmp_path, monkeypatch):
    data = write_cells(tmp_path / "cells.h5ad")
    codes = tmp_path / "codes.h5ad"

    def write_codes(seed):
        rng = np.random.default_rng(seed)
        adata = ad.AnnData(obs=ad.read_h5ad(data).obs)
        adata.obsm[keys.CODE_MEAN] = rng.standard_normal((CELLS, 2)).astype(np.float32)
        adata.obsm[keys.CODE_LOGSIGMA] = np.zeros((CELLS, 2), np.float32)
        adata.obsm[keys.CODE_SAMPLE] = adata.obsm[keys.CODE_MEAN]
        adata.write_h5ad(codes)

    params = {
        "epochs": 4,
        "checkpoint_every": 2,
        "batch_size": 16,
        "generator_hidden": [8],
        "critic_hidden": [8],
        "noise_dim": 2,
        "validation_fraction": 0.0,
    }
    out, checkpoints = tmp_path / "gen", tmp_path / "gen-checkpoint"
    argv = [
        "train-generator",
        "--params",
        json.dumps(params),
        "--seed",
        "0",
        "--input",
        str(data),
        "--model",
        "cwgan_gp",
        "--codes",
        str(codes),
        "--code-mode",
        "mean",
        "--output",
        str(out),
        "--checkpoint-dir",
        str(checkpoints),
    ]
    write_codes(0)
    interrupt_after_epoch(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run_cli(argv)
    write_codes(1)
    assert_refused(argv, out, checkpoints, str(checkpoints / CHECKPOINT_FILE), "data: checkpoint ")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b[: len(b) // 2], "corrupt or truncated"),
        (lambda b: b[:0], "corrupt or truncated"),
        (lambda b: b"<html>not a checkpoint</html>" * 3, "corrupt or truncated"),
        (lambda b: b"\x81\xa1x\x01", "lacks the state, history or fingerprint"),
    ],
    ids=["truncated", "empty", "garbage", "other-msgpack"],
)
def test_a_damaged_checkpoint_names_its_file(interrupted, damage, expected):
    data, out, checkpoints = interrupted
    path = checkpoints / CHECKPOINT_FILE
    path.write_bytes(damage(path.read_bytes()))
    line = assert_refused(train_argv(data, out, checkpoints), out, checkpoints, str(path), expected)
    assert f"delete {checkpoints}" in line


def test_the_matching_run_resumes_and_labels_the_model_truthfully(interrupted):
    data, out, checkpoints = interrupted
    code, errors = run_cli(train_argv(data, out, checkpoints))
    assert (code, errors) == (0, [])
    info = json.loads((out / "model.json").read_text())
    assert info["epochs_done"] == info["config"]["epochs"] == PARAMS["epochs"]
    assert len(json.loads((out / "history.json").read_text())["epoch"]) == PARAMS["epochs"]
    assert not checkpoints.exists()
