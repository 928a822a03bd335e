"""Dynamical systems and fitting their parameters to data through `diffsci.ode`: the Lorenz and
SIR fields, the inverse problems, and the largest Lyapunov exponent; the helpers the fits share
(`LORENZ_CLASSIC`, `polynomial_potential`, `pendulum_potential`, `solve_sir`).

Each name is also `diffsci.physics.<name>` (the flat namespace of earlier releases, kept for
one release); new code imports from here.
"""

from ._dynamics import LORENZ_CLASSIC as LORENZ_CLASSIC
from ._dynamics import LORENZ_LYAPUNOV_REFERENCE as LORENZ_LYAPUNOV_REFERENCE
from ._dynamics import FitResult as FitResult
from ._dynamics import fit_parameters as fit_parameters
from ._dynamics import hamiltonian_inverse_problem as hamiltonian_inverse_problem
from ._dynamics import largest_lyapunov_exponent as largest_lyapunov_exponent
from ._dynamics import lorenz as lorenz
from ._dynamics import lorenz_fit_problem as lorenz_fit_problem
from ._dynamics import pendulum_potential as pendulum_potential
from ._dynamics import polynomial_potential as polynomial_potential
from ._dynamics import sir as sir
from ._dynamics import sir_fit_problem as sir_fit_problem
from ._dynamics import solve_sir as solve_sir

__all__ = [
    "lorenz",
    "sir",
    "lorenz_fit_problem",
    "sir_fit_problem",
    "hamiltonian_inverse_problem",
    "fit_parameters",
    "FitResult",
    "largest_lyapunov_exponent",
    "LORENZ_LYAPUNOV_REFERENCE",
    "LORENZ_CLASSIC",
    "polynomial_potential",
    "pendulum_potential",
    "solve_sir",
]
