r"""Matrix-free extremal eigenpairs of a Hermitian operator, with exact adjoints.

Forward: thick-restart block Lanczos (Ruhe's vector-by-vector variant) with full
reorthogonalization, in `lax.while_loop`s. Derivatives: a `jax.custom_jvp` rule that is linear in
the parameter tangents, so JAX transposes it for reverse mode and differentiates it again for
second derivatives. The eigenvector derivative costs one projected linear solve per eigenpair
(Xie, Liu, Wang, PRB 101, 245139 (2020), arXiv:2001.04121).
"""

from __future__ import annotations

import functools as ft
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Float, Inexact, Int, PyTree

from .._internal import as_arrays, combine, hoist, split
from .._internal._results import RESULTS, raise_if_failed
from .._internal._validate import finite, static_int

__all__ = ["EigshResult", "eigsh"]


class EigshResult(eqx.Module):
    """The result of [`diffsci.linalg.eigsh`][].

    **Fields:**

    - `eigenvalues`: the `k` wanted eigenvalues, in ascending order, shape `(k,)`, real.
    - `eigenvectors`: orthonormal eigenvectors as columns, shape `(dim, k)` with `dim = v0.size`
      (reshape a column with `.reshape(v0.shape)`), dtype of `v0`.
    - `residual_norms`: $\\|H\\psi_i - \\lambda_i\\psi_i\\|_2$, computed with one extra operator
      application per eigenpair after the iteration, shape `(k,)`.
    - `iterations`: the number of Lanczos steps (operator applications) taken.
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `successful` when every residual norm
      is at most `10 * tol` times the largest Ritz value in magnitude (an estimate of
      $\\|H\\|$; the iteration itself stops at `tol` by the Lanczos estimate of the residuals,
      the factor 10 absorbs rounding in the direct one), `max_steps_reached` otherwise.
    - `converged` (a property): `result == RESULTS.successful`, a boolean array.
    - `stats` (a property): `{"iterations": ..., "residual_norms": ...}`, the counts every
      result record of diffsci carries under that name.
    """

    eigenvalues: Float[Array, " k"]
    eigenvectors: Inexact[Array, "dim k"]
    residual_norms: Float[Array, " k"]
    iterations: Int[Array, ""]
    result: RESULTS

    @property
    def converged(self) -> Bool[Array, ""]:
        return self.result == RESULTS.successful

    @property
    def stats(self) -> dict:
        return {"iterations": self.iterations, "residual_norms": self.residual_norms}


# ------------------------------------------------------------------------------------------------
# Forward: thick-restart block Lanczos
# ------------------------------------------------------------------------------------------------


def _vdot_rows(V, w):
    """conj(V) @ w without materializing conj(V)."""
    return jnp.conj(V @ jnp.conj(w))


def _orthogonalize(V, w):
    """Two passes of classical Gram-Schmidt of `w` against the rows of `V` (zero rows are inert),
    and a third pass when the second one still removed a sizeable part (the DGKS criterion)."""
    h = _vdot_rows(V, w)
    w = w - h @ V
    norm1 = jnp.linalg.norm(w)
    h2 = _vdot_rows(V, w)
    w = w - h2 @ V
    h = h + h2
    norm2 = jnp.linalg.norm(w)

    def third(args):
        w, h = args
        h3 = _vdot_rows(V, w)
        return w - h3 @ V, h + h3

    w, h = lax.cond(norm2 < 0.7071 * norm1, third, lambda a: a, (w, h))
    return w, h


def _random_like(key, x):
    return jax.random.normal(key, x.shape, x.dtype)


def _pseudo_random(seed, like):
    """A cheap deterministic pseudo-random vector (a hash of index and seed): it only has to be
    far from any particular subspace, and compiles much faster than `jax.random` in a loop."""
    rdtype = jnp.finfo(like.dtype).dtype
    i = lax.iota(rdtype, like.shape[0])
    s = jnp.asarray(seed, rdtype)
    x = jnp.sin(i * (12.9898 + 0.618034 * s) + 78.233 * s + 0.5) * 43758.5453
    x = x - jnp.floor(x) - 0.5
    if jnp.issubdtype(like.dtype, jnp.complexfloating):
        y = jnp.sin(i * (39.3468 + 0.414214 * s) + 11.135 * s + 0.25) * 24634.6345
        x = x + 1j * (y - jnp.floor(y) - 0.5)
    return x.astype(like.dtype)


def _unit_random_orthogonal(V, key, like, seed=None):
    """A random unit vector orthogonal to the rows of `V`, or zero if none is left."""
    r = _random_like(key, like) if seed is None else _pseudo_random(seed, like)
    r = r / jnp.linalg.norm(r)
    r, _ = _orthogonalize(V, r)
    r, _ = _orthogonalize(V, r)
    nrm = jnp.linalg.norm(r)
    eps = jnp.finfo(like.dtype).eps
    ok = nrm > jnp.sqrt(eps)
    return jnp.where(ok, r / jnp.where(ok, nrm, 1), 0)


def _lanczos(mv, x0, key, *, k, which, tol, max_iters, m, p, b):
    """Thick-restart block Lanczos. Returns (theta (k,), Y (k, n), iterations, est. converged).

    Basis rows `V[0 .. m+b-1]`; `C[i, j] = <v_i, H v_j>` from the Gram-Schmidt coefficients of the
    step that applied H to `v_j` and produced `v_{j+b}` (Ruhe's block Lanczos). The projected
    matrix is the Hermitian matrix built from the upper triangle of `C[:m, :m]`; the residual of a
    Ritz vector `V_m s` is `C[m:m+b, :m] s` in the orthonormal extra block `V[m:m+b]`.
    """
    n = x0.shape[0]
    dtype = x0.dtype
    rdtype = jnp.finfo(dtype).dtype
    eps = jnp.finfo(dtype).eps

    # start block: v0 and b-1 random vectors, orthonormalized
    V = jnp.zeros((m + b, n), dtype)
    V = V.at[0].set(x0 / jnp.linalg.norm(x0))
    for i in range(1, b):
        V = V.at[i].set(_unit_random_orthogonal(V, jax.random.fold_in(key, 10_000 + i), x0))
    C = jnp.zeros((m + b, m), dtype)

    def expand(j, carry):
        V, C, count = carry
        w = mv(V[j])
        hnorm = jnp.linalg.norm(w)
        w, h = _orthogonalize(V, w)
        beta = jnp.linalg.norm(w).astype(rdtype)
        breakdown = beta <= 100 * eps * jnp.maximum(hnorm, jnp.finfo(rdtype).tiny)
        vnew, beta = lax.cond(
            breakdown,
            lambda: (_unit_random_orthogonal(V, None, x0, seed=count + 1), jnp.zeros_like(beta)),
            lambda: (w / beta, beta),
        )
        h = h.at[j + b].set(beta.astype(dtype))
        V = V.at[j + b].set(vnew)
        C = C.at[:, j].set(h)
        return V, C, count + 1

    def ritz(C):
        T = jnp.triu(C[:m, :m])
        T = T + jnp.conj(jnp.triu(T, 1)).T
        T = jnp.where(jnp.eye(m, dtype=bool), jnp.real(T).astype(dtype), T)
        theta, S = jnp.linalg.eigh(T)
        if which == "LA":
            theta, S = theta[::-1], S[:, ::-1]
        R = C[m:, :] @ S[:, :k]  # (b, k)
        res = jnp.linalg.norm(R, axis=0)
        scale = jnp.maximum(jnp.max(jnp.abs(theta)), jnp.finfo(rdtype).tiny)
        return theta, S, res, scale

    # Restart matrix: keep the best p Ritz vectors, move the extra block to rows p..p+b-1.
    shift = jnp.zeros((b, m + b), dtype).at[jnp.arange(b), p + jnp.arange(b)].set(1)

    def body(state):
        V, C, j0, count, _, _ = state
        V, C, count = lax.fori_loop(j0, m, expand, (V, C, count))
        theta, S, res, scale = ritz(C)
        done = jnp.all(res <= tol * scale)
        # Always restart (also after the last cycle): the first k rows are then the wanted Ritz
        # vectors, and one (m+b) x (m+b) matrix product replaces the basis without a second copy.
        Q = jnp.concatenate([jnp.pad(S[:, :p], ((0, 0), (0, m + b - p))), shift], axis=0)
        V = Q.T @ V
        Cn = jnp.zeros_like(C)
        Cn = Cn.at[jnp.arange(p), jnp.arange(p)].set(theta[:p].astype(dtype))
        Cn = Cn.at[p : p + b, :p].set(C[m:, :] @ S[:, :p])
        stop = done | (count >= max_iters)
        return V, Cn, jnp.asarray(p, jnp.int32), count, theta, stop

    def cond(state):
        return ~state[-1]

    init = (
        V,
        C,
        jnp.asarray(0, jnp.int32),
        jnp.asarray(0, jnp.int32),
        jnp.zeros((m,), rdtype),
        jnp.asarray(False),
    )
    V, _, _, count, theta, done = lax.while_loop(cond, body, init)
    Y = V[:k]
    return theta[:k], Y, count, done


# ------------------------------------------------------------------------------------------------
# Derivatives
# ------------------------------------------------------------------------------------------------


def _cg(matvec, b, *, tol, max_steps, throw):
    """Conjugate gradients for a Hermitian positive definite `matvec`, stopping at
    ||r|| <= tol ||b|| (relative in the 2-norm, so the criterion is independent of the scale of
    the tangent or cotangent on the right-hand side)."""
    rtype = jnp.finfo(b.dtype).dtype

    def dot(x, y):
        return jnp.real(jnp.vdot(x, y)).astype(rtype)

    bb = dot(b, b)
    thresh = (tol**2) * bb

    def cond(state):
        _, _, _, rr, step = state
        return (rr > thresh) & (step < max_steps)

    def body(state):
        x, r, p, rr, step = state
        Ap = matvec(p)
        alpha = rr / dot(p, Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = dot(r, r)
        p = r + (rr_new / rr) * p
        return x, r, p, rr_new, step + 1

    x0 = jnp.zeros_like(b)
    x, _, _, rr, _ = lax.while_loop(cond, body, (x0, b, b, bb, 0))
    if throw:
        x = eqx.error_if(
            x,
            ~(rr <= thresh) | ~jnp.isfinite(rr),
            "eigsh: the projected linear solve of the derivative rule did not converge. The k "
            "computed states are probably not the k extremal ones, or k cuts through a "
            "degenerate multiplet: increase `block_size` to at least the multiplicity, choose k "
            "to cover whole multiplets, or raise `adjoint_max_steps`.",
        )
    return x


class _Config(eqx.Module):
    which: str = eqx.field(static=True)
    adjoint_tol: float = eqx.field(static=True)
    adjoint_max_steps: int = eqx.field(static=True)
    degeneracy_tol: float = eqx.field(static=True)
    throw: bool = eqx.field(static=True)


@ft.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _attach(mv, cfg, params, lam, Psi):
    """Identity on the solved `(lam, Psi)`, carrying their derivatives w.r.t. `params`."""
    del mv, cfg, params
    return lam, Psi


@_attach.defjvp
def _attach_jvp(mv, cfg, primals, tangents):
    r"""Tangent rule, linear in `dparams` (Xie, Liu, Wang, PRB 101, 245139 (2020), Sec. II).

    With $H\psi_i = \lambda_i\psi_i$ for the $k$ computed states, $P = \Psi\Psi^\dagger$ and
    $M_{ji} = \langle\psi_j|\mathrm{d}H|\psi_i\rangle$:

    - $\mathrm{d}\lambda_i = \mathrm{Re}\, M_{ii}$ (Hellmann-Feynman);
    - $\mathrm{d}\psi_i = \sum_{j:\,\lambda_j\neq\lambda_i} \psi_j M_{ji}/(\lambda_i-\lambda_j)
      + x_i$, with $x_i \perp \Psi$ solving $(1-P)(H-\lambda_i)(1-P)\,x_i = -(1-P)\,
      \mathrm{d}H\,\psi_i$.

    The gauge is $\langle\psi_j|\mathrm{d}\psi_i\rangle = 0$ inside a degenerate multiplet
    (including $j = i$), which is exact for gauge-invariant functions of the multiplet.
    Restricted to the complement of the $k$ lowest (highest) states, $\pm(H - \lambda_i)$ is
    positive definite for every $i \le k$, so conjugate gradients solve it; we solve the
    nonsingular $\pm(1-P)(H-\lambda_i)(1-P) + P$, whose solution for a right-hand side
    orthogonal to $\Psi$ is the same $x_i$. The solve is a `lax.custom_linear_solve`, so JAX
    transposes it (reverse mode) and differentiates it again (second derivatives).
    """
    params, lam0, Psi0 = primals
    dparams = tangents[0]
    # Recursive call: the primal outputs are themselves differentiable, for higher orders.
    lam, Psi = _attach(mv, cfg, params, lam0, Psi0)
    dtype = Psi.dtype

    def dH(v):
        return jax.jvp(lambda p: mv(p, v), (params,), (dparams,))[1]

    dHPsi = jax.vmap(dH, in_axes=1, out_axes=1)(Psi)  # (n, k)
    M = jnp.conj(Psi).T @ dHPsi  # M[j, i] = <psi_j| dH |psi_i>
    dlam = jnp.real(jnp.diagonal(M)).astype(lam.dtype)

    gaps = lam[None, :] - lam[:, None]  # gaps[j, i] = lam_i - lam_j
    scale = jnp.maximum(jnp.max(jnp.abs(lam)), 1.0)
    deg = jnp.abs(gaps) <= cfg.degeneracy_tol * scale
    coef = jnp.where(deg, 0, M / jnp.where(deg, 1, gaps).astype(dtype))

    sign = 1.0 if cfg.which == "SA" else -1.0
    rhs = -sign * (dHPsi - Psi @ M)  # -(1-P) dH psi_i, with the sign that makes A definite

    def solve_one(lam_i, b_i):
        def A(x):
            Px = Psi @ (jnp.conj(Psi).T @ x)
            y = x - Px
            Hy = mv(params, y) - lam_i.astype(dtype) * y
            Hy = Hy - Psi @ (jnp.conj(Psi).T @ Hy)
            return sign * Hy + Px

        def solve(matvec, rhs_):
            return _cg(
                matvec,
                rhs_,
                tol=cfg.adjoint_tol,
                max_steps=cfg.adjoint_max_steps,
                throw=cfg.throw,
            )

        # A is Hermitian; its transpose is its complex conjugate, also Hermitian positive
        # definite, so the same CG solves the transposed system.
        return lax.custom_linear_solve(A, b_i, solve, transpose_solve=solve)

    X = jax.vmap(solve_one, in_axes=(0, 1), out_axes=1)(lam, rhs)
    dPsi = Psi @ coef + X
    return (lam, Psi), (dlam, dPsi)


# ------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------


def _describe(x):
    return f"shape {tuple(x.shape)} and dtype {jnp.dtype(x.dtype).name}"


def eigsh(
    matvec: Callable[[PyTree, Array], Array],
    params: PyTree,
    v0: Inexact[Array, "..."],
    k: int = 1,
    *,
    which: str = "SA",
    tol: float | None = None,
    max_iters: int = 5000,
    ncv: int | None = None,
    block_size: int = 1,
    key: Array | None = None,
    throw: bool = True,
    check_hermitian: bool = True,
    adjoint_tol: float | None = None,
    adjoint_max_steps: int | None = None,
    degeneracy_tol: float | None = None,
) -> EigshResult:
    r"""The `k` lowest (or highest) eigenpairs of a Hermitian operator given as a matvec.

    Solves $H(\theta)\,\psi_i = \lambda_i \psi_i$ for the $k$ smallest (`which="SA"`) or largest
    (`which="LA"`) eigenvalues of $H(\theta)$, known only through
    `matvec(params, v)` $= H(\theta)\,v$, without forming the matrix. Memory is
    $O((\mathrm{ncv} + \mathrm{block\_size})\cdot\mathrm{dim})$: about
    $2(\mathrm{ncv} + \mathrm{block\_size}) + 1$ vectors of length `dim` in the forward pass
    (the basis and its restarted copy), some 15 more for a gradient.

    **Forward:** thick-restart block Lanczos with full reorthogonalization (classical
    Gram-Schmidt, twice, a third time by the DGKS criterion) in a Krylov basis of `ncv` vectors;
    at each restart the best `(ncv + k) // 2` Ritz vectors are kept (Wu & Simon, SIAM J. Matrix
    Anal. Appl. 22, 602 (2000); Ruhe's band form of block Lanczos, Math. Comp. 33, 680 (1979)).

    **Derivatives** w.r.t. `params`, forward and reverse mode and to any order, by a
    `jax.custom_jvp` rule linear in the tangents: $\mathrm{d}\lambda_i =
    \langle\psi_i|\mathrm{d}H|\psi_i\rangle$ and one projected linear solve
    $(1-P)(H-\lambda_i)(1-P)\,x_i = -(1-P)\,\mathrm{d}H\,\psi_i$ per eigenpair, $P$ the projector
    on the $k$ computed states (Xie, Liu, Wang, PRB 101, 245139 (2020)); the solve is conjugate
    gradients, since $\pm(H-\lambda_i)$ is positive definite on the complement of the $k$
    extremal states. `dH` is applied with `jax.jvp`/`jax.vjp` of `matvec` in `params`.

    **Arguments:**

    - `matvec`: `matvec(params, v)` returns $H v$, same shape and dtype as `v`. $H$ must be
      Hermitian. Values to differentiate may enter through `params`, be closed over by
      `matvec` (a traced coupling, a Python float under `jax.grad`) or be fields of an
      `equinox.Module` `matvec`: all are hoisted into the derivative rule.
    - `params`: a pytree of the operator's parameters (arrays, Python or NumPy scalars; integer,
      boolean, string and `None` leaves are static).
    - `v0`: the start vector, an array of any shape (it is flattened: `dim = v0.size`), real or
      complex; its dtype is the dtype of the computation. Lanczos only finds states not
      orthogonal to the start block: a symmetric `v0` stays in its symmetry sector.
    - `k`: the number of eigenpairs.
    - `which`: `"SA"` (smallest algebraic) or `"LA"` (largest algebraic).
    - `tol`: convergence when every $\|H\psi_i - \lambda_i\psi_i\| \le$ `tol` $\cdot\|H\|_{est}$.
      Default `eps ** 0.75` of the dtype (about `2e-12` in float64, `6e-6` in float32).
    - `max_iters`: the maximum number of Lanczos steps (operator applications).
    - `ncv`: the Krylov basis size; default `max(20, 2 k + block_size)`, capped at `dim`.
    - `block_size`: the Lanczos block size; must be at least the multiplicity of any degenerate
      eigenvalue among the wanted ones, otherwise copies can be missed.
    - `key`: a `jax.random` key for the extra start vectors and breakdown replacements
      (default `jax.random.key(0)`).
    - `throw`: raise (through `equinox.error_if`, also under `jit`) when the iteration or a
      derivative solve does not converge. With `throw=False` read `result.result` (or
      `result.converged`).
    - `check_hermitian`: probe $\langle x, Hy\rangle = \langle Hx, y\rangle$ with two random
      vectors (two operator applications) and raise if it fails.
    - `adjoint_tol`, `adjoint_max_steps`: relative tolerance (default `eps ** 0.85`, about
      `5e-14` in float64) and step limit (default `10 * dim`, capped at 20000) of the conjugate
      gradient solves in the derivative rule.
    - `degeneracy_tol`: eigenvalues closer than this times $\max(1, \max_i|\lambda_i|)$ are
      treated as one degenerate multiplet (default `sqrt(eps)`).

    **Returns:**

    An [`diffsci.linalg.EigshResult`][] with `eigenvalues` (ascending), `eigenvectors`
    (`(dim, k)`), `residual_norms`, `iterations` and `result` (a member of
    [`diffsci.utils.RESULTS`][]; `converged` says whether it is `successful`).

    **Limits:** derivatives are exact for functions that are invariant under the phase of each
    eigenvector and under unitary rotations within a degenerate multiplet (eigenvalues,
    projectors, expectation values); `k` must not cut through a degenerate multiplet (the solve
    becomes singular and, with `throw=True`, raises). Individual eigenvalue derivatives inside a
    degenerate multiplet are not defined by a linear rule; their sum is exact.
    """
    if which not in ("SA", "LA"):
        raise ValueError(f"eigsh: `which` must be 'SA' or 'LA', got {which!r}")
    v0 = jnp.asarray(v0)
    if not jnp.issubdtype(v0.dtype, jnp.inexact):
        raise TypeError(
            f"eigsh: `v0` must be a floating or complex array, got dtype {v0.dtype.name}; "
            "pass e.g. `v0.astype(jnp.float64)`"
        )
    dim = int(v0.size)
    max_iters = static_int(max_iters, "max_iters", "eigsh", minimum=1)
    v0 = finite(v0, "v0", "eigsh")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"eigsh: `k` must be a positive integer, got {k!r}")
    if k > dim:
        raise ValueError(
            f"eigsh: `k` = {k} is larger than the dimension of the space, {dim} (= v0.size)"
        )
    if not isinstance(block_size, int) or not 1 <= block_size <= dim:
        raise ValueError(f"eigsh: `block_size` must be an integer in [1, {dim}], got {block_size}")
    try:
        out = eqx.filter_eval_shape(matvec, params, v0)
    except Exception as err:  # pragma: no cover - the user's error, with context
        raise ValueError(
            f"eigsh: calling `matvec(params, v0)` with `v0` of {_describe(v0)} failed: {err}"
        ) from err
    if not isinstance(out, jax.ShapeDtypeStruct) or out.shape != v0.shape:
        got = _describe(out) if isinstance(out, jax.ShapeDtypeStruct) else repr(out)
        raise ValueError(
            f"eigsh: `matvec(params, v0)` must return an array shaped like `v0`; `v0` has "
            f"{_describe(v0)}, `matvec` returned {got}"
        )
    if out.dtype != v0.dtype:
        hint = (
            " (the operator is complex: pass a complex `v0`)"
            if jnp.issubdtype(out.dtype, jnp.complexfloating)
            else ""
        )
        raise ValueError(
            f"eigsh: `matvec(params, v0)` returned dtype {jnp.dtype(out.dtype).name}, "
            f"expected the dtype of `v0`, {v0.dtype.name}{hint}"
        )

    eps = float(jnp.finfo(v0.dtype).eps)
    tol = float(eps**0.75) if tol is None else float(tol)
    adjoint_tol = float(eps**0.85) if adjoint_tol is None else float(adjoint_tol)
    adjoint_max_steps = min(10 * dim, 20_000) if adjoint_max_steps is None else adjoint_max_steps
    degeneracy_tol = float(eps**0.5) if degeneracy_tol is None else float(degeneracy_tol)
    b = block_size
    m = max(20, 2 * k + b) if ncv is None else int(ncv)
    m = min(m, dim)
    if m < k:
        raise ValueError(f"eigsh: `ncv` must be at least k = {k}, got {m}")
    p = min(max((m + k) // 2, k), max(m - b, k))
    if m < p + b and m < dim:
        raise ValueError(
            f"eigsh: `ncv` = {m} is too small for k = {k} and block_size = {b}: use at least "
            f"{k + b + 1}"
        )
    if key is None:
        key = jax.random.key(0)
    shape = v0.shape
    # The derivative rule differentiates what it is handed: the floating leaves of `params` and
    # of what `matvec` closes over, hoisted out of the closure.
    params = as_arrays(params)
    diff, static = split((hoist(matvec, params, v0), params))

    def mv(prm, x):
        matvec_, params_ = combine(prm, static)
        return jnp.reshape(matvec_(params_, jnp.reshape(x, shape)), (-1,))

    params = diff
    x0 = jnp.reshape(v0, (-1,))
    fixed = lax.stop_gradient(params)
    if check_hermitian:
        x = _pseudo_random(1, x0)
        y = _pseudo_random(2, x0)
        Hx, Hy = mv(fixed, x), mv(fixed, y)
        lhs, rhs = jnp.vdot(x, Hy), jnp.vdot(Hx, y)
        bound = jnp.sqrt(eps) * (
            jnp.linalg.norm(x) * jnp.linalg.norm(Hy) + jnp.linalg.norm(Hx) * jnp.linalg.norm(y)
        )
        x0 = eqx.error_if(
            x0,
            jnp.abs(lhs - rhs) > bound,
            "eigsh: the operator is not Hermitian: <x, H y> != <H x, y> for random x, y. eigsh "
            "needs a Hermitian (real symmetric) `matvec`; pass check_hermitian=False to skip",
        )
    x0 = eqx.error_if(x0, jnp.linalg.norm(x0) == 0, "eigsh: `v0` is the zero vector")

    theta, Y, iters, _ = _lanczos(
        lambda x: mv(fixed, x),
        lax.stop_gradient(x0),
        key,
        k=k,
        which=which,
        tol=tol,
        max_iters=max_iters,
        m=m,
        p=p,
        b=b,
    )
    if which == "LA":
        theta, Y = theta[::-1], Y[::-1]
    Y = Y / jnp.linalg.norm(Y, axis=1, keepdims=True)
    lam0 = jnp.real(theta).astype(jnp.finfo(v0.dtype).dtype)
    Psi0 = Y.T
    HPsi = jax.vmap(lambda v: mv(fixed, v), in_axes=1, out_axes=1)(Psi0)
    res = jnp.linalg.norm(HPsi - Psi0 * lam0[None, :].astype(Psi0.dtype), axis=0)
    scale = jnp.maximum(jnp.max(jnp.abs(lam0)), jnp.finfo(lam0.dtype).tiny)
    converged = jnp.all(res <= 10 * tol * scale)

    cfg = _Config(which, adjoint_tol, int(adjoint_max_steps), degeneracy_tol, bool(throw))
    lam, Psi = _attach(mv, cfg, params, lax.stop_gradient(lam0), lax.stop_gradient(Psi0))
    result = RESULTS.where(converged, RESULTS.successful, RESULTS.max_steps_reached)
    if throw:
        lam, Psi = raise_if_failed(
            (lam, Psi),
            result,
            "eigsh",
            {
                "max_steps_reached": (
                    "Lanczos did not converge: increase `max_iters` or `ncv`, loosen `tol`, or "
                    "pass throw=False and inspect `result.residual_norms`"
                )
            },
        )
    return EigshResult(
        eigenvalues=lam,
        eigenvectors=Psi,
        residual_norms=res,
        iterations=iters,
        result=result,
    )
