"""Private code shared between diffsci's subpackages (the only place they may share it from).

Nothing here is public API. A subpackage that needs a helper of another subpackage takes it from
here, never from that subpackage's `_private` modules.

- `_boundary`: how user callables and parameters cross into a custom derivative rule.
- `_validate`: the checks of user input, and the one form of their messages.
- `_primitive`: `jvp_primitive`, a JAX primitive with its own JVP rule (the decompositions of
  `linalg` and the split eigensolver of `tn`'s CTMRG).
- `_solvers`: `NaNOnFailure`, a lineax solver whose failed solve gives NaN instead of raising.
- `_c4v`: the point group C4v of the square lattice as permutations of a site tensor's axes
  (`tn`'s iPEPS, `physics`' published iPEPS states).
"""

from ._boundary import as_arrays as as_arrays
from ._boundary import cast_like as cast_like
from ._boundary import combine as combine
from ._boundary import hoist as hoist
from ._boundary import is_inexact_leaf as is_inexact_leaf
from ._boundary import split as split
