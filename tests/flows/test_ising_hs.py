"""The Hubbard-Stratonovich relaxation of the Ising model used by `python -m diffsci flow ising`.

The test may import physics (for exact enumeration); the flows library does not. The continuous
density exp(-E(x)) / Z_E is exactly the Gaussian mixture sum_s p_Ising(s) N(x; K s, K), which is
checked pointwise, with ln Z_E = ln Z_Ising - c from exact enumeration.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import multivariate_normal

import diffsci.physics as dp
from diffsci.cli._cmd_flow import BETA_C, hubbard_stratonovich


def test_hubbard_stratonovich_density_is_the_exact_mixture():
    length, beta, shift = 2, BETA_C, 1.0
    couplings = np.asarray(dp.square_lattice_couplings(length, 3))
    n = couplings.shape[0]
    energy, offset = hubbard_stratonovich(couplings, beta, shift)
    ln_z = float(dp.ising_exact(jnp.asarray(couplings), beta))
    # the mixture: K = beta J + alpha I, weights p(s) from enumeration
    kmat = beta * couplings
    kmat = kmat + (shift - np.linalg.eigvalsh(kmat).min()) * np.eye(n)
    spins = np.array([[1 - 2 * ((k >> i) & 1) for i in range(n)] for k in range(2**n)], float)
    log_w = 0.5 * beta * np.einsum("ki,ij,kj->k", spins, couplings, spins) - ln_z
    np.testing.assert_allclose(np.exp(log_w).sum(), 1.0, rtol=1e-12)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(5, n)) * 1.5
    mixture = np.array([
        np.log(sum(np.exp(lw) * multivariate_normal(kmat @ s, kmat).pdf(x)
                   for lw, s in zip(log_w, spins, strict=True)))
        for x in xs
    ])
    ln_z_e = ln_z - offset
    model = -np.asarray(jax.vmap(energy)(jnp.asarray(xs))) - ln_z_e
    np.testing.assert_allclose(model, mixture, rtol=1e-10)
    assert math.isfinite(offset)
