"""Higher-order tensor renormalization group of Xie et al., PRB 86, 045139 (2012)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jaxtyping import Array, Float

from diffsci.linalg import eigh

from ._common import check_rg_arguments, run_rg


def _isometry(tensor, chi):
    """The χ leading eigenvectors of the environment of the two fused left (or right) legs."""
    dx = tensor.shape[0]
    # Left:  G[(x1 x2), (X1 X2)] = sum T[x1,a,y,i] T[x2,b,i,z] T[X1,a,y,j] T[X2,b,j,z].
    low = jnp.einsum("xayi,Xayj->xXij", tensor, tensor)
    high = jnp.einsum("xbiz,Xbjz->xXij", tensor, tensor)
    left = jnp.einsum("aAij,bBij->abAB", low, high).reshape(dx * dx, dx * dx)
    # Right: the same with the roles of x and x' exchanged.
    low = jnp.einsum("axyi,aXyj->xXij", tensor, tensor)
    high = jnp.einsum("bxiz,bXjz->xXij", tensor, tensor)
    right = jnp.einsum("aAij,bBij->abAB", low, high).reshape(dx * dx, dx * dx)
    w_left, v_left = eigh(left)
    w_right, v_right = eigh(right)
    # eigh sorts ascending: keep the last chi, discard (and compare) the rest.
    cut = dx * dx - chi
    err_left = jnp.sum(w_left[:cut]) / jnp.sum(w_left)
    err_right = jnp.sum(w_right[:cut]) / jnp.sum(w_right)
    return jnp.where(err_left <= err_right, v_left[:, cut:], v_right[:, cut:])


def _hotrg_step(tensor, chi):
    dx, _, dy, _ = tensor.shape
    k = min(chi, dx * dx)
    if k == dx * dx:
        u = jnp.eye(dx * dx, dtype=tensor.dtype)
    else:
        u = _isometry(tensor, k)
    u = u.reshape(dx, dx, k)
    # Fuse two tensors stacked vertically (the up leg of the lower one, i, is summed):
    # T'[x, x', y, y'] = U[x1 x2, x] T[x1, x1', y, i] T[x2, x2', i, y'] U[x1' x2', x'].
    a = jnp.einsum("abx,aeyi->bxeyi", u, tensor)
    b = jnp.einsum("bxeyi,bfiz->xeyfz", a, tensor)
    new = jnp.einsum("xeyfz,efw->xwyz", b, u)
    # Exchange the roles of x and y, so the next step fuses along the other direction.
    return new.transpose(2, 3, 0, 1)


def hotrg(
    tensor: Float[Array, "dx dx dy dy"], chi: int, steps: int = 30, *, checkpoint: bool = True
) -> Float[Array, ""]:
    r"""ln Z per site of a translation-invariant 2D network by the higher-order TRG.

    Xie, Chen, Qin, Zhu, Yang, Xiang, PRB 86, 045139 (2012). Each step contracts two tensors
    stacked along y,
    $M_{(x_1x_2)(x_1'x_2')yy'} = \sum_i T_{x_1x_1'yi}\,T_{x_2x_2'iy'}$, and truncates each pair of
    fused x legs to χ by an isometry $U$ from the higher-order SVD of $M$: the leading
    eigenvectors of $M M^\top$ on the left legs or on the right legs, whichever discards the
    smaller weight, $T' = U^\top M U$. Then x and y exchange roles. Every step halves the number
    of tensors; with $c_n$ the norm of the tensor after step $n$ (which stands for $2^n$ sites),

    $$\frac{\ln Z}{N} = \sum_{n=0}^{\text{steps}} \frac{\ln c_n}{2^n}
        + \frac{1}{2^{\text{steps}}} \ln \Big|\sum_{xy} T_{xxyy}\Big|.$$

    The eigenvectors come from `diffsci.linalg.eigh`, whose derivative is finite on the
    degenerate spectra that symmetries produce and includes the kept-discarded coupling, so the
    gradient is the exact derivative of the truncated network.

    **Arguments:**

    - `tensor`: the local tensor `T[x, x', y, y']`, legs (left, right, down, up) (see
      `diffsci.tn.trg`).
    - `chi`: the bond dimension χ kept at each truncation.
    - `steps`: number of coarse-graining steps (the lattice has $2^{\text{steps}}$ sites).
    - `checkpoint`: recompute each step in the backward pass (`jax.checkpoint`) instead of storing
      its intermediates.

    **Returns:**

    ln Z / N, a scalar of the tensor's dtype.

    Cost per step: O(χ⁷) for the contraction, two χ² × χ² eigendecompositions.
    """
    tensor = jnp.asarray(tensor)
    check_rg_arguments("hotrg", tensor, chi, steps)
    return run_rg(functools.partial(_hotrg_step, chi=chi), tensor, steps, checkpoint)
