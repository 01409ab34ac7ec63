"""The model contract: every registered model trains, saves, loads and encodes or samples alike.

Each model is trained once per module on a tiny problem (compiled chunks are cached by task and shapes,
so the other runs of a model reuse its compilation): shapes, a finite compiled epoch, resume after an
interruption equals the uninterrupted run, the same seed gives the same parameters, and the loss decreases.
"""

from __future__ import annotations

import numpy as np
import pytest
from flax import serialization

from michigan import catalogue
from michigan.config import load_section
from michigan.train import MODELS, loop, read_history
from michigan.train.artifacts import VARIABLES_FILE
from michigan.train.generator import GENERATOR_MODELS, is_conditional

N_CELLS, N_GENES, K = 64, 10, 3
EPOCHS, EVERY = 12, 3
REPRESENTATION = {
    "epochs": EPOCHS,
    "checkpoint_every": EVERY,
    "latent_dim": K,
    "beta": 5.0,
    "encoder_hidden": [16, 8],
    "decoder_hidden": [8, 16],
    "batch_size": 8,
    "learning_rate": 1e-2,
}
GENERATOR = {
    "epochs": EPOCHS,
    "checkpoint_every": EVERY,
    "generator_hidden": [8, 16],
    "critic_hidden": [16, 8, K],
    "batch_size": 8,
    "n_critic": 2,
    "noise_dim": 5,
    "wgan_noise_dim": 4,
    "info_code_dim": K,
    "learning_rate": 5e-3,
    "mi_weight": 1.0,
}
OFFSET = 3.0  # the cells sit far from the origin, where an untrained generator puts them
# cwgan_gp trains on mean codes and michigan on sampled codes, so both code paths are exercised
CODE_MODE = {"cwgan_gp": "mean", "michigan": "sampled"}
ITERATIVE = [name for name, entry in MODELS.items() if entry.iterative]


@pytest.fixture(scope="module")
def problem():
    """Cells on a 3-d linear manifold plus noise, shifted by OFFSET, and their (known) codes."""
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(N_CELLS, K)).astype(np.float32)
    x = codes @ rng.normal(size=(K, N_GENES)) + 0.3 * rng.normal(size=(N_CELLS, N_GENES)) + OFFSET
    logsigma = np.full((N_CELLS, K), np.log(0.1), np.float32)
    return x.astype(np.float32), codes, logsigma


def train(name, problem, out_dir, *, seed=0):
    x, codes, logsigma = problem
    entry = MODELS[name]
    if entry.kind == "representation":
        config = load_section("representation", params=REPRESENTATION)
        return entry.train(x, config, model=name, seed=seed, out_dir=out_dir)
    config = load_section("generator", params=GENERATOR)
    extra = {}
    if entry.conditional:
        extra = {"codes": CODE_MODE[name], "code_mean": codes, "code_logsigma": logsigma}
    return entry.train(x, config, model=name, seed=seed, out_dir=out_dir, **extra)


@pytest.fixture(scope="module")
def trained(problem, tmp_path_factory):
    """``trained(name)``: the model directory of one uninterrupted run (trained once per module)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = train(name, problem, tmp_path_factory.mktemp(name))
        return cache[name]

    return get


def variables(model_dir):
    return serialization.msgpack_restore((model_dir / VARIABLES_FILE).read_bytes())


def assert_trees_equal(a, b):
    flat_a, flat_b = _flatten(a), _flatten(b)
    assert flat_a.keys() == flat_b.keys()
    for key in flat_a:
        np.testing.assert_array_equal(flat_a[key], flat_b[key], err_msg=key)


def _flatten(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out |= _flatten(value, f"{prefix}/{key}")
        return out
    return {prefix: np.asarray(tree)}


def test_registry_holds_every_catalogue_model_with_its_trainer():
    assert list(MODELS) == list(catalogue.MODELS)
    for name, entry in MODELS.items():
        model = catalogue.MODELS[name]
        assert (entry.kind, entry.conditional, entry.iterative) == (
            model.kind,
            model.conditional,
            model.iterative,
        )
        if entry.kind == "generator":
            assert is_conditional(name) == model.conditional, name
    assert set(GENERATOR_MODELS) == set(catalogue.models("generator"))


@pytest.mark.parametrize("name", list(MODELS))
def test_shapes_after_save_and_load(name, problem, trained):
    x, codes, _ = problem
    model = MODELS[name].load(trained(name))
    if MODELS[name].kind == "representation":
        encoded = model.encode(x, seed=1)
        for part in encoded:
            assert part.shape == (N_CELLS, K)
            assert part.dtype == np.float32
        assert model.decode(encoded.mean, seed=None).shape == (N_CELLS, N_GENES)
        assert model.reconstruct(x, seed=2).shape == (N_CELLS, N_GENES)
        # the sample is mean + std * noise with the documented seed
        np.testing.assert_array_equal(model.encode(x, seed=1).sample, encoded.sample)
        return
    request = {"codes": codes[:5]} if model.conditional else {"n_cells": 5}
    out = model.generate(seed=0, **request)
    assert out.x.shape == (5, N_GENES)
    assert out.code.shape == (5, model.code_dim)
    assert np.all(np.isfinite(out.x))
    np.testing.assert_array_equal(model.generate(seed=0, **request).x, out.x)  # seeded
    if not model.conditional:  # given codes are passed through (e.g. for traversals)
        np.testing.assert_array_equal(model.generate(seed=1, codes=out.code).code, out.code)


@pytest.mark.parametrize("name", ITERATIVE)
def test_compiled_epochs_are_finite_and_recorded(name, trained):
    history = read_history(trained(name))
    np.testing.assert_array_equal(history["epoch"], np.arange(1, EPOCHS + 1))
    for key, values in history.items():
        assert values.shape == (EPOCHS,), key
        assert np.all(np.isfinite(values)), key


@pytest.mark.parametrize("name", ITERATIVE)
def test_resume_after_interruption_equals_uninterrupted_run(
    name, problem, trained, tmp_path, monkeypatch
):
    real_save = loop.save_checkpoint

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # killed right after the first chunk's checkpoint

    monkeypatch.setattr(loop, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(name, problem, tmp_path)
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    resumed = train(name, problem, tmp_path)
    assert_trees_equal(variables(resumed), variables(trained(name)))
    for key, values in read_history(trained(name)).items():
        np.testing.assert_array_equal(read_history(resumed)[key], values, err_msg=key)


@pytest.mark.parametrize("name", list(MODELS))
def test_same_seed_gives_the_same_parameters(name, problem, trained, tmp_path):
    assert_trees_equal(variables(train(name, problem, tmp_path)), variables(trained(name)))


@pytest.mark.parametrize("name", ITERATIVE)
def test_training_makes_progress_on_a_tiny_problem(name, problem, trained):
    if MODELS[name].kind == "representation":
        loss = read_history(trained(name))["loss"]
        # mean of the last three epochs against the first three
        assert loss[-3:].mean() < loss[:3].mean()
        return
    # GAN losses need not fall monotonically; what must happen is that the generated cells move
    # toward the data. An untrained generator's cells sit near 0, i.e. about OFFSET away in mean.
    x, codes, _ = problem
    model = MODELS[name].load(trained(name))
    request = {"codes": codes} if model.conditional else {"n_cells": N_CELLS}
    fake = model.generate(seed=0, **request).x
    untrained_error = np.abs(x.mean(axis=0)).mean()
    assert np.abs(fake.mean(axis=0) - x.mean(axis=0)).mean() < 0.9 * untrained_error
