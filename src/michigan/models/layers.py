"""Building blocks shared by every network: Glorot-uniform dense layers and the hidden block.

A hidden block is ``Dense -> BatchNorm -> activation -> Dropout`` (spec §1), with the TF1 defaults the
original code relied on: Glorot-uniform kernels and zero biases, BatchNorm epsilon 1e-3 and moving-average
momentum 0.99, leaky-ReLU slope 0.2. Two switches reproduce the two code bases of the original
repository (spec §0):

``bn_mode="batch_stats"``
    Training normalises with the statistics of the current batch and updates the moving averages;
    inference uses the moving averages (the paper and the original class code).
``bn_mode="frozen_affine"``
    BatchNorm always runs in inference mode with moving mean 0 and variance 1 that never change, so it
    is the learned affine map ``gamma * x / sqrt(1 + 1e-3) + beta`` (the executed functional code).
``dropout_active``
    Inverted dropout with probability ``dropout_rate`` while training (the class code) or never (the
    functional code, whose dropout had no ``training`` argument). Dropout never acts at inference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import flax.linen as nn
import jax

BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
LEAKY_SLOPE = 0.2

BnMode = Literal["batch_stats", "frozen_affine"]
Activation = Literal["leaky_relu", "relu"]
BN_MODES: tuple[str, ...] = ("batch_stats", "frozen_affine")


def glorot_dense(features: int, *, name: str | None = None) -> nn.Dense:
    """A dense layer with TF1's default initialisation: Glorot-uniform kernel, zero bias."""
    return nn.Dense(features, kernel_init=nn.initializers.glorot_uniform(), name=name)


def activate(x: jax.Array, activation: Activation) -> jax.Array:
    """Apply ``relu`` or leaky ReLU with TF's slope 0.2 (flax's default would be 0.01)."""
    if activation == "relu":
        return nn.relu(x)
    return nn.leaky_relu(x, negative_slope=LEAKY_SLOPE)


@dataclasses.dataclass(frozen=True)
class BlockOptions:
    """BatchNorm and dropout semantics of a network's hidden blocks (see the module docstring).

    Parameters
    ----------
    bn_mode
        ``"batch_stats"`` or ``"frozen_affine"``.
    dropout_rate
        Drop probability of the inverted dropout (0 disables dropout).
    dropout_active
        Whether dropout acts while training.
    """

    bn_mode: BnMode = "batch_stats"
    dropout_rate: float = 0.0
    dropout_active: bool = False

    def __post_init__(self) -> None:
        if self.bn_mode not in BN_MODES:
            msg = f"bn_mode must be one of {BN_MODES}, got {self.bn_mode!r}"
            raise ValueError(msg)
        if not 0.0 <= self.dropout_rate < 1.0:
            msg = f"dropout_rate must lie in [0, 1), got {self.dropout_rate!r}"
            raise ValueError(msg)

    def uses_dropout(self, *, train: bool) -> bool:
        """Whether dropout acts in a call with this ``train`` flag."""
        return train and self.dropout_active and self.dropout_rate > 0.0


class NormAct(nn.Module):
    """``BatchNorm -> activation -> Dropout``: the part of a hidden block after its dense layer.

    In ``batch_stats`` mode a training call normalises with the biased batch variance and updates
    ``batch_stats`` as ``moving = 0.99 * moving + 0.01 * batch`` (TF1); the caller must pass
    ``mutable=["batch_stats"]``. Needs a ``"dropout"`` PRNG stream when dropout acts.
    """

    activation: Activation
    options: BlockOptions

    @nn.compact
    def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
        """Normalise, activate and (maybe) drop ``h`` of shape ``[batch, features]``."""
        batch_mode = train and self.options.bn_mode == "batch_stats"
        h = nn.BatchNorm(
            use_running_average=not batch_mode,
            momentum=BN_MOMENTUM,
            epsilon=BN_EPSILON,
            use_fast_variance=False,
        )(h)
        h = activate(h, self.activation)
        if self.options.dropout_rate > 0.0:
            h = nn.Dropout(self.options.dropout_rate)(
                h, deterministic=not self.options.uses_dropout(train=train)
            )
        return h


class HiddenBlock(nn.Module):
    """``Dense(features) -> BatchNorm -> activation -> Dropout`` (see :class:`NormAct`).

    Input ``[batch, d_in]``, output ``[batch, features]``.
    """

    features: int
    activation: Activation
    options: BlockOptions

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        """Run the block on ``x`` of shape ``[batch, d_in]``."""
        h = glorot_dense(self.features)(x)
        return NormAct(self.activation, self.options)(h, train=train)


class MLP(nn.Module):
    """A stack of :class:`HiddenBlock` s: leaky ReLU everywhere, ``last_activation`` on the last one.

    The original networks use ReLU on the last hidden layer of the encoder, generator and critic and leaky
    ReLU elsewhere (spec §8 item 13), hence ``last_activation``.
    """

    widths: Sequence[int]
    last_activation: Activation
    options: BlockOptions

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        """Map ``[batch, d_in]`` to ``[batch, widths[-1]]``."""
        h = x
        for index, width in enumerate(self.widths):
            last = index == len(self.widths) - 1
            activation: Activation = self.last_activation if last else "leaky_relu"
            h = HiddenBlock(width, activation, self.options)(h, train=train)
        return h
