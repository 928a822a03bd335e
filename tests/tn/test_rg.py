"""TRG and HOTRG against Onsager's exact solution, Yang's magnetization, Potts duality, and
finite differences of the same network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.tn as tn
from diffsci.physics._studies import _sweep_point
from diffsci.testing import check_grads

from . import onsager

# Away from T_c (where C diverges) and on both sides of it, plus the far ends.
BETAS = (0.05, 0.2, 0.35, 0.42, onsager.BETA_C, 0.46, 0.5, 0.6, 0.9)


# ln Z, u and C at one beta in one forward-over-reverse pass: the `ising` command's own point
# function, compiled once per setting
def _one_point(method, chi, steps):
    return _sweep_point(chi, method, steps)


def _thermodynamics(method, chi, steps=30):
    """(ln Z/N, u, C) as functions of a sequence of betas, jitted once per (method, chi)."""
    one = _one_point(method, chi, steps)

    def run(betas):
        rows = [one(jnp.asarray(b)) for b in betas]
        return tuple(jnp.stack(column) for column in zip(*rows, strict=True))

    return run


@pytest.mark.parametrize(
    "method,bound",
    # The accuracies measured with a plain JAX TRG/HOTRG in the issue (diffsci issue 6), chi=16.
    [("trg", 4.6e-6), ("hotrg", 5.6e-7)],
)
def test_log_z_at_critical_point(method, bound):
    got = jax.jit(lambda b: tn.ising_log_z(b, chi=16, method=method))(onsager.BETA_C)
    assert abs(float(got) - onsager.log_z(onsager.BETA_C)) < bound


def test_hotrg_thermodynamics_against_onsager():
    log_z, u, c = _thermodynamics("hotrg", 8)(BETAS)
    for i, beta in enumerate(BETAS):
        np.testing.assert_allclose(log_z[i], onsager.log_z(beta), atol=2e-5, rtol=0)
        np.testing.assert_allclose(u[i], onsager.energy(beta), atol=1e-3, rtol=0)
        if beta != onsager.BETA_C:
            np.testing.assert_allclose(c[i], onsager.specific_heat(beta), rtol=3e-3)
    # u(T_c) = -sqrt(2), the energy at the self-dual point.
    np.testing.assert_allclose(u[BETAS.index(onsager.BETA_C)], -np.sqrt(2), atol=1e-3)


def test_trg_energy_against_onsager():
    for beta in (0.3, 0.6):
        value, slope = jax.jit(
            jax.value_and_grad(lambda b: tn.ising_log_z(b, chi=8, method="trg"))
        )(beta)
        np.testing.assert_allclose(value, onsager.log_z(beta), atol=2e-5, rtol=0)
        np.testing.assert_allclose(-slope, onsager.energy(beta), atol=5e-4, rtol=0)


def test_trg_specific_heat():
    _, _, c = _thermodynamics("trg", 8)((0.3,))
    np.testing.assert_allclose(c[0], onsager.specific_heat(0.3), rtol=1e-2)


@pytest.mark.parametrize("method", ["trg", "hotrg"])
def test_no_nan_at_any_temperature(method):
    # Infinite temperature, the antiferromagnet, T_c, and deep in the ordered phase.
    betas = (-0.5, 0.0, 1e-4, onsager.BETA_C, 3.0, 10.0)
    out = _thermodynamics(method, 4, 20)(betas)
    for values in out:
        assert bool(jnp.all(jnp.isfinite(values))), (method, values)
    log_z, u, _ = out
    # High-temperature limit: ln Z/N -> ln 2 + 2 ln cosh(beta) + O(beta^8), u -> -2 tanh(beta).
    np.testing.assert_allclose(log_z[1], np.log(2.0), rtol=1e-12)
    np.testing.assert_allclose(u[2], -2 * np.tanh(1e-4), rtol=1e-6)
    # Ground state: ln Z/N -> 2 beta, u -> -2.
    np.testing.assert_allclose(u[-1], -2.0, rtol=1e-10)


@pytest.mark.parametrize("method", ["trg", "hotrg"])
def test_derivatives_match_finite_differences_of_the_network(method):
    # Near T_c, where the singular values are degenerate by symmetry and the truncation bites;
    # forward, reverse and second order against Richardson finite differences in float64.
    def f(beta, h):
        return tn.ising_log_z(beta, h, chi=4, method=method, steps=8)

    # f is compiled once (jit=False: check_grads calls the compiled f as it is, its JVP, VJP
    # and second derivatives included, instead of compiling its own copy); the point is
    # float64, not Python floats, whose weak type made the point and the finite-difference
    # steps x + t v two compilations.
    x = (np.float64(0.44), np.float64(0.01))
    compiled = jax.jit(f)
    check_grads(compiled, *x, order=2, modes=("fwd", "rev"), vmap=False, jit=False)
    # jit against op-by-op evaluation: ln Z and its reverse-mode gradient (check_grads with
    # jit=True compared values, JVP and VJP; the forward rules of the eigh and SVD primitives
    # are compared with op-by-op evaluation in tests/linalg/test_eigh.py and test_svd.py, and
    # the steps past the first run in lax.scan, compiled either way). Tolerance: check_grads'
    # transform_rtol, sqrt(eps), relative to the largest entry.
    eager = jnp.stack(jax.tree.leaves(jax.value_and_grad(f, (0, 1))(*x)))
    jitted = jnp.stack(jax.tree.leaves(jax.value_and_grad(compiled, (0, 1))(*x)))
    tol = np.sqrt(np.finfo(np.float64).eps) * float(jnp.max(jnp.abs(jitted)))
    np.testing.assert_allclose(eager, jitted, rtol=0, atol=tol)


def test_magnetization_below_tc_is_yangs():
    beta = 0.6

    def m(h):
        return jax.grad(lambda h: tn.ising_log_z(beta, h, chi=8))(h) / beta

    mag = jax.jit(m)(1e-8)
    np.testing.assert_allclose(mag, onsager.spontaneous_magnetization(beta), rtol=2e-5)
    # Susceptibility (1/beta) d^2 lnZ/dh^2 in a finite field: positive, equal to dm/dh by
    # central differences of the same network.
    h, d = 0.05, 1e-4
    chi_m = jax.jit(jax.grad(m))(h)
    fd = (jax.jit(m)(h + d) - jax.jit(m)(h - d)) / (2 * d)
    assert float(chi_m) > 0
    np.testing.assert_allclose(chi_m, fd, rtol=1e-5)


def test_potts_duality_and_critical_energy():
    # q-state Potts: Z(v) = q^(V-1) (v/q)^E Z*(q/v), v = e^beta - 1 (Fortuin-Kasteleyn expansion
    # and planar duality; Wu, Rev. Mod. Phys. 54, 235 (1982)). Per site of the square lattice:
    # ln z(beta) - ln z(beta*) = 2 ln v - ln q with (e^beta - 1)(e^beta* - 1) = q.
    q = 3

    def log_z(beta):
        return tn.hotrg(tn.potts_tensor(beta, q), chi=12, steps=30)

    beta = 0.8
    beta_dual = float(np.log1p(q / np.expm1(beta)))
    lhs = float(jax.jit(log_z)(beta) - jax.jit(log_z)(beta_dual))
    np.testing.assert_allclose(lhs, 2 * np.log(np.expm1(beta)) - np.log(q), atol=5e-6)


def test_potts_critical_energy():
    # At the self-dual point beta_c = ln(1 + sqrt q), differentiating the duality relation gives
    # u = -(1 + 1/sqrt q) per site (two bonds), valid where the transition is continuous (q <= 4).
    # chi = 12 cuts through S_3 doublets of the spectra, which the truncation drops (diffsci
    # issue 6: the plain cut gave u = -1.764, and u = -1.5e6 at chi = 14). The gradient is the
    # derivative of the truncated network (against its finite differences), and that network's
    # own truncation error at chi = 12 is 1.3e-2 (central differences of the plain network,
    # measured before the fix, gave the same u = -1.5643).
    q = 3
    beta_c = float(np.log1p(np.sqrt(q)))

    def log_z(b):
        return tn.hotrg(tn.potts_tensor(b, q), chi=12, steps=30)

    u = -jax.jit(jax.grad(log_z))(beta_c)
    value = jax.jit(log_z)
    d = 1e-5
    fd = -(value(beta_c + d) - value(beta_c - d)) / (2 * d)
    np.testing.assert_allclose(u, fd, rtol=1e-6)
    np.testing.assert_allclose(u, -(1 + 1 / np.sqrt(q)), atol=1.5e-2)
    info = tn.truncation_info(tn.potts_tensor(beta_c, q), 12, 30)
    assert int(jnp.max(info.dropped)) > 0  # the multiplet path is exercised


def test_checkpointing_changes_nothing():
    def f(beta, checkpoint):
        return tn.hotrg(tn.ising_tensor(beta, 0.1), chi=4, steps=10, checkpoint=checkpoint)

    a = jax.value_and_grad(f)(0.4, True)
    b = jax.value_and_grad(f)(0.4, False)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hessian_in_beta_and_field():
    # jax.hessian (forward over reverse) through the scan, the checkpoints and the eigh rule;
    # against central differences of the gradient of the same network.
    def f(x):
        return tn.ising_log_z(x[0], x[1], chi=4, steps=10)

    x = jnp.array([0.45, 0.02])
    hess = jax.jit(jax.hessian(f))(x)
    grad = jax.jit(jax.grad(f))
    d = 1e-5
    fd = jnp.stack([(grad(x + d * e) - grad(x - d * e)) / (2 * d) for e in jnp.eye(2)])
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10)
