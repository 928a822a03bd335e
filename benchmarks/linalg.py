"""Benchmark of diffsci.linalg.eigh against jnp.linalg.eigh (and svd, from linalg_svd.py), in
the same run.

For N x N float64 symmetric matrices: the median time of the forward pass and of forward +
backward (the gradient of a loss that uses both the eigenvalues and the eigenvectors), for
diffsci and for JAX, and the ratios diffsci / JAX. The two are timed alternately, so that a change
of machine load hits both. Target: the forward + backward ratio within 1.1 at every N.

A second row per N ("eigh x2") times a loss that calls eigh twice on the same matrix,
f(eigh(H)) + g(eigh(H)): XLA computes one jnp.linalg.eigh for both calls (common-subexpression
elimination), and diffsci must do the same (its input checks must not make the calls differ).
The forward column is the loss, the forward + backward column `jax.value_and_grad` of it.

Run: python benchmarks/linalg.py [--sizes 256 512 1024 2048] [--repeats 5] [--no-svd] [--no-twice]
     python benchmarks/linalg.py --sizes 256 512 1024 --no-svd --only-twice
Single-threaded: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU threads at 1 (set here,
before jax is imported).
"""

from __future__ import annotations

from _harness import ratio_row, single_threaded  # noqa: E402

single_threaded()

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from diffsci.linalg import eigh  # noqa: E402


def _repeats_for(n: int, repeats: int | None) -> int:
    if repeats is not None:
        return repeats
    return 9 if n <= 256 else 7 if n <= 512 else 5 if n <= 1024 else 3


def run(sizes=(256, 512, 1024, 2048), repeats: int | None = None, seed: int = 0) -> list[dict]:
    """Time diffsci.linalg.eigh and jnp.linalg.eigh (float64) at each size.

    **Arguments:**

    - `sizes`: the matrix sizes N.
    - `repeats`: timed runs per measurement after one warm-up (compilation) run; default 9 at
      N <= 256 down to 3 at N = 2048.
    - `seed`: seed of the random matrices.

    **Returns:** a list of dicts, one per N, with the keys of `benchmarks/linalg_svd.py`:
    `name` ("eigh"), `N`, `repeats`, `fwd_diffsci`, `fwd_jax`, `fwd_ratio`, `fwd_bwd_diffsci`,
    `fwd_bwd_jax`, `ratio` (= fwd_bwd_diffsci / fwd_bwd_jax); times in seconds (medians).
    """

    def make_loss(fn, c):
        def loss(a):
            w, v = fn(a)
            return jnp.sum(w**2) + jnp.sum(c * v**2)

        return loss

    def timed(fn, c):
        return jax.jit(fn), jax.jit(jax.grad(make_loss(fn, c)))

    return _eigh_rows("eigh", sizes, repeats, seed, timed)


def _jax_eigh(a):
    return jnp.linalg.eigh(a)


def _eigh_rows(name, sizes, repeats, seed, timed) -> list[dict]:
    """One `ratio_row` per size: `timed(fn, c) -> (forward, forward_backward)` jitted functions
    of a random symmetric matrix, for fn = diffsci's eigh and JAX's."""
    rows = []
    rng = np.random.default_rng(seed)
    for n in sizes:
        reps = _repeats_for(n, repeats)
        x = rng.standard_normal((n, n))
        a = jnp.asarray(x + x.T)
        c = jnp.asarray(rng.standard_normal((n, n)))
        fns = {label: timed(fn, c) for label, fn in (("diffsci", eigh), ("jax", _jax_eigh))}
        rows.append(ratio_row(name, n, reps, fns, a))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def run_twice(sizes=(256, 512, 1024), repeats: int | None = None, seed: int = 0) -> list[dict]:
    """Time `jax.value_and_grad` of a loss that calls eigh twice on the same matrix,
    $L(H) = f(\\operatorname{eigh}(H)) + g(\\operatorname{eigh}(H))$, diffsci against JAX.

    Same arguments and keys as [`run`][] (`name` is "eigh x2"; the forward columns time the loss
    itself).
    """

    def make_loss(fn, c):
        def loss(a):
            w1, v1 = fn(a)
            w2, v2 = fn(a)
            return jnp.sum(w1**2) + jnp.sum(c * v2**2)

        return loss

    def timed(fn, c):
        return jax.jit(make_loss(fn, c)), jax.jit(jax.value_and_grad(make_loss(fn, c)))

    return _eigh_rows("eigh x2", sizes, repeats, seed, timed)


def format_table(rows: list[dict]) -> str:
    lines = [
        "| op | N | repeats | fwd diffsci (s) | fwd jax (s) | fwd ratio | fwd+bwd diffsci (s) | "
        "fwd+bwd jax (s) | fwd+bwd ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['N']} | {r['repeats']} | {r['fwd_diffsci']:.4f} | "
            f"{r['fwd_jax']:.4f} | {r['fwd_ratio']:.3f} | {r['fwd_bwd_diffsci']:.4f} | "
            f"{r['fwd_bwd_jax']:.4f} | {r['ratio']:.3f} |"
        )
    return "\n".join(lines)


def _svd_rows(sizes, repeats) -> list[dict]:
    """Rows of benchmarks/linalg_svd.py, if that file is present."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import linalg_svd
    except ImportError:
        print("(benchmarks/linalg_svd.py not found: svd skipped)", file=sys.stderr)
        return []
    return linalg_svd.run(sizes, repeats)


def main():
    parser = argparse.ArgumentParser(description="diffsci.linalg eigh/svd vs jnp.linalg")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--no-svd", action="store_true", help="skip svd")
    parser.add_argument("--no-twice", action="store_true", help="skip the two-call eigh loss")
    parser.add_argument(
        "--only-twice", action="store_true", help="time the two-call eigh loss only"
    )
    args = parser.parse_args()
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, float64, single-threaded")
    rows = [] if args.only_twice else run(args.sizes, args.repeats)
    if not (args.no_svd or args.only_twice):
        rows += _svd_rows(args.sizes, args.repeats)
    if not args.no_twice:
        rows += run_twice(args.sizes, args.repeats)
    print(format_table(rows))
    worst = max(r["ratio"] for r in rows)
    print(f"worst fwd+bwd ratio: {worst:.3f} (target <= 1.1)")


if __name__ == "__main__":
    main()
