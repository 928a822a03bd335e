"""The dense Hermitian eigensolver underneath `eigh`, `eigvalsh`, `funm` and `gauge_dependence`.

The decomposition as a primitive whose JVP is first-order perturbation theory with a degeneracy
policy (`eigh_hermitian`), the reduction of the generalized problem to a standard one, and the
checks of the input (`_prepare`) attached to the result (`_eigh_prepared`). `_eigh` (the public
`eigh`, `eigvalsh`) and `_gauge` (the gauge diagnostic, and `eigh`'s `check_gauge` mode) both
build on this module, and neither on the other's internals.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .._internal._primitive import jvp_primitive
from ._checks import as_square_matrix, deferred_hermitian_part
from ._degeneracy import AbstractDegeneracyPolicy, MaskDegeneracies, inverse_differences


def _h(x: Array) -> Array:
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def gap_scale(w: Array) -> Array:
    """The scale of a spectrum that degeneracy tolerances are relative to: $\\max_i|\\lambda_i|$
    $= \\lVert A\\rVert_2$ (per matrix of a batch), without gradient; 0 for an empty spectrum."""
    return jax.lax.stop_gradient(jnp.max(jnp.abs(w), axis=-1, initial=0))


def eigenvalue_differences(w: Array) -> Array:
    """$d_{ij} = \\lambda_j - \\lambda_i$, the convention of
    [`diffsci.linalg.inverse_differences`][]."""
    return w[..., None, :] - w[..., :, None]


def _lapack_eigh(a: Array) -> tuple[Array, Array]:
    v, w = jax.lax.linalg.eigh(a, lower=True, symmetrize_input=False, sort_eigenvalues=True)
    return w, v


def _eigh_forward(a: Array, *, policy: AbstractDegeneracyPolicy) -> tuple[Array, Array]:
    del policy
    return _lapack_eigh(a)


def _eigh_jvp(primals, tangents, *, policy):
    # First-order perturbation theory, with the degeneracy policy on 1/(w_j - w_i):
    #   X = V^H dA V,   dw_i = Re X_ii,   dV = V (F o X),   F_ij = 1/(w_j - w_i), F_ii = 0.
    # (Giles, "An extended collection of matrix derivative results", 2008, sec. 3.1.)
    (a,), (da,) = primals, tangents
    w, v = _eigh_p.bind(a, policy=policy)
    x = _h(v) @ da @ v
    f = inverse_differences(eigenvalue_differences(w), gap_scale(w), policy)
    dw = jnp.real(jnp.diagonal(x, axis1=-2, axis2=-1))
    dv = v @ (f.astype(x.dtype) * x)
    return (w, v), (dw, dv)


# A primitive, not a custom_jvp: inside lax.scan the rule of a custom_jvp is dropped from the
# forward pass of reverse mode, and second derivatives then met JAX's own rule (see
# diffsci._internal._primitive).
_eigh_p = jvp_primitive("diffsci_eigh", _eigh_forward, _eigh_jvp)


def eigh_hermitian(
    a: Array, degeneracy: AbstractDegeneracyPolicy | None = None
) -> tuple[Array, Array]:
    """`eigh` of an already Hermitian, checked matrix, with its derivative rule (internal)."""
    if degeneracy is None:
        degeneracy = MaskDegeneracies()
    w, v = _eigh_p.bind(a, policy=degeneracy)
    return w, v


def _check_cholesky(out, chol: Array, who: str):
    """Attach to `out` the check that the Cholesky factorization `chol` succeeded (on the
    outputs, not on `chol`, for the reason given in `deferred_hermitian_part`)."""
    return eqx.error_if(
        out,
        ~jnp.all(jnp.isfinite(chol)),
        f"{who}: `b` is not positive definite (its Cholesky factorization failed). The "
        "generalized problem a c = b c w needs a Hermitian positive definite overlap b.",
    )


def _reduce_generalized(a: Array, chol: Array) -> Array:
    """$L^{-1} A L^{-H}$ for $B = L L^H$, made exactly Hermitian."""
    solve = jax.scipy.linalg.solve_triangular
    y = solve(chol, a, lower=True)
    c = _h(solve(chol, _h(y), lower=True))
    return 0.5 * (c + _h(c))


def _prepare(a, b, who: str, hermitian_rtol):
    """The Hermitian parts of `a` and `b`, and `check(out) -> out`, which attaches their value
    checks to the outputs (so that XLA shares the decomposition between two calls on the same
    matrices; see `deferred_hermitian_part`)."""
    a = as_square_matrix(a, "a", who)
    if b is None:
        a, check = deferred_hermitian_part(a, "a", who, hermitian_rtol)
        return a, None, check
    b = as_square_matrix(b, "b", who)
    if a.shape != b.shape:
        raise ValueError(
            f"{who}: expected `a` and `b` of the same shape, got {a.shape} and {b.shape}"
        )
    dtype = jnp.result_type(a.dtype, b.dtype)
    a, check_a = deferred_hermitian_part(a.astype(dtype), "a", who, hermitian_rtol)
    b, check_b = deferred_hermitian_part(b.astype(dtype), "b", who, hermitian_rtol)
    return a, b, lambda out: check_b(check_a(out))


def _eigh_prepared(a, b, degeneracy, who="eigh"):
    """`eigh` of Hermitian `a` (and `b`) whose input checks the caller attaches to the result;
    the positive definiteness of `b` is checked here, on the result too."""
    if b is None:
        return eigh_hermitian(a, degeneracy)
    chol = jnp.linalg.cholesky(b)
    w, y = eigh_hermitian(_reduce_generalized(a, chol), degeneracy)
    c = jax.scipy.linalg.solve_triangular(_h(chol), y, lower=False)
    return _check_cholesky((w, c), chol, who)
