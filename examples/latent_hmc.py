"""Hybrid Monte Carlo in the latent space of a trained flow, against HMC in the physical space.

NeuralRG (Li and Wang, PRL 121, 260601 (2018), arXiv:1802.02840): with a flow x = g(z) trained
on a target exp(-E(x)), HMC on the effective energy E_eff(z) = E(g(z)) - ln|det dg/dz| samples
the target exactly (x = g(z)), and decorrelates faster where the flow has learned the target's
shape. Both samplers use the same step size and number of leapfrog steps.

Targets:

- `narrow` (default): a Gaussian with standard deviations 2 and 0.2, axes rotated by 45 degrees.
  HMC in x must take steps small enough for the narrow direction and then crawls along the broad
  one, whose coordinate is an AR(1) process with tau_int = (1 + rho) / (2 (1 - rho)),
  rho = cos(L theta), cos(theta) = 1 - eps^2 / (2 sigma^2) (printed next to the measurement).
  Observable: the broad coordinate; exact <x_broad^2> = 4.
- `ising`: the 4x4 periodic Ising model at beta_c through the Hubbard-Stratonovich relaxation
  (`diffsci.physics.ising_hubbard_stratonovich`), a mixture of 2^16 Gaussians with two dominant
  modes. HMC in x tunnels rarely between them; in z the flow has joined them. Observables: the
  magnetization estimator m = mean(tanh x) (its autocorrelation) and the unbiased estimator of
  <m_s^2>, ((sum tanh x)^2 - sum tanh^2 x + N) / N^2, against exact enumeration.

Writes latent_hmc_<target>_autocorrelation.png (autocorrelation functions) and
latent_hmc_<target>_samples.png (2D: samples over the target's contours; Ising: the
magnetization along one chain of each sampler).

Run:  python examples/latent_hmc.py [narrow|ising] [--train-steps N --mc-steps N
      --log-det jacobian|integrated --out runs/latent-hmc]
"""

import argparse
import math
import pathlib
import time

import jax
import numpy as np

from diffsci.physics import ISING_BETA_C
from diffsci.plot import pyplot


def ar1_tau(eps, num_steps, sigma):
    """tau_int of HMC's coordinate along a Gaussian axis of width sigma (acceptance 1)."""
    theta = math.acos(1 - 0.5 * (eps / sigma) ** 2)
    rho = math.cos(num_steps * theta)
    return (1 + rho) / (2 * (1 - rho))


def narrow_target(key):
    import jax.numpy as jnp

    import diffsci.flows as df

    sigmas, angle = np.array([2.0, 0.2]), math.pi / 4
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag(sigmas**2) @ rot.T
    prec = jnp.asarray(np.linalg.inv(cov))

    def energy(x):
        return 0.5 * x @ (prec @ x)

    def observables(x):  # the coordinate whose autocorrelation is shown, its square, and x
        b = x @ jnp.asarray(rot[:, 0])
        return jnp.concatenate([jnp.stack([b, b**2]), x])

    return {
        "energy": energy,
        "flow": df.MongeAmpereFlow(2, key=key, width=16, steps=8),
        "train": dict(steps=300, batch=128, learning_rate=3e-2),
        "exact_f": -math.log(2 * math.pi * math.sqrt(np.linalg.det(cov))),
        "observables": observables,
        "names": ("x_broad", "x_broad^2"),
        "exact_second": float(sigmas[0] ** 2),
        "physical_start": lambda z: (z * jnp.asarray(sigmas)) @ jnp.asarray(rot).T,
        "mc": dict(step_size=0.15, num_steps=10, chains=16, steps=2000),
        "ar1": lambda eps, n: ar1_tau(eps, n, float(sigmas[0])),
        "cov": cov,
        "dim": 2,
    }


def ising_target(key, length=4, beta=ISING_BETA_C):
    import jax.numpy as jnp

    import diffsci.flows as df
    import diffsci.physics as dp

    n = length * length
    couplings = np.asarray(dp.square_lattice_couplings(length))
    hs = dp.ising_hubbard_stratonovich(couplings, beta)

    def energy(x):  # a plain function: HMC keeps its energy as a static (hashed) field
        return hs(x)

    # exact <m^2> by enumeration of the 2^n spin states, weights exp(beta/2 s^T J s)
    states = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    log_w = 0.5 * beta * np.einsum("ki,ij,kj->k", states, couplings, states)
    w = np.exp(log_w - log_w.max())
    m2_exact = float(np.sum(w * states.mean(1) ** 2) / np.sum(w))

    def observables(x):
        t = jnp.tanh(x)
        return jnp.stack([jnp.mean(t), (jnp.sum(t) ** 2 - jnp.sum(t**2) + n) / n**2])

    potential = df.SpinFlipSymmetric(
        df.LatticeConvPotential((length, length), 8, 3, rotations=True, key=key)
    )
    flow = df.MongeAmpereFlow(n, potential, steps=10)
    return {
        "energy": energy,
        "flow": flow,
        "train": dict(steps=400, batch=256, learning_rate=2e-2),
        "exact_f": None,
        "observables": observables,
        "names": ("m", "m_s^2"),
        "exact_second": m2_exact,
        "physical_start": None,  # flow samples
        "mc": dict(step_size=0.3, num_steps=10, chains=8, steps=1000),
        "ar1": None,
        "dim": n,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", choices=("narrow", "ising"), default="narrow")
    parser.add_argument("--train-steps", type=int, default=None)
    parser.add_argument("--mc-steps", type=int, default=None)
    parser.add_argument("--chains", type=int, default=None)
    parser.add_argument("--step-size", type=float, default=None)
    parser.add_argument("--num-steps", type=int, default=None)
    parser.add_argument("--log-det", choices=("jacobian", "integrated"), default="jacobian")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/latent-hmc")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.random as jr

    import diffsci.flows as df
    import diffsci.physics as dp

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    k_flow, k_train, k_z0, k_lat, k_phys, k_x0 = jr.split(jr.key(args.seed), 6)
    target = (narrow_target if args.target == "narrow" else ising_target)(k_flow)
    mc = target["mc"]
    for name in ("chains", "step_size", "num_steps"):
        if getattr(args, name) is not None:
            mc[name] = getattr(args, name)
    if args.mc_steps is not None:
        mc["steps"] = args.mc_steps
    train = target["train"]
    if args.train_steps is not None:
        train["steps"] = args.train_steps
    energy, observables = target["energy"], target["observables"]

    t0 = time.time()
    trained = df.train_variational(
        target["flow"], energy, key=k_train, chunk_steps=50, progress=True, **train
    )
    est = trained.estimate
    line = (
        f"flow: F_q = {float(est.variational):.4f} +- {float(est.variational_error):.4f}, "
        f"ESS {float(est.ess):.0f} / {int(est.num_samples)}"
    )
    if target["exact_f"] is not None:
        line += f", KL(q||p) = {float(est.variational) - target['exact_f']:.4f}"
    print(f"{line}; trained in {time.time() - t0:.0f} s")
    flow = trained.flow

    z0 = jr.normal(k_z0, (mc["chains"], target["dim"]))
    start = target["physical_start"]
    x0 = flow.sample(k_x0, mc["chains"]) if start is None else start(z0)
    common = dict(
        steps=mc["steps"],
        chunk_steps=max(1, mc["steps"] // 10),
        progress=True,
        observable=observables,
    )
    log_det = df.JacobianLogDet() if args.log_det == "jacobian" else df.IntegratedLogDet()
    t0 = time.time()
    latent = dp.latent_hmc(
        energy,
        flow,
        z0,
        key=k_lat,
        step_size=mc["step_size"],
        num_steps=mc["num_steps"],
        log_det=log_det,
        **common,
    )
    t_latent = time.time() - t0
    t0 = time.time()
    physical = dp.sample(
        dp.HMC(energy, 1.0, mc["step_size"], mc["num_steps"]), x0, key=k_phys, **common
    )
    t_physical = time.time() - t0

    burn = mc["steps"] // 10
    first, second = target["names"]
    rows = {}
    for name, res, wall in (
        ("latent HMC", latent, t_latent),
        ("physical HMC", physical, t_physical),
    ):
        obs = res.observables[burn:]
        tau = dp.autocorrelation_time(obs[..., 0])
        sq = dp.binning_error(obs[..., 1])
        rows[name] = (obs, tau)
        flag = "" if bool(tau.reliable) else " (chain too short for a reliable estimate)"
        print(
            f"{name}: acceptance {float(jnp.mean(res.acceptance)):.3f}, tau_int({first}) = "
            f"{float(tau.tau):.2f} +- {float(tau.error):.2f}{flag}, <{second}> = "
            f"{float(sq.mean):.4f} +- {float(sq.error):.4f} (exact "
            f"{target['exact_second']:.4f}), wall time {wall:.0f} s"
        )
    if target["ar1"] is not None:
        print(
            f"physical HMC, AR(1) prediction: tau_int = "
            f"{target['ar1'](mc['step_size'], mc['num_steps']):.2f}"
        )
    ratio = float(rows["physical HMC"][1].tau / rows["latent HMC"][1].tau)
    print(
        f"tau_physical / tau_latent = {ratio:.2f} at step size {mc['step_size']}, "
        f"{mc['num_steps']} leapfrog steps"
    )

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    lags = np.arange(min(100, mc["steps"] - burn))
    for name, (obs, tau) in rows.items():
        rho = np.asarray(dp.autocorrelation(obs[..., 0]))[: lags.size]
        ax.plot(lags, rho, label=f"{name} ($\\tau_{{int}}$ = {float(tau.tau):.1f})")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("trajectories")
    ax.set_ylabel(f"autocorrelation of ${first}$")
    ax.legend()
    fig.tight_layout()
    path = out / f"latent_hmc_{args.target}_autocorrelation.png"
    fig.savefig(path, dpi=120)
    print(f"figure: {path}")

    if args.target == "narrow":
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
        grid = np.linspace(-5, 5, 201)
        gx, gy = np.meshgrid(grid, grid)
        pts = np.stack([gx, gy], -1)
        e_grid = 0.5 * np.einsum("...i,ij,...j->...", pts, np.linalg.inv(target["cov"]), pts)
        for ax, (name, (obs, _)) in zip(axes, rows.items(), strict=True):
            cloud = np.asarray(obs[::5, :, 2:]).reshape(-1, 2)
            ax.plot(cloud[:, 0], cloud[:, 1], ".", ms=1, color="0.7", label="all chains")
            # E = k^2 / 2 on the k-sigma ellipse
            ax.contour(gx, gy, e_grid, levels=[0.5, 2.0, 4.5], colors="k", linewidths=0.7)
            path_x = np.asarray(obs[:50, 0, 2:])
            ax.plot(
                path_x[:, 0],
                path_x[:, 1],
                "-o",
                ms=2.5,
                lw=0.8,
                color="C3",
                label="one chain, 50 trajectories",
            )
            ax.set_title(name)
            ax.set_aspect("equal")
            ax.legend(loc="upper left", fontsize=8)
    else:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for name, (obs, _) in rows.items():
            ax.plot(np.asarray(obs[:, 0, 0]), lw=0.7, label=name)
        ax.set_xlabel("trajectories")
        ax.set_ylabel("m = mean(tanh x), one chain")
        ax.legend()
    fig.tight_layout()
    path = out / f"latent_hmc_{args.target}_samples.png"
    fig.savefig(path, dpi=120)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
