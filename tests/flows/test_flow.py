"""MongeAmpereFlow: log-densities against a brute-force change of variables, consistency of
sampling and density evaluation, an exactly representable Gaussian target, and gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffsci.flows import (
    ExactLaplacian,
    MongeAmpereFlow,
    OneLayerPotential,
    standard_normal_log_prob,
)
from diffsci.ode import DirectAdjoint, ReversibleHeun, ReversibleRK4, odeint
from diffsci.testing import check_grads
from diffsci.testing import strategies as dst
from diffsci.utils import variational_free_energy, variational_objective

BRUTE_STEPS = 100  # RK4 with h = 1/100 in the reference: error ~1e-9, far below the tolerances


def random_one_layer(seed, dim, width=6):
    """A OneLayerPotential with O(1) weights, so that the flow moves points substantially."""
    k0, k1, k2, k3 = jr.split(jr.PRNGKey(seed), 4)
    pot = OneLayerPotential(dim, width, key=k0)
    return eqx.tree_at(
        lambda p: (p.a, p.q, p.lin),
        pot,
        (jr.normal(k1, (width,)), 0.3 * jr.normal(k2, (dim,)), 0.3 * jr.normal(k3, (dim,))),
    )


class MLPPotential(eqx.Module):
    """A user potential: any equinox module phi(x, t) -> scalar (no closed-form Laplacian)."""

    mlp: eqx.nn.MLP

    def __init__(self, dim, key):
        self.mlp = eqx.nn.MLP(dim + 1, "scalar", 8, 2, activation=jnp.tanh, key=key)

    def __call__(self, x, t):
        return self.mlp(jnp.append(x, t))


@eqx.filter_jit
def brute_force_log_prob(potential, x):
    r"""ln q(x) = ln N(z) + ln|det dz/dx|, z = x(0) of the backward ODE dx/dt = grad phi, with the
    Jacobian from jax.jacfwd through a store-every-step (DirectAdjoint) RK4 solve."""

    def back(xi):
        def f(t, y, args):
            return jax.grad(potential)(y, t)

        return odeint(
            f,
            xi,
            jnp.array([1.0, 0.0]),
            solver=ReversibleRK4(coupling=1.0),
            adjoint=DirectAdjoint(),
            steps_per_save=BRUTE_STEPS,
        )[-1]

    def one(xi):
        return standard_normal_log_prob(back(xi)) + jnp.linalg.slogdet(jax.jacfwd(back)(xi))[1]

    return jax.vmap(one)(x)


@eqx.filter_jit
def flow_log_prob(flow, x):
    return flow.log_prob(x)


def assert_matches_brute_force(pot, dim, x, steps=16):
    """The flow's ln q at 2n RK4 steps against the brute force, within a Richardson error bound.

    The flow's error at n steps is C h^4 (ReversibleRK4, 4th order), so
    |lq(n) - lq(2n)| ~ 15 |lq(2n) - exact|: asserting |lq(2n) - brute force| <= |lq(n) - lq(2n)|
    + 1e-9 leaves a factor ~15 of slack over the expected error (the brute force's own error,
    h = 1/100, is ~100 times smaller still), and adapts to how hard each random potential is.
    """
    lq = [
        flow_log_prob(MongeAmpereFlow(dim, pot, steps=n, solver=ReversibleRK4()), x)
        for n in (steps, 2 * steps)
    ]
    tol = jnp.abs(lq[0] - lq[1]) + 1e-9
    err = jnp.abs(lq[1] - brute_force_log_prob(pot, x))
    assert bool(jnp.all(err <= tol)), (err, tol)


@settings(max_examples=4)
@given(seed=dst.seeds(), dim=st.sampled_from([2, 3]), x=dst.arrays((4, 3)))
def test_log_prob_matches_change_of_variables(seed, dim, x):
    pot = random_one_layer(seed % 2**31, dim)
    assert_matches_brute_force(pot, dim, jnp.asarray(x[:, :dim]))


def test_user_potential_matches_change_of_variables():
    dim = 3
    pot = MLPPotential(dim, jr.PRNGKey(7))
    assert_matches_brute_force(pot, dim, jr.normal(jr.PRNGKey(8), (3, dim)))


def test_sample_log_prob_matches_change_of_variables():
    # the density attached to samples also equals the change of variables at the sample
    dim = 2
    pot = random_one_layer(3, dim)
    flow = MongeAmpereFlow(dim, pot, steps=32, solver=ReversibleRK4())
    x, log_q = flow.sample_and_log_prob(jr.PRNGKey(0), 4)
    coarse = MongeAmpereFlow(dim, pot, steps=16, solver=ReversibleRK4())
    tol = jnp.abs(coarse.sample_and_log_prob(jr.PRNGKey(0), 4)[1] - log_q) + 1e-9
    assert bool(jnp.all(jnp.abs(log_q - brute_force_log_prob(pot, x)) <= tol))


def test_sample_then_log_prob_consistent():
    """log_prob of the flow's own samples returns their log_q up to the integrator's error.

    The backward solve re-initializes the reversible solver's auxiliary state, so the two are
    two discretizations of one flow and differ by the global error of the scheme, not by
    rounding. Measured for ReversibleHeun on this potential: ~3e-8 at 20 steps, ~2e-9 at 40 (the
    round trip of this symmetric scheme cancels the leading h^2 term, so it converges at 4th
    order). We assert the discrepancy is below 1e-6 and shrinks at least like h^2 (a factor
    >= 4 when the steps double), i.e. that it is integration error and not a bug.
    """
    dim = 3
    pot = random_one_layer(11, dim)
    errors = []
    for steps in (20, 40):
        flow = MongeAmpereFlow(dim, pot, steps=steps, solver=ReversibleHeun())
        x, log_q = flow.sample_and_log_prob(jr.PRNGKey(1), 8)
        errors.append(float(jnp.max(jnp.abs(flow.log_prob(x) - log_q))))
    assert errors[0] < 1e-6, errors
    assert errors[1] < errors[0] / 4, errors


def gaussian_flow(dim, s, steps=32):
    """phi = 0.5 q |x|^2 with q = ln(s)/T maps N(0, I) exactly to N(0, s^2 I)."""
    pot = OneLayerPotential(dim, 4, key=jr.PRNGKey(0))
    pot = eqx.tree_at(lambda p: (p.a, p.q), pot, (jnp.zeros(4), jnp.full((dim,), np.log(s))))
    return MongeAmpereFlow(dim, pot, steps=steps, solver=ReversibleRK4(coupling=1.0))


def test_gaussian_free_energy_exact():
    r"""Target E = |x|^2 / (2 s^2 T0) at temperature T0: Z = (2 pi s^2 T0)^(D/2) exactly.

    With the exact flow, beta E + ln q is the same constant -ln Z for every sample, so F_q and the
    importance estimate both equal F and the error bar vanishes. The remaining error is RK4's on
    x' = q x (relative (qh)^5 / 120 per step, ~1e-10 here).
    """
    dim, temp = 3, 0.5
    s_model = 1.7  # the flow's N(0, s_model^2 I) must equal the target N(0, s^2 T0 I)
    s = s_model / np.sqrt(temp)
    flow = gaussian_flow(dim, s_model)
    x, log_q = eqx.filter_jit(flow.sample_and_log_prob)(jr.PRNGKey(2), 256)
    energies = jnp.sum(x**2, axis=1) / (2 * s**2)
    exact_f = -temp * 0.5 * dim * np.log(2 * np.pi * s**2 * temp)
    est = variational_free_energy(energies, log_q, 1 / temp)
    np.testing.assert_allclose(est.variational, exact_f, rtol=1e-8)
    np.testing.assert_allclose(est.importance, exact_f, rtol=1e-8)
    assert float(est.variational_error) < 1e-8
    np.testing.assert_allclose(est.ess, 256, rtol=1e-6)
    # and the density of data from the target is the target density
    data = s_model * jr.normal(jr.PRNGKey(3), (5, dim))
    exact_lp = standard_normal_log_prob(data / s_model) - dim * np.log(s_model)
    np.testing.assert_allclose(flow_log_prob(flow, data), exact_lp, rtol=0, atol=1e-8)


def test_free_energy_gradient_against_finite_differences():
    """The reparameterized F_q through the reversible adjoint has the finite-difference gradient
    (key fixed, so F_q is a deterministic function of the parameters)."""
    dim = 2
    pot = random_one_layer(5, dim, width=3)
    params, static = eqx.partition(pot, eqx.is_inexact_array)

    @jax.jit
    def objective(params):
        flow = MongeAmpereFlow(dim, eqx.combine(params, static), steps=6)
        x, log_q = flow.sample_and_log_prob(jr.PRNGKey(0), 4)
        energies = jnp.sum((x - 1.0) ** 2, axis=1) + 0.1 * jnp.sum(x**4, axis=1)
        return variational_objective(energies, log_q, 1.0)

    # reverse-only (the reversible adjoint): the checker finds that out by itself
    assert check_grads(objective, params, vmap=False).modes == ("rev",)


def test_reversible_adjoint_equals_direct():
    # O(1)-memory gradient equals the store-every-step gradient
    dim = 2
    pot = random_one_layer(9, dim, width=4)
    params, static = eqx.partition(pot, eqx.is_inexact_array)

    def objective(params, adjoint):
        flow = MongeAmpereFlow(dim, eqx.combine(params, static), steps=8, adjoint=adjoint)
        x, log_q = flow.sample_and_log_prob(jr.PRNGKey(0), 8)
        return variational_objective(jnp.sum(x**2, axis=1), log_q, 1.0)

    from diffsci.ode import ReversibleAdjoint

    g1 = jax.jit(jax.grad(objective), static_argnums=1)(params, ReversibleAdjoint())
    g2 = jax.jit(jax.grad(objective), static_argnums=1)(params, DirectAdjoint())
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="potential"):
        MongeAmpereFlow(2)
    with pytest.raises(TypeError, match="AbstractDivergence"):
        MongeAmpereFlow(2, key=jr.PRNGKey(0), divergence="exact")
    flow = MongeAmpereFlow(2, key=jr.PRNGKey(0), divergence=ExactLaplacian())
    with pytest.raises(ValueError, match="shape"):
        flow.log_prob(jnp.zeros((3, 4)))
