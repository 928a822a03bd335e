r"""Statistics of Markov chains: autocorrelation, integrated autocorrelation time, ESS, binning.

Every function takes a chain `x` of shape `(steps,)` or `(steps, chains)` (independent chains of
the same process side by side) of a scalar observable.

Convention: the integrated autocorrelation time is
$$\tau_\mathrm{int} = \frac12 + \sum_{t \ge 1} \rho(t),$$
with $\rho$ the normalized autocorrelation function, so that the variance of the mean of $N$
correlated samples is $\sigma^2 \, 2\tau_\mathrm{int} / N$ and the effective sample size is
$N / (2 \tau_\mathrm{int})$. Uncorrelated samples have $\tau_\mathrm{int} = 1/2$; an AR(1) process
$x_t = \rho x_{t-1} + \xi_t$ has $\tau_\mathrm{int} = \frac{1 + \rho}{2 (1 - \rho)}$.
(Sokal, *Monte Carlo methods in statistical mechanics*, Cargèse lectures 1996, eq. (2.16).)

Every function checks its chain: a real array (integers promoted) of shape `(steps,)` or
`(steps, chains)` with at least 2 steps and 1 chain (trace time), finite (run time).

A frozen chain (every chain constant: a sampler that never moved, e.g. deep in an ordered phase)
has no fluctuation, so $\rho(t) = C(t)/C(0)$ is $0/0$. It is defined as $\rho(t) = 1$ at every
lag, the limit of a chain whose moves become vanishingly rare (AR(1) with $\rho \to 1$): a chain
that never moves holds one configuration's worth of information, not $N$. So
`autocorrelation_time` gives the largest $\tau$ its window can show, $n - \frac12$, with
`reliable = False`, and `effective_sample_size` about one sample per two chains; the error of
the mean (`binning_error`) is 0, as the data show. A constant chain among moving ones adds
nothing to $C(t)$ and is simply outweighed.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from diffsci._internal import _validate as v


def _as_chains(x, who):
    """The chain as a float array of shape (steps, chains): at least 2 steps and 1 chain,
    finite at run time."""
    x = v.float_array(x, "x", who)
    shape = x.shape
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        v.fail(
            who,
            "x",
            "to be a chain of shape (steps,) or (steps, chains) with at least 2 steps and 1 chain",
            f"shape {shape}",
            described=True,
        )
    return v.finite(x, "x", who)


def _window_factor(c, who):
    """Sokal's window factor: a positive number (run-time check when traced)."""
    return v.static_positive(c, "c", who)


def _rho(x):
    """The normalized autocorrelation of a checked chain (steps, chains); 1 at every lag when
    every chain is constant (see the module docstring)."""
    n = x.shape[0]
    constant = jnp.all(x == x[:1], axis=0)  # a constant chain contributes exactly nothing
    y = jnp.where(constant[None, :], 0.0, x - jnp.mean(x, axis=0)[None, :])
    size = 1 << (2 * n - 1).bit_length()
    f = jnp.fft.rfft(y, n=size, axis=0)
    c = jnp.fft.irfft(f * jnp.conj(f), n=size, axis=0)[:n] / n
    c = jnp.mean(c, axis=1)
    frozen = c[0] == 0
    return jnp.where(frozen, 1.0, c / jnp.where(frozen, 1.0, c[0]))


def autocorrelation(x: Float[Array, "steps ..."]) -> Float[Array, " steps"]:
    r"""The normalized autocorrelation function $\rho(t)$, $t = 0, \dots, \text{steps} - 1$.

    $\rho(t) = C(t)/C(0)$ with $C(t) = \frac1N \sum_{i=0}^{N-1-t} (x_i - \bar x)(x_{i+t} - \bar x)$
    (each chain around its own mean, then averaged over chains), computed with an FFT.

    **Arguments:**

    - `x`: the chain, shape `(steps,)` or `(steps, chains)`.

    **Returns:**

    $\rho$, shape `(steps,)`, with $\rho(0) = 1$; $\rho \equiv 1$ for a frozen chain (all
    chains constant; see the module docstring).
    """
    return _rho(_as_chains(x, "autocorrelation"))


class AutocorrelationTime(eqx.Module):
    """Integrated autocorrelation time with its automatic window.

    **Fields:**

    - `tau`: $\\tau_\\mathrm{int}$ (convention of this module: 1/2 for independent samples).
    - `window`: the summation window $M$ chosen by Sokal's rule.
    - `reliable`: `True` when the rule found a window and each chain is at least 50 $\\tau$ long
      (the heuristic of emcee, Foreman-Mackey et al. 2013). When `False` the chain is too short
      for its correlations, and `tau` is likely an underestimate.
    - `error`: the statistical error of `tau`, $\\tau\\sqrt{2(2M+1)/N}$ (Madras and Sokal 1988),
      with $N$ the total number of samples.
    """

    tau: Float[Array, ""]
    window: Array
    reliable: Array
    error: Float[Array, ""]


def autocorrelation_time(x: Float[Array, "steps ..."], *, c: float = 5.0) -> AutocorrelationTime:
    r"""The integrated autocorrelation time with Sokal's automatic window, and its error.

    $\tau(M) = \frac12 + \sum_{t=1}^{M} \rho(t)$, evaluated at the smallest window $M$ with
    $M \ge c\, \tau(M)$ (Sokal's self-consistent truncation: the noise of $\rho(t)$ at large $t$ is
    cut off while the bias stays of order $e^{-c}$).

    **Arguments:**

    - `x`: the chain, shape `(steps,)` or `(steps, chains)`.
    - `c`: the window factor, > 0 (5 for nearly exponential decay; up to 10 for slower tails).

    **Returns:**

    An [`diffsci.physics.AutocorrelationTime`][] record. For a frozen chain (all chains
    constant) $\rho \equiv 1$, so no window satisfies the rule: $\tau = n - \frac12$, the
    largest the chain can show, with `reliable = False` (see the module docstring).
    """
    return _autocorrelation_time(
        _as_chains(x, "autocorrelation_time"), _window_factor(c, "autocorrelation_time")
    )


def _autocorrelation_time(x, c):
    n, chains = x.shape
    rho = _rho(x)
    taus = jnp.cumsum(rho) - 0.5  # taus[M] = 1/2 + sum_{t=1}^{M} rho(t)
    windows = jnp.arange(n)
    ok = (windows >= c * taus) & (windows > 0)
    found = jnp.any(ok)
    m = jnp.where(found, jnp.argmax(ok), n - 1)
    tau = taus[m]
    reliable = found & (n >= 50 * tau)
    error = tau * jnp.sqrt(2 * (2 * m + 1) / (n * chains))
    return AutocorrelationTime(tau=tau, window=m, reliable=reliable, error=error)


def integrated_autocorr_time(x: Float[Array, "steps ..."], *, c: float = 5.0) -> Float[Array, ""]:
    r"""$\tau_\mathrm{int} = \frac12 + \sum_{t \ge 1}\rho(t)$ with Sokal's automatic window.

    The scalar of [`diffsci.physics.autocorrelation_time`][] (which also gives the window and the
    error). Convention: $\tau_\mathrm{int} = 1/2$ for independent samples.

    **Arguments:**

    - `x`: the chain, shape `(steps,)` or `(steps, chains)`.
    - `c`: the window factor, > 0.

    **Returns:**

    $\tau_\mathrm{int}$ in units of steps ($n - \frac12$ for a frozen chain).
    """
    who = "integrated_autocorr_time"
    return _autocorrelation_time(_as_chains(x, who), _window_factor(c, who)).tau


def effective_sample_size(x: Float[Array, "steps ..."], *, c: float = 5.0) -> Float[Array, ""]:
    r"""Effective number of independent samples, $N / (2 \tau_\mathrm{int})$, over all chains.

    **Arguments:**

    - `x`: the chain, shape `(steps,)` or `(steps, chains)` ($N$ = steps x chains).
    - `c`: the window factor of [`diffsci.physics.integrated_autocorr_time`][], > 0.

    **Returns:**

    The effective sample size (for a frozen chain $N/(2n - 1)$, about half the number of
    chains: a chain that never moved holds one sample).
    """
    who = "effective_sample_size"
    x = _as_chains(x, who)
    return x.size / (2 * _autocorrelation_time(x, _window_factor(c, who)).tau)


class BinningResult(eqx.Module):
    """The mean of a chain and its error from a binning (blocking) analysis.

    **Fields:**

    - `mean`: the mean over all samples.
    - `error`: the error of the mean at the largest block size that leaves at least `min_bins`
      bins (the estimate to quote).
    - `block_sizes`: the block sizes $1, 2, 4, \\dots$ analysed, shape `(levels,)`.
    - `errors`: the naive error of the mean of the block means at each block size; it rises
      with the block size and plateaus once blocks are longer than the autocorrelation time.
    - `num_bins`: the number of bins at each block size.
    """

    mean: Float[Array, ""]
    error: Float[Array, ""]
    block_sizes: Array
    errors: Float[Array, " levels"]
    num_bins: Array


def binning_error(x: Float[Array, "steps ..."], *, min_bins: int = 32) -> BinningResult:
    r"""Error of the mean of a correlated chain by binning (Flyvbjerg and Petersen, JCP 91, 461).

    The chain is cut into blocks of $b = 1, 2, 4, \dots$ consecutive steps (within each chain;
    bins of all chains are pooled); the error of the mean of the $K$ block means,
    $\sqrt{\mathrm{var}/K}$, approaches the true error once $b \gg \tau_\mathrm{int}$. The estimate
    is the one at the largest $b$ with at least `min_bins` bins. Its own relative error is about
    $1/\sqrt{2K}$. Check that `errors` has reached a plateau before trusting it.

    **Arguments:**

    - `x`: the chain, shape `(steps,)` or `(steps, chains)`.
    - `min_bins`: the least number of bins the quoted estimate may use, an integer >= 2.

    **Returns:**

    A [`diffsci.physics.BinningResult`][]. A frozen chain has `error` 0 at every level.
    """
    who = "binning_error"
    x = _as_chains(x, who)
    min_bins = v.static_int(min_bins, "min_bins", who, minimum=2)
    n, chains = x.shape
    if chains * n < 2 * min_bins:
        v.fail(
            who,
            "x",
            f"to hold at least 2 * min_bins = {2 * min_bins} samples (too few "
            f"for {min_bins} bins; lower `min_bins` or run longer)",
            f"{chains * n} samples",
            described=True,
        )
    sizes, errors, bins = [], [], []
    b = 1
    while chains * (n // b) >= min_bins:
        k = n // b
        means = jnp.mean(x[: k * b].reshape(k, b, chains), axis=1).reshape(-1)
        errors.append(jnp.std(means, ddof=1) / jnp.sqrt(means.size))
        sizes.append(b)
        bins.append(means.size)
        b *= 2
    return BinningResult(
        mean=jnp.mean(x),
        error=errors[-1],
        block_sizes=jnp.asarray(sizes),
        errors=jnp.stack(errors),
        num_bins=jnp.asarray(bins),
    )
