"""Variational solvers: autoregressive networks for the Ising free energy, Coulomb gas ground
states from many starts, and iPEPS ground states of the Heisenberg and transverse-field Ising
models; and the studies built on them: the Coulomb gas ground state with its checks
(`coulomb_ground_state_study`, `coulomb_shells`), the thermodynamics of the 2D Ising model as
derivatives through a tensor-network RG (`ising_rg_thermodynamics`), and Monge-Ampère flows on
targets with a known ln Z (`flow_target`, `flow_study`, `flow_study_report`, `FLOW_TARGETS`).

Each name is also `diffsci.physics.<name>` (the flat namespace of earlier releases, kept for
one release); new code imports from here.
"""

from ._coulomb import CoulombGroundState as CoulombGroundState
from ._coulomb import coulomb_ground_state as coulomb_ground_state
from ._ipeps import heisenberg_ipeps as heisenberg_ipeps
from ._ipeps import ipeps_initial_tensor as ipeps_initial_tensor
from ._ipeps import pad_ipeps_tensor as pad_ipeps_tensor
from ._ipeps import tfim_ipeps as tfim_ipeps
from ._studies import FLOW_TARGETS as FLOW_TARGETS
from ._studies import coulomb_ground_state_study as coulomb_ground_state_study
from ._studies import coulomb_shells as coulomb_shells
from ._studies import flow_study as flow_study
from ._studies import flow_study_report as flow_study_report
from ._studies import flow_target as flow_target
from ._studies import ising_rg_thermodynamics as ising_rg_thermodynamics
from ._van import VAN as VAN
from ._van import VANResult as VANResult
from ._van import reinforce_loss as reinforce_loss
from ._van import van_free_energy as van_free_energy
from ._van import van_train as van_train

__all__ = [
    "VAN",
    "van_train",
    "VANResult",
    "van_free_energy",
    "reinforce_loss",
    "coulomb_ground_state",
    "CoulombGroundState",
    "heisenberg_ipeps",
    "tfim_ipeps",
    "ipeps_initial_tensor",
    "pad_ipeps_tensor",
    "coulomb_shells",
    "coulomb_ground_state_study",
    "ising_rg_thermodynamics",
    "FLOW_TARGETS",
    "flow_target",
    "flow_study",
    "flow_study_report",
]
