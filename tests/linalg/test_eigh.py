"""eigh and eigvalsh: values, derivative rules, degeneracies, the gauge diagnostic, errors.

References come from numpy/scipy (LAPACK directly) and from finite differences of quantities
computed with numpy, never from the rule under test.
"""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from diffsci.linalg import (
    LorentzianBroadening,
    RaiseOnDegeneracy,
    eigh,
    eigvalsh,
    gauge_dependence,
)
from diffsci.testing import check_grads
from diffsci.testing.strategies import hermitian_matrices, spd_matrices, symmetric_matrices

from ._scan import assert_scan_hessian_matches_fd

RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


def _herm(a):
    """The Hermitian part: lets finite differences move along any direction."""
    return 0.5 * (a + jnp.conj(jnp.swapaxes(a, -1, -2)))


def _rotated(spectrum, seed=0, complex_=False):
    rng = np.random.default_rng(seed)
    n = len(spectrum)
    z = rng.normal(size=(n, n)) + (1j * rng.normal(size=(n, n)) if complex_ else 0)
    q, _ = np.linalg.qr(z)
    return q @ np.diag(spectrum) @ q.conj().T, q


def _projector(v, k):
    return v[..., :, :k] @ jnp.conj(jnp.swapaxes(v[..., :, :k], -1, -2))


def _backward_error_bound(a, c=30.0):
    """$c\\,\\epsilon\\,\\lVert A\\rVert_2\\sqrt{n}$: the backward error of a stable
    eigensolver, hence (Weyl) the absolute error of every eigenvalue, small ones included, and
    the size of the residual $A V - V \\operatorname{diag}(w)$. `c` leaves a margin of about
    10 over the errors seen (at most 2.4 units)."""
    a = np.asarray(a)
    eps = float(np.finfo(a.dtype).eps)
    return c * eps * np.linalg.norm(a.astype(np.complex128), 2) * np.sqrt(a.shape[-1])


# -- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_values_match_lapack(dtype):
    a, _ = _rotated(np.array([-1.0, 0.5, 0.5, 2.0, 3.0]), complex_=np.dtype(dtype).kind == "c")
    a = a.astype(dtype)
    w, v = eigh(a)
    assert w.dtype == np.finfo(dtype).dtype and v.dtype == dtype
    # reference: LAPACK in double precision on the same (rounded) matrix
    a64 = a.astype(np.complex128)
    w0 = np.linalg.eigvalsh(a64)
    tol = _backward_error_bound(a)
    np.testing.assert_allclose(w, w0, rtol=0, atol=tol)
    np.testing.assert_allclose(a64 @ np.asarray(v), np.asarray(v) * w[None, :], rtol=0, atol=tol)
    np.testing.assert_allclose(eigvalsh(a), w0, rtol=0, atol=tol)


def test_generalized_matches_scipy():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
    a = a + a.conj().T
    b = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
    b = b @ b.conj().T + 5 * np.eye(5)
    w, c = eigh(a, b)
    np.testing.assert_allclose(w, scipy.linalg.eigh(a, b, eigvals_only=True), atol=1e-12)
    np.testing.assert_allclose(c.conj().T @ b @ c, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(a @ c, b @ c * w[None, :], atol=1e-11)
    np.testing.assert_allclose(eigvalsh(a, b), w, atol=1e-12)


def test_integers_are_promoted_and_batches_work():
    w, v = eigh(np.array([[2, 1], [1, 2]]))
    assert w.dtype == jnp.float64
    np.testing.assert_allclose(w, [1.0, 3.0])
    batch = np.stack([_rotated(np.arange(4.0) + i, seed=i)[0] for i in range(3)])
    w, v = eigh(batch)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(batch), atol=1e-12)
    np.testing.assert_allclose(jax.vmap(eigvalsh)(batch), w, atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 0), (3, 0, 0), (0, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_zero_size_matches_jax(shape, dtype):
    # Empty matrices (and empty batches) give what jnp.linalg gives, and derivatives run: the
    # outputs are empty (or do not depend on a), so every derivative is zero.
    a = jnp.zeros(shape, dtype)
    w0, v0 = jnp.linalg.eigh(a)
    b = jnp.broadcast_to(jnp.eye(shape[-1], dtype=dtype), shape)
    for w, v in [eigh(a), eigh(a, b), eigh(a, check_gauge=True), jax.jit(eigh)(a)]:
        assert w.shape == w0.shape and w.dtype == w0.dtype
        assert v.shape == v0.shape and v.dtype == v0.dtype
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(v, v0)
    assert eigvalsh(a).shape == w0.shape and eigvalsh(a).dtype == w0.dtype
    np.testing.assert_array_equal(eigvalsh(a, b), w0)

    def loss(a, check_gauge=False):
        w, v = eigh(a, check_gauge=check_gauge)
        return jnp.sum(w) + jnp.sum(jnp.abs(v) ** 2) + jnp.sum(eigvalsh(a))

    for check_gauge in [False, True]:
        g = jax.grad(loss)(a, check_gauge)
        assert g.shape == a.shape and g.dtype == a.dtype
        np.testing.assert_array_equal(g, np.zeros(shape, dtype))
    (w, v), (dw, dv) = jax.jvp(eigh, (a,), (a,))
    assert dw.shape == w0.shape and dw.dtype == w0.dtype
    assert dv.shape == v0.shape and dv.dtype == v0.dtype
    np.testing.assert_array_equal(dw, np.zeros_like(w0))
    _, dl = jax.jvp(loss, (a,), (a,))
    assert dl == 0
    if len(shape) == 3 and shape[0]:
        w, v = jax.vmap(eigh)(a)
        assert w.shape == w0.shape and v.shape == v0.shape


def test_two_calls_on_one_matrix_share_one_decomposition():
    # The value checks must not make the two calls look different to XLA: jnp.linalg.eigh
    # twice on one matrix compiles to one LAPACK call (CSE), and so must eigh and eigvalsh,
    # forward and reverse, even with different check tolerances (the cost contract of issue 14).
    a = _rotated(np.arange(6.0), seed=13)[0]

    def decompositions(f):
        hlo = jax.jit(f).lower(a).compile().as_text()
        return hlo.count(f'custom_call_target="{target}"')

    only = jax.jit(jnp.linalg.eigh).lower(a).compile().as_text()
    (target,) = set(re.findall(r'custom_call_target="([^"]+)"', only))

    def loss(a):
        w, v = eigh(a)
        w2, v2 = eigh(a, hermitian_rtol=1e-3)
        return jnp.sum(w**2) + jnp.sum(jnp.abs(v2[:, :3]) ** 4) + jnp.sum(eigvalsh(a) ** 3)

    assert decompositions(loss) == 1
    assert decompositions(jax.value_and_grad(loss)) == 1
    with pytest.raises(RUNTIME_ERRORS, match="Hermitian"):
        jax.jit(jax.value_and_grad(loss))(a + np.triu(np.ones((6, 6)), 1))


# -- derivative rules -------------------------------------------------------------------------


def _abs_squared_eigenvectors(a):
    w, v = eigh(_herm(a))
    # |v_ij|^2 is gauge invariant for a simple spectrum (sign or phase of each column)
    return w, jnp.abs(v) ** 2


@settings(max_examples=2)
@given(
    a=st.one_of(
        symmetric_matrices(4, degeneracy="gapped"), hermitian_matrices(4, degeneracy="gapped")
    )
)
def test_rule_gapped(a):
    check_grads(_abs_squared_eigenvectors, a, num_directions=1)


@pytest.mark.parametrize("complex_", [False, True])
def test_rule_exact_degeneracy(complex_):
    # levels 1 (x2), 2, 3 (x3): projectors onto the lowest 2 and lowest 3 states are
    # gauge invariant; jnp.linalg.eigh gives NaN here
    a, _ = _rotated(np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0]), seed=1, complex_=complex_)

    def f(a):
        w, v = eigh(_herm(a))
        return _projector(v, 2), _projector(v, 3), jnp.sum(w[:2]) + jnp.sum(w[3:] ** 2)

    check_grads(f, a, num_directions=1)


def test_rule_near_degeneracy():
    # a cluster split by 1e-7: inside it 1/gap ~ 1e7 is kept (not masked) and cancels in the
    # projector onto the whole cluster, up to roundoff ~ 1e7 eps (hence ad_rtol and atol;
    # diffsci.linalg.projector has no such terms)
    a, _ = _rotated(np.array([-1.0, 0.5, 0.5 + 1e-7, 0.5 + 2e-7, 2.0]), seed=2)

    def f(a):
        w, v = eigh(_herm(a))
        return w[0], w[1:4].sum(), _projector(v, 4)

    check_grads(f, a, num_directions=1, vmap=False, ad_rtol=1e-6, atol=1e-8)


def test_eigvalsh_rule():
    a, _ = _rotated(np.array([0.0, 1.0, 1.0, 2.5]), seed=4, complex_=True)
    # symmetric in the degenerate pair: sum over the pair, any function of the others
    check_grads(
        lambda a: (lambda w: jnp.stack([w[1] + w[2], w[0] ** 2, jnp.sin(w[3])]))(
            eigvalsh(_herm(a))
        ),
        a,
        order=2,
        num_directions=1,
    )


def test_generalized_rule():
    rng = np.random.default_rng(5)
    a, _ = _rotated(np.array([-1.0, 0.0, 0.0, 1.5]), seed=5)
    b = rng.normal(size=(4, 4))
    b = b @ b.T + 4 * np.eye(4)

    def f(a, b):
        w, c = eigh(_herm(a), _herm(b))
        # c_k c_k^T over a whole level is invariant; so is the eigenvalue of a simple level
        return w[0], w[3], c[:, :3] @ c[:, :3].T, eigvalsh(_herm(a), _herm(b))[1:3].sum()

    check_grads(f, a, b, num_directions=1)


def test_policies_on_a_gapped_spectrum_agree_with_the_plain_rule():
    a, _ = _rotated(np.array([0.0, 1.0, 2.0, 3.0]), seed=6)
    e = np.random.default_rng(6).normal(size=(4, 4))
    e = e + e.T

    def tangent(policy):
        return jax.jvp(lambda a: eigh(a, degeneracy=policy)[1] ** 2, (a,), (e,))[1]

    plain = jax.jvp(lambda a: jnp.linalg.eigh(a)[1] ** 2, (a,), (e,))[1]
    np.testing.assert_allclose(tangent(None), plain, atol=1e-12)
    np.testing.assert_allclose(tangent(RaiseOnDegeneracy()), plain, atol=1e-12)
    # broadening biases every pair by O(width^2 / gap^2)
    np.testing.assert_allclose(tangent(LorentzianBroadening(1e-4)), plain, atol=1e-6)


def test_raise_policy_raises_at_a_degeneracy():
    a, _ = _rotated(np.array([0.0, 1.0, 1.0]), seed=7)
    with pytest.raises(RUNTIME_ERRORS, match="degenerate"):
        jax.grad(lambda a: jnp.sum(eigh(a, degeneracy=RaiseOnDegeneracy())[1][:, 0] ** 2))(a)


# -- regression: the failing cases of issue 3 -------------------------------------------------


def test_rotated_diag_projector_gradient_is_finite_and_correct():
    """Rotated diag(1,1,2,3,3,3,4,5): a loss of the projectors onto whole levels. Reference:
    central differences of the same loss computed with numpy's LAPACK eigh."""
    spectrum = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0])
    a, _ = _rotated(spectrum, seed=8)
    rng = np.random.default_rng(8)
    o1, o2 = rng.normal(size=(2, 8, 8))

    def loss(a):
        w, v = eigh(a)
        return jnp.sum(o1 * _projector(v, 2)) + jnp.sum(o2 * _projector(v, 6)) ** 2

    def loss_np(a):
        _, v = np.linalg.eigh(a)
        p2, p6 = v[:, :2] @ v[:, :2].T, v[:, :6] @ v[:, :6].T
        return np.sum(o1 * p2) + np.sum(o2 * p6) ** 2

    grad = np.asarray(jax.jit(jax.grad(loss))(a))
    assert np.all(np.isfinite(grad))
    for _ in range(3):
        e = rng.normal(size=(8, 8))
        e = e + e.T
        h = 1e-5
        fd = (loss_np(a + h * e) - loss_np(a - h * e)) / (2 * h)
        np.testing.assert_allclose(np.sum(grad * e), fd, rtol=1e-7, atol=1e-8)


# -- the gauge diagnostic ---------------------------------------------------------------------


def test_gauge_dependence_tells_invariant_from_dependent_losses():
    a, _ = _rotated(np.array([1.0, 1.0, 2.0, 3.0]), seed=9)
    o = np.diag(np.arange(4.0))

    invariant = gauge_dependence(a, lambda w, v: jnp.sum(o * _projector(v, 2)) + w[0] + w[1])
    assert bool(invariant.degenerate) and bool(invariant.is_gauge_invariant())

    # <v_0|O|v_0> for one of two degenerate states (LAPACK's gauge may make a single entry
    # such as v[0, 0]^2 stationary; the diagnostic is first order)
    one_state = gauge_dependence(a, lambda w, v: v[:, 0] @ o @ v[:, 0])
    assert not bool(one_state.is_gauge_invariant())
    assert float(one_state.gauge) > 1e-3

    # thermal expectation through eigh: gauge invariant, but dL/dw differs inside the
    # degenerate level, so no rule on (w, v) can get it right (use funm)
    def thermal(w, v):
        return jnp.sum(jnp.exp(-w) * jnp.diag(v.T @ o @ v))

    report = gauge_dependence(a, thermal)
    assert float(report.gauge) < 1e-12 and float(report.splitting) > 1e-3
    assert not bool(report.is_gauge_invariant())


def test_gauge_dependence_sees_complex_phases():
    a, _ = _rotated(np.array([0.0, 1.0, 2.5]), seed=10, complex_=True)
    assert bool(gauge_dependence(a, lambda w, v: jnp.abs(v[1, 0]) ** 2).is_gauge_invariant())
    assert not bool(gauge_dependence(a, lambda w, v: jnp.real(v[1, 0]) ** 2).is_gauge_invariant())


def test_check_gauge_raises_in_the_backward_pass():
    a, _ = _rotated(np.array([1.0, 1.0, 2.0, 3.0]), seed=11)

    def good(a):
        return jnp.sum(_projector(eigh(a, check_gauge=True)[1], 2) ** 2)

    def plain(a):
        return jnp.sum(_projector(eigh(a)[1], 2) ** 2)

    np.testing.assert_allclose(jax.grad(good)(a), jax.grad(plain)(a), atol=1e-12)
    with pytest.raises(RUNTIME_ERRORS, match="gauge"):
        jax.jit(jax.grad(lambda a: jnp.sum(eigh(a, check_gauge=True)[1][:, 0] ** 3)))(a)
    with pytest.raises(RUNTIME_ERRORS, match="funm"):
        jax.grad(lambda a: jnp.sum(jnp.exp(-eigh(a, check_gauge=True)[0]) * jnp.diag(a)))(a)
    check_grads(lambda a: good(_herm(a)), a, modes=("rev",), num_directions=1)


# -- errors -----------------------------------------------------------------------------------


def test_static_errors():
    with pytest.raises(ValueError, match=r"square matrix, got shape \(3, 4\)"):
        eigh(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        eigvalsh(np.zeros(3))
    with pytest.raises(ValueError, match=r"same shape, got \(3, 3\) and \(2, 2\)"):
        eigh(np.eye(3), np.eye(2))
    with pytest.raises(TypeError, match="float16"):
        eigh(np.eye(3, dtype=np.float16))
    with pytest.raises(TypeError, match="AbstractDegeneracyPolicy"):
        eigh(np.eye(3), degeneracy="mask")


def test_value_errors():
    with pytest.raises(RUNTIME_ERRORS, match="Hermitian"):
        eigh(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(RUNTIME_ERRORS, match="Hermitian"):
        jax.jit(eigvalsh)(np.array([[1.0, 1j], [1j, 1.0]]))
    with pytest.raises(RUNTIME_ERRORS, match="NaN"):
        eigh(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(RUNTIME_ERRORS, match="positive definite"):
        jax.jit(eigh)(np.eye(2), np.diag([1.0, -1.0]))
    with pytest.raises(RUNTIME_ERRORS, match="positive definite"):
        eigvalsh(np.eye(2), np.diag([1.0, 0.0]))
    # roundoff asymmetry passes; hermitian_rtol=inf switches the check off
    a = np.array([[1.0, 2.0 + 1e-14], [2.0, 1.0]])
    np.testing.assert_allclose(eigh(a)[0], [-1.0, 3.0])
    eigh(np.array([[1.0, 2.0], [0.0, 1.0]]), hermitian_rtol=float("inf"))


@settings(max_examples=2)
@given(b=spd_matrices(3, max_condition=100.0))
def test_generalized_with_identity_overlap_is_standard(b):
    a, _ = _rotated(np.array([0.0, 1.0, 2.0]), seed=12)
    np.testing.assert_allclose(eigvalsh(a, np.eye(3)), eigvalsh(a), atol=1e-12)
    # scaling b by 2 halves the eigenvalues
    np.testing.assert_allclose(eigvalsh(a, 2 * b), eigvalsh(a, b) / 2, atol=1e-12)


def test_second_derivative_inside_scan_at_degenerate_eigenvalues():
    # Reverse mode through lax.scan partially evaluates the forward body with the carry unknown,
    # which inlined a custom_jvp: jax.hessian then met JAX's own eigh rule, NaN at the exactly
    # degenerate (zero) eigenvalues of a rank-deficient carry. Against central differences of
    # the first derivative in float64.
    rng = np.random.default_rng(3)
    b, c = rng.normal(size=(2, 3, 3))
    a0 = np.zeros((6, 6))
    a0[:3, :3] = b + b.T
    da = np.zeros((6, 6))
    da[:3, :3] = c + c.T

    def body(a, _):
        w, v = eigh(a)
        n = (v * w[None, :] ** 3) @ v.T
        n = n / jnp.linalg.norm(n)
        return n, jnp.sum(n * a0)

    assert_scan_hessian_matches_fd(body, a0, da)
