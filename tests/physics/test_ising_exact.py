"""Exact enumeration of Ising models against published values, transfer matrices and brute force."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.physics as dp

try:
    from diffsci.testing import check_grads
except ImportError:  # diffsci.testing is being written in parallel
    from jax.test_util import check_grads as _jax_check_grads

    def check_grads(f, *args, order=1, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6, eps=1e-5):
        _jax_check_grads(f, args, order=order, modes=modes, atol=atol, rtol=rtol, eps=eps)


BETA_C = np.log(1 + np.sqrt(2)) / 2


def transfer_matrix_log_z(rows, cols, beta, coupling=1.0, field=0.0):
    """ln Z of the periodic rows x cols Ising model from the row-to-row transfer matrix (numpy).

    Independent of the code under test: T[a, b] = exp(beta (J sum_c a_c b_c + (K(a) + K(b))/2 +
    h (M(a) + M(b))/2)) with K the periodic in-row bond sum and M the row magnetization;
    Z = Tr T^rows = sum_k lambda_k^rows.
    """
    configs = np.array(list(itertools.product([1, -1], repeat=cols)), dtype=float)
    intra = coupling * np.sum(configs * np.roll(configs, -1, axis=1), axis=1)
    mag = configs.sum(axis=1)
    inter = coupling * configs @ configs.T
    half = (intra + field * mag) / 2
    t = np.exp(beta * (inter + half[:, None] + half[None, :]))
    lam = np.linalg.eigvalsh(t)
    top = np.max(np.abs(lam))
    return rows * np.log(top) + np.log(np.sum((lam / top) ** rows))


def brute_force(couplings, beta, h):
    """ln Z, <s_i> and <s_i s_j> by a plain loop over configurations (numpy)."""
    j = np.asarray(couplings)
    n = j.shape[0]
    s = np.array(list(itertools.product([1, -1], repeat=n)), dtype=float)
    e = -0.5 * np.einsum("ki,ij,kj->k", s, j, s) - s @ h
    w = -beta * e
    shift = w.max()
    p = np.exp(w - shift)
    z = p.sum()
    p /= z
    return np.log(z) + shift, p @ s, np.einsum("k,ki,kj->ij", p, s, s)


def test_published_4x4_critical_point():
    # 4x4 periodic square lattice at beta_c = ln(1 + sqrt 2)/2 (values quoted in issue 8,
    # equal to Kaufman's finite-lattice formula, Phys. Rev. 76, 1232 (1949)).
    couplings = dp.square_lattice_couplings(4)
    t = dp.ising_thermodynamics(couplings, BETA_C)
    np.testing.assert_allclose(float(t.log_z) / 16, 0.9701197162, atol=1e-10)
    np.testing.assert_allclose(float(t.energy) / 16, -1.5656237876, atol=1e-10)
    np.testing.assert_allclose(float(t.specific_heat) / 16, 0.7832668259, atol=1e-10)
    # the same from jax.grad of ising_exact directly
    lnz = lambda b: dp.ising_exact(couplings, b)
    np.testing.assert_allclose(-float(jax.grad(lnz)(BETA_C)) / 16, -1.5656237876, atol=1e-10)
    c = BETA_C**2 * float(jax.grad(jax.grad(lnz))(BETA_C)) / 16
    np.testing.assert_allclose(c, 0.7832668259, atol=1e-10)


@pytest.mark.parametrize(
    "rows,cols,beta,field",
    [(4, 4, 0.3, 0.0), (3, 4, BETA_C, 0.0), (4, 3, 0.7, 0.2), (2, 5, 0.5, -0.3), (5, 4, 0.44, 0.1)],
)
def test_against_transfer_matrix(rows, cols, beta, field):
    couplings = dp.square_lattice_couplings(rows, cols)
    h = field * jnp.ones(rows * cols)
    lnz = float(dp.ising_exact(couplings, beta, h))
    np.testing.assert_allclose(lnz, transfer_matrix_log_z(rows, cols, beta, 1.0, field), rtol=1e-12)


def test_energy_and_specific_heat_against_transfer_matrix_differences():
    rows, cols, beta = 3, 4, 0.6
    couplings = dp.square_lattice_couplings(rows, cols)
    t = dp.ising_thermodynamics(couplings, beta)
    d = 1e-4
    f = [transfer_matrix_log_z(rows, cols, beta + k * d) for k in (-2, -1, 0, 1, 2)]
    first = (f[0] - 8 * f[1] + 8 * f[3] - f[4]) / (12 * d)
    second = (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * d**2)
    np.testing.assert_allclose(float(t.energy), -first, rtol=1e-9)
    np.testing.assert_allclose(float(t.specific_heat), beta**2 * second, rtol=1e-6)
    np.testing.assert_allclose(float(t.free_energy), -f[2] / beta, rtol=1e-12)
    np.testing.assert_allclose(float(t.entropy), beta * (float(t.energy) + f[2] / beta), rtol=1e-12)


def test_sk_with_field_against_brute_force_and_gradients():
    n, beta = 10, 1.3
    couplings = dp.sk_couplings(n, key=jax.random.key(42))
    h = 0.3 * jax.random.normal(jax.random.key(1), (n,))
    lnz, mag, corr = brute_force(couplings, beta, np.asarray(h))
    np.testing.assert_allclose(float(dp.ising_exact(couplings, beta, h)), lnz, rtol=1e-12)
    # d lnZ / dh_i = beta <s_i>; d lnZ / dJ_ij = beta <s_i s_j> / 2 (two entries per bond)
    g_j, g_h = jax.grad(dp.ising_exact, argnums=(0, 2))(couplings, beta, h)
    np.testing.assert_allclose(g_h, beta * mag, rtol=1e-10, atol=1e-12)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(np.asarray(g_j)[off], beta * corr[off] / 2, rtol=1e-10, atol=1e-12)
    # chunking does not change the result
    np.testing.assert_allclose(
        float(dp.ising_exact(couplings, beta, h, chunk_size=8)), lnz, rtol=1e-12
    )


def test_derivative_rules_in_beta_and_field():
    n = 6
    couplings = dp.sk_couplings(n, key=jax.random.key(3))
    h = 0.2 * jnp.arange(n) - 0.5
    check_grads(lambda b, f: dp.ising_exact(couplings, b, f), jnp.array(0.8), h, order=1)


def test_hopfield_couplings_and_stored_patterns():
    rng = np.random.default_rng(0)
    patterns = rng.choice([-1.0, 1.0], size=(2, 12))
    couplings = dp.hopfield_couplings(patterns)
    expected = patterns.T @ patterns / 12
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(couplings, expected, rtol=1e-14)
    # a stored pattern is a local minimum: every single flip raises the energy
    e = dp.ising_energy(patterns[0], couplings)
    flips = patterns[0] * (1 - 2 * np.eye(12))
    assert bool(jnp.all(dp.ising_energy(flips, couplings) > e))
    lnz, _, _ = brute_force(couplings, 2.0, np.zeros(12))
    np.testing.assert_allclose(float(dp.ising_exact(couplings, 2.0)), lnz, rtol=1e-12)


def test_sk_instance_is_seeded_symmetric():
    a = dp.sk_couplings(16, key=jax.random.key(7))
    b = dp.sk_couplings(16, key=jax.random.key(7))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, a.T)
    assert float(jnp.max(jnp.abs(jnp.diag(a)))) == 0.0
    big = dp.sk_couplings(200, key=jax.random.key(0))
    var = float(jnp.var(big[np.triu_indices(200, 1)]))
    assert abs(var * 200 - 1) < 0.05  # J_ij ~ N(0, 1/n); 19900 samples: 1% statistical error


def test_energy_convention_and_errors():
    couplings = dp.square_lattice_couplings(2, 3)
    up = jnp.ones(6)
    # 2x3 torus: 6 horizontal bonds (3-periodic rows), vertical side of length 2 doubles: 6 bonds
    assert float(dp.ising_energy(up, couplings)) == -12.0
    assert float(dp.ising_energy(up, couplings, 0.5 * up)) == -15.0
    with pytest.raises(ValueError, match="n <= 24"):
        dp.ising_exact(jnp.zeros((25, 25)), 1.0)
    with pytest.raises(ValueError, match="square"):
        dp.ising_exact(jnp.zeros((3, 4)), 1.0)
    with pytest.raises(ValueError, match="field"):
        dp.ising_exact(jnp.zeros((3, 3)), 1.0, jnp.zeros(4))
