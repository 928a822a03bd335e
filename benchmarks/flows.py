"""Benchmark of diffsci.flows: the Monge-Ampere flow for the 2D Ising model at T_c.

The L x L periodic Ising model at beta_c is made continuous by the Hubbard-Stratonovich transform
(`diffsci.physics.ising_hubbard_stratonovich`), and a `MongeAmpereFlow` with a spin-flip,
translation and rotation symmetric convolutional potential (`SpinFlipSymmetric(
LatticeConvPotential(..., rotations=True))`) is trained by minimizing the variational free energy
(`diffsci.flows.train_variational`, reversible RK4, gradients by the O(1)-memory reversible
adjoint). Reported, per site and against Kaufman's exact free energy of the same finite torus
(`diffsci.physics.kaufman_log_z`, Phys. Rev. 76, 1232 (1949)):

- F_q/N, the variational upper bound, and F_IS/N, the importance-sampled estimate, with error
  bars and the effective sample size; ln q of every sample is the exact log-determinant of the
  discrete map that drew it (`sample_and_exact_log_prob`), so F_q >= F holds up to its statistical
  error and the importance weights carry no discretization bias; the cheap integrated ln q
  (`sample_and_log_prob`) is reported alongside, with its largest deviation from the exact one;
- training wall time (including compilation) and peak device memory
  (`memory_stats()["peak_bytes_in_use"]` where the backend has it, i.e. GPUs);
- the memory of one training step against the number of ODE steps, for the reversible adjoint
  and for backpropagating through every step (`DirectAdjoint`, which is what autodiff through an
  unrolled integrator does, as in the original work): XLA's compiled temp memory
  (`memory_analysis().temp_size_in_bytes`) of the jitted gradient, and the ratio;
- a checkpoint of the trained flow (`flows_L<L>/flow.npz`, loadable with
  `diffsci.utils.load_checkpoint(path, like=flow)`) and a figure of F/N against the training step
  (`flows_L<L>/free_energy.png`); training checkpoints after every chunk, so rerunning the
  same command resumes.

The original work (Zhang, E, Wang, arXiv:1809.10188, section 4.2, 16x16 at T_c) reached the
exact free energy within about 1%.

Run: python benchmarks/flows.py                 (16x16, the GPU setting: a few minutes on an H100)
     python benchmarks/flows.py --length 16 --steps 1500 --chunk-steps 100 --batch 64
         --channels 8 --flow-steps 6 --exact-samples 512 --eval-samples 4096 --memory-steps 6 12
                                                (16x16 on one CPU core: about an hour)
     python benchmarks/flows.py --quick         (8x8, small; minutes on one CPU core)
     python benchmarks/flows.py --length 4 --steps 3000 --channels 32   (4x4, CPU)
Single-threaded on CPU: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU thread pools 1.
"""

from __future__ import annotations

from _harness import single_threaded  # noqa: E402

single_threaded()

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

QUICK = dict(
    length=8,
    steps=300,
    batch=128,
    channels=8,
    flow_steps=6,
    eval_samples=2048,
    exact_samples=512,
    memory_steps=[4, 8, 16],
)
DEFAULT = dict(
    length=16,
    steps=1500,
    batch=512,
    channels=16,
    flow_steps=10,
    eval_samples=8192,
    exact_samples=2048,
    memory_steps=[10, 20],
)


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small CPU setting (8x8)")
    parser.add_argument("--length", type=int, help="lattice side L (16; quick 8)")
    parser.add_argument("--steps", type=int, help="training steps (1500; quick 300)")
    parser.add_argument("--batch", type=int, help="samples per training step (512; quick 128)")
    parser.add_argument("--channels", type=int, help="convolution channels (16; quick 8)")
    parser.add_argument("--flow-steps", type=int, help="RK4 steps over t in [0, 1] (10; quick 6)")
    parser.add_argument(
        "--eval-steps",
        type=int,
        help="RK4 steps of the sampling map that is evaluated (default: the "
        "training --flow-steps). A trained field can be stiff enough that the "
        "coarse training map folds for some samples (non-positive Jacobian "
        "determinant, refused by the exact log-density); a finer map of the same "
        "potential is then the variational distribution that is evaluated",
    )
    parser.add_argument(
        "--eval-samples",
        type=int,
        help="samples for the integrated-ln q estimate (8192; quick 2048)",
    )
    parser.add_argument(
        "--exact-samples", type=int, help="samples with the exact log-determinant (2048; quick 512)"
    )
    parser.add_argument(
        "--memory-steps",
        type=int,
        nargs="*",
        help="ODE step counts of the memory comparison (10 20; quick 4 8 16; none: skip it)",
    )
    parser.add_argument("--lr", type=float, default=2e-2, help="Adam learning rate (2e-2)")
    parser.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        default="cosine",
        help="learning-rate schedule (cosine decay to 1%%)",
    )
    parser.add_argument(
        "--shift", type=float, default=0.3, help="Hubbard-Stratonovich shift, lambda_min(K) (0.3)"
    )
    parser.add_argument("--kernel", type=int, default=3, help="convolution kernel size (3)")
    parser.add_argument(
        "--global-channels",
        type=int,
        default=4,
        help="functions of the uniform mode in the potential (4)",
    )
    parser.add_argument("--chunk-steps", type=int, default=100, help="steps per checkpoint")
    parser.add_argument("--float32", action="store_true", help="train in float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/flows_out", help="output folder")
    args = parser.parse_args()
    base = QUICK if args.quick else DEFAULT
    for name, value in base.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def _physics(length, shift, dtype):
    import diffsci.physics as dp

    beta = dp.ISING_BETA_C
    couplings = dp.square_lattice_couplings(length, dtype=dtype)
    hs = dp.ising_hubbard_stratonovich(couplings, beta, shift)
    ln_z = float(dp.kaufman_log_z(jnp.asarray(beta, jnp.float64), length, length))
    return hs, -ln_z / beta / length**2


def _flow(args, hs, dtype, *, steps=None, adjoint=None):
    from diffsci.flows import LatticeConvPotential, MongeAmpereFlow, SpinFlipSymmetric
    from diffsci.ode import ReversibleAdjoint, ReversibleRK4

    potential = SpinFlipSymmetric(
        LatticeConvPotential(
            (args.length, args.length),
            args.channels,
            args.kernel,
            rotations=True,
            global_channels=args.global_channels,
            key=jr.key(args.seed),
            dtype=dtype,
        )
    )
    return MongeAmpereFlow(
        args.length**2,
        potential,
        steps=steps or args.flow_steps,
        solver=ReversibleRK4(),
        adjoint=ReversibleAdjoint() if adjoint is None else adjoint,
    )


def _per_site(hs, est, length, key):
    """Physical F/N and its error from a free energy of E (nats) and its error."""
    value, error = hs.ising_free_energy(
        float(getattr(est, key)), float(getattr(est, key + "_error"))
    )
    return float(value) / length**2, float(error) / length**2


def memory_comparison(args, hs, dtype):
    """Compiled temp memory of one training gradient, reversible adjoint vs store every step."""
    from diffsci.ode import DirectAdjoint, ReversibleAdjoint
    from diffsci.utils import variational_objective

    rows = []
    for n in args.memory_steps:
        row = {"ode_steps": n}
        for name, adjoint in (("reversible", ReversibleAdjoint()), ("direct", DirectAdjoint())):
            flow = _flow(args, hs, dtype, steps=n, adjoint=adjoint)
            params, static = eqx.partition(flow, eqx.is_inexact_array)

            def loss(p, key, static=static):
                x, log_q = eqx.combine(p, static).sample_and_log_prob(key, args.batch)
                return variational_objective(jax.vmap(hs)(x), log_q, 1.0)

            compiled = jax.jit(jax.grad(loss)).lower(params, jr.key(0)).compile()
            analysis = compiled.memory_analysis()
            row[name] = None if analysis is None else int(analysis.temp_size_in_bytes)
        if row["reversible"] and row["direct"]:
            row["ratio_direct_over_reversible"] = row["direct"] / row["reversible"]
        rows.append(row)
        print(
            f"  memory, {n:3d} ODE steps: reversible {row['reversible'] / 2**20:8.2f} MiB, "
            f"store-every-step {row['direct'] / 2**20:8.2f} MiB, ratio "
            f"{row.get('ratio_direct_over_reversible', float('nan')):.1f}",
            flush=True,
        )
    return rows


def _peak_bytes():
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # noqa: BLE001  (backends without memory statistics)
        return None
    return None if not stats else stats.get("peak_bytes_in_use")


def _figure(path, losses, hs, length, exact, f_is, f_is_err, f_q):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_site = (np.asarray(losses) - float(hs.offset)) / float(hs.beta) / length**2
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    steps = np.arange(1, len(per_site) + 1)
    ax.plot(steps, per_site, lw=0.6, alpha=0.6, label=r"$F_q/N$ (training batch)")
    window = max(1, len(per_site) // 50)
    smooth = np.convolve(per_site, np.ones(window) / window, mode="valid")
    ax.plot(steps[window - 1 :], smooth, lw=1.2, color="C0")
    ax.axhline(exact, color="k", ls="--", lw=1, label="exact (Kaufman)")
    ax.errorbar(
        [len(per_site)],
        [f_is],
        yerr=[f_is_err],
        fmt="o",
        color="C3",
        label=r"importance sampled $F/N$ (final)",
    )
    ax.plot([len(per_site)], [f_q], "s", color="C2", label=r"$F_q/N$ (final, exact $\ln q$)")
    ax.set_ylim(exact - 0.01 * abs(exact), exact + 0.08 * abs(exact))
    ax.set_xlabel("training step")
    ax.set_ylabel("free energy per site")
    ax.set_title(f"Monge-Ampère flow, {length}x{length} Ising at $T_c$")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main():
    args = _parse()
    start = time.perf_counter()
    jax.config.update("jax_enable_x64", True)
    dtype = jnp.float32 if args.float32 else jnp.float64
    from diffsci.flows import flow_free_energy, train_variational
    from diffsci.utils import save_checkpoint, variational_free_energy

    out = Path(args.out) / f"flows_L{args.length}"
    out.mkdir(parents=True, exist_ok=True)
    hs, exact = _physics(args.length, args.shift, dtype)
    print(
        f"device: {jax.devices()[0].device_kind}; {args.length}x{args.length} Ising at T_c, "
        f"exact F/N = {exact:.6f} (Kaufman)",
        flush=True,
    )
    settings = {k: v for k, v in vars(args).items() if k not in ("out",)}
    print(f"settings: {settings}", flush=True)

    print("memory of one training gradient (XLA temp buffers):", flush=True)
    memory = memory_comparison(args, hs, dtype)

    flow = _flow(args, hs, dtype)
    tag = "_".join(
        f"{k}{settings[k]}"
        for k in (
            "steps",
            "batch",
            "channels",
            "flow_steps",
            "lr",
            "schedule",
            "shift",
            "global_channels",
            "seed",
            "float32",
        )
    )
    resumed = (out / f"train_{tag}").exists()
    t0 = time.perf_counter()
    result = train_variational(
        flow,
        hs,
        1.0,
        key=jr.key(args.seed + 1),
        steps=args.steps,
        batch=args.batch,
        learning_rate=args.lr,
        schedule=args.schedule,
        eval_samples=0,
        chunk_steps=args.chunk_steps,
        checkpoint_dir=out / f"train_{tag}",
        progress=True,
    )
    jax.block_until_ready(result.loss)
    train_s = time.perf_counter() - t0
    peak = _peak_bytes()
    save_checkpoint(out / "flow", result.flow, metadata=settings)
    if resumed:
        print(
            "(resumed from the checkpoint of an earlier run of the same settings: the time "
            "below is this call's only)",
            flush=True,
        )
    print(
        f"trained {args.steps} steps in {train_s:.1f} s including compilation "
        f"({train_s / args.steps * 1e3:.1f} ms per step); peak device memory "
        f"{'n/a' if peak is None else f'{peak / 2**20:.1f} MiB'}",
        flush=True,
    )

    evaluated = result.flow
    if args.eval_steps is not None and args.eval_steps != args.flow_steps:
        evaluated = _flow(args, hs, dtype, steps=args.eval_steps)
        evaluated = eqx.tree_at(lambda f: f.potential, evaluated, result.flow.potential)
        print(f"evaluating the trained potential with {args.eval_steps} RK4 steps", flush=True)
    t0 = time.perf_counter()
    key = jr.key(args.seed + 2)
    # Samples with the exact log-density of the discrete map, in batches of `per` drawn from
    # fold_in(key, b), as `flow_free_energy(..., exact_log_det=True)` does; kept, so that the
    # integrated ln q of the same first batch gives the integration's discretization error
    # without a second exact evaluation.
    per = min(256, args.exact_samples)
    exact_fn = eqx.filter_jit(evaluated.sample_and_exact_log_prob)
    batches = [exact_fn(jr.fold_in(key, b), per) for b in range(-(-args.exact_samples // per))]
    x_exact = jnp.concatenate([x for x, _ in batches])[: args.exact_samples]
    lq_exact = jnp.concatenate([q for _, q in batches])[: args.exact_samples]
    exact_est = variational_free_energy(jax.vmap(hs)(x_exact), lq_exact, 1.0)
    exact_s = time.perf_counter() - t0
    integrated = flow_free_energy(
        evaluated, hs, 1.0, key=key, samples=args.eval_samples, batch=min(1024, args.eval_samples)
    )
    num = per
    x_int, lq_int = eqx.filter_jit(evaluated.sample_and_log_prob)(jr.fold_in(key, 0), per)
    same_samples = float(jnp.max(jnp.abs(x_int - x_exact[:per])))  # ~rounding: the same points
    lq_exact = lq_exact[:per]
    deviation = float(jnp.max(jnp.abs(lq_exact - lq_int)))

    rows = {}
    print(f"{'estimate':<34} {'F/N':>12} {'+-':>9} {'rel. to exact':>13} {'ESS':>7}")
    for label, est in (
        ("exact ln q (" + str(args.exact_samples) + " samples)", exact_est),
        ("integrated ln q (" + str(args.eval_samples) + ")", integrated),
    ):
        for what, key_name in (("F_q", "variational"), ("F_IS", "importance")):
            value, err = _per_site(hs, est, args.length, key_name)
            rel = (value - exact) / abs(exact)
            rows[f"{what}, {label}"] = {
                "F_per_site": value,
                "error": err,
                "relative": rel,
                "ess": float(est.ess),
                "samples": est.num_samples,
            }
            print(
                f"{what + ', ' + label:<34} {value:12.6f} {err:9.6f} {rel:13.2e} "
                f"{float(est.ess):7.0f}"
            )
    print(f"{'exact (Kaufman)':<34} {exact:12.6f}")
    print(
        f"max |ln q integrated - ln q exact| over {num} samples: {deviation:.2e} "
        f"(the samples themselves differ by {same_samples:.1e}) "
        f"(exact log-det evaluation took {exact_s:.1f} s)"
    )

    f_q, _ = _per_site(hs, exact_est, args.length, "variational")
    f_is, f_is_err = _per_site(hs, exact_est, args.length, "importance")
    _figure(out / "free_energy.png", result.loss, hs, args.length, exact, f_is, f_is_err, f_q)
    record = {
        "settings": settings,
        "device": jax.devices()[0].device_kind,
        "exact_F_per_site": exact,
        "estimates": rows,
        "train_seconds": train_s,
        "ms_per_step": train_s / args.steps * 1e3,
        "peak_device_bytes": peak,
        "memory_vs_ode_steps": memory,
        "max_log_q_deviation": deviation,
        "exact_log_det_seconds": exact_s,
        "total_seconds": time.perf_counter() - start,
    }
    with open(out / "flows.json", "w") as f:
        json.dump(record, f, indent=1)
    print(
        f"wrote {out / 'flows.json'}, {out / 'free_energy.png'}, {out / 'flow.npz'}; total "
        f"{record['total_seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
