"""``python -m diffsci coulomb``: the trapped Coulomb gas, ground state and finite temperature.

1. The ground state from many random starts (BFGS, in parallel), its energy, the virial identity
   E0 = 3 sum |x|^2, the Hessian spectrum, and a figure of the shells.
2. Hybrid Monte Carlo at inverse temperature beta from the ground state (step size set from the
   stiffest Hessian mode), with progress and checkpoints: the mean energy with its error bar, and
   the exact check <2 V_trap - V_Coulomb> = N d / beta.

`examples/coulomb_gas.py` calls the same functions (`ground_state_study`, `sampling_study`).
"""

from __future__ import annotations

import hashlib
import json
import time

from diffsci.cli._common import add_output_argument, enable_x64, output_dir, pyplot

NAME = "coulomb"
HELP = "Coulomb gas in a harmonic trap: ground state with its shells, then HMC at finite beta"


def add_arguments(parser):
    parser.add_argument(
        "--particles",
        "--n",
        dest="n",
        type=int,
        default=20,
        metavar="N",
        help="number of particles (default 20)",
    )
    parser.add_argument("--dim", type=int, default=2, help="spatial dimension (default 2)")
    parser.add_argument("--starts", type=int, default=32, help="random starts (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--beta", type=float, default=10.0, help="inverse temperature (10)")
    parser.add_argument("--chains", type=int, default=16, help="HMC chains (default 16)")
    parser.add_argument("--steps", type=int, default=2000, help="HMC trajectories per chain (2000)")
    parser.add_argument("--chunk-steps", type=int, default=200, help="trajectories per chunk (200)")
    parser.add_argument("--leapfrog-steps", type=int, default=10, help="leapfrog steps (10)")
    parser.add_argument(
        "--step-size",
        type=float,
        default=None,
        help="leapfrog step size of the HMC integrator, not a learning rate (default: "
        "0.5 / sqrt(beta * largest Hessian eigenvalue))",
    )
    parser.add_argument("--burn-in", type=int, default=200, help="trajectories discarded (200)")
    parser.add_argument(
        "--shard", action="store_true", help="shard starts and chains over all devices"
    )
    add_output_argument(parser, "runs/coulomb")


def shells(radii, gap: float = 0.15):
    """Group radii into shells: a new shell starts where the sorted radius jumps by > gap * max."""
    import numpy as np

    r = np.sort(np.asarray(radii))
    cuts = np.nonzero(np.diff(r) > gap * r[-1])[0] + 1
    return [chunk for chunk in np.split(r, cuts)]


def ground_state_study(n, dim, *, seed=0, starts=32, sharding=None, out=None, log=print):
    """The ground state, its checks, and (if `out` is given) `out/coulomb_ground_state.png`."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from matplotlib.patches import Circle

    import diffsci.physics as dp

    t0 = time.perf_counter()
    gs = dp.coulomb_ground_state(n, dim, key=jax.random.key(seed), starts=starts, sharding=sharding)
    energy = float(gs.energy)
    x = np.asarray(gs.positions)
    radii = np.linalg.norm(x, axis=1)
    groups = shells(radii)
    found = np.asarray(gs.energies)
    n_best = int(np.sum(np.abs(found - energy) < 1e-8 * abs(energy)))
    log(f"ground state of N={n} in d={dim}: E0 = {energy:.10f}  ({time.perf_counter() - t0:.1f} s)")
    log(f"  found by {n_best}/{starts} starts; converged {int(jnp.sum(gs.converged))}/{starts}")
    log(f"  virial check: 3 sum|x|^2 = {3 * float(np.sum(x**2)):.10f}")
    log(
        f"  shells (inner to outer): {[len(g) for g in groups]}, radii "
        f"{[round(float(g.mean()), 4) for g in groups]}"
    )
    ev = np.asarray(gs.hessian_eigenvalues)
    log(f"  Hessian: lowest {np.round(ev[: dim + 3], 6).tolist()}, highest {ev[-1]:.4f}")
    if out is not None:
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(5, 5))
        if dim >= 2:
            ax.scatter(x[:, 0], x[:, 1], s=60, c=radii, cmap="viridis", edgecolors="k")
            for g in groups:
                ax.add_patch(Circle((0, 0), g.mean(), fill=False, ls="--", color="gray"))
            ax.set_aspect("equal")
            ax.set_xlabel("$x_1$")
            ax.set_ylabel("$x_2$")
        else:
            ax.scatter(x[:, 0], np.zeros(n), s=60)
            ax.set_xlabel("$x$")
        ax.set_title(
            f"Coulomb gas ground state, N={n}, d={dim}: E0={energy:.6f}\n"
            f"shells {[len(g) for g in groups]}"
        )
        path = out / "coulomb_ground_state.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        log(f"  figure: {path}")
    return gs


def sampling_study(
    gs,
    *,
    beta,
    chains=16,
    steps=2000,
    chunk_steps=200,
    leapfrog_steps=10,
    step_size=None,
    burn_in=200,
    seed=0,
    sharding=None,
    out=None,
    progress=True,
    log=print,
):
    """HMC from the ground state `gs` at `beta`; mean energy with error, the virial check.

    Checkpoints go to `out/checkpoints/hmc-<hash of the parameters>`: an interrupted run started
    again with the same parameters resumes where it stopped, with identical results.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    import diffsci.physics as dp

    x_gs = gs.positions
    n, dim = x_gs.shape
    lam_max = float(gs.hessian_eigenvalues[-1])
    if step_size is None:
        step_size = 0.5 / np.sqrt(beta * lam_max)
    sampler = dp.HMC(dp.coulomb_energy, beta, step_size, leapfrog_steps)
    key_init, key_run = jax.random.split(jax.random.key(seed + 1))
    x0 = x_gs + jax.random.normal(key_init, (chains, n, dim)) / np.sqrt(beta * lam_max)
    checkpoint_dir = None
    if out is not None:
        params = dict(
            n=n,
            dim=dim,
            beta=beta,
            chains=chains,
            steps=steps,
            seed=seed,
            chunk=chunk_steps,
            leapfrog=leapfrog_steps,
            step=step_size,
        )
        tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
        checkpoint_dir = out / "checkpoints" / f"hmc-{tag}"
    log(
        f"HMC at beta={beta}: {chains} chains x {steps} trajectories of {leapfrog_steps} "
        f"leapfrog steps of {step_size:.4g}"
    )
    t0 = time.perf_counter()
    result = dp.sample(
        sampler,
        x0,
        key=key_run,
        steps=steps,
        observable=dp.coulomb_virial,
        chunk_steps=chunk_steps,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
        sharding=sharding,
    )
    energies = result.energies[burn_in:]
    e = dp.binning_error(energies)
    tau = dp.autocorrelation_time(energies)
    assert result.observables is not None  # `observable` was given
    v = dp.binning_error(result.observables[burn_in:])
    exact_v = n * dim / beta
    log(f"  {time.perf_counter() - t0:.1f} s, acceptance {float(jnp.mean(result.acceptance)):.3f}")
    modes = int(np.sum(np.asarray(gs.hessian_eigenvalues) > 1e-6))
    harmonic = float(gs.energy) + modes / (2 * beta)
    log(
        f"  <E> = {float(e.mean):.6f} +- {float(e.error):.6f}   (E0 = {float(gs.energy):.6f}; "
        f"harmonic approximation E0 + {modes}/(2 beta) = {harmonic:.6f})"
    )
    log(
        f"  tau_int(E) = {float(tau.tau):.2f} +- {float(tau.error):.2f} trajectories, "
        f"ESS = {float(dp.effective_sample_size(energies)):.0f}"
    )
    log(
        f"  virial check <2 V_trap - V_Coulomb> = {float(v.mean):.5f} +- {float(v.error):.5f}, "
        f"exact N d / beta = {exact_v:.5f} ({abs(float(v.mean) - exact_v) / float(v.error):.1f} "
        "sigma)"
    )
    if out is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].plot(np.asarray(result.energies), lw=0.3, alpha=0.6)
        axes[0].axhline(float(gs.energy), color="k", ls="--", label="$E_0$")
        axes[0].axvline(burn_in, color="gray", ls=":")
        axes[0].set_xlabel("HMC trajectory")
        axes[0].set_ylabel("energy")
        axes[0].legend()
        xs = np.asarray(result.state.x).reshape(-1, dim)
        if dim >= 2:
            axes[1].hist2d(xs[:, 0], xs[:, 1], bins=60, cmap="magma")
            axes[1].set_aspect("equal")
        else:
            axes[1].hist(xs[:, 0], bins=60)
        axes[1].set_title(f"final positions of all chains, beta={beta}")
        path = out / "coulomb_hmc.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        log(f"  figure: {path}")
    return result, e, v


def run(args) -> int:
    enable_x64()
    out = output_dir(args.out)
    sharding = None
    if args.shard:
        from diffsci.utils import batch_sharding

        sharding = batch_sharding()
    gs = ground_state_study(
        args.n, args.dim, seed=args.seed, starts=args.starts, sharding=sharding, out=out
    )
    sampling_study(
        gs,
        beta=args.beta,
        chains=args.chains,
        steps=args.steps,
        chunk_steps=args.chunk_steps,
        leapfrog_steps=args.leapfrog_steps,
        step_size=args.step_size,
        burn_in=args.burn_in,
        seed=args.seed,
        sharding=sharding,
        out=out,
    )
    return 0
