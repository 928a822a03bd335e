"""Tests of diffsci.linalg.eigsh: values, derivatives (first and second order), errors.

References come from outside the code under test: NumPy dense diagonalization, finite
differences (diffsci.testing), and the free-fermion closed form of the periodic transverse-field
Ising chain (Pfeuty 1970), whose formulas are themselves checked against dense exact
diagonalization in tests/physics/test_spin_chains.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.linalg as dl
from diffsci.linalg import EigshResult, eigsh
from diffsci.linalg import eigh as dense_eigh
from diffsci.physics import TransverseFieldIsing, tfim_exact
from diffsci.testing import check_grads


def _random_hermitian(rng, n, complex_=False):
    a = rng.normal(size=(n, n))
    if complex_:
        a = a + 1j * rng.normal(size=(n, n))
    return (a + a.conj().T) / 2


def _dense_mv(params, v):
    """H(t) v with H(t) = A + sum_a t_a B_a (A, B closed-over constants: not differentiated)."""
    A, B, t = params["A"], params["B"], params["t"]
    return A @ v + jnp.einsum("a,aij,j->i", t, B, v)


def _problem(n=40, nb=2, complex_=False, seed=0):
    rng = np.random.default_rng(seed)
    A = _random_hermitian(rng, n, complex_)
    B = np.stack([_random_hermitian(rng, n, complex_) for _ in range(nb)])
    t = 0.3 * rng.normal(size=nb)
    O = np.diag(np.linspace(-1.0, 1.0, n))
    dtype = np.complex128 if complex_ else np.float64
    v0 = jnp.asarray(rng.normal(size=n) + (1j * rng.normal(size=n) if complex_ else 0), dtype)
    return jnp.asarray(A), jnp.asarray(B), jnp.asarray(t), jnp.asarray(O), v0


def _loss_sparse(A, B, O, v0, k, which="SA"):
    @jax.jit
    def f(t):
        r = eigsh(_dense_mv, {"A": A, "B": B, "t": t}, v0, k=k, which=which)
        psi = r.eigenvectors
        obs = jnp.real(jnp.einsum("ik,ij,jk->k", psi.conj(), O, psi))  # gauge invariant
        return jnp.concatenate([r.eigenvalues, obs])

    return f


def _loss_dense(A, B, O, k, which="SA"):
    @jax.jit
    def f(t):
        w, V = dense_eigh(A + jnp.einsum("a,aij->ij", t, B))
        if which == "LA":
            w, V = w[::-1][:k][::-1], V[:, ::-1][:, :k][:, ::-1]
        else:
            w, V = w[:k], V[:, :k]
        obs = jnp.real(jnp.einsum("ik,ij,jk->k", V.conj(), O, V))
        return jnp.concatenate([w, obs])

    return f


# ------------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["SA", "LA"])
def test_values_match_dense(which):
    A, B, t, O, v0 = _problem(n=60)
    H = np.asarray(A) + np.einsum("a,aij->ij", np.asarray(t), np.asarray(B))
    r = jax.jit(lambda t: eigsh(_dense_mv, {"A": A, "B": B, "t": t}, v0, k=3, which=which))(t)
    assert isinstance(r, EigshResult)
    w = np.linalg.eigvalsh(H)
    ref = w[:3] if which == "SA" else w[-3:]
    np.testing.assert_allclose(r.eigenvalues, ref, rtol=1e-11, atol=1e-11)
    assert r.eigenvectors.shape == (60, 3)
    assert bool(r.converged)
    assert np.all(np.asarray(r.residual_norms) < 1e-9)
    res = H @ np.asarray(r.eigenvectors) - np.asarray(r.eigenvectors) * np.asarray(r.eigenvalues)
    np.testing.assert_allclose(np.linalg.norm(res, axis=0), r.residual_norms, atol=1e-12)
    np.testing.assert_allclose(r.eigenvectors.T @ r.eigenvectors, np.eye(3), atol=1e-12)


def test_tiny_space_and_nd_start_vector():
    """dim smaller than the Krylov basis (the space is exhausted), v0 shaped (2, 2, 2)."""
    rng = np.random.default_rng(3)
    H = jnp.asarray(_random_hermitian(rng, 8))
    v0 = jnp.ones((2, 2, 2))
    r = eigsh(lambda p, v: (p @ v.reshape(-1)).reshape(v.shape), H, v0, k=8)
    np.testing.assert_allclose(r.eigenvalues, np.linalg.eigvalsh(np.asarray(H)), atol=1e-12)
    assert r.eigenvectors.shape == (8, 8)


def test_tfim_critical_energy_value():
    """E0 = -2 / sin(pi / (2N)) at J = h = 1 (Pfeuty 1970); N = 12 here, N = 20 in the
    benchmark (-25.49098969)."""
    N = 12
    m = TransverseFieldIsing(N)
    v0 = jnp.ones(2**N)
    r = jax.jit(lambda p: eigsh(m.matvec, p, v0))(m.params(1.0, 1.0))
    np.testing.assert_allclose(r.eigenvalues[0], -2 / np.sin(np.pi / (2 * N)), rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# derivatives against the closed form, FD and dense eigh
# ------------------------------------------------------------------------------------------------


def test_tfim_derivatives_closed_form_n10():
    """E0, dE0/dg, d2E0/dg2 and the fidelity susceptibility of the periodic TFIM at N = 10 from
    eigsh + AD, against the free-fermion closed form, to 1e-8 relative."""
    N = 10
    m = TransverseFieldIsing(N)
    v0 = jnp.ones(2**N) / 2 ** (N / 2)

    def ground(g):
        r = eigsh(m.matvec, m.params(1.0, g), v0)
        return r.eigenvalues[0], r.eigenvectors[:, 0]

    @jax.jit
    def quantities(g):
        energy = lambda g: ground(g)[0]
        (e0, d1), (_, d2) = jax.jvp(jax.value_and_grad(energy), (g,), (1.0,))
        psi, dpsi = jax.jvp(lambda g: ground(g)[1], (g,), (1.0,))
        chi = jnp.vdot(dpsi, dpsi).real - jnp.abs(jnp.vdot(psi, dpsi)) ** 2
        return jnp.stack([e0, d1, d2, chi])

    for g in (1.0, 0.7):
        got = np.asarray(quantities(g))
        ex = tfim_exact(N, g)
        ref = np.array([ex.energy, ex.denergy, ex.d2energy, ex.fidelity_susceptibility])
        np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_tfim_reverse_second_order():
    """d2E0/dg2 by reverse-over-reverse (the custom_jvp rule transposed, then differentiated)."""
    N = 8
    m = TransverseFieldIsing(N)
    v0 = jnp.ones(2**N)
    e0 = lambda g: eigsh(m.matvec, m.params(1.0, g), v0).eigenvalues[0]
    d2 = jax.jit(jax.grad(jax.grad(e0)))(1.2)
    np.testing.assert_allclose(d2, tfim_exact(N, 1.2).d2energy, rtol=1e-8)


@pytest.mark.parametrize("complex_", [False, True])
def test_grads_fd_and_dense(complex_):
    """k = 3 lowest: eigenvalues and a gauge-invariant observable per eigenvector, against FD
    (check_grads, forward and reverse) and against the dense eigh derivative."""
    A, B, t, O, v0 = _problem(n=40, complex_=complex_, seed=1 + complex_)
    f = _loss_sparse(A, B, O, v0, k=3)
    check_grads(f, t, order=1, modes=("fwd", "rev"))
    fd = _loss_dense(A, B, O, k=3)
    np.testing.assert_allclose(f(t), fd(t), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(jax.jacfwd(f)(t), jax.jacrev(fd)(t), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(jax.jacrev(f)(t), jax.jacfwd(fd)(t), rtol=1e-8, atol=1e-9)


def test_largest_eigenpairs_grads():
    A, B, t, O, v0 = _problem(n=30, seed=4)
    f = _loss_sparse(A, B, O, v0, k=2, which="LA")
    fd = _loss_dense(A, B, O, k=2, which="LA")
    np.testing.assert_allclose(f(t), fd(t), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(jax.jacrev(f)(t), jax.jacrev(fd)(t), rtol=1e-8, atol=1e-9)


def test_second_order_check_grads():
    A, B, t, O, v0 = _problem(n=20, nb=2, seed=5)

    @jax.jit
    def f(t):
        r = eigsh(_dense_mv, {"A": A, "B": B, "t": t}, v0, k=2)
        psi = r.eigenvectors[:, 1]
        return r.eigenvalues[0] + psi @ O @ psi

    # f is compiled already: jit=False calls it as it is (its derivatives are transformations
    # of the compiled f) rather than comparing a second compiled copy with it. The first-order
    # vmap checks (vmap, jvp of vmap, grad of vmap, vmap of grad) run on the same eigsh in
    # test_grads_fd_and_dense, real and complex.
    check_grads(f, t, order=2, modes=("fwd", "rev"), jit=False, vmap=False)


def test_degenerate_multiplet_gauge_invariant():
    """A prescribed spectrum with a threefold multiplet covered by k (block Lanczos): the sum of
    the multiplet's eigenvalues and the expectation of an observable in the multiplet's projector
    are smooth, and their gradients match finite differences of dense diagonalization."""
    rng = np.random.default_rng(6)
    n = 30
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    w = np.concatenate([[-3.0, -2.0, -2.0, -2.0], np.linspace(-1.0, 4.0, n - 4)])
    A = jnp.asarray(q @ np.diag(w) @ q.T)
    B = jnp.asarray(np.stack([_random_hermitian(rng, n) for _ in range(2)]))
    O = jnp.asarray(_random_hermitian(rng, n))
    v0 = jnp.asarray(rng.normal(size=n))
    t0 = jnp.zeros(2)

    @jax.jit
    def f(t):
        r = eigsh(_dense_mv, {"A": A, "B": B, "t": t}, v0, k=4, block_size=3)
        P = r.eigenvectors[:, 1:4]
        return jnp.stack([jnp.sum(r.eigenvalues[1:4]), jnp.trace(P.T @ O @ P)])

    def dense(t):
        H = np.asarray(A) + np.einsum("a,aij->ij", t, np.asarray(B))
        w, V = np.linalg.eigh(H)
        P = V[:, 1:4]
        return np.array([w[1:4].sum(), np.trace(P.T @ np.asarray(O) @ P)])

    np.testing.assert_allclose(f(t0), dense(np.zeros(2)), rtol=1e-10)
    h = 1e-5
    fd = np.stack([(dense(h * e) - dense(-h * e)) / (2 * h) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(jax.jacrev(f)(t0), fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jax.jacfwd(f)(t0), fd, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------------------
# errors and non-convergence
# ------------------------------------------------------------------------------------------------


def test_static_errors():
    H = jnp.eye(4)
    mv = lambda p, v: p @ v
    with pytest.raises(ValueError, match="larger than the dimension"):
        eigsh(mv, H, jnp.ones(4), k=5)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        eigsh(mv, H, jnp.ones(3))
    with pytest.raises(ValueError, match="must return an array shaped like `v0`"):
        eigsh(lambda p, v: jnp.ones(5), H, jnp.ones(4))
    with pytest.raises(ValueError, match="complex"):
        eigsh(lambda p, v: (p @ v).astype(jnp.complex128), H, jnp.ones(4))
    with pytest.raises(ValueError, match="which"):
        eigsh(mv, H, jnp.ones(4), which="LM")
    with pytest.raises(TypeError, match="floating"):
        eigsh(mv, H, jnp.ones(4, jnp.int32))


def test_non_hermitian_raises():
    rng = np.random.default_rng(7)
    H = jnp.asarray(rng.normal(size=(10, 10)))
    with pytest.raises(Exception, match="not Hermitian"):
        jax.block_until_ready(jax.jit(lambda H: eigsh(lambda p, v: p @ v, H, jnp.ones(10)))(H))


def test_non_convergence_reported():
    A, B, t, O, v0 = _problem(n=200, seed=8)
    prm = {"A": A, "B": B, "t": t}
    r = eigsh(_dense_mv, prm, v0, k=2, ncv=6, max_iters=8, throw=False)
    assert not bool(r.converged)
    assert int(r.iterations) <= 10
    with pytest.raises(Exception, match="did not converge"):
        jax.block_until_ready(eigsh(_dense_mv, prm, v0, k=2, ncv=6, max_iters=8).eigenvalues)


def test_exported():
    assert dl.eigsh is eigsh


def test_vmap_values_and_gradients():
    A, B, t, O, v0 = _problem(n=30, seed=1)
    f, fd = _loss_sparse(A, B, O, v0, k=2), _loss_dense(A, B, O, k=2)
    ts = jnp.stack([t, t + 0.1])
    np.testing.assert_allclose(jax.vmap(f)(ts), jax.vmap(fd)(ts), atol=1e-11)
    np.testing.assert_allclose(
        jax.vmap(jax.jacrev(f))(ts), jax.vmap(jax.jacrev(fd))(ts), rtol=1e-8, atol=1e-10
    )
