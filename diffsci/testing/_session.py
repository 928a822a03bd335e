"""Shared set-up of the checks: options, random directions, and the (jitted) derivative maps."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence

import jax
import numpy as np

from ._fd import FDResult, richardson
from ._ops import Ops
from ._structure import structured
from ._tree import Realified, axpy, concat, random_like

_MODES = ("fwd", "rev")


@dataclasses.dataclass(frozen=True)
class Options:
    """Tolerances and knobs of the checks (see `check_grads` for their meaning)."""

    num_directions: int = 2
    eps: float | None = None
    levels: int = 6
    atol: float = 0.0
    rtol: float = 0.0
    fd_safety: float = 4.0
    ulps: float = 16.0
    ad_rtol: float | None = None
    transform_rtol: float | None = None
    jit: bool = True
    vmap: bool = True
    max_localize: int = 32

    def __post_init__(self):
        if self.num_directions < 1:
            raise ValueError(f"num_directions must be >= 1, got {self.num_directions}")
        if self.levels < 2:
            raise ValueError(f"levels must be >= 2, got {self.levels}")
        for name in ("atol", "rtol", "fd_safety", "ulps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def make_rng(key) -> np.random.Generator:
    """A numpy generator from an int seed, a JAX PRNG key, or None (seed 0)."""
    if key is None:
        return np.random.default_rng(0)
    if isinstance(key, (int, np.integer)):
        return np.random.default_rng(int(key))
    if isinstance(key, np.random.Generator):
        return key
    try:
        data = jax.random.key_data(key)
    except (TypeError, ValueError):  # a raw uint32 key array
        data = key
    words = np.asarray(data, dtype=np.uint64).ravel()
    return np.random.default_rng([int(w) for w in words])


def check_modes(modes) -> tuple[str, ...] | None:
    if modes is None:
        return None
    if isinstance(modes, str):
        modes = (modes,)
    modes = tuple(modes)
    if not modes or any(m not in _MODES for m in modes):
        raise ValueError(f"modes must be a non-empty subset of {_MODES}, got {modes!r}")
    return modes


def _no_forward_mode(err: Exception) -> bool:
    """Whether `err` is JAX's (or a diffsci rule's) refusal of forward mode."""
    text = str(err).lower()
    return isinstance(err, TypeError) and ("custom_vjp" in text or "forward" in text)


class RaisedNearPoint(Exception):
    """`f` raised where the checks evaluate it at a point other than the given one."""

    def __init__(self, where: str, step: float, err: Exception):
        self.where, self.step, self.message = where, step, _message(err)
        super().__init__(f"{where}, step {step:.3e}: {self.message}")


def _message(err: Exception) -> str:
    """The message of `err`; for an `equinox.error_if` raised inside compiled code, the
    check's own message rather than the runtime's wrapping traceback."""
    text = str(err)
    marker = "RuntimeError: "
    if "Traceback" in text and marker in text:
        text = text[text.rindex(marker) + len(marker) :]
        text = text.split("\n\n", 1)[0]
    return f"{type(err).__name__}: {text.strip()}"


_CUSTOM_VJP_HINT = (
    "{name}: forward mode (jax.jvp) failed on `f`; if `f` uses jax.custom_vjp, which has no "
    "forward mode, pass modes=('rev',). The original error: {err}"
)


def _has_forward_mode(p: Realified) -> bool:
    """Whether `jax.jvp` goes through the realified function. Lowered, not compiled or run:
    JAX refuses the JVP of a `custom_vjp` only when the traced program is lowered."""
    try:
        jax.jit(lambda x: jax.jvp(p, (x,), (x,))).lower(p.x)
    except jax.errors.ConcretizationTypeError:
        return True  # the checks themselves report this, with advice
    except TypeError as err:
        if _no_forward_mode(err):
            return False
        raise
    return True


class Session:
    """The realified problem at one point, a random generator, and its derivative maps.

    With `jit=True` the function, its JVP and its VJP are each compiled once and reused for every
    direction; the directions are arguments, so no direction triggers a recompile.
    """

    def __init__(
        self,
        name: str,
        f: Callable,
        args: Sequence,
        *,
        argnums=None,
        key=None,
        modes=None,
        options: Options | None = None,
        structure=None,
    ):
        self.name = name
        self.options = options or Options()
        modes = check_modes(modes)
        self.rng = make_rng(key)
        #: what was not checked, and why (shown in the report)
        self.skipped: list[str] = []
        self.p = p = Realified(structured(f, tuple(args), structure, name), args, argnums, who=name)
        if modes is None:
            modes = _MODES
            if not _has_forward_mode(p):
                modes = ("rev",)
                self.skipped.append(
                    "forward mode (jvp, and the checks that need it): `f` has none "
                    "(a jax.custom_vjp or a reverse-only rule); reverse mode was checked"
                )
        self.modes = modes
        self.x = p.x
        self.eps = p.eps
        o = self.options
        self.fd_step = o.eps if o.eps is not None else float(self.eps**0.2)
        self.ad_rtol = o.ad_rtol if o.ad_rtol is not None else 1e3 * self.eps
        self.transform_rtol = (
            o.transform_rtol if o.transform_rtol is not None else float(np.sqrt(self.eps))
        )

        # With `jit=True` every map is compiled once (cached by jax.jit on `f` and the structure
        # of the arguments, so hypothesis examples with the same `f` and shapes reuse it); with
        # `jit=False` every map runs op by op.
        fwd, rev = self.fwd, self.rev
        self.ops = Ops(p.spec, p.consts, compiled=o.jit, fwd=fwd, rev=rev)
        self.eager = Ops(p.spec, p.consts, compiled=False, fwd=fwd, rev=rev)
        self.F = self.ops.apply
        self._jvp = self.ops.jvp
        self._vjp = self.ops.vjp

    @property
    def out_scale(self) -> float:
        """The largest output entry at the point: the natural size of f, and of J v for a
        direction v scaled like x."""
        y = np.abs(concat(self.p.y))
        y = y[np.isfinite(y)]
        return float(y.max()) if y.size else 0.0

    def out_floor(self) -> list[float]:
        """The natural scale of each output component (for AD-against-AD comparisons)."""
        return [self.out_scale] * len(self.p.out_parts)

    def in_scale(self, u) -> list[float]:
        """The natural scale of each component of J^T u (or H v): |u| max|f| / |x_c|."""
        from ._tree import norm

        return [norm(u) * self.out_scale / sc for sc in self.p.scales]

    @property
    def fwd(self) -> bool:
        return "fwd" in self.modes

    @property
    def rev(self) -> bool:
        return "rev" in self.modes

    def jvp(self, x, v):
        with self.forward_mode():
            return self._jvp(x, v)

    @contextlib.contextmanager
    def forward_mode(self):
        """Turn the error of forward mode on a custom_vjp into advice."""
        try:
            yield
        except TypeError as err:
            if _no_forward_mode(err):
                raise TypeError(_CUSTOM_VJP_HINT.format(name=self.name, err=err)) from err
            raise

    def first_order(self, x, v, u):
        with self.forward_mode():
            return self.ops.first_order(x, v, u)

    def vjp(self, x, u):
        return self._vjp(x, u)

    def direction(self) -> tuple:
        """A random input direction, each leaf scaled by the magnitude of that leaf."""
        return random_like(self.rng, self.p.in_parts, self.p.scales)

    def cotangent(self) -> tuple:
        """A random output cotangent (standard normal; 1 for a single scalar output)."""
        parts = self.p.out_parts
        if len(parts) == 1 and parts[0].shape == ():
            return (jax.numpy.ones((), parts[0].dtype),)
        return random_like(self.rng, parts)

    def fd(self, g: Callable, v: Sequence, x: Sequence | None = None, what: str = "f") -> FDResult:
        """Finite differences of `g` (a map of tuples of arrays) at `x` along `v`; an error that
        `g` raises away from `x` becomes `RaisedNearPoint`."""
        x = self.x if x is None else x
        last = [0.0]

        def along(t):
            last[0] = t
            return concat(g(axpy(t, v, x)))

        try:
            return richardson(along, self.fd_step, eps=self.eps, levels=self.options.levels)
        except Exception as err:
            if last[0] == 0.0:
                raise
            raise RaisedNearPoint(f"{what}(x + t v), finite differences", last[0], err) from err

    def fd_tolerance(self, ad: np.ndarray, fd: FDResult, floor: float | None = None) -> np.ndarray:
        """Entry-wise tolerance: the error estimate times a safety factor, plus a few ulps of
        the scale of the derivative (its largest entry, or its natural scale `floor` if larger;
        by default the largest output), plus the user's `atol` and `rtol`."""
        o = self.options
        both = np.concatenate([np.abs(ad).ravel(), np.abs(fd.value).ravel()])
        finite = both[np.isfinite(both)]
        scale = float(finite.max()) if finite.size else 0.0
        scale = max(scale, self.out_scale if floor is None else floor)
        return (
            o.fd_safety * fd.error + o.ulps * self.eps * scale + o.atol + o.rtol * np.abs(fd.value)
        )
