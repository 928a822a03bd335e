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
    # A slow row (an ODE solve, an RG, a flow) runs the value types other than a Python float,
    # and the transformations that repeat `grad` (jit outside, filter_jit, jacrev, grad of
    # vmap), only where `heavy` is False: the boundary code is shared, the lighter rows cover
    # them, and the suite stays quick.
    heavy: bool = False


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
    e.append(Entry(
        "linalg.eigh",
        {"array": lambda t: _eigh_loss(*dla.eigh(_mat(t)))},
        lambda t: _eigh_loss(*jnp.linalg.eigh(_mat(t))),
        float32=lambda t: _eigh_loss(*dla.eigh(_mat(t, jnp.float32))),
    ))
    e.append(Entry(
        "linalg.eigvalsh",
        {"array": lambda t: jnp.sum(dla.eigvalsh(_mat(t)) ** 3)},
        lambda t: jnp.sum(jnp.linalg.eigvalsh(_mat(t)) ** 3),
        float32=lambda t: jnp.sum(dla.eigvalsh(_mat(t, jnp.float32)) ** 3),
    ))
    e.append(Entry(
        "linalg.svd",
        {"array": lambda t: _svd_loss(*dla.svd(_rect(t), full_matrices=False))},
        lambda t: _svd_loss(*jnp.linalg.svd(_rect(t), full_matrices=False)),
        float32=lambda t: _svd_loss(*dla.svd(_rect(t, jnp.float32), full_matrices=False)),
    ))
    e.append(Entry(
        "linalg.truncated_svd",
        {"array": lambda t: _svd_loss(*dla.truncated_svd(_rect(t), 2))},
        lambda t: _svd_loss(*(x[..., :2] if i < 2 else x[:2] for i, x in
                              enumerate(jnp.linalg.svd(_rect(t), full_matrices=False)))),
    ))
    e.append(Entry(
        "linalg.qr",
        {"array": lambda t: _qr_loss(*dla.qr(_rect(t)))},
        lambda t: _qr_loss(*jnp.linalg.qr(_rect(t))),
    ))

    def thermal(f):
        r = f
        return jnp.trace(_A0 @ r) / jnp.trace(r)

    def dense_funm(a, fn):
        w, v = jnp.linalg.eigh(a)
        return (v * fn(w)) @ v.T

    class Boltzmann(eqx.Module):
        beta: float

        def __call__(self, w):
            return jnp.exp(-self.beta * w)

    e.append(Entry(
        "linalg.funm",
        {
            "closure": lambda t: thermal(dla.funm(_A0, lambda w: jnp.exp(-t * w))),
            "module_field": lambda t: thermal(dla.funm(_A0, Boltzmann(t))),
        },
        lambda t: thermal(dense_funm(_A0, lambda w: jnp.exp(-t * w))),
    ))
    # theta in the matrix instead of in f: another loss, so another row.
    e.append(Entry(
        "linalg.funm[matrix]",
        {"array": lambda t: thermal(dla.funm(_mat(t), lambda w: jnp.exp(-0.2 * w)))},
        lambda t: thermal(dense_funm(_mat(t), lambda w: jnp.exp(-0.2 * w))),
    ))
    e.append(Entry(
        "linalg.projector",
        {"array": lambda t: jnp.sum(_A1 * dla.projector(_mat(t), 2))},
        lambda t: jnp.sum(_A1 * dense_funm(_mat(t), lambda w: (jnp.arange(4) < 2) * 1.0)),
    ))
    e.append(Entry(
        "linalg.band_energy",
        {"array": lambda t: dla.band_energy(_mat(t), 2)},
        lambda t: jnp.sum(jnp.linalg.eigvalsh(_mat(t))[:2]),
    ))
    e.append(Entry(
        "linalg.expmh",
        {"array": lambda t: jnp.sum(_A1 * dla.expmh(0.1 * _mat(t)))},
        lambda t: jnp.sum(_A1 * jax.scipy.linalg.expm(0.1 * _mat(t))),
    ))
    e.append(Entry(
        "linalg.sqrtmh",
        {"array": lambda t: jnp.sum(_A1 * dla.sqrtmh(_spd(t)))},
        lambda t: jnp.sum(_A1 * dense_funm(_spd(t), jnp.sqrt)),
    ))
    e.append(Entry(
        "linalg.logmh",
        {"array": lambda t: jnp.sum(_A1 * dla.logmh(_spd(t)))},
        lambda t: jnp.sum(_A1 * dense_funm(_spd(t), jnp.log)),
    ))

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

    e.append(Entry(
        "linalg.eigsh",
        {
            "args": lambda t: low(dla.eigsh(lambda p, v: (_A0 + p * _A1) @ v, t, v0, 2)),
            "args_dict": lambda t: low(
                dla.eigsh(lambda p, v: (_A0 + p["g"] * _A1) @ v, {"g": t}, v0, 2)
            ),
            "args_module": lambda t: low(
                dla.eigsh(lambda p, v: (_A0 + p.g * _A1) @ v, Couplings(t), v0, 2)
            ),
            "args_static": lambda t: low(dla.eigsh(
                lambda p, v: (_A0 + p[0] * _A1) @ v * p[1] if p[2] is None and p[3] == "x"
                else v, (t, 1, None, "x"), v0, 2,
            )),
            "closure": lambda t: low(dla.eigsh(lambda p, v: (_A0 + t * _A1) @ v, None, v0, 2)),
            "module_field": lambda t: low(dla.eigsh(Op(t), None, v0, 2)),
        },
        lambda t: jnp.sum(jnp.linalg.eigvalsh(_mat(t))[:2] * jnp.array([1.0, 0.5])),
        rtol=1e-7,
    ))
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
    def solve(f, args):
        return _ode_loss(dode.odeint(f, _Y0, _TS, args, dt0=0.1, solver=solver, adjoint=adjoint))

    def ref(t):
        ys = dode.odeint(_field, _Y0, _TS, jnp.asarray(t, jnp.float64), dt0=0.1, solver=solver,
                         adjoint=dode.DirectAdjoint())
        return _ode_loss(ys)

    def f32(t):
        ys = dode.odeint(_field, _Y0.astype(jnp.float32), _TS, jnp.float32(t), dt0=0.1,
                         solver=solver, adjoint=adjoint)
        return _ode_loss(ys)

    return Entry(
        f"ode.odeint[{label}]",
        {
            "args": lambda t: solve(_field, t),
            "args_dict": lambda t: solve(lambda s, y, a: _field(s, y, a["rate"]), {"rate": t}),
            "args_module": lambda t: solve(lambda s, y, a: _field(s, y, a.rate), _Rate(t)),
            "args_static": lambda t: solve(
                lambda s, y, a: _field(s, y, a[0]) * a[1] if a[2] is None and a[3] == "x"
                else y, (t, 1, None, "x")
            ),
            "closure": lambda t: solve(lambda s, y, a: _field(s, y, t), None),
            "module_field": lambda t: solve(_Decay(t), None),
        },
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
        e.append(Entry(
            f"ode.odeint[{name},ReversibleAdjoint]",
            {
                "args": lambda t, s=solver: osc_loss(
                    dode.odeint(_oscillator, q0, _TS, t, dt0=0.1, solver=s)),
                "closure": lambda t, s=solver: osc_loss(dode.odeint(
                    lambda u, y, a: _oscillator(u, y, t), q0, _TS, None, dt0=0.1, solver=s)),
            },
            lambda t, s=solver: osc_loss(dode.odeint(
                _oscillator, q0, _TS, jnp.asarray(t), dt0=0.1, solver=s,
                adjoint=dode.DirectAdjoint())),
            theta=1.3,
            fwd=False,
            rtol=1e-10,
            transforms=isinstance(solver, dode.Leapfrog),
            heavy=True,
        ))

    # traced save times: theta is the end time, ts = linspace(0, theta, 3) built in the loss
    def end_time(t, adjoint):
        ts = jnp.linspace(0.0, t, 3)
        return _ode_loss(dode.odeint(_field, _Y0, ts, 0.7, dt0=0.1, max_steps=40,
                                     adjoint=adjoint))

    e.append(Entry(
        "ode.odeint[traced ts]",
        {"array": lambda t: end_time(t, dode.ReversibleAdjoint())},
        lambda t: end_time(t, dode.DirectAdjoint()),
        theta=1.1,
        fwd=False,
        rtol=1e-10,
        heavy=True,
    ))
    return e


# --------------------------------------------------------------------------------------------
# tensor networks, flows, physics


def _tn_entries():
    b0, b1 = jnp.asarray(_A0[:3, :3]), jnp.asarray(_A1[:3, :2])
    return [
        Entry(
            "tn.contract",
            {"array": lambda t: dtn.contract("ij,jk,k->", b0 + t, b1, jnp.array([1.0, t]))},
            lambda t: jnp.einsum("ij,jk,k->", b0 + t, b1, jnp.array([1.0, t])),
        ),
        Entry(
            "tn.trg",
            {"array": lambda t: dtn.trg(dtn.ising_tensor(t), 4, steps=2)},
            lambda t: dtn.trg(dtn.ising_tensor(t), 4, steps=2),
            theta=0.35, fd_reference=True, rtol=1e-6, transforms=False, heavy=True,
        ),
        Entry(
            "tn.hotrg",
            {"array": lambda t: dtn.hotrg(dtn.ising_tensor(t), 4, steps=4)},
            lambda t: dtn.hotrg(dtn.ising_tensor(t), 4, steps=4),
            theta=0.35, fd_reference=True, rtol=1e-6, transforms=False, heavy=True,
        ),
        Entry(
            "tn.ctmrg_log_z",
            {"array": lambda t: dtn.ctmrg_log_z(dtn.ising_tensor(t, symmetric=True), 6)},
            lambda t: dtn.ctmrg_log_z(dtn.ising_tensor(t, symmetric=True), 6),
            theta=0.3, fd_reference=True, rtol=1e-6, transforms=False, heavy=True,
        ),
    ]


class _Quadratic(eqx.Module):
    stiffness: float

    def __call__(self, x, t):
        return 0.5 * self.stiffness * jnp.sum(x**2) + 0.1 * jnp.sum(jnp.sin(x)) * t


def _flows_entries():
    x = jnp.array([[0.3, -0.2], [1.0, 0.5]])

    def logq(potential, adjoint=dode.ReversibleAdjoint()):
        flow = dflows.MongeAmpereFlow(2, potential, steps=6, adjoint=adjoint)
        return jnp.sum(flow.log_prob(x))

    return [
        Entry(
            "flows.MongeAmpereFlow.log_prob",
            {
                "closure": lambda t: logq(
                    lambda y, s: 0.5 * t * jnp.sum(y**2) + 0.1 * jnp.sum(jnp.sin(y)) * s),
                "module_field": lambda t: logq(_Quadratic(t)),
            },
            lambda t: logq(_Quadratic(jnp.asarray(t)), dode.DirectAdjoint()),
            theta=0.4, fwd=False, rtol=1e-9, hessian=False, heavy=True,
        )
    ]


def _physics_entries():
    model = dphys.TransverseFieldIsing(4)
    dense_basis = jnp.eye(16)

    def dense_e0(g):
        p = model.params(1.0, g)
        h = jax.vmap(lambda v: model.matvec(p, v), in_axes=1, out_axes=1)(dense_basis)
        return jnp.linalg.eigvalsh(h)[0]

    return [
        Entry(
            "physics.TransverseFieldIsing+eigsh",
            {
                "args": lambda g: dla.eigsh(model.matvec, model.params(1.0, g),
                                            jnp.ones(16)).eigenvalues[0],
                "closure": lambda g: dla.eigsh(lambda p, v: model.matvec(model.params(1.0, g), v),
                                               None, jnp.ones(16)).eigenvalues[0],
            },
            dense_e0,
            # the transformations of this rule run in the linalg.eigsh row
            theta=0.8, rtol=1e-7, heavy=True, transforms=False,
        ),
        Entry(
            "physics.kaufman_log_z",
            {"array": lambda b: dphys.kaufman_log_z(b, 4, 4)},
            lambda b: dphys.kaufman_log_z(b, 4, 4),
            theta=0.4, fd_reference=True, rtol=1e-7,
        ),
        Entry(
            "physics.ising_exact",
            {"array": lambda b: dphys.ising_exact(dphys.square_lattice_couplings(3, 3), b)},
            lambda b: dphys.ising_exact(dphys.square_lattice_couplings(3, 3), b),
            theta=0.4, fd_reference=True, rtol=1e-7,
        ),
    ]


ENTRIES: list[Entry] = (
    _linalg_entries() + _ode_entries() + _tn_entries() + _flows_entries() + _physics_entries()
)
