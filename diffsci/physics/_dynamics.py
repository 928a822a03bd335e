"""Dynamical systems on `diffsci.ode`: the Lorenz system and its largest Lyapunov exponent, a
Hamiltonian inverse problem, the SIR epidemic model, and a small gradient-descent fitting loop
shared by the examples and `python -m diffsci ode`."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jax import lax
from jaxtyping import Array, Float

from diffsci import ode

# --------------------------------------------------------------------------------------------
# fitting loop
# --------------------------------------------------------------------------------------------


class FitResult(eqx.Module):
    """Result of `fit_parameters`: the final parameters and the loss at every iteration."""

    params: object
    losses: Float[Array, " iterations"]


def fit_parameters(
    loss: Callable,
    params,
    *,
    iterations: int = 200,
    learning_rate: float = 1e-2,
    report: Callable[[int, float], None] | None = None,
    report_every: int = 10,
) -> FitResult:
    """Minimize `loss(params)` with Adam (optax), the gradient from `jax.grad` (so from the
    adjoint strategy inside `loss`).

    **Arguments:**

    - `loss`: scalar function of the parameters (a pytree of arrays).
    - `params`: initial parameters.
    - `iterations`: number of Adam steps.
    - `learning_rate`: Adam's step size.
    - `report`: optional `report(iteration, loss)` called on the host every `report_every`
      iterations and at the last one (progress for long fits).
    - `report_every`: see `report`.

    **Returns:**

    A `FitResult(params, losses)`.
    """
    optimizer = optax.adam(learning_rate)

    @jax.jit
    def update(params, opt_state):
        value, grad = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grad, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    opt_state = optimizer.init(params)
    losses = []
    for i in range(iterations):
        params, opt_state, value = update(params, opt_state)
        losses.append(float(value))
        if report is not None and (i % report_every == 0 or i == iterations - 1):
            report(i, losses[-1])
    return FitResult(params=params, losses=jnp.asarray(losses))


# --------------------------------------------------------------------------------------------
# Lorenz
# --------------------------------------------------------------------------------------------

#: The classical parameters (sigma, rho, beta) = (10, 28, 8/3).
LORENZ_CLASSIC = (10.0, 28.0, 8.0 / 3.0)

#: Largest Lyapunov exponent of the Lorenz system at the classical parameters, 0.9056, from
#: J. C. Sprott, *Chaos and Time-Series Analysis*, Oxford University Press (2003), Table A.1
#: (also Sprott's online list of Lyapunov exponents of common chaotic flows).
LORENZ_LYAPUNOV_REFERENCE = 0.9056


def lorenz(t, y, theta):
    r"""Lorenz vector field, $\dot x = \sigma (y - x)$, $\dot y = x(\rho - z) - y$,
    $\dot z = x y - \beta z$, with `theta = (sigma, rho, beta)` (array or tuple)."""
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

    **Returns:**

    The estimate of $\lambda_1$ (same units as 1/time).
    """
    solver = ode.ReversibleRK4(coupling=0.5) if solver is None else solver
    key = jax.random.PRNGKey(0) if key is None else key
    adjoint = ode.DirectAdjoint()
    y0 = jnp.asarray(y0)

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


def lorenz_fit_problem(*, t_end: float = 1.0, num_obs: int = 41, dt: float = 0.01, noise=0.0,
                       key=None):
    """Observed Lorenz trajectory at the classical parameters from `y0 = (-8, 7, 27)` and the
    loss of a candidate `theta` (mean squared error over the observations, solved with the
    anchored reversible adjoint, anchors every 10 steps, on `ReversibleRK4(coupling=0.5)`).
    Returns `(ts, observed, loss)`."""
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
    $\theta = (1, -1, 1, -1, \dots)$)."""
    k = jnp.arange(1, theta.shape[0] + 1)
    factorials = jnp.exp(jax.scipy.special.gammaln(2 * k + 1.0))
    return jnp.sum(theta * q ** (2 * k) / factorials)


def pendulum_potential(q):
    r"""$V(q) = 1 - \cos q$ (pendulum, unit mass and frequency)."""
    return 1.0 - jnp.cos(q)


def hamiltonian_field(potential: Callable) -> Callable:
    r"""The vector field `f(t, (q, p), theta) = (p, -V'(q))` of $H = p^2/2 + V_\theta(q)$ for a
    potential `potential(q, theta)` of a scalar `q` (vectorized over `q`'s entries)."""
    force = jax.vmap(jax.grad(potential), in_axes=(0, None))

    def f(t, y, theta):
        q, p = y
        return (p, -force(q, theta))

    return f


def hamiltonian_inverse_problem(*, num_particles: int = 8, t_end: float = 10.0,
                                num_obs: int = 51, dt: float = 0.05, degree: int = 4):
    """Trajectories of `num_particles` independent pendula (amplitudes up to 2 rad) observed at
    `num_obs` times, and the loss of an even polynomial potential with `degree` coefficients that
    should reproduce them, integrated with `Leapfrog` and the O(1)-memory `ReversibleAdjoint`.
    Returns `(ts, observed, loss, theta0)` with `theta0` the harmonic guess (1, 0, ...)."""
    ts = np.linspace(0.0, t_end, num_obs)
    q0 = jnp.linspace(0.3, 2.0, num_particles)
    y0 = (q0, jnp.zeros_like(q0))
    true_f = hamiltonian_field(lambda q, _: pendulum_potential(q))
    observed = ode.odeint(true_f, y0, ts, None, solver=ode.Leapfrog(),
                          adjoint=ode.DirectAdjoint(), dt0=dt)
    model_f = hamiltonian_field(polynomial_potential)

    def loss(theta):
        q, p = ode.odeint(model_f, y0, ts, theta, solver=ode.Leapfrog(),
                          adjoint=ode.ReversibleAdjoint(), dt0=dt)
        return jnp.mean((q - observed[0]) ** 2) + jnp.mean((p - observed[1]) ** 2)

    theta0 = jnp.zeros(degree).at[0].set(1.0)
    return ts, observed, loss, theta0


# --------------------------------------------------------------------------------------------
# SIR
# --------------------------------------------------------------------------------------------


def sir(t, y, log_rates):
    r"""SIR model with fractions $S + I + R = 1$: $\dot S = -\beta S I$,
    $\dot I = \beta S I - \gamma I$, $\dot R = \gamma I$; `log_rates = (log beta, log gamma)`."""
    beta, gamma = jnp.exp(log_rates[0]), jnp.exp(log_rates[1])
    s, i = y[0], y[1]
    infection = beta * s * i
    return jnp.stack([-infection, infection - gamma * i, gamma * i])


def sir_fit_problem(*, beta: float = 0.5, gamma: float = 0.1, days: float = 100.0,
                    num_obs: int = 51, noise: float = 0.01, dt: float = 0.25, key=None):
    """Noisy infected fraction I(t) of an SIR epidemic (true `beta`, `gamma`, one infected in a
    thousand at day 0) and the loss of candidate `log_rates` (squared error on I(t)), integrated
    with `ReversibleHeun` and `ReversibleAdjoint`. Returns `(ts, noisy_infected, loss, truth)`."""
    key = jax.random.PRNGKey(0) if key is None else key
    ts = np.linspace(0.0, days, num_obs)
    y0 = jnp.array([0.999, 0.001, 0.0])
    truth = jnp.log(jnp.array([beta, gamma]))

    def solve(log_rates, adjoint):
        return ode.odeint(sir, y0, ts, log_rates, solver=ode.ReversibleHeun(), adjoint=adjoint,
                          dt0=dt)

    clean = solve(truth, ode.DirectAdjoint())[:, 1]
    noisy = clean + noise * jax.random.normal(key, clean.shape)

    def loss(log_rates):
        return jnp.mean((solve(log_rates, ode.ReversibleAdjoint())[:, 1] - noisy) ** 2)

    return ts, noisy, loss, truth


def solve_sir(log_rates, ts, *, dt: float = 0.25):
    """SIR trajectory (S, I, R) at `ts` from one infected in a thousand."""
    return ode.odeint(sir, jnp.array([0.999, 0.001, 0.0]), ts, log_rates,
                      solver=ode.ReversibleHeun(), adjoint=ode.DirectAdjoint(), dt0=dt)


def tree_size(tree) -> int:
    """Number of scalars in a pytree of arrays."""
    return sum(int(np.prod(jnp.shape(x))) for x in jtu.tree_leaves(tree))
