"""The VAE / β-TCVAE epoch: sampling, loss, gradient and Adam update of every step in one ``lax.scan``."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from michigan.models.layers import BlockOptions
from michigan.models.losses import beta_tcvae_loss, mss_log_weights
from michigan.models.vae import VAE
from michigan.train.loop import non_finite_advice
from michigan.train.sampling import (
    Sampler,
    epoch_permutations,
    minibatch_rows,
    steps_per_epoch,
)


class VAEState(NamedTuple):
    """Trainable state: parameters, BatchNorm moving statistics and the Adam state."""

    params: dict
    batch_stats: dict
    opt_state: optax.OptState


class VAEData(NamedTuple):
    """Device data of a VAE run: the expression matrix ``[cells, genes]`` (float32)."""

    x: jax.Array


@dataclasses.dataclass(frozen=True)
class VAETask:
    """β-TCVAE training (VAE when ``beta = 0``), implementing :class:`~michigan.train.loop.EpochTask`.

    Parameters
    ----------
    name
        Model name used in logs (``"vae"`` or ``"btcvae"``).
    n_genes, latent_dim
        ``G`` and ``K``.
    encoder_hidden, decoder_hidden
        Hidden widths.
    options
        BatchNorm/dropout semantics.
    batch_size
        ``B``.
    n_train
        ``N`` of the MSS weight matrix: the number of training cells.
    beta, kl_weight
        Loss weights (:func:`~michigan.models.losses.beta_tcvae_loss`).
    learning_rate, adam_b1, adam_b2
        Adam settings (``eps = 1e-8``; optax scales ε by ``sqrt(1 - b2^t)`` where TF1 does not, a
        negligible difference, spec §1).
    sampler
        ``"window"`` or ``"partition"``.
    """

    name: str
    n_genes: int
    latent_dim: int
    encoder_hidden: tuple[int, ...]
    decoder_hidden: tuple[int, ...]
    options: BlockOptions
    batch_size: int
    n_train: int
    beta: float
    kl_weight: float
    learning_rate: float
    adam_b1: float
    adam_b2: float
    sampler: Sampler

    loss_names = ("loss", "reconstruction", "kl", "tc")
    validation_names = ("loss",)

    def non_finite_advice(self, values: dict[str, float]) -> str:
        """The setting to change when the losses of a step are NaN/Inf (see :func:`non_finite_advice`)."""
        return non_finite_advice(
            values,
            weights={
                "kl": ("representation.kl_weight", self.kl_weight),
                "tc": ("representation.beta", self.beta),
            },
            learning_rate=("representation.learning_rate", self.learning_rate),
        )

    @property
    def module(self) -> VAE:
        """The Flax network."""
        return VAE(
            self.encoder_hidden, self.decoder_hidden, self.latent_dim, self.n_genes, self.options
        )

    @property
    def optimizer(self) -> optax.GradientTransformation:
        """Plain Adam over encoder and decoder."""
        return optax.adam(self.learning_rate, b1=self.adam_b1, b2=self.adam_b2, eps=1e-8)

    def init_state(self, key: jax.Array) -> VAEState:
        """Glorot-uniform weights, zero biases, BatchNorm (1, 0) and moving (0, 1)."""
        x = jnp.zeros((self.batch_size, self.n_genes), jnp.float32)
        eps = jnp.zeros((self.batch_size, self.latent_dim), jnp.float32)
        variables = self.module.init(key, x, eps, train=False)
        params = variables["params"]
        return VAEState(params, variables["batch_stats"], self.optimizer.init(params))

    def cells_per_epoch(self, data: VAEData) -> int:
        """``floor(n / B) * B``."""
        return steps_per_epoch(data.x.shape[0], self.batch_size) * self.batch_size

    def _loss(
        self, params: dict, batch_stats: dict, x: jax.Array, key: jax.Array, *, train: bool
    ) -> tuple[jax.Array, tuple[dict[str, jax.Array], dict]]:
        eps_key, dropout_key = jax.random.split(key)
        eps = jax.random.normal(eps_key, (x.shape[0], self.latent_dim), x.dtype)
        variables = {"params": params, "batch_stats": batch_stats}
        if train:
            out, updates = self.module.apply(
                variables,
                x,
                eps,
                train=True,
                rngs={"dropout": dropout_key},
                mutable=["batch_stats"],
            )
            batch_stats = updates["batch_stats"]
        else:
            out = self.module.apply(variables, x, eps, train=False)
        losses = beta_tcvae_loss(
            x,
            out.x_mean,
            out.z,
            out.loc,
            out.scale,
            log_weights=mss_log_weights(self.batch_size, self.n_train),
            beta=self.beta,
            kl_weight=self.kl_weight,
        )
        metrics = dict(zip(self.loss_names, losses, strict=True))
        return losses.total, (metrics, batch_stats)

    def train_epoch(
        self, state: VAEState, data: VAEData, key: jax.Array
    ) -> tuple[VAEState, dict[str, jax.Array]]:
        """``floor(n / B)`` Adam steps on minibatches of the configured sampler."""
        n_cells = data.x.shape[0]
        n_steps = steps_per_epoch(n_cells, self.batch_size)
        perm_key, steps_key = jax.random.split(key)
        perms = epoch_permutations(perm_key, self.sampler, n_cells, streams=1)
        grad_fn = jax.grad(self._loss, has_aux=True)

        def step(s: VAEState, inputs: tuple[jax.Array, jax.Array]) -> tuple[VAEState, dict]:
            index, step_key = inputs
            rows_key, loss_key = jax.random.split(step_key)
            rows = minibatch_rows(
                perms, sampler=self.sampler, batch_size=self.batch_size, step=index, key=rows_key
            )
            x = jnp.take(data.x, rows, axis=0)
            grads, (metrics, batch_stats) = grad_fn(
                s.params, s.batch_stats, x, loss_key, train=True
            )
            updates, opt_state = self.optimizer.update(grads, s.opt_state, s.params)
            params = optax.apply_updates(s.params, updates)
            return VAEState(params, batch_stats, opt_state), metrics

        keys = jax.random.split(steps_key, n_steps)
        return jax.lax.scan(step, state, (jnp.arange(n_steps), keys))

    def validation_losses(
        self, state: VAEState, data: VAEData, key: jax.Array
    ) -> dict[str, jax.Array]:
        """Mean inference-mode loss over ``floor(n_valid / B)`` minibatches (spec §4.2)."""
        n_cells = data.x.shape[0]
        n_steps = steps_per_epoch(n_cells, self.batch_size)
        perm_key, steps_key = jax.random.split(key)
        perms = epoch_permutations(perm_key, self.sampler, n_cells, streams=1)

        def batch_loss(inputs: tuple[jax.Array, jax.Array]) -> jax.Array:
            index, step_key = inputs
            rows_key, loss_key = jax.random.split(step_key)
            rows = minibatch_rows(
                perms, sampler=self.sampler, batch_size=self.batch_size, step=index, key=rows_key
            )
            x = jnp.take(data.x, rows, axis=0)
            return self._loss(state.params, state.batch_stats, x, loss_key, train=False)[0]

        losses = jax.lax.map(
            batch_loss, (jnp.arange(n_steps), jax.random.split(steps_key, n_steps))
        )
        return {"loss": jnp.mean(losses)}

    def improved(self, previous: jax.Array, current: jax.Array, min_delta: float) -> jax.Array:
        """The loss dropped by more than ``min_delta``."""
        return jnp.any(previous - current > min_delta)
