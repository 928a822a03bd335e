"""The dense Hamiltonian-engineering solver and its command line, on tiny cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.cli import main
from diffsci.physics import (
    DensityTarget,
    SpectrumTarget,
    ThermalDensityTarget,
    engineer_lattice,
    square_lattice,
)


def test_square_lattice_levels():
    lattice = square_lattice(6)
    assert lattice.num_sites == 36 and lattice.num_bonds == 72
    w = np.linalg.eigvalsh(np.asarray(lattice.hamiltonian()))
    k = 2 * np.pi * np.arange(6) / 6
    exact = np.sort((-2 * (np.cos(k)[:, None] + np.cos(k)[None, :])).ravel())
    np.testing.assert_allclose(w, exact, atol=1e-12)
    assert square_lattice(3, 2, periodic=False).num_bonds == 7


def test_targets_observe_gauge_invariant_quantities():
    lattice = square_lattice(4)
    h = lattice.hamiltonian(0.0)
    w, v = np.linalg.eigh(np.asarray(h))
    density = DensityTarget(density=jnp.zeros(16), particles=5).observe(h)
    np.testing.assert_allclose(density, np.sum(v[:, :5] ** 2, axis=1), atol=1e-12)
    levels = SpectrumTarget(levels=jnp.zeros(3)).observe(h)
    np.testing.assert_allclose(levels, w[:3], atol=1e-12)
    thermal = ThermalDensityTarget(density=jnp.zeros(16), beta=1.0).observe(h)
    np.testing.assert_allclose(thermal, np.full(16, 1 / 16), atol=1e-12)


def test_spectrum_fit_reaches_a_degenerate_optimum():
    lattice = square_lattice(3)
    levels = np.linalg.eigvalsh(np.asarray(lattice.hamiltonian(0.0, 0.8)))[:3]  # -3.2, -0.8 (x2)
    start = 0.2 * np.random.default_rng(0).normal(size=9)
    result = engineer_lattice(
        lattice,
        SpectrumTarget(levels=levels),
        fit="both",
        onsite=start,
        steps=150,
        learning_rate=0.05,
    )
    assert float(result.losses[-1]) < 1e-6 < float(result.losses[0])
    np.testing.assert_allclose(result.achieved, levels, atol=1e-3)


def test_density_gradient_at_the_degenerate_start_is_finite():
    lattice = square_lattice(4)
    target = DensityTarget(density=jnp.full(16, 5 / 16), particles=5)
    grad = jax.grad(lambda eps: target.loss(lattice.hamiltonian(eps)))(jnp.zeros(16))
    assert np.all(np.isfinite(grad))


def test_bad_arguments():
    with pytest.raises(ValueError, match="fit must be"):
        engineer_lattice(square_lattice(2), SpectrumTarget(levels=jnp.zeros(1)), fit="all")
    with pytest.raises(ValueError, match="sides >= 2"):
        square_lattice(1)


@pytest.mark.parametrize("target", ["density", "thermal"])
def test_cli_runs_on_a_tiny_case(target, tmp_path, capsys):
    status = main(
        [
            "engineer",
            "lattice",
            "--target",
            target,
            "--size",
            "3",
            "--particles",
            "1",
            "--steps",
            "20",
            "--print-every",
            "10",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "achieved loss" in printed and "step    0" in printed
    assert (tmp_path / f"engineer_lattice_{target}.png").stat().st_size > 0


def test_cli_refuses_a_half_filled_level(tmp_path):
    with pytest.raises(SystemExit, match=r"choose --particles from \[1, 5, 11, 15\]"):
        main(["engineer", "lattice", "--particles", "3", "--out", str(tmp_path)])
