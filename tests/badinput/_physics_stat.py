"""Bad-input rows of diffsci.physics: Ising models and their exact solutions (enumeration,
Kaufman, Onsager, Yang), the Hubbard-Stratonovich relaxation, the Monte Carlo samplers and the
chain statistics. See test_bad_input.py."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

import diffsci.flows as df
import diffsci.physics as dp

from ._row import RUNTIME, Bad

KEY = jax.random.key(0)
NAN = float("nan")
# a concrete bad value raises at once (ValueError); traced, under jit, at run time
STATIC_OR_RUNTIME = (ValueError, *RUNTIME)


# -- references built here, independently of the code under test


def _torus_bonds(rows, cols):
    """The bonds (i, j) of the periodic rows x cols lattice, right and down neighbours."""
    bonds = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            bonds += [(i, r * cols + (c + 1) % cols), (i, ((r + 1) % rows) * cols + c)]
    return np.array(bonds)


def _torus_couplings(rows, cols):
    j = np.zeros((rows * cols, rows * cols))
    for a, b in _torus_bonds(rows, cols):
        j[a, b] += 1.0
        j[b, a] += 1.0
    return j


def _enumerate_torus(rows, cols, beta):
    """ln Z and d ln Z / d beta = -<E> of the J = 1 torus by enumeration of all 2^N states."""
    n = rows * cols
    s = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    bonds = _torus_bonds(rows, cols)
    e = -np.sum(s[:, bonds[:, 0]] * s[:, bonds[:, 1]], axis=1).astype(float)
    w = -beta * e
    top = w.max()
    p = np.exp(w - top)
    z = p.sum()
    return top + np.log(z), -(p @ e) / z


LOG_Z_4X4_MINUS, SLOPE_4X4_MINUS = _enumerate_torus(4, 4, -0.4)


def _high_temperature(beta):
    """Energy and specific heat per site of the square lattice from the polygon (high-
    temperature) expansion ln Z/N = ln 2 + 2 ln cosh b + v^4 + 2 v^6 + O(v^8), v = tanh b
    (one elementary square and two six-bond polygons per site): u = -f', C = b^2 f''."""
    v = math.tanh(beta)
    d = 1 - v * v  # dv/db
    u = -(2 * v + (4 * v**3 + 12 * v**5) * d)
    f2 = 2 * d + (12 * v**2 + 60 * v**4) * d * d - (4 * v**3 + 12 * v**5) * 2 * v * d
    return u, beta**2 * f2


U_SMALL, C_SMALL = _high_temperature(0.01)  # the O(v^8) rest is ~1e-11 relative here

# a 4-spin model: a ring with one diagonal bond
J4 = np.array(
    [[0.0, 1.0, 0.5, 1.0], [1.0, 0.0, 1.0, 0.0], [0.5, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]
)
J4_ASYM = J4.copy()
J4_ASYM[0, 1] = 1.2
J4_DIAG = J4 + 0.3 * np.eye(4)
J4_NAN = J4.copy()
J4_NAN[1, 2] = J4_NAN[2, 1] = NAN
UP4 = np.array([1.0, -1.0, 1.0, 1.0])
OCC4 = np.array([1.0, 0.0, 1.0, 1.0])  # 0/1 occupations, not spins
J9 = _torus_couplings(3, 3)


def _energy_of(s, j):
    return -0.5 * s @ j @ s


def _rho(x):
    """rho(t) = C(t)/C(0), C(t) = (1/N) sum_i (x_i - mean)(x_{i+t} - mean), by its definition."""
    y = x - x.mean()
    n = len(x)
    c = np.array([np.sum(y[: n - t] * y[t:]) / n for t in range(n)])
    return c / c[0]


def _gaussian(x):
    return 0.5 * jnp.sum(x**2)


def _vector_energy(x):
    return x**2  # not a scalar


FLOW2 = df.MongeAmpereFlow(2, key=KEY, steps=2)
HS = dp.ising_hubbard_stratonovich(J9, 0.3)


def _sample(sampler, x0, **kwargs):
    def run():
        options = dict(key=KEY, steps=2)
        options.update(kwargs)
        return dp.sample(sampler, x0, **options).energies

    return run


def _latent(z0=jnp.zeros((2, 2)), **kwargs):
    def run():
        options = dict(key=KEY, steps=1, step_size=0.1, num_steps=1)
        options.update(kwargs)
        return dp.latent_hmc(_gaussian, FLOW2, z0, **options).energies

    return run


_IE = "physics.ising_energy"
_IX = "physics.ising_exact"
_IT = "physics.ising_thermodynamics"
_IM = "physics.IsingMetropolis"
_S = "physics.sample"
_K = "physics.kaufman_log_z"
_ACT = "physics.autocorrelation_time"
_IS = dp.IsingMetropolis(J4, 0.4)

ROWS: list[Bad] = [
    # -- lattices and coupling matrices
    Bad(
        "physics.square_lattice",
        "side 0",
        lambda: dp.square_lattice(0, 3),
        match="`length`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice_couplings",
        "length 0",
        lambda: dp.square_lattice_couplings(0, 3),
        match="`length`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice_couplings",
        "width 1",
        lambda: dp.square_lattice_couplings(3, 1),
        match="`width`.*>= 2",
        jit=False,
    ),
    Bad(
        "physics.square_lattice_couplings",
        "side not an integer",
        lambda: dp.square_lattice_couplings(2.5),
        raises=TypeError,
        match="`length`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice_couplings",
        "integer dtype (all zeros before)",
        lambda: dp.square_lattice_couplings(3, dtype=jnp.int32),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice_couplings",
        "NaN coupling",
        lambda c: dp.square_lattice_couplings(3, coupling=c),
        (jnp.float64(NAN),),
        raises=RUNTIME,
        match="`coupling` has NaN",
    ),
    Bad(
        "physics.sk_couplings", "n = 0", lambda: dp.sk_couplings(0, key=KEY), match="`n`", jit=False
    ),
    Bad(
        "physics.sk_couplings",
        "an int seed for the key",
        lambda: dp.sk_couplings(4, key=0),
        raises=TypeError,
        match="`key` to be a JAX PRNG key",
        jit=False,
    ),
    Bad(
        "physics.sk_couplings",
        "integer dtype",
        lambda: dp.sk_couplings(4, key=KEY, dtype=jnp.int32),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        "physics.hopfield_couplings",
        "NaN in a pattern",
        dp.hopfield_couplings,
        (np.array([[1.0, NAN, 1.0, -1.0]]),),
        raises=RUNTIME,
        match="`patterns` has NaN",
    ),
    Bad(
        "physics.hopfield_couplings",
        "one pattern of rank 1",
        dp.hopfield_couplings,
        (np.array([1.0, -1.0, 1.0]),),
        match="`patterns`.*rank 2",
    ),
    Bad(
        "physics.hopfield_couplings",
        "no pattern",
        dp.hopfield_couplings,
        (np.ones((0, 4)),),
        match=r"`patterns` to have shape \(p, n\) with p, n >= 1",
    ),
    # -- ising_energy (issue: 0/1 spins gave -2.0; asymmetric couplings were symmetrized)
    Bad(
        _IE,
        "0/1 occupations instead of spins",
        dp.ising_energy,
        (OCC4, J4),
        raises=RUNTIME,
        match="`spins` to hold Ising spins",
    ),
    Bad(
        _IE,
        "asymmetric couplings",
        dp.ising_energy,
        (UP4, J4_ASYM),
        raises=RUNTIME,
        match="`couplings` to be symmetric",
    ),
    Bad(
        _IE,
        "nonzero diagonal",
        dp.ising_energy,
        (UP4, J4_DIAG),
        raises=RUNTIME,
        match="`couplings` to have a zero diagonal",
    ),
    Bad(
        _IE,
        "NaN coupling",
        dp.ising_energy,
        (UP4, J4_NAN),
        raises=RUNTIME,
        match="`couplings` has NaN",
    ),
    Bad(
        _IE,
        "field of the wrong length",
        dp.ising_energy,
        (UP4, J4, np.ones(3)),
        match=r"`h` \(the field\) to have shape \(4,\)",
    ),
    Bad(
        _IE,
        "NaN field",
        dp.ising_energy,
        (UP4, J4, np.array([0.0, NAN, 0.0, 0.0])),
        raises=RUNTIME,
        match="`h` has NaN",
    ),
    Bad(
        _IE,
        "spins of another length",
        dp.ising_energy,
        (np.ones(5), J4),
        match=r"`spins` to have shape \(\.\.\., 4\)",
    ),
    Bad(
        _IE,
        "couplings not square",
        dp.ising_energy,
        (UP4, np.zeros((4, 3))),
        match="`couplings` to be a square matrix",
    ),
    Bad(
        _IE,
        "float16 spins",
        dp.ising_energy,
        (UP4.astype(np.float16), J4),
        raises=TypeError,
        match="`spins`.*float16",
    ),
    Bad(
        _IE,
        "integer spins are promoted",
        dp.ising_energy,
        (UP4.astype(np.int32), J4),
        raises=None,
        value=_energy_of(UP4, J4),
    ),
    Bad(
        _IE,
        "validate=False skips the value checks (hot loops)",
        lambda s, j: dp.ising_energy(s, j, validate=False),
        (OCC4, J4),
        raises=None,
        value=_energy_of(OCC4, J4),
    ),
    # -- ising_exact and ising_thermodynamics
    Bad(
        _IX,
        "asymmetric couplings",
        dp.ising_exact,
        (J4_ASYM, 0.4),
        raises=RUNTIME,
        match="`couplings` to be symmetric",
    ),
    Bad(
        _IX,
        "nonzero diagonal",
        dp.ising_exact,
        (J4_DIAG, 0.4),
        raises=RUNTIME,
        match="zero diagonal",
    ),
    Bad(
        _IX,
        "field of the wrong length",
        dp.ising_exact,
        (J4, 0.4, np.ones(5)),
        match=r"`h` \(the field\) to have shape \(4,\)",
    ),
    Bad(_IX, "NaN beta", dp.ising_exact, (J4, NAN), raises=RUNTIME, match="`beta` has NaN"),
    Bad(
        _IX,
        "beta a vector",
        dp.ising_exact,
        (J4, np.array([0.1, 0.2])),
        match="`beta` to be an array of rank 0",
    ),
    Bad(_IX, "25 spins", dp.ising_exact, (np.zeros((25, 25)), 0.4), match="n <= 24"),
    Bad(
        _IX,
        "chunk_size not a power of two",
        lambda j: dp.ising_exact(j, 0.4, chunk_size=3),
        (J4,),
        match="`chunk_size` to be a power of two",
    ),
    Bad(
        _IX,
        "empty coupling matrix",
        dp.ising_exact,
        (np.zeros((0, 0)), 0.4),
        match="`couplings`.*n >= 1",
    ),
    Bad(
        _IX,
        "infinite temperature: ln Z = n ln 2",
        dp.ising_exact,
        (J4, 0.0),
        raises=None,
        value=4 * math.log(2),
    ),
    Bad(
        _IT,
        "asymmetric couplings",
        lambda j: dp.ising_thermodynamics(j, 0.4).energy,
        (J4_ASYM,),
        raises=RUNTIME,
        match="`couplings` to be symmetric",
    ),
    Bad(
        _IT,
        "nonzero diagonal",
        lambda j: dp.ising_thermodynamics(j, 0.4).energy,
        (J4_DIAG,),
        raises=RUNTIME,
        match="zero diagonal",
    ),
    Bad(
        _IT,
        "NaN beta",
        lambda b: dp.ising_thermodynamics(J4, b).energy,
        (NAN,),
        raises=RUNTIME,
        match="`beta` has NaN",
    ),
    Bad(
        _IT,
        "field of the wrong length",
        lambda h: dp.ising_thermodynamics(J4, 0.4, h).energy,
        (np.ones(2),),
        match="`h`",
    ),
    Bad(
        _IT,
        "infinite temperature: S = ln Z = n ln 2 (was NaN)",
        lambda b: dp.ising_thermodynamics(J4, b).entropy,
        (0.0,),
        raises=None,
        value=4 * math.log(2),
    ),
    # -- Kaufman (issue: NaN at beta = -0.4 although Z(-beta) = Z(beta) on the 4x4 torus)
    Bad(
        _K,
        "negative beta on an even torus",
        lambda b: dp.kaufman_log_z(b, 4, 4),
        (jnp.float64(-0.4),),
        raises=None,
        value=LOG_Z_4X4_MINUS,
        rtol=1e-12,
    ),
    Bad(
        _K,
        "negative beta: the derivative",
        lambda b: jax.grad(dp.kaufman_log_z)(b, 4, 4),
        (jnp.float64(-0.4),),
        raises=None,
        value=SLOPE_4X4_MINUS,
        rtol=1e-10,
    ),
    Bad(
        _K,
        "infinite temperature: ln Z = N ln 2",
        lambda b: dp.kaufman_log_z(b, 3, 3),
        (jnp.float64(0.0),),
        raises=None,
        value=9 * math.log(2),
    ),
    Bad(
        _K,
        "infinite temperature: d ln Z / d beta = -<E> = 0",
        lambda b: jax.grad(dp.kaufman_log_z)(b, 4, 4),
        (jnp.float64(0.0),),
        raises=None,
        value=0.0,
        rtol=1e-12,
    ),
    Bad(
        _K,
        "negative beta with an odd side",
        lambda b: dp.kaufman_log_z(b, 3, 4),
        (jnp.float64(-0.4),),
        raises=RUNTIME,
        match="`beta` >= 0 on a 3 x 4 torus",
    ),
    Bad(
        _K,
        "NaN beta",
        lambda b: dp.kaufman_log_z(b, 4, 4),
        (jnp.float64(NAN),),
        raises=RUNTIME,
        match="`beta` has NaN",
    ),
    Bad(_K, "side 1", lambda b: dp.kaufman_log_z(b, 1, 4), (0.3,), match="`rows`.*>= 2"),
    Bad(
        _K,
        "side not an integer",
        lambda b: dp.kaufman_log_z(b, 4, 2.5),
        (0.3,),
        raises=TypeError,
        match="`cols`",
    ),
    Bad(
        _K,
        "beta a vector",
        lambda b: dp.kaufman_log_z(b, 4, 4),
        (np.array([0.3, 0.4]),),
        match="`beta` to be a scalar",
    ),
    # -- Onsager and Yang (issue: NaN at beta = 0; yang_magnetization(nan) gave 0.0)
    Bad(
        "physics.onsager_energy",
        "infinite temperature: u = 0",
        dp.onsager_energy,
        (0.0,),
        raises=None,
        value=0.0,
    ),
    Bad(
        "physics.onsager_energy",
        "infinite temperature: u'(0) = -2",
        jax.grad(dp.onsager_energy),
        (0.0,),
        raises=None,
        value=-2.0,
    ),
    Bad(
        "physics.onsager_energy",
        "high temperature, against the polygon expansion",
        dp.onsager_energy,
        (0.01,),
        raises=None,
        value=U_SMALL,
        rtol=1e-9,
    ),
    Bad(
        "physics.onsager_energy",
        "NaN beta",
        dp.onsager_energy,
        (NAN,),
        raises=RUNTIME,
        match="`beta` has NaN",
    ),
    Bad(
        "physics.onsager_energy",
        "beta a string",
        lambda: dp.onsager_energy("hot"),
        raises=TypeError,
        match="`beta`",
        jit=False,
    ),
    Bad(
        "physics.onsager_specific_heat",
        "infinite temperature: C = 0",
        dp.onsager_specific_heat,
        (0.0,),
        raises=None,
        value=0.0,
    ),
    Bad(
        "physics.onsager_specific_heat",
        "infinite temperature: C''(0) = 4",
        jax.grad(jax.grad(dp.onsager_specific_heat)),
        (0.0,),
        raises=None,
        value=4.0,
    ),
    Bad(
        "physics.onsager_specific_heat",
        "high temperature, against the polygon expansion",
        dp.onsager_specific_heat,
        (0.01,),
        raises=None,
        value=C_SMALL,
        rtol=1e-8,
    ),
    Bad(
        "physics.onsager_specific_heat",
        "infinite beta",
        dp.onsager_specific_heat,
        (np.array([0.3, np.inf]),),
        raises=RUNTIME,
        match="`beta` has NaN or infinite",
    ),
    Bad(
        "physics.onsager_log_z",
        "NaN beta",
        dp.onsager_log_z,
        (NAN,),
        raises=RUNTIME,
        match="`beta` has NaN",
    ),
    Bad(
        "physics.onsager_log_z",
        "float16 beta",
        dp.onsager_log_z,
        (np.float16(0.3),),
        raises=TypeError,
        match="`beta`.*float16",
    ),
    Bad(
        "physics.onsager_log_z",
        "infinite temperature: ln 2",
        dp.onsager_log_z,
        (0.0,),
        raises=None,
        value=math.log(2),
    ),
    Bad(
        "physics.yang_magnetization",
        "NaN beta (was 0.0)",
        dp.yang_magnetization,
        (NAN,),
        raises=RUNTIME,
        match="`beta` has NaN",
    ),
    Bad(
        "physics.yang_magnetization",
        "disordered phase: m = 0 with a zero derivative",
        jax.grad(dp.yang_magnetization),
        (0.3,),
        raises=None,
        value=0.0,
    ),
    # -- Hubbard-Stratonovich
    Bad(
        "physics.ising_hubbard_stratonovich",
        "asymmetric couplings",
        lambda j: dp.ising_hubbard_stratonovich(j, 0.3).offset,
        (J4_ASYM,),
        raises=RUNTIME,
        match="`couplings` to be symmetric",
    ),
    Bad(
        "physics.ising_hubbard_stratonovich",
        "nonzero diagonal",
        lambda j: dp.ising_hubbard_stratonovich(j, 0.3).offset,
        (J4_DIAG,),
        raises=RUNTIME,
        match="zero diagonal",
    ),
    Bad(
        "physics.ising_hubbard_stratonovich",
        "couplings not square",
        lambda j: dp.ising_hubbard_stratonovich(j, 0.3).offset,
        (np.zeros((3, 4)),),
        match="`couplings` to be a square matrix",
    ),
    Bad(
        "physics.ising_hubbard_stratonovich",
        "shift 0",
        lambda j: dp.ising_hubbard_stratonovich(j, 0.3, 0.0).offset,
        (J4,),
        match="`shift` to be a positive number",
    ),
    Bad(
        "physics.ising_hubbard_stratonovich",
        "NaN beta",
        lambda b: dp.ising_hubbard_stratonovich(J4, b).offset,
        (NAN,),
        raises=RUNTIME,
        match="`beta` has NaN",
    ),
    Bad(
        "physics.IsingHubbardStratonovich",
        "field of the wrong length",
        lambda x: HS(x),
        (np.ones(8),),
        match=r"`x` to have shape \(9,\)",
    ),
    # -- samplers: construction (issue: Metropolis(step_size=-0.5) was accepted)
    Bad(
        _IM,
        "asymmetric couplings",
        lambda j: dp.IsingMetropolis(j, 0.4).couplings,
        (J4_ASYM,),
        raises=RUNTIME,
        match="`couplings` to be symmetric",
    ),
    Bad(
        _IM,
        "nonzero diagonal",
        lambda j: dp.IsingMetropolis(j, 0.4).couplings,
        (J4_DIAG,),
        raises=RUNTIME,
        match="zero diagonal",
    ),
    Bad(
        _IM,
        "field of the wrong length",
        lambda h: dp.IsingMetropolis(J4, 0.4, h).h,
        (np.ones(3),),
        match=r"`h` \(the field\) to have shape \(4,\)",
    ),
    Bad(
        _IM,
        "NaN beta",
        lambda b: dp.IsingMetropolis(J4, b).beta,
        (NAN,),
        raises=STATIC_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        "physics.Metropolis",
        "negative step size",
        lambda: dp.Metropolis(_gaussian, 1.0, step_size=-0.5),
        match="`step_size`.*positive",
        jit=False,
    ),
    Bad(
        "physics.Metropolis",
        "negative step size, traced",
        lambda s: dp.Metropolis(_gaussian, 1.0, s).step_size,
        (jnp.float64(-0.5),),
        raises=STATIC_OR_RUNTIME,
        match="`step_size`",
    ),
    Bad(
        "physics.Metropolis",
        "NaN beta",
        lambda: dp.Metropolis(_gaussian, NAN, 0.5),
        match="`beta` to be a finite number",
        jit=False,
    ),
    Bad(
        "physics.Metropolis",
        "energy not a function",
        lambda: dp.Metropolis(1.0, 1.0, 0.5),
        raises=TypeError,
        match="`energy_fn`",
        jit=False,
    ),
    Bad(
        "physics.HMC",
        "num_steps 0",
        lambda: dp.HMC(_gaussian, 1.0, 0.1, 0),
        match="`num_steps` to be an integer >= 1",
        jit=False,
    ),
    Bad(
        "physics.HMC",
        "step size 0",
        lambda: dp.HMC(_gaussian, 1.0, 0.0, 3),
        match="`step_size`",
        jit=False,
    ),
    Bad(
        "physics.HMC",
        "integrator not a separable solver",
        lambda: dp.HMC(_gaussian, 1.0, 0.1, 3, integrator="leapfrog"),
        raises=TypeError,
        match="`integrator`",
        jit=False,
    ),
    Bad("physics.Wolff", "side 1", lambda: dp.Wolff(1, 0.4), match="`length`", jit=False),
    Bad(
        "physics.Wolff",
        "antiferromagnetic coupling",
        lambda: dp.Wolff(4, 0.4, coupling=-1.0),
        match="`coupling` to be a ferromagnetic coupling",
        jit=False,
    ),
    Bad(
        "physics.Wolff",
        "NaN coupling",
        lambda: dp.Wolff(4, 0.4, coupling=NAN),
        match="`coupling`",
        jit=False,
    ),
    Bad(
        "physics.Wolff",
        "negative beta",
        lambda: dp.Wolff(4, -0.4),
        match="`beta` to be non-negative",
        jit=False,
    ),
    Bad(
        "physics.Wolff",
        "negative beta, traced",
        lambda b: dp.Wolff(4, b).beta,
        (jnp.float64(-0.4),),
        raises=STATIC_OR_RUNTIME,
        match="`beta`",
    ),
    Bad(
        "physics.LatentHMC",
        "flow not a flow",
        lambda: dp.LatentHMC(_gaussian, FLOW2.potential, 1.0, 0.1, 2),
        raises=TypeError,
        match="`flow` to be a diffsci.flows.MongeAmpereFlow",
        jit=False,
    ),
    Bad(
        "physics.LatentHMC",
        "num_steps 0",
        lambda: dp.LatentHMC(_gaussian, FLOW2, 1.0, 0.1, 0),
        match="`num_steps`",
        jit=False,
    ),
    Bad(
        "physics.LatentHMC",
        "negative step size",
        lambda: dp.LatentHMC(_gaussian, FLOW2, 1.0, -0.1, 2),
        match="`step_size`",
        jit=False,
    ),
    Bad(
        "physics.LatentHMC",
        "beta 0",
        lambda: dp.LatentHMC(_gaussian, FLOW2, 0.0, 0.1, 2),
        match="`beta` to be positive",
        jit=False,
    ),
    # -- sample: checked once at entry (issue: non-spins gave E = 0 and acceptance 1)
    Bad(
        _S,
        "0/1 occupations instead of spins",
        _sample(_IS, np.tile(OCC4, (2, 1))),
        raises=RUNTIME,
        match="`x0` to hold Ising spins",
        jit=False,
    ),
    Bad(
        _S,
        "zeros for Wolff",
        _sample(dp.Wolff(2, 0.4), np.zeros((2, 4))),
        raises=RUNTIME,
        match="`x0` to hold Ising spins",
        jit=False,
    ),
    Bad(
        _S,
        "spins of another length",
        _sample(_IS, np.ones((2, 5))),
        match=r"`x0` to have shape \(chains, 4\)",
        jit=False,
    ),
    Bad(
        _S,
        "one configuration without a chain axis",
        _sample(_IS, UP4),
        match="`x0`.*rank 2",
        jit=False,
    ),
    Bad(_S, "no chains", _sample(_IS, np.ones((0, 4))), match=r"`x0` to have shape", jit=False),
    Bad(
        _S,
        "an int seed for the key",
        _sample(_IS, np.ones((2, 4)), key=0),
        raises=TypeError,
        match="`key` to be a JAX PRNG key",
        jit=False,
    ),
    Bad(
        _S,
        "steps 0",
        _sample(_IS, np.ones((2, 4)), steps=0),
        match="`steps` to be an integer >= 1",
        jit=False,
    ),
    Bad(
        _S,
        "steps not an integer",
        _sample(_IS, np.ones((2, 4)), steps=2.5),
        raises=TypeError,
        match="`steps`",
        jit=False,
    ),
    Bad(
        _S,
        "chunk_steps 0",
        _sample(_IS, np.ones((2, 4)), chunk_steps=0),
        match="`chunk_steps`",
        jit=False,
    ),
    Bad(
        _S,
        "observable not a function",
        _sample(_IS, np.ones((2, 4)), observable=3),
        raises=TypeError,
        match="`observable`",
        jit=False,
    ),
    Bad(
        _S,
        "sampler not a sampler",
        lambda: dp.sample(J4, np.ones((2, 4)), key=KEY, steps=2),
        raises=TypeError,
        match="`sampler`",
        jit=False,
    ),
    Bad(
        _S,
        "NaN start for HMC",
        _sample(dp.HMC(_gaussian, 1.0, 0.1, 2), np.full((2, 3), NAN)),
        raises=RUNTIME,
        match="`x0` has NaN",
        jit=False,
    ),
    Bad(
        _S,
        "energy that is not a scalar",
        _sample(dp.HMC(_vector_energy, 1.0, 0.1, 2), np.ones((2, 3))),
        match="`energy_fn` to return one scalar energy",
        jit=False,
    ),
    Bad(
        _S,
        "Metropolis positions without a particle axis",
        _sample(dp.Metropolis(_gaussian, 1.0, 0.5), np.ones(3)),
        match="`x0`",
        jit=False,
    ),
    Bad(
        "physics.latent_hmc",
        "z0 of another dimension",
        _latent(jnp.zeros((2, 3))),
        match=r"`z0` to have shape \(chains, 2\)",
        jit=False,
    ),
    Bad(
        "physics.latent_hmc",
        "an int seed for the key",
        _latent(key=1),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad("physics.latent_hmc", "steps 0", _latent(steps=0), match="`steps`", jit=False),
    Bad(
        "physics.latent_hmc",
        "negative step size",
        _latent(step_size=-0.1),
        match="`step_size`",
        jit=False,
    ),
    # -- chain statistics (issue: a frozen chain gave NaN)
    Bad(
        "physics.autocorrelation",
        "frozen chain: rho = 1 at every lag",
        dp.autocorrelation,
        (np.ones(6),),
        raises=None,
        value=np.ones(6),
    ),
    Bad(
        "physics.autocorrelation",
        "integer chain is promoted",
        dp.autocorrelation,
        (np.array([1, 3, 2, 5, 4, 4, 6, 5]),),
        raises=None,
        value=_rho(np.array([1.0, 3, 2, 5, 4, 4, 6, 5])),
    ),
    Bad(
        "physics.autocorrelation",
        "NaN in the chain",
        dp.autocorrelation,
        (np.array([1.0, NAN, 2.0]),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
    Bad(
        "physics.autocorrelation",
        "rank 3",
        dp.autocorrelation,
        (np.zeros((3, 4, 5)),),
        match=r"`x` to be a chain of shape \(steps,\) or \(steps, chains\)",
    ),
    Bad(
        "physics.autocorrelation",
        "one step",
        dp.autocorrelation,
        (np.ones(1),),
        match="at least 2 steps",
    ),
    Bad(
        _ACT,
        "frozen chain: tau = n - 1/2, the most the window shows",
        lambda x: dp.autocorrelation_time(x).tau,
        (np.ones((8, 2)),),
        raises=None,
        value=7.5,
    ),
    Bad(
        _ACT,
        "frozen chain: not reliable",
        lambda x: dp.autocorrelation_time(x).reliable,
        (np.ones((8, 2)),),
        raises=None,
        value=0.0,
    ),
    Bad(
        _ACT,
        "window factor 0",
        lambda x: dp.autocorrelation_time(x, c=0.0).tau,
        (np.arange(8.0),),
        match="`c` to be a positive number",
    ),
    Bad(
        _ACT,
        "no chains",
        lambda x: dp.autocorrelation_time(x).tau,
        (np.ones((8, 0)),),
        match="`x`.*1 chain",
    ),
    Bad(
        _ACT,
        "infinite entry",
        lambda x: dp.autocorrelation_time(x).tau,
        (np.array([1.0, np.inf, 2.0, 0.0]),),
        raises=RUNTIME,
        match="`x` has NaN or infinite",
    ),
    Bad(
        "physics.integrated_autocorr_time",
        "frozen chain",
        dp.integrated_autocorr_time,
        (np.ones(10),),
        raises=None,
        value=9.5,
    ),
    Bad(
        "physics.integrated_autocorr_time",
        "NaN in the chain",
        dp.integrated_autocorr_time,
        (np.array([0.0, 1.0, NAN]),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
    Bad(
        "physics.effective_sample_size",
        "frozen chain: N / (2n - 1), not N / 0",
        dp.effective_sample_size,
        (np.ones((8, 2)),),
        raises=None,
        value=16 / 15,
    ),
    Bad(
        "physics.effective_sample_size",
        "negative window factor",
        lambda x: dp.effective_sample_size(x, c=-1.0),
        (np.arange(8.0),),
        match="`c`",
    ),
    Bad(
        "physics.binning_error",
        "frozen chain: error 0",
        lambda x: dp.binning_error(x, min_bins=4).error,
        (np.ones(16),),
        raises=None,
        value=0.0,
    ),
    Bad(
        "physics.binning_error",
        "min_bins 1",
        lambda x: dp.binning_error(x, min_bins=1).error,
        (np.arange(64.0),),
        match="`min_bins` to be an integer >= 2",
    ),
    Bad(
        "physics.binning_error",
        "too few samples",
        dp.binning_error,
        (np.arange(10.0),),
        match="too few",
    ),
    Bad(
        "physics.binning_error",
        "NaN in the chain",
        lambda x: dp.binning_error(x).error,
        (np.full(64, NAN),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
]


def _fresh(fn):
    return lambda *args: fn(*args)


# Each row gets a function object of its own: `jax.jit` of a function already compiled by an
# earlier row takes JAX's cached C++ path, which reports an error raised at run time by
# `equinox.error_if` as a plain `ValueError` ("INTERNAL: CpuCallback error") instead of
# `JaxRuntimeError`; the message is the same.
ROWS = [dataclasses.replace(row, fn=_fresh(row.fn)) for row in ROWS]

# Public names with no input a user can get wrong ("physics.Name": reason).
NO_INPUT: dict[str, str] = {
    "physics.ISING_BETA_C": "a constant",
    "physics.AbstractSampler": "an abstract base class (its subclasses have rows)",
    "physics.SamplerState": "the state record the samplers build (checked by `sample`)",
    "physics.SampleResult": "the record sample returns",
    "physics.IsingThermodynamics": "the record ising_thermodynamics returns",
    "physics.AutocorrelationTime": "the record autocorrelation_time returns",
    "physics.BinningResult": "the record binning_error returns",
}
