"""Markov-chain Monte Carlo: the samplers, the chunked and resumable driver `sample`,
latent-space HMC through a flow, and the statistics of a chain (autocorrelation times, binning
error bars, effective sample size); and the studies built on them: HMC of the Coulomb gas
(`coulomb_sampling_study`) and Metropolis against Wolff on the Ising model
(`ising_sampling_study`).

Each name is also `diffsci.physics.<name>` (the flat namespace of earlier releases, kept for
one release); new code imports from here.
"""

from ._latent_hmc import LatentHMC as LatentHMC
from ._latent_hmc import latent_hmc as latent_hmc
from ._samplers import HMC as HMC
from ._samplers import AbstractSampler as AbstractSampler
from ._samplers import IsingMetropolis as IsingMetropolis
from ._samplers import Metropolis as Metropolis
from ._samplers import SampleResult as SampleResult
from ._samplers import SamplerState as SamplerState
from ._samplers import Wolff as Wolff
from ._samplers import sample as sample
from ._stats import AutocorrelationTime as AutocorrelationTime
from ._stats import BinningResult as BinningResult
from ._stats import autocorrelation as autocorrelation
from ._stats import autocorrelation_time as autocorrelation_time
from ._stats import binning_error as binning_error
from ._stats import effective_sample_size as effective_sample_size
from ._stats import integrated_autocorr_time as integrated_autocorr_time
from ._studies import coulomb_sampling_study as coulomb_sampling_study
from ._studies import ising_sampling_study as ising_sampling_study

__all__ = [
    "sample",
    "SampleResult",
    "SamplerState",
    "AbstractSampler",
    "IsingMetropolis",
    "Wolff",
    "Metropolis",
    "HMC",
    "latent_hmc",
    "LatentHMC",
    "autocorrelation",
    "autocorrelation_time",
    "AutocorrelationTime",
    "integrated_autocorr_time",
    "effective_sample_size",
    "binning_error",
    "BinningResult",
    "coulomb_sampling_study",
    "ising_sampling_study",
]
