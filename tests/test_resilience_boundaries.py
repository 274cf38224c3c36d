"""Bad input at the resilience boundary fails at once, typed, saying what was expected; and the
non-raising admission checks decide, count and report exactly as the raising ones."""

from __future__ import annotations

import dataclasses

import pytest

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience import backpressure, circuit_breaker
from rustok_sim.model.resilience.backpressure import (
    BackpressureConfig,
    BackpressureController,
    BackpressureError,
)
from rustok_sim.model.resilience.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitOpenError,
    CircuitState,
    Permit,
)

VARIANTS = ("resilience", "standalone", "hardened")


# ----------------------------------------------------------------------------- construction

def test_a_dict_config_is_a_type_error_naming_the_config_class():
    with pytest.raises(TypeError, match=r"CircuitBreaker expects config= a CircuitBreakerConfig, got dict"):
        CircuitBreaker({"failure_threshold": 3}, clock=ManualClock())  # type: ignore[arg-type]


def test_a_number_for_the_backpressure_config_is_a_type_error_naming_the_config_class():
    with pytest.raises(TypeError, match=r"expects config= a BackpressureConfig, got int"):
        BackpressureController(100)  # type: ignore[arg-type]


def test_a_missing_clock_fails_at_construction_not_at_the_fifth_call():
    with pytest.raises(TypeError, match=r"CircuitBreaker 'cb' needs clock= .*got NoneType"):
        CircuitBreaker(CircuitBreakerConfig(), clock=None, name="cb")  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("method", ["on_success", "on_failure"])
def test_finishing_something_that_is_not_a_permit_is_a_type_error(variant, method):
    cb = CircuitBreaker(CircuitBreakerConfig(variant=variant), clock=ManualClock())
    with pytest.raises(TypeError, match=rf"CircuitBreaker.{method} expects the Permit .* got NoneType"):
        getattr(cb, method)(None)
    assert cb.stats().total_successes == cb.stats().total_failures == 0


def test_stats_and_metrics_are_frozen_values():
    cb = CircuitBreaker(clock=ManualClock())
    with pytest.raises(dataclasses.FrozenInstanceError):
        cb.stats().total_requests = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        BackpressureController().metrics().current_depth = 5  # type: ignore[misc]


def test_counters_are_read_only():
    cb = CircuitBreaker(clock=ManualClock())
    with pytest.raises(AttributeError):
        cb.failure_count = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        BackpressureController().current_depth = 3  # type: ignore[misc]


def test_profile_variants_name_each_modules_variants():
    assert circuit_breaker.PROFILE_VARIANTS == {"faithful": "resilience", "hardened": "hardened"}
    assert backpressure.PROFILE_VARIANTS == {"faithful": "faithful", "hardened": "hardened"}


# ----------------------------------------------------------------------------- admit()

def tripped(variant: str, observer=None, clock=None) -> tuple[CircuitBreaker, ManualClock]:
    clock = clock if clock is not None else ManualClock()
    cb = CircuitBreaker(CircuitBreakerConfig(variant=variant, failure_threshold=1, timeout=10),
                        clock=clock, observer=observer)
    cb.on_failure(cb.try_acquire())
    return cb, clock


@pytest.mark.parametrize("variant", VARIANTS)
def test_admit_rejects_like_try_acquire_and_says_when_to_retry(variant):
    clock = ManualClock()
    raising = TraceRecorder(clock)
    quiet = TraceRecorder(clock)
    a, _ = tripped(variant, raising, clock)
    b, _ = tripped(variant, quiet, clock)
    clock.advance(4)
    with pytest.raises(CircuitOpenError) as info:
        a.try_acquire()
    assert b.admit() is None
    assert b.retry_after() == info.value.retry_after == 6.0
    assert a.stats() == b.stats()
    assert [r.to_dict() for r in raising.records] == [r.to_dict() for r in quiet.records]


@pytest.mark.parametrize("variant", VARIANTS)
def test_admit_after_the_timeout_gives_the_probe_permit(variant):
    cb, clock = tripped(variant)
    clock.advance(10)
    assert cb.retry_after() == 0.0
    permit = cb.admit()
    assert isinstance(permit, Permit) and cb.state is CircuitState.HALF_OPEN
    cb.on_success(permit)


def test_retry_after_is_none_while_a_saturated_half_open_limit_rejects():
    clock = ManualClock()
    cb = CircuitBreaker(CircuitBreakerConfig(failure_threshold=1, success_threshold=5, timeout=1,
                                             half_open_max_requests=1), clock=clock)
    cb.on_failure(cb.try_acquire())
    clock.advance(1)
    cb.admit()  # the transition probe (uncounted in CB-B)
    cb.admit()  # the one counted place
    assert cb.admit() is None and cb.retry_after() is None


def test_a_transition_only_observer_sees_no_rejections_and_costs_the_fast_path_nothing():
    clock = ManualClock()
    recorder = TraceRecorder(clock, kinds={"transition"})
    cb, _ = tripped("resilience", recorder)
    with pytest.raises(CircuitOpenError):
        cb.call(lambda: None)
    assert cb.admit() is None
    assert [r.kind for r in recorder.records] == ["transition"]
    assert cb.stats().total_rejected == 2


@pytest.mark.parametrize("variant", ["faithful", "hardened"])
def test_backpressure_admit_rejects_like_try_acquire(variant):
    recorders = [TraceRecorder(ManualClock()), TraceRecorder(ManualClock())]
    a, b = (BackpressureController(BackpressureConfig(10, 0.5, 0.8, variant=variant), observer=r)
            for r in recorders)
    for _ in range(8):
        a.try_acquire()
        assert b.admit()
    with pytest.raises(BackpressureError):
        a.try_acquire()
    assert b.admit() is False
    assert a.metrics() == b.metrics()
    assert [r.to_dict() for r in recorders[0].records] == [r.to_dict() for r in recorders[1].records]
