"""Benchmark of diffsci.linalg.svd against jnp.linalg.svd, measured in the same run.

For N x N float64 matrices: the median time of the forward pass (thin SVD) and of forward +
backward (the gradient of a loss that uses all of u, s and vh), for both, and the ratios
diffsci / JAX. The two are timed alternately, so that a change of machine load hits both.

Run: python benchmarks/linalg_svd.py [--sizes 256 512 1024 2048] [--repeats 5]
Single-threaded (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1, XLA's CPU threads at 1) when run as a
script; `benchmarks/linalg.py` imports `run` from here.
"""

from __future__ import annotations

import argparse
import sys

if __name__ == "__main__":
    from _harness import single_threaded

    single_threaded()


def _repeats_for(n: int, repeats: int | None) -> int:
    if repeats is not None:
        return repeats
    return 7 if n <= 256 else 5 if n <= 512 else 3 if n <= 1024 else 2


def run(sizes=(256, 512, 1024, 2048), repeats: int | None = None, seed: int = 0) -> list[dict]:
    """Time diffsci.linalg.svd and jnp.linalg.svd (thin, float64) at each size.

    **Arguments:**

    - `sizes`: the matrix sizes N (square N x N matrices).
    - `repeats`: timed runs per measurement after one warm-up (compilation) run; default 7 at
      N <= 256 down to 2 at N = 2048.
    - `seed`: seed of the random matrices.

    **Returns:**

    A list of dicts, one per N: `name` ("svd"), `N`, `repeats`, `fwd_diffsci`, `fwd_jax`,
    `fwd_ratio`, `fwd_bwd_diffsci`, `fwd_bwd_jax`, `ratio` (= fwd_bwd_diffsci / fwd_bwd_jax),
    times in seconds (medians).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np
    from _harness import ratio_row

    jax.config.update("jax_enable_x64", True)
    from diffsci.linalg import svd

    def jax_svd(a):
        return jnp.linalg.svd(a, full_matrices=False)

    def make_loss(fn, cu, cv):
        def loss(a):
            u, s, vh = fn(a)
            return jnp.sum(s**2) + jnp.sum(cu * u**2) + jnp.sum(cv * vh**2)

        return loss

    rows = []
    rng = np.random.default_rng(seed)
    for n in sizes:
        reps = _repeats_for(n, repeats)
        a = jnp.asarray(rng.standard_normal((n, n)))
        cu = jnp.asarray(rng.standard_normal((n, n)))
        cv = jnp.asarray(rng.standard_normal((n, n)))
        fns = {
            "diffsci": (jax.jit(svd), jax.jit(jax.grad(make_loss(svd, cu, cv)))),
            "jax": (jax.jit(jax_svd), jax.jit(jax.grad(make_loss(jax_svd, cu, cv)))),
        }
        rows.append(ratio_row("svd", n, reps, fns, a))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [
        "| op | N | fwd diffsci (s) | fwd jax (s) | fwd ratio | fwd+bwd diffsci (s) | "
        "fwd+bwd jax (s) | fwd+bwd ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['N']} | {r['fwd_diffsci']:.4f} | {r['fwd_jax']:.4f} | "
            f"{r['fwd_ratio']:.3f} | {r['fwd_bwd_diffsci']:.4f} | {r['fwd_bwd_jax']:.4f} | "
            f"{r['ratio']:.3f} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description="diffsci.linalg.svd vs jnp.linalg.svd")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    print(format_table(run(args.sizes, args.repeats)))


if __name__ == "__main__":
    main()
