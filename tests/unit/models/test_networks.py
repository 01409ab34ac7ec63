"""Shapes and outputs of the VAE, generator and critic networks against NumPy forward passes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from michigan.models import VAE, BlockOptions, Critic, Generator

RTOL, ATOL = 1e-5, 1e-5  # float32 network against float64 NumPy


def numpy_norm_act(bn, h, activation):
    """BatchNorm with batch statistics, then the activation."""
    h = bn["scale"] * (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-3) + bn["bias"]
    return np.maximum(h, 0) if activation == "relu" else np.where(h > 0, h, 0.2 * h)


def numpy_block(p, h, activation):
    """Dense -> BatchNorm -> activation, from a hidden block's parameters."""
    h = h @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"]
    return numpy_norm_act(p["NormAct_0"]["BatchNorm_0"], h, activation)


def numpy_trunk(params, x):
    """The critic's feature h: first layer, then the remaining blocks (ReLU on the last)."""
    h = np.asarray(x, np.float64) @ params["input_dense"]["kernel"] + params["input_dense"]["bias"]
    h = numpy_norm_act(params["input_norm"]["BatchNorm_0"], h, "leaky")
    names = sorted(params["trunk"], key=lambda n: int(n.split("_")[1]))
    for index, name in enumerate(names):
        h = numpy_block(params["trunk"][name], h, "relu" if index == len(names) - 1 else "leaky")
    return h


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(2)
    return {
        "x": rng.normal(size=(7, 6)).astype(np.float32),
        "y": rng.normal(size=(7, 3)).astype(np.float32),
    }


def test_projection_critic_output_matches_numpy(tiny):
    critic = Critic((8, 5, 3), "projection")
    variables = critic.init(jax.random.PRNGKey(0), tiny["x"], tiny["y"], train=False)
    out, _ = critic.apply(variables, tiny["x"], tiny["y"], train=True, mutable=["batch_stats"])
    p = jax.tree.map(np.asarray, variables["params"])
    h = numpy_trunk(p, tiny["x"])
    want = (
        h @ p["score_dense"]["kernel"][:, 0]
        + p["score_dense"]["bias"][0]
        + np.sum(tiny["y"] * h, axis=1)
    )
    np.testing.assert_allclose(out.score, want, rtol=RTOL, atol=ATOL)
    assert out.q_mean is None
    assert np.all(h >= 0)  # the projected feature is post-ReLU


def test_concat_critic_sees_code_as_input(tiny):
    critic = Critic((8, 5, 3), "concat")
    variables = critic.init(jax.random.PRNGKey(0), tiny["x"], tiny["y"], train=False)
    assert variables["params"]["input_dense"]["kernel"].shape == (6 + 3, 8)
    out, _ = critic.apply(variables, tiny["x"], tiny["y"], train=True, mutable=["batch_stats"])
    p = jax.tree.map(np.asarray, variables["params"])
    h = numpy_trunk(p, np.concatenate([tiny["x"], tiny["y"]], axis=1))
    want = h @ p["score_dense"]["kernel"][:, 0] + p["score_dense"]["bias"][0]
    np.testing.assert_allclose(out.score, want, rtol=RTOL, atol=ATOL)


def test_info_critic_q_head_on_shared_features(tiny):
    critic = Critic((8, 5, 3), "none", info_dim=4)
    variables = critic.init(jax.random.PRNGKey(0), tiny["x"], train=False)
    out, _ = critic.apply(variables, tiny["x"], train=True, mutable=["batch_stats"])
    p = jax.tree.map(np.asarray, variables["params"])
    h = numpy_trunk(p, tiny["x"])
    q = numpy_block(p["q_hidden"], h, "leaky")
    want = q @ p["q_mean"]["kernel"] + p["q_mean"]["bias"]
    np.testing.assert_allclose(out.q_mean, want, rtol=RTOL, atol=ATOL)
    assert out.score.shape == (7,)


def test_projection_critic_needs_feature_width_equal_to_code(tiny):
    critic = Critic((8, 5, 4), "projection")
    with pytest.raises(ValueError, match="last critic width"):
        critic.init(jax.random.PRNGKey(0), tiny["x"], tiny["y"], train=False)


def test_critic_rejects_missing_code(tiny):
    with pytest.raises(ValueError, match="conditioning"):
        Critic((4, 3), "projection").init(jax.random.PRNGKey(0), tiny["x"], train=False)


def test_generator_shapes_and_linear_output():
    gen = Generator((4, 8), 5, BlockOptions("batch_stats", 0.2, dropout_active=True))
    z = jnp.ones((3, 6))
    variables = gen.init(jax.random.PRNGKey(0), z, train=False)
    out = gen.apply(variables, z, train=False)
    assert out.shape == (3, 5)
    assert variables["params"]["MLP_0"]["HiddenBlock_1"]["Dense_0"]["kernel"].shape == (4, 8)
    assert np.any(np.asarray(out) < 0)  # no output activation


def test_vae_shapes_and_reparameterisation():
    vae = VAE((8, 4), (4, 8), 2, 5, BlockOptions("batch_stats"))
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 5))
    eps = jax.random.normal(jax.random.PRNGKey(2), (6, 2))
    variables = vae.init(jax.random.PRNGKey(0), x, eps, train=False)
    out = vae.apply(variables, x, eps, train=False)
    assert out.x_mean.shape == (6, 5)
    np.testing.assert_allclose(out.z, out.loc + out.scale * eps, rtol=1e-6)
    assert np.all(np.asarray(out.scale) > 0)  # softplus std head
    enc = vae.apply(variables, x, method="encode")
    np.testing.assert_allclose(enc.loc, out.loc, rtol=1e-6)
    np.testing.assert_allclose(vae.apply(variables, out.z, method="decode"), out.x_mean, rtol=1e-6)


@pytest.mark.parametrize(("bn_mode", "blind"), [("batch_stats", True), ("frozen_affine", False)])
def test_batch_statistics_make_the_critic_blind_to_a_shift_of_the_batch(tiny, bn_mode, blind):
    # why critic_bn_mode defaults to frozen_affine: with batch statistics, every call normalises its
    # own batch, so shifting all cells of a (fake) batch by one vector leaves the scores unchanged
    critic = Critic((8, 5, 3), "none", bn_mode=bn_mode)
    variables = critic.init(jax.random.PRNGKey(0), tiny["x"], train=False)
    scores = [
        critic.apply(variables, tiny["x"] + shift, train=True, mutable=["batch_stats"])[0].score
        for shift in (0.0, 3.0)
    ]
    # float32 rounding of the shifted first layer: 1e-4 absolute; a visible shift changes scores by O(1)
    assert np.allclose(scores[0], scores[1], atol=1e-4) == blind
