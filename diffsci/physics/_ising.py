r"""Ising models with arbitrary couplings, and their exact partition function by enumeration.

Convention shared by every function here: spins $s_i = \pm 1$, a symmetric coupling matrix $J$ with
zero diagonal and a field $h$,

$$E(s) = -\sum_{i<j} J_{ij} s_i s_j - \sum_i h_i s_i
       = -\tfrac12 s^\top J s - h^\top s ,\qquad Z = \sum_s e^{-\beta E(s)} .$$

Only the symmetric off-diagonal part of a coupling matrix enters: a matrix given with a diagonal or
an asymmetric part is read as $(J + J^\top)/2$ with its diagonal removed.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

MAX_EXACT_SPINS = 24


def _symmetric_couplings(couplings):
    j = jnp.asarray(couplings)
    if j.ndim != 2 or j.shape[0] != j.shape[1]:
        raise ValueError(f"expected a square coupling matrix (n, n), got shape {j.shape}")
    if not jnp.issubdtype(j.dtype, jnp.floating):
        j = j.astype(jnp.result_type(float))
    j = 0.5 * (j + j.T)
    return j * (1 - jnp.eye(j.shape[0], dtype=j.dtype))


def square_lattice_couplings(
    length: int, width: int | None = None, *, coupling: float = 1.0, dtype=None
) -> Float[Array, "n n"]:
    r"""Couplings of the nearest-neighbour Ising model on a periodic `length` x `width` lattice.

    Site $(r, c)$ has index $r \cdot \mathrm{width} + c$. Each bond to the right and below (with
    periodic wrap-around) carries `coupling`; on a side of length 2 the two bonds between the same
    pair of sites add up, as they do on the torus.

    **Arguments:**

    - `length`: number of rows (at least 2).
    - `width`: number of columns (default: `length`).
    - `coupling`: the ferromagnetic coupling $J$ (negative: antiferromagnet).
    - `dtype`: floating dtype of the result (default: JAX's default float).

    **Returns:**

    The symmetric coupling matrix, shape `(length * width, length * width)`, zero diagonal.
    """
    width = length if width is None else width
    if length < 2 or width < 2:
        raise ValueError(
            f"square_lattice_couplings: need sides >= 2, got length={length}, width={width}"
        )
    n = length * width
    j = np.zeros((n, n))
    for r in range(length):
        for c in range(width):
            i = r * width + c
            for k in (r * width + (c + 1) % width, ((r + 1) % length) * width + c):
                j[i, k] += coupling
                j[k, i] += coupling
    return jnp.asarray(j, dtype=dtype or jnp.result_type(float))


def sk_couplings(n: int, *, key: PRNGKeyArray, dtype=None) -> Float[Array, "n n"]:
    r"""A random instance of the Sherrington-Kirkpatrick spin glass.

    $J_{ij} = J_{ji} \sim \mathcal N(0, 1/n)$ for $i < j$, zero diagonal (Sherrington and
    Kirkpatrick, PRL 35, 1792 (1975)); the instance is fixed by `key`.

    **Arguments:**

    - `n`: number of spins.
    - `key`: the random key that fixes the instance.
    - `dtype`: floating dtype (default: JAX's default float).

    **Returns:**

    The symmetric coupling matrix, shape `(n, n)`.
    """
    dtype = dtype or jnp.result_type(float)
    g = jax.random.normal(key, (n, n), dtype=dtype) / jnp.sqrt(jnp.asarray(n, dtype))
    upper = jnp.triu(g, k=1)
    return upper + upper.T


def hopfield_couplings(patterns: Float[Array, "p n"]) -> Float[Array, "n n"]:
    r"""Hebbian couplings of a Hopfield network storing `patterns`.

    $J_{ij} = \frac1n \sum_{\mu=1}^{p} \xi^\mu_i \xi^\mu_j$ for $i \ne j$, zero diagonal
    (Hopfield, PNAS 79, 2554 (1982)). With these couplings the stored patterns are low-energy
    states of $E = -\frac12 s^\top J s$.

    **Arguments:**

    - `patterns`: the stored patterns $\xi^\mu \in \{-1, +1\}^n$, shape `(p, n)`.

    **Returns:**

    The symmetric coupling matrix, shape `(n, n)`.
    """
    xi = jnp.asarray(patterns)
    if xi.ndim != 2:
        raise ValueError(f"hopfield_couplings: expected patterns of shape (p, n), got {xi.shape}")
    xi = xi.astype(jnp.result_type(float))
    n = xi.shape[1]
    j = xi.T @ xi / n
    return j * (1 - jnp.eye(n, dtype=j.dtype))


def ising_energy(
    spins: Float[Array, "... n"],
    couplings: Float[Array, "n n"],
    h: Float[Array, " n"] | None = None,
) -> Float[Array, "..."]:
    r"""Energy $E(s) = -\frac12 s^\top J s - h^\top s$ of spin configurations.

    **Arguments:**

    - `spins`: configurations of $\pm 1$, shape `(..., n)` (any batch shape).
    - `couplings`: the coupling matrix, shape `(n, n)` (its symmetric off-diagonal part is used).
    - `h`: the field, shape `(n,)` or `None` (zero field).

    **Returns:**

    The energies, shape `spins.shape[:-1]`.
    """
    j = _symmetric_couplings(couplings)
    s = jnp.asarray(spins).astype(j.dtype)
    if s.shape[-1] != j.shape[0]:
        raise ValueError(
            f"ising_energy: spins have {s.shape[-1]} sites but couplings are {j.shape}"
        )
    e = -0.5 * jnp.sum((s @ j) * s, axis=-1)
    if h is not None:
        e = e - s @ jnp.asarray(h, j.dtype)
    return e


def _configurations(start, size, n, dtype):
    """Spins of the configurations with indices start, ..., start + size - 1 (bit k -> spin k)."""
    index = start + jnp.arange(size, dtype=jnp.int32)
    bits = (index[:, None] >> jnp.arange(n, dtype=jnp.int32)) & 1
    return (1 - 2 * bits).astype(dtype)


def ising_exact(
    couplings: Float[Array, "n n"],
    beta: Float[Array, ""],
    h: Float[Array, " n"] | None = None,
    *,
    chunk_size: int = 2**14,
) -> Float[Array, ""]:
    r"""$\ln Z$ of an Ising model by exact enumeration of all $2^n$ configurations ($n \le 24$).

    $$\ln Z(\beta, J, h) = \ln \sum_{s \in \{\pm1\}^n} e^{\beta(\frac12 s^\top J s + h^\top s)} .$$

    The configurations are enumerated in chunks of `chunk_size`: a `lax.scan` over chunks, each
    chunk vectorized, with a running log-sum-exp so that nothing overflows. Each chunk is
    rematerialized in the backward pass (`jax.checkpoint`), so derivatives cost O(chunk) memory.

    It is differentiable in `beta`, `couplings` and `h` to any order: the internal energy is
    $U = -\partial_\beta \ln Z$, the specific heat $C = \beta^2 \partial_\beta^2 \ln Z$, and
    $\partial \ln Z / \partial J_{ij} = \beta \langle s_i s_j \rangle / 2$ for each of the two
    entries $(i, j)$ and $(j, i)$ of a bond, and $\partial \ln Z / \partial h_i = \beta \langle s_i
    \rangle$ (see also [`diffsci.physics.ising_thermodynamics`][]).

    **Arguments:**

    - `couplings`: the coupling matrix, shape `(n, n)`, `n <= 24` (its symmetric off-diagonal
      part is used).
    - `beta`: inverse temperature.
    - `h`: field, shape `(n,)`, or `None` for zero field.
    - `chunk_size`: configurations per chunk (a power of two).

    **Returns:**

    $\ln Z$, a scalar in the dtype of `couplings`.
    """
    j = _symmetric_couplings(couplings)
    n = j.shape[0]
    if n > MAX_EXACT_SPINS:
        raise ValueError(
            f"ising_exact: enumeration of 2^{n} configurations is too large; n <= "
            f"{MAX_EXACT_SPINS} (use a sampler or a tensor network for larger systems)"
        )
    if chunk_size < 1 or chunk_size & (chunk_size - 1):
        raise ValueError(f"ising_exact: chunk_size must be a power of two, got {chunk_size}")
    beta = jnp.asarray(beta, j.dtype)
    h = jnp.zeros(n, j.dtype) if h is None else jnp.asarray(h, j.dtype)
    if h.shape != (n,):
        raise ValueError(f"ising_exact: field must have shape ({n},), got {h.shape}")
    return _ising_exact(j, beta, h, min(chunk_size, 2**n))


@eqx.filter_jit
def _ising_exact(j, beta, h, chunk):
    n = j.shape[0]
    n_chunks = 2**n // chunk

    @jax.checkpoint
    def chunk_log_sum(c):
        s = _configurations(c * chunk, chunk, n, j.dtype)
        minus_beta_e = beta * (0.5 * jnp.sum((s @ j) * s, axis=-1) + s @ h)
        return jax.nn.logsumexp(minus_beta_e)

    def body(log_z, c):
        return jnp.logaddexp(log_z, chunk_log_sum(c)), None

    first = chunk_log_sum(jnp.int32(0))
    log_z, _ = jax.lax.scan(body, first, jnp.arange(1, n_chunks, dtype=jnp.int32))
    return log_z


class IsingThermodynamics(eqx.Module):
    r"""Exact thermodynamics of a finite Ising model (extensive: divide by n for per-site values).

    **Fields:**

    - `log_z`: $\ln Z$.
    - `free_energy`: $F = -\ln Z / \beta$.
    - `energy`: $U = \langle E \rangle = -\partial_\beta \ln Z$.
    - `specific_heat`: $C = \beta^2 \partial^2_\beta \ln Z = \beta^2 (\langle E^2\rangle - U^2)$.
    - `entropy`: $S = \beta (U - F)$.
    """

    log_z: Float[Array, ""]
    free_energy: Float[Array, ""]
    energy: Float[Array, ""]
    specific_heat: Float[Array, ""]
    entropy: Float[Array, ""]


def ising_thermodynamics(
    couplings: Float[Array, "n n"],
    beta: Float[Array, ""],
    h: Float[Array, " n"] | None = None,
    *,
    chunk_size: int = 2**14,
) -> IsingThermodynamics:
    r"""$\ln Z$, $F$, $U$, $C$ and $S$ of an Ising model, exactly, from derivatives of $\ln Z$.

    $U = -\partial_\beta \ln Z$ and $C = \beta^2 \partial^2_\beta \ln Z$ come from `jax.grad` of
    [`diffsci.physics.ising_exact`][] in β, not from separate sums.

    **Arguments:** as for [`diffsci.physics.ising_exact`][].

    **Returns:**

    An [`diffsci.physics.IsingThermodynamics`][] record.
    """
    j = _symmetric_couplings(couplings)
    beta = jnp.asarray(beta, j.dtype)
    log_z_of = lambda b: ising_exact(j, b, h, chunk_size=chunk_size)
    d_log_z = jax.grad(log_z_of)
    log_z = log_z_of(beta)
    energy = -d_log_z(beta)
    specific_heat = beta**2 * jax.grad(d_log_z)(beta)
    free_energy = -log_z / beta
    return IsingThermodynamics(
        log_z=log_z,
        free_energy=free_energy,
        energy=energy,
        specific_heat=specific_heat,
        entropy=beta * (energy - free_energy),
    )
