"""Local Metropolis sweeps against Wolff clusters on the 2D Ising model, and the exact answer.

On the 4x4 periodic lattice at the critical coupling beta_c = ln(1 + sqrt 2)/2 exact enumeration
of the 65536 states gives E/N = -1.5656237876 (from jax.grad of ln Z); both samplers must agree
within their binning error bars. On larger lattices (try --length 16) the Wolff algorithm's
autocorrelation time stays small while Metropolis slows down (critical slowing down).

Run:  python examples/ising_sampling.py [--length 4 --steps 4000 --out runs/sample-ising]
Same computation as `python -m diffsci sample-ising`; interrupt it and run it again to resume.
"""

import argparse
import pathlib

import jax

from diffsci import plot
from diffsci.physics import ISING_BETA_C, ising_sampling_study


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4)
    parser.add_argument("--beta", type=float, default=ISING_BETA_C)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--out", default="runs/sample-ising")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, exact = ising_sampling_study(
        args.length, args.beta, steps=args.steps, checkpoint_root=out / "checkpoints"
    )
    path = plot.ising_sampling(
        results,
        length=args.length,
        beta=args.beta,
        burn_in=200,
        exact_energy=exact,
        path=out / "ising_sampling.png",
    )
    print(f"figure: {path}")
    for name, (_, stats, tau) in results.items():
        print(
            f"{name}: E/N = {float(stats.mean):.5f} +- {float(stats.error):.5f}, "
            f"tau_int = {float(tau.tau):.2f}"
        )
    if exact is not None:
        print(f"exact: E/N = {exact:.10f}")


if __name__ == "__main__":
    main()
