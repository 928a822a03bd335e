"""Input checks shared by the dense Hermitian routines: static problems raise at trace time,
value problems go through `equinox.error_if`."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, PyTree

_SUPPORTED = ("float32", "float64", "complex64", "complex128")


def as_square_matrix(a, name: str, who: str) -> Array:
    """Convert `a` to an inexact array of shape `(..., n, n)`.

    Integer and boolean inputs are promoted to the default floating dtype (float64 under
    `jax_enable_x64`, else float32), as `jnp.linalg.eigh` does. float16/bfloat16 and non-numeric
    dtypes raise `TypeError`; a rank below 2 or a non-square trailing shape raises `ValueError`.
    """
    try:
        a = jnp.asarray(a)
    except TypeError as err:
        raise TypeError(
            f"{who}: expected `{name}` to be an array of float32, float64, complex64 or "
            f"complex128, got {type(a).__name__}"
        ) from err
    if jnp.issubdtype(a.dtype, jnp.integer) or a.dtype == jnp.bool_:
        a = a.astype(jnp.result_type(float))
    if a.dtype.name not in _SUPPORTED:
        raise TypeError(
            f"{who}: expected `{name}` of dtype float32, float64, complex64 or complex128, got "
            f"{a.dtype.name}"
            + (" (cast it with .astype(jnp.float32))" if a.dtype.kind == "f" else "")
        )
    if a.ndim < 2:
        raise ValueError(
            f"{who}: expected `{name}` to be a square matrix of shape (..., n, n), got shape "
            f"{a.shape}"
        )
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{who}: expected `{name}` to be a square matrix, got shape {a.shape}")
    return a


def default_hermitian_rtol(dtype) -> float:
    """$\\sqrt{\\epsilon}$ of the dtype: asymmetries from roundoff pass, modelling mistakes do
    not."""
    return math.sqrt(float(jnp.finfo(dtype).eps))


def deferred_hermitian_part(
    a: Array, name: str, who: str, rtol: float | None
) -> tuple[Array, Callable[[PyTree], PyTree]]:
    """$(a + a^H)/2$, and a function `check(out) -> out` that attaches the checks of
    [`hermitian_part`][] (finite, Hermitian to `rtol`) to what was computed from it.

    The Hermitian part is a pure function of `a`; the checks are threaded onto the outputs
    instead of the input. `equinox.error_if` returns its argument through a conditional that
    holds host callbacks, and XLA in general does not merge two such conditionals (each call
    site gets its own copy of the branches), so a decomposition of a checked *input* looks
    different to XLA at each call: two calls on one matrix compute it twice. Checked *outputs*
    leave the decomposition's input identical across calls, and XLA computes it once
    (common-subexpression elimination). The check still runs whenever any checked output is
    used. Works under `jit` and `vmap`, and on empty matrices (nothing to check).
    """
    if rtol is None:
        rtol = default_hermitian_rtol(a.dtype)
    ah = jnp.conj(jnp.swapaxes(a, -1, -2))
    nonfinite = ~jnp.all(jnp.isfinite(a))
    if math.isfinite(rtol):
        # initial=0: the reductions of an empty matrix (n = 0) are 0, and nothing fails.
        asym = jnp.max(jnp.abs(a - ah), axis=(-2, -1), initial=0)
        size = jnp.max(jnp.abs(a), axis=(-2, -1), initial=0)
        asymmetric = jnp.any(asym > rtol * size)
    else:
        asymmetric = jnp.asarray(False)
    messages = [
        f"{who}: expected `{name}` to be Hermitian (real symmetric), but max|{name} - "
        f"{name}^H| exceeds {rtol:.3g} * max|{name}|. Pass the full matrix (not one "
        "triangle), or raise `hermitian_rtol` if the asymmetry is expected roundoff.",
        f"{who}: `{name}` has NaN or infinite entries",
    ]

    def check(out: PyTree) -> PyTree:
        # One conditional for both checks; a non-finite entry is the message that wins.
        return eqx.branched_error_if(
            out, nonfinite | asymmetric, nonfinite.astype(jnp.int32), messages
        )

    return 0.5 * (a + ah), check


def hermitian_part(a: Array, name: str, who: str, rtol: float | None) -> Array:
    """Check that `a` is finite and Hermitian to `rtol` (relative to its largest entry), and
    return $(a + a^H)/2$.

    The check is value dependent, so it goes through `equinox.error_if` and also works under
    `jit`. `rtol=float('inf')` switches off the Hermiticity check (the finiteness check stays).
    The checks sit on the returned matrix, so XLA may not share a decomposition of it between two
    calls on the same `a`; [`deferred_hermitian_part`][] puts them on the outputs instead.
    """
    h, check = deferred_hermitian_part(a, name, who, rtol)
    return check(h)
