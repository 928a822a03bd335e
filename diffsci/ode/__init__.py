"""ODE solves with exact, memory-efficient gradients.

`odeint` integrates with a fixed-step solver and is differentiated with a chosen adjoint
strategy. The default, `ReversibleAdjoint`, is exact (the gradient of the discrete solution) and
takes O(1) memory in the number of steps, by rebuilding the trajectory backwards with an
algebraically reversible solver.
"""

from ._adjoint import (
    AbstractAdjoint as AbstractAdjoint,
)
from ._adjoint import (
    AnchoredReversibleAdjoint as AnchoredReversibleAdjoint,
)
from ._adjoint import (
    BacksolveAdjoint as BacksolveAdjoint,
)
from ._adjoint import (
    DirectAdjoint as DirectAdjoint,
)
from ._adjoint import (
    RecursiveCheckpointAdjoint as RecursiveCheckpointAdjoint,
)
from ._adjoint import (
    ReversibleAdjoint as ReversibleAdjoint,
)
from ._odeint import odeint as odeint
from ._progress import (
    AbstractProgressMeter as AbstractProgressMeter,
)
from ._progress import (
    TextProgressMeter as TextProgressMeter,
)
from ._solvers import (
    AbstractReversibleSolver as AbstractReversibleSolver,
)
from ._solvers import (
    Leapfrog as Leapfrog,
)
from ._solvers import (
    ReversibleHeun as ReversibleHeun,
)
from ._solvers import (
    ReversibleRK4 as ReversibleRK4,
)
from ._solvers import (
    Yoshida4 as Yoshida4,
)
