"""`odeint`: the entry point."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree

from .._internal import as_arrays, cast_like
from .._internal._validate import fail, finite, static_int
from ._adjoint import AbstractAdjoint, ReversibleAdjoint
from ._loop import DynamicSteps
from ._progress import AbstractProgressMeter
from ._solvers import AbstractReversibleSolver, ReversibleHeun


def _as_float_tree(y0):
    def cast(x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            x = x.astype(jnp.result_type(float))
        return x

    return jtu.tree_map(cast, y0)


def _check_monotonic(ts_np):
    d = np.diff(ts_np)
    if not (np.all(d > 0) or np.all(d < 0)):
        raise ValueError(
            "odeint: `ts` must be strictly increasing or strictly decreasing, got "
            f"{np.array2string(ts_np, threshold=8)}"
        )


def _concrete(ts):
    try:
        return np.asarray(ts)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _steps_per_interval(ts, ts_np, dt0, steps_per_save, max_steps):
    """The number of steps per save interval: a Python int, or a `DynamicSteps` when `ts` is
    traced and the count follows from `dt0` (then `max_steps` bounds the total)."""
    if max_steps is not None:
        max_steps = static_int(max_steps, "max_steps", "odeint", minimum=1)
    if steps_per_save is not None:
        if dt0 is not None:
            raise ValueError("odeint: give dt0 or steps_per_save, not both")
        if isinstance(steps_per_save, bool) or int(steps_per_save) != steps_per_save:
            raise TypeError(f"odeint: steps_per_save must be an integer, got {steps_per_save!r}")
        n = int(steps_per_save)
        if n < 1:
            raise ValueError(f"odeint: steps_per_save must be >= 1, got {steps_per_save}")
        return n
    if dt0 is None:
        raise ValueError(
            "odeint: the solvers take fixed steps; give dt0 (largest step) or steps_per_save "
            "(number of steps between consecutive save times)"
        )
    try:
        dt0 = abs(float(dt0))
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise TypeError(
            f"odeint: dt0 must be a concrete number (it sets the number of steps), got {dt0!r}"
        ) from None
    if not (dt0 > 0 and math.isfinite(dt0)):
        raise ValueError(f"odeint: dt0 must be a finite nonzero number, got {dt0}")
    if ts_np is not None:
        widest = float(np.max(np.abs(np.diff(ts_np))))
        n = max(1, math.ceil(widest / dt0 * (1 - 1e-12)))
        total = n * (len(ts_np) - 1)
        if max_steps is not None and total > max_steps:
            raise ValueError(
                f"odeint: expected `max_steps` to bound the number of steps, got max_steps = "
                f"{max_steps} but dt0 = {dt0} needs {total} ({n} per save interval); increase "
                "max_steps or dt0"
            )
        return n
    intervals = ts.shape[0] - 1
    if max_steps is None:
        raise ValueError(
            "odeint: ts is traced (an argument of a jitted or differentiated function, or a jax "
            "array built inside one), so the number of steps that dt0 implies is only known at "
            "run time; pass max_steps=<int>, a static bound on the total number of steps (as in "
            "diffrax), or steps_per_save=<int>, or build ts with numpy"
        )
    bound = int(max_steps) // intervals
    if bound < 1:
        raise ValueError(
            f"odeint: max_steps = {max_steps} is less than the number of save intervals "
            f"({intervals}); every interval takes at least one step"
        )
    # The same arithmetic as for concrete `ts`, in the widest float available.
    wide = jnp.result_type(float)
    widest = jnp.max(jnp.abs(jnp.diff(ts.astype(wide))))
    count = jnp.maximum(jnp.ceil(widest / dt0 * (1 - 1e-12)), 1)
    count = eqx.error_if(
        count,
        count > bound,
        "odeint: dt0 needs more steps per save interval than max_steps allows (max_steps is "
        "the bound on the total number of steps, over all intervals); increase max_steps",
    )
    return DynamicSteps(count=count.astype(jnp.int32), bound=bound)


def _is_separable(f, t0, y0, args) -> bool | None:
    """Whether `f(t, (q, p), args)` has dq/dt independent of q and dp/dt independent of p, read
    off the dependencies of its jaxpr (`None` if that cannot be decided)."""
    try:
        from jax._src.interpreters.partial_eval import dce_jaxpr
    except ImportError:  # pragma: no cover - a JAX without this internal
        return None
    q0, p0 = y0
    nq = len(jtu.tree_leaves(q0))
    closed = jax.make_jaxpr(lambda q, p: f(t0, (q, p), args))(q0, p0)
    jaxpr = closed.jaxpr
    nout = len(jaxpr.outvars)
    n_dq = len(jtu.tree_leaves(jax.eval_shape(lambda: f(t0, (q0, p0), args)[0])))
    _, used_by_dq = dce_jaxpr(jaxpr, [i < n_dq for i in range(nout)])
    _, used_by_dp = dce_jaxpr(jaxpr, [i >= n_dq for i in range(nout)])
    return not any(used_by_dq[:nq]) and not any(used_by_dp[nq:])


def odeint(
    f: Callable[[Any, PyTree, Any], PyTree],
    y0: PyTree[ArrayLike],
    ts: Float[ArrayLike, " times"],
    args: PyTree = None,
    *,
    solver: AbstractReversibleSolver | diffrax.AbstractSolver = ReversibleHeun(),
    adjoint: AbstractAdjoint = ReversibleAdjoint(),
    dt0: float | None = None,
    steps_per_save: int | None = None,
    max_steps: int | None = None,
    progress: AbstractProgressMeter | None = None,
) -> PyTree[Float[Array, "times ..."]]:
    r"""Solve $\dot y = f(t, y, \text{args})$ from $y(t_0) = y_0$ and return $y$ at every time of
    `ts`, differentiably, with a choice of how the derivative is computed.

    Fixed steps, aligned with the save times: each interval $[t_i, t_{i+1}]$ of `ts` is cut
    into the same number $m$ of equal steps, $m = \lceil \max_i |t_{i+1} - t_i| / \text{dt0}
    \rceil$ (so no step is longer than `dt0`, and every $t_i$ is a step boundary; nothing is
    interpolated), or $m$ = `steps_per_save`. `ts` may decrease (integration backwards in time).

    **Arguments:**

    - `f`: the vector field `f(t, y, args) -> dy/dt`, `y` a pytree of arrays. May be an
      `equinox.Module` (e.g. a neural network) or a closure; the arrays inside it are
      differentiated like `args`.
    - `y0`: initial state at `ts[0]`, a pytree of floating arrays. For `Leapfrog`/`Yoshida4`,
      `y0 = (q0, p0)` and `f(t, (q, p), args)` returns `(dq/dt, dp/dt)`, with `dq/dt` depending
      on `p` only and `dp/dt` on `q` only.
    - `ts`: strictly increasing or strictly decreasing times, shape `(T,)` with `T >= 2`;
      `ts[0]` is the initial time. May be traced: the gradient with respect to the save times
      and the end time is that of the discrete solution.
    - `args`: extra arguments for `f`, any pytree (arrays, Python or NumPy scalars, integers,
      strings, `equinox.Module`s); its floating leaves are differentiated, the rest is static.
    - `solver`: `ReversibleHeun()` (default), `ReversibleRK4()`, `Leapfrog()`, `Yoshida4()`; with
      the diffrax-based adjoints also any `diffrax` solver.
    - `adjoint`: how to differentiate: `ReversibleAdjoint()` (default: exact, O(1) memory),
      `AnchoredReversibleAdjoint(every=K)`, `DirectAdjoint()`, `RecursiveCheckpointAdjoint()`,
      `BacksolveAdjoint()`.
    - `dt0`: largest step size. With concrete `ts` the number of steps is fixed at trace time;
      with traced `ts` (built inside `jit`, or differentiated) it is computed at run time and
      `max_steps` must bound it.
    - `steps_per_save`: number of steps per interval of `ts` instead of `dt0`.
    - `max_steps`: a static bound on the total number of steps, needed with traced `ts` and
      `dt0` (as in diffrax); the solve then always runs `max_steps // (len(ts) - 1)` iterations
      per interval, the ones past the step count doing nothing, so keep it tight. A run that
      needs more steps raises (an `equinox` runtime error; with concrete `ts`, a `ValueError`
      at once).
    - `progress`: an opt-in progress meter, e.g. `TextProgressMeter()`; reports the forward
      pass and, for the reversible adjoints, the backward pass. Default `None` (no callbacks).

    **Returns:**

    A pytree like `y0` whose leaves have a leading axis of length `len(ts)`: `ys[i]` is the
    solution at `ts[i]` (and `ys[0] = y0`). The dtype of every leaf is that of `y0` (a float32
    state stays float32 even if `f` computes in float64).

    Values to differentiate may reach `f` any way a JAX user passes them: in `args`, closed over
    by `f` (a traced value, a Python float under `jax.grad`), or as fields of an `equinox.Module`
    vector field; see the docs page "Passing parameters".
    """
    if not isinstance(adjoint, AbstractAdjoint):
        raise TypeError(
            "odeint: adjoint must be an AbstractAdjoint (e.g. ReversibleAdjoint()), "
            f"got {adjoint!r}"
        )
    if not isinstance(solver, AbstractReversibleSolver | diffrax.AbstractSolver):
        fail(
            "odeint",
            "solver",
            "to be a solver (ReversibleHeun(), ReversibleRK4(), Leapfrog(), "
            "Yoshida4(), or a diffrax solver with a diffrax-based adjoint)",
            solver,
            TypeError,
        )
    if not callable(f):
        raise TypeError(f"odeint: `f` must be a callable f(t, y, args), got {f!r}")
    y0 = _as_float_tree(y0)
    leaves = jtu.tree_leaves(y0)
    if not leaves:
        raise ValueError("odeint: y0 has no arrays")
    dtype = jnp.result_type(*leaves)
    real = jnp.finfo(dtype).dtype
    y0 = jtu.tree_map(lambda leaf: finite(leaf, "y0", "odeint"), y0)
    if jnp.ndim(ts) != 1 or jnp.shape(ts)[0] < 2:
        raise ValueError(f"odeint: ts must be 1-D with at least 2 times, got shape {jnp.shape(ts)}")
    ts_np = _concrete(ts)
    if ts_np is not None:
        _check_monotonic(ts_np)
    n = _steps_per_interval(ts, ts_np, dt0, steps_per_save, max_steps)
    ts = jnp.asarray(ts, dtype=real)
    if ts_np is None:
        d = jnp.diff(ts)
        ts = eqx.error_if(
            ts,
            ~(jnp.all(d > 0) | jnp.all(d < 0)),
            "odeint: `ts` must be strictly increasing or strictly decreasing",
        )
    if progress is not None and not isinstance(progress, AbstractProgressMeter):
        raise TypeError(f"odeint: progress must be an AbstractProgressMeter, got {progress!r}")
    args = as_arrays(args)
    f = cast_like(f, "odeint")
    if isinstance(solver, AbstractReversibleSolver) and solver.separable:
        # `ts` is an Array here (`eqx.error_if` is typed as returning a PyTree)
        _check_pair_state(solver, f, cast(Array, ts)[0], y0, args)
    return adjoint.solve(solver, f, y0, ts, args, n, progress)


def _check_pair_state(solver, f, t0, y0, args):
    if not (isinstance(y0, tuple | list) and len(y0) == 2):
        return  # the solver refuses it, with its own message
    name = type(solver).__name__
    separable = _is_separable(f, t0, tuple(y0), args)
    if separable is False:
        raise ValueError(
            f"odeint: {name} needs a separable field, f(t, (q, p), args) = (dq/dt, dp/dt) with "
            "dq/dt depending on p only and dp/dt on q only (H = T(p) + V(q)); the given `f` "
            "does not have that form, so the scheme (and its reversible adjoint) would be "
            "wrong. Use ReversibleHeun or ReversibleRK4 for a general field."
        )
