"""Broken circuit breakers, each a plausible bug, as target factories (``factory(config, clock)``).
The circuit-breaker suite must kill every one of them in every variant it applies to.

They are the reference with one thing changed, by subclassing or by a config or clock the
factory bends, so each differs from the reference in exactly the way its name says.
"""

from __future__ import annotations

from collections.abc import Callable

from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitState, Permit

__all__ = ["MUTANTS"]

Clock = Callable[[], float]


def threshold_off_by_one(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """Trips one failure late (``>`` where the code says ``>=``)."""
    bent = config.model_copy(update={"failure_threshold": config.failure_threshold + 1})
    return CircuitBreaker(bent, clock=clock, name="mutant")


def close_one_success_early(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """Closes from half-open one success before the threshold."""
    bent = config.model_copy(update={"success_threshold": max(config.success_threshold - 1, 0)})
    return CircuitBreaker(bent, clock=clock, name="mutant")


def extra_half_open_admission(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """Admits one more half-open probe than the limit (unlimited stays unlimited)."""
    limit = config.half_open_max_requests
    bent = config.model_copy(update={"half_open_max_requests": None if limit is None else limit + 1})
    return CircuitBreaker(bent, clock=clock, name="mutant")


def probe_one_tick_early(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """Its clock runs a millisecond ahead: the probe is admitted just before the timeout."""
    return CircuitBreaker(config, clock=lambda: clock() + 0.001, name="mutant")


class _SuccessKeepsFailures(CircuitBreaker):
    __slots__ = ()

    def on_success(self, permit: Permit) -> None:
        kept = self._failure_count
        super().on_success(permit)
        if permit.started_in is CircuitState.CLOSED and self._state is CircuitState.CLOSED:
            self._failure_count = kept


def success_keeps_failures(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """A success while Closed does not reset the consecutive-failure count."""
    return _SuccessKeepsFailures(config, clock=clock, name="mutant")


class _ProbeFailureIgnored(CircuitBreaker):
    __slots__ = ()

    def on_failure(self, permit: Permit) -> None:
        if permit.started_in is CircuitState.HALF_OPEN:
            super().on_success(permit)
        else:
            super().on_failure(permit)


def probe_failure_counts_as_success(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """A failed half-open probe is recorded as a success instead of reopening the circuit."""
    return _ProbeFailureIgnored(config, clock=clock, name="mutant")


class _ResetKeepsTotals(CircuitBreaker):
    __slots__ = ()

    def reset(self) -> None:
        totals = (self._admitted, self._rejected, self._successes, self._failures)
        super().reset()
        self._admitted, self._rejected, self._successes, self._failures = totals


def reset_keeps_totals(config: CircuitBreakerConfig, clock: Clock) -> CircuitBreaker:
    """reset() forgets the counters but keeps the request totals."""
    return _ResetKeepsTotals(config, clock=clock, name="mutant")


MUTANTS: dict[str, Callable[[CircuitBreakerConfig, Clock], CircuitBreaker]] = {
    "threshold_off_by_one": threshold_off_by_one,
    "close_one_success_early": close_one_success_early,
    "extra_half_open_admission": extra_half_open_admission,
    "probe_one_tick_early": probe_one_tick_early,
    "success_keeps_failures": success_keeps_failures,
    "probe_failure_counts_as_success": probe_failure_counts_as_success,
    "reset_keeps_totals": reset_keeps_totals,
}
