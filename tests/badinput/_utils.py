"""Bad-input rows of diffsci.utils (see test_bad_input.py)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

import diffsci.utils as du

from ._row import RUNTIME, Bad

_VFE = "utils.variational_free_energy"
_VOBJ = "utils.variational_objective"
_BETA_OR_RUNTIME = (ValueError, *RUNTIME)
_E3 = jnp.array([0.5, 1.0, 2.0])
_Q3 = jnp.array([-1.0, -1.5, -0.5])


def _saved_then_loaded(tree, like):
    """Save `tree` in a fresh folder, then load it with `like`."""

    def run():
        with tempfile.TemporaryDirectory() as folder:
            du.save_checkpoint(Path(folder) / "ck", tree)
            return du.load_checkpoint(Path(folder) / "ck", like=like)

    return run


def _in_fresh_folder(fn):
    def run():
        with tempfile.TemporaryDirectory() as folder:
            return fn(Path(folder))

    return run


def _step(carry, i):
    return carry, None


def _bar(*args, **kwargs):
    return lambda: du.ProgressBar(*args, file=io.StringIO(), **kwargs)


ROWS: list[Bad] = [
    # -- the variational free energy (issue: mismatched lengths, NaN beta)
    Bad(
        _VFE,
        "mismatched lengths",
        du.variational_free_energy,
        (_E3, jnp.zeros(4), 1.0),
        match=r"`log_q` to have the shape of `energies`",
    ),
    Bad(
        _VFE,
        "beta NaN",
        lambda e, q, b: du.variational_free_energy(e, q, b).variational,
        (_E3, _Q3, float("nan")),
        raises=_BETA_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        _VFE,
        "beta 0",
        lambda e, q, b: du.variational_free_energy(e, q, b).variational,
        (_E3, _Q3, 0.0),
        raises=_BETA_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        _VFE,
        "beta a vector",
        lambda: du.variational_free_energy(_E3, _Q3, jnp.ones(3)),
        match="`beta` to be a real scalar",
        jit=False,
    ),
    Bad(
        _VFE,
        "NaN energy",
        lambda e, q: du.variational_free_energy(e, q, 1.0).variational,
        (jnp.array([0.5, jnp.nan, 2.0]), _Q3),
        raises=RUNTIME,
        match="`energies` has NaN",
    ),
    Bad(
        _VFE,
        "NaN log q",
        lambda e, q: du.variational_free_energy(e, q, 1.0).importance,
        (_E3, jnp.array([-1.0, jnp.nan, -0.5])),
        raises=RUNTIME,
        match="`log_q` has NaN",
    ),
    Bad(
        _VFE,
        "energies rank 2",
        du.variational_free_energy,
        (jnp.zeros((3, 2)), jnp.zeros((3, 2)), 1.0),
        match=r"`energies` to have shape \(m,\)",
    ),
    Bad(
        _VFE,
        "one sample",
        du.variational_free_energy,
        (jnp.ones(1), jnp.ones(1), 1.0),
        match="`energies` to hold at least 2",
    ),
    Bad(
        _VFE,
        "float16 energies",
        du.variational_free_energy,
        (_E3.astype(jnp.float16), _Q3, 1.0),
        raises=TypeError,
        match="`energies`.*float16",
    ),
    # integer energies are promoted: F_q = <E + ln q> / beta = (0 + 1 + 2)/3 - 1 = 0
    Bad(
        _VFE,
        "integer energies are promoted",
        jax.jit(lambda e, q: du.variational_free_energy(e, q, 1.0).variational),
        (np.array([0, 1, 2]), np.array([-1.0, -1.0, -1.0])),
        raises=None,
        value=0.0,
    ),
    Bad(
        _VOBJ,
        "beta 0",
        du.variational_objective,
        (_E3, _Q3, 0.0),
        raises=_BETA_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        _VOBJ,
        "beta NaN",
        du.variational_objective,
        (_E3, _Q3, float("nan")),
        raises=_BETA_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        _VOBJ, "mismatched lengths", du.variational_objective, (_E3, _Q3[:2], 1.0), match="`log_q`"
    ),
    Bad(
        _VOBJ,
        "a string beta",
        lambda: du.variational_objective(_E3, _Q3, "1"),
        raises=TypeError,
        match="`beta`",
        jit=False,
    ),
    # -- checkpoints (issue: `like` with other keys of the same shapes was loaded silently)
    Bad(
        "utils.load_checkpoint",
        "like with other keys",
        _saved_then_loaded(
            {"a": jnp.ones(3), "b": jnp.zeros(3)}, {"x": jnp.ones(3), "y": jnp.ones(3)}
        ),
        raises=du.CheckpointError,
        match="`like` does not have the structure",
        jit=False,
    ),
    Bad(
        "utils.load_checkpoint",
        "like a list of a dict",
        _saved_then_loaded({"a": jnp.ones(3), "b": jnp.zeros(3)}, [jnp.ones(3), jnp.ones(3)]),
        raises=du.CheckpointError,
        match="`like` does not have the structure",
        jit=False,
    ),
    Bad(
        "utils.load_checkpoint",
        "like of another dtype",
        _saved_then_loaded({"a": jnp.ones(3)}, {"a": jnp.ones(3, jnp.int32)}),
        raises=du.CheckpointError,
        match="dtype",
        jit=False,
    ),
    Bad(
        "utils.load_checkpoint",
        "like of another shape",
        _saved_then_loaded({"a": jnp.ones(3)}, {"a": jnp.ones(4)}),
        raises=du.CheckpointError,
        match="shape",
        jit=False,
    ),
    Bad(
        "utils.load_checkpoint",
        "path a number",
        lambda: du.load_checkpoint(3),
        raises=TypeError,
        match="`path`",
        jit=False,
    ),
    Bad(
        "utils.save_checkpoint",
        "a string leaf",
        _in_fresh_folder(lambda d: du.save_checkpoint(d / "ck", {"name": "ising"})),
        raises=TypeError,
        match="leaf 0 is not an array of numbers",
        jit=False,
    ),
    Bad(
        "utils.save_checkpoint",
        "NaN in the metadata",
        _in_fresh_folder(
            lambda d: du.save_checkpoint(d / "ck", jnp.ones(2), {"beta": float("nan")})
        ),
        raises=TypeError,
        match="`metadata`",
        jit=False,
    ),
    Bad(
        "utils.save_checkpoint",
        "path None",
        lambda: du.save_checkpoint(None, jnp.ones(2)),
        raises=TypeError,
        match="`path`",
        jit=False,
    ),
    Bad(
        "utils.checkpoint_exists",
        "path a number",
        lambda: du.checkpoint_exists(3),
        raises=TypeError,
        match="`path`",
        jit=False,
    ),
    Bad(
        "utils.read_checkpoint_metadata",
        "path a list",
        lambda: du.read_checkpoint_metadata(["ck"]),
        raises=TypeError,
        match="`path`",
        jit=False,
    ),
    Bad(
        "utils.read_run_checkpoint_metadata",
        "run not a dict",
        _in_fresh_folder(lambda d: du.read_run_checkpoint_metadata(d / "ck", ["beta"], "me")),
        raises=TypeError,
        match="`run`",
        jit=False,
    ),
    Bad(
        "utils.read_run_checkpoint_metadata",
        "who not a string",
        _in_fresh_folder(lambda d: du.read_run_checkpoint_metadata(d / "ck", {}, 3)),
        raises=TypeError,
        match="`who`",
        jit=False,
    ),
    # -- the chunked driver and its progress bar
    Bad(
        "utils.run_chunked",
        "num_chunks 0",
        lambda: du.run_chunked(_step, 0, num_chunks=0),
        match="`num_chunks`",
        jit=False,
    ),
    Bad(
        "utils.run_chunked",
        "num_chunks not an integer",
        lambda: du.run_chunked(_step, 0, num_chunks=2.5),
        raises=TypeError,
        match="`num_chunks`",
        jit=False,
    ),
    Bad(
        "utils.run_chunked",
        "step not callable",
        lambda: du.run_chunked(3, 0, num_chunks=1),
        raises=TypeError,
        match="`step`",
        jit=False,
    ),
    Bad(
        "utils.run_chunked",
        "metadata a list",
        lambda: du.run_chunked(_step, 0, num_chunks=1, metadata=[1]),
        raises=TypeError,
        match="`metadata`",
        jit=False,
    ),
    Bad(
        "utils.run_chunked",
        "progress a string",
        lambda: du.run_chunked(_step, 0, num_chunks=1, progress="yes"),
        raises=TypeError,
        match="`progress`",
        jit=False,
    ),
    # -- the driver of long runs, its verdicts, history and log
    Bad(
        "utils.drive",
        "step not callable",
        lambda: du.drive(3, 0, num_steps=1),
        raises=TypeError,
        match="`step`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "num_steps negative",
        lambda: du.drive(_step, 0, num_steps=-1),
        match="`num_steps`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "checkpoint_every 0",
        lambda: du.drive(_step, 0, num_steps=1, checkpoint_every=0),
        match="`checkpoint_every`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "accept not callable",
        lambda: du.drive(_step, 0, num_steps=1, accept="yes"),
        raises=TypeError,
        match="`accept`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "a callback not callable",
        lambda: du.drive(_step, 0, num_steps=1, callbacks=[print, 3]),
        raises=TypeError,
        match=r"`callbacks\[1\]`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "callbacks one callable, not a sequence",
        lambda: du.drive(_step, 0, num_steps=1, callbacks=print),
        raises=TypeError,
        match="`callbacks`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "stop rule returns a bool",
        lambda: du.drive(_step, 0, num_steps=1, stop=lambda run: True),
        raises=TypeError,
        match="`stop`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "max_retries 0",
        lambda: du.drive(_step, 0, num_steps=1, max_retries=0),
        match="`max_retries`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "log True",
        lambda: du.drive(_step, 0, num_steps=1, log=True),
        raises=TypeError,
        match="`log`",
        jit=False,
    ),
    Bad(
        "utils.drive",
        "accept hook returns a bool",
        lambda: du.drive(_step, 0, num_steps=1, accept=lambda run, s, r: True),
        raises=TypeError,
        match="`accept`",
        jit=False,
    ),
    Bad(
        "utils.Reject",
        "counted not a bool",
        lambda: du.Reject(counted="no"),
        raises=TypeError,
        match="`counted`",
        jit=False,
    ),
    Bad(
        "utils.Stop",
        "result a string",
        lambda: du.Stop("successful"),
        raises=TypeError,
        match="`result`",
        jit=False,
    ),
    Bad(
        "utils.History",
        "chunked not a bool",
        lambda: du.History(chunked=1),
        raises=TypeError,
        match="`chunked`",
        jit=False,
    ),
    Bad(
        "utils.PrintEvery",
        "every 0",
        lambda: du.PrintEvery(0, "{step}"),
        match="`every`",
        jit=False,
    ),
    Bad(
        "utils.PrintEvery",
        "template not a string",
        lambda: du.PrintEvery(1, 3),
        raises=TypeError,
        match="`template`",
        jit=False,
    ),
    Bad(
        "utils.JSONLinesLog",
        "path a number",
        lambda: du.JSONLinesLog(3),
        raises=TypeError,
        match="`path`",
        jit=False,
    ),
    Bad("utils.ProgressBar", "total negative", _bar(-1), match="`total`", jit=False),
    Bad(
        "utils.ProgressBar",
        "initial beyond total",
        _bar(3, initial=5),
        match="`initial`",
        jit=False,
    ),
    Bad("utils.ProgressBar", "width 0", _bar(3, width=0), match="`width`", jit=False),
    Bad(
        "utils.ProgressBar",
        "min_interval NaN",
        _bar(3, min_interval=float("nan")),
        match="`min_interval`",
        jit=False,
    ),
    Bad(
        "utils.ProgressBar",
        "file without write",
        lambda: du.ProgressBar(3, file=3),
        raises=TypeError,
        match="`file`",
        jit=False,
    ),
    # -- sharding
    Bad("utils.batch_mesh", "no devices", lambda: du.batch_mesh([]), match="`devices`", jit=False),
    Bad(
        "utils.batch_mesh",
        "not devices",
        lambda: du.batch_mesh([0, 1]),
        raises=TypeError,
        match="`devices`",
        jit=False,
    ),
    Bad(
        "utils.batch_sharding",
        "mesh a string",
        lambda: du.batch_sharding("batch"),
        raises=TypeError,
        match="`mesh`",
        jit=False,
    ),
    Bad(
        "utils.batch_sharding",
        "mesh without a batch axis",
        lambda: du.batch_sharding(Mesh(np.asarray(jax.devices()[:1]), ("data",))),
        match="`mesh`.*'batch'",
        jit=False,
    ),
    Bad(
        "utils.shard_batch",
        "a scalar leaf",
        lambda: du.shard_batch({"x": jnp.ones(())}),
        match="`tree`.*leading batch axis",
        jit=False,
    ),
    Bad(
        "utils.shard_batch",
        "sharding a string",
        lambda: du.shard_batch(jnp.ones(2), "batch"),
        raises=TypeError,
        match="`sharding`",
        jit=False,
    ),
    Bad(
        "utils.result_name",
        "a string",
        lambda: du.result_name("successful"),
        raises=TypeError,
        match="`result`.*RESULTS",
        jit=False,
    ),
    Bad(
        "utils.result_name",
        "a batched item",
        lambda: du.result_name(
            jax.vmap(
                lambda x: du.RESULTS.where(x > 0, du.RESULTS.successful, du.RESULTS.nonfinite)
            )(jnp.array([1.0, -1.0]))
        ),
        raises=TypeError,
        match="`result`.*batched",
        jit=False,
    ),
    Bad(
        "utils.result_name",
        "a traced item",
        lambda: jax.jit(
            lambda x: du.result_name(
                du.RESULTS.where(x > 0, du.RESULTS.successful, du.RESULTS.nonfinite)
            )
        )(1.0),
        raises=TypeError,
        match="`result`.*traced",
        jit=False,
    ),
]

# Public names with no input a user can get wrong ("utils.Name": reason).
NO_INPUT: dict[str, str] = {
    "utils.CheckpointError": "an exception class, raised by the library",
    "utils.VariationalEstimate": "a result record built by variational_free_energy",
    "utils.RESULTS": "the status enumeration (members, not called)",
    "utils.ACCEPT": "a verdict constant returned by accept hooks",
    "utils.Accept": "the class of ACCEPT (no arguments)",
    "utils.Callback": "a Protocol (a type for annotations, never called)",
    "utils.Run": "the run in progress, built by drive and handed to hooks",
    "utils.RunResult": "a result record built by drive",
}
