r"""Variational autoregressive networks for spins (Wu, Wang, Zhang, PRL 122, 080602 (2019)).

An autoregressive model $q_\theta(s) = \prod_i q_\theta(s_i \mid s_{<i})$ gives exact samples and
exact $\ln q_\theta(s)$, so the variational free energy

$$F_q = \frac1\beta\, \mathbb E_{s\sim q}\big[\beta E(s) + \ln q(s)\big]
  \;\ge\; F = -\frac1\beta\ln Z$$

can be estimated and minimized (the gap is $\mathrm{KL}(q\,\|\,p)/\beta$). Its gradient is the
REINFORCE (score-function) estimator

$$\beta\nabla_\theta F_q = \mathbb E_{s\sim q}\big[(\beta E(s) + \ln q(s) - b)\,
  \nabla_\theta \ln q(s)\big],$$

with the batch mean $b$ as baseline ($\mathbb E_q[\nabla\ln q] = 0$ keeps it unbiased). The same
samples give the importance-sampled estimate $F \approx -\frac1\beta\ln \frac1M\sum_k
e^{-\beta E(s_k)}/q(s_k)$, which converges to $F$ itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from diffsci._internal._results import RESULTS
from diffsci._internal._validate import check, fail, float_array, positive, static_int
from diffsci.utils import VariationalEstimate, drive, variational_free_energy

from ._model_checks import (
    energy_per_configuration,
    flag,
    path_or_none,
    prng_key,
    real_number,
)
from ._samplers import _key_data


def _made_masks(n, hidden):
    """MADE masks (Germain et al., ICML 2015): output i sees only inputs j < i."""
    degrees = [np.arange(1, n + 1)]  # input j has degree j + 1
    for width in hidden:
        degrees.append(np.arange(width) % max(n - 1, 1) + 1)
    masks = [
        (d_out[:, None] >= d_in[None, :]).astype(np.float64)
        for d_in, d_out in zip(degrees[:-1], degrees[1:], strict=True)
    ]
    out_degree = np.arange(1, n + 1)
    masks.append((out_degree[:, None] > degrees[-1][None, :]).astype(np.float64))
    direct = (out_degree[:, None] > degrees[0][None, :]).astype(np.float64)
    return masks, direct


class VAN(eqx.Module):
    r"""A masked (MADE) autoregressive network over $n$ spins $\pm1$, optionally Z2-symmetric.

    $\ln q(s_i = \pm1 \mid s_{<i}) = \ln\sigma(\pm\ell_i(s_{<i}))$ with logits $\ell$ from a
    masked MLP (tanh hidden layers plus a masked direct input-to-output layer), so $\ell_i$
    depends only on $s_0, \dots, s_{i-1}$. With `z2=True` the model is
    $q(s) = \frac12[q_0(s) + q_0(-s)]$, exactly symmetric under a global flip (for models with
    $E(s) = E(-s)$: zero-field Ising models and spin glasses).

    **Arguments:**

    - `n`: number of spins.
    - `key`: random key for the initial weights.
    - `hidden`: widths of the hidden layers (default `(4n, 4n)`; `()` is the one-layer VAN).
    - `z2`: impose the spin-flip symmetry.

    Checked: `n` an integer $\ge 1$, `hidden` a sequence of integers $\ge 1$, `key` a PRNG
    key, `z2` a bool.
    """

    weights: list
    biases: list
    direct: Array
    hidden: tuple = eqx.field(static=True)
    n: int = eqx.field(static=True)
    z2: bool = eqx.field(static=True)

    def __init__(self, n, *, key, hidden=None, z2=True):
        n = static_int(n, "n", "VAN", minimum=1)
        key = prng_key(key, "key", "VAN")
        hidden = (4 * n, 4 * n) if hidden is None else _hidden(hidden)
        flag(z2, "z2", "VAN")
        _check_sizes(n, hidden)
        dtype = jnp.result_type(float)
        sizes = [n, *hidden, n]
        keys = jax.random.split(key, len(sizes))
        self.weights = [
            jax.random.normal(k, (b, a), dtype) / np.sqrt(a) * (0.1 if b == n and a != n else 1)
            for k, a, b in zip(keys[:-1], sizes[:-1], sizes[1:], strict=True)
        ]
        self.biases = [jnp.zeros(b, dtype) for b in sizes[1:]]
        self.direct = 0.01 * jax.random.normal(keys[-1], (n, n), dtype)
        self.hidden = hidden
        self.n = n
        self.z2 = bool(z2)

    def __check_init__(self):
        _check_sizes(self.n, self.hidden)

    def logits(self, s: Float[Array, " n"]) -> Float[Array, " n"]:
        """Logits $\\ell_i(s_{<i})$ of $q(s_i = +1 \\mid s_{<i})$, for one configuration of shape
        `(n,)` (checked at trace time)."""
        s = float_array(s, "s", "VAN.logits", shape=(self.n,))
        masks, direct = _made_masks(self.n, self.hidden)
        h = s
        for k, (w, b, m) in enumerate(zip(self.weights, self.biases, masks, strict=True)):
            h = (w * m) @ h + b
            if k < len(self.weights) - 1:
                h = jnp.tanh(h)
        return h + (self.direct * direct) @ s

    def _log_prob0(self, s):
        return jnp.sum(jax.nn.log_sigmoid(s * self.logits(s)))

    def log_prob(self, s: Float[Array, " n"]) -> Float[Array, ""]:
        """$\\ln q(s)$ of one configuration of $\\pm1$ spins, shape `(n,)` (checked at trace
        time; vmap it for a batch)."""
        s = float_array(s, "s", "VAN.log_prob", shape=(self.n,))
        if self.z2:
            return jnp.logaddexp(self._log_prob0(s), self._log_prob0(-s)) - jnp.log(2.0)
        return self._log_prob0(s)

    def sample(self, key: PRNGKeyArray, num: int) -> Float[Array, "num n"]:
        """`num` exact, independent samples of $q$ (n sequential passes of the network); `num`
        an integer $\\ge 1$."""
        key = prng_key(key, "key", "VAN.sample")
        num = static_int(num, "num", "VAN.sample", minimum=1)
        key_u, key_flip = jax.random.split(key)
        u = jax.random.uniform(key_u, (num, self.n), self.direct.dtype)

        def site(i, s):
            p_up = jax.nn.sigmoid(jax.vmap(self.logits)(s)[:, i])
            return s.at[:, i].set(jnp.where(u[:, i] < p_up, 1.0, -1.0))

        s = jax.lax.fori_loop(0, self.n, site, jnp.zeros((num, self.n), self.direct.dtype))
        if self.z2:
            flip = jax.random.bernoulli(key_flip, 0.5, (num, 1))
            s = jnp.where(flip, -s, s)
        return s


def _hidden(hidden):
    """The hidden widths as a tuple of ints (`TypeError` for anything else)."""
    if isinstance(hidden, str) or not hasattr(hidden, "__iter__"):
        fail("VAN", "hidden", "to be a sequence of layer widths (integers >= 1)", hidden, TypeError)
    return tuple(static_int(w, "hidden", "VAN") for w in hidden)


def _check_sizes(n, hidden):
    static_int(n, "n", "VAN", minimum=1)
    if not isinstance(hidden, tuple) or not all(
        isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in hidden
    ):
        fail(
            "VAN",
            "hidden",
            "to be a sequence of layer widths (integers >= 1)",
            f"{hidden!r}",
            described=True,
        )


def reinforce_loss(model: VAN, samples, energies, beta, *, validate: bool = True):
    r"""The surrogate whose gradient is REINFORCE's $\beta\nabla F_q$ (batch-mean baseline).

    $L = \frac1M\sum_k \mathrm{sg}[\beta E_k + \ln q(s_k) - b]\,\ln q_\theta(s_k)$, with
    $\mathrm{sg}$ = `stop_gradient` and $b$ the batch mean of $\beta E + \ln q$.

    Checked at trace time: `model` a `VAN`, `samples` of shape `(M, n)`, `energies` of shape
    `(M,)`, `beta` a real scalar (integers promoted). With `validate` (default), a runtime check
    that `samples` are spins $\pm 1$ and `energies` and `beta` are finite (`van_train` turns it
    off for its own samples).
    """
    who = "reinforce_loss"
    if not isinstance(model, VAN):
        fail(who, "model", "to be a diffsci.physics.VAN", model, TypeError)
    samples = float_array(samples, "samples", who, ndim=2)
    if samples.shape[1] != model.n:
        fail(
            who,
            "samples",
            f"to have shape (M, {model.n}) (n = {model.n} spins of `model`)",
            f"shape {samples.shape}",
            described=True,
        )
    energies = float_array(energies, "energies", who, shape=(samples.shape[0],))
    beta = float_array(beta, "beta", who, shape=())
    if validate:
        samples = check(
            samples,
            (samples != 1) & (samples != -1),
            f"{who}: expected `samples` to hold spins +1 or -1",
        )
        energies = check(
            energies, ~jnp.isfinite(energies), f"{who}: `energies` has NaN or infinite entries"
        )
        beta = check(beta, ~jnp.isfinite(beta), f"{who}: `beta` is NaN or infinite")
    log_q = jax.vmap(model.log_prob)(samples)
    reduced = jax.lax.stop_gradient(beta * energies + log_q)
    return jnp.mean((reduced - jnp.mean(reduced)) * log_q)


class VANResult(eqx.Module):
    """The output of [`diffsci.physics.van_train`][].

    **Fields:**

    - `model`: the trained [`diffsci.physics.VAN`][].
    - `beta_schedule`: the β of every training step (annealed towards the target).
    - `free_energy`: $F_q$ estimated on every step's batch, at that step's β.
    - `estimate`: the final [`diffsci.utils.VariationalEstimate`][] at the target β ($F_q$ with its
      error, the importance-sampled $F$ with its error, the effective sample size).
    - `result`: a member of [`diffsci.utils.RESULTS`][]: `max_steps_reached` after all steps,
      `successful` when a callback stopped the training.
    - `stats`: the driver's counts (see [`diffsci.utils.RunResult`][]); its `steps` counts
      chunks.
    """

    model: VAN
    beta_schedule: Float[Array, " steps"]
    free_energy: Float[Array, " steps"]
    estimate: VariationalEstimate
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.max_steps_reached)
    stats: dict = eqx.field(default_factory=dict)


def van_train(
    energy_fn: Callable[[Array], Array],
    n: int,
    beta: float,
    *,
    key: PRNGKeyArray,
    model: VAN | None = None,
    steps: int = 2000,
    batch: int = 1024,
    learning_rate: float = 1e-3,
    anneal: float = 0.998,
    eval_samples: int = 2**16,
    chunk_steps: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = False,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
) -> VANResult:
    r"""Train a VAN by minimizing $F_q$ with REINFORCE and Adam, annealing β up to `beta`.

    At step $t$ the inverse temperature is $\beta_t = \beta(1 - a^{t+1})$ (`anneal` $= a$; 0 turns
    annealing off), which lets the model follow the distribution from high temperature rather
    than collapse onto a few states early (Wu, Wang, Zhang 2019). Step $t$ draws its samples with
    `jax.random.fold_in(key, t)`, so training in chunks, with checkpoints and resumes, gives the
    same model as one uninterrupted run.

    **Arguments:**

    - `energy_fn`: energy of one configuration of $\pm1$ spins, shape `(n,)`.
    - `n`: number of spins.
    - `beta`: the target inverse temperature.
    - `key`: random key (initial weights, when `model` is `None`, and samples).
    - `model`: a [`diffsci.physics.VAN`][] to start from (default: `VAN(n)`, spin-flip symmetric).
    - `steps`, `batch`, `learning_rate`: Adam steps, samples per step, step size.
    - `anneal`: the annealing factor $a$.
    - `eval_samples`: samples for the final estimate.
    - `chunk_steps`, `checkpoint_dir`, `progress`: run in chunks with checkpoints and a progress
      bar ([`diffsci.utils.drive`][]).
    - `callbacks`: callables `callback(run)` called after every chunk with the
      [`diffsci.utils.Run`][] (`run.record` holds the chunk's `beta` and `free_energy`); one
      that returns `True` stops the training ([`diffsci.utils.Callback`][]).
    - `log`: the JSON-lines log, one line per step ([`diffsci.utils.JSONLinesLog`][]): a path,
      `False`, or `None` (default) for `log.jsonl` in `checkpoint_dir` when there is one.

    Checked once, before training: `energy_fn` gives one real energy per configuration of shape
    `(n,)` (traced with `jax.eval_shape` on a batch of samples: an energy that returns a vector,
    or sums over a batch itself, is refused), `n` an integer $\ge 1$ equal to `model.n`, `beta`
    a finite number $> 0$, `key` a PRNG key, `steps` and `eval_samples` integers $\ge 1$,
    `batch` an integer $\ge 2$ (the baseline is the batch mean: one sample has no gradient),
    `learning_rate` $> 0$, `anneal` in $[0, 1)$ ($a = 1$ would keep $\beta_t = 0$),
    `chunk_steps` an integer $\ge 1$ or `None`, `checkpoint_dir` a path or `None`, `progress` a
    bool.

    **Returns:**

    A [`diffsci.physics.VANResult`][].
    """
    who = "van_train"
    n = static_int(n, "n", who, minimum=1)
    beta = real_number(beta, "beta", who, minimum=0.0)
    key = prng_key(key, "key", who)
    if model is not None:
        if not isinstance(model, VAN):
            fail(who, "model", "to be a diffsci.physics.VAN or None", model, TypeError)
        if model.n != n:
            fail(
                who,
                "model",
                f"to be a VAN of n = {n} spins",
                f"a VAN of {model.n} spins",
                described=True,
            )
    steps = static_int(steps, "steps", who, minimum=1)
    batch = static_int(batch, "batch", who, minimum=2)
    learning_rate = real_number(learning_rate, "learning_rate", who, minimum=0.0)
    anneal = real_number(anneal, "anneal", who, minimum=0.0, maximum=1.0, strict=False)
    if anneal == 1.0:
        fail(who, "anneal", "to be in [0, 1) (anneal = 1 keeps beta_t = 0 at every step)", 1.0)
    eval_samples = static_int(eval_samples, "eval_samples", who, minimum=1)
    if chunk_steps is not None:
        chunk_steps = static_int(chunk_steps, "chunk_steps", who, minimum=1)
    path_or_none(checkpoint_dir, "checkpoint_dir", who)
    flag(progress, "progress", who)
    energy_per_configuration(energy_fn, n, jnp.result_type(float), batch, who)

    key_model, key_train, key_eval = jax.random.split(key, 3)
    model = VAN(n, key=key_model) if model is None else model
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = optax.adam(learning_rate).init(params)
    beta = float(beta)

    def run_steps(carry, start, count):
        return _train_steps(
            carry,
            static,
            energy_fn,
            key_train,
            beta,
            float(anneal),
            int(batch),
            float(learning_rate),
            start,
            count,
        )

    chunk = steps if chunk_steps is None else int(chunk_steps)
    num_chunks = -(-steps // chunk)

    def run_chunk(carry, i):
        count = min(chunk, steps - i * chunk)
        return run_steps(carry, jnp.asarray(i * chunk, jnp.int32), count)

    carry = (params, opt_state)
    result = RESULTS.max_steps_reached
    stats = {"steps": 1, "rejected": 0, "seconds": float("nan"), "resumed_at": 0}
    if num_chunks == 1 and checkpoint_dir is None and not progress and not callbacks and not log:
        carry, (betas, f_q) = run_chunk(carry, 0)
    else:
        metadata = {
            "n": n,
            "beta": beta,
            "steps": steps,
            "batch": batch,
            "chunk_steps": chunk,
            "learning_rate": learning_rate,
            "anneal": anneal,
            "key": np.asarray(_key_data(key)).tolist(),
            # the target and the starting network: a resume with others is refused
            "energy_fn": energy_fn,
            "model": model,
        }

        def chunk_step(carry, i):
            carry, (betas, f_q) = run_chunk(carry, i)
            return carry, {"beta": betas, "free_energy": f_q}

        out = drive(
            chunk_step,
            carry,
            num_steps=num_chunks,
            chunked=True,
            callbacks=callbacks,
            checkpoint_dir=checkpoint_dir,
            metadata=metadata,
            log=log,
            progress=progress,
            desc="VAN",
            postfix=lambda c, record: {"F_q": f"{float(record['free_energy'][-1]):.6f}"},
            caller=who,
        )
        carry, result, stats = out.state, out.result, out.stats
        betas = jnp.asarray(out.history["beta"])
        f_q = jnp.asarray(out.history["free_energy"])
    model = cast(VAN, eqx.combine(carry[0], static))
    estimate = _free_energy(model, energy_fn, beta, key_eval, eval_samples)
    return VANResult(
        model=model,
        beta_schedule=betas,
        free_energy=f_q,
        estimate=estimate,
        result=result,  # pyright: ignore[reportArgumentType]
        stats=stats,
    )


@eqx.filter_jit
def _train_steps(carry, static, energy_fn, key, beta, anneal, batch, learning_rate, start, count):
    """`count` REINFORCE/Adam steps from step `start` (module level: compiled once per shape)."""
    optimizer = optax.adam(learning_rate)

    def one(carry, t):
        params, opt_state = carry
        model = eqx.combine(params, static)
        beta_t = beta * (1 - anneal ** (t + 1).astype(jnp.result_type(float)))
        samples = model.sample(jax.random.fold_in(key, t), batch)
        energies = jax.vmap(energy_fn)(samples)

        def loss(p):
            return reinforce_loss(eqx.combine(p, static), samples, energies, beta_t, validate=False)

        grads = jax.grad(loss)(params)
        log_q = jax.vmap(model.log_prob)(samples)
        f_q = jnp.mean(beta_t * energies + log_q) / beta_t
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state), (beta_t, f_q)

    return jax.lax.scan(one, carry, start + jnp.arange(count, dtype=jnp.int32))


@eqx.filter_jit
def _sample_and_score(model, energy_fn, key, num):
    s = model.sample(key, num)
    return jax.vmap(energy_fn)(s), jax.vmap(model.log_prob)(s)


def van_free_energy(
    model: VAN, energy_fn: Callable, beta, *, key: PRNGKeyArray, samples: int = 2**16
) -> VariationalEstimate:
    r"""Estimate $F_q$ and the importance-sampled $F$ of a trained VAN from `samples` samples.

    The estimator is [`diffsci.utils.variational_free_energy`][], shared with the flows.

    **Arguments:**

    - `model`: the [`diffsci.physics.VAN`][].
    - `energy_fn`: energy of one configuration.
    - `beta`: inverse temperature.
    - `key`: random key.
    - `samples`: number of samples (drawn in batches of at most 8192).

    Checked: `model` a `VAN`, `energy_fn` one real energy per configuration of shape
    `(model.n,)` (traced once on abstract input), `beta` a finite number $> 0$, `key` a PRNG key,
    `samples` an integer $\ge 1$ (a traced `beta` is checked at run time).

    **Returns:**

    A [`diffsci.utils.VariationalEstimate`][].
    """
    who = "van_free_energy"
    if not isinstance(model, VAN):
        fail(who, "model", "to be a diffsci.physics.VAN", model, TypeError)
    if isinstance(beta, jax.core.Tracer):
        beta = positive(float_array(beta, "beta", who, shape=()), "beta", who)
    else:
        beta = real_number(beta, "beta", who, minimum=0.0)
    key = prng_key(key, "key", who)
    samples = static_int(samples, "samples", who, minimum=1)
    energy_per_configuration(energy_fn, model.n, model.direct.dtype, min(samples, 8192), who)
    return _free_energy(model, energy_fn, beta, key, samples)


def _free_energy(model, energy_fn, beta, key, samples):
    per = min(samples, 8192)
    num_batches = -(-samples // per)
    out = [
        _sample_and_score(model, energy_fn, jax.random.fold_in(key, b), per)
        for b in range(num_batches)
    ]
    energies = jnp.concatenate([e for e, _ in out])
    log_q = jnp.concatenate([q for _, q in out])
    return variational_free_energy(energies, log_q, beta)
