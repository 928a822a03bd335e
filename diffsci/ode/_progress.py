"""Opt-in progress meters for long solves.

A meter is called from inside the jitted step loop through `jax.debug.callback`, so it works under
`jit`, `grad` and `vmap` without a host round trip on the steps it skips. No meter is active unless
`odeint(..., progress=...)` asks for one, so the default numerical path has no callbacks at all.
"""

from __future__ import annotations

import abc
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._internal._validate import static_int


class AbstractProgressMeter(eqx.Module):
    """Reports the progress of a solve. Subclasses implement `report(phase, done, total)`, a
    host-side Python method called with plain integers; `phase` is `"forward"` or `"backward"`.
    `reports` (an int) is how many reports a phase makes at most."""

    reports: eqx.AbstractVar[int]

    @abc.abstractmethod
    def report(self, phase: str, done: int, total: int) -> None:
        raise NotImplementedError

    def tick(self, phase: str, done, total: int):
        """Called inside traced code after step `done` (a traced integer) of `total` (static)."""
        every = max(1, total // max(1, self.reports))

        def _host(d):
            d = int(np.max(np.asarray(d)))  # under vmap every batch member reports: take one
            self.report(phase, d, total)

        def _call(d):
            jax.debug.callback(_host, d)
            return None

        lax.cond(
            (done % every == 0) | (done == total),
            _call,
            lambda d: None,
            jnp.asarray(done),
        )


class TextProgressMeter(AbstractProgressMeter):
    """Prints `odeint forward:  40.0% (400/1000 steps)` lines to stderr.

    **Arguments:**

    - `reports`: how many lines a phase prints at most (default 10: every 10%).
    """

    reports: int = 10

    def __check_init__(self):
        static_int(self.reports, "reports", "TextProgressMeter", minimum=1)

    def report(self, phase, done, total):
        pct = 100.0 * done / max(total, 1)
        print(f"odeint {phase}: {pct:5.1f}% ({done}/{total} steps)", file=sys.stderr, flush=True)
