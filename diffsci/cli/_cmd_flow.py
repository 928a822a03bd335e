"""``python -m diffsci flow``: a Monge-Ampère flow trained on a 2D toy density or an Ising model.

Trains `diffsci.flows.MongeAmpereFlow` by minimizing the variational free energy
F_q = <E + ln q>_q >= F = -ln Z of a target p = exp(-E)/Z whose ln Z is known (a Gaussian, a ring,
a mixture of Gaussians; or the L x L Ising model made continuous by a Hubbard-Stratonovich
transform, `diffsci.physics.ising_hubbard_stratonovich`, against Kaufman's exact ln Z), in chunks
with a progress bar and checkpoints (rerun the same command to resume), then writes two figures:
samples and model density against the target density (for Ising: the distribution of the
magnetization), and F_q against training steps with the exact F. F_q - F = KL(q || p) measures the
fit. The final estimates are computed with the training integrator and ln q integrated along the
path, with ReversibleRK4 at twice the steps (their difference is the discretization error), and,
in up to 64 dimensions, with the exact log-determinant of the map that drew the samples (no
discretization error in ln q: a strict bound and unbiased importance weights).
"""

from __future__ import annotations

import hashlib
import json
import math
import time

from diffsci.cli._common import add_output_argument, enable_x64, output_dir, pyplot

NAME = "flow"
HELP = "Monge-Ampere flow: variational fit of a 2D density (gaussian, ring, mixture) or Ising"

TARGETS = ("gaussian", "ring", "mixture", "ising")
BETA_C = 0.5 * math.log(1 + math.sqrt(2))


def target(
    name: str,
    *,
    length: int = 4,
    beta: float = BETA_C,
    width: int = 32,
    key=None,
    shift: float = 1.0,
):
    """A target p(x) = exp(-E(x)) / Z with exact ln Z, and a flow potential suited to it.

    Returns a dict: `energy`, `dim`, `exact_f` (= -ln Z of E), `description`, `potential`
    (None: the default one-layer potential of that `width`), and `physical(f, err)` mapping a
    free energy of E (and its error) to the physical one (identity except for Ising).

    - `gaussian`: N(mu, diag(sigma^2)), mu = (1, -0.5), sigma = (1.5, 0.6);
    - `ring`: exp(-(|x| - 2)^2 / (2 * 0.3^2)); Z = 2 pi [s^2 e^{-R^2/2s^2}
      + R s sqrt(pi/2) (1 + erf(R / (s sqrt 2)))] in closed form;
    - `mixture`: four Gaussians of width 0.5 at (+-1.5, +-1.5) with weights 0.4, 0.3, 0.2, 0.1
      (normalized, ln Z = 0);
    - `ising`: the periodic `length` x `length` Ising model at `beta` through
      `diffsci.physics.ising_hubbard_stratonovich` (with `shift`), ln Z exact from Kaufman's
      formula (`diffsci.physics.kaufman_log_z`), with a spin-flip, translation and rotation
      symmetric convolutional potential with 4 functions of the uniform mode.
    """
    if name == "ising":
        import jax

        import diffsci.physics as dp
        from diffsci.flows import LatticeConvPotential, SpinFlipSymmetric

        if length < 2:
            raise ValueError(f"flow ising: need length >= 2, got {length}")
        couplings = dp.square_lattice_couplings(length)
        energy = dp.ising_hubbard_stratonovich(couplings, beta, shift)
        ln_z = float(dp.kaufman_log_z(beta, length, length))
        key = jax.random.key(0) if key is None else key
        potential = SpinFlipSymmetric(
            LatticeConvPotential(
                (length, length),
                max(1, width // 4),
                min(3, length - 1 + length % 2),
                rotations=True,
                global_channels=4,
                key=key,
            )
        )
        offset = float(energy.offset)
        return {
            "energy": energy,
            "dim": length * length,
            "exact_f": -(ln_z - offset),
            "description": f"{length}x{length} Ising at beta={beta:.4f} (Hubbard-Stratonovich, "
            f"shift {shift:g})",
            "potential": potential,
            "physical": lambda f, err: ((f - offset) / beta, err / beta),
        }
    energy, ln_z, description = _toy(name)
    return {
        "energy": energy,
        "dim": 2,
        "exact_f": -ln_z,
        "description": description,
        "potential": None,
        "physical": lambda f, err: (f, err),
    }


def _toy(name):
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


SOLVERS = ("rk4", "heun")


def flow_study(
    name: str,
    *,
    steps: int = 400,
    batch: int = 256,
    width: int = 32,
    flow_steps: int = 10,
    lr: float = 2e-2,
    seed: int = 0,
    chunk_steps: int = 50,
    eval_samples: int = 4096,
    length: int = 4,
    beta: float = BETA_C,
    shift: float = 1.0,
    solver: str = "rk4",
    exact_max_dim: int = 64,
    checkpoint_dir=None,
    progress: bool = True,
) -> dict:
    """Train a flow on a target; returns the target, the trained flow, the training curve and
    the final estimates: with the training integrator and ln q integrated along the path
    (`result.estimate`), with ReversibleRK4 at twice the steps (`fine`), and, for
    `dim <= exact_max_dim`, with the exact log-determinant of the training map (`exact`, else
    None), whose ln q is the density of its samples without discretization error."""
    import jax

    from diffsci.flows import MongeAmpereFlow, flow_free_energy, train_variational
    from diffsci.ode import ReversibleHeun, ReversibleRK4

    if solver not in SOLVERS:
        raise ValueError(f"flow_study: unknown solver {solver!r}; expected one of {SOLVERS}")
    tgt = target(name, length=length, beta=beta, width=width, key=jax.random.key(seed), shift=shift)
    flow = MongeAmpereFlow(
        tgt["dim"],
        tgt["potential"],
        key=jax.random.key(seed),
        width=width,
        steps=flow_steps,
        solver=ReversibleRK4() if solver == "rk4" else ReversibleHeun(),
    )
    t0 = time.perf_counter()
    result = train_variational(
        flow,
        tgt["energy"],
        1.0,
        key=jax.random.key(seed + 1),
        steps=steps,
        batch=batch,
        learning_rate=lr,
        eval_samples=eval_samples,
        chunk_steps=chunk_steps,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )
    seconds = time.perf_counter() - t0
    fine_flow = MongeAmpereFlow(
        tgt["dim"], result.flow.potential, steps=2 * flow_steps, solver=ReversibleRK4()
    )
    fine = flow_free_energy(
        fine_flow, tgt["energy"], 1.0, key=jax.random.key(seed + 2), samples=eval_samples
    )
    exact = None
    if tgt["dim"] <= exact_max_dim:
        exact = flow_free_energy(
            result.flow,
            tgt["energy"],
            1.0,
            key=jax.random.key(seed + 2),
            samples=eval_samples,
            exact_log_det=True,
        )
    return dict(tgt, target=name, result=result, fine=fine, exact=exact, seconds=seconds)


def _deviation(value, exact):
    text = f"{value - exact:.4f}"
    return text + (f", relative {(value - exact) / abs(exact):.1e}" if exact != 0 else "")


def report(study: dict) -> str:
    phys = study["physical"]
    exact, _ = phys(study["exact_f"], 0.0)
    lines = [
        f"target: {study['description']}; trained in {study['seconds']:.1f} s",
        f"  exact F = {exact:.6f}",
    ]
    rows = [
        ("training integrator, ln q integrated", study["result"].estimate),
        ("ReversibleRK4, 2x steps", study["fine"]),
    ]
    if study.get("exact") is not None:
        rows.append(("training map, exact log-determinant", study["exact"]))
    for label, est in rows:
        f_q, f_q_err = phys(float(est.variational), float(est.variational_error))
        f_is, f_is_err = phys(float(est.importance), float(est.importance_error))
        lines += [
            f"  [{label}]",
            f"    F_q  = {f_q:.6f} +- {f_q_err:.6f}   (variational bound; F_q - F = "
            f"{_deviation(f_q, exact)})",
            f"    F_IS = {f_is:.6f} +- {f_is_err:.6f}   (importance sampled; F_IS - F = "
            f"{_deviation(f_is, exact)}; ESS {float(est.ess):.0f} of {est.num_samples})",
        ]
    return "\n".join(lines)


def _plot_density_2d(study, plt, path):
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    flow = study["result"].flow
    lim = 3.5
    g = np.linspace(-lim, lim, 120)
    xx, yy = np.meshgrid(g, g)
    grid = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], axis=1))
    log_p = -jax.vmap(study["energy"])(grid) + study["exact_f"]
    log_q = eqx.filter_jit(flow.log_prob)(grid)
    samples = np.asarray(eqx.filter_jit(flow.sample)(jax.random.key(123), 2000))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True, sharey=True)
    vmax = float(jnp.max(jnp.exp(log_p)))
    for ax, dens, title in (
        (axes[0], log_p, "target density p"),
        (axes[1], log_q, "flow density q"),
    ):
        ax.imshow(
            np.exp(np.asarray(dens)).reshape(xx.shape),
            origin="lower",
            extent=(-lim, lim, -lim, lim),
            cmap="viridis",
            vmin=0,
            vmax=vmax,
        )
        ax.set_title(title)
    axes[2].contour(
        xx, yy, np.exp(np.asarray(log_p)).reshape(xx.shape), levels=6, colors="k", linewidths=0.7
    )
    axes[2].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="C3")
    axes[2].set_title("flow samples over contours of p")
    axes[2].set_xlim(-lim, lim)
    axes[2].set_ylim(-lim, lim)
    for ax in axes:
        ax.set_aspect("equal")
    fig.suptitle(f"Monge-Ampère flow, {study['description']}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _plot_magnetization(study, plt, path):
    import equinox as eqx
    import jax
    import numpy as np

    x = np.asarray(eqx.filter_jit(study["result"].flow.sample)(jax.random.key(123), 4000))
    m = np.tanh(x).mean(axis=1)  # <s_i | x> = tanh(x_i) for the Hubbard-Stratonovich field
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(m, bins=60, range=(-1, 1), density=True, color="C0")
    ax.set_xlabel(r"$\frac{1}{N}\sum_i \tanh x_i$ (conditional magnetization)")
    ax.set_ylabel("density")
    ax.set_title(f"flow samples, {study['description']}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_study(study: dict, out) -> list:
    """Write `flow_<target>_samples.png` (2D: target density, flow density and samples; Ising:
    magnetization histogram) and `flow_<target>_free_energy.png` into `out`."""
    import numpy as np

    plt = pyplot()
    target = study["target"]
    samples_path = out / f"flow_{target}_samples.png"
    if study["dim"] == 2:
        _plot_density_2d(study, plt, samples_path)
    else:
        _plot_magnetization(study, plt, samples_path)

    phys = study["physical"]
    fig, ax = plt.subplots(figsize=(6, 4))
    f_q = phys(np.asarray(study["result"].loss), 0.0)[0]
    exact = phys(study["exact_f"], 0.0)[0]
    est = study["exact"] if study.get("exact") is not None else study["fine"]
    f_is, f_is_err = phys(float(est.importance), float(est.importance_error))
    ax.plot(np.arange(1, len(f_q) + 1), f_q, lw=0.8, label=r"$F_q$ (training batch)")
    ax.axhline(exact, color="k", ls="--", label=r"exact $F$")
    ax.errorbar(
        [len(f_q)],
        [f_is],
        yerr=[f_is_err],
        fmt="o",
        color="C3",
        label=r"importance-sampled $F$ (final)",
    )
    span = max(1.0, 0.05 * abs(exact))
    ax.set_ylim(exact - 0.3 * span, exact + span)
    ax.set_xlabel("training step")
    ax.set_ylabel("free energy")
    ax.set_title(f"variational free energy, {target}")
    ax.legend()
    free_energy_path = out / f"flow_{target}_free_energy.png"
    fig.savefig(free_energy_path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return [samples_path, free_energy_path]


def add_arguments(parser):
    parser.add_argument("target", choices=TARGETS, help="the target density")
    parser.add_argument("--steps", type=int, default=400, help="training steps (400)")
    parser.add_argument("--chunk-steps", type=int, default=50, help="steps per chunk (50)")
    parser.add_argument("--batch", type=int, default=256, help="samples per step (256)")
    parser.add_argument(
        "--learning-rate",
        "--lr",
        dest="lr",
        type=float,
        default=2e-2,
        metavar="LR",
        help="Adam learning rate (2e-2)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=32,
        help="hidden units of the potential (32; ising: width // 4 channels)",
    )
    parser.add_argument(
        "--flow-steps", type=int, default=10, help="integration steps over t in [0, 1] (10)"
    )
    parser.add_argument(
        "--eval-samples", type=int, default=4096, help="samples for the final estimates (4096)"
    )
    parser.add_argument(
        "--solver", choices=SOLVERS, default="rk4", help="reversible integrator for training (rk4)"
    )
    parser.add_argument("--length", type=int, default=4, help="ising: lattice side L (4)")
    parser.add_argument(
        "--shift",
        type=float,
        default=1.0,
        help="ising: Hubbard-Stratonovich shift, lambda_min(K) (1.0)",
    )
    parser.add_argument("--beta", type=float, default=BETA_C, help="ising: beta (beta_c)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_argument(parser, "runs/flow")


def run(args) -> int:
    enable_x64()
    out = output_dir(args.out)
    params = {k: v for k, v in vars(args).items() if k != "out" and not k.startswith("_")}
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    steps = args.steps
    study = flow_study(
        args.target,
        steps=steps,
        length=args.length,
        beta=args.beta,
        batch=args.batch,
        width=args.width,
        flow_steps=args.flow_steps,
        lr=args.lr,
        seed=args.seed,
        chunk_steps=args.chunk_steps,
        shift=args.shift,
        solver=args.solver,
        eval_samples=args.eval_samples,
        checkpoint_dir=out / "checkpoints" / f"flow-{args.target}-{tag}",
    )
    print(report(study))
    for path in plot_study(study, out):
        print(f"figure: {path}")
    return 0
