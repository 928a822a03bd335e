"""Hamiltonian engineering: the parameters of a Hamiltonian that give a target spectrum, density
or correlation profile, by gradient descent through the eigensolvers; the preset problems on a
tight-binding lattice (`lattice_engineering_problem`, `stripe_potential`).

Each name is also `diffsci.physics.<name>` (the flat namespace of earlier releases, kept for
one release); new code imports from here.
"""

from ._chain_engineering import ChainEngineeringResult as ChainEngineeringResult
from ._chain_engineering import engineer_tfim_profile as engineer_tfim_profile
from ._chain_engineering import target_profile as target_profile
from ._lattice import AbstractLatticeTarget as AbstractLatticeTarget
from ._lattice import DensityTarget as DensityTarget
from ._lattice import LatticeEngineeringResult as LatticeEngineeringResult
from ._lattice import SpectrumTarget as SpectrumTarget
from ._lattice import ThermalDensityTarget as ThermalDensityTarget
from ._lattice import engineer_lattice as engineer_lattice
from ._studies import lattice_engineering_problem as lattice_engineering_problem
from ._studies import stripe_potential as stripe_potential

__all__ = [
    "engineer_tfim_profile",
    "ChainEngineeringResult",
    "target_profile",
    "engineer_lattice",
    "LatticeEngineeringResult",
    "AbstractLatticeTarget",
    "DensityTarget",
    "SpectrumTarget",
    "ThermalDensityTarget",
    "stripe_potential",
    "lattice_engineering_problem",
]
