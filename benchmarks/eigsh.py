"""Benchmark of diffsci.linalg.eigsh on spin chains of 2^L states (L = 16, 18, 20).

For the periodic transverse-field Ising chain (J = h = 1) and the periodic Heisenberg chain
(Pauli convention, J = Delta = 1): the time of the ground-state energy E0 and of its gradient with
respect to all couplings and fields (median of a few runs after compilation), their ratio, and the
peak memory (the process's maximum resident set, each L in a fresh subprocess), also expressed as
bytes per basis state and as the number of float64 vectors of length 2^L it amounts to. For the
TFIM at the largest L: E0 against -2/sin(pi/(2N)), and d2E0/dg2 and the fidelity susceptibility
from eigsh + AD against the free-fermion closed form.

There is no stock JAX alternative to compare with: a dense matrix of 2^16 states takes 34 GB, and
`jax.experimental.sparse.linalg.lobpcg_standard` has no reverse mode.

Run: python benchmarks/eigsh.py [--sizes 16 18 20] [--repeats 3]
Single-threaded: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU thread pools set to 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from _harness import single_threaded  # noqa: E402

single_threaded()


def _maxrss_bytes():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def worker(model_name: str, L: int, repeats: int, closed_form: bool) -> dict:
    import time

    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from diffsci.linalg import eigsh
    from diffsci.physics import TransverseFieldIsing, XXZChain, tfim_exact

    rss_import = _maxrss_bytes()
    if model_name == "tfim":
        model = TransverseFieldIsing(L, periodic=True)
        params = model.params(1.0, 1.0)
        v0 = jnp.ones((2**L,)) / 2 ** (L / 2)
    else:
        model = XXZChain(L, periodic=True)
        params = model.params(1.0, 1.0, 0.0)
        v0 = jax.random.normal(jax.random.key(1), (2**L,))

    def run(params):
        return eigsh(model.matvec, params, v0)

    def energy(params):
        return run(params).eigenvalues[0]

    fwd = jax.jit(run)
    grad = jax.jit(jax.grad(energy))

    def timed(f):
        t0 = time.perf_counter()
        out = jax.block_until_ready(f(params))
        return time.perf_counter() - t0, out

    t_first_fwd, res = timed(fwd)
    t_fwd = [timed(fwd)[0] for _ in range(repeats)]
    rss_fwd = _maxrss_bytes()
    t_first_grad, g = timed(grad)
    t_grad = [timed(grad)[0] for _ in range(repeats)]
    rss_grad = _maxrss_bytes()
    out = {
        "model": model_name,
        "L": L,
        "dim": 2**L,
        "E0": float(res.eigenvalues[0]),
        "iterations": int(res.iterations),
        "residual": float(res.residual_norms[0]),
        "converged": bool(res.converged),
        "t_fwd_first": t_first_fwd,
        "t_fwd": float(np.median(t_fwd)),
        "t_grad_first": t_first_grad,
        "t_grad": float(np.median(t_grad)),
        "grad_norm": float(sum(jnp.sum(x**2) for x in jax.tree.leaves(g)) ** 0.5),
        "rss_import": rss_import,
        "rss_fwd": rss_fwd,
        "rss_grad": rss_grad,
    }
    if closed_form:
        tf = TransverseFieldIsing(L, periodic=True)

        def ground(gg):
            r = eigsh(tf.matvec, tf.params(1.0, gg), v0)
            return r.eigenvalues[0], r.eigenvectors[:, 0]

        @jax.jit
        def quantities(gg):
            (e0, d1), (_, d2) = jax.jvp(jax.value_and_grad(lambda x: ground(x)[0]), (gg,), (1.0,))
            psi, dpsi = jax.jvp(lambda x: ground(x)[1], (gg,), (1.0,))
            chi = jnp.vdot(dpsi, dpsi).real - jnp.abs(jnp.vdot(psi, dpsi)) ** 2
            return jnp.stack([e0, d1, d2, chi])

        t0 = time.perf_counter()
        q = np.asarray(quantities(1.0))
        ex = tfim_exact(L, 1.0)
        out.update(
            t_closed_form=time.perf_counter() - t0,
            E0_ad=float(q[0]),
            E0_exact=float(ex.energy),
            dE0_ad=float(q[1]),
            dE0_exact=float(ex.denergy),
            d2E0_ad=float(q[2]),
            d2E0_exact=float(ex.d2energy),
            chi_ad=float(q[3]),
            chi_exact=float(ex.fidelity_susceptibility),
        )
    out["rss_peak"] = _maxrss_bytes()
    return out


def main():
    parser = argparse.ArgumentParser(description="eigsh benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 18, 20])
    parser.add_argument("--models", nargs="+", default=["tfim", "heisenberg"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "L"))
    parser.add_argument("--closed-form", action="store_true")
    args = parser.parse_args()
    if args.worker:
        model, L = args.worker
        print(json.dumps(worker(model, int(L), args.repeats, args.closed_form)))
        return
    rows = []
    for model in args.models:
        for L in args.sizes:
            cmd = [sys.executable, __file__, "--worker", model, str(L)]
            cmd += ["--repeats", str(args.repeats)]
            if model == "tfim" and L == max(args.sizes):
                cmd.append("--closed-form")
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print(
        "| model | L | dim | E0 | Lanczos steps | forward (s) | gradient (s) | grad/fwd | "
        "peak RSS fwd / fwd+grad (MB) | bytes/state | (peak - RSS after import) / (8 dim) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        per_state = r["rss_grad"] / r["dim"]
        print(
            f"| {r['model']} | {r['L']} | {r['dim']} | {r['E0']:.8f} | {r['iterations']} | "
            f"{r['t_fwd']:.2f} | {r['t_grad']:.2f} | {r['t_grad'] / r['t_fwd']:.2f} | "
            f"{r['rss_fwd'] / 2**20:.0f} / {r['rss_grad'] / 2**20:.0f} | {per_state:.0f} | "
            f"{(r['rss_grad'] - r['rss_import']) / r['dim'] / 8:.0f} |"
        )
    for r in rows:
        if "chi_ad" in r:
            print()
            print(f"TFIM periodic, N = {r['L']}, g = 1 (eigsh + AD vs free-fermion closed form):")
            for name in ("E0", "dE0", "d2E0", "chi"):
                ad, ex = r[f"{name}_ad"], r[f"{name}_exact"]
                print(f"- {name}: {ad:.10f} vs {ex:.10f} (relative error {abs(ad / ex - 1):.1e})")
            print(
                f"- time of E0, dE0, d2E0 and chi together (compile included): "
                f"{r['t_closed_form']:.1f} s; peak RSS then {r['rss_peak'] / 2**20:.0f} MB"
            )


if __name__ == "__main__":
    main()
