"""Bad-input rows of diffsci.linalg (see test_bad_input.py)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import diffsci.linalg as la

from ._row import RUNTIME, Bad

_H = jnp.diag(jnp.arange(4.0)) + 0.1  # symmetric, nondegenerate, positive definite
_NAN = _H.at[1, 1].set(jnp.nan)
_ASYM = _H.at[0, 1].set(5.0)
_RECT = jnp.arange(6.0).reshape(3, 2)


def _mv(params, v):
    return _H @ v


ROWS: list[Bad] = [
    # eigh and eigvalsh: shape and dtype at trace time, values at run time
    Bad("linalg.eigh", "rank 1", la.eigh, (jnp.ones(3),), ValueError, r"`a`.*\(3,\)"),
    Bad(
        "linalg.eigh",
        "float16",
        la.eigh,
        (jnp.eye(3, dtype=jnp.float16),),
        TypeError,
        r"`a`.*float16",
    ),
    Bad("linalg.eigh", "a string", la.eigh, ("abc",), TypeError, "`a`", jit=False),
    Bad("linalg.eigh", "NaN entry", la.eigh, (_NAN,), RUNTIME, "`a`.*NaN"),
    Bad("linalg.eigh", "not symmetric", la.eigh, (_ASYM,), RUNTIME, "`a`.*Hermitian"),
    Bad(
        "linalg.eigh",
        "b of another shape",
        lambda a: la.eigh(a, jnp.eye(3)),
        (_H,),
        ValueError,
        "`b`",
    ),
    # integers are promoted, as jnp.linalg.eigh does: eigenvalues of [[2, 1], [1, 2]] are 1, 3
    Bad(
        "linalg.eigh",
        "integer matrix promoted",
        lambda a: la.eigh(a)[0],
        (jnp.array([[2, 1], [1, 2]]),),
        None,
        value=np.array([1.0, 3.0]),
    ),
    Bad(
        "linalg.eigvalsh",
        "not square",
        la.eigvalsh,
        (jnp.ones((3, 2)),),
        ValueError,
        r"`a`.*\(3, 2\)",
    ),
    Bad("linalg.eigvalsh", "NaN entry", la.eigvalsh, (_NAN,), RUNTIME, "`a`.*NaN"),
    # svd, truncated_svd, qr: the same house rules as eigh
    Bad("linalg.svd", "rank 1", la.svd, (jnp.ones(3),), ValueError, r"\(3,\)"),
    Bad(
        "linalg.svd", "float16", la.svd, (jnp.ones((3, 2), jnp.float16),), TypeError, "`a`.*float16"
    ),
    Bad("linalg.svd", "NaN entry", la.svd, (_RECT.at[0, 0].set(jnp.nan),), RUNTIME, "`a`.*NaN"),
    Bad(
        "linalg.svd",
        "integer matrix promoted",
        lambda a: la.svd(a)[1],
        (jnp.array([[3, 0], [0, 4]]),),
        None,
        value=np.array([4.0, 3.0]),
    ),
    Bad(
        "linalg.truncated_svd",
        "k beyond min(m, n)",
        lambda a: la.truncated_svd(a, 3),
        (_RECT,),
        ValueError,
        "`k`.*k=3",
    ),
    Bad(
        "linalg.truncated_svd",
        "k = 0",
        lambda a: la.truncated_svd(a, 0),
        (_RECT,),
        ValueError,
        "`k`",
    ),
    Bad(
        "linalg.truncated_svd",
        "k = 1.5",
        lambda a: la.truncated_svd(a, 1.5),
        (_RECT,),
        TypeError,
        "`k`.*1.5",
    ),
    Bad(
        "linalg.truncated_svd",
        "NaN entry",
        lambda a: la.truncated_svd(a, 1),
        (_RECT.at[0, 0].set(jnp.nan),),
        RUNTIME,
        "`a`.*NaN",
    ),
    Bad("linalg.qr", "wide matrix", la.qr, (jnp.ones((2, 3)),), ValueError, r"\(2, 3\)"),
    Bad("linalg.qr", "rank 1", la.qr, (jnp.ones(3),), ValueError, r"\(3,\)"),
    Bad("linalg.qr", "NaN entry", la.qr, (_RECT.at[0, 0].set(jnp.nan),), RUNTIME, "`a`.*NaN"),
    # |R| of the column (3, 4) is its norm, 5
    Bad(
        "linalg.qr",
        "integer matrix promoted",
        lambda a: jnp.abs(la.qr(a)[1]),
        (jnp.array([[3], [4]]),),
        None,
        value=np.array([[5.0]]),
    ),
    # matrix functions
    Bad("linalg.funm", "f not callable", lambda a: la.funm(a, 3.0), (_H,), TypeError, "`f`"),
    Bad(
        "linalg.funm",
        "f not elementwise",
        lambda a: la.funm(a, lambda w: w[:2]),
        (_H,),
        ValueError,
        "`f`.*same shape",
    ),
    Bad(
        "linalg.funm",
        "not symmetric",
        lambda a: la.funm(a, jnp.exp),
        (_ASYM,),
        RUNTIME,
        "Hermitian",
    ),
    Bad(
        "linalg.projector", "k = 1.5", lambda a: la.projector(a, 1.5), (_H,), TypeError, "`k`.*1.5"
    ),
    Bad("linalg.projector", "k beyond n", lambda a: la.projector(a, 5), (_H,), ValueError, "k = 5"),
    Bad(
        "linalg.band_energy",
        "k = 1.5",
        lambda a: la.band_energy(a, 1.5),
        (_H,),
        TypeError,
        "`k`.*1.5",
    ),
    Bad(
        "linalg.band_energy",
        "k negative",
        lambda a: la.band_energy(a, -1),
        (_H,),
        ValueError,
        "k = -1",
    ),
    Bad("linalg.expmh", "rank 1", la.expmh, (jnp.ones(3),), ValueError, r"`a`.*\(3,\)"),
    Bad("linalg.expmh", "c a vector", lambda c: la.expmh(_H, c), (jnp.ones(2),), ValueError, "`c`"),
    Bad("linalg.expmh", "c NaN", lambda c: la.expmh(_H, c), (jnp.nan,), RUNTIME, "`c`.*NaN"),
    Bad("linalg.sqrtmh", "negative definite", la.sqrtmh, (-_H,), RUNTIME, "positive definite"),
    Bad("linalg.logmh", "negative definite", la.logmh, (-_H,), RUNTIME, "positive definite"),
    # eigsh: options at trace time, the starting vector at run time
    Bad(
        "linalg.eigsh",
        "max_iters = 0",
        lambda v: la.eigsh(_mv, None, v, max_iters=0),
        (jnp.ones(4),),
        ValueError,
        "`max_iters`",
    ),
    Bad(
        "linalg.eigsh",
        "k = 0",
        lambda v: la.eigsh(_mv, None, v, k=0),
        (jnp.ones(4),),
        ValueError,
        "`k`",
    ),
    Bad(
        "linalg.eigsh",
        "k beyond the dimension",
        lambda v: la.eigsh(_mv, None, v, k=5),
        (jnp.ones(4),),
        ValueError,
        "`k`",
    ),
    Bad(
        "linalg.eigsh",
        "which unknown",
        lambda v: la.eigsh(_mv, None, v, which="XX"),
        (jnp.ones(4),),
        ValueError,
        "`which`",
    ),
    Bad(
        "linalg.eigsh",
        "matvec of the wrong shape",
        lambda v: la.eigsh(lambda p, x: x[:3], None, v),
        (jnp.ones(4),),
        ValueError,
        "`matvec",
    ),
    Bad(
        "linalg.eigsh",
        "NaN in v0",
        lambda v: la.eigsh(_mv, None, v),
        (jnp.ones(4).at[0].set(jnp.nan),),
        RUNTIME,
        "`v0`.*NaN",
    ),
    Bad(
        "linalg.eigsh",
        "zero v0",
        lambda v: la.eigsh(_mv, None, v),
        (jnp.zeros(4),),
        RUNTIME,
        "`v0`.*zero",
    ),
    Bad(
        "linalg.gauge_dependence",
        "loss not callable",
        lambda a: la.gauge_dependence(a, 3),
        (_H,),
        TypeError,
        "`loss`",
        jit=False,
    ),
    # the tolerance helpers and the degeneracy policies
    Bad(
        "linalg.default_rtol",
        "negative size",
        lambda: la.default_rtol(-1, jnp.float64),
        raises=ValueError,
        match="`size`",
        jit=False,
    ),
    Bad(
        "linalg.default_rtol",
        "integer dtype",
        lambda: la.default_rtol(3, jnp.int32),
        raises=TypeError,
        match="`dtype`.*int32",
        jit=False,
    ),
    Bad(
        "linalg.degeneracy_tolerance",
        "negative size",
        lambda s: la.degeneracy_tolerance(s, -3, jnp.float64),
        (1.0,),
        ValueError,
        "`size`",
    ),
    Bad(
        "linalg.degeneracy_tolerance",
        "negative rtol",
        lambda s: la.degeneracy_tolerance(s, 3, jnp.float64, rtol=-1.0),
        (1.0,),
        ValueError,
        "`rtol`",
    ),
    Bad(
        "linalg.degenerate_pairs",
        "not a matrix of differences",
        la.degenerate_pairs,
        (jnp.ones(3), 1.0),
        ValueError,
        r"\(3,\)",
    ),
    Bad(
        "linalg.degenerate_pairs",
        "complex differences",
        la.degenerate_pairs,
        (jnp.ones((2, 2), jnp.complex128), 1.0),
        TypeError,
        "complex128",
    ),
    Bad(
        "linalg.inverse_differences",
        "not a matrix of differences",
        la.inverse_differences,
        (jnp.ones(3), 1.0),
        ValueError,
        r"\(3,\)",
    ),
    Bad(
        "linalg.LorentzianBroadening",
        "negative width",
        la.LorentzianBroadening,
        (-1.0,),
        ValueError,
        "width",
        jit=False,
    ),
    Bad(
        "linalg.LorentzianBroadening",
        "NaN width",
        la.LorentzianBroadening,
        (float("nan"),),
        ValueError,
        "width",
        jit=False,
    ),
    Bad(
        "linalg.MaskDegeneracies",
        "negative rtol",
        lambda: la.MaskDegeneracies(rtol=-1.0),
        raises=ValueError,
        match="`rtol`",
        jit=False,
    ),
    Bad(
        "linalg.MaskDegeneracies",
        "rtol a string",
        lambda: la.MaskDegeneracies(rtol="tight"),
        raises=TypeError,
        match="`rtol`",
        jit=False,
    ),
    Bad(
        "linalg.RaiseOnDegeneracy",
        "negative atol",
        lambda: la.RaiseOnDegeneracy(atol=-1.0),
        raises=ValueError,
        match="`atol`",
        jit=False,
    ),
]

# Public names with no input a user can get wrong ("linalg.Name": reason).
NO_INPUT: dict[str, str] = {
    "linalg.AbstractDegeneracyPolicy": "abstract base class (its subclasses have rows)",
    "linalg.EigshResult": "result record built by eigsh",
    "linalg.GaugeDependence": "result record built by gauge_dependence",
}
