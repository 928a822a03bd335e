"""Hamiltonian engineering, dense: fit the on-site potentials of a tight-binding lattice whose
levels are degenerate, through gauge-invariant primitives of `diffsci.linalg`.

The clean 4x4 periodic square lattice has levels -4, -2 (four times), 0 (six times), ... Starting
there, Adam fits the on-site potentials so that the ground-state density of 5 fermions (the
projector onto the lowest level and the four-fold shell, `diffsci.linalg.projector`) matches a
stripe pattern. At the start the gradient of the same loss through `jnp.linalg.eigh` is finite
but several percent wrong (on the 6x6 lattice it is NaN); through `projector` it is exact.
Other targets: `--target spectrum` (the lowest levels, with a degenerate target: the optimum sits
on a degeneracy) and `--target thermal` (the one-particle thermal density at `--beta`).

Run: python examples/engineer_lattice.py [--target density|spectrum|thermal] [--size 4]
(the same as `python -m diffsci engineer lattice`). Writes
runs/engineer-lattice/engineer_lattice_<target>.png.
"""

import sys

from diffsci.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["engineer", "lattice", *sys.argv[1:]]))
