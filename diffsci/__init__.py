"""diffsci: differentiable scientific programming on JAX.

Subpackages (import them explicitly, e.g. ``import diffsci.linalg``):

- `diffsci.testing`: property-based gradient checks and hypothesis strategies.
- `diffsci.linalg`: eigensolvers and decompositions whose derivatives are right at degeneracies.
- `diffsci.ode`: ODE solves with exact, O(1)-memory adjoints.
- `diffsci.tn`: tensor-network contraction and tensor renormalization groups.
- `diffsci.flows`: Monge-Ampere flows.
- `diffsci.physics`: models and solvers built on the primitives.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("diffsci")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
