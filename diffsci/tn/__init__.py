"""Tensor networks: contraction in an optimized order (with slicing), and real-space
renormalization groups (TRG, HOTRG) for 2D classical lattice models, differentiable end to end.

- `contract`, `contraction_path`, `ContractionPath`: contract a network given as einsum
  subscripts or named legs; optimizers `OptEinsum` (default) and `Cotengra`.
- `trg`, `hotrg`: ln Z per site of a translation-invariant 2D network from its local tensor
  `T[x, x', y, y']` (left, right, down, up); `trg(..., svd="jax")` splits with JAX's own SVD
  rule (the stock alternative, for comparisons).
- `lattice_tensor`, `ising_tensor`, `potts_tensor`: local tensors of classical spin models.
- `ising_log_z`: ln Z per site of the 2D Ising model, differentiable in β and h.
- `truncation_info`, `TruncationInfo`: the kept rank of every TRG/HOTRG truncation (a cut never
  splits a degenerate multiplet, so χ is an upper bound).
- `ctmrg`, `ctmrg_log_z`, `CTMRGEnv`, `CTMRGResult`: the C4v symmetric corner transfer matrix
  environment of a 2D network, differentiated through its fixed point (its status is a member of
  `diffsci.utils.RESULTS`; `CTMRGResults` is that enumeration's earlier name); `ctmrg_unrolled`,
  plain steps differentiated by unrolling (the stock alternative, for comparisons).
- `ipeps_energy`, `optimize_ipeps`, `two_site_rdm`, `one_site_rdm`, `double_layer`,
  `symmetrize_c4v`: single-site C4v iPEPS on the square lattice (energies from CTMRG).
"""

from ._contract import AbstractContractionOptimizer as AbstractContractionOptimizer
from ._contract import ContractionPath as ContractionPath
from ._contract import Cotengra as Cotengra
from ._contract import OptEinsum as OptEinsum
from ._contract import contract as contract
from ._contract import contraction_path as contraction_path
from ._ctmrg import CTMRGEnv as CTMRGEnv
from ._ctmrg import CTMRGResult as CTMRGResult
from ._ctmrg import CTMRGResults as CTMRGResults
from ._ctmrg import ctmrg as ctmrg
from ._ctmrg import ctmrg_log_z as ctmrg_log_z
from ._ctmrg import ctmrg_unrolled as ctmrg_unrolled
from ._hotrg import hotrg as hotrg
from ._ipeps import double_layer as double_layer
from ._ipeps import ipeps_energy as ipeps_energy
from ._ipeps import one_site_rdm as one_site_rdm
from ._ipeps import symmetrize_c4v as symmetrize_c4v
from ._ipeps import two_site_rdm as two_site_rdm
from ._ipeps_optimizer import IPEPSResult as IPEPSResult
from ._ipeps_optimizer import optimize_ipeps as optimize_ipeps
from ._ising import ising_log_z as ising_log_z
from ._models import ising_tensor as ising_tensor
from ._models import lattice_tensor as lattice_tensor
from ._models import potts_tensor as potts_tensor
from ._trg import trg as trg
from ._truncation import TruncationInfo as TruncationInfo
from ._truncation import truncation_info as truncation_info
