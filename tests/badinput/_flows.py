"""Bad-input rows of diffsci.flows (see test_bad_input.py)."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import diffsci.flows as df
from diffsci.ode import Leapfrog

from ._row import RUNTIME, Bad

KEY = jax.random.key(0)
DIM = 2


def _flow(**kwargs):
    kwargs.setdefault("steps", 1)
    return df.MongeAmpereFlow(DIM, df.OneLayerPotential(DIM, 2, key=KEY), **kwargs)


FLOW = _flow()
# phi = 0: the flow is the identity, so ln q(x) is the standard normal log-density (closed form)
ZERO_FLOW = df.MongeAmpereFlow(
    DIM, eqx.tree_at(lambda p: p.a, df.OneLayerPotential(DIM, 2, key=KEY), jnp.zeros(2)), steps=1
)
NOISY_FLOW = _flow(divergence=df.Hutchinson())


def _energy(x):
    return 0.5 * jnp.sum(x**2)


def _normal_log_prob(x):
    x = np.asarray(x, dtype=np.float64)
    return -0.5 * np.sum(x**2, axis=-1) - 0.5 * x.shape[-1] * math.log(2 * math.pi)


_POINTS = np.array([[1, 0], [2, -1]])
_NAN2 = jnp.array([[0.1, jnp.nan], [0.2, 0.3]])


def _train_v(energy=_energy, beta=1.0, **kwargs):
    def run():
        options = dict(key=KEY, steps=1, batch=2, eval_samples=0)
        options.update(kwargs)
        return df.train_variational(FLOW, energy, beta, **options).loss

    return run


def _train_l(data=jnp.zeros((4, DIM)), flow=FLOW, **kwargs):
    def run():
        options = dict(key=KEY, steps=1, batch=2)
        options.update(kwargs)
        return df.train_likelihood(flow, data, **options).loss

    return run


def _free_energy(energy=_energy, beta=1.0, **kwargs):
    def run():
        options = dict(key=KEY, samples=2, batch=2)
        options.update(kwargs)
        return df.flow_free_energy(FLOW, energy, beta, **options).variational

    return run


def _energy_potential(x, t):
    return jnp.sum(x**2) * t


_MAF = "flows.MongeAmpereFlow"
_LCP = "flows.LatticeConvPotential"
_TV = "flows.train_variational"
_TL = "flows.train_likelihood"
_FFE = "flows.flow_free_energy"
_BETA_OR_RUNTIME = (ValueError, *RUNTIME)

ROWS: list[Bad] = [
    # -- the flow: construction (issue: MongeAmpereFlow(dim=0) was accepted)
    Bad(_MAF, "dim 0", lambda: df.MongeAmpereFlow(0, key=KEY), match="`dim`", jit=False),
    Bad(
        _MAF,
        "dim 0 with a potential",
        lambda: df.MongeAmpereFlow(0, _energy_potential),
        match="`dim`",
        jit=False,
    ),
    Bad(
        _MAF,
        "dim not an integer",
        lambda: df.MongeAmpereFlow(1.5, key=KEY),
        raises=TypeError,
        match="`dim`",
        jit=False,
    ),
    Bad(_MAF, "steps 0", lambda: _flow(steps=0), match="`steps`", jit=False),
    Bad(_MAF, "steps negative", lambda: _flow(steps=-3), match="`steps`", jit=False),
    Bad(_MAF, "t_final NaN", lambda: _flow(t_final=float("nan")), match="`t_final`", jit=False),
    Bad(_MAF, "t_final 0", lambda: _flow(t_final=0.0), match="`t_final`", jit=False),
    Bad(
        _MAF,
        "width 0",
        lambda: df.MongeAmpereFlow(DIM, key=KEY, width=0),
        match="`width`",
        jit=False,
    ),
    Bad(
        _MAF,
        "int key",
        lambda: df.MongeAmpereFlow(DIM, key=0),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        _MAF,
        "potential not callable",
        lambda: df.MongeAmpereFlow(DIM, 3.0),
        raises=TypeError,
        match="`potential`",
        jit=False,
    ),
    Bad(
        _MAF,
        "potential of another dimension",
        lambda: df.MongeAmpereFlow(3, df.OneLayerPotential(DIM, 2, key=KEY)),
        match="`potential`",
        jit=False,
    ),
    Bad(
        _MAF,
        "potential returns a vector",
        lambda: df.MongeAmpereFlow(DIM, lambda x, t: x),
        match="`potential`",
        jit=False,
    ),
    Bad(
        _MAF,
        "divergence a string",
        lambda: _flow(divergence="exact"),
        raises=TypeError,
        match="`divergence`",
        jit=False,
    ),
    Bad(
        _MAF,
        "separable solver",
        lambda: _flow(solver=Leapfrog()),
        raises=TypeError,
        match="`solver`",
        jit=False,
    ),
    Bad(
        _MAF,
        "adjoint a string",
        lambda: _flow(adjoint="reversible"),
        raises=TypeError,
        match="`adjoint`",
        jit=False,
    ),
    # -- the flow: its methods
    Bad(
        _MAF,
        "sample num 0",
        lambda k: FLOW.sample(k, 0),
        (KEY,),
        match="`num`",
        who="MongeAmpereFlow.sample",
    ),
    Bad(
        _MAF,
        "sample num negative",
        lambda k: FLOW.sample_and_log_prob(k, -2),
        (KEY,),
        match="`num`",
        who="MongeAmpereFlow.sample_and_log_prob",
    ),
    Bad(
        _MAF,
        "sample num not an integer",
        lambda k: FLOW.sample(k, 1.5),
        (KEY,),
        raises=TypeError,
        match="`num`",
        who="MongeAmpereFlow.sample",
    ),
    Bad(
        _MAF,
        "sample with an int key",
        lambda k: FLOW.sample(k, 2),
        (0,),
        raises=TypeError,
        match="`key`",
        who="MongeAmpereFlow.sample",
    ),
    Bad(
        _MAF,
        "exact log prob num 0",
        lambda k: FLOW.sample_and_exact_log_prob(k, 0),
        (KEY,),
        match="`num`",
        who="MongeAmpereFlow.sample_and_exact_log_prob",
    ),
    Bad(
        _MAF,
        "log_prob of NaN",
        lambda x: FLOW.log_prob(x),
        (_NAN2,),
        raises=RUNTIME,
        match="`x` has NaN",
        who="MongeAmpereFlow.log_prob",
    ),
    Bad(
        _MAF,
        "log_prob rank 3",
        lambda x: FLOW.log_prob(x),
        (jnp.zeros((1, 2, DIM)),),
        match=r"`x` to have shape \(n, 2\)",
        who="MongeAmpereFlow.log_prob",
    ),
    Bad(
        _MAF,
        "log_prob wrong dimension",
        lambda x: FLOW.log_prob(x),
        (jnp.zeros((2, 3)),),
        match=r"`x` to have shape \(n, 2\)",
        who="MongeAmpereFlow.log_prob",
    ),
    Bad(
        _MAF,
        "log_prob float16",
        lambda x: FLOW.log_prob(x),
        (jnp.zeros((2, DIM), jnp.float16),),
        raises=TypeError,
        match="`x`.*float16",
        who="MongeAmpereFlow.log_prob",
    ),
    # compiled in both passes (an op-by-op solve is slow); the promotion happens while tracing
    Bad(
        _MAF,
        "log_prob of integers is promoted",
        jax.jit(lambda x: ZERO_FLOW.log_prob(x)),
        (_POINTS,),
        raises=None,
        value=_normal_log_prob(_POINTS),
    ),
    Bad(
        _MAF,
        "log_prob with an int key",
        lambda x: NOISY_FLOW.log_prob(x, key=3),
        (jnp.zeros((2, DIM)),),
        raises=TypeError,
        match="`key`",
        who="MongeAmpereFlow.log_prob",
    ),
    Bad(
        _MAF,
        "inverse of NaN",
        lambda x: FLOW.inverse_and_log_det(x)[1],
        (_NAN2,),
        raises=RUNTIME,
        match="`x` has NaN",
        who="MongeAmpereFlow.inverse_and_log_det",
    ),
    Bad(
        _MAF,
        "transform wrong dimension",
        lambda z: FLOW.transform(z),
        (jnp.zeros((2, 3)),),
        match="`z`",
        who="MongeAmpereFlow.transform",
    ),
    Bad(
        _MAF,
        "transform of inf",
        lambda z: FLOW.transform(z),
        (jnp.array([jnp.inf, 0.0]),),
        raises=RUNTIME,
        match="`z` has NaN or infinite",
        who="MongeAmpereFlow.transform",
    ),
    # -- the base density
    Bad(
        "flows.standard_normal_log_prob",
        "scalar x",
        df.standard_normal_log_prob,
        (jnp.float64(1.0),),
        match="`x`.*rank >= 1",
    ),
    Bad(
        "flows.standard_normal_log_prob",
        "NaN",
        df.standard_normal_log_prob,
        (jnp.array([0.0, jnp.nan]),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
    Bad(
        "flows.standard_normal_log_prob",
        "a string",
        lambda: df.standard_normal_log_prob("x"),
        raises=TypeError,
        match="`x`",
        jit=False,
    ),
    Bad(
        "flows.standard_normal_log_prob",
        "integers are promoted",
        df.standard_normal_log_prob,
        (_POINTS,),
        raises=None,
        value=_normal_log_prob(_POINTS),
    ),
    # -- divergence strategies
    Bad(
        "flows.Hutchinson",
        "unknown probe",
        lambda: df.Hutchinson(probe="uniform"),
        match="`probe`",
        jit=False,
    ),
    Bad(
        "flows.Hutchinson",
        "n_probes 0",
        lambda: df.Hutchinson(n_probes=0),
        match="`n_probes`",
        jit=False,
    ),
    Bad(
        "flows.Hutchinson",
        "n_probes not an integer",
        lambda: df.Hutchinson(n_probes=1.5),
        raises=TypeError,
        match="`n_probes`",
        jit=False,
    ),
    # -- potentials (issue: LatticeConvPotential(channels=0) raised ZeroDivisionError)
    Bad(
        "flows.OneLayerPotential",
        "dim 0",
        lambda: df.OneLayerPotential(0, 2, key=KEY),
        match="`dim`",
        jit=False,
    ),
    Bad(
        "flows.OneLayerPotential",
        "width negative",
        lambda: df.OneLayerPotential(DIM, -1, key=KEY),
        match="`width`",
        jit=False,
    ),
    Bad(
        "flows.OneLayerPotential",
        "unknown activation",
        lambda: df.OneLayerPotential(DIM, 2, key=KEY, activation="relu"),
        match="`activation`",
        jit=False,
    ),
    Bad(
        "flows.OneLayerPotential",
        "int key",
        lambda: df.OneLayerPotential(DIM, 2, key=1),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        "flows.OneLayerPotential",
        "integer dtype",
        lambda: df.OneLayerPotential(DIM, 2, key=KEY, dtype=jnp.int32),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        "flows.SpinFlipSymmetric",
        "inner not callable",
        lambda: df.SpinFlipSymmetric(3),
        raises=TypeError,
        match="`inner`",
        jit=False,
    ),
    Bad(
        "flows.PermutationInvariantPotential",
        "no particles",
        lambda: df.PermutationInvariantPotential(0, 2, key=KEY),
        match="`num_particles`",
        jit=False,
    ),
    Bad(
        "flows.PermutationInvariantPotential",
        "particle_dim 0",
        lambda: df.PermutationInvariantPotential(2, 0, key=KEY),
        match="`particle_dim`",
        jit=False,
    ),
    Bad(
        "flows.PermutationInvariantPotential",
        "width 0",
        lambda: df.PermutationInvariantPotential(2, 2, 0, key=KEY),
        match="`width`",
        jit=False,
    ),
    Bad(
        _LCP,
        "channels 0",
        lambda: df.LatticeConvPotential((3, 3), 0, key=KEY),
        match="`channels`",
        jit=False,
    ),
    Bad(
        _LCP,
        "shape of three sides",
        lambda: df.LatticeConvPotential((3, 3, 3), key=KEY),
        match="`shape`.*pair",
        jit=False,
    ),
    Bad(
        _LCP,
        "a side 0",
        lambda: df.LatticeConvPotential((0, 3), kernel_size=1, key=KEY),
        match="`shape`",
        jit=False,
    ),
    Bad(
        _LCP,
        "even kernel",
        lambda: df.LatticeConvPotential((4, 4), kernel_size=2, key=KEY),
        match="`kernel_size`.*odd",
        jit=False,
    ),
    Bad(
        _LCP,
        "kernel larger than the lattice",
        lambda: df.LatticeConvPotential((3, 3), kernel_size=5, key=KEY),
        match="`kernel_size`",
        jit=False,
    ),
    Bad(
        _LCP,
        "kernel negative",
        lambda: df.LatticeConvPotential((3, 3), kernel_size=-1, key=KEY),
        match="`kernel_size`",
        jit=False,
    ),
    Bad(
        _LCP,
        "global_channels negative",
        lambda: df.LatticeConvPotential((3, 3), global_channels=-1, key=KEY),
        match="`global_channels`",
        jit=False,
    ),
    Bad(
        _LCP,
        "rotations on a rectangle",
        lambda: df.LatticeConvPotential((3, 5), rotations=True, key=KEY),
        match="`shape`.*square",
        jit=False,
    ),
    Bad(
        _LCP,
        "rotations not a bool",
        lambda: df.LatticeConvPotential((3, 3), rotations="yes", key=KEY),
        raises=TypeError,
        match="`rotations`",
        jit=False,
    ),
    # -- latent-space energy
    Bad(
        "flows.latent_energy",
        "not a flow",
        lambda: df.latent_energy(FLOW.potential, _energy),
        raises=TypeError,
        match="MongeAmpereFlow",
        jit=False,
    ),
    Bad(
        "flows.latent_energy",
        "beta NaN",
        lambda b: df.latent_energy(FLOW, _energy, b).beta,
        (float("nan"),),
        raises=_BETA_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        "flows.latent_energy",
        "beta 0",
        lambda: df.latent_energy(FLOW, _energy, 0.0),
        match="`beta`.*normalizable",
        jit=False,
    ),
    Bad(
        "flows.latent_energy",
        "beta a vector",
        lambda: df.latent_energy(FLOW, _energy, jnp.ones(2)),
        match="beta must be a real scalar",
        jit=False,
    ),
    Bad(
        "flows.latent_energy",
        "energy returns a vector",
        lambda: df.latent_energy(FLOW, lambda x: x**2),
        match="`energy_fn`",
        jit=False,
    ),
    Bad(
        "flows.LatentEnergy",
        "z of the wrong shape",
        lambda z: df.latent_energy(FLOW, _energy)(z),
        (jnp.zeros(3),),
        match=r"expected z of shape \(2,\)",
    ),
    Bad(
        "flows.LatentEnergy",
        "z float16",
        lambda z: df.latent_energy(FLOW, _energy)(z),
        (jnp.zeros(DIM, jnp.float16),),
        raises=TypeError,
        match="`z`",
    ),
    Bad(
        "flows.LatentEnergy",
        "log_det not a strategy",
        lambda: df.LatentEnergy(FLOW, _energy, jnp.asarray(1.0), "jacobian"),
        raises=TypeError,
        match="log_det",
        jit=False,
    ),
    Bad(
        "flows.IntegratedLogDet",
        "stochastic divergence",
        lambda z: df.latent_energy(NOISY_FLOW, _energy, log_det=df.IntegratedLogDet())(z),
        (jnp.zeros(DIM),),
        match="stochastic",
    ),
    # -- free energy (issue: samples=0 raised ZeroDivisionError)
    Bad(_FFE, "samples 0", _free_energy(samples=0), match="`samples`", jit=False),
    Bad(_FFE, "samples 1", _free_energy(samples=1), match="`samples`.*>= 2", jit=False),
    Bad(_FFE, "batch 0", _free_energy(batch=0), match="`batch`", jit=False),
    Bad(_FFE, "beta 0", _free_energy(beta=0.0), match="`beta`.*diverges", jit=False),
    Bad(_FFE, "beta NaN", _free_energy(beta=float("nan")), match="`beta`", jit=False),
    Bad(
        _FFE,
        "energy returns a vector",
        _free_energy(energy=lambda x: x**2),
        match="`energy_fn`",
        jit=False,
    ),
    Bad(_FFE, "int key", _free_energy(key=5), raises=TypeError, match="`key`", jit=False),
    Bad(
        _FFE,
        "not a flow",
        lambda: df.flow_free_energy(None, _energy, key=KEY),
        raises=TypeError,
        match="`flow`",
        jit=False,
    ),
    # -- variational training (issue: beta=0 gave NaN; a wrong-shape energy was trained on)
    Bad(_TV, "beta 0", _train_v(beta=0.0), match="`beta`.*not normalizable", jit=False),
    Bad(_TV, "beta negative", _train_v(beta=-1.0), match="`beta`", jit=False),
    Bad(_TV, "beta NaN", _train_v(beta=float("nan")), match="`beta`", jit=False),
    Bad(
        _TV,
        "energy returns a vector",
        _train_v(energy=lambda x: x**2),
        match="`energy_fn`",
        jit=False,
    ),
    Bad(
        _TV,
        "energy returns a length-1 vector",
        _train_v(energy=lambda x: jnp.sum(x**2, keepdims=True)),
        match="`energy_fn`",
        jit=False,
    ),
    Bad(
        _TV,
        "energy written for a batch",
        _train_v(energy=lambda x: jnp.sum(x**2, axis=1)),
        match="`energy_fn` fails on one point",
        jit=False,
    ),
    Bad(
        _TV,
        "energy not callable",
        _train_v(energy=2.0),
        raises=TypeError,
        match="`energy_fn`",
        jit=False,
    ),
    Bad(
        _TV,
        "complex energy",
        _train_v(energy=lambda x: jnp.sum(x) * 1j),
        raises=TypeError,
        match="`energy_fn`",
        jit=False,
    ),
    Bad(_TV, "steps 0", _train_v(steps=0), match="`steps`", jit=False),
    Bad(_TV, "batch 0", _train_v(batch=0), match="`batch`", jit=False),
    Bad(
        _TV,
        "learning rate NaN",
        _train_v(learning_rate=float("nan")),
        match="`learning_rate`",
        jit=False,
    ),
    Bad(
        _TV,
        "learning rate negative",
        _train_v(learning_rate=-0.1),
        match="`learning_rate`",
        jit=False,
    ),
    Bad(_TV, "eval_samples 1", _train_v(eval_samples=1), match="`eval_samples`", jit=False),
    Bad(_TV, "chunk_steps 0", _train_v(chunk_steps=0), match="`chunk_steps`", jit=False),
    Bad(_TV, "unknown schedule", _train_v(schedule="linear"), match="`schedule`", jit=False),
    Bad(_TV, "int key", _train_v(key=0), raises=TypeError, match="`key`", jit=False),
    Bad(
        _TV,
        "checkpoint_dir a number",
        _train_v(checkpoint_dir=3),
        raises=TypeError,
        match="`checkpoint_dir`",
        jit=False,
    ),
    Bad(
        _TV,
        "not a flow",
        lambda: df.train_variational(FLOW.potential, _energy, key=KEY),
        raises=TypeError,
        match="`flow`",
        jit=False,
    ),
    # -- maximum likelihood
    Bad(
        _TL,
        "NaN in the data",
        _train_l(data=_NAN2),
        raises=RUNTIME,
        match="`data` has NaN",
        jit=False,
    ),
    Bad(
        _TL,
        "data of another dimension",
        _train_l(data=jnp.zeros((4, 3))),
        match="`data`",
        jit=False,
    ),
    Bad(_TL, "data rank 1", _train_l(data=jnp.zeros(4)), match="`data`", jit=False),
    Bad(_TL, "batch larger than the data", _train_l(batch=5), match="`data`.*n >= 5", jit=False),
    Bad(_TL, "batch 0", _train_l(batch=0), match="`batch`", jit=False),
    Bad(
        _TL,
        "float16 data",
        _train_l(data=jnp.zeros((4, DIM), jnp.float16)),
        raises=TypeError,
        match="`data`",
        jit=False,
    ),
    Bad(
        _TL,
        "transform not callable",
        _train_l(transform=1),
        raises=TypeError,
        match="`transform`",
        jit=False,
    ),
    Bad(_TL, "not a flow", _train_l(flow=3), raises=TypeError, match="`flow`", jit=False),
]


# Public names with no input a user can get wrong ("flows.Name": reason).
NO_INPUT: dict[str, str] = {
    "flows.AbstractDivergence": "an abstract base class",
    "flows.AbstractLogDet": "an abstract base class",
    "flows.AbstractPotential": "an abstract base class",
    "flows.ExactLaplacian": "takes no arguments",
    "flows.JacobianLogDet": "takes no arguments; LatentEnergy checks the point it is given",
    "flows.FlowTrainResult": "a result record built by the trainers",
}
