r"""Markov chain Monte Carlo samplers of $e^{-\beta E(x)}/Z$, run as a `lax.scan` over chains.

Every sampler is an `equinox.Module` with `init(x) -> SamplerState` and
`step(state, key) -> (state, acceptance)` for *one* chain; [`diffsci.physics.sample`][] runs a
batch of chains with `vmap` inside a `lax.scan` over steps. The key of step `t` is
`jax.random.fold_in(key, t)`, split into one key per chain, so a run is a deterministic function of
`(key, x0)`: the same in one piece, in chunks, resumed from a checkpoint, or sharded over devices.

Validation happens once, never inside the loop over steps: each constructor checks its parameters
(`__init__` converts them, `__check_init__` refuses concrete bad values with `ValueError`; a
traced parameter gets a run-time check through `equinox.error_if`, attached once to the stored
field), and `sample` checks the initial configurations with the sampler's `check_initial`.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from diffsci._internal import _validate as v
from diffsci._internal._results import RESULTS

from ._ising import _couplings, _energy, _field


def _scalar_parameter(x, name, who, *, allow_zero=False, sign=True):
    """A real scalar parameter as a default-float array. Concrete values are checked in the
    class's `__check_init__` (ValueError); a traced one gets its run-time check here, once.
    `sign`: it must be positive (or >= 0 with `allow_zero`); else only finite."""
    a = v.float_array(x, name, who, ndim=0).astype(jnp.result_type(float))
    if v.is_concrete(a):
        return a
    if sign:
        return v.positive(a, name, who, allow_zero=allow_zero)
    return v.finite(a, name, who)


def _refuse_concrete(x, name, who, *, allow_zero=False, sign=True):
    """For `__check_init__`: ValueError if the concrete scalar `x` is not finite (and, with `sign`,
    not positive, or negative with `allow_zero`). A traced `x` was checked by
    `_scalar_parameter`."""
    if not v.is_concrete(x):
        return
    value = float(x)
    if not np.isfinite(value):
        v.fail(who, name, "to be a finite number", x)
    if sign and not (value >= 0 if allow_zero else value > 0):
        v.fail(who, name, "to be " + ("non-negative" if allow_zero else "positive"), x)


def _scalar_energy(energy_fn, x, who):
    """Trace `energy_fn` once on one configuration: it must return one real scalar."""
    v.energy_per_sample(energy_fn, x.shape[1:], x.dtype, who)


class SamplerState(eqx.Module):
    """The state of one chain: the configuration `x` and its energy `energy` (without β)."""

    x: Array
    energy: Float[Array, ""]


class AbstractSampler(eqx.Module):
    """A Markov chain kernel that leaves $e^{-\\beta E}$ invariant, for one chain.

    Subclasses implement `energy(x)`, and `step(state, key) -> (state, acceptance)` where
    `acceptance` is the fraction of accepted proposals of that step (for cluster updates, the
    fraction of sites flipped). They may override `check_initial(x0, who)`, which
    [`diffsci.physics.sample`][] calls once on the batch of initial configurations (the default
    asks for an array with a leading axis of at least one chain); `init` and `step` do not
    check their input, so that nothing is checked inside the loop over steps.
    """

    @abc.abstractmethod
    def energy(self, x: Array) -> Float[Array, ""]:
        raise NotImplementedError

    def init(self, x: Array) -> SamplerState:
        x = jnp.asarray(x)
        return SamplerState(x=x, energy=self.energy(x))

    def check_initial(self, x0: Array, who: str = "sample") -> Array:
        """The initial configurations `x0` (leading axis: chains), checked for this sampler;
        errors name `who`, the function the user called. Default: any array of rank >= 1 with
        at least one chain."""
        try:
            x0 = jnp.asarray(x0)
        except (TypeError, ValueError):
            v.fail(who, "x0", "to be an array of configurations", x0, TypeError)
        if x0.ndim < 1 or x0.shape[0] < 1:
            v.fail(
                who,
                "x0",
                "to have a leading axis of chains (at least one)",
                f"shape {x0.shape}",
                described=True,
            )
        return x0

    @abc.abstractmethod
    def step(self, state: SamplerState, key: PRNGKeyArray) -> tuple[SamplerState, Array]:
        raise NotImplementedError


def _accept(key, log_ratio):
    """Metropolis test: accept with probability min(1, exp(log_ratio)); NaN is rejected."""
    u = jax.random.uniform(key, dtype=log_ratio.dtype)
    return jnp.log(u) < log_ratio


def _spin_chains(x0, n, dtype, who):
    """Initial spins of shape (chains, n), promoted to `dtype` if integer, +-1 at run time."""
    x = v.float_array(x0, "x0", who, ndim=2, dtype=dtype)
    if x.shape[0] < 1 or x.shape[1] != n:
        v.fail(
            who,
            "x0",
            f"to have shape (chains, {n}): at least one chain of {n} spins",
            f"shape {x.shape}",
            described=True,
        )
    return v.spins(x, "x0", who)


class IsingMetropolis(AbstractSampler):
    r"""Single-spin-flip Metropolis for Ising models with arbitrary couplings.

    One step is a sweep: each site $i = 0, \dots, n-1$ in turn proposes $s_i \to -s_i$, accepted
    with probability $\min(1, e^{-\beta \Delta E})$, $\Delta E = 2 s_i (\sum_j J_{ij} s_j + h_i)$.
    Each sweep satisfies detailed balance site by site, so $e^{-\beta E}$ is invariant.

    **Arguments:**

    - `couplings`: the coupling matrix, shape `(n, n)` (convention of
      [`diffsci.physics.ising_energy`][]: symmetric, zero diagonal).
    - `beta`: inverse temperature, a finite real scalar (any sign).
    - `h`: field, shape `(n,)`, or `None`.

    Checks, once at construction: shapes (trace time); `beta` finite (`ValueError` when
    concrete, a run-time check when traced); `couplings` finite, symmetric to $\sqrt\epsilon$
    relative and with a zero diagonal, `h` finite (run time).
    `check_initial` (called by `sample`) asks for spins $\pm 1$ of shape `(chains, n)`.
    """

    couplings: Float[Array, "n n"]
    beta: Float[Array, ""]
    h: Float[Array, " n"]

    def __init__(self, couplings, beta, h=None):
        who = "IsingMetropolis"
        self.couplings = _couplings(couplings, who)
        n, dtype = self.couplings.shape[0], self.couplings.dtype
        self.beta = _scalar_parameter(beta, "beta", who, sign=False).astype(dtype)
        self.h = _field(h, n, dtype, who)

    def __check_init__(self):
        _refuse_concrete(self.beta, "beta", "IsingMetropolis", sign=False)

    def energy(self, x):
        # the couplings and field were checked at construction, the spins by `sample`
        return _energy(x, self.couplings, self.h)

    def check_initial(self, x0, who="sample"):
        return _spin_chains(x0, self.couplings.shape[0], self.couplings.dtype, who)

    def step(self, state, key):
        s = state.x
        n = s.shape[0]
        log_u = jnp.log(jax.random.uniform(key, (n,), dtype=self.couplings.dtype))

        def site(i, carry):
            s, accepted = carry
            delta = 2 * s[i] * (self.couplings[i] @ s + self.h[i])
            flip = log_u[i] < -self.beta * delta
            s = s.at[i].set(jnp.where(flip, -s[i], s[i]))
            return s, accepted + flip

        s, accepted = jax.lax.fori_loop(0, n, site, (s, jnp.zeros((), jnp.int32)))
        return SamplerState(s, self.energy(s)), accepted / n


def _square_neighbours(length, width):
    r, c = np.divmod(np.arange(length * width), width)
    return np.stack(
        [
            r * width + (c + 1) % width,
            r * width + (c - 1) % width,
            ((r + 1) % length) * width + c,
            ((r - 1) % length) * width + c,
        ],
        axis=1,
    ).astype(np.int32)


class Wolff(AbstractSampler):
    r"""Wolff cluster updates for the ferromagnetic Ising model on a periodic square lattice.

    One step grows one cluster (Wolff, PRL 62, 361 (1989)): a random seed site, then every bond
    to an aligned neighbour not yet in the cluster is added with probability
    $p = 1 - e^{-2\beta J}$; the cluster is flipped as a whole (always accepted). The cluster
    grows with a `lax.while_loop` over a stack of sites still to visit. Each (site, direction)
    bond test uses its own uniform number, drawn up front, since a site is visited at most once.

    Energies follow [`diffsci.physics.square_lattice_couplings`][] (zero field). The step's
    `acceptance` output is the cluster size divided by the number of sites.

    **Arguments:**

    - `length`, `width`: the lattice sides, integers >= 2 (`width` defaults to `length`); spins
      are flattened row-major, shape `(length * width,)`.
    - `beta`: inverse temperature, $\beta \ge 0$ (the cluster rule needs $p \ge 0$; at
      $\beta = 0$ it flips one random spin per step, which samples the uniform distribution).
    - `coupling`: the ferromagnetic coupling $J > 0$, a Python number (it is static).

    Checks, once at construction: the sides and `coupling` (trace time), `beta` finite and
    non-negative (`ValueError` when concrete, a run-time check when traced). `check_initial`
    (called by `sample`) asks for spins $\pm 1$ of shape `(chains, length * width)`.
    """

    neighbours: Array
    beta: Float[Array, ""]
    coupling: float = eqx.field(static=True)

    def __init__(self, length, beta, *, width=None, coupling=1.0):
        who = "Wolff"
        length = v.static_int(length, "length", who, minimum=2)
        width = length if width is None else v.static_int(width, "width", who, minimum=2)
        if isinstance(coupling, bool) or not isinstance(
            coupling, int | float | np.integer | np.floating
        ):
            v.fail(who, "coupling", "to be a Python number (a static field)", coupling, TypeError)
        if not (np.isfinite(coupling) and coupling > 0):
            v.fail(who, "coupling", "to be a ferromagnetic coupling > 0 (finite)", coupling)
        self.neighbours = jnp.asarray(_square_neighbours(length, width))
        self.beta = _scalar_parameter(beta, "beta", who, allow_zero=True)
        self.coupling = float(coupling)

    def __check_init__(self):
        _refuse_concrete(self.beta, "beta", "Wolff", allow_zero=True)

    def check_initial(self, x0, who="sample"):
        return _spin_chains(x0, self.neighbours.shape[0], jnp.result_type(float), who)

    def energy(self, x):
        right, down = self.neighbours[:, 0], self.neighbours[:, 2]
        return -self.coupling * jnp.sum(x * (x[right] + x[down]))

    def step(self, state, key):
        s = state.x
        n = s.shape[0]
        nbr = self.neighbours
        key_seed, key_bonds = jax.random.split(key)
        seed = jax.random.randint(key_seed, (), 0, n, dtype=jnp.int32)
        u = jax.random.uniform(key_bonds, (n, 4), dtype=self.beta.dtype)
        p_add = -jnp.expm1(-2 * self.beta * self.coupling)
        seed_spin = s[seed]
        in_cluster = jnp.zeros(n, bool).at[seed].set(True)
        stack = jnp.zeros(n, jnp.int32).at[0].set(seed)

        def grow(carry):
            in_cluster, stack, top = carry
            top = top - 1
            site = stack[top]
            for d in range(4):
                other = nbr[site, d]
                add = (~in_cluster[other]) & (s[other] == seed_spin) & (u[site, d] < p_add)
                in_cluster = in_cluster.at[other].set(in_cluster[other] | add)
                stack = stack.at[top].set(jnp.where(add, other, stack[top]))
                top = top + add.astype(jnp.int32)
            return in_cluster, stack, top

        in_cluster, _, _ = jax.lax.while_loop(
            lambda c: c[2] > 0, grow, (in_cluster, stack, jnp.int32(1))
        )
        s = jnp.where(in_cluster, -s, s)
        size = jnp.sum(in_cluster)
        return SamplerState(s, self.energy(s)), size / n


class Metropolis(AbstractSampler):
    r"""Random-walk Metropolis with local moves, one particle (row of `x`) at a time.

    One step is a sweep over the particles $i = 0, \dots, n-1$: $x_i \to x_i + \sigma \xi$ with
    $\xi \sim \mathcal N(0, 1)^d$, accepted with probability $\min(1, e^{-\beta \Delta E})$.
    The energy is recomputed in full for every proposal, so any `energy_fn` works.

    **Arguments:**

    - `energy_fn`: the energy, `x -> scalar` for `x` of shape `(n, d)` (for example
      [`diffsci.physics.coulomb_energy`][]).
    - `beta`: inverse temperature, finite.
    - `step_size`: the proposal width σ > 0.

    Checks, once at construction: `energy_fn` is callable, `beta` is finite and `step_size`
    positive and finite (`ValueError` when concrete, a run-time check when traced).
    `check_initial` (called by `sample`) asks for finite positions of shape `(chains, n, ...)`
    on which `energy_fn` returns a scalar.
    """

    energy_fn: Callable = eqx.field(static=True)
    beta: Float[Array, ""]
    step_size: Float[Array, ""]

    def __init__(self, energy_fn, beta, step_size):
        who = "Metropolis"
        self.energy_fn = v.callable_arg(energy_fn, "energy_fn", who)
        self.beta = _scalar_parameter(beta, "beta", who, sign=False)
        self.step_size = _scalar_parameter(step_size, "step_size", who)

    def __check_init__(self):
        _refuse_concrete(self.beta, "beta", "Metropolis", sign=False)
        _refuse_concrete(self.step_size, "step_size", "Metropolis")

    def check_initial(self, x0, who="sample"):
        x = v.float_array(x0, "x0", who)
        if x.ndim < 2 or x.shape[0] < 1 or x.shape[1] < 1:
            v.fail(
                who,
                "x0",
                "to have shape (chains, n, ...): at least one chain of n >= 1 "
                "particles, moved one row at a time",
                f"shape {x.shape}",
                described=True,
            )
        _scalar_energy(self.energy_fn, x, who)
        return v.finite(x, "x0", who)

    def energy(self, x):
        return self.energy_fn(x)

    def step(self, state, key):
        n = state.x.shape[0]
        keys = jax.random.split(key, n)

        def particle(i, carry):
            x, e, accepted = carry
            k_move, k_acc = jax.random.split(keys[i])
            move = self.step_size * jax.random.normal(k_move, x.shape[1:], x.dtype)
            x_new = x.at[i].add(move)
            e_new = self.energy_fn(x_new)
            ok = _accept(k_acc, -self.beta * (e_new - e))
            return jnp.where(ok, x_new, x), jnp.where(ok, e_new, e), accepted + ok

        x, e, accepted = jax.lax.fori_loop(
            0, n, particle, (state.x, state.energy, jnp.zeros((), jnp.int32))
        )
        return SamplerState(x, e), accepted / n


class HMC(AbstractSampler):
    r"""Hybrid (Hamiltonian) Monte Carlo (Duane, Kennedy, Pendleton, Roweth, PLB 195, 216 (1987)).

    A step draws momenta $p \sim \mathcal N(0, 1)$, integrates Hamilton's equations of
    $\mathcal H(x, p) = \beta E(x) + \tfrac12 |p|^2$ for `num_steps` steps of size `step_size`
    with a volume-preserving, time-reversible integrator, and accepts the end point with
    probability $\min(1, e^{-\Delta \mathcal H})$. The integrator is a solver of `diffsci.ode`
    (default `diffsci.ode.Leapfrog()`; `diffsci.ode.Yoshida4()` also qualifies), stepped through
    its `init`/`step`/`output` interface, with the vector field
    $(\dot x, \dot p) = (p, -\beta \nabla E(x))$.

    **Arguments:**

    - `energy_fn`: the energy, `x -> scalar`, differentiable.
    - `beta`: inverse temperature, finite.
    - `step_size`: the integration step, > 0.
    - `num_steps`: integration steps per trajectory, an integer >= 1.
    - `integrator`: a separable, reversible `diffsci.ode` solver.

    Checks, once at construction: `energy_fn` callable, `num_steps` and `integrator` (trace
    time), `beta` finite and `step_size` positive and finite (`ValueError` when concrete, a
    run-time check when traced). `check_initial` (called by `sample`) asks for finite
    configurations `(chains, ...)` on which `energy_fn` returns a scalar.
    """

    energy_fn: Callable = eqx.field(static=True)
    beta: Float[Array, ""]
    step_size: Float[Array, ""]
    num_steps: int = eqx.field(static=True)
    integrator: eqx.Module

    def __init__(self, energy_fn, beta, step_size, num_steps, *, integrator=None):
        who = "HMC"
        self.energy_fn = v.callable_arg(energy_fn, "energy_fn", who)
        self.beta = _scalar_parameter(beta, "beta", who, sign=False)
        self.step_size = _scalar_parameter(step_size, "step_size", who)
        self.num_steps = v.static_int(num_steps, "num_steps", who, minimum=1)
        self.integrator = _hmc_integrator(integrator, who)

    def __check_init__(self):
        _refuse_concrete(self.beta, "beta", "HMC", sign=False)
        _refuse_concrete(self.step_size, "step_size", "HMC")

    def check_initial(self, x0, who="sample"):
        x = v.float_array(x0, "x0", who)
        if x.ndim < 1 or x.shape[0] < 1:
            v.fail(
                who,
                "x0",
                "to have a leading axis of chains (at least one)",
                f"shape {x.shape}",
                described=True,
            )
        _scalar_energy(self.energy_fn, x, who)
        return v.finite(x, "x0", who)

    def energy(self, x):
        return self.energy_fn(x)

    def step(self, state, key):
        return _hmc_step(
            self.energy_fn, self.beta, self.step_size, self.num_steps, self.integrator, state, key
        )


def _hmc_integrator(integrator, who):
    """The integrator of an HMC kernel: `Leapfrog()` by default, else a separable solver."""
    if integrator is None:
        from diffsci.ode import Leapfrog

        return Leapfrog()
    if not getattr(integrator, "separable", False):
        v.fail(
            who,
            "integrator",
            "to be a separable symplectic diffsci.ode solver (Leapfrog, Yoshida4)",
            integrator,
            TypeError,
        )
    return integrator


def _hmc_step(energy_fn, beta, step_size, num_steps, integrator, state, key):
    """One HMC trajectory and its Metropolis test (the kernel of `HMC` and `LatentHMC`), with
    no checks: its parameters were checked once, by the constructors."""

    def vector_field(t, y, args):
        x, p = y
        return p, -beta * jax.grad(energy_fn)(x)

    k_mom, k_acc = jax.random.split(key)
    x0 = state.x
    p0 = jax.random.normal(k_mom, x0.shape, x0.dtype)
    h = step_size.astype(x0.dtype)
    zero = jnp.zeros((), x0.dtype)
    sol = integrator.init(vector_field, zero, (x0, p0), None)
    sol = jax.lax.fori_loop(
        0,
        num_steps,
        lambda j, c: integrator.step(vector_field, j * h, (j + 1) * h, c, None),
        sol,
    )
    x1, p1 = integrator.output(sol)
    e1 = energy_fn(x1)
    h0 = beta * state.energy + 0.5 * jnp.sum(p0 * p0)
    h1 = beta * e1 + 0.5 * jnp.sum(p1 * p1)
    ok = _accept(k_acc, h0 - h1)
    return (
        SamplerState(jnp.where(ok, x1, x0), jnp.where(ok, e1, state.energy)),
        ok.astype(x0.dtype),
    )


class SampleResult(eqx.Module):
    """The output of [`diffsci.physics.sample`][].

    **Fields:**

    - `state`: the final [`diffsci.physics.SamplerState`][] of every chain (leading axis: chains).
    - `energies`: the energy after every step, shape `(steps, chains)`.
    - `observables`: the observable after every step, leaves of shape `(steps, chains, ...)`, or
      `None`.
    - `acceptance`: the acceptance of every step, shape `(steps, chains)`.
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `max_steps_reached` after all steps,
      `successful` when a callback stopped the run.
    - `stats`: the driver's counts (see [`diffsci.utils.RunResult`][]); its `steps` counts
      chunks.
    """

    state: SamplerState
    energies: Float[Array, "steps chains"]
    observables: PyTree | None
    acceptance: Float[Array, "steps chains"]
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.max_steps_reached)
    stats: dict = eqx.field(default_factory=dict)


def _place(x, sharding):
    """Put a batch on devices; a batch that does not split evenly gets a clear error."""
    if isinstance(sharding, jax.sharding.NamedSharding):
        from diffsci.utils import shard_batch

        return shard_batch(x, sharding)
    return jax.device_put(x, sharding)


def _key_data(key):
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


@eqx.filter_jit
def _init_chains(sampler, x0):
    return jax.vmap(sampler.init)(x0)


@eqx.filter_jit
def _run_steps(sampler, observable, state, key, start, count):
    chains = state.energy.shape[0]

    def one_step(state, t):
        keys = jax.random.split(jax.random.fold_in(key, t), chains)
        state, acc = jax.vmap(sampler.step)(state, keys)
        obs = None if observable is None else jax.vmap(observable)(state.x)
        return state, (state.energy, obs, acc)

    ts = start + jnp.arange(count, dtype=jnp.int32)
    return jax.lax.scan(one_step, state, ts)


def sample(
    sampler: AbstractSampler,
    x0: Array,
    *,
    key: PRNGKeyArray,
    steps: int,
    observable: Callable | None = None,
    chunk_steps: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = False,
    sharding: jax.sharding.Sharding | None = None,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
) -> SampleResult:
    r"""Run a batch of Markov chains: `steps` steps of `sampler` from the configurations `x0`.

    The chains run in parallel (`vmap`) inside a `lax.scan` over steps. Step `t` (counted from 0
    over the whole run) uses `jax.random.fold_in(key, t)`, split into one key per chain, so the
    result depends only on `(sampler, x0, key, steps)`: not on `chunk_steps`, on interruptions and
    resumes from `checkpoint_dir`, or on `sharding`.

    **Arguments:**

    - `sampler`: an [`diffsci.physics.AbstractSampler`][] (`IsingMetropolis`, `Wolff`,
      `Metropolis`, `HMC`).
    - `x0`: initial configurations, leading axis = chains (for example `(chains, n)` spins or
      `(chains, n, d)` positions).
    - `key`: the random key of the run.
    - `steps`: number of steps (sweeps, cluster flips, or trajectories).
    - `observable`: optional function of one configuration, recorded after every step.
    - `chunk_steps`: run in chunks of this many steps (a host loop over jitted scans), for
      progress and checkpoints; default: one chunk.
    - `checkpoint_dir`: save the chains after every chunk ([`diffsci.utils.drive`][]) and
      resume from there if the folder holds a checkpoint of the same run.
    - `progress`: show a text progress bar over chunks.
    - `callbacks`: callables `callback(run)` called after every chunk with the
      [`diffsci.utils.Run`][] (`run.record` holds the chunk's `energies`, `observables`,
      `acceptance` and `mean_energy` per step); one that returns `True` stops the run
      ([`diffsci.utils.Callback`][]).
    - `log`: the JSON-lines log, one line per step with the mean energy over chains
      ([`diffsci.utils.JSONLinesLog`][]): a path, `False`, or `None` (default) for `log.jsonl`
      in `checkpoint_dir` when there is one.
    - `sharding`: place the chains with this sharding (e.g. [`diffsci.utils.batch_sharding`][]`()`)
      to spread them over devices.

    **Returns:**

    A [`diffsci.physics.SampleResult`][].

    Checks, once before the first step (never inside the loop): the kinds of `sampler`, `key`
    (a JAX random key, not an int seed), `observable`, `checkpoint_dir`, `progress` and
    `sharding`; `steps` and `chunk_steps` are integers >= 1; `x0` passes the sampler's
    `check_initial` (for the Ising samplers: spins $\pm 1$ of shape `(chains, n)`, so 0/1
    occupations are refused; for `Metropolis` and `HMC`: finite positions on which the energy
    is a scalar).
    """
    from diffsci.utils import ProgressBar, drive

    who = "sample"
    if not isinstance(sampler, AbstractSampler):
        v.fail(
            who,
            "sampler",
            "to be a diffsci.physics.AbstractSampler (IsingMetropolis, Wolff, "
            "Metropolis, HMC, LatentHMC)",
            sampler,
            TypeError,
        )
    key = v.prng_key(key, "key", who)
    steps = v.static_int(steps, "steps", who, minimum=1)
    if chunk_steps is not None:
        chunk_steps = v.static_int(chunk_steps, "chunk_steps", who, minimum=1)
    if observable is not None:
        v.callable_arg(observable, "observable", who)
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, str | os.PathLike):
        v.fail(
            who,
            "checkpoint_dir",
            "to be a folder (a str or a Path) or None",
            checkpoint_dir,
            TypeError,
        )
    if not isinstance(progress, bool | np.bool_ | ProgressBar):
        v.fail(
            who,
            "progress",
            "to be True or False (or a diffsci.utils.ProgressBar)",
            progress,
            TypeError,
        )
    if sharding is not None and not isinstance(sharding, jax.sharding.Sharding):
        v.fail(who, "sharding", "to be a jax.sharding.Sharding or None", sharding, TypeError)
    x0 = sampler.check_initial(x0, who)
    if sharding is not None:
        x0 = _place(x0, sharding)
    state = _init_chains(sampler, x0)
    chunk = steps if chunk_steps is None else chunk_steps
    num_chunks = -(-steps // chunk)

    def run_chunk(state, i):
        count = min(chunk, steps - i * chunk)
        # `start` is traced (not static): one compilation serves every chunk of the same length
        return _run_steps(sampler, observable, state, key, jnp.asarray(i * chunk, jnp.int32), count)

    result = RESULTS.max_steps_reached
    stats = {"steps": 1, "rejected": 0, "seconds": float("nan"), "resumed_at": 0}
    if num_chunks == 1 and checkpoint_dir is None and not progress and not callbacks and not log:
        state, (energies, obs, acc) = run_chunk(state, 0)
    else:
        metadata = {
            # the sampler field by field (beta, couplings, field, step size): a resume with
            # other parameters is refused instead of mixing two ensembles
            "sampler": sampler,
            "observable": observable,
            "steps": steps,
            "chunk_steps": chunk,
            "chains": int(x0.shape[0]),
            "shape": list(x0.shape),
            "key": np.asarray(_key_data(key)).tolist(),
        }

        def chunk_step(state, i):
            state, (energies, obs, acc) = run_chunk(state, i)
            record = {"energies": energies, "observables": obs, "acceptance": acc}
            return state, {**record, "mean_energy": jnp.mean(energies, axis=1)}

        out = drive(
            chunk_step,
            state,
            num_steps=num_chunks,
            chunked=True,
            callbacks=callbacks,
            checkpoint_dir=checkpoint_dir,
            metadata=metadata,
            log=log,
            progress=progress,
            desc=type(sampler).__name__,
            postfix=lambda s, r: {"E/chain": f"{float(r['mean_energy'][-1]):.5g}"},
            caller=who,
        )
        rows = jax.tree_util.tree_map(jnp.asarray, out.history.stacked())
        state, result, stats = out.state, out.result, out.stats
        energies, obs, acc = rows["energies"], rows["observables"], rows["acceptance"]
    return SampleResult(
        state=state,
        energies=energies,
        observables=obs,
        acceptance=acc,
        result=result,  # pyright: ignore[reportArgumentType]
        stats=stats,
    )
