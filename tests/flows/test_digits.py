"""The 8x8 digits density benchmark (benchmarks/flows_digits.py): the bits/dim accounting of the
dequantization and logit maps, the closed-form diagonal Gaussian, the RealNVP baseline's
log-determinant, and a tiny Monge-Ampère training that beats the diagonal Gaussian.

References come from outside the code under test: log2(17) for a density uniform in the
dequantized pixels, scipy's adaptive quadrature of the integer-scale density written out directly,
automatic differentiation of the forward maps, and dense Jacobian determinants.
"""

import importlib.util
import math
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "flows_digits.py"
_SPEC = importlib.util.spec_from_file_location("flows_digits", _PATH)
fd = importlib.util.module_from_spec(_SPEC)
sys.modules["flows_digits"] = fd
_SPEC.loader.exec_module(fd)

L = 17


def _random_images(seed, n):
    return np.random.default_rng(seed).integers(0, L, size=(n, fd.DIM))


@pytest.mark.parametrize("alpha", [0.05, 1e-3])
def test_uniform_density_is_log2_17_bits(alpha):
    # A density uniform in y = (v + u)/17 on [0, 1)^D, written in x directly: the logit's inverse
    # y = (sigmoid(x) - alpha)/(1 - 2 alpha) has dy/dx = sigmoid(x) sigmoid(-x)/(1 - 2 alpha).
    v = _random_images(0, 6)
    u = jr.uniform(jr.key(1), v.shape, jnp.float64)
    x, log_det = fd.dequantize_logit(v, u, alpha)
    np.testing.assert_allclose(jax.nn.sigmoid(x), alpha + (1 - 2 * alpha) * (v + u) / L, rtol=1e-13)
    log_qx = jnp.sum(
        jax.nn.log_sigmoid(x) + jax.nn.log_sigmoid(-x) - math.log(1 - 2 * alpha), axis=-1
    )
    bits = fd.bits_per_dim(log_qx, log_det)
    np.testing.assert_allclose(bits, math.log2(17), rtol=0, atol=1e-12)


def test_log_det_is_the_log_jacobian():
    v = jnp.asarray(_random_images(2, 2), jnp.float64)
    u = jr.uniform(jr.key(3), v.shape, jnp.float64)
    _, log_det = fd.dequantize_logit(v, u)
    for vi, ui, ld in zip(v, u, log_det, strict=True):
        # dx/dy = 17 dx/du, by automatic differentiation of the forward map (diagonal Jacobian)
        jac = jax.jacfwd(lambda w, vi=vi: fd.dequantize_logit(vi, w)[0])(ui)
        np.testing.assert_array_equal(jac - jnp.diag(jnp.diag(jac)), 0.0)
        np.testing.assert_allclose(ld, jnp.sum(jnp.log(L * jnp.diag(jac))), rtol=1e-12)


def _pixel_nll_quad(v, mu, sd, alpha=fd.ALPHA):
    """E_u[-ln q_V(v + u)] for one pixel, by adaptive quadrature of the density written out."""

    def neg_log_qv(u):
        s = alpha + (1 - 2 * alpha) * (v + u) / L
        x = math.log(s / (1 - s))
        dx_dw = (1 - 2 * alpha) / (L * s * (1 - s))
        return -(norm.logpdf(x, mu, sd) + math.log(dx_dw))

    return integrate.quad(neg_log_qv, 0, 1, epsabs=1e-13, epsrel=1e-13)[0]


def _pixel_prob_quad(v, mu, sd, alpha=fd.ALPHA):
    def qv(w):
        s = alpha + (1 - 2 * alpha) * w / L
        x = math.log(s / (1 - s))
        return norm.pdf(x, mu, sd) * (1 - 2 * alpha) / (L * s * (1 - s))

    return integrate.quad(qv, v, v + 1, epsabs=1e-15, epsrel=1e-12)[0]


def test_diagonal_gaussian_expected_bits_against_direct_quadrature():
    train = _random_images(4, 40)
    train[:, :8] = np.minimum(train[:, :8], 2)  # a few near-constant pixels, as in the digits
    gauss = fd.DiagonalGaussian.fit(train)
    test = _random_images(5, 2)
    exact = fd.gaussian_expected_bits(gauss, test)
    mu, sd = np.asarray(gauss.mean), np.asarray(gauss.std)
    direct = [
        sum(_pixel_nll_quad(int(img[i]), mu[i], sd[i]) for i in range(fd.DIM))
        / (fd.DIM * math.log(2))
        for img in test
    ]
    np.testing.assert_allclose(exact, direct, rtol=1e-11)

    # The Monte Carlo path of the benchmark (dequantize, log-density, accounting) agrees with
    # the expectation within its noise.
    draws = 2000
    u = jr.uniform(jr.key(6), (draws,) + test.shape, jnp.float64)
    x, log_det = fd.dequantize_logit(test, u)
    mc = fd.bits_per_dim(gauss.log_prob(x), log_det)
    err = np.std(mc, axis=0) / math.sqrt(draws)
    assert np.all(np.abs(np.mean(mc, axis=0) - exact) < 5 * err)

    # The exact discrete -log2 P(v)/D: per pixel a difference of normal CDFs, checked against
    # the integral of the integer-scale density over [v, v + 1]; below the bound (Jensen).
    discrete = fd.gaussian_discrete_bits(gauss, test)
    direct_p = [
        -sum(math.log(_pixel_prob_quad(int(img[i]), mu[i], sd[i])) for i in range(fd.DIM))
        / (fd.DIM * math.log(2))
        for img in test
    ]
    np.testing.assert_allclose(discrete, direct_p, rtol=1e-9)
    assert np.all(discrete < exact)

    # The importance-weighted estimate of the benchmark (same draws) is below the averaged one
    # (Jensen, for every sample) and, with 2000 draws, closes most of the gap to -log2 P(v)/D.
    gauss_flow, v = fd._GaussianAsFlow(), jnp.asarray(test)
    averaged = fd.per_image_bits(gauss_flow, gauss, v, jr.key(19), draws)
    iw = fd.per_image_bits(gauss_flow, gauss, v, jr.key(19), draws, True)
    assert np.all(iw < averaged)
    assert np.all(np.abs(iw - discrete) < 0.2 * (exact - discrete))


def test_diagonal_gaussian_fit_is_the_maximum_likelihood():
    train = _random_images(7, 30)
    gauss = fd.DiagonalGaussian.fit(train)

    def mean_bits(mean, std):
        return np.mean(fd.gaussian_expected_bits(fd.DiagonalGaussian(mean, std), train))

    best = mean_bits(gauss.mean, gauss.std)
    rng = np.random.default_rng(8)
    for _ in range(4):
        d_mean, d_log_std = 1e-3 * rng.standard_normal((2, fd.DIM))
        # stationary: the change is second order in the step
        up = mean_bits(gauss.mean + d_mean, gauss.std * np.exp(d_log_std)) - best
        down = mean_bits(gauss.mean - d_mean, gauss.std * np.exp(-d_log_std)) - best
        assert up > 0 and down > 0
        assert abs(up - down) < 1e-3 * (up + down)


def test_realnvp_log_prob_and_inverse():
    model = fd.RealNVP(3, 8, 1, key=jr.key(9), dtype=jnp.float64)
    # non-zero output layers, so that the couplings are not the identity
    leaves, treedef = jax.tree_util.tree_flatten(model)
    keys = jr.split(jr.key(10), len(leaves))
    leaves = [
        leaf + 0.1 * jr.normal(k, leaf.shape, leaf.dtype) if isinstance(leaf, jax.Array) else leaf
        for leaf, k in zip(leaves, keys, strict=True)
    ]
    model = jax.tree_util.tree_unflatten(treedef, leaves)
    z = jr.normal(jr.key(11), (3, fd.DIM), jnp.float64)

    @jax.jit
    @jax.vmap
    def forward(zi):
        for layer in model.layers:
            zi, _ = layer.forward(zi)
        return zi

    jac = jax.jit(jax.vmap(jax.jacfwd(lambda zi: forward(zi[None])[0])))(z)
    _, logabsdet = jnp.linalg.slogdet(jac)
    expected = -0.5 * jnp.sum(forward(z) ** 2, axis=-1) - 0.5 * fd.DIM * math.log(2 * math.pi)
    np.testing.assert_allclose(eqx.filter_jit(model.log_prob)(z), expected + logabsdet, rtol=1e-12)
    samples = eqx.filter_jit(model.sample)(jr.key(12), 4)
    np.testing.assert_allclose(
        forward(samples), jr.normal(jr.key(12), (4, fd.DIM), jnp.float64), atol=1e-12
    )


def test_tiny_monge_ampere_training_beats_the_diagonal_gaussian():
    train, test = fd.load_digits_split(0)
    assert train.shape == (1437, 64) and test.shape == (360, 64)
    gauss = fd.DiagonalGaussian.fit(train)
    gauss_bits = float(np.mean(fd.gaussian_expected_bits(gauss, test)))
    model = fd.MongeAmpereModel.create(32, 4, key=jr.key(13), dtype=jnp.float64)
    # the untrained flow starts close to the identity: close to the Gaussian
    before, se = fd.evaluate(model, gauss, jnp.asarray(test), jr.key(14), 2)
    assert abs(float(before) - gauss_bits) < 0.1
    model, out, _ = fd.train(
        model, gauss, train, test, key=jr.key(15), steps=120, batch=64, learning_rate=1e-2, chunks=1
    )
    after, se = fd.evaluate(model, gauss, jnp.asarray(test), jr.key(14), 2)
    assert float(after) < gauss_bits - 0.2, (float(after), gauss_bits)


def test_full_covariance_gaussian_expected_bits():
    train = _random_images(16, 50)
    mean, cov = fd.full_gaussian_fit(train)
    gauss = fd.DiagonalGaussian.fit(train)
    np.testing.assert_allclose(mean, gauss.mean, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), gauss.std, rtol=1e-12)
    test = _random_images(17, 2)
    # with the correlations removed it is the diagonal Gaussian (checked by quadrature above)
    np.testing.assert_allclose(
        fd.full_gaussian_expected_bits(mean, np.diag(np.diag(cov)), test),
        fd.gaussian_expected_bits(gauss, test),
        rtol=1e-12,
    )
    # the expectation over the dequantization noise against Monte Carlo
    exact = fd.full_gaussian_expected_bits(mean, cov, test)
    draws = 2000
    u = np.random.default_rng(18).random((draws,) + test.shape)
    x, log_det = fd.dequantize_logit(test, jnp.asarray(u))
    # jax.scipy.stats.multivariate_normal.logpdf broadcasts a batch of x against one (n,) mean
    # and one (n, n) cov by rank promotion inside JAX (x - mean, and the jnp.vectorize of its
    # triangular solve); avoiding it would take a copy of cov per sample: allowed for this call
    with jax.numpy_rank_promotion("allow"):
        log_qx = jax.scipy.stats.multivariate_normal.logpdf(x, mean, cov)
    mc = fd.bits_per_dim(log_qx, log_det)
    err = np.std(mc, axis=0) / math.sqrt(draws)
    assert np.all(np.abs(np.mean(mc, axis=0) - exact) < 5 * err)


def test_bad_alpha_is_an_error():
    with pytest.raises(ValueError, match="alpha must lie in"):
        fd.dequantize_logit(np.zeros((1, fd.DIM), np.int64), jnp.zeros((1, fd.DIM)), 0.5)
