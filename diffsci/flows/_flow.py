r"""The Monge-Ampère flow (Zhang, E, Wang, arXiv:1809.10188)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from diffsci._internal._validate import fail, finite, float_array, static_int
from diffsci.ode import (
    AbstractAdjoint,
    AbstractReversibleSolver,
    DirectAdjoint,
    ReversibleAdjoint,
    ReversibleHeun,
    odeint,
)

from ._checks import prng_key, real_number
from ._divergence import AbstractDivergence, ExactLaplacian
from ._potentials import OneLayerPotential

if TYPE_CHECKING:
    import diffrax


def standard_normal_log_prob(x: Float[Array, "... D"]) -> Float[Array, "..."]:
    r"""The standard normal log-density over the last axis,
    $\ln\mathcal N(x; 0, I) = -\tfrac12\lVert x\rVert^2 - \tfrac D2\ln 2\pi$.

    **Arguments:**

    - `x`: points, shape `(..., D)`.

    **Returns:**

    The log-densities, shape `(...)`.

    Checks: `x` is a real array of rank >= 1 (integers promoted to floats) without NaN or
    infinite entries.
    """
    who = "standard_normal_log_prob"
    x = float_array(x, "x", who)
    if x.ndim < 1:
        fail(
            who,
            "x",
            "to be an array of rank >= 1 (points along the last axis)",
            f"shape {x.shape}",
            described=True,
        )
    return _normal_log_prob(finite(x, "x", who))


def _normal_log_prob(x):
    d = x.shape[-1]
    return -0.5 * jnp.sum(x**2, axis=-1) - 0.5 * d * math.log(2 * math.pi)


class _Field(eqx.Module):
    """The augmented vector field $(\\dot x, \\dot \\ell) = (\\nabla\\varphi, -\\nabla^2\\varphi)$
    for a batch; `args = (potential, probes)`."""

    divergence: AbstractDivergence

    def __call__(self, t, y, args):
        x, _ = y
        potential, probes = args

        def one(xi, pi):
            return self.divergence(potential, xi, t, pi)

        if probes is None:
            v, lap = jax.vmap(lambda xi: one(xi, None))(x)
        else:
            v, lap = jax.vmap(one)(x, probes)
        return v, -lap


class _GradientField(eqx.Module):
    r"""The vector field $\dot x = \nabla\varphi(x, t)$ of one point `x` of shape `(D,)`;
    `args = potential`."""

    def __call__(self, t, x, potential):
        return jax.grad(potential)(x, t)


def _is_diffrax_solver(solver) -> bool:
    try:
        import diffrax
    except ImportError:  # pragma: no cover - diffrax is a dependency of diffsci.ode
        return False
    return isinstance(solver, diffrax.AbstractSolver)


def _check_potential(potential, dim, dtype, who):
    """`potential(x, t)` must be callable and give a scalar for `x` of shape `(dim,)`: traced
    once on abstract input, so a potential built for another dimension is refused here."""
    if not callable(potential):
        fail(who, "potential", "to be a callable phi(x, t) -> scalar", potential, TypeError)
    x = jax.ShapeDtypeStruct((dim,), dtype)
    t = jax.ShapeDtypeStruct((), dtype)
    try:
        out = jax.eval_shape(potential, x, t)
    except Exception as err:
        raise ValueError(
            f"{who}: `potential` fails on a point x of shape ({dim},) (is `dim` the potential's "
            f"dimension?): {type(err).__name__}: {err}"
        ) from err
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.shape == ()):
        got = f"shape {out.shape}" if isinstance(out, jax.ShapeDtypeStruct) else "a pytree"
        fail(
            who,
            "potential",
            f"to return a scalar phi(x, t) for x of shape ({dim},)",
            got,
            described=True,
        )


class MongeAmpereFlow(eqx.Module):
    r"""A continuous normalizing flow along the gradient of a scalar potential.

    Samples of the base density $p_0 = \mathcal N(0, I_D)$ move for a time $T$ along

    $$\frac{dx}{dt} = \nabla\varphi_\theta(x, t),\qquad
      \frac{d\ln p(x(t), t)}{dt} = -\nabla^2\varphi_\theta(x(t), t),$$

    the linearized Monge-Ampère equation of optimal transport (Zhang, E, Wang, "Monge-Ampère
    Flow for Generative Modeling", arXiv:1809.10188): the model density is
    $q(x(T)) = p_0(x(0))\exp(-\int_0^T \nabla^2\varphi\,dt)$.

    Both directions integrate the augmented state $(x, \ell)$ with the same vector field
    $(\nabla\varphi, -\nabla^2\varphi)$ with `diffsci.ode.odeint`:

    - `sample_and_log_prob` from $t = 0$ to $T$ with $\ell(0) = \ln p_0(x(0))$;
    - `log_prob` from $t = T$ back to $0$ with $\ell(T) = 0$, so that
      $\ell(0) = \int_0^T\nabla^2\varphi\,dt$ and $\ln q(x) = \ln p_0(x(0)) - \ell(0)$.

    The default adjoint, `diffsci.ode.ReversibleAdjoint`, gives the exact gradient of the
    discrete solution in memory independent of `steps`: training cost grows with the number of
    steps, memory does not.

    **What is exact.** In continuous time the two directions are inverse to each other and
    $\ln q$ is the exact log-density of the pushforward. With `steps` fixed steps:

    - the Laplacian is exact (with `ExactLaplacian`), the time integration is not: $\ln q$ of a
      sample and the position of the sample each carry the global error $O(h^p)$ of the solver
      ($h = T/\text{steps}$, $p = 2$ for `ReversibleHeun`, 4 for `ReversibleRK4`);
    - `log_prob(x)` of a sample $x$ returns `log_q` of `sample_and_log_prob` up to $O(h^p)$, not
      to rounding: the reversible solvers invert a step exactly only on their full internal
      state (e.g. $(y, \hat y, f(\hat y))$ for reversible Heun), and a backward solve that starts
      from $x$ alone re-initializes that state. So the sampler and the density evaluator are
      two discretizations of the same flow that agree to the integrator's accuracy;
    - consequently, with this $\ln q$, $F_q \ge F$ and importance weights are exact only up to
      that discretization error; `sample_and_exact_log_prob` gives the exact density of the
      discrete map instead (the Jacobian determinant, $D$ forward passes per sample);
    - gradients are exact gradients of the discrete computation (to rounding). Training
      therefore minimizes the discrete $F_q$ and can exploit the discretization error (lowering
      $F_q$ where $\ln q$ is underestimated, so that the importance-sampled $F$ falls below the
      exact one): train with `ReversibleRK4` and evaluate with `sample_and_exact_log_prob`
      (`flow_free_energy(..., exact_log_det=True)`).

    **Arguments:**

    - `dim`: $D$.
    - `potential`: $\varphi(x, t) \to$ scalar for `x` of shape `(D,)`: any callable, usually an
      `equinox.Module` (`OneLayerPotential`, `SpinFlipSymmetric`, `LatticeConvPotential`,
      `PermutationInvariantPotential` or your own). Default: `OneLayerPotential(dim, width,
      key=key)`.
    - `key`: a JAX PRNG key for the default potential.
    - `width`: hidden width of the default potential.
    - `divergence`: an `AbstractDivergence`: `ExactLaplacian()` (default) or
      `Hutchinson(...)`.
    - `t_final`: $T$.
    - `steps`: the number of fixed integration steps over $[0, T]$.
    - `solver`: a reversible solver of `diffsci.ode`. Default `ReversibleHeun()` (order 2, one
      field evaluation per step); for variational training pass `ReversibleRK4()` (order 4, 8
      evaluations per step). The trade-off: docs/flows.md, "Choosing the integrator".
    - `adjoint`: a `diffsci.ode` adjoint (default `ReversibleAdjoint()`; `DirectAdjoint()`
      stores every step and supports forward mode).

    Checks (at construction): `dim`, `steps` (and `width`) are integers >= 1, `t_final` a
    positive finite number, `key` a JAX PRNG key, `potential` a callable that returns a scalar
    for `x` of shape `(dim,)` (traced once, abstractly), `divergence`, `solver` and `adjoint` the
    right kinds (a solver for general ODEs: the separable `Leapfrog` and `Yoshida4` are refused).
    """

    potential: Callable
    divergence: AbstractDivergence
    solver: AbstractReversibleSolver | diffrax.AbstractSolver
    adjoint: AbstractAdjoint
    dim: int = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    steps: int = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        potential: Callable | None = None,
        *,
        key: PRNGKeyArray | None = None,
        width: int = 32,
        divergence: AbstractDivergence = ExactLaplacian(),
        t_final: float = 1.0,
        steps: int = 20,
        solver: AbstractReversibleSolver | diffrax.AbstractSolver = ReversibleHeun(),
        adjoint: AbstractAdjoint = ReversibleAdjoint(),
    ):
        who = "MongeAmpereFlow"
        # sizes first: the default potential is built from them
        dim = static_int(dim, "dim", who)
        if potential is None:
            if key is None:
                raise ValueError(
                    "MongeAmpereFlow: give a `potential`, or a `key` to initialize the default "
                    "OneLayerPotential"
                )
            prng_key(key, "key", who)
            width = static_int(width, "width", who, minimum=1)
            if dim < 1:
                fail(who, "dim", "to be an integer >= 1", dim)
            potential = OneLayerPotential(dim, width, key=key)
        self.potential = potential
        self.divergence = divergence
        self.solver = solver
        self.adjoint = adjoint
        self.dim = dim
        self.t_final = real_number(t_final, "t_final", who)
        self.steps = static_int(steps, "steps", who)

    def __check_init__(self):
        who = "MongeAmpereFlow"
        if self.dim < 1:
            fail(who, "dim", "to be an integer >= 1", self.dim)
        if self.steps < 1:
            fail(who, "steps", "to be an integer >= 1", self.steps)
        if not self.t_final > 0:
            fail(who, "t_final", "to be a positive finite number", self.t_final)
        if not isinstance(self.divergence, AbstractDivergence):
            fail(
                who,
                "divergence",
                "to be an AbstractDivergence (ExactLaplacian(), Hutchinson(...))",
                self.divergence,
                TypeError,
            )
        if isinstance(self.solver, AbstractReversibleSolver):
            if self.solver.separable:
                fail(
                    who,
                    "solver",
                    "to be a solver for a general ODE (ReversibleHeun(), "
                    "ReversibleRK4()); a separable Hamiltonian integrator needs a (q, p) state",
                    self.solver,
                    TypeError,
                )
        elif not _is_diffrax_solver(self.solver):
            fail(
                who,
                "solver",
                "to be a solver of diffsci.ode (ReversibleHeun(), ReversibleRK4())",
                self.solver,
                TypeError,
            )
        if not isinstance(self.adjoint, AbstractAdjoint):
            fail(
                who,
                "adjoint",
                "to be a diffsci.ode adjoint (ReversibleAdjoint(), DirectAdjoint(), ...)",
                self.adjoint,
                TypeError,
            )
        _check_potential(self.potential, self.dim, self._dtype(), who)

    def _dtype(self):
        leaves = jax.tree_util.tree_leaves(eqx.filter(self.potential, eqx.is_inexact_array))
        return jnp.result_type(*leaves) if leaves else jnp.result_type(float)

    def _probes(self, key, num, dtype, what):
        if not self.divergence.needs_key:
            return None
        if key is None:
            raise ValueError(
                f"MongeAmpereFlow.{what}: {type(self.divergence).__name__} is stochastic; pass "
                "an explicit `key` for its probes"
            )
        return self.divergence.probes(key, num, self.dim, dtype)

    def _solve(self, y0, ts, probes):
        ys = odeint(
            _Field(self.divergence),
            y0,
            ts,
            (self.potential, probes),
            solver=self.solver,
            adjoint=self.adjoint,
            steps_per_save=self.steps,
        )
        return ys[0][-1], ys[1][-1]

    def _batch(self, x, what, name="x"):
        who = f"MongeAmpereFlow.{what}"
        x = float_array(x, name, who)
        if x.ndim not in (1, 2) or x.shape[-1] != self.dim:
            fail(
                who,
                name,
                f"to have shape (n, {self.dim}) or ({self.dim},)",
                f"shape {x.shape}",
                described=True,
            )
        return finite(x, name, who)

    def _key_and_num(self, key, num, what):
        who = f"MongeAmpereFlow.{what}"
        return prng_key(key, "key", who), static_int(num, "num", who, minimum=1)

    def sample_and_log_prob(
        self, key: PRNGKeyArray, num: int
    ) -> tuple[Float[Array, "num D"], Float[Array, " num"]]:
        r"""Draw `num` samples $x(T)$ and their model log-density $\ln q(x(T))$.

        Integrates from $t = 0$ to $T$ from $x(0) \sim \mathcal N(0, I)$. Differentiable with
        respect to the potential's parameters (reparameterization), which is what variational
        training needs.

        **Arguments:**

        - `key`: a JAX PRNG key (the base samples, and the probes of a stochastic divergence).
        - `num`: the number of samples.

        **Returns:**

        `(x, log_q)` with shapes `(num, D)` and `(num,)`.

        Checks: `key` is a JAX PRNG key, `num` an integer >= 1.
        """
        return self._sample_and_log_prob(key, num, "sample_and_log_prob")

    def _sample_and_log_prob(self, key, num, what):
        key, num = self._key_and_num(key, num, what)
        dtype = self._dtype()
        k_base, k_probe = jr.split(key)
        x0 = jr.normal(k_base, (num, self.dim), dtype)
        probes = self._probes(k_probe, num, dtype, what)
        ts = np.array([0.0, self.t_final])
        return self._solve((x0, _normal_log_prob(x0)), ts, probes)

    def sample(self, key: PRNGKeyArray, num: int) -> Float[Array, "num D"]:
        """Draw `num` samples (`sample_and_log_prob` without the log-density).

        **Arguments:**

        - `key`: a JAX PRNG key.
        - `num`: the number of samples.

        **Returns:**

        Samples of shape `(num, D)`.
        """
        return self._sample_and_log_prob(key, num, "sample")[0]

    def inverse_and_log_det(self, x, *, key: PRNGKeyArray | None = None):
        r"""Map data back to the base space: $x(0)$ and $\ell = \int_0^T\nabla^2\varphi\,dt$
        along the path through $x = x(T)$ (so $\ln q(x) = \ln p_0(x(0)) - \ell$).

        **Arguments:**

        - `x`: points of shape `(n, D)` or `(D,)`.
        - `key`: a JAX PRNG key, needed only with a stochastic divergence.

        **Returns:**

        `(z, ell)` with shapes like `x` and `x.shape[:-1]`.

        Checks: `x` has shape `(n, D)` or `(D,)` (integers promoted to floats) and no NaN or
        infinite entries.
        """
        return self._inverse(x, key, "inverse_and_log_det")

    def _inverse(self, x, key, what):
        return self._inverse_solve(self._batch(x, what), key, what)

    def _inverse_solve(self, x, key, what):
        """`inverse_and_log_det` of a checked `x`."""
        single = x.ndim == 1
        xb = x[None] if single else x
        if key is not None:
            prng_key(key, "key", f"MongeAmpereFlow.{what}")
        probes = self._probes(key, xb.shape[0], xb.dtype, what)
        ts = np.array([self.t_final, 0.0])
        z, ell = self._solve((xb, jnp.zeros(xb.shape[:1], xb.dtype)), ts, probes)
        return (z[0], ell[0]) if single else (z, ell)

    def log_prob(self, x, *, key: PRNGKeyArray | None = None):
        r"""The model log-density $\ln q(x)$ of data, by integrating backwards from $t = T$ to 0.

        **Arguments:**

        - `x`: points of shape `(n, D)` or `(D,)`.
        - `key`: a JAX PRNG key, needed only with a stochastic divergence (`Hutchinson`).

        **Returns:**

        $\ln q(x)$, shape `(n,)` or `()`.

        Checks: as `inverse_and_log_det`.
        """
        z, ell = self._inverse(x, key, "log_prob")
        return _normal_log_prob(z) - ell

    def transform(self, z: Float[Array, "n D"]) -> Float[Array, "n D"]:
        r"""The discrete map $z = x(0) \mapsto x(T)$ that `sample_and_log_prob` applies to its
        base samples: the same solver and steps, without the log-density.

        Integrated with `diffsci.ode.DirectAdjoint`, so that it supports forward mode
        (`jax.jacfwd`); use it for evaluation, not for training (reverse-mode memory grows with
        `steps`).

        **Arguments:**

        - `z`: base points, shape `(n, D)` or `(D,)`.

        **Returns:**

        $x(T)$, shaped like `z`.

        Checks: `z` has shape `(n, D)` or `(D,)` and no NaN or infinite entries.
        """
        z = self._batch(z, "transform", "z")
        return self._map(z) if z.ndim == 1 else jax.vmap(self._map)(z)

    def _map(self, z):
        """`transform` of one point, unchecked."""
        ts = np.array([0.0, self.t_final])
        return odeint(
            _GradientField(),
            z,
            ts,
            self.potential,
            solver=self.solver,
            adjoint=DirectAdjoint(),
            steps_per_save=self.steps,
        )[-1]

    def sample_and_exact_log_prob(
        self, key: PRNGKeyArray, num: int
    ) -> tuple[Float[Array, "num D"], Float[Array, " num"]]:
        r"""Samples and the exact log-density of the discrete map that produced them.

        With $x = \Phi_h(z)$ the composition of the solver's `steps` steps (`transform`),
        $z \sim \mathcal N(0, I)$,

        $$\ln q_h(x) = \ln p_0(z) - \ln\lvert\det \partial\Phi_h/\partial z\rvert,$$

        the Jacobian determinant computed exactly (by `jax.jacfwd`, $D$ tangents, and an LU
        factorization): no time-discretization error. `sample_and_log_prob` instead integrates
        $-\nabla^2\varphi$ along the path, a quadrature that is $O(h^p)$ off the log-determinant
        of the map it applies; `sample_and_exact_log_prob` is the density of the samples it
        returns (to rounding), so $F_q \ge F$ holds up to its statistical error only and
        importance weights are unbiased. This presumes that $\Phi_h$ is one-to-one, true for
        $h\,\mathrm{Lip}(\nabla\varphi)$ small; a non-positive determinant shows that the map
        folds, and raises (use more `steps`). For the same `key` it draws the same base points,
        hence the same samples, as `sample_and_log_prob`, so the two $\ln q$ can be compared
        sample by sample.

        Costs $D$ forward-mode passes through the integration per sample: for evaluation and
        for checking the cheap estimate, at moderate $D$ (a $16\times16$ lattice, $D = 256$, is
        fine on a GPU in batches of a few hundred).

        **Arguments:**

        - `key`: a JAX PRNG key.
        - `num`: the number of samples.

        **Returns:**

        `(x, log_q)` with shapes `(num, D)` and `(num,)`.

        Checks: `key` is a JAX PRNG key, `num` an integer >= 1.
        """
        key, num = self._key_and_num(key, num, "sample_and_exact_log_prob")
        dtype = self._dtype()
        z = jr.normal(jr.split(key)[0], (num, self.dim), dtype)

        def one(zi):
            x = self._map(zi)
            return x, x

        jac, x = jax.vmap(jax.jacfwd(one, has_aux=True))(z)
        sign, log_det = jnp.linalg.slogdet(jac)
        log_det = eqx.error_if(
            log_det,
            jnp.any(sign <= 0),
            "MongeAmpereFlow.sample_and_exact_log_prob: the discrete map has a non-positive "
            "Jacobian determinant, so it is not one-to-one at this step size; use more `steps`",
        )
        return x, _normal_log_prob(z) - log_det
