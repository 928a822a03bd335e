"""``python -m diffsci sample-ising``: Metropolis vs Wolff vs exact enumeration, 2D Ising model.

Both samplers run a batch of chains in chunks with a progress bar and a checkpoint after every
chunk (`<out>/checkpoints/<sampler>-<hash of the parameters>`): stop a run (Ctrl-C) and start it
again with the same options to resume it, with results identical to an uninterrupted run. For
lattices of at most 24 sites the exact energy and specific heat come from `ising_exact`.

`examples/ising_sampling.py` calls the same function, `ising_sampling_study`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time

from diffsci.cli._common import add_output_argument, enable_x64, output_dir, pyplot

NAME = "sample-ising"
HELP = "2D Ising model: Metropolis and Wolff chains against exact enumeration, with checkpoints"

BETA_C = 0.5 * math.log(1 + math.sqrt(2))


def add_arguments(parser):
    parser.add_argument("--length", type=int, default=4, help="lattice side L (default 4)")
    parser.add_argument(
        "--beta", type=float, default=BETA_C, help="inverse temperature (default: beta_c)"
    )
    parser.add_argument("--chains", type=int, default=16, help="chains per sampler (16)")
    parser.add_argument("--steps", type=int, default=4000, help="sweeps / cluster flips (4000)")
    parser.add_argument("--chunk-steps", type=int, default=500, help="steps per chunk (500)")
    parser.add_argument("--burn-in", type=int, default=200, help="steps discarded (200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--samplers", default="metropolis,wolff", help="comma-separated (default: metropolis,wolff)"
    )
    add_output_argument(parser, "runs/sample-ising")


def ising_sampling_study(
    length,
    beta,
    *,
    chains=16,
    steps=4000,
    chunk_steps=500,
    burn_in=200,
    seed=0,
    samplers=("metropolis", "wolff"),
    out=None,
    progress=True,
    log=print,
):
    """Run the samplers, compare with the exact result, write `out/ising_sampling.png`.

    **Returns:** a dict `{name: (SampleResult, BinningResult of E/N, AutocorrelationTime)}` and
    the exact energy per site (or `None` for more than 24 sites).
    """
    import jax
    import numpy as np

    import diffsci.physics as dp

    n = length * length
    couplings = dp.square_lattice_couplings(length)
    exact_e = exact_c = None
    if n <= 24:  # exact enumeration limit of ising_exact
        t0 = time.perf_counter()
        thermo = dp.ising_thermodynamics(couplings, beta)
        exact_e, exact_c = float(thermo.energy) / n, float(thermo.specific_heat) / n
        log(
            f"exact enumeration of 2^{n} states ({time.perf_counter() - t0:.1f} s): "
            f"ln Z/N = {float(thermo.log_z) / n:.10f}, E/N = {exact_e:.10f}, C/N = {exact_c:.10f}"
        )
    x0 = jax.random.choice(jax.random.key(seed), np.array([-1.0, 1.0]), (chains, n))
    results = {}
    for name in samplers:
        if name == "metropolis":
            sampler = dp.IsingMetropolis(couplings, beta)
        elif name == "wolff":
            sampler = dp.Wolff(length, beta)
        else:
            raise ValueError(f"sample-ising: unknown sampler {name!r} (metropolis, wolff)")
        checkpoint_dir = None
        if out is not None:
            params = dict(
                sampler=name,
                length=length,
                beta=beta,
                chains=chains,
                steps=steps,
                chunk=chunk_steps,
                seed=seed,
            )
            tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
            checkpoint_dir = out / "checkpoints" / f"{name}-{tag}"
        t0 = time.perf_counter()
        result = dp.sample(
            sampler,
            x0,
            key=jax.random.key(seed + 1),
            steps=steps,
            chunk_steps=chunk_steps,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
            observable=lambda s: abs(s.mean()),
        )
        seconds = time.perf_counter() - t0
        e = result.energies[burn_in:] / n
        stats = dp.binning_error(e)
        tau = dp.autocorrelation_time(e)
        results[name] = (result, stats, tau)
        line = (
            f"{name:>10}: E/N = {float(stats.mean):.5f} +- {float(stats.error):.5f}, "
            f"tau_int = {float(tau.tau):.2f} steps, ESS = {float(e.size / (2 * tau.tau)):.0f}, "
            f"{seconds:.1f} s"
        )
        if exact_e is not None:
            sigmas = abs(float(stats.mean) - exact_e) / float(stats.error)
            line += f", {sigmas:.1f} sigma from exact"
        log(line)
        if name == "wolff":
            log(f"{'':>10}  mean cluster size / N = {float(result.acceptance.mean()):.3f}")
    if out is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for name, (result, _, _) in results.items():
            e = np.asarray(result.energies[:, 0]) / n
            axes[0].plot(e[: min(400, len(e))], lw=0.7, label=f"{name} (chain 0)")
            rho = np.asarray(dp.autocorrelation(result.energies[burn_in:]))
            axes[1].plot(rho[:50], marker=".", label=name)
        if exact_e is not None:
            axes[0].axhline(exact_e, color="k", ls="--", label="exact")
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("E/N")
        axes[0].legend()
        axes[1].set_xlabel("lag t (steps)")
        axes[1].set_ylabel(r"$\rho_E(t)$")
        axes[1].axhline(0, color="gray", lw=0.5)
        axes[1].legend()
        fig.suptitle(f"{length}x{length} Ising, beta = {beta:.6f}")
        path = out / "ising_sampling.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        log(f"figure: {path}")
    return results, exact_e


def run(args) -> int:
    enable_x64()
    out = output_dir(args.out)
    samplers = tuple(s.strip() for s in args.samplers.split(",") if s.strip())
    ising_sampling_study(
        args.length,
        args.beta,
        chains=args.chains,
        steps=args.steps,
        chunk_steps=args.chunk_steps,
        burn_in=args.burn_in,
        seed=args.seed,
        samplers=samplers,
        out=out,
    )
    return 0
