"""Symmetric potentials are invariant (and their gradients equivariant), checked with
diffsci.testing.check_invariance; a symmetric potential gives a symmetric flow density."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from diffsci.flows import (
    LatticeConvPotential,
    MongeAmpereFlow,
    OneLayerPotential,
    PermutationInvariantPotential,
    SpinFlipSymmetric,
)
from diffsci.testing import check_invariance

T = 0.4


def strong(pot, key):
    return eqx.tree_at(lambda p: p.a, pot, jr.normal(key, pot.a.shape))


def test_spin_flip():
    pot = SpinFlipSymmetric(strong(OneLayerPotential(5, 4, key=jr.PRNGKey(0)), jr.PRNGKey(1)))
    x = jr.normal(jr.PRNGKey(2), (5,))
    check_invariance(jax.jit(lambda x: pot(x, T)), lambda x: -x, x)


def test_particle_permutation():
    n, d = 4, 2
    pot = PermutationInvariantPotential(n, d, 6, key=jr.PRNGKey(0))
    x = jr.normal(jr.PRNGKey(1), (n * d,))
    perm = jnp.array([2, 0, 3, 1])
    check_invariance(jax.jit(lambda x: pot(x, T)), lambda x: x.reshape(n, d)[perm].reshape(-1), x)


def test_lattice_translations_and_rotations():
    L = 4
    pot = strong(
        LatticeConvPotential((L, L), 2, 3, rotations=True, key=jr.PRNGKey(0)), jr.PRNGKey(1)
    )
    f = jax.jit(lambda x: pot(x, T))
    x = jr.normal(jr.PRNGKey(2), (L * L,))

    def on_lattice(g):
        return lambda x: g(x.reshape(L, L)).reshape(-1)

    check_invariance(f, on_lattice(lambda a: jnp.roll(a, (1, 3), axis=(0, 1))), x)
    check_invariance(f, on_lattice(jnp.rot90), x)
    check_invariance(f, on_lattice(jnp.transpose), x)
    # without rotations=True, translations only (a generic kernel is not rotation invariant)
    plain = strong(LatticeConvPotential((L, L), 2, 3, key=jr.PRNGKey(3)), jr.PRNGKey(4))
    check_invariance(
        jax.jit(lambda x: plain(x, T)), on_lattice(lambda a: jnp.roll(a, 2, axis=1)), x
    )
    assert abs(float(plain(x, T) - plain(on_lattice(jnp.rot90)(x), T))) > 1e-6


def test_flow_density_inherits_the_symmetry():
    """With a Z2-symmetric potential the flow commutes with x -> -x (exactly, also after
    discretization: every step of the solver is odd in x), so ln q(-x) = ln q(x)."""
    dim = 3
    pot = SpinFlipSymmetric(strong(OneLayerPotential(dim, 4, key=jr.PRNGKey(0)), jr.PRNGKey(1)))
    flow = MongeAmpereFlow(dim, pot, steps=8)
    x = jr.normal(jr.PRNGKey(2), (2, dim))
    check_invariance(eqx.filter_jit(flow.log_prob), lambda x: -x, x, modes=("rev",))
    xs, lq = eqx.filter_jit(flow.sample_and_log_prob)(jr.PRNGKey(3), 4)
    np.testing.assert_allclose(eqx.filter_jit(flow.log_prob)(-xs), flow.log_prob(xs), rtol=1e-12)
