"""Tests run in float64, with the hypothesis profile of diffsci.testing."""

import os

import jax

jax.config.update("jax_enable_x64", True)

try:
    from diffsci.testing import register_hypothesis_profiles
except ImportError:  # pragma: no cover - while diffsci.testing is being built
    pass
else:
    register_hypothesis_profiles()
    from hypothesis import settings

    settings.load_profile("ci" if os.environ.get("CI") else "dev")
