"""Live tests: each run starts its own redis-server (marker ``redis_server``) and, for the relay
tests, uses the PostgreSQL at RUSTOK_SIM_DATABASE_URL (marker ``postgres``).

The machine is shared and loaded: tests judge counts, orderings and ratios, never tight
wall-clock bounds; waits poll a condition with a generous timeout.
"""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="module")
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on PATH (live Redis tests start their own server)")
    return binary
