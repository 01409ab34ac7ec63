"""The chunked training driver: compiled epochs, logging, checkpoints, NaN guard, early stopping.

One call of the compiled *chunk* runs ``checkpoint_every`` whole epochs inside ``jax.lax.scan`` on data that
stays on the device (the minibatch sampling and the critic/generator alternation happen inside the
epoch). Python loops only over chunks: after each one it checks the losses, logs progress and writes a
checkpoint atomically. The PRNG key, epoch counter and early-stopping state are part of the loop state,
so a run killed at any moment and restarted from its last checkpoint repeats exactly the computation of
an uninterrupted run (chunk boundaries are always multiples of ``checkpoint_every``).

Every chunk has the same length: epochs at or beyond the run's total are skipped with ``lax.cond``
(the total is an argument of the compiled chunk, not a shape), so a run compiles its chunk once, and
JAX's persistent cache (:mod:`michigan.jaxcache`) lets later processes skip even that. Compilation is
timed apart from training: the progress rate and ETA count chunks only.

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
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from michigan.progress import Progress, format_duration
from michigan.train.checkpoint import load_checkpoint, save_checkpoint

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
class Timing:
    """Where a run's time went: compilation apart from training, the first chunk apart from the rest."""

    compile_s: float  # compiling the chunk (0 when found in this process's or the persistent cache)
    first_chunk_s: float | None  # the first chunk run by this process, checkpoint included
    train_s: float  # all chunks run by this process, checkpoints included, compilation excluded
    epochs_run: int  # epochs run by this process (a resumed run counts from its checkpoint)
    cells_per_s: float | None  # training throughput over ``train_s`` (None: nothing run)


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit`."""

    state: LoopState
    history: dict[str, np.ndarray]  # per-epoch means of the losses and the validation losses
    epochs_done: int
    stopped_early: bool
    timing: Timing


@dataclasses.dataclass(frozen=True)
class TrainingProgress:
    """One progress report of :func:`fit`, passed to its ``on_progress`` hook (e.g. to drive a tqdm bar).

    ``phase`` is ``"compiling"`` (before the chunk is compiled; may take a minute), ``"compiled"``,
    ``"chunk"`` (after each chunk and its checkpoint) or ``"done"``. Rate and ETA are measured on
    the chunks run so far, after compilation (NaN before the first chunk).
    """

    phase: str
    task: str
    epochs_done: int
    epochs: int
    compile_s: float
    elapsed_s: float
    cells_per_s: float
    eta_s: float
    metrics: dict[str, float]


ProgressHook = Callable[[TrainingProgress], None]


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


def run_fingerprint(
    fingerprint: dict[str, Any], *, seed: int, epochs: int, checkpoint_every: int
) -> dict[str, Any]:
    """The caller's ``fingerprint`` plus what the driver itself decides the result by.

    That is the seed, ``epochs``, ``checkpoint_every``, the versions of the packages that compute the
    epochs and the JAX backend: a checkpoint is resumed only by a run that would otherwise have
    produced exactly the same state.
    """
    return {
        **fingerprint,
        "seed": seed,
        "epochs": epochs,
        "checkpoint_every": checkpoint_every,
        "backend": jax.default_backend(),
        "versions": {name: _version(name) for name in ("jax", "jaxlib", "flax", "optax")},
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


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
    on_progress: ProgressHook | None = None,
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
        Epochs per compiled chunk; the checkpoint is written after each chunk. Every chunk has this
        length (a last, shorter one skips its surplus epochs), so a run compiles once.
    checkpoint_dir
        Where the checkpoint lives.
    fingerprint
        JSON-able description of the run (model, configuration, data); :func:`run_fingerprint` adds
        the seed, ``epochs``, versions and backend. A checkpoint whose fingerprint differs is refused.
    early_stopping
        Stop rule; requires ``valid_data``.
    after_chunk
        Called with the epochs done and the state after each chunk, before its checkpoint is
        written (so a run killed in between repeats the call on resume), e.g. to keep snapshots.
    on_progress
        Called with a :class:`TrainingProgress` when compilation starts and ends and after every
        chunk. Progress is also logged; without a hook and without logging configured, the lines go
        to stderr.

    Raises
    ------
    NonFiniteLossError
        When a loss becomes NaN/Inf (the message names the loss, the setting to change and whether a
        checkpoint was kept).
    michigan.train.checkpoint.CheckpointError
        When the checkpoint is corrupt or was written by a run with other settings.
    ValueError
        On inconsistent arguments.
    """
    if (early_stopping is None) != (valid_data is None):
        msg = "early_stopping and valid_data must be given together"
        raise ValueError(msg)
    fingerprint = run_fingerprint(
        fingerprint, seed=seed, epochs=epochs, checkpoint_every=checkpoint_every
    )
    state = initial_state(task, seed)
    history: dict[str, np.ndarray] = {}
    restored = load_checkpoint(checkpoint_dir, template=state, fingerprint=fingerprint)
    if restored is not None:
        state, history = restored
        state = jax.tree.map(jnp.asarray, state)
    cells = task.cells_per_epoch(train_data)
    report = _Reporter(task.name, epochs, cells, int(state.epoch), on_progress)
    chunk = None
    while report.done < epochs and not bool(state.stopped):
        if chunk is None:
            chunk = compiled_chunk(
                task,
                state,
                train_data,
                length=checkpoint_every,
                valid_data=valid_data,
                early_stopping=early_stopping,
                on_compile=report.compiling,
            )
            report.compiled()
        first = report.done
        state, (metrics, validation, ran) = chunk(state, train_data, valid_data, epochs)
        metrics, validation, ran = jax.device_get((metrics, validation, ran))
        _check_finite(
            task, metrics, validation, ran, first_epoch=first, checkpoint_dir=checkpoint_dir
        )
        history = _extend_history(history, task, metrics, validation, ran)
        done = int(state.epoch)
        if after_chunk is not None:
            after_chunk(done, state)
        save_checkpoint(checkpoint_dir, state=state, history=history, fingerprint=fingerprint)
        report.chunk(done, {k: float(v[-1]) for k, v in history.items()})
    stopped = bool(state.stopped)
    if stopped:
        logger.info("%s: early stopping after epoch %d", task.name, report.done)
    return FitResult(state, history, report.done, stopped, report.finish())


class _Reporter:
    """Times a run (compilation apart) and reports its progress to the log and the hook."""

    def __init__(
        self, name: str, epochs: int, cells_per_epoch: int, start: int, hook: ProgressHook | None
    ) -> None:
        self.name = name
        self.epochs = epochs
        self.cells_per_epoch = cells_per_epoch
        self.start = self.done = start
        self.hook = hook if hook is not None or logger.hasHandlers() else _print_to_stderr
        self.compile_s = 0.0
        self.first_chunk_s = float("nan")
        self._t0 = time.perf_counter()
        self._progress: Progress | None = None
        self._metrics: dict[str, float] = {}

    def compiling(self, length: int) -> None:
        logger.info(
            "%s: compiling a training chunk of %d epoch(s); this can take a minute, and is not "
            "counted in the rate and ETA",
            self.name,
            length,
        )
        self._emit("compiling")

    def compiled(self) -> None:
        self.compile_s = time.perf_counter() - self._t0
        if self.compile_s > 0.5:
            logger.info("%s: compiled in %.1f s", self.name, self.compile_s)
        self._progress = Progress(
            self.epochs, desc=f"{self.name} epoch", unit="cells", logger=logger, start=self.start
        )
        self._emit("compiled")

    def chunk(self, done: int, metrics: dict[str, float]) -> None:
        assert self._progress is not None
        if self.done == self.start:
            self.first_chunk_s = self._progress.elapsed
            logger.info(
                "%s: first chunk ran in %.1f s (after %.1f s of compilation or cache look-up)",
                self.name,
                self.first_chunk_s,
                self.compile_s,
            )
        self.done = done
        self._metrics = metrics
        self._progress.update(
            done, rate_units=(done - self.start) * self.cells_per_epoch, metrics=metrics
        )
        self._emit("chunk")

    def finish(self) -> Timing:
        train_s = self._progress.elapsed if self._progress is not None else 0.0
        ran = self.done - self.start
        self._emit("done")
        return Timing(
            compile_s=round(self.compile_s, 3),
            first_chunk_s=round(self.first_chunk_s, 3) if ran else None,
            train_s=round(train_s, 3),
            epochs_run=ran,
            cells_per_s=round(ran * self.cells_per_epoch / train_s, 1) if ran else None,
        )

    def _emit(self, phase: str) -> None:
        if self.hook is None:
            return
        elapsed = self._progress.elapsed if self._progress is not None else 0.0
        ran = self.done - self.start
        per_epoch = elapsed / ran if ran else float("nan")
        self.hook(
            TrainingProgress(
                phase=phase,
                task=self.name,
                epochs_done=self.done,
                epochs=self.epochs,
                compile_s=self.compile_s,
                elapsed_s=elapsed,
                cells_per_s=ran * self.cells_per_epoch / elapsed
                if ran and elapsed > 0
                else float("nan"),
                eta_s=per_epoch * (self.epochs - self.done),
                metrics=dict(self._metrics),
            )
        )


def _print_to_stderr(event: TrainingProgress) -> None:
    """The default hook when nothing else shows progress: one line per event on stderr."""
    eta = format_duration(event.eta_s) if event.eta_s == event.eta_s else "?"
    if event.phase == "compiling":
        line = f"{event.task}: compiling (not counted in the rate and ETA) ..."
    elif event.phase == "compiled":
        line = f"{event.task}: compiled in {event.compile_s:.1f} s"
    elif event.phase == "done":
        line = f"{event.task}: {event.epochs_done} epochs, trained in {format_duration(event.elapsed_s)}"
    else:
        line = (
            f"{event.task} epoch {event.epochs_done}/{event.epochs} | "
            f"{event.cells_per_s:,.0f} cells/s | ETA {eta}"
        )
    print(line, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# the compiled chunk

#: epoch limit that never stops a chunk early (the chunk's own length decides)
NO_LIMIT = np.iinfo(np.int32).max
_CHUNK_CACHE_SIZE = 64
_chunks: dict[tuple[Any, ...], Any] = {}


def compiled_chunk(
    task: EpochTask,
    state: LoopState,
    train_data: Any,
    *,
    length: int,
    valid_data: Any = None,
    early_stopping: EarlyStopping | None = None,
    on_compile: Callable[[int], None] | None = None,
) -> Callable[..., Any]:
    """The compiled ``(state, train_data, valid_data, epoch_limit=NO_LIMIT) -> (state, outputs)``.

    It runs ``length`` epochs, skipping those at or beyond ``epoch_limit`` (total epochs of the run)
    or after early stopping, and donates ``state``; ``outputs`` are ``(metrics, validation, ran)``.
    The limit is an argument rather than a shape, so the last, shorter chunk of a run reuses the
    compiled function. Compilations are cached in this process by task, chunk length,
    early-stopping rule and argument shapes (and across processes by JAX's persistent compilation
    cache when it is configured, see :mod:`michigan.jaxcache`); ``on_compile(length)`` is called
    before a compilation.
    """
    key = (task, early_stopping, length, _spec(state), _spec(train_data), _spec(valid_data))
    compiled = _chunks.get(key)
    if compiled is None:
        if on_compile is not None:
            on_compile(length)
        compiled = _compile_chunk(*key)
        if len(_chunks) >= _CHUNK_CACHE_SIZE:
            _chunks.pop(next(iter(_chunks)))
        _chunks[key] = compiled

    def run(state: LoopState, train: Any, valid: Any, epoch_limit: int = NO_LIMIT) -> Any:
        return compiled(state, train, valid, jnp.asarray(epoch_limit, jnp.int32))

    return run


def _spec(tree: Any) -> tuple[Any, tuple[jax.ShapeDtypeStruct, ...]]:
    """Hashable abstract signature of a pytree (structure, shapes, dtypes)."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, tuple(jax.ShapeDtypeStruct(np.shape(x), jnp.asarray(x).dtype) for x in leaves)


def _compile_chunk(
    task: EpochTask,
    early_stopping: EarlyStopping | None,
    length: int,
    state_spec: Any,
    train_spec: Any,
    valid_spec: Any,
) -> Any:
    """Compile the function running ``length`` epochs for these argument shapes."""
    fn = jax.jit(functools.partial(_run_chunk, task, early_stopping, length), donate_argnums=0)
    abstract = [
        jax.tree.unflatten(treedef, leaves)
        for treedef, leaves in (state_spec, train_spec, valid_spec)
    ]
    limit = jax.ShapeDtypeStruct((), jnp.int32)
    start = time.perf_counter()
    compiled = fn.lower(*abstract, limit).compile()
    logger.debug("%s: chunk compiled in %.1f s", task.name, time.perf_counter() - start)
    return compiled


def _run_chunk(
    task: EpochTask,
    early_stopping: EarlyStopping | None,
    length: int,
    state: LoopState,
    train_data: Any,
    valid_data: Any,
    epoch_limit: jax.Array,
) -> tuple[LoopState, tuple[Metrics, Metrics, jax.Array]]:
    """``length`` epochs in one ``lax.scan``; returns per-step metrics ``[length, steps]``.

    Epochs at or beyond ``epoch_limit`` and after early stopping are skipped (``lax.cond``): they
    leave the state unchanged and report NaN metrics with ``ran = False``.
    """

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
        active = (s.epoch < epoch_limit) & ~s.stopped
        return jax.lax.cond(active, run_epoch, skip_epoch, s)

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
    """Raise :class:`NonFiniteLossError` at the first epoch and step where any loss is NaN or infinite."""
    for offset in np.flatnonzero(ran):
        epoch = first_epoch + int(offset) + 1
        steps = np.stack([np.asarray(metrics[name][offset]) for name in task.loss_names])
        bad_steps = np.flatnonzero(~np.all(np.isfinite(steps), axis=0))
        if bad_steps.size:
            step = int(bad_steps[0])
            values = dict(zip(task.loss_names, steps[:, step].tolist(), strict=True))
            where = f"training epoch {epoch} step {step + 1}/{steps.shape[1]}"
            _raise_non_finite(task, values, where, first_epoch, checkpoint_dir)
        for name, series in validation.items():
            value = float(np.asarray(series[offset]))
            if not np.isfinite(value):
                where = f"validation after epoch {epoch}"
                _raise_non_finite(task, {name: value}, where, first_epoch, checkpoint_dir)


def _raise_non_finite(
    task: EpochTask,
    values: dict[str, float],
    where: str,
    last_good: int,
    checkpoint_dir: str | Path,
) -> None:
    bad = [name for name, value in values.items() if not np.isfinite(value)]
    shown = ", ".join(f"{name}={value:.4g}" for name, value in values.items())
    advice = getattr(task, "non_finite_advice", None)
    hint = advice(values) if advice is not None else "check the input data and the settings"
    if last_good:
        kept = (
            f"the checkpoint of epoch {last_good} is kept in {checkpoint_dir}, but a run with "
            f"changed settings cannot resume it: delete it to start afresh"
        )
    else:
        kept = "no checkpoint was written (it failed in the first chunk)"
    msg = (
        f"{task.name}: loss {', '.join(map(repr, bad))} became non-finite in {where} ({shown}); "
        f"training stopped. {hint[0].upper()}{hint[1:]}; {kept}"
    )
    raise NonFiniteLossError(msg)


def non_finite_advice(
    values: dict[str, float],
    *,
    weights: dict[str, tuple[str, float]],
    learning_rate: tuple[str, float],
) -> str:
    """Which setting to change when the losses ``values`` of one step are no longer all finite.

    Parameters
    ----------
    values
        The step's losses by name.
    weights
        ``{loss: (setting, weight)}`` of the terms that enter a total with a weight, e.g.
        ``{"tc": ("representation.beta", 4.0)}``.
    learning_rate
        ``(setting, value)`` of the step size.

    A finite term whose weighted value is not finite in float32 (a huge, infinite or NaN weight) is
    blamed on its weight. Otherwise the parameters themselves diverged: Adam's steps do not grow
    with the loss weights, so the step size (or the input data) is at fault.
    """
    for name, (setting, weight) in weights.items():
        value = values.get(name, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            product = np.float32(weight) * np.float32(value)
        if np.isfinite(value) and not np.isfinite(product):
            return (
                f"the {name!r} term ({value:.4g}) times {setting} ({weight:g}) is not finite in "
                f"float32: lower {setting}"
            )
    lr_setting, lr = learning_rate
    return f"lower {lr_setting} (now {lr:g}), or check the input data (log-normalised expression)"


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
