"""Bad-input rows of diffsci.tn (see test_bad_input.py)."""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

import diffsci.tn as tn

from ._row import RUNTIME, Bad

# The Ising tensor at beta = 0.4 (C4v symmetric: every leg split as Q sqrt(Lambda)).
_ISING = np.asarray(tn.ising_tensor(0.4, symmetric=True))
_NAN = _ISING.copy()
_NAN[0, 1, 0, 1] = np.nan
# Far from the critical point, for CTMRG (converges in a few steps at chi = 2).
_HOT = np.asarray(tn.ising_tensor(0.2, symmetric=True))


def _torus_z(t: np.ndarray) -> float:
    """Z of the 2x2 torus of copies of t[left, right, down, up], by enumerating its 8 bonds."""
    z = 0.0
    for bonds in itertools.product(range(t.shape[0]), repeat=8):
        h = np.reshape(bonds[:4], (2, 2))  # h[i, j]: the bond right of site (i, j)
        v = np.reshape(bonds[4:], (2, 2))  # v[i, j]: the bond above site (i, j)
        z += math.prod(
            t[h[i, j - 1], h[i, j], v[i - 1, j], v[i, j]] for i in range(2) for j in range(2)
        )
    return z


# A tensor whose 2x2 torus has Z = -2 (exact enumeration): not a Boltzmann weight. TRG and HOTRG
# with 2 steps contract exactly this torus (chi = 16 truncates nothing).
_NEGATIVE = np.zeros((2, 2, 2, 2))
for _index, _value in zip(
    ((0, 0, 0, 0), (0, 0, 1, 0), (0, 1, 1, 0), (1, 0, 0, 0), (1, 1, 0, 0), (1, 1, 0, 1)),
    (1.0, -1.0, -1.0, 1.0, 1.0, 1.0),
    strict=True,
):
    _NEGATIVE[_index] = _value
assert _torus_z(_NEGATIVE) == -2.0
# Z = 0: the only nonzero weight has a right leg in state 1, which its right neighbour's left leg
# (state 0) never meets.
_FLUX = np.zeros((2, 2, 2, 2))
_FLUX[0, 1, 0, 0] = 1.0
_ONES_INT = np.ones((2, 2, 2, 2), dtype=np.int32)

# A D = 1 iPEPS (the cheapest CTMRG: d = chi = 1) and its environment.
_PEPS = np.ones((2, 1, 1, 1, 1))
_H = np.diag([1.0, -1.0, -1.0, 1.0])  # sigma^z sigma^z
_ENV = tn.CTMRGEnv(jnp.ones((1, 1)), jnp.ones((1, 1, 1)))
_ENV_D2 = tn.CTMRGEnv(jnp.ones((1, 1)), jnp.ones((1, 4, 1)))  # for a D = 2 tensor, not D = 1
_RESULT = tn.CTMRGResult(
    env=_ENV, steps=jnp.asarray(0), error=jnp.asarray(0.0), result=jnp.asarray(0)
)


class _Env(NamedTuple):
    """Any record with a corner and an edge serves as an environment."""

    corner: jnp.ndarray
    edge: jnp.ndarray


def _trg(t):
    return tn.trg(t, 16, steps=2)


def _hotrg(t):
    return tn.hotrg(t, 16, steps=2)


def _log_z(a):
    return tn.ctmrg_log_z(a, 2, max_steps=100)


def _corner(a):
    return tn.ctmrg(a, 2, max_steps=100).env.corner


def _ising(beta, h):
    return tn.ising_log_z(beta, h, chi=4, steps=2)


def _energy(a, h):
    return tn.ipeps_energy(a, h, 1)


# One function per entry point, shared by its rows of one signature, so that `jit` compiles it
# once for all of them.


ROWS: list[Bad] = [
    # ---------------------------------------------------------------- contract, contraction_path
    Bad(
        "tn.contract",
        "fewer operands than the spec names",
        lambda a: tn.contract("ij,jk->ik", a),
        (jnp.ones((2, 2)),),
        match="2 tensors but 1",
    ),
    Bad(
        "tn.contract",
        "a leg of two dimensions",
        lambda a, b: tn.contract("ij,jk->ik", a, b),
        (jnp.ones((2, 3)), jnp.ones((4, 2))),
        match="leg 'j' has dimension 3 in operand 0 but 4",
    ),
    Bad(
        "tn.contract",
        "operand of the wrong rank",
        lambda a, b: tn.contract("ij,jk->ik", a, b),
        (jnp.ones((2, 3)), jnp.ones(3)),
        match=r"operand 1 has legs \('j', 'k'\)",
    ),
    Bad(
        "tn.contract",
        "output leg of no tensor",
        lambda a: tn.contract("ij->ik", a),
        (jnp.ones((2, 2)),),
        match="output leg 'k'",
    ),
    Bad(
        "tn.contract",
        "digit in the subscripts",
        lambda a: tn.contract("i1->i", a),
        (jnp.ones((2, 2)),),
        match="`spec`.*letters",
    ),
    Bad(
        "tn.contract",
        "two arrows",
        lambda a: tn.contract("ij->i->j", a),
        (jnp.ones((2, 2)),),
        match="`spec` has more than one '->'",
    ),
    Bad(
        "tn.contract",
        "spec not a str or legs",
        lambda a: tn.contract(3, a),
        (jnp.ones(2),),
        raises=TypeError,
        match="`spec`",
    ),
    Bad(
        "tn.contract",
        "string operand",
        lambda: tn.contract("ij->i", "ab"),
        raises=TypeError,
        match="operand 0 must be an array",
        jit=False,
    ),
    Bad(
        "tn.contract",
        "max_intermediate 0",
        lambda a, b: tn.contract("ij,jk->ik", a, b, max_intermediate=0),
        (jnp.ones((2, 2)), jnp.ones((2, 2))),
        match="`max_intermediate`",
    ),
    Bad(
        "tn.contract",
        "max_intermediate a float",
        lambda a, b: tn.contract("ij,jk->ik", a, b, max_intermediate=10.5),
        (jnp.ones((2, 2)), jnp.ones((2, 2))),
        raises=TypeError,
        match="`max_intermediate`",
    ),
    Bad(
        "tn.contract",
        "optimizer not an optimizer",
        lambda a, b: tn.contract("ij,jk->ik", a, b, optimizer="greedy"),
        (jnp.ones((2, 2)), jnp.ones((2, 2))),
        raises=TypeError,
        match="`optimizer`",
    ),
    Bad(
        "tn.contract",
        "path of other shapes",
        lambda a, b: tn.contract(
            "ij,jk->ik", a, b, path=tn.contraction_path("ij,jk->ik", (2, 2), (2, 2))
        ),
        (jnp.ones((3, 3)), jnp.ones((3, 3))),
        match="path was computed for",
    ),
    Bad(
        "tn.contraction_path",
        "negative dimension",
        lambda: tn.contraction_path("ij,jk->ik", (2, -1), (2, 2)),
        raises=TypeError,
        match="operand 0 must be an array or a shape",
        jit=False,
    ),
    Bad(
        "tn.contraction_path",
        "max_intermediate 0",
        lambda: tn.contraction_path("ij,jk->ik", (2, 2), (2, 2), max_intermediate=0),
        match="`max_intermediate`",
        jit=False,
    ),
    Bad(
        "tn.contraction_path",
        "optimizer a string",
        lambda: tn.contraction_path("ij,jk->ik", (2, 2), (2, 2), optimizer="dp"),
        raises=TypeError,
        match="`optimizer`",
        jit=False,
    ),
    Bad(
        "tn.contraction_path",
        "named legs, unknown output leg",
        lambda: tn.contraction_path([("a", "b")], (2, 2), output=("c",)),
        match="output leg 'c'",
        jit=False,
    ),
    Bad(
        "tn.OptEinsum",
        "strategy 'nonsense'",
        lambda: tn.OptEinsum("nonsense"),
        match="`strategy`.*'greedy'.*got 'nonsense'",
        jit=False,
    ),
    Bad(
        "tn.OptEinsum", "strategy not a str", lambda: tn.OptEinsum(3), match="`strategy`", jit=False
    ),
    Bad(
        "tn.Cotengra",
        "minimize 'fast'",
        lambda: tn.Cotengra(minimize="fast"),
        match="`minimize`.*'flops'",
        jit=False,
    ),
    Bad(
        "tn.Cotengra",
        "max_repeats 0",
        lambda: tn.Cotengra(max_repeats=0),
        match="`max_repeats`.*>= 1",
        jit=False,
    ),
    Bad(
        "tn.Cotengra",
        "methods a str",
        lambda: tn.Cotengra(methods="greedy"),
        raises=TypeError,
        match="`methods`",
        jit=False,
    ),
    # -------------------------------------------------------------------------------- trg, hotrg
    Bad(
        "tn.trg",
        "integer tensor promoted (2 ln 2: all-ones weights, 2 states per bond)",
        _trg,
        (_ONES_INT,),
        raises=None,
        value=2 * math.log(2),
    ),
    Bad(
        "tn.trg",
        "float16 tensor",
        _trg,
        (_ISING.astype(np.float16),),
        raises=TypeError,
        match="`tensor`.*float16",
    ),
    Bad(
        "tn.trg",
        "complex tensor",
        _trg,
        (_ISING.astype(np.complex128),),
        raises=TypeError,
        match="`tensor`.*complex128",
    ),
    Bad("tn.trg", "rank 3", _trg, (_ISING[0],), match=r"`tensor`.*rank-4.*\(2, 2, 2\)"),
    Bad(
        "tn.trg",
        "left and right legs differ",
        _trg,
        (jnp.ones((2, 3, 2, 2)),),
        match=r"same dimension.*\(2, 3, 2, 2\)",
    ),
    Bad("tn.trg", "chi 0", lambda t: tn.trg(t, 0), (_ISING,), match="chi must be .* got 0"),
    Bad(
        "tn.trg",
        "svd not a known rule",
        lambda t: tn.trg(t, 4, steps=2, svd="numpy"),
        (_ISING,),
        match="`svd`.*'diffsci', 'jax'.*'numpy'",
    ),
    Bad(
        "tn.trg",
        "svd='jax' on all-ones weights (2 ln 2, as with the default rule)",
        lambda t: tn.trg(t, 16, steps=2, svd="jax"),
        (_ONES_INT,),
        raises=None,
        value=2 * math.log(2),
    ),
    Bad(
        "tn.trg",
        "steps -1",
        lambda t: tn.trg(t, 4, steps=-1),
        (_ISING,),
        match="steps must be .* got -1",
    ),
    Bad(
        "tn.trg",
        "multiplet_rtol 2",
        lambda t: tn.trg(t, 4, multiplet_rtol=2.0),
        (_ISING,),
        match="multiplet_rtol must be in",
    ),
    Bad("tn.trg", "NaN entry", _trg, (_NAN,), raises=RUNTIME, match="`tensor` has NaN"),
    Bad(
        "tn.trg",
        "zero tensor",
        _trg,
        (np.zeros((2, 2, 2, 2)),),
        raises=RUNTIME,
        match="`tensor` to be nonzero",
    ),
    Bad(
        "tn.trg",
        "negative Z (Z = -2 on the torus)",
        _trg,
        (_NEGATIVE,),
        raises=RUNTIME,
        match="Z .*zero or negative",
    ),
    Bad(
        "tn.trg",
        "Z = 0 (a flux no neighbour meets)",
        _trg,
        (_FLUX,),
        raises=RUNTIME,
        match="Z .*zero or negative",
    ),
    Bad(
        "tn.hotrg",
        "integer tensor promoted (2 ln 2)",
        _hotrg,
        (_ONES_INT,),
        raises=None,
        value=2 * math.log(2),
    ),
    Bad(
        "tn.hotrg",
        "bool tensor promoted (2 ln 2)",
        _hotrg,
        (_ONES_INT.astype(bool),),
        raises=None,
        value=2 * math.log(2),
    ),
    Bad(
        "tn.hotrg",
        "bfloat16 tensor",
        _hotrg,
        (jnp.asarray(_ISING, jnp.bfloat16),),
        raises=TypeError,
        match="`tensor`.*bfloat16",
    ),
    Bad("tn.hotrg", "rank 2", _hotrg, (jnp.ones((2, 2)),), match="`tensor`.*rank-4"),
    Bad("tn.hotrg", "chi 2.5", lambda t: tn.hotrg(t, 2.5), (_ISING,), match="chi must be"),
    Bad(
        "tn.hotrg",
        "steps 0",
        lambda t: tn.hotrg(t, 4, steps=0),
        (_ISING,),
        match="steps must be .* got 0",
    ),
    Bad("tn.hotrg", "NaN entry", _hotrg, (_NAN,), raises=RUNTIME, match="`tensor` has NaN"),
    Bad(
        "tn.hotrg",
        "zero tensor",
        _hotrg,
        (np.zeros((2, 2, 2, 2)),),
        raises=RUNTIME,
        match="`tensor` to be nonzero",
    ),
    Bad(
        "tn.hotrg",
        "negative Z (Z = -2 on the torus)",
        _hotrg,
        (_NEGATIVE,),
        raises=RUNTIME,
        match="Z .*zero or negative",
    ),
    Bad(
        "tn.hotrg",
        "Z = 0 (a flux no neighbour meets)",
        _hotrg,
        (_FLUX,),
        raises=RUNTIME,
        match="Z .*zero or negative",
    ),
    Bad(
        "tn.truncation_info",
        "method 'ctmrg'",
        lambda t: tn.truncation_info(t, 4, method="ctmrg"),
        (_ISING,),
        match="method must be",
    ),
    Bad(
        "tn.truncation_info",
        "chi 0",
        lambda t: tn.truncation_info(t, 0),
        (_ISING,),
        match="chi must be",
    ),
    Bad(
        "tn.truncation_info",
        "NaN entry",
        lambda t: tn.truncation_info(t, 4, 3).gap,
        (_NAN,),
        raises=RUNTIME,
        match="`tensor` has NaN",
    ),
    # ------------------------------------------------------------------------------ local tensors
    Bad(
        "tn.ising_log_z",
        "NaN beta",
        _ising,
        (jnp.asarray(np.nan), jnp.asarray(0.0)),
        raises=RUNTIME,
        match="`beta` is NaN",
    ),
    Bad(
        "tn.ising_log_z",
        "NaN field h",
        _ising,
        (jnp.asarray(0.4), jnp.asarray(np.nan)),
        raises=RUNTIME,
        match="`h` is NaN",
    ),
    Bad(
        "tn.ising_log_z",
        "infinite beta",
        _ising,
        (jnp.asarray(np.inf), jnp.asarray(0.0)),
        raises=RUNTIME,
        match="`beta` is NaN or infinite",
    ),
    Bad(
        "tn.ising_log_z",
        "beta a vector",
        lambda b: tn.ising_log_z(b, chi=4, steps=2),
        (jnp.ones(2),),
        match=r"`beta` to be a scalar.*\(2,\)",
    ),
    Bad(
        "tn.ising_log_z",
        "chi 0",
        lambda b: tn.ising_log_z(b, chi=0),
        (jnp.asarray(0.4),),
        match="chi must be .* got 0",
    ),
    Bad(
        "tn.ising_log_z",
        "method 'ctm'",
        lambda b: tn.ising_log_z(b, chi=4, method="ctm"),
        (jnp.asarray(0.4),),
        match="method must be one of",
    ),
    Bad(
        "tn.ising_log_z",
        "integer beta 0 and h 0: infinite temperature, ln 2",
        _ising,
        (jnp.asarray(0), jnp.asarray(0)),
        raises=None,
        value=math.log(2),
    ),
    Bad(
        "tn.ising_tensor",
        "NaN beta",
        tn.ising_tensor,
        (jnp.asarray(np.nan),),
        raises=RUNTIME,
        match="`beta` is NaN",
    ),
    Bad(
        "tn.ising_tensor",
        "h a vector",
        tn.ising_tensor,
        (0.4, jnp.ones(3)),
        match="`h` to be a scalar",
    ),
    Bad(
        "tn.ising_tensor",
        "symmetric split of an antiferromagnet",
        lambda b: tn.ising_tensor(b, symmetric=True),
        (jnp.asarray(-0.3),),
        raises=RUNTIME,
        match="negative eigenvalue",
    ),
    Bad(
        "tn.potts_tensor",
        "q = 1",
        lambda b: tn.potts_tensor(b, 1),
        (jnp.asarray(0.4),),
        match="`q`.*q >= 2, got 1",
    ),
    Bad(
        "tn.potts_tensor",
        "q = 2.5",
        lambda b: tn.potts_tensor(b, 2.5),
        (jnp.asarray(0.4),),
        match="`q`.*got 2.5",
    ),
    Bad(
        "tn.potts_tensor",
        "NaN beta",
        lambda b: tn.potts_tensor(b, 3),
        (jnp.asarray(np.nan),),
        raises=RUNTIME,
        match="`beta` is NaN",
    ),
    Bad(
        "tn.lattice_tensor",
        "asymmetric bond",
        tn.lattice_tensor,
        (np.array([[1.0, 2.0], [0.5, 1.0]]), np.ones(2)),
        raises=RUNTIME,
        match="`bond` to be a symmetric",
    ),
    Bad(
        "tn.lattice_tensor",
        "NaN site weight",
        tn.lattice_tensor,
        (np.ones((2, 2)), np.array([1.0, np.nan])),
        raises=RUNTIME,
        match="`site` has NaN",
    ),
    Bad(
        "tn.lattice_tensor",
        "non-square bond",
        tn.lattice_tensor,
        (np.ones((2, 3)), np.ones(2)),
        match=r"`bond`.*square.*\(2, 3\)",
    ),
    Bad(
        "tn.lattice_tensor",
        "site of the wrong length",
        tn.lattice_tensor,
        (np.ones((3, 3)), np.ones(2)),
        match=r"\(3,\).*`site`.*got shape \(2,\)",
    ),
    # -------------------------------------------------------------------------------------- CTMRG
    Bad(
        "tn.CTMRGEnv",
        "edge of another chi than the corner",
        lambda: tn.CTMRGEnv(jnp.eye(3), jnp.ones((4, 2, 4))),
        match=r"`edge`.*chi = 3.*\(4, 2, 4\)",
        jit=False,
    ),
    Bad(
        "tn.CTMRGEnv",
        "corner not square",
        lambda: tn.CTMRGEnv(jnp.ones((2, 3)), jnp.ones((2, 2, 2))),
        match=r"`corner`.*\(2, 3\)",
        jit=False,
    ),
    Bad(
        "tn.ctmrg",
        "init of another chi and d than the tensor",
        lambda a: tn.ctmrg(a, 2, init=tn.CTMRGEnv(jnp.eye(3), jnp.ones((3, 3, 3)))),
        (_ISING,),
        match=r"`init`.*\(2, 2, 2, 2\).*\(2, 2\) and \(2, 2, 2\).*\(3, 3\).*\(3, 3, 3\)",
    ),
    Bad(
        "tn.ctmrg",
        "init a CTMRGResult",
        lambda a: tn.ctmrg(a, 1, init=_RESULT),
        (_ISING,),
        raises=TypeError,
        match="`init`.*result.env",
    ),
    Bad("tn.ctmrg", "chi 0", lambda a: tn.ctmrg(a, 0), (_ISING,), match="`chi` must be .* got 0"),
    Bad(
        "tn.ctmrg_unrolled",
        "chi 0",
        lambda a: tn.ctmrg_unrolled(a, 0, 3),
        (_ISING,),
        match="`chi` must be .* got 0",
    ),
    Bad(
        "tn.ctmrg_unrolled",
        "steps -1",
        lambda a: tn.ctmrg_unrolled(a, 2, -1),
        (_ISING,),
        match="`steps` to be an integer >= 0, got -1",
    ),
    Bad(
        "tn.ctmrg_unrolled",
        "rank 3",
        lambda a: tn.ctmrg_unrolled(a, 2, 3),
        (_ISING[0],),
        match="`a`.*rank-4",
    ),
    Bad(
        "tn.ctmrg_unrolled",
        "complex tensor",
        lambda a: tn.ctmrg_unrolled(a, 2, 3),
        (_ISING.astype(np.complex128),),
        raises=TypeError,
        match="`a`.*complex128",
    ),
    Bad("tn.ctmrg", "rank 3", lambda a: tn.ctmrg(a, 2), (_ISING[0],), match="`a`.*rank-4"),
    Bad("tn.ctmrg", "tol -1", lambda a: tn.ctmrg(a, 2, tol=-1.0), (_ISING,), match="`tol`"),
    Bad(
        "tn.ctmrg",
        "solver not a lineax solver",
        lambda a: tn.ctmrg(a, 2, solver="gmres"),
        (_ISING,),
        raises=TypeError,
        match="`solver`",
    ),
    # ctmrg and ctmrg_log_z are compiled functions (equinox.filter_jit): called eagerly, their
    # value checks already run inside compiled code, so these rows skip the second compile.
    Bad(
        "tn.ctmrg",
        "NaN entry",
        _corner,
        (_NAN,),
        raises=RUNTIME,
        match="NaN or infinity in the tensor `a`",
        jit=False,
    ),
    Bad(
        "tn.ctmrg",
        "zero tensor",
        _corner,
        (np.zeros((2, 2, 2, 2)),),
        raises=RUNTIME,
        match="`a` to be nonzero",
        jit=False,
    ),
    Bad(
        "tn.ctmrg_log_z",
        "negative kappa (minus a Boltzmann weight)",
        _log_z,
        (-_HOT,),
        raises=RUNTIME,
        match="kappa .* zero or negative",
        jit=False,
    ),
    Bad(
        "tn.ctmrg_log_z",
        "NaN entry",
        _log_z,
        (_NAN,),
        raises=RUNTIME,
        match="NaN or infinity in the tensor `a`",
        jit=False,
    ),
    Bad(
        "tn.ctmrg_log_z",
        "zero tensor",
        _log_z,
        (np.zeros((2, 2, 2, 2)),),
        raises=RUNTIME,
        match="`a` to be nonzero",
        jit=False,
    ),
    Bad(
        "tn.ctmrg_log_z",
        "unknown option",
        lambda a: tn.ctmrg_log_z(a, 2, maxsteps=5),
        (_ISING,),
        raises=TypeError,
        match="maxsteps",
    ),
    # -------------------------------------------------------------------------------------- iPEPS
    Bad(
        "tn.symmetrize_c4v",
        "rank 4",
        tn.symmetrize_c4v,
        (jnp.ones((2, 2, 2, 2)),),
        match=r"`a`.*rank 5.*\(2, 2, 2, 2\)",
    ),
    Bad(
        "tn.symmetrize_c4v",
        "virtual legs of two dimensions",
        tn.symmetrize_c4v,
        (jnp.ones((2, 2, 2, 2, 3)),),
        match="same bond dimension",
    ),
    Bad(
        "tn.symmetrize_c4v",
        "complex tensor",
        tn.symmetrize_c4v,
        (jnp.ones((2, 1, 1, 1, 1), jnp.complex128),),
        raises=TypeError,
        match="`a`.*real",
    ),
    Bad(
        "tn.double_layer",
        "operator of the wrong shape",
        tn.double_layer,
        (_PEPS, jnp.eye(3)),
        match=r"`operator`.*\(2, 2\).*\(3, 3\)",
    ),
    Bad(
        "tn.double_layer", "rank 4", tn.double_layer, (jnp.ones((2, 1, 1, 1)),), match="`a`.*rank 5"
    ),
    Bad(
        "tn.double_layer",
        "integer tensor promoted (1: one product state)",
        tn.double_layer,
        (np.ones((1, 1, 1, 1, 1), dtype=np.int32),),
        raises=None,
        value=1.0,
    ),
    Bad(
        "tn.two_site_rdm",
        "environment of another D",
        tn.two_site_rdm,
        (_PEPS, _ENV_D2),
        match=r"`env`.*\(2, 1, 1, 1, 1\).*\(1, 4, 1\)",
    ),
    Bad(
        "tn.two_site_rdm",
        "env a CTMRGResult",
        lambda a: tn.two_site_rdm(a, _RESULT),
        (_PEPS,),
        raises=TypeError,
        match="`env`.*result.env",
    ),
    Bad(
        "tn.two_site_rdm",
        "patch '2x2'",
        lambda a: tn.two_site_rdm(a, _ENV, patch="2x2"),
        (_PEPS,),
        match="patch must be one of",
    ),
    Bad(
        "tn.one_site_rdm",
        "environment of another D",
        tn.one_site_rdm,
        (_PEPS, _ENV_D2),
        match=r"`env`.*\(2, 1, 1, 1, 1\).*\(1, 4, 1\)",
    ),
    Bad(
        "tn.one_site_rdm",
        "corner not square (an env that is not a CTMRGEnv)",
        tn.one_site_rdm,
        (_PEPS, _Env(jnp.ones((1, 2)), jnp.ones((1, 1, 1)))),
        match=r"`env`.*corner \(1, 2\)",
    ),
    Bad(
        "tn.one_site_rdm",
        "env a CTMRGResult",
        lambda a: tn.one_site_rdm(a, _RESULT),
        (_PEPS,),
        raises=TypeError,
        match="`env`.*result.env",
    ),
    Bad(
        "tn.ipeps_energy",
        "zero tensor (no norm)",
        _energy,
        (0 * _PEPS, _H),
        raises=RUNTIME,
        match="`a` to be a nonzero tensor",
    ),
    Bad(
        "tn.ipeps_energy",
        "NaN entry",
        _energy,
        (np.full((2, 1, 1, 1, 1), np.nan), _H),
        raises=RUNTIME,
        match="`a` has NaN",
    ),
    Bad(
        "tn.ipeps_energy",
        "NaN in the Hamiltonian",
        _energy,
        (_PEPS, _H * np.nan),
        raises=RUNTIME,
        match="`bond_hamiltonian` has NaN",
    ),
    Bad(
        "tn.ipeps_energy",
        "asymmetric Hamiltonian",
        _energy,
        (_PEPS, np.triu(np.ones((4, 4)))),
        raises=RUNTIME,
        match="`bond_hamiltonian`.*symmetric",
    ),
    Bad(
        "tn.ipeps_energy",
        "Hamiltonian of the wrong shape",
        _energy,
        (_PEPS, np.eye(3)),
        match=r"`bond_hamiltonian`.*\(4, 4\).*\(3, 3\)",
    ),
    Bad(
        "tn.ipeps_energy",
        "chi 0",
        lambda a: tn.ipeps_energy(a, _H, 0),
        (_PEPS,),
        match="`chi` must be .* got 0",
    ),
    Bad(
        "tn.ipeps_energy",
        "unknown CTMRG option",
        lambda a: tn.ipeps_energy(a, _H, 1, tols=1.0),
        (_PEPS,),
        raises=TypeError,
        match="tols",
    ),
    # (eagerly only: the check is an error_if on the input, as for the rows above under jit,
    # and D = 2 would compile a second CTMRG)
    Bad(
        "tn.ipeps_energy",
        "not C4v symmetric with symmetrize=False",
        lambda a: tn.ipeps_energy(a, _H, 2, symmetrize=False),
        (np.arange(32.0).reshape(2, 2, 2, 2, 2),),
        raises=RUNTIME,
        match="`a` to be C4v symmetric",
        jit=False,
    ),
    Bad(
        "tn.optimize_ipeps",
        "zero tensor",
        lambda: tn.optimize_ipeps(0 * _PEPS, _H, 1, steps=1),
        raises=RUNTIME,
        match="`a0` to be a nonzero tensor",
        jit=False,
    ),
    Bad(
        "tn.optimize_ipeps",
        "steps 0",
        lambda: tn.optimize_ipeps(_PEPS, _H, 1, steps=0),
        match="steps must be .* got 0",
        jit=False,
    ),
    Bad(
        "tn.optimize_ipeps",
        "steps True",
        lambda: tn.optimize_ipeps(_PEPS, _H, 1, steps=True),
        match="steps must be .* got True",
        jit=False,
    ),
    Bad(
        "tn.optimize_ipeps",
        "checkpoint_every 0",
        lambda: tn.optimize_ipeps(_PEPS, _H, 1, checkpoint_every=0),
        match="checkpoint_every must be",
        jit=False,
    ),
    Bad(
        "tn.optimize_ipeps",
        "gtol negative",
        lambda: tn.optimize_ipeps(_PEPS, _H, 1, gtol=-1.0),
        match="`gtol`",
        jit=False,
    ),
    Bad(
        "tn.optimize_ipeps",
        "Hamiltonian of the wrong shape",
        lambda: tn.optimize_ipeps(_PEPS, np.eye(3), 1),
        match="`bond_hamiltonian`",
        jit=False,
    ),
]

# Public names with no input a user can get wrong ("tn.Name": reason).
NO_INPUT: dict[str, str] = {
    "tn.AbstractContractionOptimizer": "an abstract base class (OptEinsum and Cotengra have rows)",
    "tn.ContractionPath": "a record built by contraction_path (a mismatched one passed to "
    "contract has a row)",
    "tn.CTMRGResult": "a result record built by ctmrg",
    "tn.CTMRGResults": "the status enumeration diffsci.utils.RESULTS under its earlier name",
    "tn.IPEPSResult": "a result record built by optimize_ipeps",
    "tn.TruncationInfo": "a result record built by truncation_info",
}
