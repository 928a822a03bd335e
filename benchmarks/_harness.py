"""What every benchmark shares: single-threaded settings and interleaved ratio timing.

Import this module before jax: `single_threaded()` only has an effect on a process that has not
initialized XLA yet.
"""

from __future__ import annotations

import os
import time


def single_threaded() -> None:
    """One BLAS thread and one XLA CPU thread, for stable timings on a shared machine."""
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if flags not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (flags + " " + os.environ.get("XLA_FLAGS", "")).strip()


def timed(f, *args) -> float:
    """Wall time of one call of `f(*args)`, waiting for its result."""
    import jax

    t0 = time.perf_counter()
    jax.block_until_ready(f(*args))
    return time.perf_counter() - t0


def ratio_row(name: str, n: int, reps: int, fns: dict, *args) -> dict:
    """Median forward and forward+backward times of `fns["diffsci"]` against `fns["jax"]`.

    `fns` maps "diffsci" and "jax" to `(forward, forward_and_backward)` pairs of jitted functions
    of `*args`. Each is compiled and warmed up first; then they are timed alternately, `reps`
    times, so that a change of machine load hits both sides alike.
    """
    import numpy as np

    for fwd, bwd in fns.values():
        timed(fwd, *args)
        timed(bwd, *args)
    times = {(k, m): [] for k in fns for m in ("fwd", "bwd")}
    for _ in range(reps):
        for k, (fwd, bwd) in fns.items():
            times[k, "fwd"].append(timed(fwd, *args))
            times[k, "bwd"].append(timed(bwd, *args))
    med = {key: float(np.median(v)) for key, v in times.items()}
    return {
        "name": name,
        "N": n,
        "repeats": reps,
        "fwd_diffsci": med["diffsci", "fwd"],
        "fwd_jax": med["jax", "fwd"],
        "fwd_ratio": med["diffsci", "fwd"] / med["jax", "fwd"],
        "fwd_bwd_diffsci": med["diffsci", "bwd"],
        "fwd_bwd_jax": med["jax", "bwd"],
        "ratio": med["diffsci", "bwd"] / med["jax", "bwd"],
    }
