"""funm, projector, band_energy, expmh, sqrtmh, logmh: values, first and second derivatives
at exact and near degeneracies, the regression cases of issue 3, and errors.

References: scipy.linalg (expm, expm_frechet, sqrtm, logm), numpy's LAPACK eigh, exact
perturbation-theory formulas from the prescribed eigendecomposition, and finite differences of
those.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from diffsci.linalg import band_energy, expmh, funm, logmh, projector, sqrtmh
from diffsci.testing import check_grads
from diffsci.testing.strategies import spd_matrices, spectra, symmetric_matrices

RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)
DEGENERATE = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0])


def _herm(a):
    return 0.5 * (a + jnp.conj(jnp.swapaxes(a, -1, -2)))


def _rotated(spectrum, seed=0, complex_=False):
    rng = np.random.default_rng(seed)
    n = len(spectrum)
    z = rng.normal(size=(n, n)) + (1j * rng.normal(size=(n, n)) if complex_ else 0)
    q, _ = np.linalg.qr(z)
    return q @ np.diag(spectrum) @ q.conj().T, q


def _sym(rng, n):
    e = rng.normal(size=(n, n))
    return e + e.T


# -- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_values_match_scipy(dtype):
    a, _ = _rotated(np.array([0.2, 0.5, 0.5, 1.3]), seed=1, complex_=np.dtype(dtype).kind == "c")
    a = a.astype(dtype)
    tol = 2e-5 if np.finfo(dtype).bits == 32 else 1e-12
    a64 = a.astype(np.complex128)
    np.testing.assert_allclose(expmh(a, -0.7), scipy.linalg.expm(-0.7 * a64), atol=tol)
    np.testing.assert_allclose(expmh(a, -2.0j), scipy.linalg.expm(-2.0j * a64), atol=tol)
    np.testing.assert_allclose(sqrtmh(a), scipy.linalg.sqrtm(a64), atol=tol)
    np.testing.assert_allclose(logmh(a), scipy.linalg.logm(a64), atol=10 * tol)
    np.testing.assert_allclose(
        funm(a, lambda w: 1 / (1 + jnp.exp(5 * (w - 0.6)))),
        np.linalg.inv(np.eye(4) + scipy.linalg.expm(5 * (a64 - 0.6 * np.eye(4)))),
        atol=tol,
    )
    assert expmh(a, -0.7).dtype == dtype and expmh(a, -1j).dtype.kind == "c"


def test_projector_and_band_energy_values():
    a, q = _rotated(DEGENERATE, seed=2)
    np.testing.assert_allclose(projector(a, 2), q[:, :2] @ q[:, :2].T, atol=1e-12)
    np.testing.assert_allclose(projector(a, 3), q[:, :3] @ q[:, :3].T, atol=1e-12)
    np.testing.assert_allclose(band_energy(a, 6), DEGENERATE.sum(), atol=1e-12)
    np.testing.assert_allclose(band_energy(a, 3), 4.0, atol=1e-12)
    np.testing.assert_allclose(jax.vmap(lambda a: band_energy(a, 2))(np.stack([a, 2 * a])), [2, 4])


def test_near_tie_divided_differences_are_accurate():
    # f = exp: f[a, b] = e^b expm1(a - b)/(a - b) exactly; the derivative of tr(O e^A) in a
    # direction E is sum_ij f[l_i, l_j] X_ij (Q^T O Q)_ji
    for gap in [1e-3, 1e-6, 1e-9, 1e-12, 0.0]:
        lam = np.array([0.3, 0.3 + gap, 1.0])
        a, q = _rotated(lam, seed=3)
        rng = np.random.default_rng(3)
        o, e = _sym(rng, 3), _sym(rng, 3)
        d = lam[:, None] - lam[None, :]
        safe = np.where(d == 0, 1.0, d)
        dd = np.where(d == 0, np.exp(lam)[None, :], np.exp(lam)[None, :] * np.expm1(d) / safe)
        exact = np.sum(dd * (q.T @ e @ q) * (q.T @ o @ q).T)
        tangent = jax.jvp(lambda a, o=o: jnp.sum(o * expmh(a).T), (a,), (e,))[1]
        assert abs(float(tangent) - exact) <= 1e-12 * abs(exact), gap


# -- derivative rules: check_grads on exact, near and gapped spectra -------------------------


def test_funm_exact_degeneracy_second_order():
    a, _ = _rotated(DEGENERATE, seed=4)
    # rtol: at the finite-difference points the degeneracy is split by ~1e-4, where a divided
    # difference carries roundoff ~ eps/1e-4 that the differences of the gradient amplify to
    # ~1e-8 (test_thermal_hessian_matches_scipy_at_degeneracy checks the Hessian to 1e-8)
    check_grads(lambda a: expmh(_herm(a), -0.7), a, order=2, num_directions=1, rtol=1e-7)


def test_funm_complex_propagator():
    a, _ = _rotated(np.array([-1.0, 0.5, 0.5, 2.0]), seed=5, complex_=True)
    check_grads(lambda a: expmh(_herm(a), -1.3j), a, num_directions=1)


@settings(max_examples=2)
@given(
    lam=st.one_of(spectra(4, degeneracy="near", near_gap=(1e-9, 1e-6)), spectra(4)),
    data=st.data(),
)
def test_funm_near_degenerate_and_gapped(lam, data):
    a = data.draw(symmetric_matrices(4, spectrum=lam))
    check_grads(
        lambda a: funm(_herm(a), lambda w: jnp.tanh(2 * w)), a, num_directions=1, vmap=False
    )


@pytest.mark.parametrize("k", [2, 3])
def test_projector_second_order_at_degeneracies(k):
    # k = 2 closes the doubly degenerate level; k = 3 has the triple level above it
    a, _ = _rotated(DEGENERATE, seed=6)
    check_grads(lambda a: projector(_herm(a), k), a, order=2, num_directions=1, rtol=1e-7)


def test_band_energy_second_order_complex():
    a, _ = _rotated(DEGENERATE, seed=7, complex_=True)
    check_grads(lambda a: band_energy(_herm(a), 3), a, order=2, num_directions=1, rtol=1e-7)


# -- second derivatives at exact degeneracies against references from outside the code --------


def test_band_energy_hessian_matches_perturbation_theory():
    """Rotated diag(1,1,2,3,3,3,4,5): the Hessian of E_k = sum of the k lowest eigenvalues is
    2 sum_{i<=k<j} X_ij Y_ji / (l_i - l_j) (second-order perturbation theory, with X, Y the
    directions in the known eigenbasis); through jnp.linalg.eigh it is NaN."""
    lam = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0])
    a, q = _rotated(lam, seed=8)
    rng = np.random.default_rng(8)
    e1, e2 = _sym(rng, 8), _sym(rng, 8)
    x, y = q.T @ e1 @ q, q.T @ e2 @ q
    for k in [2, 3, 6]:
        d = lam[:k, None] - lam[None, k:]
        exact = 2 * np.sum(x[:k, k:] * y[:k, k:] / d)
        hessian = jax.jit(jax.hessian(lambda a, k=k: band_energy(a, k)))(a)
        assert np.all(np.isfinite(hessian))
        np.testing.assert_allclose(np.einsum("ijkl,ij,kl->", hessian, e1, e2), exact, rtol=1e-10)


def test_thermal_hessian_matches_scipy_at_degeneracy():
    """Hessian of tr(O e^{-bA}) / tr(e^{-bA}) at an exact degeneracy against central
    differences of its gradient computed by scipy's expm_frechet."""
    a, _ = _rotated(DEGENERATE, seed=9)
    rng = np.random.default_rng(9)
    o, e1, e2 = _sym(rng, 6), _sym(rng, 6), _sym(rng, 6)
    beta = 0.7

    def thermal(a):
        r = expmh(a, -beta)
        return jnp.trace(o @ r) / jnp.trace(r)

    def directional(a):
        r = scipy.linalg.expm(-beta * a)
        dr = scipy.linalg.expm_frechet(-beta * a, -beta * e1, compute_expm=False)
        z = np.trace(r)
        return np.trace(o @ dr) / z - np.trace(o @ r) * np.trace(dr) / z**2

    h = 1e-5
    reference = (directional(a + h * e2) - directional(a - h * e2)) / (2 * h)
    # forward over forward, and jax.hessian (forward over reverse)
    second = jax.jit(lambda a: jax.jvp(lambda a: jax.jvp(thermal, (a,), (e1,))[1], (a,), (e2,))[1])
    np.testing.assert_allclose(second(a), reference, rtol=1e-8)
    hessian = jax.jit(jax.hessian(thermal))(a)
    np.testing.assert_allclose(np.einsum("ijkl,ij,kl->", hessian, e1, e2), reference, rtol=1e-8)


def test_derivatives_with_respect_to_closed_over_parameters():
    """f may close over traced arrays (beta, a chemical potential): d/dbeta of the thermal
    expectation against central differences of scipy's expm, and check_grads in (a, beta)."""
    a, _ = _rotated(np.array([1.0, 1.0, 2.0, 3.0]), seed=13)
    o = _sym(np.random.default_rng(13), 4)

    def thermal(a, beta):
        r = expmh(a, -beta)
        return jnp.trace(o @ r) / jnp.trace(r)

    def thermal_np(beta):
        r = scipy.linalg.expm(-beta * a)
        return np.trace(o @ r) / np.trace(r)

    h = 1e-6
    fd = (thermal_np(0.7 + h) - thermal_np(0.7 - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(thermal, argnums=1)(a, 0.7), fd, rtol=1e-8)
    check_grads(lambda a, beta: thermal(_herm(a), beta), a, jnp.asarray(0.7), num_directions=1)


# -- regression: the 6x6 periodic square lattice of issue 3 ----------------------------------


def _square_lattice(length=6):
    n = length * length
    h = np.zeros((n, n))
    for x in range(length):
        for y in range(length):
            i = x * length + y
            for j in ((x + 1) % length * length + y, x * length + (y + 1) % length):
                h[i, j] = h[j, i] = -1.0
    return h


def test_square_lattice_density_and_thermal_gradients():
    """6x6 periodic tight binding (levels -4, -3 (x4), -2 (x4), ...): gradients with respect to
    on-site potentials of (1) a loss of the ground-state density of 5 fermions (the projector
    onto the lowest level plus the 4-fold level) and (2) the thermal expectation
    tr(O e^{-bH})/Z. jnp.linalg.eigh gives NaN for both; masking or broadening gives 15%
    errors for (2). References: central differences of numpy eigh / scipy expm."""
    h0 = _square_lattice()
    rng = np.random.default_rng(10)
    target = rng.uniform(0.0, 0.3, size=36)
    o = np.diag(np.cos(np.arange(36.0)))
    beta = 1.3

    def density_loss(eps):
        rho = jnp.real(jnp.diagonal(projector(h0 + jnp.diag(eps), 5)))
        return jnp.sum((rho - target) ** 2)

    def density_loss_np(eps):
        _, v = np.linalg.eigh(h0 + np.diag(eps))
        return np.sum((np.sum(v[:, :5] ** 2, axis=1) - target) ** 2)

    def thermal(eps):
        r = expmh(h0 + jnp.diag(eps), -beta)
        return jnp.trace(o @ r) / jnp.trace(r)

    def thermal_np(eps):
        r = scipy.linalg.expm(-beta * (h0 + np.diag(eps)))
        return np.trace(o @ r) / np.trace(r)

    eps0 = np.zeros(36)
    for loss, loss_np in [(density_loss, density_loss_np), (thermal, thermal_np)]:
        grad = np.asarray(jax.jit(jax.grad(loss))(eps0))
        assert np.all(np.isfinite(grad))
        for _ in range(2):
            direction = rng.normal(size=36)
            step = 1e-5
            fd = (loss_np(eps0 + step * direction) - loss_np(eps0 - step * direction)) / (2 * step)
            np.testing.assert_allclose(grad @ direction, fd, rtol=1e-7, atol=1e-10)


# -- sqrt and log of positive definite matrices ------------------------------------------------


@settings(max_examples=1)
@given(b=spd_matrices(4, max_condition=20.0))
def test_sqrtmh_logmh_gradients_match_scipy(b):
    rng = np.random.default_rng(11)
    o, e = _sym(rng, 4), _sym(rng, 4)
    for ours, theirs in [(sqrtmh, scipy.linalg.sqrtm), (logmh, scipy.linalg.logm)]:
        tangent = jax.jvp(lambda b, f=ours: jnp.sum(o * f(b)), (b,), (e,))[1]
        h = 1e-6
        fd = np.real(np.sum(o * (theirs(b + h * e) - theirs(b - h * e)))) / (2 * h)
        np.testing.assert_allclose(tangent, fd, rtol=1e-6)
        grad = jax.grad(lambda b, f=ours: jnp.sum(o * f(b)))(b)
        np.testing.assert_allclose(np.sum(grad * e), tangent, rtol=1e-10)


# -- errors -----------------------------------------------------------------------------------


def test_errors():
    a, _ = _rotated(DEGENERATE, seed=12)
    with pytest.raises(RUNTIME_ERRORS, match="k and k\\+1 are degenerate"):
        projector(a, 4)
    with pytest.raises(RUNTIME_ERRORS, match="k and k\\+1 are degenerate"):
        jax.jit(lambda a: band_energy(a, 1))(a)
    band_energy(a, 1, check_gap=False)  # the value is still the sum of the lowest eigenvalue
    with pytest.raises(ValueError, match="0 <= k <= n = 6, got k = 7"):
        projector(a, 7)
    with pytest.raises(TypeError, match="Python int"):
        jax.jit(lambda a, k: projector(a, k))(a, 2)
    with pytest.raises(RUNTIME_ERRORS, match="not positive definite"):
        sqrtmh(a - 2 * np.eye(6))
    with pytest.raises(RUNTIME_ERRORS, match="not positive definite"):
        logmh(a - np.eye(6))
    with pytest.raises(ValueError, match="same shape"):
        funm(a, lambda w: jnp.sum(w))
    with pytest.raises(ValueError, match="square matrix"):
        funm(np.zeros((2, 3)), jnp.exp)
    with pytest.raises(ValueError, match="scalar `c`"):
        expmh(a, jnp.ones(2))
