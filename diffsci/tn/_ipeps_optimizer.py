r"""The optimizer of the single-site C4v iPEPS ansatz (`diffsci.tn._ipeps`): L-BFGS on the energy
per site, run by the driver of long runs ([`diffsci.utils.drive`][]) with the accept/reject rule
`LBFGSRule` below.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._internal._c4v import C4V_SITE as _C4V
from .._internal._results import RESULTS
from .._internal._validate import check
from ._common import relative_asymmetry
from ._ipeps import (
    _check_bond_operator,
    _check_ctmrg_options,
    _check_patch,
    _check_site_tensor,
    _check_value,
    _energy_with_info,
    _normalized,
    _strong,
    symmetrize_c4v,
)

__all__ = ["IPEPSResult", "optimize_ipeps"]

# The record of one L-BFGS iteration: the energy and gradient norm after it, and at the point it
# started from (the first iteration's start is the initial tensor, the history's row 0).
_COLUMNS = ("energy", "gradient_norm", "energy_before", "gradient_norm_before", "solve_failed")

_INITIAL_FAILED = (
    "CTMRG did not converge for the initial tensor: increase `max_steps` or change `chi` (a chi "
    "that cuts through a multiplet of the corner spectrum converges slowly), or start from a less "
    "entangled tensor"
)
_INITIAL_SOLVE_FAILED = (
    "the linear solve of the CTMRG fixed-point derivative did not converge for the initial "
    "tensor: pass a `solver` with more `max_steps` (a CTMRG option), or change `chi`"
)
_FAILED_IN_A_ROW = (
    "four steps in a row failed (CTMRG or the linear solve of its derivative did not converge, "
    "or the energy rose): if `chi` cuts through a multiplet of the corner spectrum CTMRG stalls, "
    "so continue from `result.tensor` with another `chi` (at a gap of the spectrum); otherwise "
    "increase `max_steps` of CTMRG"
)


class LBFGSRule:
    """The accept/reject hook and stopping rule of `optimize_ipeps` (for [`diffsci.utils.drive`][]).

    A step is rejected when its energy or gradient norm is not finite (CTMRG or the linear solve
    of its derivative failed) or the energy rose (by more than 1e-12); the retry starts from the
    last accepted tensor with the L-BFGS memory cleared (`reset`). After `max_failures` such
    rejections in a row the run stops with `RESULTS.ctmrg_failed`. A step that leaves the energy
    exactly unchanged while the gradient norm is at least `gtol` (a line search that found no
    step) is retried once with a cleared memory, not counted as a rejection; a second one in a
    row stops the run with `RESULTS.line_search_failed`. The first evaluation (at the initial
    tensor) becomes row 0 of the history; if it failed the run stops at once.

    As a stopping rule it ends the run `successful` when the last gradient norm is below `gtol`,
    or when the last accepted step changed the energy by less than `ftol`.
    """

    def __init__(self, reset, *, gtol: float, ftol: float, max_failures: int = 3):
        self.reset = reset  # state -> the same point with a cleared L-BFGS memory
        self.gtol, self.ftol, self.max_failures = gtol, ftol, max_failures
        self.failures = 0
        self.stalls = 0

    def __call__(self, run, new_state, record):
        from diffsci.utils import ACCEPT, Reject, Stop

        e, g = float(record["energy"]), float(record["gradient_norm"])
        if len(run.history) == 0:  # the first evaluation, at the initial tensor
            e0 = float(record["energy_before"])
            g0 = float(record["gradient_norm_before"])
            nan = float("nan")
            run.history.append(
                {
                    "energy": e0,
                    "gradient_norm": g0,
                    "energy_before": nan,
                    "gradient_norm_before": nan,
                    "solve_failed": bool(record["solve_failed"]),
                }
            )
            if not (math.isfinite(e0) and math.isfinite(g0)):
                message = _INITIAL_SOLVE_FAILED if record["solve_failed"] else _INITIAL_FAILED
                return Stop(RESULTS.ctmrg_failed, message)
        last = run.history.last("energy")
        if not (math.isfinite(e) and math.isfinite(g)) or e > last + 1e-12:
            self.failures += 1
            return Reject(self.reset(run.state))
        if e == last and g >= self.gtol:
            # No decrease at all with a gradient that is not small: the line search found no
            # step, typically at a kink of the truncated energy (the chi-th and (chi+1)-th
            # eigenvalues of the enlarged corner cross). Not convergence.
            self.stalls += 1
            if self.stalls > 1:
                return Stop(
                    RESULTS.line_search_failed,
                    f"the line search found no lower energy twice in a row although the gradient "
                    f"norm is {g:.1e}: the truncated energy probably has a kink here (the chi-th "
                    "and (chi+1)-th corner eigenvalues cross); continue from `result.tensor` with "
                    "a larger `chi`",
                )
            return Reject(self.reset(run.state), counted=False)
        self.failures = self.stalls = 0
        return ACCEPT

    def stop(self, run):
        from diffsci.utils import Stop

        if self.failures > self.max_failures:
            return Stop(RESULTS.ctmrg_failed, _FAILED_IN_A_ROW)
        if len(run.history) == 0:
            return None
        energies = run.history.records
        if run.record is not None and len(energies) >= 2:  # a step accepted in this call
            change = float(energies[-2]["energy"]) - float(energies[-1]["energy"])
            if abs(change) < self.ftol:
                return Stop(RESULTS.successful, f"energy change {change:.1e} < ftol")
        g = run.history.last("gradient_norm")
        if g < self.gtol:
            return Stop(RESULTS.successful, f"gradient norm {g:.2e} < gtol")
        return None


class IPEPSResult(eqx.Module):
    """The outcome of `optimize_ipeps`.

    **Fields:**

    - `tensor`: the optimized site tensor, $C_{4v}$ symmetrized and of unit norm.
    - `energy`: its energy per site (at the `chi` of the optimization).
    - `history`: the energy after each iteration (iteration 0 is the initial tensor).
    - `gradient_norms`: the norm of the energy gradient after each iteration.
    - `iterations`: the number of L-BFGS iterations done (including those of a resumed run).
    - `rejected`: the number of rejected steps (a failed CTMRG or derivative solve, or an energy
      increase); after each the L-BFGS memory was reset and the step retried from the last
      good tensor.
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `successful` (gradient norm or energy
      change below tolerance), `max_steps_reached`, `ctmrg_failed` (the environment of the
      initial tensor, or the linear solve of its derivative, could not be computed, or every
      retry failed), or `line_search_failed` (twice in a row no decrease at all while the
      gradient is not small: a kink of the truncated energy, where the cut of the corner
      spectrum crosses a level); see `message`. `diffsci.utils.result_name(result)` gives the
      name.
    - `message`: a sentence saying what happened and what to try.
    - `seconds`: wall time of this call.
    - `stats`: the driver's counts (`steps`, `rejected`, `seconds`, `resumed_at`; see
      [`diffsci.utils.RunResult`][]).
    """

    tensor: Array
    energy: float
    history: np.ndarray
    gradient_norms: np.ndarray
    iterations: int
    rejected: int
    result: RESULTS
    message: str
    seconds: float
    stats: dict = eqx.field(default_factory=dict)


@functools.lru_cache(maxsize=16)
def _make_step(chi, symmetrize, ctmrg_items, memory_size, max_linesearch_steps, patch):
    """The jitted L-BFGS iteration and evaluation, built once per configuration (all arguments
    are hashable settings; the Hamiltonian is an argument of the jitted functions), so repeated
    optimizations of the same shapes compile once."""
    import optax

    kwargs = dict(ctmrg_items)
    kwargs["throw"] = False

    def value(x, h):
        e, info = _energy_with_info(x, h, chi, symmetrize, kwargs, patch)
        return jnp.where(info.result == RESULTS.successful, e, jnp.inf)

    opt = optax.lbfgs(
        memory_size=memory_size,
        linesearch=optax.scale_by_zoom_linesearch(
            max_linesearch_steps=max_linesearch_steps, initial_guess_strategy="one"
        ),
    )

    @jax.jit
    def step(x, state, h):
        def f(y):
            return value(y, h)

        e, g = optax.value_and_grad_from_state(f)(x, state=state)
        g = cast(Array, g)  # `x` is one array, so is its gradient (optax types a pytree)
        updates, state = opt.update(g, state, x, value=e, grad=g, value_fn=f)
        x = optax.apply_updates(x, updates)
        new_e = optax.tree_utils.tree_get(state, "value")
        new_g = optax.tree_utils.tree_get(state, "grad")
        norms = jnp.sqrt(jnp.sum(g * g)), jnp.sqrt(jnp.sum(new_g * new_g))
        # CTMRG converged (finite energy) but its gradient is not finite: the linear solve of
        # the fixed-point derivative failed (CTMRG runs with `throw=False`, so it gives NaN)
        solve_failed = jnp.isfinite(e) & ~jnp.isfinite(norms[0])
        return x, state, (e, norms[0]), (new_e, norms[1]), solve_failed

    return opt, step


def optimize_ipeps(
    a0: Float[ArrayLike, "p D D D D"],
    bond_hamiltonian: Float[ArrayLike, "p2 p2"],
    chi: int,
    *,
    steps: int = 100,
    gtol: float = 1e-6,
    ftol: float = 1e-11,
    memory_size: int = 10,
    max_linesearch_steps: int = 15,
    symmetrize: bool = True,
    patch: str = "bond",
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 10,
    progress: bool = False,
    callback=None,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
    **ctmrg_kwargs,
) -> IPEPSResult:
    r"""Minimize the energy per site of a C4v iPEPS with L-BFGS (optax, zoom line search).

    Each iteration evaluates `ipeps_energy` and its gradient (through the CTMRG fixed point) a few
    times in the line search. A step is rejected when CTMRG does not converge (the energy is then
    $+\infty$ to the line search), when the linear solve of its fixed-point derivative fails (a NaN
    gradient at a finite energy: CTMRG runs with `throw=False`), or when the energy went up; the
    tensor goes back to the last accepted one, the L-BFGS memory is cleared and the iteration is
    retried. Three retries in a row are allowed: the fourth rejection in a row stops the run with
    `result` `RESULTS.ctmrg_failed` (so does a CTMRG or linear-solve failure at `a0` itself, at
    once). An iteration that leaves the energy exactly unchanged with a gradient norm above `gtol`
    (a line search that found no step) clears the memory and is retried once; a second such
    iteration in a row stops the run with `result` `RESULTS.line_search_failed`.

    The run stops when the gradient norm falls below `gtol`, when the energy per site changed by
    less than `ftol` in an iteration (both absolute), or after `steps` iterations.

    **Arguments:**

    - `a0`: initial site tensor `(p, D, D, D, D)`; a small random tensor plus a product state is
      a good start (see `diffsci.physics.heisenberg_ipeps`).
    - `bond_hamiltonian`, `chi`, `symmetrize`, `patch`, `**ctmrg_kwargs`: as for `ipeps_energy`.
    - `steps`: maximum number of L-BFGS iterations.
    - `gtol`, `ftol`: stopping tolerances (gradient norm; energy change per iteration).
    - `memory_size`: L-BFGS history length.
    - `max_linesearch_steps`: zoom line-search evaluations per iteration at most.
    - `checkpoint_dir`: with a folder, the tensor, the optimizer state and the history are saved
      there every `checkpoint_every` iterations (and at the end) with
      `diffsci.utils.save_checkpoint`; calling again with the same folder and parameters resumes
      from the last checkpoint. A folder of a run with another `a0`, Hamiltonian, `chi`,
      `symmetrize`, `patch`, `memory_size`, `max_linesearch_steps` or CTMRG options is refused
      (`CheckpointError`); `steps`, `gtol` and `ftol` only say where to stop and may change, so
      a resumed run can go further.
    - `progress`: print a progress bar with the energy to stderr.
    - `callbacks`: callables `callback(run)` called on the host after every accepted iteration
      with the [`diffsci.utils.Run`][] (`run.step`, `run.history.last("energy")`, ...); one that
      returns `True` stops the run ([`diffsci.utils.Callback`][]).
    - `callback`: optional `callback(iteration, energy, gradient_norm)` called after every
      iteration (the earlier form of `callbacks`, kept).
    - `log`: a JSON-lines log of the run ([`diffsci.utils.JSONLinesLog`][]): a path, `False`, or
      `None` (default) for `ipeps/log.jsonl` in `checkpoint_dir` when there is one.

    The loop is [`diffsci.utils.drive`][] with the accept/reject rule described above;
    checkpoints are written in its layout in the folder `checkpoint_dir/ipeps` (a checkpoint of
    the earlier single-file layout, `checkpoint_dir/ipeps.json`, is converted and resumed).

    **Checks** (before anything runs): as `ipeps_energy` for `a0` (NaN, infinite or zero
    entries raise `equinox.EquinoxRuntimeError`), `bond_hamiltonian` and the CTMRG options;
    `steps`, `chi`, `memory_size`, `max_linesearch_steps`, `checkpoint_every` integers >= 1,
    `gtol` and `ftol` numbers >= 0, `callback` callable (`ValueError`, `TypeError`).

    **Returns:** an `IPEPSResult`.
    """
    from diffsci.utils import drive

    start_time = time.perf_counter()
    who = "optimize_ipeps"
    a0 = _check_site_tensor(a0, who, "a0")
    h = _check_bond_operator(bond_hamiltonian, a0.shape[0], who).astype(a0.dtype)
    steps = _static_count(steps, "steps", who)
    chi = _static_count(chi, "chi", who)
    memory_size = _static_count(memory_size, "memory_size", who)
    max_linesearch_steps = _static_count(max_linesearch_steps, "max_linesearch_steps", who)
    checkpoint_every = _static_count(checkpoint_every, "checkpoint_every", who)
    for name, value in (("gtol", gtol), ("ftol", ftol)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.floating)
            or not value >= 0
        ):
            raise ValueError(f"{who}: `{name}` must be a number >= 0, got {value!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"{who}: `callback` must be callable or None, got {callback!r}")
    _check_ctmrg_options(ctmrg_kwargs, who)
    # a0 is concrete (this driver is not jittable): a bad one raises here, at once.
    a0 = _check_value(a0, who, "a0")
    if not symmetrize:
        check(
            a0,
            relative_asymmetry(a0, _C4V[1:]) > jnp.sqrt(jnp.finfo(a0.dtype).eps),
            f"{who}: with symmetrize=False, expected `a0` to be C4v symmetric; symmetrize it "
            "with symmetrize_c4v, or pass symmetrize=True",
        )
    try:
        ctmrg_items = tuple(sorted(ctmrg_kwargs.items()))
        hash(ctmrg_items)
    except TypeError:
        raise TypeError(
            "optimize_ipeps: the CTMRG options must be hashable settings (numbers, strings, "
            f"equinox modules), got {ctmrg_kwargs!r}"
        ) from None
    _check_patch(patch, "optimize_ipeps")
    opt, step = _make_step(
        chi, bool(symmetrize), ctmrg_items, memory_size, max_linesearch_steps, patch
    )
    x = _normalized(symmetrize_c4v(a0) if symmetrize else a0)
    state = _strong(opt.init(x))
    metadata = {
        "shape": list(a0.shape),
        "dtype": str(a0.dtype),
        "chi": chi,
        "hamiltonian_sha": _digest(np.asarray(h)),
        "symmetrize": bool(symmetrize),
        "memory_size": memory_size,
        "ctmrg": {k: repr(v) for k, v in sorted(ctmrg_kwargs.items())},
    }
    if patch != "bond":  # (absent for the default, so checkpoints of earlier runs resume)
        metadata["patch"] = patch
    # the start and the line search change the path too (`steps`, `gtol`, `ftol` only say where
    # it stops, so a resume may change them to go further)
    first = dict(metadata)
    metadata.update(a0_sha=_digest(np.asarray(a0)), max_linesearch_steps=max_linesearch_steps)
    directory = None if checkpoint_dir is None else Path(checkpoint_dir) / "ipeps"
    if directory is not None:
        _convert_legacy_checkpoint(Path(cast(Path, checkpoint_dir)), metadata, first, x, state)

    def reset(s):
        return {"x": s["x"], "opt": _strong(opt.init(s["x"]))}

    def iteration(s, i):
        new_x, new_opt, before, after, solve_failed = step(s["x"], s["opt"], h)
        values = (after[0], after[1], before[0], before[1])
        return {"x": new_x, "opt": new_opt}, {
            **dict(zip(_COLUMNS[:4], map(float, values), strict=False)),
            "solve_failed": bool(solve_failed),
        }

    def user_callback(run):
        if callback is not None:
            callback(run.step, run.history.last("energy"), run.history.last("gradient_norm"))

    rule = LBFGSRule(reset, gtol=float(gtol), ftol=float(ftol))
    out = drive(
        iteration,
        {"x": x, "opt": state},
        num_steps=steps,
        accept=rule,
        stop=rule.stop,
        callbacks=[user_callback, *callbacks],
        caller=who,
        checkpoint_dir=directory,
        checkpoint_every=checkpoint_every,
        metadata=metadata,
        log=log,
        progress=progress,
        desc=f"iPEPS D={a0.shape[1]} chi={chi}",
        postfix=lambda s, r: {"E": f"{r['energy']:.8f}", "grad": f"{r['gradient_norm']:.1e}"},
    )
    message = out.message
    if out.result == RESULTS.max_steps_reached:
        message = f"stopped after {steps} iterations"
    empty = len(out.history) == 0
    return IPEPSResult(
        tensor=out.state["x"],
        energy=float("nan") if empty else out.history.last("energy"),
        history=np.zeros(0) if empty else out.history["energy"],
        gradient_norms=np.zeros(0) if empty else out.history["gradient_norm"],
        iterations=out.stats["steps"],
        rejected=out.stats["rejected"],
        # (pyright takes equinox's enumeration members for enum literals of another type)
        result=out.result,  # pyright: ignore[reportArgumentType]
        message=message,
        seconds=time.perf_counter() - start_time,
        stats=out.stats,
    )


def _convert_legacy_checkpoint(folder: Path, metadata: dict, first: dict, x, state) -> None:
    """Rewrite a checkpoint of the earlier single-file layout (`<folder>/ipeps`, with the tensor,
    the L-BFGS state and the history) into the driver's layout (`<folder>/ipeps/state` and its
    record file), so that runs saved before the driver resume. A checkpoint of the first format
    did not record the start tensor and the line search (`first`)."""
    import json

    from diffsci.utils import (
        checkpoint_exists,
        load_checkpoint,
        read_checkpoint_metadata,
        read_run_checkpoint_metadata,
        save_checkpoint,
    )

    legacy, target = folder / "ipeps", folder / "ipeps" / "state"
    if not checkpoint_exists(legacy) or checkpoint_exists(target):
        return
    stored_run = read_checkpoint_metadata(legacy).get("run", {})
    described = metadata if "a0_sha" in stored_run else first
    stored = read_run_checkpoint_metadata(legacy, described, "optimize_ipeps")
    n = int(stored["history_length"])
    template = {"x": x, "state": state, "history": np.zeros(n), "gnorms": np.zeros(n)}
    tree, meta = load_checkpoint(legacy, like=template)
    energies, gnorms = np.asarray(tree["history"]), np.asarray(tree["gnorms"])
    nan = np.full(1, np.nan)
    records = {
        "energy": energies,
        "gradient_norm": gnorms,
        "energy_before": np.concatenate([nan, energies[:-1]]),
        "gradient_norm_before": np.concatenate([nan, gnorms[:-1]]),
        "solve_failed": np.zeros(n, bool),
    }
    description = json.loads(json.dumps(metadata, sort_keys=True))
    if n:
        save_checkpoint(target.parent / "chunk_000000", {"outputs": records}, {})
    save_checkpoint(
        target,
        {"x": tree["x"], "opt": tree["state"]},
        {
            "steps": int(meta["iterations"]),
            "rejected": int(meta["rejected"]),
            "record_files": [0] if n else [],
            "run": description,
        },
    )


def _static_count(value, name: str, who: str) -> int:
    """A Python int >= 1 (bools refused), else `ValueError` naming `name`."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{who}: {name} must be an integer >= 1, got {value!r}")
    return int(value)


def _digest(a: np.ndarray) -> str:

    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()[:16]
