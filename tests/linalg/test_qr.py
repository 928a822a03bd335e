"""Tests of diffsci.linalg.qr: values, the sign convention, the derivative rule, errors.

With the diagonal of R real and positive the QR decomposition of a full-column-rank matrix is
unique, so Q and R are smooth functions of A and finite differences check them directly.
"""

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from diffsci.linalg import qr
from diffsci.testing import check_grads, strategies

FD = dict(rtol=1e-8, atol=1e-10)


def _h(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def backward_error_bound(a, c=30.0):
    """$c\\,\\epsilon\\,\\lVert A\\rVert_2\\sqrt{m}$ (largest over a batch): the backward error
    of Householder QR, the size of the residual $QR - A$. The loss of orthogonality of $Q$ is
    this over $\\lVert A\\rVert_2$, and the error of $Q$ that times the condition number of $A$.
    `c` leaves a margin of about 15 over the errors seen (at most 2 units)."""
    a = np.asarray(a)
    eps = float(np.finfo(a.dtype).eps)
    norm = np.max(np.linalg.norm(a.astype(np.complex128), 2, axis=(-2, -1)), initial=0)
    return c * eps * norm * np.sqrt(a.shape[-2])


def random_matrix(seed, shape, complex_, dtype=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if complex_:
        a = a + 1j * rng.standard_normal(shape)
    return jnp.asarray(a, dtype)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64, jnp.complex64, jnp.complex128])
@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (2, 5, 3)])
def test_qr_values_and_sign_convention(dtype, shape):
    a = random_matrix(0, shape, jnp.issubdtype(dtype, jnp.complexfloating), dtype)
    q, r = qr(a)
    n = shape[-1]
    assert q.shape == shape and r.shape == shape[:-2] + (n, n)
    assert q.dtype == a.dtype and r.dtype == a.dtype
    # tolerances from the backward error, absolute; references in double precision
    a64 = np.asarray(a, np.complex128 if jnp.iscomplexobj(a) else np.float64)
    tol = backward_error_bound(a)
    orth = tol / np.max(np.linalg.norm(a64, 2, axis=(-2, -1)))
    eye = np.broadcast_to(np.eye(n), r.shape)
    np.testing.assert_allclose(q @ r, a64, rtol=0, atol=tol)
    np.testing.assert_allclose(_h(q) @ q, eye, rtol=0, atol=orth)
    np.testing.assert_allclose(jnp.tril(r, -1), 0)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    assert jnp.all(jnp.imag(d) == 0) and jnp.all(jnp.real(d) > 0)
    # the same factorization as LAPACK's, up to the signs (phases) normalized here
    q0, r0 = np.linalg.qr(a64)
    cond = np.max(np.linalg.cond(a64))
    np.testing.assert_allclose(jnp.abs(_h(q) @ q0), eye, rtol=0, atol=orth * cond)


@pytest.mark.parametrize("shape", [(2, 0), (0, 2), (0, 0), (3, 0, 2), (0, 3, 2)])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex128])
def test_qr_zero_size_matches_jax(shape, dtype):
    # What jnp.linalg.qr gives (an empty wide matrix included: Q is (0, 0), R is (0, n)), and
    # derivatives that run and are zero (the outputs are empty).
    a = jnp.zeros(shape, dtype)
    for x, y in zip(qr(a), jnp.linalg.qr(a), strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    g = jax.grad(lambda a: sum(jnp.sum(jnp.abs(x) ** 2) for x in qr(a)))(a)
    assert g.shape == a.shape and g.dtype == a.dtype
    np.testing.assert_array_equal(g, np.zeros(shape, dtype))
    _, tangents = jax.jvp(qr, (a,), (a,))
    for t, y in zip(tangents, jnp.linalg.qr(a), strict=True):
        assert t.shape == y.shape and t.dtype == y.dtype
    if len(shape) == 3 and shape[0]:
        assert [x.shape for x in jax.vmap(qr)(a)] == [y.shape for y in jnp.linalg.qr(a)]


@settings(max_examples=2)
@given(
    seed=strategies.seeds(),
    shape=st.sampled_from([(4, 4), (5, 3), (3, 1)]),
    complex_=st.booleans(),
)
def test_qr_rule(seed, shape, complex_):
    a = random_matrix(seed % 1000, shape, complex_)
    check_grads(qr, a, **FD)


def test_qr_rule_second_order():
    a = random_matrix(1, (4, 3), True)
    w = random_matrix(2, (4, 3), True)
    check_grads(
        lambda a: jnp.sum(jnp.abs(w * qr(a)[0]) ** 2) + jnp.sum(jnp.abs(qr(a)[1])), a, order=2, **FD
    )


def test_qr_ill_conditioned_but_full_rank():
    # Columns nearly dependent (condition number ~ 1e5): the derivative is large but right.
    a = random_matrix(3, (5, 3), False)
    a = a.at[:, 2].set(a[:, 0] + 1e-5 * a[:, 2])
    check_grads(lambda a: qr(a)[1][2, 2], a, eps=1e-8, rtol=1e-5)


def test_qr_rank_deficient_derivative_raises():
    a = random_matrix(4, (5, 3), False)
    a = a.at[:, 2].set(a[:, 0] - 2 * a[:, 1])
    q, r = qr(a)  # the forward pass is fine
    assert jnp.all(jnp.isfinite(q))
    with pytest.raises(Exception, match="rank deficient"):
        jax.block_until_ready(jax.grad(lambda a: jnp.sum(qr(a)[0] ** 2 * jnp.arange(3.0)))(a))


def test_qr_vmap_and_batch():
    a = random_matrix(5, (3, 4, 3), True)
    da = random_matrix(6, (3, 4, 3), True)
    jvp = jax.jit(lambda a, da: jax.jvp(qr, (a,), (da,))[1])
    batched = jvp(a, da)
    mapped = jax.jit(jax.vmap(jvp))(a, da)
    for x, y in zip(batched, mapped, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-12)


def test_qr_errors():
    with pytest.raises(ValueError, match=r"qr: supports square and tall matrices .* \(3, 5\)"):
        qr(jnp.ones((3, 5)))
    with pytest.raises(ValueError, match=r"qr: expected a matrix .* shape \(4,\)"):
        qr(jnp.ones(4))
    # integers are promoted (as jnp.linalg.qr does); half precision is refused
    np.testing.assert_allclose(jnp.abs(qr(jnp.array([[3], [4]]))[1]), [[5.0]])
    with pytest.raises(TypeError, match="qr: expected `a` to have dtype .*float16"):
        qr(jnp.ones((3, 3), dtype=jnp.float16))
