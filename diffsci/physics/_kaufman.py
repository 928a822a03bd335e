r"""The exact partition function of the Ising model on a finite periodic square lattice
(Kaufman 1949)."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from diffsci._internal import _validate as v


def _power_pair(a, b, m):
    r"""$a^m \pm b^m$ for real $a$, $b$ (not both zero), as (log, weight) pairs:
    $a^m \pm b^m = e^{\ell} w_\pm$ with $\ell = m \ln \max(|a|, |b|)$ and $|w_\pm| \le 2$.

    Written as $a^m (1 \pm (b/a)^m)$ when $|a| \ge |b|$, else $b^m ((a/b)^m \pm 1)$: the ratio
    is at most 1 in size, so nothing overflows, and both forms are the same smooth function,
    so derivatives are exact on either side of the switch. The weight stays linear (not a
    logarithm), so a factor that crosses zero, $|a| = |b|$, keeps its derivative there."""
    a_big = jnp.abs(a) >= jnp.abs(b)
    big = jnp.where(a_big, a, b)
    p = (jnp.where(a_big, b, a) / big) ** m
    scale = jnp.sign(big) ** m
    return m * jnp.log(jnp.abs(big)), scale * (1.0 + p), scale * jnp.where(a_big, 1.0 - p, p - 1.0)


def kaufman_log_z(beta: Float[ArrayLike, ""], rows: int, cols: int) -> Float[Array, ""]:
    r"""$\ln Z$ of the Ising model ($J = 1$, no field) on a periodic `rows` x `cols` square
    lattice (a torus of $N = mn$ sites, $2N$ bonds), exactly.

    Kaufman's solution by spinor analysis (B. Kaufman, "Crystal statistics. II. Partition
    function evaluated by spinor analysis", Phys. Rev. 76, 1232 (1949), eq. (43); in the
    notation of P. D. Beale, Phys. Rev. Lett. 76, 78 (1996), eqs. (2)-(4)), with $K = \beta$,
    $m = $ `rows`, $n = $ `cols`:

    $$Z = \tfrac12 (2\sinh 2K)^{mn/2}\,(Z_1 + Z_2 + Z_3 + Z_4),$$
    $$Z_1 = \prod_{r=0}^{n-1} 2\cosh\tfrac{m\gamma_{2r+1}}2,\quad
      Z_2 = \prod_{r=0}^{n-1} 2\sinh\tfrac{m\gamma_{2r+1}}2,\quad
      Z_3 = \prod_{r=0}^{n-1} 2\cosh\tfrac{m\gamma_{2r}}2,\quad
      Z_4 = \prod_{r=0}^{n-1} 2\sinh\tfrac{m\gamma_{2r}}2,$$

    $\cosh\gamma_l = \cosh 2K\coth 2K - \cos(\pi l/n)$ ($\gamma_l > 0$ for $l \ge 1$) and
    $\gamma_0 = 2K + \ln\tanh K$, which changes sign at $\beta_c$ (so $Z_4 < 0$ above $T_c$).

    Each factor is evaluated with its share $(2\sinh 2K)^{m/2}$ of the prefactor, as
    $a_l^m \pm b_l^m$ with $a_l = (2\sinh 2K\, e^{\gamma_l})^{1/2}$, $b_l = 2\sinh 2K / a_l$:
    $a_l^2 = 2[q_l + (q_l^2 - \sinh^2 2K)^{1/2}]$, $q_l = \cosh^2 2K - \sinh 2K\cos(\pi l/n)$,
    and, in closed form, $a_0 = e^{2K} - 1$, $b_0 = 1 + e^{-2K}$, $a_n = 1 + e^{2K}$,
    $b_n = 1 - e^{-2K}$. These are analytic in $K$ on the whole real line, so the formula holds
    at infinite temperature ($\ln Z(0) = N\ln 2$, with all its derivatives) and continues to
    $K < 0$ (the antiferromagnet). The terms are combined in log space with their signs, so it
    holds for any size (16x16 at $\beta_c$: $\ln Z \approx 240$) and is differentiable in `beta`.
    A side of 2 has two bonds between the same pair of sites, as
    `square_lattice_couplings` builds it.

    **Arguments:**

    - `beta`: a finite real scalar $\beta$ (a JAX scalar; differentiable). Any $\beta \ge 0$;
      $\beta < 0$ when both sides are even.
    - `rows`, `cols`: the sides $m, n \ge 2$ (Python integers).

    **Returns:**

    $\ln Z$ (not per site).

    Checks: the sides are integers $\ge 2$ and `beta` a real scalar (trace time); at run time,
    `beta` is finite, and $\beta \ge 0$ if a side is odd. With both sides even the torus is
    bipartite, the gauge $s \to -s$ on one sublattice maps $K$ to $-K$, and
    $Z(-\beta) = Z(\beta)$ is what the formula gives. With an odd side the antiferromagnet is
    frustrated: the formula still holds in exact arithmetic, but its four terms, each of the
    size of the ferromagnet's $Z$, cancel to the much smaller frustrated $Z$, and the digits
    lost grow like $|\beta| N$ (all of them by $\beta \approx -2$ on a 3x3 torus), so it is
    refused (use `ising_exact` for up to 24 spins).
    """
    who = "kaufman_log_z"
    m = v.static_int(rows, "rows", who, minimum=2)
    n = v.static_int(cols, "cols", who, minimum=2)
    k = v.float_array(beta, "beta", who)
    if k.ndim != 0:
        v.fail(who, "beta", "to be a scalar", f"shape {k.shape}", described=True)
    k = v.finite(k, "beta", who)
    if m % 2 or n % 2:
        k = v.check(
            k,
            k < 0,
            f"{who}: expected `beta` >= 0 on a {m} x {n} torus (a side is "
            "odd: the antiferromagnet is frustrated and Kaufman's four terms cancel "
            "catastrophically; Z(-beta) = Z(beta) holds only when both sides are even)",
        )
    return _kaufman(k, m, n)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _kaufman(k, m, n):
    """The formula of `kaufman_log_z` for a checked `beta` (one compiled program per size)."""
    sinh2, cosh2 = jnp.sinh(2 * k), jnp.cosh(2 * k)
    ls = np.arange(2 * n)
    generic = (ls != 0) & (ls != n)
    cos_l = jnp.asarray(np.cos(np.pi * ls[generic] / n), k.dtype)
    q = cosh2**2 - sinh2 * cos_l
    a_generic = jnp.sqrt(2 * (q + jnp.sqrt(q * q - sinh2**2)))
    a = jnp.zeros(2 * n, k.dtype).at[generic].set(a_generic)
    b = jnp.zeros(2 * n, k.dtype).at[generic].set(2 * sinh2 / a_generic)
    a = a.at[0].set(jnp.expm1(2 * k)).at[n].set(1 + jnp.exp(2 * k))
    b = b.at[0].set(1 + jnp.exp(-2 * k)).at[n].set(-jnp.expm1(-2 * k))
    log_scale, plus, minus = _power_pair(a, b, m)
    # The factors of the generic modes (|a| > |b| strictly, never zero) go into the logarithm,
    # those of l = 0 and l = n (zero at K = +-beta_c) stay linear weights; a product has at most
    # one of them near zero, so its derivative there is the product rule's, not NaN.
    special = jnp.asarray(~generic)
    log_plus = log_scale + jnp.where(special, 0.0, jnp.log(jnp.abs(plus)))
    log_minus = log_scale + jnp.where(
        special, 0.0, jnp.log(jnp.abs(jnp.where(special, 1.0, minus)))
    )
    w_plus = jnp.where(special, plus, jnp.sign(plus))
    w_minus = jnp.where(special, minus, jnp.sign(minus))
    odd, even = slice(1, None, 2), slice(0, None, 2)
    logs = jnp.stack(
        [
            jnp.sum(log_plus[odd]),
            jnp.sum(log_minus[odd]),
            jnp.sum(log_plus[even]),
            jnp.sum(log_minus[even]),
        ]
    )
    weights = jnp.stack(
        [
            jnp.prod(w_plus[odd]),
            jnp.prod(w_minus[odd]),
            jnp.prod(w_plus[even]),
            jnp.prod(w_minus[even]),
        ]
    )
    # ln sum_i w_i e^{L_i} by hand: jax.nn.logsumexp drops the terms with w_i = 0, and with
    # them the derivative of a weight that crosses zero
    top = jax.lax.stop_gradient(jnp.max(logs))
    return top + jnp.log(jnp.sum(weights * jnp.exp(logs - top))) - math.log(2.0)
