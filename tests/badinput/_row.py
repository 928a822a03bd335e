"""One row of the bad-input table: a public entry point called with one bad input, and what
must happen (a clear error naming the argument, or the right value of a defined limit)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax

# A value check (equinox.error_if) raises EquinoxRuntimeError eagerly, and JAX's runtime error
# carrying the same message from compiled code.
RUNTIME = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


@dataclasses.dataclass(frozen=True)
class Bad:
    """`fn(*args)` must raise `raises` with a message that contains `who` (the function the user
    called) and matches `match` (the argument's name, and what was wrong); or, with
    `raises=None`, return `value` (a reference from outside the code under test) to `rtol`.

    `args` are the arrays handed to `fn`: under `jit` they are traced, so a value that decides
    the outcome is checked at run time. `jit=False` for entry points that are not jittable (a
    constructor, a trainer, a driver that writes files) or whose bad input is static."""

    name: str  # "subpackage.public_name" (one of the rows of the coverage test)
    case: str  # what is wrong with the input, in a few words
    fn: Callable[..., Any]
    args: tuple = ()
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = ValueError
    match: str = ""  # a regex the message must match (besides naming `who`)
    who: str | None = None  # the name in the message; the public name's last part by default
    value: Any = None
    rtol: float = 1e-10
    jit: bool = True
