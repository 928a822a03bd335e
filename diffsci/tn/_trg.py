"""Tensor renormalization group of Levin and Nave, PRL 99, 120601 (2007)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jaxtyping import Array, Float

from diffsci._internal._validate import choice
from diffsci.linalg import svd, truncated_svd

from ._common import (
    check_multiplet_rtol,
    check_rg_arguments,
    check_tensor_values,
    merge_cuts,
    multiplet_cut,
    run_rg,
)


def _root(s, keep):
    """sqrt(s) on the kept singular values, exactly zero on the others and on numerical zeros.

    The first steps of an RG are rank deficient by construction (a 2-state model gives rank-2
    matrices that stay rank 2 for every coupling), so the kept block can contain singular values
    at round-off level; they stay zero under any perturbation of the couplings, and their
    derivative is zero. Cutting them at the rank tolerance, and the members of a multiplet split
    by the truncation (`keep`, see `multiplet_cut`), with the double-`where` idiom means that no
    derivative of any order sees 1/sqrt(0) or 0 * inf.
    """
    tol = s[0] * jnp.finfo(s.dtype).eps * 4 * s.shape[0]
    keep = keep & (s > tol)
    return keep, jnp.where(keep, jnp.sqrt(jnp.where(keep, s, 1.0)), 0.0)


def _jax_svd(matrix):
    return jnp.linalg.svd(matrix, full_matrices=False)


def _jax_truncated_svd(matrix, k):
    u, s, vh = jnp.linalg.svd(matrix, full_matrices=False)
    return u[:, :k], s[:k], vh[:k]


# The SVDs of `trg(..., svd=...)`: (full, truncated to k triplets).
_SVDS = {"diffsci": (svd, truncated_svd), "jax": (_jax_svd, _jax_truncated_svd)}


def _split(matrix, chi, rows, cols, rtol, svds=_SVDS["diffsci"]):
    """Rank-(at most χ) split `matrix ≈ a @ b.T` with a, b = U sqrt(S), V sqrt(S), reshaped to
    3 legs, never splitting a multiplet of singular values; and the `Cut` it made."""
    svd, truncated_svd = svds
    p = min(matrix.shape)
    if chi < p:
        # One more triplet than kept: the cut compares the last kept value with the first
        # discarded one. The derivative of each kept triplet includes its coupling to all the
        # discarded ones, whatever the number of triplets returned.
        u, s, vh = truncated_svd(matrix, chi + 1)
        keep, cut = multiplet_cut(s, chi, rtol)
        u, s, vh = u[:, :chi], s[:chi], vh[:chi]
    else:
        u, s, vh = svd(matrix)
        keep, cut = multiplet_cut(s, chi, rtol)
    k = s.shape[0]
    keep, root = _root(s, keep)
    a = jnp.where(keep[None, :], u * root[None, :], 0.0).reshape(*rows, k)
    b = jnp.where(keep[None, :], vh.T * root[None, :], 0.0).reshape(*cols, k)
    return a, b, cut


def _trg_step(tensor, chi, rtol, svds=_SVDS["diffsci"]):
    dx, _, dy, _ = tensor.shape
    shape = (dx, dy)
    # Sublattice A: (right, up) | (left, down);  sublattice B: (left, up) | (right, down).
    a_matrix = tensor.transpose(1, 3, 0, 2).reshape(dx * dy, dx * dy)
    b_matrix = tensor.transpose(0, 3, 1, 2).reshape(dx * dy, dx * dy)
    p, q, cut_a = _split(a_matrix, chi, shape, shape, rtol, svds)
    r, s, cut_b = _split(b_matrix, chi, shape, shape, rtol, svds)
    # Around a plaquette: P of the A site at its lower left, R of the B site at its lower right,
    # Q of the A site at its upper right, S of the B site at its upper left. The new lattice is
    # the old one rotated by 45 degrees: left = P's bond, right = Q's, down = R's, up = S's.
    return jnp.einsum("abi,acj,dck,dbl->ikjl", p, r, q, s), merge_cuts(cut_a, cut_b)


def trg(
    tensor: Float[Array, "dx dx dy dy"],
    chi: int,
    steps: int = 30,
    *,
    checkpoint: bool = True,
    multiplet_rtol: float | None = None,
    svd: str = "diffsci",
) -> Float[Array, ""]:
    r"""ln Z per site of a translation-invariant 2D network by the tensor renormalization group.

    Levin and Nave, PRL 99, 120601 (2007). Each step splits the local tensor on the two
    sublattices of a checkerboard along opposite diagonals by a truncated SVD,
    $T_{(x'y')(xy)} \approx \sum_{k<\chi} U_{(x'y')k}\, s_k\, V_{(xy)k}$, with $\sqrt{s_k}$ on
    either side, and contracts the four three-leg pieces around every other plaquette into the
    tensor of a lattice rotated by 45° with half as many sites. After `steps` steps one tensor
    stands for $2^{\text{steps}}$ sites, traced with periodic boundaries; the norm taken out at
    every step is accumulated as $\sum_n 2^{-n} \ln c_n$ (see `diffsci.tn.hotrg` for the formula),
    so nothing overflows.

    The SVD is `diffsci.linalg.svd`, whose derivative stays finite on the degenerate singular
    values that the symmetries of a lattice model produce (through `jnp.linalg.svd` the gradient
    of ln Z is NaN), and carries the coupling between kept and discarded singular vectors, so the
    gradient is the exact derivative of this truncated network.

    **Multiplets.** The truncation never splits a multiplet: where the χ-th and the (χ+1)-th
    singular values are closer than `multiplet_rtol` times the largest one, the kept members of
    that multiplet are dropped too (their columns are zeroed through a `where` on a mask without
    gradient, so shapes stay static and no derivative meets 0 · ∞), and so are numerically zero
    singular values. The *effective kept rank* of a step is therefore at most χ: χ minus the
    members of the multiplet at the cut (for instance 6 instead of 7 for the 3-state Potts model
    at its critical point, whose spectrum has S₃ doublets). Cutting through a multiplet would
    make the truncated network non-differentiable (which members survive is arbitrary) and break
    the model's symmetry for every later step; the gradient then comes out wrong by orders of
    magnitude. `diffsci.tn.truncation_info` reports the kept rank of every step.

    **Arguments:**

    - `tensor`: the local tensor `T[x, x', y, y']`, legs (left, right, down, up); each right leg is
      contracted with the left leg of the right neighbour and each up leg with the down leg of
      the site above (see `diffsci.tn.lattice_tensor`).
    - `chi`: the bond dimension χ, an upper bound on the number of states kept at each
      truncation.
    - `steps`: number of coarse-graining steps (the lattice has $2^{\text{steps}}$ sites).
    - `checkpoint`: recompute each step in the backward pass (`jax.checkpoint`) instead of storing
      its intermediates; memory then grows by one χ⁴ tensor per step.
    - `multiplet_rtol`: singular values closer than this times the largest one count as one
      multiplet at the cut; `None` means `1e-10` (see the docs page on tensor networks for the
      measurements behind it). It is never taken below the degeneracy tolerance of
      `diffsci.linalg` ($100\sqrt n\,\epsilon$ of the dtype), which matters in float32.
    - `svd`: the SVD of the splits and its derivative rule: `"diffsci"` (the default,
      `diffsci.linalg.svd` and `truncated_svd`) or `"jax"` (`jnp.linalg.svd`, JAX's own rule,
      the stock alternative that benchmarks/tn.py compares with: the same forward pass, but its
      gradient is NaN on the degenerate singular values of a symmetric model, at $T_c$ say).

    **Returns:**

    ln Z / N, a scalar of the tensor's dtype.

    **Checks:** at trace time the rank and shape of `tensor`, `chi`, `steps`, `svd` (`ValueError`);
    an integer or boolean `tensor` is promoted to the default float, float16, bfloat16 and
    complex are refused (`TypeError`). At run time (`equinox.error_if`, eagerly and under `jit`):
    NaN or infinite entries, a zero tensor, and a partition function $Z \le 0$ (the sign of the
    final trace; every normalization divides by a positive norm). $Z \le 0$ raises rather than
    returning $\ln|Z|$: such a network is not the Boltzmann weight of a classical model, its
    ln Z is undefined, and ln|Z| would be a silently wrong free energy. The check compares one
    scalar without derivative, so `grad`, `jvp` and `hessian` are unchanged.

    Cost per step: an SVD of a χ² × χ² matrix twice and an O(χ⁶) contraction.

    Derivatives of every order (`jax.grad`, `jax.hessian` for the specific heat) are exact
    derivatives of this truncated network, including on the rank-deficient first steps, whose
    exactly zero singular values the rule of `diffsci.linalg.svd` handles. `jit` and `vmap`
    apply (with `chi`, `steps` and `multiplet_rtol` static).

    **Limits:** singular values that are close but not within `multiplet_rtol` (a level crossing
    at the cut, or the tunnelling splitting of the ordered phase) still give a derivative of
    order 1/gap; `diffsci.tn.truncation_info` shows the gap at every cut.
    """
    tensor = check_rg_arguments("trg", tensor, chi, steps)
    rtol = check_multiplet_rtol("trg", multiplet_rtol)
    svds = _SVDS[choice(svd, "svd", "trg", tuple(_SVDS))]
    tensor = check_tensor_values("trg", tensor)
    step = functools.partial(_trg_step, chi=int(chi), rtol=rtol, svds=svds)
    return run_rg(step, tensor, int(steps), checkpoint, who="trg")[0]
