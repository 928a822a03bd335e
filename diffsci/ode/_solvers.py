"""Algebraically reversible fixed-step integrators.

Every solver here maps a *solver state* at time `t0` to the state at `t1` (`step`), and back again
(`backward_step`), exactly up to floating-point rounding: the inverse is an explicit algebraic
formula, not a solve. The state holds the solution `y` plus whatever the scheme carries along
(a cached force, a second coupled copy of `y`); `output(state)` extracts `y`.

The reversible adjoints of `diffsci.ode` only need these three methods: the forward pass keeps the
final state, and the backward pass rebuilds each earlier state from the later one with
`backward_step`, then differentiates one `step` at a time.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import jax.tree_util as jtu

VectorField = Callable[[Any, Any, Any], Any]


def _axpy(a, x, y):
    """`a * x + y` leaf by leaf on pytrees."""
    return jtu.tree_map(lambda xi, yi: a * xi + yi, x, y)


def _lincomb(*pairs):
    """`sum_i c_i * x_i` leaf by leaf, for pairs `(c_i, x_i)` of scalars and pytrees."""
    coeffs = [c for c, _ in pairs]
    trees = [x for _, x in pairs]

    def combine(*leaves):
        total = coeffs[0] * leaves[0]
        for c, leaf in zip(coeffs[1:], leaves[1:], strict=True):
            total = total + c * leaf
        return total

    return jtu.tree_map(combine, *trees)


class AbstractReversibleSolver(eqx.Module):
    """A fixed-step integrator with an exact algebraic inverse.

    Subclasses implement:

    - `init(f, t0, y0, args) -> state`;
    - `step(f, t0, t1, state, args) -> state`: one step from `t0` to `t1`;
    - `backward_step(f, t0, t1, state, args) -> state`: the algebraic inverse of `step`, from the
      state at `t1` back to the state at `t0`;
    - `output(state) -> y`.

    `order` is the classical order of convergence.
    """

    order: ClassVar[int]
    #: True when the scheme needs `y = (q, p)` with `dq/dt = g(p)` and `dp/dt = F(q)`.
    separable: ClassVar[bool] = False

    @abc.abstractmethod
    def init(self, f: VectorField, t0, y0, args):
        raise NotImplementedError

    @abc.abstractmethod
    def step(self, f: VectorField, t0, t1, state, args):
        raise NotImplementedError

    @abc.abstractmethod
    def backward_step(self, f: VectorField, t0, t1, state, args):
        raise NotImplementedError

    @abc.abstractmethod
    def output(self, state):
        raise NotImplementedError

    def with_output(self, f, t, state, y, args):
        """The state with its solution part replaced by `y` (used when diffrax changes `y`
        between steps, as its backsolve adjoint does at save times). Default: start afresh."""
        del state
        return self.init(f, t, y, args)


# --------------------------------------------------------------------------------------------
# Reversible Heun (Kidger, Foster, Li, Lyons 2021)
# --------------------------------------------------------------------------------------------


class ReversibleHeun(AbstractReversibleSolver):
    r"""Reversible Heun method: algebraically reversible, 2nd order, for any vector field.

    The state is $(y_n, \hat y_n, f(t_n, \hat y_n))$, started with $\hat y_0 = y_0$. One step
    of size $h = t_{n+1} - t_n$:

    $$\hat y_{n+1} = 2 y_n - \hat y_n + h\, f(t_n, \hat y_n),\qquad
      y_{n+1} = y_n + \tfrac{h}{2}\bigl(f(t_n, \hat y_n) + f(t_{n+1}, \hat y_{n+1})\bigr).$$

    The inverse (one new evaluation of $f$, the one at $t_n$):

    $$\hat y_n = 2 y_{n+1} - \hat y_{n+1} - h\, f(t_{n+1}, \hat y_{n+1}),\qquad
      y_n = y_{n+1} - \tfrac{h}{2}\bigl(f(t_n, \hat y_n) + f(t_{n+1}, \hat y_{n+1})\bigr).$$

    This is the scheme of `diffrax.ReversibleHeun`, so `odeint` with this solver takes the same
    discrete steps as `diffrax.diffeqsolve(..., diffrax.ReversibleHeun(), ...)` on the same grid.
    It is only weakly stable: on stiff or strongly damped dynamics ($h \lambda$ large, e.g. an MLP
    field minus $50 y$) the backward reconstruction amplifies rounding errors exponentially; use
    `AnchoredReversibleAdjoint` there.

    Reference: P. Kidger, J. Foster, X. Li, T. Lyons, "Efficient and Accurate Gradients for Neural
    SDEs", NeurIPS 2021, arXiv:2105.13493, section 3.

    **Arguments:** None.
    """

    order: ClassVar[int] = 2

    def init(self, f, t0, y0, args):
        return (y0, y0, f(t0, y0, args))

    def step(self, f, t0, t1, state, args):
        y0, yhat0, vf0 = state
        h = t1 - t0
        yhat1 = _lincomb((2.0, y0), (-1.0, yhat0), (h, vf0))
        vf1 = f(t1, yhat1, args)
        y1 = _lincomb((1.0, y0), (0.5 * h, vf0), (0.5 * h, vf1))
        return (y1, yhat1, vf1)

    def backward_step(self, f, t0, t1, state, args):
        y1, yhat1, vf1 = state
        h = t1 - t0
        yhat0 = _lincomb((2.0, y1), (-1.0, yhat1), (-h, vf1))
        vf0 = f(t0, yhat0, args)
        y0 = _lincomb((1.0, y1), (-0.5 * h, vf0), (-0.5 * h, vf1))
        return (y0, yhat0, vf0)

    def output(self, state):
        return state[0]


# --------------------------------------------------------------------------------------------
# Symplectic integrators for separable Hamiltonians
# --------------------------------------------------------------------------------------------


def _check_pair(y):
    if not (isinstance(y, (tuple, list)) and len(y) == 2):
        raise ValueError(
            "Leapfrog/Yoshida4 expect y = (q, p) with dq/dt depending on p only and dp/dt on q "
            f"only; got a y of type {type(y).__name__}. Use ReversibleHeun or ReversibleRK4 "
            "for general vector fields."
        )


def _velocity(f, t, q, p, args):
    return f(t, (q, p), args)[0]


def _force(f, t, q, p, args):
    return f(t, (q, p), args)[1]


def _kdk(f, t0, t1, q0, p0, force0, args):
    """One kick-drift-kick step; `force0 = dp/dt(t0, q0)` comes in cached and the force at the
    new position goes out cached (first same as last)."""
    h = t1 - t0
    p_half = _axpy(0.5 * h, force0, p0)
    q1 = _axpy(h, _velocity(f, t0 + 0.5 * h, q0, p_half, args), q0)
    force1 = _force(f, t1, q1, p_half, args)
    p1 = _axpy(0.5 * h, force1, p_half)
    return q1, p1, force1


def _kdk_inverse(f, t0, t1, q1, p1, force1, args):
    """The exact inverse of `_kdk`: undo the last kick, the drift, then the first kick."""
    h = t1 - t0
    p_half = _axpy(-0.5 * h, force1, p1)
    q0 = _axpy(-h, _velocity(f, t0 + 0.5 * h, q1, p_half, args), q1)
    force0 = _force(f, t0, q0, p_half, args)
    p0 = _axpy(-0.5 * h, force0, p_half)
    return q0, p0, force0


class Leapfrog(AbstractReversibleSolver):
    r"""Leapfrog / velocity Verlet (kick-drift-kick), 2nd order, symplectic, time-reversible.

    For $y = (q, p)$ with $\dot q = g(t, p)$ and $\dot p = F(t, q)$ (separable Hamiltonian
    $H = T(p) + V(q)$: $g = \partial T/\partial p$, $F = -\partial V/\partial q$). The vector
    field is called as `f(t, (q, p), args) -> (dq/dt, dp/dt)`; only its `p`-dependence in the
    first output and its `q`-dependence in the second are used. One step of size $h$:

    $$p_{1/2} = p_n + \tfrac h2 F(t_n, q_n),\quad
      q_{n+1} = q_n + h\, g(t_n + \tfrac h2, p_{1/2}),\quad
      p_{n+1} = p_{1/2} + \tfrac h2 F(t_{n+1}, q_{n+1}).$$

    The inverse runs the same three updates backwards with the signs flipped:
    $p_{1/2} = p_{n+1} - \tfrac h2 F(t_{n+1}, q_{n+1})$,
    $q_n = q_{n+1} - h\, g(t_n + \tfrac h2, p_{1/2})$, $p_n = p_{1/2} - \tfrac h2 F(t_n, q_n)$.
    The force at the end of a step is cached for the next one, so a step costs one evaluation
    of $g$ and one of $F$ (each a call of `f`).

    Energy is not conserved exactly but a modified Hamiltonian is, so the energy error stays
    bounded, $O(h^2)$, over exponentially long times (Hairer, Lubich, Wanner, *Geometric Numerical
    Integration*, 2006, chapter IX).

    **Arguments:** None.
    """

    order: ClassVar[int] = 2
    separable: ClassVar[bool] = True

    def init(self, f, t0, y0, args):
        _check_pair(y0)
        q0, p0 = y0
        return (q0, p0, _force(f, t0, q0, p0, args))

    def step(self, f, t0, t1, state, args):
        return _kdk(f, t0, t1, *state, args=args)

    def backward_step(self, f, t0, t1, state, args):
        return _kdk_inverse(f, t0, t1, *state, args=args)

    def output(self, state):
        return (state[0], state[1])


_CBRT2 = 2.0 ** (1.0 / 3.0)
_YOSHIDA_W1 = 1.0 / (2.0 - _CBRT2)
_YOSHIDA_W0 = -_CBRT2 / (2.0 - _CBRT2)


class Yoshida4(AbstractReversibleSolver):
    r"""Yoshida's 4th-order symplectic integrator: three leapfrog steps of sizes
    $w_1 h,\ w_0 h,\ w_1 h$ with

    $$w_1 = \frac{1}{2 - 2^{1/3}},\qquad w_0 = -\frac{2^{1/3}}{2 - 2^{1/3}}$$

    ($2 w_1 + w_0 = 1$; the middle step goes backwards in time). The composition of a symmetric
    2nd-order method in this pattern cancels the $h^3$ error term, giving order 4, and stays
    symplectic and time-reversible. Same conventions for `f` as `Leapfrog`; the inverse runs
    the three inverse leapfrog steps in the opposite order. Cost: three force and three velocity
    evaluations per step.

    Reference: H. Yoshida, "Construction of higher order symplectic integrators",
    Phys. Lett. A 150, 262 (1990), eq. (4.14) with $k = 1$.

    **Arguments:** None.
    """

    order: ClassVar[int] = 4
    separable: ClassVar[bool] = True

    def init(self, f, t0, y0, args):
        return Leapfrog().init(f, t0, y0, args)

    def _substep_times(self, t0, t1):
        h = t1 - t0
        ta = t0 + _YOSHIDA_W1 * h
        tb = ta + _YOSHIDA_W0 * h
        return (t0, ta, tb, t1)

    def step(self, f, t0, t1, state, args):
        times = self._substep_times(t0, t1)
        for a, b in zip(times[:-1], times[1:], strict=True):
            state = _kdk(f, a, b, *state, args=args)
        return state

    def backward_step(self, f, t0, t1, state, args):
        times = self._substep_times(t0, t1)
        for a, b in reversed(list(zip(times[:-1], times[1:], strict=True))):
            state = _kdk_inverse(f, a, b, *state, args=args)
        return state

    def output(self, state):
        return (state[0], state[1])


# --------------------------------------------------------------------------------------------
# Reversible Runge-Kutta (McCallum & Foster 2024) around classical RK4
# --------------------------------------------------------------------------------------------


def _rk4_flow(f, t0, t1, y, args):
    """One classical RK4 step from `t0` to `t1` (any sign of `t1 - t0`)."""
    h = t1 - t0
    k1 = f(t0, y, args)
    k2 = f(t0 + 0.5 * h, _axpy(0.5 * h, k1, y), args)
    k3 = f(t0 + 0.5 * h, _axpy(0.5 * h, k2, y), args)
    k4 = f(t1, _axpy(h, k3, y), args)
    return _lincomb((1.0, y), (h / 6, k1), (h / 3, k2), (h / 3, k3), (h / 6, k4))


class ReversibleRK4(AbstractReversibleSolver):
    r"""Reversible Runge-Kutta: classical RK4 made algebraically reversible by coupling two
    copies of the state, 4th order, for general (also damped) vector fields.

    Let $\Phi_{a \to b}(x)$ be one RK4 step from time $a$ to time $b$ (also for $b < a$). The
    state is $(y_n, z_n)$, started with $z_0 = y_0$, and one step from $t_n$ to $t_{n+1}$ is

    $$y_{n+1} = \lambda y_n + (1 - \lambda) z_n + \bigl(\Phi_{t_n \to t_{n+1}}(z_n) - z_n\bigr),$$
    $$z_{n+1} = z_n - \bigl(\Phi_{t_{n+1} \to t_n}(y_{n+1}) - y_{n+1}\bigr),$$

    with coupling $0 < \lambda \le 1$ (the second line is one RK4 step run backwards from
    $y_{n+1}$, added to $z_n$). It inverts explicitly:

    $$z_n = z_{n+1} + \Phi_{t_{n+1} \to t_n}(y_{n+1}) - y_{n+1},\qquad
      y_n = z_n + \bigl(y_{n+1} - \Phi_{t_n \to t_{n+1}}(z_n)\bigr) / \lambda.$$

    Both copies converge at the order of the base method (4). Stability, worked out on
    $\dot y = \mu y$ with $x = h\mu$ and RK4's $R(x) \approx e^x$: the step matrix has
    determinant $\lambda$ and eigenvalues $R(x)$ (the solution) and about $\lambda / R(x)$
    (a parasitic mode of the coupling). So the forward pass is stable only while
    $\lambda \le R(x)$: with the default $\lambda = 0.999$ that means damping rates
    $h\,|\mathrm{Re}\,\mu| \lesssim 10^{-3}$ per step; for dissipative systems (Lorenz, damped
    fields) pick $\lambda \le e^{-h |\mu|_{\max}}$, e.g. `coupling=0.5`. The backward pass
    multiplies rounding errors by up to $\max(1/R, R/\lambda)$ per step: reversing damping is
    exponentially unstable for any reversible scheme, so on damped dynamics use
    `AnchoredReversibleAdjoint`, which checks and bounds this drift. Cost: 8 evaluations of `f`
    per step (two RK4 steps).

    Reference: S. McCallum, J. Foster, "Efficient, Accurate and Stable Gradients for Neural ODEs",
    arXiv:2410.11648 (2024), the reversible method of section 3 with an explicit RK4 base.

    **Arguments:**

    - `coupling`: $\lambda$, in $(0, 1]$; default 0.999 as recommended by the authors.
    """

    coupling: float = 0.999
    order: ClassVar[int] = 4

    def __check_init__(self):
        if not (0.0 < self.coupling <= 1.0):
            raise ValueError(f"ReversibleRK4: coupling must be in (0, 1], got {self.coupling}")

    def init(self, f, t0, y0, args):
        return (y0, y0)

    def step(self, f, t0, t1, state, args):
        y0, z0 = state
        lam = self.coupling
        phi_z = _rk4_flow(f, t0, t1, z0, args)
        y1 = _lincomb((lam, y0), (-lam, z0), (1.0, phi_z))
        phi_y = _rk4_flow(f, t1, t0, y1, args)
        z1 = _lincomb((1.0, z0), (1.0, y1), (-1.0, phi_y))
        return (y1, z1)

    def backward_step(self, f, t0, t1, state, args):
        y1, z1 = state
        lam = self.coupling
        phi_y = _rk4_flow(f, t1, t0, y1, args)
        z0 = _lincomb((1.0, z1), (-1.0, y1), (1.0, phi_y))
        phi_z = _rk4_flow(f, t0, t1, z0, args)
        y0 = _lincomb((1.0, z0), (1.0 / lam, y1), (-1.0 / lam, phi_z))
        return (y0, z0)

    def output(self, state):
        return state[0]

    def with_output(self, f, t, state, y, args):
        # A jump in y moves both coupled copies, so that the scheme follows the new solution.
        y_old, z = state
        return (y, _lincomb((1.0, z), (1.0, y), (-1.0, y_old)))


def state_scale_error(rebuilt, stored):
    """Reconstruction drift of a solver state: the largest over leaves of
    `max|rebuilt - stored| / (1 + max|stored|)` (mixed absolute/relative)."""
    errs = jtu.tree_map(
        lambda a, b: jnp.max(jnp.abs(a - b)) / (1 + jnp.max(jnp.abs(b))), rebuilt, stored
    )
    leaves = jtu.tree_leaves(errs)
    if not leaves:
        return jnp.zeros(())
    return jnp.max(jnp.stack([jnp.asarray(x, dtype=jnp.result_type(float)) for x in leaves]))
