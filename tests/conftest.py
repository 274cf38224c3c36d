"""Shared test setup: Hypothesis profiles and real-service fixtures.

Hypothesis profile comes from RUSTOK_SIM_HYPOTHESIS_PROFILE: `ci` (default; fast, derandomized,
no deadline because the machine is shared) or `thorough` (many more examples).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def pytest_configure(config: pytest.Config) -> None:
    profile = os.environ.get("RUSTOK_SIM_HYPOTHESIS_PROFILE", "ci")
    if profile not in ("ci", "thorough"):
        raise pytest.UsageError(f"RUSTOK_SIM_HYPOTHESIS_PROFILE={profile!r} is not a profile; use ci or thorough")
    settings.load_profile(profile)


@pytest.fixture
def database_url() -> str:
    """URL of a real PostgreSQL, or skip with the reason."""
    url = os.environ.get("RUSTOK_SIM_DATABASE_URL", "").strip()
    if not url:
        pytest.skip("RUSTOK_SIM_DATABASE_URL is not set (needs a PostgreSQL server)")
    return url


@pytest.fixture
def redis_url() -> str:
    """URL of a real Redis, or skip with the reason. Tests must use their own key prefix."""
    url = os.environ.get("RUSTOK_SIM_REDIS_URL", "").strip()
    if not url:
        pytest.skip("RUSTOK_SIM_REDIS_URL is not set (needs a Redis server)")
    return url
