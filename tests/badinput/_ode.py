"""Bad-input rows of diffsci.ode (see test_bad_input.py)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import diffsci.ode as ode

from ._row import RUNTIME, Bad

_TS = np.array([0.0, 1.0])
_Y0 = jnp.ones(2)


def _decay(t, y, args):
    return -y


def _solve(y0=_Y0, ts=_TS, f=_decay, **kw):
    kw.setdefault("dt0", 0.1)
    return ode.odeint(f, y0, ts, **kw)


ROWS: list[Bad] = [
    Bad(
        "ode.odeint",
        "ts not monotonic",
        lambda ts: _solve(ts=ts, max_steps=40),
        (jnp.array([0.0, 1.0, 0.5]),),
        (ValueError, *RUNTIME),
        "`ts`.*increasing",
    ),
    Bad(
        "ode.odeint",
        "ts of rank 2",
        lambda ts: _solve(ts=ts),
        (jnp.ones((2, 2)),),
        ValueError,
        r"ts must be 1-D .*\(2, 2\)",
    ),
    Bad(
        "ode.odeint",
        "a single time",
        lambda ts: _solve(ts=ts),
        (jnp.zeros(1),),
        ValueError,
        "at least 2 times",
    ),
    Bad(
        "ode.odeint",
        "no dt0 nor steps_per_save",
        lambda y: _solve(y, dt0=None),
        (_Y0,),
        ValueError,
        "give dt0",
    ),
    Bad(
        "ode.odeint",
        "steps_per_save = 0",
        lambda y: _solve(y, dt0=None, steps_per_save=0),
        (_Y0,),
        ValueError,
        "steps_per_save",
    ),
    Bad(
        "ode.odeint",
        "max_steps = 0",
        lambda y: _solve(y, max_steps=0),
        (_Y0,),
        ValueError,
        "`max_steps`",
    ),
    Bad(
        "ode.odeint",
        "max_steps below the steps dt0 needs",
        lambda y: _solve(y, max_steps=3),
        (_Y0,),
        ValueError,
        "`max_steps`.*needs 10",
    ),
    Bad("ode.odeint", "f not callable", lambda y: _solve(y, f=3), (_Y0,), TypeError, "`f`"),
    Bad(
        "ode.odeint",
        "f of the wrong shape",
        lambda y: _solve(y, f=lambda t, x, a: x[:1]),
        (_Y0,),
        ValueError,
        r"`f` must return .*\(1,\)",
    ),
    Bad(
        "ode.odeint",
        "solver a string",
        lambda y: _solve(y, solver="rk4"),
        (_Y0,),
        TypeError,
        "`solver`",
    ),
    Bad(
        "ode.odeint",
        "adjoint a string",
        lambda y: _solve(y, adjoint="direct"),
        (_Y0,),
        TypeError,
        "adjoint must be",
    ),
    Bad("ode.odeint", "NaN in y0", _solve, (_Y0.at[0].set(jnp.nan),), RUNTIME, "`y0`.*NaN"),
    # an integer state is promoted to float; dy/dt = 1 is integrated exactly by every scheme
    Bad(
        "ode.odeint",
        "integer y0 promoted",
        lambda y: _solve(y, f=lambda t, x, a: jnp.ones_like(x)),
        (jnp.array([1, 2]),),
        None,
        value=np.array([[1.0, 2.0], [2.0, 3.0]]),
    ),
    Bad(
        "ode.Leapfrog",
        "field not separable",
        lambda q: _solve((q, q), f=lambda t, y, a: (y[1] * y[0], -y[0]), solver=ode.Leapfrog()),
        (_Y0,),
        ValueError,
        "separable",
        who="odeint",
    ),
    Bad(
        "ode.Yoshida4",
        "field not separable",
        lambda q: _solve((q, q), f=lambda t, y, a: (y[0], -y[1]), solver=ode.Yoshida4()),
        (_Y0,),
        ValueError,
        "separable",
        who="odeint",
    ),
    Bad(
        "ode.ReversibleRK4",
        "coupling 0",
        lambda: ode.ReversibleRK4(coupling=0.0),
        raises=ValueError,
        match="coupling",
        jit=False,
    ),
    Bad(
        "ode.ReversibleRK4",
        "coupling above 1",
        lambda: ode.ReversibleRK4(coupling=2.0),
        raises=ValueError,
        match="coupling",
        jit=False,
    ),
    Bad(
        "ode.AnchoredReversibleAdjoint",
        "every = 0",
        lambda: ode.AnchoredReversibleAdjoint(every=0),
        raises=ValueError,
        match="`every`",
        jit=False,
    ),
    Bad(
        "ode.AnchoredReversibleAdjoint",
        "negative drift_tol",
        lambda: ode.AnchoredReversibleAdjoint(drift_tol=-1.0),
        raises=ValueError,
        match="`drift_tol`",
        jit=False,
    ),
    Bad(
        "ode.ReversibleAdjoint",
        "negative drift_tol",
        lambda: ode.ReversibleAdjoint(drift_tol=-1.0),
        raises=ValueError,
        match="`drift_tol`",
        jit=False,
    ),
    Bad(
        "ode.RecursiveCheckpointAdjoint",
        "checkpoints = 0",
        lambda: ode.RecursiveCheckpointAdjoint(checkpoints=0),
        raises=ValueError,
        match="`checkpoints`",
        jit=False,
    ),
    Bad(
        "ode.TextProgressMeter",
        "reports = 0",
        lambda: ode.TextProgressMeter(reports=0),
        raises=ValueError,
        match="`reports`",
        jit=False,
    ),
]

# Public names with no input a user can get wrong ("ode.Name": reason).
NO_INPUT: dict[str, str] = {
    "ode.AbstractAdjoint": "abstract base class (its subclasses have rows)",
    "ode.AbstractProgressMeter": "abstract base class (TextProgressMeter has a row)",
    "ode.AbstractReversibleSolver": "abstract base class (its subclasses have rows)",
    "ode.BacksolveAdjoint": "no arguments",
    "ode.DirectAdjoint": "no arguments",
    "ode.ReversibleHeun": "no arguments",
}
