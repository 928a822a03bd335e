r"""Single-site C4v-symmetric iPEPS: double-layer tensors, reduced density matrices from a CTMRG
environment, the energy per site, and its minimization with L-BFGS.

The state on the infinite square lattice is built from one real tensor $A^s_{uldr}$ (physical
leg $s$, virtual legs up, left, down, right, each of dimension $D$), the same on every site. It is
made invariant under the point group $C_{4v}$ of the square (rotations and reflections act by
permuting the four virtual legs), so that the norm network is $C_{4v}$ symmetric and one corner
$C$ and one edge $T$ describe its whole environment (Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019)).
Antiferromagnets are handled by a sublattice rotation of the Hamiltonian, not of the state
(see `diffsci.physics.heisenberg_bond`).
"""

from __future__ import annotations

from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._internal._c4v import C4V_SITE as _C4V  # C4v on the axes (s, u, l, d, r)
from .._internal._results import RESULTS
from .._internal._validate import fail, float_array
from ._common import relative_asymmetry

__all__ = [
    "double_layer",
    "ipeps_energy",
    "one_site_rdm",
    "symmetrize_c4v",
    "two_site_rdm",
]


def _ctmrg():
    from ._ctmrg import _ctmrg_jit

    return _ctmrg_jit


def _check_ctmrg_options(kwargs, who):
    from ._ctmrg import check_ctmrg_options

    check_ctmrg_options(kwargs, who)


def _check_site_tensor(a, who: str, name: str = "a") -> Array:
    if isinstance(a, str) or a is None:
        fail(who, name, "to be a real site tensor A[s, u, l, d, r] of rank 5", a, TypeError)
    a = jnp.asarray(a)
    if jnp.issubdtype(a.dtype, jnp.complexfloating):
        raise TypeError(
            f"{who}: expected `{name}` to be a real floating-point site tensor (real C4v iPEPS), "
            f"got dtype {a.dtype}"
        )
    a = float_array(a, name, who)
    if a.ndim != 5:
        raise ValueError(
            f"{who}: expected `{name}` to be a site tensor A[s, u, l, d, r] of rank 5 (physical, "
            f"up, left, down, right), got shape {a.shape}"
        )
    if not (a.shape[1] == a.shape[2] == a.shape[3] == a.shape[4]):
        raise ValueError(
            f"{who}: the four virtual legs of `{name}` = A[s, u, l, d, r] must have the same bond "
            f"dimension D (C4v symmetric ansatz), got shape {a.shape}"
        )
    if a.size == 0:
        raise ValueError(
            f"{who}: expected `{name}` to have legs of dimension >= 1, got shape {a.shape}"
        )
    return a


def _check_env(env, a_shape, who: str):
    """The corner and edge of `env` (any object with `corner` and `edge`, usually a `CTMRGEnv`),
    checked against the site tensor of shape `a_shape`."""
    if not (hasattr(env, "corner") and hasattr(env, "edge")):
        hint = " (pass `result.env`)" if hasattr(env, "env") else ""
        raise TypeError(
            f"{who}: expected `env` to be a CTMRGEnv (with `corner` and `edge`), got "
            f"{type(env).__name__}{hint}"
        )
    corner = float_array(env.corner, "env.corner", who)
    edge = float_array(env.edge, "env.edge", who)
    d = a_shape[1] ** 2
    chi = corner.shape[0] if corner.ndim else 0
    if corner.shape != (chi, chi) or edge.shape != (chi, d, chi) or chi == 0:
        raise ValueError(
            f"{who}: the environment `env` does not fit the site tensor `a` of shape "
            f"{tuple(a_shape)}: expected corner (chi, chi) and edge (chi, {d}, chi) with "
            f"d = D^2 = {d}, got corner {corner.shape} and edge {edge.shape}"
        )
    return corner, edge


def _check_value(a, who: str, name: str = "a") -> Array:
    """`a`, with a runtime error if it has NaN or infinite entries or is zero (a zero tensor has
    no norm and is no state). On the input, so it runs before anything computed from it."""
    nonfinite = ~jnp.all(jnp.isfinite(a))
    zero = jnp.all(a == 0)
    return eqx.branched_error_if(
        a,
        nonfinite | zero,
        jnp.where(nonfinite, 0, 1),
        [
            f"{who}: `{name}` has NaN or infinite entries",
            f"{who}: expected `{name}` to be a nonzero tensor, got a zero tensor (it has no norm: "
            "a zero tensor is no state)",
        ],
    )


_PATCHES = ("bond", "plaquette")


def _check_patch(patch, who: str) -> None:
    if not isinstance(patch, str) or patch not in _PATCHES:
        raise ValueError(f"{who}: patch must be one of {_PATCHES}, got {patch!r}")


def _check_bond_operator(h, p: int, who: str) -> Array:
    if isinstance(h, str) or h is None:
        fail(who, "bond_hamiltonian", "to be a real (p^2, p^2) matrix", h, TypeError)
    h = jnp.asarray(h)
    if jnp.issubdtype(h.dtype, jnp.complexfloating):
        raise TypeError(f"{who}: expected a real bond Hamiltonian, got dtype {h.dtype}")
    h = float_array(h, "bond_hamiltonian", who)
    if h.shape == (p * p, p * p):
        h = h.reshape(p, p, p, p)
    if h.shape != (p, p, p, p):
        raise ValueError(
            f"{who}: expected `bond_hamiltonian` to be a two-site operator of shape ({p * p}, "
            f"{p * p}) or ({p}, {p}, {p}, {p}) for physical dimension {p}, got shape {h.shape}"
        )
    m = h.reshape(p * p, p * p)
    asymmetry = jnp.max(jnp.abs(m - m.T))
    scale = jnp.max(jnp.abs(m))
    nonfinite = ~jnp.all(jnp.isfinite(m))
    return eqx.branched_error_if(
        h,
        nonfinite | (asymmetry > 1e3 * jnp.finfo(h.dtype).eps * scale),
        jnp.where(nonfinite, 0, 1),
        [
            f"{who}: `bond_hamiltonian` has NaN or infinite entries",
            f"{who}: the bond Hamiltonian `bond_hamiltonian` is not a symmetric matrix "
            "(h[s1 s2, s1' s2'] must equal h[s1' s2', s1 s2] for a real Hermitian operator)",
        ],
    )


def symmetrize_c4v(a: Float[ArrayLike, "p D D D D"]) -> Float[Array, "p D D D D"]:
    r"""Project a site tensor $A^s_{uldr}$ onto the $C_{4v}$-invariant subspace.

    $$A \mapsto \frac18 \sum_{g \in C_{4v}} g \cdot A,$$

    where the four rotations permute the virtual legs cyclically ($u \to l \to d \to r$) and the
    four reflections exchange opposite or adjacent legs. The result is invariant under all eight
    permutations (the $A_1$ representation); the map is a linear orthogonal projector.

    **Arguments:**

    - `a`: real array of shape `(p, D, D, D, D)`, legs `(s, u, l, d, r)`.

    **Checks:** rank and shape (`ValueError`); integer input is promoted to the default float,
    complex and float16 are refused (`TypeError`).

    **Returns:** the symmetrized tensor, same shape and dtype.
    """
    a = _check_site_tensor(a, "symmetrize_c4v")
    # the builtin `sum` of arrays is typed `Array | Literal[0]`; `_C4V` is never empty
    return cast(Array, sum(jnp.transpose(a, g) for g in _C4V)) / len(_C4V)


def double_layer(
    a: Float[ArrayLike, "p D D D D"], operator: Float[ArrayLike, "p p"] | None = None
) -> Float[Array, "D2 D2 D2 D2"]:
    r"""The double-layer tensor of the norm network (or with a one-site operator inserted).

    $$a_{(uu')(ll')(dd')(rr')} = \sum_{s s'} A^{s}_{uldr}\, O_{s s'}\, A^{s'}_{u'l'd'r'},$$

    with $O = 1$ by default, so that the network of $a$ on the square lattice is
    $\langle\psi|\psi\rangle$ (or $\langle\psi|O_i|\psi\rangle$ with $O$ at one site). Each fused
    leg has dimension $d = D^2$, ket index first.

    **Arguments:**

    - `a`: real site tensor `(p, D, D, D, D)`, legs `(s, u, l, d, r)`.
    - `operator`: optional `(p, p)` matrix $O_{ss'}$.

    **Checks:** shapes (`ValueError`); integer input promoted, complex and float16 refused.

    **Returns:** `a[u, l, d, r]` of shape `(D², D², D², D²)`.
    """
    a = _check_site_tensor(a, "double_layer")
    p, dim = a.shape[0], a.shape[1]
    if operator is None:
        out = jnp.einsum("sabcd,sefgh->aebfcgdh", a, a)
    else:
        operator = jnp.asarray(operator)
        if jnp.issubdtype(operator.dtype, jnp.complexfloating):
            raise TypeError(
                f"double_layer: expected `operator` to be real (a real C4v iPEPS), got dtype "
                f"{operator.dtype}"
            )
        operator = float_array(operator, "operator", "double_layer")
        if operator.shape != (p, p):
            raise ValueError(
                f"double_layer: expected `operator` to be a one-site operator of shape ({p}, {p}) "
                f"for the physical dimension of `a`, got shape {operator.shape}"
            )
        out = jnp.einsum("sabcd,st,tefgh->aebfcgdh", a, operator.astype(a.dtype), a)
    d = dim * dim
    return out.reshape(d, d, d, d)


def _half(a, corner, edge):
    r"""Left half of the horizontal two-site network, with both physical legs of its site open.

    ```
    C - T - (c)
    |   |
    T - A*A - (r r')      ->  L[c, r, r', e, s, s']
    |   |
    C - T - (e)
    ```

    Pairwise contractions in the order of the comments; with $d = D^2$ the costs are
    $\chi^3 d$, $\chi^3 d^2$, $\chi^2 D^6 p$, $\chi^2 D^6 p^2$ and $\chi^3 D^4 p^2$.
    """
    dim = a.shape[1]
    chi = corner.shape[0]
    ct = jnp.einsum("xy,ykc->xkc", corner, edge)  # top-left corner and top edge
    ul = jnp.einsum("xkc,xmz->ckmz", ct, edge)  # and the left edge
    ul = ul.reshape(chi, dim, dim, dim, dim, chi)  # [c, u, u', l, l', z]
    x1 = jnp.einsum("cuvlmz,suldr->cvmzsdr", ul, a)  # ket layer
    x2 = jnp.einsum("cvmzsdr,tvmef->czsdrtef", x1, a)  # bra layer
    bl = jnp.einsum("zw,wke->zke", corner, edge).reshape(chi, dim, dim, chi)  # bottom-left
    return jnp.einsum("czsdrtef,zdeq->crfqst", x2, bl)


def two_site_rdm(
    a: Float[ArrayLike, "p D D D D"], env, *, normalize: bool = True, patch: str = "bond"
) -> Float[Array, "p p p p"]:
    r"""Reduced density matrix of two horizontally neighbouring sites from a C4v environment.

    With `patch="bond"` (default) the network is the 4x3 patch
    ```
    C T T C
    T a a T
    C T T C
    ```
    with the physical legs of the two sites open:
    $\rho_{s_1 s_2, s_1' s_2'}$ (ket indices first), divided by its trace when `normalize`.
    Both halves are contracted with single-layer tensors, so the cost is
    $O(\chi^3 D^4 p^2 + \chi^2 D^6 p^2)$ and the memory $O(\chi^2 D^4 p^2)$.
    With a $C_{4v}$ symmetric state the vertical bond has the same matrix.

    With `patch="plaquette"` the two sites are a neighbouring pair of the 2x2 plaquette
    ```
    C T T C
    T a a T
    T a a T
    C T T C
    ```
    (the estimator of peps-torch and of the published energies of Hasik, Poilblanc, Becca,
    SciPost Phys. 10, 012 (2021)); `a` must then be $C_{4v}$ symmetric (checked, an error
    otherwise). Each quadrant `C T T a` is a $(\chi D^2)$-square matrix and
    the plaquette is the trace of four of them; cost $O(\chi^3 D^6)$ for the matrix products.
    Both patches give the same matrix at converged `chi`; at finite `chi` they are different
    approximations, and the plaquette, which holds more of the lattice exactly, is usually the
    closer one (for the published $D = 3$ Heisenberg state the plaquette energy is
    $9.1 \cdot 10^{-5}$ above its converged value at $\chi = 27$ and $1.2 \cdot 10^{-5}$ at
    $\chi = 54$, the bond one $1.8 \cdot 10^{-4}$ and $2.2 \cdot 10^{-5}$).

    **Arguments:**

    - `a`: the site tensor `(p, D, D, D, D)` the environment was computed for (real).
    - `env`: a `CTMRGEnv` of the double-layer tensor `double_layer(a)`: `corner` `(chi, chi)` and
      `edge` `(chi, D², chi)`.
    - `normalize`: divide by the trace (default).
    - `patch`: `"bond"` (default) or `"plaquette"`, the network around the two sites.

    **Checks:** at trace time that `env` has a `corner` and an `edge` (a `CTMRGEnv`, not the
    `CTMRGResult` around it) whose shapes fit `a`, and the shape of `a`.

    **Returns:** `rho[s1, s2, s1', s2']`, shape `(p, p, p, p)`.
    """
    a = _check_site_tensor(a, "two_site_rdm")
    corner, edge = _check_env(env, a.shape, "two_site_rdm")
    _check_patch(patch, "two_site_rdm")
    corner, edge = corner.astype(a.dtype), edge.astype(a.dtype)
    if patch == "plaquette":
        # The four quadrants are taken to be the same matrix: only true for a C4v tensor.
        a = eqx.error_if(
            a,
            relative_asymmetry(a, _C4V[1:]) > jnp.sqrt(jnp.finfo(a.dtype).eps),
            "two_site_rdm: patch='plaquette' needs a C4v symmetric site tensor (its four "
            "quadrants are contracted as one matrix); symmetrize it with symmetrize_c4v, or use "
            "patch='bond'",
        )
        return _plaquette_rdm(a, corner, edge, normalize)
    left = _half(a, corner, edge)
    # The right half is the mirror image: the left half of the left-right reflected tensor.
    right = _half(jnp.transpose(a, (0, 1, 4, 3, 2)), corner, edge)
    rho = jnp.einsum("crfqab,crfquv->aubv", left, right)
    if normalize:
        rho = rho / jnp.einsum("abab->", rho)
    return rho


def _open_quadrant(a, corner, edge):
    r"""The top-left quadrant of the 2x2 plaquette with its physical legs open.

     ```
     C - T - (w)
     |   |
     T - A*A - (r r')      ->  Q[s, t, (w r r'), (z d d')]
     |   |
    (z) (d d')
     ```

     `Q[s, t]` is a $(\chi D^2) 	imes (\chi D^2)$ matrix for each ket index `s` and bra index
     `t`; the closed quadrant is $\sum_s Q[s, s]$. By $C_{4v}$ symmetry of `a` and of the
     environment the other three quadrants are the same matrix, so the plaquette is
     $\operatorname{Tr} Q^4$. Cost $O(\chi^3 D^4 + \chi^2 D^6 p + \chi^2 D^6 p^2)$.
    """
    dim, chi, p = a.shape[1], corner.shape[0], a.shape[0]
    e = edge.reshape(chi, dim, dim, chi)
    top = jnp.einsum("xy,xuvw->yuvw", corner, e)  # corner and top edge
    outer = jnp.einsum("yuvw,ylmz->uvwlmz", top, e)  # and the left edge
    ket = jnp.einsum("uvwlmz,suldr->vwmzsdr", outer, a)
    both = jnp.einsum("vwmzsdr,tvmef->stwrfzde", ket, a)
    n = chi * dim * dim
    return both.reshape(p, p, n, n)


def _plaquette_rdm(a, corner, edge, normalize):
    q = _open_quadrant(a, corner, edge)
    closed = jnp.einsum("ssij->ij", q)
    two = closed @ closed
    rest = jnp.einsum("cdjk,ki->cdji", q, two)  # the second site's quadrant and the other two
    rho = jnp.einsum("abij,cdji->acbd", q, rest)  # [s1, s2, s1', s2']
    if normalize:
        rho = rho / jnp.einsum("abab->", rho)
    return rho


def one_site_rdm(
    a: Float[ArrayLike, "p D D D D"], env, *, normalize: bool = True
) -> Float[Array, "p p"]:
    r"""Reduced density matrix $\rho_{s s'}$ of one site from a C4v environment (3x3 patch).

    **Arguments:** as for `two_site_rdm`, and the same checks.

    **Returns:** `rho[s, s']`, shape `(p, p)`, trace one when `normalize`.
    """
    a = _check_site_tensor(a, "one_site_rdm")
    corner, edge = _check_env(env, a.shape, "one_site_rdm")
    corner, edge = corner.astype(a.dtype), edge.astype(a.dtype)
    left = _half(a, corner, edge)  # [c, r, r', e, s, s']
    right = jnp.einsum("xc,xke,ey->cky", corner, edge, corner)
    dim = a.shape[1]
    right = right.reshape(right.shape[0], dim, dim, right.shape[-1])
    rho = jnp.einsum("crfqab,crfq->ab", left, right)
    if normalize:
        rho = rho / jnp.trace(rho)
    return rho


def _strong(tree):
    """The same pytree without weak types (optax's initial state has weakly typed scalars, and
    a jitted step would otherwise be compiled twice)."""

    def leaf(t):
        t = jnp.asarray(t)
        return jnp.zeros((), t.dtype) + t if t.ndim == 0 else t

    return jax.tree_util.tree_map(leaf, tree)


def _normalized(a):
    return a / jnp.sqrt(jnp.sum(a * a))


class _EnergyInfo(eqx.Module):
    steps: Array
    error: Array
    result: RESULTS


def _energy_with_info(a, h, chi, symmetrize, ctmrg_kwargs, patch, who="ipeps_energy"):
    if symmetrize:
        a = symmetrize_c4v(a)
    a = _normalized(a)
    out = _ctmrg()(double_layer(a), chi, who, **ctmrg_kwargs)
    rho = two_site_rdm(a, out.env, patch=patch)
    # 2 bonds per site; <h> = Tr(rho h) with rho[s1 s2, s1' s2'] and h[s1' s2', s1 s2].
    energy = 2.0 * jnp.einsum("abcd,cdab->", rho, h.astype(a.dtype))
    info = _EnergyInfo(steps=out.steps, error=out.error, result=out.result)
    return energy, info


def ipeps_energy(
    a: Float[ArrayLike, "p D D D D"],
    bond_hamiltonian: Float[ArrayLike, "p2 p2"],
    chi: int,
    *,
    symmetrize: bool = True,
    patch: str = "bond",
    **ctmrg_kwargs,
) -> Float[Array, ""]:
    r"""Energy per site of a translation- and $C_{4v}$-invariant iPEPS on the square lattice.

    For a Hamiltonian $H = \sum_{\langle ij \rangle} h_{ij}$ over nearest-neighbour bonds (two
    bonds per site) and a $C_{4v}$ symmetric state, every bond has the same energy, so

    $$e = \frac{\langle\psi|H|\psi\rangle}{N\,\langle\psi|\psi\rangle}
         = 2\,\frac{\operatorname{Tr}(\rho_{12}\, h)}{\operatorname{Tr}\rho_{12}},$$

    with $\rho_{12}$ the two-site reduced density matrix (`two_site_rdm`) in the CTMRG
    environment of the double-layer tensor (`diffsci.tn.ctmrg` with bond dimension `chi`). The
    tensor is symmetrized (`symmetrize_c4v`, unless `symmetrize=False`) and scaled to unit norm
    first, so any real tensor is a valid parameter and the energy is invariant under its scale.

    **Derivatives.** Differentiable in `a` and in `bond_hamiltonian`: the derivative of the
    environment comes from the fixed-point equation of CTMRG (implicit function theorem, see
    `diffsci.tn.ctmrg`), not from unrolling its iterations, so its cost does not depend on how
    many iterations the forward pass needed.

    **Variational bound.** At converged `chi` the energy is an upper bound on the ground-state
    energy. At finite `chi` the environment is approximate and the energy can lie slightly below
    its converged value; increase `chi` until the change is below the accuracy you need.

    **Arguments:**

    - `a`: real site tensor of shape `(p, D, D, D, D)`, legs `(s, u, l, d, r)`.
    - `bond_hamiltonian`: the bond operator $h$, a real symmetric `(p², p²)` matrix (or
      `(p, p, p, p)` tensor), rows `(s1, s2)` and columns `(s1', s2')` of the two sites of a bond
      (left and right, or lower and upper). For a $C_{4v}$ symmetric state only its part
      symmetric under exchange of the two sites contributes.
    - `chi`: the environment bond dimension.
    - `symmetrize`: symmetrize `a` over $C_{4v}$ first (default); with `False`, `a` must already be
      symmetric.
    - `patch`: the network around the bond, `"bond"` (default, the 4x3 patch) or `"plaquette"`
      (a neighbouring pair of the 2x2 plaquette, the estimator of published iPEPS energies); see
      `two_site_rdm`. Same energy at converged `chi`, different finite-`chi` approximations.
    - `**ctmrg_kwargs`: passed to `diffsci.tn.ctmrg` (`max_steps`, `tol`, `throw`, ...). With
      `throw=True` (its default) non-convergence raises; with `throw=False` the energy is NaN
      when CTMRG did not converge (never a silently wrong number).

    **Checks:** shapes, dtypes (integers promoted, complex and float16 refused), `chi`, `patch`
    and the CTMRG options at trace time; at run time (`equinox.error_if`, whatever `throw`
    says) NaN or infinite entries of `a` or `bond_hamiltonian`, a zero `a` (it has no norm), an
    asymmetric `bond_hamiltonian`, and with `symmetrize=False` an `a` that is not C4v symmetric.
    The errors of CTMRG are reported from `ipeps_energy`.

    **Returns:** the energy per site, a scalar of `a`'s dtype.
    """
    who = "ipeps_energy"
    a = _check_site_tensor(a, who)
    h = _check_bond_operator(bond_hamiltonian, a.shape[0], who)
    _check_patch(patch, who)
    _check_ctmrg_options(ctmrg_kwargs, who)
    a = _check_value(a, who)
    if not symmetrize:
        # The environment of C4v CTMRG needs it; checked here so that the error names `a`.
        a = eqx.error_if(
            a,
            relative_asymmetry(a, _C4V[1:]) > jnp.sqrt(jnp.finfo(a.dtype).eps),
            f"{who}: with symmetrize=False, expected `a` to be C4v symmetric (invariant under "
            "the rotations and reflections of the square, which permute its virtual legs); "
            "symmetrize it with symmetrize_c4v, or pass symmetrize=True",
        )
    energy, info = _energy_with_info(a, h, chi, symmetrize, ctmrg_kwargs, patch, who)
    return jnp.where(info.result == RESULTS.successful, energy, jnp.nan)
