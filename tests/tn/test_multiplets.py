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
    # derivatives agree with finite differences of the same network.
    def log_z(beta):
        return getattr(tn, method)(tn.potts_tensor(beta, POTTS_Q), chi=7, steps=6)

    beta = np.float64(POTTS_BETA_C)
    cuts = jax.jit(lambda b: tn.truncation_info(tn.potts_tensor(b, POTTS_Q), 7, 6, method=method))
    info = cuts(beta)
    assert int(info.kept_rank[-1]) == 6 and int(info.dropped[-1]) == 1
    # check_grads(ln Z, order=2) by the first-order checks of g = (ln Z, d ln Z/d beta),
    # compiled once: J v = (forward d lnZ, forward-over-reverse d2 lnZ) v is compared entry by
    # entry with Richardson differences of g, J^T u = u_0 d lnZ + u_1 (reverse-over-reverse
    # d2 lnZ) with those of <u, g>, and the dot-product test <u, J v> = <J^T u, v> at two random
    # cotangents u pins forward against reverse at both orders to 1e3 eps (Hessian symmetry is
    # void for a scalar beta). g is compiled already: jit=False calls it as it is instead of
    # compiling a second copy. jit against op-by-op evaluation of trg and hotrg (ln Z and its
    # gradient) is checked in test_rg.py, test_derivatives_match_finite_differences_of_the_network.
    g = jax.jit(jax.value_and_grad(log_z))
    check_grads(g, beta, modes=("fwd", "rev"), jit=False, vmap=False)
    # The reverse-mode gradient, an output of g, against the forward derivative of ln Z that
    # check_grads compared with finite differences (AD against AD: check_grads' 1e3 eps).
    (_, reverse), (forward, _) = jax.jvp(g, (beta,), (np.float64(1.0),))
    np.testing.assert_allclose(reverse, forward, rtol=1e3 * np.finfo(np.float64).eps)


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
