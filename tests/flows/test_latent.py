"""The latent-space effective energy of a flow: E_eff(z) = beta E(g(z)) - ln|det dg/dz|.

References come from outside the code under test: a hand-written reversible Heun loop (Kidger,
Foster, Li, Lyons, arXiv:2105.13493, section 3) differentiated with `jax.jacfwd` for the
change of variables, and Gaussian integrals in closed form for the normalization and moments.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import diffsci.flows as df
from diffsci.testing import check_grads


def _deformed_flow(dim, scale, steps, seed=0):
    """An untrained flow made strongly nonlinear by scaling up the hidden-unit amplitudes."""
    pot = df.OneLayerPotential(dim, 8, key=jr.key(seed))
    pot = eqx.tree_at(lambda p: p.a, pot, scale * pot.a)
    return df.MongeAmpereFlow(dim, pot, steps=steps)


def _heun_map(potential, z, t_final, steps):
    """Reversible Heun by hand: y' = 2y - y^ + h f(y^), y+ = y + h/2 (f(y^) + f(y'^))."""

    def f(t, x):
        return jax.grad(lambda y: potential(y, t))(x)

    h = t_final / steps
    y, yhat, vf = z, z, f(0.0, z)
    for n in range(steps):
        yhat_new = 2 * y - yhat + h * vf
        vf_new = f((n + 1) * h, yhat_new)
        y = y + 0.5 * h * (vf + vf_new)
        yhat, vf = yhat_new, vf_new
    return y


def _gaussian(dim, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(dim, dim))
    cov = a @ a.T / dim + 0.5 * np.eye(dim)
    mu = rng.normal(size=dim)
    prec = jnp.asarray(np.linalg.inv(cov))

    def energy(x):
        d = x - mu
        return 0.5 * d @ (prec @ d)

    ln_z = 0.5 * dim * math.log(2 * math.pi) + 0.5 * np.linalg.slogdet(cov)[1]
    return energy, mu, cov, ln_z


@pytest.mark.parametrize("dim", [2, 3])
def test_effective_energy_is_the_change_of_variables(dim):
    flow = _deformed_flow(dim, 60.0, steps=5, seed=dim)
    energy, *_ = _gaussian(dim, seed=dim)
    beta = 0.7
    le = df.latent_energy(flow, energy, beta)
    zs = jr.normal(jr.key(1), (4, dim))

    def reference(z):
        def g(y):
            return _heun_map(flow.potential, y, flow.t_final, flow.steps)

        det = jnp.linalg.det(jax.jacfwd(g)(z))
        return g(z), det, beta * energy(g(z)) - jnp.log(det)

    def tested(z):
        x, log_det = le.transform_and_log_det(z)
        return x, log_det, le(z), le.transform(z)

    x_ref, det, e_ref = jax.jit(jax.vmap(reference))(zs)
    x, log_det, e, x_alone = jax.jit(jax.vmap(tested))(zs)
    assert jnp.all(det > 0)
    np.testing.assert_allclose(x, x_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x_alone, x_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(log_det, jnp.log(det), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(e, e_ref, rtol=1e-11, atol=1e-12)
    # the deformation is large, so the check is not one of the identity map
    assert float(jnp.max(jnp.abs(jnp.log(det)))) > 0.2
    np.testing.assert_allclose(le.transform(zs), x_ref, rtol=1e-12, atol=1e-12)


def test_integrated_log_det_is_second_order_in_the_step():
    """The continuous flow's log-determinant, integrated by reversible Heun, misses the discrete
    map's by O(h^2): halving h divides the gap by about 4 (order 2 of the scheme)."""
    dim = 2
    z = jnp.array([0.7, -0.4])
    gaps = []
    for steps in (4, 8, 16):
        flow = _deformed_flow(dim, 60.0, steps=steps)

        @jax.jit
        def both(z, flow=flow, steps=steps):
            def g(y):
                return _heun_map(flow.potential, y, flow.t_final, steps)

            x, integrated = df.IntegratedLogDet()(flow, z)
            return x, integrated, g(z), jnp.log(jnp.linalg.det(jax.jacfwd(g)(z)))

        x, integrated, x_ref, exact = both(z)
        np.testing.assert_allclose(x, x_ref, rtol=1e-12, atol=1e-12)
        gaps.append(float(integrated - exact))
    assert abs(gaps[0]) > 1e-4
    for coarse, fine in zip(gaps, gaps[1:], strict=False):
        assert 3.0 < coarse / fine < 5.0


def _grid(half_width, n, dim=2):
    g = np.linspace(-half_width, half_width, n)
    pts = np.stack(np.meshgrid(*([g] * dim), indexing="ij"), -1).reshape(-1, dim)
    return jnp.asarray(pts), (g[1] - g[0]) ** dim


def test_pullback_is_normalized_and_has_the_target_moments():
    """exp(-E_eff) integrates to Z of exp(-E) in closed form, and pushes forward to the target's
    mean and covariance, for a strongly deformed untrained flow: the map is a bijection and the
    log-determinant is that of the map. The integrated log-determinant is off at O(h^2)."""
    energy, mu, cov, ln_z = _gaussian(2, seed=5)
    zs, cell = _grid(12.0, 241)  # the pulled-back density is < 1e-20 on the grid's edge

    def quadrature(le):
        e, x = jax.jit(jax.vmap(lambda z: (le(z), le.transform(z))))(zs)
        w = jnp.exp(-e)
        mean = jnp.sum(w[:, None] * x, 0) / jnp.sum(w)
        d = x - mean[None, :]
        c = jnp.einsum("n,ni,nj->ij", w, d, d) / jnp.sum(w)
        return float(jnp.log(jnp.sum(w) * cell)), np.asarray(mean), np.asarray(c)

    flow = _deformed_flow(2, 100.0, steps=4)
    ln_zq, mean, c = quadrature(df.latent_energy(flow, energy))
    assert abs(ln_zq - ln_z) < 1e-9
    np.testing.assert_allclose(mean, mu, atol=1e-9)
    np.testing.assert_allclose(c, cov, atol=1e-9)
    # the flow is far from the identity: omitting the log-determinant is badly wrong
    x = jax.jit(lambda z: df.latent_energy(flow, energy).transform(z))(zs)
    wrong = jnp.exp(-jax.vmap(energy)(x))
    assert abs(float(jnp.log(jnp.sum(wrong) * cell)) - ln_z) > 0.1
    biases = []
    for steps in (4, 8):
        le = df.latent_energy(
            _deformed_flow(2, 100.0, steps=steps), energy, log_det=df.IntegratedLogDet()
        )
        biases.append(quadrature(le)[0] - ln_z)
    assert abs(biases[0]) > 1e-4
    assert 3.0 < biases[0] / biases[1] < 5.0


def test_folded_map_gives_infinite_energy():
    """Too few steps for a steep potential: the discrete map folds (det <= 0) and those points
    get E_eff = +inf instead of a finite value from a wrong-signed Jacobian."""
    flow = _deformed_flow(2, 300.0, steps=1)
    le = df.latent_energy(flow, lambda x: 0.5 * x @ x)
    zs = jr.normal(jr.key(3), (400, 2))
    dets = jax.jit(
        jax.vmap(
            lambda z: jnp.linalg.det(
                jax.jacfwd(lambda y: _heun_map(flow.potential, y, flow.t_final, 1))(z)
            )
        )
    )(zs)
    e = jax.jit(jax.vmap(le))(zs)
    assert jnp.any(dets <= 0) and jnp.any(dets > 0)
    assert jnp.all(jnp.isposinf(e) == (dets <= 0))


def test_gradient_of_the_effective_energy():
    """The force of latent HMC: autodiff through the Jacobian log-determinant of the solve."""
    flow = _deformed_flow(2, 60.0, steps=2)
    energy, *_ = _gaussian(2, seed=2)
    z = jnp.array([0.3, -0.8])
    for log_det in (df.JacobianLogDet(), df.IntegratedLogDet()):
        le = df.latent_energy(flow, energy, 1.3, log_det=log_det)
        # jitted once, so that the finite-difference evaluations do not run op by op
        check_grads(jax.jit(lambda z, le=le: le(z)), z, order=1, modes=("fwd", "rev"), vmap=False)


def test_bad_input():
    flow = _deformed_flow(2, 1.0, steps=2)
    le = df.latent_energy(flow, lambda x: x @ x)
    with pytest.raises(ValueError, match=r"expected z of shape \(2,\), got \(3,\)"):
        le(jnp.zeros(3))
    # integer points are promoted to floats (the house rule, as jnp.linalg does)
    np.testing.assert_array_equal(le(jnp.zeros(2, jnp.int32)), le(jnp.zeros(2)))
    with pytest.raises(TypeError, match="`z` to have dtype float32 or float64"):
        le(jnp.zeros(2, jnp.float16))
    with pytest.raises(TypeError, match="expected a MongeAmpereFlow"):
        df.latent_energy(flow.potential, lambda x: x @ x)
    with pytest.raises(TypeError, match="log_det must be an AbstractLogDet"):
        df.latent_energy(flow, lambda x: x @ x, log_det="jacobian")
    with pytest.raises(ValueError, match="beta must be a real scalar"):
        df.latent_energy(flow, lambda x: x @ x, jnp.ones(2))
    noisy = df.MongeAmpereFlow(2, flow.potential, divergence=df.Hutchinson(), steps=2)
    with pytest.raises(ValueError, match="Hutchinson is stochastic"):
        df.latent_energy(noisy, lambda x: x @ x, log_det=df.IntegratedLogDet())(jnp.zeros(2))
