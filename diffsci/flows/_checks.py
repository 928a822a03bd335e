"""Argument checks shared by the flows' entry points (private to `diffsci.flows`).

Generic checks (a PRNG key, a float dtype, a static real parameter, a flag, a callable) come from
`diffsci._internal._validate` and are re-exported here; what is particular to flows (the inverse
temperature, an energy traced once on abstract input to check what it returns) lives here.
"""

from __future__ import annotations

from typing import Any

from diffsci._internal._validate import callable_arg as callable_arg
from diffsci._internal._validate import energy_per_sample, inverse_temperature
from diffsci._internal._validate import flag as flag
from diffsci._internal._validate import float_dtype as float_dtype
from diffsci._internal._validate import path_or_none as path_or_none
from diffsci._internal._validate import prng_key as prng_key
from diffsci._internal._validate import real_number as real_number


def beta_value(beta: Any, who: str, why: str = "") -> Any:
    r"""The inverse temperature $\beta$, positive and finite ([`inverse_temperature`][])."""
    return inverse_temperature(beta, who, why)


def energy_per_point(energy_fn: Any, dim: int, dtype, who: str) -> None:
    """`energy_fn` gives one real scalar for one point x of shape `(dim,)` (traced once)."""
    energy_per_sample(energy_fn, (dim,), dtype, who, noun="point x")
