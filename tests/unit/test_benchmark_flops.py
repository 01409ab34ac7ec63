"""The dense-layer FLOP count of ``benchmarks/flops.py``: by hand on tiny shapes, then against XLA.

The hand counts write each term of the module docstring's rules out; the XLA check sums
``2 * prod(output) * contracted`` over the ``dot`` instructions of the compiled (optimised) steps.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from michigan.config import load_section
from michigan.train.generator import generator_task
from michigan.train.representation import representation_task

REPO = Path(__file__).resolve().parents[2]


def load_flops_module():
    spec = importlib.util.spec_from_file_location("flops", REPO / "benchmarks" / "flops.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["flops"] = module
    spec.loader.exec_module(module)
    return module


flops = load_flops_module()


def mm(rows, d_in, d_out):
    return 2 * rows * d_in * d_out


def tiny_vae(n_genes=6):
    config = load_section(
        "representation",
        params={
            "encoder_hidden": [4, 3],
            "decoder_hidden": [3, 4],
            "latent_dim": 2,
            "batch_size": 5,
        },
    )
    return representation_task(config, model="btcvae", n_genes=n_genes, n_train=20)


def tiny_michigan(n_genes=6, critic_bn_mode="frozen_affine"):
    config = load_section(
        "generator",
        params={
            "generator_hidden": [3, 4],
            "critic_hidden": [5, 2],
            "noise_dim": 1,
            "batch_size": 4,
            "n_critic": 2,
            "critic_bn_mode": critic_bn_mode,
        },
    )
    return generator_task(config, model="michigan", n_genes=n_genes, condition_dim=2)


def test_vae_step_by_hand():
    b = 5  # layers 6-4-3, heads 3-2 twice, decoder 2-3-4-6
    layers = mm(b, 6, 4) + mm(b, 4, 3) + 2 * mm(b, 3, 2) + mm(b, 2, 3) + mm(b, 3, 4) + mm(b, 4, 6)
    expected = layers + layers + (layers - mm(b, 6, 4))  # forward, weight grads, input grads
    assert expected == 2460
    task = tiny_vae()
    assert flops.total_flops(flops.step_products(task)) == expected
    assert flops.flops_per_cell(task) == expected / b


@pytest.mark.parametrize(
    ("bn_mode", "batch_stats_extra"), [("frozen_affine", 0), ("batch_stats", 160)]
)
def test_gan_iteration_by_hand(bn_mode, batch_stats_extra):
    b = 4  # generator 3-3-4-6 ([code 2, noise 1]); critic 6-5, trunk 5-2, score 2-1
    generator = mm(b, 3, 3) + mm(b, 3, 4) + mm(b, 4, 6)
    first, trunk, score = mm(b, 6, 5), mm(b, 5, 2), mm(b, 2, 1)
    fakes = generator
    first_layer = 2 * (2 * first)  # forward and weight grad on 2B rows
    real_and_fake = 2 * 3 * (trunk + score)
    inner = trunk + (trunk + score) + first
    double_backward = 2 * (first + trunk) + score
    critic_step = fakes + first_layer + real_and_fake + inner + double_backward
    assert critic_step == 2968
    generator_step = 2 * generator + (generator - mm(b, 3, 3)) + 2 * (first + trunk + score)
    assert generator_step == 1680
    expected = 2 * (critic_step + batch_stats_extra) + generator_step
    task = tiny_michigan(critic_bn_mode=bn_mode)
    assert flops.total_flops(flops.step_products(task)) == expected
    assert flops.flops_per_cell(task) == expected / b


def test_concat_critic_reads_the_code():
    config = load_section("generator", params={})
    plain = generator_task(config, model="wgan_gp", n_genes=50)
    concat = generator_task(config, model="cwgan_gp", n_genes=50, condition_dim=10)
    assert flops.critic_layers(plain)[0] == (50, 1024)
    assert flops.critic_layers(concat)[0] == (60, 1024)


def test_info_gan_is_refused():
    config = load_section("generator", params={})
    with pytest.raises(ValueError, match="Q head"):
        flops.step_products(generator_task(config, model="infowgan_gp", n_genes=50))


def test_operands_contract_to_the_layer():
    for kind in flops.KINDS:
        lhs, rhs, (left_axis, right_axis) = flops.Product(kind, 3, 5, 7).operands
        assert lhs[left_axis] == rhs[right_axis]
        assert math.prod(lhs) * math.prod(rhs) // lhs[left_axis] == 3 * 5 * 7


# --------------------------------------------------------------------------------------------------
# against the compiler

DEFINITION = re.compile(r"%([\w.\-]+) = f32\[([\d,]*)\]")
DOT = re.compile(
    r"= f32\[([\d,]*)\]\S* dot\(%([\w.\-]+), %[\w.\-]+\), lhs_contracting_dims=\{(\d)\}"
)


def dims(text):
    return [int(d) for d in text.split(",") if d]


def compiled_dot_flops(fn, *args):
    with jax.default_device(jax.devices("cpu")[0]):
        hlo = jax.jit(fn).lower(*args).compile().as_text()
    shapes = dict(DEFINITION.findall(hlo))
    found = DOT.findall(hlo)
    assert found, "no dot instructions found: has XLA's HLO text format changed?"
    return sum(math.prod(dims(out)) * 2 * dims(shapes[lhs])[int(axis)] for out, lhs, axis in found)


# XLA turns the score layer's width-1 products (2 B * width * 1 FLOPs each) into elementwise code, so
# the compiled count may miss a few of them: a few thousand FLOPs of a few hundred million here.
RTOL = 1e-4


@pytest.mark.slow  # compiles a training step to read its HLO
def test_vae_step_matches_compiled_dots():
    task = tiny_vae(n_genes=37)
    state = task.init_state(jax.random.key(0))
    grad = jax.grad(task._loss, has_aux=True)
    x = jnp.ones((task.batch_size, task.n_genes))
    compiled = compiled_dot_flops(
        lambda p, s, x, k: grad(p, s, x, k, train=True)[0],
        state.params,
        state.batch_stats,
        x,
        jax.random.key(1),
    )
    assert compiled == pytest.approx(flops.total_flops(flops.vae_step(task)), rel=RTOL)


def default_michigan(critic_bn_mode):
    config = load_section("generator", params={"critic_bn_mode": critic_bn_mode})
    return generator_task(config, model="michigan", n_genes=37, condition_dim=10)


@pytest.mark.slow  # compiles the paper-width critic and generator steps to read their HLO
@pytest.mark.parametrize("bn_mode", ["frozen_affine", "batch_stats"])
def test_gan_steps_match_compiled_dots(bn_mode):
    task = default_michigan(bn_mode)
    s = task.init_state(jax.random.key(0))
    x = jnp.ones((task.batch_size, task.n_genes))
    code = jnp.ones((task.batch_size, task.code_dim))
    key = jax.random.key(1)
    inputs = task.generator_input(code, key)
    fakes = compiled_dot_flops(
        lambda p, st, i, k: task.generate(p, st, i, k, train=True),
        s.g_params,
        s.g_stats,
        inputs,
        key,
    )
    critic_grad = jax.grad(task.critic_loss, has_aux=True)
    critic = compiled_dot_flops(
        lambda p, st, xr, xf, c, k: critic_grad(p, st, xr, xf, c, k, train=True)[0],
        s.d_params,
        s.d_stats,
        x,
        x,
        code,
        key,
    )
    generator_grad = jax.grad(task.generator_loss, has_aux=True)
    generator = compiled_dot_flops(
        lambda gp, gs, dp, ds, c, k: generator_grad(gp, gs, dp, ds, c, k, train=True)[0],
        s.g_params,
        s.g_stats,
        s.d_params,
        s.d_stats,
        code,
        key,
    )
    assert fakes + critic == pytest.approx(flops.total_flops(flops.critic_step(task)), rel=RTOL)
    assert generator == pytest.approx(flops.total_flops(flops.generator_step(task)), rel=RTOL)
