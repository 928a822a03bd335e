"""Benchmark of the adjoint strategies of diffsci.ode: memory, time and exactness of gradients.

Problem: an MLP vector field f(y) = W2 tanh(W1 y + b1) + b2 (dimension 64, hidden width 64),
applied to a batch of 256 states (y of shape (256, 64)), integrated over t in [0, 1] with n
fixed steps of reversible Heun (n = 10^2, 10^3, 10^4). Loss: mean of y(1)^2; gradient with respect
to all MLP parameters and y0, in float64.

Strategies, side by side in one run:
- `ReversibleAdjoint` (diffsci, O(1) memory),
- `AnchoredReversibleAdjoint(every=100)` (diffsci, O(n / 100) memory),
- `DirectAdjoint` (store every step: plain autodiff of the scan; the exact discrete gradient and
  the reference for the error column),
- diffrax `RecursiveCheckpointAdjoint` (diffrax's default, `diffrax.ReversibleHeun`, same steps),
- diffrax `BacksolveAdjoint` (continuous adjoint, `diffrax.ReversibleHeun`, same steps).

Reported: XLA's compiled temp memory of the jitted gradient
(`jax.jit(grad).lower(...).compile().memory_analysis().temp_size_in_bytes`), the median wall time
of the gradient over `--repeats` runs after compilation (the strategies run round-robin, so
that load changes on a shared machine hit all of them alike), and the largest relative error of the
gradient against the store-every-step one (max |g - g_ref| / max |g_ref| over all leaves).

Run: python benchmarks/ode.py [--steps 100 1000 10000] [--batch 256] [--repeats 3]
Single-threaded: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU thread pools set to 1.
"""

from __future__ import annotations

import argparse

from _harness import single_threaded  # noqa: E402

single_threaded()

import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from diffsci import ode  # noqa: E402

DIM = 64
HIDDEN = 64


def init_params(key):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return {
        "w1": jax.random.normal(k1, (DIM, HIDDEN)) / np.sqrt(DIM),
        "b1": 0.1 * jax.random.normal(k2, (HIDDEN,)),
        "w2": jax.random.normal(k3, (HIDDEN, DIM)) / np.sqrt(HIDDEN),
        "b2": 0.1 * jax.random.normal(k4, (DIM,)),
    }


def field(t, y, params):
    return jnp.tanh(y @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


STRATEGIES = {
    "ReversibleAdjoint": ode.ReversibleAdjoint(),
    "AnchoredReversibleAdjoint(every=100)": ode.AnchoredReversibleAdjoint(every=100),
    "DirectAdjoint (store every step)": ode.DirectAdjoint(),
    "diffrax RecursiveCheckpointAdjoint": ode.RecursiveCheckpointAdjoint(),
    "diffrax BacksolveAdjoint": ode.BacksolveAdjoint(),
}


def make_grad(adjoint, n):
    ts = np.array([0.0, 1.0])

    def loss(params, y0):
        ys = ode.odeint(
            field, y0, ts, params, solver=ode.ReversibleHeun(), adjoint=adjoint, steps_per_save=n
        )
        return jnp.mean(ys[-1] ** 2)

    return jax.grad(loss, argnums=(0, 1))


def rel_err(a, b):
    num = max(
        float(jnp.max(jnp.abs(x - y)))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )
    den = max(float(jnp.max(jnp.abs(y))) for y in jax.tree.leaves(b))
    return num / den


def run(steps, batch, repeats):
    key1, key2 = jax.random.split(jax.random.PRNGKey(0))
    params = init_params(key1)
    y0 = jax.random.normal(key2, (batch, DIM))
    rows = []
    for n in steps:
        grads, compiled, temps, times = {}, {}, {}, {}
        for name, adjoint in STRATEGIES.items():
            compiled[name] = jax.jit(make_grad(adjoint, n)).lower(params, y0).compile()
            temps[name] = compiled[name].memory_analysis().temp_size_in_bytes
            grads[name] = jax.block_until_ready(compiled[name](params, y0))  # warm-up
            times[name] = []
        # round-robin over the strategies, so that a change of load on a shared machine affects
        # all of them alike
        for _ in range(repeats):
            for name in STRATEGIES:
                start = time.perf_counter()
                jax.block_until_ready(compiled[name](params, y0))
                times[name].append(time.perf_counter() - start)
        for name in STRATEGIES:
            rows.append(
                {
                    "n": n,
                    "strategy": name,
                    "temp_mib": temps[name] / 2**20,
                    "time_s": float(np.median(times[name])),
                }
            )
            print(
                f"n={n:6d} {name:40s} temp {temps[name] / 2**20:10.3f} MiB  "
                f"time {np.median(times[name]):8.3f} s",
                flush=True,
            )
        ref = grads["DirectAdjoint (store every step)"]
        for row in rows:
            if row["n"] == n:
                row["rel_err"] = rel_err(grads[row["strategy"]], ref)
    return rows


def table(rows, batch, repeats):
    lines = [
        f"MLP vector field (dim {DIM}, hidden {HIDDEN}, tanh), batch {batch}, reversible Heun "
        f"on [0, 1], float64, one CPU thread, median of {repeats} runs after compilation.",
        "",
        "| n steps | strategy | XLA temp memory (MiB) | gradient time (s) | "
        "rel. error vs store-every-step |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['strategy']} | {r['temp_mib']:.3f} | {r['time_s']:.3f} | "
            f"{r['rel_err']:.1e} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = run(args.steps, args.batch, args.repeats)
    print()
    print(table(rows, args.batch, args.repeats))
    rev = {r["n"]: r for r in rows if r["strategy"] == "ReversibleAdjoint"}
    direct = {r["n"]: r for r in rows if r["strategy"].startswith("DirectAdjoint")}
    lo, hi = min(rev), max(rev)
    print()
    print(
        f"ReversibleAdjoint memory ratio n={hi} / n={lo}: "
        f"{rev[hi]['temp_mib'] / rev[lo]['temp_mib']:.3f} (target <= 1.1)"
    )
    for n in sorted(rev):
        print(
            f"n={n}: ReversibleAdjoint time / store-every-step time = "
            f"{rev[n]['time_s'] / direct[n]['time_s']:.2f} (target <= 1)"
        )


if __name__ == "__main__":
    main()
