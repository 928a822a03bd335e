"""Use the solvers of `diffsci.ode` inside `diffrax.diffeqsolve` (for diffrax's adjoints)."""

from __future__ import annotations

from typing import ClassVar

import diffrax
from diffrax import AbstractSolver, AbstractTerm, LocalLinearInterpolation

from ._solvers import AbstractReversibleSolver, ReversibleHeun


class _DiffraxAdapter(AbstractSolver):
    """A `diffrax.AbstractSolver` that runs one of our reversible solvers' forward steps.

    The full solver state (which contains `y`) is diffrax's solver state; diffrax's own `y` is
    the solver's `output(state)`. Where diffrax changes `y` between steps (the backsolve adjoint
    adds cotangents at save times) the state follows through `solver.with_output`. Dense
    output is linear between steps, but `odeint` only saves at step boundaries.
    """

    solver: AbstractReversibleSolver
    term_structure: ClassVar = AbstractTerm
    interpolation_cls: ClassVar = LocalLinearInterpolation

    def order(self, terms):
        return self.solver.order

    def init(self, terms, t0, t1, y0, args):
        del t1
        return self.solver.init(terms.vf, t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del made_jump
        state = self.solver.with_output(terms.vf, t0, solver_state, y0, args)
        state = self.solver.step(terms.vf, t0, t1, state, args)
        y1 = self.solver.output(state)
        dense_info = dict(y0=y0, y1=y1)
        return y1, None, dense_info, state, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


def to_diffrax_solver(solver):
    """A diffrax solver taking the same steps as `solver` (diffrax solvers pass through)."""
    if isinstance(solver, AbstractSolver):
        return solver
    if isinstance(solver, ReversibleHeun):
        return diffrax.ReversibleHeun()
    if isinstance(solver, AbstractReversibleSolver):
        return _DiffraxAdapter(solver)
    raise TypeError(
        "odeint: solver must be a diffsci.ode solver or a diffrax.AbstractSolver, "
        f"got {type(solver).__name__}"
    )
