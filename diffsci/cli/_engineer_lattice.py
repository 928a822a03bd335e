"""``python -m diffsci engineer lattice``: dense Hamiltonian engineering on a tight-binding lattice.

Fits the on-site potentials (and/or hoppings) of an L x L periodic square lattice so that a
gauge-invariant target is met, with gradients through the degeneracy-safe ``diffsci.linalg``:

- ``density``: the ground-state density of N fermions (``projector``), starting from the clean
  lattice, whose levels are degenerate (the gradient through ``jnp.linalg.eigh`` is NaN there);
- ``spectrum``: the lowest levels (``eigvalsh``), with a target that is itself degenerate, so the
  optimum sits on a degeneracy;
- ``thermal``: the thermal one-particle density at inverse temperature beta (``expmh``).

The solver is ``diffsci.physics.engineer_lattice``; ``examples/engineer_lattice.py`` runs this.
"""

from __future__ import annotations

import time

from ._common import add_output_argument, enable_x64, output_dir, pyplot

HELP = "fit the potentials of a tight-binding lattice so a gauge-invariant target is met"


def add_arguments(parser):
    parser.add_argument(
        "--target",
        choices=["density", "spectrum", "thermal"],
        default="density",
        help="what to fit (default: density)",
    )
    parser.add_argument("--size", type=int, default=4, help="L of the L x L lattice (default: 4)")
    parser.add_argument(
        "--particles",
        type=int,
        default=5,
        help="fermions in the ground state (density target; must fill whole levels; default: 5)",
    )
    parser.add_argument("--beta", type=float, default=2.0, help="inverse temperature (thermal)")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps (default: 300)")
    parser.add_argument(
        "--learning-rate",
        "--lr",
        dest="lr",
        type=float,
        default=0.05,
        metavar="LR",
        help="Adam learning rate (default: 0.05)",
    )
    parser.add_argument("--print-every", type=int, default=50, help="progress every N steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the spectrum start point")
    add_output_argument(parser, "runs/engineer-lattice")


def reference_potential(lattice, amplitude: float = 0.6):
    """A stripe potential amplitude * cos(2 pi x / L) + amplitude/2 * cos(2 pi y / L)."""
    import numpy as np

    length, width = lattice.shape
    x, y = np.divmod(np.arange(lattice.num_sites), width)
    return amplitude * np.cos(2 * np.pi * x / length) + 0.5 * amplitude * np.cos(
        2 * np.pi * y / width
    )


def build_problem(name: str, size: int, particles: int, beta: float, seed: int):
    """The lattice, the target, the parameters to fit and the start point of a preset."""
    import numpy as np

    from diffsci.physics import DensityTarget, SpectrumTarget, ThermalDensityTarget, square_lattice

    lattice = square_lattice(size)
    reference = lattice.hamiltonian(reference_potential(lattice))
    # The targets take numpy arrays (they convert them); their fields are annotated Array.
    if name == "density":
        probe = DensityTarget(density=np.zeros(1), particles=particles)  # pyright: ignore[reportArgumentType]
        target = DensityTarget(density=probe.observe(reference), particles=particles)
        return lattice, target, "onsite", np.zeros(lattice.num_sites)
    if name == "thermal":
        probe = ThermalDensityTarget(density=np.zeros(1), beta=beta)  # pyright: ignore[reportArgumentType]
        target = ThermalDensityTarget(density=probe.observe(reference), beta=beta)
        return lattice, target, "onsite", np.zeros(lattice.num_sites)
    # the clean lattice with hopping 0.8: levels -3.2 and -1.6 (four times) are the target
    levels = np.linalg.eigvalsh(np.asarray(lattice.hamiltonian(0.0, 0.8)))[:5]
    start = 0.3 * np.random.default_rng(seed).normal(size=lattice.num_sites)
    return lattice, SpectrumTarget(levels=levels), "both", start  # pyright: ignore[reportArgumentType]


def _degeneracy_report(h) -> str:
    import numpy as np

    w = np.linalg.eigvalsh(np.asarray(h))
    groups, start = [], 0
    for i in range(1, len(w) + 1):
        if i == len(w) or w[i] - w[i - 1] > 1e-6 * max(1.0, abs(w[i])):
            groups.append((w[start], i - start))
            start = i
    shown = ", ".join(f"{value:+.3f} (x{mult})" for value, mult in groups[:5])
    return f"lowest levels: {shown}{', ...' if len(groups) > 5 else ''}"


def _closed_shells(h) -> list[int]:
    """Particle numbers that fill whole levels of `h` (a gap above the last one)."""
    import numpy as np

    w = np.linalg.eigvalsh(np.asarray(h))
    gaps = np.diff(w) > 1e-9 * max(1.0, float(np.max(np.abs(w))))
    return [int(k) for k in np.flatnonzero(gaps) + 1]


def compare_with_jnp_eigh(lattice, target, onsite) -> str:
    """How the gradient of the density loss through ``jnp.linalg.eigh`` compares with the one
    through ``diffsci.linalg.projector``, in words."""
    import jax
    import jax.numpy as jnp

    def loss_jnp(eps):
        _, v = jnp.linalg.eigh(lattice.hamiltonian(eps))
        rho = jnp.sum(v[:, : target.particles] ** 2, axis=1)
        return jnp.sum((rho - target.density) ** 2)

    onsite = jnp.asarray(onsite)
    ours = jax.grad(lambda eps: target.loss(lattice.hamiltonian(eps)))(onsite)
    theirs = jax.grad(loss_jnp)(onsite)
    if not bool(jnp.all(jnp.isfinite(theirs))):
        return "NaN"
    error = float(jnp.linalg.norm(theirs - ours) / jnp.linalg.norm(ours))
    return f"finite but off by {100 * error:.1f}%" if error > 1e-6 else "correct"


def run(args) -> int:
    if args.size < 2:
        raise SystemExit("engineer lattice: --size must be at least 2")
    if not 0 < args.particles < args.size**2:
        raise SystemExit(f"engineer lattice: --particles must be in 1..{args.size**2 - 1}")
    enable_x64()
    import numpy as np

    from diffsci.physics import engineer_lattice

    out = output_dir(args.out)
    lattice, target, fit, start = build_problem(
        args.target, args.size, args.particles, args.beta, args.seed
    )
    h0 = lattice.hamiltonian(start)
    if args.target == "density":
        closed = _closed_shells(h0)
        if args.particles not in closed:
            raise SystemExit(
                f"engineer lattice: {args.particles} particles would half-fill a degenerate level "
                "of the start Hamiltonian, where the ground-state density is not defined; choose "
                f"--particles from {closed}"
            )
    print(
        f"engineer lattice: {args.size}x{args.size} periodic square lattice, target "
        f"'{args.target}', fitting {fit} parameters, {args.steps} Adam steps",
        flush=True,
    )
    print(f"start: {_degeneracy_report(h0)}")
    if args.target == "density":
        print(
            "gradient at the start through jnp.linalg.eigh: "
            f"{compare_with_jnp_eigh(lattice, target, start)}; through "
            "diffsci.linalg.projector: finite and exact"
        )
    t0 = time.perf_counter()
    result = engineer_lattice(
        lattice,
        target,
        fit=fit,
        onsite=start,
        steps=args.steps,
        learning_rate=args.lr,
        print_every=args.print_every,
    )
    elapsed = time.perf_counter() - t0
    h = lattice.hamiltonian(result.onsite, result.hopping)
    deviation = float(np.max(np.abs(np.asarray(result.achieved) - np.asarray(result.target))))
    print(f"end: {_degeneracy_report(h)}")
    print(
        f"done in {elapsed:.1f} s: achieved loss {float(result.losses[-1]):.3e}, "
        f"max |achieved - target| {deviation:.3e}"
    )
    path = out / f"engineer_lattice_{args.target}.png"
    plot_lattice_engineering(result, path, pyplot(), title=f"{args.target}: target vs achieved")
    print(f"figure: {path}")
    return 0


def plot_lattice_engineering(result, path, plt, *, title: str = ""):
    """A figure of a `diffsci.physics.LatticeEngineeringResult` in two panels: the loss per step,
    and target vs achieved (and initial) per entry."""
    import numpy as np

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
