r"""The Ising model as a continuous density: the Hubbard-Stratonovich transform.

Continuous generative models (`diffsci.flows`) need a density on $\mathbb R^N$; the Ising model
is a distribution on $\{\pm1\}^N$. A Gaussian integral turns one into the other exactly, with the
same partition function up to a known constant.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from diffsci._internal import _validate as v

from ._ising import _beta, _couplings


class IsingHubbardStratonovich(eqx.Module):
    r"""The continuous relaxation $E(x)$ of an Ising model; see `ising_hubbard_stratonovich`.

    Call it on one field `x` of shape `(N,)` for $E(x)$ (the shape is checked at trace time;
    `vmap` it for a batch).

    **Fields:**

    - `kernel`: $K = \beta J + \alpha I$, shape `(N, N)`, positive definite.
    - `kernel_inverse`: $K^{-1}$.
    - `offset`: $c$ with $\ln Z_{\rm Ising} = \ln Z_E + c$, $Z_E = \int e^{-E(x)}dx$.
    - `beta`: $\beta$.
    """

    kernel: Float[Array, "N N"]
    kernel_inverse: Float[Array, "N N"]
    offset: Float[Array, ""]
    beta: Float[Array, ""]

    def __call__(self, x: Float[Array, " N"]) -> Float[Array, ""]:
        n = self.kernel.shape[-1]
        x = v.float_array(x, "x", "IsingHubbardStratonovich", shape=(n,))
        return 0.5 * x @ (self.kernel_inverse @ x) - jnp.sum(jnp.logaddexp(x, -x))

    def ising_free_energy(self, free_energy_e, error=0.0):
        r"""Map a free energy $F_E = -\ln Z_E$ of $E$ (in nats, $\beta_E = 1$) and its error to
        the Ising free energy $F = -\ln Z_{\rm Ising}/\beta = (F_E - c)/\beta$ and its error."""
        return (free_energy_e - self.offset) / self.beta, error / self.beta

    def spin_weights(self, x: Float[Array, "... N"]) -> Float[Array, "... N"]:
        r"""$\langle s_i\rangle$ given the field: $p(s\mid x) \propto e^{s\cdot x}$ factorizes,
        so $\langle s_i\mid x\rangle = \tanh x_i$."""
        return jnp.tanh(x)


def ising_hubbard_stratonovich(
    couplings: Float[ArrayLike, "N N"], beta, shift: float = 1.0
) -> IsingHubbardStratonovich:
    r"""The Ising model $Z = \sum_{s\in\{\pm1\}^N} e^{\frac\beta2 s^\top J s}$ as a density on
    $\mathbb R^N$, by the Hubbard-Stratonovich (Gaussian) transform.

    With $K = \beta J + \alpha I$ positive definite and $s_i^2 = 1$,
    $e^{\frac12 s^\top K s} = \int \frac{dx}{\sqrt{(2\pi)^N\det K}}\,
    e^{-\frac12 x^\top K^{-1}x + s\cdot x}$, and $\sum_{s_i = \pm1} e^{s_i x_i} = 2\cosh x_i$, so

    $$Z = e^{c}\int dx\, e^{-E(x)},\qquad
      E(x) = \tfrac12 x^\top K^{-1} x - \sum_i \ln 2\cosh x_i,\qquad
      c = -\tfrac{\alpha N}2 - \tfrac N2\ln 2\pi - \tfrac12\ln\det K .$$

    The density $e^{-E}/Z_E$ is the Gaussian mixture $\sum_s p_{\rm Ising}(s)\,
    \mathcal N(x; Ks, K)$, and given $x$ the spins are independent with
    $\langle s_i\rangle = \tanh x_i$. (Zhang, E, Wang, arXiv:1809.10188, section 4.2; the same
    relaxation as Li and Wang, PRL 121, 260601 (2018).)

    The diagonal shift is $\alpha = $ `shift` $- \lambda_{\min}(\beta J)$, so that
    $\lambda_{\min}(K) = $ `shift`. Every `shift > 0` gives the same $Z$; it changes the
    shape of the density: a large shift separates the $2^N$ mixture components (a rougher
    density for a flow to learn), a small one squeezes the density along the eigenvector of
    $\lambda_{\min}$ (a stiffer one).

    **Arguments:**

    - `couplings`: $J$, shape `(N, N)`, symmetric with a zero diagonal, the convention of
      [`diffsci.physics.ising_energy`][] (e.g. `square_lattice_couplings(L)`). A diagonal
      would only multiply $Z$ by $e^{\beta\,\mathrm{tr} J/2}$ here, but `ising_exact` and the
      samplers refuse it, so it is refused here too rather than giving another $Z$.
    - `beta`: $\beta$, a finite real scalar.
    - `shift`: $\lambda_{\min}(K) > 0$.

    **Returns:**

    An `IsingHubbardStratonovich` (call it for $E(x)$; its `offset` is $c$).

    Checks: `couplings` square (trace time); at run time, `couplings` finite, symmetric to
    $\sqrt\epsilon$ relative and with a zero diagonal, `beta` finite, `shift` positive
    (a concrete `shift` at once, with `ValueError`).
    """
    who = "ising_hubbard_stratonovich"
    j = _couplings(couplings, who)
    shift = v.static_positive(shift, "shift", who)
    n = j.shape[0]
    beta = _beta(beta, j.dtype, who)
    bj = beta * j
    alpha = shift - jnp.linalg.eigvalsh(bj)[0]
    kmat = bj + alpha * jnp.eye(n, dtype=j.dtype)
    chol = jnp.linalg.cholesky(kmat)
    eye = jnp.eye(n, dtype=j.dtype)
    chol_inv = jnp.linalg.solve(chol, eye)
    kinv = chol_inv.T @ chol_inv
    log_det = 2.0 * jnp.sum(jnp.log(jnp.diag(chol)))
    offset = -0.5 * alpha * n - 0.5 * n * math.log(2 * math.pi) - 0.5 * log_det
    return IsingHubbardStratonovich(
        kernel=kmat, kernel_inverse=0.5 * (kinv + kinv.T), offset=offset, beta=beta
    )
