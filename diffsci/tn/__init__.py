"""Tensor networks: contraction in an optimized order (with slicing), and real-space
renormalization groups (TRG, HOTRG) for 2D classical lattice models, differentiable end to end.

- `contract`, `contraction_path`, `ContractionPath`: contract a network given as einsum
  subscripts or named legs; optimizers `OptEinsum` (default) and `Cotengra`.
- `trg`, `hotrg`: ln Z per site of a translation-invariant 2D network from its local tensor
  `T[x, x', y, y']` (left, right, down, up).
- `lattice_tensor`, `ising_tensor`, `potts_tensor`: local tensors of classical spin models.
- `ising_log_z`: ln Z per site of the 2D Ising model, differentiable in β and h.
"""

from ._contract import AbstractContractionOptimizer as AbstractContractionOptimizer
from ._contract import ContractionPath as ContractionPath
from ._contract import Cotengra as Cotengra
from ._contract import OptEinsum as OptEinsum
from ._contract import contract as contract
from ._contract import contraction_path as contraction_path
from ._hotrg import hotrg as hotrg
from ._ising import ising_log_z as ising_log_z
from ._models import ising_tensor as ising_tensor
from ._models import lattice_tensor as lattice_tensor
from ._models import potts_tensor as potts_tensor
from ._trg import trg as trg
