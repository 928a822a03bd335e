"""Local tensors and the RG engines against exact enumeration of small tori (no truncation)."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.tn as tn
from diffsci.utils import RESULTS

from . import onsager
from .exact import ising_weights, potts_weights, torus_log_z

# HOTRG fuses along y then x: after n steps one tensor is a block of these sizes (lx, ly).
HOTRG_TORI = {1: (1, 2), 2: (2, 2), 3: (2, 4), 4: (4, 4)}


@pytest.mark.parametrize("steps", [2, 3, 4])
@pytest.mark.parametrize("beta,h", [(0.37, 0.21), (-0.3, 0.0), (0.0, 0.5)])
def test_hotrg_exact_on_small_torus(steps, beta, h):
    lx, ly = HOTRG_TORI[steps]
    expected = torus_log_z(*ising_weights(beta, h), lx, ly)
    got = tn.hotrg(tn.ising_tensor(beta, h), chi=16, steps=steps)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


@pytest.mark.parametrize("beta,h", [(0.37, 0.21), (0.9, -0.1)])
def test_trg_exact_on_2x2_torus(beta, h):
    # Two TRG steps turn the lattice by 90 degrees with 4 sites per tensor: a 2x2 torus.
    expected = torus_log_z(*ising_weights(beta, h), 2, 2)
    got = tn.trg(tn.ising_tensor(beta, h), chi=16, steps=2)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_potts_exact_and_generic_constructor():
    beta, q, h = 0.8, 3, 0.3
    bond, site = potts_weights(beta, q, h)
    expected = torus_log_z(bond, site, 2, 4)
    np.testing.assert_allclose(tn.hotrg(tn.potts_tensor(beta, q, h), 81, 3), expected, rtol=1e-13)
    np.testing.assert_allclose(tn.hotrg(tn.lattice_tensor(bond, site), 81, 3), expected, rtol=1e-13)


def test_potts_q2_is_ising():
    # delta(s, s') = (1 + s s') / 2: Potts at 2 beta = Ising at beta times e^beta per bond (2/site).
    beta = 0.3
    ising = tn.hotrg(tn.ising_tensor(beta), chi=8, steps=20)
    potts = tn.hotrg(tn.potts_tensor(2 * beta, 2), chi=8, steps=20)
    np.testing.assert_allclose(potts, ising + 2 * beta, rtol=1e-9)


def test_tensors_are_smooth_at_zero_coupling():
    # The balanced split of the bond matrix has no square-root singularity at beta = 0.
    for f in (lambda b: tn.ising_tensor(b, 0.3), lambda b: tn.potts_tensor(b, 3)):
        d1 = jax.jacfwd(f)(0.0)
        d2 = jax.jacfwd(jax.jacfwd(f))(0.0)
        assert bool(jnp.all(jnp.isfinite(d1))) and bool(jnp.all(jnp.isfinite(d2)))


def test_errors_name_what_was_given():
    t = tn.ising_tensor(0.4)
    with pytest.raises(ValueError, match=r"rank-4.*got shape \(2, 2\)"):
        tn.trg(jnp.ones((2, 2)), chi=4)
    with pytest.raises(ValueError, match=r"same dimension.*\(2, 3, 2, 2\)"):
        tn.hotrg(jnp.ones((2, 3, 2, 2)), chi=4)
    with pytest.raises(ValueError, match="chi must be an integer >= 1, got 0"):
        tn.trg(t, chi=0)
    with pytest.raises(ValueError, match="chi must be an integer >= 1, got 2.5"):
        tn.hotrg(t, chi=2.5)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        tn.hotrg(t, chi=4, steps=0)
    with pytest.raises(ValueError, match=r"method must be one of \['hotrg', 'trg'\], got 'ctm'"):
        tn.ising_log_z(0.4, chi=4, method="ctm")
    with pytest.raises(ValueError, match="q >= 2, got 1"):
        tn.potts_tensor(0.4, 1)
    with pytest.raises(ValueError, match=r"site weights of shape \(3,\).*got shape \(2,\)"):
        tn.lattice_tensor(jnp.ones((3, 3)), jnp.ones(2))


@pytest.mark.parametrize("beta,h", [(0.37, 0.21), (0.9, -0.1)])
def test_symmetric_split_is_exact_and_c4v_symmetric(beta, h):
    # W_l = W_r = Q sqrt(Lambda): the same partition function (exact enumeration), and a tensor
    # invariant under every permutation of its four legs (C4v is a subgroup), for CTMRG.
    t = tn.ising_tensor(beta, h, symmetric=True)
    for perm in itertools.permutations(range(4)):
        np.testing.assert_allclose(jnp.transpose(t, perm), t, rtol=0, atol=1e-14)
    expected = torus_log_z(*ising_weights(beta, h), 2, 2)
    np.testing.assert_allclose(tn.hotrg(t, chi=16, steps=2), expected, rtol=1e-13)
    bond, site = potts_weights(beta, 3, h)
    p = tn.potts_tensor(beta, 3, h, symmetric=True)
    generic = tn.lattice_tensor(bond, site, symmetric=True)  # another basis of the doublet
    for tensor in (p, generic):
        np.testing.assert_allclose(
            tn.hotrg(tensor, chi=81, steps=3), torus_log_z(bond, site, 2, 4), rtol=1e-13
        )
    # the C4v CTMRG accepts it (result code 0); ln Z per site against Onsager in the
    # high-temperature phase (chi = 8 is exact there to 1e-16, tests/tn/test_ctmrg.py)
    if h == 0.21:
        res = tn.ctmrg(tn.ising_tensor(0.3, symmetric=True), 8)
        assert res.result == RESULTS.successful
        np.testing.assert_allclose(
            tn.ctmrg_log_z(tn.ising_tensor(0.3, symmetric=True), 8), onsager.log_z(0.3), rtol=1e-13
        )


def test_symmetric_split_refuses_an_antiferromagnet():
    with pytest.raises(eqx.EquinoxRuntimeError, match="negative eigenvalue"):
        jax.block_until_ready(tn.ising_tensor(-0.3, symmetric=True))
