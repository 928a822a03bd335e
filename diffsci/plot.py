"""Figures of diffsci's studies and solvers, drawn with matplotlib (the optional extra `plot`).

Every function writes one figure to a file (a non-interactive backend, no display needed) and
takes the records the library returns; the computation stays in the library, so a figure never
changes a number. `python -m diffsci` draws through this module, and so do the examples.

- `pyplot`: matplotlib's pyplot, or an error that says how to install it;
- the Coulomb gas: `coulomb_ground_state`, `coulomb_sampling`;
- the 2D Ising model: `ising_curves` (derivatives through an RG against Onsager),
  `ising_sampling` (Metropolis and Wolff chains);
- variational free energies: `flow_study` (a Monge-Ampère flow), `van_training`;
- `ipeps_history` (an iPEPS optimization);
- Hamiltonian engineering: `chain_engineering`, `lattice_engineering`;
- ODE fits: `lorenz_fit`, `hamiltonian_fit`, `sir_fit`.

matplotlib is imported when a function draws, not when this module is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

INSTALL = 'pip install "diffsci[plot]"'

__all__ = [
    "pyplot",
    "coulomb_ground_state",
    "coulomb_sampling",
    "ising_curves",
    "ising_sampling",
    "flow_study",
    "van_training",
    "ipeps_history",
    "chain_engineering",
    "lattice_engineering",
    "lorenz_fit",
    "hamiltonian_fit",
    "sir_fit",
]


def pyplot():
    """Matplotlib's pyplot with the non-interactive backend Agg (no display needed).

    **Returns:** the module `matplotlib.pyplot`.

    Raises `ModuleNotFoundError` naming the extra to install (`pip install "diffsci[plot]"`)
    when matplotlib is missing.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import matplotlib
    except ModuleNotFoundError as err:
        if err.name != "matplotlib":
            raise
        raise ModuleNotFoundError(
            f"diffsci.plot draws with matplotlib, which is not installed; install it with: "
            f"{INSTALL} (or, in a clone of the repository, pip install -e '.[plot]')",
            name="matplotlib",
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, plt, path, **options) -> Path:
    fig.savefig(path, **options)
    plt.close(fig)
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Coulomb gas


def coulomb_ground_state(gs, path) -> Path:
    """The ground state of the trapped Coulomb gas: the particles coloured by radius, with the
    shells (`diffsci.physics.coulomb_shells`) as dashed circles (a line of points in 1D).

    **Arguments:**

    - `gs`: a `diffsci.physics.CoulombGroundState` (from `coulomb_ground_state` or
      `coulomb_ground_state_study`).
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np
    from matplotlib.patches import Circle

    from diffsci.physics import coulomb_shells

    plt = pyplot()
    x = np.asarray(gs.positions)
    n, dim = x.shape
    energy = float(gs.energy)
    radii = np.linalg.norm(x, axis=1)
    groups = coulomb_shells(radii)
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
    return _save(fig, plt, path, dpi=120, bbox_inches="tight")


def coulomb_sampling(gs, result, *, beta, burn_in, path) -> Path:
    """Hybrid Monte Carlo of the Coulomb gas: the energy of every chain against the trajectory
    (with the ground-state energy and the end of the burn-in), and a histogram of the final
    positions of all chains.

    **Arguments:**

    - `gs`: the `diffsci.physics.CoulombGroundState` the chains started from.
    - `result`: the `diffsci.physics.SampleResult` of `coulomb_sampling_study`.
    - `beta`: the inverse temperature (for the title).
    - `burn_in`: the trajectories discarded (a dotted line).
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    plt = pyplot()
    dim = np.shape(gs.positions)[1]
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
    return _save(fig, plt, path, dpi=120, bbox_inches="tight")


# ---------------------------------------------------------------------------------------------
# 2D Ising model


def ising_curves(temps, log_z, u, c, *, title, path) -> Path:
    """Three panels, ln Z/N, the energy u and the specific heat C per site against the
    temperature, with Onsager's exact curves and T_c.

    **Arguments:**

    - `temps`: the temperatures of the points.
    - `log_z`, `u`, `c`: the values at `temps` (from `diffsci.physics.ising_rg_thermodynamics`).
    - `title`: the figure's title.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    from diffsci.physics import ISING_BETA_C, onsager_curves

    plt = pyplot()
    dense = np.linspace(min(temps) * 0.98, max(temps) * 1.02, 400)
    exact = onsager_curves(dense)
    t_c = 1.0 / ISING_BETA_C
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
    return _save(fig, plt, path, dpi=130)


def ising_sampling(results, *, length, beta, burn_in, exact_energy=None, path) -> Path:
    """Monte Carlo chains of the L x L Ising model: E/N of chain 0 of each sampler against the
    step (with the exact value), and the normalized autocorrelation of the energy.

    **Arguments:**

    - `results`: the dict `{sampler: (SampleResult, ...)}` of
      `diffsci.physics.ising_sampling_study`.
    - `length`: the side L of the lattice.
    - `beta`: the inverse temperature (for the title).
    - `burn_in`: the steps discarded before the autocorrelation.
    - `exact_energy`: the exact energy per site (a dashed line), or `None`.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    from diffsci.physics import autocorrelation

    plt = pyplot()
    n = length * length
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, (result, *_) in results.items():
        e = np.asarray(result.energies[:, 0]) / n
        axes[0].plot(e[: min(400, len(e))], lw=0.7, label=f"{name} (chain 0)")
        rho = np.asarray(autocorrelation(result.energies[burn_in:]))
        axes[1].plot(rho[:50], marker=".", label=name)
    if exact_energy is not None:
        axes[0].axhline(exact_energy, color="k", ls="--", label="exact")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("E/N")
    axes[0].legend()
    axes[1].set_xlabel("lag t (steps)")
    axes[1].set_ylabel(r"$\rho_E(t)$")
    axes[1].axhline(0, color="gray", lw=0.5)
    axes[1].legend()
    fig.suptitle(f"{length}x{length} Ising, beta = {beta:.6f}")
    return _save(fig, plt, path, dpi=120, bbox_inches="tight")


# ---------------------------------------------------------------------------------------------
# variational free energies


def _flow_density_2d(study, plt, path):
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
    _save(fig, plt, path, dpi=110, bbox_inches="tight")


def _flow_magnetization(study, plt, path):
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
    _save(fig, plt, path, dpi=110, bbox_inches="tight")


def flow_study(study: dict, out) -> list[Path]:
    """Two figures of a trained Monge-Ampère flow: `flow_<target>_samples.png` (in 2D the target
    density, the flow density and flow samples; for Ising the histogram of the conditional
    magnetization of flow samples) and `flow_<target>_free_energy.png` (F_q against the training
    step, the exact F and the final importance-sampled F).

    **Arguments:**

    - `study`: the dict of `diffsci.physics.flow_study`.
    - `out`: the folder to write them to.

    **Returns:** the two paths, samples first.
    """
    import numpy as np

    plt = pyplot()
    out = Path(out)
    target = study["target"]
    samples_path = out / f"flow_{target}_samples.png"
    if study["dim"] == 2:
        _flow_density_2d(study, plt, samples_path)
    else:
        _flow_magnetization(study, plt, samples_path)

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
    free_energy_path = _save(
        fig, plt, out / f"flow_{target}_free_energy.png", dpi=110, bbox_inches="tight"
    )
    return [samples_path, free_energy_path]


def van_training(free_energy, *, exact, label, beta, path) -> Path:
    """The training curve of a variational autoregressive network: F_q at the annealed beta_t
    against the step, with the exact F.

    **Arguments:**

    - `free_energy`: F_q per step (`diffsci.physics.VANResult.free_energy`).
    - `exact`: the exact free energy (a dashed line; it also sets the range), or `None`.
    - `label`: the system, for the title.
    - `beta`: the inverse temperature, for the title.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    f = np.asarray(free_energy)
    steps = np.arange(1, len(f) + 1)
    ax.plot(steps, f, lw=0.8, label=r"$F_q$ at $\beta_t$ (training batch)")
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", label="exact $F$")
        lo, hi = exact - 0.05 * abs(exact), exact + 0.3 * abs(exact)
        ax.set_ylim(lo, hi)
    ax.set_xlabel("step")
    ax.set_ylabel("free energy")
    ax.set_title(f"VAN, {label}, beta={beta:.4f}")
    ax.legend()
    return _save(fig, plt, path, dpi=120, bbox_inches="tight")


def ipeps_history(history, *, reference, qmc, title, path) -> Path:
    """The energy of an iPEPS optimization above a reference (log scale) against the L-BFGS
    iteration.

    **Arguments:**

    - `history`: the energy per site at each iteration.
    - `reference`: the published iPEPS energy at the same D, or `None` (then the best energy).
    - `qmc`: the quantum Monte Carlo energy (a second curve), or `None`.
    - `title`: the figure's title.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    it = np.arange(len(history))
    ref = reference if reference is not None else min(history)
    gap = np.maximum(np.asarray(history) - ref, 1e-16)
    label = "E - published iPEPS (same D)" if reference is not None else "E - best E"
    ax.semilogy(it, gap, "o-", ms=3, color="C3", label=label)
    if qmc is not None:
        ax.semilogy(it, np.asarray(history) - qmc, "-", color="C0", label="E - QMC (Sandvik 1997)")
    ax.set_xlabel("L-BFGS iteration")
    ax.set_ylabel("energy per site above reference")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, plt, path, dpi=130)


# ---------------------------------------------------------------------------------------------
# Hamiltonian engineering


def chain_engineering(result, path) -> Path:
    """A `diffsci.physics.ChainEngineeringResult` in three panels: the engineered couplings and
    fields, the achieved against the target profile, and the loss.

    **Arguments:**

    - `result`: the record of `diffsci.physics.engineer_tfim_profile`.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    L = result.fields.shape[0]
    nb = result.couplings.shape[0]
    ax = axes[0]
    ax.plot(np.arange(nb) + 0.5, result.couplings, "o-", label="$J_b$ (bond b, b+1)")
    ax.plot(np.arange(L), result.fields, "s-", label="$h_i$")
    ax.set_xlabel("site")
    ax.set_title("engineered couplings")
    ax.legend()
    ax = axes[1]
    ax.plot(np.arange(L), result.target, "k--", label="target")
    ax.plot(np.arange(L), result.profile, "o", label="achieved")
    ax.set_xlabel("site i")
    ax.set_ylabel(r"$\langle\sigma^x_i\rangle$")
    ax.set_title(f"ground-state profile, L = {L}")
    ax.legend()
    ax = axes[2]
    ax.semilogy(np.asarray(result.losses))
    ax.set_xlabel("Adam step")
    ax.set_ylabel("loss")
    ax.set_title("mean squared deviation")
    fig.tight_layout()
    return _save(fig, plt, path, dpi=120)


def lattice_engineering(result, path, *, title: str = "") -> Path:
    """A `diffsci.physics.LatticeEngineeringResult` in two panels: the loss per step, and the
    target against the achieved (and initial) value per entry.

    **Arguments:**

    - `result`: the record of `diffsci.physics.engineer_lattice`.
    - `path`: the image file to write.
    - `title`: the title of the second panel (default "target vs achieved").

    **Returns:** `path`, as a `pathlib.Path`.
    """
    import numpy as np

    plt = pyplot()
    fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(10, 3.8))
    losses = np.asarray(result.losses)
    ax_loss.semilogy(np.arange(len(losses)), np.maximum(losses, 1e-300))
    ax_loss.set_xlabel("Adam step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("loss")
    index = np.arange(len(result.target))
    ax_fit.plot(index, np.asarray(result.initial), "x", color="0.6", label="initial")
    ax_fit.plot(index, np.asarray(result.target), "o", mfc="none", ms=9, label="target")
    ax_fit.plot(index, np.asarray(result.achieved), ".", ms=7, label="achieved")
    ax_fit.set_xlabel("entry (site or level)")
    ax_fit.legend()
    ax_fit.set_title(title or "target vs achieved")
    fig.tight_layout()
    return _save(fig, plt, path, dpi=120)


# ---------------------------------------------------------------------------------------------
# ODE fits


def _losses_panel(ax, losses, title):
    import numpy as np

    ax.semilogy(np.asarray(losses))
    ax.set(xlabel="iteration", ylabel="loss", title=title)


def _two_panels(plt):
    return plt.subplots(1, 2, figsize=(10, 4))


def lorenz_fit(observed, fitted, losses, *, lyapunov, path) -> Path:
    """A fit of the Lorenz system: the observed and fitted trajectories in the (x, z) plane, and
    the loss per iteration.

    **Arguments:**

    - `observed`: the observed states, shape `(n, 3)`.
    - `fitted`: the fitted trajectory, shape `(m, 3)`.
    - `losses`: the loss per iteration (`diffsci.physics.FitResult.losses`).
    - `lyapunov`: the largest Lyapunov exponent, for the title.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    plt = pyplot()
    fig, axes = _two_panels(plt)
    axes[0].plot(observed[:, 0], observed[:, 2], "o", ms=3, label="observed")
    axes[0].plot(fitted[:, 0], fitted[:, 2], "-", label="fitted")
    axes[0].set(xlabel="x", ylabel="z", title=f"Lorenz fit, $\\lambda_1$ = {lyapunov:.3f}")
    axes[0].legend()
    _losses_panel(axes[1], losses, "mean squared error")
    fig.tight_layout()
    return _save(fig, plt, path, dpi=120)


def hamiltonian_fit(q, true, initial, learned, losses, *, path) -> Path:
    """A potential learned from trajectories: the true, initial and learned V(q), and the loss
    per iteration.

    **Arguments:**

    - `q`: the positions.
    - `true`, `initial`, `learned`: the potentials at `q`.
    - `losses`: the loss per iteration (`diffsci.physics.FitResult.losses`).
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    plt = pyplot()
    fig, axes = _two_panels(plt)
    axes[0].plot(q, true, "k-", label="true $1 - \\cos q$")
    axes[0].plot(q, initial, ":", label="initial (harmonic)")
    axes[0].plot(q, learned, "--", label="learned")
    axes[0].set(xlabel="q", ylabel="V(q)", title="potential from trajectories (leapfrog adjoint)")
    axes[0].legend()
    _losses_panel(axes[1], losses, "trajectory misfit")
    fig.tight_layout()
    return _save(fig, plt, path, dpi=120)


def sir_fit(ts, noisy, fine, curve, losses, *, beta, gamma, path) -> Path:
    """A fit of the SIR model: the noisy infected fraction, the fitted I(t) and S(t), and the loss
    per iteration.

    **Arguments:**

    - `ts`, `noisy`: the observation days and the observed infected fraction.
    - `fine`, `curve`: the days and the fitted trajectory (S, I, R), shape `(len(fine), 3)`.
    - `losses`: the loss per iteration (`diffsci.physics.FitResult.losses`).
    - `beta`, `gamma`: the fitted rates, for the legend.
    - `path`: the image file to write.

    **Returns:** `path`, as a `pathlib.Path`.
    """
    plt = pyplot()
    fig, axes = _two_panels(plt)
    axes[0].plot(ts, noisy, "o", ms=3, label="noisy I(t)")
    axes[0].plot(fine, curve[:, 1], "-", label=f"fit: beta={beta:.3f}, gamma={gamma:.3f}")
    axes[0].plot(fine, curve[:, 0], ":", label="S(t)")
    axes[0].set(xlabel="day", ylabel="fraction", title="SIR fit")
    axes[0].legend()
    _losses_panel(axes[1], losses, "mean squared error")
    fig.tight_layout()
    return _save(fig, plt, path, dpi=120)
