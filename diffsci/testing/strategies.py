"""Hypothesis strategies for testing derivative rules of scientific code.

Every strategy draws its structure (multiplicities, the kind of degeneracy, exponents of small
gaps, the nesting of a pytree) with hypothesis and its numbers from a hypothesis-drawn seed, with
numpy in float64 (complex128), and only then casts to the dtype asked for. The shapes are fixed by
the arguments, so a test sees few distinct shapes and JAX compiles few times.

The arrays are numpy arrays; JAX functions take them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import equinox as eqx
import hypothesis.strategies as st
import numpy as np
from hypothesis import assume

__all__ = [
    "DEGENERACIES",
    "SpectralMatrix",
    "seeds",
    "spectra",
    "matrices_with_spectrum",
    "symmetric_matrices",
    "hermitian_matrices",
    "spd_matrices",
    "orthogonal_matrices",
    "unitary_matrices",
    "spin_configurations",
    "particle_positions",
    "pytrees_of_arrays",
    "arrays",
]

#: The kinds of spectra `spectra` can draw.
DEGENERACIES = ("exact", "near", "gapped")


class SpectralMatrix(eqx.Module):
    """A Hermitian (or real symmetric) matrix with its prescribed eigendecomposition.

    `matrix` $= V \\operatorname{diag}(\\lambda) V^\\dagger$ up to round-off of the construction
    in float64; `eigenvalues` $\\lambda$ are sorted ascending (exactly as prescribed, so exact
    degeneracies are exactly equal numbers); the columns of `eigenvectors` $V$ are orthonormal.
    `degeneracy` says which kind of spectrum was drawn ("exact", "near", "gapped", or "given").
    """

    matrix: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    degeneracy: str = eqx.field(static=True, default="given")

    def __repr__(self) -> str:  # the numbers, so that hypothesis shows a falsifying example
        with np.printoptions(precision=17, threshold=10_000):
            return (
                f"SpectralMatrix(\n  matrix=np.{self.matrix!r},\n"
                f"  eigenvalues=np.{self.eigenvalues!r},\n"
                f"  eigenvectors=np.{self.eigenvectors!r},\n  degeneracy={self.degeneracy!r})"
            )


def seeds() -> st.SearchStrategy[int]:
    """Seeds for `numpy.random.default_rng`."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(seeds()))


def _size(draw, n) -> int:
    if isinstance(n, (int, np.integer)):
        if n < 1:
            raise ValueError(f"expected a positive size, got {n}")
        return int(n)
    return int(draw(st.sampled_from(tuple(n))))


def _check_sizes(n, name: str, who: str) -> None:
    """`n`: an int >= 1, or a non-empty sequence of them (the sizes to draw from)."""
    items = (n,) if isinstance(n, int | np.integer) and not isinstance(n, bool) else n
    if isinstance(items, str) or not isinstance(items, Sequence) or not items:
        raise TypeError(
            f"{who}: expected `{name}` to be an int >= 1 or a non-empty sequence of them, got {n!r}"
        )
    for k in items:
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise TypeError(f"{who}: expected `{name}` to hold integers, got {k!r}")
        if k < 1:
            raise ValueError(f"{who}: expected `{name}` to be >= 1, got {k}")


def _check_shape(shape, who: str) -> None:
    """`shape`: an int >= 0, or a tuple of them."""
    items = (shape,) if isinstance(shape, int | np.integer) else shape
    if (
        isinstance(items, str)
        or not isinstance(items, Sequence)
        or any(isinstance(k, bool) or not isinstance(k, int | np.integer) for k in items)
    ):
        raise TypeError(f"{who}: expected `shape` to be an int or a tuple of ints, got {shape!r}")
    if any(k < 0 for k in items):
        raise ValueError(f"{who}: expected `shape` to have sizes >= 0, got {shape!r}")


def _check_positive(x, name: str, who: str, *, optional: bool = False) -> None:
    if x is None and optional:
        return
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise TypeError(f"{who}: expected `{name}` to be a real number, got {x!r}")
    if not (np.isfinite(x) and x > 0):
        raise ValueError(f"{who}: expected `{name}` to be a positive finite number, got {x!r}")


def _composition(draw, n: int, *, need_cluster: bool) -> list[int]:
    """Sizes of clusters of eigenvalues summing to `n`; at least one of size >= 2 if asked."""
    if need_cluster and n < 2:
        raise ValueError("a degenerate spectrum needs n >= 2")
    sizes: list[int] = []
    left = n
    while left > 0:
        sizes.append(draw(st.integers(1, left)))
        left -= sizes[-1]
    if need_cluster and max(sizes) < 2:
        # merge two clusters (a drawn one and its neighbour)
        i = draw(st.integers(0, len(sizes) - 2))
        sizes[i : i + 2] = [sizes[i] + sizes[i + 1]]
    order = draw(st.permutations(range(len(sizes))))
    return [sizes[i] for i in order]


def _gapped_values(rng: np.random.Generator, k: int, scale: float, min_gap: float) -> np.ndarray:
    """`k` ascending values spanning [-scale, scale], adjacent ones at least min_gap*scale apart."""
    if k == 1:
        return np.array([rng.uniform(-scale, scale)])
    if (k - 1) * min_gap > 2:
        raise ValueError(f"min_gap={min_gap} is too large for {k} distinct eigenvalues")
    u = rng.uniform(0.05, 1.0, size=k - 1)
    gaps = min_gap * scale + (2 * scale - (k - 1) * min_gap * scale) * u / u.sum()
    return -scale + np.concatenate([[0.0], np.cumsum(gaps)])


def _check_degeneracy(degeneracy: str) -> None:
    if degeneracy not in DEGENERACIES + ("any",):
        raise ValueError(f"degeneracy must be one of {DEGENERACIES + ('any',)}, got {degeneracy!r}")


def _default_min_gap(n: int) -> float:
    return min(0.1, 1.0 / max(n - 1, 1))


@st.composite
def _spectra(
    draw,
    n: int | Sequence[int],
    *,
    degeneracy: str = "any",
    scale: float = 1.0,
    min_gap: float | None = None,
    near_gap: tuple[float, float] = (1e-9, 1e-4),
) -> np.ndarray:
    n = _size(draw, n)
    kind = draw(st.sampled_from(DEGENERACIES)) if degeneracy == "any" else degeneracy
    if kind not in DEGENERACIES:
        raise ValueError(f"degeneracy must be one of {DEGENERACIES + ('any',)}, got {kind!r}")
    if n < 2 and kind != "gapped":
        kind = "gapped"
    rng = _rng(draw)
    gap = _default_min_gap(n) if min_gap is None else min_gap
    if kind == "gapped":
        return _gapped_values(rng, n, scale, gap)
    sizes = _composition(draw, n, need_cluster=True)
    centres = _gapped_values(rng, len(sizes), scale, _default_min_gap(len(sizes)))
    values = []
    lo, hi = np.log10(near_gap[0]), np.log10(near_gap[1])
    for centre, size in zip(centres, sizes, strict=True):
        if kind == "exact" or size == 1:
            values.extend([centre] * size)
        else:
            delta = scale * 10 ** draw(st.floats(lo, hi))
            values.extend(centre + delta * np.arange(size))
    return np.sort(np.asarray(values, dtype=np.float64))


def spectra(
    n: int | Sequence[int],
    *,
    degeneracy: str = "any",
    scale: float = 1.0,
    min_gap: float | None = None,
    near_gap: tuple[float, float] = (1e-9, 1e-4),
) -> st.SearchStrategy:
    """Sorted real spectra of a chosen kind, as float64 arrays.

    **Arguments:**

    - `n`: the number of eigenvalues, or a sequence of allowed numbers.
    - `degeneracy`: `"exact"` (at least one eigenvalue of multiplicity $\\ge 2$, the multiplicities
      drawn), `"near"` (at least one cluster whose eigenvalues are $\\delta\\,\\|A\\|$ apart with
      $\\delta$ log-uniform in `near_gap`, down to $10^{-9}$), `"gapped"` (all gaps at least
      `min_gap` $\\|A\\|$), or `"any"` (one of those three).
    - `scale`: the spectral radius $\\|A\\|_2$: the eigenvalues lie in
      $[-$`scale`$, $`scale`$]$, and span it when there is more than one cluster.
    - `min_gap`: the smallest gap between distinct clusters, relative to `scale`
      (default $\\min(0.1, 1/(n-1))$).
    - `near_gap`: the range of the relative gaps inside a near-degenerate cluster.

    **Returns:**

    A strategy of ascending float64 arrays of shape `(n,)`.
    """
    _check_sizes(n, "n", "spectra")
    _check_positive(scale, "scale", "spectra")
    _check_positive(min_gap, "min_gap", "spectra", optional=True)
    _check_degeneracy(degeneracy)
    return _spectra(n, degeneracy=degeneracy, scale=scale, min_gap=min_gap, near_gap=near_gap)


def _haar(rng: np.random.Generator, n: int, complex_: bool) -> np.ndarray:
    """A Haar-random orthogonal or unitary matrix (QR of a Gaussian matrix, phases fixed)."""
    z = rng.standard_normal((n, n))
    if complex_:
        z = (z + 1j * rng.standard_normal((n, n))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    d = np.diagonal(r)
    return q * (d / np.abs(d))


def _check_dtype(dtype, complex_: bool | None) -> np.dtype:
    dtype = np.dtype(dtype)
    if complex_ is True and dtype.kind != "c":
        raise TypeError(f"expected a complex dtype, got {dtype}")
    if dtype.kind not in "fc":
        raise TypeError(f"expected a floating-point or complex dtype, got {dtype}")
    return dtype


def _assemble(eigenvalues, eigenvectors, dtype, kind) -> SpectralMatrix:
    a = (eigenvectors * eigenvalues) @ eigenvectors.conj().T
    a = (a + a.conj().T) / 2
    return SpectralMatrix(
        matrix=a.astype(dtype),
        eigenvalues=np.asarray(eigenvalues, dtype=np.dtype(dtype).type(0).real.dtype),
        eigenvectors=eigenvectors.astype(dtype),
        degeneracy=kind,
    )


def _kind(eigenvalues: np.ndarray) -> str:
    if eigenvalues.size < 2:
        return "gapped"
    gaps = np.diff(np.sort(eigenvalues))
    if np.any(gaps == 0):
        return "exact"
    return "given"


@st.composite
def _matrices_with_spectrum(
    draw,
    eigenvalues,
    *,
    dtype=np.float64,
) -> SpectralMatrix:
    dtype = _check_dtype(dtype, None)
    kind = None
    if isinstance(eigenvalues, st.SearchStrategy):
        eigenvalues = draw(eigenvalues)
    lam = np.sort(np.asarray(eigenvalues, dtype=np.float64).ravel())
    kind = _kind(lam)
    q = _haar(_rng(draw), lam.size, dtype.kind == "c")
    return _assemble(lam, q, dtype, kind)


def matrices_with_spectrum(eigenvalues, *, dtype=np.float64) -> st.SearchStrategy:
    """Matrices $V \\operatorname{diag}(\\lambda) V^\\dagger$ with a given spectrum and Haar-random
    eigenvectors: real symmetric for a real `dtype`, complex Hermitian for a complex one.

    **Arguments:**

    - `eigenvalues`: an array of eigenvalues, or a strategy of them (e.g. `spectra(4)`).
    - `dtype`: the dtype of the matrix.

    **Returns:**

    A strategy of `SpectralMatrix` records (matrix, eigenvalues ascending, eigenvectors).
    """
    _check_dtype(dtype, None)
    if not isinstance(eigenvalues, st.SearchStrategy):
        lam = np.asarray(eigenvalues)
        if (
            lam.ndim != 1
            or lam.size == 0
            or lam.dtype.kind not in "biuf"
            or not np.all(np.isfinite(lam))
        ):
            raise ValueError(
                "matrices_with_spectrum: expected `eigenvalues` to be a non-empty vector of finite "
                f"real numbers (or a strategy of them), got {eigenvalues!r}"
            )
    return _matrices_with_spectrum(eigenvalues, dtype=dtype)


def _spectral(draw, n, dtype, degeneracy, spectrum, scale, min_gap, with_spectrum):
    if spectrum is None:
        lam = draw(spectra(n, degeneracy=degeneracy, scale=scale, min_gap=min_gap))
        kind = _kind(lam)
        if kind != "exact":
            kind = "near" if np.min(np.diff(lam), initial=np.inf) < 1e-3 * scale else "gapped"
        if degeneracy != "any":
            kind = degeneracy
    else:
        lam = draw(spectrum) if isinstance(spectrum, st.SearchStrategy) else spectrum
        lam = np.sort(np.asarray(lam, dtype=np.float64).ravel())
        kind = "given"
    q = _haar(_rng(draw), lam.size, np.dtype(dtype).kind == "c")
    record = _assemble(lam, q, dtype, kind)
    return record if with_spectrum else record.matrix


@st.composite
def _symmetric_matrices(
    draw,
    n: int | Sequence[int],
    *,
    dtype=np.float64,
    degeneracy: str = "any",
    spectrum=None,
    scale: float = 1.0,
    min_gap: float | None = None,
    with_spectrum: bool = False,
):
    dtype = _check_dtype(dtype, None)
    if dtype.kind == "c":
        raise TypeError(f"symmetric_matrices: expected a real dtype, got {dtype}")
    return _spectral(draw, n, dtype, degeneracy, spectrum, scale, min_gap, with_spectrum)


def symmetric_matrices(
    n: int | Sequence[int],
    *,
    dtype=np.float64,
    degeneracy: str = "any",
    spectrum=None,
    scale: float = 1.0,
    min_gap: float | None = None,
    with_spectrum: bool = False,
) -> st.SearchStrategy:
    """Real symmetric matrices with a prescribed kind of spectrum.

    **Arguments:**

    - `n`: the size, or a sequence of allowed sizes (keep it short: each size compiles anew).
    - `dtype`: a real dtype (the matrix is built in float64 and cast).
    - `degeneracy`: `"exact"`, `"near"`, `"gapped"` or `"any"`, see `spectra`.
    - `spectrum`: eigenvalues (an array or a strategy) to use instead of drawing them.
    - `scale`: the spectral norm.
    - `min_gap`: the smallest relative gap between distinct eigenvalue clusters.
    - `with_spectrum`: return a `SpectralMatrix` record (matrix, eigenvalues, eigenvectors)
      instead of the bare matrix.

    **Returns:**

    A strategy of `(n, n)` numpy arrays (or of `SpectralMatrix` records).
    """
    _check_sizes(n, "n", "symmetric_matrices")
    _check_positive(scale, "scale", "symmetric_matrices")
    _check_positive(min_gap, "min_gap", "symmetric_matrices", optional=True)
    _check_degeneracy(degeneracy)
    if _check_dtype(dtype, None).kind == "c":
        raise TypeError(f"symmetric_matrices: expected a real dtype, got {np.dtype(dtype)}")
    return _symmetric_matrices(
        n,
        dtype=dtype,
        degeneracy=degeneracy,
        spectrum=spectrum,
        scale=scale,
        min_gap=min_gap,
        with_spectrum=with_spectrum,
    )


@st.composite
def _hermitian_matrices(
    draw,
    n: int | Sequence[int],
    *,
    dtype=np.complex128,
    degeneracy: str = "any",
    spectrum=None,
    scale: float = 1.0,
    min_gap: float | None = None,
    with_spectrum: bool = False,
):
    dtype = _check_dtype(dtype, True)
    return _spectral(draw, n, dtype, degeneracy, spectrum, scale, min_gap, with_spectrum)


def hermitian_matrices(
    n: int | Sequence[int],
    *,
    dtype=np.complex128,
    degeneracy: str = "any",
    spectrum=None,
    scale: float = 1.0,
    min_gap: float | None = None,
    with_spectrum: bool = False,
) -> st.SearchStrategy:
    """Complex Hermitian matrices with a prescribed kind of spectrum.

    **Arguments:**

    As in `symmetric_matrices`, with a complex `dtype` (default complex128).

    **Returns:**

    A strategy of `(n, n)` complex numpy arrays (or of `SpectralMatrix` records).
    """
    _check_sizes(n, "n", "hermitian_matrices")
    _check_positive(scale, "scale", "hermitian_matrices")
    _check_positive(min_gap, "min_gap", "hermitian_matrices", optional=True)
    _check_degeneracy(degeneracy)
    _check_dtype(dtype, True)
    return _hermitian_matrices(
        n,
        dtype=dtype,
        degeneracy=degeneracy,
        spectrum=spectrum,
        scale=scale,
        min_gap=min_gap,
        with_spectrum=with_spectrum,
    )


@st.composite
def _spd_matrices(
    draw,
    n: int | Sequence[int],
    *,
    dtype=np.float64,
    max_condition: float = 1e3,
    scale: float = 1.0,
    with_spectrum: bool = False,
):
    dtype = _check_dtype(dtype, None)
    if max_condition < 1:
        raise ValueError(f"max_condition must be >= 1, got {max_condition}")
    size = _size(draw, n)
    rng = _rng(draw)
    lam = scale * np.exp(-rng.uniform(0.0, np.log(max_condition), size=size))
    q = _haar(rng, size, dtype.kind == "c")
    record = _assemble(np.sort(lam), q, dtype, "given")
    return record if with_spectrum else record.matrix


def spd_matrices(
    n: int | Sequence[int],
    *,
    dtype=np.float64,
    max_condition: float = 1000.0,
    scale: float = 1.0,
    with_spectrum: bool = False,
) -> st.SearchStrategy:
    """Symmetric (Hermitian for a complex dtype) positive-definite matrices.

    The eigenvalues are log-uniform in $[\\,$`scale`$/\\kappa,\\ $`scale`$\\,]$ with
    $\\kappa$ = `max_condition`, so the condition number is at most `max_condition`.

    **Arguments:**

    - `n`: the size, or a sequence of allowed sizes.
    - `dtype`: real or complex.
    - `max_condition`: the largest condition number.
    - `scale`: the largest possible eigenvalue.
    - `with_spectrum`: return a `SpectralMatrix` record instead of the bare matrix.

    **Returns:**

    A strategy of `(n, n)` numpy arrays (or of `SpectralMatrix` records).
    """
    _check_sizes(n, "n", "spd_matrices")
    _check_positive(scale, "scale", "spd_matrices")
    _check_dtype(dtype, None)
    if not max_condition >= 1:
        raise ValueError(f"spd_matrices: expected `max_condition` >= 1, got {max_condition!r}")
    return _spd_matrices(
        n, dtype=dtype, max_condition=max_condition, scale=scale, with_spectrum=with_spectrum
    )


@st.composite
def _orthogonal_matrices(
    draw, n: int | Sequence[int], *, dtype=np.float64, special: bool = False
) -> np.ndarray:
    dtype = _check_dtype(dtype, None)
    size = _size(draw, n)
    q = _haar(_rng(draw), size, False)
    if special and np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.astype(dtype)


def orthogonal_matrices(
    n: int | Sequence[int], *, dtype=np.float64, special: bool = False
) -> st.SearchStrategy:
    """Haar-random real orthogonal matrices (rotations only with `special=True`).

    **Arguments:**

    - `n`: the size, or a sequence of allowed sizes.
    - `dtype`: a real dtype.
    - `special`: draw from $SO(n)$ (determinant $+1$) instead of $O(n)$.

    **Returns:**

    A strategy of `(n, n)` numpy arrays $Q$ with $Q^\\top Q = 1$.
    """
    _check_sizes(n, "n", "orthogonal_matrices")
    _check_dtype(dtype, None)
    return _orthogonal_matrices(n, dtype=dtype, special=special)


@st.composite
def _unitary_matrices(draw, n: int | Sequence[int], *, dtype=np.complex128) -> np.ndarray:
    dtype = _check_dtype(dtype, True)
    size = _size(draw, n)
    return _haar(_rng(draw), size, True).astype(dtype)


def unitary_matrices(n: int | Sequence[int], *, dtype=np.complex128) -> st.SearchStrategy:
    """Haar-random unitary matrices.

    **Arguments:**

    - `n`: the size, or a sequence of allowed sizes.
    - `dtype`: a complex dtype.

    **Returns:**

    A strategy of `(n, n)` numpy arrays $U$ with $U^\\dagger U = 1$.
    """
    _check_sizes(n, "n", "unitary_matrices")
    _check_dtype(dtype, True)
    return _unitary_matrices(n, dtype=dtype)


@st.composite
def _spin_configurations(draw, shape: int | tuple[int, ...], *, dtype=np.float64) -> np.ndarray:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if size <= 64:
        bits = draw(st.lists(st.booleans(), min_size=size, max_size=size))
        spins = np.where(np.asarray(bits, dtype=bool), -1, 1)
    else:
        spins = _rng(draw).choice(np.array([-1, 1]), size=size)
    return spins.reshape(shape).astype(dtype)


def spin_configurations(shape: int | tuple[int, ...], *, dtype=np.float64) -> st.SearchStrategy:
    """Ising spin configurations: arrays of $\\pm 1$.

    **Arguments:**

    - `shape`: the number of spins, or the shape of the lattice (e.g. `(4, 4)`).
    - `dtype`: the dtype of the array (floating point or integer).

    **Returns:**

    A strategy of arrays of the given shape with entries $+1$ or $-1$.
    """
    _check_shape(shape, "spin_configurations")
    return _spin_configurations(shape, dtype=dtype)


def _pairwise_min_distance(x: np.ndarray, box, periodic: bool) -> float:
    if len(x) < 2:
        return np.inf
    d = x[:, None, :] - x[None, :, :]
    if periodic:
        d = d - box * np.round(d / box)
    r = np.sqrt(np.sum(d**2, axis=-1))
    r[np.diag_indices(len(x))] = np.inf
    return float(r.min())


@st.composite
def _particle_positions(
    draw,
    n: int,
    dim: int = 3,
    *,
    min_separation: float = 0.5,
    box: float | None = None,
    periodic: bool = False,
    dtype=np.float64,
) -> np.ndarray:
    dtype = _check_dtype(dtype, None)
    if box is None:
        # (`int ** float` is typed `Any`, which would leave `box` as `float | None`)
        box = cast(float, 2.5 * min_separation * max(n, 1) ** (1.0 / dim))
    rng = _rng(draw)
    x = np.zeros((0, dim))
    for _ in range(n):
        for _attempt in range(1000):
            trial = rng.uniform(0.0, box, size=(1, dim))
            candidate = np.concatenate([x, trial])
            if _pairwise_min_distance(candidate, box, periodic) >= min_separation:
                x = candidate
                break
        else:
            assume(False)
    return x.astype(dtype)


def particle_positions(
    n: int,
    dim: int = 3,
    *,
    min_separation: float = 0.5,
    box: float | None = None,
    periodic: bool = False,
    dtype=np.float64,
) -> st.SearchStrategy:
    """Positions of `n` particles in a cube, no two closer than `min_separation`.

    Random sequential addition: particles are placed uniformly one by one, and a placement that
    comes too close to an earlier particle is redrawn.

    **Arguments:**

    - `n`: the number of particles.
    - `dim`: the dimension of space.
    - `min_separation`: the smallest allowed distance between two particles.
    - `box`: the side of the cube $[0, \\text{box})^{\\text{dim}}$ (default: large enough for a
      packing fraction of about 5%).
    - `periodic`: measure distances with the minimum image convention.
    - `dtype`: a real dtype.

    **Returns:**

    A strategy of `(n, dim)` arrays.
    """
    who = "particle_positions"
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"{who}: expected `n` to be an integer >= 0, got {n!r}")
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
        raise ValueError(f"{who}: expected `dim` to be an integer >= 1, got {dim!r}")
    _check_positive(min_separation, "min_separation", who)
    _check_positive(box, "box", who, optional=True)
    _check_dtype(dtype, None)
    return _particle_positions(
        n, dim, min_separation=min_separation, box=box, periodic=periodic, dtype=dtype
    )


@st.composite
def _arrays(draw, shape: int | tuple[int, ...], *, dtype=np.float64, scale: float = 1.0):
    dtype = _check_dtype(dtype, None)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    rng = _rng(draw)
    a = rng.standard_normal(shape) * scale
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape) * scale
    return np.asarray(a).astype(dtype)


def arrays(
    shape: int | tuple[int, ...], *, dtype=np.float64, scale: float = 1.0
) -> st.SearchStrategy:
    """Arrays of a fixed shape with independent normal entries (complex for a complex dtype).

    **Arguments:**

    - `shape`: the shape (an int for a vector).
    - `dtype`: a floating-point or complex dtype.
    - `scale`: the standard deviation of the entries (of the real and imaginary parts).

    **Returns:**

    A strategy of numpy arrays.
    """
    _check_shape(shape, "arrays")
    _check_dtype(dtype, None)
    _check_positive(scale, "scale", "arrays")
    return _arrays(shape, dtype=dtype, scale=scale)


_KEYS = ("a", "b", "c", "d", "e", "f")


@st.composite
def _pytrees_of_arrays(
    draw,
    *,
    shapes: Sequence[tuple[int, ...]] = ((), (3,), (2, 2)),
    dtypes: Sequence = (np.float64,),
    min_leaves: int = 1,
    max_leaves: int = 4,
    max_depth: int = 2,
    scale: float = 1.0,
):
    if not 1 <= min_leaves <= max_leaves:
        raise ValueError("need 1 <= min_leaves <= max_leaves")
    rng = _rng(draw)
    count = draw(st.integers(min_leaves, max_leaves))

    def leaf():
        shape = tuple(draw(st.sampled_from(tuple(shapes))))
        dtype = np.dtype(draw(st.sampled_from(tuple(dtypes))))
        a = rng.standard_normal(shape) * scale
        if dtype.kind == "c":
            a = a + 1j * rng.standard_normal(shape) * scale
        return np.asarray(a).astype(dtype)

    def build(k: int, depth: int):
        if k == 1 and (depth == 0 or draw(st.booleans())):
            return leaf()
        if depth == 0:
            # a flat container of k leaves
            return [leaf() for _ in range(k)]
        # split k leaves into 1..min(k, 3) children
        parts = draw(st.integers(1, min(k, 3)))
        cuts = (
            sorted(
                draw(
                    st.lists(
                        st.integers(1, k - 1), min_size=parts - 1, max_size=parts - 1, unique=True
                    )
                )
            )
            if parts > 1
            else []
        )
        sizes = np.diff([0, *cuts, k]).tolist()
        children = [build(int(s), depth - 1) for s in sizes]
        kind = draw(st.sampled_from(("dict", "list", "tuple")))
        if kind == "dict":
            return {
                _KEYS[i % len(_KEYS)] + str(i // len(_KEYS) or ""): c
                for i, c in enumerate(children)
            }
        return list(children) if kind == "list" else tuple(children)

    return build(count, max_depth)


def pytrees_of_arrays(
    *,
    shapes: Sequence[tuple[int, ...]] = ((), (3,), (2, 2)),
    dtypes: Sequence = (np.float64,),
    min_leaves: int = 1,
    max_leaves: int = 4,
    max_depth: int = 2,
    scale: float = 1.0,
) -> st.SearchStrategy:
    """Pytrees (nested dicts, lists and tuples) of random arrays.

    **Arguments:**

    - `shapes`: the shapes a leaf may have (few shapes: few compilations).
    - `dtypes`: the dtypes a leaf may have (e.g. `(np.float64, np.complex128)`).
    - `min_leaves`, `max_leaves`: bounds on the number of leaves.
    - `max_depth`: the deepest nesting of containers.
    - `scale`: the standard deviation of the entries.

    **Returns:**

    A strategy of pytrees whose leaves are numpy arrays.
    """
    return _pytrees_of_arrays(
        shapes=shapes,
        dtypes=dtypes,
        min_leaves=min_leaves,
        max_leaves=max_leaves,
        max_depth=max_depth,
        scale=scale,
    )
