r"""The realified problem: a function of a flat tuple of real arrays, with names for every part.

Every check in `diffsci.testing` runs on the *realified* function

$$F(x_1, \dots, x_m) = (y_1, \dots, y_p),$$

whose inputs $x_c$ are the differentiable leaves of the arguments, each complex leaf split into its
real and imaginary parts, and whose outputs $y_k$ are the output leaves, each complex leaf split the
same way. $F$ is a map between real vector spaces, so its Jacobian is an ordinary real matrix and
the checks do not depend on the convention JAX uses for complex derivatives.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Part:
    """One real component of a realified leaf: its name and which part of a complex leaf it is."""

    name: str  # e.g. "args[0]['w']" or "out[1]"
    part: str | None  # None for a real leaf, "real" or "imag" for a complex one
    shape: tuple[int, ...]
    dtype: Any  # the real dtype of this component

    def label(self, index: tuple[int, ...] | None = None) -> str:
        text = self.name
        if index is not None and self.shape != ():
            text += f" at index {tuple(int(i) for i in index)}"
        if self.part is not None:
            text += f" ({self.part} part)"
        return text


def _is_array_like(x) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, np.generic, float, complex, int))


def _is_inexact(x) -> bool:
    if not _is_array_like(x) or isinstance(x, bool):
        return False
    return bool(jnp.issubdtype(jnp.result_type(x), jnp.inexact))


def _as_array(x):
    return jnp.asarray(x) if _is_array_like(x) else x


def _real_dtype(dtype):
    return jnp.finfo(dtype).dtype


def _split(leaf) -> list:
    if jnp.iscomplexobj(leaf):
        return [jnp.real(leaf), jnp.imag(leaf)]
    return [leaf]


class Realified:
    """`f` at `args` seen as a map between flat tuples of real arrays.

    **Arguments:**

    - `f`: the user's function, called as `f(*args)`.
    - `args`: the point, a tuple of pytrees of arrays.
    - `argnums`: which positional arguments are differentiated (the others are constants).

    Attributes: `x` (the point, a tuple of real arrays), `in_parts` and `out_parts` (a `Part` for
    each input and output component), `y` (the outputs at `x`), `scales` (a typical magnitude of
    each input component, used to scale directions and finite-difference steps).
    """

    def __init__(
        self,
        f: Callable,
        args: Sequence,
        argnums: Sequence[int] | int | None = None,
        who: str = "check_grads",
    ):
        args = tuple(args)
        if argnums is None:
            argnums = tuple(range(len(args)))
        elif isinstance(argnums, int):
            argnums = (argnums,)
        for a in argnums:
            if not -len(args) <= int(a) < len(args):
                raise ValueError(f"argnums: {a} is out of range for {len(args)} arguments")
        argnums = tuple(sorted({int(a) % len(args) for a in argnums}))
        self.f = f
        self.argnums = argnums
        args = tuple(
            jax.tree_util.tree_map(_as_array, a) if i in argnums else a for i, a in enumerate(args)
        )
        self.args = args
        flat, treedef = jax.tree_util.tree_flatten_with_path(args)
        self._leaves = [leaf for _, leaf in flat]
        diff = []  # (leaf position, is complex)
        dynamic, static = [], []  # constant leaves: arrays are traced, the rest is static
        x, in_parts, scales = [], [], []
        for pos, (path, leaf) in enumerate(flat):
            if path[0].idx not in argnums or not _is_inexact(leaf):
                if isinstance(leaf, (jax.Array, np.ndarray, np.generic)):
                    dynamic.append(pos)  # traced (jnp.asarray of a numpy array is cheap)
                else:
                    static.append((pos, _Static(leaf)))
                continue
            is_complex = bool(jnp.iscomplexobj(leaf))
            diff.append((pos, is_complex))
            name = "args" + jax.tree_util.keystr(path)
            magnitude = np.asarray(jnp.abs(leaf), dtype=np.float64)
            scale = float(np.sqrt(np.mean(magnitude**2))) if magnitude.size else 0.0
            if not np.isfinite(scale):
                raise ValueError(
                    f"{who}: the input {name} is not finite (NaN or infinite "
                    "entries); the derivatives are checked at a finite point"
                )
            scale = scale if scale > 0 else 1.0
            kinds = ("real", "imag") if is_complex else (None,)
            for part, comp in zip(kinds, _split(leaf), strict=True):
                x.append(comp)
                in_parts.append(Part(name, part, tuple(leaf.shape), _real_dtype(leaf.dtype)))
                scales.append(scale)
        self._diff = tuple(diff)
        self._treedef = treedef
        #: the constant array leaves, passed as arguments to compiled code
        self.consts = tuple(self._leaves[pos] for pos in dynamic)
        self._dynamic = tuple(dynamic)
        self._static = tuple(static)
        if not x:
            kinds = sorted(
                {
                    type(leaf).__name__ if not hasattr(leaf, "dtype") else str(leaf.dtype)
                    for i, a in enumerate(args)
                    if i in argnums
                    for leaf in jax.tree_util.tree_leaves(a)
                }
            )
            raise ValueError(
                f"{who}: nothing to differentiate; the arguments selected by `argnums` have "
                f"no floating-point or complex leaves (got {', '.join(kinds) or 'no leaves'}"
                + (
                    "; integer leaves are held constant: pass floats)"
                    if any("int" in k for k in kinds)
                    else ")"
                )
            )
        self.x = tuple(x)
        self.in_parts = tuple(in_parts)
        self.scales = tuple(scales)
        out = f(*args)
        out_flat, _ = jax.tree_util.tree_flatten_with_path(out)
        out_parts, y = [], []
        self._out_keep = []
        for path, leaf in out_flat:
            leaf = jnp.asarray(leaf)
            keep = _is_inexact(leaf)
            self._out_keep.append(keep)
            if not keep:
                continue
            name = "out" + jax.tree_util.keystr(path)
            is_complex = bool(jnp.iscomplexobj(leaf))
            kinds = ("real", "imag") if is_complex else (None,)
            for part, comp in zip(kinds, _split(leaf), strict=True):
                y.append(comp)
                out_parts.append(Part(name, part, tuple(leaf.shape), _real_dtype(leaf.dtype)))
        if not y:
            raise ValueError(f"{who}: `f` has no floating-point or complex outputs")
        self._out_keep = tuple(self._out_keep)
        #: a hashable description of the function and its structure (for compiled code)
        self.spec = Spec(
            _FunctionKey(f),
            treedef,
            self._diff,
            self._dynamic,
            self._static,
            self._out_keep,
            len(self._leaves),
        )
        self.out_parts = tuple(out_parts)
        self.y = tuple(y)
        dtypes = [p.dtype for p in self.in_parts + self.out_parts]
        #: machine epsilon of the least precise real dtype involved
        self.eps = max(float(jnp.finfo(d).eps) for d in dtypes)

    # -- the realified function ---------------------------------------------------------------

    def unflatten_args(self, x: Sequence) -> tuple:
        """The arguments of `f` with the differentiable leaves taken from `x`."""
        return self.spec.unflatten_args(self.consts, x)

    def flatten_args(self, args: Sequence) -> tuple:
        """The inverse of `unflatten_args`: the real components of the differentiable leaves."""
        leaves = jax.tree_util.tree_leaves(tuple(args))
        if len(leaves) != len(self._leaves):
            raise ValueError(
                f"expected arguments with {len(self._leaves)} leaves, got {len(leaves)}"
            )
        x = []
        for pos, _ in self._diff:
            x.extend(_split(jnp.asarray(leaves[pos])))
        return tuple(x)

    def flatten_out(self, out) -> tuple:
        """The real components of the inexact output leaves of `f`."""
        return self.spec.flatten_out(out)

    def __call__(self, x: Sequence) -> tuple:
        return self.spec.apply(self.consts, x)


class _Static:
    """A static leaf, compared by value when hashable and by identity otherwise."""

    def __init__(self, value):
        self.value = value
        try:
            self._hash = hash((type(value), value))
            self._by_value = True
        except TypeError:
            self._hash = id(value)
            self._by_value = False

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        if not isinstance(other, _Static) or self._by_value != other._by_value:
            return False
        if self.value is other.value:
            return True
        if self._by_value and type(self.value) is type(other.value):
            try:
                return bool(self.value == other.value)
            except Exception:  # noqa: BLE001
                return False
        return False


class _Unkeyable(Exception):
    pass


_ATOMS = (type(None), bool, int, float, complex, str, bytes, type)


def _freeze(obj, depth: int = 0, seen: tuple = ()):
    """A hashable value that determines what calling `obj` computes, for plain Python functions
    (by code, defaults and the values they close over), partials, arrays (by content) and
    hashable objects. Raises `_Unkeyable` for anything else (mutable containers that are not
    lists, dicts or tuples of keyable things, tracers, ...)."""
    if depth > 12:
        raise _Unkeyable
    if isinstance(obj, _ATOMS):
        return (type(obj), obj)
    if isinstance(obj, jax.core.Tracer):
        raise _Unkeyable
    if isinstance(obj, (np.ndarray, np.generic, jax.Array)):
        a = np.asarray(obj)
        if a.dtype == object:
            raise _Unkeyable
        return ("array", a.shape, str(a.dtype), a.tobytes())
    if isinstance(obj, (tuple, list)):
        return (type(obj), tuple(_freeze(x, depth + 1, seen) for x in obj))
    if isinstance(obj, dict):
        return (
            dict,
            tuple(
                (_freeze(k, depth + 1, seen), _freeze(v, depth + 1, seen)) for k, v in obj.items()
            ),
        )
    if isinstance(obj, types.MethodType):
        return (
            "method",
            _freeze(obj.__func__, depth + 1, seen),
            _freeze(obj.__self__, depth + 1, seen),
        )
    if isinstance(obj, eqx.Module):
        leaves, treedef = jax.tree_util.tree_flatten(obj)
        return ("module", treedef, _freeze(leaves, depth + 1, seen))
    if isinstance(obj, functools.partial):
        return (
            "partial",
            _freeze(obj.func, depth + 1, seen),
            _freeze(obj.args, depth + 1, seen),
            _freeze(obj.keywords, depth + 1, seen),
        )
    if isinstance(obj, types.FunctionType):
        if id(obj) in seen:  # a recursive closure
            return ("recursive", obj.__code__)
        seen = (*seen, id(obj))
        try:
            cells = tuple(c.cell_contents for c in obj.__closure__ or ())
        except ValueError:  # an empty cell
            raise _Unkeyable from None
        return (
            "function",
            obj.__code__,
            id(obj.__globals__),
            _freeze(obj.__defaults__, depth + 1, seen),
            _freeze(obj.__kwdefaults__, depth + 1, seen),
            _freeze(cells, depth + 1, seen),
        )
    try:
        hash(obj)
    except TypeError:
        raise _Unkeyable from None
    return ("object", obj)


class _FunctionKey:
    """`f` for the key of jax.jit's cache.

    A plain function is keyed by its code and the values it closes over, so that the same
    `lambda` written in a hypothesis test, recreated for every example, reuses the code compiled
    for the first example (as `jax.jit` would if the function were defined once). Like
    `jax.jit`, this assumes that the module globals a function reads do not change between calls.
    Anything else is keyed by its own hash and equality, or by identity when it has none (e.g.
    an equinox Module holding arrays).
    """

    def __init__(self, f):
        self.f = f
        try:
            self._key = _freeze(f)
            self._hash = hash(self._key)
        except (_Unkeyable, TypeError):
            self._key = None
            try:
                self._hash = hash(f)
            except TypeError:
                self._hash = id(f)

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        if not isinstance(other, _FunctionKey):
            return False
        if self.f is other.f:
            return True
        if self._key is not None or other._key is not None:
            try:
                return self._key is not None and bool(self._key == other._key)
            except Exception:  # noqa: BLE001 - an object whose == is not a bool
                return False
        try:
            return bool(self.f == other.f)
        except Exception:  # noqa: BLE001 - arrays inside, ambiguous truth values, ...
            return False


@dataclasses.dataclass(frozen=True)
class Spec:
    """Everything static about the realified function: `f` and the structure of its arguments and
    outputs. Hashable, so that compiled versions of the realified function are reused by
    `jax.jit` across calls with the same `f` and the same structure."""

    key: _FunctionKey
    treedef: Any
    diff: tuple
    dynamic: tuple
    static: tuple
    out_keep: tuple
    num_leaves: int

    def unflatten_args(self, consts: Sequence, x: Sequence) -> tuple:
        leaves: list = [None] * self.num_leaves
        for pos, c in zip(self.dynamic, consts, strict=True):
            leaves[pos] = c
        for pos, s in self.static:
            leaves[pos] = s.value
        i = 0
        for pos, is_complex in self.diff:
            if is_complex:
                leaves[pos] = jax.lax.complex(x[i], x[i + 1])
                i += 2
            else:
                leaves[pos] = x[i]
                i += 1
        return jax.tree_util.tree_unflatten(self.treedef, leaves)

    def flatten_out(self, out) -> tuple:
        leaves = jax.tree_util.tree_leaves(out)
        if len(leaves) != len(self.out_keep):
            raise ValueError(
                f"`f` returned {len(leaves)} leaves here and {len(self.out_keep)} at the point"
            )
        y = []
        for leaf, keep in zip(leaves, self.out_keep, strict=True):
            if keep:
                y.extend(_split(jnp.asarray(leaf)))
        return tuple(y)

    def apply(self, consts: Sequence, x: Sequence) -> tuple:
        return self.flatten_out(self.key.f(*self.unflatten_args(consts, x)))


# -- small numerical helpers on tuples of arrays ----------------------------------------------


def to_numpy(xs: Sequence) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.float64) for a in xs]


def concat(xs: Sequence) -> np.ndarray:
    """All components of a tuple of arrays as one float64 vector."""
    if not xs:
        return np.zeros(0)
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in xs])


def vdot(a: Sequence, b: Sequence) -> float:
    return float(np.dot(concat(a), concat(b)))


def norm(a: Sequence) -> float:
    return float(np.linalg.norm(concat(a)))


def locate(parts: Sequence[Part], flat_index: int) -> tuple[Part, tuple[int, ...]]:
    """The component and multi-index of entry `flat_index` of `concat` of arrays of `parts`."""
    for part in parts:
        size = int(np.prod(part.shape, dtype=np.int64))
        if flat_index < size:
            index = np.unravel_index(flat_index, part.shape) if part.shape else ()
            return part, tuple(int(i) for i in index)
        flat_index -= size
    raise IndexError(flat_index)


def like(parts: Sequence[Part], arrays: Sequence[np.ndarray]) -> tuple:
    """Numpy arrays cast to jax arrays with the shapes and dtypes of `parts`."""
    return tuple(
        jnp.asarray(np.reshape(a, p.shape), dtype=p.dtype)
        for p, a in zip(parts, arrays, strict=True)
    )


def random_like(rng: np.random.Generator, parts: Sequence[Part], scales=None) -> tuple:
    """A standard normal direction, each component multiplied by its scale."""
    out = []
    for i, p in enumerate(parts):
        a = rng.standard_normal(p.shape)
        if scales is not None:
            a = a * scales[i]
        out.append(a)
    return like(parts, out)


def axpy(alpha: float, x: Sequence, y: Sequence) -> tuple:
    """`y + alpha * x` on tuples of arrays, in the dtype of `y`."""
    return tuple(
        b + jnp.asarray(alpha, dtype=b.dtype) * a.astype(b.dtype) for a, b in zip(x, y, strict=True)
    )
