"""The reference of tests/tn/onsager.py is self-consistent (scipy only, no code under test)."""

import numpy as np
import pytest

from . import onsager


@pytest.mark.parametrize("beta", [0.2, 0.35, 0.5, 0.8])
def test_energy_and_specific_heat_are_derivatives(beta):
    d = 1e-5
    du = (onsager.log_z(beta + d) - onsager.log_z(beta - d)) / (2 * d)
    np.testing.assert_allclose(onsager.energy(beta), -du, rtol=1e-7)
    dc = -(beta**2) * (onsager.energy(beta + d) - onsager.energy(beta - d)) / (2 * d)
    np.testing.assert_allclose(onsager.specific_heat(beta), dc, rtol=1e-6)


def test_one_dimensional_form_equals_double_integral():
    np.testing.assert_allclose(onsager.log_z(0.3), onsager.log_z_double_integral(0.3), rtol=1e-10)


def test_critical_values():
    # Kramers-Wannier: sinh(2 beta_c) = 1; u(T_c) = -sqrt(2); ln Z/N at T_c = ln(2)/2 + 2G/pi
    # with G Catalan's constant (the closed form of Onsager's integral at the critical point).
    np.testing.assert_allclose(np.sinh(2 * onsager.BETA_C), 1.0, rtol=1e-14)
    np.testing.assert_allclose(onsager.energy(onsager.BETA_C), -np.sqrt(2.0), rtol=1e-14)
    np.testing.assert_allclose(onsager.energy(onsager.BETA_C + 1e-9), -np.sqrt(2.0), rtol=1e-6)
    catalan = 0.915965594177219015054603514932384110774
    np.testing.assert_allclose(
        onsager.log_z(onsager.BETA_C), 0.5 * np.log(2.0) + 2 * catalan / np.pi, rtol=1e-13
    )
