"""``python -m diffsci ode {lorenz,hamiltonian,sir}``: fit an ODE model by differentiating through
its solver, with progress, and write a figure.

- ``lorenz``: fit (sigma, rho, beta) of the Lorenz system to an observed trajectory, then estimate
  its largest Lyapunov exponent from the tangent dynamics (reference 0.9056, Sprott 2003);
- ``hamiltonian``: learn a pendulum's potential V(q) from trajectories, with leapfrog and the
  O(1)-memory reversible adjoint;
- ``sir``: fit the infection and recovery rates of an SIR epidemic to a noisy curve.

The problems and the fitting loop are ``diffsci.physics.dynamics`` (shared with ``examples/``),
the figures ``diffsci.plot``.
"""

from __future__ import annotations

import time

from diffsci.cli._common import add_output_argument, enable_x64, fresh_log, output_dir

NAME = "ode"
HELP = "fit ODE models (Lorenz, Hamiltonian potential, SIR) through exact reversible adjoints"

_SYSTEMS = ("lorenz", "hamiltonian", "sir")


def add_arguments(parser):
    parser.add_argument("system", choices=_SYSTEMS, help="which problem to run")
    parser.add_argument(
        "--steps",
        "--iterations",
        dest="iterations",
        type=int,
        default=None,
        metavar="STEPS",
        help="Adam steps of the fit (default: 300; --quick: 3)",
    )
    parser.add_argument(
        "--lyapunov-time",
        type=float,
        default=500.0,
        help="lorenz: measuring time of the Lyapunov exponent (default 500)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny settings (a smoke test: a few steps, short runs)"
    )
    add_output_argument(parser, "runs/ode")


def _report(name):
    start = time.perf_counter()

    def report(i, loss):
        print(
            f"{name}: iteration {i:4d}  loss {loss:.3e}  ({time.perf_counter() - start:.1f} s)",
            flush=True,
        )

    return report


def _run_lorenz(args, path):
    import jax.numpy as jnp
    import numpy as np

    from diffsci import ode, plot
    from diffsci.physics import dynamics as dyn

    iterations = args.iterations or (3 if args.quick else 300)
    ts, observed, loss = dyn.lorenz_fit_problem(t_end=1.0)
    theta0 = jnp.array([8.0, 25.0, 2.0])
    fit = dyn.fit_parameters(
        loss,
        theta0,
        iterations=iterations,
        learning_rate=0.1,
        report=_report("lorenz fit"),
        report_every=25,
        log=fresh_log(path.with_suffix(".log.jsonl")),
    )
    theta = np.asarray(fit.params)
    print(f"fitted (sigma, rho, beta) = {theta.round(5).tolist()}; true (10, 28, 8/3)")
    t_lyap = 20.0 if args.quick else args.lyapunov_time
    print(f"largest Lyapunov exponent from tangent dynamics over t = {t_lyap:g}:", flush=True)
    lam = float(
        dyn.largest_lyapunov_exponent(
            dyn.lorenz,
            jnp.array([1.0, 1.0, 1.0]),
            jnp.asarray(dyn.LORENZ_CLASSIC),
            dt=0.01,
            t_total=t_lyap,
            progress=ode.TextProgressMeter(reports=5),
        )
    )
    ref = dyn.LORENZ_LYAPUNOV_REFERENCE
    print(f"lambda_1 = {lam:.4f} (reference {ref}, Sprott 2003; {100 * (lam / ref - 1):+.1f}%)")
    fitted = ode.odeint(
        dyn.lorenz,
        observed[0],
        np.linspace(0, 1, 201),
        fit.params,
        solver=ode.ReversibleRK4(coupling=0.5),
        adjoint=ode.DirectAdjoint(),
        dt0=0.01,
    )
    plot.lorenz_fit(observed, fitted, fit.losses, lyapunov=lam, path=path)


def _run_hamiltonian(args, path):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from diffsci import plot
    from diffsci.physics import dynamics as dyn

    iterations = args.iterations or (3 if args.quick else 300)
    ts, observed, loss, theta0 = dyn.hamiltonian_inverse_problem()
    fit = dyn.fit_parameters(
        loss,
        theta0,
        iterations=iterations,
        learning_rate=0.05,
        report=_report("potential fit"),
        report_every=25,
        log=fresh_log(path.with_suffix(".log.jsonl")),
    )
    print(
        f"learned Taylor coefficients {np.asarray(fit.params).round(4).tolist()} "
        "(pendulum: 1, -1, 1, -1)"
    )
    q = jnp.linspace(-2.0, 2.0, 201)
    learned = jax.vmap(dyn.polynomial_potential, in_axes=(0, None))(q, fit.params)
    guess = jax.vmap(dyn.polynomial_potential, in_axes=(0, None))(q, theta0)
    plot.hamiltonian_fit(q, dyn.pendulum_potential(q), guess, learned, fit.losses, path=path)


def _run_sir(args, path):
    import jax.numpy as jnp
    import numpy as np

    from diffsci import plot
    from diffsci.physics import dynamics as dyn

    iterations = args.iterations or (3 if args.quick else 300)
    ts, noisy, loss, truth = dyn.sir_fit_problem()
    start = jnp.log(jnp.array([0.3, 0.2]))
    fit = dyn.fit_parameters(
        loss,
        start,
        iterations=iterations,
        learning_rate=0.05,
        report=_report("SIR fit"),
        report_every=25,
        log=fresh_log(path.with_suffix(".log.jsonl")),
    )
    beta, gamma = np.exp(np.asarray(fit.params))
    print(f"fitted beta = {beta:.4f}, gamma = {gamma:.4f} (true 0.5, 0.1)")
    fine = np.linspace(ts[0], ts[-1], 401)
    curve = dyn.solve_sir(fit.params, fine)
    plot.sir_fit(ts, noisy, fine, curve, fit.losses, beta=beta, gamma=gamma, path=path)


def run(args):
    enable_x64()
    out = output_dir(args.out)
    runner = {"lorenz": _run_lorenz, "hamiltonian": _run_hamiltonian, "sir": _run_sir}
    path = out / f"ode_{args.system}.png"
    runner[args.system](args, path)
    print(f"wrote {path}")
    return 0
