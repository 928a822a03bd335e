"""Training: variational free energy of a Gaussian target, chunked = unchunked, resume."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from diffsci.flows import MongeAmpereFlow, train_likelihood, train_variational

S = 1.5  # target N(0, S^2 I): F = -ln Z = -(D/2) ln(2 pi S^2)


def energy(x):
    return jnp.sum(x**2) / (2 * S**2)


def test_variational_training_recovers_gaussian_free_energy(tmp_path):
    dim = 2
    flow = MongeAmpereFlow(dim, key=jr.PRNGKey(0), width=8, steps=8)
    exact = -0.5 * dim * np.log(2 * np.pi * S**2)
    kwargs = dict(key=jr.PRNGKey(1), steps=150, batch=128, learning_rate=3e-2,
                  eval_samples=2048)
    res = train_variational(flow, energy, 1.0, chunk_steps=50, checkpoint_dir=tmp_path,
                            **kwargs)
    est = res.estimate
    # F_q >= F: KL(q||p) = F_q - F is small after training; the importance estimate is
    # unbiased up to O(1/m) and its error bar, and the ESS is close to m
    assert float(res.loss[0]) - exact > 0.1  # it did have something to learn
    assert -3 * float(est.variational_error) < float(est.variational) - exact < 0.01
    assert abs(float(est.importance) - exact) < 4 * float(est.importance_error) + 1e-3
    assert float(est.ess) > 0.9 * 2048
    # calling again with the same folder resumes after the last chunk: nothing is retrained
    again = train_variational(flow, energy, 1.0, chunk_steps=50, checkpoint_dir=tmp_path,
                              **kwargs)
    np.testing.assert_array_equal(again.loss, res.loss)
    for a, b in zip(jax.tree_util.tree_leaves(eqx.filter(again.flow, eqx.is_array)),
                    jax.tree_util.tree_leaves(eqx.filter(res.flow, eqx.is_array)), strict=True):
        np.testing.assert_array_equal(a, b)
    # and chunking does not change the result (step t draws from fold_in(key, t))
    whole = train_variational(flow, energy, 1.0, **kwargs)
    np.testing.assert_allclose(whole.loss, res.loss, rtol=1e-9)


def test_likelihood_training_reduces_nll():
    dim = 2
    data = jnp.array([1.0, -0.5]) + 0.7 * jr.normal(jr.PRNGKey(0), (256, dim))
    flow = MongeAmpereFlow(dim, key=jr.PRNGKey(1), width=8, steps=6)
    res = train_likelihood(flow, data, key=jr.PRNGKey(2), steps=60, batch=64,
                           learning_rate=5e-2)
    nll_before = -float(jnp.mean(eqx.filter_jit(flow.log_prob)(data)))
    nll_after = -float(jnp.mean(eqx.filter_jit(res.flow.log_prob)(data)))
    # the data's own Gaussian has NLL ~ 2 * (0.5 ln(2 pi 0.49) + 0.5) = 2.12
    assert nll_after < nll_before - 0.3, (nll_before, nll_after)
