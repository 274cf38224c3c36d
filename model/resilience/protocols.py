"""What a conformance target must provide to stand in for a resilience component.

One `typing.Protocol` per component, with exactly the public surface the scenarios and the
conformance suites drive: admission (raising and non-raising), outcomes, readers and the manual
controls. The reference classes (`CircuitBreaker`, `BackpressureController`) satisfy them;
tests/test_resilience_protocols.py compares names and signatures member by member, so a change
to either side is a decision, not an accident. Construction (config, clock, observer) is not
part of a protocol: a target's factory adapts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from rustok_sim.model.resilience.backpressure import BackpressureMetrics, BackpressureState
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerStats, CircuitState, Permit

T = TypeVar("T")


class CircuitBreakerProtocol(Protocol):
    """A circuit breaker (spec §1) driven by the split protocol or by `call`.

    `admit()` returns a permit or None (rejected, counted, `retry_after()` says when to come
    back); `try_acquire()` raises `CircuitOpenError` instead. Every permit is finished by exactly
    one `on_success` / `on_failure`. `open()` / `close()` are CB-B's manual controls (CB-A has
    none: the standalone reference raises AttributeError)."""

    @property
    def state(self) -> CircuitState: ...

    @property
    def variant(self) -> str: ...

    @property
    def failure_count(self) -> int: ...

    @property
    def success_count(self) -> int: ...

    def admit(self) -> Permit | None: ...

    def try_acquire(self) -> Permit: ...

    def on_success(self, permit: Permit) -> None: ...

    def on_failure(self, permit: Permit) -> None: ...

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def retry_after(self) -> float | None: ...

    def stats(self) -> CircuitBreakerStats: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def reset(self) -> None: ...


class BackpressureProtocol(Protocol):
    """A backpressure controller (spec §2): a depth with warning and critical thresholds.

    `admit()` takes a slot (True) or rejects (False, counted); `try_acquire()` raises
    `BackpressureError` instead; `release()` gives a slot back."""

    @property
    def state(self) -> BackpressureState: ...

    @property
    def variant(self) -> str: ...

    @property
    def current_depth(self) -> int: ...

    @property
    def max_depth(self) -> int: ...

    @property
    def warning_depth(self) -> int: ...

    @property
    def critical_depth(self) -> int: ...

    def admit(self) -> bool: ...

    def try_acquire(self) -> None: ...

    def release(self) -> None: ...

    def metrics(self) -> BackpressureMetrics: ...
