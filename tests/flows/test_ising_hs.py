"""The Hubbard-Stratonovich relaxation of the Ising model (`diffsci.physics`) and Monge-Ampere
flows trained on it.

The test may import physics (for exact enumeration); the flows library does not. The continuous
density exp(-E(x)) / Z_E is exactly the Gaussian mixture sum_s p_Ising(s) N(x; K s, K), which is
checked pointwise, with ln Z_E = ln Z_Ising - c from exact enumeration. A flow trained on the
relaxation gives the Ising free energy: an upper bound F_q and an importance-sampled estimate,
against exact enumeration.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy.stats import multivariate_normal

import diffsci.flows._potentials as potentials_module
import diffsci.physics as dp
from diffsci.flows import (
    LatticeConvPotential,
    MongeAmpereFlow,
    OneLayerPotential,
    SpinFlipSymmetric,
    flow_free_energy,
    train_variational,
)
from diffsci.ode import ReversibleRK4

BETA_C = dp.ISING_BETA_C


def test_hubbard_stratonovich_density_is_the_exact_mixture():
    length, beta, shift = 2, BETA_C, 1.0
    couplings = np.asarray(dp.square_lattice_couplings(length, 3))
    n = couplings.shape[0]
    energy = dp.ising_hubbard_stratonovich(couplings, beta, shift)
    offset = float(energy.offset)
    ln_z = float(dp.ising_exact(jnp.asarray(couplings), beta))
    # the mixture: K = beta J + alpha I, weights p(s) from enumeration
    kmat = beta * couplings
    kmat = kmat + (shift - np.linalg.eigvalsh(kmat).min()) * np.eye(n)
    spins = np.array([[1 - 2 * ((k >> i) & 1) for i in range(n)] for k in range(2**n)], float)
    log_w = 0.5 * beta * np.einsum("ki,ij,kj->k", spins, couplings, spins) - ln_z
    np.testing.assert_allclose(np.exp(log_w).sum(), 1.0, rtol=1e-12)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(5, n)) * 1.5
    mixture = np.array(
        [
            np.log(
                sum(
                    np.exp(lw) * multivariate_normal(kmat @ s, kmat).pdf(x)
                    for lw, s in zip(log_w, spins, strict=True)
                )
            )
            for x in xs
        ]
    )
    ln_z_e = ln_z - offset
    model = -np.asarray(jax.vmap(energy)(jnp.asarray(xs))) - ln_z_e
    np.testing.assert_allclose(model, mixture, rtol=1e-10)
    assert math.isfinite(offset)


def test_hubbard_stratonovich_free_energy_map_and_bad_input():
    couplings = dp.square_lattice_couplings(3)
    ln_z = float(dp.ising_exact(couplings, 0.3))
    for shift in (0.2, 1.0, 3.0):  # Z_E depends on the shift, the Ising F does not
        hs = dp.ising_hubbard_stratonovich(couplings, 0.3, shift)
        # ln Z_E by the mixture identity: Z_E = Z_Ising e^{-c}
        f_e = -(ln_z - float(hs.offset))
        value, error = hs.ising_free_energy(f_e, 0.1)
        np.testing.assert_allclose(float(value), -ln_z / 0.3, rtol=1e-12)
        np.testing.assert_allclose(float(error), 0.1 / 0.3, rtol=1e-12)
        assert float(jnp.linalg.eigvalsh(hs.kernel)[0]) == pytest.approx(shift, rel=1e-10)
    with pytest.raises(ValueError, match="`couplings` to be a square matrix"):
        dp.ising_hubbard_stratonovich(np.zeros((3, 4)), 0.3)
    with pytest.raises(ValueError, match="`shift` to be a positive number"):
        dp.ising_hubbard_stratonovich(couplings, 0.3, 0.0)
    # a value check (run time, eagerly and under jit), as everywhere for couplings
    with pytest.raises(eqx.EquinoxRuntimeError, match="symmetric"):
        dp.ising_hubbard_stratonovich(np.triu(np.ones((3, 3)), 1), 0.3)


def test_lattice_conv_dense_and_rolled_agree(monkeypatch):
    # small lattices use dense convolution matrices, large ones shifted copies: the same function
    # (with functions of the uniform mode added)
    pot = LatticeConvPotential((3, 4), 2, 3, global_channels=2, key=jr.PRNGKey(0))
    pot = eqx.tree_at(
        lambda p: (p.a, p.q, p.global_a),
        pot,
        (jr.normal(jr.PRNGKey(1), (2,)), jnp.asarray(0.2), jnp.array([1.0, -0.7])),
    )
    x = jr.normal(jr.PRNGKey(2), (12,))
    dense = (pot(x, 0.3), *pot.grad_and_laplacian(x, 0.3))
    monkeypatch.setattr(potentials_module, "_DENSE_MAX_SITES", 0)
    rolled = (pot(x, 0.3), *pot.grad_and_laplacian(x, 0.3))
    for a, b in zip(dense, rolled, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    # and both are the autodiff gradient and Hessian trace
    np.testing.assert_allclose(rolled[1], jax.grad(pot)(x, 0.3), rtol=1e-12)
    np.testing.assert_allclose(rolled[2], jnp.trace(jax.jit(jax.hessian(pot))(x, 0.3)), rtol=1e-12)


def test_flow_free_energy_of_small_ising_against_enumeration():
    # 2x2 torus at beta_c, trained briefly: the bound holds with the exact log-determinant of the
    # sampling map, and the importance-sampled F agrees with exact enumeration within its error
    # bar. (The 1e-3 relative F_q of the 4x4 lattice takes minutes of training: benchmarks/flows.py,
    # docs/flows.md.)
    couplings = dp.square_lattice_couplings(2)
    hs = dp.ising_hubbard_stratonovich(couplings, BETA_C, 0.3)
    exact = -float(dp.ising_exact(couplings, BETA_C)) / BETA_C
    flow = MongeAmpereFlow(
        4,
        SpinFlipSymmetric(OneLayerPotential(4, 16, key=jr.PRNGKey(0))),
        steps=4,
        solver=ReversibleRK4(),
    )
    res = train_variational(
        flow,
        hs,
        1.0,
        key=jr.PRNGKey(1),
        steps=250,
        batch=256,
        learning_rate=3e-2,
        schedule="cosine",
        eval_samples=0,
    )
    est = flow_free_energy(res.flow, hs, 1.0, key=jr.PRNGKey(2), samples=2048, exact_log_det=True)
    f_q, f_q_err = (float(v) for v in hs.ising_free_energy(est.variational, est.variational_error))
    f_is, f_is_err = (float(v) for v in hs.ising_free_energy(est.importance, est.importance_error))
    first = float(hs.ising_free_energy(res.loss[0])[0])
    assert first - exact > 0.2 * abs(exact)  # it had much to learn
    assert -3 * f_q_err < f_q - exact < 2e-2 * abs(exact), (f_q, exact)
    assert abs(f_is - exact) < 4 * f_is_err + 1e-4 * abs(exact), (f_is, f_is_err, exact)
    assert float(est.ess) > 0.5 * est.num_samples
