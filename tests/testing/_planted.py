"""Derivative rules with planted bugs, and their correct twins, for the self-tests."""

import jax
import jax.numpy as jnp
from jax import lax

# -- a sign error in a custom_vjp ------------------------------------------------------------


@jax.custom_vjp
def sin_sign_error(x):
    return jnp.sin(x)


sin_sign_error.defvjp(lambda x: (jnp.sin(x), x), lambda x, ct: (-jnp.cos(x) * ct,))


@jax.custom_vjp
def sin_correct(x):
    return jnp.sin(x)


sin_correct.defvjp(lambda x: (jnp.sin(x), x), lambda x, ct: (jnp.cos(x) * ct,))


# -- a transposition error: the cotangent of x in A @ x is A.T @ ct, not A @ ct ---------------


@jax.custom_vjp
def matvec_transposition_error(a, x):
    return a @ x


matvec_transposition_error.defvjp(
    lambda a, x: (a @ x, (a, x)),
    lambda res, ct: (jnp.outer(ct, res[1]), res[0] @ ct),
)


@jax.custom_vjp
def matvec_correct(a, x):
    return a @ x


matvec_correct.defvjp(
    lambda a, x: (a @ x, (a, x)),
    lambda res, ct: (jnp.outer(ct, res[1]), res[0].T @ ct),
)


# -- a forward rule and a transpose rule that disagree: only the dot-product test sees it ------


def solve_with_transpose(a, b, *, wrong: bool):
    """x = a^{-1} b through lax.custom_linear_solve with a hand-written transpose solve."""

    def matvec(x):
        return a @ x

    def solve(_, rhs):
        return jnp.linalg.solve(a, rhs)

    def transpose_solve(_, rhs):
        # correct: solve with a.T; the planted bug solves with a again
        return jnp.linalg.solve(a if wrong else a.T, rhs)

    return lax.custom_linear_solve(matvec, b, solve, transpose_solve)


# -- a missing conjugate in a complex rule: d/dz <w, z> = conj(w) ------------------------------


@jax.custom_vjp
def vdot_missing_conjugate(w, z):
    return jnp.vdot(w, z)


vdot_missing_conjugate.defvjp(
    lambda w, z: (jnp.vdot(w, z), (w, z)),
    # correct: conj(ct z) for w and conj(w) ct for z; the bug drops the conjugate of w
    lambda res, ct: (jnp.conj(ct * res[1]), res[0] * ct),
)


@jax.custom_vjp
def vdot_correct(w, z):
    return jnp.vdot(w, z)


vdot_correct.defvjp(
    lambda w, z: (jnp.vdot(w, z), (w, z)),
    lambda res, ct: (jnp.conj(ct * res[1]), jnp.conj(res[0]) * ct),
)


@jax.custom_jvp
def abs2_missing_conjugate(z):
    return jnp.real(z * jnp.conj(z))


@abs2_missing_conjugate.defjvp
def _abs2_missing_conjugate_jvp(primals, tangents):
    (z,), (t,) = primals, tangents
    # correct: 2 Re(conj(z) t)
    return abs2_missing_conjugate(z), 2 * jnp.real(z * t)


# -- a wrong second derivative: the first derivative is right, its derivative is not -----------


@jax.custom_jvp
def cube_wrong_second(x):
    return x**3


@cube_wrong_second.defjvp
def _cube_wrong_second_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    # d/dx x^3 = 3 x^2, but stop_gradient makes its derivative 0 instead of 6 x
    return cube_wrong_second(x), 3 * lax.stop_gradient(x) ** 2 * t


@jax.custom_jvp
def cube_correct(x):
    return x**3


@cube_correct.defjvp
def _cube_correct_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return cube_correct(x), 3 * x**2 * t


# -- a batching bug: a function that mixes the elements of a batch ----------------------------


@jax.custom_batching.custom_vmap
def scale_by_mean_batch_bug(x):
    return 2.0 * x


@scale_by_mean_batch_bug.def_vmap
def _scale_rule(axis_size, in_batched, x):
    # wrong: should be 2 * x; mixes the batch elements
    return 2.0 * x + jnp.mean(x, axis=0, keepdims=True) * 0.1, in_batched[0]
