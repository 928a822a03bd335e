"""Variational autoregressive networks: exactness of the model, REINFORCE, and F_q against exact F.

References: exact enumeration (ising_exact) for F; the VAN paper is Wu, Wang, Zhang,
PRL 122, 080602 (2019).
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.physics as dp

BETA_C = np.log(1 + np.sqrt(2)) / 2


def all_states(n):
    return jnp.array(list(itertools.product([1.0, -1.0], repeat=n)))


@pytest.mark.parametrize("z2", [False, True])
def test_model_is_normalized_autoregressive_and_sampled_exactly(z2):
    n = 4
    model = dp.VAN(n, key=jax.random.key(0), hidden=(8,), z2=z2)
    # perturb the weights so the test is not at a trivial point
    model = jax.tree.map(
        lambda w: w + 0.5 * jax.random.normal(jax.random.key(1), w.shape) if w.ndim else w, model
    )
    states = all_states(n)
    q = jnp.exp(jax.vmap(model.log_prob)(states))
    np.testing.assert_allclose(float(jnp.sum(q)), 1.0, rtol=1e-12)
    if z2:
        np.testing.assert_allclose(q, q[::-1], rtol=1e-12)  # states[::-1] = -states
    # logit i depends only on spins j < i: strictly lower-triangular Jacobian
    jac = jax.jacfwd(model.logits)(states[5])
    np.testing.assert_array_equal(np.triu(np.asarray(jac)), 0.0)
    # samples follow q: chi-square with 15 degrees of freedom, far below its 1e-6 tail (~51)
    samples = model.sample(jax.random.key(2), 2**15)
    index = jnp.sum((samples < 0) * 2 ** jnp.arange(n - 1, -1, -1)[None, :], axis=1)
    counts = np.bincount(np.asarray(index), minlength=2**n)
    expected = 2**15 * np.asarray(q)
    assert np.sum((counts - expected) ** 2 / expected) < 51


def test_reinforce_gradient_is_the_gradient_of_f_q():
    n, beta = 3, 0.7
    couplings = dp.sk_couplings(n, key=jax.random.key(3))
    model = dp.VAN(n, key=jax.random.key(4), hidden=(6,), z2=False)
    model = jax.tree.map(
        lambda w: w + 0.5 * jax.random.normal(jax.random.key(5), w.shape) if w.ndim else w, model
    )
    states = all_states(n)
    energies = dp.ising_energy(states, couplings)

    def beta_f_q(m):  # exact: sum_s q(s) (beta E(s) + ln q(s))
        log_q = jax.vmap(m.log_prob)(states)
        return jnp.sum(jnp.exp(log_q) * (beta * energies + log_q))

    exact = jax.grad(beta_f_q)(model)
    samples = model.sample(jax.random.key(6), 2**17)
    estimate = jax.grad(dp.reinforce_loss)(
        model, samples, dp.ising_energy(samples, couplings), beta
    )
    a = jnp.concatenate([x.ravel() for x in jax.tree.leaves(exact)])
    b = jnp.concatenate([x.ravel() for x in jax.tree.leaves(estimate)])
    # Monte Carlo error of 2^17 samples: a few per mille of the gradient's norm
    assert float(jnp.linalg.norm(a - b) / jnp.linalg.norm(a)) < 0.03


@pytest.mark.parametrize("system", ["ising4x4", "sk16"])
def test_variational_free_energy_close_to_exact(system):
    if system == "ising4x4":
        couplings, beta = dp.square_lattice_couplings(4), BETA_C
    else:  # a seeded SK instance at beta = 1 (the SK critical temperature)
        couplings, beta = dp.sk_couplings(16, key=jax.random.key(0)), 1.0
    exact_f = -float(dp.ising_exact(couplings, beta)) / beta
    result = dp.van_train(
        lambda s: dp.ising_energy(s, couplings),
        16,
        beta,
        key=jax.random.key(1),
        model=dp.VAN(16, key=jax.random.key(5), hidden=(32, 32)),
        steps=600,
        batch=512,
        learning_rate=3e-3,
        anneal=0.99,
        eval_samples=2**14,
    )
    est = result.estimate
    f_q, err = float(est.variational), float(est.variational_error)
    assert abs(f_q - exact_f) / abs(exact_f) < 1e-3
    assert f_q > exact_f - 4 * err  # the variational bound, within the statistical error
    # the importance-sampled estimate converges to F itself
    assert abs(float(est.importance) - exact_f) / abs(exact_f) < 1e-4
    assert result.free_energy.shape == (600,)
    np.testing.assert_allclose(result.beta_schedule[-1], beta * (1 - 0.99**600), rtol=1e-12)


def test_training_in_chunks_with_checkpoints_is_identical(tmp_path):
    couplings = dp.square_lattice_couplings(2, 3)
    energy = lambda s: dp.ising_energy(s, couplings)
    model = dp.VAN(6, key=jax.random.key(1), hidden=(8,))
    run = dict(key=jax.random.key(0), model=model, steps=8, batch=64, eval_samples=256)
    whole = dp.van_train(energy, 6, 0.5, **run)
    chunked = dp.van_train(energy, 6, 0.5, chunk_steps=4, checkpoint_dir=tmp_path, **run)
    resumed = dp.van_train(energy, 6, 0.5, chunk_steps=4, checkpoint_dir=tmp_path, **run)
    for other in (chunked, resumed):
        np.testing.assert_array_equal(other.free_energy, whole.free_energy)
        for a, b in zip(jax.tree.leaves(other.model), jax.tree.leaves(whole.model), strict=True):
            np.testing.assert_array_equal(a, b)
