"""The WGAN-GP family's epoch: ``n_critic`` critic steps then one generator step, all in ``lax.scan``.

One epoch has ``floor(n / B)`` generator iterations. Every critic step and the generator step draw their own
minibatch and their own noise (spec §3.3). Fakes for the critic steps come from the generator in training
mode, without gradient into it; the generator's BatchNorm statistics are therefore updated in critic steps
too, as in the original (spec §3.8). The critic is called separately on the real, fake and interpolated
batches, each call with its own batch statistics.

Conditional models (CWGAN-GP, MichiGAN) pair every real cell with its code ``y``; with ``sampled`` codes,
``y = mu + sigma * eps`` with fresh ``eps`` for every minibatch. The posterior ``(mu, sigma)`` of each cell
is computed once by the trained encoder in inference mode, where it is deterministic per cell, so this is
exactly a fresh posterior sample of the re-encoded window.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import optax

from michigan.models.gan import Critic, CriticOutput, Generator
from michigan.models.layers import BlockOptions
from michigan.models.losses import (
    gradient_penalty,
    info_mutual_information,
    interpolate,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from michigan.train.loop import non_finite_advice
from michigan.train.sampling import (
    Sampler,
    epoch_permutations,
    minibatch_rows,
    steps_per_epoch,
)

GANKind = Literal["wgan_gp", "infowgan_gp", "cwgan_gp", "michigan"]
GAN_KINDS: tuple[str, ...] = ("wgan_gp", "infowgan_gp", "cwgan_gp", "michigan")
CONDITIONING = {
    "wgan_gp": "none",
    "infowgan_gp": "none",
    "cwgan_gp": "concat",
    "michigan": "projection",
}
GPEps = Literal["per_batch", "per_sample"]


class GANState(NamedTuple):
    """Generator and critic parameters, BatchNorm statistics and their two Adam states."""

    g_params: dict
    g_stats: dict
    d_params: dict
    d_stats: dict
    g_opt: optax.OptState
    d_opt: optax.OptState


class GANData(NamedTuple):
    """Device data of a GAN run.

    ``x`` ``[cells, genes]``; for conditional models ``code_loc`` ``[cells, K]`` (the mean codes) and, for
    sampled codes, ``code_scale`` ``[cells, K]`` (posterior standard deviations), else ``None``.
    """

    x: jax.Array
    code_loc: jax.Array | None = None
    code_scale: jax.Array | None = None


@dataclasses.dataclass(frozen=True)
class GANTask:
    """One of the four Wasserstein GANs, implementing :class:`~michigan.train.loop.EpochTask`.

    Parameters
    ----------
    name
        ``"wgan_gp"``, ``"infowgan_gp"``, ``"cwgan_gp"`` or ``"michigan"``.
    n_genes
        ``G``.
    code_dim
        Dimension of the generator's code: the condition ``K`` (conditional models), the InfoGAN code
        ``K`` or the WGAN-GP noise dimension.
    noise_dim
        Noise appended to the code (0 for WGAN-GP, whose input is its noise alone).
    generator_hidden, critic_hidden
        Hidden widths.
    generator_options
        BatchNorm/dropout semantics of the generator.
    critic_bn_mode
        BatchNorm semantics of the critic (which has no dropout).
    batch_size, n_critic
        ``B`` and critic steps per generator step.
    learning_rate, adam_b1, adam_b2
        Settings of both Adam optimisers (``eps = 1e-8``).
    gp_weight, gp_eps
        ``lambda_gp`` and one ε per batch (original) or per sample (Gulrajani et al.).
    mi_weight
        ``lambda_MI`` (InfoWGAN-GP only).
    sampler
        ``"window"`` or ``"partition"``.
    """

    name: GANKind
    n_genes: int
    code_dim: int
    noise_dim: int
    generator_hidden: tuple[int, ...]
    critic_hidden: tuple[int, ...]
    generator_options: BlockOptions
    critic_bn_mode: str
    batch_size: int
    n_critic: int
    learning_rate: float
    adam_b1: float
    adam_b2: float
    gp_weight: float
    gp_eps: GPEps
    mi_weight: float
    sampler: Sampler

    def __post_init__(self) -> None:
        if self.name not in GAN_KINDS:
            msg = f"GAN model must be one of {GAN_KINDS}, got {self.name!r}"
            raise ValueError(msg)
        if self.gp_eps not in ("per_batch", "per_sample"):
            msg = f"gp_eps must be 'per_batch' or 'per_sample', got {self.gp_eps!r}"
            raise ValueError(msg)
        if self.name == "michigan" and self.critic_hidden[-1] != self.code_dim:
            msg = (
                f"MichiGAN's projection critic needs critic_hidden[-1] ({self.critic_hidden[-1]}) "
                f"to equal the code dimension ({self.code_dim})"
            )
            raise ValueError(msg)

    @property
    def conditional(self) -> bool:
        """Whether real cells come with codes (CWGAN-GP, MichiGAN)."""
        return CONDITIONING[self.name] != "none"

    @property
    def info(self) -> bool:
        """Whether the critic has the InfoGAN Q head."""
        return self.name == "infowgan_gp"

    @property
    def loss_names(self) -> tuple[str, ...]:
        """Per-iteration metrics: critic-step means, the generator loss, the MI term if any."""
        names = ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein")
        return (*names, "mutual_information") if self.info else names

    validation_names = ("critic_loss", "generator_loss")

    def non_finite_advice(self, values: dict[str, float]) -> str:
        """The setting to change when the losses of a step are NaN/Inf (see :func:`non_finite_advice`)."""
        return non_finite_advice(
            values,
            weights={
                "gradient_penalty": ("generator.gp_weight", self.gp_weight),
                "mutual_information": ("generator.mi_weight", self.mi_weight),
            },
            learning_rate=("generator.learning_rate", self.learning_rate),
        )

    @property
    def generator(self) -> Generator:
        """The generator network."""
        return Generator(self.generator_hidden, self.n_genes, self.generator_options)

    @property
    def critic(self) -> Critic:
        """The critic network (with the Q head for InfoWGAN-GP)."""
        return Critic(
            self.critic_hidden,
            CONDITIONING[self.name],
            self.code_dim if self.info else 0,
            self.critic_bn_mode,
        )

    @property
    def optimizer(self) -> optax.GradientTransformation:
        """Plain Adam (the original's "prediction" optimiser is plain Adam, spec §3.6)."""
        return optax.adam(self.learning_rate, b1=self.adam_b1, b2=self.adam_b2, eps=1e-8)

    def init_state(self, key: jax.Array) -> GANState:
        """Fresh generator and critic with Glorot-uniform kernels and separate Adam states."""
        g_key, d_key = jax.random.split(key)
        inputs = jnp.zeros((self.batch_size, self.code_dim + self.noise_dim), jnp.float32)
        g_vars = self.generator.init(g_key, inputs, train=False)
        x = jnp.zeros((self.batch_size, self.n_genes), jnp.float32)
        code = (
            jnp.zeros((self.batch_size, self.code_dim), jnp.float32) if self.conditional else None
        )
        d_vars = self.critic.init(d_key, x, code, train=False)
        return GANState(
            g_vars["params"],
            g_vars["batch_stats"],
            d_vars["params"],
            d_vars["batch_stats"],
            self.optimizer.init(g_vars["params"]),
            self.optimizer.init(d_vars["params"]),
        )

    def cells_per_epoch(self, data: GANData) -> int:
        """``floor(n / B) * B``: cells of epoch progress (each iteration also reads n_critic batches)."""
        return steps_per_epoch(data.x.shape[0], self.batch_size) * self.batch_size

    # ---------------------------------------------------------------------------------------------
    # network calls

    def generator_input(self, code: jax.Array, key: jax.Array) -> jax.Array:
        """``[code, noise]`` ``[B, code_dim + noise_dim]`` with fresh standard-normal noise."""
        if not self.noise_dim:
            return code
        noise = jax.random.normal(key, (code.shape[0], self.noise_dim), code.dtype)
        return jnp.concatenate([code, noise], axis=-1)

    def generate(
        self, params: dict, stats: dict, inputs: jax.Array, key: jax.Array, *, train: bool
    ) -> tuple[jax.Array, dict]:
        """Run the generator; in training mode also return its updated BatchNorm statistics."""
        variables = {"params": params, "batch_stats": stats}
        if not train:
            return self.generator.apply(variables, inputs, train=False), stats
        out, updates = self.generator.apply(
            variables, inputs, train=True, rngs={"dropout": key}, mutable=["batch_stats"]
        )
        return out, updates["batch_stats"]

    def score(
        self, params: dict, stats: dict, x: jax.Array, code: jax.Array | None, *, train: bool
    ) -> tuple[CriticOutput, dict]:
        """Run the critic (``code`` only for conditional critics); return output and statistics."""
        pre = self.critic.apply({"params": params}, x, code, method="preactivation")
        return self.score_preactivation(params, stats, pre, code, train=train)

    def score_preactivation(
        self, params: dict, stats: dict, pre: jax.Array, code: jax.Array | None, *, train: bool
    ) -> tuple[CriticOutput, dict]:
        """The critic from its first layer's output ``pre`` on; returns output and statistics."""
        variables = {"params": params, "batch_stats": stats}
        method = "from_preactivation"
        if not train:
            return self.critic.apply(variables, pre, code, train=False, method=method), stats
        out, updates = self.critic.apply(
            variables, pre, code, train=True, method=method, mutable=["batch_stats"]
        )
        return out, updates["batch_stats"]

    # ---------------------------------------------------------------------------------------------
    # losses

    def _batch(self, data: GANData, rows: jax.Array, key: jax.Array) -> tuple[jax.Array, ...]:
        """Real cells ``[B, G]`` and the generator code ``[B, code_dim]`` of one minibatch."""
        x = jnp.take(data.x, rows, axis=0)
        if not self.conditional:
            return x, jax.random.normal(key, (rows.shape[0], self.code_dim), x.dtype)
        code = jnp.take(data.code_loc, rows, axis=0)
        if data.code_scale is not None:
            scale = jnp.take(data.code_scale, rows, axis=0)
            code = code + scale * jax.random.normal(key, code.shape, code.dtype)
        return x, code

    def critic_loss(
        self,
        d_params: dict,
        d_stats: dict,
        x_real: jax.Array,
        x_fake: jax.Array,
        code: jax.Array,
        eps_key: jax.Array,
        *,
        train: bool,
    ) -> tuple[jax.Array, tuple[dict[str, jax.Array], dict]]:
        """``L_D = mean D(x) - mean D(G) + lambda_gp GP [- lambda_MI MI]`` (spec §3.3-§3.4).

        The critic is called on the real, the fake and the interpolated batch, each call with its own
        BatchNorm batch statistics (updated in that order), and the penalty uses the gradient of the
        summed output of the interpolate call. Two exact rewrites make this cheaper: the first dense
        layer of the real and fake batches is one matrix product of ``2B`` rows, and, that layer being
        affine, the interpolate's first-layer output is ``eps a_real + (1 - eps) a_fake``; the input
        gradient is then the first layer's transpose applied to the gradient at its output. The values
        equal those of three separate critic calls up to float rounding.
        """
        condition = code if self.conditional else None
        first = functools.partial(self.critic.apply, {"params": d_params}, method="preactivation")
        both = first(
            jnp.concatenate([x_real, x_fake]),
            None if condition is None else jnp.concatenate([condition, condition]),
        )
        pre_real, pre_fake = jnp.split(both, 2)
        real, d_stats = self.score_preactivation(
            d_params, d_stats, pre_real, condition, train=train
        )
        fake, d_stats = self.score_preactivation(
            d_params, d_stats, pre_fake, condition, train=train
        )
        eps_shape = () if self.gp_eps == "per_batch" else (x_real.shape[0], 1)
        eps = jax.random.uniform(eps_key, eps_shape)

        def summed_score(pre: jax.Array) -> tuple[jax.Array, dict]:
            out, stats = self.score_preactivation(d_params, d_stats, pre, condition, train=train)
            return jnp.sum(out.score), stats

        pre_grads, d_stats = jax.grad(summed_score, has_aux=True)(
            interpolate(pre_real, pre_fake, eps)
        )
        # the forward product inside vjp is unused and removed by the compiler
        _, pullback = jax.vjp(lambda x: first(x, condition), interpolate(x_real, x_fake, eps))
        (grads,) = pullback(pre_grads)
        penalty = gradient_penalty(grads)
        wasserstein = wasserstein_critic_loss(real.score, fake.score)
        loss = wasserstein + self.gp_weight * penalty
        metrics = {"critic_loss": loss, "gradient_penalty": penalty, "wasserstein": -wasserstein}
        if self.info:
            mi = info_mutual_information(code, fake.q_mean)
            loss = loss - self.mi_weight * mi
            metrics |= {"critic_loss": loss, "mutual_information": mi}
        return loss, (metrics, d_stats)

    def generator_loss(
        self,
        g_params: dict,
        g_stats: dict,
        d_params: dict,
        d_stats: dict,
        code: jax.Array,
        key: jax.Array,
        *,
        train: bool,
    ) -> tuple[jax.Array, tuple[dict, dict]]:
        """``L_G = mean D(G(code, noise)) [- lambda_MI MI]``; returns both networks' statistics."""
        noise_key, dropout_key = jax.random.split(key)
        inputs = self.generator_input(code, noise_key)
        x_fake, g_stats = self.generate(g_params, g_stats, inputs, dropout_key, train=train)
        condition = code if self.conditional else None
        fake, d_stats = self.score(d_params, d_stats, x_fake, condition, train=train)
        loss = wasserstein_generator_loss(fake.score)
        if self.info:
            loss = loss - self.mi_weight * info_mutual_information(code, fake.q_mean)
        return loss, (g_stats, d_stats)

    # ---------------------------------------------------------------------------------------------
    # epoch

    def train_epoch(
        self, state: GANState, data: GANData, key: jax.Array
    ) -> tuple[GANState, dict[str, jax.Array]]:
        """``floor(n / B)`` iterations of ``n_critic`` critic steps and one generator step."""
        n_cells = data.x.shape[0]
        n_steps = steps_per_epoch(n_cells, self.batch_size)
        perm_key, steps_key = jax.random.split(key)
        perms = epoch_permutations(perm_key, self.sampler, n_cells, streams=self.n_critic + 1)
        critic_grad = jax.grad(self.critic_loss, has_aux=True)
        generator_grad = jax.value_and_grad(self.generator_loss, has_aux=True)

        def rows_of(index: jax.Array, stream: int | jax.Array, key: jax.Array) -> jax.Array:
            return minibatch_rows(
                perms,
                sampler=self.sampler,
                batch_size=self.batch_size,
                step=index,
                stream=stream,
                key=key,
            )

        def critic_step(
            s: GANState, inputs: tuple[jax.Array, jax.Array, jax.Array]
        ) -> tuple[GANState, dict]:
            index, stream, step_key = inputs
            rows_key, code_key, noise_key, dropout_key, eps_key = jax.random.split(step_key, 5)
            x_real, code = self._batch(data, rows_of(index, stream, rows_key), code_key)
            gen_in = self.generator_input(code, noise_key)
            x_fake, g_stats = self.generate(s.g_params, s.g_stats, gen_in, dropout_key, train=True)
            grads, (metrics, d_stats) = critic_grad(
                s.d_params,
                s.d_stats,
                x_real,
                jax.lax.stop_gradient(x_fake),
                code,
                eps_key,
                train=True,
            )
            updates, d_opt = self.optimizer.update(grads, s.d_opt, s.d_params)
            d_params = optax.apply_updates(s.d_params, updates)
            return s._replace(
                g_stats=g_stats, d_params=d_params, d_stats=d_stats, d_opt=d_opt
            ), metrics

        def iteration(s: GANState, inputs: tuple[jax.Array, jax.Array]) -> tuple[GANState, dict]:
            index, iter_key = inputs
            critic_keys, rows_key, code_key, gen_key = jax.random.split(iter_key, 4)
            streams = jnp.arange(self.n_critic)
            s, critic_metrics = jax.lax.scan(
                critic_step,
                s,
                (
                    jnp.full(self.n_critic, index),
                    streams,
                    jax.random.split(critic_keys, self.n_critic),
                ),
            )
            _, code = self._batch(data, rows_of(index, self.n_critic, rows_key), code_key)
            (g_loss, (g_stats, d_stats)), grads = generator_grad(
                s.g_params, s.g_stats, s.d_params, s.d_stats, code, gen_key, train=True
            )
            updates, g_opt = self.optimizer.update(grads, s.g_opt, s.g_params)
            g_params = optax.apply_updates(s.g_params, updates)
            metrics = {name: jnp.mean(value) for name, value in critic_metrics.items()}
            metrics["generator_loss"] = g_loss
            return s._replace(
                g_params=g_params, g_stats=g_stats, d_stats=d_stats, g_opt=g_opt
            ), metrics

        keys = jax.random.split(steps_key, n_steps)
        return jax.lax.scan(iteration, state, (jnp.arange(n_steps), keys))

    def validation_losses(
        self, state: GANState, data: GANData, key: jax.Array
    ) -> dict[str, jax.Array]:
        """Inference-mode critic and generator losses, averaged over ``floor(n_valid / B)`` batches.

        Notes
        -----
        The original divides the *sum of batch means* by ``n_valid`` (spec §4.2, a scale bug); here the
        batch means are averaged, so validation and training losses share one scale.
        """
        n_cells = data.x.shape[0]
        n_steps = steps_per_epoch(n_cells, self.batch_size)
        perm_key, steps_key = jax.random.split(key)
        perms = epoch_permutations(perm_key, self.sampler, n_cells, streams=1)

        def batch_losses(inputs: tuple[jax.Array, jax.Array]) -> jax.Array:
            index, step_key = inputs
            rows_key, code_key, noise_key, eps_key, gen_key = jax.random.split(step_key, 5)
            rows = minibatch_rows(
                perms, sampler=self.sampler, batch_size=self.batch_size, step=index, key=rows_key
            )
            x_real, code = self._batch(data, rows, code_key)
            gen_in = self.generator_input(code, noise_key)
            x_fake, _ = self.generate(state.g_params, state.g_stats, gen_in, noise_key, train=False)
            d_loss = self.critic_loss(
                state.d_params, state.d_stats, x_real, x_fake, code, eps_key, train=False
            )[0]
            g_loss = self.generator_loss(
                state.g_params,
                state.g_stats,
                state.d_params,
                state.d_stats,
                code,
                gen_key,
                train=False,
            )[0]
            return jnp.stack([d_loss, g_loss])

        losses = jax.lax.map(
            batch_losses, (jnp.arange(n_steps), jax.random.split(steps_key, n_steps))
        )
        return dict(zip(self.validation_names, jnp.mean(losses, axis=0), strict=True))

    def improved(self, previous: jax.Array, current: jax.Array, min_delta: float) -> jax.Array:
        """Either loss changed by more than ``min_delta`` (spec §4.2: absolute change for GANs)."""
        return jnp.any(jnp.abs(previous - current) > min_delta)
