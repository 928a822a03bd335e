"""Argument checks particular to the physics models and solvers (private to `diffsci.physics`).

Generic checks (a PRNG key, a float dtype, a static real parameter, a flag, a callable, a concrete
array's values) come from `diffsci._internal._validate` and are re-exported here; this module adds
an energy traced once on abstract input to check what it returns.
"""

from __future__ import annotations

from typing import Any

from diffsci._internal._validate import callable_arg as callable_arg
from diffsci._internal._validate import concrete_finite as concrete_finite
from diffsci._internal._validate import concrete_value as concrete_value
from diffsci._internal._validate import energy_per_sample
from diffsci._internal._validate import flag as flag
from diffsci._internal._validate import float_dtype as float_dtype
from diffsci._internal._validate import path_or_none as path_or_none
from diffsci._internal._validate import prng_key as prng_key
from diffsci._internal._validate import real_number as real_number
from diffsci._internal._validate import real_scalar as real_scalar


def energy_per_configuration(energy_fn: Any, n: int, dtype, batch: int, who: str) -> None:
    """`jax.vmap(energy_fn)` gives one real energy per configuration of shape `(n,)` on a batch
    of `batch` (traced once)."""
    energy_per_sample(energy_fn, (n,), dtype, who, batch=batch)
