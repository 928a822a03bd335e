"""The Richardson finite differences behind the checks: accurate, and honest about their error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads as jax_check_grads

from diffsci.testing import check_finite_differences, check_grads
from diffsci.testing._fd import richardson

EPS = np.finfo(np.float64).eps


def test_smooth_function_to_near_machine_precision():
    x = np.array([0.3, 1.0, 2.5])
    fd = richardson(lambda t: np.sin(x + t), 1e-3, eps=EPS)
    np.testing.assert_allclose(fd.value, np.cos(x), rtol=0, atol=1e-12)
    assert np.all(np.abs(fd.value - np.cos(x)) <= 4 * fd.error)
    assert np.all(fd.error < 1e-11)


def test_error_estimate_covers_noise():
    rng = np.random.default_rng(0)

    def noisy(t):
        return np.exp(np.array([1.0, 2.0]) * t) + 1e-9 * rng.standard_normal(2)

    fd = richardson(noisy, 1e-3, eps=EPS)
    actual = np.abs(fd.value - np.array([1.0, 2.0]))
    assert np.all(actual <= 4 * fd.error)


def test_undefined_function_gives_no_finite_estimate():
    fd = richardson(lambda t: np.full(2, np.nan), 1e-3, eps=EPS)
    assert not np.any(np.isfinite(fd.value) & np.isfinite(fd.error))


def test_levels_must_allow_extrapolation():
    with pytest.raises(ValueError, match="levels"):
        richardson(np.sin, 1e-3, eps=EPS, levels=1)


@jax.custom_jvp
def _slightly_wrong_exp(x):
    return jnp.exp(x)


@_slightly_wrong_exp.defjvp
def _slightly_wrong_exp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = jnp.exp(x)
    return y, y * (1 + 1e-6) * t  # a derivative off by one part in a million


def test_catches_what_a_fixed_step_check_misses():
    x = jnp.asarray([0.5, -1.0, 2.0])
    jax_check_grads(_slightly_wrong_exp, (x,), order=1)  # JAX's fixed-step check passes it
    with pytest.raises(AssertionError, match="finite differences"):
        check_finite_differences(_slightly_wrong_exp, x)


def test_badly_scaled_functions_need_no_tuning():
    check_grads(lambda x: 1e12 * jnp.sin(x * 1e-6), jnp.asarray([3e5, -2e6]), vmap=False)
    check_grads(lambda x: 1e-9 * jnp.exp(x), jnp.asarray([1e-7, 3e-8]), vmap=False)


def test_keys():
    check_finite_differences(jnp.tanh, jnp.asarray([0.1, 2.0]), key=jax.random.key(3))
    check_finite_differences(jnp.tanh, jnp.asarray([0.1, 2.0]), key=jax.random.PRNGKey(3))
