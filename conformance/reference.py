"""The reference implementations as target factories (``factory(config, clock)``): what a suite
compares every target against, and a target in its own right (the gate's self-check)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig

__all__ = ["circuit_breaker"]


def circuit_breaker(config: CircuitBreakerConfig, clock: Callable[[], float], observer: Any = None) -> CircuitBreaker:
    return CircuitBreaker(config, clock=clock, observer=observer, name="reference")
