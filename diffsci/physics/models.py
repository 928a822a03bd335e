"""Model definitions: energies and couplings of classical spin models (Ising, spin glasses,
Hopfield), the Coulomb gas, matrix-free spin-chain Hamiltonians and their observables,
tight-binding lattices, iPEPS bond Hamiltonians, and the Hubbard-Stratonovich relaxation of the
Ising model.

Each name is also `diffsci.physics.<name>` (the flat namespace of earlier releases, kept for
one release); new code imports from here.
"""

from ._coulomb import coulomb_energy as coulomb_energy
from ._coulomb import coulomb_hessian_eigenvalues as coulomb_hessian_eigenvalues
from ._coulomb import coulomb_virial as coulomb_virial
from ._hs import IsingHubbardStratonovich as IsingHubbardStratonovich
from ._hs import ising_hubbard_stratonovich as ising_hubbard_stratonovich
from ._ipeps import heisenberg_bond as heisenberg_bond
from ._ipeps import tfim_bond as tfim_bond
from ._ising import hopfield_couplings as hopfield_couplings
from ._ising import ising_energy as ising_energy
from ._ising import sk_couplings as sk_couplings
from ._ising import square_lattice_couplings as square_lattice_couplings
from ._lattice import TightBindingLattice as TightBindingLattice
from ._lattice import square_lattice as square_lattice
from ._spin_chains import TransverseFieldIsing as TransverseFieldIsing
from ._spin_chains import XXZChain as XXZChain
from ._spin_chains import correlation_zz as correlation_zz
from ._spin_chains import expect_x as expect_x
from ._spin_chains import expect_z as expect_z

__all__ = [
    "ising_energy",
    "square_lattice_couplings",
    "sk_couplings",
    "hopfield_couplings",
    "coulomb_energy",
    "coulomb_virial",
    "coulomb_hessian_eigenvalues",
    "TransverseFieldIsing",
    "XXZChain",
    "expect_x",
    "expect_z",
    "correlation_zz",
    "square_lattice",
    "TightBindingLattice",
    "heisenberg_bond",
    "tfim_bond",
    "ising_hubbard_stratonovich",
    "IsingHubbardStratonovich",
]
