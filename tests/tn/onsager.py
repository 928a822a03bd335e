"""Exact thermodynamics of the 2D square-lattice Ising model (J = 1, k_B = 1, h = 0).

An independent reference for the tests, evaluated with scipy (quadrature and complete elliptic
integrals), never with the code under test.

- L. Onsager, Phys. Rev. 65, 117 (1944): the free energy.
- K. Huang, *Statistical Mechanics*, 2nd ed. (Wiley 1987), section 15.3, eqs. for ln Z/N, the
  internal energy and the specific heat in terms of K(k), E(k) with k = 2 sinh 2β / cosh² 2β.
- C. N. Yang, Phys. Rev. 85, 808 (1952): spontaneous magnetization.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, special

BETA_C = 0.5 * np.log(1.0 + np.sqrt(2.0))


def _modulus(beta):
    return 2.0 * np.sinh(2.0 * beta) / np.cosh(2.0 * beta) ** 2


def log_z(beta: float) -> float:
    """ln Z / N = ln(2 cosh 2β) + (1/2π) ∫_0^π ln[(1 + sqrt(1 - k² sin²θ)) / 2] dθ."""
    k2 = _modulus(beta) ** 2

    def integrand(theta):
        return np.log(0.5 * (1.0 + np.sqrt(max(0.0, 1.0 - k2 * np.sin(theta) ** 2))))

    # At T_c the integrand has a square-root cusp at θ = π/2: split there.
    parts = [
        integrate.quad(integrand, a, b, epsabs=1e-15, epsrel=1e-14, limit=400)[0]
        for a, b in ((0.0, 0.5 * np.pi), (0.5 * np.pi, np.pi))
    ]
    return float(np.log(2.0 * np.cosh(2.0 * beta)) + sum(parts) / (2.0 * np.pi))


def log_z_double_integral(beta: float) -> float:
    """Onsager's form, ln 2 + (1/8π²) ∬ ln[cosh² 2β - sinh 2β (cos θ₁ + cos θ₂)] dθ₁ dθ₂."""
    c, s = np.cosh(2.0 * beta), np.sinh(2.0 * beta)

    def integrand(t1, t2):
        return np.log(c * c - s * (np.cos(t1) + np.cos(t2)))

    value = integrate.dblquad(integrand, 0.0, 2.0 * np.pi, 0.0, 2.0 * np.pi, epsabs=1e-12)[0]
    return float(np.log(2.0) + value / (8.0 * np.pi**2))


def energy(beta: float) -> float:
    """u = -d(ln Z/N)/dβ = -coth 2β [1 + (2/π)(2 tanh² 2β - 1) K(k)]."""
    if np.isclose(beta, BETA_C, rtol=0.0, atol=1e-15):
        return -np.sqrt(2.0)  # (2 tanh² 2β_c - 1) = 0 while K diverges logarithmically
    t = np.tanh(2.0 * beta)
    kk = special.ellipk(_modulus(beta) ** 2)
    return float(-(1.0 / t) * (1.0 + (2.0 / np.pi) * (2.0 * t * t - 1.0) * kk))


def specific_heat(beta: float) -> float:
    """C = β² d²(ln Z/N)/dβ²
    = (4/π)(β coth 2β)² {K(k) - E(k) - (1 - tanh² 2β)[π/2 + (2 tanh² 2β - 1) K(k)]}.

    (tests/tn/test_onsager_reference.py checks it against -β² du/dβ by finite differences.)"""
    t = np.tanh(2.0 * beta)
    m = _modulus(beta) ** 2
    kk, ee = special.ellipk(m), special.ellipe(m)
    bracket = kk - ee - (1.0 - t * t) * (0.5 * np.pi + (2.0 * t * t - 1.0) * kk)
    return float((4.0 / np.pi) * (beta / t) ** 2 * bracket)


def spontaneous_magnetization(beta: float) -> float:
    """Yang's m = (1 - sinh(2β)^-4)^(1/8) below T_c (β > β_c), 0 above."""
    if beta <= BETA_C:
        return 0.0
    return float((1.0 - np.sinh(2.0 * beta) ** -4) ** 0.125)
