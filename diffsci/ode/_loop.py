"""The fixed-step loop shared by the strategies: step times, the forward sweep, and the backward
sweep of the reversible adjoints.

Steps are aligned to the save times: every interval `[ts[i], ts[i+1]]` is cut into the same
number `n` of equal steps, so every `ts[i]` is a step boundary and nothing is interpolated.
Step `j` of interval `i` runs from `ts[i] + (ts[i+1] - ts[i]) * j / n` to the same with `j + 1`
(the last one ends exactly at `ts[i+1]`). Global step `k = i * n + j` maps state `k` to `k + 1`.

`n` is a Python int, or a `DynamicSteps` when it depends on traced times (`ts` built inside
`jit` with `dt0`): then every interval runs `bound` iterations, the first `count` of which are
steps and the rest the identity (their times are clamped to the interval's end, so the vector
field is only evaluated inside `[ts[0], ts[-1]]`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jax import lax

from ._solvers import state_scale_error


class DynamicSteps(eqx.Module):
    """A traced number of steps per interval, `count`, at most the static `bound`."""

    count: jax.Array
    bound: int = eqx.field(static=True)


def bound_and_count(n):
    """`(bound, count)`: the static number of loop iterations per interval and the traced
    number of steps among them (`None` when every iteration is a step)."""
    if isinstance(n, DynamicSteps):
        return n.bound, n.count
    return n, None


def _select(active, new, old):
    """`new` where `active` (a traced bool; `None` means always), else `old`, leaf by leaf."""
    if active is None:
        return new
    return jtu.tree_map(lambda a, b: jnp.where(active, a, b), new, old)


def step_times(ta, tb, j, n):
    """Start and end of step `j` (traced int) of the `n` steps that cut `[ta, tb]`. `n` is a
    Python int, or a traced count, in which case both times are `tb` for `j >= n`."""
    jf = jnp.asarray(j, dtype=jnp.result_type(ta))
    if isinstance(n, int):
        t0 = ta + (tb - ta) * (jf / n)
        t1 = jnp.where(j + 1 == n, tb, ta + (tb - ta) * ((jf + 1) / n))
        return t0, t1
    nf = n.astype(jf.dtype)
    t0 = jnp.where(j >= n, tb, ta + (tb - ta) * (jf / nf))
    t1 = jnp.where(j + 1 >= n, tb, ta + (tb - ta) * ((jf + 1) / nf))
    return t0, t1


def step_grid(ts, n):
    """All step boundaries, shape `((len(ts) - 1) * n + 1,)`, the same floats as `step_times`."""
    j = jnp.arange(n, dtype=ts.dtype)
    starts = ts[:-1, None] + (ts[1:, None] - ts[:-1, None]) * (j / n)[None, :]
    return jnp.concatenate([starts.reshape(-1), ts[-1:]])


def _stack_with_first(y0, ys):
    return jtu.tree_map(lambda a, b: jnp.concatenate([a[None], b], axis=0), y0, ys)


def forward(solver, f, args, y0, ts, n, progress=None, anchor_every=None):
    """Integrate over all of `ts`. Returns `(ys, final_state, anchors)`.

    `anchors` (when `anchor_every = K` is given) holds the solver state after global steps
    `K, 2K, ...` strictly before the last one, stacked on a leading axis (or `None` if there are
    none). The loop is a `lax.scan` over intervals around a `lax.fori_loop` over steps, which is
    reverse-differentiable as is (the store-every-step strategy differentiates it directly).
    """
    n, count = bound_and_count(n)
    steps = n if count is None else count
    num_intervals = ts.shape[0] - 1
    total = num_intervals * n
    state = solver.init(f, ts[0], y0, args)
    num_anchors = 0 if anchor_every is None else (total - 1) // anchor_every
    if num_anchors > 0:
        anchors = jtu.tree_map(lambda x: jnp.zeros((num_anchors,) + x.shape, x.dtype), state)
    else:
        anchors = None

    def interval(carry, i):
        ta, tb = ts[i], ts[i + 1]

        def body(j, c):
            state, anchors = c
            t0, t1 = step_times(ta, tb, j, steps)
            active = None if count is None else j < count
            state = _select(active, solver.step(f, t0, t1, state, args), state)
            k = i * n + j + 1  # index of the new state
            if anchors is not None:
                is_anchor = (k % anchor_every == 0) & (k < total)
                slot = jnp.where(is_anchor, k // anchor_every - 1, num_anchors)
                anchors = jtu.tree_map(
                    lambda buf, x: buf.at[slot].set(x, mode="drop"), anchors, state
                )
            if progress is not None:
                progress.tick("forward", k, total)
            return state, anchors

        state, anchors = lax.fori_loop(0, n, body, carry)
        return (state, anchors), solver.output(state)

    (state, anchors), ys = lax.scan(interval, (state, anchors), jnp.arange(num_intervals))
    return _stack_with_first(y0, ys), state, anchors


def _zeros_like(tree):
    return jtu.tree_map(jnp.zeros_like, tree)


def _add(a, b):
    return jtu.tree_map(lambda x, y: x + y, a, b)


def backward(solver, f, args, y0, ts, n, final_state, anchors, anchor_every, ct_ys, progress):
    """The reversible backward sweep.

    Walks the steps from last to first. At each step it rebuilds the earlier state from the later
    one with `solver.backward_step` (or takes the stored anchor where there is one, recording the
    drift between the two), then pulls the adjoint back through that one `solver.step` with
    `jax.vjp`. Memory is one state, its adjoint, and the parameter gradients, whatever the number
    of steps.

    Returns `(grad_y0, grad_ts, grad_diff, drift)`, where `grad_diff` has the structure of the
    inexact-array part of `(f, args)` and `drift` is the largest reconstruction drift found
    (`state_scale_error` between a rebuilt state and the stored/known one).
    """
    n, count = bound_and_count(n)
    steps = n if count is None else count
    num_intervals = ts.shape[0] - 1
    total = num_intervals * n
    diff, static = eqx.partition((f, args), eqx.is_inexact_array)
    num_anchors = 0 if anchors is None else jtu.tree_leaves(anchors)[0].shape[0]

    def step_fn(state, ta, tb, j, diff_):
        f_, args_ = eqx.combine(diff_, static)
        t0, t1 = step_times(ta, tb, j, steps)
        active = None if count is None else j < count
        return _select(active, solver.step(f_, t0, t1, state, args_), state)

    real = jnp.result_type(ts)
    carry0 = (
        final_state,
        _zeros_like(final_state),
        _zeros_like(diff),
        jnp.zeros_like(ts),
        jnp.zeros((), real),
    )

    def interval(ii, carry):
        i = num_intervals - 1 - ii
        state, a_state, a_diff, a_ts, drift = carry
        ct_here = jtu.tree_map(lambda c: c[i + 1], ct_ys)
        _, out_vjp = jax.vjp(solver.output, state)
        (extra,) = out_vjp(ct_here)
        a_state = _add(a_state, extra)
        ta, tb = ts[i], ts[i + 1]

        def body(jj, c):
            state, a_state, a_diff, a_ta, a_tb, drift = c
            j = n - 1 - jj
            t0, t1 = step_times(ta, tb, j, steps)
            active = None if count is None else j < count
            prev = _select(active, solver.backward_step(f, t0, t1, state, args), state)
            k = i * n + j  # index of `prev`
            if num_anchors > 0:
                is_anchor = (k % anchor_every == 0) & (k > 0)
                slot = jnp.clip(k // anchor_every - 1, 0, num_anchors - 1)
                stored = jtu.tree_map(lambda buf: buf[slot], anchors)
                err = state_scale_error(prev, stored).astype(real)
                drift = jnp.where(is_anchor, jnp.maximum(drift, err), drift)
                prev = jtu.tree_map(lambda p, s: jnp.where(is_anchor, s, p), prev, stored)
            _, vjp_fn = jax.vjp(lambda s, a, b, d: step_fn(s, a, b, j, d), prev, ta, tb, diff)
            a_prev, g_ta, g_tb, g_diff = vjp_fn(a_state)
            if progress is not None:
                progress.tick("backward", total - k, total)
            return prev, a_prev, _add(a_diff, g_diff), a_ta + g_ta, a_tb + g_tb, drift

        zero = jnp.zeros((), real)
        state, a_state, a_diff, a_ta, a_tb, drift = lax.fori_loop(
            0, n, body, (state, a_state, a_diff, zero, zero, drift)
        )
        a_ts = a_ts.at[i].add(a_ta).at[i + 1].add(a_tb)
        return state, a_state, a_diff, a_ts, drift

    state, a_state, a_diff, a_ts, drift = lax.fori_loop(0, num_intervals, interval, carry0)

    def init_fn(y0_, t0_, diff_):
        f_, args_ = eqx.combine(diff_, static)
        return solver.init(f_, t0_, y0_, args_)

    init_state, init_vjp = jax.vjp(init_fn, y0, ts[0], diff)
    drift = jnp.maximum(drift, state_scale_error(state, init_state).astype(real))
    g_y0, g_t0, g_diff = init_vjp(a_state)
    g_y0 = _add(g_y0, jtu.tree_map(lambda c: c[0], ct_ys))
    a_ts = a_ts.at[0].add(g_t0)
    return g_y0, a_ts, _add(a_diff, g_diff), drift


def _vdot(a, b):
    return sum(
        jnp.vdot(x, y).real for x, y in zip(jtu.tree_leaves(a), jtu.tree_leaves(b), strict=True)
    )


def backward_reversible_heun(
    f, args, y0, ts, n, final_state, anchors, anchor_every, ct_ys, progress
):
    r"""The backward sweep of `backward`, specialised to `ReversibleHeun` so that each step
    costs one evaluation of `f` with its linearization and one transposed product.

    The inverse of step $k$ evaluates $f(t_k, \hat y_k)$, which is exactly the point where the
    adjoint of step $k - 1$ needs the transpose of $f$'s Jacobian: so that evaluation is done
    with `jax.vjp` and its pullback (its residual arrays) is carried to the next iteration,
    instead of re-evaluating $f$ inside a `jax.vjp` of the whole step. The adjoint of one step
    $\hat y_1 = 2y_0 - \hat y_0 + h v_0$, $v_1 = f(t_1, \hat y_1)$,
    $y_1 = y_0 + \frac h2 (v_0 + v_1)$ is written out by hand:
    $g = \bar v_1 + \frac h2 \bar y_1$, $\bar{\hat y}_1 \mathrel{+}= J_y^\top g$,
    $\bar y_0 = \bar y_1 + 2\bar{\hat y}_1$, $\bar{\hat y}_0 = -\bar{\hat y}_1$,
    $\bar v_0 = \frac h2 \bar y_1 + h \bar{\hat y}_1$, and
    $\bar h = \frac12\langle \bar y_1, v_0 + v_1\rangle + \langle \bar{\hat y}_1, v_0\rangle$.
    Same results as `backward` (tested), fewer evaluations of `f`.
    """
    n, count = bound_and_count(n)
    steps = n if count is None else count
    num_intervals = ts.shape[0] - 1
    total = num_intervals * n
    diff, static = eqx.partition((f, args), eqx.is_inexact_array)
    num_anchors = 0 if anchors is None else jtu.tree_leaves(anchors)[0].shape[0]
    real = jnp.result_type(ts)

    def fn(t, y, diff_):
        f_, args_ = eqx.combine(diff_, static)
        return f_(t, y, args_)

    y_n, yhat_n, _ = final_state
    _, pullback = jax.vjp(fn, ts[-1], yhat_n, diff)
    pb_leaves, pb_treedef = jtu.tree_flatten(pullback)

    carry0 = (
        final_state,
        _zeros_like(final_state),
        pb_leaves,
        _zeros_like(diff),
        jnp.zeros_like(ts),
        jnp.zeros((), real),
    )

    def interval(ii, carry):
        i = num_intervals - 1 - ii
        state, a_state, pb_leaves, a_diff, a_ts, drift = carry
        ct_here = jtu.tree_map(lambda c: c[i + 1], ct_ys)
        a_state = (_add(a_state[0], ct_here), a_state[1], a_state[2])
        ta, tb = ts[i], ts[i + 1]

        def body(jj, c):
            state, a_state, pb_leaves, a_diff, a_ta, a_tb, drift = c
            j = n - 1 - jj
            (t0, t1), times_vjp = jax.vjp(lambda a, b: step_times(a, b, j, steps), ta, tb)
            h = t1 - t0
            y1, yhat1, vf1 = state
            ay1, ayhat1, avf1 = a_state
            # inverse step, evaluating f at the rebuilt point with its linearization
            yhat0 = _lincomb2(2.0, y1, -1.0, yhat1, -h, vf1)
            k = i * n + j
            if num_anchors > 0:
                is_anchor = (k % anchor_every == 0) & (k > 0)
                slot = jnp.clip(k // anchor_every - 1, 0, num_anchors - 1)
                y_s, yhat_s, _ = jtu.tree_map(lambda buf: buf[slot], anchors)
                yhat_used = jtu.tree_map(lambda r, s: jnp.where(is_anchor, s, r), yhat0, yhat_s)
            else:
                yhat_used = yhat0
            vf0, new_pullback = jax.vjp(fn, t0, yhat_used, diff)
            y0 = _lincomb2(1.0, y1, -0.5 * h, vf0, -0.5 * h, vf1)
            if num_anchors > 0:
                err = jnp.maximum(state_scale_error(y0, y_s), state_scale_error(yhat0, yhat_s))
                drift = jnp.where(is_anchor, jnp.maximum(drift, err.astype(real)), drift)
                y0 = jtu.tree_map(lambda r, s: jnp.where(is_anchor, s, r), y0, y_s)
            # adjoint of the step, with the pullback of f at (t1, yhat1) from the last iteration
            pullback = jtu.tree_unflatten(pb_treedef, pb_leaves)
            g = _lincomb2(1.0, avf1, 0.5 * h, ay1)
            ct_t1, ct_yhat1, ct_diff = pullback(g)
            ayhat_tot = _add(ayhat1, ct_yhat1)
            ay0 = _lincomb2(1.0, ay1, 2.0, ayhat_tot)
            ayhat0 = jtu.tree_map(jnp.negative, ayhat_tot)
            avf0 = _lincomb2(0.5 * h, ay1, h, ayhat_tot)
            a_h = 0.5 * (_vdot(ay1, vf0) + _vdot(ay1, vf1)) + _vdot(ayhat_tot, vf0)
            g_ta, g_tb = times_vjp((-a_h, ct_t1 + a_h))
            if progress is not None:
                progress.tick("backward", total - k, total)
            new = (
                (y0, yhat_used, vf0),
                (ay0, ayhat0, avf0),
                jtu.tree_leaves(new_pullback),
                _add(a_diff, ct_diff),
                a_ta + g_ta,
                a_tb + g_tb,
                drift,
            )
            # An identity iteration past the traced step count leaves everything as it was.
            return _select(None if count is None else j < count, new, c)

        zero = jnp.zeros((), real)
        state, a_state, pb_leaves, a_diff, a_ta, a_tb, drift = lax.fori_loop(
            0, n, body, (state, a_state, pb_leaves, a_diff, zero, zero, drift)
        )
        a_ts = a_ts.at[i].add(a_ta).at[i + 1].add(a_tb)
        return state, a_state, pb_leaves, a_diff, a_ts, drift

    state, a_state, _, a_diff, a_ts, drift = lax.fori_loop(0, num_intervals, interval, carry0)

    def init_fn(y0_, t0_, diff_):
        return (y0_, y0_, fn(t0_, y0_, diff_))

    init_state, init_vjp = jax.vjp(init_fn, y0, ts[0], diff)
    drift = jnp.maximum(drift, state_scale_error(state, init_state).astype(real))
    g_y0, g_t0, g_diff = init_vjp(a_state)
    g_y0 = _add(g_y0, jtu.tree_map(lambda c: c[0], ct_ys))
    a_ts = a_ts.at[0].add(g_t0)
    return g_y0, a_ts, _add(a_diff, g_diff), drift


def _lincomb2(*coeffs_and_trees):
    pairs = list(zip(coeffs_and_trees[::2], coeffs_and_trees[1::2], strict=True))
    trees = [x for _, x in pairs]

    def combine(*leaves):
        total = pairs[0][0] * leaves[0]
        for (c, _), leaf in zip(pairs[1:], leaves[1:], strict=True):
            total = total + c * leaf
        return total

    return jtu.tree_map(combine, *trees)
