"""Dense-layer FLOPs of one training step of β-TCVAE and the WGAN-GP family, as a multiset of products.

Only the matrix products of the dense layers are counted; biases, BatchNorm, activations, the losses
(including β-TCVAE's ``[B, B, K]`` estimator and MichiGAN's projection ``<y, h>``) and Adam are not.

Rules
-----
A dense layer ``[rows, d_in] -> [rows, d_out]`` has three products of ``2 rows d_in d_out`` FLOPs each:
the forward product ``x W``, the weight gradient ``x^T g`` and the input gradient ``g W^T``. A
backward pass therefore costs 2x the forward pass, except that no input gradient is formed for a layer
whose input carries no gradient (the data, the generator's code and noise, the stop-gradient fakes of
a critic step): XLA never builds it. Rows are ``B`` (the batch size) unless said otherwise.

β-TCVAE step
    Every layer (encoder ``G``-512-256, the loc and scale heads 256-``K``, decoder ``K``-256-512-``G``):
    forward and weight gradient; input gradient for all but the first encoder layer.
GAN critic step
    * the generator's forward pass that makes the fakes (no backward);
    * the critic's first layer once on the ``2B`` stacked real and fake rows: forward, weight gradient;
    * the rest of the critic (trunk and the score layer ``h -> 1``) on the real and on the fake rows:
      forward, weight and input gradients each;
    * the gradient penalty. Its first-layer output is ``eps a_real + (1 - eps) a_fake`` (no product),
      then the trunk's forward, the input gradients of the score layer and the trunk, and the first
      layer's input gradient (the critic's gradient at the interpolate). Differentiating that gradient
      (the double backward) costs, for each of these input gradients ``g W^T``, a weight-gradient product
      (for ``W``) and a forward-shaped product ``g' W`` (for ``g``); the score layer has only the former,
      its output gradient being the constant 1. With frozen affine BatchNorm (``critic_bn_mode``
      ``"frozen_affine"``, the default) and piecewise-linear activations the penalty's gradient depends
      on the trunk's activations only through the activation masks, so nothing more is differentiated;
      with ``"batch_stats"`` it depends on them through the batch statistics, which adds the trunk's
      weight and input gradients on the interpolate.
GAN generator step
    The generator's forward pass, its weight gradients and its input gradients but the first layer's;
    the whole critic's forward pass and input gradients (its weights are constants in this step).
Per cell
    A GAN iteration (``n_critic`` critic steps and one generator step) and a VAE step each advance the
    epoch by ``B`` cells: FLOPs per cell = FLOPs per iteration (step) / ``B``.

``tests/unit/test_benchmark_flops.py`` checks these rules by hand on a tiny shape and against the dot
products of the compiled steps. InfoWGAN-GP (its Q head) is not counted.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Literal, NamedTuple

from michigan.train.gan import CONDITIONING, GANTask
from michigan.train.vae import VAETask

Kind = Literal["forward", "weight_grad", "input_grad"]
KINDS: tuple[Kind, ...] = ("forward", "weight_grad", "input_grad")
Layer = tuple[int, int]


class Product(NamedTuple):
    """One matrix product of a dense layer ``[rows, d_in] -> [rows, d_out]``."""

    kind: Kind
    rows: int
    d_in: int
    d_out: int

    @property
    def flops(self) -> int:
        """``2 rows d_in d_out``."""
        return 2 * self.rows * self.d_in * self.d_out

    @property
    def operands(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """Left and right operand shapes and their contracted axes, as in the training step.

        ``forward``: ``x [rows, d_in] . W [d_in, d_out]``; ``weight_grad``: ``x [rows, d_in]`` with
        ``g [rows, d_out]`` over the rows; ``input_grad``: ``g [rows, d_out] . W [d_in, d_out]^T``.
        """
        x, w, g = (self.rows, self.d_in), (self.d_in, self.d_out), (self.rows, self.d_out)
        return {
            "forward": (x, w, (1, 0)),
            "weight_grad": (x, g, (0, 0)),
            "input_grad": (g, w, (1, 1)),
        }[self.kind]


def chain(d_in: int, widths: Sequence[int]) -> list[Layer]:
    """``(d_in, d_out)`` of each layer of a stack of dense layers of the given output widths."""
    sizes = (d_in, *widths)
    return list(itertools.pairwise(sizes))


def passes(layers: Sequence[Layer], rows: int, kinds: Sequence[Kind] = KINDS) -> Counter[Product]:
    """The products of ``kinds`` of every layer, once each."""
    return Counter(Product(kind, rows, *layer) for layer in layers for kind in kinds)


def trained_on_data(layers: Sequence[Layer], rows: int) -> Counter[Product]:
    """Forward and backward of a network whose input carries no gradient."""
    return passes(layers[:1], rows, ("forward", "weight_grad")) + passes(layers[1:], rows)


def repeated(products: Counter[Product], times: int) -> Counter[Product]:
    """Each product ``times`` as often."""
    return Counter({product: count * times for product, count in products.items()})


def total_flops(products: Counter[Product]) -> int:
    """FLOPs of all products."""
    return sum(product.flops * count for product, count in products.items())


def vae_step(task: VAETask) -> Counter[Product]:
    """Products of one β-TCVAE step."""
    encoder = chain(task.n_genes, task.encoder_hidden)
    heads = [(task.encoder_hidden[-1], task.latent_dim)] * 2
    decoder = chain(task.latent_dim, (*task.decoder_hidden, task.n_genes))
    return trained_on_data([*encoder, *heads, *decoder], task.batch_size)


def generator_layers(task: GANTask) -> list[Layer]:
    """The generator's layers, from ``[code, noise]`` to the genes."""
    return chain(task.code_dim + task.noise_dim, (*task.generator_hidden, task.n_genes))


def critic_layers(task: GANTask) -> tuple[Layer, list[Layer], Layer]:
    """The critic's first layer (on ``x`` or ``[x, y]``), its trunk and its score layer."""
    if task.info:
        msg = f"the FLOP count leaves out InfoWGAN-GP's Q head; got {task.name!r}"
        raise ValueError(msg)
    extra = task.code_dim if CONDITIONING[task.name] == "concat" else 0
    widths = task.critic_hidden
    return (task.n_genes + extra, widths[0]), chain(widths[0], widths[1:]), (widths[-1], 1)


def gradient_penalty(task: GANTask) -> Counter[Product]:
    """Products of the gradient penalty of one critic step, double backward included."""
    rows = task.batch_size
    first, trunk, score = critic_layers(task)
    inner = passes(trunk, rows, ("forward",)) + passes(
        [first, *trunk, score], rows, ("input_grad",)
    )
    double_backward = passes([first, *trunk], rows, ("forward", "weight_grad")) + passes(
        [score], rows, ("weight_grad",)
    )
    if task.critic_bn_mode == "batch_stats":
        double_backward += passes(trunk, rows, ("weight_grad", "input_grad"))
    return inner + double_backward


def critic_step(task: GANTask) -> Counter[Product]:
    """Products of one critic step: the fakes, real and fake scores and the gradient penalty."""
    rows = task.batch_size
    first, trunk, score = critic_layers(task)
    fakes = passes(generator_layers(task), rows, ("forward",))
    first_layer = passes([first], 2 * rows, ("forward", "weight_grad"))
    real_and_fake = repeated(passes([*trunk, score], rows), 2)
    return fakes + first_layer + real_and_fake + gradient_penalty(task)


def generator_step(task: GANTask) -> Counter[Product]:
    """Products of one generator step: the generator trained through the fixed critic."""
    rows = task.batch_size
    first, trunk, score = critic_layers(task)
    critic = passes([first, *trunk, score], rows, ("forward", "input_grad"))
    return trained_on_data(generator_layers(task), rows) + critic


def step_products(task: VAETask | GANTask) -> Counter[Product]:
    """Products of one VAE step or one GAN iteration (``n_critic`` critic steps, one generator step)."""
    if isinstance(task, VAETask):
        return vae_step(task)
    return repeated(critic_step(task), task.n_critic) + generator_step(task)


def flops_per_cell(task: VAETask | GANTask) -> float:
    """Dense-layer FLOPs per cell of epoch progress (see the module docstring)."""
    return total_flops(step_products(task)) / task.batch_size
