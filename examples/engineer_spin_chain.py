"""Hamiltonian engineering at scale: the couplings of a 2^16-state spin chain whose ground state
has a prescribed transverse magnetization profile.

The transverse-field Ising chain H = -sum_b J_b Z_b Z_{b+1} - sum_i h_i X_i (Pauli matrices,
open ends, L = 16: 65536 states) is never formed as a matrix: `diffsci.linalg.eigsh` finds its
ground state by Lanczos on the matrix-free operator `TransverseFieldIsing.matvec`, and reverse
mode through eigsh (one projected linear solve, Xie, Liu, Wang, PRB 101, 245139 (2020)) gives the
gradient of the mismatch sum_i (<X_i> - target_i)^2 with respect to all 2L - 1 couplings at once.

Run: python examples/engineer_spin_chain.py [--sites 16] [--steps 60]
(the same as `python -m diffsci engineer chain`). Writes runs/engineer-chain/engineer_chain.png.
"""

import sys

from diffsci.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["engineer", "chain", *sys.argv[1:]]))
