r"""The variational free energy of a normalized sampling model, shared by every layer.

For samples $x_k \sim q$ ($k = 1..m$) of a normalized model with known $\ln q(x_k)$ and a target
$p(x) = e^{-\beta E(x)}/Z$, the Gibbs-Bogoliubov-Feynman inequality gives

$$F_q = \frac1\beta\,\mathbb E_{x\sim q}\bigl[\beta E(x) + \ln q(x)\bigr]
     = F + \frac1\beta\,\mathrm{KL}(q\,\|\,p) \;\ge\; F = -\frac1\beta \ln Z,$$

and importance weights $w_k = e^{-\beta E(x_k)}/q(x_k)$ give a consistent estimate of $F$ itself,
$\hat F = -\frac1\beta \ln \frac1m \sum_k w_k$. Nothing here knows what $x$ is (spins of an
autoregressive network, continuous coordinates of a flow), so `diffsci.flows` and
`diffsci.physics` share it.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from diffsci._internal._validate import check, fail, float_array, inverse_temperature


class VariationalEstimate(eqx.Module):
    r"""Free-energy estimates from $m$ samples of a normalized model $q$.

    **Fields:**

    - `variational`: $F_q = \frac1\beta\langle\beta E + \ln q\rangle_q$, an upper bound on $F$
      (up to its statistical error).
    - `variational_error`: the standard error of `variational`,
      $\mathrm{std}(\beta E + \ln q) / (\beta\sqrt m)$.
    - `importance`: $\hat F = -\frac1\beta\ln\frac1m\sum_k w_k$, $w_k = e^{-\beta E_k}/q_k$: a
      consistent estimate of $F$ (biased upwards by $O(1/m)$ by Jensen's inequality).
    - `importance_error`: its standard error by the delta method,
      $\frac1\beta\,\mathrm{std}(w)/(\sqrt m\,\bar w)
      = \frac1\beta\sqrt{(m/\mathrm{ESS} - 1)/(m-1)}$.
      Trust it only when `ess` is not tiny: with a few dominant weights it underestimates.
    - `ess`: Kish's effective sample size $(\sum_k w_k)^2/\sum_k w_k^2 \in [1, m]$.
    - `energy`: $\langle E\rangle_q$.
    - `entropy`: $-\langle\ln q\rangle_q$.
    - `num_samples`: $m$.
    """

    variational: Float[Array, ""]
    variational_error: Float[Array, ""]
    importance: Float[Array, ""]
    importance_error: Float[Array, ""]
    ess: Float[Array, ""]
    energy: Float[Array, ""]
    entropy: Float[Array, ""]
    num_samples: int = eqx.field(static=True)


def _check(energies, log_q, who, minimum):
    """`energies` and `log_q` as real vectors of one length >= `minimum` in a common float dtype
    (integers promoted)."""
    energies = float_array(energies, "energies", who)
    log_q = float_array(log_q, "log_q", who)
    if energies.ndim != 1:
        fail(who, "energies", "to have shape (m,)", f"shape {energies.shape}", described=True)
    if log_q.shape != energies.shape:
        fail(
            who,
            "log_q",
            f"to have the shape of `energies`, {energies.shape}",
            f"shape {log_q.shape}",
            described=True,
        )
    if energies.shape[0] < minimum:
        fail(
            who,
            "energies",
            f"to hold at least {minimum} samples"
            + (" (an error bar needs two)" if minimum == 2 else ""),
            f"{energies.shape[0]}",
            described=True,
        )
    dtype = jnp.result_type(energies, log_q, float)
    return energies.astype(dtype), log_q.astype(dtype)


_BETA_ZERO = (
    " (at beta = 0, infinite temperature, F = -ln Z / beta and F_q = <E> + <ln q> / beta "
    "diverge; only beta F_q = <ln q> stays finite)"
)


def _beta(beta, dtype, who):
    r"""$\beta$ as a scalar of `dtype`: a positive finite real number."""
    return inverse_temperature(beta, who, _BETA_ZERO, dtype)


def variational_objective(
    energies: Float[ArrayLike, " m"], log_q: Float[ArrayLike, " m"], beta
) -> Float[Array, ""]:
    r"""The training objective $F_q = \frac1\beta\frac1m\sum_k[\beta E(x_k) + \ln q(x_k)]$.

    Differentiable: with reparameterized samples (a flow, where $x_k$ and $\ln q(x_k)$ are
    differentiable functions of the parameters) its gradient is the pathwise estimate of
    $\nabla F_q$. For discrete samples (autoregressive networks) use a score-function
    (REINFORCE) surrogate instead; the value is the same.

    **Arguments:**

    - `energies`: $E(x_k)$, shape `(m,)`.
    - `log_q`: $\ln q(x_k)$, shape `(m,)`.
    - `beta`: the inverse temperature $\beta > 0$.

    **Returns:**

    The scalar $F_q$ (batch mean).

    Checks: `energies` and `log_q` are real vectors of one length $m \ge 1$ (integers
    promoted); `beta` is a positive finite scalar ($F_q$ diverges at $\beta = 0$), checked at
    run time when it is traced. No check of the values of `energies` and `log_q` (this runs in
    every step of a training loop): NaN propagates.
    """
    who = "variational_objective"
    energies, log_q = _check(energies, log_q, who, 1)
    beta = _beta(beta, energies.dtype, who)
    return jnp.mean(beta * energies + log_q) / beta


def variational_free_energy(
    energies: Float[ArrayLike, " m"], log_q: Float[ArrayLike, " m"], beta
) -> VariationalEstimate:
    r"""$F_q$ with its error bar, the importance-sampled $F$ with its error bar, and the ESS.

    See the module docstring for the definitions. Works in log space throughout (the weights
    are normalized by their largest before exponentiating), so it is safe for large $\beta E$.

    **Arguments:**

    - `energies`: $E(x_k)$ of $m \ge 2$ independent samples of $q$, shape `(m,)`.
    - `log_q`: $\ln q(x_k)$ of the same samples (the exact normalized log-density of the
      sampler, or the bound and the estimate are biased).
    - `beta`: the inverse temperature $\beta = 1/T$.

    **Returns:**

    A [`diffsci.utils.VariationalEstimate`][].

    Checks: `energies` and `log_q` are real vectors of one length $m \ge 2$ (integers
    promoted); `beta` is a positive finite scalar (at $\beta = 0$, infinite temperature,
    $F = -\ln Z/\beta$ itself diverges); neither `energies` nor `log_q` holds NaN (an infinite
    energy is allowed: its weight is 0). Value checks run at run time under `jit`.
    """
    who = "variational_free_energy"
    energies, log_q = _check(energies, log_q, who, 2)
    beta = _beta(beta, energies.dtype, who)
    energies = check(energies, jnp.isnan(energies), f"{who}: `energies` has NaN entries")
    log_q = check(log_q, jnp.isnan(log_q), f"{who}: `log_q` has NaN entries")
    m = energies.shape[0]
    reduced = beta * energies + log_q  # beta E + ln q
    log_w = -reduced
    log_sum_w = jax.nn.logsumexp(log_w)
    w_norm = jnp.exp(log_w - log_sum_w)  # normalized weights, sum to 1
    sum_w2 = jnp.sum(w_norm**2)
    ess = 1.0 / sum_w2
    # var(w) / (m mean(w)^2) with ddof=1, written without the cancellation of m sum w^2 - 1
    rel_var = m * jnp.sum((w_norm - 1.0 / m) ** 2) / (m - 1)
    return VariationalEstimate(
        variational=jnp.mean(reduced) / beta,
        variational_error=jnp.std(reduced, ddof=1) / jnp.sqrt(m) / beta,
        importance=-(log_sum_w - jnp.log(m)) / beta,
        importance_error=jnp.sqrt(rel_var) / beta,
        ess=ess,
        energy=jnp.mean(energies),
        entropy=-jnp.mean(log_q),
        num_samples=m,
    )
