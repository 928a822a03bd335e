"""``python -m diffsci ising``: thermodynamics of the 2D Ising model as derivatives through an RG.

ln Z per site comes from HOTRG (or TRG) on a torus of 2^steps sites; the energy per site is
-d lnZ/dβ (``jax.grad``) and the specific heat β² d² lnZ/dβ² (``jax.hessian``), both through
the truncated SVD/eigendecompositions of every RG step. Each temperature is printed as it is done
and a figure compares the three curves with Onsager's exact solution.

Every finished temperature is checkpointed (`<out>/checkpoints/ising-<hash of the settings>`, a
`.npz` with a JSON sidecar, no pickle): stop a sweep and run the same command again to resume it,
with the finished temperatures read back instead of recomputed.

The sweep is `diffsci.physics.ising_rg_thermodynamics`, the exact curves
`diffsci.physics.onsager_curves`, the figure `diffsci.plot.ising_curves`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from ._common import add_output_argument, enable_x64, output_dir

NAME = "ising"
HELP = (
    "ln Z, energy and specific heat of the 2D Ising model from first and second derivatives "
    "through HOTRG/TRG, against Onsager's exact solution (--sample: Monte Carlo instead)"
)

# What `python -m diffsci demo` runs: a shorter sweep at a smaller bond dimension.
DEMO_ARGS = ("--chi", "8", "--temps", "1.8:3.2:8")


def _temperatures(text: str):
    """`start:stop:count` (inclusive, evenly spaced) or a comma-separated list."""
    import numpy as np

    try:
        if ":" in text:
            start, stop, count = text.split(":")
            temps = np.linspace(float(start), float(stop), int(count))
        else:
            temps = np.array([float(t) for t in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START:STOP:COUNT (e.g. 1.5:3.5:17) or a list T1,T2,..., got {text!r}"
        ) from None
    if temps.size == 0 or np.any(temps <= 0):
        raise argparse.ArgumentTypeError(f"temperatures must be positive, got {text!r}")
    return temps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chi", type=int, default=10, help="bond dimension (default: 10)")
    parser.add_argument(
        "--method", choices=("hotrg", "trg"), default="hotrg", help="RG (default: hotrg)"
    )
    parser.add_argument(
        "--temps",
        type=_temperatures,
        default="1.6:3.2:17",
        help="temperatures, START:STOP:COUNT or T1,T2,... (default: 1.6:3.2:17)",
    )
    parser.add_argument(
        "--rg-steps",
        "--steps",
        dest="steps",
        type=int,
        default=30,
        metavar="STEPS",
        help="RG steps; the torus has 2^STEPS sites (default: 30)",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="run Metropolis and Wolff chains against exact enumeration instead "
        "(the same as `python -m diffsci sample-ising` with its defaults)",
    )
    add_output_argument(parser, "runs/ising")


def run(args) -> int:
    if args.sample:
        from ._main import main

        return main(["sample-ising", "--out", args.out])
    enable_x64()
    import numpy as np

    from diffsci import plot
    from diffsci.physics import ising_rg_thermodynamics, onsager_curves

    if args.chi < 2:
        raise SystemExit(f"ising: --chi must be >= 2, got {args.chi}")
    if not 1 <= args.steps <= 60:
        raise SystemExit(f"ising: --rg-steps must be between 1 and 60, got {args.steps}")
    temps = np.asarray(args.temps, dtype=float)
    out = output_dir(args.out)
    print(
        f"2D Ising model, {args.method.upper()} chi={args.chi}, torus of 2^{args.steps} sites; "
        f"u and C are the first and second derivatives of ln Z/N in beta (jax.grad, jax.hessian)"
    )
    header = (
        f"{'':>8} {'T':>7} {'lnZ/N':>12} {'err':>9} {'u':>10} {'err':>9} {'C':>8} {'exact C':>8}"
    )
    print(header, flush=True)
    ref = onsager_curves(temps)

    def progress(i, temp, log_z, u, c, seconds):
        when = "(from checkpoint)" if seconds is None else f"({seconds:.1f} s)"
        print(
            f"[{i + 1:>2}/{len(temps):<2}] {temp:7.4f} {log_z:12.8f} {log_z - ref[0][i]:9.1e} "
            f"{u:10.6f} {u - ref[1][i]:9.1e} {c:8.4f} {ref[2][i]:8.4f}   {when}",
            flush=True,
        )

    tag = hashlib.sha256(
        f"{args.method}-{args.chi}-{args.steps}-{temps.tolist()}".encode()
    ).hexdigest()[:12]
    start = time.perf_counter()
    log_z, u, c = ising_rg_thermodynamics(
        temps,
        chi=args.chi,
        method=args.method,
        steps=args.steps,
        progress=progress,
        checkpoint=out / "checkpoints" / f"ising-{tag}",
    )
    elapsed = time.perf_counter() - start
    if not (np.all(np.isfinite(log_z)) and np.all(np.isfinite(u)) and np.all(np.isfinite(c))):
        print("ising: a non-finite value came out; see the table above", file=sys.stderr)
        return 1
    table = out / "ising.csv"
    np.savetxt(
        table,
        np.column_stack([temps, log_z, u, c, *ref]),
        delimiter=",",
        header="T,lnZ_per_site,energy,specific_heat,onsager_lnZ,onsager_energy,onsager_C",
        comments="",
    )
    figure = out / "ising.png"
    plot.ising_curves(
        temps,
        log_z,
        u,
        c,
        title=f"2D Ising model: {args.method.upper()} chi={args.chi}, derivatives by autodiff",
        path=figure,
    )
    print(
        f"max |error| against Onsager: lnZ/N {np.max(np.abs(log_z - ref[0])):.1e}, "
        f"u {np.max(np.abs(u - ref[1])):.1e}; {elapsed:.1f} s (including compilation)"
    )
    print(f"wrote {figure} and {table}")
    return 0
