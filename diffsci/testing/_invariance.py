"""Invariance of a function under a transformation of its arguments, and the matching
transformation law (equivariance) of its derivatives."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np

from diffsci._internal._validate import static_int

from . import _arguments
from ._check import _compare_ad, _fmt_shapes, _looks_like_jax_call
from ._ops import Ops
from ._report import Failure, raise_if
from ._session import Options, Session, check_modes
from ._tree import Realified, concat


def check_invariance(
    f: Callable,
    transform: Callable,
    *args,
    modes: Sequence[str] | None = ("fwd", "rev"),
    argnums: int | Sequence[int] | None = None,
    key=0,
    num_directions: int = 2,
    rtol: float | None = None,
    atol: float = 0.0,
) -> None:
    r"""Check that `f` is invariant under `transform` and that its derivatives transform with it.

    For a transformation $T$ of the arguments (a sign or phase of eigenvectors, a permutation
    of particles, a rotation, a translation) under which $f \circ T = f$, differentiating gives

    $$f(T x) = f(x), \qquad J_T(x)^\top\, \nabla\phi(T x) = \nabla\phi(x), \qquad
      J_f(T x)\, J_T(x)\, v = J_f(x)\, v,$$

    with $\phi = \langle u, f\rangle$ for a random output cotangent $u$ and random directions $v$.
    The middle identity is the equivariance of the gradient: the gradient at the transformed point,
    pulled back through $T$ (by `jax.vjp` of $T$), is the gradient at the original point. For an
    orthogonal $T$ (rotations, permutations, signs, phases) it reads $\nabla\phi(Tx) =
    T\,\nabla\phi(x)$; for a translation, $\nabla\phi(x + a) = \nabla\phi(x)$. The last identity
    is the same statement for the forward mode. The derivatives of $T$ come from JAX, so the
    check is about the derivative rules inside `f`: a rule that breaks a symmetry of the exact
    derivative (for instance an eigenvector derivative that is not gauge covariant) fails it.

    **Arguments:**

    - `f`: the function, called as `f(*args)`; returns a pytree of real or complex arrays.
    - `transform`: the transformation, called as `transform(*args)`; returns the transformed
      arguments (a tuple of the same length, or the single transformed argument when there is one
      argument).
    - `*args`: the point.
    - `modes`: which derivatives to check, `"fwd"` (JVP) and/or `"rev"` (VJP).
    - `argnums`: which arguments to differentiate (default: all).
    - `key`: an int seed or a JAX PRNG key for the random directions.
    - `num_directions`: how many random directions and cotangents.
    - `rtol`: tolerance relative to the largest entry compared (default $\sqrt\epsilon$ of the
      dtype: the transformed point is computed in floating point).
    - `atol`: an absolute tolerance added to it.

    Checks, before `f` is traced: `f` and `transform` are callable, at least one argument is
    given, `transform` returns arguments of the same structure, shapes and dtypes, and `modes`,
    `argnums`, `key` and the tolerances have the right types and ranges.

    **Returns:**

    `None`; raises `AssertionError` with a report naming the output or input leaf and index that
    breaks the invariance or the equivariance.

    !!! example

        ```python
        import jax.numpy as jnp
        from diffsci.testing import check_invariance

        def energy(x):  # pair energy of particles, invariant under permutations
            d = x[:, None, :] - x[None, :, :]
            return jnp.sum(jnp.exp(-jnp.sum(d**2, axis=-1)))

        x = jnp.arange(6.0).reshape(3, 2) / 3
        check_invariance(energy, lambda x: x[jnp.array([2, 0, 1])], x)
        ```
    """
    who = "check_invariance"
    _arguments.function(f, "f", who)
    _arguments.function(transform, "transform", who)
    args = tuple(args)
    _arguments.options(who, args, argnums_=argnums, key_=key, modes_=modes, atol=atol)
    static_int(num_directions, "num_directions", who, minimum=1)
    _arguments.number(rtol, "rtol", who, optional=True)
    modes = check_modes(modes)
    n = len(args)

    def transformed_args(*a):
        out = transform(*a)
        if n == 1:
            return (out,)
        out = tuple(out)
        if len(out) != n:
            raise ValueError(
                f"check_invariance: transform returned {len(out)} arguments, expected {n}"
            )
        return out

    def g(*a):
        return f(*transformed_args(*a))

    try:
        s = Session(
            who,
            f,
            args,
            argnums=argnums,
            key=key,
            modes=modes,
            options=Options(num_directions=num_directions, atol=atol, jit=False),
        )
    except Exception as err:
        if not _looks_like_jax_call(args):
            raise
        raise TypeError(
            f"{who}: `f` failed when called as f(*args) with args = ({type(args[0]).__name__} "
            f"of {len(args[0])}{', ' + repr(args[1]) if len(args) == 2 else ''}). The point is "
            f"passed unpacked: {who}(f, transform, *args). The original error: "
            f"{type(err).__name__}: {err}"
        ) from err
    _check_transform_output(transformed_args(*args), args, who)
    q = Realified(g, args, s.p.argnums, who=who)
    if len(q.y) != len(s.p.y) or any(a.shape != b.shape for a, b in zip(q.y, s.p.y, strict=True)):
        raise ValueError("check_invariance: f(*transform(*args)) and f(*args) differ in structure")
    rtol = float(np.sqrt(s.eps)) if rtol is None else rtol
    ops_f = s.ops
    ops_g = Ops(q.spec, q.consts, compiled=False, fwd=s.fwd, rev=s.rev)
    x = s.x
    failures: list[Failure] = []
    failures += _compare_ad(
        s,
        "invariance: value",
        s.p.out_parts,
        q.y,
        s.p.y,
        "f(T(x))",
        "f(x)",
        rtol,
        "output ",
        floor=s.out_floor(),
    )
    for k in range(num_directions):
        v, u = s.direction(), s.cotangent()
        with s.forward_mode():
            jv_g, jtu_g = ops_g.first_order(x, v, u)
            jv_f, jtu_f = ops_f.first_order(x, v, u)
        if s.fwd:
            failures += _compare_ad(
                s,
                "invariance: forward derivative",
                s.p.out_parts,
                jv_g,
                jv_f,
                "J_f(Tx) J_T v",
                "J_f(x) v",
                rtol,
                f"direction #{k}, output ",
                floor=s.out_floor(),
            )
        if s.rev:
            failures += _compare_ad(
                s,
                "equivariance of the gradient",
                s.p.in_parts,
                jtu_g,
                jtu_f,
                "J_T^T grad(Tx)",
                "grad(x)",
                rtol,
                f"cotangent #{k}, input ",
                floor=s.in_scale(u),
            )
    for fail in failures:
        if fail.check.startswith("invariance: value"):
            fail.note += " `f` is not invariant under `transform` at this point."
    if not failures and not np.all(np.isfinite(concat(s.p.y))):
        failures.append(Failure("invariance: value", "output", [("f(x)", "not finite")]))
    raise_if("check_invariance", failures, _fmt_shapes(s))


def _check_transform_output(out: tuple, args: tuple, who: str) -> None:
    """`transform` maps the point into the same space: the same pytree structure, and leaves of
    the same shapes and dtypes."""
    for i, (a, b) in enumerate(zip(args, out, strict=True)):
        ta, tb = jax.tree_util.tree_structure(a), jax.tree_util.tree_structure(b)
        if ta != tb:
            raise ValueError(
                f"{who}: expected `transform` to return args[{i}] with the structure of the "
                f"argument, {ta}, got {tb}"
            )
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
            if np.shape(x) != np.shape(y) or (
                hasattr(x, "dtype")
                and hasattr(y, "dtype")
                and np.dtype(x.dtype) != np.dtype(y.dtype)
            ):
                raise ValueError(
                    f"{who}: expected `transform` to return args[{i}] with leaves of the shapes "
                    f"and dtypes of the argument, got shape {np.shape(y)} "
                    f"{getattr(y, 'dtype', '')} for a leaf of shape {np.shape(x)} "
                    f"{getattr(x, 'dtype', '')}"
                )
