"""The chunked training driver: compiled epochs, logging, checkpoints, NaN guard, early stopping.

One call of the compiled *chunk* runs ``checkpoint_every`` whole epochs inside ``jax.lax.scan`` on data that
stays on the device (the minibatch sampling and the critic/generator alternation happen inside the
epoch). Python loops only over chunks: after each one it checks the losses, logs progress and writes a
checkpoint atomically. The PRNG key, epoch counter and early-stopping state are part of the loop state,
so a run killed at any moment and restarted from its last checkpoint repeats exactly the computation of
an uninterrupted run (chunk boundaries are always multiples of ``checkpoint_every``).

Early stopping (spec §4.2, when validation data is given): after every epoch the task's validation
losses are compared with the previous epoch's; an improvement resets a counter, anything else increments
it, and training stops once the counter exceeds the patience (the first epoch only sets the reference).
The decision is taken inside the compiled chunk, so the epoch at which a run stops does not depend on the
chunk length; epochs after the stop are skipped with ``lax.cond``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from michigan.progress import Progress
from michigan.train.checkpoint import load_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

Metrics = dict[str, jax.Array]


class NonFiniteLossError(FloatingPointError):
    """A training or validation loss became NaN or infinite; the message names where."""


class EpochTask(Protocol):
    """What the driver needs from a trainable model (the compiled part of the model contract).

    Implementations are frozen, hashable dataclasses, so that compiled chunks can be cached by task.
    """

    name: str

    @property
    def loss_names(self) -> tuple[str, ...]:
        """Per-step metrics returned by :meth:`train_epoch`; all are checked for finiteness."""
        ...

    @property
    def validation_names(self) -> tuple[str, ...]:
        """Scalars returned by :meth:`validation_losses`."""
        ...

    def init_state(self, key: jax.Array) -> Any:
        """Fresh model state (parameters, BatchNorm statistics, optimiser states)."""
        ...

    def train_epoch(self, state: Any, data: Any, key: jax.Array) -> tuple[Any, Metrics]:
        """One epoch; metrics are ``[steps]`` arrays named by :attr:`loss_names`."""
        ...

    def validation_losses(self, state: Any, data: Any, key: jax.Array) -> Metrics:
        """Inference-mode losses on the validation cells, named by :attr:`validation_names`."""
        ...

    def improved(self, previous: jax.Array, current: jax.Array, min_delta: float) -> jax.Array:
        """Whether the validation losses ``[m]`` count as progress (a boolean scalar)."""
        ...

    def cells_per_epoch(self, data: Any) -> int:
        """Cells of epoch progress (steps x batch size), for the rate."""
        ...


@flax.struct.dataclass
class LoopState:
    """Everything that changes during training: checkpointed as a whole."""

    model: Any
    key: jax.Array
    epoch: jax.Array  # int32 scalar: epochs done
    best: jax.Array  # float32 [m]: previous epoch's validation losses (NaN before the first)
    patience_used: jax.Array  # int32 scalar: consecutive epochs without improvement
    stopped: jax.Array  # bool scalar: early stopping fired


@dataclasses.dataclass(frozen=True)
class EarlyStopping:
    """Early-stopping settings (spec §4.2): stop once ``patience`` is exceeded; see the module doc."""

    patience: int
    min_delta: float


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit`."""

    state: LoopState
    history: dict[str, np.ndarray]  # per-epoch means of the losses and the validation losses
    epochs_done: int
    stopped_early: bool


def initial_state(task: EpochTask, seed: int) -> LoopState:
    """The loop state of a fresh run with ``seed``."""
    init_key, loop_key = jax.random.split(jax.random.PRNGKey(seed))
    return LoopState(
        model=task.init_state(init_key),
        key=loop_key,
        epoch=jnp.zeros((), jnp.int32),
        best=jnp.full((len(task.validation_names),), jnp.nan, jnp.float32),
        patience_used=jnp.zeros((), jnp.int32),
        stopped=jnp.zeros((), jnp.bool_),
    )


def fit(
    task: EpochTask,
    train_data: Any,
    *,
    seed: int,
    epochs: int,
    checkpoint_every: int,
    checkpoint_dir: str | Path,
    fingerprint: dict[str, Any],
    valid_data: Any = None,
    early_stopping: EarlyStopping | None = None,
    after_chunk: Callable[[int, LoopState], None] | None = None,
) -> FitResult:
    """Train ``task`` for ``epochs`` epochs, resuming from ``checkpoint_dir`` when it holds a checkpoint.

    Parameters
    ----------
    task
        The model's compiled-epoch implementation.
    train_data, valid_data
        Pytrees of device arrays (the task's data layout); ``valid_data`` enables validation.
    seed
        Seeds the parameter initialisation and every random draw of training.
    epochs
        Total epochs of the run (a resumed run continues up to it).
    checkpoint_every
        Epochs per compiled chunk; the checkpoint is written after each chunk.
    checkpoint_dir
        Where the checkpoint lives.
    fingerprint
        JSON-able description of the run; a checkpoint of another run is refused.
    early_stopping
        Stop rule; requires ``valid_data``.
    after_chunk
        Called with the epochs done and the state after each chunk, before its checkpoint is
        written (so a run killed in between repeats the call on resume), e.g. to keep snapshots.

    Raises
    ------
    NonFiniteLossError
        When a loss becomes NaN/Inf; the last good checkpoint is kept.
    ValueError
        On inconsistent arguments or a checkpoint of a different run.
    """
    if (early_stopping is None) != (valid_data is None):
        msg = "early_stopping and valid_data must be given together"
        raise ValueError(msg)
    state = initial_state(task, seed)
    history: dict[str, np.ndarray] = {}
    restored = load_checkpoint(checkpoint_dir, template=state, fingerprint=fingerprint)
    if restored is not None:
        state, history = restored
        state = jax.tree.map(jnp.asarray, state)
    done = int(state.epoch)
    cells = task.cells_per_epoch(train_data)
    progress = Progress(epochs, desc=f"{task.name} epoch", unit="cells", logger=logger, start=done)
    cells_done = 0
    while done < epochs and not bool(state.stopped):
        length = min(checkpoint_every, epochs - done)
        chunk = compiled_chunk(
            task,
            state,
            train_data,
            length=length,
            valid_data=valid_data,
            early_stopping=early_stopping,
        )
        state, (metrics, validation, ran) = chunk(state, train_data, valid_data)
        metrics, validation, ran = jax.device_get((metrics, validation, ran))
        _check_finite(
            task, metrics, validation, ran, first_epoch=done, checkpoint_dir=checkpoint_dir
        )
        history = _extend_history(history, task, metrics, validation, ran)
        new_done = int(state.epoch)
        cells_done += (new_done - done) * cells
        done = new_done
        if after_chunk is not None:
            after_chunk(done, state)
        save_checkpoint(checkpoint_dir, state=state, history=history, fingerprint=fingerprint)
        progress.update(done, rate_units=cells_done, metrics={k: v[-1] for k, v in history.items()})
    stopped = bool(state.stopped)
    if stopped:
        logger.info("%s: early stopping after epoch %d", task.name, done)
    return FitResult(state, history, done, stopped)


# --------------------------------------------------------------------------------------------------
# the compiled chunk


def compiled_chunk(
    task: EpochTask,
    state: LoopState,
    train_data: Any,
    *,
    length: int,
    valid_data: Any = None,
    early_stopping: EarlyStopping | None = None,
) -> Any:
    """The compiled function ``(state, train_data, valid_data) -> (state, (metrics, validation, ran))``.

    It runs ``length`` epochs and donates ``state``. Compilations are cached by task, chunk length,
    early-stopping rule and the shapes of the arguments, so repeated runs of one configuration (tests,
    resumed runs in one process) compile once.
    """
    return _compiled_chunk(
        task, early_stopping, length, _spec(state), _spec(train_data), _spec(valid_data)
    )


def _spec(tree: Any) -> tuple[Any, tuple[jax.ShapeDtypeStruct, ...]]:
    """Hashable abstract signature of a pytree (structure, shapes, dtypes)."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, tuple(jax.ShapeDtypeStruct(np.shape(x), jnp.asarray(x).dtype) for x in leaves)


@functools.lru_cache(maxsize=64)
def _compiled_chunk(
    task: EpochTask,
    early_stopping: EarlyStopping | None,
    length: int,
    state_spec: Any,
    train_spec: Any,
    valid_spec: Any,
) -> Any:
    """Compile (once per task, chunk length and data shapes) the function running ``length`` epochs."""
    fn = jax.jit(functools.partial(_run_chunk, task, early_stopping, length), donate_argnums=0)
    abstract = [
        jax.tree.unflatten(treedef, leaves)
        for treedef, leaves in (state_spec, train_spec, valid_spec)
    ]
    logger.info("%s: compiling a training chunk of %d epoch(s) ...", task.name, length)
    start = time.perf_counter()
    compiled = fn.lower(*abstract).compile()
    logger.info("%s: compiled in %.1f s", task.name, time.perf_counter() - start)
    return compiled


def _run_chunk(
    task: EpochTask,
    early_stopping: EarlyStopping | None,
    length: int,
    state: LoopState,
    train_data: Any,
    valid_data: Any,
) -> tuple[LoopState, tuple[Metrics, Metrics, jax.Array]]:
    """``length`` epochs in one ``lax.scan``; returns per-step metrics ``[length, steps]``."""

    def run_epoch(s: LoopState) -> tuple[LoopState, tuple[Metrics, Metrics, jax.Array]]:
        key, train_key, valid_key = jax.random.split(s.key, 3)
        model, metrics = task.train_epoch(s.model, train_data, train_key)
        s = s.replace(model=model, key=key, epoch=s.epoch + 1)
        if early_stopping is None:
            return s, (metrics, {}, jnp.ones((), jnp.bool_))
        validation = task.validation_losses(model, valid_data, valid_key)
        current = jnp.stack([validation[name] for name in task.validation_names])
        first = jnp.any(jnp.isnan(s.best))
        progress = first | task.improved(s.best, current, early_stopping.min_delta)
        used = jnp.where(progress, 0, s.patience_used + 1)
        s = s.replace(best=current, patience_used=used, stopped=used > early_stopping.patience)
        return s, (metrics, validation, jnp.ones((), jnp.bool_))

    def skip_epoch(s: LoopState) -> tuple[LoopState, tuple[Metrics, Metrics, jax.Array]]:
        shapes = jax.eval_shape(run_epoch, s)[1]
        filler = jax.tree.map(lambda a: jnp.full(a.shape, jnp.nan, a.dtype), shapes[:2])
        return s, (*filler, jnp.zeros((), jnp.bool_))

    def body(s: LoopState, _: None) -> tuple[LoopState, tuple[Metrics, Metrics, jax.Array]]:
        if early_stopping is None:
            return run_epoch(s)
        return jax.lax.cond(s.stopped, skip_epoch, run_epoch, s)

    return jax.lax.scan(body, state, None, length=length)


# --------------------------------------------------------------------------------------------------
# host-side bookkeeping


def _check_finite(
    task: EpochTask,
    metrics: dict[str, np.ndarray],
    validation: dict[str, np.ndarray],
    ran: np.ndarray,
    *,
    first_epoch: int,
    checkpoint_dir: str | Path,
) -> None:
    """Raise :class:`NonFiniteLossError` naming the first epoch/step/loss that is NaN or infinite."""
    for offset in np.flatnonzero(ran):
        epoch = first_epoch + int(offset) + 1
        for name in task.loss_names:
            values = np.asarray(metrics[name][offset])
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                step = int(bad[0])
                _raise_non_finite(
                    task,
                    f"training loss {name!r}",
                    values[step],
                    epoch,
                    f" step {step + 1}/{values.size}",
                    first_epoch,
                    checkpoint_dir,
                )
        for name, values in validation.items():
            value = np.asarray(values[offset])
            if not np.isfinite(value):
                _raise_non_finite(
                    task, f"validation loss {name!r}", value, epoch, "", first_epoch, checkpoint_dir
                )


def _raise_non_finite(
    task: EpochTask,
    what: str,
    value: float,
    epoch: int,
    where: str,
    last_good: int,
    checkpoint_dir: str | Path,
) -> None:
    msg = (
        f"{task.name}: {what} is {value} at epoch {epoch}{where}; training stopped. The last good "
        f"checkpoint (epoch {last_good}) is kept in {checkpoint_dir}; lower the learning rate or "
        "check the input data"
    )
    raise NonFiniteLossError(msg)


def _extend_history(
    history: dict[str, np.ndarray],
    task: EpochTask,
    metrics: dict[str, np.ndarray],
    validation: dict[str, np.ndarray],
    ran: np.ndarray,
) -> dict[str, np.ndarray]:
    """Append the per-epoch means of the chunk's epochs that ran."""
    rows = np.flatnonzero(ran)
    new = {name: np.asarray(metrics[name])[rows].mean(axis=1) for name in task.loss_names}
    new |= {f"valid_{name}": np.asarray(validation[name])[rows] for name in validation}
    return {
        name: np.concatenate(
            [history.get(name, np.empty(0, np.float32)), values.astype(np.float32)]
        )
        for name, values in new.items()
    }
