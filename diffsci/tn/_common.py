"""Shared machinery of the real-space renormalization groups: normalization, scan, checks,
and the multiplet-aware truncation."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from diffsci.linalg import default_rtol

from .._internal._validate import float_array

# Two values of the truncated spectrum closer than MULTIPLET_RTOL times the largest one are one
# multiplet (see `multiplet_cut`). Chosen by measurement (docs/tn.md, "Truncation and
# multiplets"): symmetry multiplets are split by roundoff to ~1e-15 of the largest value, and the
# genuine gaps at a cut in the Ising and Potts models are above ~1e-8 of it.
MULTIPLET_RTOL = 1e-10


def relative_asymmetry(a, permutations) -> Array:
    r"""$\max_g \lVert g \cdot a - a \rVert / \lVert a \rVert$ over the axis permutations
    `permutations` (a symmetry group acting on the legs), without derivative: a value check."""
    a = jax.lax.stop_gradient(a)
    deviation = jnp.stack([jnp.sqrt(jnp.sum((jnp.transpose(a, g) - a) ** 2)) for g in permutations])
    return jnp.max(deviation) / jnp.sqrt(jnp.sum(a * a))


def check_chi_steps(name: str, chi, steps) -> None:
    """`ValueError` naming what was given unless `chi` and `steps` are integers >= 1."""
    if not isinstance(chi, int | np.integer) or isinstance(chi, bool) or chi < 1:
        raise ValueError(f"{name}: the bond dimension chi must be an integer >= 1, got {chi!r}")
    if not isinstance(steps, int | np.integer) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"{name}: steps must be an integer >= 1, got {steps!r}")


def check_rg_arguments(name: str, tensor, chi, steps) -> Array:
    """The local tensor as a floating array (integer and boolean input promoted to the default
    float, float16/bfloat16 and complex refused with `TypeError`); `ValueError` with a message
    naming what was given for a malformed RG call."""
    tensor = float_array(tensor, "tensor", name)
    if tensor.ndim != 4:
        raise ValueError(
            f"{name}: expected `tensor` to be a rank-4 local tensor T[x, x', y, y'] (left, right, "
            f"down, up), got shape {tensor.shape}"
        )
    dx, dx2, dy, dy2 = tensor.shape
    if dx != dx2 or dy != dy2:
        raise ValueError(
            f"{name}: the left and right legs (and the down and up legs) of `tensor` are "
            f"contracted with each other and must have the same dimension; got shape "
            f"{tensor.shape} in the leg order (left, right, down, up)"
        )
    if tensor.size == 0:
        raise ValueError(
            f"{name}: expected `tensor` to have legs of dimension >= 1, got shape {tensor.shape}"
        )
    check_chi_steps(name, chi, steps)
    return tensor


def check_tensor_values(name: str, tensor: Array) -> Array:
    """`tensor`, with a runtime error (`equinox.error_if`) if it has NaN or infinite entries or
    is zero (whose network has Z = 0). The check sits on the input, so that it runs before (and
    instead of) the checks of the decompositions inside the RG."""
    nonfinite = ~jnp.all(jnp.isfinite(tensor))
    zero = jnp.all(tensor == 0)
    return eqx.branched_error_if(
        tensor,
        nonfinite | zero,
        jnp.where(nonfinite, 0, 1),
        [
            f"{name}: `tensor` has NaN or infinite entries",
            f"{name}: expected `tensor` to be nonzero, got a zero tensor (its network has Z = 0, "
            "so ln Z is undefined)",
        ],
    )


def check_positive_z(name: str, log_z: Array, trace: Array) -> Array:
    """`log_z`, with a runtime error unless the sign of Z (that of the final trace: every
    normalization is by a positive norm) is positive."""
    return eqx.error_if(
        log_z,
        ~(trace > 0),
        f"{name}: the partition function Z of the network of `tensor` came out zero or negative "
        "(ln Z is undefined): `tensor` is not the Boltzmann weight of a classical model (the "
        "weights of every configuration must sum to Z > 0). If it is one, a too small `chi` "
        "changed the sign through the truncation: increase `chi`.",
    )


def check_multiplet_rtol(name: str, multiplet_rtol) -> float:
    """The tolerance as a Python float; `ValueError` naming what was given if it is not one."""
    if multiplet_rtol is None:
        return MULTIPLET_RTOL
    if isinstance(multiplet_rtol, bool) or not isinstance(multiplet_rtol, (int, float)):
        raise ValueError(
            f"{name}: multiplet_rtol must be a float in [0, 1) or None, got {multiplet_rtol!r}"
        )
    if not 0.0 <= multiplet_rtol < 1.0:
        raise ValueError(f"{name}: multiplet_rtol must be in [0, 1), got {multiplet_rtol!r}")
    return float(multiplet_rtol)


def effective_rtol(rtol: float, size: int, dtype) -> float:
    """`rtol`, but never below the degeneracy tolerance of `diffsci.linalg` (100 sqrt(n) eps of
    the dtype), so that round-off-split multiplets are caught in float32 too."""
    return max(rtol, default_rtol(size, dtype))


class Cut(eqx.Module):
    """Where one truncation cut its spectrum (internal; `TruncationInfo` collects them)."""

    kept_rank: Int[Array, ""]
    dropped: Int[Array, ""]
    gap: Float[Array, ""]


def multiplet_cut(values: Float[Array, " p"], k: int, rtol: float) -> tuple[Array, Cut]:
    r"""Keep at most the `k` largest of the descending `values`, never part of a multiplet.

    Consecutive values with $v_i - v_{i+1} \le \mathrm{rtol}\cdot v_1$ belong to one multiplet
    (values below $\mathrm{rtol}\cdot v_1$ count as zero and form one multiplet with the zeros).
    If the cut after $v_k$ splits a multiplet ($v_k - v_{k+1} \le \mathrm{rtol}\cdot v_1$),
    the kept members of that multiplet are dropped as well: the kept set is the first
    $r \le k$ values, with $r$ the largest index $\le k$ such that $v_r - v_{r+1}$ is a gap.
    If no such index exists (the whole kept block belongs to the multiplet that the cut splits)
    all $k$ stay, and `Cut.gap` reports the (tiny) gap.

    The kept set is a piecewise-constant function of the values, so it carries no derivative
    (`stop_gradient`); the shapes stay static and the caller zeroes the dropped states with a
    `where` on the mask.

    **Returns:** `(keep, cut)`: a boolean mask of shape `(k,)`, true on the first `r` entries,
    and a `Cut` with the kept rank $r$, the number of dropped states that are not numerical
    zeros, and the gap at the cut,
    $(v_r - v_{r+1}) / v_1$ (1 where nothing is cut).
    """
    values = jax.lax.stop_gradient(values)
    p = values.shape[0]
    if k >= p:
        keep = jnp.ones((p,), dtype=bool)
        one = jnp.ones((), dtype=values.dtype)
        return keep, Cut(jnp.asarray(p), jnp.asarray(0), one)
    rtol = effective_rtol(rtol, p, values.dtype)
    scale = values[0]
    gaps = values[:k] - values[1 : k + 1]  # gaps[i]: between values i and i + 1 (0-based)
    is_gap = gaps > rtol * scale
    index = jnp.arange(1, k + 1)
    rank = jnp.max(jnp.where(is_gap, index, 0))
    rank = jnp.where(rank == 0, k, rank)
    keep = jnp.arange(k) < rank
    # Dropped states that carry weight (numerical zeros are not counted).
    dropped = jnp.sum(~keep & (values[:k] > rtol * scale))
    # An all-zero spectrum (a zero tensor) has scale 0: report a gap of 0 rather than 0/0.
    safe_scale = jnp.where(scale > 0, scale, 1.0)
    gap = jnp.where(scale > 0, gaps[rank - 1] / safe_scale, 0.0)
    return keep, Cut(rank, dropped, gap)


def merge_cuts(*cuts: Cut) -> Cut:
    """The worst of several truncations of one step: smallest rank, most dropped, smallest gap."""
    return Cut(
        jnp.min(jnp.stack([c.kept_rank for c in cuts])),
        jnp.max(jnp.stack([c.dropped for c in cuts])),
        jnp.min(jnp.stack([c.gap for c in cuts])),
    )


def normalize(tensor):
    """`tensor / c` and `log c`, with c the Frobenius norm (smooth, so exact derivatives).

    A tensor that a step made exactly zero (a network with Z = 0) stays zero, with log c = -inf,
    rather than becoming 0/0 = NaN inside the next decomposition; the final trace then reports
    Z = 0 (`check_positive_z`)."""
    norm = jnp.sqrt(jnp.sum(tensor * tensor))
    return tensor / jnp.where(norm > 0, norm, 1.0), jnp.log(norm)


def run_rg(
    step: Callable[[Array], tuple[Array, Cut]],
    tensor: Float[Array, "a a b b"],
    steps: int,
    checkpoint: bool,
    who: str | None = None,
) -> tuple[Float[Array, ""], Cut]:
    r"""ln Z per site of the infinite lattice, by `steps` coarse-graining steps that each halve the
    number of tensors, and the `Cut` of every step (fields of shape `(steps,)`).

    With $T_0$ the local tensor and $T_n$ = `step`($T_{n-1}$) (one tensor for $2^n$ sites), each
    normalized by its norm $c_n$, the partition function of $N = 2^{n_s}$ sites on a torus is

    $$\frac{\ln Z}{N} = \sum_{n=0}^{n_s} \frac{\ln c_n}{2^n}
        + \frac{1}{2^{n_s}} \ln \Big|\sum_{x y} T_{n_s,\, x x y y}\Big|.$$

    The first steps, while the bond dimension still grows, run as a Python loop; once the shape
    of the tensor is a fixed point of `step` the rest run in a `lax.scan`, each step under
    `jax.checkpoint` when `checkpoint` is set, so reverse mode stores one tensor per step.

    With `who` (the public function called), a final trace that is not positive (Z <= 0) raises
    at run time through `equinox.error_if` (`check_positive_z`).
    """
    body = jax.checkpoint(step) if checkpoint else step
    tensor, log_c = normalize(tensor)
    total = log_c
    cuts = []
    n = 0
    while n < steps:
        out_shape = jax.eval_shape(step, tensor)[0].shape
        if out_shape == tensor.shape:
            break
        tensor, cut = body(tensor)
        tensor, log_c = normalize(tensor)
        cuts.append(cut)
        n += 1
        total = total + log_c / 2.0**n
    cuts = jax.tree.map(lambda *xs: jnp.stack(xs), *cuts) if cuts else None
    remaining = steps - n
    if remaining > 0:
        weights = 0.5 ** jnp.arange(n + 1, steps + 1, dtype=tensor.dtype)

        def scan_body(t, weight):
            t, cut = body(t)
            t, log_c = normalize(t)
            return t, (weight * log_c, cut)

        tensor, (logs, scan_cuts) = jax.lax.scan(scan_body, tensor, weights)
        total = total + jnp.sum(logs)
        if cuts is None:
            cuts = scan_cuts
        else:
            cuts = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), cuts, scan_cuts)
    trace = jnp.einsum("xxyy->", tensor)
    log_z = total + jnp.log(jnp.abs(trace)) / 2.0**steps
    if who is not None:
        log_z = check_positive_z(who, log_z, jax.lax.stop_gradient(trace))
    # the callers check `steps >= 1`, so there is at least one cut (never `None`)
    return log_z, cast(Cut, cuts)
