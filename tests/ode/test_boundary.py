"""odeint at the boundary with a user's code: refusals, traced times, dtype promotion."""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.ode import (
    DirectAdjoint,
    Leapfrog,
    RecursiveCheckpointAdjoint,
    ReversibleAdjoint,
    Yoshida4,
    odeint,
)


def decay(t, y, a):
    return -a * y + jnp.sin(t)


def test_non_monotonic_ts_refused():
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        odeint(decay, jnp.ones(2), np.array([0.0, 1.0, 0.5]), 0.7, dt0=0.1)
    with pytest.raises(ValueError, match="strictly increasing"):
        odeint(decay, jnp.ones(2), np.array([0.0, 1.0, 1.0]), 0.7, dt0=0.1)


def test_non_monotonic_traced_ts_refused_at_run_time():
    def f(ts):
        return odeint(decay, jnp.ones(2), ts, 0.7, steps_per_save=2)

    with pytest.raises(Exception, match="strictly increasing"):
        jax.block_until_ready(eqx.filter_jit(f)(jnp.array([0.0, 1.0, 0.5])))


@pytest.mark.parametrize("solver", [Leapfrog(), Yoshida4()])
def test_non_separable_field_refused(solver):
    def coupled(t, y, a):
        q, p = y
        return p * q, -q  # dq/dt depends on q

    q0 = (jnp.ones(2), jnp.ones(2))
    with pytest.raises(ValueError, match="separable"):
        odeint(coupled, q0, np.array([0.0, 1.0]), None, dt0=0.1, solver=solver)

    def p_in_force(t, y, a):
        q, p = y
        return p, -q - 0.1 * p  # dp/dt depends on p (damping)

    with pytest.raises(ValueError, match="separable"):
        odeint(p_in_force, q0, np.array([0.0, 1.0]), None, dt0=0.1, solver=solver)

    def separable(t, y, a):
        q, p = y
        return p / 2.0, -jnp.sin(q)

    ys = odeint(separable, q0, np.array([0.0, 1.0]), None, dt0=0.1, solver=solver)
    assert np.all(np.isfinite(ys[0]))


def test_traced_ts_needs_max_steps():
    def f(T):
        return odeint(decay, jnp.ones(2), jnp.linspace(0.0, T, 3), 0.7, dt0=0.1)

    with pytest.raises(ValueError, match="max_steps"):
        jax.jit(f)(1.0)


def test_traced_ts_max_steps_too_small_raises():
    def f(T):
        return odeint(decay, jnp.ones(2), jnp.linspace(0.0, T, 3), 0.7, dt0=0.01, max_steps=10)

    with pytest.raises(Exception, match="increase max_steps"):
        jax.block_until_ready(eqx.filter_jit(f)(1.0))


def test_traced_ts_refused_by_diffrax_adjoints():
    def f(T):
        return odeint(
            decay,
            jnp.ones(2),
            jnp.linspace(0.0, T, 3),
            0.7,
            dt0=0.1,
            max_steps=40,
            adjoint=RecursiveCheckpointAdjoint(),
        )

    with pytest.raises(ValueError, match=re.escape("steps_per_save")):
        jax.jit(f)(1.0)


@pytest.mark.parametrize("adjoint", [ReversibleAdjoint(), DirectAdjoint()])
def test_traced_ts_equals_concrete_ts(adjoint):
    """The same steps as with concrete `ts` (dt0 = 0.1 over intervals of 0.65: 7 steps), and
    the end-time derivative against central differences of the concrete solve."""
    T = 1.3

    def traced(T):
        return odeint(
            decay, jnp.ones(2), jnp.linspace(0.0, T, 3), 0.7, dt0=0.1, max_steps=30, adjoint=adjoint
        )

    concrete = odeint(decay, jnp.ones(2), np.linspace(0.0, T, 3), 0.7, dt0=0.1)
    # equal to rounding (jnp.linspace and np.linspace may differ in the last bit); another
    # step count would differ at the 1e-3 level
    np.testing.assert_allclose(jax.jit(traced)(T), concrete, rtol=1e-14, atol=0)
    loss = lambda T: jnp.sum(traced(T) ** 2)
    concrete_loss = lambda T: float(
        jnp.sum(odeint(decay, jnp.ones(2), np.linspace(0.0, T, 3), 0.7, dt0=0.1) ** 2)
    )
    h = 1e-6  # small enough that the step count (7) does not change
    fd = (concrete_loss(T + h) - concrete_loss(T - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(loss)(T), fd, rtol=1e-7)


def test_float32_state_stays_float32_with_float64_constant():
    c = np.float64(0.5)
    ys = odeint(lambda t, y, a: -c * y, jnp.ones(2, jnp.float32), np.array([0.0, 1.0]), dt0=0.1)
    assert ys.dtype == jnp.float32
    np.testing.assert_allclose(ys[-1], np.exp(-0.5), rtol=1e-3)


def test_wrong_field_output_named():
    with pytest.raises(ValueError, match="`f` must return arrays shaped like the state"):
        odeint(lambda t, y, a: jnp.ones(3), jnp.ones(2), np.array([0.0, 1.0]), dt0=0.1)
    with pytest.raises(TypeError, match="complex"):
        odeint(lambda t, y, a: 1j * y, jnp.ones(2), np.array([0.0, 1.0]), dt0=0.1)
