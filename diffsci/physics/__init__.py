"""Physics models and solvers built on the diffsci primitives, in six groups:

- `diffsci.physics.models`: classical spin models (Ising, spin glasses, Hopfield), the Coulomb gas,
  matrix-free spin chains and their observables, tight-binding lattices, iPEPS bond Hamiltonians,
  the Hubbard-Stratonovich relaxation of the Ising model;
- `diffsci.physics.exact`: exact solutions and published references (Onsager, Yang, Kaufman,
  exact enumeration, the free-fermion chain, published energies and tensors);
- `diffsci.physics.sampling`: Markov-chain samplers, latent-space HMC, chain statistics;
- `diffsci.physics.variational`: variational autoregressive networks, Coulomb gas ground states,
  iPEPS ground states;
- `diffsci.physics.engineering`: Hamiltonian engineering (a spectrum, density or profile as the
  target of gradient descent through the eigensolvers);
- `diffsci.physics.dynamics`: the Lorenz and SIR fields, fitting ODE parameters to data, Lyapunov
  exponents.

Each group also holds its *studies*, the computations `python -m diffsci` runs, as library
functions (`coulomb_ground_state_study`, `ising_rg_thermodynamics`, `ising_sampling_study`,
`flow_study`, ...); `diffsci.plot` draws their results.

Every name is also importable from `diffsci.physics` itself (the flat namespace of earlier
releases, kept for one release): `from diffsci.physics.exact import onsager_log_z` and
`from diffsci.physics import onsager_log_z` give the same function.
"""

from . import dynamics as dynamics
from . import engineering as engineering
from . import exact as exact
from . import models as models
from . import sampling as sampling
from . import variational as variational
from .dynamics import LORENZ_CLASSIC as LORENZ_CLASSIC
from .dynamics import LORENZ_LYAPUNOV_REFERENCE as LORENZ_LYAPUNOV_REFERENCE
from .dynamics import FitResult as FitResult
from .dynamics import fit_parameters as fit_parameters
from .dynamics import hamiltonian_inverse_problem as hamiltonian_inverse_problem
from .dynamics import largest_lyapunov_exponent as largest_lyapunov_exponent
from .dynamics import lorenz as lorenz
from .dynamics import lorenz_fit_problem as lorenz_fit_problem
from .dynamics import pendulum_potential as pendulum_potential
from .dynamics import polynomial_potential as polynomial_potential
from .dynamics import sir as sir
from .dynamics import sir_fit_problem as sir_fit_problem
from .dynamics import solve_sir as solve_sir
from .engineering import AbstractLatticeTarget as AbstractLatticeTarget
from .engineering import ChainEngineeringResult as ChainEngineeringResult
from .engineering import DensityTarget as DensityTarget
from .engineering import LatticeEngineeringResult as LatticeEngineeringResult
from .engineering import SpectrumTarget as SpectrumTarget
from .engineering import ThermalDensityTarget as ThermalDensityTarget
from .engineering import engineer_lattice as engineer_lattice
from .engineering import engineer_tfim_profile as engineer_tfim_profile
from .engineering import lattice_engineering_problem as lattice_engineering_problem
from .engineering import stripe_potential as stripe_potential
from .engineering import target_profile as target_profile
from .exact import HEISENBERG_IPEPS_REFERENCE as HEISENBERG_IPEPS_REFERENCE
from .exact import HEISENBERG_QMC_ENERGY as HEISENBERG_QMC_ENERGY
from .exact import ISING_BETA_C as ISING_BETA_C
from .exact import IsingThermodynamics as IsingThermodynamics
from .exact import TFIMExact as TFIMExact
from .exact import ising_exact as ising_exact
from .exact import ising_thermodynamics as ising_thermodynamics
from .exact import kaufman_log_z as kaufman_log_z
from .exact import onsager_curves as onsager_curves
from .exact import onsager_energy as onsager_energy
from .exact import onsager_log_z as onsager_log_z
from .exact import onsager_specific_heat as onsager_specific_heat
from .exact import published_ipeps_tensor as published_ipeps_tensor
from .exact import tfim_exact as tfim_exact
from .exact import tfim_product_state_energy as tfim_product_state_energy
from .exact import yang_magnetization as yang_magnetization
from .models import IsingHubbardStratonovich as IsingHubbardStratonovich
from .models import TightBindingLattice as TightBindingLattice
from .models import TransverseFieldIsing as TransverseFieldIsing
from .models import XXZChain as XXZChain
from .models import correlation_zz as correlation_zz
from .models import coulomb_energy as coulomb_energy
from .models import coulomb_hessian_eigenvalues as coulomb_hessian_eigenvalues
from .models import coulomb_virial as coulomb_virial
from .models import expect_x as expect_x
from .models import expect_z as expect_z
from .models import heisenberg_bond as heisenberg_bond
from .models import hopfield_couplings as hopfield_couplings
from .models import ising_energy as ising_energy
from .models import ising_hubbard_stratonovich as ising_hubbard_stratonovich
from .models import sk_couplings as sk_couplings
from .models import square_lattice as square_lattice
from .models import square_lattice_couplings as square_lattice_couplings
from .models import tfim_bond as tfim_bond
from .sampling import HMC as HMC
from .sampling import AbstractSampler as AbstractSampler
from .sampling import AutocorrelationTime as AutocorrelationTime
from .sampling import BinningResult as BinningResult
from .sampling import IsingMetropolis as IsingMetropolis
from .sampling import LatentHMC as LatentHMC
from .sampling import Metropolis as Metropolis
from .sampling import SampleResult as SampleResult
from .sampling import SamplerState as SamplerState
from .sampling import Wolff as Wolff
from .sampling import autocorrelation as autocorrelation
from .sampling import autocorrelation_time as autocorrelation_time
from .sampling import binning_error as binning_error
from .sampling import coulomb_sampling_study as coulomb_sampling_study
from .sampling import effective_sample_size as effective_sample_size
from .sampling import integrated_autocorr_time as integrated_autocorr_time
from .sampling import ising_sampling_study as ising_sampling_study
from .sampling import latent_hmc as latent_hmc
from .sampling import sample as sample
from .variational import FLOW_TARGETS as FLOW_TARGETS
from .variational import VAN as VAN
from .variational import CoulombGroundState as CoulombGroundState
from .variational import VANResult as VANResult
from .variational import coulomb_ground_state as coulomb_ground_state
from .variational import coulomb_ground_state_study as coulomb_ground_state_study
from .variational import coulomb_shells as coulomb_shells
from .variational import flow_study as flow_study
from .variational import flow_study_report as flow_study_report
from .variational import flow_target as flow_target
from .variational import heisenberg_ipeps as heisenberg_ipeps
from .variational import ipeps_initial_tensor as ipeps_initial_tensor
from .variational import ising_rg_thermodynamics as ising_rg_thermodynamics
from .variational import pad_ipeps_tensor as pad_ipeps_tensor
from .variational import reinforce_loss as reinforce_loss
from .variational import tfim_ipeps as tfim_ipeps
from .variational import van_free_energy as van_free_energy
from .variational import van_train as van_train
