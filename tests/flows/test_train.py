"""Training: variational free energy of a Gaussian target, chunked = unchunked, resume; the
exact log-density of the discrete map used for evaluation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from diffsci.flows import (
    MongeAmpereFlow,
    OneLayerPotential,
    flow_free_energy,
    train_likelihood,
    train_variational,
)
from diffsci.ode import ReversibleRK4

S = 1.5  # target N(0, S^2 I): F = -ln Z = -(D/2) ln(2 pi S^2)


def energy(x):
    return jnp.sum(x**2) / (2 * S**2)


def test_variational_training_recovers_gaussian_free_energy(tmp_path):
    dim = 2
    flow = MongeAmpereFlow(dim, key=jr.PRNGKey(0), width=8, steps=8)
    exact = -0.5 * dim * np.log(2 * np.pi * S**2)
    kwargs = dict(key=jr.PRNGKey(1), steps=150, batch=128, learning_rate=3e-2, eval_samples=2048)
    res = train_variational(flow, energy, 1.0, chunk_steps=50, checkpoint_dir=tmp_path, **kwargs)
    est = res.estimate
    # F_q >= F: KL(q||p) = F_q - F is small after training; the importance estimate is
    # unbiased up to O(1/m) and its error bar, and the ESS is close to m
    assert float(res.loss[0]) - exact > 0.1  # it did have something to learn
    assert -3 * float(est.variational_error) < float(est.variational) - exact < 0.01
    assert abs(float(est.importance) - exact) < 4 * float(est.importance_error) + 1e-3
    assert float(est.ess) > 0.9 * 2048
    # calling again with the same folder resumes after the last chunk: nothing is retrained
    again = train_variational(flow, energy, 1.0, chunk_steps=50, checkpoint_dir=tmp_path, **kwargs)
    np.testing.assert_array_equal(again.loss, res.loss)
    for a, b in zip(
        jax.tree_util.tree_leaves(eqx.filter(again.flow, eqx.is_array)),
        jax.tree_util.tree_leaves(eqx.filter(res.flow, eqx.is_array)),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    # and chunking does not change the result (step t draws from fold_in(key, t))
    whole = train_variational(flow, energy, 1.0, **kwargs)
    np.testing.assert_allclose(whole.loss, res.loss, rtol=1e-9)


def test_likelihood_training_reduces_nll():
    dim = 2
    data = jnp.array([[1.0, -0.5]]) + 0.7 * jr.normal(jr.PRNGKey(0), (256, dim))
    flow = MongeAmpereFlow(dim, key=jr.PRNGKey(1), width=8, steps=6)
    res = train_likelihood(flow, data, key=jr.PRNGKey(2), steps=60, batch=64, learning_rate=5e-2)
    nll_before = -float(jnp.mean(eqx.filter_jit(flow.log_prob)(data)))
    nll_after = -float(jnp.mean(eqx.filter_jit(res.flow.log_prob)(data)))
    # the data's own Gaussian has NLL ~ 2 * (0.5 ln(2 pi 0.49) + 0.5) = 2.12
    assert nll_after < nll_before - 0.3, (nll_before, nll_after)


def test_likelihood_transform_is_the_change_of_variables():
    # An affine transform x = (v - m) / s with its log-Jacobian -sum ln s: training on v with
    # the transform is training on the transformed data, with every loss shifted by sum ln s
    # (same minibatches, same steps). A noisy transform sees fresh noise at every step.
    dim = 2
    v = jnp.array([[3.0, -1.0]]) + jnp.array([[2.0, 0.5]]) * jr.normal(jr.PRNGKey(0), (128, dim))
    m, s = jnp.array([3.0, -1.0]), jnp.array([2.0, 0.5])

    def standardize(key, batch):
        del key
        return (batch - m[None, :]) / s[None, :], jnp.full(batch.shape[:1], -jnp.sum(jnp.log(s)))

    flow = MongeAmpereFlow(dim, key=jr.PRNGKey(1), width=8, steps=4)
    kwargs = dict(key=jr.PRNGKey(2), steps=20, batch=32, learning_rate=3e-2)
    with_transform = train_likelihood(flow, v, transform=standardize, **kwargs)
    plain = train_likelihood(flow, (v - m[None, :]) / s[None, :], **kwargs)
    np.testing.assert_allclose(with_transform.loss, plain.loss + jnp.sum(jnp.log(s)), rtol=1e-12)

    def dequantize(key, batch):
        noise = jr.uniform(key, batch.shape, batch.dtype)
        return batch + noise - 0.5, jnp.zeros(batch.shape[:1], batch.dtype)

    ints = jnp.round((v - m[None, :]) / s[None, :])
    res = train_likelihood(flow, ints, transform=dequantize, **kwargs)
    seen = res.loss
    assert bool(jnp.all(jnp.isfinite(seen)))
    # fresh noise per step: the loss differs from the same run on noise-free integers
    no_noise = train_likelihood(flow, ints, **kwargs)
    assert float(jnp.max(jnp.abs(seen - no_noise.loss))) > 1e-3

    def bad(key, batch):
        return batch, jnp.zeros(())

    with pytest.raises(ValueError, match=r"log_det of shape \(2,\), got .* and \(\)"):
        train_likelihood(flow, v, transform=bad, **kwargs)


def _strong_one_layer(dim, width, seed):
    k0, k1, k2 = jr.split(jr.PRNGKey(seed), 3)
    pot = OneLayerPotential(dim, width, key=k0)
    return eqx.tree_at(
        lambda p: (p.a, p.q), pot, (jr.normal(k1, (width,)), 0.3 * jr.normal(k2, (dim,)))
    )


def test_exact_log_prob_is_the_density_of_the_discrete_linear_map():
    # phi = q.x^2/2: each reversible RK4 step acts on (y, z) of every coordinate linearly, with
    # RK4's stability polynomial R; the map after n steps is x = f * z with f from the 2x2
    # recursion of the solver's definition (McCallum & Foster's scheme, see ReversibleRK4)
    dim, n, lam = 3, 4, 0.999
    q = np.array([0.8, -0.5, 0.3])
    pot = eqx.tree_at(
        lambda p: (p.a, p.q),
        OneLayerPotential(dim, 2, key=jr.PRNGKey(0)),
        (jnp.zeros(2), jnp.asarray(q)),
    )
    flow = MongeAmpereFlow(dim, pot, steps=n, solver=ReversibleRK4(coupling=lam))

    def rk4(x):
        return 1 + x + x**2 / 2 + x**3 / 6 + x**4 / 24

    h = 1.0 / n
    y, z = np.ones(dim), np.ones(dim)
    for _ in range(n):
        y = lam * y + (rk4(h * q) - lam) * z
        z = z + (1 - rk4(-h * q)) * y
    factor = y
    key = jr.PRNGKey(3)
    x, log_q = flow.sample_and_exact_log_prob(key, 5)
    base = np.asarray(x) / factor
    expected = -0.5 * np.sum(base**2, 1) - 1.5 * np.log(2 * np.pi) - np.sum(np.log(factor))
    np.testing.assert_allclose(log_q, expected, rtol=1e-12)
    # the same samples as sample_and_log_prob, whose ln q integrates -tr(Hessian) = -sum(q):
    # off by the quadrature error sum(q) - sum(ln f) = O(h^4), small but not zero
    x2, log_q2 = flow.sample_and_log_prob(key, 5)
    np.testing.assert_allclose(x2, x, rtol=1e-13)
    gap = np.sum(np.log(factor)) - np.sum(q)
    assert abs(gap) > 1e-7
    np.testing.assert_allclose(log_q2 - log_q, gap, rtol=1e-8)


def test_exact_log_prob_matches_finite_difference_jacobian():
    # a strongly nonlinear potential and a coarse grid (3 steps): the integrated ln q is visibly
    # off, the exact one equals ln N(z) - ln|det| of a float64 central-difference Jacobian of
    # the map z -> x (`transform`, checked to be the map the sampler applied)
    dim = 3
    flow = MongeAmpereFlow(dim, _strong_one_layer(dim, 6, 1), steps=3, solver=ReversibleRK4())
    key = jr.PRNGKey(4)
    x, log_q = flow.sample_and_exact_log_prob(key, 4)
    z = jr.normal(jr.split(key)[0], (4, dim))
    transform = eqx.filter_jit(flow.transform)
    np.testing.assert_allclose(transform(z), x, rtol=1e-13)
    eps = 1e-6
    for zi, lqi in zip(np.asarray(z), np.asarray(log_q), strict=True):
        plus = np.asarray(transform(zi + eps * np.eye(dim)))  # row k: z + eps e_k
        minus = np.asarray(transform(zi - eps * np.eye(dim)))
        jac = ((plus - minus) / (2 * eps)).T
        sign, log_det = np.linalg.slogdet(jac)
        assert sign > 0
        ref = -0.5 * zi @ zi - 0.5 * dim * np.log(2 * np.pi) - log_det
        np.testing.assert_allclose(lqi, ref, rtol=0, atol=1e-7)
    _, integrated = flow.sample_and_log_prob(key, 4)
    assert float(jnp.max(jnp.abs(integrated - log_q))) > 1e-5


def test_flow_free_energy_exact_log_det_bound():
    # a Gaussian target N(0, S^2 I) and the untrained flow: F_q >= F and the importance
    # estimate within its error bar, with the exact log-determinant
    dim = 2
    flow = MongeAmpereFlow(dim, _strong_one_layer(dim, 4, 2), steps=4, solver=ReversibleRK4())
    exact = -0.5 * dim * np.log(2 * np.pi * S**2)
    est = flow_free_energy(flow, energy, 1.0, key=jr.PRNGKey(5), samples=4096, exact_log_det=True)
    assert float(est.variational) - exact > 5 * float(est.variational_error)
    assert abs(float(est.importance) - exact) < 4 * float(est.importance_error)
