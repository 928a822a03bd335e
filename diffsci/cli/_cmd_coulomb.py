"""``python -m diffsci coulomb``: the trapped Coulomb gas, ground state and finite temperature.

1. The ground state from many random starts (BFGS, in parallel), its energy, the virial identity
   E0 = 3 sum |x|^2, the Hessian spectrum, and a figure of the shells.
2. Hybrid Monte Carlo at inverse temperature beta from the ground state (step size set from the
   stiffest Hessian mode), with progress and checkpoints: the mean energy with its error bar, and
   the exact check <2 V_trap - V_Coulomb> = N d / beta.

The studies are `diffsci.physics.coulomb_ground_state_study` and `coulomb_sampling_study`
(`examples/coulomb_gas.py` calls them too); the figures come from `diffsci.plot`.
"""

from __future__ import annotations

from diffsci.cli._common import add_output_argument, enable_x64, output_dir

NAME = "coulomb"
HELP = "Coulomb gas in a harmonic trap: ground state with its shells, then HMC at finite beta"


def add_arguments(parser):
    parser.add_argument(
        "--particles",
        "--n",
        dest="n",
        type=int,
        default=20,
        metavar="N",
        help="number of particles (default 20)",
    )
    parser.add_argument("--dim", type=int, default=2, help="spatial dimension (default 2)")
    parser.add_argument("--starts", type=int, default=32, help="random starts (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--beta", type=float, default=10.0, help="inverse temperature (10)")
    parser.add_argument("--chains", type=int, default=16, help="HMC chains (default 16)")
    parser.add_argument("--steps", type=int, default=2000, help="HMC trajectories per chain (2000)")
    parser.add_argument("--chunk-steps", type=int, default=200, help="trajectories per chunk (200)")
    parser.add_argument("--leapfrog-steps", type=int, default=10, help="leapfrog steps (10)")
    parser.add_argument(
        "--step-size",
        type=float,
        default=None,
        help="leapfrog step size of the HMC integrator, not a learning rate (default: "
        "0.5 / sqrt(beta * largest Hessian eigenvalue))",
    )
    parser.add_argument("--burn-in", type=int, default=200, help="trajectories discarded (200)")
    parser.add_argument(
        "--shard", action="store_true", help="shard starts and chains over all devices"
    )
    add_output_argument(parser, "runs/coulomb")


def run(args) -> int:
    enable_x64()
    import diffsci.physics as dp
    from diffsci import plot

    out = output_dir(args.out)
    sharding = None
    if args.shard:
        from diffsci.utils import batch_sharding

        sharding = batch_sharding()
    gs = dp.coulomb_ground_state_study(
        args.n, args.dim, seed=args.seed, starts=args.starts, sharding=sharding
    )
    path = plot.coulomb_ground_state(gs, out / "coulomb_ground_state.png")
    print(f"  figure: {path}")
    result, _, _ = dp.coulomb_sampling_study(
        gs,
        beta=args.beta,
        chains=args.chains,
        steps=args.steps,
        chunk_steps=args.chunk_steps,
        leapfrog_steps=args.leapfrog_steps,
        step_size=args.step_size,
        burn_in=args.burn_in,
        seed=args.seed,
        sharding=sharding,
        checkpoint_root=out / "checkpoints",
    )
    path = plot.coulomb_sampling(
        gs, result, beta=args.beta, burn_in=args.burn_in, path=out / "coulomb_hmc.png"
    )
    print(f"  figure: {path}")
    return 0
