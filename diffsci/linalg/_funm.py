"""Gauge-invariant functions of Hermitian matrices: `funm`, `projector`, `band_energy` and the
matrix exponential, square root and logarithm built on them.

All of them are spectral functions $F(A) = V \\operatorname{diag}(f(\\lambda)) V^H$. Their
derivative is the Daleckii-Krein formula (Ju. L. Daleckii, S. G. Krein, AMS Transl. 47, 1
(1965); R. Bhatia, *Matrix Analysis*, Springer 1997, thm. V.3.3):

$$\\dot F = V \\big(f^{[1]} \\circ V^H \\dot A V\\big) V^H, \\qquad
f^{[1]}_{ij} = \\frac{f(\\lambda_i) - f(\\lambda_j)}{\\lambda_i - \\lambda_j},\\quad
f^{[1]}_{ii} = f'(\\lambda_i),$$

which is finite and exact at every degeneracy: a degenerate pair simply gets $f'(\\lambda)$.
Its second derivative is the second-order formula (Bhatia, thm. V.3.5; Higham, *Functions of
Matrices*, SIAM 2008, sec. 3.2),

$$\\ddot F = V\\Big[\\sum_k f^{[2]}_{ikj}\\,(X_{ik} Y_{kj} + Y_{ik} X_{kj})\\Big]_{ij} V^H,
\\qquad X = V^H \\dot A V,\\ Y = V^H \\dot A' V,$$

with second divided differences $f^{[2]}$. The tangent rule below is built from differentiable
pieces, so that JAX differentiating it reproduces this formula, degeneracies included; see
`_spectral_jvp` for how.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Inexact

from .._internal import combine, hoist, split
from .._internal._validate import finite, static_int
from ._checks import as_square_matrix, hermitian_part
from ._degeneracy import MaskDegeneracies, degenerate_pairs
from ._eigh_core import eigenvalue_differences, eigh_hermitian, gap_scale

__all__ = ["funm", "projector", "band_energy", "expmh", "sqrtmh", "logmh"]

# Divided differences of pairs closer than this (relative to max|lambda|) use a Taylor form:
# f'(m) + f'''(m) d^2/24 at the midpoint m. It balances the Taylor error ~ d^4 against the
# cancellation error ~ eps/d of the difference quotient: eps^(1/3) ~ 6e-6 in float64.
_TAYLOR_EXPONENT = 1.0 / 3.0

# The degeneracy policy of the eigh inside every spectral function. It must be the mask: the rule
# below adds back, exactly, the within-block couplings that the mask removes.
_MASK = MaskDegeneracies()


def _h(x: Array) -> Array:
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _rows(f: Callable, x: Array, params) -> Array:
    """`f(row, *params)` applied to every length-n row of `x` (shape `(..., n)`)."""
    n = x.shape[-1]
    flat = jnp.reshape(x, (-1, n))
    out = jax.vmap(lambda row: f(row, *params))(flat)
    return jnp.reshape(out, x.shape)


def _derivative(f: Callable) -> Callable:
    """$f'$ of an elementwise $f(x, *params)$ with respect to $x$, by forward mode."""

    def fprime(x, *params):
        return jax.jvp(lambda x: f(x, *params), (x,), (jnp.ones_like(x),))[1]

    return fprime


def _spectral_jvp(
    a: Array,
    params: tuple,
    da: Array,
    dparams: tuple,
    values: Callable[[Array, tuple], Array],
    divided: Callable[[Array, Array, tuple], Array],
    check: Callable[[Array, Array], Array],
) -> tuple[Array, Array]:
    """Value and Daleckii-Krein tangent of $V \\operatorname{diag}(\\text{values}(w)) V^H$.

    `divided(wr, wc, params)` returns the first divided differences $g_{ij} = f^{[1]}(wr_i,
    wc_j)$; `values(w, params)` the $f(w_i)$. `params` are the arrays `f` closes over (hoisted
    by the shared boundary, `diffsci._internal.hoist`), with tangents `dparams`: they add
    $V \\operatorname{diag}(\\dot f) V^H$, with
    $\\dot f = \\partial f/\\partial\\theta \\cdot \\dot\\theta$, to the tangent (plus
    $\\dot g \\circ B$, for the same reason as below).

    The tangent is $V (G \\circ X + Z) V^H$ with $G = g(w, w)$, $X = V^H \\dot A V$ and a term
    $Z$ that is exactly zero in value:

    $$Z = H^{(1)} \\circ (B X) + H^{(2)} \\circ (X B), \\quad
    B = \\tilde B - \\mathrm{sg}(\\tilde B), \\quad \\tilde B = M \\circ V^H A V,$$

    where $M$ masks the off-diagonal degenerate pairs, $H^{(1)}_{ij} = \\partial g_{ij}/\\partial
    wr_i = f^{[2]}(\\lambda_i, \\lambda_i, \\lambda_j)$, $H^{(2)}_{ij} = \\partial g_{ij}/\\partial
    wc_j$, and sg is `stop_gradient`. Why: differentiating $V(G \\circ X)V^H$ through `eigh`'s
    masked rule ($\\dot V = V(F\\circ Y)$ with $F = 0$ on degenerate pairs,
    $\\dot w = \\mathrm{diag} Y$) reproduces every term of the second-order formula except
    $\\sum_{k} f^{[2]}_{ikj} Y_{ik}X_{kj}$ (and its mirror) over $k \\ne i$ degenerate with $i$:
    in exact degenerate perturbation theory the eigenvalues of a block move by the whole block
    $Y_D$ of $Y$, not by its diagonal. $\\dot{\\tilde B}$ is precisely the off-diagonal part of
    $Y_D$ (the masked rotation adds nothing on degenerate pairs), so $\\dot Z$ is the missing
    term and the rule's own derivative is exact at any degeneracy. For the same reason the value
    is returned as $V(\\operatorname{diag} f(w) + G \\circ B)V^H$: its derivative is then the
    full Daleckii-Krein rule, which matters in products such as
    $\\operatorname{tr}(O F)/\\operatorname{tr} F$.
    """
    w, v = eigh_hermitian(a, _MASK)
    fw, dfw = jax.jvp(lambda p: values(w, p), (params,), (dparams,))
    dtype = jnp.result_type(fw.dtype, v.dtype)
    v = v.astype(dtype)
    eye = jnp.eye(w.shape[-1], dtype=dtype)
    pairs = degenerate_pairs(eigenvalue_differences(w), gap_scale(w), _MASK)
    g, dg = jax.jvp(lambda p: divided(w, w, p), (params,), (dparams,))
    ones = jnp.ones_like(w)
    h1 = jax.jvp(lambda r: divided(r, w, params), (w,), (ones,))[1]
    h2 = jax.jvp(lambda c: divided(w, c, params), (w,), (ones,))[1]
    b_full = jnp.where(pairs, _h(v) @ a.astype(dtype) @ v, 0.0)
    b = b_full - jax.lax.stop_gradient(b_full)
    # The value, plus G o B = 0 so that its derivative is the full first-order rule (with
    # f'(lambda) on the off-diagonal of degenerate blocks) when JAX differentiates this rule.
    out = check(w, v @ (fw.astype(dtype)[..., :, None] * eye + g * b) @ _h(v))
    x = _h(v) @ da.astype(dtype) @ v
    y = g * x + h1 * (b @ x) + h2 * (x @ b)
    y = y + dfw.astype(dtype)[..., :, None] * eye + dg * b
    return out, v @ y @ _h(v)


def _funm_divided(f: Callable, rtol: float | None):
    fprime = _derivative(f)
    fthird = _derivative(_derivative(fprime))

    def divided(wr, wc, params):
        d = wr[..., :, None] - wc[..., None, :]
        scale = jax.lax.stop_gradient(
            jnp.maximum(jnp.max(jnp.abs(wr), axis=-1), jnp.max(jnp.abs(wc), axis=-1))
        )
        tol = _near_tie_rtol(wr.dtype, rtol) * scale[..., None, None]
        near = jnp.abs(d) <= tol
        fr = _rows(f, wr, params)
        fc = _rows(f, wc, params)
        quotient = (fr[..., :, None] - fc[..., None, :]) / jnp.where(near, 1.0, d)
        m = 0.5 * (wr[..., :, None] + wc[..., None, :])
        taylor = _rows(fprime, m, params) + _rows(fthird, m, params) * (d**2 / 24.0)
        return jnp.where(near, taylor, quotient)

    return divided


def _near_tie_rtol(dtype, rtol):
    if rtol is not None:
        return rtol
    return float(jnp.finfo(dtype).eps) ** _TAYLOR_EXPONENT


def _check_f(f: Callable, a: Array, who: str) -> None:
    if not callable(f):
        raise TypeError(f"{who}: expected `f` to be a function of the eigenvalues, got {f!r}")
    real = jnp.finfo(a.dtype).dtype
    probe = jax.eval_shape(f, jax.ShapeDtypeStruct((a.shape[-1],), real))
    if getattr(probe, "shape", None) != (a.shape[-1],):
        raise ValueError(
            f"{who}: expected `f` to map the eigenvalue vector of shape ({a.shape[-1]},) to an "
            f"array of the same shape (elementwise), got {getattr(probe, 'shape', probe)}"
        )


def funm(
    a: Inexact[ArrayLike, "*batch n n"],
    f: Callable[[Float[Array, " n"]], Inexact[Array, " n"]],
    *,
    taylor_rtol: float | None = None,
    hermitian_rtol: float | None = None,
) -> Inexact[Array, "*batch n n"]:
    """$f(A) = V \\operatorname{diag}(f(\\lambda)) V^H$ for Hermitian $A$, exact at degeneracies.

    Covers $e^{-\\beta H}$ and thermal expectations $\\operatorname{tr}(O e^{-\\beta H})/Z$,
    the propagator $e^{-iHt}$ (complex-valued `f`), $\\sqrt{A}$ and $\\log A$ of positive definite
    matrices, Fermi-Dirac occupations, ...

    **Derivative rule** (Daleckii-Krein): with $X = V^H \\dot A V$,

    $$\\dot F = V (f^{[1]} \\circ X) V^H, \\qquad
    f^{[1]}_{ij} = \\frac{f(\\lambda_i) - f(\\lambda_j)}{\\lambda_i - \\lambda_j}
    \\ \\text{if}\\ |\\lambda_i - \\lambda_j| > \\tau, \\quad
    f'(m) + \\tfrac{1}{24} f'''(m)(\\lambda_i - \\lambda_j)^2 \\ \\text{otherwise},$$

    $m = (\\lambda_i + \\lambda_j)/2$, $\\tau = \\epsilon^{1/3}\\max|\\lambda|$: the midpoint Taylor
    form keeps near-ties accurate (error $O(\\tau^4)$ instead of the difference quotient's
    $O(\\epsilon/\\tau)$) and ties exact ($f'(\\lambda)$). $f'$ and $f'''$ come from `jax.jvp` of
    `f`, so any traceable `f` works. The rule is linear in $\\dot A$ and built from
    differentiable pieces with a correction that makes its own derivative the exact second-order
    Daleckii-Krein formula, so `jax.hessian` is exact at degeneracies too (references: Bhatia,
    *Matrix Analysis*, thm. V.3.3 and V.3.5; Higham, *Functions of Matrices*, sec. 3.2).

    **Arguments:**

    - `a`: Hermitian matrix (or batch), float32/64 or complex64/128; see
      [`diffsci.linalg.eigh`][] for the checks.
    - `f`: a function applied to the eigenvalue vector. It must act elementwise and be smooth
      (three times differentiable by JAX) where the eigenvalues are; it may return complex
      values, and it may close over values that are differentiated too (a traced $\\beta$ or
      chemical potential, a Python float under `jax.grad`, the fields of an `equinox.Module`
      `f`: they are hoisted into the rule).
    - `taylor_rtol`: relative distance below which a pair uses the Taylor form; default
      $\\epsilon^{1/3}$ of the dtype.
    - `hermitian_rtol`: as for [`diffsci.linalg.eigh`][].

    **Returns:** $f(A)$, shape `(..., n, n)`, of the dtype of `a` promoted with that of `f`'s
    values.

    **Limits.** Third and higher derivatives at exact degeneracies are not exact.
    """
    a = hermitian_part(as_square_matrix(a, "a", "funm"), "a", "funm", hermitian_rtol)
    _check_f(f, a, "funm")
    return _funm(a, f, taylor_rtol, _FUNM_MESSAGE)


_FUNM_MESSAGE = (
    "funm: f(A) has NaN or infinite entries: `f` is undefined or overflows at an eigenvalue of "
    "`a` (for sqrt and log, `a` must be positive definite; for exp(-beta * a), shift `a` by its "
    "lowest eigenvalue)."
)


def _funm(a, f, taylor_rtol, message):
    def check(w, out):
        return eqx.error_if(out, ~jnp.all(jnp.isfinite(out)), message)

    # Hoist the arrays f closes over (a traced beta, the fields of an equinox.Module), so that
    # the rule differentiates with respect to them too; f_closed is f on a length-n vector.
    example = jnp.zeros((a.shape[-1],), jnp.finfo(a.dtype).dtype)
    diff, static = split(hoist(f, example))

    def f_closed(x, diff_):
        return combine(diff_, static)(x)

    return _spectral_function(
        a,
        lambda w, p: _rows(f_closed, w, p),
        _funm_divided(f_closed, taylor_rtol),
        check,
        (diff,),
    )


def _spectral_function(a, values, divided, check=None, params=()):
    """$V \\operatorname{diag}(\\text{values}(w)) V^H$ with the rule of `_spectral_jvp`.
    `check(w, out) -> out` may attach value checks (`equinox.error_if`) on the eigenvalues."""
    if check is None:
        check = lambda w, out: out

    @jax.custom_jvp
    def spectral(a, params):
        w, v = eigh_hermitian(a, _MASK)
        fw = values(w, params)
        dtype = jnp.result_type(fw.dtype, v.dtype)
        v = v.astype(dtype)
        return check(w, (v * fw.astype(dtype)[..., None, :]) @ _h(v))

    @spectral.defjvp
    def spectral_jvp(primals, tangents):
        (a, params), (da, dparams) = primals, tangents
        return _spectral_jvp(a, params, da, dparams, values, divided, check)

    return spectral(a, tuple(params))


def _occupation(n: int, k: int, dtype) -> Array:
    return (jnp.arange(n) < k).astype(dtype)


def _projector_divided(k: int):
    # theta^[1]_ij = (theta_i - theta_j)/(w_i - w_j): nonzero only across the gap (i < k <= j or
    # j < k <= i), where it is +-1/(w_i - w_j). Never a near-tie Taylor form: theta is a step.
    def divided(wr, wc, params):
        del params
        n = wr.shape[-1]
        tr = _occupation(n, k, wr.dtype)
        d = wr[..., :, None] - wc[..., None, :]
        jump = jnp.broadcast_to(tr[:, None] - tr[None, :], d.shape)
        cross = jump != 0
        return jnp.where(cross, jump / jnp.where(cross, d, 1.0), 0.0)

    return divided


def _check_k(k, n: int, who: str) -> int:
    k = static_int(k, "k", who)
    if not 0 <= k <= n:
        raise ValueError(f"{who}: expected 0 <= k <= n = {n}, got k = {k}")
    return k


def _gap_check(n: int, k: int, who: str):
    """A `check(w, out)` raising when the k-th and (k+1)-th eigenvalues are degenerate."""

    def check(w, out):
        if k in (0, n):
            return out
        w = jax.lax.stop_gradient(w)
        gap = w[..., k] - w[..., k - 1]
        tol = _MASK.tolerance(gap_scale(w), n, w.dtype)
        return eqx.error_if(
            out,
            jnp.any(gap <= tol),
            f"{who}: eigenvalues k and k+1 are degenerate (no gap between the k lowest states and "
            "the rest), so the projector onto the k lowest eigenvectors is not defined. Choose k "
            "to cover whole degenerate levels.",
        )

    return check


def projector(
    a: Inexact[ArrayLike, "*batch n n"],
    k: int,
    *,
    check_gap: bool = True,
    hermitian_rtol: float | None = None,
) -> Inexact[Array, "*batch n n"]:
    """The orthogonal projector $P = \\sum_{i \\le k} v_i v_i^H$ onto the $k$ lowest eigenvectors.

    Gauge invariant: defined whenever $\\lambda_k < \\lambda_{k+1}$, whatever the degeneracies
    among the $k$ lowest states or among the others. The density of a (possibly degenerate)
    ground state of $k$ fermions is its diagonal.

    **Derivative rule**: $P = \\theta(A)$ with $\\theta_i = [i \\le k]$, so by Daleckii-Krein

    $$\\dot P = V (\\Theta \\circ V^H \\dot A V) V^H, \\qquad
    \\Theta_{ij} = \\frac{\\theta_i - \\theta_j}{\\lambda_i - \\lambda_j},$$

    nonzero only for $i \\le k < j$ or $j \\le k < i$: only cross-gap denominators appear.
    Second derivatives are exact at degeneracies inside either group (see
    [`diffsci.linalg.funm`][]). (Perturbation theory of spectral projectors: T. Kato,
    *Perturbation Theory for Linear Operators*, Springer 1966, II.2.)

    **Arguments:**

    - `a`: Hermitian matrix (or batch).
    - `k`: number of lowest eigenvectors, a Python int with $0 \\le k \\le n$.
    - `check_gap`: raise (through `equinox.error_if`) when $\\lambda_{k+1} - \\lambda_k$ is below
      the degeneracy tolerance ($100\\sqrt{n}\\,\\epsilon\\max|\\lambda|$).
    - `hermitian_rtol`: as for [`diffsci.linalg.eigh`][].

    **Returns:** $P$, shape `(..., n, n)`, Hermitian, $P^2 = P$, $\\operatorname{tr} P = k$.
    """
    a = hermitian_part(as_square_matrix(a, "a", "projector"), "a", "projector", hermitian_rtol)
    n = a.shape[-1]
    k = _check_k(k, n, "projector")
    check = _gap_check(n, k, "projector") if check_gap else None
    return _spectral_function(
        a, lambda w, p: _occupation(n, k, w.dtype), _projector_divided(k), check
    )


def _band_energy(a: Array, k: int, check_gap: bool):
    n = a.shape[-1]
    check = _gap_check(n, k, "band_energy") if check_gap else (lambda w, out: out)

    @jax.custom_jvp
    def energy(a):
        w, _ = eigh_hermitian(a, _MASK)
        return check(w, jnp.sum(w[..., :k], axis=-1))

    @energy.defjvp
    def energy_jvp(primals, tangents):
        # dE = Re tr(P dA) (Hellmann-Feynman summed over the band), with P = projector(a, k):
        # its derivative, hence E's Hessian, has only cross-gap denominators.
        (a,), (da,) = primals, tangents
        p = _spectral_function(
            a, lambda w, p: _occupation(n, k, w.dtype), _projector_divided(k), check
        )
        e = jnp.real(jnp.trace(p @ a, axis1=-2, axis2=-1))
        de = jnp.real(jnp.sum(jnp.swapaxes(p, -1, -2) * da, axis=(-2, -1)))
        return e, de

    return energy(a)


def band_energy(
    a: Inexact[ArrayLike, "*batch n n"],
    k: int,
    *,
    check_gap: bool = True,
    hermitian_rtol: float | None = None,
) -> Float[Array, "*batch"]:
    """The sum $E_k = \\sum_{i \\le k} \\lambda_i$ of the $k$ lowest eigenvalues.

    The ground-state energy of $k$ non-interacting fermions in the single-particle Hamiltonian
    $A$. Differentiable, with exact Hessians, whenever $\\lambda_k < \\lambda_{k+1}$.

    **Derivative rule**: $\\dot E_k = \\operatorname{Re}\\operatorname{tr}(P \\dot A)$ with
    $P$ = [`diffsci.linalg.projector`][]`(a, k)`, so that

    $$\\ddot E_k = \\operatorname{Re}\\operatorname{tr}(\\dot P \\dot A') = 2\\operatorname{Re}
    \\sum_{i \\le k < j} \\frac{X_{ij} Y_{ji}}{\\lambda_i - \\lambda_j}$$

    has only cross-gap denominators: finite and exact at degeneracies inside the band or above
    it, where the Hessian through `jnp.linalg.eigh` is NaN.

    **Arguments:**

    - `a`: Hermitian matrix (or batch).
    - `k`: number of eigenvalues summed, $0 \\le k \\le n$.
    - `check_gap`, `hermitian_rtol`: as for [`diffsci.linalg.projector`][].

    **Returns:** $E_k$, real, shape `(...)`.
    """
    a = hermitian_part(as_square_matrix(a, "a", "band_energy"), "a", "band_energy", hermitian_rtol)
    k = _check_k(k, a.shape[-1], "band_energy")
    return _band_energy(a, k, check_gap)


def expmh(
    a: Inexact[ArrayLike, "*batch n n"],
    c: complex | float | ArrayLike = 1.0,
    *,
    hermitian_rtol: float | None = None,
) -> Inexact[Array, "*batch n n"]:
    """$e^{cA}$ for Hermitian $A$ and a scalar $c$: $e^{-\\beta H}$ with $c = -\\beta$, the
    propagator $e^{-iHt}$ with $c = -it$. A [`diffsci.linalg.funm`][] with $f = e^{c\\lambda}$;
    $c$ may be traced and differentiated.

    **Arguments:**

    - `a`: Hermitian matrix (or batch).
    - `c`: real or complex scalar.
    - `hermitian_rtol`: as for [`diffsci.linalg.eigh`][].

    **Returns:** $e^{cA}$, complex if `c` is.
    """
    c = jnp.asarray(c)
    if c.ndim != 0:
        raise ValueError(f"expmh: expected a scalar `c`, got shape {c.shape}")
    a = hermitian_part(as_square_matrix(a, "a", "expmh"), "a", "expmh", hermitian_rtol)
    c = finite(c, "c", "expmh")
    return _funm(a, lambda w: jnp.exp(c * w), None, _EXPMH_MESSAGE)


_EXPMH_MESSAGE = (
    "expmh: exp(c a) has NaN or infinite entries: c times an eigenvalue of `a` overflows the "
    "exponential (for exp(-beta * a), shift `a` by its lowest eigenvalue)."
)


def _positive_definite_message(who: str, what: str) -> str:
    return (
        f"{who}: `a` is not positive definite (an eigenvalue is {what}); {who} is defined "
        "through the spectrum of Hermitian positive definite matrices."
    )


def sqrtmh(
    a: Inexact[ArrayLike, "*batch n n"], *, hermitian_rtol: float | None = None
) -> Inexact[Array, "*batch n n"]:
    """The positive square root $A^{1/2}$ of a Hermitian positive definite matrix.

    A [`diffsci.linalg.funm`][] with $f = \\sqrt\\lambda$, so with the Daleckii-Krein derivative
    $\\dot F_{ij} = X_{ij}/(\\sqrt{\\lambda_i} + \\sqrt{\\lambda_j})$ (JAX has no derivative for
    `jax.scipy.linalg.sqrtm`). A negative eigenvalue is an error; at a zero eigenvalue the value
    is finite but the derivative is not.

    **Arguments:**

    - `a`: Hermitian positive definite matrix (or batch).
    - `hermitian_rtol`: as for [`diffsci.linalg.eigh`][].

    **Returns:** $A^{1/2}$, Hermitian positive definite.
    """
    a = hermitian_part(as_square_matrix(a, "a", "sqrtmh"), "a", "sqrtmh", hermitian_rtol)
    return _funm(a, jnp.sqrt, None, _positive_definite_message("sqrtmh", "negative"))


def logmh(
    a: Inexact[ArrayLike, "*batch n n"], *, hermitian_rtol: float | None = None
) -> Inexact[Array, "*batch n n"]:
    """The principal logarithm $\\log A$ of a Hermitian positive definite matrix.

    A [`diffsci.linalg.funm`][] with $f = \\log\\lambda$ (JAX has no derivative for
    `jax.scipy.linalg.logm`). A non-positive eigenvalue is an error.

    **Arguments:**

    - `a`: Hermitian positive definite matrix (or batch).
    - `hermitian_rtol`: as for [`diffsci.linalg.eigh`][].

    **Returns:** $\\log A$, Hermitian.
    """
    a = hermitian_part(as_square_matrix(a, "a", "logmh"), "a", "logmh", hermitian_rtol)
    return _funm(a, jnp.log, None, _positive_definite_message("logmh", "zero or negative"))
