"""``python -m diffsci flow``: a Monge-Ampère flow trained on a 2D toy density or an Ising model.

Trains `diffsci.flows.MongeAmpereFlow` by minimizing the variational free energy
F_q = <E + ln q>_q >= F = -ln Z of a target p = exp(-E)/Z whose ln Z is known (a Gaussian, a ring,
a mixture of Gaussians; or the L x L Ising model made continuous by a Hubbard-Stratonovich
transform, `diffsci.physics.ising_hubbard_stratonovich`, against Kaufman's exact ln Z), in chunks
with a progress bar and checkpoints (rerun the same command to resume), then writes two figures:
samples and model density against the target density (for Ising: the distribution of the
magnetization), and F_q against training steps with the exact F. F_q - F = KL(q || p) measures the
fit. The final estimates are computed with the training integrator and ln q integrated along the
path, with ReversibleRK4 at twice the steps (their difference is the discretization error), and,
in up to 64 dimensions, with the exact log-determinant of the map that drew the samples (no
discretization error in ln q: a strict bound and unbiased importance weights).

The study is `diffsci.physics.flow_study` (its report `flow_study_report`), the figures
`diffsci.plot.flow_study`.
"""

from __future__ import annotations

import hashlib
import json

from diffsci.cli._common import add_output_argument, enable_x64, output_dir

NAME = "flow"
HELP = "Monge-Ampere flow: variational fit of a 2D density (gaussian, ring, mixture) or Ising"

# diffsci.physics.FLOW_TARGETS, spelled out so that --help does not import the library
TARGETS = ("gaussian", "ring", "mixture", "ising")
SOLVERS = ("rk4", "heun")


def add_arguments(parser):
    parser.add_argument("target", choices=TARGETS, help="the target density")
    parser.add_argument("--steps", type=int, default=400, help="training steps (400)")
    parser.add_argument("--chunk-steps", type=int, default=50, help="steps per chunk (50)")
    parser.add_argument("--batch", type=int, default=256, help="samples per step (256)")
    parser.add_argument(
        "--learning-rate",
        "--lr",
        dest="lr",
        type=float,
        default=2e-2,
        metavar="LR",
        help="Adam learning rate (2e-2)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=32,
        help="hidden units of the potential (32; ising: width // 4 channels)",
    )
    parser.add_argument(
        "--flow-steps", type=int, default=10, help="integration steps over t in [0, 1] (10)"
    )
    parser.add_argument(
        "--eval-samples", type=int, default=4096, help="samples for the final estimates (4096)"
    )
    parser.add_argument(
        "--solver", choices=SOLVERS, default="rk4", help="reversible integrator for training (rk4)"
    )
    parser.add_argument("--length", type=int, default=4, help="ising: lattice side L (4)")
    parser.add_argument(
        "--shift",
        type=float,
        default=1.0,
        help="ising: Hubbard-Stratonovich shift, lambda_min(K) (1.0)",
    )
    parser.add_argument("--beta", type=float, default=None, help="ising: beta (beta_c)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_argument(parser, "runs/flow")


def run(args) -> int:
    enable_x64()
    from diffsci import plot
    from diffsci.physics import ISING_BETA_C, flow_study, flow_study_report

    if args.beta is None:
        args.beta = ISING_BETA_C
    out = output_dir(args.out)
    params = {k: v for k, v in vars(args).items() if k != "out" and not k.startswith("_")}
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    study = flow_study(
        args.target,
        steps=args.steps,
        length=args.length,
        beta=args.beta,
        batch=args.batch,
        width=args.width,
        flow_steps=args.flow_steps,
        lr=args.lr,
        seed=args.seed,
        chunk_steps=args.chunk_steps,
        shift=args.shift,
        solver=args.solver,
        eval_samples=args.eval_samples,
        checkpoint_dir=out / "checkpoints" / f"flow-{args.target}-{tag}",
    )
    print(flow_study_report(study))
    for path in plot.flow_study(study, out):
        print(f"figure: {path}")
    return 0
