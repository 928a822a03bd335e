"""Bad-input rows of diffsci.physics: the studies (the computations `python -m diffsci` runs, as
library functions), the problem builders and helpers they use, and the dynamics helpers the ODE
fits share. See test_bad_input.py.

The studies are drivers (they train, sample or sweep and write checkpoints), so their rows are
eager only (`jit=False`) and each stops at an argument check, before any computation."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

import diffsci.physics as dp

from ._row import Bad

# a stand-in ground state of two particles in 1D: enough for the checks after `gs`
_GS = dp.CoulombGroundState(
    energy=jnp.asarray(1.0),
    positions=jnp.array([[-0.5], [0.5]]),
    hessian_eigenvalues=jnp.array([2.0, 6.0]),
    energies=jnp.array([1.0]),
    result=None,  # pyright: ignore[reportArgumentType]  (not read by the checks)
    steps=jnp.array([1]),
)
_LATTICE = dp.square_lattice(2)
_STUDY = {"physical": None}  # a dict without most of flow_study's keys
_TC = 1.0 / dp.ISING_BETA_C

NO_INPUT: dict[str, str] = {
    "physics.FLOW_TARGETS": "a constant (the names of flow_target's targets)",
    "physics.LORENZ_CLASSIC": "a constant (the classical Lorenz parameters)",
}


def _eager(name, case, fn, **kwargs):
    return Bad(name, case, fn, jit=False, **kwargs)


_CGS = "physics.coulomb_ground_state_study"
_CSS = "physics.coulomb_sampling_study"
_IRT = "physics.ising_rg_thermodynamics"
_ISS = "physics.ising_sampling_study"
_LEP = "physics.lattice_engineering_problem"

ROWS: list[Bad] = [
    # ------------------------------------------------------------------------- Coulomb gas
    _eager(
        "physics.coulomb_shells",
        "radii of rank 2",
        lambda: dp.coulomb_shells(np.ones((2, 2))),
        match="`radii`.*rank 1",
    ),
    _eager(
        "physics.coulomb_shells",
        "negative radius",
        lambda: dp.coulomb_shells(np.array([1.0, -1.0])),
        match="`radii`.*>= 0",
    ),
    _eager(
        "physics.coulomb_shells",
        "gap 0",
        lambda: dp.coulomb_shells(np.array([1.0, 2.0]), gap=0.0),
        match="`gap`.*> 0",
    ),
    # radii 1, 1.05 and 3: the jump 1.95 > 0.15 * 3 starts a shell, 0.05 does not
    _eager(
        "physics.coulomb_shells",
        "two shells (2 and 1 particles)",
        lambda: [len(g) for g in dp.coulomb_shells(np.array([3.0, 1.0, 1.05]))],
        raises=None,
        value=[2, 1],
    ),
    _eager(_CGS, "n 1", lambda: dp.coulomb_ground_state_study(1, 2), match="`n`.*>= 2, got 1"),
    _eager(
        _CGS, "starts 0", lambda: dp.coulomb_ground_state_study(4, 2, starts=0), match="`starts`"
    ),
    _eager(
        _CGS,
        "log not callable",
        lambda: dp.coulomb_ground_state_study(4, 2, log="stdout"),
        raises=TypeError,
        match="`log`.*callable",
    ),
    _eager(
        _CSS,
        "gs a dict",
        lambda: dp.coulomb_sampling_study({"energy": 1.0}, beta=1.0),
        raises=TypeError,
        match="`gs`.*CoulombGroundState",
    ),
    _eager(_CSS, "beta 0", lambda: dp.coulomb_sampling_study(_GS, beta=0.0), match="`beta`"),
    _eager(
        _CSS,
        "burn_in as long as the run",
        lambda: dp.coulomb_sampling_study(_GS, beta=1.0, steps=10, burn_in=10),
        match="`burn_in`.*<= 9, got 10",
    ),
    _eager(
        _CSS,
        "negative step_size",
        lambda: dp.coulomb_sampling_study(_GS, beta=1.0, step_size=-0.1),
        match="`step_size`",
    ),
    _eager(
        _CSS,
        "checkpoint_root a number",
        lambda: dp.coulomb_sampling_study(_GS, beta=1.0, checkpoint_root=3),
        raises=TypeError,
        match="`checkpoint_root`",
    ),
    # ------------------------------------------------------------------------- 2D Ising model
    _eager(_IRT, "chi 1", lambda: dp.ising_rg_thermodynamics([2.0], chi=1), match="`chi`.*>= 2"),
    _eager(
        _IRT,
        "unknown method",
        lambda: dp.ising_rg_thermodynamics([2.0], chi=4, method="ctmrg"),
        match="`method`.*'hotrg', 'trg'",
    ),
    _eager(
        _IRT,
        "steps 61",
        lambda: dp.ising_rg_thermodynamics([2.0], chi=4, steps=61),
        match="`steps`.*<= 60",
    ),
    _eager(
        _IRT,
        "a zero temperature",
        lambda: dp.ising_rg_thermodynamics([2.0, 0.0], chi=4),
        match="`temps`.*> 0",
    ),
    _eager(
        _IRT,
        "progress not callable",
        lambda: dp.ising_rg_thermodynamics([2.0], chi=4, progress=True),
        raises=TypeError,
        match="`progress`",
    ),
    _eager(
        "physics.onsager_curves",
        "negative temperature",
        lambda: dp.onsager_curves(np.array([-1.0])),
        match="`temps`",
    ),
    _eager(
        "physics.onsager_curves",
        "no temperature",
        lambda: dp.onsager_curves(np.array([])),
        match="`temps`.*non-empty",
    ),
    # u(T_c) = -sqrt 2 (Onsager 1944)
    _eager(
        "physics.onsager_curves",
        "energy at T_c",
        lambda: dp.onsager_curves(np.array([_TC]))[1],
        raises=None,
        value=[-math.sqrt(2.0)],
    ),
    _eager(_ISS, "length 1", lambda: dp.ising_sampling_study(1, 0.4), match="`length`.*>= 2"),
    _eager(
        _ISS,
        "unknown sampler",
        lambda: dp.ising_sampling_study(2, 0.4, samplers=("metropolis", "heat-bath")),
        match="`samplers`.*'metropolis', 'wolff'.*'heat-bath'",
    ),
    _eager(
        _ISS,
        "samplers one string",
        lambda: dp.ising_sampling_study(2, 0.4, samplers="wolff"),
        raises=TypeError,
        match="`samplers`.*sequence",
    ),
    _eager(
        _ISS,
        "burn_in beyond the run",
        lambda: dp.ising_sampling_study(2, 0.4, steps=100, burn_in=200),
        match="`burn_in`.*<= 99",
    ),
    _eager(_ISS, "NaN beta", lambda: dp.ising_sampling_study(2, math.nan), match="`beta`.*finite"),
    # ------------------------------------------------------------------------- flows
    _eager(
        "physics.flow_target",
        "unknown target",
        lambda: dp.flow_target("banana"),
        match="`name`.*'gaussian'.*'banana'",
    ),
    _eager(
        "physics.flow_target",
        "ising on a 1x1 lattice",
        lambda: dp.flow_target("ising", length=1),
        match="`length`.*>= 2",
    ),
    _eager(
        "physics.flow_target",
        "ising at beta 0",
        lambda: dp.flow_target("ising", beta=0.0),
        match="`beta`.*> 0",
    ),
    # the mixture is normalized: its ln Z is 0, so exact_f is 0
    _eager(
        "physics.flow_target",
        "the mixture's free energy",
        lambda: dp.flow_target("mixture")["exact_f"],
        raises=None,
        value=0.0,
    ),
    _eager(
        "physics.flow_study",
        "unknown solver",
        lambda: dp.flow_study("ring", solver="euler"),
        match="`solver`.*'rk4', 'heun'",
    ),
    _eager("physics.flow_study", "lr 0", lambda: dp.flow_study("ring", lr=0.0), match="`lr`"),
    _eager(
        "physics.flow_study",
        "batch 0",
        lambda: dp.flow_study("ring", batch=0),
        match="`batch`.*>= 1",
    ),
    _eager(
        "physics.flow_study_report",
        "a list",
        lambda: dp.flow_study_report([]),
        raises=TypeError,
        match="`study`.*flow_study",
    ),
    _eager(
        "physics.flow_study_report",
        "a dict without the study's keys",
        lambda: dp.flow_study_report(_STUDY),
        match="`study`.*without",
    ),
    # ------------------------------------------------------------------------- engineering
    _eager(
        "physics.stripe_potential",
        "lattice an array",
        lambda: dp.stripe_potential(np.zeros((4, 4))),
        raises=TypeError,
        match="`lattice`.*TightBindingLattice",
    ),
    _eager(
        "physics.stripe_potential",
        "NaN amplitude",
        lambda: dp.stripe_potential(_LATTICE, math.nan),
        match="`amplitude`",
    ),
    # 2x2: cos(pi x) + cos(pi y) / 2 at (x, y) = (0, 0), (0, 1), (1, 0), (1, 1)
    _eager(
        "physics.stripe_potential",
        "the 2x2 stripes",
        lambda: dp.stripe_potential(_LATTICE, 1.0),
        raises=None,
        value=[1.5, 0.5, -0.5, -1.5],
    ),
    _eager(
        _LEP,
        "unknown problem",
        lambda: dp.lattice_engineering_problem("hopping", 4, 5, 2.0, 0),
        match="`name`.*'density'",
    ),
    _eager(
        _LEP,
        "size 1",
        lambda: dp.lattice_engineering_problem("density", 1, 1, 2.0, 0),
        match="`size`",
    ),
    _eager(
        _LEP,
        "as many particles as sites",
        lambda: dp.lattice_engineering_problem("density", 2, 4, 2.0, 0),
        match="`particles`.*<= 3, got 4",
    ),
    _eager(
        _LEP,
        "beta 0",
        lambda: dp.lattice_engineering_problem("thermal", 2, 1, 0.0, 0),
        match="`beta`.*> 0",
    ),
    # ------------------------------------------------------------------------- dynamics helpers
    Bad(
        "physics.polynomial_potential",
        "theta of rank 2",
        dp.polynomial_potential,
        (jnp.asarray(1.0), jnp.ones((2, 2))),
        match="`theta`.*rank 1",
    ),
    Bad(
        "physics.polynomial_potential",
        "q a vector",
        dp.polynomial_potential,
        (jnp.ones(3), jnp.ones(2)),
        match="`q`.*rank 0",
    ),
    # V(1) = 1/2! + 1/4! with theta = (1, 1); integers promoted
    Bad(
        "physics.polynomial_potential",
        "integer theta",
        dp.polynomial_potential,
        (jnp.asarray(1.0), np.array([1, 1])),
        raises=None,
        value=0.5 + 1.0 / 24.0,
    ),
    _eager(
        "physics.pendulum_potential",
        "a string",
        lambda: dp.pendulum_potential("pi"),
        raises=TypeError,
        match="`q`",
    ),
    Bad(
        "physics.pendulum_potential",
        "q = pi, integer 0",
        dp.pendulum_potential,
        (np.array([math.pi, 0.0]),),
        raises=None,
        value=[2.0, 0.0],
    ),
    Bad(
        "physics.solve_sir",
        "log_rates of length 3",
        lambda r: dp.solve_sir(r, np.linspace(0.0, 1.0, 3)),
        (jnp.zeros(3),),
        match=r"`log_rates` to have shape \(2,\)",
    ),
    Bad(
        "physics.solve_sir",
        "ts of rank 2",
        lambda r: dp.solve_sir(r, np.zeros((2, 2))),
        (jnp.zeros(2),),
        match="`ts`.*rank 1",
    ),
    _eager(
        "physics.solve_sir",
        "dt 0",
        lambda: dp.solve_sir(jnp.zeros(2), np.linspace(0.0, 1.0, 3), dt=0.0),
        match="`dt`.*> 0",
    ),
]
