"""Divergence strategies: closed forms and autodiff against jax.hessian, Hutchinson unbiased."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from diffsci.flows import (
    ExactLaplacian,
    Hutchinson,
    LatticeConvPotential,
    OneLayerPotential,
    PermutationInvariantPotential,
    SpinFlipSymmetric,
)


@eqx.filter_jit
def hessian_trace(pot, x, t):
    return jnp.trace(jax.hessian(pot)(x, t))


@eqx.filter_jit
def autodiff_grad(pot, x, t):
    return jax.grad(pot)(x, t)


@eqx.filter_jit
def closed_form(pot, x, t):
    return pot.grad_and_laplacian(x, t)


@eqx.filter_jit
def exact(pot, x, t):
    return ExactLaplacian()(pot, x, t)


def strong(pot, key):
    """Give the hidden layer O(1) weights (the initial ones are small on purpose)."""
    return eqx.tree_at(lambda p: p.a, pot, jr.normal(key, pot.a.shape))


@pytest.mark.parametrize("activation", ["softplus", "tanh", "logcosh"])
def test_one_layer_closed_form_equals_hessian_trace(activation):
    dim = 4
    pot = strong(OneLayerPotential(dim, 5, activation=activation, key=jr.PRNGKey(0)), jr.PRNGKey(1))
    pot = eqx.tree_at(lambda p: (p.q, p.lin), pot, (jnp.arange(dim) * 0.1, jnp.ones(dim)))
    x, t = jr.normal(jr.PRNGKey(2), (dim,)), 0.3
    grad, lap = closed_form(pot, x, t)
    np.testing.assert_allclose(grad, autodiff_grad(pot, x, t), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lap, hessian_trace(pot, x, t), rtol=1e-12)
    # ExactLaplacian picks the closed form; the autodiff route gives the same number
    np.testing.assert_allclose(exact(pot, x, t)[1], lap, rtol=1e-12)


def test_wrapped_and_lattice_closed_forms():
    x, t = jr.normal(jr.PRNGKey(3), (9,)), 0.7
    pots = [
        SpinFlipSymmetric(strong(OneLayerPotential(9, 4, key=jr.PRNGKey(4)), jr.PRNGKey(5))),
        strong(LatticeConvPotential((3, 3), 2, 3, key=jr.PRNGKey(6)), jr.PRNGKey(7)),
        strong(
            LatticeConvPotential(
                (3, 3), 2, 3, activation="tanh", rotations=True, key=jr.PRNGKey(8)
            ),
            jr.PRNGKey(9),
        ),
    ]
    for pot in pots:
        assert pot.has_analytic_laplacian
        grad, lap = closed_form(pot, x, t)
        np.testing.assert_allclose(grad, autodiff_grad(pot, x, t), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(lap, hessian_trace(pot, x, t), rtol=1e-11)


def test_autodiff_laplacian_equals_hessian_trace():
    pot = PermutationInvariantPotential(3, 2, 6, key=jr.PRNGKey(0))
    assert not pot.has_analytic_laplacian
    x, t = jr.normal(jr.PRNGKey(1), (6,)), 0.4
    grad, lap = exact(pot, x, t)
    np.testing.assert_allclose(grad, autodiff_grad(pot, x, t), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lap, hessian_trace(pot, x, t), rtol=1e-12)
    # a plain function works too
    fn = lambda x, t: jnp.sum(jnp.sin(x) * x) * (1 + t)  # noqa: E731
    np.testing.assert_allclose(exact(fn, x, t)[1], hessian_trace(fn, x, t), rtol=1e-12)


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_hutchinson_unbiased(probe):
    r"""The mean of P = 20000 single-probe estimates agrees with the exact Laplacian within 5
    standard errors, the standard error coming from the exact variance of one probe:
    2 (|H|_F^2 - sum_i H_ii^2) for Rademacher, 2 |H|_F^2 for Gaussian probes. (A fixed key makes
    the test deterministic; 5 sigma is a false-alarm rate of 6e-7 for a Gaussian mean.)"""
    dim, num = 5, 20000
    pot = strong(OneLayerPotential(dim, 6, key=jr.PRNGKey(0)), jr.PRNGKey(1))
    x, t = jr.normal(jr.PRNGKey(2), (dim,)), 0.5
    hess = jax.jit(jax.hessian(pot))(x, t)
    exact = jnp.trace(hess)
    frob = jnp.sum(hess**2)
    var1 = 2 * (frob - jnp.sum(jnp.diag(hess) ** 2)) if probe == "rademacher" else 2 * frob
    est = Hutchinson(probe=probe, n_probes=num)
    probes = est.probes(jr.PRNGKey(3), 1, dim, x.dtype)[0]
    grad, lap = eqx.filter_jit(est)(pot, x, t, probes)
    np.testing.assert_allclose(grad, autodiff_grad(pot, x, t), rtol=1e-12)
    assert abs(float(lap - exact)) < 5 * float(jnp.sqrt(var1 / num)), (lap, exact)
    # and the sample variance of single-probe estimates matches the formula (to 10%)
    single = jax.jit(jax.vmap(lambda e: est(pot, x, t, e[None])))(probes)[1]
    np.testing.assert_allclose(jnp.var(single), var1, rtol=0.1)


def test_hutchinson_arguments():
    with pytest.raises(ValueError, match="probe"):
        Hutchinson(probe="sphere")
    with pytest.raises(ValueError, match="n_probes"):
        Hutchinson(n_probes=0)
