"""``python -m diffsci ising``: thermodynamics of the 2D Ising model as derivatives through an RG.

ln Z per site comes from HOTRG (or TRG) on a torus of 2^steps sites; the energy per site is
-d lnZ/dβ (``jax.grad``) and the specific heat β² d² lnZ/dβ² (``jax.hessian``), both through
the truncated SVD/eigendecompositions of every RG step. Each temperature is printed as it is done
and a figure compares the three curves with Onsager's exact solution.

Every finished temperature is checkpointed (`<out>/checkpoints/ising-<hash of the settings>`, a
`.npz` with a JSON sidecar, no pickle): stop a sweep and run the same command again to resume it,
with the finished temperatures read back instead of recomputed.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sys
import time

from ._common import add_output_argument, enable_x64, output_dir, pyplot

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


def thermodynamics(temps, *, chi, method="hotrg", steps=30, progress=None, checkpoint=None):
    """ln Z/N, u and C at each temperature through `diffsci.tn.ising_log_z`, as numpy arrays.

    `progress(i, T, log_z, u, c, seconds)` is called after each temperature (`seconds` is None
    for a temperature read back from the checkpoint). With `checkpoint` (a path without
    extension) the rows done so far are saved after each temperature, and a run of the same
    settings, temperatures and dtype starts after the last saved row; a checkpoint of another run
    is refused (`diffsci.utils.CheckpointError`), never overwritten or mixed in.
    """
    import jax.numpy as jnp
    import numpy as np

    one = _sweep_point(chi, method, steps)
    from diffsci.utils import (
        checkpoint_exists,
        load_checkpoint,
        read_checkpoint_metadata,
        read_run_checkpoint_metadata,
        save_checkpoint,
    )

    temps = np.asarray(temps, dtype=float)
    settings = {"chi": chi, "method": method, "steps": steps}
    # everything that changes a row: the settings, the temperatures and the float precision
    run = dict(settings, dtype=str(jnp.asarray(1.0).dtype), temps=temps.tolist())
    rows = []
    if checkpoint is not None and checkpoint_exists(checkpoint):
        stored = read_checkpoint_metadata(checkpoint)
        saved, _ = load_checkpoint(checkpoint)
        done = np.asarray(saved["temps"])
        # (a checkpoint of the first format held the settings only: it resumes where they match
        # and its temperatures are the first of these)
        legacy = "run" not in stored and stored.get("settings") == settings
        if not (legacy and np.array_equal(done, temps[: done.size])):
            read_run_checkpoint_metadata(checkpoint, run, "thermodynamics")
        rows = [list(map(float, r)) for r in np.asarray(saved["rows"]).reshape(-1, 3)]
        for i, values in enumerate(rows):
            if progress is not None:
                progress(i, float(temps[i]), *values, None)
    for i in range(len(rows), len(temps)):
        start = time.perf_counter()
        values = [float(v) for v in one(jnp.asarray(1.0 / float(temps[i])))]
        rows.append(values)
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {"temps": np.asarray(temps[: i + 1], float), "rows": np.asarray(rows, float)},
                metadata={"run": run, "rows": i + 1},
            )
        if progress is not None:
            progress(i, float(temps[i]), *values, time.perf_counter() - start)
    table = np.array(rows)
    return table[:, 0], table[:, 1], table[:, 2]


@functools.cache
def _sweep_point(chi, method, steps):
    """`beta -> (ln Z/N, u, C)`, compiled once per setting (a sweep or its resume reuses it)."""
    import jax
    import jax.numpy as jnp

    import diffsci.tn as tn

    def log_z(beta):
        return tn.ising_log_z(beta, chi=chi, method=method, steps=steps)

    @jax.jit
    def one(beta):
        # Forward over reverse, which is what jax.hessian does: one pass gives ln Z, its gradient
        # and (for a scalar beta) the Hessian, instead of three.
        (value, slope), (_, curvature) = jax.jvp(
            jax.value_and_grad(log_z), (beta,), (jnp.ones_like(beta),)
        )
        return value, -slope, beta**2 * curvature

    return one


def exact_curves(temps):
    """Onsager's ln Z/N, u and C at the given temperatures (numpy arrays)."""
    import numpy as np

    import diffsci.physics as physics

    betas = 1.0 / np.asarray(temps, dtype=float)
    return tuple(
        np.asarray(f(betas))
        for f in (physics.onsager_log_z, physics.onsager_energy, physics.onsager_specific_heat)
    )


def plot(temps, log_z, u, c, *, title, path):
    """Three panels (ln Z/N, u, C against T) with Onsager's curves; written to `path`."""
    import numpy as np

    import diffsci.physics as physics

    plt = pyplot()
    dense = np.linspace(min(temps) * 0.98, max(temps) * 1.02, 400)
    exact = exact_curves(dense)
    t_c = 1.0 / physics.ISING_BETA_C
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    labels = (
        r"$\ln Z / N$",
        r"$u = -\partial_\beta \ln Z/N$",
        r"$C = \beta^2\partial^2_\beta\ln Z/N$",
    )
    for ax, ours, ref, label in zip(axes, (log_z, u, c), exact, labels, strict=True):
        ax.plot(dense, ref, "k-", lw=1, label="Onsager (exact)")
        ax.plot(temps, ours, "o", ms=5, color="C3", label="autodiff through the RG")
        ax.axvline(t_c, color="0.6", ls=":", lw=1)
        ax.set_xlabel("T")
        ax.set_title(label)
    axes[2].set_ylim(0, max(2.5, float(np.nanmax(c)) * 1.1))
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def run(args) -> int:
    if args.sample:
        from ._main import main

        return main(["sample-ising", "--out", args.out])
    enable_x64()
    import numpy as np

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
    ref = exact_curves(temps)

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
    log_z, u, c = thermodynamics(
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
    plot(
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
