"""What a derivative rule does with $1/(x_i - x_j)$ when $x_i \\approx x_j$.

The reverse and forward modes of `eigh` contain the inverse gaps $F_{ij} = 1/(\\lambda_j -
\\lambda_i)$, those of `svd` the inverse differences $1/(s_j - s_i)$ (the factor
$1/(s_j^2 - s_i^2) = 1/((s_j - s_i)(s_j + s_i))$ is split, and only $s_j - s_i$ can vanish at a
degeneracy). At an exact degeneracy
these are $1/0$, and near one they are huge and dominated by roundoff. A degeneracy policy decides
what to put there. Every rule in `diffsci.linalg` that meets such a denominator takes a
`degeneracy=` argument and calls [`diffsci.linalg.inverse_differences`][] with it.

Three policies:

- [`diffsci.linalg.MaskDegeneracies`][] (the default): pairs closer than a tolerance scaled to the
  size of the values and the precision of the dtype are treated as exactly degenerate and get $0$.
  For a loss that is gauge invariant inside each degenerate subspace this is the exact derivative
  (the within-subspace rotation it drops does not change such a loss).
- [`diffsci.linalg.LorentzianBroadening`][]: $d/(d^2 + \\varepsilon^2)$, the choice of many
  tensor-network codes (Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019)). Finite but biased by
  $O(\\varepsilon^2/d^2)$ for every pair, not only the degenerate ones.
- [`diffsci.linalg.RaiseOnDegeneracy`][]: raise (through `equinox.error_if`, so also under `jit`)
  when a pair is closer than the tolerance, for code that must not meet a degeneracy.

To apply a policy to your own rule, build the matrix of differences and call
`inverse_differences(differences, scale, policy)`; for singular values `svd` passes
`differences = s[None, :] - s[:, None]` and `scale = s_max`, so tolerances and Lorentzian widths
are in units of $s$ (with squares, two distinct small singular values such as $10^{-8}$ and
$5\\times10^{-9}$ of $s_{\\max}$ would count as degenerate).
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from .._internal._validate import fail, is_concrete, static_int

__all__ = [
    "AbstractDegeneracyPolicy",
    "MaskDegeneracies",
    "LorentzianBroadening",
    "RaiseOnDegeneracy",
    "default_rtol",
    "degeneracy_tolerance",
    "degenerate_pairs",
    "inverse_differences",
]


def default_rtol(size: int, dtype) -> float:
    """The default relative tolerance below which two values count as degenerate.

    $\\mathrm{rtol} = 100\\sqrt{n}\\,\\epsilon$, with $\\epsilon$ the machine precision of `dtype`
    (of its real part for complex dtypes) and $n$ = `size` the number of values. An exact
    degeneracy is split by roundoff into gaps of order $\\epsilon\\,\\lVert A\\rVert$ (times a
    modest function of $n$), so this catches it with a margin: about $6\\times10^{-14}$ for
    $n = 8$ in float64 and $3\\times10^{-5}$ in float32.

    **Arguments:**

    - `size`: the number of values (the matrix dimension $n$).
    - `dtype`: the dtype of the values or of the matrix.

    **Returns:** a Python float.
    """
    size = static_int(size, "size", "default_rtol", minimum=0)
    try:
        eps = float(jnp.finfo(jnp.dtype(dtype)).eps)
    except (TypeError, ValueError):
        fail(
            "default_rtol",
            "dtype",
            "to be a floating or complex dtype",
            getattr(dtype, "__name__", repr(dtype)),
            TypeError,
            described=True,
        )
    return 100.0 * math.sqrt(max(size, 1)) * eps


def degeneracy_tolerance(
    scale: ArrayLike, size: int, dtype, rtol: float | None = None, atol: float = 0.0
) -> Array:
    """Absolute tolerance `atol + rtol * scale`, with `rtol` defaulting to
    [`diffsci.linalg.default_rtol`][]`(size, dtype)`."""
    size = static_int(size, "size", "degeneracy_tolerance", minimum=0)
    if rtol is None:
        rtol = default_rtol(size, dtype)
    _check_tolerance(rtol, "rtol", "degeneracy_tolerance")
    _check_tolerance(atol, "atol", "degeneracy_tolerance")
    return atol + rtol * jnp.abs(jnp.asarray(scale))


def _check_tolerance(x, name: str, who: str) -> None:
    """A tolerance is a non-negative number (a concrete one is checked; a traced one is not)."""
    if not is_concrete(x):
        return
    try:
        if isinstance(x, bool | str):
            raise TypeError
        value = float(x)
    except (TypeError, ValueError):
        fail(who, name, "to be a non-negative number", x, TypeError)
    if not value >= 0:
        fail(who, name, "to be a non-negative number", x)


def _check_differences(differences, zero_diagonal: bool, who: str) -> Array:
    differences = jnp.asarray(differences)
    if jnp.iscomplexobj(differences):
        raise TypeError(
            f"{who}: expected real differences (of eigenvalues or squared singular values), "
            f"got dtype {differences.dtype}"
        )
    if not jnp.issubdtype(differences.dtype, jnp.floating):
        differences = differences.astype(jnp.result_type(float))
    if zero_diagonal and (differences.ndim < 2 or differences.shape[-1] != differences.shape[-2]):
        raise ValueError(
            f"{who}: with zero_diagonal=True expected differences of shape (..., n, n), "
            f"got shape {differences.shape}"
        )
    return differences


def _off_diagonal(differences, zero_diagonal: bool) -> Array:
    if not zero_diagonal:
        return jnp.ones(differences.shape, dtype=bool)
    n = differences.shape[-1]
    return jnp.broadcast_to(~jnp.eye(n, dtype=bool), differences.shape)


class AbstractDegeneracyPolicy(eqx.Module):
    """What to put in place of $1/d$ for differences $d = x_j - x_i$ close to zero.

    Subclasses implement `reciprocal(differences, tolerance)`. Use them through
    [`diffsci.linalg.inverse_differences`][], which computes the tolerance from a scale and the
    dtype, and zeroes the diagonal.
    """

    def __check_init__(self):
        # `rtol` and `atol` are fields of some subclasses, found by probing
        who = type(self).__name__
        if getattr(self, "rtol", None) is not None:
            _check_tolerance(self.rtol, "rtol", who)  # pyright: ignore[reportAttributeAccessIssue]
        if hasattr(self, "atol"):
            _check_tolerance(self.atol, "atol", who)  # pyright: ignore[reportAttributeAccessIssue]

    @abc.abstractmethod
    def tolerance(self, scale: ArrayLike, size: int, dtype) -> Array:
        """The absolute tolerance below which $|d|$ counts as a degeneracy."""

    @abc.abstractmethod
    def reciprocal(
        self, differences: Float[Array, "..."], tolerance: Array, off_diagonal: Bool[Array, "..."]
    ) -> Float[Array, "..."]:
        """Safe elementwise $1/d$. Entries where `off_diagonal` is False are not pairs (the
        $i = j$ diagonal): return 0 there and never treat them as degeneracies."""


class MaskDegeneracies(AbstractDegeneracyPolicy):
    """Replace $1/d$ by $0$ where $|d| \\le$ `atol + rtol * scale` (the default policy).

    $$F_{ij} = \\begin{cases} 1/d_{ij} & |d_{ij}| > \\tau \\\\ 0 & |d_{ij}| \\le \\tau
    \\end{cases}, \\qquad \\tau = \\mathrm{atol} + \\mathrm{rtol}\\cdot\\mathrm{scale}.$$

    **Arguments:**

    - `rtol`: relative tolerance; `None` (default) uses
      [`diffsci.linalg.default_rtol`][] $= 100\\sqrt{n}\\,\\epsilon$ of the dtype.
    - `atol`: absolute tolerance added to it (default 0).

    Exact for losses that are gauge invariant inside each degenerate subspace; for other losses
    the derivative does not exist, and the masked value is one of many.
    """

    rtol: float | None = None
    atol: float = 0.0

    def tolerance(self, scale, size, dtype):
        return degeneracy_tolerance(scale, size, dtype, self.rtol, self.atol)

    def reciprocal(self, differences, tolerance, off_diagonal):
        keep = off_diagonal & (jnp.abs(differences) > tolerance)
        safe = jnp.where(keep, differences, 1.0)
        return jnp.where(keep, 1.0 / safe, 0.0)


class LorentzianBroadening(AbstractDegeneracyPolicy):
    """Replace $1/d$ by $d/(d^2 + \\varepsilon^2)$ everywhere.

    Finite for every $d$, but every pair with $|d| \\lesssim \\varepsilon$ is biased, degenerate
    or not (Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019), eq. (8)).

    **Arguments:**

    - `width`: $\\varepsilon$, in the units of the differences (for `eigh`, of the eigenvalues;
      for `svd`, of the squared singular values). Must be positive.
    - `rtol`, `atol`: only used to report which pairs count as degenerate (diagnostics); same
      meaning as for [`diffsci.linalg.MaskDegeneracies`][].
    """

    width: float
    rtol: float | None = None
    atol: float = 0.0

    def __check_init__(self):
        if not (isinstance(self.width, (int, float)) and self.width > 0):
            raise ValueError(f"LorentzianBroadening: expected a positive width, got {self.width!r}")

    def tolerance(self, scale, size, dtype):
        return degeneracy_tolerance(scale, size, dtype, self.rtol, self.atol)

    def reciprocal(self, differences, tolerance, off_diagonal):
        del tolerance
        broadened = differences / (differences**2 + self.width**2)
        return jnp.where(off_diagonal, broadened, 0.0)


class RaiseOnDegeneracy(AbstractDegeneracyPolicy):
    """Raise an error (through `equinox.error_if`, so inside `jit` too) when a pair is closer than
    `atol + rtol * scale`; otherwise return the plain $1/d$.

    **Arguments:**

    - `rtol`, `atol`: as for [`diffsci.linalg.MaskDegeneracies`][].
    """

    rtol: float | None = None
    atol: float = 0.0

    def tolerance(self, scale, size, dtype):
        return degeneracy_tolerance(scale, size, dtype, self.rtol, self.atol)

    def reciprocal(self, differences, tolerance, off_diagonal):
        close = off_diagonal & (jnp.abs(differences) <= tolerance)
        differences = eqx.error_if(
            differences,
            jnp.any(close),
            "degenerate values met in a derivative (a gap below the tolerance of "
            "RaiseOnDegeneracy): the derivative of individual eigen/singular vectors does not "
            "exist there. Use a gauge-invariant quantity (diffsci.linalg.funm, projector, "
            "band_energy) or degeneracy=MaskDegeneracies() if your loss is gauge invariant.",
        )
        safe = jnp.where(off_diagonal & ~close, differences, 1.0)
        return jnp.where(off_diagonal & ~close, 1.0 / safe, 0.0)


def inverse_differences(
    differences: Float[Array, "*batch n m"],
    scale: ArrayLike,
    policy: AbstractDegeneracyPolicy | None = None,
    *,
    zero_diagonal: bool = True,
) -> Float[Array, "*batch n m"]:
    """The safe elementwise inverse $F_{ij} \\approx 1/d_{ij}$ of a matrix of differences.

    For `eigh`, $d_{ij} = \\lambda_j - \\lambda_i$ (so that $\\dot V = V(F \\circ V^H \\dot A V)$);
    for `svd`, $d_{ij} = s_j - s_i$. Entries with $|d_{ij}|$ below the policy's tolerance
    (`atol + rtol * scale`, `rtol` defaulting to $100\\sqrt{n}\\,\\epsilon$ of the dtype) are the
    degenerate pairs; what they get is the policy's choice.

    **Arguments:**

    - `differences`: real array of shape `(..., n, m)`.
    - `scale`: a nonnegative scalar (or an array broadcasting against `differences[..., 0, 0]`)
      giving the magnitude of the values whose differences are taken: $\\max_i|\\lambda_i|$ for
      eigenvalues, $s_{\\max}$ for singular values. Gradients do not flow through it.
    - `policy`: an [`diffsci.linalg.AbstractDegeneracyPolicy`][]; default
      [`diffsci.linalg.MaskDegeneracies`][]`()`.
    - `zero_diagonal`: if True (default) the array is square and its diagonal holds the $i = j$
      non-pairs: they get 0 and never count as degeneracies.

    **Returns:** an array like `differences`.
    """
    if policy is None:
        policy = MaskDegeneracies()
    if not isinstance(policy, AbstractDegeneracyPolicy):
        raise TypeError(
            "inverse_differences: expected policy to be an AbstractDegeneracyPolicy "
            f"(MaskDegeneracies(), LorentzianBroadening(width), RaiseOnDegeneracy()), "
            f"got {type(policy).__name__}"
        )
    differences = _check_differences(differences, zero_diagonal, "inverse_differences")
    size = max(differences.shape[-2:]) if differences.ndim >= 2 else differences.size
    tol = _tolerance(policy, scale, size, differences)
    off = _off_diagonal(differences, zero_diagonal)
    return policy.reciprocal(differences, tol, off)


def degenerate_pairs(
    differences: Float[Array, "*batch n m"],
    scale: ArrayLike,
    policy: AbstractDegeneracyPolicy | None = None,
    *,
    zero_diagonal: bool = True,
) -> Bool[Array, "*batch n m"]:
    """Boolean mask of the pairs that `policy` counts as degenerate: $|d_{ij}| \\le$ tolerance
    (off the diagonal when `zero_diagonal`). Same arguments as
    [`diffsci.linalg.inverse_differences`][]."""
    if policy is None:
        policy = MaskDegeneracies()
    differences = _check_differences(differences, zero_diagonal, "degenerate_pairs")
    size = max(differences.shape[-2:]) if differences.ndim >= 2 else differences.size
    tol = _tolerance(policy, scale, size, differences)
    return _off_diagonal(differences, zero_diagonal) & (jnp.abs(differences) <= tol)


def _tolerance(policy, scale, size, differences) -> Array:
    dtype = differences.dtype
    scale = jax.lax.stop_gradient(jnp.asarray(scale))
    tol = jnp.asarray(policy.tolerance(scale, size, dtype), dtype=dtype)
    if not tol.ndim:
        return tol
    # A batched scale broadcasts against the batch dimensions of the (..., n, m) differences:
    # (..., 1, 1), with leading 1s up to the rank of `differences` (explicit rank promotion).
    tol = tol[..., None, None]
    return tol.reshape((1,) * max(differences.ndim - tol.ndim, 0) + tol.shape)
