"""Thermodynamics of the 2D Ising model as derivatives of ln Z through HOTRG.

The energy per site is -d lnZ/d beta (jax.grad) and the specific heat beta^2 d^2 lnZ/d beta^2
(jax.hessian), through 30 RG steps whose truncations use diffsci.linalg's eigh. The same
computation as `python -m diffsci ising`: `diffsci.physics.ising_rg_thermodynamics`.

Run: python examples/ising_trg.py [--chi 10] [--out runs/ising-example]
"""

import argparse
import pathlib

import jax
import numpy as np

from diffsci import plot
from diffsci.physics import ising_rg_thermodynamics, onsager_curves

jax.config.update("jax_enable_x64", True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chi", type=int, default=10)
    parser.add_argument("--out", default="runs/ising-example")
    args = parser.parse_args()

    # Denser near T_c = 2.269, where the specific heat diverges logarithmically.
    temps = np.concatenate([np.linspace(1.6, 2.1, 4), np.linspace(2.2, 2.4, 5), [2.8, 3.5]])
    log_z, u, c = ising_rg_thermodynamics(
        temps, chi=args.chi, progress=lambda i, t, *_: print(f"T = {t:.3f} done", flush=True)
    )
    exact_log_z, exact_u, exact_c = onsager_curves(temps)
    print(f"{'T':>6} {'lnZ/N err':>10} {'u':>9} {'u exact':>9} {'C':>7} {'C exact':>8}")
    for row in zip(temps, log_z - exact_log_z, u, exact_u, c, exact_c, strict=True):
        print("{:6.3f} {:10.1e} {:9.5f} {:9.5f} {:7.3f} {:8.3f}".format(*row))

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot.ising_curves(temps, log_z, u, c, title=f"HOTRG chi={args.chi}", path=out / "ising.png")
    print(f"wrote {out / 'ising.png'}")


if __name__ == "__main__":
    main()
