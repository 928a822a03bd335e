"""Monge-Ampère flows: continuous normalizing flows along the gradient of a learned potential.

- `MongeAmpereFlow`: sampling with log-density and `log_prob` of data, integrated with
  `diffsci.ode` (exact gradients in memory independent of the number of steps);
- potentials: `OneLayerPotential` (closed-form Laplacian), `SpinFlipSymmetric`,
  `PermutationInvariantPotential`, `LatticeConvPotential`, or any `phi(x, t) -> scalar`;
- divergence strategies: `ExactLaplacian` (default), `Hutchinson`;
- training: `train_variational` (minimize the variational free energy of a target energy) and
  `train_likelihood` (maximum likelihood on data).

Reference: L. Zhang, W. E, L. Wang, "Monge-Ampère Flow for Generative Modeling",
arXiv:1809.10188.
"""

from ._divergence import AbstractDivergence as AbstractDivergence
from ._divergence import ExactLaplacian as ExactLaplacian
from ._divergence import Hutchinson as Hutchinson
from ._flow import MongeAmpereFlow as MongeAmpereFlow
from ._flow import standard_normal_log_prob as standard_normal_log_prob
from ._latent import AbstractLogDet as AbstractLogDet
from ._latent import IntegratedLogDet as IntegratedLogDet
from ._latent import JacobianLogDet as JacobianLogDet
from ._latent import LatentEnergy as LatentEnergy
from ._latent import latent_energy as latent_energy
from ._potentials import AbstractPotential as AbstractPotential
from ._potentials import LatticeConvPotential as LatticeConvPotential
from ._potentials import OneLayerPotential as OneLayerPotential
from ._potentials import PermutationInvariantPotential as PermutationInvariantPotential
from ._potentials import SpinFlipSymmetric as SpinFlipSymmetric
from ._train import FlowTrainResult as FlowTrainResult
from ._train import flow_free_energy as flow_free_energy
from ._train import train_likelihood as train_likelihood
from ._train import train_variational as train_variational
