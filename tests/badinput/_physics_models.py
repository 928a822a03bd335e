"""Bad-input rows of diffsci.physics: the models and solvers (spin chains, the TFIM closed form,
iPEPS models, dynamical systems, tight-binding lattices, chain engineering, the Coulomb gas and
the VAN). See test_bad_input.py."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import diffsci.physics as dp

from ._row import RUNTIME, Bad

KEY = jax.random.key(0)
NAN = float("nan")
# a concrete bad value raises at once (ValueError); traced, under jit, at run time
STATIC_OR_RUNTIME = (ValueError, *RUNTIME)

# -- references built here, independently of the code under test
_X = np.array([[0.0, 1.0], [1.0, 0.0]])
_Z = np.diag([1.0, -1.0])
_I2 = np.eye(2)


def _tfim_open_2(J, h):
    """H = -J Z0 Z1 - h (X0 + X1) on two sites, as a dense Kronecker matrix."""
    return -J * np.kron(_Z, _Z) - h * (np.kron(_X, _I2) + np.kron(_I2, _X))


# -- shared small models
TFI4 = dp.TransverseFieldIsing(4)  # periodic: 4 bonds
TFI2 = dp.TransverseFieldIsing(2, periodic=False)
XXZ4 = dp.XXZChain(4)
P4 = TFI4.params()
PSI8 = jnp.ones(8) / np.sqrt(8.0)  # normalized state of 3 sites
VAN3 = dp.VAN(3, key=KEY, hidden=(4,))
LATTICE = dp.square_lattice(2, 3)  # 6 sites, 9 bonds
A2 = np.zeros((2, 2, 2, 2, 2))
A2[0, 0, 0, 0, 0] = 1.0  # the product state |up> at D = 2
_TENSOR_INT = np.zeros((2, 1, 1, 1, 1), dtype=np.int32)
_TENSOR_INT[0] = 1


def _ising_chain_energy(s):
    return -jnp.sum(s[:-1] * s[1:])


def _van_train(energy=_ising_chain_energy, n=3, beta=1.0, **kwargs):
    def run():
        options = dict(key=KEY, model=VAN3 if n == 3 else None, steps=1, batch=4, eval_samples=4)
        options.update(kwargs)
        return dp.van_train(energy, n, beta, **options).free_energy

    return run


def _engineer(target, lattice=LATTICE, **kwargs):
    def run():
        options = dict(steps=1)
        options.update(kwargs)
        return dp.engineer_lattice(lattice, target, **options).losses

    return run


def _lyapunov(f=dp.lorenz, y0=(1.0, 1.0, 1.0), **kwargs):
    def run():
        options = dict(dt=0.01, t_transient=0.1, t_total=0.2, renormalize_every=0.1)
        options.update(kwargs)
        return dp.largest_lyapunov_exponent(
            f, jnp.asarray(y0), jnp.array([10.0, 28.0, 8 / 3]), **options
        )

    return run


_LORENZ = (10.0, 28.0, 8.0 / 3.0)
_DENSITY6 = jnp.full(6, 0.5)

_TFI = "physics.TransverseFieldIsing"
_XXZ = "physics.XXZChain"
_CZZ = "physics.correlation_zz"
_TBL = "physics.TightBindingLattice"
_EL = "physics.engineer_lattice"
_ETP = "physics.engineer_tfim_profile"
_LLE = "physics.largest_lyapunov_exponent"
_CE = "physics.coulomb_energy"
_CGS = "physics.coulomb_ground_state"
_PIT = "physics.ipeps_initial_tensor"
_VT = "physics.van_train"
_RL = "physics.reinforce_loss"

ROWS: list[Bad] = [
    # -- spin chains: construction
    Bad(_TFI, "chain length 0", lambda: dp.TransverseFieldIsing(0), match="`num_sites`", jit=False),
    Bad(
        _TFI,
        "periodic chain of 2 sites",
        lambda: dp.TransverseFieldIsing(2),
        match="`num_sites`.*at least 3 sites",
        jit=False,
    ),
    Bad(
        _TFI,
        "num_sites not an integer",
        lambda: dp.TransverseFieldIsing(4.0),
        raises=TypeError,
        match="`num_sites`",
        jit=False,
    ),
    Bad(
        _TFI,
        "periodic a string",
        lambda: dp.TransverseFieldIsing(4, periodic="yes"),
        raises=TypeError,
        match="`periodic`",
        jit=False,
    ),
    Bad(
        _XXZ,
        "chain length 1",
        lambda: dp.XXZChain(1, periodic=False),
        match="`num_sites`",
        jit=False,
    ),
    Bad(_XXZ, "negative length", lambda: dp.XXZChain(-3), match="`num_sites`", jit=False),
    # -- spin chains: parameters (the couplings of a wrong length used to broadcast or fail
    # with NumPy's message)
    Bad(
        _TFI,
        "params J of the wrong length",
        lambda J: TFI4.params(J=J)["J"],
        (jnp.ones(3),),
        match=r"`J` to be a scalar or have shape \(4,\)",
    ),
    Bad(
        _TFI,
        "params NaN field",
        lambda h: TFI4.params(h=h)["h"],
        (jnp.float64(NAN),),
        raises=RUNTIME,
        match="`h` has NaN",
    ),
    Bad(
        _TFI,
        "params integer dtype",
        lambda: TFI4.params(dtype=jnp.int32),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        _XXZ,
        "params Delta of rank 2",
        lambda d: XXZ4.params(Delta=d)["Delta"],
        (jnp.ones((2, 2)),),
        match="`Delta`",
    ),
    Bad(
        _XXZ,
        "params NaN Peierls phase",
        lambda p: XXZ4.params(phi=p)["phi"],
        (jnp.array([0.1, NAN, 0.0, 0.0]),),
        raises=RUNTIME,
        match="`phi` has NaN",
    ),
    # -- spin chains: matvec
    Bad(
        _TFI,
        "matvec state of the wrong length",
        lambda v: TFI4.matvec(P4, v),
        (jnp.ones(8),),
        match=r"`v` to have 2\*\*4 = 16 entries",
    ),
    Bad(
        _TFI,
        "matvec params without h",
        lambda v: TFI4.matvec({"J": jnp.ones(4)}, v),
        (jnp.ones(16),),
        match="`params`.*'h'",
    ),
    Bad(
        _TFI,
        "matvec params not a dict",
        lambda v: TFI4.matvec(jnp.ones(4), v),
        (jnp.ones(16),),
        raises=TypeError,
        match="`params`",
    ),
    Bad(
        _TFI,
        "matvec params J of the wrong length",
        lambda v: TFI4.matvec({"J": jnp.ones(3), "h": jnp.ones(4)}, v),
        (jnp.ones(16),),
        match=r"`params\['J'\]` to have shape \(4,\)",
    ),
    Bad(
        _TFI,
        "matvec integer state is promoted",
        lambda v: TFI2.matvec(TFI2.params(), v),
        (np.array([1, 0, 0, 0]),),
        raises=None,
        value=_tfim_open_2(1.0, 1.0) @ np.array([1.0, 0, 0, 0]),
    ),
    Bad(
        _XXZ,
        "matvec real state with Peierls phases",
        lambda v: XXZ4.matvec(XXZ4.params(phi=0.1), v),
        (jnp.ones(16),),
        match="`v` to be complex",
    ),
    Bad(
        _XXZ,
        "matvec float16 state",
        lambda v: XXZ4.matvec(XXZ4.params(), v),
        (jnp.ones(16, jnp.float16),),
        raises=TypeError,
        match="`v`.*float16",
    ),
    # -- observables (issue: correlation_zz at a site beyond L clamped the index)
    Bad(
        _CZZ,
        "site beyond L",
        lambda p: dp.correlation_zz(p, 3, 0, 5),
        (PSI8,),
        match=r"`j` to be a site in \[0, 3\)",
    ),
    Bad(
        _CZZ,
        "negative site",
        lambda p: dp.correlation_zz(p, 3, -1, 0),
        (PSI8,),
        match=r"`i` to be a site in \[0, 3\)",
    ),
    Bad(
        _CZZ,
        "traced site beyond L",
        lambda p, j: dp.correlation_zz(p, 3, 0, j),
        (PSI8, jnp.int32(3)),
        raises=STATIC_OR_RUNTIME,
        match=r"`j` to be a site in \[0, 3\)",
    ),
    Bad(
        _CZZ,
        "site not an integer",
        lambda p: dp.correlation_zz(p, 3, 0, 1.5),
        (PSI8,),
        raises=TypeError,
        match="`j`",
    ),
    Bad(
        _CZZ,
        "state of the wrong length",
        lambda p: dp.correlation_zz(p, 3, 0, 1),
        (jnp.ones(4) / 2,),
        match=r"`psi` to have 2\*\*3 = 8 entries",
    ),
    Bad(
        _CZZ,
        "state not normalized",
        lambda p: dp.correlation_zz(p, 3, 0, 1),
        (2 * PSI8,),
        raises=RUNTIME,
        match="`psi` to be a finite, normalized state",
    ),
    Bad(
        _CZZ,
        "the same site twice: sigma_z^2 = 1",
        lambda p: dp.correlation_zz(p, 3, 1, 1),
        (PSI8,),
        raises=None,
        value=1.0,
    ),
    Bad(
        "physics.expect_z",
        "state of the wrong length",
        lambda p: dp.expect_z(p, 3),
        (jnp.ones(16) / 4,),
        match=r"`psi` to have 2\*\*3",
    ),
    Bad(
        "physics.expect_z",
        "num_sites 0",
        lambda p: dp.expect_z(p, 0),
        (jnp.ones(1),),
        match="`num_sites`",
    ),
    Bad(
        "physics.expect_z",
        "NaN state",
        lambda p: dp.expect_z(p, 3),
        (PSI8.at[0].set(NAN),),
        raises=RUNTIME,
        match="`psi` to be a finite, normalized",
    ),
    Bad(
        "physics.expect_z",
        "integer basis state is promoted",
        lambda p: dp.expect_z(p, 2),
        (np.array([1, 0, 0, 0]),),
        raises=None,
        value=[1.0, 1.0],
    ),
    Bad(
        "physics.expect_x",
        "state of the wrong length",
        lambda p: dp.expect_x(p, 2),
        (PSI8,),
        match=r"`psi` to have 2\*\*2 = 4 entries",
    ),
    Bad(
        "physics.expect_x",
        "state not normalized",
        lambda p: dp.expect_x(p, 2),
        (jnp.ones(4),),
        raises=RUNTIME,
        match="`psi` to be a finite, normalized",
    ),
    Bad(
        "physics.expect_x",
        "num_sites not an integer",
        lambda p: dp.expect_x(p, 2.0),
        (jnp.ones(4) / 2,),
        raises=TypeError,
        match="`num_sites`",
    ),
    Bad(
        "physics.expect_x",
        "float16 state",
        lambda p: dp.expect_x(p, 2),
        (jnp.ones(4, jnp.float16) / 2,),
        raises=TypeError,
        match="`psi`.*float16",
    ),
    # -- the TFIM closed form
    Bad(
        "physics.tfim_exact",
        "odd chain",
        lambda: dp.tfim_exact(7, 1.0),
        match="`num_sites`.*even",
        jit=False,
    ),
    Bad(
        "physics.tfim_exact",
        "chain length 0",
        lambda: dp.tfim_exact(0, 1.0),
        match="`num_sites`",
        jit=False,
    ),
    Bad("physics.tfim_exact", "NaN field", lambda: dp.tfim_exact(4, NAN), match="`g`", jit=False),
    Bad(
        "physics.tfim_exact",
        "negative field",
        lambda: dp.tfim_exact(4, -0.5),
        match="`g`",
        jit=False,
    ),
    Bad(
        "physics.tfim_exact",
        "field a string",
        lambda: dp.tfim_exact(4, "1"),
        raises=TypeError,
        match="`g`",
        jit=False,
    ),
    # g = 0, N = 2: H = -2 Z0 Z1 (both bonds join sites 0 and 1), E0 = -2
    Bad(
        "physics.tfim_exact",
        "frozen chain g = 0",
        lambda: dp.tfim_exact(2, 0.0).energy,
        raises=None,
        value=-2.0,
        jit=False,
    ),
    # -- iPEPS models (issue: heisenberg_bond(dtype=jnp.int32) was all zeros)
    Bad(
        "physics.heisenberg_bond",
        "integer dtype",
        lambda: dp.heisenberg_bond(dtype=jnp.int32),
        raises=TypeError,
        match="`dtype`.*int32",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_bond",
        "float16 dtype",
        lambda: dp.heisenberg_bond(dtype=jnp.float16),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_bond",
        "rotated a string",
        lambda: dp.heisenberg_bond("no"),
        raises=TypeError,
        match="`rotated`",
        jit=False,
    ),
    Bad(
        "physics.tfim_bond",
        "NaN field",
        dp.tfim_bond,
        (jnp.float64(NAN),),
        raises=STATIC_OR_RUNTIME,
        match="`g`.*finite",
    ),
    Bad(
        "physics.tfim_bond",
        "field a vector",
        dp.tfim_bond,
        (jnp.ones(2),),
        match="`g` to be a real scalar",
    ),
    Bad(
        "physics.tfim_bond",
        "integer dtype",
        lambda: dp.tfim_bond(1.0, dtype=jnp.int32),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        "physics.tfim_bond",
        "integer field is promoted",
        dp.tfim_bond,
        (np.int32(2),),
        raises=None,
        value=-np.kron(_Z, _Z) - 0.5 * (np.kron(_X, _I2) + np.kron(_I2, _X)),
    ),
    Bad(
        "physics.tfim_product_state_energy",
        "NaN field",
        lambda: dp.tfim_product_state_energy(NAN),
        match="`g`",
        jit=False,
    ),
    Bad(
        "physics.tfim_product_state_energy",
        "field a string",
        lambda: dp.tfim_product_state_energy("2"),
        raises=TypeError,
        match="`g`",
        jit=False,
    ),
    # e1(g) = -2 - g^2/8 for |g| <= 4 (the energy is even in g)
    Bad(
        "physics.tfim_product_state_energy",
        "negative field: the energy is even",
        lambda: dp.tfim_product_state_energy(-2.0),
        raises=None,
        value=-2.5,
        jit=False,
    ),
    # (issue: ipeps_initial_tensor(..., noise=0) gave NaN; noise = 0 is the product state)
    Bad(
        _PIT,
        "noise 0 is the product state",
        lambda k: dp.ipeps_initial_tensor(k, 2, noise=0),
        (KEY,),
        raises=None,
        value=A2,
    ),
    Bad(
        _PIT,
        "zero spinor",
        lambda k: dp.ipeps_initial_tensor(k, 2, state=(0.0, 0.0)),
        (KEY,),
        match="`state` to be a finite spinor, not zero",
    ),
    Bad(
        _PIT,
        "traced zero spinor",
        lambda k, s: dp.ipeps_initial_tensor(k, 2, state=s, noise=0.0),
        (KEY, jnp.zeros(2)),
        raises=STATIC_OR_RUNTIME,
        match="`state` to be a finite spinor, not zero",
    ),
    Bad(
        _PIT,
        "spinor of 3 components",
        lambda k: dp.ipeps_initial_tensor(k, 2, state=(1.0, 0.0, 0.0)),
        (KEY,),
        match=r"`state` to have shape \(2,\)",
    ),
    Bad(_PIT, "bond_dim 0", lambda k: dp.ipeps_initial_tensor(k, 0), (KEY,), match="`bond_dim`"),
    Bad(
        _PIT,
        "bond_dim not an integer",
        lambda k: dp.ipeps_initial_tensor(k, 2.5),
        (KEY,),
        raises=TypeError,
        match="`bond_dim`",
    ),
    Bad(
        _PIT,
        "negative noise",
        lambda k: dp.ipeps_initial_tensor(k, 2, noise=-0.1),
        (KEY,),
        match="`noise`",
    ),
    Bad(
        _PIT,
        "int key",
        lambda: dp.ipeps_initial_tensor(0, 2),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        _PIT,
        "integer dtype",
        lambda k: dp.ipeps_initial_tensor(k, 2, dtype=jnp.int32),
        (KEY,),
        raises=TypeError,
        match="`dtype`",
    ),
    Bad(
        "physics.pad_ipeps_tensor",
        "tensor of rank 4",
        lambda a: dp.pad_ipeps_tensor(a, 3),
        (jnp.ones((2, 2, 2, 2)),),
        match="`a`",
    ),
    Bad(
        "physics.pad_ipeps_tensor",
        "smaller bond_dim",
        lambda a: dp.pad_ipeps_tensor(a, 1),
        (jnp.asarray(A2),),
        match="bond_dim",
    ),
    Bad(
        "physics.pad_ipeps_tensor",
        "noise without a key",
        lambda a: dp.pad_ipeps_tensor(a, 3, noise=0.1),
        (jnp.asarray(A2),),
        match="`key`",
    ),
    Bad(
        "physics.pad_ipeps_tensor",
        "NaN noise",
        lambda a: dp.pad_ipeps_tensor(a, 3, key=KEY, noise=NAN),
        (jnp.asarray(A2),),
        match="`noise`",
    ),
    Bad(
        "physics.pad_ipeps_tensor",
        "NaN tensor",
        lambda a: dp.pad_ipeps_tensor(a, 3),
        (jnp.full((2, 2, 2, 2, 2), NAN),),
        raises=RUNTIME,
        match="`a` has NaN",
    ),
    Bad(
        "physics.pad_ipeps_tensor",
        "integer tensor is promoted",
        lambda a: dp.pad_ipeps_tensor(a, 2),
        (_TENSOR_INT,),
        raises=None,
        value=A2,
    ),
    Bad(
        "physics.published_ipeps_tensor",
        "unpublished bond_dim",
        lambda: dp.published_ipeps_tensor(5),
        match="bond_dim",
        jit=False,
    ),
    Bad(
        "physics.published_ipeps_tensor",
        "bond_dim a string",
        lambda: dp.published_ipeps_tensor("2"),
        raises=TypeError,
        match="`bond_dim`",
        jit=False,
    ),
    Bad(
        "physics.published_ipeps_tensor",
        "integer dtype",
        lambda: dp.published_ipeps_tensor(2, jnp.int32),
        raises=TypeError,
        match="`dtype`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "bond_dim 0",
        lambda: dp.heisenberg_ipeps(0, 4),
        match="`bond_dim`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "product state with chi 4",
        lambda: dp.heisenberg_ipeps(1, 4),
        match="`chi` to be 1 for bond_dim = 1",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "chi 0",
        lambda: dp.heisenberg_ipeps(2, 0),
        match="`chi`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "steps 0",
        lambda: dp.heisenberg_ipeps(2, 4, steps=0),
        match="`steps`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "int key",
        lambda: dp.heisenberg_ipeps(2, 4, key=3),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "unknown init",
        lambda: dp.heisenberg_ipeps(2, 4, init="bogus"),
        match="init",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "zero tensor as init",
        lambda: dp.heisenberg_ipeps(2, 4, init=np.zeros((2, 2, 2, 2, 2))),
        match="`init` to be a finite, nonzero",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "init tensor larger than bond_dim",
        lambda: dp.heisenberg_ipeps(2, 4, init=np.ones((2, 3, 3, 3, 3))),
        match="`init`",
        jit=False,
    ),
    Bad(
        "physics.heisenberg_ipeps",
        "published at D = 5",
        lambda: dp.heisenberg_ipeps(5, 4, init="published"),
        match="bond_dim",
        jit=False,
    ),
    Bad(
        "physics.tfim_ipeps", "NaN field", lambda: dp.tfim_ipeps(NAN, 2, 4), match="`g`", jit=False
    ),
    Bad(
        "physics.tfim_ipeps",
        "bond_dim 0",
        lambda: dp.tfim_ipeps(1.0, 0, 4),
        match="`bond_dim`",
        jit=False,
    ),
    Bad(
        "physics.tfim_ipeps",
        "negative noise",
        lambda: dp.tfim_ipeps(1.0, 2, 4, noise=-1.0),
        match="`noise`",
        jit=False,
    ),
    # -- dynamical systems (issue: a wrong-length parameter or state was read clamped)
    Bad(
        "physics.lorenz",
        "theta of length 2",
        lambda y, th: dp.lorenz(0.0, y, th),
        (jnp.ones(3), jnp.array([10.0, 28.0])),
        match=r"`theta` to have shape \(3,\)",
    ),
    Bad(
        "physics.lorenz",
        "state of length 2",
        lambda y, th: dp.lorenz(0.0, y, th),
        (jnp.ones(2), jnp.asarray(_LORENZ)),
        match=r"`y` to have shape \(3,\)",
    ),
    Bad(
        "physics.lorenz",
        "state of length 4",
        lambda y, th: dp.lorenz(0.0, y, th),
        (jnp.ones(4), jnp.asarray(_LORENZ)),
        match=r"`y` to have shape \(3,\)",
    ),
    Bad(
        "physics.lorenz",
        "theta a tuple of 2",
        lambda y: dp.lorenz(0.0, y, (10.0, 28.0)),
        (jnp.ones(3),),
        match="`theta`",
    ),
    Bad(
        "physics.lorenz",
        "integer state is promoted",
        lambda y, th: dp.lorenz(0.0, y, th),
        (np.array([1, 1, 1]), jnp.asarray(_LORENZ)),
        raises=None,
        value=[0.0, 26.0, 1.0 - 8.0 / 3.0],
    ),
    Bad(
        "physics.sir",
        "log_rates of length 3",
        lambda y, r: dp.sir(0.0, y, r),
        (jnp.array([0.9, 0.1, 0.0]), jnp.zeros(3)),
        match=r"`log_rates` to have shape \(2,\)",
    ),
    Bad(
        "physics.sir",
        "log_rates of length 1",
        lambda y, r: dp.sir(0.0, y, r),
        (jnp.array([0.9, 0.1, 0.0]), jnp.zeros(1)),
        match="`log_rates`",
    ),
    Bad(
        "physics.sir",
        "state of length 2",
        lambda y, r: dp.sir(0.0, y, r),
        (jnp.array([0.9, 0.1]), jnp.zeros(2)),
        match=r"`y` to have shape \(3,\)",
    ),
    # beta = gamma = 1: (-S I, S I - I, I)
    Bad(
        "physics.sir",
        "integer rates are promoted",
        lambda y, r: dp.sir(0.0, y, r),
        (jnp.array([0.5, 0.5, 0.0]), np.array([0, 0])),
        raises=None,
        value=[-0.25, -0.25, 0.5],
    ),
    Bad(
        "physics.lorenz_fit_problem",
        "one observation",
        lambda: dp.lorenz_fit_problem(num_obs=1),
        match="`num_obs`",
        jit=False,
    ),
    Bad(
        "physics.lorenz_fit_problem",
        "t_end 0",
        lambda: dp.lorenz_fit_problem(t_end=0.0),
        match="`t_end`",
        jit=False,
    ),
    Bad(
        "physics.lorenz_fit_problem",
        "negative dt",
        lambda: dp.lorenz_fit_problem(dt=-0.01),
        match="`dt`",
        jit=False,
    ),
    Bad(
        "physics.lorenz_fit_problem",
        "NaN noise",
        lambda: dp.lorenz_fit_problem(noise=NAN),
        match="`noise`",
        jit=False,
    ),
    Bad(
        "physics.lorenz_fit_problem",
        "int key",
        lambda: dp.lorenz_fit_problem(noise=0.1, key=1),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        "physics.sir_fit_problem",
        "beta 0",
        lambda: dp.sir_fit_problem(beta=0.0),
        match="`beta`",
        jit=False,
    ),
    Bad(
        "physics.sir_fit_problem",
        "negative gamma",
        lambda: dp.sir_fit_problem(gamma=-0.1),
        match="`gamma`",
        jit=False,
    ),
    Bad(
        "physics.sir_fit_problem",
        "no observations",
        lambda: dp.sir_fit_problem(num_obs=0),
        match="`num_obs`",
        jit=False,
    ),
    Bad(
        "physics.sir_fit_problem",
        "int key",
        lambda: dp.sir_fit_problem(key=7),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        "physics.hamiltonian_inverse_problem",
        "no particles",
        lambda: dp.hamiltonian_inverse_problem(num_particles=0),
        match="`num_particles`",
        jit=False,
    ),
    Bad(
        "physics.hamiltonian_inverse_problem",
        "degree 0",
        lambda: dp.hamiltonian_inverse_problem(degree=0),
        match="`degree`",
        jit=False,
    ),
    Bad(
        "physics.hamiltonian_inverse_problem",
        "dt 0",
        lambda: dp.hamiltonian_inverse_problem(dt=0.0),
        match="`dt`",
        jit=False,
    ),
    Bad(
        "physics.fit_parameters",
        "loss returns a vector",
        lambda: dp.fit_parameters(lambda p: p**2, jnp.ones(2), iterations=1),
        match="`loss` to return a real scalar",
        jit=False,
    ),
    Bad(
        "physics.fit_parameters",
        "loss not callable",
        lambda: dp.fit_parameters(3.0, jnp.ones(2)),
        raises=TypeError,
        match="`loss`",
        jit=False,
    ),
    Bad(
        "physics.fit_parameters",
        "iterations 0",
        lambda: dp.fit_parameters(jnp.sum, jnp.ones(2), iterations=0),
        match="`iterations`",
        jit=False,
    ),
    Bad(
        "physics.fit_parameters",
        "negative learning rate",
        lambda: dp.fit_parameters(jnp.sum, jnp.ones(2), learning_rate=-0.1),
        match="`learning_rate`",
        jit=False,
    ),
    Bad(
        "physics.fit_parameters",
        "report_every 0",
        lambda: dp.fit_parameters(jnp.sum, jnp.ones(2), report=print, report_every=0),
        match="`report_every`",
        jit=False,
    ),
    Bad(
        "physics.fit_parameters",
        "NaN start",
        lambda: dp.fit_parameters(lambda p: jnp.sum(p**2), jnp.array([1.0, NAN]), iterations=1),
        raises=FloatingPointError,
        match="loss became nan",
        jit=False,
    ),
    # (issue: t_total < t_transient was accepted)
    Bad(
        _LLE,
        "t_total shorter than the transient",
        _lyapunov(t_transient=1.0, t_total=0.5),
        match="`t_total` to be >= t_transient",
        jit=False,
    ),
    Bad(
        _LLE,
        "t_total shorter than one interval",
        _lyapunov(t_total=0.05),
        match="`t_total`",
        jit=False,
    ),
    Bad(_LLE, "dt 0", _lyapunov(dt=0.0), match="`dt`", jit=False),
    Bad(_LLE, "NaN transient", _lyapunov(t_transient=NAN), match="`t_transient`", jit=False),
    Bad(
        _LLE,
        "vector field of the wrong shape",
        _lyapunov(f=lambda t, y, a: y[:2]),
        match="`f` to return an array of the shape",
        jit=False,
    ),
    Bad(
        _LLE,
        "NaN start",
        _lyapunov(y0=(1.0, NAN, 1.0)),
        raises=RUNTIME,
        match="`y0` has NaN",
        jit=False,
    ),
    Bad(_LLE, "int key", _lyapunov(key=3), raises=TypeError, match="`key`", jit=False),
    # -- tight-binding lattices (issue: a bond to a site that does not exist was accepted)
    Bad(
        _TBL,
        "bond to a site that does not exist",
        lambda: dp.TightBindingLattice(3, ((0, 1), (1, 5)), (3,)),
        match=r"`bond_list` to join sites in \[0, 3\).*\(1, 5\)",
        jit=False,
    ),
    Bad(
        _TBL,
        "negative site",
        lambda: dp.TightBindingLattice(3, ((0, 1), (-1, 2)), (3,)),
        match="`bond_list`",
        jit=False,
    ),
    Bad(
        _TBL,
        "bond of a site to itself",
        lambda: dp.TightBindingLattice(3, ((1, 1),), (3,)),
        match="`bond_list` to join two different sites",
        jit=False,
    ),
    Bad(
        _TBL,
        "repeated bond",
        lambda: dp.TightBindingLattice(3, ((0, 1), (1, 0)), (3,)),
        match="`bond_list` to name each bond once",
        jit=False,
    ),
    Bad(
        _TBL,
        "bond of three sites",
        lambda: dp.TightBindingLattice(3, ((0, 1, 2),), (3,)),
        match="`bond_list` to hold pairs",
        jit=False,
    ),
    Bad(
        _TBL,
        "no sites",
        lambda: dp.TightBindingLattice(0, (), (0,)),
        match="`num_sites`",
        jit=False,
    ),
    Bad(
        _TBL,
        "shape of another size",
        lambda: dp.TightBindingLattice(4, ((0, 1),), (3,)),
        match="`shape`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice",
        "side 1",
        lambda: dp.square_lattice(1, 3),
        match="`length` to be >= 2",
        jit=False,
    ),
    Bad(
        "physics.square_lattice",
        "width 0",
        lambda: dp.square_lattice(3, 0),
        match="`width`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice",
        "side not an integer",
        lambda: dp.square_lattice(2.5),
        raises=TypeError,
        match="`length`",
        jit=False,
    ),
    Bad(
        "physics.square_lattice",
        "periodic a string",
        lambda: dp.square_lattice(3, periodic="no"),
        raises=TypeError,
        match="`periodic`",
        jit=False,
    ),
    Bad(
        _TBL,
        "hamiltonian onsite of the wrong length",
        lambda e: LATTICE.hamiltonian(e),
        (jnp.zeros(5),),
        match=r"`onsite` to be a scalar or have shape \(6,\)",
    ),
    Bad(
        _TBL,
        "hamiltonian hopping of the wrong length",
        lambda t: LATTICE.hamiltonian(0.0, t),
        (jnp.ones(3),),
        match=r"`hopping` to be a scalar or have shape \(9,\)",
    ),
    Bad(
        "physics.DensityTarget",
        "no particles",
        lambda: dp.DensityTarget(density=_DENSITY6, particles=0),
        match="`particles`",
        jit=False,
    ),
    Bad(
        "physics.DensityTarget",
        "particles not an integer",
        lambda: dp.DensityTarget(density=_DENSITY6, particles=2.5),
        raises=TypeError,
        match="`particles`",
        jit=False,
    ),
    Bad(
        "physics.DensityTarget",
        "density of rank 2",
        lambda: dp.DensityTarget(density=jnp.ones((2, 3)), particles=1),
        match="`density`",
        jit=False,
    ),
    Bad(
        "physics.DensityTarget",
        "NaN density",
        lambda: dp.DensityTarget(density=_DENSITY6.at[0].set(NAN), particles=3),
        match="`density` to have finite entries",
        jit=False,
    ),
    Bad(
        "physics.SpectrumTarget",
        "levels not ascending",
        lambda: dp.SpectrumTarget(levels=jnp.array([0.0, -1.0])),
        match="`levels` to be in ascending order",
        jit=False,
    ),
    Bad(
        "physics.SpectrumTarget",
        "no levels",
        lambda: dp.SpectrumTarget(levels=jnp.zeros(0)),
        match="`levels` to be nonempty",
        jit=False,
    ),
    Bad(
        "physics.SpectrumTarget",
        "NaN level",
        lambda: dp.SpectrumTarget(levels=jnp.array([NAN])),
        match="`levels`",
        jit=False,
    ),
    Bad(
        "physics.SpectrumTarget",
        "a scalar level",
        lambda: dp.SpectrumTarget(levels=jnp.float64(1.0)),
        match="`levels`",
        jit=False,
    ),
    Bad(
        "physics.ThermalDensityTarget",
        "NaN beta",
        lambda: dp.ThermalDensityTarget(density=_DENSITY6, beta=NAN),
        match="`beta`",
        jit=False,
    ),
    Bad(
        "physics.ThermalDensityTarget",
        "beta a vector",
        lambda: dp.ThermalDensityTarget(density=_DENSITY6, beta=jnp.ones(2)),
        match="`beta`",
        jit=False,
    ),
    Bad(
        "physics.ThermalDensityTarget",
        "density a string",
        lambda: dp.ThermalDensityTarget(density="flat", beta=1.0),
        raises=TypeError,
        match="`density`",
        jit=False,
    ),
    # (issue: too many particles reported "projector: ... k = 12")
    Bad(
        _EL,
        "more particles than sites",
        _engineer(dp.DensityTarget(density=jnp.full(6, 2.0), particles=12)),
        match="`target` to hold at most num_sites = 6 particles.*particles = 12",
        jit=False,
    ),
    Bad(
        _EL,
        "density of another lattice",
        _engineer(dp.DensityTarget(density=jnp.full(4, 0.25), particles=1)),
        match=r"`target` to have one density per site, shape \(6,\)",
        jit=False,
    ),
    Bad(
        _EL,
        "more levels than sites",
        _engineer(dp.SpectrumTarget(levels=jnp.arange(7.0))),
        match="`target` to have at most num_sites = 6 levels",
        jit=False,
    ),
    Bad(
        _EL,
        "unknown fit",
        _engineer(dp.SpectrumTarget(levels=jnp.zeros(1)), fit="all"),
        match="fit must be",
        jit=False,
    ),
    Bad(
        _EL,
        "lattice not a lattice",
        _engineer(dp.SpectrumTarget(levels=jnp.zeros(1)), lattice=np.eye(6)),
        raises=TypeError,
        match="`lattice`",
        jit=False,
    ),
    Bad(
        _EL,
        "target not a target",
        _engineer(jnp.zeros(6)),
        raises=TypeError,
        match="`target`",
        jit=False,
    ),
    Bad(
        _EL,
        "steps 0",
        _engineer(dp.SpectrumTarget(levels=jnp.zeros(1)), steps=0),
        match="`steps`",
        jit=False,
    ),
    Bad(
        _EL,
        "learning rate 0",
        _engineer(dp.SpectrumTarget(levels=jnp.zeros(1)), learning_rate=0.0),
        match="`learning_rate`",
        jit=False,
    ),
    Bad(
        _EL,
        "onsite of the wrong length",
        _engineer(dp.SpectrumTarget(levels=jnp.zeros(1)), onsite=jnp.zeros(5)),
        match=r"`onsite` to have shape \(6,\)",
        jit=False,
    ),
    Bad(
        _EL,
        "NaN hopping",
        _engineer(dp.SpectrumTarget(levels=jnp.zeros(1)), hopping=NAN),
        match="`hopping` to have finite entries",
        jit=False,
    ),
    # -- chain engineering
    Bad(
        _ETP,
        "one site",
        lambda: dp.engineer_tfim_profile(jnp.array([0.5]), steps=1),
        match="`target` to have at least 2 entries",
        jit=False,
    ),
    Bad(
        _ETP,
        "periodic chain of 2 sites",
        lambda: dp.engineer_tfim_profile(jnp.array([0.5, 0.5]), periodic=True, steps=1),
        match="`target` to have at least 3 entries",
        jit=False,
    ),
    Bad(
        _ETP,
        "profile outside (0, 1)",
        lambda: dp.engineer_tfim_profile(jnp.array([0.5, 1.5, 0.5]), steps=1),
        match=r"`target` to have entries in \(0, 1\)",
        jit=False,
    ),
    Bad(
        _ETP,
        "NaN profile",
        lambda: dp.engineer_tfim_profile(jnp.array([0.5, NAN, 0.5]), steps=1),
        match="`target`.*NaN",
        jit=False,
    ),
    Bad(
        _ETP,
        "profile of rank 2",
        lambda: dp.engineer_tfim_profile(jnp.full((2, 2), 0.5)),
        match="`target`",
        jit=False,
    ),
    Bad(
        _ETP,
        "steps 0",
        lambda: dp.engineer_tfim_profile(jnp.full(3, 0.5), steps=0),
        match="`steps`",
        jit=False,
    ),
    Bad(
        _ETP,
        "NaN learning rate",
        lambda: dp.engineer_tfim_profile(jnp.full(3, 0.5), learning_rate=NAN),
        match="`learning_rate`",
        jit=False,
    ),
    Bad(
        "physics.target_profile",
        "unknown kind",
        lambda: dp.target_profile("sine", 4),
        match="`kind`",
        jit=False,
    ),
    Bad(
        "physics.target_profile",
        "kind not a string",
        lambda: dp.target_profile(3, 4),
        raises=TypeError,
        match="`kind`",
        jit=False,
    ),
    Bad(
        "physics.target_profile",
        "no sites",
        lambda: dp.target_profile("ramp", 0),
        match="`num_sites`",
        jit=False,
    ),
    # -- the Coulomb gas
    Bad(
        _CE,
        "positions of rank 1",
        dp.coulomb_energy,
        (jnp.ones(3),),
        match=r"`x` to have shape \(n, d\)",
    ),
    Bad(
        _CE,
        "positions of rank 3",
        dp.coulomb_energy,
        (jnp.ones((2, 2, 2)),),
        match=r"`x` to have shape \(n, d\)",
    ),
    Bad(
        _CE,
        "NaN position",
        dp.coulomb_energy,
        (jnp.array([[0.0, 1.0], [NAN, 0.0]]),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
    Bad(
        _CE,
        "negative softening",
        lambda x: dp.coulomb_energy(x, softening=-0.1),
        (jnp.eye(2),),
        match="`softening`",
    ),
    Bad(
        _CE,
        "traced NaN softening",
        lambda x, e: dp.coulomb_energy(x, softening=e),
        (jnp.eye(2), jnp.float64(NAN)),
        raises=RUNTIME,
        match="`softening`",
    ),
    Bad(
        _CE,
        "float16 positions",
        dp.coulomb_energy,
        (jnp.eye(2, dtype=jnp.float16),),
        raises=TypeError,
        match="`x`.*float16",
    ),
    Bad(
        _CE,
        "positions a string",
        lambda: dp.coulomb_energy("x"),
        raises=TypeError,
        match="`x`",
        jit=False,
    ),
    # two unit charges at distance 1: 1/1 + (0 + 1) = 2
    Bad(
        _CE,
        "integer positions are promoted",
        dp.coulomb_energy,
        (np.array([[0, 0], [1, 0]]),),
        raises=None,
        value=2.0,
    ),
    Bad(
        "physics.coulomb_virial",
        "positions of rank 1",
        dp.coulomb_virial,
        (jnp.ones(3),),
        match=r"`x` to have shape \(n, d\)",
    ),
    Bad(
        "physics.coulomb_virial",
        "NaN position",
        dp.coulomb_virial,
        (jnp.array([[0.0, 1.0], [NAN, 0.0]]),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
    Bad(
        "physics.coulomb_virial",
        "coincident particles",
        dp.coulomb_virial,
        (jnp.zeros((2, 2)),),
        raises=RUNTIME,
        match="coincide",
    ),
    # 2 sum |x|^2 - 1/|x_1 - x_2| = 2 - 1
    Bad(
        "physics.coulomb_virial",
        "integer positions are promoted",
        dp.coulomb_virial,
        (np.array([[0, 0], [1, 0]]),),
        raises=None,
        value=1.0,
    ),
    Bad(
        "physics.coulomb_hessian_eigenvalues",
        "positions of rank 1",
        dp.coulomb_hessian_eigenvalues,
        (jnp.ones(3),),
        match=r"`x` to have shape \(n, d\)",
    ),
    Bad(
        "physics.coulomb_hessian_eigenvalues",
        "NaN position",
        dp.coulomb_hessian_eigenvalues,
        (jnp.array([[0.0, 1.0], [NAN, 0.0]]),),
        raises=RUNTIME,
        match="`x` has NaN",
    ),
    Bad(
        _CGS, "one particle", lambda: dp.coulomb_ground_state(1, 2, key=KEY), match="`n`", jit=False
    ),
    Bad(
        _CGS,
        "dimension 0",
        lambda: dp.coulomb_ground_state(3, 0, key=KEY),
        match="`dim`",
        jit=False,
    ),
    Bad(
        _CGS,
        "no starts",
        lambda: dp.coulomb_ground_state(3, 2, key=KEY, starts=0),
        match="`starts`",
        jit=False,
    ),
    Bad(
        _CGS,
        "max_steps 0",
        lambda: dp.coulomb_ground_state(3, 2, key=KEY, max_steps=0),
        match="`max_steps`",
        jit=False,
    ),
    Bad(
        _CGS,
        "NaN rtol",
        lambda: dp.coulomb_ground_state(3, 2, key=KEY, rtol=NAN),
        match="`rtol`",
        jit=False,
    ),
    Bad(
        _CGS,
        "int key",
        lambda: dp.coulomb_ground_state(3, 2, key=0),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        _CGS,
        "sharding a string",
        lambda: dp.coulomb_ground_state(3, 2, key=KEY, sharding="batch"),
        raises=TypeError,
        match="`sharding`",
        jit=False,
    ),
    Bad(
        _CGS,
        "n not an integer",
        lambda: dp.coulomb_ground_state(3.0, 2, key=KEY),
        raises=TypeError,
        match="`n`",
        jit=False,
    ),
    # -- the VAN (issue: VAN(0) was accepted)
    Bad("physics.VAN", "no spins", lambda: dp.VAN(0, key=KEY), match="`n`", jit=False),
    Bad("physics.VAN", "negative n", lambda: dp.VAN(-2, key=KEY), match="`n`", jit=False),
    Bad(
        "physics.VAN",
        "n not an integer",
        lambda: dp.VAN(2.5, key=KEY),
        raises=TypeError,
        match="`n`",
        jit=False,
    ),
    Bad(
        "physics.VAN",
        "hidden width 0",
        lambda: dp.VAN(3, key=KEY, hidden=(0,)),
        match="`hidden`",
        jit=False,
    ),
    Bad(
        "physics.VAN",
        "negative hidden width",
        lambda: dp.VAN(3, key=KEY, hidden=(4, -2)),
        match="`hidden`",
        jit=False,
    ),
    Bad(
        "physics.VAN",
        "hidden an integer",
        lambda: dp.VAN(3, key=KEY, hidden=8),
        raises=TypeError,
        match="`hidden`",
        jit=False,
    ),
    Bad(
        "physics.VAN",
        "int key",
        lambda: dp.VAN(3, key=0),
        raises=TypeError,
        match="`key`",
        jit=False,
    ),
    Bad(
        "physics.VAN",
        "z2 a string",
        lambda: dp.VAN(3, key=KEY, z2="yes"),
        raises=TypeError,
        match="`z2`",
        jit=False,
    ),
    Bad("physics.VAN", "sample of 0", lambda k: VAN3.sample(k, 0), (KEY,), match="`num`"),
    Bad(
        "physics.VAN",
        "log_prob of the wrong length",
        lambda s: VAN3.log_prob(s),
        (jnp.ones(4),),
        match=r"`s` to have shape \(3,\)",
    ),
    # (issue: an energy that returns a scalar or the wrong length was trained on)
    Bad(
        _VT,
        "energy returns a vector",
        _van_train(energy=lambda s: s),
        match=r"`energy_fn` to return one scalar energy.*shape \(3,\) per configuration",
        jit=False,
    ),
    Bad(
        _VT,
        "energy returns a length-1 array",
        _van_train(energy=lambda s: jnp.sum(s, keepdims=True)),
        match=r"`energy_fn` to return one scalar energy.*shape \(1,\) per configuration",
        jit=False,
    ),
    Bad(
        _VT,
        "energy written for a batch",
        _van_train(energy=lambda S: -jnp.sum(S[:, :-1] * S[:, 1:], axis=1)),
        match="`energy_fn` fails on one configuration",
        jit=False,
    ),
    Bad(_VT, "no spins", _van_train(n=0), match="`n`", jit=False),
    Bad(
        _VT,
        "model of another size",
        _van_train(n=4, model=VAN3),
        match="`model` to be a VAN of n = 4 spins",
        jit=False,
    ),
    Bad(_VT, "batch of 1", _van_train(batch=1), match="`batch`", jit=False),
    Bad(_VT, "steps 0", _van_train(steps=0), match="`steps`", jit=False),
    Bad(_VT, "beta 0", _van_train(beta=0.0), match="`beta`", jit=False),
    Bad(_VT, "NaN beta", _van_train(beta=NAN), match="`beta`", jit=False),
    Bad(_VT, "anneal 1", _van_train(anneal=1.0), match="`anneal`", jit=False),
    Bad(_VT, "negative anneal", _van_train(anneal=-0.5), match="`anneal`", jit=False),
    Bad(_VT, "learning rate 0", _van_train(learning_rate=0.0), match="`learning_rate`", jit=False),
    Bad(_VT, "chunk_steps 0", _van_train(chunk_steps=0), match="`chunk_steps`", jit=False),
    Bad(_VT, "int key", _van_train(key=5), raises=TypeError, match="`key`", jit=False),
    Bad(
        _VT,
        "energy not callable",
        _van_train(energy=1.0),
        raises=TypeError,
        match="`energy_fn`",
        jit=False,
    ),
    Bad(
        "physics.van_free_energy",
        "no samples",
        lambda: dp.van_free_energy(VAN3, _ising_chain_energy, 1.0, key=KEY, samples=0),
        match="`samples`",
        jit=False,
    ),
    Bad(
        "physics.van_free_energy",
        "energy returns a vector",
        lambda: dp.van_free_energy(VAN3, lambda s: s, 1.0, key=KEY, samples=4),
        match="`energy_fn` to return one scalar energy",
        jit=False,
    ),
    Bad(
        "physics.van_free_energy",
        "beta 0",
        lambda: dp.van_free_energy(VAN3, _ising_chain_energy, 0.0, key=KEY, samples=4),
        match="`beta`",
        jit=False,
    ),
    Bad(
        "physics.van_free_energy",
        "model not a VAN",
        lambda: dp.van_free_energy(None, _ising_chain_energy, 1.0, key=KEY, samples=4),
        raises=TypeError,
        match="`model`",
        jit=False,
    ),
    Bad(
        _RL,
        "0/1 occupations instead of spins",
        lambda s, e: dp.reinforce_loss(VAN3, s, e, 1.0),
        (jnp.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), jnp.zeros(2)),
        raises=RUNTIME,
        match="`samples` to hold spins",
    ),
    Bad(
        _RL,
        "samples of another n",
        lambda s, e: dp.reinforce_loss(VAN3, s, e, 1.0),
        (jnp.ones((2, 4)), jnp.zeros(2)),
        match=r"`samples` to have shape \(M, 3\)",
    ),
    Bad(
        _RL,
        "energies of the wrong length",
        lambda s, e: dp.reinforce_loss(VAN3, s, e, 1.0),
        (jnp.ones((2, 3)), jnp.zeros(3)),
        match=r"`energies` to have shape \(2,\)",
    ),
    Bad(
        _RL,
        "NaN energy",
        lambda s, e: dp.reinforce_loss(VAN3, s, e, 1.0),
        (jnp.ones((2, 3)), jnp.array([0.0, NAN])),
        raises=RUNTIME,
        match="`energies` has NaN",
    ),
    Bad(
        _RL,
        "beta a vector",
        lambda s, e, b: dp.reinforce_loss(VAN3, s, e, b),
        (jnp.ones((2, 3)), jnp.zeros(2), jnp.ones(2)),
        match="`beta`",
    ),
    Bad(
        _RL,
        "model not a VAN",
        lambda s, e: dp.reinforce_loss(None, s, e, 1.0),
        (jnp.ones((2, 3)), jnp.zeros(2)),
        raises=TypeError,
        match="`model`",
    ),
]

# Public names with no input a user can get wrong ("physics.Name": reason).
NO_INPUT: dict[str, str] = {
    "physics.TFIMExact": "the record tfim_exact returns",
    "physics.FitResult": "the record fit_parameters returns",
    "physics.LatticeEngineeringResult": "the record engineer_lattice returns",
    "physics.ChainEngineeringResult": "the record engineer_tfim_profile returns",
    "physics.CoulombGroundState": "the record coulomb_ground_state returns",
    "physics.VANResult": "the record van_train returns",
    "physics.AbstractLatticeTarget": "an abstract base class (its subclasses have rows)",
    "physics.LORENZ_LYAPUNOV_REFERENCE": "a constant (a published value)",
    "physics.HEISENBERG_IPEPS_REFERENCE": "a constant (published values)",
    "physics.HEISENBERG_QMC_ENERGY": "a constant (a published value)",
}
