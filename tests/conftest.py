"""Tests run in float64, with the hypothesis profile of diffsci.testing, and share compiled code.

XLA programs go to a compilation cache on disk for the length of the run: a rule and its
reference, two tests or two xdist workers often compile the same program, and the second compile
is a read. The folder is made afresh for each run and removed after it (so a run never sees
programs of an earlier one); `DIFFSCI_TEST_COMPILATION_CACHE=<folder>` names one to keep instead,
`DIFFSCI_TEST_COMPILATION_CACHE=off` compiles everything anew.
"""

import gc
import os
import shutil
import tempfile

# The suite is dominated by compiling small XLA programs, not by running them: LLVM at its
# lowest optimization level compiles them in about three quarters of the time (the conformance
# table: 34 s instead of 44 s for its eigsh, funm and sqrtmh rows). XLA's own graph passes, which
# decide the arithmetic, are untouched. Read when JAX starts its CPU backend, so set before any
# test runs; `DIFFSCI_TEST_XLA_OPTIMIZE=1` keeps XLA's defaults.
_FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
if os.environ.get("DIFFSCI_TEST_XLA_OPTIMIZE") != "1":
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_FAST_COMPILE}".strip()

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
# implicit rank promotion is more often a bug than intended; diffsci and tests broadcast explicitly
jax.config.update("jax_numpy_rank_promotion", "raise")

_CACHE = "DIFFSCI_TEST_COMPILATION_CACHE"


def pytest_configure(config):
    # The controller (or a run without xdist) makes the folder; xdist workers inherit the
    # variable from it, so all processes of a run share one cache.
    if _CACHE not in os.environ and not hasattr(config, "workerinput"):
        os.environ[_CACHE] = tempfile.mkdtemp(prefix="diffsci-test-compiled-")
        config._diffsci_cache_made = os.environ[_CACHE]
    if os.environ[_CACHE] == "off":
        return
    jax.config.update("jax_compilation_cache_dir", os.environ[_CACHE])
    # programs that compile in under a tenth of a second (single eager operations) are not
    # worth a file each
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


def pytest_unconfigure(config):
    made = getattr(config, "_diffsci_cache_made", None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop(_CACHE, None)


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
