r"""Hybrid Monte Carlo in the latent space of a flow (NeuralRG, Li and Wang, PRL 121, 260601).

HMC runs on $z$ with the effective energy of [`diffsci.flows.latent_energy`][], and every state
is mapped to the physical space by $x = g(z)$. The kernel is `HMC`'s own (this module builds one
per step on the latent energy); nothing of the leapfrog is repeated here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from diffsci._internal import _validate as v
from diffsci.flows import (
    AbstractLogDet,
    JacobianLogDet,
    LatentEnergy,
    MongeAmpereFlow,
    latent_energy,
)

from ._samplers import (
    AbstractSampler,
    SampleResult,
    _hmc_integrator,
    _hmc_step,
    _refuse_concrete,
    _scalar_parameter,
    sample,
)


def _check_latent_arguments(energy_fn, flow, beta, log_det, who):
    """The kinds of the arguments handed on to `diffsci.flows.latent_energy`, and `beta`."""
    v.callable_arg(energy_fn, "energy_fn", who)
    if not isinstance(flow, MongeAmpereFlow):
        v.fail(who, "flow", "to be a diffsci.flows.MongeAmpereFlow", flow, TypeError)
    if not isinstance(log_det, AbstractLogDet):
        v.fail(
            who,
            "log_det",
            "to be a diffsci.flows.AbstractLogDet (JacobianLogDet(), IntegratedLogDet())",
            log_det,
            TypeError,
        )
    # at beta = 0 the target exp(-beta E) = 1 has no normalizable density on R^D
    _refuse_concrete(_scalar_parameter(beta, "beta", who), "beta", who)


def _latent_points(z0, dim, who):
    """Initial latent points: finite, shape (chains, dim)."""
    z = v.float_array(z0, "z0", who)
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] != dim:
        v.fail(
            who,
            "z0",
            f"to have shape (chains, {dim}), one latent point of the flow's dimension per chain",
            f"shape {z.shape}",
            described=True,
        )
    return v.finite(z, "z0", who)


def _as_function(latent):
    def energy(z):
        return latent(z)

    return energy


class LatentHMC(AbstractSampler):
    r"""Hybrid Monte Carlo on the latent variable $z$ of a flow $x = g(z)$.

    One step is an [`diffsci.physics.HMC`][] step (momenta $p \sim \mathcal N(0, I)$,
    `num_steps` leapfrog steps of size `step_size`, Metropolis test on
    $E_{\rm eff}(z) + \tfrac12|p|^2$) on the effective energy

    $$E_{\rm eff}(z) = \beta E(g(z)) - \ln\lvert\det\partial g/\partial z\rvert$$

    of [`diffsci.flows.latent_energy`][]. The chain in $z$ leaves $e^{-E_{\rm eff}}$ invariant,
    so $x = g(z)$ samples $e^{-\beta E}$ exactly (with the default `JacobianLogDet`, for any
    flow that is a bijection); the better the flow, the closer $E_{\rm eff}$ is to
    $\tfrac12|z|^2$ and the faster the chain decorrelates (Li and Wang, "Neural Network
    Renormalization Group", PRL 121, 260601 (2018), arXiv:1802.02840).

    The chain's configurations (`SamplerState.x`) are latent points $z$, its energies are
    $E_{\rm eff}(z)$ (dimensionless, $\beta$ included); map them with `to_physical`, or use
    [`diffsci.physics.latent_hmc`][], which records observables of $x$.

    **Arguments:**

    - `energy_fn`: the physical energy $E(x)$ for one `x` of shape `(D,)`, differentiable.
    - `flow`: a `diffsci.flows.MongeAmpereFlow` of dimension $D$ (usually trained on the target
      with `diffsci.flows.train_variational`).
    - `beta`: inverse temperature.
    - `step_size`, `num_steps`: the leapfrog step and the steps per trajectory.
    - `log_det`: `diffsci.flows.JacobianLogDet()` (default, exact) or
      `diffsci.flows.IntegratedLogDet()` (cheaper, biased at the integrator's order).
    - `integrator`: a separable `diffsci.ode` solver (default `Leapfrog()`), as for `HMC`.

    Checks, once at construction: `energy_fn` callable, `flow` a `MongeAmpereFlow`,
    `num_steps` an integer >= 1, `log_det` and `integrator` of the right kinds (trace time);
    `beta` and `step_size` positive and finite (`ValueError` when concrete, a run-time check
    when traced). `check_initial` (called by `sample`) asks for finite latent points of shape
    `(chains, D)`.
    """

    latent: LatentEnergy
    step_size: Float[Array, ""]
    num_steps: int = eqx.field(static=True)
    integrator: eqx.Module

    def __init__(
        self,
        energy_fn: Callable,
        flow: MongeAmpereFlow,
        beta: float,
        step_size: float,
        num_steps: int,
        *,
        log_det: AbstractLogDet = JacobianLogDet(),
        integrator=None,
    ):
        who = "LatentHMC"
        _check_latent_arguments(energy_fn, flow, beta, log_det, who)
        self.step_size = _scalar_parameter(step_size, "step_size", who)
        self.num_steps = v.static_int(num_steps, "num_steps", who, minimum=1)
        self.integrator = _hmc_integrator(integrator, who)
        self.latent = latent_energy(flow, energy_fn, beta, log_det=log_det)

    def __check_init__(self):
        _refuse_concrete(self.step_size, "step_size", "LatentHMC")

    def check_initial(self, x0, who="sample"):
        return _latent_points(x0, self.latent.flow.dim, who)

    def energy(self, z):
        return self.latent(z)

    def step(self, state, key):
        # the HMC kernel on E_eff, as a plain function closing over the flow's arrays (traced
        # here); beta = 1, since E_eff already holds it
        return _hmc_step(
            _as_function(self.latent),
            jnp.asarray(1.0, jnp.result_type(float)),
            self.step_size,
            self.num_steps,
            self.integrator,
            state,
            key,
        )

    def to_physical(self, z: Float[Array, "... D"]) -> Float[Array, "... D"]:
        """$x = g(z)$ for latent points of shape `(D,)` or `(n, D)`."""
        return self.latent.transform(z)

    def to_latent(self, x: Float[Array, "... D"]) -> Float[Array, "... D"]:
        """Latent starting points for physical ones: the flow's backward solve.

        The backward solve inverts $g$ only to the integrator's accuracy, which is harmless for
        the initial state of a chain (only the stationary distribution matters).
        """
        return self.latent.flow.inverse_and_log_det(x)[0]


def latent_hmc(
    energy_fn: Callable,
    flow: MongeAmpereFlow,
    z0: Float[Array, "chains D"],
    *,
    key: PRNGKeyArray,
    steps: int,
    step_size: float,
    num_steps: int,
    beta: float = 1.0,
    observable: Callable | None = None,
    log_det: AbstractLogDet = JacobianLogDet(),
    integrator=None,
    chunk_steps: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = False,
) -> SampleResult:
    r"""Run latent-space HMC chains and record observables of the physical configurations.

    Builds a [`diffsci.physics.LatentHMC`][] and runs it with [`diffsci.physics.sample`][] from
    the latent points `z0` (e.g. `jax.random.normal(key, (chains, D))`, or
    `LatentHMC.to_latent(x0)`); after every step `observable(x)` is recorded at $x = g(z)$.

    **Arguments:**

    - `energy_fn`, `flow`, `beta`, `step_size`, `num_steps`, `log_det`, `integrator`: as in
      `LatentHMC`.
    - `z0`: initial latent points, shape `(chains, D)`.
    - `key`, `steps`, `chunk_steps`, `checkpoint_dir`, `progress`: as in `sample`.
    - `observable`: a function of one physical configuration `x` of shape `(D,)`; default: `x`
      itself (so `observables` holds the samples, shape `(steps, chains, D)`).

    **Returns:**

    A [`diffsci.physics.SampleResult`][]: `state.x` holds the final latent points, `energies`
    the effective energies $E_{\rm eff}$, `observables` the observable of $x = g(z)$.

    Checks, before anything runs: the arguments of `LatentHMC` and of `sample` (with this
    function's name in the messages), and `z0`: finite, of shape `(chains, D)`.
    """
    who = "latent_hmc"
    _check_latent_arguments(energy_fn, flow, beta, log_det, who)
    z0 = _latent_points(z0, flow.dim, who)
    _refuse_concrete(_scalar_parameter(step_size, "step_size", who), "step_size", who)
    v.static_int(num_steps, "num_steps", who, minimum=1)
    _hmc_integrator(integrator, who)
    v.prng_key(key, "key", who)
    v.static_int(steps, "steps", who, minimum=1)
    if chunk_steps is not None:
        v.static_int(chunk_steps, "chunk_steps", who, minimum=1)
    if observable is not None:
        v.callable_arg(observable, "observable", who)
    sampler = LatentHMC(
        energy_fn, flow, beta, step_size, num_steps, log_det=log_det, integrator=integrator
    )
    obs = (lambda x: x) if observable is None else observable
    latent = sampler.latent

    def physical_observable(z):
        return obs(latent.transform(z))

    return sample(
        sampler,
        z0,
        key=key,
        steps=steps,
        observable=physical_observable,
        chunk_steps=chunk_steps,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )
