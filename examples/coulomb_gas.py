"""The Coulomb gas in a harmonic trap: optimize for the ground state, then sample at finite beta.

    H = sum_{i<j} 1/|x_i - x_j| + sum_i |x_i|^2

The ground state of 20 charges in 2D arranges in shells (1, 7, 12); at inverse temperature beta the
Hybrid Monte Carlo chains fluctuate around it, and the exact virial identity
<2 V_trap - V_Coulomb> = N d / beta checks the sampler without any fitting.

Run:  python examples/coulomb_gas.py [--particles 20 --dim 2 --beta 10 --out runs/coulomb]
Same computation as `python -m diffsci coulomb` (it calls the same functions).
"""

import argparse
import pathlib

import jax

import diffsci.physics as dp
from diffsci import plot


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", "--n", dest="n", type=int, default=20)
    parser.add_argument("--dim", type=int, default=2)
    parser.add_argument("--beta", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default="runs/coulomb")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. ground state: BFGS from 32 random starts in parallel, the lowest kept
    gs = dp.coulomb_ground_state_study(args.n, args.dim, starts=32)
    print(f"  figure: {plot.coulomb_ground_state(gs, out / 'coulomb_ground_state.png')}")

    # 2. finite temperature: HMC (leapfrog of diffsci.ode) from the ground state
    result, energy, virial = dp.coulomb_sampling_study(
        gs, beta=args.beta, steps=args.steps, checkpoint_root=out / "checkpoints"
    )
    path = plot.coulomb_sampling(
        gs, result, beta=args.beta, burn_in=200, path=out / "coulomb_hmc.png"
    )
    print(f"  figure: {path}")
    print(f"\nE(beta={args.beta}) = {float(energy.mean):.5f} +- {float(energy.error):.5f}")


if __name__ == "__main__":
    main()
