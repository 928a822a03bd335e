"""`odeint`: the entry point."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree

from ._adjoint import AbstractAdjoint, ReversibleAdjoint
from ._progress import AbstractProgressMeter
from ._solvers import ReversibleHeun


def _as_float_tree(y0):
    def cast(x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            x = x.astype(jnp.result_type(float))
        return x

    return jtu.tree_map(cast, y0)


def _steps_per_interval(ts, dt0, steps_per_save):
    if steps_per_save is not None:
        if dt0 is not None:
            raise ValueError("odeint: give dt0 or steps_per_save, not both")
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
        ts_np = np.asarray(ts)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        raise ValueError(
            "odeint: ts is traced (an argument of a jitted or differentiated function, or a jax "
            "array built inside one), so the number of steps cannot be derived from dt0; pass "
            "steps_per_save=<int>, or build ts with numpy"
        ) from None
    dt0 = abs(float(dt0))
    if not dt0 > 0:
        raise ValueError(f"odeint: dt0 must be nonzero, got {dt0}")
    widest = float(np.max(np.abs(np.diff(ts_np))))
    return max(1, math.ceil(widest / dt0 * (1 - 1e-12)))


def odeint(
    f: Callable[[Any, PyTree, Any], PyTree],
    y0: PyTree[ArrayLike],
    ts: Float[ArrayLike, " times"],
    args: PyTree = None,
    *,
    solver=ReversibleHeun(),
    adjoint: AbstractAdjoint = ReversibleAdjoint(),
    dt0: float | None = None,
    steps_per_save: int | None = None,
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
    - `ts`: increasing or decreasing times, shape `(T,)` with `T >= 2`; `ts[0]` is the initial
      time.
    - `args`: extra arguments for `f`, any pytree.
    - `solver`: `ReversibleHeun()` (default), `ReversibleRK4()`, `Leapfrog()`, `Yoshida4()`; with
      the diffrax-based adjoints also any `diffrax` solver.
    - `adjoint`: how to differentiate: `ReversibleAdjoint()` (default: exact, O(1) memory),
      `AnchoredReversibleAdjoint(every=K)`, `DirectAdjoint()`, `RecursiveCheckpointAdjoint()`,
      `BacksolveAdjoint()`.
    - `dt0`: largest step size (needs concrete `ts`).
    - `steps_per_save`: number of steps per interval of `ts` instead of `dt0` (use it when `ts`
      is traced).
    - `progress`: an opt-in progress meter, e.g. `TextProgressMeter()`; reports the forward
      pass and, for the reversible adjoints, the backward pass. Default `None` (no callbacks).

    **Returns:**

    A pytree like `y0` whose leaves have a leading axis of length `len(ts)`: `ys[i]` is the
    solution at `ts[i]` (and `ys[0] = y0`).
    """
    if not isinstance(adjoint, AbstractAdjoint):
        raise TypeError(
            "odeint: adjoint must be an AbstractAdjoint (e.g. ReversibleAdjoint()), "
            f"got {adjoint!r}"
        )
    y0 = _as_float_tree(y0)
    leaves = jtu.tree_leaves(y0)
    if not leaves:
        raise ValueError("odeint: y0 has no arrays")
    dtype = jnp.result_type(*leaves)
    real = jnp.finfo(dtype).dtype
    if jnp.ndim(ts) != 1 or jnp.shape(ts)[0] < 2:
        raise ValueError(
            f"odeint: ts must be 1-D with at least 2 times, got shape {jnp.shape(ts)}"
        )
    n = _steps_per_interval(ts, dt0, steps_per_save)  # before ts becomes a (traced) jax array
    ts = jnp.asarray(ts, dtype=real)
    if progress is not None and not isinstance(progress, AbstractProgressMeter):
        raise TypeError(f"odeint: progress must be an AbstractProgressMeter, got {progress!r}")
    return adjoint.solve(solver, f, y0, ts, args, n, progress)
