"""The multiplet-aware truncation of TRG and HOTRG (diffsci issue 6): a cut never splits a
degenerate multiplet, and derivatives of the truncated network are right where the plain cut
would split one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.tn as tn
from diffsci.testing import check_grads
from diffsci.tn._common import multiplet_cut

from . import onsager

POTTS_Q = 3
POTTS_BETA_C = float(np.log1p(np.sqrt(POTTS_Q)))  # self-dual point, Wu, RMP 54, 235 (1982)


def _cut(values, k, rtol=1e-10):
    keep, cut = multiplet_cut(jnp.asarray(values, dtype=float), k, rtol)
    return np.asarray(keep).tolist(), int(cut.kept_rank), int(cut.dropped), float(cut.gap)


def test_multiplet_cut():
    # A gap at the cut: keep all k.
    assert _cut([4.0, 3.0, 2.0, 1.0], 2) == ([True, True], 2, 0, 0.25)
    # The cut splits the doublet {2, 2}: both go, the rank is 2 of 3.
    keep, rank, dropped, gap = _cut([4.0, 3.0, 2.0, 2.0, 1.0], 3)
    assert (keep, rank, dropped, gap) == ([True, True, False], 2, 1, 0.25)
    # A triplet split 2 + 1, with round-off between its members, and a doublet above it.
    eps = 1e-15
    values = [5.0, 4.0, 4.0 - eps, 2.0 + 2 * eps, 2.0 + eps, 2.0, 1.0]
    assert _cut(values, 5)[:3] == ([True] * 3 + [False] * 2, 3, 2)
    # Round-off is below the tolerance, a genuine 1e-8 gap above it.
    assert _cut([1.0, 0.5 + 1e-8, 0.5], 2)[1] == 2
    assert _cut([1.0, 0.5 + 1e-8, 0.5], 2, rtol=1e-6)[1] == 1
    # Numerical zeros are dropped with the zeros they are cut from.
    assert _cut([1.0, 0.5, 1e-14, 0.0, 0.0], 4)[1] == 2
    # The whole kept block is one multiplet with the first discarded value: nothing can be
    # dropped (that would leave no state), all k stay and the gap says so.
    keep, rank, dropped, gap = _cut([2.0, 2.0, 2.0], 2)
    assert (keep, rank, dropped, gap) == ([True, True], 2, 0, 0.0)
    # No truncation at all.
    assert _cut([1.0, 1.0], 2) == ([True, True], 2, 0, 1.0)


def test_multiplet_cut_jit_and_vmap():
    values = jnp.array([[4.0, 3.0, 2.0, 2.0, 1.0], [4.0, 3.0, 2.5, 2.0, 1.0]])
    keep, cut = jax.jit(jax.vmap(lambda v: multiplet_cut(v, 3, 1e-10)))(values)
    np.testing.assert_array_equal(keep, [[True, True, False], [True, True, True]])
    np.testing.assert_array_equal(cut.kept_rank, [2, 3])


@pytest.mark.parametrize("method", ["hotrg", "trg"])
def test_derivatives_where_the_cut_splits_a_multiplet(method):
    # 3-state Potts at its critical point: the spectra hold S_3 doublets, and chi = 7 cuts
    # through one at every step (the plain cut kept one member of a doublet and broke the S_3
    # symmetry of every later step). Now one state fewer is kept, and first and second
    # derivatives, under jit and vmap, agree with finite differences of the same network.
    def log_z(beta):
        return getattr(tn, method)(tn.potts_tensor(beta, POTTS_Q), chi=7, steps=6)

    info = tn.truncation_info(tn.potts_tensor(POTTS_BETA_C, POTTS_Q), 7, 6, method=method)
    assert int(info.kept_rank[-1]) == 6 and int(info.dropped[-1]) == 1
    check_grads(log_z, POTTS_BETA_C, order=2, vmap=False)


def test_ising_ordered_phase_specific_heat():
    # T = 1.5, deep in the ordered phase, chi = 12: the spectra hold pairs split only by the
    # tunnelling between the two ordered states, a splitting whose exponent doubles at every
    # step (1e-3, 1e-6, 1e-12 of the cut value). The plain HOTRG gave C = -2.2 after 12 steps
    # (-3e2 after 30) against Onsager's 0.197.
    beta = 1 / 1.5

    def log_z(b):
        return tn.ising_log_z(b, chi=12, steps=12)

    grad = jax.jit(jax.grad(log_z))
    curvature = jax.jit(jax.grad(jax.grad(log_z)))(beta)
    c = beta**2 * curvature
    np.testing.assert_allclose(c, onsager.specific_heat(beta), rtol=1e-5)
    d = 1e-4
    fd = (grad(beta + d) - grad(beta - d)) / (2 * d)
    np.testing.assert_allclose(curvature, fd, rtol=1e-6)


def test_truncation_info_and_errors():
    info = jax.jit(lambda b: tn.truncation_info(tn.ising_tensor(b), 6, 5, method="trg"))(0.4)
    assert info.kept_rank.shape == info.dropped.shape == info.gap.shape == (5,)
    # 2 -> 4 -> (4*4 = 16 > 6, truncated) 6 ...: never more than chi, dropped = chi - rank.
    ranks = np.asarray(info.kept_rank)
    assert ranks.max() <= 6 and ranks[-1] == 6
    with pytest.raises(ValueError, match="multiplet_rtol must be in"):
        tn.hotrg(tn.ising_tensor(0.4), chi=4, multiplet_rtol=2.0)
    with pytest.raises(ValueError, match="multiplet_rtol must be a float"):
        tn.trg(tn.ising_tensor(0.4), chi=4, multiplet_rtol="1e-8")
    with pytest.raises(ValueError, match="truncation_info: method must be one of"):
        tn.truncation_info(tn.ising_tensor(0.4), 4, method="ctmrg")
