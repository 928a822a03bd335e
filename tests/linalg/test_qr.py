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
    tol = 1e-5 if jnp.finfo(dtype).bits == 32 else 1e-12
    np.testing.assert_allclose(q @ r, a, atol=tol)
    np.testing.assert_allclose(_h(q) @ q, np.broadcast_to(np.eye(n), r.shape), atol=tol)
    np.testing.assert_allclose(jnp.tril(r, -1), 0)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    assert jnp.all(jnp.imag(d) == 0) and jnp.all(jnp.real(d) > 0)
    # the same factorization as LAPACK's, up to the signs (phases) normalized here
    q0, r0 = np.linalg.qr(np.asarray(a, np.complex128 if jnp.iscomplexobj(a) else np.float64))
    np.testing.assert_allclose(jnp.abs(_h(q) @ q0), np.broadcast_to(np.eye(n), r.shape), atol=tol)


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
    with pytest.raises(TypeError, match="qr: expected a floating or complex matrix.*int32"):
        qr(jnp.ones((3, 3), dtype=jnp.int32))
