"""Dense Hermitian eigensolvers: `eigh` and `eigvalsh`, standard and generalized."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Inexact

from ._degeneracy import AbstractDegeneracyPolicy, MaskDegeneracies
from ._eigh_core import _eigh_prepared, _prepare, eigh_hermitian
from ._gauge import checked_eigh

__all__ = ["eigh", "eigvalsh"]


def eigh(
    a: Inexact[ArrayLike, "*batch n n"],
    b: Inexact[ArrayLike, "*batch n n"] | None = None,
    *,
    degeneracy: AbstractDegeneracyPolicy | None = None,
    check_gauge: bool | float = False,
    hermitian_rtol: float | None = None,
) -> tuple[Float[Array, "*batch n"], Inexact[Array, "*batch n n"]]:
    """Eigenvalues and eigenvectors of a Hermitian matrix, or of the pencil $(A, B)$.

    Solves $A V = V \\operatorname{diag}(w)$ (or $A C = B C \\operatorname{diag}(w)$ with
    $C^H B C = I$ when `b` is given), eigenvalues ascending, eigenvectors in the columns, like
    `jnp.linalg.eigh`.

    **Derivative rule.** Linear in the tangent, so forward and reverse mode, `jacfwd`, `jacrev`
    and `vmap` all work. With $X = V^H \\dot A V$,

    $$\\dot w_i = \\operatorname{Re} X_{ii}, \\qquad \\dot V = V (F \\circ X), \\qquad
    F_{ij} = \\frac{1}{w_j - w_i}\\ (i \\ne j),\\ F_{ii} = 0,$$

    (first-order perturbation theory; M. Giles, *An extended collection of matrix derivative
    results*, 2008, sec. 3.1), whose transpose is the reverse mode
    $\\bar A = V(\\operatorname{diag} \\bar w + F \\circ V^H \\bar V)V^H$, projected onto
    Hermitian matrices. Where $w_i \\approx w_j$, $F_{ij}$ is what the `degeneracy` policy says
    (by default $0$ below a tolerance $100\\sqrt{n}\\,\\epsilon\\,\\max|w|$). The generalized
    problem is reduced to the standard one by the Cholesky factor $B = L L^H$:
    $A' = L^{-1} A L^{-H}$, $C = L^{-H} V'$, and differentiated through the reduction.

    **Degeneracies.** Inside a degenerate subspace the eigenvectors are defined only up to a
    unitary rotation (the *gauge*), and a loss of `(w, v)` has a derivative there only if it is
    gauge invariant *and* treats the degenerate eigenvalues alike. With the default mask the
    derivative is then exact, for instance for
    $\\sum_{k \\le m} |v_k|^2$ over a whole degenerate ground state. Two kinds of loss are wrong at
    a degeneracy whatever the policy, and `check_gauge` catches both in the backward pass:

    1. a loss that depends on the gauge (the density of one of two degenerate states);
    2. a loss whose cotangent $\\bar w$ differs between degenerate eigenvalues, such as
       $\\sum_k f(w_k)\\, v_k^H O v_k$ for a thermal expectation: its true derivative needs
       $f'(w)\\, V^H O V$ across the whole block, which $(\\bar w, \\bar V)$ do not carry. Use
       [`diffsci.linalg.funm`][] for such quantities: it is exact.

    **Arguments:**

    - `a`: Hermitian matrix (or batch), float32/64 or complex64/128; integers are promoted to the
      default float dtype. Only its Hermitian part $(A + A^H)/2$ is used; an asymmetry beyond
      `hermitian_rtol * max|a|` is an error.
    - `b`: optional Hermitian positive definite matrix of the same shape (the overlap $S$ in
      $H c = S c E$).
    - `degeneracy`: an [`diffsci.linalg.AbstractDegeneracyPolicy`][]; default
      [`diffsci.linalg.MaskDegeneracies`][]`()`.
    - `check_gauge`: if True (or a positive float, the relative tolerance; True means
      $\\sqrt{\\epsilon}$), reverse mode raises an error when the cotangent is not
      gauge invariant (see above and [`diffsci.linalg.gauge_dependence`][]). This mode has a
      `custom_vjp`, so forward mode and `jax.hessian` are not available with it.
    - `hermitian_rtol`: relative tolerance of the Hermiticity check, default
      $\\sqrt{\\epsilon}$ of the dtype; `float('inf')` switches it off.

    **Returns:** `(w, v)`: real eigenvalues, ascending, shape `(..., n)`, and eigenvectors in the
    columns of `v`, shape `(..., n, n)`. An empty matrix ($n = 0$) gives empty arrays, as
    `jnp.linalg.eigh` does, and zero derivatives.

    **Cost.** The value checks (finite, Hermitian, `b` positive definite) are attached to the
    outputs, not the input, so two calls on the same matrix share one decomposition under `jit`,
    as two calls of `jnp.linalg.eigh` do.

    **Limits.** Derivatives at a degeneracy are exact only for gauge-invariant losses that treat
    degenerate eigenvalues alike. Second derivatives at exact degeneracies are not reliable
    through `eigh`: use [`diffsci.linalg.funm`][], [`diffsci.linalg.projector`][] or
    [`diffsci.linalg.band_energy`][], whose Hessians are exact.
    """
    a, b, check = _prepare(a, b, "eigh", hermitian_rtol)
    if degeneracy is None:
        degeneracy = MaskDegeneracies()
    if not isinstance(degeneracy, AbstractDegeneracyPolicy):
        raise TypeError(
            "eigh: expected `degeneracy` to be an AbstractDegeneracyPolicy "
            "(MaskDegeneracies(), LorentzianBroadening(width), RaiseOnDegeneracy()), got "
            f"{type(degeneracy).__name__}"
        )
    if check_gauge is not False and check_gauge is not None:
        rtol = None if check_gauge is True else float(check_gauge)
        return check(checked_eigh(a, b, degeneracy, rtol))
    return check(_eigh_prepared(a, b, degeneracy))


@jax.custom_jvp
def _eigvalsh_standard(a):
    v, w = jax.lax.linalg.eigh(a, lower=True, symmetrize_input=False, sort_eigenvalues=True)
    del v
    return w


@_eigvalsh_standard.defjvp
def _eigvalsh_standard_jvp(primals, tangents):
    # dw_i = Re (V^H dA V)_ii = Re sum_k conj(V_ki) (dA V)_ki: no inverse gaps, one product.
    # Exact at degeneracies for symmetric functions of each degenerate block.
    (a,), (da,) = primals, tangents
    w, v = eigh_hermitian(a)
    dw = jnp.real(jnp.sum(jnp.conj(v) * (da @ v), axis=-2))
    return w, dw


@jax.custom_jvp
def _eigvalsh_generalized(a, b):
    w, _ = _eigh_prepared(a, b, MaskDegeneracies(), "eigvalsh")
    return w


@_eigvalsh_generalized.defjvp
def _eigvalsh_generalized_jvp(primals, tangents):
    # dw_k = Re c_k^H (dA - w_k dB) c_k with c_k^H B c_k = 1.
    (a, b), (da, db) = primals, tangents
    w, c = _eigh_prepared(a, b, MaskDegeneracies(), "eigvalsh")
    dw = jnp.real(jnp.sum(jnp.conj(c) * (da @ c), axis=-2))
    dw = dw - w * jnp.real(jnp.sum(jnp.conj(c) * (db @ c), axis=-2))
    return w, dw


def eigvalsh(
    a: Inexact[ArrayLike, "*batch n n"],
    b: Inexact[ArrayLike, "*batch n n"] | None = None,
    *,
    hermitian_rtol: float | None = None,
) -> Float[Array, "*batch n"]:
    """Eigenvalues of a Hermitian matrix, or of the pencil $(A, B)$, ascending.

    **Derivative rule.** No inverse gaps, only the Hellmann-Feynman theorem:

    $$\\dot w_k = \\operatorname{Re}\\, v_k^H \\dot A\\, v_k \\quad\\text{or, generalized,}\\quad
    \\dot w_k = \\operatorname{Re}\\, c_k^H (\\dot A - w_k \\dot B)\\, c_k,$$

    one matrix product instead of `eigh`'s two, and finite at any degeneracy.

    **Arguments:**

    - `a`: Hermitian matrix (or batch); see [`diffsci.linalg.eigh`][].
    - `b`: optional Hermitian positive definite matrix of the same shape.
    - `hermitian_rtol`: as for [`diffsci.linalg.eigh`][].

    **Returns:** the real eigenvalues, ascending, shape `(..., n)` (empty for $n = 0$).

    **Limits.** At a degeneracy, individual eigenvalues are not differentiable; the first
    derivative is exact for any loss that is a symmetric function of each degenerate block's
    eigenvalues (their sum, $\\sum_k g(w_k)$, ...). Second derivatives at an exact degeneracy are
    exact only for losses linear in each degenerate block (sums of whole blocks, band energies);
    for $\\operatorname{tr} g(A)$ with curved $g$ use [`diffsci.linalg.funm`][].
    """
    a, b, check = _prepare(a, b, "eigvalsh", hermitian_rtol)
    if b is None:
        return check(_eigvalsh_standard(a))
    return check(_eigvalsh_generalized(a, b))
