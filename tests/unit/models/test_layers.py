"""BatchNorm and dropout semantics of the hidden block in both modes, and the layer defaults."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from michigan.models.layers import BlockOptions, HiddenBlock, glorot_dense

# float32 network against float64 NumPy on O(1) values.
RTOL, ATOL = 1e-5, 1e-5


def numpy_leaky(h, slope=0.2):
    return np.where(h > 0, h, slope * h)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)


def init_block(options, x, features=3):
    block = HiddenBlock(features, "leaky_relu", options)
    variables = block.init(jax.random.PRNGKey(1), jnp.asarray(x), train=False)
    # non-trivial BatchNorm affine parameters, so that gamma/beta placement is tested
    params = jax.tree.map(np.array, variables["params"])
    params["NormAct_0"]["BatchNorm_0"]["scale"] = np.array([0.5, 2.0, 1.5], np.float32)
    params["NormAct_0"]["BatchNorm_0"]["bias"] = np.array([0.1, -0.2, 0.3], np.float32)
    return block, {"params": params, "batch_stats": variables["batch_stats"]}


def dense(variables, x):
    p = variables["params"]["Dense_0"]
    return x.astype(np.float64) @ p["kernel"] + p["bias"]


def test_batch_stats_training_uses_batch_moments_and_updates_moving_averages(x):
    block, variables = init_block(BlockOptions("batch_stats"), x)
    out, updates = block.apply(variables, jnp.asarray(x), train=True, mutable=["batch_stats"])
    h = dense(variables, x)
    mean, var = h.mean(axis=0), h.var(axis=0)  # biased variance, as TF1
    bn = variables["params"]["NormAct_0"]["BatchNorm_0"]
    want = numpy_leaky(bn["scale"] * (h - mean) / np.sqrt(var + 1e-3) + bn["bias"])
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL)
    stats = updates["batch_stats"]["NormAct_0"]["BatchNorm_0"]
    np.testing.assert_allclose(
        stats["mean"], 0.01 * mean, rtol=RTOL, atol=ATOL
    )  # 0.99 * 0 + 0.01 m
    np.testing.assert_allclose(stats["var"], 0.99 + 0.01 * var, rtol=RTOL, atol=ATOL)


def test_batch_stats_inference_uses_moving_averages(x):
    block, variables = init_block(BlockOptions("batch_stats"), x)
    moving = {
        "NormAct_0": {
            "BatchNorm_0": {
                "mean": np.array([0.5, -1.0, 0.0], np.float32),
                "var": np.array([2.0, 0.5, 1.0], np.float32),
            }
        }
    }
    variables = {**variables, "batch_stats": moving}
    out = block.apply(variables, jnp.asarray(x), train=False)
    bn = variables["params"]["NormAct_0"]["BatchNorm_0"]
    h = dense(variables, x)
    want = numpy_leaky(
        bn["scale"]
        * (h - moving["NormAct_0"]["BatchNorm_0"]["mean"])
        / np.sqrt(moving["NormAct_0"]["BatchNorm_0"]["var"] + 1e-3)
        + bn["bias"]
    )
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("train", [True, False])
def test_frozen_affine_is_a_fixed_affine_map_in_both_modes(x, train):
    block, variables = init_block(BlockOptions("frozen_affine"), x)
    out, updates = block.apply(variables, jnp.asarray(x), train=train, mutable=["batch_stats"])
    bn = variables["params"]["NormAct_0"]["BatchNorm_0"]
    want = numpy_leaky(bn["scale"] * dense(variables, x) / np.sqrt(1 + 1e-3) + bn["bias"])
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(updates["batch_stats"]["NormAct_0"]["BatchNorm_0"]["mean"], 0.0)
    np.testing.assert_array_equal(updates["batch_stats"]["NormAct_0"]["BatchNorm_0"]["var"], 1.0)


def dropout_run(options, *, train, n=4000, features=50):
    block = HiddenBlock(features, "relu", options)
    x = jnp.ones((n, 3))
    variables = block.init(jax.random.PRNGKey(0), x, train=False)
    kwargs = {"rngs": {"dropout": jax.random.PRNGKey(5)}} if train else {}
    with_drop = block.apply(variables, x, train=train, mutable=["batch_stats"], **kwargs)[0]
    no_drop = HiddenBlock(features, "relu", BlockOptions(options.bn_mode)).apply(
        variables, x, train=train, mutable=["batch_stats"]
    )[0]
    return np.asarray(with_drop), np.asarray(no_drop)


def test_active_dropout_drops_at_the_rate_and_rescales():
    options = BlockOptions("frozen_affine", dropout_rate=0.2, dropout_active=True)
    dropped, plain = dropout_run(options, train=True)
    alive = plain != 0
    zero_fraction = np.mean(dropped[alive] == 0)
    # 200,000 Bernoulli(0.2) draws: sd 0.0009, so +-0.01 is > 10 sd
    assert abs(zero_fraction - 0.2) < 0.01
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], plain[kept] / 0.8, rtol=1e-6)


@pytest.mark.parametrize(("active", "train"), [(False, True), (True, False)])
def test_dropout_is_identity_when_inactive_or_at_inference(active, train):
    options = BlockOptions("frozen_affine", dropout_rate=0.2, dropout_active=active)
    dropped, plain = dropout_run(options, train=train)
    np.testing.assert_array_equal(dropped, plain)


def test_glorot_uniform_kernel_and_zero_bias():
    layer = glorot_dense(300)
    params = layer.init(jax.random.PRNGKey(0), jnp.zeros((1, 200)))["params"]
    limit = np.sqrt(6.0 / (200 + 300))
    kernel = np.asarray(params["kernel"])
    assert kernel.max() <= limit
    assert kernel.min() >= -limit
    # uniform on [-a, a] has sd a / sqrt(3); 60,000 draws estimate it within 1 %
    np.testing.assert_allclose(kernel.std(), limit / np.sqrt(3), rtol=0.01)
    np.testing.assert_array_equal(params["bias"], 0.0)


def test_leaky_slope_is_tf_default():
    block = HiddenBlock(1, "leaky_relu", BlockOptions("frozen_affine"))
    variables = block.init(jax.random.PRNGKey(0), jnp.zeros((1, 1)), train=False)
    variables = jax.tree.map(np.array, variables)
    variables["params"]["Dense_0"]["kernel"][:] = 1.0
    out = block.apply(variables, jnp.array([[-1.0]]), train=False)
    np.testing.assert_allclose(out, -0.2 / np.sqrt(1 + 1e-3), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"bn_mode": "batchnorm"}, "bn_mode"), ({"dropout_rate": 1.0}, "dropout_rate")],
)
def test_block_options_reject_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BlockOptions(**kwargs)
