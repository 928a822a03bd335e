"""Tight-binding lattices and dense Hamiltonian engineering with gauge-invariant targets.

A single particle hops on a lattice with Hamiltonian
$H = \\sum_i \\epsilon_i\\, c_i^\\dagger c_i -
\\sum_{\\langle ij\\rangle} t_{ij}\\,(c_i^\\dagger c_j + \\text{h.c.})$.
Hamiltonian engineering fits the on-site potentials $\\epsilon_i$ (and/or the hoppings $t_{ij}$)
so that a property of $H$ meets a target. Symmetric lattices are full of degenerate levels, so
every target here is gauge invariant and goes through a degeneracy-safe
primitive of `diffsci.linalg`: the ground-state density of $N$ fermions through
`projector`, the low-lying spectrum through `eigvalsh`, and thermal densities through
`funm`/`expmh`.
"""

from __future__ import annotations

import abc
import operator
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int

from diffsci._internal._results import RESULTS
from diffsci._internal._validate import fail, float_array, static_int
from diffsci.linalg import eigvalsh, expmh, projector
from diffsci.utils import ACCEPT, PrintEvery, drive

from ._model_checks import callable_arg, concrete_finite, concrete_value, flag, real_number

__all__ = [
    "TightBindingLattice",
    "square_lattice",
    "AbstractLatticeTarget",
    "DensityTarget",
    "SpectrumTarget",
    "ThermalDensityTarget",
    "LatticeEngineeringResult",
    "engineer_lattice",
]


def _as_int(i):
    """A NumPy or JAX integer scalar as a Python int (hashable); anything else unchanged, for
    `__check_init__` to judge."""
    if isinstance(i, bool | np.bool_):
        return i
    try:
        return operator.index(i)
    except TypeError:
        return i


def _as_pairs(bonds) -> Any:
    """Bonds as a tuple of tuples of ints (hashable, as a static field must be); anything that
    is not a sequence of pairs is left for `__check_init__` to refuse."""
    try:
        return tuple(tuple(_as_int(i) for i in pair) for pair in bonds)
    except TypeError:
        return bonds


def _as_tuple(shape) -> Any:
    try:
        return tuple(_as_int(d) for d in shape)
    except TypeError:
        return shape


def _scalar_or_vector(x, size, name, who, dtype):
    """A scalar or an array of shape `(size,)` as a float array of shape `(size,)`."""
    a = float_array(x, name, who, dtype=dtype)
    if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != size):
        fail(
            who, name, f"to be a scalar or have shape ({size},)", f"shape {a.shape}", described=True
        )
    return jnp.broadcast_to(a.astype(dtype), (size,))


class TightBindingLattice(eqx.Module):
    """A lattice of `num_sites` sites and nearest-neighbour `bonds` (pairs of site indices).

    `bond_list` holds the bonds as a tuple of `(i, j)` pairs (static, hashable); `bonds` gives
    them as an array. `hamiltonian(onsite, hopping)` builds the real symmetric $H$ with
    $H_{ii} = \\epsilon_i$ and $H_{ij} = H_{ji} = -t_b$ for bond $b = (i, j)$ (a scalar `hopping`
    applies to every bond).

    Checked: `num_sites` an integer $\\ge 1$; every bond a pair of two different sites in
    $[0, $ `num_sites`$)$, no bond given twice (in either order: it would double the hopping);
    `shape` a tuple of positive integers whose product is `num_sites` (lists are made tuples).
    """

    num_sites: int = eqx.field(static=True)
    bond_list: tuple[tuple[int, int], ...] = eqx.field(static=True, converter=_as_pairs)
    shape: tuple[int, ...] = eqx.field(static=True, converter=_as_tuple)

    def __check_init__(self):
        who = "TightBindingLattice"
        n = static_int(self.num_sites, "num_sites", who, minimum=1)
        seen = set()
        for b, pair in enumerate(self.bond_list):
            if not isinstance(pair, tuple) or len(pair) != 2:
                fail(
                    who,
                    "bond_list",
                    "to hold pairs of sites (i, j)",
                    f"bond {b} = {pair!r}",
                    described=True,
                )
            i = static_int(pair[0], f"bond_list[{b}][0]", who)
            j = static_int(pair[1], f"bond_list[{b}][1]", who)
            if not (0 <= i < n and 0 <= j < n):
                fail(
                    who,
                    "bond_list",
                    f"to join sites in [0, {n}) (num_sites = {n}): a bond to "
                    "a site that does not exist",
                    f"bond {b} = {(i, j)}",
                    described=True,
                )
            if i == j:
                fail(
                    who,
                    "bond_list",
                    "to join two different sites (an on-site energy is `onsite`, not a bond)",
                    f"bond {b} = {(i, j)}",
                    described=True,
                )
            key = (min(i, j), max(i, j))
            if key in seen:
                fail(
                    who,
                    "bond_list",
                    "to name each bond once (a repeated bond doubles its "
                    "hopping; pass a larger `hopping` instead)",
                    f"bond {b} = {(i, j)} again",
                    described=True,
                )
            seen.add(key)
        if (
            not isinstance(self.shape, tuple)
            or not all(
                isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 1
                for d in self.shape
            )
            or int(np.prod(self.shape)) != n
        ):
            fail(
                who,
                "shape",
                f"to be a tuple of positive integers whose product is num_sites = {n}",
                self.shape,
                described=not isinstance(self.shape, tuple),
            )

    @property
    def num_bonds(self) -> int:
        return len(self.bond_list)

    @property
    def bonds(self) -> Int[np.ndarray, "bonds 2"]:
        """The bonds as an integer array of shape `(num_bonds, 2)`."""
        return np.asarray(self.bond_list, dtype=np.int32).reshape(-1, 2)

    def hamiltonian(
        self, onsite: Float[ArrayLike, " sites"] | float = 0.0, hopping: ArrayLike = 1.0
    ) -> Float[Array, "sites sites"]:
        """The matrix $H$; `onsite` a scalar or of shape `(num_sites,)`, `hopping` a scalar or of
        shape `(num_bonds,)` (checked at trace time)."""
        who = "TightBindingLattice.hamiltonian"
        onsite = _scalar_or_vector(onsite, self.num_sites, "onsite", who, jnp.result_type(float))
        hopping = _scalar_or_vector(hopping, self.num_bonds, "hopping", who, onsite.dtype)
        i, j = self.bonds[:, 0], self.bonds[:, 1]
        h = jnp.zeros((self.num_sites, self.num_sites), onsite.dtype)
        h = h.at[i, j].add(-hopping).at[j, i].add(-hopping)
        return h + jnp.diag(onsite)


def square_lattice(length: int, width: int | None = None, *, periodic: bool = True):
    """The `length` x `width` square lattice (site $x\\cdot$`width`$ + y$), periodic or open.

    With periodic boundaries and uniform hopping $t = 1$ its levels are
    $-2(\\cos k_x + \\cos k_y)$, $k = 2\\pi m/L$: highly degenerate (for $6\\times6$: $-4$, then
    $-3$ four times, ...).

    Checked: `length` and `width` integers $\\ge 2$, `periodic` a bool.

    **Returns:** a [`diffsci.physics.TightBindingLattice`][].
    """
    who = "square_lattice"
    length = static_int(length, "length", who)
    width = length if width is None else static_int(width, "width", who)
    flag(periodic, "periodic", who)
    for name, side in (("length", length), ("width", width)):
        if side < 2:
            fail(who, name, "to be >= 2 (a square lattice needs sides >= 2)", side)
    bonds = set()
    for x in range(length):
        for y in range(width):
            i = x * width + y
            for dx, dy in ((1, 0), (0, 1)):
                nx, ny = x + dx, y + dy
                if not periodic and (nx >= length or ny >= width):
                    continue
                j = (nx % length) * width + ny % width
                if i != j:
                    bonds.add((min(i, j), max(i, j)))
    return TightBindingLattice(
        num_sites=length * width, bond_list=tuple(sorted(bonds)), shape=(length, width)
    )


def _vector(x, name, who):
    """Check that `x` is a nonempty real vector, finite when concrete; return it as an array."""
    a = float_array(x, name, who, ndim=1)
    if a.shape[0] == 0:
        fail(who, name, "to be nonempty", f"shape {a.shape}", described=True)
    concrete_finite(a, name, who)
    return a


class AbstractLatticeTarget(eqx.Module):
    """A gauge-invariant property of $H$ and its target value; the loss is the squared
    mismatch $\\sum (\\text{observe}(H) - \\text{target})^2$."""

    @abc.abstractmethod
    def observe(self, h: Float[Array, "n n"]) -> Float[Array, " m"]:
        """The property of `h` that is fitted."""

    @property
    @abc.abstractmethod
    def target(self) -> Float[Array, " m"]:
        """Its target value."""

    def loss(self, h: Float[Array, "n n"]) -> Float[Array, ""]:
        return jnp.sum((self.observe(h) - self.target) ** 2)


class DensityTarget(AbstractLatticeTarget):
    """Ground-state site density of `particles` non-interacting fermions:
    $\\rho_i = P_{ii}$ with $P$ = `diffsci.linalg.projector(H, particles)`. Well defined and
    differentiable however degenerate the occupied and empty levels are, as long as
    `particles` fills whole levels.

    Checked: `density` a real vector (finite when concrete), `particles` an integer $\\ge 1$
    (`engineer_lattice` checks both against the lattice)."""

    density: Float[Array, " n"]
    particles: int = eqx.field(static=True)

    def __check_init__(self):
        _vector(self.density, "density", "DensityTarget")
        static_int(self.particles, "particles", "DensityTarget", minimum=1)

    def observe(self, h):
        return jnp.diagonal(projector(h, self.particles))

    @property
    def target(self):
        return self.density


class SpectrumTarget(AbstractLatticeTarget):
    """The lowest `len(levels)` eigenvalues, through `diffsci.linalg.eigvalsh`. The loss is a
    symmetric function of each group of equal target levels, so an optimum on a degeneracy
    is a proper stationary point.

    Checked: `levels` a nonempty real vector, finite and in ascending order when concrete (it is
    compared with the ascending spectrum)."""

    levels: Float[Array, " m"]

    def __check_init__(self):
        levels = _vector(self.levels, "levels", "SpectrumTarget")
        given = concrete_value(self.levels)
        if given is not None and np.any(np.diff(given.astype(np.float64)) < 0):
            fail(
                "SpectrumTarget",
                "levels",
                "to be in ascending order (the lowest levels of H, lowest first)",
                levels,
            )

    def observe(self, h):
        return eigvalsh(h)[: self.levels.shape[0]]

    @property
    def target(self):
        return self.levels


class ThermalDensityTarget(AbstractLatticeTarget):
    """Thermal site density of one particle at inverse temperature `beta`:
    $\\rho_i = [e^{-\\beta H}]_{ii} / \\operatorname{tr} e^{-\\beta H}$, through
    `diffsci.linalg.expmh` (Daleckii-Krein derivative, exact at degeneracies, where
    differentiating through `eigh` is NaN or 15% wrong).

    Checked: `density` a real vector (finite when concrete), `beta` a real scalar (finite when
    concrete; $\\beta < 0$ is allowed: a population inversion)."""

    density: Float[Array, " n"]
    beta: float

    def __check_init__(self):
        who = "ThermalDensityTarget"
        _vector(self.density, "density", who)
        float_array(self.beta, "beta", who, shape=())
        given = concrete_value(self.beta)
        if given is not None and not np.isfinite(float(given)):
            fail(who, "beta", "to be a finite number", float(given))

    def observe(self, h):
        # shift by the mean diagonal (no gradient needed: the ratio does not depend on it)
        shift = jax.lax.stop_gradient(jnp.trace(h) / h.shape[0])
        r = expmh(h - shift * jnp.eye(h.shape[0]), -self.beta)
        return jnp.diagonal(r) / jnp.trace(r)

    @property
    def target(self):
        return self.density


class LatticeEngineeringResult(eqx.Module):
    """What `engineer_lattice` found.

    **Fields:** `onsite` ($\\epsilon_i$), `hopping` ($t_b$ per bond), `losses` (per step),
    `achieved` (the observed property at the end), `target`, `initial` (the property at the
    start), `result` (a [`diffsci.utils.RESULTS`][] member: `max_steps_reached` after all
    steps, `successful` when a callback stopped the fit) and `stats` (the driver's counts, see
    [`diffsci.utils.RunResult`][]).
    """

    onsite: Float[Array, " sites"]
    hopping: Float[Array, " bonds"]
    losses: Float[Array, " steps"]
    achieved: Float[Array, " m"]
    target: Float[Array, " m"]
    initial: Float[Array, " m"]
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.max_steps_reached)
    stats: dict = eqx.field(default_factory=dict)


def engineer_lattice(
    lattice: TightBindingLattice,
    target: AbstractLatticeTarget,
    *,
    fit: str = "onsite",
    onsite: ArrayLike | None = None,
    hopping: ArrayLike | float = 1.0,
    steps: int = 200,
    learning_rate: float = 0.05,
    print_every: int = 0,
    callback: Callable[[int, float], None] | None = None,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
    progress: bool = False,
) -> LatticeEngineeringResult:
    """Fit the on-site potentials and/or hoppings of `lattice` so that `target` is met, by Adam
    on exact gradients.

    **Arguments:**

    - `lattice`: a [`diffsci.physics.TightBindingLattice`][].
    - `target`: an [`diffsci.physics.AbstractLatticeTarget`][].
    - `fit`: `"onsite"`, `"hopping"` or `"both"`: which parameters move.
    - `onsite`, `hopping`: the starting point (default: zero potentials, uniform hopping 1,
      i.e. the clean lattice, degenerate if the lattice is symmetric).
    - `steps`, `learning_rate`: Adam's.
    - `print_every`: print the loss every this many steps (0: silent).
    - `callback`: called as `callback(step, loss)` after every step.
    - `callbacks`: callables `callback(run)` called after every step with the
      [`diffsci.utils.Run`][] (`run.record["loss"]`, `run.state`); one that returns `True` stops
      the fit ([`diffsci.utils.Callback`][]).
    - `log`: a path for a JSON-lines log ([`diffsci.utils.JSONLinesLog`][]), or `None`/`False`.
    - `progress`: show a progress bar with the loss on stderr.

    The loop is [`diffsci.utils.drive`][] (one step per Adam update).

    Checked before the first step: `lattice` a `TightBindingLattice`, `target` an
    `AbstractLatticeTarget` that fits the lattice (a `DensityTarget` with `particles` at most
    the number of sites and one density per site, a `SpectrumTarget` with at most as many
    levels as sites, and in general `target.observe(H)` of the shape of `target.target`), `fit`
    one of the three options, `onsite` of shape `(num_sites,)` and `hopping` a scalar or of
    shape `(num_bonds,)` (integers promoted; finite), `steps` an integer $\\ge 1$,
    `learning_rate` a finite number $> 0$, `print_every` an integer $\\ge 0$, `callback`
    callable or `None`. A loss that becomes NaN or infinite stops the fit with
    `FloatingPointError`.

    **Returns:** a [`diffsci.physics.LatticeEngineeringResult`][].
    """
    who = "engineer_lattice"
    if not isinstance(lattice, TightBindingLattice):
        fail(who, "lattice", "to be a diffsci.physics.TightBindingLattice", lattice, TypeError)
    if not isinstance(target, AbstractLatticeTarget):
        fail(
            who,
            "target",
            "to be a diffsci.physics.AbstractLatticeTarget (DensityTarget, "
            "SpectrumTarget, ThermalDensityTarget)",
            target,
            TypeError,
        )
    if not isinstance(fit, str) or fit not in ("onsite", "hopping", "both"):
        raise ValueError(
            f"engineer_lattice: fit must be 'onsite', 'hopping' or 'both', got {fit!r}"
        )
    n = lattice.num_sites
    _check_target(target, n, who)
    steps = static_int(steps, "steps", who, minimum=1)
    learning_rate = real_number(learning_rate, "learning_rate", who, minimum=0.0)
    print_every = static_int(print_every, "print_every", who, minimum=0)
    callable_arg(callback, "callback", who, optional=True)
    dtype = jnp.result_type(float)
    if onsite is None:
        onsite0 = jnp.zeros(n, dtype)
    else:
        onsite0 = float_array(onsite, "onsite", who, shape=(n,)).astype(dtype)
        concrete_finite(onsite0, "onsite", who)
    hopping0 = _scalar_or_vector(hopping, lattice.num_bonds, "hopping", who, dtype)
    concrete_finite(hopping0, "hopping", who)
    observed = jax.eval_shape(target.observe, jax.ShapeDtypeStruct((n, n), dtype))
    wanted = jnp.shape(target.target)
    if observed.shape != wanted:
        fail(
            who,
            "target",
            f"to observe a property of the shape {wanted} of its target on this "
            f"lattice of {n} sites",
            f"an observed shape {observed.shape}",
            described=True,
        )
    params = {"onsite": onsite0, "hopping": hopping0}
    moving = {"onsite": fit in ("onsite", "both"), "hopping": fit in ("hopping", "both")}

    def loss_fn(p):
        p = {k: v if moving[k] else jax.lax.stop_gradient(v) for k, v in p.items()}
        return target.loss(lattice.hamiltonian(p["onsite"], p["hopping"]))

    optimizer = optax.adam(learning_rate)

    @jax.jit
    def step(p, state):
        loss, grads = jax.value_and_grad(loss_fn)(p)
        updates, state = optimizer.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss

    initial = target.observe(lattice.hamiltonian(onsite0, hopping0))

    def one(carry, i):
        params, state, loss = step(*carry)
        return (params, state), {"loss": float(loss)}

    def finite(run, new_state, record):
        if not np.isfinite(record["loss"]):
            raise FloatingPointError(
                f"engineer_lattice: the loss became {record['loss']} at step {run.step}"
            )
        return ACCEPT

    def called(run):
        if callback is not None:
            callback(run.step - 1, run.record["loss"])

    printed = [PrintEvery(print_every, "step {step:4d}  loss {loss:.3e}")] if print_every else []
    out = drive(
        one,
        (params, optimizer.init(params)),
        num_steps=steps,
        accept=finite,
        callbacks=[*printed, called, *callbacks],
        log=log,
        progress=progress,
        desc="engineer",
        postfix=lambda carry, record: {"loss": f"{record['loss']:.3e}"},
        caller=who,
    )
    params = out.state[0]
    losses = list(out.history["loss"])
    h = lattice.hamiltonian(params["onsite"], params["hopping"])
    final = float(target.loss(h))
    losses.append(final)
    return LatticeEngineeringResult(
        onsite=params["onsite"],
        hopping=params["hopping"],
        losses=jnp.asarray(losses),
        achieved=target.observe(h),
        target=target.target,
        initial=initial,
        result=out.result,  # pyright: ignore[reportArgumentType]
        stats=out.stats,
    )


def _check_target(target, n, who):
    """What a target needs of a lattice of `n` sites, said in the caller's words."""
    if isinstance(target, DensityTarget | ThermalDensityTarget) and jnp.shape(target.density) != (
        n,
    ):
        fail(
            who,
            "target",
            f"to have one density per site, shape ({n},) (num_sites = {n})",
            f"a density of shape {jnp.shape(target.density)}",
            described=True,
        )
    if isinstance(target, DensityTarget) and target.particles > n:
        fail(
            who,
            "target",
            f"to hold at most num_sites = {n} particles (one fermion per single-particle level)",
            f"particles = {target.particles}",
            described=True,
        )
    if isinstance(target, SpectrumTarget) and jnp.shape(target.levels)[0] > n:
        fail(
            who,
            "target",
            f"to have at most num_sites = {n} levels (H is {n} x {n})",
            f"{jnp.shape(target.levels)[0]} levels",
            described=True,
        )
