"""Dynamical systems on `diffsci.ode`: the Lorenz system and its largest Lyapunov exponent, a
Hamiltonian inverse problem, the SIR epidemic model, and a small gradient-descent fitting loop
shared by the examples and `python -m diffsci ode`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jax import lax
from jaxtyping import Array, Float

from diffsci import ode
from diffsci._internal._results import RESULTS
from diffsci._internal._validate import fail, finite, float_array, static_int
from diffsci.utils import ACCEPT, drive

from ._model_checks import callable_arg, prng_key, real_number

# --------------------------------------------------------------------------------------------
# fitting loop
# --------------------------------------------------------------------------------------------


class FitResult(eqx.Module):
    """Result of `fit_parameters`: the final parameters, the loss at every iteration, the run's
    `result` (a [`diffsci.utils.RESULTS`][] member: `max_steps_reached` after all iterations,
    `successful` when a callback stopped the fit) and `stats` (the driver's counts, see
    [`diffsci.utils.RunResult`][])."""

    params: object
    losses: Float[Array, " iterations"]
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.max_steps_reached)
    stats: dict = eqx.field(default_factory=dict)


def fit_parameters(
    loss: Callable,
    params,
    *,
    iterations: int = 200,
    learning_rate: float = 1e-2,
    report: Callable[[int, float], None] | None = None,
    report_every: int = 10,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
    progress: bool = False,
) -> FitResult:
    r"""Minimize `loss(params)` with Adam (optax), the gradient from `jax.grad` (so from the
    adjoint strategy inside `loss`).

    **Arguments:**

    - `loss`: scalar function of the parameters (a pytree of arrays).
    - `params`: initial parameters.
    - `iterations`: number of Adam steps.
    - `learning_rate`: Adam's step size.
    - `report`: optional `report(iteration, loss)` called on the host every `report_every`
      iterations and at the last one (progress for long fits).
    - `report_every`: see `report`.
    - `callbacks`: callables `callback(run)` called after every step with the
      [`diffsci.utils.Run`][] (`run.step`, `run.record["loss"]`, `run.state`); one that returns
      `True` stops the fit ([`diffsci.utils.Callback`][]).
    - `log`: a path for a JSON-lines log of the fit ([`diffsci.utils.JSONLinesLog`][]), or
      `None`/`False` for none.
    - `progress`: show a progress bar with the loss on stderr.

    The loop is [`diffsci.utils.drive`][] (one step per Adam update).

    Checked before the first step: `loss` callable and returning a real scalar for `params`
    (integer leaves of `params` are promoted to the default float), `iterations` and
    `report_every` integers $\ge 1$, `learning_rate` a finite number $> 0$, `report` callable or
    `None`. A loss that becomes NaN or infinite stops the fit with `FloatingPointError`.

    **Returns:**

    A `FitResult(params, losses)`.
    """
    who = "fit_parameters"
    callable_arg(loss, "loss", who)
    iterations = static_int(iterations, "iterations", who, minimum=1)
    learning_rate = real_number(learning_rate, "learning_rate", who, minimum=0.0)
    callable_arg(report, "report", who, optional=True)
    report_every = static_int(report_every, "report_every", who, minimum=1)
    params = jtu.tree_map(lambda x: _float_leaf(x, who), params)
    try:
        out = jax.eval_shape(loss, params)
    except Exception as err:
        raise ValueError(f"{who}: `loss` fails on `params`: {type(err).__name__}: {err}") from err
    if (
        not isinstance(out, jax.ShapeDtypeStruct)
        or out.shape != ()
        or not (jnp.issubdtype(out.dtype, jnp.floating))
    ):
        got = (
            f"shape {out.shape} and dtype {out.dtype}"
            if isinstance(out, jax.ShapeDtypeStruct)
            else f"a {type(out).__name__}"
        )
        fail(who, "loss", "to return a real scalar (the loss to minimize)", got, described=True)
    optimizer = optax.adam(learning_rate)

    @jax.jit
    def update(params, opt_state):
        value, grad = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grad, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    def one(state, i):
        params, opt_state, value = update(*state)
        return (params, opt_state), {"loss": float(value)}

    def finite(run, new_state, record):
        i = run.step
        if not np.isfinite(record["loss"]):
            raise FloatingPointError(
                f"{who}: the loss became {record['loss']} at iteration {i}"
                + (" (at the starting `params`)" if i == 0 else "; try a smaller `learning_rate`")
            )
        return ACCEPT

    def reported(run):
        i = run.step - 1
        if report is not None and (i % report_every == 0 or i == iterations - 1):
            report(i, run.record["loss"])

    out = drive(
        one,
        (params, optimizer.init(params)),
        num_steps=iterations,
        accept=finite,
        callbacks=[reported, *callbacks],
        log=log,
        progress=progress,
        desc="fit",
        postfix=lambda state, record: {"loss": f"{record['loss']:.3e}"},
        caller=who,
    )
    return FitResult(
        params=out.state[0],
        losses=jnp.asarray(out.history["loss"]),
        result=out.result,  # pyright: ignore[reportArgumentType]
        stats=out.stats,
    )


def _float_leaf(x, who):
    """A leaf of the fitted parameters as a floating array (integers promoted)."""
    return float_array(x, "params", who, complex_ok=True)


# --------------------------------------------------------------------------------------------
# Lorenz
# --------------------------------------------------------------------------------------------

#: The classical parameters (sigma, rho, beta) = (10, 28, 8/3) of the Lorenz system.
LORENZ_CLASSIC = (10.0, 28.0, 8.0 / 3.0)

#: Largest Lyapunov exponent of the Lorenz system at the classical parameters, 0.9056, from
#: J. C. Sprott, *Chaos and Time-Series Analysis*, Oxford University Press (2003), Table A.1
#: (also Sprott's online list of Lyapunov exponents of common chaotic flows).
LORENZ_LYAPUNOV_REFERENCE = 0.9056


def lorenz(t, y, theta):
    r"""Lorenz vector field, $\dot x = \sigma (y - x)$, $\dot y = x(\rho - z) - y$,
    $\dot z = x y - \beta z$, with `theta = (sigma, rho, beta)` (array or tuple).

    Checked at trace time: `y` of shape `(3,)`, `theta` of shape `(3,)` (integers promoted)."""
    y = float_array(y, "y", "lorenz", shape=(3,))
    theta = float_array(theta, "theta", "lorenz", shape=(3,))
    sigma, rho, beta = theta[0], theta[1], theta[2]
    x, yy, z = y[0], y[1], y[2]
    return jnp.stack([sigma * (yy - x), x * (rho - z) - yy, x * yy - beta * z])


def largest_lyapunov_exponent(
    f: Callable,
    y0,
    args=None,
    *,
    dt: float = 0.01,
    t_transient: float = 20.0,
    t_total: float = 500.0,
    renormalize_every: float = 1.0,
    solver=None,
    key=None,
    progress: ode.AbstractProgressMeter | None = None,
) -> Float[Array, ""]:
    r"""Largest Lyapunov exponent of $\dot y = f(t, y, \text{args})$ from the tangent dynamics.

    After a transient, a tangent vector $v$ is pushed through the flow map over intervals of
    length $\tau$ = `renormalize_every` by forward-mode differentiation of the solver,
    $v_{k+1} = D\Phi_\tau(y_k)\, v_k$ (`jax.jvp` through `odeint` with `DirectAdjoint`), and
    renormalized each time (Benettin et al., Meccanica 15, 9 (1980)):
    $\lambda_1 \approx \frac{1}{K\tau}\sum_{k} \log \lVert D\Phi_\tau(y_k) v_k \rVert$.
    The estimate is that of the discrete flow, whose exponent converges to the exact one as
    `dt` goes to 0. `f` must be autonomous.

    **Arguments:**

    - `f`, `y0`, `args`: the system (`y0` an array).
    - `dt`: step size; `solver`: default `ReversibleRK4(coupling=0.5)` (forward-stable on
      dissipative flows at `dt = 0.01`).
    - `t_transient`: time to reach the attractor before measuring.
    - `t_total`: measuring time (rounded down to whole `renormalize_every` intervals).
    - `key`: PRNG key for the initial tangent direction (default `PRNGKey(0)`).
    - `progress`: optional progress meter for the measuring run.

    Checked before anything runs: `f` callable and returning an array of the shape of `y0`,
    `y0` a real array (integers promoted; a runtime check that it is finite), `dt` and
    `renormalize_every` finite numbers $> 0$, `t_transient` $\ge 0$, `t_total` at least one
    `renormalize_every` interval and at least `t_transient` (it is the measuring time after the
    transient, not the total time: a shorter measurement than the transient is almost surely
    that mistake), `key` a PRNG key.

    **Returns:**

    The estimate of $\lambda_1$ (same units as 1/time).
    """
    who = "largest_lyapunov_exponent"
    callable_arg(f, "f", who)
    dt = real_number(dt, "dt", who, minimum=0.0)
    t_transient = real_number(t_transient, "t_transient", who, minimum=0.0, strict=False)
    renormalize_every = real_number(renormalize_every, "renormalize_every", who, minimum=0.0)
    t_total = real_number(t_total, "t_total", who, minimum=0.0)
    if t_total < renormalize_every:
        fail(
            who,
            "t_total",
            f"to be at least one renormalization interval renormalize_every = "
            f"{renormalize_every:g} (the estimate averages over whole intervals)",
            t_total,
        )
    if t_total < t_transient:
        fail(
            who,
            "t_total",
            f"to be >= t_transient = {t_transient:g}: `t_total` is the measuring "
            "time after the transient (not the total time, which is t_transient + t_total); "
            "lower `t_transient` for a short measurement",
            t_total,
        )
    solver = ode.ReversibleRK4(coupling=0.5) if solver is None else solver
    key = jax.random.PRNGKey(0) if key is None else prng_key(key, "key", who)
    adjoint = ode.DirectAdjoint()
    y0 = float_array(y0, "y0", who)
    try:
        out = jax.eval_shape(f, 0.0, y0, args)
    except Exception as err:
        raise ValueError(f"{who}: `f` fails on (t, y0, args): {type(err).__name__}: {err}") from err
    if not isinstance(out, jax.ShapeDtypeStruct) or out.shape != y0.shape:
        got = (
            f"shape {out.shape}"
            if isinstance(out, jax.ShapeDtypeStruct)
            else f"a {type(out).__name__}"
        )
        fail(who, "f", f"to return an array of the shape {y0.shape} of `y0`", got, described=True)
    y0 = finite(y0, "y0", who)

    def flow(y, span):
        ts = np.array([0.0, span])
        return ode.odeint(f, y, ts, args, solver=solver, adjoint=adjoint, dt0=dt)[-1]

    y = flow(y0, t_transient) if t_transient > 0 else y0
    v = jax.random.normal(key, y.shape, y.dtype)
    v = v / jnp.linalg.norm(v)
    count = int(t_total // renormalize_every)

    def segment(carry, k):
        y, v = carry
        y1, v1 = jax.jvp(lambda y: flow(y, renormalize_every), (y,), (v,))
        norm = jnp.linalg.norm(v1)
        if progress is not None:
            progress.tick("forward", k + 1, count)
        return (y1, v1 / norm), jnp.log(norm)

    _, logs = lax.scan(segment, (y, v), jnp.arange(count))
    return jnp.sum(logs) / (count * renormalize_every)


def lorenz_fit_problem(
    *, t_end: float = 1.0, num_obs: int = 41, dt: float = 0.01, noise=0.0, key=None
):
    r"""Observed Lorenz trajectory at the classical parameters from `y0 = (-8, 7, 27)` and the
    loss of a candidate `theta` (mean squared error over the observations, solved with the
    anchored reversible adjoint, anchors every 10 steps, on `ReversibleRK4(coupling=0.5)`).
    Returns `(ts, observed, loss)`.

    Checked: `t_end` and `dt` finite numbers $> 0$, `num_obs` an integer $\ge 2$, `noise` a
    finite number $\ge 0$, `key` a PRNG key or `None`."""
    who = "lorenz_fit_problem"
    t_end = real_number(t_end, "t_end", who, minimum=0.0)
    num_obs = static_int(num_obs, "num_obs", who, minimum=2)
    dt = real_number(dt, "dt", who, minimum=0.0)
    noise = real_number(noise, "noise", who, minimum=0.0, strict=False)
    key = None if key is None else prng_key(key, "key", who)
    ts = np.linspace(0.0, t_end, num_obs)
    y0 = jnp.array([-8.0, 7.0, 27.0])
    solver = ode.ReversibleRK4(coupling=0.5)

    def solve(theta, adjoint):
        return ode.odeint(lorenz, y0, ts, theta, solver=solver, adjoint=adjoint, dt0=dt)

    observed = solve(jnp.asarray(LORENZ_CLASSIC), ode.DirectAdjoint())
    if noise:
        key = jax.random.PRNGKey(1) if key is None else key
        observed = observed + noise * jax.random.normal(key, observed.shape)

    def loss(theta):
        return jnp.mean((solve(theta, ode.AnchoredReversibleAdjoint(every=10)) - observed) ** 2)

    return ts, observed, loss


# --------------------------------------------------------------------------------------------
# Hamiltonian inverse problem
# --------------------------------------------------------------------------------------------


def polynomial_potential(q, theta):
    r"""$V_\theta(q) = \sum_{k=1}^{K} \theta_k\, q^{2k} / (2k)!$, an even polynomial potential
    scaled like a Taylor series (the pendulum's $1 - \cos q$ is
    $\theta = (1, -1, 1, -1, \dots)$); the model of `hamiltonian_inverse_problem`.

    **Arguments:**

    - `q`: the position, a scalar.
    - `theta`: the coefficients $\theta_1, \dots, \theta_K$, shape `(K,)`.

    **Returns:** $V_\theta(q)$, a scalar.

    Checked at trace time: `q` a real scalar, `theta` a 1-D real array (integers promoted)."""
    q = float_array(q, "q", "polynomial_potential", ndim=0)
    theta = float_array(theta, "theta", "polynomial_potential", ndim=1)
    k = jnp.arange(1, theta.shape[0] + 1)
    factorials = jnp.exp(jax.scipy.special.gammaln(2 * k + 1.0))
    return jnp.sum(theta * q ** (2 * k) / factorials)


def pendulum_potential(q):
    r"""$V(q) = 1 - \cos q$ (pendulum, unit mass and frequency), elementwise.

    **Arguments:**

    - `q`: positions, any shape.

    **Returns:** $V(q)$, of the shape of `q`.

    Checked at trace time: `q` a real array (integers promoted)."""
    q = float_array(q, "q", "pendulum_potential")
    return 1.0 - jnp.cos(q)


def hamiltonian_field(potential: Callable) -> Callable:
    r"""The vector field `f(t, (q, p), theta) = (p, -V'(q))` of $H = p^2/2 + V_\theta(q)$ for a
    potential `potential(q, theta)` of a scalar `q` (vectorized over `q`'s entries)."""
    force = jax.vmap(jax.grad(potential), in_axes=(0, None))

    def f(t, y, theta):
        q, p = y
        return (p, -force(q, theta))

    return f


def hamiltonian_inverse_problem(
    *,
    num_particles: int = 8,
    t_end: float = 10.0,
    num_obs: int = 51,
    dt: float = 0.05,
    degree: int = 4,
):
    r"""Trajectories of `num_particles` independent pendula (amplitudes up to 2 rad) observed at
    `num_obs` times, and the loss of an even polynomial potential with `degree` coefficients that
    should reproduce them, integrated with `Leapfrog` and the O(1)-memory `ReversibleAdjoint`.
    Returns `(ts, observed, loss, theta0)` with `theta0` the harmonic guess (1, 0, ...).

    Checked: `num_particles`, `degree` integers $\ge 1$, `num_obs` an integer $\ge 2$, `t_end`
    and `dt` finite numbers $> 0$."""
    who = "hamiltonian_inverse_problem"
    num_particles = static_int(num_particles, "num_particles", who, minimum=1)
    t_end = real_number(t_end, "t_end", who, minimum=0.0)
    num_obs = static_int(num_obs, "num_obs", who, minimum=2)
    dt = real_number(dt, "dt", who, minimum=0.0)
    degree = static_int(degree, "degree", who, minimum=1)
    ts = np.linspace(0.0, t_end, num_obs)
    q0 = jnp.linspace(0.3, 2.0, num_particles)
    y0 = (q0, jnp.zeros_like(q0))
    true_f = hamiltonian_field(lambda q, _: pendulum_potential(q))
    observed = ode.odeint(
        true_f, y0, ts, None, solver=ode.Leapfrog(), adjoint=ode.DirectAdjoint(), dt0=dt
    )
    model_f = hamiltonian_field(polynomial_potential)

    def loss(theta):
        q, p = ode.odeint(
            model_f, y0, ts, theta, solver=ode.Leapfrog(), adjoint=ode.ReversibleAdjoint(), dt0=dt
        )
        return jnp.mean((q - observed[0]) ** 2) + jnp.mean((p - observed[1]) ** 2)

    theta0 = jnp.zeros(degree).at[0].set(1.0)
    return ts, observed, loss, theta0


# --------------------------------------------------------------------------------------------
# SIR
# --------------------------------------------------------------------------------------------


def sir(t, y, log_rates):
    r"""SIR model with fractions $S + I + R = 1$: $\dot S = -\beta S I$,
    $\dot I = \beta S I - \gamma I$, $\dot R = \gamma I$; `log_rates = (log beta, log gamma)`.

    Checked at trace time: `y` of shape `(3,)`, `log_rates` of shape `(2,)` (integers
    promoted)."""
    y = float_array(y, "y", "sir", shape=(3,))
    log_rates = float_array(log_rates, "log_rates", "sir", shape=(2,))
    beta, gamma = jnp.exp(log_rates[0]), jnp.exp(log_rates[1])
    s, i = y[0], y[1]
    infection = beta * s * i
    return jnp.stack([-infection, infection - gamma * i, gamma * i])


def sir_fit_problem(
    *,
    beta: float = 0.5,
    gamma: float = 0.1,
    days: float = 100.0,
    num_obs: int = 51,
    noise: float = 0.01,
    dt: float = 0.25,
    key=None,
):
    r"""Noisy infected fraction I(t) of an SIR epidemic (true `beta`, `gamma`, one infected in a
    thousand at day 0) and the loss of candidate `log_rates` (squared error on I(t)), integrated
    with `ReversibleHeun` and `ReversibleAdjoint`. Returns `(ts, noisy_infected, loss, truth)`.

    Checked: `beta`, `gamma`, `days` and `dt` finite numbers $> 0$, `num_obs` an integer
    $\ge 2$, `noise` a finite number $\ge 0$, `key` a PRNG key or `None`."""
    who = "sir_fit_problem"
    beta = real_number(beta, "beta", who, minimum=0.0)
    gamma = real_number(gamma, "gamma", who, minimum=0.0)
    days = real_number(days, "days", who, minimum=0.0)
    num_obs = static_int(num_obs, "num_obs", who, minimum=2)
    noise = real_number(noise, "noise", who, minimum=0.0, strict=False)
    dt = real_number(dt, "dt", who, minimum=0.0)
    key = jax.random.PRNGKey(0) if key is None else prng_key(key, "key", who)
    ts = np.linspace(0.0, days, num_obs)
    y0 = jnp.array([0.999, 0.001, 0.0])
    truth = jnp.log(jnp.array([beta, gamma]))

    def solve(log_rates, adjoint):
        return ode.odeint(
            sir, y0, ts, log_rates, solver=ode.ReversibleHeun(), adjoint=adjoint, dt0=dt
        )

    clean = solve(truth, ode.DirectAdjoint())[:, 1]
    noisy = clean + noise * jax.random.normal(key, clean.shape)

    def loss(log_rates):
        return jnp.mean((solve(log_rates, ode.ReversibleAdjoint())[:, 1] - noisy) ** 2)

    return ts, noisy, loss, truth


def solve_sir(log_rates, ts, *, dt: float = 0.25):
    r"""The SIR trajectory (S, I, R) at the times `ts` from one infected in a thousand,
    $(S, I, R)(0) = (0.999, 0.001, 0)$, of the field `sir` (`ReversibleHeun`, fixed steps).

    **Arguments:**

    - `log_rates`: $(\ln \beta, \ln \gamma)$, shape `(2,)`.
    - `ts`: the output times, increasing, shape `(n,)`.
    - `dt`: the integration step.

    **Returns:** the states at `ts`, shape `(n, 3)`.

    Checked: `log_rates` of shape `(2,)`, `ts` a 1-D real array, `dt` a finite number $> 0$."""
    who = "solve_sir"
    log_rates = float_array(log_rates, "log_rates", who, shape=(2,))
    float_array(ts, "ts", who, ndim=1)
    dt = real_number(dt, "dt", who, minimum=0.0)
    return ode.odeint(
        sir,
        jnp.array([0.999, 0.001, 0.0]),
        ts,
        log_rates,
        solver=ode.ReversibleHeun(),
        adjoint=ode.DirectAdjoint(),
        dt0=dt,
    )


def tree_size(tree) -> int:
    """Number of scalars in a pytree of arrays."""
    return sum(int(np.prod(jnp.shape(x))) for x in jtu.tree_leaves(tree))
