r"""Structured inputs: check a function only along directions that keep its input valid.

Finite differences move every entry of an input independently; a function that accepts only
Hermitian matrices (or symmetric, or unitary ones) is then evaluated off its domain. The checks
instead look at $g = f \circ r$, where $r$ maps an unconstrained array onto the structured set
and fixes the point, $r(x_0) = x_0$. The derivatives of $g$ at $x_0$ are those of $f$ composed
with $dr$, which maps every direction onto the tangent space of the structure at $x_0$: the
rule of $f$ is checked on exactly the directions along which $f$ is defined.

- `"symmetric"`: $r(x) = (x + x^T)/2$ over the last two axes (complex symmetric for complex x).
- `"hermitian"`: $r(x) = (x + x^H)/2$.
- `"unitary"` (orthogonal for real x): the Cayley retraction at $x_0$,
  $r(x) = x_0 (I - K/2)^{-1} (I + K/2)$ with $K = (A - A^H)/2$, $A = x_0^H (x - x_0)$; $K$ is
  skew-Hermitian, so $r(x)$ is unitary, and $dr$ at $x_0$ is
  $v \mapsto x_0\,\mathrm{skew}(x_0^H v)$, the projection onto the tangent space.
- a callable `r`: any such map of the user's (applied to the whole positional argument).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

_NAMES = ("symmetric", "hermitian", "unitary")


def _swap(x):
    return jnp.swapaxes(x, -1, -2)


def _symmetric(x):
    return (x + _swap(x)) / 2


def _hermitian(x):
    return (x + jnp.conj(_swap(x))) / 2


class _Cayley(eqx.Module):
    """The Cayley retraction onto the unitary (orthogonal) matrices at the point `at`."""

    at: jax.Array

    def __call__(self, x):
        a = self.at
        k = jnp.conj(_swap(a)) @ (x - a)
        k = (k - jnp.conj(_swap(k))) / 2
        eye = jnp.eye(a.shape[-1], dtype=k.dtype)
        return a @ jnp.linalg.solve(eye - k / 2, eye + k / 2)


def _leafwise(fn: Callable) -> Callable:
    return lambda arg: jax.tree_util.tree_map(fn, arg)


def _is_square(x) -> bool:
    return jnp.ndim(x) >= 2 and jnp.shape(x)[-1] == jnp.shape(x)[-2]


def _retraction(entry: Any, arg: Any, name: str, who: str) -> Callable | None:
    if entry is None:
        return None
    if callable(entry) and not isinstance(entry, str):
        return entry
    if entry not in _NAMES:
        raise ValueError(
            f"{who}: `structure` entries must be None, one of {_NAMES} or a callable r with "
            f"r(x0) = x0, got {entry!r} for {name}"
        )
    leaves = jax.tree_util.tree_leaves(arg)
    if not leaves or not all(_is_square(x) for x in leaves):
        shapes = [tuple(jnp.shape(x)) for x in leaves]
        raise ValueError(
            f"{who}: structure={entry!r} needs square matrices (the last two axes), but {name} "
            f"has leaves of shapes {shapes}"
        )
    if entry == "symmetric":
        return _leafwise(_symmetric)
    if entry == "hermitian":
        return _leafwise(_hermitian)
    if len(leaves) != 1:
        raise ValueError(
            f"{who}: structure='unitary' takes an argument that is one matrix; {name} has "
            f"{len(leaves)} leaves (pass a callable retraction instead)"
        )
    return _Cayley(jnp.asarray(leaves[0]))


class Structured(eqx.Module):
    """`f` with the retractions applied to its positional arguments: `f(*[r(a) for ...])`."""

    f: Callable
    retractions: tuple

    def __call__(self, *args):
        return self.f(
            *(a if r is None else r(a) for a, r in zip(args, self.retractions, strict=True))
        )


def structured(f: Callable, args: tuple, structure: Any, who: str) -> Callable:
    """`f` composed with the retractions that `structure` names (see the module docstring), after
    checking that each fixes its argument; `f` itself when `structure` is None."""
    if structure is None:
        return f
    entries = structure if isinstance(structure, tuple | list) else (structure,)
    if len(entries) != len(args):
        raise ValueError(
            f"{who}: `structure` has {len(entries)} entries but `f` is checked at {len(args)} "
            "positional arguments; give one entry per argument (None for an unstructured one)"
        )
    retractions = []
    for i, (entry, arg) in enumerate(zip(entries, args, strict=True)):
        name = f"args[{i}]"
        r = _retraction(entry, arg, name, who)
        retractions.append(r)
        if r is None:
            continue
        for x, rx in zip(
            jax.tree_util.tree_leaves(arg), jax.tree_util.tree_leaves(r(arg)), strict=True
        ):
            x = np.asarray(x)
            rx = np.asarray(rx)
            eps = float(jnp.finfo(rx.dtype).eps)
            scale = max(float(np.max(np.abs(x), initial=0.0)), 1.0)
            err = float(np.max(np.abs(rx - x), initial=0.0))
            if err <= 100 * (x.shape[-1] if x.ndim else 1) * eps * scale:
                continue
            if isinstance(entry, str):
                msg = (
                    f"{who}: structure={entry!r} for {name}, but {name} is not {entry}: "
                    f"max|r(x) - x| = {err:.2e}"
                )
            else:
                msg = (
                    f"{who}: the retraction given for {name} moves the point (max|r(x) - x| = "
                    f"{err:.2e}); it must fix the point, r(x0) = x0"
                )
            raise ValueError(msg)
    return Structured(f, tuple(retractions))
