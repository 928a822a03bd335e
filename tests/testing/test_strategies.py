"""diffsci.testing.strategies produce what they promise."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffsci.testing import check_grads
from diffsci.testing import strategies as dst


def _assert_spectral(record, hermitian: bool):
    a, lam, v = record.matrix, record.eigenvalues, record.eigenvectors
    n = a.shape[0]
    assert a.shape == (n, n) and lam.shape == (n,) and v.shape == (n, n)
    np.testing.assert_array_equal(a, a.conj().T)
    assert np.all(np.diff(lam) >= 0)
    np.testing.assert_allclose(v.conj().T @ v, np.eye(n), atol=1e-13)
    np.testing.assert_allclose((v * lam) @ v.conj().T, a, atol=1e-13)
    # an independent eigensolver sees the prescribed spectrum
    np.testing.assert_allclose(np.linalg.eigvalsh(a), lam, atol=1e-13)
    assert (a.dtype.kind == "c") == hermitian


@given(dst.symmetric_matrices(4, degeneracy="exact", with_spectrum=True))
def test_exact_degeneracies_are_exact(record):
    _assert_spectral(record, hermitian=False)
    assert record.degeneracy == "exact"
    assert np.any(np.diff(record.eigenvalues) == 0.0)


@given(dst.hermitian_matrices(4, degeneracy="near", with_spectrum=True))
def test_near_degeneracies(record):
    _assert_spectral(record, hermitian=True)
    gaps = np.diff(record.eigenvalues)
    assert np.all(gaps > 0)
    assert 1e-9 * 0.999 <= gaps.min() <= 1e-4 * 1.001


@given(dst.hermitian_matrices(5, degeneracy="gapped", min_gap=0.2, with_spectrum=True))
def test_gapped_spectra(record):
    _assert_spectral(record, hermitian=True)
    assert np.diff(record.eigenvalues).min() >= 0.2 * (1 - 1e-12)
    assert np.max(np.abs(record.eigenvalues)) <= 1 + 1e-12


@given(dst.spectra(6))
def test_any_spectrum_is_one_of_the_kinds(lam):
    assert lam.shape == (6,) and np.all(np.diff(lam) >= 0)


def test_all_kinds_of_spectra_are_drawn():
    kinds = set()

    @settings(max_examples=30, derandomize=True)
    @given(dst.symmetric_matrices(3, with_spectrum=True))
    def collect(record):
        kinds.add(record.degeneracy)

    collect()
    assert kinds == {"exact", "near", "gapped"}


@given(dst.symmetric_matrices(3, spectrum=np.array([2.0, -1.0, 2.0]), with_spectrum=True))
def test_prescribed_spectrum(record):
    np.testing.assert_array_equal(record.eigenvalues, [-1.0, 2.0, 2.0])
    np.testing.assert_allclose(np.linalg.eigvalsh(record.matrix), [-1.0, 2.0, 2.0], atol=1e-13)


@given(dst.symmetric_matrices((2, 3), dtype=np.float32))
def test_dtype_and_allowed_sizes(a):
    assert a.dtype == np.float32 and a.shape in ((2, 2), (3, 3))


@given(
    dst.spd_matrices(4, max_condition=100.0, with_spectrum=True),
    dst.spd_matrices(3, dtype=np.complex128),
)
def test_spd(record, b):
    a = record.matrix
    np.linalg.cholesky(a)
    np.linalg.cholesky(b)
    lam = np.linalg.eigvalsh(a)
    assert lam.min() > 0 and lam.max() / lam.min() <= 100.0 * (1 + 1e-9)
    np.testing.assert_array_equal(b, b.conj().T)


@given(
    dst.orthogonal_matrices(4), dst.orthogonal_matrices(3, special=True), dst.unitary_matrices(3)
)
def test_orthogonal_and_unitary(q, r, u):
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-13)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-13)
    np.testing.assert_allclose(u.conj().T @ u, np.eye(3), atol=1e-13)
    assert u.dtype == np.complex128


@given(dst.spin_configurations((3, 4)), dst.spin_configurations(100, dtype=np.int8))
def test_spins(s, t):
    assert s.shape == (3, 4) and set(np.unique(s)) <= {-1.0, 1.0}
    assert t.dtype == np.int8 and set(np.unique(t)) <= {-1, 1}


@given(
    dst.particle_positions(6, 2, min_separation=0.4),
    dst.particle_positions(5, 3, min_separation=0.5, box=2.0, periodic=True),
)
def test_particles_keep_their_distance(x, y):
    assert x.shape == (6, 2)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1) + np.eye(6)
    assert d.min() >= 0.4
    assert y.shape == (5, 3) and np.all((0 <= y) & (y < 2.0))
    dy = y[:, None] - y[None]
    dy -= 2.0 * np.round(dy / 2.0)
    assert (np.linalg.norm(dy, axis=-1) + np.eye(5)).min() >= 0.5


@given(dst.pytrees_of_arrays(shapes=((), (2,)), dtypes=(np.float64, np.complex128), max_leaves=5))
def test_pytrees(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    assert 1 <= len(leaves) <= 5
    for leaf in leaves:
        assert isinstance(leaf, np.ndarray) and leaf.shape in ((), (2,))
        assert leaf.dtype in (np.float64, np.complex128)


def _draw_once(strategy):
    @settings(max_examples=1, database=None)
    @given(strategy)
    def draw(_):
        pass

    draw()


def test_bad_arguments():
    with pytest.raises(ValueError, match="degeneracy"):
        dst.spectra(3, degeneracy="sometimes")
    with pytest.raises(TypeError, match="complex"):
        dst.hermitian_matrices(3, dtype=np.float64)
    with pytest.raises(TypeError, match="real"):
        dst.symmetric_matrices(3, dtype=np.complex128)
    with pytest.raises(ValueError, match="min_gap"):
        _draw_once(dst.spectra(5, degeneracy="gapped", min_gap=0.9))


# -- the strategies drive check_grads ---------------------------------------------------------


def _eigvalsh_squared(a):
    return jnp.linalg.eigvalsh(a) ** 2


@settings(max_examples=3)
@given(dst.hermitian_matrices(3, degeneracy="gapped", min_gap=0.3))
def test_check_grads_on_gapped_hermitian_matrices(a):
    check_grads(_eigvalsh_squared, jnp.asarray(a), vmap=False)


@settings(max_examples=3)
@given(dst.pytrees_of_arrays(shapes=((), (3,))), st.integers(0, 2**16))
def test_check_grads_on_pytrees(tree, seed):
    check_grads(lambda t: jax.tree_util.tree_map(jnp.sin, t), tree, key=seed)


def test_hypothesis_profiles():
    from hypothesis import HealthCheck

    from diffsci.testing import register_hypothesis_profiles

    register_hypothesis_profiles()
    for name in ("dev", "ci"):
        profile = settings.get_profile(name)
        assert profile.deadline is None
        assert HealthCheck.too_slow in profile.suppress_health_check
        assert profile.max_examples <= 50
    assert settings.get_profile("ci").derandomize
    assert not settings.get_profile("dev").derandomize
