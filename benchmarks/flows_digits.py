r"""Density estimation on the 8x8 digits: Monge-Ampère flow vs diagonal Gaussian and RealNVP.

Data: the 1797 handwritten digits that scikit-learn ships (`sklearn.datasets.load_digits`, read
from a file inside the wheel, no download): 64 pixels with integer values $v \in \{0, \dots, 16\}$,
i.e. $L = 17$ levels. A fixed seeded split puts 1437 images in the training set and 360 in the
test set.

**From a continuous density to bits per dimension of the discrete data.** Each pixel is
dequantized uniformly and mapped to the real line by a logit with a small $\alpha$ (RealNVP's
preprocessing, Dinh, Sohl-Dickstein, Bengio, arXiv:1605.08803, Sec. 4.1, where $\alpha = 0.05$):

$$y = \frac{v + u}{L},\quad u \sim U[0, 1)^D,\qquad s = \alpha + (1 - 2\alpha)\,y,\qquad
  x = \ln s - \ln(1 - s).$$

A model density $q_X$ on $x \in \mathbb R^D$ is a density $q_Y$ on $[0, 1)^D$ by the change of
variables, $\ln q_Y(y) = \ln q_X(x) + \sum_i \ln\frac{dx_i}{dy_i}$ with
$\frac{dx_i}{dy_i} = \frac{1 - 2\alpha}{s_i(1 - s_i)}$, and a density
$q_V(v + u) = L^{-D} q_Y(y)$ on the scale of the integers. Its discrete probability
$P(v) = \int_{[0,1)^D} q_V(v + u)\,du$ obeys, by Jensen's inequality,

$$-\log_2 P(v) \le \mathbb E_u\bigl[-\log_2 q_V(v + u)\bigr]
  = \frac{1}{\ln 2}\,\mathbb E_u\Bigl[-\ln q_X(x) - \sum_i\ln\frac{1 - 2\alpha}{s_i(1 - s_i)}
  \Bigr] + D\log_2 L,$$

and the reported figure is this bound divided by $D = 64$ (bits/dim), averaged over the test
images and estimated with `--noise-draws` independent draws of $u$ per image (the standard error
printed is that of the mean over images). The importance-weighted estimate with the same draws,
$-\log_2\bigl(\frac1K\sum_k q_V(v + u_k)\bigr)/D$, is printed alongside ("test IW"): tighter,
it tends to $-\log_2 P(v)/D$ as $K \to \infty$.

Checks of the accounting: a density uniform in $y$ gives exactly $\log_2 17 = 4.087$ bits/dim
for every $u$; for the diagonal Gaussian the expectation over $u$ is computed in closed form by
Gauss-Legendre quadrature over the 17 levels (`gaussian_expected_bits`) and the Monte Carlo
estimate must agree with it, and its exact discrete $-\log_2 P(v)$ (differences of normal CDFs)
must lie below it, with the importance-weighted estimate in between. The logit maps $[0, 1)$
into $[\mathrm{logit}\,\alpha, \mathrm{logit}(1 - \alpha)]$, so a density on $\mathbb R$ is
sub-normalized on the 17 levels: the bound is conservative.

**Models**, the two flows trained with the same budget (`--steps` Adam steps on minibatches of
`--batch` images with fresh dequantization noise each step, the same warm-up + cosine learning
rate schedule and gradient clipping):

1. a diagonal Gaussian in $x$: its maximum-likelihood fit under the dequantization noise is the
   per-pixel mean and variance of $x$, computed exactly by quadrature (no training needed, this
   is its optimum);
2. RealNVP-style: affine coupling layers (Dinh et al. 2017) alternating checkerboard masks and
   the masks of a 2x2 squeeze followed by a channel split (rows, then columns of the squeeze),
   each with an MLP conditioner and a tanh-bounded log-scale; zero-initialized last layers;
3. `diffsci.flows.MongeAmpereFlow` with a `OneLayerPotential` (closed-form Laplacian, exact
   log-density at the cost of one gradient), `ExactLaplacian`, reversible Heun with the exact
   reversible adjoint.

Both flows act on the standardized $z = (x - \mu)/\sigma$ ($\mu, \sigma$ those of the Gaussian,
$-\sum\ln\sigma_i$ counted in the log-density), so both start as the diagonal Gaussian and every
bit they gain over it comes from what they learn.

Also measured: the Laplacian of a `OneLayerPotential` for a batch of 100 points at $D = 64$ and
$D = 784$, by its closed form (`ExactLaplacian`), Hutchinson with one Rademacher probe, the exact
autodiff fallback ($D$ Hessian-vector products) and the trace of the full `jax.hessian`, as
ratios to the closed form (medians of interleaved runs).

Run: python benchmarks/flows_digits.py [--quick] [--steps 4000] [--out benchmarks/flows_digits.json]
     [--figure benchmarks/flows_digits.png] [--checkpoint-dir DIR]
Single-threaded: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU thread pools set to 1.
Needs scikit-learn (`pip install -e .[bench]`).
"""

from __future__ import annotations

if __name__ == "__main__":
    from _harness import single_threaded

    single_threaded()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import diffsci.flows as flows  # noqa: E402
from diffsci.ode import ReversibleRK4  # noqa: E402
from diffsci.utils import run_chunked  # noqa: E402

LEVELS = 17
ALPHA = 0.05
SIDE = 8
DIM = SIDE * SIDE


# --------------------------------------------------------------------------------------------
# Data and the dequantization accounting


def load_digits_split(seed: int = 0, num_test: int = 360):
    """The 1797 digits as integer arrays `(train, test)` of shape `(n, 64)`, values 0..16,
    split by a permutation drawn from `numpy.random.default_rng(seed)`."""
    from sklearn.datasets import load_digits

    v = np.asarray(load_digits().data, dtype=np.int32)
    if v.shape != (1797, DIM) or v.min() < 0 or v.max() > LEVELS - 1:
        raise ValueError(f"load_digits: unexpected data of shape {v.shape}")
    perm = np.random.default_rng(seed).permutation(v.shape[0])
    return v[perm[num_test:]], v[perm[:num_test]]


def dequantize_logit(v, u, alpha: float = ALPHA, levels: int = LEVELS):
    r"""Map integer pixels `v` and noise `u` in $[0, 1)$ to $x = \mathrm{logit}(\alpha +
    (1 - 2\alpha)(v + u)/L)$; returns `(x, log_det)` with `log_det` $= \sum_i
    \ln(dx_i/dy_i)$ over the last axis. `v` and `u` broadcast against each other (say a batch of
    noise draws for the same images). The dtype follows `u`."""
    if not 0 < alpha < 0.5:
        raise ValueError(f"dequantize_logit: alpha must lie in (0, 0.5), got {alpha}")
    u = jnp.asarray(u)
    v = jnp.asarray(v, u.dtype)
    shape = jnp.broadcast_shapes(v.shape, u.shape)
    y = (jnp.broadcast_to(v, shape) + jnp.broadcast_to(u, shape)) / levels
    s = alpha + (1 - 2 * alpha) * y
    log_s, log_1ms = jnp.log(s), jnp.log1p(-s)
    log_det = jnp.sum(math.log(1 - 2 * alpha) - log_s - log_1ms, axis=-1)
    return log_s - log_1ms, log_det


def bits_per_dim(log_qx, log_det, dim: int = DIM, levels: int = LEVELS):
    r"""$\bigl(-\ln q_X(x) - \sum_i\ln(dx_i/dy_i) + D\ln L\bigr)/(D\ln 2)$: the per-dimension
    $-\log_2 q_V(v + u)$ of the integer-scale density, whose mean over $u$ bounds
    $-\log_2 P(v)/D$ from above."""
    return (-(log_qx + log_det) + dim * math.log(levels)) / (dim * math.log(2.0))


def level_moments(alpha: float = ALPHA, levels: int = LEVELS, nodes: int = 64):
    r"""For each level $v$: $\mathbb E_u[x]$, $\mathbb E_u[x^2]$ and $\mathbb E_u[\ln dx/dy]$
    for $u \sim U[0, 1)$ (one pixel), by `nodes`-point Gauss-Legendre quadrature in float64
    (the integrands are analytic on $[0, 1]$: the quadrature is exact to rounding)."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    u, w = (t + 1) / 2, w / 2
    v = np.arange(levels)[:, None]
    s = alpha + (1 - 2 * alpha) * (v + u[None]) / levels
    x = np.log(s) - np.log1p(-s)
    jac = math.log(1 - 2 * alpha) - np.log(s) - np.log1p(-s)
    return x @ w, (x**2) @ w, jac @ w


class DiagonalGaussian(eqx.Module):
    """A Gaussian with diagonal covariance in $x$ (logit space), fitted in closed form."""

    mean: jax.Array
    std: jax.Array

    @staticmethod
    def fit(train_v, alpha: float = ALPHA):
        r"""The maximum-likelihood fit under the dequantization noise: $\mu_i = \mathbb E[x_i]$,
        $\sigma_i^2 = \mathrm{Var}[x_i]$ over the training images and $u$, by quadrature."""
        ex, ex2, _ = level_moments(alpha)
        mean = ex[train_v].mean(axis=0)
        var = ex2[train_v].mean(axis=0) - mean**2
        return DiagonalGaussian(jnp.asarray(mean), jnp.asarray(np.sqrt(var)))

    def log_prob(self, x):
        mean, std = jnp.broadcast_to(self.mean, x.shape), jnp.broadcast_to(self.std, x.shape)
        z = (x - mean) / std
        return flows.standard_normal_log_prob(z) - jnp.sum(jnp.log(self.std))

    def sample(self, key, num):
        z = jr.normal(key, (num, self.mean.shape[0]), self.mean.dtype)
        return self.mean[None, :] + self.std[None, :] * z


def gaussian_expected_bits(gauss: DiagonalGaussian, v, alpha: float = ALPHA):
    r"""$\mathbb E_u[-\log_2 q_V(v + u)]/D$ of a diagonal Gaussian for each image of `v`,
    without Monte Carlo: the log-density is a sum over pixels of quadratics in $x_i$, so its mean
    over $u$ needs only the per-level moments of `level_moments`."""
    ex, ex2, ejac = level_moments(alpha)
    mu, sd = np.asarray(gauss.mean, np.float64), np.asarray(gauss.std, np.float64)
    quad = (ex2[v] - 2 * mu * ex[v] + mu**2) / (2 * sd**2)
    nll_x = np.sum(quad + np.log(sd) + 0.5 * math.log(2 * math.pi), axis=-1)
    nll_v = nll_x - np.sum(ejac[v], axis=-1) + DIM * math.log(LEVELS)
    return nll_v / (DIM * math.log(2.0))


def gaussian_discrete_bits(gauss: DiagonalGaussian, v, alpha: float = ALPHA):
    r"""The exact $-\log_2 P(v)/D$ of the diagonal Gaussian (no bound): the probability of
    pixel level $v$ is the normal mass of $x \in [x(v), x(v + 1)]$, $x(w) = \mathrm{logit}(\alpha
    + (1 - 2\alpha) w/L)$, a difference of normal CDFs (taken in the tail away from 1)."""
    from scipy.special import log_ndtr

    w = np.arange(LEVELS + 1)
    s = alpha + (1 - 2 * alpha) * w / LEVELS
    edges = np.log(s) - np.log1p(-s)
    mu, sd = np.asarray(gauss.mean, np.float64), np.asarray(gauss.std, np.float64)
    a, b = (edges[v] - mu) / sd, (edges[v + 1] - mu) / sd
    upper = a > 0  # use 1 - Phi(a) - (1 - Phi(b)) = Phi(-a) - Phi(-b) in the upper tail
    la = np.where(upper, log_ndtr(-a), log_ndtr(b))
    lb = np.where(upper, log_ndtr(-b), log_ndtr(a))
    log_p = la + np.log1p(-np.exp(lb - la))
    return -np.sum(log_p, axis=-1) / (DIM * math.log(2.0))


def full_gaussian_fit(train_v, alpha: float = ALPHA):
    r"""The maximum-likelihood Gaussian with a full covariance under the dequantization noise:
    $\mu = \mathbb E[x]$, $C = \mathbb E[x x^\top] - \mu\mu^\top$, exactly, since the noise is
    independent across pixels: $\mathbb E_u[x_i x_j] = \mathbb E_u[x_i]\,\mathbb E_u[x_j]$ for
    $i \ne j$. Returns `(mean, cov)` in float64."""
    ex, ex2, _ = level_moments(alpha)
    m = ex[train_v]
    mean = m.mean(axis=0)
    cov = m.T @ m / m.shape[0] + np.diag((ex2[train_v] - m**2).mean(axis=0)) - np.outer(mean, mean)
    return mean, cov


def full_gaussian_expected_bits(mean, cov, v, alpha: float = ALPHA):
    r"""$\mathbb E_u[-\log_2 q_V(v + u)]/D$ of a full-covariance Gaussian for each image:
    $\mathbb E_u[(x - \mu)^\top P (x - \mu)] = (m - \mu)^\top P (m - \mu) + \sum_i P_{ii}
    \mathrm{Var}_u[x_i]$ with $m = \mathbb E_u[x]$, $P = C^{-1}$."""
    ex, ex2, ejac = level_moments(alpha)
    m, var = ex[v], ex2[v] - ex[v] ** 2
    prec = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(cov)
    d = m - mean
    quad = np.einsum("ni,ij,nj->n", d, prec, d) + var @ np.diag(prec)
    nll_x = 0.5 * quad + 0.5 * logdet + 0.5 * DIM * math.log(2 * math.pi)
    nll_v = nll_x - np.sum(ejac[v], axis=-1) + DIM * math.log(LEVELS)
    return nll_v / (DIM * math.log(2.0))


# --------------------------------------------------------------------------------------------
# RealNVP-style baseline


def coupling_mask(kind: int) -> np.ndarray:
    """The binary mask of coupling layer `kind % 6` on the 8x8 grid (flattened): checkerboard,
    its complement, then the channel splits of a 2x2 squeeze (row parity within the 2x2 block,
    its complement, column parity, its complement). 1 = conditioning (kept) pixels."""
    i, j = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    pattern = [(i + j) % 2, (i + j + 1) % 2, i % 2, (i + 1) % 2, j % 2, (j + 1) % 2][kind % 6]
    return pattern.reshape(-1).astype(np.float64)


class Coupling(eqx.Module):
    r"""An affine coupling layer: $z' = m\odot z + (1 - m)\odot(z\,e^{s(m\odot z)} +
    t(m\odot z))$, $\ln|\det| = \sum_i (1 - m_i)\,s_i$, with $s = c\tanh(\cdot)$."""

    mlp: eqx.nn.MLP
    log_scale_bound: jax.Array
    kind: int = eqx.field(static=True)

    def __init__(self, kind, width, depth, *, key, dtype):
        mlp = eqx.nn.MLP(DIM, 2 * DIM, width, depth, activation=jax.nn.gelu, key=key, dtype=dtype)
        last = mlp.layers[-1]
        last = eqx.tree_at(
            lambda m: (m.weight, m.bias),
            last,
            (jnp.zeros_like(last.weight), jnp.zeros_like(last.bias)),
        )
        self.mlp = eqx.tree_at(lambda m: m.layers[-1], mlp, last)
        self.log_scale_bound = jnp.ones((), dtype)
        self.kind = kind

    def _shift_scale(self, z):
        m = jnp.asarray(coupling_mask(self.kind), z.dtype)
        h = self.mlp(m * z)
        s = (1 - m) * self.log_scale_bound * jnp.tanh(h[:DIM])
        return m, s, (1 - m) * h[DIM:]

    def forward(self, z):
        m, s, t = self._shift_scale(z)
        return m * z + (1 - m) * (z * jnp.exp(s) + t), jnp.sum(s)

    def inverse(self, z):
        m, s, t = self._shift_scale(z)
        return m * z + (1 - m) * (z - t) * jnp.exp(-s)


class RealNVP(eqx.Module):
    """A stack of `Coupling` layers mapping data $z$ to the standard normal base."""

    layers: list

    def __init__(self, num_layers, width, depth, *, key, dtype=jnp.float32):
        keys = jr.split(key, num_layers)
        self.layers = [
            Coupling(k, width, depth, key=keys[k], dtype=dtype) for k in range(num_layers)
        ]

    def log_prob(self, z):
        def one(zi):
            total = jnp.zeros((), zi.dtype)
            for layer in self.layers:
                zi, ld = layer.forward(zi)
                total = total + ld
            return flows.standard_normal_log_prob(zi) + total

        return jax.vmap(one)(z)

    def sample(self, key, num):
        def one(e):
            for layer in reversed(self.layers):
                e = layer.inverse(e)
            return e

        dtype = self.layers[0].log_scale_bound.dtype
        return jax.vmap(one)(jr.normal(key, (num, DIM), dtype))


# --------------------------------------------------------------------------------------------
# Monge-Ampère flow


class MongeAmpereModel(eqx.Module):
    """`MongeAmpereFlow` with the `log_prob`/`sample` interface of the other models."""

    flow: flows.MongeAmpereFlow

    @staticmethod
    def create(width, ode_steps, *, key, dtype=jnp.float32):
        """A `OneLayerPotential` of `width` hidden units, `ode_steps` reversible Heun steps."""
        potential = flows.OneLayerPotential(DIM, width, key=key, dtype=dtype)
        return MongeAmpereModel(flows.MongeAmpereFlow(DIM, potential, steps=ode_steps))

    def log_prob(self, z):
        return self.flow.log_prob(z)

    def sample(self, key, num):
        return self.flow.sample(key, num)


def count_params(model) -> int:
    return int(
        sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array)))
    )


# --------------------------------------------------------------------------------------------
# Training and evaluation


def flow_bits(model, gauss: DiagonalGaussian, v, u):
    """Per-image bits/dim of a flow acting on the standardized $z = (x - \\mu)/\\sigma$."""
    x, log_det = dequantize_logit(v, u)
    z = (x - jnp.broadcast_to(gauss.mean, x.shape)) / jnp.broadcast_to(gauss.std, x.shape)
    log_qx = model.log_prob(z) - jnp.sum(jnp.log(gauss.std))
    return bits_per_dim(log_qx, log_det)


def schedule(learning_rate, steps):
    """Linear warm-up over 5% of the steps, then cosine decay to zero."""
    warm = max(1, steps // 20)
    return optax.warmup_cosine_decay_schedule(0.0, learning_rate, warm, steps)


def optimizer(learning_rate, steps):
    return optax.chain(optax.clip_by_global_norm(10.0), optax.adam(schedule(learning_rate, steps)))


@eqx.filter_jit
def per_image_bits(model, gauss, v, key, draws, importance_weighted=False):
    r"""Bits/dim of each image of `v` from `draws` dequantization draws $u_k$ (the same draws
    for every model given the same `key`, so that differences between models are paired): the
    mean of $-\log_2 q_V(v + u_k)/D$ (the bound above), or with `importance_weighted` the
    tighter $-\log_2\bigl(\frac1K\sum_k q_V(v + u_k)\bigr)/D$, whose expectation decreases
    towards $-\log_2 P(v)/D$ as $K$ grows (Burda, Grosse, Salakhutdinov, arXiv:1509.00519)."""

    def one(k):
        return flow_bits(model, gauss, v, jr.uniform(k, v.shape, gauss.std.dtype))

    bits = jax.lax.map(one, jr.split(key, draws))
    if not importance_weighted:
        return jnp.mean(bits, axis=0)
    scale = DIM * math.log(2.0)
    return -(jax.nn.logsumexp(-bits * scale, axis=0) - math.log(draws)) / scale


def mean_and_se(per_image):
    """The mean over images and its standard error."""
    per_image = np.asarray(per_image, np.float64)
    return float(per_image.mean()), float(per_image.std(ddof=1) / math.sqrt(per_image.size))


def evaluate(model, gauss, v, key, draws):
    """Mean and standard error over images of the bits/dim, `draws` noise draws per image."""
    per = per_image_bits(model, gauss, v, key, draws)
    return jnp.mean(per), jnp.std(per) / math.sqrt(v.shape[0])


@eqx.filter_jit
def _train_chunk(
    carry, static, gauss, train_v, test_v, key, learning_rate, total, batch, start, count
):
    opt = optimizer(learning_rate, total)

    def loss(params, k):
        k_idx, k_u = jr.split(k)
        idx = jr.choice(k_idx, train_v.shape[0], (batch,), replace=False)
        u = jr.uniform(k_u, (batch, DIM), gauss.std.dtype)
        return jnp.mean(flow_bits(eqx.combine(params, static), gauss, train_v[idx], u))

    def one(c, t):
        params, opt_state = c
        value, grads = jax.value_and_grad(loss)(params, jr.fold_in(key, t))
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    carry, losses = jax.lax.scan(one, carry, start + jnp.arange(count, dtype=jnp.int32))
    test, _ = evaluate(eqx.combine(carry[0], static), gauss, test_v, jr.key(12345), 1)
    return carry, {"loss": losses, "test": test[None], "step": (start + count)[None]}


def train(
    model,
    gauss,
    train_v,
    test_v,
    *,
    key,
    steps,
    batch,
    learning_rate,
    chunks,
    checkpoint_dir=None,
    name="model",
):
    """Adam on the minibatch bits/dim with fresh dequantization noise each step, in `chunks`
    jitted chunks (`diffsci.utils.run_chunked`: progress, checkpoint after each chunk, exact
    resume). Returns the trained model, the per-step training loss, the test bits/dim (one noise
    draw) after each chunk, and the wall time."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    carry = (params, optimizer(learning_rate, steps).init(params))
    per_chunk = -(-steps // chunks)
    num_chunks = -(-steps // per_chunk)
    train_v, test_v = jnp.asarray(train_v), jnp.asarray(test_v)

    def run(c, i):
        count = min(per_chunk, steps - i * per_chunk)
        return _train_chunk(
            c,
            static,
            gauss,
            train_v,
            test_v,
            key,
            float(learning_rate),
            steps,
            batch,
            jnp.asarray(i * per_chunk, jnp.int32),
            count,
        )

    directory = None if checkpoint_dir is None else Path(checkpoint_dir) / name
    t0 = time.perf_counter()
    carry, out = run_chunked(
        run,
        carry,
        num_chunks=num_chunks,
        checkpoint_dir=directory,
        progress=True,
        desc=name,
        metadata={
            "model": name,
            "steps": steps,
            "batch": batch,
            "lr": learning_rate,
            "params": count_params(model),
        },
        postfix=lambda c, o: {"test bits/dim": f"{float(o['test'][-1]):.4f}"},
    )
    wall = time.perf_counter() - t0
    return eqx.combine(carry[0], static), out, wall


# --------------------------------------------------------------------------------------------
# Laplacian timings


class _NoClosedForm(eqx.Module):
    """The same potential with its closed form hidden (ExactLaplacian then uses autodiff)."""

    inner: flows.OneLayerPotential

    def __call__(self, x, t):
        return self.inner(x, t)


_T = 0.3


def _lap_closed_form(pot, x, probes):
    return jax.vmap(lambda xi: flows.ExactLaplacian()(pot, xi, _T))(x)


def _lap_hutchinson(pot, x, probes):
    return jax.vmap(lambda xi, pi: flows.Hutchinson()(pot, xi, _T, pi))(x, probes)


def _lap_autodiff(pot, x, probes):
    return jax.vmap(lambda xi: flows.ExactLaplacian()(_NoClosedForm(pot), xi, _T))(x)


def _lap_full_hessian(pot, x, probes):
    def one(xi):
        return jax.grad(pot)(xi, _T), jnp.trace(jax.hessian(pot)(xi, _T))

    return jax.vmap(one)(x)


LAPLACIANS = {
    "closed form": _lap_closed_form,
    "Hutchinson (1 probe)": _lap_hutchinson,
    "autodiff exact (D HVPs)": _lap_autodiff,
    "full jax.hessian": _lap_full_hessian,
}


def laplacian_timings(dims, width, batch, repeats, key, budget=2.0):
    """Median time of velocity + Laplacian of a `OneLayerPotential` at `batch` points, per
    method (up to `repeats` interleaved runs after compilation), with ratios to the closed form
    and the largest relative deviation of the Laplacian from it."""
    rows = []
    for dim in dims:
        pot = flows.OneLayerPotential(dim, width, key=jr.fold_in(key, dim), dtype=jnp.float32)
        x = jr.normal(jr.fold_in(key, 1), (batch, dim), jnp.float32)
        probes = flows.Hutchinson().probes(jr.fold_in(key, 2), batch, dim, jnp.float32)
        jitted = {name: eqx.filter_jit(f) for name, f in LAPLACIANS.items()}
        ref = jitted["closed form"](pot, x, probes)[1]
        err = {
            name: float(jnp.max(jnp.abs(f(pot, x, probes)[1] - ref)) / jnp.max(jnp.abs(ref)))
            for name, f in jitted.items()
        }
        # about `budget` seconds per method, at least 3 runs; interleaved rounds, so that a
        # change of load hits all methods alike
        quota = {}
        for name, f in jitted.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f(pot, x, probes))
            quota[name] = int(min(repeats, max(3, budget / (time.perf_counter() - t0))))
        times = {name: [] for name in jitted}
        for r in range(max(quota.values())):
            for name, f in jitted.items():
                if r < quota[name]:
                    t0 = time.perf_counter()
                    jax.block_until_ready(f(pot, x, probes))
                    times[name].append(time.perf_counter() - t0)
        base = float(np.median(times["closed form"]))
        for name in jitted:
            med = float(np.median(times[name]))
            rows.append(
                {
                    "D": dim,
                    "width": width,
                    "batch": batch,
                    "method": name,
                    "runs": len(times[name]),
                    "ms": 1e3 * med,
                    "ratio": med / base,
                    "rel_err_vs_closed_form": err[name],
                }
            )
    return rows


# --------------------------------------------------------------------------------------------
# Figure


def to_images(model_x, gauss=None):
    """Logit-space samples (or standardized ones, with `gauss`) to intensities in [0, 1]."""
    x = model_x if gauss is None else gauss.mean[None, :] + gauss.std[None, :] * model_x
    y = (jax.nn.sigmoid(x) - ALPHA) / (1 - 2 * ALPHA)
    return np.clip(np.asarray(y, np.float64), 0, 1).reshape(-1, SIDE, SIDE)


def tile(images, rows, cols):
    images = np.asarray(images, np.float64).reshape(-1, SIDE, SIDE)
    out = np.zeros((rows * (SIDE + 1) - 1, cols * (SIDE + 1) - 1))
    for k in range(min(rows * cols, images.shape[0])):
        r, c = divmod(k, cols)
        out[r * (SIDE + 1) : r * (SIDE + 1) + SIDE, c * (SIDE + 1) : c * (SIDE + 1) + SIDE] = (
            images[k]
        )
    return out


def make_figure(path, panels, curves, gauss_test, full_test, steps):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(16, 4.2))
    grid = fig.add_gridspec(1, len(panels) + 2)
    for k, (title, images) in enumerate(panels):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(tile(images, 6, 6), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    ax = fig.add_subplot(grid[0, len(panels) :])
    colors = {"RealNVP": "tab:orange", "Monge-Ampere": "tab:blue"}
    for name, out in curves.items():
        loss = np.asarray(out["loss"])
        w = max(1, steps // 50)
        smooth = np.convolve(loss, np.ones(w) / w, mode="valid")
        ax.plot(
            np.arange(w, loss.size + 1),
            smooth,
            color=colors[name],
            alpha=0.5,
            label=f"{name} train (minibatch)",
        )
        ax.plot(
            np.asarray(out["step"]),
            np.asarray(out["test"]),
            "o-",
            color=colors[name],
            label=f"{name} test",
        )
    ax.axhline(gauss_test, color="k", ls="--", label="diagonal Gaussian test")
    ax.axhline(full_test, color="0.5", ls=":", label="full-covariance Gaussian test")
    ax.set_xlabel("Adam step")
    ax.set_ylabel("bits/dim")
    lo = min(float(np.min(np.asarray(o["test"]))) for o in curves.values())
    ax.set_ylim(lo - 0.3, gauss_test + 0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


# --------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~2 minute CPU run")
    parser.add_argument("--steps", type=int, default=None, help="Adam steps (both flows)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--ma-width", type=int, default=None, help="OneLayerPotential width")
    parser.add_argument("--ma-ode-steps", type=int, default=None)
    parser.add_argument("--nvp-layers", type=int, default=6)
    parser.add_argument("--nvp-width", type=int, default=None)
    parser.add_argument("--noise-draws", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--x64", action="store_true", help="train in float64")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--no-laplacian-timings", action="store_true")
    parser.add_argument("--out", default="benchmarks/flows_digits.json")
    parser.add_argument("--figure", default="benchmarks/flows_digits.png")
    args = parser.parse_args()
    quick = args.quick
    steps = args.steps or (500 if quick else 2000)
    ma_width = args.ma_width or (256 if quick else 512)
    ode_steps = args.ma_ode_steps or (8 if quick else 10)
    nvp_width = args.nvp_width or (16 if quick else 24)
    draws = args.noise_draws or (4 if quick else 32)
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.float64 if args.x64 else jnp.float32
    key = jr.key(args.seed)

    train_v, test_v = load_digits_split(args.seed)
    gauss64 = DiagonalGaussian.fit(train_v)
    gauss = DiagonalGaussian(gauss64.mean.astype(dtype), gauss64.std.astype(dtype))
    rows = []

    test_j, train_j = jnp.asarray(test_v), jnp.asarray(train_v)
    k_test, k_train = jr.fold_in(key, 7), jr.fold_in(key, 8)
    per_test, per_test_iw = {}, {}

    def report(row):
        rows.append(row)
        iw = f"{row['test_iw']:>8.4f}" if "test_iw" in row else " " * 8
        print(
            f"{row['model']:>40} {row['params']:>7} {row['train']:>8.4f} {row['test']:>8.4f}"
            f" {row['test_se']:>7.4f} {iw} {row['wall_s']:>8.1f}",
            flush=True,
        )
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({"rows": rows, "args": vars(args)}, f, indent=1)

    # The accounting checked on the diagonal Gaussian: its Monte Carlo estimate (the path every
    # flow takes) against the exact expectation over u, image by image, with the same draws.
    t0 = time.perf_counter()
    g_test = gaussian_expected_bits(gauss64, test_v)
    g_train = gaussian_expected_bits(gauss64, train_v)
    g_discrete = gaussian_discrete_bits(gauss64, test_v)
    g_wall = time.perf_counter() - t0
    g_mc = per_image_bits(_GaussianAsFlow(), gauss, test_j, k_test, draws)
    g_iw = per_image_bits(_GaussianAsFlow(), gauss, test_j, k_test, draws, True)
    gap, gap_se = mean_and_se(np.asarray(g_mc) - g_test)
    print(f"uniform over 17 levels: log2(17) = {math.log2(LEVELS):.4f} bits/dim")
    iw_mean = float(jnp.mean(g_iw))
    print(
        f"diagonal Gaussian, test: exact E_u {g_test.mean():.4f}; Monte Carlo ({draws} draws) "
        f"- exact = {gap:+.4f} +- {gap_se:.4f}; exact discrete -log2 P(v)/D "
        f"{g_discrete.mean():.4f}; importance-weighted ({draws} draws) {iw_mean:.4f}",
        flush=True,
    )
    if abs(gap) > 4 * gap_se or not g_discrete.mean() < g_test.mean():
        raise RuntimeError("the dequantization accounting is inconsistent (see the line above)")
    print(
        f"{'model':>40} {'params':>7} {'train':>8} {'test':>8} {'+-':>7} {'test IW':>8} "
        f"{'wall s':>8}"
    )
    per_test["diagonal Gaussian"] = g_test
    report(
        {
            "model": "diagonal Gaussian (closed form)",
            "params": 2 * DIM,
            "train": float(g_train.mean()),
            **dict(zip(("test", "test_se"), mean_and_se(g_test), strict=True)),
            "test_mc_minus_exact": gap,
            "test_mc_minus_exact_se": gap_se,
            "test_exact_discrete": float(g_discrete.mean()),
            "test_iw": float(jnp.mean(g_iw)),
            "wall_s": g_wall,
            "steps": 0,
        }
    )

    t0 = time.perf_counter()
    mean_full, cov_full = full_gaussian_fit(train_v)
    f_test = full_gaussian_expected_bits(mean_full, cov_full, test_v)
    f_train = full_gaussian_expected_bits(mean_full, cov_full, train_v)
    per_test["full-covariance Gaussian"] = f_test
    report(
        {
            "model": "full-covariance Gaussian (closed form)",
            "params": DIM + DIM * (DIM + 1) // 2,
            "train": float(f_train.mean()),
            **dict(zip(("test", "test_se"), mean_and_se(f_test), strict=True)),
            "wall_s": time.perf_counter() - t0,
            "steps": 0,
        }
    )

    models = {
        "RealNVP": RealNVP(args.nvp_layers, nvp_width, 2, key=jr.fold_in(key, 1), dtype=dtype),
        "Monge-Ampere": MongeAmpereModel.create(
            ma_width, ode_steps, key=jr.fold_in(key, 2), dtype=dtype
        ),
    }
    curves, trained = {}, {}
    for name, model in models.items():
        model, out, wall = train(
            model,
            gauss,
            train_v,
            test_v,
            key=jr.fold_in(key, 3),
            steps=steps,
            batch=args.batch,
            learning_rate=args.lr,
            chunks=10,
            checkpoint_dir=args.checkpoint_dir,
            name=name,
        )
        curves[name], trained[name] = out, model
        per_test[name] = np.asarray(per_image_bits(model, gauss, test_j, k_test, draws))
        train_bits = per_image_bits(model, gauss, train_j, k_train, max(1, draws // 4))
        test, test_se = mean_and_se(per_test[name])
        test_iw = per_test_iw[name] = np.asarray(
            per_image_bits(model, gauss, test_j, k_test, draws, True)
        )
        row = {
            "model": f"{name} ({steps} steps)",
            "params": count_params(model),
            "train": float(jnp.mean(train_bits)),
            "test": test,
            "test_se": test_se,
            "test_iw": float(jnp.mean(test_iw)),
            "wall_s": wall,
            "ms_per_step": 1e3 * wall / steps,
            "steps": steps,
            "test_curve_min": float(np.min(out["test"])),
            "test_curve_argmin_step": int(np.asarray(out["step"])[np.argmin(out["test"])]),
        }
        report(row)
        if name == "Monge-Ampere":
            # The trained flow evaluated again with 4x the steps of a 4th-order integrator, on
            # the same noise draws: the change is the time-discretization error of the density,
            # which training can exploit. These are the figures compared with the other models.
            fine = MongeAmpereModel(
                flows.MongeAmpereFlow(
                    DIM, model.flow.potential, steps=4 * ode_steps, solver=ReversibleRK4()
                )
            )
            coarse = per_test[name]
            per_test[name] = np.asarray(per_image_bits(fine, gauss, test_j, k_test, draws))
            per_test_iw[name] = np.asarray(per_image_bits(fine, gauss, test_j, k_test, draws, True))
            diff, diff_se = mean_and_se(per_test[name] - coarse)
            train_fine = per_image_bits(fine, gauss, train_j, k_train, max(1, draws // 4))
            print(
                f"   the same flow with {4 * ode_steps} steps of ReversibleRK4 (instead of "
                f"{ode_steps} of ReversibleHeun): test {diff:+.5f} +- {diff_se:.5f}"
            )
            report(
                {
                    "model": f"{name}, {4 * ode_steps} RK4 steps",
                    "params": row["params"],
                    "train": float(jnp.mean(train_fine)),
                    **dict(zip(("test", "test_se"), mean_and_se(per_test[name]), strict=True)),
                    "test_iw": float(per_test_iw[name].mean()),
                    "wall_s": 0.0,
                    "steps": steps,
                    "width": ma_width,
                    "ode_steps": 4 * ode_steps,
                    "fine_minus_train_solver": diff,
                    "fine_minus_train_solver_se": diff_se,
                }
            )

    ma = per_test["Monge-Ampere"]  # with the fine integrator
    paired = {}
    for name, per in per_test.items():
        if name != "Monge-Ampere":
            paired[name] = mean_and_se(ma - per)
            print(
                f"Monge-Ampere - {name}, test (paired over images): "
                f"{paired[name][0]:+.4f} +- {paired[name][1]:.4f} bits/dim"
            )
    paired["RealNVP, importance-weighted"] = mean_and_se(
        per_test_iw["Monge-Ampere"] - per_test_iw["RealNVP"]
    )
    print(
        "Monge-Ampere - RealNVP, test importance-weighted (paired): {:+.4f} +- {:.4f} "
        "bits/dim".format(*paired["RealNVP, importance-weighted"])
    )

    lap_rows = []
    if not args.no_laplacian_timings:
        lap_rows = laplacian_timings(
            (64, 784),
            256,
            100,
            51 if quick else 201,
            jr.fold_in(key, 9),
            budget=1.0 if quick else 3.0,
        )
        print("\nvelocity + Laplacian, OneLayerPotential width 256, batch 100 (float32):")
        print(f"{'D':>4} {'method':>26} {'ms':>9} {'ratio':>8} {'rel err':>9}")
        for r in lap_rows:
            print(
                f"{r['D']:>4} {r['method']:>26} {r['ms']:>9.3f} {r['ratio']:>8.1f} "
                f"{r['rel_err_vs_closed_form']:>9.1e}"
            )
    with open(args.out, "w") as f:
        json.dump(
            {"rows": rows, "paired_ma_minus": paired, "laplacian": lap_rows, "args": vars(args)},
            f,
            indent=1,
        )

    if args.figure:
        k = jr.fold_in(key, 11)
        panels = [
            ("data (test)", test_v[:36] / (LEVELS - 1)),
            ("diagonal Gaussian", to_images(gauss.sample(k, 36))),
            (
                "full-covariance Gaussian",
                to_images(mean_full + jr.normal(k, (36, DIM)) @ np.linalg.cholesky(cov_full).T),
            ),
        ]
        for name, model in trained.items():
            panels.append((name, to_images(model.sample(k, 36), gauss)))
        make_figure(args.figure, panels, curves, float(g_test.mean()), float(f_test.mean()), steps)
        print(f"figure: {args.figure}")


class _GaussianAsFlow(eqx.Module):
    """The identity flow on the standardized $z$: the diagonal Gaussian itself."""

    def log_prob(self, z):
        return flows.standard_normal_log_prob(z)


if __name__ == "__main__":
    main()
