"""Fit the infection rate beta and recovery rate gamma of an SIR epidemic to a noisy curve of
the infected fraction I(t) (true beta = 0.5, gamma = 0.1 per day, noise 0.01), differentiating
through reversible Heun with the exact O(1)-memory `ReversibleAdjoint`.

Run: `python examples/sir.py`, or `python -m diffsci ode sir --out DIR` for a figure.
"""

import jax
import jax.numpy as jnp

from diffsci.physics import dynamics as dyn

jax.config.update("jax_enable_x64", True)


def main():
    ts, noisy, loss, truth = dyn.sir_fit_problem()
    fit = dyn.fit_parameters(
        loss,
        jnp.log(jnp.array([0.3, 0.2])),
        iterations=300,
        learning_rate=0.05,
        report=lambda i, value: print(f"iteration {i:3d}: loss {value:.3e}"),
        report_every=50,
    )
    beta, gamma = jnp.exp(fit.params)
    print(f"beta = {float(beta):.4f} (true 0.5), gamma = {float(gamma):.4f} (true 0.1)")


if __name__ == "__main__":
    main()
