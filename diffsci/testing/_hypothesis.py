"""Hypothesis profiles suited to JAX."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings


def register_hypothesis_profiles() -> None:
    """Register the hypothesis profiles `"dev"` and `"ci"` for tests of JAX code.

    Both have no deadline (the first example of a shape pays for compilation) and suppress the
    `too_slow` and `data_too_large` health checks. `"dev"` runs 20 examples per test with a
    random seed; `"ci"` runs 20 examples derandomized, so that CI is reproducible, and prints the
    blob that reproduces a failure. Load one with `hypothesis.settings.load_profile("ci")`;
    `tests/conftest.py` picks `"ci"` when the environment variable `CI` is set.

    **Returns:**

    `None`. Calling it again is harmless.
    """
    common: dict[str, Any] = dict(
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        max_examples=20,
    )
    # Explicit: under a CI environment variable hypothesis's own default profile is derandomized,
    # and a registered profile inherits from the default unless told otherwise.
    settings.register_profile("dev", derandomize=False, **common)
    settings.register_profile("ci", derandomize=True, print_blob=True, **common)
