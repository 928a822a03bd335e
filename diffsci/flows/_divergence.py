r"""Divergence strategies: the velocity $\nabla\varphi$ and its divergence $\nabla^2\varphi$.

The log-density of a Monge-Ampère flow changes by $-\nabla^2\varphi$, so every step needs the
Laplacian of the potential at each sample. Costs per sample, for a potential whose gradient
costs $c$:

| strategy | cost | result |
| --- | --- | --- |
| `ExactLaplacian` on a closed-form potential | $\approx c$ | exact |
| `ExactLaplacian` on any other potential | $\approx D\,c$ ($D$ Hessian-vector products) | exact |
| `Hutchinson(n_probes=P)` | $\approx P\,c$ | unbiased, variance $O(1/P)$ |
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

from diffsci._internal._validate import choice, static_int


def _velocity(potential, x, t):
    return jax.grad(lambda y: potential(y, t))(x)


def _laplacian_autodiff(potential, x, t):
    """Exact Laplacian by forward-over-reverse: one linearization of the gradient, then the
    Hessian diagonal $e_i^\\top H e_i$ from $D$ Hessian-vector products batched with vmap."""
    grad, hvp = jax.linearize(lambda y: _velocity(potential, y, t), x)
    basis = jnp.eye(x.shape[0], dtype=x.dtype)
    diag = jax.vmap(lambda e: jnp.dot(e, hvp(e)))(basis)
    return grad, jnp.sum(diag)


class AbstractDivergence(eqx.Module):
    """How to compute the velocity $\\nabla\\varphi(x, t)$ and the Laplacian
    $\\nabla^2\\varphi(x, t)$ of a potential at one point.

    Subclasses implement `__call__(potential, x, t, probes) -> (velocity, laplacian)` for `x` of
    shape `(D,)`, and `probes(key, num, dim, dtype)`, the random vectors a stochastic estimator
    needs for `num` samples (drawn once per sample and held fixed along the trajectory, so that
    the vector field is a deterministic function of the state, as the reversible adjoint needs),
    or `None`.
    """

    @property
    def needs_key(self) -> bool:
        return False

    def probes(self, key, num: int, dim: int, dtype):
        return None

    @abc.abstractmethod
    def __call__(self, potential, x, t, probes):
        raise NotImplementedError


class ExactLaplacian(AbstractDivergence):
    r"""The exact Laplacian (the default).

    Uses the potential's closed form when it has one (`OneLayerPotential`,
    `LatticeConvPotential`, `SpinFlipSymmetric` of those), else automatic differentiation:
    the gradient is linearized once (`jax.linearize`) and the Hessian diagonal
    $\partial_i^2\varphi = e_i^\top H e_i$ is read off $D$ Hessian-vector products batched with
    `vmap`, $\nabla^2\varphi = \sum_i e_i^\top H e_i$. Cost: $D$ Hessian-vector products per
    sample; no random numbers.

    **Arguments:** None.
    """

    def __call__(self, potential, x, t, probes=None):
        if getattr(potential, "has_analytic_laplacian", False):
            return potential.grad_and_laplacian(x, t)
        return _laplacian_autodiff(potential, x, t)


class Hutchinson(AbstractDivergence):
    r"""Hutchinson's stochastic trace estimator $\nabla^2\varphi \approx \frac1P\sum_{p=1}^P
    \varepsilon_p^\top H\,\varepsilon_p$ with $\mathbb E[\varepsilon\varepsilon^\top] = I$.

    Unbiased for the Laplacian at every point. The variance of one probe is
    $2\lVert H\rVert_F^2$ for Gaussian probes and $2(\lVert H\rVert_F^2 - \sum_i H_{ii}^2)$ for
    Rademacher ($\pm1$) probes, which are never worse. Note that the log-density of a sample
    is then unbiased, but the density and the free energy estimates built on it are not.
    Opt-in: the flow's methods need an explicit `key` to draw the probes (fixed along each
    trajectory). Reference: M. F. Hutchinson, Commun. Stat. Simul. Comput. 19, 433 (1990);
    FFJORD (Grathwohl et al., arXiv:1810.01367) for its use in continuous flows.

    **Arguments:**

    - `probe`: `"rademacher"` (default) or `"gaussian"`.
    - `n_probes`: $P$, probes per sample.

    Checks: `probe` is one of the two names, `n_probes` an integer >= 1.
    """

    probe: str = eqx.field(default="rademacher", static=True)
    n_probes: int = eqx.field(default=1, static=True)

    def __check_init__(self):
        choice(self.probe, "probe", "Hutchinson", ("rademacher", "gaussian"))
        static_int(self.n_probes, "n_probes", "Hutchinson", minimum=1)

    @property
    def needs_key(self) -> bool:
        return True

    def probes(self, key, num, dim, dtype):
        shape = (num, self.n_probes, dim)
        if self.probe == "gaussian":
            return jr.normal(key, shape, dtype)
        return jr.rademacher(key, shape, dtype)

    def __call__(self, potential, x, t, probes):
        if probes is None:
            raise ValueError("Hutchinson: probes are missing (pass a `key` to the flow method)")
        grad, hvp = jax.linearize(lambda y: _velocity(potential, y, t), x)
        quad = jax.vmap(lambda e: jnp.dot(e, hvp(e)))(probes)
        return grad, jnp.mean(quad)
