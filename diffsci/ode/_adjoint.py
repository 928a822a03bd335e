"""How `odeint` is differentiated: adjoint strategies.

| strategy | memory in the number of steps n | gradient | forward mode / 2nd order |
|---|---|---|---|
| `ReversibleAdjoint` | O(1) | exact discrete (drift checked) | no jvp; grad-of-grad, hessian |
| `AnchoredReversibleAdjoint(every=K)` | O(n / K) | exact discrete (drift checked) | as above |
| `DirectAdjoint` | O(n) | exact discrete | everything |
| `RecursiveCheckpointAdjoint` | O(log n)–O(sqrt n) | exact discrete (diffrax) | reverse only |
| `BacksolveAdjoint` | O(1) | continuous adjoint, approximate | reverse only |
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from .._internal import as_arrays, hoist
from .._internal._validate import fail, static_int
from . import _loop
from ._diffrax_bridge import to_diffrax_solver
from ._solvers import AbstractReversibleSolver, ReversibleHeun


class AbstractAdjoint(eqx.Module):
    """How to differentiate `odeint`. Subclasses implement
    `solve(solver, f, y0, ts, args, n, progress) -> ys`, where `n` is the number of steps per
    save interval and `ys` the solution at every time of `ts` (leading axis `len(ts)`)."""

    @abc.abstractmethod
    def solve(self, solver, f, y0, ts, args, n, progress):
        raise NotImplementedError

    #: Whether `jax.jvp` (forward mode) can go through this strategy.
    supports_forward_mode: eqx.AbstractClassVar[bool]


def _require_reversible(name, solver):
    if not isinstance(solver, AbstractReversibleSolver):
        raise TypeError(
            f"{name} needs an algebraically reversible solver (ReversibleHeun, ReversibleRK4, "
            f"Leapfrog, Yoshida4), got {type(solver).__name__}. For other solvers use "
            "RecursiveCheckpointAdjoint or DirectAdjoint."
        )


class DirectAdjoint(AbstractAdjoint):
    """Differentiate straight through the loop of steps (plain JAX autodiff of a `lax.scan`).

    Reverse mode stores every step: memory O(n) in the number of steps n. In exchange it supports
    everything: `jax.grad`, `jax.jvp`/`jacfwd`, `hessian`, any order, and it is the exact
    gradient of the discrete solution, which is what the other strategies are tested against.
    Works with the solvers of `diffsci.ode`.

    **Arguments:** None.
    """

    supports_forward_mode: ClassVar[bool] = True

    def solve(self, solver, f, y0, ts, args, n, progress):
        _require_reversible("DirectAdjoint", solver)
        ys, _, _ = _loop.forward(solver, f, args, y0, ts, n, progress)
        return ys


def _check_drift_tol(tol, who):
    try:
        ok = tol is None or (not isinstance(tol, bool) and float(tol) > 0)
    except TypeError:
        ok = False
    if not ok:
        fail(who, "drift_tol", "to be a positive number (math.inf disables the check) or None", tol)


def _drift_tol_value(tol, dtype):
    if tol is None:
        return math.sqrt(float(jnp.finfo(dtype).eps))
    return float(tol)


_DRIFT_MESSAGE = (
    "odeint: the reversible adjoint's reconstruction of earlier states drifted beyond "
    "`drift_tol` (the backward pass rebuilt a state that differs from the one the forward pass "
    "computed), so the gradient would be wrong. This happens on damped, stiff or chaotic dynamics. "
    "Use AnchoredReversibleAdjoint with a smaller `every`, a smaller dt0, ReversibleRK4, or "
    "DirectAdjoint / RecursiveCheckpointAdjoint."
)


@eqx.filter_custom_vjp
def _reversible_solve(vjp_arg, solver, n, progress, every, drift_tol):
    y0, ts, f, args = as_arrays(vjp_arg)
    ys, _, _ = _loop.forward(solver, f, args, y0, ts, n, progress)
    return ys


@_reversible_solve.def_fwd
def _reversible_solve_fwd(perturbed, vjp_arg, solver, n, progress, every, drift_tol):
    del perturbed
    y0, ts, f, args = as_arrays(vjp_arg)
    ys, final_state, anchors = _loop.forward(
        solver, f, args, y0, ts, n, progress, anchor_every=every
    )
    return ys, (final_state, anchors)


@_reversible_solve.def_bwd
def _reversible_solve_bwd(
    residuals, ct_ys, perturbed, vjp_arg, solver, n, progress, every, drift_tol
):
    final_state, anchors = residuals
    y0, ts, f, args = as_arrays(vjp_arg)
    num = ts.shape[0]
    ct_ys = jtu.tree_map(
        lambda c, y: jnp.zeros((num,) + jnp.shape(y), jnp.result_type(y)) if c is None else c,
        ct_ys,
        y0,
        is_leaf=lambda x: x is None,
    )
    if isinstance(solver, ReversibleHeun):
        g_y0, g_ts, g_diff, drift = _loop.backward_reversible_heun(
            f, args, y0, ts, n, final_state, anchors, every, ct_ys, progress
        )
    else:
        g_y0, g_ts, g_diff, drift = _loop.backward(
            solver, f, args, y0, ts, n, final_state, anchors, every, ct_ys, progress
        )
    grads = (g_y0, g_ts, *g_diff)
    if math.isfinite(drift_tol):
        grads = eqx.error_if(grads, drift > drift_tol, _DRIFT_MESSAGE)
    return jtu.tree_map(
        lambda g, p: g if p else None, grads, perturbed, is_leaf=lambda x: x is None
    )


def _reversible(self, name, solver, f, y0, ts, args, n, progress, every):
    _require_reversible(name, solver)
    dtype = jnp.result_type(*jtu.tree_leaves(y0))
    tol = _drift_tol_value(self.drift_tol, dtype)
    # Closed-over tracers of `f` (parameters captured by a closure, fields of a Module) become
    # explicit array leaves, so that the custom rule sees, and differentiates, them.
    f = hoist(f, ts[0], y0, args)
    try:
        return _reversible_solve((y0, ts, f, args), solver, n, progress, every, tol)
    except TypeError as err:
        if "forward-mode" in str(err) and "custom_vjp" in str(err):
            raise TypeError(
                f"odeint: {name} is a reverse-mode rule (jax.custom_vjp); forward mode "
                "(jax.jvp, jax.jacfwd, jax.linearize at the top level) cannot go through it. "
                "Use adjoint=diffsci.ode.DirectAdjoint() for forward-mode derivatives "
                "(Lyapunov exponents, Jacobian-vector products). jax.grad, grad-of-grad and "
                "jax.hessian (forward-over-reverse) do work with this adjoint. "
                "(See also diffrax issue #332.)"
            ) from err
        raise


class ReversibleAdjoint(AbstractAdjoint):
    r"""Exact gradients in O(1) memory through an algebraically reversible solver.

    The forward pass keeps only the final solver state. The backward pass walks the steps from
    last to first: it rebuilds state $s_k$ from $s_{k+1}$ with the solver's explicit inverse,
    then pulls the adjoint back through that single step,
    $\bar s_k = (\partial s_{k+1} / \partial s_k)^\top \bar s_{k+1}$, accumulating the parameter
    and time gradients, and adds the cotangent of each saved output on the way. The result is the
    gradient of the discrete solution (equal to storing every step, up to rounding), with memory
    independent of the number of steps. Gradients are taken with respect to `y0`, `ts`, `args`
    and any arrays inside `f` (e.g. an `equinox` model's parameters, or values a closure
    captured).

    After the sweep the rebuilt initial state is compared with the true one; if the mixed
    relative drift exceeds `drift_tol`, an `equinox` runtime error is raised instead of a wrong
    gradient. That happens on strongly damped, stiff or chaotic dynamics, where reversing the
    steps amplifies rounding errors exponentially; `AnchoredReversibleAdjoint` handles those.

    Forward mode (`jax.jvp`, `jax.jacfwd`) is not supported (this is a `custom_vjp` rule); a clear
    error says so. Reverse-over-reverse (grad of grad) and forward-over-reverse
    (`jax.hessian`) work, by differentiating the forward and backward sweeps themselves.

    Reference: the reversible-adjoint algorithm of P. Kidger, J. Foster, X. Li, T. Lyons,
    "Efficient and Accurate Gradients for Neural SDEs", NeurIPS 2021, section 3.2.

    **Arguments:**

    - `drift_tol`: tolerance on the reconstruction drift (default `sqrt(eps)` of the state's
      dtype: 1.5e-8 in float64, 3.5e-4 in float32); `math.inf` disables the check.
    """

    drift_tol: float | None = None
    supports_forward_mode: ClassVar[bool] = False

    def __check_init__(self):
        _check_drift_tol(self.drift_tol, "ReversibleAdjoint")

    def solve(self, solver, f, y0, ts, args, n, progress):
        return _reversible(self, "ReversibleAdjoint", solver, f, y0, ts, args, n, progress, None)


class AnchoredReversibleAdjoint(AbstractAdjoint):
    r"""Reversible adjoint with an exact anchor state stored every `every` steps.

    The forward pass stores the solver state after steps $K, 2K, \dots$ ($K$ = `every`):
    $n/K$ states. The backward pass rebuilds states algebraically only *between* anchors: inside
    each anchor interval it starts from the stored (exact) state at the interval's end, inverts
    the steps back to the interval's start, and there compares the rebuilt state with the stored
    anchor. The rebuilt start is then replaced by the anchor, so errors never carry across
    intervals: each interval reverses only $K$ steps, and on damped dynamics with rate $\lambda$
    rounding grows like $e^{\lambda K h}$ instead of $e^{\lambda T}$.

    The comparison is also a check: if the drift
    $\max|s^{\rm rebuilt} - s^{\rm anchor}| / (1 + \max|s^{\rm anchor}|)$ exceeds `drift_tol` at
    any anchor, the gradient is replaced by an `equinox` runtime error that says to lower `every`.
    When it passes, the gradient equals the exact discrete one to about `drift_tol` times the
    conditioning of the backward pass. Memory O(n/K); the cost is the same as
    `ReversibleAdjoint` (each step is inverted once and differentiated once).

    **Arguments:**

    - `every`: $K$, the number of steps between anchors (`every >= n` is `ReversibleAdjoint`).
    - `drift_tol`: tolerance on the drift at each anchor (default `sqrt(eps)` of the dtype;
      `math.inf` disables the check).
    """

    every: int = 16
    drift_tol: float | None = None
    supports_forward_mode: ClassVar[bool] = False

    def __check_init__(self):
        static_int(self.every, "every", "AnchoredReversibleAdjoint", minimum=1)
        _check_drift_tol(self.drift_tol, "AnchoredReversibleAdjoint")

    def solve(self, solver, f, y0, ts, args, n, progress):
        return _reversible(
            self,
            "AnchoredReversibleAdjoint",
            solver,
            f,
            y0,
            ts,
            args,
            n,
            progress,
            int(self.every),
        )


# --------------------------------------------------------------------------------------------
# diffrax's strategies
# --------------------------------------------------------------------------------------------


def _diffrax_solve(solver, f, y0, ts, args, n, adjoint, name, constant_steps=False):
    if isinstance(n, _loop.DynamicSteps):
        raise ValueError(
            f"odeint: {name} steps on a grid fixed at trace time, but `ts` is traced and the "
            "number of steps follows from dt0 at run time; pass steps_per_save=<int>, or use "
            "ReversibleAdjoint, AnchoredReversibleAdjoint or DirectAdjoint"
        )
    dsolver = to_diffrax_solver(solver)
    total = (ts.shape[0] - 1) * n
    if constant_steps:
        dt0 = (ts[-1] - ts[0]) / total
        controller = diffrax.ConstantStepSize()
    else:
        dt0 = None
        controller = diffrax.StepTo(ts=_loop.step_grid(ts, n))
    try:
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(f),
            dsolver,
            t0=ts[0],
            t1=ts[-1],
            dt0=dt0,
            y0=y0,
            args=args,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=controller,
            adjoint=adjoint,
            max_steps=total + 1,
        )
    except TypeError as err:
        if "forward-mode" in str(err) and "custom_vjp" in str(err):
            raise TypeError(
                f"odeint: {name} (diffrax) supports reverse mode only; for forward-mode "
                "derivatives use adjoint=diffsci.ode.DirectAdjoint() (see diffrax issue #332)."
            ) from err
        raise
    return sol.ys


class RecursiveCheckpointAdjoint(AbstractAdjoint):
    """diffrax's default adjoint: differentiate through the solve, recomputing the forward pass
    from checkpoints (binomial/treeverse checkpointing).

    Exact discrete gradient; memory grows slowly with the number of steps (with
    `checkpoints=None`, about $\\sqrt{2n}$ stored states). The solve goes through
    `diffrax.diffeqsolve` with the same step grid as the other strategies (`StepTo`), so any
    diffrax solver can be used (`solver=diffrax.Tsit5()`), and the solvers of `diffsci.ode` are
    adapted to diffrax's interface (`ReversibleHeun` maps to `diffrax.ReversibleHeun`).
    Reverse mode only.

    **Arguments:**

    - `checkpoints`: number of checkpoints, or `None` for diffrax's default.
    """

    checkpoints: int | None = None
    supports_forward_mode: ClassVar[bool] = False

    def __check_init__(self):
        if self.checkpoints is not None:
            static_int(self.checkpoints, "checkpoints", "RecursiveCheckpointAdjoint", minimum=1)

    def solve(self, solver, f, y0, ts, args, n, progress):
        adjoint = diffrax.RecursiveCheckpointAdjoint(checkpoints=self.checkpoints)
        return _diffrax_solve(solver, f, y0, ts, args, n, adjoint, "RecursiveCheckpointAdjoint")


class BacksolveAdjoint(AbstractAdjoint):
    """diffrax's continuous adjoint ("optimise-then-discretise"): solve the adjoint ODE backwards
    in time alongside the state.

    O(1) memory, but the gradient is only an approximation of the discrete one (its error is that
    of the backward solve, and on unstable or damped dynamics the backward state solve can be far
    off). Needs a diffrax solver: `ReversibleHeun` (mapped to `diffrax.ReversibleHeun`) or any
    `diffrax` solver; the other solvers of `diffsci.ode` are refused. Reverse mode only; no
    gradient with respect to `ts`.
    diffrax's backsolve cannot step to a grid in reverse, so this strategy takes constant steps
    $(t_{\rm end} - t_0)/N$ ($N$ the total number of steps) and interpolates at `ts`: the same
    steps as the others when `ts` is evenly spaced. Kept as the stock baseline.

    **Arguments:** None.
    """

    supports_forward_mode: ClassVar[bool] = False

    def solve(self, solver, f, y0, ts, args, n, progress):
        if isinstance(solver, AbstractReversibleSolver) and not isinstance(solver, ReversibleHeun):
            raise TypeError(
                f"BacksolveAdjoint cannot use {type(solver).__name__}: it runs diffrax's own "
                "solvers on the augmented adjoint system (use ReversibleHeun, which maps to "
                "diffrax.ReversibleHeun, or any diffrax solver such as diffrax.Tsit5()). "
                "ReversibleAdjoint gives exact gradients with this solver."
            )
        adjoint = diffrax.BacksolveAdjoint()
        # diffrax's backsolve does not differentiate the save/step times.
        ts = jax.lax.stop_gradient(ts)
        return _diffrax_solve(
            solver, f, y0, ts, args, n, adjoint, "BacksolveAdjoint", constant_steps=True
        )
