"""Spin-chain operators against matrices built independently here with Kronecker products, and
the TFIM closed form against dense exact diagonalization with finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.linalg import eigsh
from diffsci.physics import (
    TransverseFieldIsing,
    XXZChain,
    correlation_zz,
    expect_x,
    expect_z,
    tfim_exact,
)

X = np.array([[0.0, 1.0], [1.0, 0.0]])
Y = np.array([[0.0, -1j], [1j, 0.0]])
Z = np.diag([1.0, -1.0])
SP = np.array([[0.0, 1.0], [0.0, 0.0]])  # sigma^+ = (X + iY)/2: down (1) -> up (0)


def ops(L, **at):
    """kron(op_0, ..., op_{L-1}) with op_s = at[f"s{s}"] (identity elsewhere)."""
    out = np.eye(1)
    for s in range(L):
        out = np.kron(out, at.get(f"s{s}", np.eye(2)))
    return out


def site_op(op, i, L):
    return ops(L, **{f"s{i}": op})


def pair_op(a, i, b, j, L):
    return ops(L, **{f"s{i}": a, f"s{j}": b})


def bonds(L, periodic):
    return [(b, (b + 1) % L) for b in range(L if periodic else L - 1)]


def dense_tfim(L, J, h, periodic):
    H = np.zeros((2**L, 2**L))
    for b, (i, j) in enumerate(bonds(L, periodic)):
        H -= J[b] * pair_op(Z, i, Z, j, L)
    for i in range(L):
        H -= h[i] * site_op(X, i, L)
    return H


def dense_xxz(L, J, Delta, h, periodic, phi=None):
    H = np.zeros((2**L, 2**L), complex)
    for b, (i, j) in enumerate(bonds(L, periodic)):
        if phi is None:
            xy = pair_op(X, i, X, j, L) + pair_op(Y, i, Y, j, L)
        else:
            t = np.exp(1j * phi[b]) * pair_op(SP, i, SP.T, j, L)
            xy = 2 * (t + t.conj().T)
        H += J[b] * (xy + Delta[b] * pair_op(Z, i, Z, j, L))
    for i in range(L):
        H += h[i] * site_op(Z, i, L)
    return H if phi is not None else H.real


@pytest.mark.parametrize("periodic", [True, False])
def test_matvecs_match_kronecker_matrices(periodic):
    rng = np.random.default_rng(0)
    L = 5
    v = rng.normal(size=2**L) + 1j * rng.normal(size=2**L)
    tf = TransverseFieldIsing(L, periodic)
    p = tf.params(rng.normal(size=tf.num_bonds), rng.normal(size=L))
    H = dense_tfim(L, np.asarray(p["J"]), np.asarray(p["h"]), periodic)
    np.testing.assert_allclose(tf.matvec(p, jnp.asarray(v)), H @ v, atol=1e-12)
    xxz = XXZChain(L, periodic)
    nb = xxz.num_bonds
    J, D, h, phi = rng.normal(size=nb), rng.normal(size=nb), rng.normal(size=L), rng.normal(size=nb)
    p = xxz.params(J, D, h)
    np.testing.assert_allclose(
        xxz.matvec(p, jnp.asarray(v.real)), dense_xxz(L, J, D, h, periodic) @ v.real, atol=1e-12
    )
    p = xxz.params(J, D, h, phi)
    Hc = dense_xxz(L, J, D, h, periodic, phi)
    np.testing.assert_allclose(Hc, Hc.conj().T)
    np.testing.assert_allclose(xxz.matvec(p, jnp.asarray(v)), Hc @ v, atol=1e-12)
    # (2,)*L-shaped states work and keep their shape
    out = xxz.matvec(p, jnp.asarray(v).reshape((2,) * L))
    assert out.shape == (2,) * L


def test_observables_match_dense():
    rng = np.random.default_rng(1)
    L = 4
    psi = rng.normal(size=2**L) + 1j * rng.normal(size=2**L)
    psi /= np.linalg.norm(psi)
    ez = [np.vdot(psi, site_op(Z, i, L) @ psi).real for i in range(L)]
    ex = [np.vdot(psi, site_op(X, i, L) @ psi).real for i in range(L)]
    czz = np.vdot(psi, pair_op(Z, 0, Z, 3, L) @ psi).real
    np.testing.assert_allclose(expect_z(jnp.asarray(psi), L), ez, atol=1e-12)
    np.testing.assert_allclose(expect_x(jnp.asarray(psi), L), ex, atol=1e-12)
    np.testing.assert_allclose(correlation_zz(jnp.asarray(psi), L, 0, 3), czz, atol=1e-12)


@pytest.mark.parametrize("g", [0.6, 1.0, 1.4])
def test_tfim_exact_against_dense_diagonalization(g):
    """The closed form (our derivation) against dense ED of the Kronecker matrix, with central
    finite differences for the derivatives and the overlap for the fidelity susceptibility."""
    N = 8
    H = lambda g: dense_tfim(N, np.ones(N), g * np.ones(N), True)
    d = 1e-4
    (w, V), (wp, Vp), (wm, Vm) = (np.linalg.eigh(H(x)) for x in (g, g + d, g - d))
    ex = tfim_exact(N, g)
    np.testing.assert_allclose(ex.energy, w[0], rtol=1e-13)
    np.testing.assert_allclose(ex.denergy, (wp[0] - wm[0]) / (2 * d), rtol=1e-7)
    np.testing.assert_allclose(ex.d2energy, (wp[0] - 2 * w[0] + wm[0]) / d**2, rtol=1e-4)
    # |<psi(g-d)|psi(g+d)>| = 1 - chi (2d)^2 / 2 + O(d^4)
    chi_fd = 2 * (1 - abs(Vp[:, 0] @ Vm[:, 0])) / (2 * d) ** 2
    np.testing.assert_allclose(ex.fidelity_susceptibility, chi_fd, rtol=1e-5)
    if g == 1.0:
        np.testing.assert_allclose(ex.energy, -2 / np.sin(np.pi / (2 * N)), rtol=1e-13)
    with pytest.raises(ValueError, match="even"):
        tfim_exact(7, g)


def test_heisenberg_against_dense():
    """Random open XXZ chain at L = 10 and the uniform periodic Heisenberg chain at L = 8 (whose
    first excited level is an exact triplet: block Lanczos with block_size = 3)."""
    rng = np.random.default_rng(2)
    L = 10
    m = XXZChain(L, periodic=False)
    J, D, h = rng.uniform(0.5, 1.5, L - 1), rng.uniform(0.5, 1.5, L - 1), 0.2 * rng.normal(size=L)
    v0 = jnp.asarray(rng.normal(size=2**L))
    r = jax.jit(lambda p: eigsh(m.matvec, p, v0, k=3))(m.params(J, D, h))
    ref = np.linalg.eigvalsh(dense_xxz(L, J, D, h, False))[:3]
    np.testing.assert_allclose(r.eigenvalues, ref, rtol=1e-11)

    L = 8
    m = XXZChain(L, periodic=True)
    v0 = jnp.asarray(rng.normal(size=2**L))
    r = eigsh(m.matvec, m.params(1.0, 1.0, 0.0), v0, k=4, block_size=3)
    ref = np.linalg.eigvalsh(dense_xxz(L, np.ones(L), np.ones(L), np.zeros(L), True))[:4]
    np.testing.assert_allclose(r.eigenvalues, ref, rtol=1e-11)
    assert abs(ref[1] - ref[3]) < 1e-10  # the triplet


def test_heisenberg_triplet_gradient():
    """Gradient of the triplet's summed energy w.r.t. all bond couplings of a periodic
    Heisenberg chain (SU(2) keeps the triplet exactly degenerate) against dense FD."""
    L = 6
    m = XXZChain(L, periodic=True)
    rng = np.random.default_rng(3)
    J0 = 1.0 + 0.1 * rng.normal(size=L)
    v0 = jnp.asarray(rng.normal(size=2**L))

    @jax.jit
    def triplet(J):
        r = eigsh(m.matvec, m.params(J, 1.0, 0.0), v0, k=4, block_size=3)
        return jnp.sum(r.eigenvalues[1:4])

    def dense(J):
        return np.linalg.eigvalsh(dense_xxz(L, J, np.ones(L), np.zeros(L), True))[1:4].sum()

    w = np.linalg.eigvalsh(dense_xxz(L, J0, np.ones(L), np.zeros(L), True))
    assert w[3] - w[1] < 1e-10 and w[4] - w[3] > 1e-2
    np.testing.assert_allclose(triplet(jnp.asarray(J0)), dense(J0), rtol=1e-11)
    d = 1e-5
    fd = np.array([(dense(J0 + d * e) - dense(J0 - d * e)) / (2 * d) for e in np.eye(L)])
    np.testing.assert_allclose(jax.grad(triplet)(jnp.asarray(J0)), fd, rtol=1e-7, atol=1e-8)


def test_complex_twisted_chain_gradient():
    """A flux-threaded (complex Hermitian) XXZ ring: energies and the gradient of E0 w.r.t. the
    Peierls phases and couplings against dense diagonalization and FD."""
    L = 6
    m = XXZChain(L, periodic=True)
    rng = np.random.default_rng(4)
    J, D, h = rng.uniform(0.8, 1.2, L), rng.uniform(0.5, 1.0, L), 0.3 * rng.normal(size=L)
    phi = rng.uniform(0, 0.5, L)
    v0 = jnp.asarray(rng.normal(size=2**L) + 1j * rng.normal(size=2**L))

    @jax.jit
    def energies(phi, J):
        return eigsh(m.matvec, m.params(J, D, h, phi), v0, k=2).eigenvalues

    def dense(phi, J):
        return np.linalg.eigvalsh(dense_xxz(L, J, D, h, True, phi))[:2]

    np.testing.assert_allclose(energies(phi, J), dense(phi, J), rtol=1e-11)
    gphi, gJ = jax.grad(lambda a, b: energies(a, b)[0], argnums=(0, 1))(phi, J)
    d = 1e-6
    fphi = [(dense(phi + d * e, J)[0] - dense(phi - d * e, J)[0]) / (2 * d) for e in np.eye(L)]
    fJ = [(dense(phi, J + d * e)[0] - dense(phi, J - d * e)[0]) / (2 * d) for e in np.eye(L)]
    np.testing.assert_allclose(gphi, fphi, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gJ, fJ, rtol=1e-6, atol=1e-8)


def test_model_errors():
    with pytest.raises(ValueError, match="at least 3 sites"):
        TransverseFieldIsing(2, periodic=True)
    m = XXZChain(4)
    with pytest.raises(ValueError, match="2\\*\\*4"):
        m.matvec(m.params(), jnp.ones(8))
    with pytest.raises(ValueError, match="complex"):
        m.matvec(m.params(phi=0.1), jnp.ones(16))
    with pytest.raises(ValueError, match="shape"):
        m.matvec({"J": jnp.ones(3), "Delta": jnp.ones(4), "h": jnp.ones(4)}, jnp.ones(16))
