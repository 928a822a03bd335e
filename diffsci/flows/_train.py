r"""Training loops for Monge-Ampère flows: variational free energy and maximum likelihood.

Both run Adam steps as a jitted `lax.scan` in chunks through `diffsci.utils.drive`, which
gives the progress bar, the checkpoints after each chunk and an exact resume: step $t$ draws its
randomness from `jax.random.fold_in(key, t)`, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from diffsci._internal._validate import choice, fail, finite, float_array, static_int
from diffsci.utils import (
    RESULTS,
    VariationalEstimate,
    drive,
    variational_free_energy,
    variational_objective,
)

from ._checks import (
    beta_value,
    callable_arg,
    energy_per_point,
    flag,
    path_or_none,
    prng_key,
    real_number,
)
from ._flow import MongeAmpereFlow, _normal_log_prob


class FlowTrainResult(eqx.Module):
    """The output of `train_variational` and `train_likelihood`.

    **Fields:**

    - `flow`: the trained `MongeAmpereFlow`.
    - `loss`: the loss of every step on that step's batch: $F_q$ for `train_variational`, the
      mean negative log-likelihood (nats) for `train_likelihood`.
    - `estimate`: for `train_variational`, the final `diffsci.utils.VariationalEstimate` ($F_q$
      and the importance-sampled $F$ with error bars, and the effective sample size) from
      `eval_samples` fresh samples; `None` for `train_likelihood`.
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `max_steps_reached` after all steps,
      `successful` when a callback stopped the training.
    - `stats`: the driver's counts (see [`diffsci.utils.RunResult`][]); its `steps` counts
      chunks.
    """

    flow: MongeAmpereFlow
    loss: Float[Array, " steps"]
    estimate: VariationalEstimate | None
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.max_steps_reached)
    stats: dict = eqx.field(default_factory=dict)


class _VariationalLoss(eqx.Module):
    energy_fn: Callable
    beta: float
    batch: int

    def __call__(self, flow, key):
        x, log_q = flow._sample_and_log_prob(key, self.batch, "sample_and_log_prob")
        energies = jax.vmap(self.energy_fn)(x)
        return variational_objective(energies, log_q, self.beta)


class _LikelihoodLoss(eqx.Module):
    data: Array
    batch: int
    transform: Callable | None = None

    def __call__(self, flow, key):
        k_idx, k_probe = jr.split(key)
        idx = jr.choice(k_idx, self.data.shape[0], (self.batch,), replace=False)
        x = self.data[idx]
        if self.transform is None:
            return -jnp.mean(_log_prob(flow, x, k_probe))
        x, log_det = self.transform(jr.fold_in(key, 2**31 - 1), x)
        return -jnp.mean(_log_prob(flow, x, k_probe) + log_det)


def _log_prob(flow, x, key):
    """`flow.log_prob` of a batch of data that `train_likelihood` checked once at its entry (no
    check in every step)."""
    z, ell = flow._inverse_solve(x, key, "log_prob")
    return _normal_log_prob(z) - ell


def _check_transform(transform, data, dim):
    """Trace `transform` once on a batch of shapes like the real one: clear errors early."""
    callable_arg(transform, "transform", "train_likelihood")
    out = jax.eval_shape(transform, jr.key(0), data[:2])
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("train_likelihood: transform(key, batch) must return a pair (x, log_det)")
    x, log_det = out
    if x.shape != (2, dim) or log_det.shape != (2,):
        raise ValueError(
            f"train_likelihood: transform(key, batch) of a batch of shape {data[:2].shape} must "
            f"return x of shape (2, {dim}) and log_det of shape (2,), got {x.shape} and "
            f"{log_det.shape}"
        )


_SCHEDULES = ("constant", "cosine")

_BETA_ZERO_F = (
    ": the free energy F = -ln Z / beta diverges at infinite temperature (beta = 0), "
    "and for a flow on R^D the target exp(-beta E) = 1 is not normalizable there"
)
_BETA_ZERO_TRAIN = (
    ": at beta = 0 the target exp(-beta E) = 1 is not normalizable on R^D; the objective that "
    "remains, beta F_q = <ln q>, is the negative entropy of the flow, which has no minimum (the "
    "flow would spread without bound), and F_q itself is infinite"
)


def _optimizer(learning_rate, schedule="constant", steps=1):
    if schedule == "cosine":  # to 1% of the initial rate at the last step
        learning_rate = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
    return optax.chain(optax.clip_by_global_norm(10.0), optax.adam(learning_rate))


@eqx.filter_jit
def _train_chunk(carry, static, loss, key, learning_rate, schedule, total, start, count):
    """`count` Adam steps from step `start` (module level: compiled once per shape)."""
    optimizer = _optimizer(learning_rate, schedule, total)

    def one(carry, t):
        params, opt_state = carry

        def f(p):
            return loss(eqx.combine(p, static), jr.fold_in(key, t))

        value, grads = jax.value_and_grad(f)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    return jax.lax.scan(one, carry, start + jnp.arange(count, dtype=jnp.int32))


def _key_list(key):
    data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    return np.asarray(data).tolist()


def _check_flow(flow, who):
    if not isinstance(flow, MongeAmpereFlow):
        fail(
            who,
            "flow",
            "to be a MongeAmpereFlow",
            f"an object of type {type(flow).__name__}",
            TypeError,
            described=True,
        )


def _check_run(
    who, key, steps, batch, learning_rate, schedule, chunk_steps, checkpoint_dir, progress
):
    """The arguments that both trainers share, checked before anything runs."""
    prng_key(key, "key", who)
    steps = static_int(steps, "steps", who, minimum=1)
    batch = static_int(batch, "batch", who, minimum=1)
    learning_rate = real_number(learning_rate, "learning_rate", who, minimum=0)
    choice(schedule, "schedule", who, _SCHEDULES)
    if chunk_steps is not None:
        chunk_steps = static_int(chunk_steps, "chunk_steps", who, minimum=1)
    path_or_none(checkpoint_dir, "checkpoint_dir", who)
    flag(progress, "progress", who)
    return steps, batch, learning_rate, chunk_steps


def _train(
    flow,
    loss,
    key,
    steps,
    learning_rate,
    chunk_steps,
    checkpoint_dir,
    progress,
    desc,
    metadata,
    schedule="constant",
    callbacks=(),
    log=None,
) -> tuple[Any, Array, Any, dict]:
    """Train; returns the flow, the losses per step, the run's `RESULTS` member and its stats."""
    params, static = eqx.partition(flow, eqx.is_inexact_array)
    opt_state = _optimizer(learning_rate, schedule, steps).init(params)
    chunk = steps if chunk_steps is None else chunk_steps
    num_chunks = -(-steps // chunk)

    def run_chunk(carry, i):
        count = min(chunk, steps - i * chunk)
        return _train_chunk(
            carry,
            static,
            loss,
            key,
            float(learning_rate),
            schedule,
            steps,
            jnp.asarray(i * chunk, jnp.int32),
            count,
        )

    carry = (params, opt_state)
    if num_chunks == 1 and checkpoint_dir is None and not progress and not callbacks and not log:
        # (no host loop: the training stays traceable, e.g. under jax.jit)
        carry, losses = run_chunk(carry, 0)
        stats = {"steps": 1, "rejected": 0, "seconds": float("nan"), "resumed_at": 0}
        return eqx.combine(carry[0], static), losses, RESULTS.max_steps_reached, stats
    meta = dict(
        metadata,
        steps=steps,
        chunk_steps=chunk,
        learning_rate=learning_rate,
        schedule=schedule,
        key=_key_list(key),
        flow_steps=flow.steps,
        t_final=flow.t_final,
        dim=flow.dim,
        flow=flow,
        loss=loss,
    )

    def chunk_step(carry, i):
        carry, losses = run_chunk(carry, i)
        return carry, {"loss": losses}

    out = drive(
        chunk_step,
        carry,
        num_steps=num_chunks,
        chunked=True,
        callbacks=callbacks,
        checkpoint_dir=checkpoint_dir,
        metadata=meta,
        log=log,
        progress=progress,
        desc=desc,
        postfix=lambda c, record: {"loss": f"{float(record['loss'][-1]):.5f}"},
        caller=desc,
    )
    losses = jnp.asarray(out.history["loss"])
    return eqx.combine(out.state[0], static), losses, out.result, out.stats


@eqx.filter_jit
def _sample_scored(flow, energy_fn, key, num, exact_log_det):
    if exact_log_det:
        x, log_q = flow.sample_and_exact_log_prob(key, num)
    else:
        x, log_q = flow.sample_and_log_prob(key, num)
    return jax.vmap(energy_fn)(x), log_q


def flow_free_energy(
    flow: MongeAmpereFlow,
    energy_fn: Callable[[Array], Array],
    beta: float = 1.0,
    *,
    key: PRNGKeyArray,
    samples: int = 4096,
    batch: int = 1024,
    exact_log_det: bool = False,
) -> VariationalEstimate:
    r"""$F_q \ge F$ and the importance-sampled $F$, with error bars, from samples of a flow.

    With `exact_log_det=False`, $\ln q$ of each sample is integrated along its path with the
    flow's solver (`sample_and_log_prob`): cheap, but $O(h^p)$ off the density of the map that
    moved the sample, so the bound and the importance weights carry that discretization error
    (check by doubling `flow.steps`). With `exact_log_det=True`, $\ln q$ is the exact density of
    the discrete map (`sample_and_exact_log_prob`, $D$ forward-mode passes per sample): then
    $F_q \ge F$ up to its statistical error only, and the importance-sampled $F$ is consistent.

    **Arguments:**

    - `flow`: a `MongeAmpereFlow`.
    - `energy_fn`: $E(x)$ for one `x` of shape `(D,)`.
    - `beta`: the inverse temperature.
    - `key`: a JAX PRNG key.
    - `samples`: the number of samples.
    - `batch`: samples drawn per compiled call.
    - `exact_log_det`: use the exact log-determinant of the discrete map.

    **Returns:**

    A `diffsci.utils.VariationalEstimate`.

    Checks: `flow` is a `MongeAmpereFlow`, `energy_fn` gives one real scalar for a point of
    shape `(D,)` (traced once), `beta` is positive and finite (the free energy
    $-\ln Z/\beta$ diverges at $\beta = 0$), `key` a JAX PRNG key, `samples` an integer >= 2
    (an error bar needs two), `batch` >= 1.
    """
    who = "flow_free_energy"
    _check_flow(flow, who)
    energy_per_point(energy_fn, flow.dim, flow._dtype(), who)
    beta_value(beta, who, _BETA_ZERO_F)
    prng_key(key, "key", who)
    samples = static_int(samples, "samples", who, minimum=2)
    batch = static_int(batch, "batch", who, minimum=1)
    exact_log_det = flag(exact_log_det, "exact_log_det", who)
    per = min(samples, batch)
    num = -(-samples // per)
    out = [
        _sample_scored(flow, energy_fn, jr.fold_in(key, b), per, bool(exact_log_det))
        for b in range(num)
    ]
    energies = jnp.concatenate([e for e, _ in out])[:samples]
    log_q = jnp.concatenate([q for _, q in out])[:samples]
    return variational_free_energy(energies, log_q, beta)


def train_variational(
    flow: MongeAmpereFlow,
    energy_fn: Callable[[Array], Array],
    beta: float = 1.0,
    *,
    key: PRNGKeyArray,
    steps: int = 500,
    batch: int = 256,
    learning_rate: float = 1e-2,
    schedule: str = "constant",
    eval_samples: int = 4096,
    chunk_steps: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = False,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
) -> FlowTrainResult:
    r"""Fit a flow to $p(x) \propto e^{-\beta E(x)}$ by minimizing the variational free energy.

    $$F_q = \frac1\beta\,\mathbb E_{x\sim q}\bigl[\beta E(x) + \ln q(x)\bigr]
      = F + \tfrac1\beta\mathrm{KL}(q\,\|\,p) \ge F = -\tfrac1\beta\ln Z,$$

    estimated on `batch` fresh samples per step and differentiated by reparameterization: the
    samples and their log-densities are differentiable functions of the parameters, through
    `diffsci.ode.odeint` and its adjoint (O(1) memory in the flow's number of steps with the
    default `ReversibleAdjoint`). Adam with gradient clipping at global norm 10.

    **Arguments:**

    - `flow`: the initial `MongeAmpereFlow`.
    - `energy_fn`: $E(x)$ for one `x` of shape `(D,)`, differentiable.
    - `beta`: the inverse temperature.
    - `key`: a JAX PRNG key (step $t$ uses `fold_in(key, t)`).
    - `steps`, `batch`, `learning_rate`: Adam steps, samples per step, step size.
    - `schedule`: `"constant"` step size, or `"cosine"` decay from `learning_rate` to 1% of it
      at the last step (removes most of the batch noise from the final parameters).
    - `eval_samples`: samples for the final estimate (0 to skip it).
    - `chunk_steps`, `checkpoint_dir`, `progress`: run in chunks of `chunk_steps` steps with a
      checkpoint after each and a progress bar ([`diffsci.utils.drive`][]); calling again with
      the same `checkpoint_dir` resumes.
    - `callbacks`: callables `callback(run)` called after every chunk with the
      [`diffsci.utils.Run`][] (`run.record["loss"]`: the chunk's losses); one that returns
      `True` stops the training ([`diffsci.utils.Callback`][]).
    - `log`: the JSON-lines log, one line per step ([`diffsci.utils.JSONLinesLog`][]): a path,
      `False`, or `None` (default) for `log.jsonl` in `checkpoint_dir` when there is one.

    **Returns:**

    A `FlowTrainResult`; its `loss` is $F_q$ per step.

    **Limits:** $\beta$ must be positive. At $\beta = 0$ (infinite temperature) the target
    $e^{-\beta E} = 1$ is not normalizable on $\mathbb R^D$: what remains of the objective,
    $\beta F_q = \langle\ln q\rangle_q$, is minus the entropy of the flow, which has no
    minimum (a flow on $\mathbb R^D$ can spread without bound), and $F_q$ itself is infinite; so
    $\beta = 0$ is refused rather than trained into a divergence.

    Checks (once, before training): `flow` is a `MongeAmpereFlow`; `energy_fn` gives one real
    scalar for a point of shape `(D,)` (traced once, abstractly: an energy that returns a vector
    or sums a batch is refused); `beta` and `learning_rate` are positive and finite; `key` is a
    JAX PRNG key; `steps`, `batch` (and `chunk_steps`) are integers >= 1; `eval_samples` is 0 or
    >= 2; `schedule` is one of the two names.
    """
    who = "train_variational"
    _check_flow(flow, who)
    energy_per_point(energy_fn, flow.dim, flow._dtype(), who)
    beta = float(beta_value(beta, who, _BETA_ZERO_TRAIN))
    steps, batch, learning_rate, chunk_steps = _check_run(
        who, key, steps, batch, learning_rate, schedule, chunk_steps, checkpoint_dir, progress
    )
    eval_samples = static_int(eval_samples, "eval_samples", who, minimum=0)
    if eval_samples == 1:
        fail(
            who,
            "eval_samples",
            "to be 0 (no final estimate) or >= 2 (an error bar needs two)",
            eval_samples,
        )
    k_train, k_eval = jr.split(key)
    loss = _VariationalLoss(energy_fn, beta, batch)
    flow, losses, result, stats = _train(
        flow,
        loss,
        k_train,
        steps,
        learning_rate,
        chunk_steps,
        checkpoint_dir,
        progress,
        "train_variational",
        {"beta": beta, "batch": batch},
        schedule,
        callbacks,
        log,
    )
    estimate = None
    if eval_samples:
        estimate = flow_free_energy(flow, energy_fn, beta, key=k_eval, samples=eval_samples)
    return FlowTrainResult(flow=flow, loss=losses, estimate=estimate, result=result, stats=stats)


def train_likelihood(
    flow: MongeAmpereFlow,
    data: Float[Array, "n D"],
    *,
    key: PRNGKeyArray,
    steps: int = 500,
    batch: int = 128,
    learning_rate: float = 1e-2,
    schedule: str = "constant",
    chunk_steps: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = False,
    transform: Callable | None = None,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
) -> FlowTrainResult:
    r"""Fit a flow to data by maximum likelihood: minimize $-\frac1B\sum_b \ln q(x_b)$ over
    minibatches drawn without replacement, with $\ln q$ from the backward integration.

    With a `transform`, each minibatch $v_b$ is first mapped to $x_b = g(v_b, u_b)$ with fresh
    randomness $u_b$ every step (dequantization noise, a logit, data augmentation) and the loss
    is $-\frac1B\sum_b [\ln q(x_b) + \ln|\det \partial x_b/\partial v_b|]$: the negative
    log-likelihood of the data before the transform (for dequantization, its variational bound).

    **Arguments:**

    - `flow`: the initial `MongeAmpereFlow`.
    - `data`: training points, shape `(n, D)`, `n >= batch`.
    - `key`: a JAX PRNG key (minibatches, probes of a stochastic divergence, the transform's
      randomness).
    - `steps`, `batch`, `learning_rate`, `schedule`, `chunk_steps`, `checkpoint_dir`,
      `progress`, `callbacks`, `log`: as in `train_variational`.
    - `transform`: optional `transform(key, batch) -> (x, log_det)`, a pure JAX function of a
      PRNG key and a minibatch `(B, D)` giving the points the flow sees, shape `(B, D)`, and the
      log-Jacobian of the map per point, shape `(B,)` (zeros for a shift by noise).

    **Returns:**

    A `FlowTrainResult` whose `loss` is the minibatch negative log-likelihood (nats) per step
    and `estimate` is `None`.

    Checks (once, before training): `flow` is a `MongeAmpereFlow`; `data` is a real array of
    shape `(n, D)` with `n >= batch` (integers promoted to floats) and no NaN or infinite entry;
    the other arguments as in `train_variational`; `transform` is traced once on a minibatch.
    """
    who = "train_likelihood"
    _check_flow(flow, who)
    steps, batch, learning_rate, chunk_steps = _check_run(
        who, key, steps, batch, learning_rate, schedule, chunk_steps, checkpoint_dir, progress
    )
    data = float_array(data, "data", who, dtype=flow._dtype())
    if data.ndim != 2 or data.shape[1] != flow.dim or data.shape[0] < batch:
        raise ValueError(
            f"train_likelihood: expected `data` of shape (n >= {batch}, {flow.dim}), got "
            f"{data.shape}"
        )
    data = finite(data, "data", who)
    if transform is not None:
        _check_transform(transform, data, flow.dim)
    loss = _LikelihoodLoss(data, batch, transform)
    metadata: dict[str, Any] = {"batch": batch, "num_data": int(data.shape[0])}
    if transform is not None:
        metadata["transform"] = getattr(transform, "__name__", type(transform).__name__)
    flow, losses, result, stats = _train(
        flow,
        loss,
        key,
        steps,
        learning_rate,
        chunk_steps,
        checkpoint_dir,
        progress,
        "train_likelihood",
        metadata,
        schedule,
        callbacks,
        log,
    )
    return FlowTrainResult(flow=flow, loss=losses, estimate=None, result=result, stats=stats)
