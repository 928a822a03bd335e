"""A lineax solver wrapper that turns a failed solve into NaN instead of an error.

lineax's transpose rule for `linear_solve` (reverse mode through a solve) always raises when the
transposed solve fails: it has no result to report the failure through. A rule that differentiates
through a solve with `throw=False` (CTMRG's fixed-point derivative, `diffsci.tn.ctmrg`) wraps its
solver in `NaNOnFailure`, so that a failed solve, forward or transposed, gives a NaN derivative
that the caller can see and map onto a `RESULTS` member, never an exception matched by its text.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import lineax as lx


class NaNOnFailure(lx.AbstractLinearSolver):
    """`solver`, except that a solve it reports as failed returns NaN and reports success."""

    solver: lx.AbstractLinearSolver

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        return self.solver.init(operator, options)

    def compute(self, state, vector, options: dict[str, Any]):
        solution, result, stats = self.solver.compute(state, vector, options)
        failed = result != lx.RESULTS.successful
        solution = jax.tree.map(lambda s: jnp.where(failed, jnp.nan, s), solution)
        return solution, lx.RESULTS.successful, stats

    def transpose(self, state, options: dict[str, Any]):
        return self.solver.transpose(state, options)

    def conj(self, state, options: dict[str, Any]):
        return self.solver.conj(state, options)

    def assume_full_rank(self) -> bool:
        return self.solver.assume_full_rank()
