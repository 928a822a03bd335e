"""A second derivative through `lax.scan`, against finite differences of the first derivative."""

import jax
import jax.numpy as jnp
import numpy as np


def assert_scan_hessian_matches_fd(body, a0, da, *, x=0.3, step=1e-4, rtol=1e-6):
    """`body(carry, _) -> (carry, y)` scanned twice from `a0 + x da`: the Hessian in `x` of the
    sum of the `y`s is finite and equals central differences (float64) of the gradient."""

    def f(t):
        _, ys = jax.lax.scan(body, jnp.asarray(a0 + t * da), None, length=2)
        return jnp.sum(ys)

    hess = jax.jit(jax.hessian(f))(x)
    grad = jax.jit(jax.grad(f))
    fd = (grad(x + step) - grad(x - step)) / (2 * step)
    assert np.isfinite(hess)
    np.testing.assert_allclose(hess, fd, rtol=rtol)
