"""``python -m diffsci engineer lattice``: dense Hamiltonian engineering on a tight-binding lattice.

Fits the on-site potentials (and/or hoppings) of an L x L periodic square lattice so that a
gauge-invariant target is met, with gradients through the degeneracy-safe ``diffsci.linalg``:

- ``density``: the ground-state density of N fermions (``projector``), starting from the clean
  lattice, whose levels are degenerate (the gradient through ``jnp.linalg.eigh`` is NaN there);
- ``spectrum``: the lowest levels (``eigvalsh``), with a target that is itself degenerate, so the
  optimum sits on a degeneracy;
- ``thermal``: the thermal one-particle density at inverse temperature beta (``expmh``).

The problems are ``diffsci.physics.lattice_engineering_problem``, the solver
``diffsci.physics.engineer_lattice``, the figure ``diffsci.plot.lattice_engineering``;
``examples/engineer_lattice.py`` runs this.
"""

from __future__ import annotations

import time

from ._common import add_output_argument, enable_x64, fresh_log, output_dir

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

    from diffsci import plot
    from diffsci.physics import engineer_lattice, lattice_engineering_problem

    out = output_dir(args.out)
    lattice, target, fit, start = lattice_engineering_problem(
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
        log=fresh_log(out / f"engineer_lattice_{args.target}.log.jsonl"),
    )
    elapsed = time.perf_counter() - t0
    h = lattice.hamiltonian(result.onsite, result.hopping)
    deviation = float(np.max(np.abs(np.asarray(result.achieved) - np.asarray(result.target))))
    print(f"end: {_degeneracy_report(h)}")
    print(
        f"done in {elapsed:.1f} s: achieved loss {float(result.losses[-1]):.3e}, "
        f"max |achieved - target| {deviation:.3e}"
    )
    path = plot.lattice_engineering(
        result,
        out / f"engineer_lattice_{args.target}.png",
        title=f"{args.target}: target vs achieved",
    )
    print(f"figure: {path}")
    return 0
