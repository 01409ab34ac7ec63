"""Generator and critic networks of WGAN-GP, InfoWGAN-GP, CWGAN-GP and MichiGAN (spec §2.2-§2.7).

Generator: hidden blocks (default 256, 512, 1024; leaky ReLU 0.2 then ReLU on the last) with BatchNorm and
dropout, then a linear ``Dense(G)``: outputs may be negative. Its input is the code concatenated with
noise, ``[code, noise]`` (order as in the original class code).

Critic trunk: hidden blocks (default 1024, 512, 10; leaky, leaky, ReLU) with BatchNorm and **no dropout**,
giving the feature ``h`` (non-negative). Heads on ``h``:

``conditioning="none"``        ``D(x) = w.h + b`` (WGAN-GP, InfoWGAN-GP)
``conditioning="concat"``      the trunk sees ``[x, y]`` and ``D(x, y) = w.h + b`` (CWGAN-GP)
``conditioning="projection"``  ``D(x, y) = w.h(x) + b + <y, h(x)>`` with the raw code ``y`` as the class
                               embedding: no learned embedding, no spectral norm (MichiGAN, spec §2.7);
                               needs the feature width to equal the code dimension.

InfoWGAN-GP adds the Q head on the shared feature: ``h -> Dense(q_hidden) -> BN -> leaky ReLU ->
Dense(K)`` = the mean of ``Q(c|x)`` with unit standard deviation (``fix_std=True``, spec §2.4). Its
parameters live in the critic, so the critic's optimiser trains them.

The critic's first three dense kernels declare an L2 regulariser in the original code that never reaches
the loss (spec §2.3); it is not implemented.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from michigan.models.layers import MLP, BlockOptions, HiddenBlock, NormAct, glorot_dense

Conditioning = Literal["none", "concat", "projection"]
CONDITIONINGS: tuple[str, ...] = ("none", "concat", "projection")


class Generator(nn.Module):
    """``[code, noise] [B, d_in] -> x [B, G]``."""

    hidden: Sequence[int]
    n_genes: int
    options: BlockOptions

    @nn.compact
    def __call__(self, inputs: jax.Array, *, train: bool) -> jax.Array:
        """Generate cells from the concatenated code and noise."""
        h = MLP(self.hidden, "relu", self.options)(inputs, train=train)
        return glorot_dense(self.n_genes, name="out")(h)


class CriticOutput(NamedTuple):
    """Critic scores ``[B]`` and, for InfoWGAN-GP, the Q means ``[B, K]`` (else ``None``)."""

    score: jax.Array
    q_mean: jax.Array | None


class Critic(nn.Module):
    """The WGAN critic with the heads of the module docstring.

    Besides ``__call__`` it exposes its two halves, ``preactivation`` (the first dense layer, on
    ``x`` or ``[x, y]``) and ``from_preactivation`` (everything after it), so that a training step can
    push several batches through the first layer in one matrix product and use its linearity for the
    gradient-penalty interpolate (:meth:`michigan.train.gan.GANTask.critic_loss`).

    Parameters
    ----------
    hidden
        Widths of the trunk; the last is the feature ``h``.
    conditioning
        ``"none"``, ``"concat"`` or ``"projection"``.
    info_dim
        ``K`` of the Q head (0: no Q head).
    bn_mode
        BatchNorm semantics (the critic has no dropout).
    """

    hidden: Sequence[int]
    conditioning: Conditioning = "none"
    info_dim: int = 0
    bn_mode: str = "batch_stats"

    def setup(self) -> None:
        """Create the layers: first dense layer, its BatchNorm/activation, the rest, the heads."""
        if self.conditioning not in CONDITIONINGS:
            msg = f"conditioning must be one of {CONDITIONINGS}, got {self.conditioning!r}"
            raise ValueError(msg)
        options = BlockOptions(bn_mode=self.bn_mode)
        first_activation = "relu" if len(self.hidden) == 1 else "leaky_relu"
        self.input_dense = glorot_dense(self.hidden[0])
        self.input_norm = NormAct(first_activation, options)
        self.trunk = MLP(tuple(self.hidden[1:]), "relu", options)
        self.score_dense = glorot_dense(1)
        if self.info_dim:
            self.q_hidden = HiddenBlock(self.info_dim, "leaky_relu", options)
            self.q_mean = glorot_dense(self.info_dim)

    def _check_code(self, code: jax.Array | None) -> None:
        if (code is None) != (self.conditioning == "none"):
            msg = f"a critic with conditioning={self.conditioning!r} got code={code is not None}"
            raise ValueError(msg)

    def preactivation(self, x: jax.Array, code: jax.Array | None = None) -> jax.Array:
        """First dense layer ``[B, hidden[0]]`` of ``x [B, G]`` (of ``[x, y]`` for ``"concat"``)."""
        self._check_code(code)
        inputs = jnp.concatenate([x, code], axis=-1) if self.conditioning == "concat" else x
        return self.input_dense(inputs)

    def from_preactivation(
        self, a: jax.Array, code: jax.Array | None = None, *, train: bool
    ) -> CriticOutput:
        """The rest of the critic on the first layer's output ``a [B, hidden[0]]``."""
        self._check_code(code)
        h = self.input_norm(a, train=train)
        if len(self.hidden) > 1:
            h = self.trunk(h, train=train)
        score = self.score_dense(h)[:, 0]
        if self.conditioning == "projection":
            if code.shape[-1] != h.shape[-1]:
                msg = (
                    f"the projection critic needs the last critic width ({h.shape[-1]}) to equal "
                    f"the code dimension ({code.shape[-1]})"
                )
                raise ValueError(msg)
            score = score + jnp.sum(code * h, axis=-1)
        q_mean = None
        if self.info_dim:
            q_mean = self.q_mean(self.q_hidden(h, train=train))
        return CriticOutput(score, q_mean)

    def __call__(self, x: jax.Array, code: jax.Array | None = None, *, train: bool) -> CriticOutput:
        """Score ``x [B, G]`` given the code ``[B, K]`` of conditional critics."""
        return self.from_preactivation(self.preactivation(x, code), code, train=train)
