"""The table of differentiable entry points for the conformance suite.

Each row is an `Entry`: a scalar loss of one parameter theta that goes through a public entry
point of diffsci, built in every way a user hands theta to it (`routes`), and an independent
reference for the same loss (dense `jnp.linalg`, `DirectAdjoint` with theta as an array in
`args`, or central finite differences in float64). Adding a public differentiable function
adds a row here; `test_conformance.py` runs every row through the matrix of value types and
transformations.

Routes (how theta reaches the rule):
- `"array"`: theta enters the entry point's array argument (a matrix `A0 + theta A1`, a
  tensor, a state);
- `"args"`, `"args_dict"`, `"args_module"`, `"args_static"`: theta in the `args`/`params` pytree
  (a scalar, a dict, an `equinox.Module` with a float field, a tuple with int/None/str leaves);
- `"closure"`: theta closed over by the user's callable;
- `"module_field"`: theta a field of an `equinox.Module` callable.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import diffsci.flows as dflows
import diffsci.linalg as dla
import diffsci.ode as dode
import diffsci.physics as dphys
import diffsci.tn as dtn
import diffsci.utils as du


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    routes: dict[str, Callable]  # route -> loss(theta)
    reference: Callable  # loss(theta), computed independently
    theta: float = 0.3
    fwd: bool = True  # forward mode (jacfwd) supported; if False it must be a clear TypeError
    hessian: bool = True
    rtol: float = 1e-8  # float64 agreement of derivatives with the reference
    fd_reference: bool = False  # the reference is finite differences of the loss itself
    vmap: bool = True
    float32: Callable | None = None  # loss(theta) in float32, compared with the reference
    transforms: bool = True  # run through every transformation (False: routes only)
    # A slow row (an ODE solve, an RG, a flow), or one of plain JAX code with no custom rule at
    # its boundary, runs the value types other than a Python float, and the transformations that
    # repeat `grad` (jit outside, filter_jit, jacrev, grad of vmap), only where `heavy` is
    # False: the boundary code is shared, the lighter rows cover them, and the suite stays quick.
    heavy: bool = False
    # Whether the routes test differentiates the row uncompiled. A row of plain JAX code whose
    # custom rules receive theta only through array arithmetic (theta -> a tensor, a matrix, a
    # position) is differentiated under `jit` there: its rules' own rows run the uncompiled
    # hand-over of a Python float, op by op that costs seconds a row, and compiled the row still
    # checks its derivative against the reference. Rows where theta reaches a rule as it is (a
    # closure, an `args` leaf, a Module field) stay uncompiled.
    eager: bool = True
    # Builds the row's constants (random networks, data of a fitting problem) once, on first
    # use: the tests call it before they trace the routes, so collecting the table (on every
    # worker, for every test run) costs no JAX compilation.
    prepare: Callable[[], object] = lambda: None


# --------------------------------------------------------------------------------------------
# dense linear algebra: theta enters a matrix


def _sym(n, seed, dtype=jnp.float64):
    m = np.random.default_rng(seed).normal(size=(n, n))
    return jnp.asarray(m + m.T, dtype)


_A0 = _sym(4, 0) + jnp.diag(jnp.arange(4.0) * 3.0)
_A1 = _sym(4, 1)
_W = jnp.arange(1.0, 5.0)
_SPD0 = _A0 @ _A0.T / 10 + jnp.eye(4)


def _mat(theta, dtype=jnp.float64):
    return (_A0 + theta * _A1).astype(dtype)


def _spd(theta, dtype=jnp.float64):
    return (_SPD0 + 0.1 * theta * _A1).astype(dtype)


def _eigh_loss(w, v):
    wt = _W.astype(w.dtype)
    return jnp.sum(w * wt) + jnp.sum(wt * v[:, 0] ** 2)


def _svd_loss(u, s, vh):
    wt = _W.astype(s.dtype)
    return jnp.sum(s * wt[: s.shape[0]]) + jnp.sum(wt * u[:, 0] ** 2)


def _qr_loss(q, r):
    return jnp.sum(_W[:, None] * q**2) + jnp.sum(_W[: r.shape[0], None] * r**2)


def _rect(theta, dtype=jnp.float64):
    return _mat(theta, dtype)[:, :3]


def _linalg_entries():
    e = []
    e.append(
        Entry(
            "linalg.eigh",
            {"array": lambda t: _eigh_loss(*dla.eigh(_mat(t)))},
            lambda t: _eigh_loss(*jnp.linalg.eigh(_mat(t))),
            float32=lambda t: _eigh_loss(*dla.eigh(_mat(t, jnp.float32))),
        )
    )
    e.append(
        Entry(
            "linalg.eigvalsh",
            {"array": lambda t: jnp.sum(dla.eigvalsh(_mat(t)) ** 3)},
            lambda t: jnp.sum(jnp.linalg.eigvalsh(_mat(t)) ** 3),
            float32=lambda t: jnp.sum(dla.eigvalsh(_mat(t, jnp.float32)) ** 3),
        )
    )
    e.append(
        Entry(
            "linalg.svd",
            {"array": lambda t: _svd_loss(*dla.svd(_rect(t), full_matrices=False))},
            lambda t: _svd_loss(*jnp.linalg.svd(_rect(t), full_matrices=False)),
            float32=lambda t: _svd_loss(*dla.svd(_rect(t, jnp.float32), full_matrices=False)),
        )
    )
    e.append(
        Entry(
            "linalg.truncated_svd",
            {"array": lambda t: _svd_loss(*dla.truncated_svd(_rect(t), 2))},
            lambda t: _svd_loss(
                *(
                    x[..., :2] if i < 2 else x[:2]
                    for i, x in enumerate(jnp.linalg.svd(_rect(t), full_matrices=False))
                )
            ),
        )
    )
    e.append(
        Entry(
            "linalg.qr",
            {"array": lambda t: _qr_loss(*dla.qr(_rect(t)))},
            lambda t: _qr_loss(*jnp.linalg.qr(_rect(t))),
        )
    )

    def thermal(f):
        r = f
        return jnp.trace(_A0 @ r) / jnp.trace(r)

    def dense_funm(a, fn):
        w, v = jnp.linalg.eigh(a)
        return (v * fn(w)[..., None, :]) @ v.T

    class Boltzmann(eqx.Module):
        beta: float

        def __call__(self, w):
            return jnp.exp(-self.beta * w)

    e.append(
        Entry(
            "linalg.funm",
            {
                "closure": lambda t: thermal(dla.funm(_A0, lambda w: jnp.exp(-t * w))),
                "module_field": lambda t: thermal(dla.funm(_A0, Boltzmann(t))),
            },
            lambda t: thermal(dense_funm(_A0, lambda w: jnp.exp(-t * w))),
        )
    )
    # theta in the matrix instead of in f: another loss, so another row.
    e.append(
        Entry(
            "linalg.funm[matrix]",
            {"array": lambda t: thermal(dla.funm(_mat(t), lambda w: jnp.exp(-0.2 * w)))},
            lambda t: thermal(dense_funm(_mat(t), lambda w: jnp.exp(-0.2 * w))),
        )
    )
    e.append(
        Entry(
            "linalg.projector",
            {"array": lambda t: jnp.sum(_A1 * dla.projector(_mat(t), 2))},
            lambda t: jnp.sum(_A1 * dense_funm(_mat(t), lambda w: (jnp.arange(4) < 2) * 1.0)),
        )
    )
    e.append(
        Entry(
            "linalg.band_energy",
            {"array": lambda t: dla.band_energy(_mat(t), 2)},
            lambda t: jnp.sum(jnp.linalg.eigvalsh(_mat(t))[:2]),
        )
    )
    e.append(
        Entry(
            "linalg.expmh",
            {"array": lambda t: jnp.sum(_A1 * dla.expmh(0.1 * _mat(t)))},
            lambda t: jnp.sum(_A1 * dense_funm(0.1 * _mat(t), jnp.exp)),
        )
    )
    e.append(
        Entry(
            "linalg.sqrtmh",
            {"array": lambda t: jnp.sum(_A1 * dla.sqrtmh(_spd(t)))},
            lambda t: jnp.sum(_A1 * dense_funm(_spd(t), jnp.sqrt)),
        )
    )
    e.append(
        Entry(
            "linalg.logmh",
            {"array": lambda t: jnp.sum(_A1 * dla.logmh(_spd(t)))},
            lambda t: jnp.sum(_A1 * dense_funm(_spd(t), jnp.log)),
        )
    )

    # eigsh: a matrix-free operator H(g) = A0 + g A1, lowest two eigenvalues.
    v0 = jnp.ones(4)

    class Op(eqx.Module):
        g: float

        def __call__(self, params, v):
            return (_A0 + self.g * _A1) @ v

    class Couplings(eqx.Module):
        g: float

    def low(res):
        return jnp.sum(res.eigenvalues * jnp.array([1.0, 0.5]))

    e.append(
        Entry(
            "linalg.eigsh",
            {
                "args": lambda t: low(dla.eigsh(lambda p, v: (_A0 + p * _A1) @ v, t, v0, 2)),
                "args_dict": lambda t: low(
                    dla.eigsh(lambda p, v: (_A0 + p["g"] * _A1) @ v, {"g": t}, v0, 2)
                ),
                "args_module": lambda t: low(
                    dla.eigsh(lambda p, v: (_A0 + p.g * _A1) @ v, Couplings(t), v0, 2)
                ),
                "args_static": lambda t: low(
                    dla.eigsh(
                        lambda p, v: (
                            (_A0 + p[0] * _A1) @ v * p[1] if p[2] is None and p[3] == "x" else v
                        ),
                        (t, 1, None, "x"),
                        v0,
                        2,
                    )
                ),
                "closure": lambda t: low(dla.eigsh(lambda p, v: (_A0 + t * _A1) @ v, None, v0, 2)),
                "module_field": lambda t: low(dla.eigsh(Op(t), None, v0, 2)),
            },
            lambda t: jnp.sum(jnp.linalg.eigvalsh(_mat(t))[:2] * jnp.array([1.0, 0.5])),
            rtol=1e-7,
        )
    )
    return e


# --------------------------------------------------------------------------------------------
# ODEs: theta a decay rate of dy/dt = -theta y + sin(t) (or a spring constant)

_TS = np.array([0.0, 0.4, 1.0])
_Y0 = jnp.array([1.0, -0.5])


def _field(t, y, a):
    return -a * y + jnp.sin(t)


class _Decay(eqx.Module):
    rate: float

    def __call__(self, t, y, args):
        return -self.rate * y + jnp.sin(t)


class _Rate(eqx.Module):
    rate: float


def _ode_loss(ys):
    return jnp.sum(ys[1:] ** 2 * jnp.array([[1.0, 2.0], [0.5, 1.5]], ys.dtype))


def _ode_entry(solver, adjoint, *, fwd, label, transforms):
    """A row for one solver and adjoint. The main rows (`transforms`) run every route; the
    others a closure, the route that hoisting must get right for each adjoint: `args` in all
    its forms and Module fields are the same boundary code for every solver and adjoint."""

    def solve(f, args):
        return _ode_loss(dode.odeint(f, _Y0, _TS, args, dt0=0.1, solver=solver, adjoint=adjoint))

    def ref(t):
        ys = dode.odeint(
            _field,
            _Y0,
            _TS,
            jnp.asarray(t, jnp.float64),
            dt0=0.1,
            solver=solver,
            adjoint=dode.DirectAdjoint(),
        )
        return _ode_loss(ys)

    def f32(t):
        ys = dode.odeint(
            _field,
            _Y0.astype(jnp.float32),
            _TS,
            jnp.float32(t),
            dt0=0.1,
            solver=solver,
            adjoint=adjoint,
        )
        return _ode_loss(ys)

    routes = {
        "args": lambda t: solve(_field, t),
        "args_dict": lambda t: solve(lambda s, y, a: _field(s, y, a["rate"]), {"rate": t}),
        "args_module": lambda t: solve(lambda s, y, a: _field(s, y, a.rate), _Rate(t)),
        "args_static": lambda t: solve(
            lambda s, y, a: _field(s, y, a[0]) * a[1] if a[2] is None and a[3] == "x" else y,
            (t, 1, None, "x"),
        ),
        "closure": lambda t: solve(lambda s, y, a: _field(s, y, t), None),
        "module_field": lambda t: solve(_Decay(t), None),
    }
    if not transforms:
        routes = {"closure": routes["closure"]}
    return Entry(
        f"ode.odeint[{label}]",
        routes,
        ref,
        theta=0.7,
        fwd=fwd,
        rtol=1e-10,
        float32=f32 if transforms else None,
        transforms=transforms,
        heavy=not (transforms and isinstance(adjoint, dode.ReversibleAdjoint)),
    )


def _oscillator(t, y, k):
    q, p = y
    return p, -k * q


def _ode_entries():
    e = []
    # Every adjoint with the default solver, the other general solver with the default adjoint
    # (the boundary is the same code for all of them; this keeps the suite quick).
    for solver, adjoint, fwd in (
        (dode.ReversibleHeun(), dode.ReversibleAdjoint(), False),
        (dode.ReversibleHeun(), dode.AnchoredReversibleAdjoint(every=3), False),
        (dode.ReversibleHeun(), dode.DirectAdjoint(), True),
        (dode.ReversibleHeun(), dode.RecursiveCheckpointAdjoint(), False),
        (dode.ReversibleRK4(), dode.ReversibleAdjoint(), False),
    ):
        label = f"{type(solver).__name__},{type(adjoint).__name__}"
        main = isinstance(adjoint, dode.ReversibleAdjoint | dode.DirectAdjoint) and isinstance(
            solver, dode.ReversibleHeun
        )
        e.append(_ode_entry(solver, adjoint, fwd=fwd, label=label, transforms=main))
    q0 = (jnp.array([1.0, 0.2]), jnp.array([0.0, 0.3]))

    def osc_loss(ys):
        return jnp.sum(ys[0][-1] ** 2) + jnp.sum(ys[1][-1] * jnp.array([1.0, 2.0]))

    for solver in (dode.Leapfrog(), dode.Yoshida4()):
        name = type(solver).__name__
        e.append(
            Entry(
                f"ode.odeint[{name},ReversibleAdjoint]",
                {
                    "args": lambda t, s=solver: osc_loss(
                        dode.odeint(_oscillator, q0, _TS, t, dt0=0.1, solver=s)
                    ),
                    "closure": lambda t, s=solver: osc_loss(
                        dode.odeint(
                            lambda u, y, a: _oscillator(u, y, t), q0, _TS, None, dt0=0.1, solver=s
                        )
                    ),
                },
                lambda t, s=solver: osc_loss(
                    dode.odeint(
                        _oscillator,
                        q0,
                        _TS,
                        jnp.asarray(t),
                        dt0=0.1,
                        solver=s,
                        adjoint=dode.DirectAdjoint(),
                    )
                ),
                theta=1.3,
                fwd=False,
                rtol=1e-10,
                transforms=isinstance(solver, dode.Leapfrog),
                heavy=True,
            )
        )

    # traced save times: theta is the end time, ts = linspace(0, theta, 3) built in the loss
    def end_time(t, adjoint):
        ts = jnp.linspace(0.0, t, 3)
        return _ode_loss(dode.odeint(_field, _Y0, ts, 0.7, dt0=0.1, max_steps=40, adjoint=adjoint))

    e.append(
        Entry(
            "ode.odeint[traced ts]",
            {"array": lambda t: end_time(t, dode.ReversibleAdjoint())},
            lambda t: end_time(t, dode.DirectAdjoint()),
            theta=1.1,
            fwd=False,
            rtol=1e-10,
            heavy=True,
        )
    )
    return e


# --------------------------------------------------------------------------------------------
# tensor networks, flows, physics


_CTM = {"tol": 1e-12, "max_steps": 300}


def _peps(t):
    a0 = dphys.published_ipeps_tensor(2)
    a1 = dtn.symmetrize_c4v(jax.random.normal(jax.random.key(4), a0.shape))
    return a0 + 0.05 * t * a1


def _peps_observables(t):
    """The energy of a bond Hamiltonian (theta in it and in the tensor) and a one-site
    observable from the environment of the normalized tensor."""
    a = _peps(t)
    energy = dtn.ipeps_energy(a, dphys.tfim_bond(t), 6, **_CTM)
    a = a / jnp.linalg.norm(a)
    env = dtn.ctmrg(dtn.double_layer(a), 6, **_CTM).env
    rho = dtn.one_site_rdm(a, env)
    return energy + rho[0, 0] - rho[1, 1] + rho[0, 1]


def _tn_entries():
    b0, b1 = jnp.asarray(_A0[:3, :3]), jnp.asarray(_A1[:3, :2])

    @functools.cache
    def random_peps():
        return jax.random.normal(jax.random.key(1), (2, 2, 2, 2, 2))

    def constructors(t):
        peps = random_peps()
        potts = dtn.potts_tensor(t, 3, 0.1)
        bond = jnp.exp(t * jnp.array([[1.0, -0.5, 0.2], [-0.5, 1.0, 0.3], [0.2, 0.3, 1.0]]))
        lat = dtn.lattice_tensor(bond, jnp.array([1.0, t, 0.5]), symmetric=True)
        sym = dtn.symmetrize_c4v(peps * jnp.cos(t) + t**2)
        return jnp.sum(potts * lat) / 10 + jnp.sum(potts[0] ** 2) / 100 + jnp.sum(sym * peps)

    def trg(t):
        return dtn.trg(dtn.ising_tensor(t), 4, steps=2)

    def hotrg(t):
        return dtn.hotrg(dtn.ising_tensor(t), 4, steps=4)

    def ising_log_z(b):
        return dtn.ising_log_z(b, 0.1, chi=4, steps=4)

    def ctmrg_log_z(t):
        return dtn.ctmrg_log_z(dtn.ising_tensor(t, symmetric=True), 6)

    return [
        Entry(
            "tn.contract",
            {"array": lambda t: dtn.contract("ij,jk,k->", b0 + t, b1, jnp.array([1.0, t]))},
            lambda t: jnp.einsum("ij,jk,k->", b0 + t, b1, jnp.array([1.0, t])),
        ),
        Entry(
            "tn.potts_tensor+lattice_tensor+symmetrize_c4v",
            {"array": constructors},
            constructors,
            theta=0.35,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
            prepare=random_peps,
        ),
        Entry(
            "tn.trg+ising_tensor",
            {"array": trg},
            trg,
            theta=0.35,
            fd_reference=True,
            rtol=1e-6,
            transforms=False,
            heavy=True,
            eager=False,
        ),
        Entry(
            "tn.hotrg",
            {"array": hotrg},
            hotrg,
            theta=0.35,
            fd_reference=True,
            rtol=1e-6,
            transforms=False,
            heavy=True,
            eager=False,
        ),
        Entry(
            "tn.ising_log_z",
            {"array": ising_log_z},
            ising_log_z,
            theta=0.35,
            fd_reference=True,
            rtol=1e-6,
            transforms=False,
            heavy=True,
            eager=False,
        ),
        # iPEPS: a D = 2 tensor near the published Heisenberg state (CTMRG converges quickly
        # there), theta in the tensor and in the bond Hamiltonian (a Python float reaching
        # tfim_bond), converged to 1e-12 so that finite differences resolve the derivative.
        Entry(
            "tn.ipeps_energy+two_site_rdm+one_site_rdm+ctmrg+double_layer+physics.tfim_bond",
            {"array": _peps_observables},
            _peps_observables,
            theta=0.8,
            fd_reference=True,
            rtol=1e-6,
            transforms=False,
            heavy=True,
            eager=False,
        ),
        Entry(
            "tn.ctmrg_log_z",
            {"array": ctmrg_log_z},
            ctmrg_log_z,
            theta=0.3,
            fd_reference=True,
            rtol=1e-6,
            transforms=False,
            heavy=True,
            eager=False,
        ),
    ]


class _Quadratic(eqx.Module):
    stiffness: float

    def __call__(self, x, t):
        return 0.5 * self.stiffness * jnp.sum(x**2) + 0.1 * jnp.sum(jnp.sin(x)) * t


def _closed_quadratic(t):
    return lambda y, s: 0.5 * t * jnp.sum(y**2) + 0.1 * jnp.sum(jnp.sin(y)) * s


def _flows_entries():
    x = jnp.array([[0.3, -0.2], [1.0, 0.5]])

    def logq(potential, adjoint=dode.ReversibleAdjoint()):
        flow = dflows.MongeAmpereFlow(2, potential, steps=6, adjoint=adjoint)
        return jnp.sum(flow.log_prob(x))

    def quartic(y):
        return jnp.sum(y**4) / 4

    def free_energy(potential, adjoint=dode.ReversibleAdjoint()):
        flow = dflows.MongeAmpereFlow(2, potential, steps=4, adjoint=adjoint)
        key = jax.random.key(0)
        return dflows.flow_free_energy(flow, quartic, 1.0, key=key, samples=8).variational

    def latent(potential, adjoint=dode.ReversibleAdjoint()):
        flow = dflows.MongeAmpereFlow(2, potential, steps=4, adjoint=adjoint)
        return dflows.latent_energy(flow, quartic, 1.0)(x[0])

    @functools.cache
    def potentials():
        keys = jax.random.split(jax.random.key(3), 3)
        return (
            dflows.OneLayerPotential(4, 5, key=keys[0]),
            dflows.LatticeConvPotential((2, 2), 2, kernel_size=1, key=keys[1]),
            dflows.PermutationInvariantPotential(2, 2, 4, key=keys[2]),
            dflows.SpinFlipSymmetric(dflows.OneLayerPotential(4, 5, key=keys[0])),
        )

    z4 = jnp.array([0.3, -0.2, 0.5, 0.1])

    def networks(t):
        return sum(p(z4 * t, 0.5) for p in potentials()) + jnp.sum(
            dflows.standard_normal_log_prob(z4[None] * t)
        )

    return [
        Entry(
            "flows.MongeAmpereFlow.log_prob",
            {
                "closure": lambda t: logq(_closed_quadratic(t)),
                "module_field": lambda t: logq(_Quadratic(t)),
            },
            lambda t: logq(_Quadratic(jnp.asarray(t)), dode.DirectAdjoint()),
            theta=0.4,
            fwd=False,
            rtol=1e-9,
            hessian=False,
            heavy=True,
        ),
        # F_q of eight samples with a fixed key: theta moves the samples and their log q
        Entry(
            "flows.OneLayerPotential+LatticeConvPotential+PermutationInvariantPotential"
            "+SpinFlipSymmetric+standard_normal_log_prob",
            {"array": networks},
            networks,
            theta=0.8,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
            prepare=potentials,
        ),
        Entry(
            "flows.flow_free_energy",
            {
                "closure": lambda t: free_energy(_closed_quadratic(t)),
                "module_field": lambda t: free_energy(_Quadratic(t)),
            },
            lambda t: free_energy(_Quadratic(jnp.asarray(t)), dode.DirectAdjoint()),
            theta=0.4,
            fwd=False,
            rtol=1e-9,
            transforms=False,
            heavy=True,
        ),
        Entry(
            "flows.latent_energy",
            {
                "closure": lambda t: latent(_closed_quadratic(t)),
                "module_field": lambda t: latent(_Quadratic(t)),
            },
            lambda t: latent(_Quadratic(jnp.asarray(t)), dode.DirectAdjoint()),
            theta=0.4,
            fwd=False,
            rtol=1e-9,
            transforms=False,
            heavy=True,
        ),
    ]


def _physics_entries():
    x0 = jnp.array([[0.8, 0.1], [-0.5, 0.6], [-0.2, -0.9]])
    dx = jnp.array([[0.1, -0.2], [0.3, 0.1], [-0.1, 0.2]])

    def coulomb(t, spectrum):
        x = x0 + t * dx
        w = spectrum(x)
        return dphys.coulomb_energy(x) + jnp.sum(w * jnp.linspace(0.5, 1.5, w.shape[0]))

    def virial(t):
        return dphys.coulomb_virial(x0 + t * dx)

    def dense_hessian_eigenvalues(x):
        n, d = x.shape
        pair = lambda y: (
            jnp.sum(
                1.0
                / jnp.sqrt(jnp.sum((y[:, None] - y[None]) ** 2, -1) + jnp.eye(n))
                * (1 - jnp.eye(n))
            )
            / 2
        )
        energy = lambda y: jnp.sum(y**2) + pair(y.reshape(n, d))
        return jnp.linalg.eigvalsh(jax.hessian(energy)(x.reshape(-1)))

    energies0 = jnp.array([1.0, -0.5, 0.3, 2.0])
    log_q0 = jnp.array([-1.2, -0.7, -2.0, -0.9])

    def variational(t, estimator, objective):
        est = estimator(energies0 * t, log_q0 + t**2, t)
        return (
            est.variational
            + 0.5 * est.importance
            + 0.1 * est.ess
            + 0.3 * objective(energies0 * t, log_q0 + t, t)
        )

    def dense_variational(energies, log_q, beta):
        # F_q = <E + ln q / beta>, F = -ln(mean w) / beta, ESS = (sum w)^2 / sum w^2
        log_w = -beta * energies - log_q
        w = jnp.exp(log_w)

        class Est:
            variational = jnp.mean(energies + log_q / beta)
            importance = -jnp.log(jnp.mean(w)) / beta
            ess = jnp.sum(w) ** 2 / jnp.sum(w**2)

        return Est

    def onsager(b):
        return (
            dphys.onsager_log_z(b)
            + dphys.onsager_energy(b)
            + 0.1 * dphys.onsager_specific_heat(b)
            + dphys.yang_magnetization(b)
        )

    chain = dphys.TightBindingLattice(4, ((0, 1), (1, 2), (2, 3)), (4,))
    stagger = jnp.array([0.5, -0.3, 0.2, -0.6])
    density = jnp.array([0.3, 0.2, 0.3, 0.2])

    def targets(t):
        h = chain.hamiltonian(t * stagger, 1.0 + 0.1 * t)
        return (
            dphys.DensityTarget(density, 2).loss(h)
            + dphys.SpectrumTarget(jnp.array([-1.5, -0.5])).loss(h)
            + dphys.ThermalDensityTarget(density, 2.0).loss(h)
        )

    spins = jnp.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0])
    patterns = jnp.array([[1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0]])

    def ising(t):
        j = dphys.square_lattice_couplings(3, 3) + 0.2 * dphys.hopfield_couplings(patterns * t)
        thermo = dphys.ising_thermodynamics(j, t, 0.1 * spins)
        return (
            dphys.ising_energy(spins, j, t * spins)
            + thermo.free_energy
            + thermo.energy
            + 0.1 * thermo.specific_heat
        )

    psi0 = jnp.asarray(np.random.default_rng(2).normal(size=8))
    psi1 = jnp.asarray(np.random.default_rng(3).normal(size=8))

    def observables(t):
        psi = (psi0 + t * psi1) / jnp.linalg.norm(psi0 + t * psi1)
        return (
            jnp.sum(dphys.expect_z(psi, 3) * jnp.array([1.0, 2.0, 3.0]))
            + jnp.sum(dphys.expect_x(psi, 3) * jnp.array([0.5, 1.0, -1.0]))
            + dphys.correlation_zz(psi, 3, 0, 2)
        )

    def fields(t):
        y = jnp.array([1.0, -0.5, 2.0])
        lor = dphys.lorenz(0.0, y, jnp.array([10.0 * t, 28.0, 8.0 / 3.0]))
        s = dphys.sir(0.0, jnp.array([0.9, 0.08, 0.02]), jnp.array([t, -2.0]))
        return jnp.sum(lor * jnp.array([1.0, 0.5, 0.2])) + jnp.sum(s * jnp.array([1.0, 3.0, 2.0]))

    def fit_helpers(t):
        # V_theta(t) with theta = (1, t): t^2/2 + t^5/24; 1 - cos t; and an SIR trajectory
        poly = dphys.polynomial_potential(t, jnp.stack([jnp.ones_like(t), t]))
        curve = dphys.solve_sir(jnp.stack([t - 0.7, jnp.asarray(-2.3)]), np.linspace(0.0, 2.0, 3))
        return (
            poly + dphys.pendulum_potential(t) + jnp.sum(curve[:, 1] * jnp.array([1.0, 3.0, 2.0]))
        )

    def fit_helpers_reference(t):
        curve = dphys.solve_sir(jnp.stack([t - 0.7, jnp.asarray(-2.3)]), np.linspace(0.0, 2.0, 3))
        return (
            t**2 / 2
            + t**5 / 24
            + 1
            - jnp.cos(t)
            + jnp.sum(curve[:, 1] * jnp.array([1.0, 3.0, 2.0]))
        )

    @functools.cache
    def fit_losses():  # each problem integrates its data once
        return (
            dphys.lorenz_fit_problem(t_end=0.2, num_obs=3, dt=0.02)[2],
            dphys.sir_fit_problem(days=4.0, num_obs=3, dt=0.5)[2],
            dphys.hamiltonian_inverse_problem(
                num_particles=2, t_end=0.6, num_obs=3, dt=0.1, degree=2
            )[2],
        )

    def fits(t):
        lorenz_loss, sir_loss, pendula_loss = fit_losses()
        return (
            lorenz_loss(jnp.array([10.0, 28.0, 8.0 / 3.0]) * (1 + 0.1 * t))
            + sir_loss(jnp.array([-0.7, -2.3]) + t)
            + pendula_loss(jnp.array([1.0, -1.0]) * (1 + t))
        )

    @functools.cache
    def network():
        van_network = dphys.VAN(4, key=jax.random.key(5), hidden=(6,))
        return van_network, dphys.square_lattice_couplings(2, 2)

    def van(t):
        network_, ring = network()
        energy = lambda s: dphys.ising_energy(s, ring * (1 + t))
        est = dphys.van_free_energy(network_, energy, t, key=jax.random.key(6), samples=16)
        return est.variational + 0.5 * est.importance

    def stratonovich(t):
        hs = dphys.ising_hubbard_stratonovich(dphys.square_lattice_couplings(2, 2), t)
        f, _ = hs.ising_free_energy(jnp.asarray(1.7))
        return f + jnp.sum(hs.spin_weights(t * psi0[:4]))

    def kaufman(b):
        return dphys.kaufman_log_z(b, 4, 4)

    def exact(b):
        return dphys.ising_exact(dphys.square_lattice_couplings(3, 3), b)

    @functools.cache
    def models():
        return dphys.TransverseFieldIsing(4), dphys.XXZChain(4)

    def dense_e0(m, p):
        h = jax.vmap(lambda v: m.matvec(p, v), in_axes=1, out_axes=1)(jnp.eye(16))
        return jnp.linalg.eigvalsh(h)[0]

    def sparse_e0(m, p):
        return dla.eigsh(m.matvec, p, jnp.ones(16)).eigenvalues[0]

    def chains(g, e0):
        model, xxz = models()
        return e0(model, model.params(1.0, g)) + e0(xxz, xxz.params(1.0, g))

    return [
        Entry(
            "physics.TransverseFieldIsing+XXZChain+eigsh",
            {"args": lambda g: chains(g, sparse_e0)},
            lambda g: chains(g, dense_e0),
            # the closure route and the transformations of this rule, and the uncompiled hand-over
            # of a Python float in `params`, run in the linalg.eigsh row
            theta=0.8,
            rtol=1e-7,
            heavy=True,
            transforms=False,
            eager=False,
            prepare=models,
        ),
        # the Coulomb gas: positions x0 + theta dx; the Hessian's spectrum through eigvalsh
        Entry(
            "physics.coulomb_hessian_eigenvalues+coulomb_energy",
            {"array": lambda t: coulomb(t, dphys.coulomb_hessian_eigenvalues)},
            lambda t: coulomb(t, dense_hessian_eigenvalues),
            # a Hessian inside: its second derivative (fourth of the energy) is not asked here
            theta=0.3,
            rtol=1e-7,
            heavy=True,
            eager=False,
            hessian=False,
        ),
        Entry(
            "physics.onsager_log_z+onsager_energy+onsager_specific_heat+yang_magnetization",
            {"array": onsager},
            onsager,
            # the specific heat is already a second derivative: no hessian of it here
            theta=0.5,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
            hessian=False,
        ),
        Entry(
            "physics.coulomb_virial",
            {"array": virial},
            virial,
            theta=0.3,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        # the lattice-engineering targets on an open chain of four sites with a staggered,
        # theta-dependent on-site potential (no degenerate levels at the Fermi level)
        Entry(
            "physics.TightBindingLattice+DensityTarget+SpectrumTarget+ThermalDensityTarget",
            {"array": targets},
            targets,
            theta=0.6,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        Entry(
            "physics.ising_energy+ising_thermodynamics+square_lattice_couplings+hopfield_couplings",
            {"array": ising},
            ising,
            theta=0.3,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        Entry(
            "physics.expect_z+expect_x+correlation_zz",
            {"array": observables},
            observables,
            theta=0.4,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        Entry(
            "physics.lorenz+sir",
            {"array": fields},
            fields,
            theta=0.4,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        # the helpers of the fits: closed forms for the potentials; the SIR trajectory (an
        # odeint with the direct adjoint, whose own rows check it) against finite differences
        Entry(
            "physics.polynomial_potential+pendulum_potential+solve_sir",
            {"array": fit_helpers},
            fit_helpers_reference,
            theta=0.4,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        # the fitting problems' losses (odeint with the anchored and plain reversible adjoints,
        # Leapfrog), at small sizes
        Entry(
            "physics.lorenz_fit_problem+sir_fit_problem+hamiltonian_inverse_problem",
            {"array": fits},
            fits,
            theta=0.3,
            fd_reference=True,
            rtol=1e-6,
            transforms=False,
            heavy=True,
            eager=False,
            prepare=fit_losses,
        ),
        # F_q of 16 samples of a small autoregressive network (fixed key): theta is beta and
        # a coupling closed over by the energy
        Entry(
            "physics.van_free_energy+VAN",
            {"closure": van},
            van,
            theta=0.6,
            fd_reference=True,
            rtol=1e-7,
            transforms=False,
            heavy=True,
            eager=False,
            prepare=network,
        ),
        Entry(
            "physics.ising_hubbard_stratonovich",
            {"array": stratonovich},
            stratonovich,
            theta=0.3,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        Entry(
            "utils.variational_free_energy+variational_objective",
            {
                "array": lambda t: variational(
                    t, du.variational_free_energy, du.variational_objective
                )
            },
            lambda t: variational(
                t, dense_variational, lambda e, q, b: dense_variational(e, q, b).variational
            ),
            theta=0.7,
            heavy=True,
            eager=False,
        ),
        Entry(
            "physics.kaufman_log_z",
            {"array": kaufman},
            kaufman,
            theta=0.4,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
        Entry(
            "physics.ising_exact",
            {"array": exact},
            exact,
            theta=0.4,
            fd_reference=True,
            rtol=1e-7,
            heavy=True,
            eager=False,
        ),
    ]


ENTRIES: list[Entry] = (
    _linalg_entries() + _ode_entries() + _tn_entries() + _flows_entries() + _physics_entries()
)
