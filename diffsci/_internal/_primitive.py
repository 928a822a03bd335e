"""Decompositions as JAX primitives with their own JVP rule, instead of `jax.custom_jvp`s.

JAX drops the rule of a `custom_jvp` that partial evaluation meets with unknown inputs (it
assumes the result is only needed as a linear function), and the reverse mode of `lax.scan`
partially evaluates its forward body with the carry unknown (to hoist loop-invariant
residuals). So inside a scan the forward pass of `jax.grad` holds the bare LAPACK call, and a
second derivative (`jax.hessian`, forward over reverse) differentiates it with JAX's own rule:
NaN at repeated eigen- or singular values, such as the exact zeros of a rank-deficient matrix.
A primitive is never inlined, so every order of differentiation, inside a scan or not, goes
through the rule given here.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.core import ShapedArray
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir


def jvp_primitive(name: str, forward: Callable, jvp_rule: Callable) -> Primitive:
    """A primitive of one array argument and several outputs, `forward(a, **params)`, whose
    JVP is `jvp_rule((a,), (da,), **params) -> (outputs, tangents)`.

    `forward` must be traceable (it gives the abstract evaluation, the lowering and the eager
    implementation) and batch over leading axes of `a` (the `vmap` rule moves the mapped axis
    to the front); `params` must be hashable. `jvp_rule` should compute its primal outputs by
    binding the primitive again, so that it is differentiable to any order, and be linear in
    `da`, so that JAX transposes it for reverse mode.
    """
    prim = Primitive(name)
    prim.multiple_results = True
    prim.def_impl(lambda a, **params: forward(a, **params))

    def abstract_eval(a, **params):
        outs = jax.eval_shape(lambda x: forward(x, **params), a)
        return [ShapedArray(o.shape, o.dtype) for o in outs]

    def batch(args, dims, **params):
        (a,), (d,) = args, dims
        outs = prim.bind(jnp.moveaxis(a, d, 0), **params)
        return outs, [0] * len(outs)

    def jvp(primals, tangents, **params):
        (da,) = tangents
        if type(da) is ad.Zero:
            outs = prim.bind(*primals, **params)
            # (JAX skips the rule when every tangent is symbolically zero; kept for safety)
            return outs, [ad.Zero(jax.typeof(o).to_tangent_aval()) for o in outs]
        outs, tangents_out = jvp_rule(primals, tangents, **params)
        return list(outs), list(tangents_out)

    prim.def_abstract_eval(abstract_eval)
    mlir.register_lowering(prim, mlir.lower_fun(forward, multiple_results=True))
    batching.primitive_batchers[prim] = batch
    ad.primitive_jvps[prim] = jvp
    return prim
