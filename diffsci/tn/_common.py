"""Shared machinery of the real-space renormalization groups: normalization, scan, checks."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def check_rg_arguments(name: str, tensor, chi, steps) -> None:
    """Raise `ValueError` with a message naming what was given for a malformed RG call."""
    if getattr(tensor, "ndim", None) != 4:
        raise ValueError(
            f"{name}: expected a rank-4 local tensor T[x, x', y, y'] (left, right, down, up), got "
            f"shape {getattr(tensor, 'shape', type(tensor).__name__)}"
        )
    dx, dx2, dy, dy2 = tensor.shape
    if dx != dx2 or dy != dy2:
        raise ValueError(
            f"{name}: the left and right legs (and the down and up legs) of the local tensor are "
            f"contracted with each other and must have the same dimension; got shape "
            f"{tensor.shape} in the leg order (left, right, down, up)"
        )
    if not isinstance(chi, int) or isinstance(chi, bool) or chi < 1:
        raise ValueError(f"{name}: the bond dimension chi must be an integer >= 1, got {chi!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"{name}: steps must be an integer >= 1, got {steps!r}")
    if not jnp.issubdtype(tensor.dtype, jnp.floating):
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype {tensor.dtype}")


def normalize(tensor):
    """`tensor / c` and `log c`, with c the Frobenius norm (smooth, so exact derivatives)."""
    norm = jnp.sqrt(jnp.sum(tensor * tensor))
    return tensor / norm, jnp.log(norm)


def run_rg(
    step: Callable[[Array], Array], tensor: Float[Array, "a a b b"], steps: int, checkpoint: bool
) -> Float[Array, ""]:
    r"""ln Z per site of the infinite lattice, by `steps` coarse-graining steps that each halve the
    number of tensors.

    With $T_0$ the local tensor and $T_n$ = `step`($T_{n-1}$) (one tensor for $2^n$ sites), each
    normalized by its norm $c_n$, the partition function of $N = 2^{n_s}$ sites on a torus is

    $$\frac{\ln Z}{N} = \sum_{n=0}^{n_s} \frac{\ln c_n}{2^n}
        + \frac{1}{2^{n_s}} \ln \Big|\sum_{x y} T_{n_s,\, x x y y}\Big|.$$

    The first steps, while the bond dimension still grows, run as a Python loop; once the shape
    of the tensor is a fixed point of `step` the rest run in a `lax.scan`, each step under
    `jax.checkpoint` when `checkpoint` is set, so reverse mode stores one tensor per step.
    """
    body = jax.checkpoint(step) if checkpoint else step
    tensor, log_c = normalize(tensor)
    total = log_c
    n = 0
    while n < steps:
        out_shape = jax.eval_shape(step, tensor).shape
        if out_shape == tensor.shape:
            break
        tensor, log_c = normalize(body(tensor))
        n += 1
        total = total + log_c / 2.0**n
    remaining = steps - n
    if remaining > 0:
        weights = 0.5 ** jnp.arange(n + 1, steps + 1, dtype=tensor.dtype)

        def scan_body(t, weight):
            t, log_c = normalize(body(t))
            return t, weight * log_c

        tensor, logs = jax.lax.scan(scan_body, tensor, weights)
        total = total + jnp.sum(logs)
    trace = jnp.einsum("xxyy->", tensor)
    return total + jnp.log(jnp.abs(trace)) / 2.0**steps
