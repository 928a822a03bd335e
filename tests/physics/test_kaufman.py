"""Kaufman's exact ln Z of the periodic L x M Ising model against exact enumeration, Onsager's
infinite lattice and the finite-size amplitude of conformal field theory."""

import math

import jax
import numpy as np
import pytest

import diffsci.physics as dp

CATALAN = 0.915965594177219015054603514932384110774


@pytest.mark.parametrize("rows,cols", [(2, 2), (2, 3), (3, 3), (3, 4), (4, 4), (4, 3)])
@pytest.mark.parametrize("beta", [0.2, dp.ISING_BETA_C, 0.7])
def test_kaufman_matches_enumeration(rows, cols, beta):
    couplings = dp.square_lattice_couplings(rows, cols)
    exact = float(dp.ising_exact(couplings, beta))
    np.testing.assert_allclose(float(dp.kaufman_log_z(beta, rows, cols)), exact, rtol=1e-13)


def test_kaufman_energy_matches_enumeration_and_finite_differences():
    rows, cols, beta = 3, 4, 0.35
    couplings = dp.square_lattice_couplings(rows, cols)
    slope = float(jax.grad(dp.kaufman_log_z)(beta, rows, cols))
    reference = float(jax.grad(lambda b: dp.ising_exact(couplings, b))(beta))
    np.testing.assert_allclose(slope, reference, rtol=1e-11)
    h = 1e-5
    fd = (
        float(dp.kaufman_log_z(beta + h, rows, cols))
        - float(dp.kaufman_log_z(beta - h, rows, cols))
    ) / (2 * h)
    np.testing.assert_allclose(slope, fd, rtol=1e-8)


def test_kaufman_approaches_onsager_off_critical():
    # short correlation lengths at beta = 0.3 and 0.6: finite-size corrections are e^{-L/xi},
    # except for the twofold degeneracy of the ordered phase, ln Z = N f + ln 2 below T_c
    side = 32
    for beta, extra in ((0.3, 0.0), (0.6, math.log(2))):
        log_z = float(dp.kaufman_log_z(beta, side, side))
        np.testing.assert_allclose(
            log_z - side**2 * float(dp.onsager_log_z(beta)), extra, atol=1e-7
        )


def _theta_over_eta_sum():
    """(theta2 + theta3 + theta4) / (2 eta) at tau = i (nome q = e^{-pi}): the partition
    function of the Ising conformal field theory on a square torus (Di Francesco, Saleur, Zuber,
    J. Stat. Phys. 49, 57 (1987)), i.e. the O(1) term of ln Z at T_c on an L x L torus found by
    Ferdinand and Fisher, Phys. Rev. 185, 832 (1969)."""
    q = math.exp(-math.pi)
    n = np.arange(0, 30)
    theta2 = 2 * np.sum(q ** ((n + 0.5) ** 2))
    theta3 = 1 + 2 * np.sum(q ** (n[1:] ** 2))
    theta4 = 1 + 2 * np.sum((-1.0) ** n[1:] * q ** (n[1:] ** 2))
    eta = q ** (1 / 12) * np.prod(1 - q ** (2 * n[1:]))
    return (theta2 + theta3 + theta4) / (2 * eta)


def test_kaufman_critical_finite_size_amplitude():
    # Onsager at beta_c in closed form: ln Z / N = ln(2)/2 + 2 G / pi (G: Catalan's constant)
    f_inf = 0.5 * math.log(2) + 2 * CATALAN / math.pi
    amplitude = math.log(_theta_over_eta_sum())  # 0.63993...
    for side, tol in ((16, 2e-3), (64, 2e-4)):
        log_z = float(dp.kaufman_log_z(dp.ISING_BETA_C, side, side))
        assert abs(log_z - side**2 * f_inf - amplitude) < tol, (side, log_z - side**2 * f_inf)


@pytest.mark.parametrize("rows,cols", [(2, 2), (2, 4), (4, 4), (4, 2)])
@pytest.mark.parametrize("beta", [-0.7, -dp.ISING_BETA_C, -0.2])
def test_kaufman_antiferromagnet_on_a_bipartite_torus(rows, cols, beta):
    # both sides even: Z(-beta) = Z(beta) by the gauge s -> -s on one sublattice; the formula
    # continues analytically to K < 0 and gives it (the reference is the enumeration at -beta)
    couplings = dp.square_lattice_couplings(rows, cols)
    exact = float(dp.ising_exact(couplings, beta))
    np.testing.assert_allclose(float(dp.kaufman_log_z(beta, rows, cols)), exact, rtol=1e-13)
    slope = float(jax.grad(dp.kaufman_log_z)(beta, rows, cols))
    reference = float(jax.grad(lambda b: dp.ising_exact(couplings, b))(beta))
    np.testing.assert_allclose(slope, reference, rtol=1e-11)


@pytest.mark.parametrize("rows,cols", [(2, 3), (3, 3), (4, 4)])
def test_kaufman_at_infinite_temperature(rows, cols):
    # ln Z(0) = N ln 2, d ln Z / d beta = -<E> = 0, d^2 ln Z / d beta^2 = <E^2> = sum_b J_b^2
    # (a side of 2 merges two bonds into one of strength 2)
    couplings = np.asarray(dp.square_lattice_couplings(rows, cols))
    n = rows * cols
    np.testing.assert_allclose(
        float(dp.kaufman_log_z(0.0, rows, cols)), n * math.log(2), rtol=1e-14
    )
    assert abs(float(jax.grad(dp.kaufman_log_z)(0.0, rows, cols))) < 1e-13
    curvature = float(jax.hessian(dp.kaufman_log_z)(0.0, rows, cols))
    np.testing.assert_allclose(curvature, 0.5 * np.sum(couplings**2), rtol=1e-12)


def test_kaufman_bad_input():
    with pytest.raises(ValueError, match="expected `rows` to be an integer >= 2"):
        dp.kaufman_log_z(0.3, 1, 4)
    with pytest.raises(ValueError, match="expected `beta` to be a scalar"):
        dp.kaufman_log_z(np.array([0.3, 0.4]), 4, 4)
