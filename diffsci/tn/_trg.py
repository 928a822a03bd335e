"""Tensor renormalization group of Levin and Nave, PRL 99, 120601 (2007)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jaxtyping import Array, Float

from diffsci.linalg import svd, truncated_svd

from ._common import check_rg_arguments, run_rg


def _root(s):
    """sqrt(s) of singular values, with numerically zero ones set to exactly zero.

    The first steps of an RG are rank deficient by construction (a 2-state model gives rank-2
    matrices that stay rank 2 for every coupling), so the kept block can contain singular values
    at round-off level; they stay zero under any perturbation of the couplings, and their
    derivative is zero. Cutting them at the rank tolerance, with the double-`where` idiom so that
    no derivative of any order sees 1/sqrt(0), keeps the square root out of the way.
    """
    tol = s[0] * jnp.finfo(s.dtype).eps * 4 * s.shape[0]
    keep = s > tol
    return jnp.where(keep, jnp.sqrt(jnp.where(keep, s, 1.0)), 0.0)


def _split(matrix, chi, rows, cols):
    """Rank-χ split `matrix ≈ a @ b.T` with a, b = U sqrt(S), V sqrt(S), reshaped to 3 legs."""
    p = min(matrix.shape)
    if chi < p:
        # The derivative of the kept triplets includes their coupling to the discarded ones.
        u, s, vh = truncated_svd(matrix, chi)
    else:
        u, s, vh = svd(matrix)
    k = s.shape[0]
    root = _root(s)
    a = (u * root).reshape(*rows, k)
    b = (vh.T * root).reshape(*cols, k)
    return a, b


def _trg_step(tensor, chi):
    dx, _, dy, _ = tensor.shape
    # Sublattice A: (right, up) | (left, down);  sublattice B: (left, up) | (right, down).
    p, q = _split(tensor.transpose(1, 3, 0, 2).reshape(dx * dy, dx * dy), chi, (dx, dy), (dx, dy))
    r, s = _split(tensor.transpose(0, 3, 1, 2).reshape(dx * dy, dx * dy), chi, (dx, dy), (dx, dy))
    # Around a plaquette: P of the A site at its lower left, R of the B site at its lower right,
    # Q of the A site at its upper right, S of the B site at its upper left. The new lattice is
    # the old one rotated by 45 degrees: left = P's bond, right = Q's, down = R's, up = S's.
    return jnp.einsum("abi,acj,dck,dbl->ikjl", p, r, q, s)


def trg(
    tensor: Float[Array, "dx dx dy dy"], chi: int, steps: int = 30, *, checkpoint: bool = True
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

    **Arguments:**

    - `tensor`: the local tensor `T[x, x', y, y']`, legs (left, right, down, up); each right leg is
      contracted with the left leg of the right neighbour and each up leg with the down leg of
      the site above (see `diffsci.tn.lattice_tensor`).
    - `chi`: the bond dimension χ kept at each truncation.
    - `steps`: number of coarse-graining steps (the lattice has $2^{\text{steps}}$ sites).
    - `checkpoint`: recompute each step in the backward pass (`jax.checkpoint`) instead of storing
      its intermediates; memory then grows by one χ⁴ tensor per step.

    **Returns:**

    ln Z / N, a scalar of the tensor's dtype.

    Cost per step: an SVD of a χ² × χ² matrix twice and an O(χ⁶) contraction.

    Derivatives of every order (`jax.grad`, `jax.hessian` for the specific heat) are exact
    derivatives of this truncated network, including on the rank-deficient first steps, whose
    exactly zero singular values the rule of `diffsci.linalg.svd` handles.

    **Limits:** where the truncation cuts through a degenerate multiplet the truncated network has
    no derivative (see the docs page on tensor networks); compare with a finite difference.
    """
    tensor = jnp.asarray(tensor)
    check_rg_arguments("trg", tensor, chi, steps)
    return run_rg(functools.partial(_trg_step, chi=chi), tensor, steps, checkpoint)
