"""Does a loss of eigenvectors depend on the gauge? A diagnostic for `eigh`'s reverse mode.

Inside a degenerate subspace the eigenvectors are fixed only up to a unitary rotation
$V_D \\to V_D U$ (and, for complex matrices, every eigenvector only up to a phase). A loss
$L(w, V)$ has a derivative with respect to the matrix at a degeneracy only if

1. it does not change under these rotations. Infinitesimally, $V \\to V(1 + K)$ with $K$
   anti-Hermitian and supported on the degenerate blocks (and the diagonal) changes $L$ by
   $\\operatorname{Re}\\operatorname{tr}(\\bar V^H V K)$, which vanishes for all such $K$ iff the
   anti-Hermitian part of $V^H \\bar V$ vanishes there; and
2. it treats degenerate eigenvalues alike, $\\bar w_i = \\bar w_j$ for $w_i = w_j$. Otherwise
   the loss depends on how a perturbation splits the degenerate level, which first-order
   perturbation theory on $(w, V)$ cannot resolve (the exact derivative of, e.g.,
   $\\sum_k f(w_k) v_k^H O v_k$ needs $f'(w)\\,V^H O V$ on the whole block; use `funm`).

Both are properties of the cotangents $(\\bar w, \\bar V)$, which a `custom_jvp` never sees: the
diagnostic therefore either evaluates them directly (`gauge_dependence`) or wraps `eigh` in a
`custom_vjp` (`eigh(..., check_gauge=True)`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Inexact

from .._internal._validate import fail
from ._degeneracy import AbstractDegeneracyPolicy, MaskDegeneracies, degenerate_pairs
from ._eigh_core import _eigh_prepared, _prepare, eigenvalue_differences, gap_scale

__all__ = ["GaugeDependence", "gauge_dependence"]


class GaugeDependence(eqx.Module):
    """How much a loss of `(w, v)` depends on what eigenvectors cannot fix.

    **Fields:**

    - `gauge`: Frobenius norm of the anti-Hermitian part of $V^H \\bar V$ restricted to the
      degenerate pairs and the diagonal: the derivative of the loss along gauge rotations.
    - `splitting`: $\\max |\\bar w_i - \\bar w_j|$ over degenerate pairs: how much the loss tells
      degenerate eigenvalues apart.
    - `scale`: $\\lVert V^H \\bar V\\rVert_F + \\lVert \\bar w\\rVert_2$, the size of the
      cotangent, for relative comparisons.
    - `degenerate`: whether the spectrum has any degenerate pair (within the policy's
      tolerance).
    """

    gauge: Float[Array, "*batch"]
    splitting: Float[Array, "*batch"]
    scale: Float[Array, "*batch"]
    degenerate: Bool[Array, "*batch"]

    def is_gauge_invariant(self, rtol: float | None = None) -> Bool[Array, "*batch"]:
        """True where both `gauge` and `splitting` are at most `rtol * scale` (default
        $\\sqrt{\\epsilon}$ of the dtype): there `eigh`'s derivative is exact."""
        if rtol is None:
            rtol = math.sqrt(float(jnp.finfo(self.scale.dtype).eps))
        bound = rtol * self.scale
        return (self.gauge <= bound) & (self.splitting <= bound)


def measure_gauge_dependence(
    w: Array, v: Array, w_bar: Array, v_bar: Array, degeneracy: AbstractDegeneracyPolicy
) -> GaugeDependence:
    """The `GaugeDependence` of cotangents `(w_bar, v_bar)` at `(w, v)`, in JAX's cotangent
    convention (for complex `v`, `v_bar` is $\\partial L/\\partial \\operatorname{Re} V - i\\,
    \\partial L/\\partial \\operatorname{Im} V$)."""
    pairs = degenerate_pairs(eigenvalue_differences(w), gap_scale(w), degeneracy)
    n = w.shape[-1]
    block = pairs | jnp.broadcast_to(jnp.eye(n, dtype=bool), pairs.shape)
    m = jnp.swapaxes(v, -1, -2) @ v_bar
    anti = 0.5 * (m - jnp.conj(jnp.swapaxes(m, -1, -2)))
    gauge = jnp.sqrt(jnp.sum(jnp.where(block, jnp.abs(anti) ** 2, 0.0), axis=(-2, -1)))
    spread = jnp.abs(w_bar[..., :, None] - w_bar[..., None, :])
    splitting = jnp.max(jnp.where(pairs, spread, 0.0), axis=(-2, -1), initial=0)
    scale = jnp.sqrt(jnp.sum(jnp.abs(m) ** 2, axis=(-2, -1))) + jnp.sqrt(jnp.sum(w_bar**2, axis=-1))
    return GaugeDependence(
        gauge=gauge, splitting=splitting, scale=scale, degenerate=jnp.any(pairs, axis=(-2, -1))
    )


def gauge_dependence(
    a: Inexact[ArrayLike, "n n"],
    loss: Callable[[Array, Array], ArrayLike],
    b: Inexact[ArrayLike, "n n"] | None = None,
    *,
    degeneracy: AbstractDegeneracyPolicy | None = None,
) -> GaugeDependence:
    """Measure whether `loss(w, v)` depends on the gauge of `eigh(a, b)`'s eigenvectors.

    Computes $(w, V)$ = `eigh(a, b)`, the cotangents $(\\bar w, \\bar V)$ = `jax.grad(loss,
    (0, 1))(w, v)`, and from them the two quantities that must vanish for `eigh`'s derivative
    of the loss to be exact at a degeneracy: the anti-Hermitian part of $V^H \\bar V$ on the
    degenerate blocks (gauge dependence; on the diagonal for complex phases) and the spread of
    $\\bar w$ within degenerate blocks. See [`diffsci.linalg.GaugeDependence`][].

    ```python
    report = gauge_dependence(h, lambda w, v: jnp.abs(v[0, 0]) ** 2)
    report.is_gauge_invariant()  # False if the ground state is degenerate
    ```

    **Arguments:**

    - `a`, `b`: as for [`diffsci.linalg.eigh`][].
    - `loss`: a function of `(w, v)` returning a real scalar.
    - `degeneracy`: the policy whose tolerance decides which pairs are degenerate.

    **Returns:** a [`diffsci.linalg.GaugeDependence`][].

    **Limits.** A first-order test at one point: it says whether the cotangent of this loss, here,
    has a gauge-dependent part. It cannot see a loss that is gauge invariant at first order but
    not beyond.
    """
    if not callable(loss):
        fail(
            "gauge_dependence",
            "loss",
            "to be a function loss(w, v) of the eigenpairs",
            loss,
            TypeError,
        )
    if degeneracy is None:
        degeneracy = MaskDegeneracies()
    a, b, check = _prepare(a, b, "gauge_dependence", None)
    w, v = check(_eigh_prepared(a, b, degeneracy, "gauge_dependence"))
    w_bar, v_bar = jax.grad(lambda w, v: jnp.real(loss(w, v)), argnums=(0, 1))(w, v)
    return measure_gauge_dependence(w, v, w_bar, v_bar, degeneracy)


_GAUGE_MESSAGE = (
    "eigh(check_gauge=True): the loss depends on the gauge of degenerate eigenvectors (the "
    "anti-Hermitian part of V^H dL/dV on a degenerate block, or a complex phase, is nonzero), so "
    "its derivative does not exist there. Make the loss gauge invariant: use whole degenerate "
    "subspaces, e.g. diffsci.linalg.projector(a, k) instead of single eigenvectors."
)
_SPLITTING_MESSAGE = (
    "eigh(check_gauge=True): the loss weighs degenerate eigenvalues differently (dL/dw differs "
    "within a degenerate block), so its derivative needs information that (w, v) do not carry. "
    "For f(w)-weighted sums such as thermal expectations use diffsci.linalg.funm; for sums of "
    "the lowest eigenvalues use diffsci.linalg.band_energy."
)


def checked_eigh(a, b, degeneracy: AbstractDegeneracyPolicy, rtol: float | None):
    """`eigh` with a `custom_vjp` whose backward pass raises on gauge-dependent cotangents."""
    if rtol is None:
        rtol = math.sqrt(float(jnp.finfo(a.dtype).eps))
    operands = (a,) if b is None else (a, b)

    def primal(*operands):
        return _eigh_prepared(operands[0], operands[1] if len(operands) > 1 else None, degeneracy)

    @jax.custom_vjp
    def checked(*operands):
        return primal(*operands)

    def forward(*operands):
        out, pullback = jax.vjp(primal, *operands)
        return out, (out, pullback)

    def backward(residuals, cotangents):
        (w, v), pullback = residuals
        w_bar, v_bar = cotangents
        report = measure_gauge_dependence(w, v, w_bar, v_bar, degeneracy)
        bound = rtol * report.scale
        w_bar = eqx.error_if(w_bar, jnp.any(report.gauge > bound), _GAUGE_MESSAGE)
        w_bar = eqx.error_if(w_bar, jnp.any(report.splitting > bound), _SPLITTING_MESSAGE)
        return pullback((w_bar, v_bar))

    checked.defvjp(forward, backward)
    return checked(*operands)
