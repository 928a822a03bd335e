"""``python -m diffsci van``: variational free energy of an Ising model or spin glass with a VAN.

Trains a variational autoregressive network (Wu, Wang, Zhang, PRL 122, 080602 (2019)) with
REINFORCE, annealing beta, in chunks with a progress bar and checkpoints (rerun the same command to
resume), then compares F_q and the importance-sampled F with exact enumeration (n <= 24) and
writes a figure of the training curve.
"""

from __future__ import annotations

import hashlib
import json
import time

from diffsci.cli._common import add_output_argument, enable_x64, output_dir

NAME = "van"
HELP = "variational autoregressive network: F_q of a 2D Ising model or an SK spin glass vs exact"


def add_arguments(parser):
    parser.add_argument(
        "--model", choices=["ising", "sk"], default="ising", help="the system (default ising)"
    )
    parser.add_argument("--length", type=int, default=4, help="ising: lattice side L (default 4)")
    parser.add_argument(
        "--spins",
        "--n",
        dest="n",
        type=int,
        default=16,
        metavar="N",
        help="sk: number of spins (default 16)",
    )
    parser.add_argument(
        "--beta", type=float, default=None, help="inverse temperature (Ising: beta_c; SK: 1)"
    )
    parser.add_argument("--steps", type=int, default=1000, help="training steps (1000)")
    parser.add_argument("--chunk-steps", type=int, default=100, help="steps per chunk (100)")
    parser.add_argument("--batch", type=int, default=512, help="samples per step (512)")
    parser.add_argument(
        "--learning-rate",
        "--lr",
        dest="lr",
        type=float,
        default=3e-3,
        metavar="LR",
        help="Adam learning rate (3e-3)",
    )
    parser.add_argument("--anneal", type=float, default=0.99, help="annealing factor (0.99)")
    parser.add_argument("--width", type=int, default=32, help="hidden width, 2 layers (32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_argument(parser, "runs/van")


def run(args) -> int:
    enable_x64()
    import jax

    import diffsci.physics as dp
    from diffsci import plot

    out = output_dir(args.out)
    if args.model == "ising":
        n = args.length**2
        couplings = dp.square_lattice_couplings(args.length)
        beta = dp.ISING_BETA_C if args.beta is None else args.beta
        label = f"{args.length}x{args.length} Ising"
    else:
        n = args.n
        couplings = dp.sk_couplings(n, key=jax.random.key(args.seed))
        beta = 1.0 if args.beta is None else args.beta
        label = f"SK n={n} (instance seed {args.seed})"
    print(f"{label} at beta = {beta:.6f}")
    exact = None
    if n <= 24:
        t0 = time.perf_counter()
        # ising_exact takes any real scalar; its annotation says Array
        exact = -float(dp.ising_exact(couplings, beta)) / beta  # pyright: ignore[reportArgumentType]
        print(
            f"exact F = {exact:.8f} (enumeration of 2^{n} states, {time.perf_counter() - t0:.1f} s)"
        )
    params = vars(args).copy()
    params.pop("out", None)
    params = {k: v for k, v in params.items() if not k.startswith("_")}
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    energy = lambda s: dp.ising_energy(s, couplings)
    t0 = time.perf_counter()
    result = dp.van_train(
        energy,
        n,
        beta,
        key=jax.random.key(args.seed + 1),
        model=dp.VAN(n, key=jax.random.key(args.seed + 2), hidden=(args.width, args.width)),
        steps=args.steps,
        batch=args.batch,
        learning_rate=args.lr,
        anneal=args.anneal,
        chunk_steps=args.chunk_steps,
        checkpoint_dir=out / "checkpoints" / f"van-{tag}",
        progress=True,
    )
    est = result.estimate
    print(f"trained in {time.perf_counter() - t0:.1f} s; {est.num_samples} samples:")
    print(
        f"  F_q = {float(est.variational):.8f} +- {float(est.variational_error):.8f}"
        "   (variational upper bound)"
    )
    print(f"  F_IS = {float(est.importance):.8f}   (importance sampled)")
    if exact is not None:
        print(
            f"  relative error of F_q: {(float(est.variational) - exact) / abs(exact):.2e}, "
            f"of F_IS: {(float(est.importance) - exact) / abs(exact):.2e}"
        )
    path = plot.van_training(
        result.free_energy, exact=exact, label=label, beta=beta, path=out / "van_training.png"
    )
    print(f"figure: {path}")
    return 0
