r"""Ising models with arbitrary couplings, and their exact partition function by enumeration.

Convention shared by every function here: spins $s_i = \pm 1$, a symmetric coupling matrix $J$ with
zero diagonal and a field $h$,

$$E(s) = -\sum_{i<j} J_{ij} s_i s_j - \sum_i h_i s_i
       = -\tfrac12 s^\top J s - h^\top s ,\qquad Z = \sum_s e^{-\beta E(s)} .$$

Every function here checks that convention instead of reading something else into it: a coupling
matrix must be square, finite, symmetric to $\sqrt\epsilon$ relative to its largest entry and have a
zero diagonal (pass $(J + J^\top)/2$ with its diagonal removed if that is the model you mean), spins
must be $\pm 1$ (not 0/1 occupations), a field must have one entry per spin. Shapes are checked at
trace time (`ValueError`), values at run time (`equinox.error_if`, eagerly and under `jit`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from diffsci._internal import _validate as v

MAX_EXACT_SPINS = 24


def _couplings(couplings, who, *, check_values=True):
    """A coupling matrix as a float array: square (n, n) with n >= 1 (ValueError at trace time);
    finite, symmetric and with a zero diagonal (a run-time check) unless `check_values` is off.

    The checked matrix is then projected, (J + J^T)/2 with its diagonal removed: no change of
    value for a valid matrix, but derivatives with respect to `couplings` stay symmetric with a
    zero diagonal, so a gradient step keeps the couplings valid."""
    j = v.float_array(couplings, "couplings", who, ndim=2)
    if j.shape[0] != j.shape[1] or j.shape[0] < 1:
        v.fail(
            who,
            "couplings",
            "to be a square matrix (n, n) with n >= 1",
            f"shape {j.shape}",
            described=True,
        )
    if check_values:
        j = v.couplings(j, "couplings", who)
    j = 0.5 * (j + j.T)
    return j * (1 - jnp.eye(j.shape[0], dtype=j.dtype))


def _field(h, n, dtype, who, *, check_values=True):
    """The field `h` as an array of shape (n,) (zeros for None); finite at run time unless
    `check_values` is off."""
    if h is None:
        return jnp.zeros(n, dtype)
    h = v.float_array(h, "h", who, dtype=dtype)
    if h.shape != (n,):
        v.fail(
            who,
            "h",
            f"(the field) to have shape ({n},), one entry per spin",
            f"shape {h.shape}",
            described=True,
        )
    h = h.astype(dtype)
    return v.finite(h, "h", who) if check_values else h


def _beta(beta, dtype, who):
    """The inverse temperature as a finite scalar of `dtype` (any sign: a negative beta is the
    same model with -J and -h)."""
    b = v.float_array(beta, "beta", who, ndim=0)
    return v.finite(b.astype(dtype), "beta", who)


def square_lattice_couplings(
    length: int,
    width: int | None = None,
    *,
    coupling: Float[ArrayLike, ""] = 1.0,
    dtype=None,
) -> Float[Array, "n n"]:
    r"""Couplings of the nearest-neighbour Ising model on a periodic `length` x `width` lattice.

    Site $(r, c)$ has index $r \cdot \mathrm{width} + c$. Each bond to the right and below (with
    periodic wrap-around) carries `coupling`; on a side of length 2 the two bonds between the same
    pair of sites add up, as they do on the torus.

    **Arguments:**

    - `length`: number of rows (an integer >= 2).
    - `width`: number of columns (an integer >= 2; default: `length`).
    - `coupling`: the ferromagnetic coupling $J$ (negative: antiferromagnet), a finite real
      scalar (it may be traced: the result is differentiable in it).
    - `dtype`: floating dtype of the result, float32 or float64 (default: JAX's default float).

    **Returns:**

    The symmetric coupling matrix, shape `(length * width, length * width)`, zero diagonal.

    Checks: the sides are integers >= 2, `dtype` is a float dtype (trace time), `coupling` is a
    finite scalar (run time).
    """
    who = "square_lattice_couplings"
    length = v.static_int(length, "length", who, minimum=2)
    width = length if width is None else v.static_int(width, "width", who, minimum=2)
    dtype = v.float_dtype(dtype, "dtype", who)
    coupling = v.finite(v.float_array(coupling, "coupling", who, ndim=0), "coupling", who)
    n = length * width
    bonds = np.zeros((n, n))
    for r in range(length):
        for c in range(width):
            i = r * width + c
            for k in (r * width + (c + 1) % width, ((r + 1) % length) * width + c):
                bonds[i, k] += 1.0
                bonds[k, i] += 1.0
    return jnp.asarray(bonds, dtype) * coupling.astype(dtype)


def sk_couplings(n: int, *, key: PRNGKeyArray, dtype=None) -> Float[Array, "n n"]:
    r"""A random instance of the Sherrington-Kirkpatrick spin glass.

    $J_{ij} = J_{ji} \sim \mathcal N(0, 1/n)$ for $i < j$, zero diagonal (Sherrington and
    Kirkpatrick, PRL 35, 1792 (1975)); the instance is fixed by `key`.

    **Arguments:**

    - `n`: number of spins (an integer >= 1).
    - `key`: the random key that fixes the instance (`jax.random.key(seed)`, not an int seed).
    - `dtype`: floating dtype, float32 or float64 (default: JAX's default float).

    **Returns:**

    The symmetric coupling matrix, shape `(n, n)`.
    """
    who = "sk_couplings"
    n = v.static_int(n, "n", who, minimum=1)
    key = v.prng_key(key, "key", who)
    dtype = v.float_dtype(dtype, "dtype", who)
    g = jax.random.normal(key, (n, n), dtype=dtype) / jnp.sqrt(jnp.asarray(n, dtype))
    upper = jnp.triu(g, k=1)
    return upper + upper.T


def hopfield_couplings(patterns: Float[Array, "p n"]) -> Float[Array, "n n"]:
    r"""Hebbian couplings of a Hopfield network storing `patterns`.

    $J_{ij} = \frac1n \sum_{\mu=1}^{p} \xi^\mu_i \xi^\mu_j$ for $i \ne j$, zero diagonal
    (Hopfield, PNAS 79, 2554 (1982)). With these couplings the stored patterns are low-energy
    states of $E = -\frac12 s^\top J s$.

    **Arguments:**

    - `patterns`: the stored patterns $\xi^\mu \in \{-1, +1\}^n$, shape `(p, n)`, $p, n \ge 1$
      (integer patterns are promoted to floats). Real-valued patterns are accepted too: the
      rule is differentiable in them.

    **Returns:**

    The symmetric coupling matrix, shape `(n, n)`.

    Checks: `patterns` has shape `(p, n)` with $p, n \ge 1$ (trace time) and is finite (run
    time).
    """
    who = "hopfield_couplings"
    xi = v.float_array(patterns, "patterns", who, ndim=2)
    if xi.shape[0] < 1 or xi.shape[1] < 1:
        v.fail(
            who,
            "patterns",
            "to have shape (p, n) with p, n >= 1",
            f"shape {xi.shape}",
            described=True,
        )
    xi = v.finite(xi, "patterns", who)
    n = xi.shape[1]
    j = xi.T @ xi / n
    return j * (1 - jnp.eye(n, dtype=j.dtype))


def ising_energy(
    spins: Float[Array, "... n"],
    couplings: Float[Array, "n n"],
    h: Float[Array, " n"] | None = None,
    *,
    validate: bool = True,
) -> Float[Array, "..."]:
    r"""Energy $E(s) = -\frac12 s^\top J s - h^\top s$ of spin configurations.

    **Arguments:**

    - `spins`: configurations of $\pm 1$, shape `(..., n)` (any batch shape).
    - `couplings`: the coupling matrix, shape `(n, n)`: symmetric, zero diagonal.
    - `h`: the field, shape `(n,)` or `None` (zero field).
    - `validate`: check the values (below) at run time. The checks cost about as much as the
      energy of a small batch; inside a hot loop whose inputs are already known to be good
      (a sampler's sweep, a training step) pass `validate=False`.

    **Returns:**

    The energies, shape `spins.shape[:-1]`.

    Checks: shapes at trace time (`couplings` square, `spins` of shape `(..., n)`, `h` of shape
    `(n,)`), always; with `validate`, at run time: `spins` are $\pm 1$ (0/1 occupations are
    refused), `couplings` finite, symmetric and with a zero diagonal, `h` finite.
    """
    who = "ising_energy"
    j = _couplings(couplings, who, check_values=validate)
    n = j.shape[0]
    s = v.float_array(spins, "spins", who, dtype=j.dtype)
    if s.ndim < 1 or s.shape[-1] != n:
        v.fail(
            who,
            "spins",
            f"to have shape (..., {n}), one entry per row of `couplings`",
            f"shape {s.shape}",
            described=True,
        )
    if validate:
        s = v.spins(s, "spins", who)
    hh = None if h is None else _field(h, n, j.dtype, who, check_values=validate)
    return _energy(s.astype(j.dtype), j, hh)


def _energy(s, j, h):
    """-1/2 s^T J s - h^T s of checked inputs (h may be None), nothing else: the samplers' sweep
    calls this, not `ising_energy`."""
    e = -0.5 * jnp.sum((s @ j) * s, axis=-1)
    if h is not None:
        e = e - s @ h
    return e


def _configurations(start, size, n, dtype):
    """Spins of the configurations with indices start, ..., start + size - 1 (bit k -> spin k)."""
    index = start + jnp.arange(size, dtype=jnp.int32)
    bits = (index[:, None] >> jnp.arange(n, dtype=jnp.int32)[None, :]) & 1
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

    - `couplings`: the coupling matrix, shape `(n, n)`, `n <= 24`: symmetric, zero diagonal.
    - `beta`: inverse temperature, a finite real scalar (any sign: $\beta < 0$ is the model
      with $-J$, $-h$ at $-\beta$).
    - `h`: field, shape `(n,)`, or `None` for zero field.
    - `chunk_size`: configurations per chunk (a power of two).

    **Returns:**

    $\ln Z$, a scalar in the dtype of `couplings`.

    Checks: shapes, `n <= 24` and `chunk_size` at trace time; at run time, `couplings` finite,
    symmetric (to $\sqrt\epsilon$ relative) with a zero diagonal, `beta` and `h` finite.
    """
    j, beta, h, chunk = _exact_inputs(couplings, beta, h, chunk_size, "ising_exact")
    return _ising_exact(j, beta, h, chunk)


def _exact_inputs(couplings, beta, h, chunk_size, who):
    """The checked inputs of an exact enumeration: (couplings, beta, field, chunk)."""
    j = _couplings(couplings, who)
    n = j.shape[0]
    if n > MAX_EXACT_SPINS:
        v.fail(
            who,
            "couplings",
            f"to be at most {MAX_EXACT_SPINS} x {MAX_EXACT_SPINS} (n <= "
            f"{MAX_EXACT_SPINS}: all 2^n configurations are enumerated; use a sampler or a "
            "tensor network for larger systems)",
            f"shape {j.shape}",
            described=True,
        )
    chunk_size = v.static_int(chunk_size, "chunk_size", who, minimum=1)
    if chunk_size & (chunk_size - 1):
        v.fail(who, "chunk_size", "to be a power of two", chunk_size)
    return j, _beta(beta, j.dtype, who), _field(h, n, j.dtype, who), min(chunk_size, 2**n)


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
    [`diffsci.physics.ising_exact`][] in β, not from separate sums. The entropy is computed as
    $S = \ln Z + \beta U$ $(= \beta(U - F))$, so that at infinite temperature, $\beta = 0$, it is
    $\ln Z = n \ln 2$; there $F = -\ln Z/\beta$ is $-\infty$, its limit.

    **Arguments:** as for [`diffsci.physics.ising_exact`][] (with the same checks).

    **Returns:**

    An [`diffsci.physics.IsingThermodynamics`][] record.
    """
    j, beta, h, chunk = _exact_inputs(couplings, beta, h, chunk_size, "ising_thermodynamics")
    log_z_of = lambda b: _ising_exact(j, b, h, chunk)
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
        entropy=log_z + beta * energy,
    )
