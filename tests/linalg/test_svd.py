"""Tests of diffsci.linalg.svd and truncated_svd: values, derivative rules, degeneracies, errors.

References are finite differences in float64 (through diffsci.testing.check_grads), exact
results (the derivative of the polar factor at a multiple of the identity), and LAPACK.
"""

import functools

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from diffsci.linalg import (
    LorentzianBroadening,
    RaiseOnDegeneracy,
    svd,
    truncated_svd,
)
from diffsci.testing import check_grads, strategies

from ._scan import assert_scan_hessian_matches_fd

# check_grads' finite-difference error estimate is optimistic by a few ulps-times-condition on
# these rules (|AD - FD| ~ 1e-13 on O(1) outputs, AD agreeing with two independent AD paths to
# 1e-15); a small relative slack absorbs it.
FD = dict(rtol=1e-8, atol=1e-10)
SHAPES = [(4, 4), (5, 3), (3, 5)]


def _h(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _haar(rng, n, complex_):
    z = rng.standard_normal((n, n))
    if complex_:
        z = z + 1j * rng.standard_normal((n, n))
    q, r = np.linalg.qr(z)
    return q * (np.diagonal(r) / np.abs(np.diagonal(r)))


def with_singular_values(seed, m, n, s, complex_):
    """U diag(s) V^H with Haar U (m x m), V (n x n); `s` descending, len(s) <= min(m, n)."""
    rng = np.random.default_rng(seed)
    s = np.asarray(s, dtype=np.float64)
    u = _haar(rng, m, complex_)[:, : s.size]
    v = _haar(rng, n, complex_)[:, : s.size]
    return (u * s) @ v.conj().T


def to_singular_values(lam):
    """Map a spectrum in [-1, 1] (diffsci.testing.strategies.spectra) to descending s in
    [0.2, 1], keeping its clusters."""
    return np.sort((np.asarray(lam) + 1.5) / 2.5)[::-1]


def cluster_ends(s, gap=1e-3):
    """Indices k such that s[k-1] and s[k] are in different clusters (and k = len(s))."""
    return [k for k in range(1, len(s) + 1) if k == len(s) or s[k - 1] - s[k] > gap]


def weights(seed, shape, complex_):
    rng = np.random.default_rng(seed + 1)
    w = rng.standard_normal(shape)
    if complex_:
        w = w + 1j * rng.standard_normal(shape)
    return jnp.asarray(w)


# --------------------------------------------------------------------------------------------
# forward values


def backward_error_bound(a, c=30.0):
    """$c\\,\\epsilon\\,\\lVert A\\rVert_2 \\sqrt{\\max(m, n)}$ (largest over a batch): the size of
    the backward error $\\lVert E\\rVert_2$ of a stable SVD (its factors are those of $A + E$ to
    working precision).

    By Weyl's theorem it bounds the absolute error of every singular value, small ones included
    (their relative error can be $\\lVert A\\rVert_2 / s_i$ times larger), and it bounds the
    residual $U S V^H - A$; divided by the gap to the rest of the spectrum it bounds the error of
    a singular subspace (Wedin's theorem). `c` leaves a margin of about 4 over the errors seen
    on these matrices (at most 8 units, in the residual), independent of the machine.
    """
    a = np.asarray(a)
    eps = float(np.finfo(a.dtype).eps)
    norm = np.max(np.linalg.norm(a.astype(np.complex128), 2, axis=(-2, -1)), initial=0)
    return c * eps * norm * np.sqrt(max(a.shape[-2:]))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64, jnp.complex64, jnp.complex128])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_values(dtype, shape, full_matrices):
    m, n = shape
    p = min(m, n)
    a = jnp.asarray(with_singular_values(0, m, n, [3.0, 2.0, 1.0][:p], False), dtype)
    # the perturbation gives (4, 4) a fourth, small singular value (about 0.01)
    a = a + jnp.asarray(0.1 * weights(0, shape, jnp.iscomplexobj(a)), dtype)
    u, s, vh = svd(a, full_matrices=full_matrices)
    assert u.dtype == a.dtype and vh.dtype == a.dtype
    assert s.dtype == jnp.finfo(a.dtype).dtype
    assert u.shape == ((m, m) if full_matrices else (m, p))
    assert vh.shape == ((n, n) if full_matrices else (p, n))
    # Reference: the SVD of the same (rounded) matrix in double precision, so that only our
    # error is measured; tolerances from the backward error (absolute, see above).
    a64 = np.asarray(a).astype(np.complex128)
    u0, s0, _ = np.linalg.svd(a64)
    tol = backward_error_bound(a)
    orth = tol / s0[0]  # the loss of orthogonality: c eps sqrt(max(m, n))
    np.testing.assert_allclose((u[:, :p] * s[None, :]) @ vh[:p], a64, rtol=0, atol=tol)
    np.testing.assert_allclose(_h(u) @ u, np.eye(u.shape[1]), rtol=0, atol=orth)
    np.testing.assert_allclose(vh @ _h(vh), np.eye(vh.shape[0]), rtol=0, atol=orth)
    np.testing.assert_allclose(s, s0, rtol=0, atol=tol)
    ut, st_, vht = truncated_svd(a, 2)
    np.testing.assert_allclose(st_, s0[:2], rtol=0, atol=tol)
    proj0 = u0[:, :2] @ u0[:, :2].conj().T
    np.testing.assert_allclose(ut @ _h(ut), proj0, rtol=0, atol=tol / (s0[1] - s0[2]))


@pytest.mark.parametrize("shape", [(0, 2), (2, 0), (0, 0), (3, 0, 2), (0, 3, 2)])
@pytest.mark.parametrize("full_matrices", [False, True])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex128])
def test_svd_zero_size_matches_jax(shape, full_matrices, dtype):
    # What jnp.linalg.svd gives (shapes, dtypes, values), and derivatives that run and are zero:
    # the outputs are empty, or (the full U of a 2 x 0 matrix) do not depend on a.
    a = jnp.zeros(shape, dtype)
    k = min(shape[-2:])  # 0, except for the empty batch of 3 x 2 matrices
    ours = svd(a, full_matrices=full_matrices)
    theirs = jnp.linalg.svd(a, full_matrices=full_matrices)
    for x, y in zip(ours, theirs, strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype
    np.testing.assert_array_equal(ours[1], theirs[1])
    u, _, vh = ours
    # the non-empty factors are bases of the null spaces, a gauge: any unitary matrix will do
    for q in (u, _h(vh)):
        eye = np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2)
        np.testing.assert_allclose(_h(q) @ q, eye, rtol=0, atol=backward_error_bound(q))

    def loss(a):
        u, s, vh = svd(a, full_matrices=full_matrices)
        ut, st_, vht = truncated_svd(a, k)
        return sum(jnp.sum(jnp.abs(x) ** 2) for x in (u, s, vh, ut, st_, vht))

    g = jax.grad(loss)(a)
    assert g.shape == a.shape and g.dtype == a.dtype
    np.testing.assert_array_equal(g, np.zeros(shape, dtype))
    _, tangents = jax.jvp(lambda a: svd(a, full_matrices=full_matrices), (a,), (a,))
    for t, y in zip(tangents, theirs, strict=True):
        assert t.shape == y.shape and t.dtype == y.dtype
        np.testing.assert_array_equal(t, np.zeros(y.shape, y.dtype))
    ut, st_, vht = truncated_svd(a, k)
    assert ut.shape == shape[:-1] + (k,) and st_.shape == shape[:-2] + (k,)
    assert vht.shape == shape[:-2] + (k, shape[-1]) and ut.dtype == a.dtype
    if len(shape) == 3 and shape[0]:
        mapped = jax.vmap(lambda a: svd(a, full_matrices=full_matrices))(a)
        assert [x.shape for x in mapped] == [y.shape for y in theirs]


# --------------------------------------------------------------------------------------------
# derivative rules: generic, degenerate and near-degenerate spectra, real and complex


def _gauge_invariant_outputs(a, k, full_matrices=False):
    """Gauge-invariant functions of the SVD, exact at degeneracies inside the first k."""
    u, s, vh = svd(a, full_matrices=full_matrices)
    p = s.shape[-1]
    uk, vk = u[:, :k], _h(vh[:k])
    out = {
        "s": s,  # differentiable: each cluster is summed below, and s itself is checked when gapped
        "proj_u": uk @ _h(uk),
        "proj_v": vk @ _h(vk),
        "polar": u[:, :p] @ vh[:p],  # U V^H: gauge invariant at any degeneracy of s > 0
        "recon_k": uk @ (_h(uk) @ a),  # U_k S_k V_k^H written through the projector
    }
    if full_matrices and u.shape[-1] > p:
        out["null_u"] = u[:, p:] @ _h(u[:, p:])
    if full_matrices and vh.shape[-2] > p:
        out["null_v"] = _h(vh[p:]) @ vh[p:]
    return out


def _sum_clusters(s, ends):
    starts = [0] + ends[:-1]
    return jnp.stack([jnp.sum(s[i:j] ** 2) for i, j in zip(starts, ends, strict=True)])


@settings(max_examples=3)
@given(
    data=st.data(),
    shape=st.sampled_from(SHAPES),
    complex_=st.booleans(),
    kind=st.sampled_from(["exact", "gapped"]),
    full_matrices=st.booleans(),
)
def test_svd_rule_degenerate_and_gapped(data, shape, complex_, kind, full_matrices):
    m, n = shape
    p = min(m, n)
    lam = data.draw(strategies.spectra(p, degeneracy=kind))
    seed = data.draw(strategies.seeds())
    s0 = to_singular_values(lam)
    ends = cluster_ends(s0)
    k = data.draw(st.sampled_from(ends))
    a = jnp.asarray(with_singular_values(seed, m, n, s0, complex_))

    def f(a):
        out = _gauge_invariant_outputs(a, k, full_matrices)
        out["s"] = _sum_clusters(out["s"], ends)
        if kind == "gapped":
            u, s, vh = svd(a, full_matrices=full_matrices)
            out["recon"] = (u[:, :k] * s[None, :k]) @ vh[:k]
        return out

    check_grads(f, a, **FD)


@settings(max_examples=2)
@given(data=st.data(), shape=st.sampled_from(SHAPES), complex_=st.booleans())
def test_svd_rule_near_degenerate(data, shape, complex_):
    # Gaps inside a cluster down to 1e-7 |A|, far above the masking tolerance: the rule is the
    # plain formula, with round-off amplified by 1/gap; cluster-level quantities stay accurate.
    m, n = shape
    p = min(m, n)
    lam = data.draw(strategies.spectra(p, degeneracy="near", near_gap=(1e-7, 1e-4)))
    s0 = to_singular_values(lam)
    ends = cluster_ends(s0)
    k = data.draw(st.sampled_from(ends))
    a = jnp.asarray(with_singular_values(data.draw(strategies.seeds()), m, n, s0, complex_))

    def f(a):
        out = _gauge_invariant_outputs(a, k)
        out["s"] = _sum_clusters(out["s"], ends)
        return out

    check_grads(f, a, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("complex_", [False, True])
def test_svd_polar_at_identity_exact(complex_):
    # A = c Q with Q unitary: all singular values equal. The polar factor W = U V^H of A + t dA
    # is Q + t (dA Q^H - Q dA^H Q... ) / (2c); exactly: dW = Q * skew(Q^H dA) / c, where
    # skew(X) = (X - X^H)/2. A rule that masks 1/(s_i^2 - s_j^2) at the degeneracy (PyTorch,
    # Lorentzian codes) returns dW = 0 off the diagonal.
    rng = np.random.default_rng(3)
    q = jnp.asarray(_haar(rng, 4, complex_))
    da = weights(3, (4, 4), complex_)
    c = 2.0
    _, dw = jax.jvp(lambda a: (lambda u, s, vh: u @ vh)(*svd(a)), (c * q,), (da,))
    x = _h(q) @ da
    np.testing.assert_allclose(dw, q @ ((x - _h(x)) / 2) / c, atol=1e-12)


def test_svd_matches_jax_on_generic_real_matrices():
    # Away from degeneracies and for real input the rule is the textbook one (JAX's).
    a = jnp.asarray(with_singular_values(5, 5, 4, [4.0, 3.0, 2.0, 1.0], False))
    da = weights(5, (5, 4), False)
    ours = jax.jvp(lambda a: svd(a), (a,), (da,))[1]
    theirs = jax.jvp(lambda a: jnp.linalg.svd(a, full_matrices=False), (a,), (da,))[1]
    for x, y in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-12)


# --------------------------------------------------------------------------------------------
# the complex phase term


def test_svd_complex_phase_term():
    # L = sum_i c_i Re(u_i^H W v_i) is invariant under the phase gauge u_i, v_i -> e^{i phi}
    # (u_i, v_i) but depends on the relative phase, i.e. on Im diag(U^H dU - V^H dV) =
    # Im(dP_ii)/s_i: the phase term. Dropping it (JAX < 2019, many TN codes) fails this check.
    m, n = 5, 4
    a = jnp.asarray(with_singular_values(7, m, n, [4.0, 3.0, 2.0, 1.0], True))
    w = weights(7, (m, n), True)
    c = jnp.arange(1.0, 5.0)

    def f(a):
        u, s, vh = svd(a)
        return jnp.sum(c * jnp.real(jnp.einsum("ai,ab,ib->i", jnp.conj(u), w, vh.conj())))

    check_grads(f, a, **FD)
    # The gauge fixed by the rule: diag(U^H dU + V^H dV) = 0, diag(U^H dU - V^H dV) = iIm/s.
    da = weights(8, (m, n), True)
    (u, s, vh), (du, ds, dvh) = jax.jvp(svd, (a,), (da,))
    dp = _h(u) @ da @ _h(vh)
    ou = jnp.diagonal(_h(u) @ du)
    ov = jnp.diagonal(vh @ _h(dvh))
    np.testing.assert_allclose(ou + ov, 0, atol=1e-12)
    np.testing.assert_allclose(ou - ov, 1j * jnp.imag(jnp.diagonal(dp)) / s, atol=1e-12)
    np.testing.assert_allclose(ds, jnp.real(jnp.diagonal(dp)), atol=1e-12)


# --------------------------------------------------------------------------------------------
# rank deficiency


@pytest.mark.parametrize("shape,complex_", [((4, 4), False), ((3, 5), True)])
def test_svd_rank_deficient(shape, complex_):
    m, n = shape
    s0 = [2.0, 1.0, 0.0, 0.0][: min(m, n)]
    a = jnp.asarray(with_singular_values(11, m, n, [x for x in s0 if x > 0], complex_))
    r = 2

    def f(a):
        u, s, vh = svd(a)
        ur, vr = u[:, :r], _h(vh[:r])
        return {
            "frobenius": jnp.sum(s**2),  # = ||A||_F^2, smooth through the zeros
            "top": s[:r],
            "range": ur @ _h(ur),
            "corange": vr @ _h(vr),
            "recon": ur @ (_h(ur) @ a),
        }

    check_grads(f, a, **FD)
    # A gauge-dependent loss on the null-space vectors: undefined, but finite (masked).
    g = jax.grad(lambda a: jnp.sum(jnp.abs(svd(a, full_matrices=True)[0]) ** 3))(a)
    assert jnp.all(jnp.isfinite(g))


@pytest.mark.parametrize("truncate", [False, True])
def test_second_derivative_inside_scan_at_zero_singular_values(truncate):
    # The forward pass of reverse mode through lax.scan is partially evaluated with the carry
    # unknown, which inlined a custom_jvp: jax.hessian then met JAX's own SVD rule, NaN at the
    # exactly zero (repeated) singular values of a rank-deficient carry. Against central
    # differences of the first derivative in float64.
    rng = np.random.default_rng(3)
    a0 = np.zeros((6, 6))
    a0[:3, :3] = rng.normal(size=(3, 3))
    da = np.zeros((6, 6))
    da[:3, :3] = rng.normal(size=(3, 3))

    def body(a, _):
        u, s, vh = truncated_svd(a, 4) if truncate else svd(a)
        b = (u * s[None, :] ** 2) @ vh
        b = b / jnp.linalg.norm(b)
        return b, jnp.sum(b * a0)

    assert_scan_hessian_matches_fd(body, a0, da)


# --------------------------------------------------------------------------------------------
# truncated SVD


@settings(max_examples=3)
@given(
    data=st.data(),
    shape=st.sampled_from(SHAPES + [(6, 4)]),
    complex_=st.booleans(),
    kind=st.sampled_from(["exact", "gapped"]),
)
def test_truncated_svd_rule(data, shape, complex_, kind):
    m, n = shape
    p = min(m, n)
    lam = data.draw(strategies.spectra(p, degeneracy=kind))
    s0 = to_singular_values(lam)
    ends = cluster_ends(s0)
    k = data.draw(st.sampled_from(ends))
    a = jnp.asarray(with_singular_values(data.draw(strategies.seeds()), m, n, s0, complex_))
    w = weights(0, (m, n), complex_)

    def f(a):
        u, s, vh = truncated_svd(a, k)
        out = {
            "s": _sum_clusters(s, [e for e in ends if e <= k]),
            "proj_u": u @ _h(u),
            "proj_v": _h(vh) @ vh,
            "polar": u @ vh,
            # ||W o (A - U_k U_k^H A)||^2: the truncation error, gauge invariant at any
            # degeneracy inside the kept block
            "loss": jnp.sum(jnp.abs(w * (a - u @ (_h(u) @ a))) ** 2),
        }
        if kind == "gapped":
            out["recon"] = (u * s[None, :]) @ vh
        return out

    check_grads(f, a, **FD)


@pytest.mark.parametrize("complex_", [True])
def test_truncated_svd_degenerate_discarded_and_rank_deficient(complex_):
    # Kept block degenerate inside (s1 = s2), discarded block degenerate and partly zero.
    m, n, k = 6, 5, 2
    a = jnp.asarray(with_singular_values(13, m, n, [3.0, 3.0, 1.0, 1.0], complex_))
    w = weights(13, (m, n), complex_)

    def f(a):
        u, s, vh = truncated_svd(a, k)
        return {
            "s": jnp.sum(s**2),
            "proj_u": u @ _h(u),
            "loss": jnp.sum(jnp.abs(w * (a - (a @ _h(vh)) @ vh)) ** 2),
        }

    check_grads(f, a, **FD)


def test_truncated_svd_is_the_exact_derivative_of_the_kept_triplets():
    # On a generic matrix the truncated rule equals the sliced full rule, complex included.
    m, n, k = 5, 7, 3
    a = jnp.asarray(with_singular_values(17, m, n, [5.0, 4.0, 3.0, 2.0, 1.0], True))
    da = weights(17, (m, n), True)
    (u, s, vh), (du, ds, dvh) = jax.jvp(svd, (a,), (da,))
    (uk, sk, vhk), (duk, dsk, dvhk) = jax.jvp(lambda a: truncated_svd(a, k), (a,), (da,))
    np.testing.assert_allclose(uk, u[:, :k])
    np.testing.assert_allclose(duk, du[:, :k], atol=1e-12)
    np.testing.assert_allclose(dsk, ds[:k], atol=1e-12)
    np.testing.assert_allclose(dvhk, dvh[:k], atol=1e-12)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def naive_truncated_svd(a, k):
    """The common approximation: the full-SVD rule restricted to the kept block, i.e. dropping
    the discarded singular vectors and the null spaces (the (I - U_k U_k^H) and
    (I - V_k V_k^H) terms). The complex phase term is kept, so that only the truncation differs.
    """
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    return u[:, :k], s[:k], vh[:k]


@naive_truncated_svd.defjvp
def _naive_jvp(k, primals, tangents):
    (a,), (da,) = primals, tangents
    u, s, vh = naive_truncated_svd(a, k)
    v = _h(vh)
    dp = _h(u) @ da @ v
    eye = jnp.eye(k)
    f = 1 / (s[None, :] ** 2 - s[:, None] ** 2 + eye) - eye
    phase = eye * (1j * jnp.imag(jnp.diagonal(dp)) / s)[None, :] if jnp.iscomplexobj(a) else 0
    du = u @ (f * (dp * s[None, :] + s[:, None] * _h(dp)) + phase)
    dv = v @ (f * (s[:, None] * dp + _h(dp) * s[None, :]))
    return (u, s, vh), (du, jnp.real(jnp.diagonal(dp)), _h(dv))


@pytest.mark.parametrize("complex_", [False, True])
def test_truncated_svd_regression_discarded_term(complex_):
    # Francuz, Schuch, Vanhecke, PRR 7, 013237 (2025): without the discarded-vector terms the
    # gradient of a loss through a truncated SVD is wrong. Ours matches finite differences; the
    # naive rule (kept block only) does not.
    m, n, k = 6, 5, 2
    a = jnp.asarray(with_singular_values(19, m, n, [5.0, 4.0, 2.0, 1.5, 1.0], complex_))
    w = weights(19, (m, n), complex_)

    def loss(svd_fn):
        def f(a):
            u, s, vh = svd_fn(a)
            return jnp.sum(jnp.abs(w * ((u * s[None, :]) @ vh)) ** 2)

        return f

    ours = loss(lambda a: truncated_svd(a, k))
    naive = loss(lambda a: naive_truncated_svd(a, k))
    check_grads(ours, a, **FD)
    # The naive rule against central differences along a few directions (error ~1e-9 here).
    g_ours, g_naive = jax.jit(jax.grad(ours))(a), jax.jit(jax.grad(naive))(a)
    h = 1e-5
    for seed in range(3):
        da = weights(100 + seed, (m, n), complex_)
        fd = (ours(a + h * da) - ours(a - h * da)) / (2 * h)
        np.testing.assert_allclose(jnp.real(jnp.sum(g_ours * da)), fd, rtol=1e-7)
        naive_error = abs(jnp.real(jnp.sum(g_naive * da)) - fd) / abs(fd)
        assert naive_error > 1e-2  # not a round-off effect: the dropped term is O(1)
    rel = jnp.linalg.norm(g_ours - g_naive) / jnp.linalg.norm(g_ours)
    assert rel > 0.1


# --------------------------------------------------------------------------------------------
# policies, transforms, dtypes


def test_svd_policies():
    a = jnp.asarray(with_singular_values(23, 4, 4, [2.0, 2.0, 1.0, 0.5], False))

    def proj(pol):
        return lambda a: jnp.sum(svd(a, degeneracy=pol)[0][:, :2] ** 2 * jnp.arange(4.0)[:, None])

    with pytest.raises(Exception, match="degenerate"):
        jax.block_until_ready(jax.jit(jax.grad(proj(RaiseOnDegeneracy())))(a))
    g = jax.grad(proj(LorentzianBroadening(1e-3)))(a)
    assert jnp.all(jnp.isfinite(g))
    # Lorentzian is biased by O(width^2 / gap^2) on gapped pairs only; fine on a gapped matrix.
    b = jnp.asarray(with_singular_values(23, 4, 4, [4.0, 3.0, 2.0, 1.0], False))
    np.testing.assert_allclose(
        jax.grad(proj(LorentzianBroadening(1e-6)))(b), jax.grad(proj(None))(b), rtol=1e-8
    )


def test_svd_batched_and_vmap_and_jacobians():
    a = jnp.stack([with_singular_values(i, 4, 3, [3.0, 2.0, 1.0], True) for i in range(3)])
    da = weights(29, a.shape, True)
    jvp = jax.jit(lambda a, da: jax.jvp(lambda a: svd(a)[1], (a,), (da,))[1])
    batched = jvp(a, da)
    mapped = jax.jit(jax.vmap(jvp))(a, da)
    np.testing.assert_allclose(batched, mapped, atol=1e-12)
    x = jnp.asarray(with_singular_values(31, 3, 3, [3.0, 2.0, 1.0], False))

    def f(x):
        return truncated_svd(x, 2)[1]

    np.testing.assert_allclose(jax.jit(jax.jacfwd(f))(x), jax.jit(jax.jacrev(f))(x), atol=1e-12)
    h = jax.jit(jax.hessian(lambda x: jnp.sum(svd(x)[1] ** 3)))(x)
    np.testing.assert_allclose(h, jnp.swapaxes(jnp.swapaxes(h, 0, 2), 1, 3), atol=1e-10)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex64])
def test_svd_single_precision(dtype):
    complex_ = dtype == jnp.complex64
    a = jnp.asarray(with_singular_values(37, 4, 3, [3.0, 2.0, 1.0], complex_), dtype)
    da = jnp.asarray(weights(37, (4, 3), complex_), dtype)
    w = jnp.arange(4.0, dtype=jnp.float32)[:, None]

    def f(a):
        u, s, vh = truncated_svd(a, 2)
        return jnp.sum(jnp.abs(u @ _h(u)) ** 2 * w) + jnp.sum(s**2)

    _, jv = jax.jit(lambda a, da: jax.jvp(f, (a,), (da,)))(a, da)
    grad = jax.jit(jax.grad(f))(a)
    assert grad.dtype == a.dtype and jv.dtype == jnp.float32
    np.testing.assert_allclose(jv, jnp.real(jnp.sum(grad * da)), rtol=1e-4, atol=1e-4)
    # the exact gradient of sum(s^2) = ||A||_F^2 is 2A (conjugated in JAX's convention); the
    # rule gives 2 U S V^H, off by twice the residual of the decomposition
    g = jax.jit(jax.grad(lambda a: jnp.sum(svd(a)[1] ** 2)))(a)
    np.testing.assert_allclose(g, 2 * jnp.conj(a), rtol=0, atol=2 * backward_error_bound(a))


# --------------------------------------------------------------------------------------------
# errors


def test_svd_errors():
    with pytest.raises(ValueError, match=r"svd: expected a matrix .* shape \(3,\)"):
        svd(jnp.ones(3))
    # integers are promoted (as jnp.linalg.svd does); half precision is refused
    np.testing.assert_allclose(svd(jnp.array([[3, 0], [0, 4]]))[1], [4.0, 3.0])
    with pytest.raises(TypeError, match="svd: expected `a` to have dtype .*float16"):
        svd(jnp.ones((3, 3), dtype=jnp.float16))
    with pytest.raises(TypeError, match="full_matrices"):
        svd(jnp.ones((3, 3)), full_matrices="yes")
    with pytest.raises(ValueError, match=r"`k` must satisfy 1 <= k <= min\(m, n\) = 3 .* k=4"):
        truncated_svd(jnp.ones((3, 5)), 4)
    with pytest.raises(ValueError, match=r"k=0"):
        truncated_svd(jnp.ones((3, 5)), 0)
    with pytest.raises(ValueError, match=r"no singular values, so `k` must be 0, got k=1"):
        truncated_svd(jnp.ones((0, 5)), 1)
    with pytest.raises(TypeError, match="static Python int"):
        jax.jit(lambda a, k: truncated_svd(a, k))(jnp.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="truncated_svd: expected a matrix"):
        truncated_svd(jnp.ones(3), 1)


def test_truncated_svd_at_a_split_multiplet():
    # s_k = s_{k+1}: the truncation itself is ambiguous (which member of the doublet {2, 2} is
    # kept is decided by round-off), so the kept subspace has no derivative. The default policy
    # masks the kept-discarded pair: finite, never NaN, but only right for losses that do not
    # depend on the split; RaiseOnDegeneracy says so instead. Callers that truncate
    # (diffsci.tn.trg, hotrg) never cut through a multiplet.
    a = jnp.asarray(with_singular_values(31, 4, 4, [3.0, 2.0, 2.0, 1.0], False))
    w = weights(31, (4, 4), False)

    def kept_projection(policy):
        def loss(a):
            u, _, _ = truncated_svd(a, 2, degeneracy=policy)
            return jnp.sum(w * (u @ u.T))  # gauge invariant: a function of U_k U_k^T

        return loss

    assert bool(jnp.all(jnp.isfinite(jax.grad(kept_projection(None))(a))))
    with pytest.raises(Exception, match="degenerate"):
        jax.block_until_ready(jax.jit(jax.grad(kept_projection(RaiseOnDegeneracy())))(a))
    # Split by 1e-9 instead: the derivative exists, of order 1/gap, and the default gives it.
    # A policy with a larger tolerance turns such a near-split into an error.
    b = jnp.asarray(with_singular_values(31, 4, 4, [3.0, 2.0 + 1e-9, 2.0, 1.0], False))
    grad = jax.grad(kept_projection(None))(b)
    assert float(jnp.max(jnp.abs(grad))) > 1e6
    with pytest.raises(Exception, match="degenerate"):
        policy = RaiseOnDegeneracy(rtol=1e-6)
        jax.block_until_ready(jax.jit(jax.grad(kept_projection(policy)))(b))
