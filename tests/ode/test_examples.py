"""The example problems: Lyapunov exponent of Lorenz against the literature value, and the
`python -m diffsci ode` command on tiny settings."""

import jax
import jax.numpy as jnp
import pytest

from diffsci.cli._main import main
from diffsci.physics import _dynamics as dyn


def test_lorenz_largest_lyapunov_exponent():
    # Reference 0.9056 at (10, 28, 8/3): J. C. Sprott, Chaos and Time-Series Analysis (2003).
    lam = jax.jit(
        lambda y0: dyn.largest_lyapunov_exponent(
            dyn.lorenz,
            y0,
            jnp.asarray(dyn.LORENZ_CLASSIC),
            dt=0.02,
            t_total=300.0,
            t_transient=10.0,
        )
    )(jnp.array([1.0, 1.0, 1.0]))
    assert float(lam) == pytest.approx(dyn.LORENZ_LYAPUNOV_REFERENCE, rel=0.05)


@pytest.mark.parametrize("system", ["lorenz", "hamiltonian", "sir"])
def test_cli_runs(system, tmp_path, capsys):
    assert main(["ode", system, "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"ode_{system}.png").stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out
