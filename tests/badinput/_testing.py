"""Bad-input rows of diffsci.testing (see test_bad_input.py)."""

from __future__ import annotations

import jax.numpy as jnp

import diffsci.testing as dt

from ._row import Bad

_X = jnp.array([0.3, -1.2, 0.7])


def _square(x):
    return jnp.sum(x**2)


def _row(check, case, *args, raises=ValueError, match="", **kwargs):
    """A row calling `check(f, *args, **kwargs)` (not jittable: the checks run Python loops)."""
    return Bad(
        f"testing.{check.__name__}",
        case,
        lambda: check(*args, **kwargs),
        raises=raises,
        match=match,
        jit=False,
    )


_CG = dt.check_grads

ROWS: list[Bad] = [
    # check_grads: the function, the point, and every option
    _row(_CG, "f not callable", 3.0, _X, raises=TypeError, match="`f`"),
    _row(_CG, "no point", _square, match="`args`"),
    _row(
        _CG,
        "JAX-style argument tuple",
        _square,
        (_X,),
        2,
        raises=TypeError,
        match=r"JAX's calling convention.*check_grads\(f, \*args, order=2\)",
    ),
    _row(_CG, "point with NaN", _square, _X.at[1].set(jnp.nan), match=r"args\[0\] is not finite"),
    _row(_CG, "integer point", _square, jnp.arange(3), match="nothing to differentiate.*int"),
    _row(_CG, "eps a string", _square, _X, eps="1e-3", raises=TypeError, match="`eps`"),
    _row(_CG, "eps negative", _square, _X, eps=-1e-3, match="`eps`"),
    _row(_CG, "eps NaN", _square, _X, eps=float("nan"), match="`eps`"),
    _row(
        _CG,
        "eps an array",
        _square,
        _X,
        eps=jnp.array([1e-3, 1e-3]),
        raises=TypeError,
        match="`eps`",
    ),
    _row(_CG, "order 3", _square, _X, order=3, match="`order`"),
    _row(_CG, "order a float", _square, _X, order=1.0, raises=TypeError, match="`order`"),
    _row(_CG, "unknown mode", _square, _X, modes="both", match="`modes`"),
    _row(_CG, "argnums out of range", _square, _X, argnums=2, match="`argnums`"),
    _row(_CG, "argnums a string", _square, _X, argnums="0", raises=TypeError, match="`argnums`"),
    _row(_CG, "key a float", _square, _X, key=1.5, raises=TypeError, match="`key`"),
    _row(_CG, "atol NaN", _square, _X, atol=float("nan"), match="`atol`"),
    _row(_CG, "rtol negative", _square, _X, rtol=-1e-6, match="`rtol`"),
    _row(_CG, "ad_rtol negative", _square, _X, ad_rtol=-1.0, match="`ad_rtol`"),
    _row(_CG, "num_directions 0", _square, _X, num_directions=0, match="`num_directions`"),
    _row(_CG, "levels 1", _square, _X, levels=1, match="`levels`"),
    _row(_CG, "jit not a bool", _square, _X, jit="no", raises=TypeError, match="`jit`"),
    _row(_CG, "unknown structure", _square, _X, structure="hermetian", match="`structure`"),
    # the checks one by one
    _row(dt.check_jvp_vjp, "f None", None, _X, raises=TypeError, match="`f`"),
    _row(
        dt.check_jvp_vjp, "key a string", _square, _X, key="seed", raises=TypeError, match="`key`"
    ),
    _row(
        dt.check_jvp_vjp,
        "num_directions not an integer",
        _square,
        _X,
        num_directions=2.5,
        raises=TypeError,
        match="`num_directions`",
    ),
    _row(
        dt.check_finite_differences,
        "eps a string",
        _square,
        _X,
        eps="small",
        raises=TypeError,
        match="`eps`",
    ),
    _row(dt.check_finite_differences, "eps 0", _square, _X, eps=0.0, match="`eps`"),
    _row(
        dt.check_finite_differences,
        "fd_safety negative",
        _square,
        _X,
        fd_safety=-4.0,
        match="`fd_safety`",
    ),
    _row(dt.check_finite_differences, "levels 0", _square, _X, levels=0, match="`levels`"),
    _row(
        dt.check_second_order,
        "ad_rtol a string",
        _square,
        _X,
        ad_rtol="1e-9",
        raises=TypeError,
        match="`ad_rtol`",
    ),
    _row(dt.check_second_order, "ulps NaN", _square, _X, ulps=float("nan"), match="`ulps`"),
    _row(
        dt.check_transforms,
        "transform_rtol negative",
        _square,
        _X,
        transform_rtol=-1.0,
        match="`transform_rtol`",
    ),
    _row(
        dt.check_transforms,
        "vmap not a bool",
        _square,
        _X,
        vmap=1,
        raises=TypeError,
        match="`vmap`",
    ),
    _row(
        dt.check_transforms,
        "JAX-style argument tuple",
        _square,
        (_X,),
        raises=TypeError,
        match="JAX's calling convention",
    ),
    # invariance
    _row(
        dt.check_invariance,
        "transform not callable",
        _square,
        3,
        _X,
        raises=TypeError,
        match="`transform`",
    ),
    _row(
        dt.check_invariance, "f not callable", "f", lambda x: -x, _X, raises=TypeError, match="`f`"
    ),
    _row(
        dt.check_invariance,
        "transform changes the shape",
        _square,
        lambda x: x[:2],
        _X,
        match="`transform` to return args",
    ),
    _row(
        dt.check_invariance,
        "JAX-style argument tuple",
        _square,
        lambda x: -x,
        (_X,),
        raises=TypeError,
        match="passed unpacked",
    ),
    _row(
        dt.check_invariance, "rtol negative", _square, lambda x: -x, _X, rtol=-1.0, match="`rtol`"
    ),
    _row(
        dt.check_invariance,
        "unknown mode",
        _square,
        lambda x: -x,
        _X,
        modes=("rev", "x"),
        match="`modes`",
    ),
    _row(
        dt.check_invariance,
        "num_directions 0",
        _square,
        lambda x: -x,
        _X,
        num_directions=0,
        match="`num_directions`",
    ),
]

# Public names with no input a user can get wrong ("testing.Name": reason).
NO_INPUT: dict[str, str] = {
    "testing.CheckReport": "a result record built by the checks",
    "testing.register_hypothesis_profiles": "takes no arguments",
}
