"""Reduced QR decomposition of square and tall matrices, with its derivative."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Inexact

from .._internal._validate import finite, float_array

__all__ = ["qr"]


def _h(x: Array) -> Array:
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _qr_forward(a: Array) -> tuple[Array, Array]:
    q, r = jax.lax.linalg.qr(a, full_matrices=False)
    # Make diag(R) real and non-negative: Q -> Q D, R -> D^* R with D = diag(phase).
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    absd = jnp.abs(d)
    safe = jnp.where(absd == 0, 1, absd).astype(d.dtype)
    phase = jnp.where(absd == 0, jnp.ones_like(d), d / safe)
    q = q * phase[..., None, :]
    r = r * jnp.conj(phase)[..., :, None]
    if jnp.iscomplexobj(r):
        # The diagonal is now real up to rounding; make it exactly real.
        eye = jnp.eye(*r.shape[-2:], dtype=bool)
        r = jnp.where(eye, jnp.real(r).astype(r.dtype), r)
    return q, r


@jax.custom_jvp
def _qr(a):
    return _qr_forward(a)


@_qr.defjvp
def _qr_jvp(primals, tangents):
    (a,) = primals
    (da,) = tangents
    q, r = _qr(a)
    m, n = a.shape[-2:]
    if m < n:
        # Only the empty wide matrix (m = 0) gets here: Q is (0, 0), R is (0, n), nothing moves.
        return (q, r), (jnp.zeros_like(q), jnp.zeros_like(r))
    rdiag = jnp.abs(jnp.diagonal(r, axis1=-2, axis2=-1))
    eps = jnp.finfo(rdiag.dtype).eps
    # initial=0: no diagonal (n = 0) means no rank to lose.
    tol = 10 * max(m, n) * eps * jnp.max(rdiag, axis=-1, keepdims=True, initial=0)
    r = eqx.error_if(
        r,
        jnp.any(rdiag <= tol),
        "qr: the derivative is not defined because `a` is (numerically) rank deficient: R has a "
        "zero diagonal entry, so Q is not determined by `a`. Use diffsci.linalg.svd, whose "
        "derivative handles rank deficiency.",
    )
    # X = dA R^{-1}, C = Q^H dA R^{-1}.
    x = jax.lax.linalg.triangular_solve(r, da, left_side=False, lower=False)
    c = _h(q) @ x
    low = jnp.tril(c, -1)
    cdiag = jnp.diagonal(c, axis1=-2, axis2=-1)
    # Omega = Q^H dQ: anti-Hermitian, strictly lower part from C, imaginary diagonal from C.
    omega = low - _h(low)
    if jnp.iscomplexobj(c):
        omega = omega + jnp.vectorize(jnp.diag, signature="(k)->(k,k)")(
            1j * jnp.imag(cdiag)
        ).astype(c.dtype)
    upper = c - omega  # dR R^{-1}: upper triangular with a real diagonal
    dr = upper @ r
    dq = x - q @ upper
    return (q, r), (dq, dr)


def qr(
    a: Inexact[ArrayLike, "*batch m n"],
) -> tuple[Inexact[Array, "*batch m n"], Inexact[Array, "*batch n n"]]:
    """Reduced QR decomposition $A = QR$ of a square or tall matrix, with its derivative.

    $Q$ has orthonormal columns and $R$ is upper triangular with a **real, non-negative
    diagonal** (LAPACK's Householder QR leaves the signs arbitrary; they are normalized here by
    moving a phase $D$ from $R$ to $Q$: $Q \\to QD$, $R \\to D^* R$). For $A$ of full column rank
    this makes the decomposition unique, so $Q$ and $R$ are smooth functions of $A$ and every
    loss is gauge invariant.

    The tangent rule (Walter & Lehmann, "Algorithmic differentiation of linear algebra
    functions with application in optimum experimental design" (2018); Seeger et al.,
    arXiv:1710.08717; Liao et al., PRX 9, 031041 (2019) for the reverse mode): with
    $X = dA\\,R^{-1}$ and $C = Q^H X$, the anti-Hermitian $\\Omega = Q^H dQ$ takes the strictly
    lower part of $C$, $\\Omega = L - L^H + i\\,\\mathrm{Im}\\,\\mathrm{diag}(C)$ with
    $L = \\mathrm{tril}(C, -1)$, so that $dR\\,R^{-1} = C - \\Omega$ is upper triangular with a
    real diagonal (the diagonal of $R$ stays real), and

    $$
    dR = (C - \\Omega)\\,R,\\qquad
    dQ = X - Q\\,(C - \\Omega) = Q\\,\\Omega + (I - QQ^H)\\,dA\\,R^{-1}.
    $$

    The rule is linear in $dA$; JAX transposes it for reverse mode.

    **Arguments:**

    - `a`: a real or complex matrix of shape `(..., m, n)` with `m >= n` (or `m = 0`).

    **Returns:**

    A tuple `(q, r)` of shapes `(..., m, n)` and `(..., n, n)`; for an empty wide matrix
    (`m = 0 < n`) the empty factors `(..., 0, 0)` and `(..., 0, n)`, as `jnp.linalg.qr` gives.
    Zero-size inputs give zero-size outputs and zero derivatives.

    **Limits:** wide matrices (`0 < m < n`) are not supported (their $Q$ and the leading block of
    $R$ come from the square QR of `a[..., :, :m]`; take that, or use `qr(a.mT)` for an LQ
    factorization). The derivative needs full column rank; on a (numerically) rank-deficient
    `a` differentiating raises an error instead of returning NaN.
    """
    a = float_array(a, "a", "qr", complex_ok=True)
    if a.ndim < 2:
        raise ValueError(
            f"qr: expected a matrix of shape (..., m, n), got an array of shape {a.shape} "
            f"(ndim={a.ndim})"
        )
    a = finite(a, "a", "qr")
    m, n = a.shape[-2:]
    if 0 < m < n:
        raise ValueError(
            f"qr: supports square and tall matrices (m >= n), got shape {a.shape[-2:]} "
            f"(m={m} < n={n}); for a wide matrix factor a.mT (an LQ decomposition) or use "
            f"diffsci.linalg.svd"
        )
    return _qr(a)
