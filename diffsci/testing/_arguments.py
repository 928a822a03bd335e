"""Checks of the arguments of the public checks (`check_grads` and its parts, `check_invariance`):
a wrong option is refused before anything is traced, with the house message that names the check
the user called and the argument."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import jax
import jax.core
import jax.numpy as jnp
import numpy as np

from diffsci._internal._validate import fail, static_int

_MODES = ("fwd", "rev")


def function(f: Any, name: str, who: str) -> None:
    if not callable(f):
        fail(who, name, "to be a callable", f, TypeError)


def point(args: tuple, who: str) -> None:
    if not args:
        fail(
            who,
            "args",
            f"to be at least one argument of `f` (the point, passed unpacked: {who}(f, x, y, ...))",
            "none",
            described=True,
        )


def number(
    x: Any, name: str, who: str, *, positive: bool = False, optional: bool = False
) -> float | None:
    """A finite real number >= 0 (> 0 with `positive`), or `None` when `optional`."""
    if x is None and optional:
        return None
    scalar_array = (
        isinstance(x, jax.Array | np.ndarray)
        and np.ndim(x) == 0
        and not isinstance(x, jax.core.Tracer)
        and (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer))
    )
    if isinstance(x, bool | np.bool_) or not (
        isinstance(x, int | float | np.integer | np.floating) or scalar_array
    ):
        fail(who, name, "to be a real number" + (" or None" if optional else ""), x, TypeError)
    # `x` is a real number here (`fail` raises otherwise), which pyright cannot follow
    value = float(x)  # pyright: ignore[reportArgumentType]
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        fail(who, name, "to be a finite number " + ("> 0" if positive else ">= 0"), value)
    return value


def flag(x: Any, name: str, who: str) -> bool:
    if not isinstance(x, bool | np.bool_):
        fail(who, name, "to be True or False", x, TypeError)
    return bool(x)


def modes(x: Any, who: str) -> tuple[str, ...] | None:
    """`None`, or a non-empty subset of `("fwd", "rev")` (one name, or a sequence of them)."""
    if x is None:
        return None
    names = (x,) if isinstance(x, str) else x
    try:
        names = tuple(names)
    except TypeError:
        fail(who, "modes", f"to be a non-empty subset of {_MODES}", x, TypeError)
    if not names or any(not isinstance(m, str) or m not in _MODES for m in names):
        fail(who, "modes", f"to be a non-empty subset of {_MODES}", repr(names), described=True)
    return names


def key(x: Any, who: str) -> None:
    """An int seed, `None`, a `numpy.random.Generator`, or a JAX PRNG key (typed, or raw uint32
    key data)."""
    if x is None or isinstance(x, np.random.Generator):
        return
    if isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_):
        if x < 0:
            fail(who, "key", "to be a seed >= 0 or a JAX PRNG key", x)
        return
    if isinstance(x, jax.Array | np.ndarray) and (
        jnp.issubdtype(x.dtype, jax.dtypes.prng_key) or x.dtype == np.uint32
    ):
        return
    fail(who, "key", "to be an int seed or a JAX PRNG key (jax.random.key(seed))", x, TypeError)


def argnums(x: Any, num_args: int, who: str) -> None:
    """`None`, an int, or a non-empty sequence of ints, each in `[-num_args, num_args)`."""
    if x is None:
        return
    items = (x,) if not isinstance(x, Sequence) or isinstance(x, str) else tuple(x)
    if not items:
        fail(who, "argnums", "to be an int or a non-empty sequence of ints", "()", described=True)
    for a in items:
        if isinstance(a, bool | np.bool_ | str):
            fail(who, "argnums", "to be an int or a sequence of ints", x, TypeError)
        try:
            a = operator.index(a)
        except TypeError:
            fail(who, "argnums", "to be an int or a sequence of ints", x, TypeError)
        if not -num_args <= a < num_args:
            fail(
                who,
                "argnums",
                f"to index the {num_args} positional argument(s) of `f`, in "
                f"[{-num_args}, {num_args})",
                f"{a}, which is out of range",
                described=True,
            )


def options(who: str, args: tuple, *, argnums_=None, key_=0, modes_=None, **opts) -> None:
    """Every argument that a check takes, by name (only those given are checked)."""
    point(args, who)
    argnums(argnums_, len(args), who)
    key(key_, who)
    modes(modes_, who)
    for name in ("num_directions", "levels"):
        if name in opts:
            static_int(opts[name], name, who, minimum=1 if name == "num_directions" else 2)
    for name in ("atol", "rtol", "fd_safety", "ulps"):
        if name in opts:
            number(opts[name], name, who)
    for name in ("ad_rtol", "transform_rtol"):
        if name in opts:
            number(opts[name], name, who, optional=True)
    if "eps" in opts:
        number(opts["eps"], "eps", who, positive=True, optional=True)
    for name in ("jit", "vmap"):
        if name in opts:
            flag(opts[name], name, who)
