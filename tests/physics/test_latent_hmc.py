"""Latent-space HMC (NeuralRG, Li and Wang, PRL 121, 260601 (2018)): exactness and efficiency.

Exactness: with a strongly deformed *untrained* flow, x = g(z) reproduces the closed-form mean
and second moments of a correlated Gaussian within the binning error. Efficiency: with a flow
trained on a narrow correlated Gaussian, the integrated autocorrelation time of the coordinate
along the broad axis is several times shorter than in physical-space HMC at the same step size
and number of leapfrog steps. For physical HMC on a Gaussian with acceptance ~1 the broad
coordinate is an AR(1) process: leapfrog rotates (x, p / omega) by theta per step with
cos(theta) = 1 - (eps omega)^2 / 2 (omega = 1/sigma), so rho = cos(L theta) per trajectory and
tau_int = (1 + rho) / (2 (1 - rho)).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import diffsci.flows as df
import diffsci.physics as dp


def _correlated_gaussian(sigmas, angle, mean):
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag(np.square(sigmas)) @ rot.T
    prec = jnp.asarray(np.linalg.inv(cov))
    mu = jnp.asarray(mean, float)

    def energy(x):
        d = x - mu
        return 0.5 * d @ (prec @ d)

    return energy, np.asarray(mean, float), cov, rot


def _moments(x):
    """Observables whose exact means are the mean and the second moments."""
    return jnp.stack([x[0], x[1], x[0] ** 2, x[0] * x[1], x[1] ** 2])


def test_latent_chain_is_exact_with_an_untrained_flow():
    energy, mu, cov, _ = _correlated_gaussian([1.2, 0.5], 0.6, [0.5, -0.3])
    second = cov + np.outer(mu, mu)
    exact = np.array([mu[0], mu[1], second[0, 0], second[0, 1], second[1, 1]])
    pot = df.OneLayerPotential(2, 8, key=jr.key(0))
    pot = eqx.tree_at(lambda p: p.a, pot, 100.0 * pot.a)  # far from the identity map
    flow = df.MongeAmpereFlow(2, pot, steps=4)
    res = dp.latent_hmc(
        energy,
        flow,
        jr.normal(jr.key(1), (16, 2)),
        key=jr.key(2),
        steps=500,
        step_size=0.4,
        num_steps=4,
        observable=_moments,
    )
    assert float(jnp.mean(res.acceptance)) > 0.8
    obs = res.observables[100:]
    for i in range(5):
        b = dp.binning_error(obs[:, :, i])
        assert abs(float(b.mean) - exact[i]) < 4 * float(b.error), (i, b.mean, exact[i], b.error)
    # the final energies are the latent energies of the final latent states
    sampler = dp.LatentHMC(energy, flow, 1.0, 0.4, 4)
    np.testing.assert_allclose(res.energies[-1], jax.vmap(sampler.energy)(res.state.x), rtol=1e-12)
    np.testing.assert_allclose(
        res.observables[-1, :, :2], sampler.to_physical(res.state.x), rtol=1e-12, atol=1e-12
    )


def _ar1_tau(eps, num_steps, sigma):
    theta = math.acos(1 - 0.5 * (eps / sigma) ** 2)
    rho = math.cos(num_steps * theta)
    return (1 + rho) / (2 * (1 - rho))


def test_latent_hmc_decorrelates_faster_with_a_trained_flow():
    sigmas = [2.0, 0.2]
    energy, _, _, rot = _correlated_gaussian(sigmas, math.pi / 4, [0.0, 0.0])
    flow = df.MongeAmpereFlow(2, key=jr.key(0), width=16, steps=8)
    flow = df.train_variational(
        flow, energy, key=jr.key(1), steps=200, batch=128, learning_rate=3e-2, eval_samples=0
    ).flow
    eps, num_steps = 0.15, 10

    def broad(x):
        return x @ jnp.asarray(rot[:, 0])

    z0 = jr.normal(jr.key(2), (16, 2))
    latent = dp.latent_hmc(
        energy,
        flow,
        z0,
        key=jr.key(3),
        steps=400,
        step_size=eps,
        num_steps=num_steps,
        observable=broad,
    )
    x0 = (z0 * jnp.asarray(sigmas)[None, :]) @ jnp.asarray(rot).T  # exact samples of the target
    physical = dp.sample(
        dp.HMC(energy, 1.0, eps, num_steps), x0, key=jr.key(4), steps=400, observable=broad
    )
    tau_latent = dp.autocorrelation_time(latent.observables[100:])
    tau_phys = dp.autocorrelation_time(physical.observables[100:])
    # physical HMC is the AR(1) process of the module docstring (tau_int = 3.23; acceptance
    # ~ 0.97, so up to a few per cent more)
    assert abs(float(tau_phys.tau) - _ar1_tau(eps, num_steps, sigmas[0])) < 4 * float(
        tau_phys.error
    ) + 0.1 * _ar1_tau(eps, num_steps, sigmas[0])
    # a perfect flow gives tau_latent = 0.58 (the same AR(1) formula with sigma = 1), so a
    # ratio of 5.6; measured with this training (KL(q||p) ~ 0.04): 3.4 to 5.5 over 6 seeds
    assert float(tau_phys.tau) > 2.5 * float(tau_latent.tau)
    # and the latent chain samples the target: <x_broad^2> = sigma_broad^2 = 4
    b = dp.binning_error(latent.observables[100:] ** 2)
    assert abs(float(b.mean) - sigmas[0] ** 2) < 4 * float(b.error)


def test_latent_and_physical_points():
    """`to_latent` is the flow's backward solve: it inverts `to_physical` up to the integrator's
    error, which shrinks at least like h^2 (by 4 or more when the steps double; the round trip
    cancels the leading term, and 16 is observed)."""
    energy, *_ = _correlated_gaussian([1.0, 1.0], 0.0, [0.0, 0.0])
    pot = df.OneLayerPotential(2, 8, key=jr.key(0))
    pot = eqx.tree_at(lambda p: p.a, pot, 60.0 * pot.a)
    z = jr.normal(jr.key(1), (5, 2))
    errors = []
    for steps in (8, 16):
        sampler = dp.LatentHMC(energy, df.MongeAmpereFlow(2, pot, steps=steps), 1.0, 0.1, 2)
        x = sampler.to_physical(z)
        assert x.shape == z.shape and float(jnp.max(jnp.abs(x - z))) > 0.1
        errors.append(float(jnp.max(jnp.abs(sampler.to_latent(x) - z))))
    assert errors[0] < 1e-3
    assert errors[0] / errors[1] > 3.5


def test_bad_input():
    energy, *_ = _correlated_gaussian([1.0, 1.0], 0.0, [0.0, 0.0])
    flow = df.MongeAmpereFlow(2, key=jr.key(0), steps=2)
    z0_shape = r"expected `z0` to have shape \(chains, 2\).*got shape \(4, 3\)"
    with pytest.raises(ValueError, match=z0_shape):
        dp.latent_hmc(
            energy, flow, jnp.zeros((4, 3)), key=jr.key(0), steps=2, step_size=0.1, num_steps=2
        )
    with pytest.raises(ValueError, match="expected `num_steps` to be an integer >= 1"):
        dp.LatentHMC(energy, flow, 1.0, 0.1, 0)
    with pytest.raises(TypeError, match="expected `flow` to be a diffsci.flows.MongeAmpereFlow"):
        dp.LatentHMC(energy, flow.potential, 1.0, 0.1, 2)
