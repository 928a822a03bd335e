"""Functions for the check-grads command line tests: one right, one with a planted bug."""

import jax
import jax.numpy as jnp


def good(a, x):
    return jnp.tanh(a @ x)


@jax.custom_jvp
def bad(a, x):
    return jnp.tanh(a @ x)


@bad.defjvp
def _bad_jvp(primals, tangents):
    (a, x), (da, dx) = primals, tangents
    y = jnp.tanh(a @ x)
    # the right rule has (1 - y**2); the planted bug drops the square
    return y, (1 - y) * (da @ x + a @ dx)


def eigvals_squared(h):
    return jnp.linalg.eigvalsh(h) ** 2
