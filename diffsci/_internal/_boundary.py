r"""One boundary between a user's code and diffsci's custom derivative rules.

A custom rule (`jax.custom_vjp`, `jax.custom_jvp`, a primitive) differentiates only what it is
handed as an argument. Values a user's callable closes over, Python and NumPy scalars, and
weak-typed values are where the hand-over goes wrong: a closure over a traced value is invisible
to the rule (a silent zero gradient); under `jax.grad` a Python float becomes a tracer whose
primal is a `float` subclass, not an array, so the backward pass of a `custom_vjp` sees a
non-array and drops it (another silent zero); a vector field that promotes a float32 state with
a float64 constant changes the state's dtype between steps. Every rule in diffsci that takes a
user callable goes through the three functions here, so each gets the contract right by using
them:

- `as_arrays(tree)`: every floating or complex leaf (Python `float`/`complex`, NumPy scalars and
  arrays, JAX's typed literals, weak-typed arrays and tracers) becomes a JAX array of the same
  dtype and weak type. Integers, booleans, strings and `None` are left alone: they are static
  data (a count, a flag, a name), never differentiated.
- `hoist(fn, *example_args)`: `fn` with every array or tracer it closes over (a traced
  parameter, the fields of an `equinox.Module`) as a pytree leaf, by closure conversion at the
  example arguments; the hoisted values go through `as_arrays`.
- `split(tree)`: the differentiable part (floating/complex arrays) and the static rest, as
  `equinox.partition`, after `as_arrays`.

and `cast_like(fn, ...)` keeps a vector field's output in the dtype of the state it is given.

Inside a rule, the values it is handed can again be typed literals (JAX folds a constant of a
jitted function into a literal, and a `custom_vjp`'s backward pass or a `custom_jvp`'s tangent
rule receives it as a `float` subclass), so the rule's own functions call `as_arrays` on what
they receive, or rebuild with `combine`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np


def is_inexact_leaf(x: Any) -> bool:
    """Whether `x` is a floating or complex value that could carry a derivative: a JAX array or
    tracer, a NumPy array or scalar, or a Python `float`/`complex` (`bool` and `int` are not)."""
    if isinstance(x, bool | int) and not isinstance(x, float | complex):
        return False
    if isinstance(x, float | complex):
        return True
    if isinstance(x, jax.Array | np.ndarray | np.generic):
        return jnp.issubdtype(jnp.result_type(x), jnp.inexact)
    return False


def _to_array(x: Any) -> Any:
    if not is_inexact_leaf(x):
        return x
    # `jnp.asarray` keeps the dtype and the weak type (a Python float stays weakly typed, so it
    # promotes like one) but turns a typed literal or NumPy value into a JAX array; on a tracer
    # whose primal is a typed literal it binds a conversion, so that a rule sees an array.
    return jnp.asarray(x)


def as_arrays(tree: Any) -> Any:
    """`tree` with every floating or complex leaf as a JAX array (see the module docstring)."""
    return jtu.tree_map(_to_array, tree)


def hoist(fn: Callable, *example_args: Any, **example_kwargs: Any) -> Callable:
    """`fn` with the arrays it closes over as pytree leaves, ready to cross a custom rule.

    The result is an `equinox.Module` that is called like `fn`. Its array leaves are the values
    `fn` closed over (including those held by an `equinox.Module` callable), as JAX arrays, so
    that `split` or `equinox.partition` finds them and the rule differentiates them. Called with
    arguments of other shapes or dtypes than the examples, it raises (equinox's check).
    """
    converted = eqx.filter_closure_convert(fn, *example_args, **example_kwargs)
    return as_arrays(converted)


def split(tree: Any) -> tuple[Any, Any]:
    """`(diff, static)`: the floating/complex arrays of `tree` and the rest
    (`equinox.combine(diff, static)` rebuilds it), after `as_arrays`."""
    return eqx.partition(as_arrays(tree), eqx.is_inexact_array)


def combine(diff: Any, static: Any) -> Any:
    """`equinox.combine(diff, static)` with `diff`'s leaves as arrays (the inverse of `split`,
    safe inside a rule, where a literal may stand for an array)."""
    return eqx.combine(as_arrays(diff), static)


def cast_like(fn: Callable, who: str, name: str = "f", position: int = 1) -> Callable:
    """Wrap a vector field `fn(*args)` so that its output has the structure, shapes and dtypes
    of its argument at `position` (the state).

    A field that mixes a float32 state with a float64 constant returns float64; the solver state
    must keep its dtype from step to step (the dtype of the computation follows `y0`), so the
    output is cast back. A complex output for a real state, or an output of another structure
    or shape, is an error naming `name`.
    """

    def wrapped(*args):
        y = args[position]
        out = fn(*args)
        out_leaves, out_def = jtu.tree_flatten(out)
        y_leaves, y_def = jtu.tree_flatten(y)
        if out_def != y_def:
            raise ValueError(
                f"{who}: `{name}` must return a pytree shaped like the state; the state is "
                f"{y_def}, `{name}` returned {out_def}"
            )
        cast = []
        for o, s in zip(out_leaves, y_leaves, strict=True):
            if jnp.shape(o) != jnp.shape(s):
                raise ValueError(
                    f"{who}: `{name}` must return arrays shaped like the state; a state leaf has "
                    f"shape {jnp.shape(s)}, `{name}` returned shape {jnp.shape(o)}"
                )
            target = jnp.result_type(s)
            if jnp.issubdtype(jnp.result_type(o), jnp.complexfloating) and not jnp.issubdtype(
                target, jnp.complexfloating
            ):
                raise TypeError(
                    f"{who}: `{name}` returned a complex value for a real state leaf of dtype "
                    f"{jnp.dtype(target).name}; make `y0` complex"
                )
            cast.append(jnp.asarray(o).astype(target))
        return jtu.tree_unflatten(y_def, cast)

    return wrapped
