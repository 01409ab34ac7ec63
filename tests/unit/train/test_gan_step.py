"""The GAN task's losses against a direct computation from separate network calls (spec §3.3-§3.4)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from michigan.config import load_section
from michigan.models.losses import info_mutual_information
from michigan.train.generator import generator_task

N_GENES, K, B = 6, 3, 5
PARAMS = {
    "generator_hidden": [8],
    "critic_hidden": [7, K],
    "batch_size": B,
    "noise_dim": 2,
    "wgan_noise_dim": K,
    "info_code_dim": K,
    "gp_weight": 10.0,
    "mi_weight": 2.0,
}
# float32 networks compared with the same networks called another way: rounding-level agreement
RTOL, ATOL = 1e-4, 1e-5


def make_task(model, **overrides):
    config = load_section("generator", params=PARAMS | overrides)
    return generator_task(config, model=model, n_genes=N_GENES, condition_dim=K)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return (
        jnp.asarray(rng.normal(size=(B, N_GENES)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, N_GENES)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, K)), jnp.float32),
    )


def direct_critic_loss(task, state, x_real, x_fake, code, eps):
    """Three separate training-mode critic calls, statistics chained, GP from jax.grad of the sum."""
    condition = code if task.conditional else None

    def call(stats, x):
        out, updates = task.critic.apply(
            {"params": state.d_params, "batch_stats": stats},
            x,
            condition,
            train=True,
            mutable=["batch_stats"],
        )
        return out, updates["batch_stats"]

    real, stats = call(state.d_stats, x_real)
    fake, stats = call(stats, x_fake)
    x_hat = eps * x_real + (1 - eps) * x_fake
    grads = jax.grad(lambda xh: jnp.sum(call(stats, xh)[0].score))(x_hat)
    _, stats = call(stats, x_hat)
    gp = np.mean((np.linalg.norm(np.asarray(grads, np.float64), axis=1) - 1.0) ** 2)
    loss = float(jnp.mean(real.score) - jnp.mean(fake.score)) + task.gp_weight * gp
    if task.info:
        loss -= task.mi_weight * float(info_mutual_information(code, fake.q_mean))
    return loss, gp, stats


@pytest.mark.parametrize("model", ["wgan_gp", "infowgan_gp", "cwgan_gp", "michigan"])
@pytest.mark.parametrize("gp_eps", ["per_batch", "per_sample"])
def test_critic_loss_matches_direct_computation(model, gp_eps, batch):
    task = make_task(model, gp_eps=gp_eps)
    state = task.init_state(jax.random.PRNGKey(0))
    x_real, x_fake, code = batch
    eps_key = jax.random.PRNGKey(9)
    loss, (metrics, stats) = jax.jit(lambda *a: task.critic_loss(*a, train=True))(
        state.d_params, state.d_stats, x_real, x_fake, code, eps_key
    )
    eps = jax.random.uniform(eps_key, () if gp_eps == "per_batch" else (B, 1))
    want_loss, want_gp, want_stats = direct_critic_loss(task, state, x_real, x_fake, code, eps)
    np.testing.assert_allclose(metrics["gradient_penalty"], want_gp, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(loss, want_loss, rtol=RTOL, atol=ATOL)
    for got, want in zip(jax.tree.leaves(stats), jax.tree.leaves(want_stats), strict=True):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("model", ["infowgan_gp", "michigan"])
def test_generator_loss_is_mean_critic_score_of_fakes(model, batch):
    task = make_task(model)
    state = task.init_state(jax.random.PRNGKey(1))
    code, key = batch[2], jax.random.PRNGKey(4)
    loss, _ = task.generator_loss(
        state.g_params, state.g_stats, state.d_params, state.d_stats, code, key, train=False
    )
    noise_key, _ = jax.random.split(key)
    inputs = task.generator_input(code, noise_key)
    x_fake = task.generator.apply(
        {"params": state.g_params, "batch_stats": state.g_stats}, inputs, train=False
    )
    out = task.critic.apply(
        {"params": state.d_params, "batch_stats": state.d_stats},
        x_fake,
        code if task.conditional else None,
        train=False,
    )
    want = jnp.mean(out.score)
    if task.info:
        want = want - task.mi_weight * info_mutual_information(code, out.q_mean)
    np.testing.assert_allclose(loss, want, rtol=RTOL, atol=ATOL)


def test_generator_input_is_code_then_noise(batch):
    task = make_task("michigan")
    inputs = task.generator_input(batch[2], jax.random.PRNGKey(0))
    assert inputs.shape == (B, K + 2)
    np.testing.assert_array_equal(inputs[:, :K], batch[2])


def test_gan_early_stopping_rule_uses_absolute_change():
    task = make_task("wgan_gp")
    prev = jnp.array([1.0, 1.0])
    assert bool(task.improved(prev, jnp.array([1.01, 1.0]), 0.0025))  # an increase counts too
    assert not bool(task.improved(prev, jnp.array([1.001, 0.999]), 0.0025))


def test_michigan_needs_feature_width_equal_to_code_dim():
    with pytest.raises(ValueError, match="critic_hidden"):
        make_task("michigan", critic_hidden=[7, K + 1])
