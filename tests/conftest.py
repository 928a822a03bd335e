"""Tests run in float64, with the hypothesis profile of diffsci.testing."""

import gc
import os

import jax
import pytest

jax.config.update("jax_enable_x64", True)

try:
    from diffsci.testing import register_hypothesis_profiles
except ImportError:  # pragma: no cover - while diffsci.testing is being built
    pass
else:
    register_hypothesis_profiles()
    from hypothesis import settings

    settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True, scope="module")
def _free_compiled_code():
    """Drop JAX's compiled code after each test module: a worker runs hundreds of modules'
    programs, and keeping them all grew a worker past 5 GB (two workers on a 24 GB machine)."""
    yield
    jax.clear_caches()
    gc.collect()
