"""The shared variational free-energy estimator, against direct numpy formulas and an exactly
solvable case."""

import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.utils import variational_free_energy, variational_objective


def test_against_direct_formulas():
    rng = np.random.default_rng(0)
    m, beta = 500, 0.7
    energies = rng.normal(size=m) * 2 + 1
    log_q = rng.normal(size=m) - 3
    est = variational_free_energy(jnp.asarray(energies), jnp.asarray(log_q), beta)
    reduced = beta * energies + log_q
    w = np.exp(-reduced)
    np.testing.assert_allclose(est.variational, reduced.mean() / beta, rtol=1e-13)
    np.testing.assert_allclose(
        est.variational_error, reduced.std(ddof=1) / np.sqrt(m) / beta, rtol=1e-12
    )
    np.testing.assert_allclose(est.importance, -np.log(w.mean()) / beta, rtol=1e-12)
    np.testing.assert_allclose(
        est.importance_error, w.std(ddof=1) / (np.sqrt(m) * w.mean()) / beta, rtol=1e-10
    )
    np.testing.assert_allclose(est.ess, w.sum() ** 2 / (w**2).sum(), rtol=1e-12)
    np.testing.assert_allclose(est.energy, energies.mean(), rtol=1e-13)
    np.testing.assert_allclose(est.entropy, -log_q.mean(), rtol=1e-13)
    assert est.num_samples == m
    np.testing.assert_allclose(
        variational_objective(energies, log_q, beta), est.variational, rtol=1e-13
    )


def test_exact_model_and_large_energies():
    # q = p: beta E + ln q = -ln Z for every sample; no overflow at beta E ~ 1e4
    ln_z = -1.0e4
    energies = np.linspace(1.0e4, 1.1e4, 64)
    log_q = -energies - ln_z
    est = variational_free_energy(energies, log_q, 1.0)
    np.testing.assert_allclose([est.variational, est.importance], [-ln_z, -ln_z], rtol=1e-14)
    np.testing.assert_allclose([est.variational_error, est.importance_error], 0, atol=1e-9)
    np.testing.assert_allclose(est.ess, 64, rtol=1e-9)  # log weights carry 1e4 * eps rounding


def test_bound_holds_for_a_mismatched_gaussian():
    # q = N(0, s^2), p ∝ exp(-x^2/2): F_q - F = KL(q||p) = (s^2 - 1)/2 - ln s, F = -ln sqrt(2 pi)
    rng = np.random.default_rng(1)
    s, m = 1.3, 200_000
    x = s * rng.normal(size=m)
    log_q = -0.5 * (x / s) ** 2 - np.log(s * np.sqrt(2 * np.pi))
    est = variational_free_energy(0.5 * x**2, log_q, 1.0)
    f = -0.5 * np.log(2 * np.pi)
    kl = (s**2 - 1) / 2 - np.log(s)
    assert abs(float(est.variational) - (f + kl)) < 4 * float(est.variational_error)
    assert abs(float(est.importance) - f) < 4 * float(est.importance_error)
    assert 0 < float(est.ess) < m


def test_shape_errors():
    with pytest.raises(ValueError, match="shape"):
        variational_free_energy(np.zeros(3), np.zeros(4), 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        variational_free_energy(np.zeros(1), np.zeros(1), 1.0)
