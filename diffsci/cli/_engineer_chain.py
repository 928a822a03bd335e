"""``python -m diffsci engineer chain``: engineer a spin chain's couplings through ``eigsh``.

Fits the site-dependent couplings and fields of an open transverse-field Ising chain of 2^L
states so that its ground state has a prescribed profile of <sigma^x_i>, by Adam on gradients
from ``diffsci.linalg.eigsh`` (matrix-free Lanczos with a projected-linear-solve adjoint).
"""

from __future__ import annotations

import time

from ._common import add_output_argument, enable_x64, fresh_log, output_dir

HELP = "fit the couplings of a 2^L-state spin chain so its ground state has a target profile"


def add_arguments(parser):
    parser.add_argument("--sites", type=int, default=16, help="chain length L (default: 16)")
    parser.add_argument(
        "--target",
        choices=["cosine", "ramp", "step"],
        default="cosine",
        help="target profile of <sigma^x_i> (default: cosine)",
    )
    parser.add_argument("--steps", type=int, default=60, help="Adam steps (default: 60)")
    parser.add_argument(
        "--learning-rate",
        "--lr",
        dest="lr",
        type=float,
        default=0.08,
        metavar="LR",
        help="Adam learning rate (default: 0.08)",
    )
    parser.add_argument("--periodic", action="store_true", help="periodic chain (default: open)")
    parser.add_argument("--print-every", type=int, default=5, help="progress every N steps")
    add_output_argument(parser, "runs/engineer-chain")


def run(args) -> int:
    if args.sites < 3:
        raise SystemExit("engineer chain: --sites must be at least 3")
    enable_x64()
    import numpy as np

    from diffsci import plot
    from diffsci.physics import engineer_tfim_profile, target_profile

    out = output_dir(args.out)
    target = target_profile(args.target, args.sites)
    print(
        f"engineer chain: transverse-field Ising, L = {args.sites} ({2**args.sites} states), "
        f"target '{args.target}' for <sigma^x_i>, {args.steps} Adam steps",
        flush=True,
    )
    t0 = time.perf_counter()
    result = engineer_tfim_profile(
        target,  # pyright: ignore[reportArgumentType]  (a numpy array; annotated Array)
        steps=args.steps,
        learning_rate=args.lr,
        periodic=args.periodic,
        print_every=args.print_every,
        log=fresh_log(out / "engineer_chain.log.jsonl"),
    )
    elapsed = time.perf_counter() - t0
    dev = float(np.max(np.abs(np.asarray(result.profile) - target)))
    loss = float(result.losses[-1])
    print(f"done in {elapsed:.1f} s: final loss {loss:.3e}, max |deviation| {dev:.3e}")
    print("J_b:", np.array2string(np.asarray(result.couplings), precision=3))
    print("h_i:", np.array2string(np.asarray(result.fields), precision=3))
    path = plot.chain_engineering(result, out / "engineer_chain.png")
    print(f"figure: {path}")
    return 0
