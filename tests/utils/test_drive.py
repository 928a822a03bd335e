"""The driver of long runs (`diffsci.utils.drive`): its accept/reject hook, stop rule, callbacks,
checkpoints with exact resume, history and JSON-lines log, each checked against a loop written out
by hand."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.utils as du
from diffsci.utils import ACCEPT, RESULTS, History, Reject, Run, Stop, drive


def _halve(x, i):
    """A deterministic step: x -> x / 2 + a term of the index, the record its loss."""
    x = x / 2 + 0.01 * i
    return x, {"loss": float(x**2), "index": i}


def _by_hand(x, n):
    losses = []
    for i in range(n):
        x, rec = _halve(x, i)
        losses.append(rec["loss"])
    return x, losses


def test_every_step_accepted_is_the_plain_loop():
    out = drive(_halve, 3.0, num_steps=6)
    x, losses = _by_hand(3.0, 6)
    assert out.state == x and list(out.history["loss"]) == losses
    assert out.result == RESULTS.max_steps_reached and out.stats["steps"] == 6
    assert out.stats["rejected"] == 0 and len(out.history) == 6


def test_rejected_steps_are_retried_with_the_same_index_from_the_state_the_hook_names():
    calls = []

    def step(x, i):
        calls.append(i)
        return _halve(x, i)

    seen = {"n": 0}

    def accept(run, new, record):
        seen["n"] += 1
        if seen["n"] in (2, 3):  # reject the second and third call: retried from x + 0 (same)
            return Reject(state=run.state, counted=seen["n"] == 2)
        return ACCEPT

    out = drive(step, 3.0, num_steps=4, accept=accept)
    assert calls == [0, 1, 1, 1, 2, 3]
    assert out.stats["rejected"] == 1  # the uncounted retry is not a rejection
    x, losses = _by_hand(3.0, 4)
    assert out.state == x and list(out.history["loss"]) == losses


def test_a_hook_stop_ends_the_run_with_its_result_with_or_without_the_step():
    def hook(keep):
        def accept(run, new, record):
            if run.step == 2:
                return Stop(RESULTS.ctmrg_failed, "gave up", accept=keep)
            return ACCEPT

        return accept

    for keep, steps in ((False, 2), (True, 3)):
        out = drive(_halve, 3.0, num_steps=10, accept=hook(keep))
        assert out.result == RESULTS.ctmrg_failed and out.message == "gave up"
        assert out.stats["steps"] == steps and len(out.history) == steps


def test_the_stop_rule_is_asked_before_each_step_and_after_the_last():
    def stop(run):
        if len(run.history) and run.history.last("loss") < 0.1:
            return Stop(RESULTS.successful, "small")
        return None

    x, losses = _by_hand(3.0, 20)
    first = next(k for k, v in enumerate(losses) if v < 0.1) + 1
    out = drive(_halve, 3.0, num_steps=20, stop=stop)
    assert out.result == RESULTS.successful and out.stats["steps"] == first
    # the rule met by the very last allowed step: successful, not max_steps_reached
    out = drive(_halve, 3.0, num_steps=first, stop=stop)
    assert out.result == RESULTS.successful and out.message == "small"
    out = drive(_halve, 3.0, num_steps=first - 1, stop=stop)
    assert out.result == RESULTS.max_steps_reached


def test_a_callback_that_returns_true_stops_the_run():
    seen = []

    def watch(run: Run):
        seen.append((run.step, run.record["loss"]))

    def enough(run):
        return run.step == 3

    out = drive(_halve, 3.0, num_steps=10, callbacks=[watch, enough])
    assert [s for s, _ in seen] == [1, 2, 3] and out.stats["steps"] == 3
    assert out.result == RESULTS.successful and "enough" in out.message
    assert isinstance(watch, du.Callback)


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("every", [1, 3])
def test_a_killed_and_resumed_run_is_identical_and_its_log_continues(tmp_path, every):
    key = jax.random.key(0)

    @jax.jit
    def step(x, i):
        x = jnp.tanh(x + jax.random.normal(jax.random.fold_in(key, i), x.shape))
        return x, {"mean": jnp.mean(x), "first": x[0]}

    x0 = jnp.zeros(5)
    full = drive(step, x0, num_steps=8)

    def flaky(x, i):
        if i == 7:
            raise _Interrupt
        return step(x, i)

    with pytest.raises(_Interrupt):
        drive(flaky, x0, num_steps=8, checkpoint_dir=tmp_path, checkpoint_every=every)
    saved = du.read_checkpoint_metadata(tmp_path / "state")["steps"]
    assert saved == (7 if every == 1 else 6)  # at most the steps since the last checkpoint lost
    again = drive(step, x0, num_steps=8, checkpoint_dir=tmp_path, checkpoint_every=every)
    np.testing.assert_array_equal(np.asarray(again.state), np.asarray(full.state))
    for name in ("mean", "first"):
        np.testing.assert_array_equal(again.history[name], full.history[name])
    assert again.stats["resumed_at"] == saved
    lines = [json.loads(line) for line in open(tmp_path / "log.jsonl")]
    starts = [e for e in lines if e.get("event") == "start"]
    assert [e["resumed_at"] for e in starts] == [0, saved]
    rows = [e for e in lines if "event" not in e]
    # every step logged once per attempt: 7 in the killed run, the rest after the resume
    assert [e["step"] for e in rows] == list(range(7)) + list(range(saved, 8))
    assert rows[-1]["mean"] == float(full.history["mean"][-1])
    assert lines[-1]["event"] == "end" and lines[-1]["result"] == "max_steps_reached"
    # another run's folder is refused, naming the function called
    with pytest.raises(du.CheckpointError, match="drive: .* different run"):
        drive(step, x0, num_steps=8, checkpoint_dir=tmp_path, metadata={"seed": 1})


def test_chunked_records_count_iterations_and_log_one_line_each(tmp_path):
    def step(x, i):
        xs = x + jnp.arange(1.0, 5.0)
        return xs[-1], {"x": xs, "sample": jnp.ones((4, 2))}

    out = drive(step, 0.0, num_steps=3, chunked=True, log=tmp_path / "run.jsonl")
    assert len(out.history) == 12 and out.stats["steps"] == 3
    np.testing.assert_array_equal(out.history["x"], np.arange(1.0, 13.0))
    rows = [json.loads(line) for line in open(tmp_path / "run.jsonl")]
    rows = [e for e in rows if "event" not in e]
    assert [e["step"] for e in rows] == list(range(12))
    assert [e["x"] for e in rows] == list(np.arange(1.0, 13.0))
    assert all("sample" not in e for e in rows)  # not a scalar per iteration


def test_the_log_writes_infinities_as_strings_and_rejections(tmp_path):
    def step(x, i):
        return x + 1, {"loss": float("inf") if i == 0 and x == 0 else 1.0}

    def accept(run, new, record):
        return Reject() if record["loss"] == float("inf") and run.rejected == 0 else ACCEPT

    drive(step, 0, num_steps=1, accept=accept, log=tmp_path / "l.jsonl")
    lines = [json.loads(line) for line in open(tmp_path / "l.jsonl")]
    assert [e.get("event") for e in lines] == ["start", "rejected", None, "end"]
    assert lines[1]["loss"] == "inf"


def test_history_columns_and_stacking():
    h = History()
    assert len(h) == 0 and h.stacked() is None and h.names == []
    h.append({"a": 1.0, "b": 2})
    h.append({"a": 3.0, "b": 4})
    np.testing.assert_array_equal(h["a"], [1.0, 3.0])
    assert h.last("b") == 4.0 and h.names == ["a", "b"] and len(h.records) == 2
    with pytest.raises(KeyError, match="no column 'c'"):
        h["c"]


def test_print_every_prints_the_first_every_nth_and_last_step(capsys):
    drive(_halve, 3.0, num_steps=7, callbacks=[du.PrintEvery(3, "step {step} loss {loss:.4f}")])
    lines = capsys.readouterr().out.splitlines()
    _, losses = _by_hand(3.0, 7)
    assert lines == [f"step {i} loss {losses[i]:.4f}" for i in (0, 3, 6)]


def test_a_hook_that_rejects_for_ever_ends_the_run():
    out = drive(_halve, 3.0, num_steps=5, accept=lambda run, s, r: Reject(), max_retries=7)
    assert out.result == RESULTS.max_steps_reached and "7 steps in a row" in out.message
    assert out.stats["rejected"] == 7 and out.stats["steps"] == 0
