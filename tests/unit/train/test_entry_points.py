"""Input checks and outcomes of the train/load entry points that the contract suite does not cover."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from michigan.config import load_section
from michigan.train import (
    load_generator,
    load_representation,
    model_entry,
    read_history,
    train_generator,
    train_representation,
)
from michigan.train.artifacts import as_float32_matrix, split_cells

GEN = {"generator_hidden": [4], "critic_hidden": [4, 2], "batch_size": 4, "epochs": 1}


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)


@pytest.fixture(scope="module")
def ppca_dir(x, tmp_path_factory):
    config = load_section("representation", params={"latent_dim": 2})
    return train_representation(
        x, config, model="ppca", seed=0, out_dir=tmp_path_factory.mktemp("p")
    )


# slow tier: compiles and trains a model
@pytest.mark.slow
def test_early_stopping_ends_training_and_is_recorded(x, tmp_path):
    # min_delta is huge, so no epoch improves: epoch 1 sets the reference, epochs 2 and 3 exhaust
    # patience 1, and training stops after epoch 3 of 50
    params = {
        "latent_dim": 2,
        "encoder_hidden": [4],
        "decoder_hidden": [4],
        "batch_size": 4,
        "epochs": 50,
        "checkpoint_every": 2,
        "validation_fraction": 0.25,
        "early_stopping_patience": 1,
        "early_stopping_min_delta": 1e6,
    }
    config = load_section("representation", params=params)
    out = train_representation(x, config, model="vae", seed=0, out_dir=tmp_path)
    info = json.loads((out / "model.json").read_text())
    assert info["stopped_early"] is True
    assert info["epochs_done"] == 3
    assert (info["n_train"], info["n_valid"]) == (30, 10)
    assert read_history(out)["valid_loss"].shape == (3,)
    assert not (out / "checkpoint").exists()  # removed after success


def test_ppca_model_directory_round_trip(x, ppca_dir):
    model = load_representation(ppca_dir)
    codes = model.encode(x, seed=0)
    # PPCA's posterior std is the same for every cell
    np.testing.assert_allclose(
        codes.logsigma, np.broadcast_to(codes.logsigma[0], codes.logsigma.shape)
    )
    assert model.reconstruct(x, seed=0).shape == x.shape


@pytest.mark.parametrize(
    ("model", "kwargs", "match"),
    [
        ("wgan_gp", {"codes": "mean"}, "unconditional"),
        ("cwgan_gp", {}, "needs codes"),
        ("cwgan_gp", {"codes": "mean"}, "code_mean"),
        ("michigan", {"codes": "sampled", "code_mean": np.zeros((40, 2))}, "code_logsigma"),
        ("michigan", {"codes": "mean", "code_mean": np.zeros((39, 2))}, "40 rows"),
        ("gan", {}, "generator model must be one of"),
    ],
)
def test_train_generator_rejects_bad_codes(x, tmp_path, model, kwargs, match):
    config = load_section("generator", params=GEN)
    with pytest.raises(ValueError, match=match):
        train_generator(x, config, model=model, seed=0, out_dir=tmp_path, **kwargs)


def test_train_representation_rejects_bad_input(x, tmp_path):
    config = load_section("representation", params={"batch_size": 64})
    with pytest.raises(ValueError, match="representation model must be one of"):
        train_representation(x, config, model="pca", seed=0, out_dir=tmp_path)
    with pytest.raises(ValueError, match="more cells than batch_size=64"):
        train_representation(x, config, model="vae", seed=0, out_dir=tmp_path)
    small = load_section("representation", params={"batch_size": 4, "validation_fraction": 0.05})
    with pytest.raises(ValueError, match="holds out 2 cells"):
        train_representation(x, small, model="vae", seed=0, out_dir=tmp_path)


def test_as_float32_matrix_checks():
    with pytest.raises(ValueError, match="NaN"):
        as_float32_matrix(np.array([[1.0, np.nan]]), name="x")
    with pytest.raises(ValueError, match="2-d"):
        as_float32_matrix(np.ones(3), name="x")
    with pytest.raises(ValueError, match="must have 4 columns"):
        as_float32_matrix(np.ones((2, 3)), name="codes", columns=4)
    assert as_float32_matrix(np.ones((2, 3), np.float64), name="x").dtype == np.float32


def test_split_cells_is_seeded_and_disjoint():
    train, valid = split_cells(100, 0.2, seed=1)
    assert (train.size, valid.size) == (80, 20)
    assert not set(train) & set(valid)
    np.testing.assert_array_equal(split_cells(100, 0.2, seed=1)[1], valid)


def test_loading_checks_kind_and_files(ppca_dir, tmp_path):
    with pytest.raises(ValueError, match="expected a 'generator' model"):
        load_generator(ppca_dir)
    with pytest.raises(FileNotFoundError, match=r"model\.json"):
        load_representation(tmp_path)


# slow tier: compiles and trains a generator
@pytest.mark.slow
def test_generate_checks_codes(x, tmp_path):
    config = load_section("generator", params=GEN | {"noise_dim": 3})
    out = train_generator(
        x, config, model="cwgan_gp", seed=0, out_dir=tmp_path, codes="mean", code_mean=x[:, :2]
    )
    model = load_generator(out)
    with pytest.raises(ValueError, match="conditional"):
        model.generate(seed=0, n_cells=3)
    with pytest.raises(ValueError, match="2 columns"):
        model.generate(seed=0, codes=np.zeros((3, 5)))


def test_unknown_registry_name():
    with pytest.raises(KeyError, match="registered models"):
        model_entry("gan")


# slow tier: compiles and trains a model
@pytest.mark.slow
def test_snapshots_every_n_epochs_end_in_the_model_directory(x, tmp_path):
    from flax import serialization

    from michigan.train.artifacts import read_snapshots

    params = {"latent_dim": 2, "encoder_hidden": [4], "decoder_hidden": [4], "batch_size": 4}
    params |= {"epochs": 6, "checkpoint_every": 2, "snapshot_every": 4}
    config = load_section("representation", params=params)
    out = train_representation(x, config, model="vae", seed=0, out_dir=tmp_path / "m")
    snapshots = read_snapshots(out)
    # epochs 2, 4, 6 end a chunk; only multiples of 4 are kept
    assert sorted(snapshots) == [4]
    final = serialization.msgpack_restore((out / "variables.msgpack").read_bytes())
    # same variables as the final ones, with the values of 2 epochs earlier
    assert jax.tree.structure(snapshots[4]) == jax.tree.structure(final)
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(snapshots[4]), jax.tree.leaves(final), strict=True)
    )


def test_snapshots_must_fall_on_chunk_boundaries(x, tmp_path):
    params = {"latent_dim": 2, "encoder_hidden": [4], "decoder_hidden": [4], "batch_size": 4}
    params |= {"epochs": 6, "checkpoint_every": 2, "snapshot_every": 3}
    config = load_section("representation", params=params)
    with pytest.raises(ValueError, match=r"snapshot_every \(3\) must be 0 or a multiple"):
        train_representation(x, config, model="vae", seed=0, out_dir=tmp_path / "m")
