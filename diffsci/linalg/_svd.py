"""Singular value decomposition and truncated SVD with derivatives that are right.

Both functions are JAX primitives with their own JVP rule (`diffsci._internal._primitive`; not
`custom_jvp`s, whose rules the reverse mode of `lax.scan` drops), linear in the tangent of `a`,
so JAX transposes them for reverse mode, and `jacfwd`, `jacrev`, `hessian` and `vmap` all work,
inside `lax.scan` too.

Notation used in the rules below: $A = U S V^H$ with $A$ of shape $(m, n)$, $p = \\min(m, n)$,
$U$ of shape $(m, p)$, $V$ of shape $(n, p)$, $S = \\mathrm{diag}(s)$ with
$s_1 \\ge \\dots \\ge s_p \\ge 0$, and

$$
dP = U^H\\,dA\\,V,\\qquad J = \\tfrac12(dP + dP^H),\\qquad K = \\tfrac12(dP - dP^H),
$$

$$
E_{ij} = \\frac{1}{s_j - s_i}\\ (i \\ne j),\\quad E_{ii} = 0,\\qquad
G_{ij} = \\frac{1}{s_i + s_j}.
$$

Splitting the textbook kernel $1/(s_j^2 - s_i^2)$ into $E$ and $G$ separates the common rotation
of $U$ and $V$ (the $E \\circ J$ term, a gauge freedom inside a block of equal singular values)
from their relative rotation (the $G \\circ K$ term, physical and finite whenever
$s_i + s_j > 0$, including at degeneracies, and carrying the complex phase term on its diagonal).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Inexact, Real

from .._internal._primitive import jvp_primitive
from .._internal._validate import finite, float_array, static_int
from ._degeneracy import AbstractDegeneracyPolicy, MaskDegeneracies, inverse_differences

__all__ = ["svd", "truncated_svd"]


def _h(x: Array) -> Array:
    """Conjugate transpose of the last two axes."""
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _check_matrix(name: str, a: ArrayLike) -> Array:
    """`a` as a floating or complex matrix (integers promoted, as `jnp.linalg` does), of rank
    >= 2, with a run-time check that it is finite."""
    a = float_array(a, "a", name, complex_ok=True)
    if a.ndim < 2:
        raise ValueError(
            f"{name}: expected a matrix of shape (..., m, n), got an array of shape {a.shape} "
            f"(ndim={a.ndim})"
        )
    return finite(a, "a", name)


def _largest(s: Array) -> Array:
    """$s_1 = \\max_i s_i$ (the scale of the degeneracy tolerances), 0 if there are none."""
    return jnp.max(s, axis=-1, initial=0)


def _kernels(
    s_rows: Array,
    s_cols: Array,
    policy: AbstractDegeneracyPolicy,
    scale: Array,
    need_inverse: bool,
) -> tuple[Array, Array, Array]:
    """Safe `E[j, i] = 1/(s_i - s_j)` (zero for `j == i`), `G[j, i] = 1/(s_j + s_i)` and
    `1/s_i`, for `j` over `s_rows` and `i` over `s_cols` (`s_cols` a prefix of `s_rows`).

    Both go through `inverse_differences` with `scale = s_max`: differences within the policy's
    tolerance are degenerate pairs, sums within it are pairs of zero singular values. If
    `need_inverse` is False the diagonal of `G` (only multiplied by `Im dP_ii = 0` and only
    needed for `1/s_i` otherwise) is skipped, so that `RaiseOnDegeneracy` does not fire on the
    zero singular values of a real square matrix, whose derivative never divides by them.
    """
    p, k = s_rows.shape[-1], s_cols.shape[-1]
    eye = jnp.eye(p, k, dtype=bool)
    # A value that is never below the tolerance, for the i == j entries that are no pairs.
    filler = (1 + scale)[..., None, None]
    diff = s_cols[..., None, :] - s_rows[..., :, None]
    summ = s_cols[..., None, :] + s_rows[..., :, None]
    e = inverse_differences(jnp.where(eye, filler, diff), scale, policy, zero_diagonal=False)
    e = jnp.where(eye, 0, e)
    if not need_inverse:
        summ = jnp.where(eye, filler, summ)
    g = inverse_differences(summ, scale, policy, zero_diagonal=False)
    if not need_inverse:
        g = jnp.where(eye, 0, g)
    s_inv = 2 * jnp.diagonal(g[..., :k, :], axis1=-2, axis2=-1)
    return e, g, s_inv


def _omegas(dp_left: Array, dp_right_h: Array, e: Array, g: Array) -> tuple[Array, Array]:
    """`U^H dU` and `V^H dV` (the requested columns) from `dP` and `dP^H`."""
    j = 0.5 * (dp_left + dp_right_h)
    k = 0.5 * (dp_left - dp_right_h)
    ej = e.astype(j.dtype) * j
    gk = g.astype(k.dtype) * k
    return ej + gk, ej - gk


def _svd_forward(a: Array, *, full_matrices: bool, policy) -> tuple[Array, Array, Array]:
    del policy
    u, s, vh = jax.lax.linalg.svd(a, full_matrices=full_matrices, compute_uv=True)
    return u, s, vh


def _tsvd_forward(a: Array, *, k: int, policy) -> tuple[Array, Array, Array]:
    del policy
    u, s, vh = jax.lax.linalg.svd(a, full_matrices=False, compute_uv=True)
    return u[..., :, :k], s[..., :k], vh[..., :k, :]


def _svd(a, *, full_matrices, policy):
    return tuple(_svd_p.bind(a, full_matrices=full_matrices, policy=policy))


def _tsvd(a, *, k, policy):
    return tuple(_tsvd_p.bind(a, k=k, policy=policy))


def _svd_jvp(primals, tangents, *, full_matrices, policy):
    (a,) = primals
    (da,) = tangents
    u, s, vh = _svd(a, full_matrices=full_matrices, policy=policy)
    m, n = a.shape[-2:]
    p = min(m, n)
    u1 = u[..., :, :p]
    v = _h(vh)
    v1 = v[..., :, :p]
    scale = _largest(s)
    if m >= n:
        dav = da @ v1
        dp = _h(u1) @ dav
    else:
        dahu = _h(da) @ u1
        dp = _h(dahu) @ v1
    ds = jnp.real(jnp.diagonal(dp, axis1=-2, axis2=-1))
    e, g, s_inv = _kernels(s, s, policy, scale, jnp.iscomplexobj(a) or m != n)
    s_inv = s_inv.astype(a.dtype)[..., None, :]
    om_u, om_v = _omegas(dp, _h(dp), e, g)
    du = u1 @ om_u
    dv = v1 @ om_v
    if m > p:
        # Null space of A^H: (I - U U^H) dA V S^{-1}; with full U its columns rotate into U1.
        x = (dav - u1 @ dp) * s_inv
        du = du + x
        if full_matrices:
            u2 = u[..., :, p:]
            du = jnp.concatenate([du, -u1 @ (_h(x) @ u2)], axis=-1)
    if n > p:
        y = (dahu - v1 @ _h(dp)) * s_inv
        dv = dv + y
        if full_matrices:
            v2 = v[..., :, p:]
            dv = jnp.concatenate([dv, -v1 @ (_h(y) @ v2)], axis=-1)
    return (u, s, vh), (du, ds.astype(s.dtype), _h(dv))


def svd(
    a: Inexact[ArrayLike, "*batch m n"],
    full_matrices: bool = False,
    *,
    degeneracy: AbstractDegeneracyPolicy | None = None,
) -> tuple[Inexact[Array, "*batch m mu"], Real[Array, "*batch p"], Inexact[Array, "*batch nu n"]]:
    """Singular value decomposition $A = U\\,\\mathrm{diag}(s)\\,V^H$ with a derivative that is
    finite and exact at repeated and zero singular values for gauge-invariant losses.

    The forward pass is LAPACK's (through `jax.lax.linalg.svd`); singular values are descending.
    The tangent rule (Townsend, "Differentiating the singular value decomposition" (2016);
    Seeger et al., arXiv:1710.08717; Wan & Zhang, arXiv:1909.02659), with $dP = U^H dA V$,
    $J$ and $K$ its Hermitian and anti-Hermitian parts, $E_{ij} = 1/(s_j - s_i)$ ($E_{ii} = 0$)
    and $G_{ij} = 1/(s_i + s_j)$, is

    $$
    ds = \\mathrm{Re}\\,\\mathrm{diag}(dP),
    $$

    $$
    dU = U\\,(E \\circ J + G \\circ K) + (I - UU^H)\\,dA\\,V S^{-1},\\qquad
    dV = V\\,(E \\circ J - G \\circ K) + (I - VV^H)\\,dA^H U S^{-1}.
    $$

    Off the diagonal $E_{ij}J_{ij} \\pm G_{ij}K_{ij}$ is the usual
    $(s_j dP_{ij} + s_i \\overline{dP_{ji}})/(s_j^2 - s_i^2)$ (and its $V$ counterpart), split so
    that only the gauge part ($E \\circ J$, the rotation shared by $U$ and $V$ inside a block of
    equal singular values) is masked at a degeneracy. On the diagonal, $G_{ii}K_{ii} =
    i\\,\\mathrm{Im}(dP_{ii})/(2 s_i)$ is the complex phase term: $\\mathrm{diag}(U^H dU - V^H dV)$
    is fixed by $A$, and the common phase, a gauge, is chosen split evenly
    ($\\mathrm{diag}(U^H dU + V^H dV) = 0$). With `full_matrices=True` the extra columns
    $U_\\perp$ (a basis of the null space of $A^H$, itself a gauge) get
    $dU_\\perp = -U S^{-1} V^H dA^H U_\\perp$, the minimal change that keeps $U$ unitary;
    likewise $V_\\perp$.

    **Arguments:**

    - `a`: a real or complex matrix of shape `(..., m, n)`; leading axes are batch axes.
    - `full_matrices`: if `True`, `u` is `(m, m)` and `vh` is `(n, n)`; otherwise (default) the
      thin factors, `(m, p)` and `(p, n)` with `p = min(m, n)`.
    - `degeneracy`: how $1/(s_j - s_i)$, $1/(s_i + s_j)$ and $1/s_i$ are treated when the
      denominator is below a tolerance (an `AbstractDegeneracyPolicy`; default
      `MaskDegeneracies()`, a tolerance scaled by $s_1$ and the dtype's precision).

    **Returns:**

    A tuple `(u, s, vh)`: left singular vectors in columns, singular values (real, descending),
    and the conjugate transpose of the right singular vectors, such that
    `a = u[..., :p] * s[..., None, :] @ vh[..., :p, :]`. Zero-size inputs ($p = 0$) give what
    `jnp.linalg.svd` gives, with zero derivatives.

    **Limits:** singular vectors are defined up to a gauge (a common unitary rotation of the
    columns of $U$ and $V$ inside each block of equal singular values, a common phase for each
    complex singular pair, any basis of the null spaces). Derivatives are exact for losses that do
    not depend on that gauge: functions of `s`, of projectors such as $U_k U_k^H$, of $U V^H$, of
    the reconstructed matrix. For gauge-dependent losses the derivative is that of the gauge
    fixed above, which the forward pass does not follow. At a zero singular value the
    $1/s_i$ and $1/(s_i + s_j)$ terms are masked: the derivative of the corresponding singular
    vectors is not defined by $A$. At an *exact* degeneracy, $U_b f(S_b) V_b^H$ with a
    non-constant $f$ (e.g. `(u * s) @ vh` over the block) has the derivative $U_b J_b V_b^H$,
    an off-diagonal change of $S$ that no tangent of $(U, s, V)$ can carry: write such a
    reconstruction as `u @ (u.conj().mT @ a)`, which is exact (see the docs page "SVD,
    truncated SVD and QR").
    """
    a = _check_matrix("svd", a)
    if not isinstance(full_matrices, bool):
        raise TypeError(f"svd: `full_matrices` must be a bool, got {full_matrices!r}")
    policy = MaskDegeneracies() if degeneracy is None else degeneracy
    return _svd(a, full_matrices=full_matrices, policy=policy)


def _tsvd_jvp(primals, tangents, *, k, policy):
    (a,) = primals
    (da,) = tangents
    # The full thin SVD: the discarded triplets are what the truncated rule needs.
    u, s, vh = _svd(a, full_matrices=False, policy=policy)
    uk, sk, vhk = u[..., :, :k], s[..., :k], vh[..., :k, :]
    m, n = a.shape[-2:]
    p = min(m, n)
    v = _h(vh)
    vk = v[..., :, :k]
    scale = _largest(s)
    dav = da @ vk  # (m, k)
    dahu = _h(da) @ uk  # (n, k)
    dp_cols = _h(u) @ dav  # dP[:, :k] = U^H dA V_k, (p, k)
    dp_rows_h = _h(v) @ dahu  # (dP[:k, :])^H = V^H dA^H U_k, (p, k)
    ds = jnp.real(jnp.diagonal(dp_cols[..., :k, :], axis1=-2, axis2=-1))
    # Kernels between every singular value j (rows) and the kept ones i (columns):
    # E[j, i] = 1/(s_i - s_j), G[j, i] = 1/(s_j + s_i). Kept-discarded pairs are cross-gap.
    e, g, sk_inv = _kernels(s, sk, policy, scale, jnp.iscomplexobj(a) or m != n)
    sk_inv = sk_inv.astype(a.dtype)[..., None, :]
    om_u, om_v = _omegas(dp_cols, dp_rows_h, e, g)
    du = u @ om_u
    dv = v @ om_v
    if m > p:
        du = du + (dav - u @ dp_cols) * sk_inv
    if n > p:
        dv = dv + (dahu - v @ dp_rows_h) * sk_inv
    return (uk, sk, vhk), (du, ds.astype(s.dtype), _h(dv))


_svd_p = jvp_primitive("diffsci_svd", _svd_forward, _svd_jvp)
_tsvd_p = jvp_primitive("diffsci_truncated_svd", _tsvd_forward, _tsvd_jvp)


def truncated_svd(
    a: Inexact[ArrayLike, "*batch m n"],
    k: int,
    *,
    degeneracy: AbstractDegeneracyPolicy | None = None,
) -> tuple[Inexact[Array, "*batch m k"], Real[Array, "*batch k"], Inexact[Array, "*batch k n"]]:
    """The $k$ largest singular triplets of $A$, with a derivative that includes the
    contribution of the discarded singular vectors.

    $A \\approx U_k S_k V_k^H$. The rule is the exact derivative of the kept triplets (Francuz,
    Schuch, Vanhecke, "Stable and efficient differentiation of tensor network algorithms",
    Phys. Rev. Research 7, 013237 (2025)): with $dP = U^H dA V$ over all $p = \\min(m, n)$
    singular triplets and $i \\le k$ a kept index,

    $$
    U^H dU_i = \\sum_{j \\le p} u_j\\,\\big(E_{ji} J_{ji} + G_{ji} K_{ji}\\big),\\qquad
    dU_k = U\\,(E \\circ J + G \\circ K)_{[:, :k]} + (I - UU^H)\\,dA\\,V_k S_k^{-1},
    $$

    and likewise for $V_k$ with $E \\circ J - G \\circ K$ and $(I - VV^H)\\,dA^H U_k S_k^{-1}$;
    $ds_k = \\mathrm{Re}\\,\\mathrm{diag}(dP)_{[:k]}$. For a discarded $j > k$ the entry is
    $(s_i\\,dP_{ji} + s_j\\,\\overline{dP_{ij}})/(s_i^2 - s_j^2)$, the response of the kept
    vectors to the discarded ones; together with the null-space terms, these are the
    $(I - U_k U_k^H)$ and $(I - V_k V_k^H)$ projections that the common approximation drops
    (it keeps only $U_k (E \\circ J + G \\circ K)_{[:k, :k]}$). Dropping them gives a gradient
    that is wrong, and for the tensor-network losses of Francuz et al. wrong by far more than the
    truncation error.

    Only denominators between a kept and any other singular value enter, so the rule is finite
    and exact for gauge-invariant losses (of $s_k$, of $U_k U_k^H$, of $U_k S_k V_k^H$)
    whenever $s_k > s_{k+1}$, whatever the degeneracies inside the kept block or among the
    discarded ones. (At an exact degeneracy inside the kept block, write the reconstruction
    $U_k S_k V_k^H$ as `u @ (u.conj().mT @ a)`: see the limits of [`diffsci.linalg.svd`][].)

    **Arguments:**

    - `a`: a real or complex matrix of shape `(..., m, n)`.
    - `k`: the number of singular triplets to keep, `1 <= k <= min(m, n)` (`k = 0` for a
      matrix with `min(m, n) = 0`, whose factors are empty).
    - `degeneracy`: the policy for small denominators, as in [`diffsci.linalg.svd`][].

    **Returns:**

    A tuple `(u, s, vh)` of shapes `(..., m, k)`, `(..., k)`, `(..., k, n)`.

    **Limits:** the forward pass is a full SVD ($O(mn\\min(m,n))$); the backward costs
    $O(mnk)$ on top. If $s_k = s_{k+1}$ the truncation itself is ambiguous and the derivative is
    not defined: the default policy masks that pair, which is then only right for losses that do
    not depend on the split.
    """
    a = _check_matrix("truncated_svd", a)
    m, n = a.shape[-2:]
    p = min(m, n)
    k = static_int(k, "k", "truncated_svd")
    if not min(1, p) <= k <= p:
        raise ValueError(
            f"truncated_svd: `k` must satisfy 1 <= k <= min(m, n) = {p} for a matrix of shape "
            f"{a.shape[-2:]}, got k={k}"
            if p
            else f"truncated_svd: a matrix of shape {a.shape[-2:]} has no singular values, so "
            f"`k` must be 0, got k={k}"
        )
    policy = MaskDegeneracies() if degeneracy is None else degeneracy
    return _tsvd(a, k=k, policy=policy)
