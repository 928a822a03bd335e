"""``python -m diffsci sample-ising``: Metropolis vs Wolff vs exact enumeration, 2D Ising model.

Both samplers run a batch of chains in chunks with a progress bar and a checkpoint after every
chunk (`<out>/checkpoints/<sampler>-<hash of the parameters>`): stop a run (Ctrl-C) and start it
again with the same options to resume it, with results identical to an uninterrupted run. For
lattices of at most 24 sites the exact energy and specific heat come from `ising_exact`.

The study is `diffsci.physics.ising_sampling_study` (`examples/ising_sampling.py` calls it
too), the figure `diffsci.plot.ising_sampling`.
"""

from __future__ import annotations

from diffsci.cli._common import add_output_argument, enable_x64, output_dir

NAME = "sample-ising"
HELP = "2D Ising model: Metropolis and Wolff chains against exact enumeration, with checkpoints"


def add_arguments(parser):
    parser.add_argument("--length", type=int, default=4, help="lattice side L (default 4)")
    parser.add_argument(
        "--beta", type=float, default=None, help="inverse temperature (default: beta_c)"
    )
    parser.add_argument("--chains", type=int, default=16, help="chains per sampler (16)")
    parser.add_argument("--steps", type=int, default=4000, help="sweeps / cluster flips (4000)")
    parser.add_argument("--chunk-steps", type=int, default=500, help="steps per chunk (500)")
    parser.add_argument("--burn-in", type=int, default=200, help="steps discarded (200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--samplers", default="metropolis,wolff", help="comma-separated (default: metropolis,wolff)"
    )
    add_output_argument(parser, "runs/sample-ising")


def run(args) -> int:
    enable_x64()
    from diffsci import plot
    from diffsci.physics import ISING_BETA_C, ising_sampling_study

    if args.beta is None:
        args.beta = ISING_BETA_C
    out = output_dir(args.out)
    samplers = tuple(s.strip() for s in args.samplers.split(",") if s.strip())
    results, exact_e = ising_sampling_study(
        args.length,
        args.beta,
        chains=args.chains,
        steps=args.steps,
        chunk_steps=args.chunk_steps,
        burn_in=args.burn_in,
        seed=args.seed,
        samplers=samplers,
        checkpoint_root=out / "checkpoints",
    )
    path = plot.ising_sampling(
        results,
        length=args.length,
        beta=args.beta,
        burn_in=args.burn_in,
        exact_energy=exact_e,
        path=out / "ising_sampling.png",
    )
    print(f"figure: {path}")
    return 0
