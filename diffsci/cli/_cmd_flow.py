"""``python -m diffsci flow``: a Monge-Ampère flow trained on a 2D toy density.

Trains `diffsci.flows.MongeAmpereFlow` by minimizing the variational free energy
F_q = <E + ln q>_q >= F = -ln Z of a target p = exp(-E)/Z whose ln Z is known (a Gaussian, a ring,
a mixture of Gaussians), in chunks with a progress bar and checkpoints (rerun the same command to
resume), then writes two figures: samples and model density against the target density, and F_q
against training steps with the exact F. F_q - F = KL(q || p) measures the fit.
"""

from __future__ import annotations

import hashlib
import json
import math
import time

from diffsci.cli._common import add_output_argument, enable_x64, output_dir, pyplot

NAME = "flow"
HELP = "Monge-Ampere flow: variational fit of a 2D toy density (gaussian, ring, mixture)"

TARGETS = ("gaussian", "ring", "mixture")


def toy_target(name: str):
    """`(energy_fn, ln_z, description)` of a 2D toy target p(x) = exp(-E(x)) / Z with exact ln Z.

    - `gaussian`: N(mu, diag(sigma^2)), mu = (1, -0.5), sigma = (1.5, 0.6);
    - `ring`: exp(-(|x| - 2)^2 / (2 * 0.3^2)); Z = 2 pi [s^2 e^{-R^2/2s^2}
      + R s sqrt(pi/2) (1 + erf(R / (s sqrt 2)))] in closed form;
    - `mixture`: four Gaussians of width 0.5 at (+-1.5, +-1.5) with weights 0.4, 0.3, 0.2, 0.1
      (normalized, ln Z = 0).
    """
    import jax.numpy as jnp

    if name == "gaussian":
        mu, sigma = jnp.array([1.0, -0.5]), jnp.array([1.5, 0.6])

        def energy(x):
            return 0.5 * jnp.sum(((x - mu) / sigma) ** 2)

        return energy, math.log(2 * math.pi * 1.5 * 0.6), "Gaussian N((1,-0.5), diag(1.5,0.6)^2)"
    if name == "ring":
        r0, s = 2.0, 0.3

        def energy(x):
            r = jnp.sqrt(jnp.sum(x**2) + 1e-12)
            return 0.5 * ((r - r0) / s) ** 2

        radial = s**2 * math.exp(-(r0**2) / (2 * s**2)) + r0 * s * math.sqrt(math.pi / 2) * (
            1 + math.erf(r0 / (s * math.sqrt(2)))
        )
        return energy, math.log(2 * math.pi * radial), "ring of radius 2, width 0.3"
    if name == "mixture":
        centers = jnp.array([[1.5, 1.5], [-1.5, 1.5], [-1.5, -1.5], [1.5, -1.5]])
        log_w = jnp.log(jnp.array([0.4, 0.3, 0.2, 0.1]))
        s = 0.5

        def energy(x):
            d2 = jnp.sum((x - centers) ** 2, axis=1)
            comp = log_w - 0.5 * d2 / s**2 - math.log(2 * math.pi * s**2)
            return -jnp.logaddexp.reduce(comp)

        return energy, 0.0, "mixture of 4 Gaussians (width 0.5, weights 0.4/0.3/0.2/0.1)"
    raise ValueError(f"unknown target {name!r}; expected one of {TARGETS}")


def flow_study(target: str, *, steps: int = 400, batch: int = 256, width: int = 32,
               flow_steps: int = 10, lr: float = 2e-2, seed: int = 0, chunk_steps: int = 50,
               eval_samples: int = 4096, checkpoint_dir=None, progress: bool = True) -> dict:
    """Train a flow on a toy target; returns the flow, the training curve and the estimates."""
    import jax

    from diffsci.flows import MongeAmpereFlow, train_variational

    energy, ln_z, description = toy_target(target)
    flow = MongeAmpereFlow(2, key=jax.random.key(seed), width=width, steps=flow_steps)
    t0 = time.perf_counter()
    result = train_variational(
        flow, energy, 1.0, key=jax.random.key(seed + 1), steps=steps, batch=batch,
        learning_rate=lr, eval_samples=eval_samples, chunk_steps=chunk_steps,
        checkpoint_dir=checkpoint_dir, progress=progress,
    )
    return {
        "target": target, "description": description, "energy": energy,
        "exact_f": -ln_z, "result": result, "seconds": time.perf_counter() - t0,
    }


def report(study: dict) -> str:
    est = study["result"].estimate
    f = study["exact_f"]
    return "\n".join([
        f"target: {study['description']}; trained in {study['seconds']:.1f} s",
        f"  exact F = -ln Z = {f:.6f}",
        f"  F_q  = {float(est.variational):.6f} +- {float(est.variational_error):.6f}"
        f"   (KL(q||p) = F_q - F = {float(est.variational) - f:.4f})",
        f"  F_IS = {float(est.importance):.6f} +- {float(est.importance_error):.6f}"
        f"   (importance sampled; ESS {float(est.ess):.0f} of {est.num_samples})",
    ])


def plot_study(study: dict, out) -> list:
    """Write `flow_<target>_samples.png` and `flow_<target>_free_energy.png` into `out`."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    plt = pyplot()
    flow = study["result"].flow
    target = study["target"]
    lim = 3.5
    g = np.linspace(-lim, lim, 120)
    xx, yy = np.meshgrid(g, g)
    grid = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], axis=1))
    log_p = -jax.vmap(study["energy"])(grid) + study["exact_f"]
    log_q = eqx.filter_jit(flow.log_prob)(grid)
    samples = np.asarray(eqx.filter_jit(flow.sample)(jax.random.key(123), 2000))
    paths = []

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True, sharey=True)
    vmax = float(jnp.max(jnp.exp(log_p)))
    for ax, dens, title in ((axes[0], log_p, "target density p"),
                            (axes[1], log_q, "flow density q")):
        ax.imshow(np.exp(np.asarray(dens)).reshape(xx.shape), origin="lower",
                  extent=(-lim, lim, -lim, lim), cmap="viridis", vmin=0, vmax=vmax)
        ax.set_title(title)
    axes[2].contour(xx, yy, np.exp(np.asarray(log_p)).reshape(xx.shape), levels=6,
                    colors="k", linewidths=0.7)
    axes[2].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="C3")
    axes[2].set_title("flow samples over contours of p")
    axes[2].set_xlim(-lim, lim)
    axes[2].set_ylim(-lim, lim)
    for ax in axes:
        ax.set_aspect("equal")
    fig.suptitle(f"Monge-Ampère flow, {study['description']}")
    path = out / f"flow_{target}_samples.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    paths.append(path)

    fig, ax = plt.subplots(figsize=(6, 4))
    f_q = np.asarray(study["result"].loss)
    est = study["result"].estimate
    ax.plot(np.arange(1, len(f_q) + 1), f_q, lw=0.8, label=r"$F_q$ (training batch)")
    ax.axhline(study["exact_f"], color="k", ls="--", label=r"exact $F = -\ln Z$")
    ax.errorbar([len(f_q)], [float(est.importance)], yerr=[float(est.importance_error)],
                fmt="o", color="C3", label=r"importance-sampled $F$ (final)")
    lo = study["exact_f"] - 0.3
    ax.set_ylim(lo, max(lo + 1.0, float(np.percentile(f_q, 99)) + 0.1))
    ax.set_xlabel("training step")
    ax.set_ylabel("free energy")
    ax.set_title(f"variational free energy, {target}")
    ax.legend()
    path = out / f"flow_{target}_free_energy.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    paths.append(path)
    return paths


def add_arguments(parser):
    parser.add_argument("target", choices=TARGETS, help="the 2D target density")
    parser.add_argument("--steps", type=int, default=400, help="training steps (400)")
    parser.add_argument("--chunk-steps", type=int, default=50, help="steps per chunk (50)")
    parser.add_argument("--batch", type=int, default=256, help="samples per step (256)")
    parser.add_argument("--lr", type=float, default=2e-2, help="Adam learning rate (2e-2)")
    parser.add_argument("--width", type=int, default=32, help="hidden units of the potential (32)")
    parser.add_argument("--flow-steps", type=int, default=10,
                        help="integration steps over t in [0, 1] (10)")
    parser.add_argument("--eval-samples", type=int, default=4096,
                        help="samples for the final estimates (4096)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_argument(parser, "runs/flow")


def run(args) -> int:
    enable_x64()
    out = output_dir(args.out)
    params = {k: v for k, v in vars(args).items() if k != "out" and not k.startswith("_")}
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    study = flow_study(
        args.target, steps=args.steps, batch=args.batch, width=args.width,
        flow_steps=args.flow_steps, lr=args.lr, seed=args.seed, chunk_steps=args.chunk_steps,
        eval_samples=args.eval_samples,
        checkpoint_dir=out / "checkpoints" / f"flow-{args.target}-{tag}",
    )
    print(report(study))
    for path in plot_study(study, out):
        print(f"figure: {path}")
    return 0
