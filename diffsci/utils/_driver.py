"""Run a long computation in chunks with progress, checkpoints and exact resume."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from diffsci._internal._results import RESULTS
from diffsci._internal._validate import fail, static_int

from ._checkpoint import (
    checkpoint_exists,
    load_checkpoint,
    read_run_checkpoint_metadata,
    save_checkpoint,
)
from ._progress import ProgressBar

_STATE = "state"


def _chunk_name(i: int) -> str:
    return f"chunk_{i:06d}"


def _like_device(loaded, like):
    """Put loaded leaves where the template's leaves live (keeps a sharding across a resume)."""

    def put(a, b):
        if isinstance(b, jax.Array) and not jnp.issubdtype(b.dtype, jax.dtypes.prng_key):
            return jax.device_put(jnp.asarray(a, dtype=b.dtype), b.sharding)
        return a

    return jax.tree_util.tree_map(put, loaded, like)


def _describe(x: Any) -> Any:
    """A JSON description of a run parameter that changes with its value: numbers and strings as
    they are, a scalar array as its number, a larger array by shape, dtype and SHA-256 of its
    bytes, an equinox Module (a sampler, a target) or dataclass field by field, a function by its
    qualified name."""
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        return x if np.isfinite(x) else repr(x)
    if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    if isinstance(x, jax.Array | np.ndarray | np.generic):
        a = np.asarray(x)
        if a.ndim == 0 and a.dtype.kind in "biuf":
            return _describe(a.item())
        digest = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        return {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": digest}
    if isinstance(x, dict):
        return {str(k): _describe(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, list | tuple):
        return [_describe(v) for v in x]
    if isinstance(x, functools.partial):
        return {
            "partial": _describe(x.func),
            "args": _describe(x.args),
            "keywords": _describe(x.keywords),
        }
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = {f.name: _describe(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return {"type": type(x).__qualname__, **fields}
    if callable(x):
        return f"{getattr(x, '__module__', '?')}.{getattr(x, '__qualname__', type(x).__qualname__)}"
    return f"{type(x).__module__}.{type(x).__qualname__}"


def _normalize(metadata):
    return json.loads(json.dumps(_describe(metadata or {}), sort_keys=True))


class Accept:
    """A verdict of an `accept` hook of [`diffsci.utils.drive`][]: take the new state, append
    its record to the history. `ACCEPT` is the instance to return."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ACCEPT"


ACCEPT = Accept()
"""The verdict of an `accept` hook of [`diffsci.utils.drive`][] that takes the step."""


@dataclasses.dataclass(frozen=True)
class Reject:
    """A verdict of an `accept` hook of [`diffsci.utils.drive`][]: drop the new state and its
    record and try the step again.

    **Fields:**

    - `state`: the state to retry from; `None` (default) retries from the last accepted state. An
      optimizer passes the last accepted point with a cleared curvature memory, for instance.
    - `counted`: count it in the run's `rejected` total (default). A retry that is not a failure
      (a stalled line search, say) passes `False`.
    """

    state: Any = None
    counted: bool = True

    def __post_init__(self):
        if not isinstance(self.counted, bool):
            fail("Reject", "counted", "to be True or False", self.counted, TypeError)


@dataclasses.dataclass(frozen=True)
class Stop:
    """A verdict that ends the run: from an `accept` hook or a `stop` rule of
    [`diffsci.utils.drive`][].

    **Fields:**

    - `result`: the run's outcome, a member of [`diffsci.utils.RESULTS`][].
    - `message`: a sentence saying why it stopped (and what to try, for a failure).
    - `accept`: from an `accept` hook, take the new state and its record before stopping
      (default `False`: the run ends at the last accepted state).
    """

    result: Any = dataclasses.field(default_factory=lambda: RESULTS.successful)
    message: str = ""
    accept: bool = False

    def __post_init__(self):
        if getattr(self.result, "_enumeration", None) is not RESULTS:
            fail(
                "Stop", "result", "to be a member of diffsci.utils.RESULTS", self.result, TypeError
            )
        if not isinstance(self.message, str):
            fail("Stop", "message", "to be a string", self.message, TypeError)
        if not isinstance(self.accept, bool):
            fail("Stop", "accept", "to be True or False", self.accept, TypeError)


class History:
    """The records of the accepted steps of a run of [`diffsci.utils.drive`][], in order.

    A record is what the step function returns beside the new state: a dict of scalars for one
    step (`{"loss": 0.3}`), or, for a step that runs a chunk of iterations (`chunked=True`), a
    pytree of arrays whose leading axis runs over the chunk's iterations. `len(history)` counts
    rows (iterations), `history["loss"]` is a column (a NumPy array) of a dict history, and
    `history.stacked()` the whole history as one pytree with a leading axis.
    """

    def __init__(self, chunked: bool = False):
        if not isinstance(chunked, bool):
            fail("History", "chunked", "to be True or False", chunked, TypeError)
        self.chunked = chunked
        self._records: list = []
        self._rows = 0

    def append(self, record) -> None:
        """Append the record of one step (or one chunk, for a chunked history)."""
        record = jax.tree_util.tree_map(np.asarray, record)
        self._records.append(record)
        self._rows += self._count(record)

    def _count(self, record) -> int:
        if not self.chunked:
            return 1
        leaves = jax.tree_util.tree_leaves(record)
        return int(np.shape(leaves[0])[0]) if leaves else 0

    def __len__(self) -> int:
        return self._rows

    @property
    def records(self) -> list:
        """The records as appended (one per accepted step)."""
        return list(self._records)

    def stacked(self):
        """The whole history as one pytree of NumPy arrays with a leading axis over rows (`None`
        for an empty history or records that are `None`)."""
        records = [r for r in self._records if r is not None]
        if not records:
            return None
        join = np.concatenate if self.chunked else np.stack
        return jax.tree_util.tree_map(lambda *xs: join([np.asarray(x) for x in xs]), *records)

    def __getitem__(self, name: str) -> np.ndarray:
        whole = self.stacked()
        if not isinstance(whole, dict) or name not in whole:
            raise KeyError(f"History: no column {name!r} (columns: {self.names})")
        return whole[name]

    @property
    def names(self) -> list[str]:
        """The column names of a history of dict records."""
        first = next((r for r in self._records if isinstance(r, dict)), None)
        return [] if first is None else list(first)

    def last(self, name: str) -> float:
        """The last value of column `name`, as a Python float."""
        record = self._records[-1]
        return float(np.asarray(record[name]).reshape(-1)[-1])


class Run:
    """What the `accept` hook, the `stop` rule and the callbacks of [`diffsci.utils.drive`][] see
    of a run in progress (host side; the driver updates it, hooks only read it, except that a
    hook may `history.append` a record of its own, such as the value at the starting point).

    **Attributes:**

    - `step`: the number of accepted steps so far (those of a resumed run included).
    - `state`: the last accepted state.
    - `record`: the record of the last accepted step (`None` before the first).
    - `history`: a [`diffsci.utils.History`][] of the accepted steps' records.
    - `rejected`: rejected steps so far (those counted); `rejected_in_a_row` since the last
      accepted step.
    - `num_steps`: the number of steps the run does at most.
    - `seconds`: wall time since this call started (a property).
    """

    def __init__(self, state, num_steps: int, history: History):
        self.step = 0
        self.state = state
        self.record: Any = None
        self.history = history
        self.rejected = 0
        self.rejected_in_a_row = 0
        self.num_steps = num_steps
        self._start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start


@dataclasses.dataclass(frozen=True)
class RunResult:
    """The outcome of [`diffsci.utils.drive`][].

    **Fields:**

    - `state`: the last accepted state.
    - `history`: a [`diffsci.utils.History`][] of the accepted steps' records (a resumed run's
      earlier steps included).
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `successful` (a `stop` rule, a hook or a
      callback ended the run), `max_steps_reached` (all `num_steps` steps done), or what a hook
      or rule said.
    - `message`: why the run ended.
    - `stats`: `{"steps": accepted steps, "rejected": rejected steps, "seconds": wall time of
      this call, "resumed_at": steps done before it}`.
    """

    state: Any
    history: History
    result: Any
    message: str
    stats: dict


@runtime_checkable
class Callback(Protocol):
    """The one callback protocol of diffsci's long runs: called on the host as `callback(run)`
    after every accepted step with the [`diffsci.utils.Run`][] (`run.step`, `run.record`,
    `run.state`, `run.history`); return `True` to stop the run early (its result is then
    `successful`, its message names the callback), anything else to go on. Progress display and
    the JSON-lines log are callbacks built in ([`diffsci.utils.JSONLinesLog`][])."""

    def __call__(self, run: Run) -> bool | None: ...


def _scalars(record, rows: int, chunked: bool) -> list[dict]:
    """The JSON-able scalar columns of a record, one dict per row (leaves that are not scalars
    per row, such as samples, are left out of the log)."""
    if not isinstance(record, dict):
        return [{} for _ in range(rows)]
    out: list[dict] = [{} for _ in range(rows)]
    for name, value in record.items():
        a = np.asarray(value)
        if a.dtype.kind not in "biuf":
            continue
        if not chunked and a.ndim == 0:
            out[0][name] = _json_number(a.item())
        elif chunked and a.ndim == 1 and a.shape[0] == rows:
            for r in range(rows):
                out[r][name] = _json_number(a[r].item())
    return out


def _json_number(x):
    if isinstance(x, float) and not np.isfinite(x):
        return repr(x)  # JSON has no inf or NaN: "inf", "nan"
    return x


class JSONLinesLog:
    """A callback that appends one JSON object per line to a file: a line `{"event": "start",
    "run": <the run's description>, "resumed_at": <steps>, "time": <ISO date>}` when a run (or a
    resume) starts, one line `{"step": k, "seconds": <wall time>, <the record's scalars>}` per
    iteration of every accepted step, a line `{"event": "rejected", "step": k, ...}` per
    rejected step and `{"event": "end", "result": <name>, "message": ...}` at the end. JSON has no
    infinities: they are written as the strings `"inf"`, `"-inf"`, `"nan"`.

    Read it back with `[json.loads(line) for line in open(path)]` (pandas: `pd.read_json(path,
    lines=True)`). [`diffsci.utils.drive`][] writes one by default next to its checkpoints.

    **Arguments:**

    - `path`: the file (its folder is created); appended to, so a resumed run continues its log.
    """

    def __init__(self, path: str | os.PathLike):
        if not isinstance(path, str | os.PathLike):
            fail("JSONLinesLog", "path", "to be a path (str or pathlib.Path)", path, TypeError)
        self.path = Path(path)
        self._chunked = False

    def _write(self, entry: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def start(self, run: Run, description: dict, chunked: bool) -> None:
        self._chunked = chunked
        import datetime

        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self._write({"event": "start", "run": description, "resumed_at": run.step, "time": now})

    def rejected(self, run: Run, record) -> None:
        rows = run.history._count(record) if self._chunked else 1
        first = _scalars(record, rows, self._chunked)[0] if rows else {}
        self._write({"event": "rejected", "step": run.step, "seconds": run.seconds, **first})

    def end(self, run: Run, result, message: str) -> None:
        from diffsci._internal._results import result_name

        self._write(
            {"event": "end", "step": run.step, "result": result_name(result), "message": message}
        )

    def __call__(self, run: Run) -> None:
        record = run.record
        rows = run.history._count(record) if self._chunked else 1
        first_row = len(run.history) - rows
        seconds = run.seconds
        for r, scalars in enumerate(_scalars(record, rows, self._chunked)):
            self._write({"step": first_row + r, "seconds": seconds, **scalars})


class PrintEvery:
    """A callback that prints one line every `every` accepted steps and after the last step:
    `template` formatted with `step` (the index of the step just done, from 0) and the scalar
    entries of the record (`"step {step:4d}  loss {loss:.3e}"`).

    **Arguments:**

    - `every`: print after steps `0, every, 2 every, ...` and the last.
    - `template`: a `str.format` template over `step` and the record's names.
    - `file`: where to print (default standard output).
    """

    def __init__(self, every: int, template: str, file=None):
        self.every = static_int(every, "every", "PrintEvery", minimum=1)
        if not isinstance(template, str):
            fail("PrintEvery", "template", "to be a str.format template", template, TypeError)
        self.template, self.file = template, file

    def __call__(self, run: Run) -> None:
        i = run.step - 1
        if i % self.every == 0 or run.step == run.num_steps:
            values = {}
            if isinstance(run.record, dict):
                for name, value in run.record.items():
                    a = np.asarray(value)
                    values[name] = a.item() if a.ndim == 0 else a
            print(self.template.format(step=i, **values), file=self.file, flush=True)


def run_chunked(
    step: Callable[[Any, int], tuple[Any, Any]],
    carry,
    *,
    num_chunks: int,
    checkpoint_dir: str | Path | None = None,
    metadata: dict | None = None,
    progress: bool | ProgressBar = False,
    desc: str = "",
    postfix: Callable[[Any, Any], dict] | None = None,
    log: str | Path | bool | None = None,
) -> tuple[Any, Any]:
    """Run `carry, out = step(carry, i)` for `i = 0, ..., num_chunks - 1`, checkpointing after each:
    [`diffsci.utils.drive`][] with every step accepted and `chunked=True`.

    With `checkpoint_dir`, after chunk `i` the chunk's outputs are saved as `chunk_<i>` and then
    the carry as `state` (with the number of chunks done), each atomically
    ([`diffsci.utils.save_checkpoint`][]). Called again with the same directory, the run resumes
    after the last completed chunk. If `step` is a deterministic function of `(carry, i)` (for
    example it draws its randomness from `jax.random.fold_in(key, i)`), an interrupted and resumed
    run gives bit-identical results to an uninterrupted one.

    **Arguments:**

    - `step`: `(carry, chunk_index) -> (carry, outputs)`, typically a jitted `lax.scan`. `outputs`
      is a pytree of arrays with a leading axis (steps of the chunk), or `None`.
    - `carry`: the initial carry (a pytree of arrays). On resume it serves as the template for
      the stored carry: structure, shapes and device placement (sharding) are taken from it.
    - `num_chunks`: the number of chunks of the whole run.
    - `checkpoint_dir`: folder for the checkpoints, or `None` for no checkpoints.
    - `metadata`: a dict describing the run: sizes, seeds, and every parameter that changes the
      result. Values may be JSON values, arrays (recorded by value when scalar, else by shape,
      dtype and SHA-256), equinox Modules and dataclasses (field by field: a sampler with its
      temperature, couplings and step size) and functions (by name). It is stored, and a resume
      refuses a folder whose run had a different description.
    - `progress`: `True` for a text progress bar on stderr, or a `ProgressBar` to update.
    - `desc`: the progress bar's label.
    - `postfix`: optional `(carry, outputs) -> dict` of values shown after the bar.
    - `log`: the JSON-lines log, as for `drive` (default: `log.jsonl` in `checkpoint_dir`).

    **Returns:**

    `(carry, outputs)`: the final carry and the outputs of all chunks concatenated along their
    leading axis (as JAX arrays; `None` if `step` returns `None`).

    Checks: `step` (and `postfix`) callable, `num_chunks` an integer >= 1, `checkpoint_dir` a
    path or `None`, `metadata` a dict or `None`, `progress` a bool or a `ProgressBar`, `desc` a
    string.
    """
    who = "run_chunked"
    if not callable(step):
        fail(who, "step", "to be callable as step(carry, chunk_index)", step, TypeError)
    num_chunks = static_int(num_chunks, "num_chunks", who, minimum=1)
    if metadata is not None and not isinstance(metadata, dict):
        fail(who, "metadata", "to be a dict or None", metadata, TypeError)
    if postfix is not None and not callable(postfix):
        fail(
            who, "postfix", "to be callable as postfix(carry, outputs) or None", postfix, TypeError
        )
    result = drive(
        step,
        carry,
        num_steps=num_chunks,
        chunked=True,
        checkpoint_dir=checkpoint_dir,
        metadata={"num_chunks": num_chunks, "run": metadata or {}},
        log=log,
        progress=progress,
        desc=desc,
        postfix=postfix,
        caller=who,
    )
    outputs = result.history.stacked()
    if outputs is None:
        return result.state, None
    return result.state, jax.tree_util.tree_map(jnp.asarray, outputs)


def drive(
    step: Callable[[Any, int], tuple[Any, Any]],
    state,
    *,
    num_steps: int,
    accept: Callable[[Run, Any, Any], Accept | Reject | Stop] | None = None,
    stop: Callable[[Run], Stop | None] | None = None,
    callbacks: Sequence[Callable[[Run], bool | None]] = (),
    chunked: bool = False,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1,
    metadata: dict | None = None,
    log: str | Path | bool | None = None,
    progress: bool | ProgressBar = False,
    desc: str = "",
    postfix: Callable[[Any, Any], dict] | None = None,
    max_retries: int = 100,
    caller: str = "drive",
) -> RunResult:
    """The one driver of diffsci's long runs: steps, an accept/reject hook, stop rules,
    callbacks, checkpoints with exact resume, one history and a JSON-lines log.

    The loop, on the host: while fewer than `num_steps` steps are accepted, ask `stop(run)`
    (end the run if it returns a [`diffsci.utils.Stop`][]); call `new_state, record =
    step(state, run.step)`; ask `accept(run, new_state, record)`: on `ACCEPT` the new state is
    kept, the record appended to the history, the progress bar, the log and every callback
    called (a callback that returns `True` stops the run), and every `checkpoint_every` accepted
    steps a checkpoint written; on a [`diffsci.utils.Reject`][] the step is tried again (from
    the state it names, or the last accepted one); on a `Stop` the run ends. After the last step
    `stop` is asked once more, so a run whose last step met the stopping rule ends
    `successful`, not `max_steps_reached`.

    `optimize_ipeps`, `van_train`, `train_likelihood`, `train_variational`, `fit_parameters`,
    `engineer_tfim_profile`, `engineer_lattice` and the samplers run on it; so can a user's own
    loop.

    **Checkpoints** (with `checkpoint_dir`): the state is saved as `state` (its metadata: the
    run's description, the accepted and rejected step counts), the records since the last save as
    `chunk_<first row>`, each atomically ([`diffsci.utils.save_checkpoint`][]), every
    `checkpoint_every` accepted steps and at the end. Called again with the same folder, the run
    resumes after the last saved step, and refuses a folder whose run had another description
    (`metadata`). If `step` is a deterministic function of `(state, index)` (its randomness from
    `jax.random.fold_in(key, index)`), an interrupted and resumed run is bit-identical to an
    uninterrupted one; a kill at any instant loses at most the steps since the last checkpoint.

    **Arguments:**

    - `step`: `(state, index) -> (state, record)`; `index` is the number of steps accepted
      before it (a retried step gets the same index). `record` is a dict of scalars (`{"loss":
      ...}`), any pytree of arrays, or `None`.
    - `state`: the initial state (a pytree of arrays). On resume it is the template for the
      stored state: structure, shapes and device placement (sharding) are taken from it.
    - `num_steps`: accepted steps to do at most (a resumed run's included).
    - `accept`: optional hook `(run, new_state, record) -> ACCEPT | Reject(...) | Stop(...)`; by
      default every step is accepted.
    - `stop`: optional rule `run -> Stop(...) | None`, asked before every step and after the
      last (convergence tests: a gradient norm below a tolerance, say).
    - `callbacks`: callables `run -> bool | None`, called after every accepted step
      ([`diffsci.utils.Callback`][]).
    - `chunked`: each step runs several iterations and its record has a leading axis over them
      (a `lax.scan` of Adam steps, say); the history, the log and `RunResult.history` then
      count iterations.
    - `checkpoint_dir`, `checkpoint_every`: the folder of the checkpoints (or `None`) and how
      many accepted steps between two.
    - `metadata`: a dict describing the run (sizes, seeds, every parameter that changes the
      result; arrays by value or digest, equinox Modules field by field, functions by name). It
      is stored, and a resume refuses a folder whose run had a different description.
    - `log`: the JSON-lines log ([`diffsci.utils.JSONLinesLog`][]): a path, `False` for none, or
      `None` (default) for `checkpoint_dir / "log.jsonl"` when there is a checkpoint folder and
      none otherwise.
    - `progress`: `True` for a text progress bar on stderr, or a `ProgressBar` to update.
    - `desc`: the progress bar's label.
    - `postfix`: optional `(state, record) -> dict` of values shown after the bar.
    - `max_retries`: rejections in a row after which the run stops (`result`
      `max_steps_reached`, the message says so): a hook that rejects the same step for ever
      ends instead of hanging.
    - `caller`: the name that errors of the run report (a library function running on the
      driver passes its own, so that a refused resume names the function the user called).

    **Returns:** a [`diffsci.utils.RunResult`][].

    Checks: `step`, `accept`, `stop`, `postfix` and every callback callable, `num_steps` an
    integer >= 0, `checkpoint_every` and `max_retries` integers >= 1, `checkpoint_dir` a path
    or `None`, `metadata` a dict or `None`, `log` a path, `False` or `None`, `progress` a bool
    or a `ProgressBar`, `desc` a string, `chunked` a bool.
    """
    if not isinstance(caller, str):
        fail("drive", "caller", "to be a string (a function name)", caller, TypeError)
    who = caller
    if not callable(step):
        fail(who, "step", "to be callable as step(state, index)", step, TypeError)
    num_steps = static_int(num_steps, "num_steps", who, minimum=0)
    checkpoint_every = static_int(checkpoint_every, "checkpoint_every", who, minimum=1)
    max_retries = static_int(max_retries, "max_retries", who, minimum=1)
    for name, f, how in (
        ("accept", accept, "accept(run, new_state, record)"),
        ("stop", stop, "stop(run)"),
        ("postfix", postfix, "postfix(state, record)"),
    ):
        if f is not None and not callable(f):
            fail(who, name, f"to be callable as {how} or None", f, TypeError)
    if isinstance(callbacks, str) or not isinstance(callbacks, Sequence):
        fail(who, "callbacks", "to be a sequence of callables callback(run)", callbacks, TypeError)
    for k, c in enumerate(callbacks):
        if not callable(c):
            fail(who, f"callbacks[{k}]", "to be callable as callback(run)", c, TypeError)
    if not isinstance(chunked, bool):
        fail(who, "chunked", "to be True or False", chunked, TypeError)
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, str | os.PathLike):
        fail(
            who,
            "checkpoint_dir",
            "to be a path (str or pathlib.Path) or None",
            checkpoint_dir,
            TypeError,
        )
    if metadata is not None and not isinstance(metadata, dict):
        fail(who, "metadata", "to be a dict or None", metadata, TypeError)
    if log is True or not (log is None or log is False or isinstance(log, str | os.PathLike)):
        fail(who, "log", "to be a path, False (no log) or None (the default)", log, TypeError)
    if not isinstance(progress, bool | ProgressBar):
        fail(who, "progress", "to be True, False or a ProgressBar", progress, TypeError)
    if not isinstance(desc, str):
        fail(who, "desc", "to be a string", desc, TypeError)

    description = _normalize(metadata)
    history = History(chunked)
    run = Run(state, num_steps, history)
    directory = None if checkpoint_dir is None else Path(checkpoint_dir)
    saved_files: list[int] = []  # first rows of the record files written so far
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        if checkpoint_exists(directory / _STATE):
            stored = read_run_checkpoint_metadata(directory / _STATE, description, who)
            loaded, _ = load_checkpoint(directory / _STATE, like=state)
            run.state = _like_device(loaded, state)
            run.step = int(stored.get("steps", stored.get("next_chunk", 0)))
            run.rejected = int(stored.get("rejected", 0))
            # (run_chunked's checkpoints: one record file per step, `chunk_<step>`)
            saved_files = [int(i) for i in stored.get("record_files", range(run.step))]
    resumed_at = run.step
    for first in saved_files:
        tree, _ = load_checkpoint(cast(Path, directory) / _chunk_name(first))
        rows = tree["outputs"]
        if chunked or rows is None:
            history.append(rows)
        else:  # a file of k single-step records, stacked
            k = len(jax.tree_util.tree_leaves(rows)[0])
            for r in range(k):
                history.append(jax.tree_util.tree_map(lambda x, r=r: x[r], rows))
    saved_rows = len(history)
    pending_from = len(history.records)  # the records not yet in a file start here

    def save() -> None:
        nonlocal pending_from, saved_rows
        assert directory is not None
        records = history.records[pending_from:]
        if records:
            join = np.concatenate if chunked else np.stack
            tree = jax.tree_util.tree_map(lambda *xs: join([np.asarray(x) for x in xs]), *records)
            save_checkpoint(directory / _chunk_name(saved_rows), {"outputs": tree}, {})
            saved_files.append(saved_rows)
            saved_rows = len(history)
            pending_from = len(history.records)
        save_checkpoint(
            directory / _STATE,
            run.state,
            {
                "steps": run.step,
                "rejected": run.rejected,
                "record_files": saved_files,
                "run": description,
            },
        )

    log_path = None
    if log is None and directory is not None:
        log_path = directory / "log.jsonl"
    elif log is not None and log is not False:
        log_path = Path(log)
    logger = None if log_path is None else JSONLinesLog(log_path)
    if logger is not None:
        logger.start(run, description, chunked)

    bar = progress if isinstance(progress, ProgressBar) else None
    own_bar = bar is None and bool(progress)
    if own_bar:
        bar = ProgressBar(num_steps, desc=desc, initial=min(run.step, num_steps))
    result, message = RESULTS.max_steps_reached, f"stopped after {num_steps} steps"
    try:
        while True:
            verdict = stop(run) if stop is not None else None
            if verdict is not None:
                if not isinstance(verdict, Stop):
                    fail(who, "stop", "to return a Stop or None", verdict, TypeError)
                result, message = verdict.result, verdict.message
                break
            if run.step >= num_steps:
                break
            new_state, record = step(run.state, run.step)
            verdict = ACCEPT if accept is None else accept(run, new_state, record)
            if isinstance(verdict, Reject):
                if verdict.counted:
                    run.rejected += 1
                run.rejected_in_a_row += 1
                if verdict.state is not None:
                    run.state = verdict.state
                if logger is not None:
                    logger.rejected(run, record)
                if run.rejected_in_a_row >= max_retries:
                    result = RESULTS.max_steps_reached
                    message = (
                        f"{run.rejected_in_a_row} steps in a row were rejected (max_retries); "
                        "the accept hook refuses every retry from this state"
                    )
                    break
                continue
            if isinstance(verdict, Stop) and not verdict.accept:
                result, message = verdict.result, verdict.message
                break
            if not isinstance(verdict, Accept | Stop):
                fail(
                    who,
                    "accept",
                    "to return ACCEPT, a Reject or a Stop",
                    verdict,
                    TypeError,
                )
            if directory is not None:
                record = jax.block_until_ready(record)
            run.state, run.record = new_state, record
            run.step += 1
            run.rejected_in_a_row = 0
            history.append(record)
            if bar is not None:
                bar.update(1, **(postfix(new_state, record) if postfix is not None else {}))
            if logger is not None:
                logger(run)
            stopped_by = next((c for c in callbacks if c(run) is True), None)
            if directory is not None and run.step % checkpoint_every == 0:
                save()
            if isinstance(verdict, Stop):
                result, message = verdict.result, verdict.message
                break
            if stopped_by is not None:
                name = getattr(stopped_by, "__qualname__", type(stopped_by).__qualname__)
                result, message = RESULTS.successful, f"stopped by the callback {name}"
                break
    finally:
        if own_bar and bar is not None:  # `own_bar` implies a bar
            bar.close()
    if directory is not None:
        save()
    if logger is not None:
        logger.end(run, result, message)
    stats = {
        "steps": run.step,
        "rejected": run.rejected,
        "seconds": run.seconds,
        "resumed_at": resumed_at,
    }
    return RunResult(run.state, history, result, message, stats)
