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
`jacfwd` is checked uncompiled. Rows of plain JAX code whose rules see theta only through array
arithmetic (`Entry.eager` False) run the routes test compiled too: their rules' own rows run
the uncompiled hand-over.

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


def _prepared(name):
    """The row, its constants built (outside any trace, before the routes are traced)."""
    entry = _BY_NAME[name]
    entry.prepare()
    return entry


def _fd(fun, t, h=1e-5):
    """Central difference with one Richardson step (error O(h^4)), in float64."""
    t = float(t)

    def d(step):
        return (float(fun(t + step)) - float(fun(t - step))) / (2 * step)

    return (4 * d(h / 2) - d(h)) / 3


def _reference_grad(entry, t):
    return _reference_grad_cached(entry.name, float(t))


@functools.cache
def _compiled_value_and_grad(name):
    """`jax.value_and_grad` of the row's reference, compiled once per worker. A row whose
    reference is finite differences of its own loss compiles its loss once: the differences are
    taken of this function's values (called with Python floats, as the routes test calls it)."""
    return jax.jit(jax.value_and_grad(_BY_NAME[name].reference))


@functools.cache
def _compiled_reference(name):
    """The row's reference loss and its gradient, compiled once per worker."""
    reference = _BY_NAME[name].reference
    if _BY_NAME[name].fd_reference:
        return (lambda t: _compiled_value_and_grad(name)(float(t))[0]), None
    return jax.jit(reference), jax.jit(jax.grad(reference))


@functools.cache
def _reference_grad_cached(name, t):
    entry = _prepared(name)
    value, grad = _compiled_reference(name)
    if entry.fd_reference:
        return _fd(value, t, h=1e-4)
    return float(grad(jnp.asarray(t, jnp.float64)))


@functools.cache
def _reference_value(name, t):
    return float(_compiled_reference(name)[0](jnp.asarray(t, jnp.float64)))


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


def _params(rows):
    """One pytest.param per row, grouped by entry: with `--dist loadgroup` all the tests of an
    entry run on one worker, which compiles the rule and its reference once."""
    return [pytest.param(*r, id="-".join(r), marks=pytest.mark.xdist_group(r[0])) for r in rows]


@pytest.mark.parametrize(("name", "route", "value_type"), _params(_ROUTE_ROWS))
def test_grad_every_route_and_value_type(name, route, value_type):
    entry = _prepared(name)
    loss = entry.routes[route]
    theta = _VALUE_TYPES[value_type](entry.theta)
    want = _reference_grad(entry, entry.theta)
    if entry.eager:
        value, grad = jax.value_and_grad(loss)(theta)
    elif loss is entry.reference:  # compiled already, for the finite differences
        value, grad = _compiled_value_and_grad(name)(theta)
    else:
        value, grad = jax.jit(jax.value_and_grad(loss))(theta)
    _close(grad, want, entry.rtol, f"{name} via {route}, theta a {value_type}: grad")
    _close(value, _reference_value(name, float(entry.theta)), 1e-10, f"{name}: value")


def _first_route(entry):
    return next(iter(entry.routes.values()))


_TRANSFORMS = [
    "jit_outside",
    "jit_inside",
    "filter_jit",
    "jacrev",
    "jacfwd",
    "hessian",
    "vmap_of_grad",
    "grad_of_vmap",
]
_LIGHT_ONLY = {"jit_outside", "filter_jit", "jacrev", "grad_of_vmap"}
_TRANSFORM_ROWS = [
    (e.name, t)
    for e in ENTRIES
    if e.transforms
    for t in _TRANSFORMS
    if not (e.heavy and t in _LIGHT_ONLY)
    # second derivatives and vmap of a row that opts out are covered by its own tests
    and not (t == "hessian" and not e.hessian)
    and not (t.startswith(("vmap", "grad_of_vmap")) and not e.vmap)
]


@pytest.mark.parametrize(("name", "transform"), _params(_TRANSFORM_ROWS))
def test_transformations(name, transform):
    entry = _prepared(name)
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
        _close(
            jax.jit(jax.hessian(loss))(t),
            _reference_second(entry, t),
            max(entry.rtol, 1e-6),
            f"{name}: hessian",
        )
        return
    else:
        ts = jnp.array([t, t * 1.1])
        want = np.array([want, _reference_grad(entry, t * 1.1)])
        if transform == "vmap_of_grad":
            got = jax.jit(jax.vmap(jax.grad(loss)))(ts)
        else:
            got = jax.jit(jax.grad(lambda x: jnp.sum(jax.vmap(loss)(x))))(ts)
    _close(got, want, entry.rtol, f"{name} under {transform}")


_F32 = [e.name for e in ENTRIES if e.float32 is not None]


@pytest.mark.parametrize("x64", [True, False], ids=["x64_on", "x64_off"])
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xdist_group(n)) for n in _F32])
def test_float32(name, x64):
    entry = _prepared(name)
    want = _reference_grad(entry, entry.theta)
    with jax.enable_x64(x64):
        # compiled: the routes test runs the uncompiled hand-over; dtypes follow the same rules
        value, grad = jax.jit(jax.value_and_grad(entry.float32))(entry.theta)
        # the computation stays in float32 (the gradient's dtype follows theta's)
        assert jnp.result_type(value) == jnp.float32, f"{name}: value is {value.dtype}"
    # float32 rounding, amplified by the conditioning of these small, well-separated problems
    _close(grad, want, 2e-4, f"{name} in float32 (x64 {'on' if x64 else 'off'})")


# Public names that are not differentiable entry points, with the reason. Every other public
# name of these subpackages must appear in a row's name ("module.name+other+module2.name3").
_NOT_ENTRY_POINTS = {
    "linalg": {
        "AbstractDegeneracyPolicy": "option",
        "MaskDegeneracies": "option",
        "LorentzianBroadening": "option",
        "RaiseOnDegeneracy": "option",
        "EigshResult": "result record",
        "GaugeDependence": "result record",
        "gauge_dependence": "diagnostic of a loss through eigh (not differentiated)",
        "default_rtol": "tolerance helper",
        "degeneracy_tolerance": "tolerance helper",
        "degenerate_pairs": "mask of degenerate pairs (boolean)",
        "inverse_differences": "building block of the rules (their rows test it)",
    },
    "ode": {
        n: "solver, adjoint or progress option of odeint (rows ode.odeint[...])"
        for n in (
            "AbstractAdjoint",
            "AbstractProgressMeter",
            "AbstractReversibleSolver",
            "AnchoredReversibleAdjoint",
            "BacksolveAdjoint",
            "DirectAdjoint",
            "Leapfrog",
            "RecursiveCheckpointAdjoint",
            "ReversibleAdjoint",
            "ReversibleHeun",
            "ReversibleRK4",
            "TextProgressMeter",
            "Yoshida4",
        )
    },
    "tn": {
        "AbstractContractionOptimizer": "option",
        "Cotengra": "option",
        "OptEinsum": "option",
        "ContractionPath": "result record",
        "CTMRGEnv": "result record",
        "CTMRGResult": "result record",
        "CTMRGResults": "status enumeration",
        "IPEPSResult": "result record",
        "TruncationInfo": "result record",
        "contraction_path": "path search (integers)",
        "truncation_info": "diagnostic",
        "optimize_ipeps": "optimizer (its gradient is ipeps_energy's)",
        "ctmrg_unrolled": "the stock alternative to ctmrg's fixed-point derivative (benchmarks)",
    },
    "flows": {
        "AbstractDivergence": "option",
        "AbstractLogDet": "option",
        "AbstractPotential": "base class",
        "ExactLaplacian": "option",
        "Hutchinson": "option",
        "IntegratedLogDet": "option",
        "JacobianLogDet": "option",
        "FlowTrainResult": "result record",
        "LatentEnergy": "what latent_energy returns (row flows.latent_energy)",
        "train_likelihood": "trainer",
        "train_variational": "trainer",
    },
    "physics": {
        **{
            n: "result record"
            for n in (
                "AutocorrelationTime",
                "BinningResult",
                "ChainEngineeringResult",
                "CoulombGroundState",
                "FitResult",
                "IsingThermodynamics",
                "LatticeEngineeringResult",
                "SampleResult",
                "SamplerState",
                "TFIMExact",
                "VANResult",
            )
        },
        **{
            n: "published or exact constant"
            for n in (
                "HEISENBERG_IPEPS_REFERENCE",
                "HEISENBERG_QMC_ENERGY",
                "ISING_BETA_C",
                "LORENZ_LYAPUNOV_REFERENCE",
            )
        },
        **{
            n: "Markov-chain sampler (not differentiated)"
            for n in (
                "AbstractSampler",
                "HMC",
                "IsingMetropolis",
                "LatentHMC",
                "Metropolis",
                "Wolff",
                "sample",
                "latent_hmc",
            )
        },
        **{
            n: "statistics of a chain (not differentiated)"
            for n in (
                "autocorrelation",
                "autocorrelation_time",
                "binning_error",
                "effective_sample_size",
                "integrated_autocorr_time",
            )
        },
        **{
            n: "optimizer or trainer (its gradients are those of the rows)"
            for n in (
                "coulomb_ground_state",
                "engineer_lattice",
                "engineer_tfim_profile",
                "fit_parameters",
                "heisenberg_ipeps",
                "tfim_ipeps",
                "van_train",
            )
        },
        **{
            n: "study (a driver that reports; its gradients are those of the rows it calls)"
            for n in (
                "coulomb_ground_state_study",
                "coulomb_sampling_study",
                "flow_study",
                "flow_study_report",
                "ising_rg_thermodynamics",
                "ising_sampling_study",
            )
        },
        **{
            n: "builder of a study's problem or a table of numbers (NumPy, not differentiated)"
            for n in (
                "coulomb_shells",
                "flow_target",
                "lattice_engineering_problem",
                "onsager_curves",
                "stripe_potential",
            )
        },
        "FLOW_TARGETS": "names of the targets of flow_target",
        "LORENZ_CLASSIC": "published or exact constant",
        **{
            n: "constructor without a continuous argument"
            for n in (
                "heisenberg_bond",
                "published_ipeps_tensor",
                "sk_couplings",
                "square_lattice",
                "target_profile",
            )
        },
        "AbstractLatticeTarget": "base class (its subclasses have a row)",
        "IsingHubbardStratonovich": "what ising_hubbard_stratonovich returns (its row)",
        "ipeps_initial_tensor": "random starting point for an optimizer",
        "pad_ipeps_tensor": "zero-padding of a starting point for an optimizer",
        "largest_lyapunov_exponent": "a long-time average (not differentiated)",
        "reinforce_loss": "a surrogate: only its gradient in the network's parameters means "
        "something (tests/physics/test_van.py checks it against exact "
        "enumeration); its value's derivative in beta is zero by design",
        "tfim_exact": "closed-form reference returning Python floats",
        "tfim_product_state_energy": "closed-form reference returning a Python float",
    },
    "utils": {
        "CheckpointError": "exception",
        "ProgressBar": "progress display",
        "VariationalEstimate": "result record",
        "batch_mesh": "sharding helper",
        "RESULTS": "status enumeration",
        "result_name": "name of a status (a string)",
        "batch_sharding": "sharding helper",
        "shard_batch": "sharding helper",
        "checkpoint_exists": "file helper",
        "load_checkpoint": "file helper",
        "save_checkpoint": "file helper",
        "read_checkpoint_metadata": "file helper",
        "read_run_checkpoint_metadata": "file helper",
        "run_chunked": "driver of long runs",
        "drive": "driver of long runs",
        "ACCEPT": "verdict of an accept hook",
        "Accept": "verdict of an accept hook",
        "Reject": "verdict of an accept hook",
        "Stop": "verdict of an accept hook or stop rule",
        "Callback": "callback protocol",
        "History": "record of a run",
        "Run": "a run in progress (host side)",
        "RunResult": "result record",
        "JSONLinesLog": "log file writer",
        "PrintEvery": "progress printer (a callback)",
    },
}


def _covered_names():
    covered = set()
    for e in ENTRIES:
        parts = e.name.split("[")[0].split("+")
        module = parts[0].split(".")[0]
        for part in parts:
            qualified = part if "." in part else f"{module}.{part}"
            covered.add(".".join(qualified.split(".")[:2]))  # Class.method -> Class
    return covered


def test_every_public_differentiable_entry_point_has_a_row():
    """Every public name of linalg, ode, tn, flows, physics and utils is a row's entry point
    or listed above as not one: a new public function fails here until it has a row."""
    import importlib
    import inspect

    covered = _covered_names()
    missing, stale = [], []
    for sub, exempt in _NOT_ENTRY_POINTS.items():
        module = importlib.import_module(f"diffsci.{sub}")
        public = {
            n
            for n in dir(module)
            if not n.startswith("_") and not inspect.ismodule(getattr(module, n))
        }
        missing += [
            f"{sub}.{n}" for n in sorted(public - set(exempt)) if f"{sub}.{n}" not in covered
        ]
        stale += [f"{sub}.{n}" for n in sorted(set(exempt) - public)]
    assert not missing, f"public names with no conformance row (add one, or say why not): {missing}"
    assert not stale, f"listed as not entry points but no longer public: {stale}"
