"""The gradient checks: dot-product test, finite differences, second order, transforms."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from diffsci._internal._validate import fail, static_int

from . import _arguments
from ._ops import Ops
from ._report import CheckReport, Failure, raise_if
from ._session import Options, RaisedNearPoint, Session
from ._tree import axpy, concat, locate, norm, vdot

# ---------------------------------------------------------------------------------------------
# helpers


def _restrict(v: Sequence, c: int) -> tuple:
    """The direction `v` with every component but `c` set to zero."""
    return tuple(a if i == c else jnp.zeros_like(a) for i, a in enumerate(v))


def _fmt_shapes(s: Session) -> str:
    rows = []
    seen = set()
    for part in s.p.in_parts:
        if part.name in seen:
            continue
        seen.add(part.name)
        rows.append(f"{part.name}: shape {part.shape}")
    return "differentiated inputs: " + ", ".join(rows)


def _compare_ad(
    s: Session,
    check: str,
    parts,
    a: Sequence,
    b: Sequence,
    label_a: str,
    label_b: str,
    rtol: float,
    where_prefix: str = "",
    floor: Sequence[float] | None = None,
) -> list[Failure]:
    """Entry-wise comparison of two AD results, relative to their largest entry or to the natural
    scale `floor` of each component (whichever is larger)."""
    ca, cb = concat(a), concat(b)
    if ca.size == 0:
        return []
    finite = np.isfinite(ca) & np.isfinite(cb)
    scale = max(
        float(np.max(np.abs(ca[finite]), initial=0.0)),
        float(np.max(np.abs(cb[finite]), initial=0.0)),
    )
    if floor is not None:
        sizes = [int(np.prod(np.shape(x), dtype=np.int64)) for x in a]
        scale = np.maximum(scale, np.repeat(np.asarray(floor, dtype=np.float64), sizes))
    tol = rtol * scale + s.options.atol
    diff = np.abs(ca - cb)
    bad = ~(diff <= tol)  # NaN counts as bad
    if not bad.any():
        return []
    tol = np.broadcast_to(tol, diff.shape)
    ratio = np.where(bad, np.nan_to_num(diff / np.where(tol > 0, tol, 1e-300), nan=np.inf), -1.0)
    worst = int(np.argmax(ratio))
    part, index = locate(parts, worst)
    scale = float(np.broadcast_to(scale, diff.shape)[worst])
    return [
        Failure(
            check,
            where_prefix + part.label(index),
            [
                (label_a, float(ca[worst])),
                (label_b, float(cb[worst])),
                ("|difference|", float(diff[worst])),
                ("tolerance", float(tol[worst])),
            ],
            f"{int(bad.sum())} of {bad.size} entries differ by more than the tolerance "
            f"(rtol {rtol:.1e} of the scale {scale:.3e}).",
        )
    ]


def _fd_entry_failure(
    s: Session,
    check: str,
    parts,
    ad: np.ndarray,
    fd,
    where_prefix: str,
    ad_label: str,
    floor: float | None = None,
) -> Failure | None:
    """Compare an AD vector with a finite-difference vector entry by entry."""
    tol = s.fd_tolerance(ad, fd, floor)
    diff = np.abs(ad - fd.value)
    bad = ~(diff <= tol)
    if not bad.any():
        return None
    ratio = np.where(bad, np.nan_to_num(diff / np.where(tol > 0, tol, np.inf), nan=np.inf), -1.0)
    ratio = np.where(bad & (tol == 0), np.inf, ratio)
    worst = int(np.argmax(ratio))
    part, index = locate(parts, worst)
    note = f"{int(bad.sum())} of {bad.size} entries fail."
    if not np.isfinite(fd.value[worst]):
        note += (
            " The finite differences are not finite here: `f` may be undefined near the "
            "point; try a smaller `eps`."
        )
    return Failure(
        check,
        where_prefix + "output " + part.label(index),
        [
            (ad_label, float(ad[worst])),
            ("FD (Richardson)", float(fd.value[worst])),
            ("|AD - FD|", float(diff[worst])),
            ("FD error estimate", float(fd.error[worst])),
            ("tolerance", float(tol[worst])),
            ("FD step", float(fd.step[worst])),
        ],
        note,
    )


# ---------------------------------------------------------------------------------------------
# 1. the dot-product test


def _dot_product(s: Session, v, u, jv, jtu, k: int) -> list[Failure]:
    lhs = vdot(u, jv)
    rhs = vdot(jtu, v)
    scale = norm(u) * norm(jv) + norm(jtu) * norm(v) + norm(u) * s.out_scale
    tol = s.ad_rtol * scale + s.options.atol
    if abs(lhs - rhs) <= tol:
        return []
    where = f"random directions #{k} over all inputs and outputs"
    values: list[tuple[str, float | str]] = [
        ("<u, J v>   (jvp)", lhs),
        ("<J^T u, v> (vjp)", rhs),
        ("|difference|", abs(lhs - rhs)),
        ("tolerance", tol),
    ]
    if len(s.x) > 1:
        # Localize to the input leaf whose own dot product fails worst.
        worst = -1.0
        for c in range(len(s.x)):
            vc = _restrict(v, c)
            jvc = s.jvp(s.x, vc)
            lhs_c, rhs_c = vdot(u, jvc), vdot(jtu, vc)
            scale_c = norm(u) * norm(jvc) + norm(jtu) * norm(vc) + norm(u) * s.out_scale
            tol_c = s.ad_rtol * scale_c + s.options.atol
            ratio = abs(lhs_c - rhs_c) / tol_c if tol_c > 0 else np.inf
            if not abs(lhs_c - rhs_c) <= tol_c and ratio > worst:
                worst = ratio
                where = f"input {s.p.in_parts[c].label()} (random direction #{k} on this leaf)"
                values = [
                    ("<u, J v>   (jvp)", lhs_c),
                    ("<J^T u, v> (vjp)", rhs_c),
                    ("|difference|", abs(lhs_c - rhs_c)),
                    ("tolerance", tol_c),
                ]
    return [
        Failure(
            "dot product: jvp against vjp",
            where,
            values,
            "The forward and reverse rules are not transposes of each other: a custom rule is "
            "mis-transposed, has a sign error, or is missing a conjugate.",
        )
    ]


# ---------------------------------------------------------------------------------------------
# 2. finite differences


def _fd_first_order(s: Session, v, u, jv, jtu, k: int) -> list[Failure]:
    p = s.p
    fd = s.fd(s.F, v)
    failures: list[Failure] = []
    fwd_bad = rev_bad = False
    if s.fwd:
        fwd_bad = _fd_entry_failure(s, "fd", p.out_parts, concat(jv), fd, "", "AD") is not None
    if s.rev:
        cu = concat(u)
        ad = vdot(jtu, v)
        fdv = float(np.dot(cu, fd.value))
        err = float(np.dot(np.abs(cu), fd.error))
        scale = max(float(np.dot(np.abs(cu), np.abs(fd.value))), norm(u) * s.out_scale)
        o = s.options
        tol = o.fd_safety * err + o.ulps * s.eps * scale + o.atol + o.rtol * abs(fdv)
        rev_bad = not abs(ad - fdv) <= tol
    if not (fwd_bad or rev_bad):
        return failures
    # Localize: one input component at a time.
    ncomp = len(s.x)
    for c in range(ncomp):
        vc = _restrict(v, c) if ncomp > 1 else v
        fdc = fd if ncomp == 1 else s.fd(s.F, vc)
        source = f"input {p.in_parts[c].label()} along a random direction #{k}: "
        if fwd_bad:
            jvc = jv if ncomp == 1 else s.jvp(s.x, vc)
            fail = _fd_entry_failure(
                s,
                "finite differences: forward mode (jvp)",
                p.out_parts,
                concat(jvc),
                fdc,
                source,
                "AD (jvp)",
            )
            if fail is not None:
                failures.append(fail)
        if rev_bad:
            failures.extend(_fd_rev_component(s, c, v, vc, u, jtu, fdc, k))
    if not failures:
        # Only the sum over the components failed (marginally, or errors of opposite signs).
        if fwd_bad:
            # the comparison that set `fwd_bad`, so it gives a `Failure` (not `None`)
            failures.append(
                _fd_entry_failure(  # pyright: ignore[reportArgumentType]
                    s,
                    "finite differences: forward mode (jvp)",
                    p.out_parts,
                    concat(jv),
                    fd,
                    f"random direction #{k} over all inputs: ",
                    "AD (jvp)",
                )
            )
        if rev_bad:
            failures.append(
                Failure(
                    "finite differences: reverse mode (vjp)",
                    f"random direction #{k} over all inputs, random output cotangent",
                    [
                        ("AD  <J^T u, v>", ad),
                        ("FD  <u, J v>", fdv),
                        # (`ad` and `fdv` are set: `rev_bad` implies `s.rev`)
                        ("|AD - FD|", abs(ad - fdv)),  # pyright: ignore[reportOperatorIssue]
                        ("FD error estimate", err),
                        ("tolerance", tol),
                    ],
                    "No single input leaf fails on its own.",
                )
            )
    return failures


def _fd_rev_component(s: Session, c: int, v, vc, u, jtu, fdc, k: int) -> list[Failure]:
    """Reverse mode on input component `c`: <J^T u, v_c> against <u, FD J v_c>, then localized
    to the index of the leaf when the leaf is small."""
    p, o = s.p, s.options
    cu = concat(u)
    ad = vdot(jtu, vc)
    fdv = float(np.dot(cu, fdc.value))
    err = float(np.dot(np.abs(cu), fdc.error))
    scale = max(float(np.dot(np.abs(cu), np.abs(fdc.value))), norm(u) * s.out_scale)
    tol = o.fd_safety * err + o.ulps * s.eps * scale + o.atol + o.rtol * abs(fdv)
    if abs(ad - fdv) <= tol:
        return []
    part = p.in_parts[c]
    size = int(np.prod(part.shape, dtype=np.int64))
    values: list[tuple[str, float | str]] = [
        ("AD  <J^T u, v>", ad),
        ("FD  <u, J v>", fdv),
        ("|AD - FD|", abs(ad - fdv)),
        ("FD error estimate", err),
        ("tolerance", tol),
    ]
    where = f"input {part.label()} (random direction #{k}, random output cotangent)"
    note = ""
    if size <= o.max_localize:
        # Coordinate by coordinate: (J^T u)_i against <u, dF/dx_i> by finite differences.
        gc = np.asarray(jtu[c], np.float64).ravel()
        worst, worst_ratio = None, -1.0
        nbad = 0
        for i in range(size):
            e = np.zeros(size)
            e[i] = s.p.scales[c]
            ei = tuple(
                jnp.asarray(e.reshape(part.shape), part.dtype) if j == c else jnp.zeros_like(a)
                for j, a in enumerate(s.x)
            )
            fdi = s.fd(s.F, ei)
            fd_i = float(np.dot(cu, fdi.value)) / s.p.scales[c]
            err_i = float(np.dot(np.abs(cu), fdi.error)) / s.p.scales[c]
            sc_i = max(float(np.dot(np.abs(cu), np.abs(fdi.value))), norm(u) * s.out_scale)
            sc_i /= s.p.scales[c]
            tol_i = o.fd_safety * err_i + o.ulps * s.eps * sc_i + o.atol + o.rtol * abs(fd_i)
            d_i = abs(gc[i] - fd_i)
            if not d_i <= tol_i:
                nbad += 1
                ratio = d_i / tol_i if tol_i > 0 else np.inf
                if not np.isfinite(ratio):
                    ratio = np.inf
                if ratio > worst_ratio:
                    worst_ratio, worst = ratio, (i, gc[i], fd_i, d_i, err_i, tol_i)
        if worst is not None:
            i, a, b, d, e, t = worst
            index = np.unravel_index(i, part.shape) if part.shape else ()
            where = f"input {part.label(index)} (random output cotangent)"
            values = [
                ("AD  (J^T u)_i", float(a)),
                ("FD  <u, dF/dx_i>", float(b)),
                ("|AD - FD|", float(d)),
                ("FD error estimate", float(e)),
                ("tolerance", float(t)),
            ]
            note = f"{nbad} of {size} entries of this leaf fail."
    return [Failure("finite differences: reverse mode (vjp)", where, values, note)]


# ---------------------------------------------------------------------------------------------
# public checks


def _run_first_order(s: Session, dot: bool = True, fd: bool = True) -> list[Failure]:
    failures = []
    for k in range(s.options.num_directions):
        v, u = s.direction(), s.cotangent()
        jv, jtu = s.first_order(s.x, v, u)
        if dot and s.fwd and s.rev:
            failures += _dot_product(s, v, u, jv, jtu, k)
        if fd:
            failures += _fd_first_order(s, v, u, jv, jtu, k)
    return failures


def _check_point(s: Session) -> list[Failure]:
    y = concat(s.p.y)
    if np.all(np.isfinite(y)):
        return []
    i = int(np.argmax(~np.isfinite(y)))
    part, index = locate(s.p.out_parts, i)
    return [
        Failure(
            "value",
            "output " + part.label(index),
            [("f(args)", float(y[i]))],
            "`f` is not finite at the point; no derivative can be checked there.",
        )
    ]


def _second_order(s: Session) -> list[Failure]:
    """Hessian checks on phi(x) = <u, F(x)> for a random cotangent u."""
    p, o = s.p, s.options
    failures: list[Failure] = []
    u = s.cotangent()

    ops = s.ops

    def grad_phi(x):
        return ops.vjp(x, u)

    def dphi(x, w):
        return ops.dphi(x, u, w)

    for k in range(o.num_directions):
        v, w = s.direction(), s.direction()
        with s.forward_mode():
            first, second, hv_fr = ops.second_order(s.x, u, v, w)
        if s.rev:
            hv, hw = first, second
            whv, vhw = vdot(w, hv), vdot(v, hw)
            scale = norm(w) * norm(hv) + norm(v) * norm(hw) + norm(u) * s.out_scale
            tol = s.ad_rtol * scale + o.atol
            if not abs(whv - vhw) <= tol:
                failures.append(
                    Failure(
                        "second order: Hessian symmetry (reverse over reverse)",
                        f"random directions #{k}",
                        [
                            ("<w, H v>", whv),
                            ("<v, H w>", vhw),
                            ("|difference|", abs(whv - vhw)),
                            ("tolerance", tol),
                        ],
                        "The Hessian of <u, f> is not symmetric: a derivative rule is not the "
                        "derivative of its own function (a wrong second derivative).",
                    )
                )
            if s.fwd:
                failures += _compare_ad(
                    s,
                    "second order: forward-over-reverse against reverse-over-reverse",
                    p.in_parts,
                    hv_fr,
                    hv,
                    "H v (fwd over rev)",
                    "H v (rev over rev)",
                    s.ad_rtol,
                    f"direction #{k}, Hessian-vector product entry ",
                    floor=s.in_scale(u),
                )
            fd = s.fd(grad_phi, v, what="grad f")
            fail = _fd_entry_failure(
                s,
                "second order: finite differences of the gradient",
                p.in_parts,
                concat(hv),
                fd,
                f"direction #{k}, Hessian-vector product entry ",
                "AD  H v",
                floor=max(s.in_scale(u)),
            )
            if fail is not None:
                fail.where = fail.where.replace("output ", "")
                fail.note += " (H is the Hessian of <u, f> for a random output cotangent u.)"
                failures.append(fail)
        else:
            whv, vhw = float(first), float(second)
            scale = abs(whv) + abs(vhw) + norm(u) * s.out_scale
            tol = s.ad_rtol * scale + o.atol
            if not abs(whv - vhw) <= tol:
                failures.append(
                    Failure(
                        "second order: Hessian symmetry (forward over forward)",
                        f"random directions #{k}",
                        [
                            ("<w, H v>", whv),
                            ("<v, H w>", vhw),
                            ("|difference|", abs(whv - vhw)),
                            ("tolerance", tol),
                        ],
                    )
                )
            fd = s.fd(lambda x, w=w: (dphi(x, w),), v, what="d(grad f)")
            fail = _fd_entry_failure(
                s,
                "second order: finite differences of the directional derivative",
                p.out_parts[:1],
                np.array([whv]),
                fd,
                f"direction #{k}: ",
                "AD  <w, H v>",
                floor=norm(u) * s.out_scale,
            )
            if fail is not None:
                fail.where = f"directional second derivative <w, H v>, direction #{k}"
                failures.append(fail)
    return failures


# ---------------------------------------------------------------------------------------------
# 5. transforms


def _transforms(s: Session, jit: bool, vmap: bool) -> list[Failure]:
    p = s.p
    failures: list[Failure] = []
    rtol = s.transform_rtol
    x = s.x
    v, u = s.direction(), s.cotangent()
    ops, eager = s.ops, s.eager
    if jit:
        if not s.options.jit:
            ops = Ops(p.spec, p.consts, compiled=True, fwd=s.fwd, rev=s.rev)
        failures += _compare_ad(
            s,
            "transforms: jit",
            p.out_parts,
            ops.apply(x),
            eager.apply(x),
            "jit(f)",
            "f",
            rtol,
            "output ",
            floor=s.out_floor(),
        )
        with s.forward_mode():
            jv, jtu = ops.first_order(x, v, u)
            jv_e, jtu_e = eager.first_order(x, v, u)
        if s.fwd:
            failures += _compare_ad(
                s,
                "transforms: jit of jvp",
                p.out_parts,
                jv,
                jv_e,
                "jit(jvp)",
                "jvp",
                rtol,
                "output ",
                floor=s.out_floor(),
            )
        if s.rev:
            failures += _compare_ad(
                s,
                "transforms: jit of vjp",
                p.in_parts,
                jtu,
                jtu_e,
                "jit(vjp)",
                "vjp",
                rtol,
                "input ",
                floor=s.in_scale(u),
            )
    if vmap:
        x1 = axpy(0.5 * s.fd_step, s.direction(), x)
        v1, u1 = s.direction(), s.cotangent()
        xb = tuple(jnp.stack([a, b]) for a, b in zip(x, x1, strict=True))
        ub = tuple(jnp.stack([a, b]) for a, b in zip(u, u1, strict=True))
        vb = tuple(jnp.stack([a, b]) for a, b in zip(v, v1, strict=True))
        with s.forward_mode():
            yb, jvb, gov, vog = ops.batched(xb, vb, ub)
            refs = [ops.first_order(xi, vi, ui) for xi, vi, ui in ((x, v, u), (x1, v1, u1))]
        for i, xi in enumerate((x, x1)):
            where = f"batch element {i}, "
            failures += _compare_ad(
                s,
                "transforms: vmap",
                p.out_parts,
                [a[i] for a in yb],
                ops.apply(xi),
                "vmap(f)[i]",
                "f(x_i)",
                rtol,
                where + "output ",
                floor=s.out_floor(),
            )
            jv_i, jtu_i = refs[i]
            if s.fwd:
                failures += _compare_ad(
                    s,
                    "transforms: jvp of vmap",
                    p.out_parts,
                    [a[i] for a in jvb],
                    jv_i,
                    "jvp(vmap(f))[i]",
                    "jvp(f)(x_i)",
                    rtol,
                    where + "output ",
                    floor=s.out_floor(),
                )
            if s.rev:
                failures += _compare_ad(
                    s,
                    "transforms: grad of vmap",
                    p.in_parts,
                    [a[i] for a in gov],
                    jtu_i,
                    "vjp(vmap(f))[i]",
                    "vjp(f)(x_i)",
                    rtol,
                    where + "input ",
                    floor=s.in_scale((u, u1)[i]),
                )
                failures += _compare_ad(
                    s,
                    "transforms: vmap of grad",
                    p.in_parts,
                    [a[i] for a in vog],
                    jtu_i,
                    "vmap(vjp(f))[i]",
                    "vjp(f)(x_i)",
                    rtol,
                    where + "input ",
                    floor=s.in_scale((u, u1)[i]),
                )
    return failures


# ---------------------------------------------------------------------------------------------
# public API


def _looks_like_jax_call(args) -> bool:
    """`check_grads(f, (x, y), 2)`: JAX's `jax.test_util.check_grads(f, args, order)`."""
    return (
        len(args) in (1, 2)
        and isinstance(args[0], tuple | list)
        and (len(args) == 1 or (isinstance(args[1], int) and not isinstance(args[1], bool)))
    )


def _session(name, f, args, argnums, key, modes, structure=None, **options) -> Session:
    # the arguments first, before anything is traced: clear errors for a wrong option
    _arguments.function(f, "f", name)
    _arguments.options(name, tuple(args), argnums_=argnums, key_=key, modes_=modes, **options)
    try:
        return Session(
            name,
            f,
            args,
            argnums=argnums,
            key=key,
            modes=modes,
            options=Options(**options),
            structure=structure,
        )
    except Exception as err:
        if not _looks_like_jax_call(args):
            raise
        order = f", order={args[1]}" if len(args) == 2 else ""
        raise TypeError(
            f"{name}: `f` failed when called as f(*args) with args = ({type(args[0]).__name__} "
            f"of {len(args[0])}{', ' + repr(args[1]) if len(args) == 2 else ''}). This looks like "
            f"JAX's calling convention, jax.test_util.check_grads(f, args, order); diffsci takes "
            f"the point unpacked and the order as a keyword: {name}(f, *args{order}). "
            f"The original error: {type(err).__name__}: {err}"
        ) from err


@contextlib.contextmanager
def _guard(s: Session):
    """Advice for a function that cannot be traced, and a report for one that raises near the
    point (finite differences leave the point along every input entry)."""
    with _tracing_hint(s.name):
        try:
            yield
        except RaisedNearPoint as err:
            failure = Failure(
                "`f` raised near the point",
                err.where,
                [("relative step t", float(err.step)), ("error", err.message[:600])],
                "The checks evaluate `f` at x + t v for random directions v in every input "
                "entry, and `f` refused such a point. If `f` takes structured input (symmetric, "
                "Hermitian or unitary matrices), pass `structure=` (e.g. structure='hermitian'), "
                "which checks `f` along the directions that keep the structure; otherwise `f` is "
                "not defined in a neighbourhood of the point, and its derivative cannot be "
                "checked there.",
            )
            raise_if(s.name, [failure], _context(s))


def _context(s: Session) -> str:
    return "\n".join([_fmt_shapes(s), *(f"skipped: {note}" for note in s.skipped)])


def _finish(s: Session, failures: list[Failure]) -> CheckReport:
    raise_if(s.name, failures, _context(s))
    return CheckReport(s.name, s.modes, tuple(s.skipped))


def check_jvp_vjp(
    f: Callable,
    *args,
    argnums: int | Sequence[int] | None = None,
    structure=None,
    key=0,
    num_directions: int = 2,
    ad_rtol: float | None = None,
    atol: float = 0.0,
) -> CheckReport:
    r"""Check that the forward and reverse derivatives of `f` are transposes of each other.

    The dot-product test: for random input directions $v$ and output cotangents $u$ (pytrees
    shaped like the inputs and outputs of the realified `f`),

    $$\langle u, J v\rangle = \langle J^\top u, v\rangle,$$

    with $Jv$ from `jax.jvp` and $J^\top u$ from `jax.vjp`. No finite differences are involved,
    so the tolerance is a small multiple of machine epsilon times
    $\|u\|\,\|Jv\| + \|J^\top u\|\,\|v\|$. This is the check that catches a forward rule and
    a transpose rule that disagree (for instance `lax.custom_linear_solve` with a wrong
    `transpose_solve`, or a custom primitive).

    **Arguments:**

    - `f`: the function, called as `f(*args)`; returns a pytree of real or complex arrays.
    - `*args`: the point, pytrees of real or complex arrays.
    - `argnums`: which positional arguments to differentiate (default: all).
    - `structure`: as in `check_grads`.
    - `key`: an int seed or a JAX PRNG key for the random directions.
    - `num_directions`: how many random pairs $(u, v)$ to try.
    - `ad_rtol`: the relative tolerance (default $10^3\epsilon$ of the dtype).
    - `atol`: an absolute tolerance added to it.

    Checks, before `f` is traced: `f` is callable, at least one argument is given, and
    `argnums`, `key`, `modes` and the tolerances have the right types and ranges
    (`TypeError`/`ValueError` naming the argument).

    **Returns:**

    A `CheckReport` (what was checked, what was skipped and why); raises `AssertionError` with
    a report if the test fails.
    """
    s = _session(
        "check_jvp_vjp",
        f,
        args,
        argnums,
        key,
        ("fwd", "rev"),
        structure,
        num_directions=num_directions,
        ad_rtol=ad_rtol,
        atol=atol,
    )
    with _guard(s):
        failures = _check_point(s) or _run_first_order(s, dot=True, fd=False)
    return _finish(s, failures)


def check_finite_differences(
    f: Callable,
    *args,
    modes: Sequence[str] | None = None,
    argnums: int | Sequence[int] | None = None,
    structure=None,
    key=0,
    num_directions: int = 2,
    eps: float | None = None,
    levels: int = 6,
    atol: float = 0.0,
    rtol: float = 0.0,
    fd_safety: float = 4.0,
    ulps: float = 16.0,
) -> CheckReport:
    r"""Check the derivatives of `f` against Richardson-extrapolated finite differences.

    Along random directions $v$ (each leaf scaled by its own magnitude), the directional
    derivative $\frac{d}{dt} f(x + t v)|_{t=0}$ is estimated by central differences on the steps
    $h_0, h_0/2, \dots$ extrapolated to $h \to 0$ (Ridders' method), which also gives an error
    estimate $\delta$ for every output entry. In forward mode every entry of $Jv$ (from `jax.jvp`)
    must satisfy

    $$|Jv - \mathrm{FD}| \le s\,\delta + n_\mathrm{ulp}\,\epsilon\,\max|\mathrm{FD}|
        + \mathrm{atol} + \mathrm{rtol}\,|\mathrm{FD}|;$$

    in reverse mode $\langle J^\top u, v\rangle$ (from `jax.vjp`, for a random cotangent $u$) is
    compared the same way with $\langle u, \mathrm{FD}\rangle$. A failure is localized to the input
    leaf, and in reverse mode to the entry of that leaf, and the report gives the AD value, the
    FD value and the error estimate. Complex inputs and outputs are split into real and imaginary
    parts first.

    **Arguments:**

    - `f`, `*args`, `argnums`, `structure`, `key`, `num_directions`: as in `check_grads`.
    - `modes`: `"fwd"` checks `jax.jvp`, `"rev"` checks `jax.vjp` (default: both, or reverse
      only for a function without forward mode, as in `check_grads`).
    - `eps`: the largest relative step $h_0$ (default $\epsilon^{1/5}$ of the dtype, about
      $7\cdot 10^{-4}$ in float64).
    - `levels`: the number of steps in the extrapolation.
    - `atol`, `rtol`: extra absolute and relative slack (default 0: the error estimate decides).
    - `fd_safety`: the factor $s$ on the error estimate.
    - `ulps`: $n_\mathrm{ulp}$, the round-off allowance in units of $\epsilon$ times the scale.

    Checks, before `f` is traced: `f` is callable, at least one argument is given, and
    `argnums`, `key`, `modes` and the tolerances have the right types and ranges
    (`TypeError`/`ValueError` naming the argument).

    **Returns:**

    A `CheckReport`; raises `AssertionError` with a report if a comparison fails.
    """
    s = _session(
        "check_finite_differences",
        f,
        args,
        argnums,
        key,
        modes,
        structure,
        num_directions=num_directions,
        eps=eps,
        levels=levels,
        atol=atol,
        rtol=rtol,
        fd_safety=fd_safety,
        ulps=ulps,
    )
    with _guard(s):
        failures = _check_point(s) or _run_first_order(s, dot=False, fd=True)
    return _finish(s, failures)


def check_second_order(
    f: Callable,
    *args,
    modes: Sequence[str] | None = None,
    argnums: int | Sequence[int] | None = None,
    structure=None,
    key=0,
    num_directions: int = 2,
    eps: float | None = None,
    levels: int = 6,
    atol: float = 0.0,
    rtol: float = 0.0,
    fd_safety: float = 4.0,
    ulps: float = 16.0,
    ad_rtol: float | None = None,
) -> CheckReport:
    r"""Check the second derivatives of `f`.

    With a random output cotangent $u$ (none for a scalar `f`), let $\phi(x) = \langle u,
    f(x)\rangle$ and $H$ its Hessian. For random directions $v, w$:

    - symmetry: $\langle w, Hv\rangle = \langle v, Hw\rangle$ (near machine epsilon);
    - forward-over-reverse $Hv$ (`jax.jvp` of the gradient) equals reverse-over-reverse $Hv$
      (`jax.vjp` of the gradient), when both modes are checked;
    - $Hv$ equals the Richardson-extrapolated finite differences of $\nabla\phi$ along $v$, entry
      by entry, with the report naming the input leaf and index.

    With `modes=("fwd",)` the same is done with forward-over-forward scalars $\langle w, Hv\rangle$.
    A wrong second derivative in a `custom_jvp` rule (for instance a tangent rule that uses
    `stop_gradient` on the primal) fails the finite-difference comparison.

    **Arguments:**

    As in `check_finite_differences`, plus `ad_rtol` for the AD-against-AD comparisons
    (default $10^3\epsilon$).

    Checks, before `f` is traced: `f` is callable, at least one argument is given, and
    `argnums`, `key`, `modes` and the tolerances have the right types and ranges
    (`TypeError`/`ValueError` naming the argument).

    **Returns:**

    A `CheckReport`; raises `AssertionError` with a report if a comparison fails.
    """
    s = _session(
        "check_second_order",
        f,
        args,
        argnums,
        key,
        modes,
        structure,
        num_directions=num_directions,
        eps=eps,
        levels=levels,
        atol=atol,
        rtol=rtol,
        fd_safety=fd_safety,
        ulps=ulps,
        ad_rtol=ad_rtol,
    )
    with _guard(s):
        failures = _check_point(s) or _second_order(s)
    return _finish(s, failures)


def check_transforms(
    f: Callable,
    *args,
    modes: Sequence[str] | None = None,
    argnums: int | Sequence[int] | None = None,
    structure=None,
    key=0,
    jit: bool = True,
    vmap: bool = True,
    transform_rtol: float | None = None,
    atol: float = 0.0,
    eps: float | None = None,
) -> CheckReport:
    r"""Check that `f` and its derivatives give the same values under `jit` and `vmap`.

    - `jit`: `jax.jit(f)`, and the jitted JVP and VJP, agree with eager evaluation.
    - `vmap`: on a batch of two points (the given one and a nearby one, both of the arguments
      selected by `argnums`), `jax.vmap(f)` agrees with `f` on each point; so do the JVP of
      `vmap(f)` (forward mode), the VJP of `vmap(f)` (grad of vmap) and `vmap` of the VJP.

    The comparison is entry-wise, relative to the largest entry, with tolerance
    `transform_rtol` (default $\sqrt\epsilon$ of the dtype): compiled code may reorder floating
    point operations, and a wrong batching rule is wrong by far more.

    **Arguments:**

    - `f`, `*args`, `modes`, `argnums`, `structure`, `key`: as in `check_grads`.
    - `jit`, `vmap`: which transforms to check.
    - `transform_rtol`, `atol`: the tolerances.
    - `eps`: the relative distance of the second batch point.

    Checks, before `f` is traced: `f` is callable, at least one argument is given, and
    `argnums`, `key`, `modes` and the tolerances have the right types and ranges
    (`TypeError`/`ValueError` naming the argument).

    **Returns:**

    A `CheckReport`; raises `AssertionError` with a report if a comparison fails.
    """
    _arguments.flag(vmap, "vmap", "check_transforms")
    s = _session(
        "check_transforms",
        f,
        args,
        argnums,
        key,
        modes,
        structure,
        jit=jit,
        transform_rtol=transform_rtol,
        atol=atol,
        eps=eps,
    )
    with _guard(s):
        failures = _check_point(s) or _transforms(s, jit, vmap)
    return _finish(s, failures)


def check_grads(
    f: Callable,
    *args,
    order: int = 1,
    modes: Sequence[str] | None = None,
    argnums: int | Sequence[int] | None = None,
    structure=None,
    key=0,
    num_directions: int = 2,
    eps: float | None = None,
    levels: int = 6,
    atol: float = 0.0,
    rtol: float = 0.0,
    fd_safety: float = 4.0,
    ulps: float = 16.0,
    ad_rtol: float | None = None,
    transform_rtol: float | None = None,
    jit: bool = True,
    vmap: bool = True,
) -> CheckReport:
    r"""Check the derivatives of `f` at `args`: AD against AD, against finite differences, at
    second order, and under `jit` and `vmap`.

    `f` is seen as a map between real vector spaces: complex leaves of the inputs and outputs are
    split into real and imaginary parts (the *realified* function), so the checks do not depend on
    JAX's convention for complex derivatives and catch a missing conjugate. Then, for
    `num_directions` random input directions $v$ (each leaf scaled by its magnitude) and output
    cotangents $u$:

    1. **dot-product test** (both modes): $\langle u, Jv\rangle$ from `jax.jvp` equals
       $\langle J^\top u, v\rangle$ from `jax.vjp` to a few hundred ulps, see `check_jvp_vjp`;
    2. **finite differences**: $Jv$ (forward) and $\langle J^\top u, v\rangle$ (reverse) agree
       with Richardson-extrapolated central differences within their error estimate, see
       `check_finite_differences`;
    3. **second order** (`order=2`): Hessian symmetry, forward-over-reverse against
       reverse-over-reverse, and finite differences of the gradient, see `check_second_order`;
    4. **transforms**: the same values under `jit`, `vmap`, grad of `vmap` and `vmap` of grad,
       see `check_transforms`.

    **Arguments:**

    - `f`: the function, called as `f(*args)`; returns a pytree of real or complex arrays
      (integer outputs are ignored).
    - `*args`: the point: pytrees of real or complex arrays (integer leaves are held constant).
    - `order`: 1, or 2 to check second derivatives as well.
    - `modes`: `("fwd", "rev")`, `("rev",)` or `("fwd",)`. The default (`None`) checks both
      when `f` has a forward mode and reverse mode alone when it has none (a `jax.custom_vjp`
      function, a reverse-only rule such as `odeint`'s reversible adjoint); the returned report
      says so.
    - `argnums`: which positional arguments to differentiate (default: all of them).
    - `structure`: for a function defined only on structured inputs, how each positional
      argument is structured: `None`, `"symmetric"`, `"hermitian"`, `"unitary"` (orthogonal
      when real), or a callable `r` that maps any array onto the structured set and fixes the
      point, `r(x0) = x0`; one entry, or a tuple with one per argument. The checks then look
      at `f(r(x))`, whose derivatives at the point are those of `f` along the directions that
      keep the structure (`r` projects every direction onto them), so finite differences never
      leave `f`'s domain. Example: `check_grads(diffsci.linalg.eigvalsh, a,
      structure="hermitian")`.
    - `key`: an int seed or a JAX PRNG key for the random directions.
    - `num_directions`: how many random directions each check uses.
    - `eps`: the largest relative finite-difference step (default $\epsilon^{1/5}$ of the dtype).
    - `levels`: the number of steps in the Richardson extrapolation.
    - `atol`, `rtol`: extra slack on the finite-difference comparisons (default 0).
    - `fd_safety`: the factor on the finite-difference error estimate (default 4).
    - `ulps`: the round-off allowance, in units of $\epsilon$ times the scale (default 16).
    - `ad_rtol`: tolerance of the AD-against-AD checks (default $10^3\epsilon$).
    - `transform_rtol`: tolerance of the `jit`/`vmap` checks (default $\sqrt\epsilon$).
    - `jit`: check that `jax.jit` gives the same values (turn off for a function that cannot
      be jitted; the other checks run op by op).
    - `vmap`: check `jax.vmap` on a batch of two points (turn off for a function that cannot be
      batched).

    Checks, before `f` is traced: `f` is callable, at least one argument is given, and
    `argnums`, `key`, `modes` and the tolerances have the right types and ranges
    (`TypeError`/`ValueError` naming the argument).

    **Returns:**

    A `CheckReport` when every check passes (the modes checked; what was skipped and why).
    Otherwise raises `AssertionError` whose message lists every failed check with the pytree
    leaf and index (e.g. `args[0]['w'] at index (1, 2)`), the AD value, the finite-difference
    value and its error estimate; a function that raises at a point near the given one (the
    finite-difference points) is reported as such, with the step and the error.

    The point is passed unpacked, `check_grads(f, x, y, order=2)`; JAX's convention
    `check_grads(f, (x, y), 2)` is recognised when `f` fails on it, and refused with this
    hint.

    !!! example

        ```python
        import jax.numpy as jnp
        from diffsci.testing import check_grads

        check_grads(lambda a: jnp.linalg.eigvalsh(a) ** 2, jnp.diag(jnp.arange(3.0)), order=2)
        ```
    """
    if static_int(order, "order", "check_grads") not in (1, 2):
        fail("check_grads", "order", "to be 1 or 2", order)
    s = _session(
        "check_grads",
        f,
        args,
        argnums,
        key,
        modes,
        structure,
        num_directions=num_directions,
        eps=eps,
        levels=levels,
        atol=atol,
        rtol=rtol,
        fd_safety=fd_safety,
        ulps=ulps,
        ad_rtol=ad_rtol,
        transform_rtol=transform_rtol,
        jit=jit,
        vmap=vmap,
    )
    failures = _check_point(s)
    if not failures:
        with _guard(s):
            failures += _run_first_order(s)
            if order >= 2:
                failures += _second_order(s)
            if jit or vmap:
                failures += _transforms(s, jit, vmap)
    return _finish(s, failures)


@contextlib.contextmanager
def _tracing_hint(name: str):
    """Turn JAX's error for Python control flow on traced values into advice."""
    try:
        yield
    except jax.errors.ConcretizationTypeError as err:
        raise TypeError(
            f"{name}: `f` cannot be traced: it branches on the values of its arguments or "
            "converts them to Python numbers. JAX traces `f` to differentiate it (and to jit and "
            "vmap it); write the branch with jnp.where or lax.cond. The original error: "
            f"{err}"
        ) from err
