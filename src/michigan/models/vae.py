"""VAE / β-TCVAE networks (spec §2.1): a Gaussian encoder with a softplus std head and a decoder mean.

Encoder ``q(z|x)``: hidden blocks (default widths 512, 256; leaky ReLU 0.2, then ReLU on the last), then
two linear heads, ``loc = Dense(K)`` and ``scale = softplus(Dense(K))``: the head outputs a standard
deviation (not a log-variance) with no floor. Decoder ``p(x|z)``: hidden blocks (256, 512; leaky ReLU on
both), then a linear ``Dense(G)`` mean; the scale is fixed to 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import flax.linen as nn
import jax

from michigan.models.layers import MLP, BlockOptions, glorot_dense


class Posterior(NamedTuple):
    """Diagonal Gaussian posterior ``q(z|x)``: means and standard deviations ``[B, K]``."""

    loc: jax.Array
    scale: jax.Array


class Encoder(nn.Module):
    """``x [B, G] -> Posterior(loc [B, K], scale [B, K])``."""

    hidden: Sequence[int]
    latent_dim: int
    options: BlockOptions

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> Posterior:
        """Encode a batch of cells."""
        h = MLP(self.hidden, "relu", self.options)(x, train=train)
        loc = glorot_dense(self.latent_dim, name="loc")(h)
        scale = nn.softplus(glorot_dense(self.latent_dim, name="scale")(h))
        return Posterior(loc, scale)


class Decoder(nn.Module):
    """``z [B, K] -> x_mean [B, G]`` (linear output layer)."""

    hidden: Sequence[int]
    n_genes: int
    options: BlockOptions

    @nn.compact
    def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
        """Decode codes to the mean expression."""
        h = MLP(self.hidden, "leaky_relu", self.options)(z, train=train)
        return glorot_dense(self.n_genes, name="mean")(h)


class VAEOutput(NamedTuple):
    """One VAE pass: posterior ``[B, K]`` twice, the sample ``z`` ``[B, K]``, decoder mean ``[B, G]``."""

    loc: jax.Array
    scale: jax.Array
    z: jax.Array
    x_mean: jax.Array


class VAE(nn.Module):
    """Encoder and decoder joined by the reparameterised sample ``z = loc + scale * eps``.

    ``eps ~ N(0, I_K)`` is passed in, so the module itself only draws dropout masks (PRNG stream
    ``"dropout"``).
    """

    encoder_hidden: Sequence[int]
    decoder_hidden: Sequence[int]
    latent_dim: int
    n_genes: int
    options: BlockOptions

    def setup(self) -> None:
        """Create the two sub-networks."""
        self.encoder = Encoder(self.encoder_hidden, self.latent_dim, self.options)
        self.decoder = Decoder(self.decoder_hidden, self.n_genes, self.options)

    def __call__(self, x: jax.Array, eps: jax.Array, *, train: bool) -> VAEOutput:
        """Encode ``x [B, G]``, sample with ``eps [B, K]`` and decode."""
        loc, scale = self.encoder(x, train=train)
        z = loc + scale * eps
        return VAEOutput(loc, scale, z, self.decoder(z, train=train))

    def encode(self, x: jax.Array, *, train: bool = False) -> Posterior:
        """The posterior of ``x [B, G]``."""
        return self.encoder(x, train=train)

    def decode(self, z: jax.Array, *, train: bool = False) -> jax.Array:
        """The decoder mean of ``z [B, K]``."""
        return self.decoder(z, train=train)
