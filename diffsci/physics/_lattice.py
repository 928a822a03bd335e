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
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int

from diffsci.linalg import eigvalsh, expmh, projector

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


class TightBindingLattice(eqx.Module):
    """A lattice of `num_sites` sites and nearest-neighbour `bonds` (pairs of site indices).

    `bond_list` holds the bonds as a tuple of `(i, j)` pairs (static, hashable); `bonds` gives
    them as an array. `hamiltonian(onsite, hopping)` builds the real symmetric $H$ with
    $H_{ii} = \\epsilon_i$ and $H_{ij} = H_{ji} = -t_b$ for bond $b = (i, j)$ (a scalar `hopping`
    applies to every bond).
    """

    num_sites: int = eqx.field(static=True)
    bond_list: tuple[tuple[int, int], ...] = eqx.field(static=True)
    shape: tuple[int, ...] = eqx.field(static=True)

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
        onsite = jnp.broadcast_to(jnp.asarray(onsite, dtype=float), (self.num_sites,))
        hopping = jnp.broadcast_to(jnp.asarray(hopping, dtype=onsite.dtype), (self.num_bonds,))
        i, j = self.bonds[:, 0], self.bonds[:, 1]
        h = jnp.zeros((self.num_sites, self.num_sites), onsite.dtype)
        h = h.at[i, j].add(-hopping).at[j, i].add(-hopping)
        return h + jnp.diag(onsite)


def square_lattice(length: int, width: int | None = None, *, periodic: bool = True):
    """The `length` x `width` square lattice (site $x\\cdot$`width`$ + y$), periodic or open.

    With periodic boundaries and uniform hopping $t = 1$ its levels are
    $-2(\\cos k_x + \\cos k_y)$, $k = 2\\pi m/L$: highly degenerate (for $6\\times6$: $-4$, then
    $-3$ four times, ...).

    **Returns:** a [`diffsci.physics.TightBindingLattice`][].
    """
    width = length if width is None else width
    if length < 2 or width < 2:
        raise ValueError(f"square_lattice: expected sides >= 2, got {length} x {width}")
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
    `particles` fills whole levels."""

    density: Float[Array, " n"]
    particles: int = eqx.field(static=True)

    def observe(self, h):
        return jnp.diagonal(projector(h, self.particles))

    @property
    def target(self):
        return self.density


class SpectrumTarget(AbstractLatticeTarget):
    """The lowest `len(levels)` eigenvalues, through `diffsci.linalg.eigvalsh`. The loss is a
    symmetric function of each group of equal target levels, so an optimum on a degeneracy
    is a proper stationary point."""

    levels: Float[Array, " m"]

    def observe(self, h):
        return eigvalsh(h)[: self.levels.shape[0]]

    @property
    def target(self):
        return self.levels


class ThermalDensityTarget(AbstractLatticeTarget):
    """Thermal site density of one particle at inverse temperature `beta`:
    $\\rho_i = [e^{-\\beta H}]_{ii} / \\operatorname{tr} e^{-\\beta H}$, through
    `diffsci.linalg.expmh` (Daleckii-Krein derivative, exact at degeneracies, where
    differentiating through `eigh` is NaN or 15% wrong)."""

    density: Float[Array, " n"]
    beta: float

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
    start).
    """

    onsite: Float[Array, " sites"]
    hopping: Float[Array, " bonds"]
    losses: Float[Array, " steps"]
    achieved: Float[Array, " m"]
    target: Float[Array, " m"]
    initial: Float[Array, " m"]


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

    **Returns:** a [`diffsci.physics.LatticeEngineeringResult`][].
    """
    if fit not in ("onsite", "hopping", "both"):
        raise ValueError(
            f"engineer_lattice: fit must be 'onsite', 'hopping' or 'both', got {fit!r}"
        )
    n = lattice.num_sites
    onsite0 = jnp.zeros(n) if onsite is None else jnp.asarray(onsite, dtype=float)
    if onsite0.shape != (n,):
        raise ValueError(f"engineer_lattice: expected onsite of shape ({n},), got {onsite0.shape}")
    hopping0 = jnp.broadcast_to(jnp.asarray(hopping, dtype=onsite0.dtype), (lattice.num_bonds,))
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
    state = optimizer.init(params)
    losses = []
    for i in range(steps):
        params, state, loss = step(params, state)
        loss = float(loss)
        if not np.isfinite(loss):
            raise FloatingPointError(f"engineer_lattice: the loss became {loss} at step {i}")
        losses.append(loss)
        if print_every and (i % print_every == 0 or i == steps - 1):
            print(f"step {i:4d}  loss {loss:.3e}", flush=True)
        if callback is not None:
            callback(i, loss)
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
    )


def plot_lattice_engineering(result: LatticeEngineeringResult, path, plt, *, title: str = ""):
    """Two panels: the loss per step, and target vs achieved (and initial) per entry."""
    fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(10, 3.8))
    losses = np.asarray(result.losses)
    ax_loss.semilogy(np.arange(len(losses)), np.maximum(losses, 1e-300))
    ax_loss.set_xlabel("Adam step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("loss")
    index = np.arange(len(result.target))
    ax_fit.plot(index, np.asarray(result.initial), "x", color="0.6", label="initial")
    ax_fit.plot(index, np.asarray(result.target), "o", mfc="none", ms=9, label="target")
    ax_fit.plot(index, np.asarray(result.achieved), ".", ms=7, label="achieved")
    ax_fit.set_xlabel("entry (site or level)")
    ax_fit.legend()
    ax_fit.set_title(title or "target vs achieved")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
