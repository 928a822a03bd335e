r"""The effective energy of a target pulled back through a flow, for latent-space Monte Carlo.

With $x = g(z)$ the flow's map from the base space and a target $p(x) \propto e^{-\beta E(x)}$,
the pulled-back density of $z$ is $p(g(z))\,|\det \partial g/\partial z|$, i.e.
$e^{-E_{\rm eff}(z)}$ with

$$E_{\rm eff}(z) = \beta E(g(z)) - \ln\lvert\det \partial g/\partial z\rvert
  = \beta E(g(z)) + \ln q(g(z)) - \ln p_0(z),$$

the second form with the flow's density $\ln q(g(z)) = \ln p_0(z) - \ln|\det\partial g/\partial
z|$ (Li and Wang, "Neural Network Renormalization Group", PRL 121, 260601 (2018),
arXiv:1802.02840). Any Markov chain that samples $e^{-E_{\rm eff}}$ in $z$ gives exact samples
$x = g(z)$ of $p$, provided $g$ is a bijection and the log-determinant is that of the map $g$
actually applied; a poor flow only costs efficiency.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from diffsci._internal._validate import float_array
from diffsci.ode import DirectAdjoint, odeint

from ._checks import beta_value, energy_per_point
from ._flow import MongeAmpereFlow, _Field


class AbstractLogDet(eqx.Module):
    r"""How `LatentEnergy` computes $\ln|\det\partial g/\partial z|$ of a flow's map $g$.

    Subclasses implement `__call__(flow, z) -> (x, log_det)` for one point `z` of shape `(D,)`.
    """

    @abc.abstractmethod
    def __call__(self, flow: MongeAmpereFlow, z: Float[Array, " D"]):
        raise NotImplementedError


def _ts(flow):
    return np.array([0.0, flow.t_final])


class JacobianLogDet(AbstractLogDet):
    r"""The exact log-determinant of the discrete map (the default).

    $g$ is the flow's integrator (its `solver`, `steps` and `t_final`) applied to
    $\dot x = \nabla\varphi(x, t)$ from $x(0) = z$, the map `MongeAmpereFlow.sample` applies;
    $\ln|\det \partial g/\partial z|$ is computed from the dense $D \times D$ Jacobian of that
    discrete map (`jax.jacfwd` through a store-every-step solve, `diffsci.ode.DirectAdjoint`),
    so it is exact to rounding whatever the step size, and $E_{\rm eff}$ samples the target
    exactly. Cost: about $D + 1$ solves per evaluation (and its gradient through them), which
    is what low-dimensional targets afford.

    Where $\det\partial g/\partial z \le 0$ the discrete map folds (it is then not a bijection:
    too few `steps` for the potential's curvature); `LatentEnergy` returns $+\infty$ there, so
    a Metropolis test rejects those points. Check the acceptance rate, and use more `steps` if
    it is poor.

    **Arguments:** None.
    """

    def __call__(self, flow, z):
        x, jac = _value_and_jacfwd(flow._map, z)
        sign, log_abs = jnp.linalg.slogdet(jac)
        return x, jnp.where(sign > 0, log_abs, -jnp.inf)


def _value_and_jacfwd(g, z):
    """`(g(z), dg/dz)` with one linearization and `D` forward-mode products."""
    x, lin = jax.linearize(g, z)
    basis = jnp.eye(z.shape[0], dtype=z.dtype)
    return x, jax.vmap(lin, out_axes=1)(basis)


class IntegratedLogDet(AbstractLogDet):
    r"""The flow's own log-density bookkeeping: $\int_0^T\nabla^2\varphi\,dt$ integrated along
    with $x$ (what `MongeAmpereFlow.sample_and_log_prob` returns as $\ln p_0(z) - \ln q$).

    This is the log-determinant of the *continuous* flow, discretized by the same integrator:
    it differs from the log-determinant of the discrete map $g$ by the integrator's global error
    $O(h^p)$ ($h = T/\text{steps}$, $p = 2$ for `ReversibleHeun`). A chain on this $E_{\rm eff}$
    is therefore biased at $O(h^p)$ (measured in `docs/flows.md`): use it only when that error
    is below the statistical error (check by doubling `steps`), for targets whose dimension
    makes `JacobianLogDet` too expensive. Needs a deterministic divergence (`ExactLaplacian`).
    Cost: one solve.

    **Arguments:** None.
    """

    def __call__(self, flow, z):
        if flow.divergence.needs_key:
            raise ValueError(
                f"IntegratedLogDet: the flow's divergence {type(flow.divergence).__name__} is "
                "stochastic, so the energy would be random; use ExactLaplacian() or "
                "JacobianLogDet()"
            )
        y0 = (z[None], jnp.zeros((1,), z.dtype))
        xs, ells = odeint(
            _Field(flow.divergence),
            y0,
            _ts(flow),
            (flow.potential, None),
            solver=flow.solver,
            adjoint=DirectAdjoint(),
            steps_per_save=flow.steps,
        )
        # d ell/dt = -laplacian, ell(0) = 0: ell(T) = -int laplacian dt = -log det
        return xs[-1, 0], -ells[-1, 0]


class LatentEnergy(eqx.Module):
    r"""$E_{\rm eff}(z) = \beta E(g(z)) - \ln|\det\partial g/\partial z|$: a target
    $e^{-\beta E}$ pulled back to the base space of a flow.

    Build it with [`diffsci.flows.latent_energy`][]. Calling it on one point `z` of shape `(D,)`
    returns the scalar $E_{\rm eff}(z)$ (dimensionless: $\beta$ is included), differentiable in
    `z` and in the flow's parameters; `transform` and `transform_and_log_det` give $x = g(z)$.

    **Fields:**

    - `flow`: the `MongeAmpereFlow` whose map is $g$ (`sample`'s direction, base to data).
    - `energy_fn`: $E(x)$ for one `x` of shape `(D,)`.
    - `beta`: $\beta$.
    - `log_det`: an [`diffsci.flows.AbstractLogDet`][].

    Checks: at construction, the kinds of the fields, a scalar `beta`, and a deterministic
    divergence for `IntegratedLogDet`; on each call, `z` of shape `(D,)` (integers promoted,
    float16 and complex refused).
    """

    flow: MongeAmpereFlow
    energy_fn: Callable
    beta: Float[Array, ""]
    log_det: AbstractLogDet

    def __check_init__(self):
        who = "LatentEnergy"
        if not isinstance(self.flow, MongeAmpereFlow):
            raise TypeError(f"{who}: expected a MongeAmpereFlow, got {type(self.flow).__name__}")
        if not callable(self.energy_fn):
            raise TypeError(f"{who}: energy_fn must be callable, got {self.energy_fn!r}")
        if not isinstance(self.log_det, AbstractLogDet):
            raise TypeError(
                f"{who}: log_det must be an AbstractLogDet (JacobianLogDet(), "
                f"IntegratedLogDet()), got {self.log_det!r}"
            )
        if jnp.ndim(self.beta) != 0:
            raise ValueError(f"{who}: beta must be a real scalar, got shape {jnp.shape(self.beta)}")
        if isinstance(self.log_det, IntegratedLogDet) and self.flow.divergence.needs_key:
            raise ValueError(
                f"{who}: IntegratedLogDet needs a deterministic divergence, but the flow's "
                f"divergence {type(self.flow.divergence).__name__} is stochastic, so the energy "
                "would be random; use ExactLaplacian() or JacobianLogDet()"
            )

    def _point(self, z, what):
        # integers promoted to floats, float16/bfloat16 and complex refused
        z = float_array(z, "z", f"LatentEnergy.{what}")
        if z.ndim != 1 or z.shape[0] != self.flow.dim:
            raise ValueError(
                f"LatentEnergy.{what}: expected z of shape ({self.flow.dim},), got {z.shape}"
            )
        return z

    def transform_and_log_det(self, z: Float[Array, " D"]):
        r"""$x = g(z)$ and $\ln|\det\partial g/\partial z|$ (by `log_det`) at one point.

        **Arguments:**

        - `z`: a point of the base space, shape `(D,)`.

        **Returns:**

        `(x, log_det)`, shapes `(D,)` and `()`.
        """
        return self.log_det(self.flow, self._point(z, "transform_and_log_det"))

    def transform(self, z: Float[Array, "... D"]) -> Float[Array, "... D"]:
        """$x = g(z)$ for points of shape `(D,)` or `(n, D)`.

        **Arguments:**

        - `z`: points of the base space.

        **Returns:**

        $x$, shaped like `z`.
        """
        z = jnp.asarray(z)
        if z.ndim == 2:
            return jax.vmap(self.transform)(z)
        return self.flow._map(self._point(z, "transform"))

    def __call__(self, z: Float[Array, " D"]) -> Float[Array, ""]:
        x, log_det = self.log_det(self.flow, self._point(z, "__call__"))
        e = self.beta.astype(x.dtype) * self.energy_fn(x) - log_det
        # a folded map (log_det = -inf) gives +inf: rejected by any Metropolis test
        return jnp.where(jnp.isneginf(log_det), jnp.inf, e)


def latent_energy(
    flow: MongeAmpereFlow,
    energy_fn: Callable[[Array], Array],
    beta: float = 1.0,
    *,
    log_det: AbstractLogDet = JacobianLogDet(),
) -> LatentEnergy:
    r"""The effective energy of latent-space sampling with a flow (NeuralRG).

    $$E_{\rm eff}(z) = \beta E(g(z)) - \ln\lvert\det\partial g/\partial z\rvert
      = \beta E(g(z)) + \ln q(g(z)) - \ln p_0(z),$$

    where $g$ is the flow's map from the base space (`MongeAmpereFlow.sample`'s direction). If
    $z \sim e^{-E_{\rm eff}}$ then $x = g(z) \sim e^{-\beta E}$ exactly, for any flow that is a
    bijection: training only makes $E_{\rm eff}$ closer to $\tfrac12|z|^2$, which makes a
    sampler in $z$ (e.g. `diffsci.physics.LatentHMC`) decorrelate faster (Li and Wang, PRL 121,
    260601 (2018), arXiv:1802.02840, "latent space HMC").

    Exactness needs the log-determinant of the *discrete* map: the default `JacobianLogDet()`;
    `IntegratedLogDet()` is cheaper and biased at the integrator's order.

    **Arguments:**

    - `flow`: a trained (or not) `MongeAmpereFlow`.
    - `energy_fn`: $E(x)$ for one `x` of shape `(D,)`, differentiable.
    - `beta`: the inverse temperature $\beta$.
    - `log_det`: `JacobianLogDet()` (default, exact) or `IntegratedLogDet()`.

    **Returns:**

    A [`diffsci.flows.LatentEnergy`][]: call it on `z` of shape `(D,)` for $E_{\rm eff}(z)$;
    its `transform(z)` gives $x = g(z)$.

    Checks: `flow`, `energy_fn` (traced once: one scalar per point of shape `(D,)`) and
    `log_det` are of the right kinds; `beta` is a positive finite scalar (at $\beta = 0$ the
    target $e^{-\beta E} = 1$ has no normalizable density on $\mathbb R^D$); a traced `beta` is
    checked at run time.
    """
    if not isinstance(flow, MongeAmpereFlow):
        raise TypeError(f"latent_energy: expected a MongeAmpereFlow, got {type(flow).__name__}")
    if not callable(energy_fn):
        raise TypeError(f"latent_energy: energy_fn must be callable, got {energy_fn!r}")
    if not isinstance(log_det, AbstractLogDet):
        raise TypeError(
            "latent_energy: log_det must be an AbstractLogDet (JacobianLogDet(), "
            f"IntegratedLogDet()), got {log_det!r}"
        )
    beta_arr = jnp.asarray(beta)
    if beta_arr.ndim != 0 or not jnp.issubdtype(beta_arr.dtype, jnp.number):
        raise ValueError(f"latent_energy: beta must be a real scalar, got {beta!r}")
    beta_arr = jnp.asarray(beta_value(beta_arr, "latent_energy", _BETA_ZERO))
    energy_per_point(energy_fn, flow.dim, flow._dtype(), "latent_energy")
    return LatentEnergy(flow, energy_fn, beta_arr.astype(flow._dtype()), log_det)


_BETA_ZERO = (
    ": at beta = 0 the target exp(-beta E) = 1 has no normalizable density on R^D, "
    "so there is nothing to sample"
)
