"""Benchmark of diffsci.tn: TRG and HOTRG for the 2D Ising model at T_c.

For chi = 16, 24, 32 and each method: the time of one ln Z evaluation (a sweep of 30 RG steps,
2^30 sites) and of one gradient d lnZ/d beta (the energy), medians of a few runs after
compilation; the accuracy of ln Z/N and of u = -d lnZ/d beta against Onsager's exact values at
T_c (u(T_c) = -sqrt 2); and, at chi = 16, the gradient against a central finite difference of the
same network. The stock alternative is the same TRG with `jnp.linalg.svd`, whose gradient at T_c
is NaN (degenerate singular values); it is run once alongside, at chi = 16.

Run: python benchmarks/tn.py [--chis 16 24 32] [--repeats 3] [--out benchmarks/tn.json]
Single-threaded: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU thread pools set to 1.
"""

from __future__ import annotations

from _harness import single_threaded  # noqa: E402

single_threaded()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffsci.physics as physics  # noqa: E402
import diffsci.tn as tn  # noqa: E402
import diffsci.tn._trg as trg_module  # noqa: E402

STEPS = 30


def _timed(compiled, *args, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - start)
    return float(value), statistics.median(times)


def measure(method, chi, repeats, fd_check):
    beta = jnp.asarray(physics.ISING_BETA_C)
    exact = float(physics.onsager_log_z(beta))

    def log_z(b):
        return tn.ising_log_z(b, chi=chi, method=method, steps=STEPS)

    forward = jax.jit(log_z).lower(beta).compile()
    gradient = jax.jit(jax.grad(log_z)).lower(beta).compile()
    value, t_forward = _timed(forward, beta, repeats=repeats)
    slope, t_gradient = _timed(gradient, beta, repeats=repeats)
    row = {
        "method": method,
        "chi": chi,
        "steps": STEPS,
        "sweep_s": t_forward,
        "gradient_s": t_gradient,
        "lnZ_error": abs(value - exact),
        "u_error": abs(-slope + np.sqrt(2.0)),
    }
    if fd_check:
        # At T_c ln Z/N is sharp: a central difference needs a small step (1e-4 is off by 7e-5
        # for HOTRG chi=16, 1e-6 by 1e-8; round-off at 1e-6 is ~1e-10).
        d = 1e-6
        fd = (float(forward(beta + d)) - float(forward(beta - d))) / (2 * d)
        row["grad_vs_fd_rel"] = abs(slope - fd) / abs(fd)
    return row


def stock_trg_gradient(chi):
    """d lnZ/d beta at T_c through the same TRG with jnp.linalg.svd (JAX's own rule)."""

    def stock_svd(a, full_matrices=False):
        return jnp.linalg.svd(a, full_matrices=False)

    def stock_truncated(a, k):
        u, s, vh = jnp.linalg.svd(a, full_matrices=False)
        return u[:, :k], s[:k], vh[:k]

    saved = trg_module.svd, trg_module.truncated_svd
    trg_module.svd, trg_module.truncated_svd = stock_svd, stock_truncated
    try:
        grad = jax.jit(jax.grad(lambda b: tn.ising_log_z(b, chi=chi, method="trg")))
        return float(grad(physics.ISING_BETA_C))
    finally:
        trg_module.svd, trg_module.truncated_svd = saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chis", type=int, nargs="+", default=[16, 24, 32])
    parser.add_argument("--methods", nargs="+", default=["trg", "hotrg"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/tn.json")
    args = parser.parse_args()
    rows = []
    header = (
        f"{'method':>6} {'chi':>4} {'sweep s':>9} {'grad s':>9} {'lnZ err':>9} {'u err':>9} "
        f"{'grad/FD-1':>9}"
    )
    print(header, flush=True)
    for chi in args.chis:
        for method in args.methods:
            row = measure(method, chi, args.repeats, fd_check=chi == 16)
            rows.append(row)
            fd = row.get("grad_vs_fd_rel")
            print(
                f"{method:>6} {chi:>4} {row['sweep_s']:9.3f} {row['gradient_s']:9.3f} "
                f"{row['lnZ_error']:9.1e} {row['u_error']:9.1e} "
                f"{'' if fd is None else f'{fd:9.1e}'}",
                flush=True,
            )
            with open(args.out, "w") as f:
                json.dump({"rows": rows}, f, indent=1)
    stock = stock_trg_gradient(16) if "trg" in args.methods and 16 in args.chis else None
    print(f"stock jnp.linalg.svd TRG chi=16: d lnZ/d beta at T_c = {stock}")
    with open(args.out, "w") as f:
        json.dump({"rows": rows, "stock_trg_gradient": stock}, f, indent=1)


if __name__ == "__main__":
    main()
