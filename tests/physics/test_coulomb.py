"""The trapped Coulomb gas: energy, gradients, ground states against the single-ring formula."""

import equinox as eqx
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

import diffsci.physics as dp
from diffsci.testing.strategies import particle_positions

try:
    from diffsci.testing import check_grads
except ImportError:  # diffsci.testing is being written in parallel
    from jax.test_util import check_grads as _jax_check_grads

    def check_grads(f, *args, order=1, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6, eps=1e-5):
        _jax_check_grads(f, args, order=order, modes=modes, atol=atol, rtol=rtol, eps=eps)


def ring_energy(n):
    """Single-ring ground state of the 2D trapped Coulomb gas (independent closed form).

    N charges on a ring of radius R: E(R) = S/R + N R^2 with S = (N/4) sum_k 1/sin(pi k/N);
    minimizing in R gives R^3 = S/(2N) and E = 3N (S/2N)^(2/3). The ring is the ground state
    for N <= 5.
    """
    s = n / 4 * sum(1 / np.sin(np.pi * k / n) for k in range(1, n))
    return 3 * n * (s / (2 * n)) ** (2 / 3)


def brute_energy(x):
    x = np.asarray(x)
    e = np.sum(x**2)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            e += 1 / np.linalg.norm(x[i] - x[j])
    return e


@pytest.mark.parametrize(
    "n,published", [(2, 1.5), (3, 3.93111209), (4, 7.34178244), (5, 11.69222690)]
)
def test_ground_state_2d_matches_ring(n, published):
    assert abs(ring_energy(n) - published) < 5e-9  # the numbers = the formula
    result = dp.coulomb_ground_state(n, 2, key=jax.random.key(n), starts=8)
    assert abs(float(result.energy) - ring_energy(n)) < 1e-7
    assert bool(jnp.all(result.converged))
    # virial identity at a minimum: E0 = 3 sum |x|^2
    assert abs(float(result.energy) - 3 * float(jnp.sum(result.positions**2))) < 1e-6
    # energy of the returned positions, by an independent loop
    assert abs(brute_energy(result.positions) - float(result.energy)) < 1e-10
    # Hessian: a minimum (no negative mode), centre of mass 2 (2-fold), breathing 6, rotation 0
    ev = np.asarray(result.hessian_eigenvalues)
    assert ev.min() > -1e-6
    assert np.sum(np.abs(ev - 2.0) < 1e-6) >= 2
    assert np.sum(np.abs(ev - 6.0) < 1e-6) >= 1
    assert np.sum(np.abs(ev) < 1e-6) >= 1


def test_ground_state_3d_two_particles():
    result = dp.coulomb_ground_state(2, 3, key=jax.random.key(0), starts=4)
    assert abs(float(result.energy) - 1.5) < 1e-10
    ev = np.asarray(result.hessian_eigenvalues)
    np.testing.assert_allclose(ev, [0, 0, 2, 2, 2, 6], atol=1e-6)


def test_ground_state_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n >= 2"):
        dp.coulomb_ground_state(1, 2, key=jax.random.key(0))


positions = hnp.arrays(
    np.float64,
    st.tuples(st.integers(2, 6), st.integers(1, 3)),
    elements=st.floats(-2, 2, allow_nan=False),
)


def _distinct(x, min_sep=1e-3):
    d = np.linalg.norm(x[:, None] - x[None], axis=-1) + np.eye(len(x))
    return d.min() > min_sep


@settings(deadline=None, max_examples=20)
@given(positions)
def test_energy_matches_brute_force_and_symmetries(x):
    if not _distinct(x):
        return
    e = float(dp.coulomb_energy(x))
    np.testing.assert_allclose(e, brute_energy(x), rtol=1e-12)
    # permutation invariance
    np.testing.assert_allclose(float(dp.coulomb_energy(x[::-1])), e, rtol=1e-12)
    # rotation/reflection invariance (trap is isotropic)
    d = x.shape[1]
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(d, d)))
    np.testing.assert_allclose(float(dp.coulomb_energy(x @ q)), e, rtol=1e-10)


@settings(deadline=None, max_examples=2)
@given(st.data())
def test_energy_gradients_against_finite_differences(data):
    x = data.draw(particle_positions(3, 2, min_separation=0.1, box=2.0))
    check_grads(dp.coulomb_energy, jnp.asarray(x), order=2, modes=("fwd", "rev"))


def test_gradient_finite_and_exact_at_close_separations():
    # two particles at separation r on the x axis: dH/dx_0 = -(1/r^2) ... exact
    for r in [1e-3, 1e-6, 1e-9]:
        x = jnp.array([[0.0, 0.0], [r, 0.0]])
        g = jax.grad(dp.coulomb_energy)(x)
        assert bool(jnp.all(jnp.isfinite(g)))
        np.testing.assert_allclose(g[0, 0], 1 / r**2, rtol=1e-12)
        np.testing.assert_allclose(g[1, 0], -1 / r**2 + 2 * r, rtol=1e-12)
        h = jax.hessian(dp.coulomb_energy)(x)
        assert bool(jnp.all(jnp.isfinite(h)))


def test_coincident_particles_raise_or_regularize():
    x = jnp.array([[0.5, 0.0], [0.5, 0.0], [0.0, 1.0]])
    with pytest.raises(RuntimeError, match="coincide"):
        dp.coulomb_energy(x)
    with pytest.raises(RuntimeError, match="coincide"):
        eqx.filter_jit(jax.grad(dp.coulomb_energy))(x).block_until_ready()
    with pytest.raises(RuntimeError, match="coincide"):
        jax.jit(jax.vmap(dp.coulomb_energy))(x[None]).block_until_ready()
    eps = 0.1
    e = dp.coulomb_energy(x, softening=eps)
    expected = 1 / eps + 1 / np.sqrt(1.25 + eps**2) * 2 + 0.25 * 2 + 1.0
    np.testing.assert_allclose(float(e), expected, rtol=1e-12)
    g = jax.grad(lambda y: dp.coulomb_energy(y, softening=eps))(x)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_dtype_follows_input_and_shape_errors():
    x = jnp.array([[0.0, 0.0], [1.0, 0.0]], dtype=jnp.float32)
    assert dp.coulomb_energy(x).dtype == jnp.float32
    assert jax.grad(dp.coulomb_energy)(x).dtype == jnp.float32
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        dp.coulomb_energy(jnp.zeros(3))


def test_virial_observable():
    x = jnp.array([[0.3, -0.2], [1.0, 0.5], [-0.7, 0.1]])
    # x . grad H = 2 V_trap - V_Coulomb (Euler: V_trap degree 2, V_Coulomb degree -1)
    g = jax.grad(dp.coulomb_energy)(x)
    np.testing.assert_allclose(float(dp.coulomb_virial(x)), float(jnp.sum(x * g)), rtol=1e-12)
