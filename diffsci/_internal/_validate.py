r"""Input validation shared by every public entry point: one way to say what was wrong.

Two kinds of check, as the house style asks:

- **static** (shape, dtype, rank, sizes, counts, options): decided at trace time, raised at once
  as `ValueError` (a wrong value or shape) or `TypeError` (a wrong type or dtype), by the function
  the user called, naming the argument, what was given and what was expected;
- **value** (NaN, spins that are not $\pm 1$, asymmetric couplings, out-of-range sites, a
  negative step size held in a traced field): checked through `equinox.error_if`, which raises
  eagerly and under `jit` alike (`equinox.EquinoxRuntimeError` or, compiled, `jax`'s runtime
  error carrying the same message). A value check is attached to the returned value, so the check
  runs whenever that value is used.

Every message reads ``"<who>: expected `<name>` to be <expectation>, got <what was given>"``
(or "to have ..."), where
`who` is the public function or class the user called.
"""

from __future__ import annotations

import math
import operator
import os
from typing import Any, NoReturn, TypeVar

import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

_T = TypeVar("_T")
_ArrayT = TypeVar("_ArrayT", bound=ArrayLike)


def describe(x: Any) -> str:
    """A short description of a given value for an error message."""
    if isinstance(x, jax.Array | np.ndarray | np.generic):
        if isinstance(x, jax.core.Tracer) or np.ndim(x) > 0 or np.size(x) == 0:
            return f"an array of shape {tuple(np.shape(x))} and dtype {x.dtype}"
        return f"{x.item()!r} ({x.dtype})"
    if isinstance(x, str | bool | int | float | complex) or x is None:
        return f"{x!r}"
    return f"a {type(x).__name__}"


def fail(
    who: str,
    name: str,
    expected: str,
    got: Any,
    exc: type[Exception] = ValueError,
    *,
    described: bool = False,
) -> NoReturn:
    """Raise `exc` with the house message; `expected` is a phrase such as "to be an integer >= 1"
    or "to have shape (3,)". `got` is described unless `described`."""
    raise exc(f"{who}: expected `{name}` {expected}, got {got if described else describe(got)}")


def is_concrete(x: Any) -> bool:
    """Whether `x` has a value at trace time (not a tracer)."""
    return not isinstance(x, jax.core.Tracer)


def static_int(
    x: Any, name: str, who: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """`x` as a Python `int`: a Python or NumPy integer, or a concrete 0-d integer array.

    `bool` and non-integral numbers (`1.5`, `2.0`) are refused with `TypeError`; a value outside
    `[minimum, maximum]` with `ValueError`."""
    if isinstance(x, bool | np.bool_) or (
        isinstance(x, jax.Array | np.ndarray) and x.dtype == bool
    ):
        fail(who, name, "to be an integer", x, TypeError)
    if isinstance(x, jax.core.Tracer):
        fail(
            who,
            name,
            "to be a static Python integer (it sets a shape or a count), not a traced value",
            x,
            TypeError,
        )
    try:
        value = operator.index(x)
    except TypeError:
        fail(who, name, "to be an integer", x, TypeError)
    if minimum is not None and value < minimum:
        fail(who, name, f"to be an integer >= {minimum}", value)
    if maximum is not None and value > maximum:
        fail(who, name, f"to be an integer <= {maximum}", value)
    return value


def choice(x: Any, name: str, who: str, options: tuple) -> Any:
    """`x` if it is one of `options`, else `ValueError` listing them."""
    if not any(x is o or (type(x) is type(o) and x == o) for o in options):
        fail(who, name, "to be one of " + ", ".join(repr(o) for o in options), x)
    return x


def float_array(
    x: Any,
    name: str,
    who: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    dtype=None,
    complex_ok: bool = False,
) -> jax.Array:
    """`x` as a floating JAX array (integer and boolean input promoted to `dtype` or the
    default float, as `jnp.linalg` does; float16/bfloat16 and non-numbers refused with
    `TypeError`), with the given rank and shape (`None` in `shape`: any size) or `ValueError`."""
    if isinstance(x, str) or x is None:
        fail(who, name, "to be an array of real numbers", x, TypeError)
    try:
        a = jnp.asarray(x)
    except (TypeError, ValueError):
        fail(who, name, "to be an array of real numbers", x, TypeError)
    if jnp.issubdtype(a.dtype, jnp.integer) or a.dtype == jnp.bool_:
        a = a.astype(dtype if dtype is not None else jnp.result_type(float))
    allowed = ("float32", "float64") + (("complex64", "complex128") if complex_ok else ())
    if a.dtype.name not in allowed:
        hint = (
            " (cast it with .astype(jnp.float32))"
            if a.dtype.name in ("float16", "bfloat16")
            else ""
        )
        fail(
            who,
            name,
            "to have dtype " + " or ".join(allowed) + hint,
            f"dtype {a.dtype.name}",
            TypeError,
            described=True,
        )
    if ndim is not None:
        ranks = (ndim,) if isinstance(ndim, int) else ndim
        if a.ndim not in ranks:
            fail(
                who,
                name,
                f"to be an array of rank {' or '.join(map(str, ranks))}",
                f"shape {a.shape}",
                described=True,
            )
    if shape is not None:
        if a.ndim != len(shape) or any(
            s is not None and s != d for s, d in zip(shape, a.shape, strict=True)
        ):
            want = (
                "("
                + ", ".join("n" if s is None else str(s) for s in shape)
                + ("," if len(shape) == 1 else "")
                + ")"
            )
            fail(who, name, f"to have shape {want}", f"shape {a.shape}", described=True)
    return a


# ----------------------------------------------------------------------------------------------
# parameters: keys, dtypes, static numbers, flags, callables, paths


def prng_key(key: Any, name: str, who: str) -> Any:
    """`key` if it is one JAX PRNG key: a typed key (`jax.random.key`) of shape `()`, or raw key
    data (`jax.random.PRNGKey`), a uint32 vector of shape `(2,)` (or `(4,)` for rbg keys);
    else `TypeError` (an int seed is the usual mistake)."""
    if isinstance(key, jax.Array | np.ndarray):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            if key.ndim == 0:
                return key
            fail(
                who,
                name,
                "to be one PRNG key",
                f"an array of keys of shape {key.shape}",
                ValueError,
                described=True,
            )
        if key.dtype == jnp.uint32 and key.ndim == 1:
            return key
    fail(
        who,
        name,
        "to be a JAX PRNG key (jax.random.key(seed) or jax.random.PRNGKey(seed))",
        key,
        TypeError,
    )


def float_dtype(dtype: Any, name: str, who: str):
    """JAX's default float for `None`, else `dtype` if it is float32 or float64 (`TypeError`
    for integer, bool, half-precision and complex dtypes: the result would be truncated)."""
    if dtype is None:
        return jnp.dtype(jnp.result_type(float))
    try:
        d = jnp.dtype(dtype)
    except TypeError:
        fail(who, name, "to be a float dtype (jnp.float32 or jnp.float64)", dtype, TypeError)
    if d.name not in ("float32", "float64"):
        fail(
            who,
            name,
            "to be a float dtype (jnp.float32 or jnp.float64)",
            f"dtype {d.name}",
            TypeError,
            described=True,
        )
    return d


def real_number(
    x: Any,
    name: str,
    who: str,
    *,
    minimum: float | None = None,
    strict: bool = True,
    maximum: float | None = None,
    why: str = "",
) -> float:
    """`x` as a Python float: a real number (Python, NumPy or a concrete 0-d array), finite and,
    with `minimum`, above it (`strict`) or at least it, with `maximum` below it (`strict`) or at
    most it. `TypeError` for a string, a bool, an array or a traced value; `ValueError` (plus
    `why`) for a value out of range."""
    if isinstance(x, bool | np.bool_ | str) or x is None:
        fail(who, name, "to be a real number", x, TypeError)
    if isinstance(x, jax.core.Tracer):
        fail(who, name, "to be a static Python number, not a traced value", x, TypeError)
    if np.ndim(x) != 0 or not (
        isinstance(x, int | float | np.integer | np.floating)
        or (
            isinstance(x, jax.Array | np.ndarray)
            and jnp.issubdtype(x.dtype, jnp.number)
            and not jnp.issubdtype(x.dtype, jnp.complexfloating)
        )
    ):
        fail(who, name, "to be a real number", x, TypeError)
    value = float(x)
    gt, ge, lt, le = ">", ">=", "<", "<="
    bounds = []
    if minimum is not None:
        bounds.append(f"{gt if strict else ge} {minimum:g}")
    if maximum is not None:
        bounds.append(f"{lt if strict else le} {maximum:g}")
    ok = math.isfinite(value)
    if minimum is not None:
        ok = ok and (value > minimum if strict else value >= minimum)
    if maximum is not None:
        ok = ok and (value < maximum if strict else value <= maximum)
    if not ok:
        fail(
            who,
            name,
            "to be a finite number" + (" " + " and ".join(bounds) if bounds else ""),
            f"{value!r}{why}",
            described=True,
        )
    return value


def real_scalar(x: Any, name: str, who: str, dtype=None) -> jax.Array:
    """`x` as a 0-d floating array (integers promoted; may be traced, e.g. to differentiate in
    it): `TypeError` for a string or a complex number, `ValueError` for an array of rank > 0 or
    a concrete NaN/inf, a runtime check when a traced value is not finite."""
    if isinstance(x, str) or x is None:
        fail(who, name, "to be a real number", x, TypeError)
    try:
        a = jnp.asarray(x)
    except (TypeError, ValueError):
        fail(who, name, "to be a real number", x, TypeError)
    if a.ndim != 0:
        fail(who, name, "to be a real scalar", f"shape {a.shape}", described=True)
    if (
        not jnp.issubdtype(a.dtype, jnp.number)
        and a.dtype != jnp.bool_
        or jnp.issubdtype(a.dtype, jnp.complexfloating)
    ):
        fail(who, name, "to be a real number", x, TypeError)
    target = float_dtype(dtype, "dtype", who) if dtype is not None else None
    if target is not None:
        a = a.astype(target)
    elif not jnp.issubdtype(a.dtype, jnp.floating):
        a = a.astype(jnp.result_type(float))
    elif a.dtype.name in ("float16", "bfloat16"):
        fail(
            who,
            name,
            "to have dtype float32 or float64 (cast it with .astype(jnp.float32))",
            f"dtype {a.dtype.name}",
            TypeError,
            described=True,
        )
    given = concrete_value(x)
    if given is not None:
        if not math.isfinite(float(given)):
            fail(who, name, "to be a finite number", float(given))
        return a
    return finite(a, name, who)


def concrete_value(x: Any) -> np.ndarray | None:
    """`x` as a NumPy array when the user gave a concrete value (not traced, not holding a
    tracer); else `None`. Checked on what the user passed, since under `jit` even a constant
    turns into a tracer once it goes through a JAX operation."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except Exception:  # a sequence holding tracers, or not an array at all
        return None


def concrete_finite(a: Any, name: str, who: str) -> None:
    """`ValueError` if `a` is concrete (not traced) and has a NaN or infinite entry. For the
    fields of a constructor, where a runtime check could not be attached to anything."""
    given = concrete_value(a)
    if (
        given is not None
        and np.issubdtype(given.dtype, np.number)
        and not np.all(np.isfinite(given))
    ):
        fail(
            who,
            name,
            "to have finite entries",
            "an array with NaN or infinite entries",
            described=True,
        )


def flag(x: Any, name: str, who: str) -> bool:
    """`x` if it is a bool (or NumPy bool); else `TypeError`."""
    if isinstance(x, bool | np.bool_):
        return bool(x)
    fail(who, name, "to be True or False", x, TypeError)


def callable_arg(f: Any, name: str, who: str, *, optional: bool = False) -> Any:
    """`f` if it is callable (or `None` when `optional`); else `TypeError`."""
    if (optional and f is None) or callable(f):
        return f
    fail(who, name, "to be callable" + (" or None" if optional else ""), f, TypeError)


def path_or_none(x: Any, name: str, who: str) -> Any:
    """A folder path (`str` or `os.PathLike`) or `None`; else `TypeError`."""
    if x is None or isinstance(x, str | os.PathLike):
        return x
    fail(who, name, "to be a path (str or pathlib.Path) or None", x, TypeError)


def energy_per_sample(
    energy_fn: Any,
    shape: tuple[int, ...],
    dtype,
    who: str,
    *,
    batch: int | None = None,
    noun: str = "configuration",
) -> None:
    """Trace `energy_fn` once on abstract input: one sample of `shape` or, with `batch`,
    `jax.vmap(energy_fn)` on `batch` samples. It must give one real scalar per sample (an energy
    that returns a vector, or one that sums over a batch itself, is refused before anything
    runs). `noun` names a sample in the messages ("configuration", "point x")."""
    callable_arg(energy_fn, "energy_fn", who)
    how = (
        "it is mapped over the samples with jax.vmap"
        if batch is not None
        else f"it is called on one {noun.split()[0]} at a time"
    )
    fn, arg = (
        (jax.vmap(energy_fn), jax.ShapeDtypeStruct((batch, *shape), dtype))
        if batch is not None
        else (energy_fn, jax.ShapeDtypeStruct(shape, dtype))
    )
    try:
        out = jax.eval_shape(fn, arg)
    except Exception as err:
        raise ValueError(
            f"{who}: `energy_fn` fails on one {noun} of shape {shape} ({how}): "
            f"{type(err).__name__}: {err}"
        ) from err
    expected = f"to return one scalar energy for a {noun} of shape {shape}"
    if not isinstance(out, jax.ShapeDtypeStruct):
        fail(who, "energy_fn", expected, f"a {type(out).__name__}", described=True)
    per_sample = out.shape if batch is None else out.shape[1:]
    if per_sample != () or (batch is not None and out.shape[:1] != (batch,)):
        fail(
            who,
            "energy_fn",
            f"{expected} ({how}; do not sum over a batch yourself)",
            f"an output of shape {per_sample} per {noun.split()[0]}",
            described=True,
        )
    if not (jnp.issubdtype(out.dtype, jnp.floating) or jnp.issubdtype(out.dtype, jnp.integer)):
        fail(
            who,
            "energy_fn",
            "to return a real energy",
            f"dtype {out.dtype}",
            TypeError,
            described=True,
        )


# ----------------------------------------------------------------------------------------------
# value checks (through equinox.error_if: eager and under jit)


def check(x: _T, bad: Any, message: str) -> _T:
    """`x`, with a runtime error `message` where `bad` (a boolean array) holds anywhere.

    A concrete `bad` that is all false costs nothing; a concrete true raises at once."""
    bad = jnp.any(jnp.asarray(bad))
    return eqx.error_if(x, bad, message)


def finite(x: _ArrayT, name: str, who: str) -> _ArrayT:
    """`x`, with a runtime error if any of its entries is NaN or infinite."""
    return check(x, ~jnp.all(jnp.isfinite(x)), f"{who}: `{name}` has NaN or infinite entries")


def positive(x: Any, name: str, who: str, *, allow_zero: bool = False) -> Any:
    """`x`, with a runtime error unless every entry is positive (or >= 0) and finite."""
    x = jnp.asarray(x)
    ok = (x >= 0) if allow_zero else (x > 0)
    what = "non-negative" if allow_zero else "positive"
    return check(x, ~(ok & jnp.isfinite(x)), f"{who}: expected `{name}` to be {what} and finite")


def static_positive(x: Any, name: str, who: str, *, allow_zero: bool = False) -> Any:
    """For a parameter that is usually a Python number: `ValueError` at once when it is
    concrete and not positive (or not >= 0), else the runtime check of [`positive`][]."""
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        ok = (x >= 0) if allow_zero else (x > 0)
        if not (ok and math.isfinite(x)):
            fail(
                who,
                name,
                "to be a " + ("non-negative" if allow_zero else "positive") + " number",
                x,
            )
        return x
    return positive(x, name, who, allow_zero=allow_zero)


def inverse_temperature(beta: Any, who: str, why_not_zero: str = "", dtype=None) -> Any:
    r"""The inverse temperature $\beta$: a positive finite real scalar (as an array of `dtype`
    when given). A concrete value is checked at once (`ValueError`, plus `why_not_zero` for
    $\beta = 0$, where the quantity asked for does not exist); a traced one at run time."""
    if isinstance(beta, bool | np.bool_ | str) or beta is None:
        fail(who, "beta", "to be a real number", beta, TypeError)
    b = jnp.asarray(beta)
    if b.ndim != 0:
        fail(who, "beta", "to be a real scalar", f"shape {b.shape}", described=True)
    if not jnp.issubdtype(b.dtype, jnp.number) or jnp.issubdtype(b.dtype, jnp.complexfloating):
        fail(who, "beta", "to be a real number", beta, TypeError)
    if dtype is not None:
        b = b.astype(dtype)
    expected = "to be a positive finite number (the inverse temperature)"
    if is_concrete(b):
        value = float(b)
        if not (math.isfinite(value) and value > 0):
            fail(
                who,
                "beta",
                expected,
                f"{value!r}" + (why_not_zero if value == 0 else ""),
                described=True,
            )
        return beta if dtype is None else b
    return check(b, ~(jnp.isfinite(b) & (b > 0)), f"{who}: expected `beta` {expected}")


def nonzero_finite(a: Any, given: Any, name: str, who: str, expected: str) -> Any:
    """`a` (computed from the user's `given`), refused when it is zero or not finite, as
    something about to be normalized must be: at once (`ValueError`) when `given` is concrete,
    at run time otherwise. `expected` is the phrase of the message ("to be a finite spinor")."""
    value = concrete_value(given)
    if value is not None and not (np.all(np.isfinite(value)) and np.any(value != 0)):
        fail(who, name, expected, a)
    norm = jnp.linalg.norm(a)
    return check(a, ~(jnp.isfinite(norm) & (norm > 0)), f"{who}: expected `{name}` {expected}")


def spins(s: Any, name: str, who: str) -> Any:
    """`s`, with a runtime error unless every entry is +1 or -1 (0/1 occupation numbers are the
    usual mistake: they are not spins)."""
    return check(
        s,
        (s != 1) & (s != -1),
        f"{who}: expected `{name}` to hold Ising spins +1 or -1 (not 0/1 occupations)",
    )


def couplings(j: Any, name: str, who: str, rtol: float | None = None) -> Any:
    r"""`j`, with a runtime error unless it is finite, symmetric to `rtol` relative to its largest
    entry ($\sqrt\epsilon$ of its dtype by default) and has a zero diagonal, as an Ising energy
    $E = -\frac12 s^T J s$ assumes."""
    if rtol is None:
        rtol = math.sqrt(float(jnp.finfo(j.dtype).eps))
    jt = jnp.swapaxes(j, -1, -2)
    size = jnp.max(jnp.abs(j), initial=0)
    nonfinite = ~jnp.all(jnp.isfinite(j))
    asymmetric = jnp.max(jnp.abs(j - jt), initial=0) > rtol * size
    diagonal = jnp.max(jnp.abs(jnp.diagonal(j, axis1=-2, axis2=-1)), initial=0) > rtol * size
    return eqx.branched_error_if(
        j,
        nonfinite | asymmetric | diagonal,
        jnp.where(nonfinite, 0, jnp.where(asymmetric, 1, 2)),
        [
            f"{who}: `{name}` has NaN or infinite entries",
            f"{who}: expected `{name}` to be symmetric (J_ij = J_ji), got an asymmetric matrix; "
            "pass (J + J.T) / 2 if that is the model you mean",
            f"{who}: expected `{name}` to have a zero diagonal (no self-coupling), got a nonzero "
            "diagonal",
        ],
    )


def index_in_range(i: Any, n: int, name: str, who: str) -> Any:
    """A site or index `i` in `[0, n)`: `ValueError` at once when it is concrete, a runtime check
    when it is traced. Negative indices are refused (no wrap-around for sites)."""
    if is_concrete(i):
        value = static_int(i, name, who)
        if not 0 <= value < n:
            fail(who, name, f"to be a site in [0, {n})", value)
        return value
    return check(i, (i < 0) | (i >= n), f"{who}: expected `{name}` to be a site in [0, {n})")
