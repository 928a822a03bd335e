"""Degeneracy policies: what replaces 1/(x_j - x_i) near a degeneracy."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.linalg import (
    LorentzianBroadening,
    MaskDegeneracies,
    RaiseOnDegeneracy,
    default_rtol,
    degenerate_pairs,
    inverse_differences,
)

# what equinox.error_if raises, outside and inside jax.jit
RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


def _differences(values):
    values = jnp.asarray(values)
    return values[None, :] - values[:, None]


def test_mask_zeroes_degenerate_pairs_and_diagonal():
    w = np.array([1.0, 1.0 + 1e-15, 2.0, 4.0])
    f = np.asarray(inverse_differences(_differences(w), 4.0))
    d = w[None, :] - w[:, None]
    expected = np.where(np.abs(d) > 1e-12, 1 / np.where(d == 0, 1, d), 0.0)
    np.testing.assert_allclose(f, expected)
    mask = np.asarray(degenerate_pairs(_differences(w), 4.0))
    assert mask[0, 1] and mask[1, 0] and mask.sum() == 2


def test_mask_tolerance_scales_with_norm_and_dtype():
    assert default_rtol(16, jnp.float32) == pytest.approx(400 * np.finfo(np.float32).eps)
    assert default_rtol(16, jnp.complex128) == pytest.approx(400 * np.finfo(np.float64).eps)
    w = np.array([0.0, 1e-11])
    # gap 1e-11: degenerate relative to a scale of 1e3, not relative to a scale of 1
    assert np.asarray(degenerate_pairs(_differences(w), 1e3))[0, 1]
    assert not np.asarray(degenerate_pairs(_differences(w), 1.0))[0, 1]
    f = inverse_differences(_differences(w), 1.0, MaskDegeneracies(atol=1e-10))
    assert float(f[0, 1]) == 0.0


def test_lorentzian_formula():
    w = np.array([0.0, 0.0, 0.3])
    eps = 0.1
    f = np.asarray(inverse_differences(_differences(w), 1.0, LorentzianBroadening(eps)))
    d = w[None, :] - w[:, None]
    np.testing.assert_allclose(f, d / (d**2 + eps**2))
    with pytest.raises(ValueError, match="positive width"):
        LorentzianBroadening(0.0)


def test_raise_policy():
    gapped = _differences(np.array([0.0, 1.0, 3.0]))
    np.testing.assert_allclose(
        inverse_differences(gapped, 3.0, RaiseOnDegeneracy()),
        inverse_differences(gapped, 3.0),
    )
    degenerate = _differences(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(RUNTIME_ERRORS, match="degenerate values"):
        jax.jit(lambda d: inverse_differences(d, 1.0, RaiseOnDegeneracy()))(degenerate)


def test_batched_scale_and_squared_singular_values():
    s = jnp.array([[3.0, 2.0, 2.0], [1.0, 0.5, 0.25]])
    d = s[..., None, :] ** 2 - s[..., :, None] ** 2
    f = jax.vmap(inverse_differences)(d, jnp.max(s, axis=-1) ** 2)
    assert float(f[0, 1, 2]) == 0.0 and float(f[1, 1, 2]) == pytest.approx(1 / (0.0625 - 0.25))
    np.testing.assert_allclose(inverse_differences(d, jnp.max(s, axis=-1) ** 2), f)


def test_bad_inputs():
    with pytest.raises(TypeError, match="AbstractDegeneracyPolicy"):
        inverse_differences(jnp.zeros((2, 2)), 1.0, "mask")
    with pytest.raises(TypeError, match="real differences"):
        inverse_differences(jnp.zeros((2, 2), jnp.complex128), 1.0)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., n, n\)"):
        inverse_differences(jnp.zeros((2, 3)), 1.0)
    f = inverse_differences(jnp.ones((2, 3)), 1.0, zero_diagonal=False)
    np.testing.assert_allclose(f, np.ones((2, 3)))
