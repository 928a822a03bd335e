"""Fit a Monge-Ampère flow to a 2D density by minimizing the variational free energy.

The flow (Zhang, E, Wang, arXiv:1809.10188) moves samples of N(0, I) along the gradient of a
learned potential, dx/dt = grad phi(x, t), and tracks the log-density through
d ln q/dt = -laplacian(phi), with the exact Laplacian of a one-hidden-layer potential. Training
minimizes F_q = <E + ln q>_q >= F = -ln Z; for these targets ln Z is known in closed form, so
F_q - F = KL(q || p) is measured, and the importance-sampled estimate of F is checked against it.

Run:  python examples/monge_ampere_2d.py [ring|mixture|gaussian] [--steps 400] [--out runs/flow]
(`python -m diffsci flow ring` does the same, with checkpoints and resume.)
"""

import argparse
import pathlib

import jax

from diffsci import plot
from diffsci.physics import FLOW_TARGETS, flow_study, flow_study_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", choices=FLOW_TARGETS, default="ring")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--out", default="runs/flow")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study = flow_study(args.target, steps=args.steps)
    print(flow_study_report(study))
    for path in plot.flow_study(study, out):
        print(f"figure: {path}")


if __name__ == "__main__":
    main()
