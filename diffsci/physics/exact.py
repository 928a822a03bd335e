"""Exact and published references: Onsager's and Yang's closed forms, Kaufman's finite lattice,
exact enumeration of small Ising systems, the free-fermion transverse-field Ising chain, and
published constants (each with its citation); `onsager_curves` tabulates Onsager's ln Z,
energy and specific heat at given temperatures.

Each name is also `diffsci.physics.<name>` (the flat namespace of earlier releases, kept for
one release); new code imports from here.
"""

from ._ipeps import HEISENBERG_IPEPS_REFERENCE as HEISENBERG_IPEPS_REFERENCE
from ._ipeps import HEISENBERG_QMC_ENERGY as HEISENBERG_QMC_ENERGY
from ._ipeps import published_ipeps_tensor as published_ipeps_tensor
from ._ipeps import tfim_product_state_energy as tfim_product_state_energy
from ._ising import IsingThermodynamics as IsingThermodynamics
from ._ising import ising_exact as ising_exact
from ._ising import ising_thermodynamics as ising_thermodynamics
from ._kaufman import kaufman_log_z as kaufman_log_z
from ._onsager import ISING_BETA_C as ISING_BETA_C
from ._onsager import onsager_energy as onsager_energy
from ._onsager import onsager_log_z as onsager_log_z
from ._onsager import onsager_specific_heat as onsager_specific_heat
from ._onsager import yang_magnetization as yang_magnetization
from ._studies import onsager_curves as onsager_curves
from ._tfim_exact import TFIMExact as TFIMExact
from ._tfim_exact import tfim_exact as tfim_exact

__all__ = [
    "onsager_log_z",
    "onsager_energy",
    "onsager_specific_heat",
    "yang_magnetization",
    "ISING_BETA_C",
    "kaufman_log_z",
    "ising_exact",
    "ising_thermodynamics",
    "IsingThermodynamics",
    "tfim_exact",
    "TFIMExact",
    "tfim_product_state_energy",
    "HEISENBERG_QMC_ENERGY",
    "HEISENBERG_IPEPS_REFERENCE",
    "published_ipeps_tensor",
    "onsager_curves",
]
