"""Finite differences along a direction, with Richardson extrapolation and an error estimate.

The derivative $g'(0)$ of a vector-valued $g(t)$ is estimated from central differences

$$D(h) = \\frac{g(h) - g(-h)}{2h} = g'(0) + c_1 h^2 + c_2 h^4 + \\dots$$

on the steps $h_k = h_0 / r^k$, extrapolated to $h \\to 0$ with the Neville tableau

$$T_{k,j} = T_{k,j-1} + \\frac{T_{k,j-1} - T_{k-1,j-1}}{r^{2j} - 1}.$$

Each entry comes with the error estimate of Ridders' method (C. J. F. Ridders, *Adv. Eng.
Software* 4, 75 (1982)), $\\max(|T_{k,j} - T_{k,j-1}|, |T_{k,j} - T_{k-1,j-1}|)$, floored by the
round-off of the differences, $4\\max(\\epsilon \\max_i|g_i|, \\nu) / h$, where the noise
$\\nu$ is measured by a third difference of $g$ on a step far below the smallest $h$. Every
entry of $g$ gets the tableau entry with the smallest estimate, and the extrapolation of an entry
stops once the diagonal moves away by more than twice its best error (round-off has taken over).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class FDResult:
    """A finite-difference derivative, entry by entry: `value`, `error` and the `step` used."""

    value: np.ndarray
    error: np.ndarray
    step: np.ndarray
    #: g(h_0) and g(-h_0): the function at the largest steps (reused by other checks)
    g_plus: np.ndarray
    g_minus: np.ndarray


def richardson(
    g: Callable[[float], np.ndarray],
    h0: float,
    *,
    eps: float,
    levels: int = 6,
    ratio: float = 2.0,
) -> FDResult:
    """Richardson-extrapolated central differences of `g` at 0 with an error estimate.

    **Arguments:**

    - `g`: a function of a real scalar returning a float64 vector (all outputs flattened).
    - `h0`: the largest step.
    - `eps`: the machine epsilon of the computation inside `g` (sets the round-off floor).
    - `levels`: the number of steps $h_0, h_0/r, \\dots$.
    - `ratio`: $r$, the ratio of consecutive steps.

    **Returns:**

    An `FDResult` whose `value`, `error` and `step` have the shape of `g`'s output.
    """
    if levels < 2:
        raise ValueError(f"richardson: need at least 2 levels, got {levels}")
    # Round-off noise of g, measured: the third difference on a step far below the smallest one
    # is free of the smooth part of g to working precision, so what is left is noise; for
    # independent noise of size nu it has size sqrt(20) nu.
    delta = h0 / ratio ** (levels - 1) / 100
    with np.errstate(invalid="ignore", over="ignore"):
        samples = [np.asarray(g(k * delta), np.float64) for k in (-1, 0, 1, 2)]
        third = samples[3] - 3 * samples[2] + 3 * samples[1] - samples[0]
    third = np.abs(third[np.isfinite(third)])
    noise = float(third.max()) / np.sqrt(20.0) if third.size else 0.0
    previous: list[np.ndarray] = []
    # arrays, all set at the first level (k == 0) before any use
    best: Any = None
    err: Any = None
    step: Any = None
    frozen: Any = None
    g_plus: Any = None
    g_minus: Any = None
    for k in range(levels):
        h = h0 / ratio**k
        plus, minus = np.asarray(g(h), np.float64), np.asarray(g(-h), np.float64)
        if k == 0:
            g_plus, g_minus = plus, minus
        with np.errstate(invalid="ignore", over="ignore"):
            d = (plus - minus) / (2 * h)
            # round-off of the difference: relative to the largest entry of g, because the
            # entries of g are typically computed from common intermediate values
            big = np.max(
                np.abs(np.concatenate([plus, minus]))[np.isfinite(np.concatenate([plus, minus]))],
                initial=0.0,
            )
            roundoff = np.full(plus.shape, 4 * max(eps * big, noise) / h)
        row = [d]
        if k == 0:
            best = d.copy()
            err = np.full(d.shape, np.inf)
            step = np.full(d.shape, h)
            frozen = np.zeros(d.shape, dtype=bool)
        factor = ratio**2
        for j in range(1, k + 1):
            with np.errstate(invalid="ignore", over="ignore"):
                t = row[j - 1] + (row[j - 1] - previous[j - 1]) / (factor - 1)
                e = np.maximum(np.abs(t - row[j - 1]), np.abs(t - previous[j - 1]))
                e = np.maximum(e, roundoff)
            factor *= ratio**2
            row.append(t)
            better = (e <= err) & np.isfinite(t) & ~frozen
            best = np.where(better, t, best)
            err = np.where(better, e, err)
            step = np.where(better, h, step)
        if k > 0:
            with np.errstate(invalid="ignore"):
                diverging = np.abs(row[k] - previous[k - 1]) >= 2 * err
            frozen = frozen | (diverging & np.isfinite(err))
        previous = row
    return FDResult(best, err, step, g_plus, g_minus)
