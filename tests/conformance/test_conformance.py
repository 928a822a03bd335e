"""The composability contract: every public differentiable entry point gives the right
derivative however the user hands it the value, under every transformation, or refuses clearly.

Rows come from `_table.ENTRIES` (one per entry point); the matrix is
- value types: Python float, NumPy scalar, weak-typed and strong JAX scalars;
- routes: every way the row's `routes` hand theta to the rule (array argument, `args` as a
  scalar, dict, `equinox.Module` or tuple with int/None/str leaves, a closure, a Module field);
- transformations: `grad`, `value_and_grad`, `jacrev`, `jacfwd` and `hessian` where supported
  (a reverse-only rule must refuse `jacfwd` with a TypeError that says so), `jit` outside and
  inside, `eqx.filter_jit`, `vmap` of `grad` and `grad` of `vmap`;
- float32 with x64 on, and with x64 off.

`jacrev`, `jacfwd`, `hessian` and the two `vmap` compositions run compiled (under `jax.jit`):
op by op they cost seconds a row, and the uncompiled path through each rule, where a Python
float arrives as a typed literal, is what the routes test runs. A reverse-only rule's refusal of
`jacfwd` is checked uncompiled.

Every derivative is compared with the row's reference (independent of the code under test:
dense `jnp`, `DirectAdjoint`, or central differences in float64).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ._table import ENTRIES

_BY_NAME = {e.name: e for e in ENTRIES}


def _fd(fun, t, h=1e-5):
    """Central difference with one Richardson step (error O(h^4)), in float64."""
    t = float(t)

    def d(step):
        return (float(fun(t + step)) - float(fun(t - step))) / (2 * step)

    return (4 * d(h / 2) - d(h)) / 3


def _reference_grad(entry, t):
    return _reference_grad_cached(entry.name, float(t))


@functools.cache
def _reference_grad_cached(name, t):
    entry = _BY_NAME[name]
    if entry.fd_reference:
        return _fd(jax.jit(entry.reference), t, h=1e-4)
    return float(jax.jit(jax.grad(entry.reference))(jnp.asarray(t, jnp.float64)))


def _reference_second(entry, t):
    if entry.fd_reference:
        return _fd(lambda s: _reference_grad(entry, s), t, h=1e-3)
    return float(jax.jit(jax.hessian(entry.reference))(jnp.asarray(t, jnp.float64)))


def _close(got, want, rtol, what):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert np.all(np.isfinite(got)), f"{what}: not finite: {got}"
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want)))
    assert err <= rtol * scale, f"{what}: got {got}, want {want} (|diff| {err:.2e})"


_VALUE_TYPES = {
    "python_float": lambda t: float(t),
    "numpy_scalar": lambda t: np.float64(t),
    "weak_jax": lambda t: jnp.asarray(float(t)),
    "strong_jax": lambda t: jnp.asarray(t, jnp.float64),
}

# A heavy row runs the three mechanisms by which theta reaches a rule (its array argument or
# `args`, a closure, a Module field); the light rows of the same entry point run every pytree
# variant of `args` (dict, Module, static leaves) through the same boundary code.
_HEAVY_ROUTES = ("array", "args", "closure", "module_field")

# Every route with a Python float (the value type that goes wrong at a custom rule's
# boundary), every value type with the first route of each row.
_ROUTE_ROWS = [
    (e.name, r, "python_float")
    for e in ENTRIES
    for r in e.routes
    if not e.heavy or r in _HEAVY_ROUTES
] + [
    (e.name, next(iter(e.routes)), v)
    for e in ENTRIES
    if not e.heavy
    for v in _VALUE_TYPES
    if v != "python_float"
]


@pytest.mark.parametrize(
    ("name", "route", "value_type"), _ROUTE_ROWS, ids=["-".join(r) for r in _ROUTE_ROWS]
)
def test_grad_every_route_and_value_type(name, route, value_type):
    entry = _BY_NAME[name]
    loss = entry.routes[route]
    theta = _VALUE_TYPES[value_type](entry.theta)
    want = _reference_grad(entry, entry.theta)
    value, grad = jax.value_and_grad(loss)(theta)
    _close(grad, want, entry.rtol, f"{name} via {route}, theta a {value_type}: grad")
    _close(value, entry.reference(jnp.asarray(entry.theta)), 1e-10, f"{name}: value")


def _first_route(entry):
    return next(iter(entry.routes.values()))


_TRANSFORMS = ["jit_outside", "jit_inside", "filter_jit", "jacrev", "jacfwd", "hessian",
               "vmap_of_grad", "grad_of_vmap"]
_LIGHT_ONLY = {"jit_outside", "filter_jit", "jacrev", "grad_of_vmap"}
_TRANSFORM_ROWS = [
    (e.name, t)
    for e in ENTRIES
    if e.transforms
    for t in _TRANSFORMS
    if not (e.heavy and t in _LIGHT_ONLY)
]


@pytest.mark.parametrize(
    ("name", "transform"), _TRANSFORM_ROWS, ids=[f"{n}-{t}" for n, t in _TRANSFORM_ROWS]
)
def test_transformations(name, transform):
    entry = _BY_NAME[name]
    t = entry.theta
    # one route per row here; the routes are covered above. A closure is the hardest one.
    loss = entry.routes.get("closure", _first_route(entry))
    want = _reference_grad(entry, t)
    if transform == "jit_outside":
        got = jax.jit(jax.grad(loss))(t)
    elif transform == "jit_inside":
        got = jax.grad(jax.jit(loss))(t)
    elif transform == "filter_jit":
        got = eqx.filter_jit(jax.grad(loss))(t)
    elif transform == "jacrev":
        got = jax.jit(jax.jacrev(loss))(t)
    elif transform == "jacfwd":
        if not entry.fwd:
            with pytest.raises(TypeError, match="(?i)forward"):
                jax.jacfwd(loss)(t)
            return
        got = jax.jit(jax.jacfwd(loss))(t)
    elif transform == "hessian":
        if not entry.hessian:
            pytest.skip(f"{name}: second derivatives are covered by its own tests (slow here)")
        _close(jax.jit(jax.hessian(loss))(t), _reference_second(entry, t),
               max(entry.rtol, 1e-6), f"{name}: hessian")
        return
    else:
        if not entry.vmap:
            pytest.skip(f"{name}: vmap is covered by its own tests (slow here)")
        ts = jnp.array([t, t * 1.1])
        want = np.array([want, _reference_grad(entry, t * 1.1)])
        if transform == "vmap_of_grad":
            got = jax.jit(jax.vmap(jax.grad(loss)))(ts)
        else:
            got = jax.jit(jax.grad(lambda x: jnp.sum(jax.vmap(loss)(x))))(ts)
    _close(got, want, entry.rtol, f"{name} under {transform}")


_F32 = [e.name for e in ENTRIES if e.float32 is not None]


@pytest.mark.parametrize("x64", [True, False], ids=["x64_on", "x64_off"])
@pytest.mark.parametrize("name", _F32)
def test_float32(name, x64):
    entry = _BY_NAME[name]
    want = _reference_grad(entry, entry.theta)
    with jax.enable_x64(x64):
        value, grad = jax.value_and_grad(entry.float32)(entry.theta)
        # the computation stays in float32 (the gradient's dtype follows theta's)
        assert jnp.result_type(value) == jnp.float32, f"{name}: value is {value.dtype}"
    # float32 rounding, amplified by the conditioning of these small, well-separated problems
    _close(grad, want, 2e-4, f"{name} in float32 (x64 {'on' if x64 else 'off'})")


def test_every_public_differentiable_entry_point_has_a_row():
    """A new public rule must add its row to the table (names checked against the modules)."""
    covered = {e.name.split("[")[0].split("+")[0] for e in ENTRIES}
    required = {
        "linalg.eigh", "linalg.eigvalsh", "linalg.svd", "linalg.truncated_svd", "linalg.qr",
        "linalg.funm", "linalg.projector", "linalg.band_energy", "linalg.expmh",
        "linalg.sqrtmh", "linalg.logmh", "linalg.eigsh", "ode.odeint", "tn.contract",
        "tn.trg", "tn.hotrg", "tn.ctmrg_log_z", "flows.MongeAmpereFlow.log_prob",
        "physics.kaufman_log_z", "physics.ising_exact",
    }
    assert required <= covered, f"rows missing for {sorted(required - covered)}"
    import diffsci.linalg

    assert set(diffsci.linalg.__all__ if hasattr(diffsci.linalg, "__all__") else []) <= (
        {n.split(".")[1] for n in required if n.startswith("linalg.")}
        | {"EigshResult", "GaugeDependence", "AbstractDegeneracyPolicy", "MaskDegeneracies",
           "LorentzianBroadening", "RaiseOnDegeneracy", "gauge_dependence",
           "measure_gauge_dependence"}
    )
