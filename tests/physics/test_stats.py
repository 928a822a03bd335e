"""Chain statistics on AR(1) processes, whose autocorrelation is known exactly.

x_t = rho x_{t-1} + sqrt(1 - rho^2) xi_t (stationary, unit variance) has rho(t) = rho^t, so with
the convention tau_int = 1/2 + sum_{t>=1} rho(t) (uncorrelated samples: 1/2),
tau_int = (1 + rho) / (2 (1 - rho)), and the variance of the mean of n steps is exactly
(1/n) [(1 + rho)/(1 - rho) - 2 rho (1 - rho^n) / (n (1 - rho)^2)].
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.physics as dp


def ar1(rho, steps, chains, seed=0):
    key0, key = jax.random.split(jax.random.key(seed))
    x0 = jax.random.normal(key0, (chains,))
    noise = jax.random.normal(key, (steps, chains))

    def step(x, xi):
        x = rho * x + np.sqrt(1 - rho**2) * xi
        return x, x

    return jax.lax.scan(step, x0, noise)[1]


def exact_tau(rho):
    return (1 + rho) / (2 * (1 - rho))


def exact_error_of_mean(rho, n, chains):
    var = ((1 + rho) / (1 - rho) - 2 * rho * (1 - rho**n) / (n * (1 - rho) ** 2)) / n
    return np.sqrt(var / chains)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_autocorrelation_time_of_ar1(rho):
    steps, chains = 20000, 32
    x = ar1(rho, steps, chains, seed=1)
    result = dp.autocorrelation_time(x)
    tau = exact_tau(rho)
    assert bool(result.reliable)
    # the estimator's statistical error (Madras-Sokal) plus the window bias, bounded by 4 sigma
    assert abs(float(result.tau) - tau) < 4 * float(result.error) + 0.01 * tau
    assert float(result.error) < 0.05 * tau
    np.testing.assert_allclose(float(dp.integrated_autocorr_time(x)), float(result.tau), rtol=1e-12)
    ess = float(dp.effective_sample_size(x))
    np.testing.assert_allclose(ess, steps * chains / (2 * float(result.tau)), rtol=1e-12)
    rho_t = dp.autocorrelation(x)
    assert float(rho_t[0]) == pytest.approx(1.0)
    np.testing.assert_allclose(rho_t[1:4], rho ** np.arange(1, 4), atol=0.01)


def test_single_chain_shape():
    x = ar1(0.8, 50000, 1, seed=2)[:, 0]
    result = dp.autocorrelation_time(x)
    assert abs(float(result.tau) - exact_tau(0.8)) < 4 * float(result.error) + 0.05


@pytest.mark.parametrize("rho", [0.0, 0.9])
def test_binning_error_of_ar1(rho):
    steps, chains = 4096, 64
    x = ar1(rho, steps, chains, seed=3)
    result = dp.binning_error(x)
    exact = exact_error_of_mean(rho, steps, chains)
    bins = int(result.num_bins[-1])
    assert bins >= 32
    # relative error of a binned error estimate with K bins is about 1/sqrt(2 (K - 1))
    assert abs(float(result.error) / exact - 1) < 4 / np.sqrt(2 * (bins - 1))
    # the mean is compatible with 0 within 4 exact standard errors
    assert abs(float(result.mean)) < 4 * exact
    # level 0 is the naive error, which underestimates by sqrt(2 tau) for correlated chains
    naive = float(jnp.std(x, ddof=1) / np.sqrt(x.size))
    np.testing.assert_allclose(float(result.errors[0]), naive, rtol=1e-10)
    assert list(np.asarray(result.block_sizes[:3])) == [1, 2, 4]


def test_errors_are_clear():
    with pytest.raises(ValueError, match="steps"):
        dp.integrated_autocorr_time(jnp.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match="too few"):
        dp.binning_error(jnp.arange(10.0))
    short = ar1(0.99, 100, 1)[:, 0]
    assert not bool(dp.autocorrelation_time(short).reliable)
