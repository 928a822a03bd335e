"""diffsci.testing.check_invariance: symmetric losses pass, broken symmetries fail."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.testing import check_invariance

RNG = np.random.default_rng(7)
X = jnp.asarray(RNG.standard_normal((4, 2)))
PERM = jnp.asarray([2, 0, 3, 1])
THETA = 0.7
ROT = jnp.asarray([[np.cos(THETA), -np.sin(THETA)], [np.sin(THETA), np.cos(THETA)]])


def pair_energy(x):
    d = x[:, None, :] - x[None, :, :]
    return jnp.sum(jnp.exp(-jnp.sum(d**2, axis=-1)))


def test_particle_symmetries_pass():
    check_invariance(pair_energy, lambda x: x[PERM], X)
    check_invariance(pair_energy, lambda x: x @ ROT.T, X)
    check_invariance(pair_energy, lambda x: x + jnp.asarray([[0.3, -1.0]]), X)


def test_eigenvector_gauge_invariance_passes():
    def loss(v, w):  # depends on the eigenvectors only through |v|^2: gauge invariant
        return jnp.sum(jnp.abs(v) ** 2 * w[:, None])

    v = jnp.asarray(RNG.standard_normal((3, 3)))
    w = jnp.arange(3.0)
    signs = jnp.asarray([1.0, -1.0, -1.0])
    check_invariance(loss, lambda v, w: (v * signs[None, :], w), v, w)
    vc = v + 1j * jnp.asarray(RNG.standard_normal((3, 3)))
    phases = jnp.exp(1j * jnp.asarray([0.3, -2.0, 1.1]))
    check_invariance(loss, lambda v, w: (v * phases[None, :], w), vc, w, argnums=0)


def test_a_loss_that_is_not_invariant_fails():
    with pytest.raises(AssertionError, match="not invariant"):
        check_invariance(lambda x: jnp.sum(x[0] ** 2), lambda x: x[PERM], X)


def test_a_rule_that_breaks_equivariance_fails():
    @jax.custom_jvp
    def norm2(x):
        return jnp.sum(x**2)

    @norm2.defjvp
    def _jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        # the right rule is 2 <x, t>; the extra term is not rotation covariant
        return norm2(x), 2 * jnp.sum(x * t) + 0.1 * t[0, 0]

    with pytest.raises(AssertionError, match=r"equivariance[\s\S]*args\[0\] at index"):
        check_invariance(norm2, lambda x: x @ ROT.T, X)


def test_transform_must_return_all_arguments():
    with pytest.raises(ValueError, match="expected 2"):
        check_invariance(lambda a, b: jnp.sum(a * b), lambda a, b: (a,), X, X)
