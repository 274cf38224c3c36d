"""Spec-derived fidelity checks for the circuit breakers (spec §1.2 CB-A, §1.3 CB-B, §8, §9) and
the backpressure controller (§2, §8, §9), one behaviour per test, on a manual clock.

Each test drives the model the way the Rust code would be driven and asserts every observable the
spec names for that step: state, counters, totals, the open time, error texts, traced edges.
"""

from __future__ import annotations

import pytest

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.backpressure import (
    USIZE_MAX,
    BackpressureConfig,
    BackpressureController,
    BackpressureError,
    BackpressureMetrics,
    BackpressureState,
)
from rustok_sim.model.resilience.circuit_breaker import (
    U32_MAX,
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitOpenError,
    CircuitState,
)

CLOSED, OPEN, HALF = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN
VARIANTS = ("resilience", "standalone", "hardened")


class Boom(Exception):
    pass


def ok(value: int = 1) -> int:
    return value


def boom() -> None:
    raise Boom("upstream down")


def breaker(variant: str = "resilience", *, start: float = 0.0, observed: bool = True, **cfg):
    clock = ManualClock(start)
    recorder = TraceRecorder(clock)
    cb = CircuitBreaker(CircuitBreakerConfig(variant=variant, **cfg), clock=clock,
                        observer=recorder if observed else None)
    return cb, clock, recorder


def fail(cb: CircuitBreaker, n: int = 1) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            cb.call(boom)


def counters(cb: CircuitBreaker) -> tuple[CircuitState, int, int, int]:
    return cb.state, cb.failure_count, cb.success_count, cb.stats().half_open_requests


def edges(recorder: TraceRecorder) -> list[tuple[str, str, str]]:
    return [(t.from_state, t.to_state, t.trigger) for t in recorder.transitions()]


# =================================================================== both breakers: timing


@pytest.mark.parametrize("variant", VARIANTS)
def test_timeout_is_inclusive_for_a_trip_at_a_non_zero_time(variant):
    # Tripped at t=0.5 with timeout 0.1: at t=0.6 exactly `timeout` has elapsed (elapsed >= timeout),
    # although 0.6 - 0.5 rounds to 0.09999999999999998 in floating point.
    cb, clock, _ = breaker(variant, failure_threshold=1, timeout=0.1, start=0.5)
    fail(cb)
    clock.advance(0.1)
    cb.try_acquire()
    assert cb.state is HALF


@pytest.mark.parametrize("variant", VARIANTS)
def test_call_admits_at_the_deadline_like_try_acquire(variant):
    # Without an observer call() takes its inlined Open fast path; it must agree with try_acquire.
    cb, clock, _ = breaker(variant, failure_threshold=1, timeout=0.1, start=0.5, observed=False)
    fail(cb)
    clock.advance(0.1)
    assert cb.call(ok, 7) == 7
    assert cb.state is HALF


@pytest.mark.parametrize("variant", VARIANTS)
def test_call_and_try_acquire_agree_where_float_rounding_differs(variant):
    # Times where `now - trip < timeout` but `trip + timeout <= now` in floating point: the inlined
    # fast path of call() and try_acquire() must make the same decision.
    trip, timeout, now = 1241.9307613749615, 10807.228665886083, 12049.159427261044
    decisions = []
    for use_call in (True, False):
        cb, clock, _ = breaker(variant, failure_threshold=1, timeout=timeout, start=trip, observed=False)
        fail(cb)
        clock.set(now)
        try:
            cb.call(ok) if use_call else cb.try_acquire()
            decisions.append(cb.state)
        except CircuitOpenError:
            decisions.append("rejected")
    assert decisions[0] == decisions[1]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("observed", [False, True])
def test_rejection_just_before_the_deadline_reports_the_remaining_time(variant, observed):
    cb, clock, _ = breaker(variant, failure_threshold=1, timeout=10, observed=observed)
    fail(cb)
    clock.advance(9.75)
    with pytest.raises(CircuitOpenError) as info:
        cb.call(ok)
    assert info.value.state is OPEN
    assert info.value.retry_after == 0.25
    assert cb.stats().total_rejected == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_open_to_half_open_waits_for_a_call(variant):
    cb, clock, recorder = breaker(variant, failure_threshold=1, timeout=5)
    fail(cb)
    clock.advance(1000)
    assert cb.state is OPEN  # no timer
    assert ("open", "half_open", "timeout_elapsed") not in edges(recorder)
    cb.call(ok)
    assert edges(recorder)[-1][:3] in {("open", "half_open", "timeout_elapsed"),
                                       ("half_open", "closed", "success_threshold")}


@pytest.mark.parametrize("variant", VARIANTS)
def test_rejected_call_never_runs(variant):
    cb, _, _ = breaker(variant, failure_threshold=1)
    fail(cb)
    ran = []
    with pytest.raises(CircuitOpenError):
        cb.call(ran.append, 1)
    assert ran == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_failures_are_consecutive(variant):
    cb, _, _ = breaker(variant, failure_threshold=3)
    fail(cb, 2)
    cb.call(ok)
    assert cb.failure_count == 0
    fail(cb, 2)
    assert counters(cb)[:2] == (CLOSED, 2)


def test_defaults_are_5_2_60s_3():
    cfg = CircuitBreakerConfig()
    assert (cfg.failure_threshold, cfg.success_threshold, cfg.timeout, cfg.half_open_max_requests) == (5, 2, 60, 3)


# =================================================================== CB-A (standalone), §1.2


def test_a_open_error_text():
    cb, _, _ = breaker("standalone", failure_threshold=1)
    fail(cb)
    with pytest.raises(CircuitOpenError) as info:
        cb.call(ok)
    assert str(info.value) == "Circuit breaker is open"


def test_a_trip_stamps_the_open_time():
    cb, clock, _ = breaker("standalone", failure_threshold=2)
    clock.advance(3)
    fail(cb, 2)
    assert (cb.state, cb.stats().last_failure_time) == (OPEN, 3.0)


def test_a_trip_from_closed_keeps_failure_count():
    cb, _, _ = breaker("standalone", failure_threshold=2)
    fail(cb, 2)
    assert counters(cb) == (OPEN, 2, 0, 0)


def test_a_half_open_transition_resets_success_and_half_open_counts_not_failure_count():
    cb, clock, _ = breaker("standalone", failure_threshold=2, success_threshold=5, timeout=1)
    fail(cb, 2)
    clock.advance(1)
    cb.try_acquire()
    assert counters(cb) == (HALF, 2, 0, 0)


def test_a_transition_probe_is_not_counted():
    cb, clock, _ = breaker("standalone", failure_threshold=1, success_threshold=5, timeout=1,
                           half_open_max_requests=1)
    fail(cb)
    clock.advance(1)
    cb.try_acquire()  # the transition probe, uncounted
    cb.try_acquire()  # the first counted probe fills the limit of 1
    assert cb.stats().half_open_requests == 1
    with pytest.raises(CircuitOpenError) as info:
        cb.try_acquire()
    assert info.value.state is HALF and info.value.retry_after is None


def test_a_half_open_limit_caps_in_flight_probes_not_the_total():
    cb, clock, _ = breaker("standalone", failure_threshold=1, success_threshold=10, timeout=1,
                           half_open_max_requests=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)  # transition probe
    for _ in range(5):  # sequential probes: each frees its place before the next
        cb.call(ok)
    assert counters(cb) == (HALF, 1, 6, 0)


def test_a_counted_probe_decrements_after_it_finishes():
    cb, clock, _ = breaker("standalone", failure_threshold=1, success_threshold=10, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    probe = cb.try_acquire()
    assert cb.stats().half_open_requests == 1
    cb.on_success(probe)
    assert cb.stats().half_open_requests == 0


def test_a_closing_probe_wraps_half_open_requests_after_the_close():
    cb, clock, recorder = breaker("standalone", failure_threshold=1, success_threshold=2, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)  # uncounted, success 1
    cb.call(ok)  # counted, success 2 closes (zeroing the counter), then decrements: wraps
    assert counters(cb) == (CLOSED, 0, 0, U32_MAX)
    assert [a.anomaly for a in recorder.anomalies()] == ["counter_wrap"]


def test_a_wrapped_counter_is_reset_by_the_next_half_open_transition():
    cb, clock, _ = breaker("standalone", failure_threshold=1, success_threshold=2, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    cb.call(ok)
    fail(cb)
    assert cb.stats().half_open_requests == U32_MAX  # the trip does not touch it
    clock.advance(1)
    cb.call(ok)
    assert counters(cb) == (HALF, 1, 1, 0)


def test_a_half_open_failure_trips_keeping_failure_and_success_counts():
    cb, clock, _ = breaker("standalone", failure_threshold=2, success_threshold=3, timeout=1)
    fail(cb, 2)
    clock.advance(1)
    cb.call(ok)  # success 1
    clock.advance(2)
    fail(cb)  # counted probe fails: trip; its decrement brings the counter back to 0
    assert counters(cb) == (OPEN, 2, 1, 0)
    assert cb.stats().last_failure_time == 3.0


def test_a_closed_call_succeeding_in_half_open_only_zeroes_failure_count():
    cb, clock, _ = breaker("standalone", failure_threshold=1, success_threshold=5, timeout=1)
    slow = cb.try_acquire()  # admitted while Closed
    fail(cb)
    clock.advance(1)
    cb.call(ok)  # HalfOpen, success 1
    cb.on_success(slow)  # judged as a Closed-branch success
    assert counters(cb) == (HALF, 0, 1, 0)


def test_a_closed_call_failing_while_open_restamps_the_open_time():
    cb, clock, recorder = breaker("standalone", failure_threshold=1, timeout=10)
    slow = cb.try_acquire()
    fail(cb)  # trip at t=0
    clock.advance(4)
    cb.on_failure(slow)  # failure_count 2 >= 1: trip() again while Open
    assert (cb.state, cb.failure_count, cb.stats().last_failure_time) == (OPEN, 2, 4.0)
    assert edges(recorder) == [("closed", "open", "failure_threshold")]


def test_a_late_half_open_failure_after_the_close_reopens():
    cb, clock, recorder = breaker("standalone", failure_threshold=1, success_threshold=1, timeout=1)
    fail(cb)
    clock.advance(1)
    closer = cb.try_acquire()  # transition probe
    late = cb.try_acquire()  # counted probe
    cb.on_success(closer)  # closes
    cb.on_failure(late)  # judged as a half-open failure: trip from Closed
    assert counters(cb) == (OPEN, 0, 0, U32_MAX)
    assert edges(recorder)[-1] == ("closed", "open", "probe_failed")


def test_a_late_half_open_success_after_a_trip_closes():
    cb, clock, recorder = breaker("standalone", failure_threshold=1, success_threshold=1, timeout=1)
    fail(cb)
    clock.advance(1)
    failing = cb.try_acquire()
    late = cb.try_acquire()
    cb.on_failure(failing)  # trip back to Open
    cb.on_success(late)  # success_count 1 >= 1: close() runs whatever the state
    assert counters(cb)[0] is CLOSED
    assert edges(recorder)[-1] == ("open", "closed", "success_threshold")


def test_a_reset_zeroes_counters_and_keeps_the_open_time():
    cb, clock, recorder = breaker("standalone", failure_threshold=2)
    clock.advance(7)
    fail(cb, 2)
    cb.reset()
    assert counters(cb) == (CLOSED, 0, 0, 0)
    assert cb.stats().last_failure_time == 7.0
    assert edges(recorder)[-1] == ("open", "closed", "reset")


def test_a_has_no_open_or_close():
    cb, _, _ = breaker("standalone")
    for name in ("open", "close"):
        with pytest.raises(AttributeError):
            getattr(cb, name)()


def test_a_requires_a_half_open_limit():
    with pytest.raises(ValueError):
        CircuitBreakerConfig(variant="standalone", half_open_max_requests=None)


# =================================================================== CB-B (resilience), §1.3


def test_b_open_error_text():
    cb, _, _ = breaker(failure_threshold=1)
    fail(cb)
    with pytest.raises(CircuitOpenError) as info:
        cb.call(ok)
    assert str(info.value) == "Circuit breaker is open, requests blocked"


def test_b_total_requests_includes_rejected_calls():
    cb, _, _ = breaker(failure_threshold=1)
    fail(cb)
    for _ in range(3):
        with pytest.raises(CircuitOpenError):
            cb.call(ok)
    s = cb.stats()
    assert (s.total_requests, s.total_failures, s.total_successes, s.total_rejected) == (4, 1, 0, 3)


def test_b_closed_to_open_keeps_failure_count_at_threshold_and_zeroes_success_count():
    cb, clock, recorder = breaker(failure_threshold=3)
    clock.advance(2)
    fail(cb, 3)
    assert counters(cb) == (OPEN, 3, 0, 0)
    assert cb.stats().last_failure_time == 2.0
    assert edges(recorder) == [("closed", "open", "failure_threshold")]


def test_b_half_open_transition_sets_half_open_requests_zero_and_counts_a_transition():
    cb, clock, _ = breaker(failure_threshold=2, success_threshold=5, timeout=1)
    fail(cb, 2)
    clock.advance(1)
    cb.try_acquire()
    assert counters(cb) == (HALF, 2, 0, 0)  # failure_count untouched; the probe is not counted
    assert cb.stats().state_transitions == 2


def test_b_half_open_limit_counts_every_probe_of_the_episode():
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=10, timeout=1, half_open_max_requests=2)
    fail(cb)
    clock.advance(1)
    for _ in range(3):  # transition probe + 2 counted, each finished before the next
        cb.call(ok)
    assert counters(cb) == (HALF, 1, 3, 2)
    with pytest.raises(CircuitOpenError) as info:
        cb.call(ok)  # nothing in flight, still rejected
    assert info.value.state is HALF and info.value.retry_after is None


def test_b_half_open_requests_is_not_decremented_when_a_probe_finishes():
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=10, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    probe = cb.try_acquire()
    cb.on_success(probe)
    assert cb.stats().half_open_requests == 1


def test_b_unlimited_half_open_when_max_is_none():
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=50, timeout=1, half_open_max_requests=None)
    fail(cb)
    clock.advance(1)
    for _ in range(20):
        cb.call(ok)
    assert counters(cb) == (HALF, 1, 20, 19)


def test_b_half_open_max_zero_admits_only_the_transition_probe():
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=2, timeout=1, half_open_max_requests=0)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    with pytest.raises(CircuitOpenError):
        cb.call(ok)
    assert counters(cb) == (HALF, 1, 1, 0)


def test_b_half_open_success_reaching_threshold_closes_and_zeroes_counters():
    cb, clock, recorder = breaker(failure_threshold=1, success_threshold=2, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    cb.call(ok)
    assert counters(cb) == (CLOSED, 0, 0, 0)
    assert cb.stats().last_failure_time == 0.0  # not cleared by the close
    assert edges(recorder)[-1] == ("half_open", "closed", "success_threshold")
    assert cb.stats().state_transitions == 3


def test_b_half_open_failure_resets_failure_success_and_half_open_counts():
    cb, clock, recorder = breaker(failure_threshold=2, success_threshold=5, timeout=1)
    fail(cb, 2)
    clock.advance(1)
    cb.call(ok)
    cb.call(ok)
    clock.advance(1)
    fail(cb)
    assert counters(cb) == (OPEN, 0, 0, 0)
    assert cb.stats().last_failure_time == 2.0
    assert edges(recorder)[-1] == ("half_open", "open", "probe_failed")


def test_b_late_failure_while_open_extends_the_open_period():
    cb, clock, _ = breaker(failure_threshold=1, timeout=60)
    slow = cb.try_acquire()
    fail(cb)  # Open at t=0
    clock.advance(30)
    cb.on_failure(slow)
    assert counters(cb) == (OPEN, 1, 0, 0)
    assert cb.stats().last_failure_time == 30.0
    s = cb.stats()
    assert (s.total_failures, s.state_transitions) == (2, 1)
    clock.advance(30)
    with pytest.raises(CircuitOpenError) as info:
        cb.call(ok)
    assert info.value.retry_after == 30.0


def test_b_success_while_open_changes_nothing_but_the_total():
    cb, clock, recorder = breaker(failure_threshold=1, timeout=60)
    slow = cb.try_acquire()
    fail(cb)
    clock.advance(10)
    cb.on_success(slow)
    assert counters(cb) == (OPEN, 1, 0, 0)
    assert cb.stats().last_failure_time == 0.0
    s = cb.stats()
    assert (s.total_successes, s.state_transitions) == (1, 1)
    assert len(edges(recorder)) == 1


def test_b_outcome_is_judged_by_the_current_state():
    # A call admitted while Closed that succeeds after the breaker went HalfOpen counts as a
    # half-open success.
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=2, timeout=1)
    slow = cb.try_acquire()
    fail(cb)
    clock.advance(1)
    cb.call(ok)  # success 1
    cb.on_success(slow)  # success 2: closes
    assert counters(cb) == (CLOSED, 0, 0, 0)


def test_b_success_count_survives_open_and_the_next_half_open_transition():
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=2, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)  # HalfOpen, success 1
    cb.open()  # keeps success_count
    assert counters(cb) == (OPEN, 1, 1, 0)
    clock.advance(1)
    cb.call(ok)  # the transition keeps it too: success 2 closes
    assert cb.state is CLOSED


def test_b_open_stamps_time_counts_a_transition_and_keeps_counters():
    cb, clock, recorder = breaker(failure_threshold=5)
    fail(cb, 2)
    clock.advance(4)
    cb.open()
    assert counters(cb) == (OPEN, 2, 0, 0)
    assert cb.stats().last_failure_time == 4.0
    assert cb.stats().state_transitions == 1
    assert edges(recorder) == [("closed", "open", "manual_open")]


def test_b_open_when_already_open_does_nothing():
    cb, clock, recorder = breaker(failure_threshold=1)
    fail(cb)
    clock.advance(5)
    cb.open()
    assert cb.stats().last_failure_time == 0.0
    assert cb.stats().state_transitions == 1
    assert len(edges(recorder)) == 1


def test_b_close_zeroes_failure_and_success_counts_only():
    cb, clock, recorder = breaker(failure_threshold=1, success_threshold=5, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    cb.call(ok)
    cb.close()
    assert counters(cb) == (CLOSED, 0, 0, 1)  # half_open_requests kept
    assert cb.stats().last_failure_time == 0.0  # open time kept
    assert cb.stats().state_transitions == 3
    assert edges(recorder)[-1] == ("half_open", "closed", "manual_close")


def test_b_close_when_already_closed_does_nothing():
    cb, _, recorder = breaker(failure_threshold=5)
    fail(cb, 2)
    cb.close()
    assert counters(cb) == (CLOSED, 2, 0, 0)
    assert cb.stats().state_transitions == 0
    assert edges(recorder) == []


def test_b_reset_zeroes_everything_and_forgets_the_open_time():
    cb, clock, recorder = breaker(failure_threshold=1, success_threshold=5, timeout=1)
    cb.call(ok)
    fail(cb)
    clock.advance(1)
    cb.call(ok)
    cb.call(ok)
    cb.reset()
    assert counters(cb) == (CLOSED, 0, 0, 0)
    assert cb.stats().last_failure_time is None
    s = cb.stats()
    assert (s.total_requests, s.total_successes, s.total_failures, s.total_rejected,
            s.state_transitions) == (0, 0, 0, 0, 0)
    assert edges(recorder)[-1] == ("half_open", "closed", "reset")


def test_b_after_reset_an_open_needs_a_fresh_trip():
    cb, clock, _ = breaker(failure_threshold=2, timeout=1)
    fail(cb, 2)
    cb.reset()
    clock.advance(100)
    fail(cb)
    assert counters(cb)[:2] == (CLOSED, 1)


def test_b_rates_count_rejections_in_the_denominator():
    cb, _, _ = breaker(failure_threshold=1)
    cb.call(ok)
    cb.close()
    fail(cb)
    with pytest.raises(CircuitOpenError):
        cb.call(ok)
    s = cb.stats()
    assert (s.success_rate(), s.rejection_rate()) == (1 / 3, 1 / 3)


def test_b_rates_with_no_requests():
    s = breaker()[0].stats()
    assert (s.success_rate(), s.rejection_rate()) == (1.0, 0.0)


def test_b_stats_fields():
    cb, _, _ = breaker(failure_threshold=3)
    fail(cb, 2)
    s = cb.stats()
    assert (s.state, s.total_requests, s.total_successes, s.total_failures, s.total_rejected,
            s.state_transitions, s.failure_count, s.success_count) == (CLOSED, 2, 0, 2, 0, 0, 2, 0)


def test_b_prometheus_series_types_label_and_values():
    cb, clock, _ = breaker(failure_threshold=1, timeout=1)
    cb.call(ok)
    fail(cb)
    with pytest.raises(CircuitOpenError):
        cb.call(ok)
    text = cb.prometheus("redis_cache")
    samples = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, metric, kind = line.split()
            types[metric] = kind
        elif line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    label = '{name="redis_cache"}'
    assert samples == {
        "circuit_breaker_state" + label: 1,
        "circuit_breaker_success_rate" + label: 1 / 3,
        "circuit_breaker_rejection_rate" + label: 1 / 3,
        "circuit_breaker_requests_total" + label: 3,
        "circuit_breaker_successes_total" + label: 1,
        "circuit_breaker_failures_total" + label: 1,
        "circuit_breaker_rejected_total" + label: 1,
        "circuit_breaker_state_transitions_total" + label: 1,
    }
    assert types == {
        "circuit_breaker_state": "gauge", "circuit_breaker_success_rate": "gauge",
        "circuit_breaker_rejection_rate": "gauge", "circuit_breaker_requests_total": "counter",
        "circuit_breaker_successes_total": "counter", "circuit_breaker_failures_total": "counter",
        "circuit_breaker_rejected_total": "counter", "circuit_breaker_state_transitions_total": "counter",
    }
    clock.advance(1)
    cb.call(ok)
    assert 'circuit_breaker_state{name="redis_cache"} 2' in cb.prometheus("redis_cache")


def test_b_state_strings_and_codes():
    assert [(s.value, s.as_str(), s.as_u8()) for s in CircuitState] == [
        ("closed", "closed", 0), ("open", "open", 1), ("half_open", "half_open", 2)]


def test_b_zero_failure_threshold_trips_on_the_first_failure():
    cb, _, _ = breaker(failure_threshold=0)
    cb.call(ok)
    assert cb.state is CLOSED
    fail(cb)
    assert counters(cb) == (OPEN, 1, 0, 0)


def test_b_sticks_half_open_when_success_threshold_exceeds_limit_plus_one():
    cb, clock, _ = breaker(failure_threshold=1, success_threshold=4, timeout=1, half_open_max_requests=2)
    fail(cb)
    clock.advance(1)
    for _ in range(3):
        cb.call(ok)
    clock.advance(10_000)
    with pytest.raises(CircuitOpenError):
        cb.call(ok)
    assert counters(cb) == (HALF, 1, 3, 2)


# =================================================================== call() == split protocol


def _drive(cb: CircuitBreaker, clock: ManualClock, via_call: bool) -> None:
    script = [("ok",), ("fail",), ("fail",), ("ok",), ("fail",), ("fail",), ("fail",), ("ok",),
              ("advance", 0.3), ("ok",), ("advance", 0.7), ("ok",), ("ok",), ("fail",),
              ("advance", 1.0), ("ok",), ("ok",), ("ok",), ("ok",), ("fail",), ("fail",), ("fail",)]
    for step in script:
        if step[0] == "advance":
            clock.advance(step[1])
            continue
        try:
            if via_call:
                cb.call(ok if step[0] == "ok" else boom)
            else:
                permit = cb.try_acquire()
                (cb.on_success if step[0] == "ok" else cb.on_failure)(permit)
        except (CircuitOpenError, Boom):
            pass


@pytest.mark.parametrize("variant", VARIANTS)
def test_call_fast_paths_match_the_split_protocol(variant):
    fast, fast_clock, _ = breaker(variant, failure_threshold=3, success_threshold=2, timeout=1,
                                  start=0.1, observed=False)
    split, split_clock, _ = breaker(variant, failure_threshold=3, success_threshold=2, timeout=1,
                                    start=0.1)
    _drive(fast, fast_clock, via_call=True)
    _drive(split, split_clock, via_call=False)
    assert fast.stats().as_dict() == split.stats().as_dict()
    assert fast.stats().last_failure_time == split.stats().last_failure_time


def test_call_reraises_the_upstream_error_unchanged_and_records_it():
    cb, _, _ = breaker()
    error = Boom("x")

    def raise_it():
        raise error

    with pytest.raises(Boom) as info:
        cb.call(raise_it)
    assert info.value is error
    assert (cb.failure_count, cb.stats().total_failures) == (1, 1)


def test_call_passes_arguments_and_returns_the_result():
    cb, _, _ = breaker()
    assert cb.call(lambda a, *, b: a + b, 2, b=3) == 5


# =================================================================== hardened breaker


def test_hardened_half_open_success_count_starts_afresh_each_episode():
    cb, clock, _ = breaker("hardened", failure_threshold=1, success_threshold=2, timeout=1)
    fail(cb)
    clock.advance(1)
    cb.call(ok)  # success 1 in the first episode
    cb.open()
    clock.advance(1)
    cb.call(ok)  # first success of the new episode: not enough to close
    assert counters(cb) == (HALF, 1, 1, 0)
    cb.call(ok)
    assert cb.state is CLOSED


def test_hardened_counts_the_transition_probe_in_flight():
    cb, clock, _ = breaker("hardened", failure_threshold=1, success_threshold=5, timeout=1,
                           half_open_max_requests=1)
    fail(cb)
    clock.advance(1)
    probe = cb.try_acquire()
    assert cb.stats().half_open_requests == 1
    with pytest.raises(CircuitOpenError):
        cb.try_acquire()
    cb.on_success(probe)
    cb.try_acquire()
    assert cb.stats().half_open_requests == 1


def test_hardened_stale_closed_call_cannot_extend_the_open_period():
    cb, clock, _ = breaker("hardened", failure_threshold=1, timeout=60)
    slow = cb.try_acquire()
    fail(cb)
    clock.advance(30)
    cb.on_failure(slow)
    assert cb.stats().last_failure_time == 0.0


@pytest.mark.parametrize("field", ["failure_threshold", "success_threshold", "half_open_max_requests"])
def test_hardened_rejects_zero_thresholds(field):
    with pytest.raises(ValueError, match=field):
        CircuitBreakerConfig(variant="hardened", **{field: 0})


# =================================================================== backpressure, §2


def ctl(max_depth=100, warning=0.7, critical=0.9, variant="faithful", observed=False):
    recorder = TraceRecorder(ManualClock())
    c = BackpressureController(BackpressureConfig(max_queue_depth=max_depth, warning_threshold=warning,
                                                  critical_threshold=critical, variant=variant),
                               observer=recorder if observed else None)
    return c, recorder


def fill(c: BackpressureController, n: int) -> None:
    for _ in range(n):
        c.try_acquire()


def test_bp_config_takes_positional_arguments_like_rust_new():
    cfg = BackpressureConfig(1000, 0.6, 0.8)
    assert (cfg.max_queue_depth, cfg.warning_depth(), cfg.critical_depth()) == (1000, 600, 800)


def test_bp_default_config():
    cfg = BackpressureConfig()
    assert (cfg.max_queue_depth, cfg.warning_threshold, cfg.critical_threshold) == (10_000, 0.7, 0.9)
    assert (cfg.warning_depth(), cfg.critical_depth(), cfg.variant) == (7000, 9000, "faithful")


@pytest.mark.parametrize("max_depth, fraction, expected", [
    (100, 0.29, 28), (100, 0.57, 56), (10, 0.7, 7), (3, 0.9, 2), (1, 0.9, 0), (7, 0.5, 3), (0, 0.9, 0),
])
def test_bp_depths_truncate_like_f64_as_usize(max_depth, fraction, expected):
    cfg = BackpressureConfig(max_queue_depth=max_depth, warning_threshold=fraction, critical_threshold=1.0)
    assert cfg.warning_depth() == expected
    cfg = BackpressureConfig(max_queue_depth=max_depth, warning_threshold=0.0, critical_threshold=fraction)
    assert cfg.critical_depth() == expected


def test_bp_negative_warning_threshold_gives_depth_zero():
    c, _ = ctl(100, -0.5, 0.9)
    assert (c.warning_depth, c.state) == (0, BackpressureState.WARNING)


def test_bp_warning_starts_at_the_warning_depth_inclusive():
    c, _ = ctl()
    fill(c, 69)
    assert c.state is BackpressureState.NORMAL
    fill(c, 1)
    assert (c.current_depth, c.state) == (70, BackpressureState.WARNING)


def test_bp_critical_starts_at_the_critical_depth_inclusive():
    c, _ = ctl()
    fill(c, 89)
    assert c.state is BackpressureState.WARNING
    fill(c, 1)
    assert (c.current_depth, c.state) == (90, BackpressureState.CRITICAL)


def test_bp_rejects_at_the_critical_depth_with_queue_full_current_and_max():
    c, _ = ctl()
    fill(c, 90)
    with pytest.raises(BackpressureError) as info:
        c.try_acquire()
    e = info.value
    assert (e.kind, e.current, e.max) == ("QueueFull", 90, 100)
    assert str(e) == "Event queue is at critical capacity (90/100), rejecting events"
    assert c.current_depth == 90


def test_bp_default_rejection_text():
    c, _ = ctl(10_000, 0.7, 0.9)
    fill(c, 9000)  # the depth a saturated default controller sits at
    with pytest.raises(BackpressureError) as info:
        c.try_acquire()
    assert str(info.value) == "Event queue is at critical capacity (9000/10000), rejecting events"


def test_bp_warning_threshold_error_text():
    assert str(BackpressureError("WarningThreshold", 7000, 10000)) == \
        "Event queue depth (7000/10000) exceeds warning threshold"


def test_bp_never_rejects_below_critical_even_with_critical_one():
    c, _ = ctl(100, 0.7, 1.0)
    fill(c, 100)
    with pytest.raises(BackpressureError) as info:
        c.try_acquire()
    assert (info.value.current, info.value.max) == (100, 100)


def test_bp_warning_count_counts_accepts_made_in_warning():
    c, _ = ctl()
    fill(c, 75)  # depths 70..74 were Warning when accepted
    assert c.metrics().warning_count == 5
    c.release()
    c.release()
    fill(c, 1)  # accepted at depth 73
    assert c.metrics().warning_count == 6


def test_bp_critical_count_equals_rejections():
    c, _ = ctl()
    fill(c, 90)
    for _ in range(4):
        with pytest.raises(BackpressureError):
            c.try_acquire()
    m = c.metrics()
    assert (m.events_accepted, m.events_rejected, m.critical_count, m.warning_count) == (90, 4, 4, 20)


def test_bp_metrics_fields():
    c, _ = ctl()
    fill(c, 71)
    m = c.metrics()
    assert isinstance(m, BackpressureMetrics)
    assert m.as_dict() == {"current_depth": 71, "max_depth": 100, "state": BackpressureState.WARNING,
                           "events_accepted": 71, "events_rejected": 0, "warning_count": 1,
                           "critical_count": 0}


def test_bp_state_follows_depth_down_on_release():
    c, _ = ctl()
    fill(c, 90)
    c.release()
    assert c.state is BackpressureState.WARNING
    for _ in range(20):
        c.release()
    assert (c.current_depth, c.state) == (69, BackpressureState.NORMAL)


def test_bp_state_helpers():
    assert [(s.is_critical(), s.is_degraded()) for s in BackpressureState] == [
        (False, False), (False, True), (True, True)]


def test_bp_max_zero_rejects_every_acquire():
    c, _ = ctl(0, 0.7, 0.9)
    with pytest.raises(BackpressureError) as info:
        c.try_acquire()
    assert (info.value.current, info.value.max) == (0, 0)


def test_bp_equal_depths_go_from_normal_straight_to_critical():
    c, recorder = ctl(10, 0.71, 0.79, observed=True)
    fill(c, 7)
    assert c.state is BackpressureState.CRITICAL
    assert [(t.from_state, t.to_state, t.trigger) for t in recorder.transitions()] == [
        ("normal", "critical", "critical_depth_reached")]


def test_bp_faithful_release_at_zero_wraps_the_usize():
    c, recorder = ctl(observed=True)
    c.release()
    assert (c.current_depth, c.state) == (USIZE_MAX, BackpressureState.CRITICAL)
    assert [a.anomaly for a in recorder.anomalies()] == ["release_at_zero"]


def test_bp_faithful_after_the_wrap_every_acquire_is_rejected():
    c, _ = ctl()
    c.release()
    c.release()  # wraps on down from usize::MAX
    for _ in range(3):
        with pytest.raises(BackpressureError) as info:
            c.try_acquire()
    assert (info.value.current, info.value.max) == (USIZE_MAX - 1, 100)
    m = c.metrics()
    assert (m.events_accepted, m.events_rejected, m.critical_count) == (0, 3, 3)


def test_bp_faithful_wrap_after_balanced_use():
    c, _ = ctl()
    fill(c, 2)
    for _ in range(3):
        c.release()
    assert c.current_depth == USIZE_MAX


def test_bp_hardened_release_at_zero_saturates_and_records_the_same_anomaly():
    c, recorder = ctl(variant="hardened", observed=True)
    c.release()
    assert (c.current_depth, c.state) == (0, BackpressureState.NORMAL)
    assert [a.anomaly for a in recorder.anomalies()] == ["release_at_zero"]
    c.try_acquire()
    assert c.current_depth == 1


@pytest.mark.parametrize("warning, critical, message", [
    (0.9, 0.7, "warning_threshold must be less than critical_threshold"),
    (0.8, 0.8, "warning_threshold must be less than critical_threshold"),
    (0.7, 1.01, "critical_threshold must be <= 1.0"),
])
def test_bp_invalid_thresholds_fail_with_the_rust_message(warning, critical, message):
    with pytest.raises(ValueError, match=message):
        BackpressureConfig(max_queue_depth=1000, warning_threshold=warning, critical_threshold=critical)


def test_bp_reset_metrics_keeps_the_depth():
    c, _ = ctl()
    fill(c, 80)
    c.reset_metrics()
    m = c.metrics()
    assert (m.current_depth, m.state, m.events_accepted, m.warning_count) == (80, BackpressureState.WARNING, 0, 0)
