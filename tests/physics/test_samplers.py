"""Samplers against exact results: enumeration for Ising models, the virial theorem for the gas.

Every statistical check is |mean - exact| < 4 sigma with sigma from binning, with fixed seeds so
the tests are deterministic.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.physics as dp

BETA_C = np.log(1 + np.sqrt(2)) / 2
E_4X4_BETA_C = -1.5656237876  # per site; issue 8 / Kaufman's finite-lattice formula


def assert_within(samples, exact, sigmas=4.0):
    result = dp.binning_error(samples)
    assert result.num_bins[-1] >= 32
    deviation = abs(float(result.mean) - exact)
    assert deviation < sigmas * float(result.error), (float(result.mean), exact, result.error)
    return result


def random_spins(key, chains, n):
    return jax.random.choice(key, jnp.array([-1.0, 1.0]), (chains, n))


@pytest.mark.parametrize("kind", ["metropolis", "wolff"])
def test_ising_4x4_critical_energy(kind):
    couplings = dp.square_lattice_couplings(4)
    sampler = dp.IsingMetropolis(couplings, BETA_C) if kind == "metropolis" else dp.Wolff(4, BETA_C)
    x0 = random_spins(jax.random.key(10), 16, 16)
    result = dp.sample(sampler, x0, key=jax.random.key(11), steps=1200)
    energies = result.energies[200:] / 16
    stats = assert_within(energies, E_4X4_BETA_C)
    assert float(stats.error) < 0.01
    # the recorded energies are the energies of the states
    np.testing.assert_allclose(
        result.energies[-1], dp.ising_energy(result.state.x, couplings), rtol=1e-12
    )
    assert bool(jnp.all(jnp.abs(result.state.x) == 1))


def test_wolff_on_a_lattice_with_a_side_of_two():
    # a side of length 2 doubles the vertical bonds: the cluster must add them twice
    beta = 0.4
    exact = dp.ising_thermodynamics(dp.square_lattice_couplings(2, 3), beta).energy / 6
    x0 = jnp.ones((16, 6))
    result = dp.sample(dp.Wolff(2, beta, width=3), x0, key=jax.random.key(0), steps=800)
    assert_within(result.energies[100:] / 6, float(exact))


def test_metropolis_on_sk_with_field():
    n, beta = 10, 1.5
    couplings = dp.sk_couplings(n, key=jax.random.key(5))
    h = 0.3 * jax.random.normal(jax.random.key(6), (n,))
    exact = dp.ising_thermodynamics(couplings, beta, h).energy
    x0 = random_spins(jax.random.key(7), 16, n)
    sampler = dp.IsingMetropolis(couplings, beta, h)
    result = dp.sample(sampler, x0, key=jax.random.key(8), steps=800)
    assert_within(result.energies[100:], float(exact))


@pytest.mark.parametrize("kind", ["metropolis", "hmc"])
def test_coulomb_virial_theorem(kind):
    # <2 V_trap - V_Coulomb> = N d / beta exactly, for any N: integrate div(x e^{-beta H}) = 0
    n, d, beta = 4, 2, 2.0
    if kind == "metropolis":
        sampler = dp.Metropolis(dp.coulomb_energy, beta, step_size=0.5)
    else:
        sampler = dp.HMC(dp.coulomb_energy, beta, step_size=0.1, num_steps=8)
    x0 = jax.random.normal(jax.random.key(1), (16, n, d))
    result = dp.sample(sampler, x0, key=jax.random.key(2), steps=1200, observable=dp.coulomb_virial)
    virial = result.observables[200:]
    stats = assert_within(virial, n * d / beta)
    assert float(stats.error) < 0.1
    acceptance = float(jnp.mean(result.acceptance))
    assert 0.3 < acceptance < 1.0


def test_hmc_with_yoshida_integrator_and_errors():
    from diffsci.ode import Yoshida4

    n, d, beta = 3, 2, 1.0
    sampler = dp.HMC(dp.coulomb_energy, beta, 0.3, 3, integrator=Yoshida4())
    x0 = jax.random.normal(jax.random.key(4), (16, n, d))
    result = dp.sample(sampler, x0, key=jax.random.key(3), steps=800, observable=dp.coulomb_virial)
    assert_within(result.observables[100:], n * d / beta)
    with pytest.raises(ValueError, match="num_steps"):
        dp.HMC(dp.coulomb_energy, beta, 0.1, 0)


def test_same_key_same_chains_and_independent_chains():
    sampler = dp.Wolff(4, 0.3)
    x0 = jnp.ones((4, 16))
    a = dp.sample(sampler, x0, key=jax.random.key(0), steps=20)
    b = dp.sample(sampler, x0, key=jax.random.key(0), steps=20)
    np.testing.assert_array_equal(a.energies, b.energies)
    # chains start equal but get different keys
    assert not np.array_equal(a.energies[:, 0], a.energies[:, 1])
    with pytest.raises(ValueError, match="steps"):
        dp.sample(sampler, x0, key=jax.random.key(0), steps=0)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("kind", ["wolff", "hmc"])
def test_interrupted_resumed_run_is_bit_identical(kind, tmp_path, monkeypatch):
    import diffsci.physics._samplers as samplers

    if kind == "wolff":
        sampler, x0 = dp.Wolff(4, BETA_C), jnp.ones((8, 16))
    else:
        sampler = dp.HMC(dp.coulomb_energy, 1.0, 0.1, 5)
        x0 = jax.random.normal(jax.random.key(0), (8, 3, 2))
    key = jax.random.key(42)
    whole = dp.sample(sampler, x0, key=key, steps=42, observable=jnp.sum)

    real = samplers._run_steps
    calls = []

    def dies_on_the_fourth_chunk(*args):
        calls.append(args[-2])
        if len(calls) == 4:
            raise Interrupt
        return real(*args)

    monkeypatch.setattr(samplers, "_run_steps", dies_on_the_fourth_chunk)
    run = dict(key=key, steps=42, observable=jnp.sum, chunk_steps=7, checkpoint_dir=tmp_path)
    with pytest.raises(Interrupt):
        dp.sample(sampler, x0, **run)
    monkeypatch.setattr(samplers, "_run_steps", real)
    resumed = dp.sample(sampler, x0, **run)
    np.testing.assert_array_equal(resumed.energies, whole.energies)
    np.testing.assert_array_equal(resumed.observables, whole.observables)
    np.testing.assert_array_equal(resumed.acceptance, whole.acceptance)
    np.testing.assert_array_equal(resumed.state.x, whole.state.x)


def test_a_resume_with_other_sampler_parameters_is_refused(tmp_path):
    # The run records the sampler field by field: another temperature, field, coupling matrix
    # or step size would mix two ensembles, so the resume is refused.
    from diffsci.utils import CheckpointError

    couplings = dp.square_lattice_couplings(3, 3)
    x0 = jnp.ones((2, 9))
    run = dict(key=jax.random.key(1), steps=6, chunk_steps=3, checkpoint_dir=tmp_path)
    dp.sample(dp.IsingMetropolis(couplings, 0.4), x0, **run)
    dp.sample(dp.IsingMetropolis(couplings, 0.4), x0, **run)  # the same run: resumes (done)
    others = [
        dp.IsingMetropolis(couplings, 0.5),
        dp.IsingMetropolis(couplings, 0.4, h=0.1 * jnp.ones(9)),
        dp.IsingMetropolis(couplings * 1.01, 0.4),
    ]
    for sampler in others:
        with pytest.raises(CheckpointError, match="different run"):
            dp.sample(sampler, x0, **run)
    hmc = dict(run, checkpoint_dir=tmp_path / "hmc")
    x = jax.random.normal(jax.random.key(0), (2, 3, 2))
    dp.sample(dp.HMC(dp.coulomb_energy, 1.0, 0.1, 5), x, **hmc)
    with pytest.raises(CheckpointError, match="different run"):
        dp.sample(dp.HMC(dp.coulomb_energy, 1.0, 0.12, 5), x, **hmc)
