"""Property-based gradient testing for JAX: checks of derivative rules and hypothesis strategies.

- `check_grads` runs every check below on a function at a point;
- `check_jvp_vjp`, `check_finite_differences`, `check_second_order`, `check_transforms` are the
  checks one by one;
- `check_invariance` checks that a loss is invariant under a transformation and that its gradient
  transforms accordingly;
- `diffsci.testing.strategies` holds the hypothesis strategies (matrices with prescribed spectra,
  orthogonal and unitary matrices, spins, particles, pytrees);
- `register_hypothesis_profiles` registers hypothesis profiles suited to JAX.
"""

from . import strategies as strategies
from ._check import (
    check_finite_differences as check_finite_differences,
)
from ._check import (
    check_grads as check_grads,
)
from ._check import (
    check_jvp_vjp as check_jvp_vjp,
)
from ._check import (
    check_second_order as check_second_order,
)
from ._check import (
    check_transforms as check_transforms,
)
from ._hypothesis import register_hypothesis_profiles as register_hypothesis_profiles
from ._invariance import check_invariance as check_invariance
from ._report import CheckReport as CheckReport
