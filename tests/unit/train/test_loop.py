"""The chunked driver on a tiny fake task: exact resume, NaN guard, early stopping, checkpoint checks."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from michigan.train import checkpoint, loop
from michigan.train.loop import EarlyStopping, NonFiniteLossError, fit

STEPS = 3


@dataclasses.dataclass(frozen=True)
class CounterTask:
    """Adds random numbers to a scalar; optional NaN at (nan_epoch, step 2); scripted validation."""

    name: str = "counter"
    nan_epoch: int = 0
    valid_losses: tuple[float, ...] = ()

    loss_names = ("loss",)
    validation_names = ("loss",)

    def init_state(self, key):
        return {"w": jax.random.normal(key, ()), "epoch": jnp.zeros((), jnp.int32)}

    def train_epoch(self, state, data, key):
        epoch = state["epoch"] + 1
        draws = jax.random.uniform(key, (STEPS,)) + jnp.sum(data)
        bad = (epoch == self.nan_epoch) & (jnp.arange(STEPS) == 1)
        return {"w": state["w"] + draws.sum(), "epoch": epoch}, {
            "loss": jnp.where(bad, jnp.nan, draws)
        }

    def validation_losses(self, state, data, key):
        return {"loss": jnp.asarray(self.valid_losses, jnp.float32)[state["epoch"] - 1]}

    def improved(self, previous, current, min_delta):
        return jnp.any(previous - current > min_delta)

    def cells_per_epoch(self, data):
        return STEPS


DATA = jnp.ones(2)


def run(task, tmp_path, *, epochs=5, every=2, **kwargs):
    return fit(
        task,
        DATA,
        seed=3,
        epochs=epochs,
        checkpoint_every=every,
        checkpoint_dir=tmp_path,
        fingerprint={"run": 1},
        **kwargs,
    )


def test_resume_after_interruption_is_bit_identical(tmp_path, monkeypatch):
    task = CounterTask()
    whole = run(task, tmp_path / "whole")
    real_save = loop.save_checkpoint
    calls = []

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed right after the second chunk's checkpoint

    monkeypatch.setattr(loop, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(task, tmp_path / "split")
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    resumed = run(task, tmp_path / "split")
    assert resumed.epochs_done == whole.epochs_done == 5
    assert float(resumed.state.model["w"]) == float(whole.state.model["w"])  # bitwise equal
    np.testing.assert_array_equal(resumed.history["loss"], whole.history["loss"])


def test_same_seed_same_result_other_seed_differs(tmp_path):
    task = CounterTask()
    a = run(task, tmp_path / "a")
    b = run(task, tmp_path / "b")
    c = fit(
        task,
        DATA,
        seed=4,
        epochs=5,
        checkpoint_every=2,
        checkpoint_dir=tmp_path / "c",
        fingerprint={},
    )
    assert float(a.state.model["w"]) == float(b.state.model["w"])
    assert float(a.state.model["w"]) != float(c.state.model["w"])


def test_non_finite_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path):
    task = CounterTask(nan_epoch=3)
    with pytest.raises(
        NonFiniteLossError, match=r"'loss' became non-finite in training epoch 3 step 2/3.*epoch 2"
    ):
        run(task, tmp_path)
    template = loop.initial_state(task, 3)
    fingerprint = loop.run_fingerprint({"run": 1}, seed=3, epochs=5, checkpoint_every=2)
    state, history = checkpoint.load_checkpoint(
        tmp_path, template=template, fingerprint=fingerprint
    )
    assert int(state.epoch) == 2
    assert history["loss"].shape == (2,)


@pytest.mark.parametrize("every", [1, 2, 4])
def test_early_stopping_epoch_does_not_depend_on_chunk_length(tmp_path, every):
    # epoch 1 sets the reference, 2 improves, 3-5 do not: the counter exceeds patience 2 after epoch 5
    task = CounterTask(valid_losses=(5.0, 4.0, 4.0, 3.999, 4.5, 1.0, 1.0, 1.0))
    result = run(
        task,
        tmp_path,
        epochs=8,
        every=every,
        valid_data=DATA,
        early_stopping=EarlyStopping(patience=2, min_delta=0.0025),
    )
    assert result.stopped_early
    assert result.epochs_done == 5
    np.testing.assert_allclose(result.history["valid_loss"], [5.0, 4.0, 4.0, 3.999, 4.5])
    assert result.history["loss"].shape == (5,)


def test_checkpoint_of_another_run_is_refused(tmp_path):
    task = CounterTask()
    run(task, tmp_path, epochs=2)
    with pytest.raises(ValueError, match="run: checkpoint 1, this run 2"):
        fit(
            task,
            DATA,
            seed=3,
            epochs=4,
            checkpoint_every=2,
            checkpoint_dir=tmp_path,
            fingerprint={"run": 2},
        )


def test_a_checkpoint_of_a_run_with_other_epochs_is_refused(tmp_path, monkeypatch):
    # issue 12 item 4: an interrupted 6-epoch run resumed with epochs=4 must not become a
    # 6-epoch model labelled 4
    task = CounterTask()
    real_save = loop.save_checkpoint

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        if int(kwargs["state"].epoch) == 6:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(task, tmp_path, epochs=8)
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    before = (tmp_path / checkpoint.CHECKPOINT_FILE).read_bytes()
    with pytest.raises(ValueError, match=r"epochs: checkpoint 8, this run 4.*delete"):
        run(task, tmp_path, epochs=4)
    assert (tmp_path / checkpoint.CHECKPOINT_FILE).read_bytes() == before


def test_a_leftover_chunk_reuses_the_compiled_chunk(tmp_path, monkeypatch):
    # 5 epochs in chunks of 2: the last chunk runs 1 epoch and skips 1, with the same compilation
    compiles = []
    real_compile = loop._compile_chunk
    monkeypatch.setattr(loop, "_chunks", {})
    monkeypatch.setattr(
        loop, "_compile_chunk", lambda *a: compiles.append(a[2]) or real_compile(*a)
    )
    result = run(CounterTask(), tmp_path / "a", epochs=5, every=2)
    assert compiles == [2]
    assert result.epochs_done == 5
    assert result.history["loss"].shape == (5,)
    single = run(CounterTask(), tmp_path / "b", epochs=5, every=5)
    assert float(single.state.model["w"]) == float(result.state.model["w"])


def test_progress_hook_sees_compilation_apart_from_the_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "_chunks", {})
    events = []
    result = run(CounterTask(), tmp_path, epochs=5, every=2, on_progress=events.append)
    phases = [e.phase for e in events]
    assert phases == ["compiling", "compiled", "chunk", "chunk", "chunk", "done"]
    assert [e.epochs_done for e in events if e.phase == "chunk"] == [2, 4, 5]
    chunks = [e for e in events if e.phase == "chunk"]
    assert all(e.compile_s == events[1].compile_s > 0 for e in chunks)
    assert all(e.cells_per_s > 0 and e.eta_s >= 0 for e in chunks)
    assert chunks[-1].eta_s == 0
    assert chunks[-1].metrics["loss"] == pytest.approx(result.history["loss"][-1])
    assert result.timing.compile_s > 0
    assert result.timing.epochs_run == 5


def test_a_non_finite_first_chunk_claims_no_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match="no checkpoint was written") as info:
        run(CounterTask(nan_epoch=1), tmp_path)
    assert "kept" not in str(info.value)
    assert not (tmp_path / checkpoint.CHECKPOINT_FILE).exists()


@pytest.mark.parametrize(
    ("beta", "values", "blamed", "not_blamed"),
    [
        # beta x TC overflows float32 although every term is finite
        (1e38, {"loss": np.inf, "reconstruction": 1.0, "kl": 2.0, "tc": 5.0}, "lower beta", "rate"),
        # an infinite beta
        (
            np.inf,
            {"loss": np.nan, "reconstruction": 1.0, "kl": 2.0, "tc": 0.0},
            "lower beta",
            "rate",
        ),
        # everything at once: the parameters themselves diverged (Adam steps ignore loss weights)
        (
            100.0,
            {"loss": np.nan, "reconstruction": 4e13, "kl": np.nan, "tc": np.nan},
            "rate",
            "beta",
        ),
    ],
)
def test_non_finite_advice_names_the_setting_at_fault(beta, values, blamed, not_blamed):
    advice = loop.non_finite_advice(
        values,
        weights={"kl": ("kl_weight", 1.0), "tc": ("beta", beta)},
        learning_rate=("learning_rate", 1e-3),
    )
    assert blamed in advice
    assert not_blamed not in advice
