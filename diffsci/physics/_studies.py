r"""Studies: the flagship computations that `python -m diffsci` and the examples run, as library
functions (a model, its solver and the checks against exact results, with a log of what was
found). Figures of their results are drawn by `diffsci.plot`.

- the Coulomb gas: `coulomb_ground_state_study`, `coulomb_sampling_study`, `coulomb_shells`;
- the 2D Ising model: `ising_rg_thermodynamics` (derivatives of ln Z through HOTRG/TRG),
  `onsager_curves`, `ising_sampling_study` (Metropolis and Wolff against enumeration);
- Monge-Ampère flows: `FLOW_TARGETS`, `flow_target`, `flow_study`, `flow_study_report`;
- Hamiltonian engineering on a lattice: `stripe_potential`, `lattice_engineering_problem`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from diffsci._internal._validate import (
    callable_arg,
    choice,
    fail,
    float_array,
    path_or_none,
    real_number,
    static_int,
)

from ._onsager import ISING_BETA_C

# ---------------------------------------------------------------------------------------------
# Coulomb gas


def coulomb_shells(radii, gap: float = 0.15) -> list[np.ndarray]:
    r"""Group the radii of a cluster into shells: sorted, a new shell starts where the radius jumps
    by more than `gap` times the largest radius.

    **Arguments:**

    - `radii`: the distances of the particles from the centre of the trap, shape `(n,)`.
    - `gap`: the jump, relative to the largest radius, that separates two shells.

    **Returns:** a list of NumPy arrays of sorted radii, innermost shell first.

    Checked: `radii` a non-empty 1-D real array of finite values $\ge 0$, `gap` a finite
    number $> 0$.
    """
    who = "coulomb_shells"
    float_array(radii, "radii", who, ndim=1)
    r = np.asarray(radii)
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r < 0):
        fail(who, "radii", "to be a non-empty array of finite values >= 0", radii)
    real_number(gap, "gap", who, minimum=0.0)
    r = np.sort(np.asarray(radii))
    cuts = np.nonzero(np.diff(r) > gap * r[-1])[0] + 1
    return [chunk for chunk in np.split(r, cuts)]


def coulomb_ground_state_study(
    n: int,
    dim: int,
    *,
    seed: int = 0,
    starts: int = 32,
    sharding=None,
    log: Callable[[str], Any] = print,
):
    r"""The ground state of the trapped Coulomb gas with its checks, reported through `log`.

    Calls [`diffsci.physics.coulomb_ground_state`][] (BFGS from `starts` random starts in
    parallel) and logs the energy, how many starts found it, the virial identity
    $E_0 = 3 \sum_i |x_i|^2$, the shells ([`diffsci.physics.coulomb_shells`][]) and the
    Hessian spectrum. `diffsci.plot.coulomb_ground_state` draws it.

    **Arguments:**

    - `n`: number of particles (at least 2).
    - `dim`: spatial dimension.
    - `seed`: the seed of the random starts.
    - `starts`: number of random starts.
    - `sharding`: optional `jax.sharding.Sharding` for the starts (the result does not depend
      on it).
    - `log`: called with each line of the report (default `print`).

    **Returns:** the [`diffsci.physics.CoulombGroundState`][].

    Checked: `n` an integer $\ge 2$, `dim` and `starts` integers $\ge 1$, `seed` an integer,
    `log` callable.
    """
    import jax
    import jax.numpy as jnp

    from ._coulomb import coulomb_ground_state

    who = "coulomb_ground_state_study"
    static_int(n, "n", who, minimum=2)
    static_int(dim, "dim", who, minimum=1)
    static_int(seed, "seed", who)
    static_int(starts, "starts", who, minimum=1)
    callable_arg(log, "log", who)
    t0 = time.perf_counter()
    gs = coulomb_ground_state(n, dim, key=jax.random.key(seed), starts=starts, sharding=sharding)
    energy = float(gs.energy)
    x = np.asarray(gs.positions)
    radii = np.linalg.norm(x, axis=1)
    groups = coulomb_shells(radii)
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
    return gs


def _run_folder(root, prefix: str, params: dict):
    """`<root>/<prefix>-<hash of the run's settings>`, the checkpoint folder of a run (`None`
    without a root)."""
    if root is None:
        return None
    from pathlib import Path

    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return Path(root) / f"{prefix}-{tag}"


def coulomb_sampling_study(
    gs,
    *,
    beta: float,
    chains: int = 16,
    steps: int = 2000,
    chunk_steps: int = 200,
    leapfrog_steps: int = 10,
    step_size: float | None = None,
    burn_in: int = 200,
    seed: int = 0,
    sharding=None,
    checkpoint_root=None,
    progress=True,
    log: Callable[[str], Any] = print,
):
    r"""Hybrid Monte Carlo of the trapped Coulomb gas at inverse temperature `beta`, started at the
    ground state `gs`: the mean energy with its binning error, its autocorrelation time, and the
    exact virial check $\langle 2 V_\text{trap} - V_\text{Coulomb} \rangle = N d / \beta$,
    reported through `log`. `diffsci.plot.coulomb_sampling` draws it.

    The chains start at `gs` plus Gaussian noise of the thermal width of the stiffest Hessian
    mode; the leapfrog step is $0.5 / \sqrt{\beta \lambda_\max}$ unless given.

    **Arguments:**

    - `gs`: a [`diffsci.physics.CoulombGroundState`][].
    - `beta`: the inverse temperature.
    - `chains`: number of chains.
    - `steps`: HMC trajectories per chain.
    - `chunk_steps`: trajectories per chunk (a checkpoint after each).
    - `leapfrog_steps`: leapfrog steps per trajectory.
    - `step_size`: the leapfrog step (default from the Hessian, above).
    - `burn_in`: trajectories discarded before the statistics.
    - `seed`: the chains use `seed + 1`.
    - `sharding`: optional `jax.sharding.Sharding` for the chains.
    - `checkpoint_root`: a folder, or `None` for no checkpoints: the run checkpoints in
      `<checkpoint_root>/hmc-<hash of its settings>`, so an interrupted run started again with
      the same settings resumes where it stopped, with identical results.
    - `progress`: the progress bar of [`diffsci.physics.sample`][].
    - `log`: called with each line of the report (default `print`).

    **Returns:** `(result, energy, virial)`: the [`diffsci.physics.SampleResult`][] and the
    [`diffsci.physics.BinningResult`][]s of the energy and of the virial after the burn-in.

    Checked: `gs` a `CoulombGroundState`, `beta` a finite number $> 0$, `chains`, `steps`,
    `chunk_steps` and `leapfrog_steps` integers $\ge 1$, `burn_in` an integer in
    $[0, \text{steps})$, `step_size` `None` or a finite number $> 0$, `seed` an integer,
    `checkpoint_root` a path or `None`, `log` callable.
    """
    import jax
    import jax.numpy as jnp

    from ._coulomb import CoulombGroundState, coulomb_energy, coulomb_virial
    from ._samplers import HMC, sample
    from ._stats import autocorrelation_time, binning_error, effective_sample_size

    who = "coulomb_sampling_study"
    if not isinstance(gs, CoulombGroundState):
        fail(who, "gs", "to be a CoulombGroundState", gs, TypeError)
    real_number(beta, "beta", who, minimum=0.0)
    static_int(chains, "chains", who, minimum=1)
    steps = static_int(steps, "steps", who, minimum=1)
    static_int(chunk_steps, "chunk_steps", who, minimum=1)
    static_int(leapfrog_steps, "leapfrog_steps", who, minimum=1)
    static_int(burn_in, "burn_in", who, minimum=0, maximum=steps - 1)
    if step_size is not None:
        real_number(step_size, "step_size", who, minimum=0.0)
    static_int(seed, "seed", who)
    path_or_none(checkpoint_root, "checkpoint_root", who)
    callable_arg(log, "log", who)

    x_gs = gs.positions
    n, dim = x_gs.shape
    lam_max = float(gs.hessian_eigenvalues[-1])
    if step_size is None:
        step_size = 0.5 / np.sqrt(beta * lam_max)
    sampler = HMC(coulomb_energy, beta, step_size, leapfrog_steps)
    key_init, key_run = jax.random.split(jax.random.key(seed + 1))
    x0 = x_gs + jax.random.normal(key_init, (chains, n, dim)) / np.sqrt(beta * lam_max)
    settings = dict(
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
    checkpoint_dir = _run_folder(checkpoint_root, "hmc", settings)
    log(
        f"HMC at beta={beta}: {chains} chains x {steps} trajectories of {leapfrog_steps} "
        f"leapfrog steps of {step_size:.4g}"
    )
    t0 = time.perf_counter()
    result = sample(
        sampler,
        x0,
        key=key_run,
        steps=steps,
        observable=coulomb_virial,
        chunk_steps=chunk_steps,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
        sharding=sharding,
    )
    energies = result.energies[burn_in:]
    e = binning_error(energies)
    tau = autocorrelation_time(energies)
    assert result.observables is not None  # `observable` was given
    v = binning_error(result.observables[burn_in:])
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
        f"ESS = {float(effective_sample_size(energies)):.0f}"
    )
    log(
        f"  virial check <2 V_trap - V_Coulomb> = {float(v.mean):.5f} +- {float(v.error):.5f}, "
        f"exact N d / beta = {exact_v:.5f} ({abs(float(v.mean) - exact_v) / float(v.error):.1f} "
        "sigma)"
    )
    return result, e, v


# ---------------------------------------------------------------------------------------------
# 2D Ising model: thermodynamics through an RG, Onsager's curves, Monte Carlo


def _temperatures(temps, who: str) -> np.ndarray:
    float_array(temps, "temps", who, ndim=1)
    t = np.asarray(temps, dtype=float)  # (not through float_array: float32 without x64)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        fail(who, "temps", "to be a non-empty 1-D array of finite temperatures > 0", temps)
    return t


def ising_rg_thermodynamics(
    temps,
    *,
    chi: int,
    method: str = "hotrg",
    steps: int = 30,
    progress: Callable | None = None,
    checkpoint=None,
):
    r"""ln Z per site, the energy $u = -\partial_\beta \ln Z/N$ and the specific heat
    $C = \beta^2 \partial^2_\beta \ln Z/N$ of the 2D Ising model at each temperature, as
    derivatives through an RG ([`diffsci.tn.ising_log_z`][], HOTRG or TRG on a torus of
    $2^\text{steps}$ sites): one forward-over-reverse pass per temperature gives all three.

    **Arguments:**

    - `temps`: the temperatures, a 1-D array.
    - `chi`: the bond dimension of the RG.
    - `method`: `"hotrg"` or `"trg"`.
    - `steps`: RG steps.
    - `progress`: called as `progress(i, T, log_z, u, c, seconds)` after each temperature
      (`seconds` is `None` for a temperature read back from the checkpoint), or `None`.
    - `checkpoint`: a path without extension, or `None`. The rows done so far are saved after
      each temperature, and a run of the same settings, temperatures and dtype starts after the
      last saved row; a checkpoint of another run is refused
      ([`diffsci.utils.CheckpointError`][]), never overwritten or mixed in.

    **Returns:** `(log_z, u, c)`, NumPy arrays of the length of `temps`.

    Checked: `temps` a non-empty 1-D array of finite numbers $> 0$, `chi` an integer $\ge 2$,
    `method` one of `"hotrg"`, `"trg"`, `steps` an integer in $[1, 60]$, `progress` callable or
    `None`, `checkpoint` a path or `None`.
    """
    import jax.numpy as jnp

    from diffsci.utils import (
        checkpoint_exists,
        load_checkpoint,
        read_checkpoint_metadata,
        read_run_checkpoint_metadata,
        save_checkpoint,
    )

    who = "ising_rg_thermodynamics"
    temps = _temperatures(temps, who)
    static_int(chi, "chi", who, minimum=2)
    choice(method, "method", who, ("hotrg", "trg"))
    static_int(steps, "steps", who, minimum=1, maximum=60)
    callable_arg(progress, "progress", who, optional=True)
    path_or_none(checkpoint, "checkpoint", who)

    one = _sweep_point(chi, method, steps)
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


def onsager_curves(temps):
    r"""Onsager's exact ln Z per site, energy and specific heat per site of the infinite 2D Ising
    model at the given temperatures ([`diffsci.physics.onsager_log_z`][],
    [`diffsci.physics.onsager_energy`][], [`diffsci.physics.onsager_specific_heat`][] at
    $\beta = 1/T$).

    **Arguments:**

    - `temps`: the temperatures, a 1-D array.

    **Returns:** `(log_z, u, c)`, NumPy arrays of the length of `temps`.

    Checked: `temps` a non-empty 1-D array of finite numbers $> 0$.
    """
    from ._onsager import onsager_energy, onsager_log_z, onsager_specific_heat

    betas = 1.0 / _temperatures(temps, "onsager_curves")
    return tuple(
        np.asarray(f(betas)) for f in (onsager_log_z, onsager_energy, onsager_specific_heat)
    )


ISING_SAMPLERS = ("metropolis", "wolff")


def ising_sampling_study(
    length: int,
    beta: float,
    *,
    chains: int = 16,
    steps: int = 4000,
    chunk_steps: int = 500,
    burn_in: int = 200,
    seed: int = 0,
    samplers=ISING_SAMPLERS,
    checkpoint_root=None,
    progress=True,
    log: Callable[[str], Any] = print,
):
    r"""Metropolis sweeps and Wolff clusters on the periodic `length` x `length` Ising model
    against exact enumeration (up to 24 sites): the energy per site with its binning error, the
    integrated autocorrelation time and the effective sample size of each sampler, reported
    through `log`. `diffsci.plot.ising_sampling` draws it.

    **Arguments:**

    - `length`: the side L of the lattice.
    - `beta`: the inverse temperature.
    - `chains`: chains per sampler, all started from the same random configurations.
    - `steps`: sweeps (Metropolis) or cluster flips (Wolff) per chain.
    - `chunk_steps`: steps per chunk (a checkpoint after each).
    - `burn_in`: steps discarded before the statistics.
    - `seed`: the start configurations use `seed`, the chains `seed + 1`.
    - `samplers`: a sequence of `"metropolis"` and `"wolff"`.
    - `checkpoint_root`: a folder, or `None` for no checkpoints: each sampler checkpoints in
      `<checkpoint_root>/<sampler>-<hash of its settings>`, so an interrupted run started again
      with the same settings resumes where it stopped, with identical results.
    - `progress`: the progress bar of [`diffsci.physics.sample`][].
    - `log`: called with each line of the report (default `print`).

    **Returns:** `(results, exact_energy)`: a dict
    `{sampler: (SampleResult, BinningResult of E/N, AutocorrelationTime)}` and the exact energy
    per site (`None` above 24 sites).

    Checked: `length` an integer $\ge 2$, `beta` a finite number, `chains`, `steps` and
    `chunk_steps` integers $\ge 1$, `burn_in` an integer in $[0, \text{steps})$, `seed` an
    integer, every sampler one of `"metropolis"`, `"wolff"`, `checkpoint_root` a path or `None`,
    `log` callable.
    """
    import jax

    from ._ising import ising_thermodynamics, square_lattice_couplings
    from ._samplers import IsingMetropolis, Wolff, sample
    from ._stats import autocorrelation_time, binning_error

    who = "ising_sampling_study"
    static_int(length, "length", who, minimum=2)
    real_number(beta, "beta", who)
    static_int(chains, "chains", who, minimum=1)
    steps = static_int(steps, "steps", who, minimum=1)
    static_int(chunk_steps, "chunk_steps", who, minimum=1)
    static_int(burn_in, "burn_in", who, minimum=0, maximum=steps - 1)
    static_int(seed, "seed", who)
    if isinstance(samplers, str):
        fail(who, "samplers", "to be a sequence of sampler names", samplers, TypeError)
    for name in samplers:
        choice(name, "samplers", who, ISING_SAMPLERS)
    path_or_none(checkpoint_root, "checkpoint_root", who)
    callable_arg(log, "log", who)

    n = length * length
    couplings = square_lattice_couplings(length)
    exact_e = exact_c = None
    if n <= 24:  # exact enumeration limit of ising_exact
        t0 = time.perf_counter()
        thermo = ising_thermodynamics(couplings, beta)  # pyright: ignore[reportArgumentType]  (a float; annotated Array)
        exact_e, exact_c = float(thermo.energy) / n, float(thermo.specific_heat) / n
        log(
            f"exact enumeration of 2^{n} states ({time.perf_counter() - t0:.1f} s): "
            f"ln Z/N = {float(thermo.log_z) / n:.10f}, E/N = {exact_e:.10f}, C/N = {exact_c:.10f}"
        )
    x0 = jax.random.choice(jax.random.key(seed), np.array([-1.0, 1.0]), (chains, n))
    results = {}
    for name in samplers:
        if name == "metropolis":
            sampler = IsingMetropolis(couplings, beta)
        else:
            sampler = Wolff(length, beta)
        settings = dict(
            sampler=name,
            length=length,
            beta=beta,
            chains=chains,
            steps=steps,
            chunk=chunk_steps,
            seed=seed,
        )
        checkpoint_dir = _run_folder(checkpoint_root, name, settings)
        t0 = time.perf_counter()
        result = sample(
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
        stats = binning_error(e)
        tau = autocorrelation_time(e)
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
    return results, exact_e


# ---------------------------------------------------------------------------------------------
# Monge-Ampère flows on targets with a known ln Z

#: The targets of `flow_target` and `flow_study`.
FLOW_TARGETS = ("gaussian", "ring", "mixture", "ising")
_FLOW_SOLVERS = ("rk4", "heun")


def flow_target(
    name: str,
    *,
    length: int = 4,
    beta: float = ISING_BETA_C,
    width: int = 32,
    key=None,
    shift: float = 1.0,
) -> dict:
    r"""A target density $p(x) = e^{-E(x)} / Z$ whose $\ln Z$ is known exactly, and a flow
    potential suited to it.

    - `gaussian`: $N(\mu, \mathrm{diag}(\sigma^2))$, $\mu = (1, -0.5)$, $\sigma = (1.5, 0.6)$;
    - `ring`: $e^{-(|x| - 2)^2 / (2 \cdot 0.3^2)}$, with $Z = 2\pi [s^2 e^{-R^2/2s^2}
      + R s \sqrt{\pi/2} (1 + \mathrm{erf}(R / (s \sqrt 2)))]$ in closed form;
    - `mixture`: four Gaussians of width 0.5 at $(\pm 1.5, \pm 1.5)$ with weights 0.4, 0.3,
      0.2, 0.1 (normalized, $\ln Z = 0$);
    - `ising`: the periodic `length` x `length` Ising model at `beta` through
      [`diffsci.physics.ising_hubbard_stratonovich`][] (with `shift`), $\ln Z$ exact from
      Kaufman's formula ([`diffsci.physics.kaufman_log_z`][]), with a spin-flip, translation and
      rotation symmetric convolutional potential with 4 functions of the uniform mode.

    **Arguments:**

    - `name`: one of `FLOW_TARGETS`.
    - `length`, `beta`, `shift`: the Ising target's lattice side, inverse temperature and
      Hubbard-Stratonovich shift.
    - `width`: the Ising potential has `width // 4` channels.
    - `key`: the key of the Ising potential's initial parameters (default `jax.random.key(0)`).

    **Returns:** a dict: `energy`, `dim`, `exact_f` ($= -\ln Z$ of `energy`), `description`,
    `potential` (`None` for the 2D targets: the default one-layer potential), and
    `physical(f, err)`, mapping a free energy of `energy` (and its error) to the physical one
    (the identity but for Ising).

    Checked: `name` one of `FLOW_TARGETS`; for Ising, `length` an integer $\ge 2$, `width` an
    integer $\ge 1$, `beta` a finite number $> 0$, `shift` a finite number.
    """
    who = "flow_target"
    choice(name, "name", who, FLOW_TARGETS)
    if name == "ising":
        import jax

        from diffsci.flows import LatticeConvPotential, SpinFlipSymmetric

        from ._hs import ising_hubbard_stratonovich
        from ._ising import square_lattice_couplings
        from ._kaufman import kaufman_log_z

        static_int(length, "length", who, minimum=2)
        static_int(width, "width", who, minimum=1)
        real_number(beta, "beta", who, minimum=0.0)
        real_number(shift, "shift", who)
        couplings = square_lattice_couplings(length)
        energy = ising_hubbard_stratonovich(couplings, beta, shift)
        ln_z = float(kaufman_log_z(beta, length, length))
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
    centers = jnp.array([[1.5, 1.5], [-1.5, 1.5], [-1.5, -1.5], [1.5, -1.5]])
    log_w = jnp.log(jnp.array([0.4, 0.3, 0.2, 0.1]))
    s = 0.5

    def energy(x):
        d2 = jnp.sum((x - centers) ** 2, axis=1)
        comp = log_w - 0.5 * d2 / s**2 - math.log(2 * math.pi * s**2)
        return -jnp.logaddexp.reduce(comp)

    return energy, 0.0, "mixture of 4 Gaussians (width 0.5, weights 0.4/0.3/0.2/0.1)"


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
    beta: float = ISING_BETA_C,
    shift: float = 1.0,
    solver: str = "rk4",
    exact_max_dim: int = 64,
    checkpoint_dir=None,
    progress: bool = True,
) -> dict:
    r"""Train a Monge-Ampère flow on a target of [`diffsci.physics.flow_target`][] by minimizing
    the variational free energy $F_q = \langle E + \ln q \rangle_q \ge F = -\ln Z$
    ([`diffsci.flows.train_variational`][]), then estimate $F$ three ways: with the training
    integrator and $\ln q$ integrated along the path; with `ReversibleRK4` at twice the steps
    (their difference is the discretization error); and, up to `exact_max_dim` dimensions, with
    the exact log-determinant of the training map, whose $\ln q$ is the density of its samples
    without discretization error (a strict bound and unbiased importance weights).
    [`diffsci.physics.flow_study_report`][] says what was found; `diffsci.plot.flow_study`
    draws it.

    **Arguments:**

    - `name`: one of `FLOW_TARGETS`.
    - `steps`, `batch`, `lr`, `chunk_steps`: training steps, samples per step, the Adam
      learning rate, steps per chunk (a checkpoint after each).
    - `width`: hidden units of the potential (Ising: `width // 4` channels).
    - `flow_steps`: integration steps over $t \in [0, 1]$.
    - `seed`: the flow's parameters use `seed`, training `seed + 1`, the estimates `seed + 2`.
    - `eval_samples`: samples of the final estimates.
    - `length`, `beta`, `shift`: of the Ising target.
    - `solver`: the reversible integrator of training, `"rk4"` or `"heun"`.
    - `exact_max_dim`: the largest dimension with the exact log-determinant estimate.
    - `checkpoint_dir`: the folder of training's checkpoints, or `None`.
    - `progress`: show training's progress bar.

    **Returns:** the dict of `flow_target` with `target` (the name), `result` (the training
    record, its `estimate` the first estimate), `fine`, `exact` (`None` above `exact_max_dim`)
    and `seconds` (training time).

    Checked: `name` one of `FLOW_TARGETS`, `solver` one of `"rk4"`, `"heun"`, `steps`,
    `batch`, `width`, `flow_steps`, `chunk_steps` and `eval_samples` integers $\ge 1$, `lr` a
    finite number $> 0$, `seed` an integer, `exact_max_dim` an integer $\ge 0$, `checkpoint_dir`
    a path or `None`; the Ising target's arguments as in `flow_target`.
    """
    import jax

    from diffsci.flows import MongeAmpereFlow, flow_free_energy, train_variational
    from diffsci.ode import ReversibleHeun, ReversibleRK4

    who = "flow_study"
    choice(name, "name", who, FLOW_TARGETS)
    choice(solver, "solver", who, _FLOW_SOLVERS)
    for arg, value in (
        ("steps", steps),
        ("batch", batch),
        ("width", width),
        ("flow_steps", flow_steps),
        ("chunk_steps", chunk_steps),
        ("eval_samples", eval_samples),
    ):
        static_int(value, arg, who, minimum=1)
    real_number(lr, "lr", who, minimum=0.0)
    static_int(seed, "seed", who)
    static_int(exact_max_dim, "exact_max_dim", who, minimum=0)
    path_or_none(checkpoint_dir, "checkpoint_dir", who)

    tgt = flow_target(
        name, length=length, beta=beta, width=width, key=jax.random.key(seed), shift=shift
    )
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


_STUDY_KEYS = ("physical", "exact_f", "description", "seconds", "result", "fine")


def flow_study_report(study: dict) -> str:
    r"""What a [`diffsci.physics.flow_study`][] found, in words: the exact $F$, and for each
    estimate the variational bound $F_q$ and the importance-sampled $F_\text{IS}$ (physical
    units), their errors, their deviations from $F$ and the effective sample size.

    **Arguments:**

    - `study`: the dict `flow_study` returns.

    **Returns:** the report, lines joined by newlines.

    Checked: `study` a dict with the keys of `flow_study`'s.
    """
    who = "flow_study_report"
    if not isinstance(study, dict):
        fail(who, "study", "to be the dict flow_study returns", study, TypeError)
    missing = [k for k in _STUDY_KEYS if k not in study]
    if missing:
        fail(
            who,
            "study",
            "to be the dict flow_study returns",
            f"a dict without {missing}",
            described=True,
        )
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


# ---------------------------------------------------------------------------------------------
# Hamiltonian engineering on a tight-binding lattice

LATTICE_PROBLEMS = ("density", "spectrum", "thermal")


def stripe_potential(lattice, amplitude: float = 0.6) -> np.ndarray:
    r"""A stripe potential on a periodic `rows` x `cols` lattice,
    $\epsilon(x, y) = a \cos(2\pi x / \text{rows}) + \tfrac{a}{2} \cos(2\pi y / \text{cols})$
    at the site of row $x$ and column $y$ (site index $x \cdot \text{cols} + y$).

    **Arguments:**

    - `lattice`: a [`diffsci.physics.TightBindingLattice`][].
    - `amplitude`: $a$.

    **Returns:** the on-site potentials, a NumPy array of shape `(lattice.num_sites,)`.

    Checked: `lattice` a `TightBindingLattice`, `amplitude` a finite number.
    """
    from ._lattice import TightBindingLattice

    who = "stripe_potential"
    if not isinstance(lattice, TightBindingLattice):
        fail(who, "lattice", "to be a TightBindingLattice", lattice, TypeError)
    real_number(amplitude, "amplitude", who)
    length, width = lattice.shape
    x, y = np.divmod(np.arange(lattice.num_sites), width)
    return amplitude * np.cos(2 * np.pi * x / length) + 0.5 * amplitude * np.cos(
        2 * np.pi * y / width
    )


def lattice_engineering_problem(name: str, size: int, particles: int, beta: float, seed: int):
    r"""A preset problem of [`diffsci.physics.engineer_lattice`][] on the periodic `size` x `size`
    square lattice, the targets read off a reference Hamiltonian (the lattice with
    [`diffsci.physics.stripe_potential`][]):

    - `density`: the ground-state density of `particles` fermions, fitting the on-site
      potentials from the clean lattice (whose levels are degenerate);
    - `thermal`: the thermal one-particle density at `beta`, fitting the on-site potentials from
      the clean lattice;
    - `spectrum`: the lowest 5 levels of the clean lattice with hopping 0.8 (-3.2 and -1.6 four
      times: a degenerate target), fitting potentials and hoppings from random potentials of
      scale 0.3 (NumPy's generator with `seed`).

    **Arguments:**

    - `name`: `"density"`, `"spectrum"` or `"thermal"`.
    - `size`: the side L of the lattice.
    - `particles`: the fermions of the density target.
    - `beta`: the inverse temperature of the thermal target.
    - `seed`: the seed of the spectrum target's start point.

    **Returns:** `(lattice, target, fit, start)`: the `TightBindingLattice`, the target, what
    to fit (`"onsite"` or `"both"`, the `fit` of `engineer_lattice`) and the start potentials.

    Checked: `name` one of `"density"`, `"spectrum"`, `"thermal"`, `size` an integer $\ge 2$,
    `particles` an integer in $[1, \text{size}^2 - 1]$, `beta` a finite number $> 0$, `seed` an
    integer.
    """
    from ._lattice import (
        DensityTarget,
        SpectrumTarget,
        ThermalDensityTarget,
        square_lattice,
    )

    who = "lattice_engineering_problem"
    choice(name, "name", who, LATTICE_PROBLEMS)
    static_int(size, "size", who, minimum=2)
    static_int(particles, "particles", who, minimum=1, maximum=size * size - 1)
    real_number(beta, "beta", who, minimum=0.0)
    static_int(seed, "seed", who)
    lattice = square_lattice(size)
    reference = lattice.hamiltonian(stripe_potential(lattice))
    # The targets take numpy arrays (they convert them); their fields are annotated Array.
    if name == "density":
        probe = DensityTarget(density=np.zeros(1), particles=particles)  # pyright: ignore[reportArgumentType]
        target = DensityTarget(density=probe.observe(reference), particles=particles)
        return lattice, target, "onsite", np.zeros(lattice.num_sites)
    if name == "thermal":
        probe = ThermalDensityTarget(density=np.zeros(1), beta=beta)  # pyright: ignore[reportArgumentType]
        target = ThermalDensityTarget(density=probe.observe(reference), beta=beta)
        return lattice, target, "onsite", np.zeros(lattice.num_sites)
    # the clean lattice with hopping 0.8: levels -3.2 and -1.6 (four times) are the target
    levels = np.linalg.eigvalsh(np.asarray(lattice.hamiltonian(0.0, 0.8)))[:5]
    start = 0.3 * np.random.default_rng(seed).normal(size=lattice.num_sites)
    return lattice, SpectrumTarget(levels=levels), "both", start  # pyright: ignore[reportArgumentType]
