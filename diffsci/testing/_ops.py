"""The derivative maps of the realified function, compiled (and cached by `jax.jit` on the
function's `Spec`) or evaluated op by op.

Every map takes the `Spec` (static), the constant leaves, the point and the directions as
arguments, never as closures, so one compilation serves every direction, every point of the same
shapes, and every later call with the same function `f`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def _f(spec, consts):
    return lambda x: spec.apply(consts, x)


def apply(spec, consts, x):
    return spec.apply(consts, x)


def jvp(spec, consts, x, v):
    return jax.jvp(_f(spec, consts), (x,), (v,))[1]


def vjp(spec, consts, x, u):
    return jax.vjp(_f(spec, consts), x)[1](u)[0]


def _phi(spec, consts, u):
    """phi(x) = <u, F(x)>, a scalar."""
    return lambda x: sum(jnp.vdot(a, b) for a, b in zip(u, spec.apply(consts, x), strict=True))


def hvp_rev_rev(spec, consts, x, u, v):
    """H v for the Hessian H of <u, F>: the VJP of the gradient (reverse over reverse)."""
    return jax.vjp(lambda y: vjp(spec, consts, y, u), x)[1](v)[0]


def hvp_fwd_rev(spec, consts, x, u, v):
    """H v by the JVP of the gradient (forward over reverse)."""
    return jax.jvp(lambda y: vjp(spec, consts, y, u), (x,), (v,))[1]


def dphi(spec, consts, x, u, w):
    """<grad phi, w> by forward mode."""
    return jax.jvp(_phi(spec, consts, u), (x,), (w,))[1]


def whv_fwd_fwd(spec, consts, x, u, w, v):
    """<w, H v> by forward over forward."""
    return jax.jvp(lambda y: dphi(spec, consts, y, u, w), (x,), (v,))[1]


def vmap_apply(spec, consts, xb):
    return jax.vmap(_f(spec, consts))(xb)


def jvp_of_vmap(spec, consts, xb, vb):
    return jax.jvp(jax.vmap(_f(spec, consts)), (xb,), (vb,))[1]


def vjp_of_vmap(spec, consts, xb, ub):
    return jax.vjp(jax.vmap(_f(spec, consts)), xb)[1](ub)[0]


def vmap_of_vjp(spec, consts, xb, ub):
    return jax.vmap(lambda x, u: vjp(spec, consts, x, u))(xb, ub)


def first_order(spec, fwd, rev, consts, x, v, u):
    """(J v, J^T u) in one program; None for a mode that is not checked."""
    f = _f(spec, consts)
    jv = jax.jvp(f, (x,), (v,))[1] if fwd else None
    jtu = jax.vjp(f, x)[1](u)[0] if rev else None
    return jv, jtu


def batched(spec, fwd, rev, consts, xb, vb, ub):
    """vmap(f), the JVP of vmap(f), the VJP of vmap(f) and vmap of the VJP, in one program."""
    yb = vmap_apply(spec, consts, xb)
    jvb = jvp_of_vmap(spec, consts, xb, vb) if fwd else None
    gov = vjp_of_vmap(spec, consts, xb, ub) if rev else None
    vog = vmap_of_vjp(spec, consts, xb, ub) if rev else None
    return yb, jvb, gov, vog


def second_order(spec, fwd, rev, consts, x, u, v, w):
    """Hessian-vector products of <u, F>: with reverse mode (H v, H w) by reverse over reverse
    and H v by forward over reverse (if `fwd`); forward only: <w, H v> and <v, H w>."""
    if rev:
        hv, hw = hvp_rev_rev(spec, consts, x, u, v), hvp_rev_rev(spec, consts, x, u, w)
        hv_fr = hvp_fwd_rev(spec, consts, x, u, v) if fwd else None
        return hv, hw, hv_fr
    return whv_fwd_fwd(spec, consts, x, u, w, v), whv_fwd_fwd(spec, consts, x, u, v, w), None


NAMES = ("apply", "jvp", "vjp", "dphi")
COMBINED = ("first_order", "batched", "second_order")

#: compiled versions, cached by jax.jit on the (hashable) Spec and the mode flags
COMPILED = {name: jax.jit(globals()[name], static_argnums=0) for name in NAMES}
COMPILED.update({name: jax.jit(globals()[name], static_argnums=(0, 1, 2)) for name in COMBINED})
EAGER = {name: globals()[name] for name in NAMES + COMBINED}


def _bind(fn, *static):
    return lambda *args: fn(*static, *args)


class Ops:
    """The maps of one realified function, bound to its spec, modes and constants."""

    # set in `__init__` from `NAMES` and `COMBINED`
    apply: Callable[..., Any]
    jvp: Callable[..., Any]
    vjp: Callable[..., Any]
    dphi: Callable[..., Any]
    first_order: Callable[..., Any]
    batched: Callable[..., Any]
    second_order: Callable[..., Any]

    def __init__(self, spec, consts, compiled: bool, fwd: bool = True, rev: bool = True):
        table = COMPILED if compiled else EAGER
        for name in NAMES:
            setattr(self, name, _bind(table[name], spec, consts))
        for name in COMBINED:
            setattr(self, name, _bind(table[name], spec, fwd, rev, consts))
