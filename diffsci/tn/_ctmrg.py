r"""Corner transfer matrix renormalization group (CTMRG) for C4v symmetric 2D networks, with
derivatives of the converged environment from its fixed-point equation.

Nishino and Okunishi, J. Phys. Soc. Jpn. 65, 891 (1996) (the method and the free energy per
site); the C4v symmetric form with one corner and one edge tensor follows Orús and Vidal,
PRB 80, 094403 (2009) and Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019); the fixed-point
derivative with gauge fixing follows Francuz, Schuch, Vanhecke, "Stable and efficient
differentiation of tensor network algorithms", arXiv:2311.11894, and Naumann et al. (varipeps),
SciPost Phys. Lect. Notes 86 (2024).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from diffsci.linalg import MaskDegeneracies, inverse_differences

from .._internal._c4v import C4V_LEGS as _C4V  # C4v on the legs (u, l, d, r)
from .._internal._primitive import jvp_primitive
from .._internal._results import RESULTS, raise_if_failed
from .._internal._solvers import NaNOnFailure
from .._internal._validate import fail, float_array, static_int
from ._common import check_multiplet_rtol, multiplet_cut, relative_asymmetry

# Multiplets of the enlarged corner's spectrum are told apart at 1e-6 of its largest |eigenvalue|:
# away from the fixed point the members of a symmetry multiplet (SU(2) multiplets of an iPEPS,
# the Z2 pairs of the ordered Ising phase) are split by up to ~1e-6 by the error of the
# environment, and a cut that follows those splittings moves from step to step, so the iteration
# never settles (measured on the published D = 2 Heisenberg state at chi = 8, 16).
CTMRG_MULTIPLET_RTOL = 1e-6


def _check_multiplet_rtol(value, who="ctmrg"):
    return CTMRG_MULTIPLET_RTOL if value is None else check_multiplet_rtol(who, value)


__all__ = ["CTMRGEnv", "CTMRGResult", "CTMRGResults", "ctmrg", "ctmrg_log_z", "ctmrg_unrolled"]


# The codes of `CTMRGResult.result` are members of `diffsci.utils.RESULTS`; `CTMRGResults` is
# the same enumeration under its earlier name (kept for one release).
CTMRGResults = RESULTS


# The message of each failed result of CTMRG (`raise_if_failed` prefixes the name of the public
# function the user called), and that of a zero tensor, whose environment is 0/0.
_ADVICE = {
    "max_steps_reached": (
        "the CTMRG environment did not converge to a fixed point (up to a gauge) within "
        "`max_steps` iterations (see `CTMRGResult.error`). Increase `max_steps` (convergence "
        "slows down near a critical point, where the correlation length grows with chi), "
        "loosen `tol`, or start from a converged environment with `init=`. If `error` stalls "
        "instead of decreasing: chi may cut through a multiplet of the corner spectrum (try "
        "another `chi`), or the iteration is in a limit cycle."
    ),
    "not_c4v_symmetric": (
        "the tensor `a[u, l, d, r]` is not invariant under the C4v symmetry of the square "
        "(rotations and reflections, which permute its legs) to within `symmetry_rtol`; C4v "
        "CTMRG uses one corner and one edge for all four directions and needs it. Symmetrize "
        "it (average over the 8 leg permutations), or loosen `symmetry_rtol` if the asymmetry "
        "is round-off."
    ),
    "nonfinite": "NaN or infinity in the tensor `a` or in the CTMRG environment.",
    "zero_tensor": (
        "expected the tensor `a` to be nonzero, got a zero tensor (its network is zero: it "
        "has no normalizable environment)."
    ),
}


# the index of the zero-tensor message in `raise_if_failed`'s table (after the members)
_ZERO_TENSOR = len(RESULTS._name_to_item)


class CTMRGEnv(eqx.Module):
    """C4v symmetric CTMRG environment: one corner and one edge tensor for all four directions.

    - `corner`: `C[a, b]`, shape `(chi, chi)`, symmetric. In the upper-left corner `a` is the
      leg to the top edge on its right and `b` the leg to the left edge below it (the other
      corners are its rotations).
    - `edge`: `T[a, k, b]`, shape `(chi, d, chi)`, symmetric under `a <-> b`; `k` is the leg into
      the lattice (contracted with one leg of `a[u, l, d, r]`), `a` and `b` the χ legs to the
      neighbouring corners or edges. On the left edge `a` points up, `b` down, `k` meets the left
      leg of the site.

    Both are normalized to unit Frobenius norm. Built with shapes that do not fit each other
    (a corner that is not square, an edge of another χ) it raises `ValueError`.
    """

    corner: Float[Array, "chi chi"]
    edge: Float[Array, "chi d chi"]

    def __check_init__(self):
        # Shapes only (a trace-time check); leaves without a shape (placeholders) are let be.
        if not (hasattr(self.corner, "shape") and hasattr(self.edge, "shape")):
            return
        corner, edge = tuple(self.corner.shape), tuple(self.edge.shape)
        if len(corner) != 2 or corner[0] != corner[1]:
            raise ValueError(
                f"CTMRGEnv: expected `corner` to be a square (chi, chi) matrix, got shape {corner}"
            )
        if len(edge) != 3 or edge[0] != edge[2] or edge[0] != corner[0]:
            raise ValueError(
                f"CTMRGEnv: expected `edge` to have shape (chi, d, chi) with chi = {corner[0]} "
                f"from `corner` of shape {corner}, got shape {edge}"
            )


class CTMRGResult(eqx.Module):
    """The output of [`diffsci.tn.ctmrg`][].

    - `env`: the converged [`diffsci.tn.CTMRGEnv`][].
    - `steps`: iterations of the loop at bond dimension χ (not counting the few steps that grow
      the bond dimension of the default initial environment up to χ).
    - `error`: the convergence measure of `env` = $x^*$: the relative residual
      $\\lVert \\tilde f(a, x^*) - x^* \\rVert / \\lVert x^* \\rVert$ of one gauge-fixed step
      (see `ctmrg`). The derivative is exact to about this relative accuracy times the condition
      number of the fixed-point equation.
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `successful`, `max_steps_reached`
      (not converged to `tol` within `max_steps`), `not_c4v_symmetric` (the tensor differs from
      its C4v symmetrization by more than `symmetry_rtol`) or `nonfinite` (NaN or infinity in
      the tensor or the environment). Test it with `result == RESULTS.successful`.
    - `stats` (a property): `{"steps": ..., "error": ...}`, the counts every result record of
      diffsci carries under that name.
    """

    env: CTMRGEnv
    steps: Int[Array, ""]
    error: Float[Array, ""]
    result: RESULTS

    @property
    def stats(self) -> dict:
        return {"steps": self.steps, "error": self.error}


class _Options(NamedTuple):
    chi: int
    max_steps: int
    tol: float
    solver: lx.AbstractLinearSolver
    throw: bool
    multiplet_rtol: float


class _Aux(eqx.Module):
    gauge: Array  # the orthogonal U with x* = sigma U f(a, x*) U^T
    sign_corner: Array
    sign_edge: Array
    steps: Array
    error: Array


# ---------------------------------------------------------------------------------------------
# the network


def _c4v_project(a):
    """The average of `a[u, l, d, r]` over the eight elements of C4v (an orthogonal projector)."""
    return sum(jnp.transpose(a, g) for g in _C4V) / len(_C4V)


def _enlarged_corner(corner, edge, a):
    """$M_{(x' r),(y' d)} = \\sum C_{xy} T_{x u x'} T_{y l y'} a_{u l d r}$: the upper-left corner
    grown by one row and one column, rows along its right leg, columns along its down leg."""
    chi, d = edge.shape[0], edge.shape[1]
    ct = jnp.einsum("xy,xuw->ywu", corner, edge)
    ctt = jnp.einsum("ywu,ylv->wuvl", ct, edge)
    m = jnp.einsum("wuvl,uldr->wrvd", ctt, a).reshape(chi * d, chi * d)
    return 0.5 * (m + m.T)


def _grown_edge(edge, a):
    """$E_{(y u), r, (y' d)} = \\sum_l T_{y l y'} a_{u l d r}$: the left edge with one column of
    sites absorbed."""
    chi, d = edge.shape[0], edge.shape[1]
    e = jnp.einsum("ylv,uldr->yurvd", edge, a)
    return e.reshape(chi * d, a.shape[3], chi * d)


def _normalize(x):
    return x / jnp.sqrt(jnp.sum(x * x))


def _kept(w, keep, rtol):
    """The mask of kept eigenvectors: the first `keep` by |w|, less the kept members of a
    multiplet of |w| that the cut would split (`multiplet_cut`), so the kept subspace is an
    invariant subspace that is a smooth function of the matrix."""
    mask, _ = multiplet_cut(jnp.abs(w), keep, rtol)
    return jnp.concatenate([mask, jnp.zeros((w.shape[-1] - keep,), dtype=bool)])


def _split_eigh_forward(m, *, keep, rtol):
    w, v = jnp.linalg.eigh(m, symmetrize_input=False)
    order = jnp.argsort(-jnp.abs(w), axis=-1)
    w = jnp.take_along_axis(w, order, axis=-1)
    v = jnp.take_along_axis(v, order[..., None, :], axis=-1)
    return w, v


def _split_eigh_jvp(primals, tangents, *, keep, rtol):
    # Perturbation theory with the kept (first `keep`) and discarded eigenvectors each rotated
    # only out of their own block: X = V^T dM V, dw_i = X_ii, dV = V (F o X) with
    # F_ij = 1/(w_j - w_i) when exactly one of i, j is kept, and 0 otherwise. The kept block
    # (and the discarded one) moves as an invariant subspace whose basis is transported without
    # internal rotation, a valid smooth choice of eigenbasis inside each block. A rotation inside
    # the kept block is a gauge transformation of the new environment, so this drops
    # ill-conditioned 1/(w_j - w_i) between nearly degenerate kept eigenvalues that the full rule
    # of `diffsci.linalg.eigh` would carry without changing any gauge-invariant result.
    (m,), (dm,) = primals, tangents
    w, v = _split_eigh_p.bind(m, keep=keep, rtol=rtol)
    x = jnp.swapaxes(v, -1, -2) @ dm @ v
    kept = _kept(w, keep, rtol)
    cross = kept[:, None] != kept[None, :]
    differences = jnp.where(cross, w[..., None, :] - w[..., :, None], 0.0)
    scale = jax.lax.stop_gradient(jnp.max(jnp.abs(w), axis=-1))
    f = inverse_differences(differences, scale, MaskDegeneracies())
    dw = jnp.diagonal(x, axis1=-2, axis2=-1)
    dv = v @ (f * x)
    return (w, v), (dw, dv)


# A primitive rather than a custom_jvp, for the reason given in diffsci._internal._primitive:
# its rule is then used at every order of differentiation.
_split_eigh_p = jvp_primitive("diffsci_ctmrg_split_eigh", _split_eigh_forward, _split_eigh_jvp)


def _step(a, corner, edge, chi, rtol):
    """One C4v CTMRG step $f(a, x)$: the new corner, edge and normalized kept spectrum.

    $M = V \\operatorname{diag}(w) V^\\top$, eigenvalues ordered by decreasing modulus; $P$ = the
    first `chi` eigenvectors; $C' = P^\\top M P$, $T'_k = P^\\top E_k P$, each divided by its
    Frobenius norm. $C'$ is written $P^\\top M P$ rather than $\\operatorname{diag}(w)$ so that
    its tangent stays consistent with that of $T'$ (the derivative of $P$ has no rotation inside
    the kept block, see `_split_eigh_jvp`).
    """
    m = _enlarged_corner(corner, edge, a)
    keep = min(chi, m.shape[0])
    w, v = _split_eigh_p.bind(m, keep=keep, rtol=rtol)
    # Never keep part of a multiplet of |w|: drop its kept members (zero columns, static shape).
    mask = _kept(w, keep, rtol)[:keep]
    p = jnp.where(mask[None, :], v[:, :keep], 0.0)
    c = p.T @ m @ p
    c = _normalize(0.5 * (c + c.T))
    t = jnp.einsum("ia,ikj,jb->akb", p, _grown_edge(edge, a), p)
    t = _normalize(0.5 * (t + jnp.transpose(t, (2, 1, 0))))
    spectrum = _normalize(jnp.where(mask, jnp.abs(w[:keep]), 0.0))
    return c, t, spectrum


@functools.partial(jax.jit, static_argnums=(1, 2))
def _initial_env(a, chi, rtol):
    """Open boundary (a vector of ones on every outer leg), then steps without truncation until
    the bond dimension reaches `chi` (a static number of them; one truncating step if chi < d)."""
    corner = jnp.einsum("uldr->rd", a)  # [right, down]: the upper-left site, outer legs summed
    edge = jnp.einsum("uldr->urd", a)  # left edge: [up, into the lattice, down]
    corner, edge = _normalize(corner), _normalize(edge)
    while corner.shape[0] != chi:  # grows by a factor d per step, or is truncated to chi
        corner, edge, _ = _step(a, corner, edge, chi, rtol)
    return corner, edge


def _gauge(corner, edge, corner_new, edge_new):
    """The orthogonal $U$ and signs $\\sigma_C, \\sigma_T$ with $C = \\sigma_C U C' U^\\top$,
    $T_k = \\sigma_T U T'_k U^\\top$, for $(C', T')$ one step after the fixed point $(C, T)$.

    $T_r = \\sum_k r_k T_k$ for a fixed generic $r$ is symmetric; at the fixed point
    $T'_r = \\sigma_T U^\\top T_r U$ so the two have the same spectrum (reversed and negated if
    $\\sigma_T = -1$) and, with eigenvectors $V$, $V'$, $U = V S V'^\\top$ with an unknown diagonal
    sign matrix $S$. In the eigenbases, $G_k = V^\\top T_k V$ and $G'_k = V'^\\top T'_k V'$ obey
    $G'_k = \\sigma_T S G_k S$, so $H = \\sigma_T \\sum_k G_k \\circ G'_k$ (and the same with $C$)
    equals $S W S$ with $W$ entrywise nonnegative: the signs of its Perron vector are $S$. This
    handles degenerate blocks of the corner spectrum (any rotation within them) as well as
    sign flips, with three small eigendecompositions.
    """
    corner, edge, corner_new, edge_new = jax.lax.stop_gradient((corner, edge, corner_new, edge_new))
    d = edge.shape[1]
    # A fixed generic direction: distinct, irrational-looking weights.
    r = jnp.cos(1.0 + 2.399963 * jnp.arange(d, dtype=edge.dtype)) + 0.1
    t_r = jnp.einsum("akb,k->ab", edge, r)
    t_r_new = jnp.einsum("akb,k->ab", edge_new, r)
    e, v = jnp.linalg.eigh(0.5 * (t_r + t_r.T))
    e_new, v_new = jnp.linalg.eigh(0.5 * (t_r_new + t_r_new.T))
    flip = jnp.sum((e_new + e[::-1]) ** 2) < jnp.sum((e_new - e) ** 2)
    sign_edge = jnp.where(flip, -1.0, 1.0).astype(edge.dtype)
    v = jnp.where(flip, v[:, ::-1], v)
    g = jnp.einsum("ai,akb,bj->kij", v, edge, v)
    g_new = jnp.einsum("ai,akb,bj->kij", v_new, edge_new, v_new)
    g_corner, g_corner_new = v.T @ corner @ v, v_new.T @ corner_new @ v_new
    # The diagonal of sigma_C S G_C S is sigma_C diag(G_C): sigma_C whatever S is.
    overlap = jnp.sum(jnp.diagonal(g_corner) * jnp.diagonal(g_corner_new))
    sign_corner = jnp.where(overlap < 0, -1.0, 1.0).astype(edge.dtype)
    h = sign_edge * jnp.sum(g * g_new, axis=0) + sign_corner * g_corner * g_corner_new
    _, perron = jnp.linalg.eigh(0.5 * (h + h.T))
    signs = jnp.where(perron[:, -1] < 0, -1.0, 1.0).astype(edge.dtype)
    u = (v * signs[None, :]) @ v_new.T
    return u, sign_corner, sign_edge


def _gauge_fixed_step(x, a, gauge, sign_corner, sign_edge, chi, rtol):
    """$\\tilde f(a, x) = (\\sigma_C U C' U^\\top, \\sigma_T U T' U^\\top)$, $(C', T') = f(a, x)$,
    with $U$, $\\sigma$ held fixed: the converged environment is an exact fixed point of it."""
    corner, edge = x
    c, t, _ = _step(a, corner, edge, chi, rtol)
    c = sign_corner * gauge @ c @ gauge.T
    t = sign_edge * jnp.einsum("ai,ikj,bj->akb", gauge, t, gauge)
    return c, t


# ---------------------------------------------------------------------------------------------
# forward iteration and its derivative


def _residual(a, x, x_new, chi):
    """The gauge $(U, \\sigma_C, \\sigma_T)$ between $x$ and $x' = f(a, x)$, and the relative
    residual $\\lVert \\tilde f(a, x) - x \\rVert / \\lVert x \\rVert$ it leaves."""
    (corner, edge), (corner_new, edge_new) = x, x_new
    gauge = _gauge(corner, edge, corner_new, edge_new)
    u, sign_corner, sign_edge = gauge
    c_fix = sign_corner * u @ corner_new @ u.T
    t_fix = sign_edge * jnp.einsum("ai,ikj,bj->akb", u, edge_new, u)
    residual = jnp.sqrt(
        (jnp.sum((c_fix - corner) ** 2) + jnp.sum((t_fix - edge) ** 2))
        / (jnp.sum(corner**2) + jnp.sum(edge**2))
    )
    return gauge, residual


@functools.partial(jax.jit, static_argnums=3)
def _forward(a, corner, edge, opts: _Options):
    # Jitted (with static options) so that eager calls, e.g. the many evaluations of a finite
    # difference, reuse one compiled loop.
    a, corner, edge = jax.lax.stop_gradient((a, corner, edge))
    chi = opts.chi

    def advance(x):
        c, t, _ = _step(a, *x, chi=chi, rtol=opts.multiplet_rtol)
        return c, t

    def cond(carry):
        _, _, _, k, err = carry
        return (k < opts.max_steps) & (err > opts.tol)

    def body(carry):
        _, x, _, k, _ = carry
        x_new = advance(x)
        gauge, err = _residual(a, x, x_new, chi)
        return x, x_new, gauge, k + 1, err

    # carry: (x_n, f(x_n), gauge between them, n, residual of x_n)
    x0 = (corner, edge)
    x1 = advance(x0)
    gauge0, err0 = _residual(a, x0, x1, chi)
    init = (x0, x1, gauge0, jnp.asarray(0), err0)
    x, _, gauge, steps, error = jax.lax.while_loop(cond, body, init)
    aux = _Aux(*gauge, steps, error)
    return x[0], x[1], aux


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _fixed_point(a, corner, edge, opts):
    return _forward(a, corner, edge, opts)


@_fixed_point.defjvp
def _fixed_point_jvp(opts, primals, tangents):
    # Implicit function theorem for x* = f~(a, x*), with f~ the gauge-fixed step:
    #   dx* = (I - d_x f~)^{-1} d_a f~ da,
    # a linear solve by GMRES (lineax), whose transpose gives reverse mode. The primal comes
    # from `_fixed_point` itself, so that a second derivative sees x*(a) with this same rule.
    a, corner, edge = primals
    da = tangents[0]
    out = _fixed_point(a, corner, edge, opts)
    corner, edge, aux = out
    x = (corner, edge)
    fixed = (aux.gauge, aux.sign_corner, aux.sign_edge)

    def g(x_, a_):
        return _gauge_fixed_step(x_, a_, *fixed, opts.chi, opts.multiplet_rtol)

    _, rhs = jax.jvp(lambda a_: g(x, a_), (a,), (da,))

    def matvec(v):  # (I - d_x f~) v
        return jax.tree.map(jnp.subtract, v, jax.jvp(lambda x_: g(x_, a), (x,), (v,))[1])

    # jax.lax.custom_linear_solve owns the transpose (reverse mode) and the derivatives of the
    # solve (second order); lineax only solves. (lineax's own transpose raises whenever the
    # transposed solve fails, whatever `throw` says.) Without `throw`, a failed solve, forward
    # or transposed, gives NaN derivatives.
    solver = opts.solver if opts.throw else NaNOnFailure(opts.solver)

    def solve(op, b):
        operator = lx.FunctionLinearOperator(op, jax.eval_shape(lambda: b))
        return lx.linear_solve(operator, b, solver, throw=opts.throw).value

    d_corner, d_edge = jax.lax.custom_linear_solve(matvec, rhs, solve, solve)
    d_aux = jax.tree.map(_zero_tangent, aux)
    return out, (d_corner, d_edge, d_aux)


def _zero_tangent(x):
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.zeros_like(x)
    return np.zeros(x.shape, dtype=jax.dtypes.float0)


# ---------------------------------------------------------------------------------------------
# public functions


def _check_tensor(a, who):
    if isinstance(a, str) or a is None:
        fail(who, "a", "to be a rank-4 array of real numbers", a, TypeError)
    a = jnp.asarray(a)
    if a.ndim != 4:
        raise ValueError(
            f"{who}: expected `a` to be a rank-4 tensor a[u, l, d, r] (up, left, down, right), got "
            f"shape {a.shape}"
        )
    if len(set(a.shape)) != 1:
        raise ValueError(
            f"{who}: the four legs of a C4v symmetric tensor `a[u, l, d, r]` are exchanged by its "
            f"symmetry and must have the same dimension, got shape {a.shape}"
        )
    if a.size == 0:
        raise ValueError(f"{who}: expected `a` to have legs of dimension >= 1, got shape {a.shape}")
    if jnp.issubdtype(a.dtype, jnp.complexfloating):
        raise TypeError(f"{who}: expected `a` to be a real tensor, got dtype {a.dtype}")
    return float_array(a, "a", who)


def _check_positive_int(value, name, who):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{who}: `{name}` must be an integer >= 1, got {value!r}")
    return int(value)


def _check_init(init, chi, a_shape, dtype, who):
    d = a_shape[0]
    if not isinstance(init, CTMRGEnv):
        hint = " (pass `result.env`)" if isinstance(init, CTMRGResult) else ""
        raise TypeError(
            f"{who}: `init` must be a CTMRGEnv or None, got {type(init).__name__}{hint}"
        )
    corner = float_array(init.corner, "init.corner", who)
    edge = float_array(init.edge, "init.edge", who)
    if corner.shape != (chi, chi) or edge.shape != (chi, d, chi):
        raise ValueError(
            f"{who}: `init` does not fit the tensor `a` of shape {a_shape} and chi={chi}: "
            f"expected ({chi}, {chi}) and ({chi}, {d}, {chi}) for its corner and edge, got corner "
            f"shape {corner.shape} and edge shape {edge.shape}"
        )
    corner = 0.5 * (corner + corner.T)
    edge = 0.5 * (edge + jnp.transpose(edge, (2, 1, 0)))
    return _normalize(corner.astype(dtype)), _normalize(edge.astype(dtype))


def _ctmrg(
    a,
    chi,
    who: str,
    *,
    max_steps: int = 1000,
    tol: float | None = None,
    init: CTMRGEnv | None = None,
    throw: bool = True,
    solver: lx.AbstractLinearSolver | None = None,
    symmetry_rtol: float | None = None,
    multiplet_rtol: float | None = None,
) -> CTMRGResult:
    """`ctmrg`, with its errors reported as coming from `who` (the public function called)."""
    a = _check_tensor(a, who)
    chi = _check_positive_int(chi, "chi", who)
    max_steps = _check_positive_int(max_steps, "max_steps", who)
    d = a.shape[0]
    dtype = a.dtype
    if d == 1 and chi > 1:
        raise ValueError(
            f"{who}: a tensor with legs of dimension 1 has an environment of bond dimension 1; "
            f"got chi={chi}"
        )
    if tol is None:
        tol = 1e-10 if dtype == jnp.float64 else 1e-5
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol > 0:
        raise ValueError(f"{who}: `tol` must be a positive number, got {tol!r}")
    multiplet_rtol = _check_multiplet_rtol(multiplet_rtol, who)
    if symmetry_rtol is None:
        symmetry_rtol = math.sqrt(float(jnp.finfo(dtype).eps))
    if (
        isinstance(symmetry_rtol, bool)
        or not isinstance(symmetry_rtol, int | float)
        or not symmetry_rtol > 0
    ):
        raise ValueError(f"{who}: `symmetry_rtol` must be a positive number, got {symmetry_rtol!r}")
    if solver is None:
        solver = lx.GMRES(rtol=tol, atol=tol, restart=10, max_steps=2000)
    if not isinstance(solver, lx.AbstractLinearSolver):
        raise TypeError(
            f"{who}: `solver` must be a lineax solver (lineax.AbstractLinearSolver), got "
            f"{type(solver).__name__}"
        )
    opts = _Options(chi, max_steps, float(tol), solver, bool(throw), multiplet_rtol)

    sym = _c4v_project(a)
    asymmetry = relative_asymmetry(a, _C4V[1:])
    if init is None:
        corner0, edge0 = _initial_env(jax.lax.stop_gradient(sym), chi, multiplet_rtol)
    else:
        corner0, edge0 = _check_init(init, chi, a.shape, dtype, who)
    corner, edge, aux = _fixed_point(sym, corner0, edge0, opts)

    finite = (
        jnp.all(jnp.isfinite(a))
        & jnp.all(jnp.isfinite(corner))
        & jnp.all(jnp.isfinite(edge))
        & jnp.isfinite(aux.error)
    )
    result = RESULTS.where(aux.error > tol, RESULTS.max_steps_reached, RESULTS.successful)
    result = RESULTS.where(asymmetry > symmetry_rtol, RESULTS.not_c4v_symmetric, result)
    result = RESULTS.where(finite, result, RESULTS.nonfinite)
    if throw:
        # A zero tensor fails as `nonfinite` (its environment is 0/0): say what it is.
        message = jnp.where(jnp.all(a == 0), _ZERO_TENSOR, result._value)
        corner, edge = raise_if_failed((corner, edge), result, who, _ADVICE, message)
    return CTMRGResult(env=CTMRGEnv(corner, edge), steps=aux.steps, error=aux.error, result=result)


# `_ctmrg` compiled as one program (as the public `ctmrg` is), for callers that run eagerly.
_ctmrg_jit = eqx.filter_jit(_ctmrg)

_OPTIONS = ("max_steps", "tol", "init", "throw", "solver", "symmetry_rtol", "multiplet_rtol")


def check_ctmrg_options(kwargs: dict, who: str) -> None:
    """`TypeError` naming the unknown ones among the CTMRG options passed to `who`."""
    unknown = sorted(set(kwargs) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"{who}: unknown CTMRG option(s) {unknown}; the options of `diffsci.tn.ctmrg` are "
            f"{list(_OPTIONS)}"
        )


@eqx.filter_jit
def ctmrg(
    a: Float[ArrayLike, "d d d d"],
    chi: int,
    *,
    max_steps: int = 1000,
    tol: float | None = None,
    init: CTMRGEnv | None = None,
    throw: bool = True,
    solver: lx.AbstractLinearSolver | None = None,
    symmetry_rtol: float | None = None,
    multiplet_rtol: float | None = None,
) -> CTMRGResult:
    r"""Environment of a C4v symmetric 2D tensor network by the corner transfer matrix
    renormalization group, differentiable through its fixed-point equation.

    The infinite network of copies of `a[u, l, d, r]` (legs up, left, down, right; each right leg
    contracted with the left leg of the right neighbour, each up leg with the down leg of the
    site above) seen from one site is approximated by four corners $C$ and four edges $T$,

    ```
    C T C
    T a T
    C T C
    ```

    all equal by the C4v symmetry (Nishino and Okunishi, J. Phys. Soc. Jpn. 65, 891 (1996);
    Orús and Vidal, PRB 80, 094403 (2009)). One step $x' = f(a, x)$ on $x = (C, T)$: enlarge the
    corner, $M_{(x'r),(y'd)} = \sum C_{xy} T_{xux'} T_{yly'} a_{uldr}$ (a symmetric χd × χd
    matrix); $M = V \operatorname{diag}(w) V^\top$; the projector $P$ holds the χ eigenvectors
    of largest $|w|$; $C' = P^\top M P$ and $T'_{\cdot k \cdot} = P^\top (\sum_l
    T_{\cdot l \cdot}\, a_{\cdot l \cdot k}) P$, each divided by its Frobenius norm.

    **Convergence.** $f(a, x^*)$ equals $x^*$ only up to a gauge: $f(a, x^*) = (\sigma_C U^\top
    C^* U, \sigma_T U^\top T^* U)$ with an orthogonal $U$ (eigenvector signs, rotations in
    degenerate blocks of the corner spectrum) and signs $\sigma$. At every step they are
    determined (below) and the loop (a `lax.while_loop`, without derivatives) stops when the
    gauge-fixed residual $\lVert \tilde f(a, x) - x \rVert / \lVert x \rVert$, with
    $\tilde f(a, x) = (\sigma_C U C' U^\top, \sigma_T U T' U^\top)$, is below `tol`. (The
    change of the corner spectrum is a poor criterion: it is quadratic in the error of the
    eigenvectors, and stalls long before they have converged.)

    **Derivative.** With $U$ and $\sigma$ of the returned $x^*$ held fixed, $x^*$ is a fixed point
    of $\tilde f(a, \cdot)$. Since $f$ does not see the gauge of its input, $\partial_x \tilde f$
    has no unit eigenvalue along gauge directions, and the implicit function theorem gives the
    tangent

    $$\dot x^* = (I - \partial_x \tilde f)^{-1}\, \partial_a \tilde f\, \dot a,$$

    solved by `solver` (GMRES by default; one JVP of a single step per iteration). This is a
    forward-mode rule (`jax.custom_jvp`), linear in $\dot a$; JAX transposes it for reverse mode
    (the adjoint linear solve), so `jax.grad`, `jax.jacfwd`, `jax.hessian` and `vmap` all work,
    with memory and cost independent of the number of forward iterations (Francuz, Schuch,
    Vanhecke, arXiv:2311.11894; Liao et al., PRX 9, 031041 (2019)).

    **Gauge.** With $T_r = \sum_k r_k T_k$ for a fixed generic $r$, $T'_r = \sigma_T U^\top T_r
    U$, so the eigenvectors $V$, $V'$ of the two give $U = V S V'^\top$ up to a diagonal sign
    matrix $S$, read off from the Perron vector of $\sigma_T \sum_k (V^\top T_k V) \circ
    (V'^\top T'_k V') = S W S$, $W \ge 0$ (entrywise; the corner enters the sum too).

    **Arguments:**

    - `a`: the real tensor `a[u, l, d, r]`, invariant under the C4v group of the square (e.g. the
      double-layer tensor of a symmetric iPEPS, or a classical model with symmetric bonds). It is
      projected onto its C4v symmetric part, so derivatives along non-symmetric directions are
      those of the projection.
    - `chi`: the bond dimension χ of the environment, an integer ≥ 1.
    - `max_steps`: the most iterations at bond dimension χ.
    - `tol`: convergence threshold on the relative gauge-fixed residual (default 1e-10 in
      float64, 1e-5 in float32; the residual cannot go below round-off times the inverse gaps of
      the spectrum of $M$, about 1e-12 in float64).
    - `init`: a starting `CTMRGEnv` with shapes `(chi, chi)`, `(chi, d, chi)` (a warm start, or a
      boundary that selects one of several fixed points). Default: a vector of ones on every
      outer leg, grown without truncation to χ. In a phase with spontaneously broken symmetry
      the fixed point depends on it.
    - `throw`: raise (through `equinox.error_if`) unless the result is successful; with `False`
      look at `result`. The tangent linear solve then does not raise either: when it fails
      (forward, or transposed in reverse mode) the derivatives are NaN.
    - `solver`: a `lineax` solver for the tangent system (default
      `lineax.GMRES(rtol=tol, atol=tol, restart=10, max_steps=2000)`). lineax's GMRES checks
      convergence only at a restart, after `restart` operator applications, so a short restart
      wastes few of them (measurements in docs/tn.md).
    - `symmetry_rtol`: tolerance on $\max_g \lVert g\cdot a - a\rVert / \lVert a \rVert$ over
      C4v (default $\sqrt\epsilon$ of the dtype).
    - `multiplet_rtol`: the truncation never keeps part of a multiplet of $|w|$: consecutive
      values closer than `multiplet_rtol` times the largest belong to one multiplet, and if the
      cut after the χ-th value splits one, its kept members are dropped too (their columns of
      $P$ are zero, so shapes stay static and χ is an upper bound on the kept rank). Without
      this, a cut through a symmetry multiplet has no fixed point. Default 1e-6.

    **Checks:** at trace time the rank and shape of `a` (an integer or boolean tensor is
    promoted to the default float; complex, float16 and bfloat16 are refused), `chi`,
    `max_steps`, `tol`, `symmetry_rtol`, `multiplet_rtol`, `solver`, and the shapes of `init`
    against `a` and `chi`; at run time, with `throw`, NaN or infinite entries, a zero tensor, a
    tensor that is not C4v symmetric and non-convergence (see `result` otherwise).

    **Returns:**

    A [`diffsci.tn.CTMRGResult`][]: `env` (a [`diffsci.tn.CTMRGEnv`][]), `steps`, `error`,
    `result` (a member of [`diffsci.utils.RESULTS`][]).

    Cost per step: an eigendecomposition of a χd × χd matrix, three of χ × χ matrices (the
    gauge) and $O(\chi^3 d^3 + \chi^2 d^5)$ contractions; the derivative costs one linear solve
    of as many GMRES steps as it needs, each about one step's cost.

    **Limits.** Only gauge-invariant functions of the environment (ln Z, expectation values,
    $\operatorname{tr} C^4 / (\operatorname{tr} C^2)^2$) have a unique derivative; the tangent
    of $C$ and $T$ themselves is given in the gauge of $U$. Where χ cuts through a multiplet of
    the spectrum of $M$ the truncated environment is not differentiable, and the iteration
    usually does not converge (`max_steps_reached`).
    """
    return _ctmrg(
        a,
        chi,
        "ctmrg",
        max_steps=max_steps,
        tol=tol,
        init=init,
        throw=throw,
        solver=solver,
        symmetry_rtol=symmetry_rtol,
        multiplet_rtol=multiplet_rtol,
    )


def ctmrg_unrolled(
    a: Float[ArrayLike, "d d d d"],
    chi: int,
    steps: int,
    *,
    multiplet_rtol: float | None = None,
) -> CTMRGEnv:
    r"""The environment after a fixed number of plain CTMRG steps, differentiated by unrolling:
    the stock alternative to [`diffsci.tn.ctmrg`][], whose derivative comes from the fixed-point
    equation.

    From the default start of `ctmrg` (a vector of ones on every outer leg, grown without
    truncation to χ) it takes `steps` steps of the same C4v update (the same truncation, never
    splitting a multiplet), with no convergence test and no gauge fixing; `jax.grad` then
    differentiates through every step, with memory growing with `steps`. benchmarks/tn.py
    compares its gradient and time with those of the fixed point.

    **Arguments:**

    - `a`: the C4v symmetric site tensor `a[u, l, d, r]`, as for `ctmrg`.
    - `chi`: the bond dimension χ of the environment, an integer ≥ 1.
    - `steps`: the steps at bond dimension χ, an integer ≥ 0.
    - `multiplet_rtol`: as for `ctmrg` (default 1e-6).

    **Returns:**

    A [`diffsci.tn.CTMRGEnv`][], not normalized beyond what each step does.

    **Checks:** at trace time the rank and shape of `a` (an integer or boolean tensor is
    promoted to the default float; complex, float16 and bfloat16 are refused), `chi`, `steps`
    and `multiplet_rtol`. Nothing checks convergence: use `ctmrg` for an environment.
    """
    who = "ctmrg_unrolled"
    a = _check_tensor(a, who)
    chi = _check_positive_int(chi, "chi", who)
    steps = static_int(steps, "steps", who, minimum=0)
    rtol = _check_multiplet_rtol(multiplet_rtol, who)
    corner, edge = _initial_env(a, chi, rtol)
    for _ in range(steps):
        corner, edge, _ = _step(a, corner, edge, chi, rtol)
    return CTMRGEnv(corner, edge)


@eqx.filter_jit
def ctmrg_log_z(a: Float[ArrayLike, "d d d d"], chi: int, **kwargs) -> Float[Array, ""]:
    r"""ln Z per site of the infinite C4v symmetric network of `a`, from its CTMRG environment.

    With the converged corner $C$ and edge $T$ (`diffsci.tn.ctmrg`), the partition function per
    site is $\kappa = Z_1 Z_4 / Z_2^2$ (Nishino and Okunishi, J. Phys. Soc. Jpn. 65, 891
    (1996)): $Z_1$ the 3×3 network C T C / T a T / C T C, $Z_2$ the 3×2 network C T C / C T C
    (two edges contracted with each other, no site) and $Z_4 = \operatorname{tr} C^4$. The
    normalization of $C$ and $T$ cancels in the ratio. Differentiable to any order in `a`
    through the fixed-point derivative of `ctmrg`; at finite χ this includes the (small) change
    of the environment, so it is the exact derivative of the truncated approximation.

    **Arguments:**

    - `a`: the C4v symmetric tensor `a[u, l, d, r]` (see `ctmrg`).
    - `chi`: bond dimension.
    - `**kwargs`: passed to `ctmrg` (`max_steps`, `tol`, `init`, `throw`, ...).

    **Checks:** as `ctmrg` (its errors are reported from `ctmrg_log_z`), unknown options
    (`TypeError`), and at run time (`equinox.error_if`) a $\kappa \le 0$: such a network is not
    the Boltzmann weight of a classical model and ln Z is undefined, so it raises rather than
    returning $\ln|\kappa|$, a silently wrong number. The check compares one scalar without
    derivative, so derivatives of every order are unchanged.

    **Returns:**

    $\ln\kappa$, a scalar.
    """
    who = "ctmrg_log_z"
    check_ctmrg_options(kwargs, who)
    a = _check_tensor(a, who)
    env = _ctmrg(a, chi, who, **kwargs).env
    log_kappa, z1 = _log_kappa(_c4v_project(a), env.corner, env.edge)
    # Z_4 = tr C^4 and Z_2^2 are sums of squares; kappa has the sign of Z_1, which no gauge of
    # the environment (signs, rotations of C and T) changes.
    return eqx.error_if(
        log_kappa,
        jax.lax.stop_gradient(z1) <= 0,
        f"{who}: the partition function per site kappa = Z1 Z4 / Z2^2 of the network of `a` came "
        "out zero or negative (ln Z is undefined): `a` is not the Boltzmann weight of a "
        "classical model (Z > 0 needs nonnegative total weights). If it is one, a too small "
        "`chi` or an unconverged environment changed the sign: increase `chi` or `max_steps`.",
    )


def _log_kappa(a, c, t):
    cc = c @ c
    # Half of the 3x3 network: the top row C T C with the left and right edges, [y3, l, u, r, y4].
    top = jnp.einsum("xy,xuw,wv->yuv", c, t, c)
    half = jnp.einsum("yuv,ylp,vrq->plurq", top, t, t)
    bottom = jnp.einsum("pz,zdm,qm->pdq", c, t, c)
    z1 = jnp.einsum("plurq,uldr,pdq->", half, a, bottom)
    z2 = jnp.einsum("yuv,yuv->", top, top)
    z4 = jnp.sum(cc * cc)
    return jnp.log(jnp.abs(z1)) + jnp.log(jnp.abs(z4)) - 2.0 * jnp.log(jnp.abs(z2)), z1
