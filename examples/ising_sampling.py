"""Local Metropolis sweeps against Wolff clusters on the 2D Ising model, and the exact answer.

On the 4x4 periodic lattice at the critical coupling beta_c = ln(1 + sqrt 2)/2 exact enumeration
of the 65536 states gives E/N = -1.5656237876 (from jax.grad of ln Z); both samplers must agree
within their binning error bars. On larger lattices (try --length 16) the Wolff algorithm's
autocorrelation time stays small while Metropolis slows down (critical slowing down).

Run:  python examples/ising_sampling.py [--length 4 --steps 4000 --out runs/sample-ising]
Same computation as `python -m diffsci sample-ising`; interrupt it and run it again to resume.
"""

import argparse

from diffsci.cli._cmd_sample_ising import BETA_C, ising_sampling_study
from diffsci.cli._common import enable_x64, output_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4)
    parser.add_argument("--beta", type=float, default=BETA_C)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--out", default="runs/sample-ising")
    args = parser.parse_args()
    enable_x64()
    results, exact = ising_sampling_study(
        args.length, args.beta, steps=args.steps, out=output_dir(args.out)
    )
    for name, (_, stats, tau) in results.items():
        print(
            f"{name}: E/N = {float(stats.mean):.5f} +- {float(stats.error):.5f}, "
            f"tau_int = {float(tau.tau):.2f}"
        )
    if exact is not None:
        print(f"exact: E/N = {exact:.10f}")


if __name__ == "__main__":
    main()
