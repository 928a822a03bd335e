"""The solvers: exact inverses, convergence orders against exact solutions, long-time energy
behaviour of the symplectic schemes, and agreement with diffrax's ReversibleHeun."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.ode as ode


def harmonic(t, y, args):
    q, p = y
    return (p, -q)


def pendulum(t, y, args):
    q, p = y
    return (p, -jnp.sin(q))


def kepler(t, y, args):
    q, p = y
    r = jnp.linalg.norm(q)
    return (p, -q / r**3)


def pendulum_energy(y):
    q, p = y
    return 0.5 * p**2 - jnp.cos(q)


def kepler_energy(y):
    q, p = y
    return 0.5 * jnp.sum(p**2, axis=-1) - 1.0 / jnp.linalg.norm(q, axis=-1)


def general(t, y, args):
    # a non-autonomous, non-separable linear field y' = A y + (cos t, 0), A = -0.3 I + J
    a = jnp.array([[-0.3, 1.0], [-1.0, -0.3]])
    return a @ y + jnp.array([jnp.cos(t), 0.0])


def general_exact(t):
    """Solution of `general` from y(0) = (1, 0) by variation of constants,
    y(t) = e^{At} y0 + int_0^t e^{A(t-s)} (cos s, 0) ds, with e^{As} = e^{-0.3 s} R(s) in closed
    form and the integral by 80-point Gauss-Legendre (exact to rounding for this smooth
    integrand)."""

    def expm(s):
        return np.exp(-0.3 * s) * np.array([[np.cos(s), np.sin(s)], [-np.sin(s), np.cos(s)]])

    x, w = np.polynomial.legendre.leggauss(80)
    s = 0.5 * t * (x + 1)
    integral = sum(
        wi * 0.5 * t * expm(t - si) @ np.array([np.cos(si), 0.0])
        for si, wi in zip(s, w, strict=True)
    )
    return expm(t) @ np.array([1.0, 0.0]) + integral


ALL_SOLVERS = [ode.ReversibleHeun(), ode.ReversibleRK4(), ode.Leapfrog(), ode.Yoshida4()]


@pytest.mark.parametrize("solver", ALL_SOLVERS, ids=lambda s: type(s).__name__)
def test_backward_step_inverts_step(solver):
    f = pendulum
    y0 = (jnp.array([0.7, -1.2]), jnp.array([0.3, 0.5]))
    if not solver.separable:

        def f(t, y, args):
            q, p = y
            return (p - 0.1 * q * t, -jnp.sin(q) - 0.2 * p)

    state = solver.init(f, 0.1, y0, None)
    for _ in range(3):
        state = solver.step(f, 0.1, 0.35, state, None)
    back = state
    for _ in range(3):
        back = solver.backward_step(f, 0.1, 0.35, back, None)
    forward_once = solver.step(f, 0.1, 0.35, solver.init(f, 0.1, y0, None), None)
    rebuilt = solver.backward_step(f, 0.1, 0.35, forward_once, None)
    start = solver.init(f, 0.1, y0, None)
    for a, b in zip(jax.tree.leaves(rebuilt), jax.tree.leaves(start), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)


def _observed_order(errors, dts):
    return np.polyfit(np.log(dts), np.log(errors), 1)[0]


@pytest.mark.parametrize(
    "solver, order", [(ode.Leapfrog(), 2), (ode.Yoshida4(), 4)], ids=["Leapfrog", "Yoshida4"]
)
def test_symplectic_order_harmonic_oscillator(solver, order):
    # exact solution from (q, p) = (1, 0): q = cos t, p = -sin t
    ts = jnp.array([0.0, 2.0])
    y0 = (jnp.array(1.0), jnp.array(0.0))
    steps = [10, 20, 40, 80]
    errors = []
    for n in steps:
        q, p = ode.odeint(
            harmonic, y0, ts, solver=solver, adjoint=ode.DirectAdjoint(), steps_per_save=n
        )
        errors.append(float(jnp.hypot(q[-1] - jnp.cos(2.0), p[-1] + jnp.sin(2.0))))
    assert _observed_order(errors, 2.0 / np.array(steps)) == pytest.approx(order, abs=0.15)


@pytest.mark.parametrize(
    "solver, order",
    [(ode.ReversibleHeun(), 2), (ode.ReversibleRK4(), 4)],
    ids=["ReversibleHeun", "ReversibleRK4"],
)
def test_general_order_exact_solution(solver, order):
    ts = jnp.array([0.0, 3.0])
    exact = general_exact(3.0)
    steps = [15, 30, 60, 120]
    errors = []
    for n in steps:
        ys = ode.odeint(
            general,
            jnp.array([1.0, 0.0]),
            ts,
            solver=solver,
            adjoint=ode.DirectAdjoint(),
            steps_per_save=n,
        )
        errors.append(float(jnp.max(jnp.abs(ys[-1] - exact))))
    assert _observed_order(errors, 3.0 / np.array(steps)) == pytest.approx(order, abs=0.2)


@pytest.mark.parametrize("solver", [ode.Leapfrog(), ode.Yoshida4()], ids=["Leapfrog", "Yoshida4"])
def test_energy_drift_bounded_pendulum(solver):
    # 10^4 steps of h = 0.1 up to T = 1000 (about 150 periods): the energy error of a symplectic
    # scheme oscillates at O(h^p) without secular growth.
    ts = jnp.linspace(0.0, 1000.0, 201)
    y0 = (jnp.array(1.5), jnp.array(0.0))
    ys = jax.jit(
        lambda y: ode.odeint(pendulum, y, ts, solver=solver, adjoint=ode.DirectAdjoint(), dt0=0.1)
    )(y0)
    err = np.abs(np.asarray(pendulum_energy(ys) - pendulum_energy(y0)))
    bound = 2e-2 if isinstance(solver, ode.Leapfrog) else 2e-4
    assert err.max() < bound
    # no drift: the late errors are no larger than the early ones (up to the oscillation)
    assert err[100:].max() < 1.5 * err[:100].max() + 1e-12


def test_energy_drift_bounded_kepler():
    # eccentric (e = 0.5) Kepler orbit, period 2 pi; 100 periods with Yoshida4.
    e = 0.5
    y0 = (jnp.array([1 - e, 0.0]), jnp.array([0.0, np.sqrt((1 + e) / (1 - e))]))
    ts = jnp.linspace(0.0, 200 * np.pi, 101)
    ys = jax.jit(
        lambda y: ode.odeint(
            kepler, y, ts, solver=ode.Yoshida4(), adjoint=ode.DirectAdjoint(), dt0=0.01
        )
    )(y0)
    err = np.abs(np.asarray(kepler_energy(ys) - kepler_energy(y0)))
    assert err.max() < 1e-5
    assert err[50:].max() < 2 * err[:50].max() + 1e-12


def test_reversible_heun_matches_diffrax_solution_and_gradient():
    w = jnp.array([[0.3, -1.1, 0.2], [0.9, 0.1, -0.4], [-0.5, 0.6, -0.2]])

    def f(t, y, args):
        return jnp.tanh(args @ y) + 0.1 * jnp.sin(t)

    y0 = jnp.array([0.5, -0.3, 0.8])
    ts = jnp.array([0.0, 0.4, 1.0, 1.3])
    n = 10
    grid = jnp.concatenate(
        [jnp.linspace(a, b, n + 1)[:-1] for a, b in zip(ts[:-1], ts[1:], strict=True)] + [ts[-1:]]
    )

    def ours(args, adjoint):
        ys = ode.odeint(
            f, y0, ts, args, solver=ode.ReversibleHeun(), adjoint=adjoint, steps_per_save=n
        )
        return jnp.sum(jnp.sin(ys))

    def theirs(args):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(f),
            diffrax.ReversibleHeun(),
            t0=ts[0],
            t1=ts[-1],
            dt0=None,
            y0=y0,
            args=args,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.StepTo(grid),
            adjoint=diffrax.RecursiveCheckpointAdjoint(),
        )
        return jnp.sum(jnp.sin(sol.ys))

    ref_value, ref_grad = jax.jit(jax.value_and_grad(theirs))(w)
    for adjoint in [ode.ReversibleAdjoint(), ode.DirectAdjoint()]:
        value, grad = jax.jit(jax.value_and_grad(ours), static_argnums=1)(w, adjoint)
        np.testing.assert_allclose(value, ref_value, rtol=1e-13)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)
