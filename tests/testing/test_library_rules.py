"""`diffsci.testing.check_grads` checks every public derivative rule of diffsci, each with the
checker's defaults or its documented `structure=` option (a Hermitian matrix argument), at
first order with its finite differences, `jit` and `vmap` (the defaults).

The rules' own tests check them harder (second order, degeneracies, references); this file is
the promise that a user can point the checker at any of them and get an answer, not a crash:
reverse-only rules (`odeint`'s reversible adjoint) are checked in reverse mode
without being told, and functions of Hermitian matrices are checked along Hermitian directions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.linalg as dla
import diffsci.ode as dode
import diffsci.physics as dphys
import diffsci.tn as dtn
from diffsci.testing import check_grads

_RNG = np.random.default_rng(11)


def _hermitian(n, complex_=False):
    """A Hermitian matrix with the well-separated spectrum 1, 2, ..., n."""
    m = _RNG.standard_normal((n, n))
    if complex_:
        m = m + 1j * _RNG.standard_normal((n, n))
    q, _ = np.linalg.qr(m)
    return jnp.asarray((q * np.arange(1.0, n + 1)) @ q.conj().T)


_H = _hermitian(4)
_HC = _hermitian(3, complex_=True)
_G = jnp.asarray(_RNG.standard_normal((4, 3)))
_B = jnp.asarray(_RNG.standard_normal((4, 4)))
_B = _B + _B.T


def _ground_projector(w, v):
    """Eigenvalues and the projector on the lowest eigenvector: free of the eigenvectors' gauge."""
    p = v[:, :1] * jnp.conj(v[:, :1]).T
    return w, p


def _low_rank(u, s, vh):
    return (u * s[..., None, :]) @ vh


def _odeint(y0, rate):
    return dode.odeint(
        lambda t, y, a: -a * y + jnp.sin(t), y0, np.array([0.0, 0.5, 1.0]), rate, dt0=0.1
    )


# (id, function, arguments, structure)
_RULES = [
    ("linalg.eigh", lambda a: _ground_projector(*dla.eigh(a)), (_H,), "hermitian"),
    ("linalg.eigh[complex]", lambda a: _ground_projector(*dla.eigh(a)), (_HC,), "hermitian"),
    ("linalg.eigvalsh", dla.eigvalsh, (_H,), "hermitian"),
    ("linalg.svd", lambda a: _low_rank(*dla.svd(a, full_matrices=False)), (_G,), None),
    ("linalg.truncated_svd", lambda a: _low_rank(*dla.truncated_svd(a, 2)), (_G,), None),
    ("linalg.qr", dla.qr, (_G,), None),
    ("linalg.funm", lambda a: dla.funm(a, jnp.exp), (_H,), "hermitian"),
    ("linalg.projector", lambda a: dla.projector(a, 2), (_H,), "hermitian"),
    ("linalg.band_energy", lambda a: dla.band_energy(a, 2), (_H,), "hermitian"),
    ("linalg.expmh", lambda a: dla.expmh(0.3 * a), (_HC,), "hermitian"),
    ("linalg.sqrtmh", dla.sqrtmh, (_H,), "hermitian"),
    ("linalg.logmh", dla.logmh, (_H,), "hermitian"),
    ("ode.odeint", _odeint, (jnp.array([1.0, -0.5]), 0.7), None),
    ("tn.contract", lambda a, b: dtn.contract("ij,jk->ik", a, b), (_G, _G.T), None),
    ("physics.kaufman_log_z", lambda b: dphys.kaufman_log_z(b, 4, 4), (0.4,), None),
    (
        "physics.ising_exact",
        lambda b: dphys.ising_exact(dphys.square_lattice_couplings(3, 3), b),
        (0.4,),
        None,
    ),
]


# Rules whose compiled and batched checks take tens of seconds: their own tests run
# `check_grads` on them (with the defaults, or `vmap=False`/`jit=False` for speed), named here.
_CHECKED_IN_THEIR_OWN_TESTS = {
    "linalg.eigsh": "linalg/test_eigsh.py:test_grads_fd_and_dense",
    "tn.trg": "tn/test_rg.py:test_derivatives_match_finite_differences_of_the_network",
    "tn.hotrg": "tn/test_rg.py:test_derivatives_match_finite_differences_of_the_network",
    "tn.ctmrg_log_z": "tn/test_ctmrg.py:test_check_grads_random_symmetric_tensor",
    "flows.MongeAmpereFlow.log_prob": (
        "flows/test_flow.py:test_free_energy_gradient_against_finite_differences"
    ),
}


@pytest.mark.parametrize(("name", "f", "args", "structure"), _RULES, ids=[r[0] for r in _RULES])
def test_check_grads_checks_every_public_rule(name, f, args, structure):
    report = check_grads(f, *args, structure=structure, num_directions=1)
    # a reverse-only rule is found out and said so; the others are checked in both modes
    reverse_only = name == "ode.odeint"
    assert report.modes == (("rev",) if reverse_only else ("fwd", "rev")), report
    assert bool(report.skipped) == reverse_only


@pytest.mark.parametrize("name", sorted(_CHECKED_IN_THEIR_OWN_TESTS))
def test_the_heavy_rules_are_checked_by_check_grads_in_their_own_tests(name):
    path, test = _CHECKED_IN_THEIR_OWN_TESTS[name].split(":")
    tree = ast.parse((Path(__file__).parents[1] / path).read_text())
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == test]
    calls = [
        n
        for n in ast.walk(function)
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "check_grads"
    ]
    assert calls, f"{path}::{test} no longer runs check_grads on {name}"


def test_without_the_structure_option_a_hermitian_rule_is_reported_not_crashed():
    with pytest.raises(AssertionError, match="(?s)raised near the point.*Hermitian.*structure="):
        check_grads(dla.eigvalsh, _H, num_directions=1)


# Rows of the conformance table whose entry point has no derivative rule of its own: plain JAX
# code, or compositions of the rules above (their derivatives are those rules').
_COMPOSED = {
    "tn.ising_log_z": "ising_tensor, then trg or hotrg",
    "flows.flow_free_energy": "MongeAmpereFlow sampling and variational_free_energy",
    "flows.latent_energy": "MongeAmpereFlow's map and its log-determinant",
    "physics.coulomb_virial": "plain JAX",
    "physics.ising_hubbard_stratonovich": "plain JAX",
}


def test_every_rule_of_the_conformance_table_is_here():
    from ..conformance._table import ENTRIES

    here = {r[0].split("[")[0] for r in _RULES} | set(_CHECKED_IN_THEIR_OWN_TESTS) | set(_COMPOSED)
    public = {e.name.split("[")[0] for e in ENTRIES if "+" not in e.name}
    assert public <= here, f"add rows for {sorted(public - here)}"
