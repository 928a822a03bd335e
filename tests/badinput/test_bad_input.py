"""The bad-input table: every public function and class of diffsci, called the way a careless
user would (wrong rank, shape or dtype; NaN; empty, zero or negative sizes; k beyond the
dimension; spins that are not spins; nonsense options), gives a clear error from the function the
user called, naming the argument and what was given, eagerly and under `jit`; or, at a defined
limit, the right value.

Rows live in one module per subpackage (`_linalg.py`, `_physics_stat.py`, ...): adding a public
function adds its rows there; `test_every_public_name_has_a_row` fails until it has one (or is
listed in that module's `NO_INPUT` as having no input to get wrong, with the reason).
"""

from __future__ import annotations

import importlib
import inspect
import re

import jax
import numpy as np
import pytest

from . import (
    _flows,
    _linalg,
    _ode,
    _physics_models,
    _physics_stat,
    _physics_studies,
    _testing,
    _tn,
    _utils,
)

_MODULES = (
    _linalg,
    _ode,
    _tn,
    _flows,
    _physics_stat,
    _physics_models,
    _physics_studies,
    _utils,
    _testing,
)
ROWS = [row for m in _MODULES for row in m.ROWS]


def _id(row):
    return f"{row.name}-{row.case}".replace(" ", "_")


def _check(row, call):
    who = row.who or row.name.split(".")[-1]
    if row.raises is None:
        got = call()
        np.testing.assert_allclose(
            np.asarray(got, dtype=np.float64),
            row.value,
            rtol=row.rtol,
            atol=row.rtol,
            err_msg=f"{row.name}: {row.case}",
        )
        return
    with pytest.raises(row.raises) as info:
        jax.block_until_ready(call())
    message = str(info.value)
    assert who in message, f"the message does not name `{who}`, the function called: {message}"
    assert re.search(row.match, message), f"the message does not match {row.match!r}: {message}"


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_eager(row):
    _check(row, lambda: row.fn(*row.args))


@pytest.mark.parametrize("row", [r for r in ROWS if r.jit], ids=_id)
def test_jit(row):
    # a fresh function object per row: a function compiled by an earlier row would take JAX's
    # cached fast path, which reports a failed value check as a plain ValueError
    _check(row, lambda: jax.jit(lambda *args: row.fn(*args))(*row.args))


_SUBPACKAGES = ("linalg", "ode", "tn", "flows", "physics", "utils", "testing")


def test_every_public_name_has_a_row():
    covered = {r.name for r in ROWS}
    exempt = {name for m in _MODULES for name in m.NO_INPUT}
    public = set()
    for sub in _SUBPACKAGES:
        module = importlib.import_module(f"diffsci.{sub}")
        public |= {
            f"{sub}.{n}"
            for n in dir(module)
            if not n.startswith("_") and not inspect.ismodule(getattr(module, n))
        }
    missing = sorted(public - exempt - covered)
    stale = sorted((exempt | covered) - public)
    assert not missing, f"public names with no bad-input row (add one, or say why not): {missing}"
    assert not stale, f"rows or exemptions of names that are not public: {stale}"
