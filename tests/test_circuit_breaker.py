"""The Rust unit tests of spec §1.4 (CB-A and CB-B), ported under a controlled clock, plus the
behaviours the spec derives (analysis items) and the hardened variant's fixes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.circuit_breaker import (
    TRANSITIONS,
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitOpenError,
    CircuitState,
    PermitError,
)


class Boom(Exception):
    pass


def ok(value: int = 1) -> int:
    return value


def fail() -> None:
    raise Boom("upstream down")


def make(variant: str = "resilience", **cfg) -> tuple[CircuitBreaker, ManualClock, TraceRecorder]:
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    breaker = CircuitBreaker(CircuitBreakerConfig(variant=variant, **cfg), clock=clock, observer=recorder)
    return breaker, clock, recorder


def fail_times(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            breaker.call(fail)


# ---------------------------------------------------------------- CB-A (standalone), 10 tests


class TestStandaloneRustTests:
    def test_circuit_starts_closed(self):
        breaker, _, _ = make("standalone")
        assert breaker.state is CircuitState.CLOSED

    def test_successful_calls_keep_circuit_closed(self):
        breaker, _, _ = make("standalone")
        assert [breaker.call(ok, i) for i in range(10)] == list(range(10))
        assert breaker.state is CircuitState.CLOSED
        assert breaker.failure_count == 0

    def test_circuit_opens_after_threshold_failures(self):
        breaker, _, _ = make("standalone", failure_threshold=3)
        fail_times(breaker, 3)
        assert breaker.state is CircuitState.OPEN

    def test_open_circuit_rejects_requests(self):
        breaker, _, _ = make("standalone", failure_threshold=2, timeout=1.0)
        fail_times(breaker, 2)
        assert breaker.state is CircuitState.OPEN
        with pytest.raises(CircuitOpenError) as info:
            breaker.call(ok)
        assert str(info.value) == "Circuit breaker is open"

    def test_circuit_transitions_to_half_open_after_timeout(self):
        breaker, clock, _ = make("standalone", failure_threshold=2, timeout=0.1)
        fail_times(breaker, 2)
        clock.advance(0.15)
        assert breaker.call(ok) == 1
        assert breaker.state is CircuitState.HALF_OPEN  # 1 success < success_threshold 2

    def test_half_open_closes_after_success_threshold(self):
        breaker, clock, _ = make("standalone", failure_threshold=2, success_threshold=2, timeout=0.1)
        fail_times(breaker, 2)
        clock.advance(0.15)
        breaker.call(ok)
        assert breaker.state is CircuitState.HALF_OPEN
        breaker.call(ok)
        assert breaker.state is CircuitState.CLOSED

    def test_half_open_reopens_on_failure(self):
        breaker, clock, _ = make("standalone", failure_threshold=2, timeout=0.1)
        fail_times(breaker, 2)
        clock.advance(0.15)
        breaker.call(ok)
        fail_times(breaker, 1)
        assert breaker.state is CircuitState.OPEN

    def test_half_open_request_limit(self):
        # Rust asserts that at least one of 5 spawned probes gets Err(Open); on a current-thread
        # runtime the first probe closes the circuit, so that cannot pass as written (spec §1.4
        # analysis). Tested here: the behaviour the spec derives, with 5 probes in flight at once.
        breaker, clock, _ = make("standalone", failure_threshold=2, timeout=0.1, half_open_max_requests=2)
        fail_times(breaker, 2)
        clock.advance(0.15)
        breaker.call(ok)  # the uncounted transition probe: HalfOpen, success 1
        outcomes = []
        permits = []
        for _ in range(5):
            try:
                permits.append(breaker.try_acquire())
                outcomes.append("admitted")
            except CircuitOpenError:
                outcomes.append("rejected")
        assert outcomes == ["admitted", "admitted", "rejected", "rejected", "rejected"]
        for permit in permits:
            breaker.on_success(permit)
        assert breaker.state is CircuitState.CLOSED

    def test_half_open_request_limit_sequential_probes_never_rejected(self):
        breaker, clock, _ = make("standalone", failure_threshold=2, timeout=0.1, half_open_max_requests=2)
        fail_times(breaker, 2)
        clock.advance(0.15)
        breaker.call(ok)
        assert [breaker.call(ok) for _ in range(5)] == [1] * 5  # the first closes the circuit

    def test_manual_reset(self):
        breaker, _, _ = make("standalone", failure_threshold=2)
        fail_times(breaker, 2)
        breaker.reset()
        assert breaker.state is CircuitState.CLOSED
        assert breaker.failure_count == 0

    def test_success_resets_failure_count(self):
        breaker, _, _ = make("standalone", failure_threshold=3)
        fail_times(breaker, 2)
        assert breaker.failure_count == 2
        breaker.call(ok)
        assert breaker.failure_count == 0
        assert breaker.state is CircuitState.CLOSED


# ---------------------------------------------------------------- CB-B (resilience), 11 tests


class TestResilienceRustTests:
    def test_closed_state_success(self):
        breaker, _, _ = make()
        assert breaker.call(ok, 42) == 42
        assert breaker.state is CircuitState.CLOSED

    def test_closed_to_open_on_failures(self):
        breaker, _, _ = make(failure_threshold=3)
        for _ in range(2):
            fail_times(breaker, 1)
            assert breaker.state is CircuitState.CLOSED
        fail_times(breaker, 1)
        assert breaker.state is CircuitState.OPEN

    def test_open_state_rejects_requests(self):
        breaker, _, _ = make(failure_threshold=1)
        fail_times(breaker, 1)
        assert breaker.state is CircuitState.OPEN
        with pytest.raises(CircuitOpenError) as info:
            breaker.call(ok)
        assert str(info.value) == "Circuit breaker is open, requests blocked"
        assert breaker.stats().total_rejected == 1

    def test_open_to_halfopen_after_timeout(self):
        breaker, clock, _ = make(failure_threshold=1, timeout=0.1)
        fail_times(breaker, 1)
        clock.advance(0.15)
        breaker.call(ok)
        assert breaker.state is CircuitState.HALF_OPEN  # with the defaults; Rust accepts Closed too

    def test_halfopen_to_closed_on_success(self):
        breaker, clock, _ = make(failure_threshold=1, success_threshold=2, timeout=0.1,
                                 half_open_max_requests=None)
        fail_times(breaker, 1)
        clock.advance(0.15)
        breaker.call(ok)
        breaker.call(ok)
        assert breaker.state is CircuitState.CLOSED

    def test_halfopen_to_open_on_failure(self):
        breaker, clock, _ = make(failure_threshold=1, timeout=0.1)
        fail_times(breaker, 1)
        clock.advance(0.15)
        fail_times(breaker, 1)
        assert breaker.state is CircuitState.OPEN

    def test_statistics(self):
        breaker, _, _ = make(failure_threshold=10)
        breaker.call(ok)
        breaker.call(ok)
        fail_times(breaker, 1)
        stats = breaker.stats()
        assert (stats.total_requests, stats.total_successes, stats.total_failures) == (3, 2, 1)
        assert stats.success_rate() == pytest.approx(2 / 3)

    def test_manual_control(self):
        breaker, _, _ = make()
        breaker.open()
        assert breaker.state is CircuitState.OPEN
        breaker.close()
        assert breaker.state is CircuitState.CLOSED

    def test_reset(self):
        breaker, _, _ = make()
        breaker.call(ok)
        fail_times(breaker, 1)
        breaker.reset()
        assert breaker.stats().total_requests == 0
        assert breaker.state is CircuitState.CLOSED

    def test_prometheus_metrics_export(self):
        breaker, _, _ = make()
        breaker.call(ok)
        breaker.call(ok)
        fail_times(breaker, 1)
        text = breaker.prometheus("test_circuit")
        assert 'circuit_breaker_state{name="test_circuit"} 0' in text
        assert 'circuit_breaker_requests_total{name="test_circuit"} 3' in text
        assert 'circuit_breaker_successes_total{name="test_circuit"} 2' in text
        assert 'circuit_breaker_failures_total{name="test_circuit"} 1' in text
        assert "# HELP circuit_breaker_state " in text
        assert "# TYPE circuit_breaker_state gauge" in text
        assert "# TYPE circuit_breaker_requests_total counter" in text
        for series in ("success_rate", "rejection_rate", "rejected_total", "state_transitions_total"):
            assert f"circuit_breaker_{series}{{name=\"test_circuit\"}}" in text

    def test_circuit_state_as_u8(self):
        assert CircuitState.CLOSED.as_u8() == 0
        assert CircuitState.OPEN.as_u8() == 1
        assert CircuitState.HALF_OPEN.as_u8() == 2
        assert [s.as_str() for s in CircuitState] == ["closed", "open", "half_open"]

    def test_guide_example_single_success_closes(self):
        breaker, clock, _ = make(failure_threshold=2, success_threshold=1, timeout=0.1)
        fail_times(breaker, 2)
        assert breaker.state is CircuitState.OPEN
        clock.advance(0.15)
        breaker.call(ok)
        assert breaker.state is CircuitState.CLOSED


# ---------------------------------------------------------------- derived behaviour (analysis)


@pytest.mark.parametrize("variant", ["resilience", "standalone", "hardened"])
def test_open_to_half_open_is_lazy_on_a_call(variant):
    breaker, clock, _ = make(variant, failure_threshold=1, timeout=60)
    fail_times(breaker, 1)
    clock.advance(59.999)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.retry_after == pytest.approx(0.001)
    clock.advance(3600)
    assert breaker.state is CircuitState.OPEN  # no timer: still Open until a call arrives
    breaker.call(ok)
    assert breaker.state is CircuitState.HALF_OPEN


@pytest.mark.parametrize("variant", ["resilience", "standalone"])
def test_timeout_is_inclusive(variant):
    breaker, clock, _ = make(variant, failure_threshold=1, timeout=10)
    fail_times(breaker, 1)
    clock.advance(10)
    breaker.call(ok)  # elapsed >= timeout admits
    assert breaker.state is CircuitState.HALF_OPEN


@pytest.mark.parametrize("variant", ["resilience", "standalone"])
def test_zero_failure_threshold_trips_on_first_failure(variant):
    breaker, _, _ = make(variant, failure_threshold=0)
    breaker.call(ok)
    assert breaker.state is CircuitState.CLOSED
    fail_times(breaker, 1)
    assert breaker.state is CircuitState.OPEN


@pytest.mark.parametrize("variant", ["resilience", "standalone"])
def test_zero_success_threshold_closes_on_first_half_open_success(variant):
    breaker, clock, _ = make(variant, failure_threshold=1, success_threshold=0, timeout=1)
    fail_times(breaker, 1)
    clock.advance(1)
    breaker.call(ok)
    assert breaker.state is CircuitState.CLOSED


def test_failures_are_consecutive_not_windowed():
    breaker, _, _ = make(failure_threshold=3)
    for _ in range(10):
        fail_times(breaker, 2)
        breaker.call(ok)
    assert breaker.state is CircuitState.CLOSED


def test_resilience_can_stick_half_open_forever():
    # success_threshold 5 > half_open_max_requests 3 + 1: the transition probe plus 3 more all
    # succeed, then every call is rejected and no timeout leads out (spec §1.3 analysis).
    breaker, clock, recorder = make(failure_threshold=1, success_threshold=5, timeout=1, half_open_max_requests=3)
    fail_times(breaker, 1)
    clock.advance(1)
    for _ in range(4):
        breaker.call(ok)
    assert breaker.state is CircuitState.HALF_OPEN
    for _ in range(3):
        clock.advance(3600)
        with pytest.raises(CircuitOpenError) as info:
            breaker.call(ok)
        assert info.value.retry_after is None
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.close()  # the only ways out: close() or reset()
    assert breaker.state is CircuitState.CLOSED


def test_hardened_leaves_half_open_with_the_same_config():
    breaker, clock, _ = make("hardened", failure_threshold=1, success_threshold=5, timeout=1,
                             half_open_max_requests=3)
    fail_times(breaker, 1)
    clock.advance(1)
    for _ in range(5):
        breaker.call(ok)
    assert breaker.state is CircuitState.CLOSED


def test_hardened_limit_caps_in_flight_probes_including_the_transition_probe():
    breaker, clock, _ = make("hardened", failure_threshold=1, success_threshold=3, timeout=1,
                             half_open_max_requests=2)
    fail_times(breaker, 1)
    clock.advance(1)
    first = breaker.try_acquire()
    second = breaker.try_acquire()
    with pytest.raises(CircuitOpenError):
        breaker.try_acquire()
    breaker.on_success(first)
    third = breaker.try_acquire()  # a place came free
    breaker.on_success(second)
    breaker.on_success(third)
    assert breaker.state is CircuitState.CLOSED


def test_resilience_half_open_limit_is_cumulative_per_episode():
    breaker, clock, _ = make(failure_threshold=1, success_threshold=10, timeout=1, half_open_max_requests=2)
    fail_times(breaker, 1)
    clock.advance(1)
    breaker.call(ok)  # transition probe, not counted
    breaker.call(ok)  # counted 1
    breaker.call(ok)  # counted 2
    with pytest.raises(CircuitOpenError):
        breaker.call(ok)  # nothing is in flight, yet the limit is reached
    assert breaker.stats().half_open_requests == 2


def test_resilience_late_failure_while_open_extends_the_open_period():
    breaker, clock, _ = make(failure_threshold=1, timeout=10)
    slow = breaker.try_acquire()
    fail_times(breaker, 1)  # opens at t=0
    clock.advance(8)
    breaker.on_failure(slow)  # the slow call fails late, at t=8
    clock.advance(5)  # t=13: 13 s after the open, but only 5 after the late failure
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.retry_after == pytest.approx(5)


def test_hardened_late_failure_does_not_extend_the_open_period():
    breaker, clock, _ = make("hardened", failure_threshold=1, timeout=10)
    slow = breaker.try_acquire()
    fail_times(breaker, 1)
    clock.advance(8)
    breaker.on_failure(slow)
    clock.advance(5)
    breaker.call(ok)
    assert breaker.state is CircuitState.HALF_OPEN


def test_resilience_half_open_failure_resets_failure_count_standalone_keeps_it():
    for variant, expected in (("resilience", 0), ("standalone", 2)):
        breaker, clock, _ = make(variant, failure_threshold=2, timeout=1)
        fail_times(breaker, 2)
        clock.advance(1)
        fail_times(breaker, 1)
        assert breaker.state is CircuitState.OPEN
        assert breaker.failure_count == expected, variant


def test_standalone_closing_probe_wraps_its_counter_and_records_an_anomaly():
    breaker, clock, recorder = make("standalone", failure_threshold=1, success_threshold=2, timeout=1)
    fail_times(breaker, 1)
    clock.advance(1)
    breaker.call(ok)  # transition probe (not counted)
    breaker.call(ok)  # counted probe that closes; its decrement runs after close() zeroed it
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().half_open_requests == 2**32 - 1
    assert [a.anomaly for a in recorder.anomalies()] == ["counter_wrap"]


def test_standalone_outcome_is_judged_by_the_state_the_call_started_in():
    breaker, clock, _ = make("standalone", failure_threshold=2, timeout=1)
    slow = breaker.try_acquire()  # admitted while Closed
    fail_times(breaker, 2)
    clock.advance(1)
    breaker.call(ok)  # HalfOpen now
    breaker.on_failure(slow)  # failure_count 3 >= 2: trips from HalfOpen as a Closed-branch failure
    assert breaker.state is CircuitState.OPEN


def test_standalone_has_no_manual_open_close():
    breaker, _, _ = make("standalone")
    with pytest.raises(AttributeError, match="reset"):
        breaker.open()


def test_close_keeps_half_open_requests_in_resilience():
    breaker, clock, _ = make(failure_threshold=1, success_threshold=10, timeout=1)
    fail_times(breaker, 1)
    clock.advance(1)
    breaker.call(ok)
    breaker.call(ok)
    breaker.close()
    assert breaker.stats().half_open_requests == 1
    assert breaker.stats().last_failure_time == 0.0


def test_reset_zeroes_totals_and_transitions():
    breaker, _, _ = make(failure_threshold=1)
    fail_times(breaker, 1)
    breaker.reset()
    stats = breaker.stats()
    assert stats.state_transitions == 0 and stats.total_failures == 0
    assert breaker.stats().last_failure_time is None


def test_reset_with_a_call_in_flight_skews_totals_faithfully_and_not_when_hardened():
    for variant, skewed in (("resilience", True), ("hardened", False)):
        breaker, _, recorder = make(variant)
        permit = breaker.try_acquire()
        breaker.reset()
        breaker.on_success(permit)
        stats = breaker.stats()
        assert (stats.total_successes > stats.total_requests) is skewed, variant
        assert bool(recorder.anomalies()) is skewed


def test_finishing_a_permit_twice_is_an_error():
    breaker, _, recorder = make()
    permit = breaker.try_acquire()
    breaker.on_success(permit)
    with pytest.raises(PermitError):
        breaker.on_failure(permit)
    assert recorder.anomalies()[0].anomaly == "permit_reused"


def test_rates_with_no_requests():
    breaker, _, _ = make()
    assert breaker.stats().success_rate() == 1.0
    assert breaker.stats().rejection_rate() == 0.0


def test_rejections_count_in_the_success_rate_denominator():
    breaker, _, _ = make(failure_threshold=1)
    fail_times(breaker, 1)
    for _ in range(2):
        with pytest.raises(CircuitOpenError):
            breaker.call(ok)
    stats = breaker.stats()
    assert stats.total_requests == 3
    assert stats.rejection_rate() == pytest.approx(2 / 3)


def test_transitions_are_traced_with_their_cause():
    breaker, clock, recorder = make(failure_threshold=1, success_threshold=1, timeout=5)
    fail_times(breaker, 1)
    clock.advance(5)
    breaker.call(ok)
    assert [(r.from_state, r.to_state, r.trigger, r.t) for r in recorder.transitions()] == [
        ("closed", "open", "failure_threshold", 0.0),
        ("open", "half_open", "timeout_elapsed", 5.0),
        ("half_open", "closed", "success_threshold", 5.0),
    ]


def test_every_traced_transition_is_in_the_table():
    table = {(e.source, e.target, e.trigger) for e in TRANSITIONS.for_variant("resilience")}
    breaker, clock, recorder = make(failure_threshold=1, timeout=1)
    fail_times(breaker, 1)
    clock.advance(1)
    fail_times(breaker, 1)
    breaker.close()
    breaker.open()
    breaker.reset()
    seen = {(r.from_state, r.to_state, r.trigger) for r in recorder.transitions()}
    assert seen and seen <= table


@pytest.mark.parametrize("bad, field", [
    ({"failure_threshold": -1}, "failure_threshold"),
    ({"timeout": float("nan")}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"variant": "pybreaker"}, "variant"),
    ({"variant": "standalone", "half_open_max_requests": None}, "half_open_max_requests"),
    ({"variant": "hardened", "success_threshold": 0}, "success_threshold"),
    ({"variant": "hardened", "half_open_max_requests": 0}, "half_open_max_requests"),
])
def test_bad_config_is_a_clear_error_naming_the_field(bad, field):
    with pytest.raises(ValidationError) as info:
        CircuitBreakerConfig(**bad)
    assert field in str(info.value)


def test_defaults():
    cfg = CircuitBreakerConfig()
    assert (cfg.failure_threshold, cfg.success_threshold, cfg.timeout, cfg.half_open_max_requests,
            cfg.variant) == (5, 2, 60.0, 3, "resilience")


def test_prometheus_exposition_is_cb_b_text_exactly():
    breaker, _, _ = make()
    breaker.call(ok)
    breaker.call(ok)
    fail_times(breaker, 1)
    assert breaker.prometheus("redis_cache") == (
        '# HELP circuit_breaker_state Current state of the circuit breaker (0=closed, 1=open, 2=half_open)\n'
        '# TYPE circuit_breaker_state gauge\n'
        'circuit_breaker_state{name="redis_cache"} 0\n'
        '# HELP circuit_breaker_requests_total Total number of requests\n'
        '# TYPE circuit_breaker_requests_total counter\n'
        'circuit_breaker_requests_total{name="redis_cache"} 3\n'
        '# HELP circuit_breaker_successes_total Total number of successful requests\n'
        '# TYPE circuit_breaker_successes_total counter\n'
        'circuit_breaker_successes_total{name="redis_cache"} 2\n'
        '# HELP circuit_breaker_failures_total Total number of failed requests\n'
        '# TYPE circuit_breaker_failures_total counter\n'
        'circuit_breaker_failures_total{name="redis_cache"} 1\n'
        '# HELP circuit_breaker_rejected_total Total number of rejected requests (circuit open)\n'
        '# TYPE circuit_breaker_rejected_total counter\n'
        'circuit_breaker_rejected_total{name="redis_cache"} 0\n'
        '# HELP circuit_breaker_state_transitions_total Total number of state transitions\n'
        '# TYPE circuit_breaker_state_transitions_total counter\n'
        'circuit_breaker_state_transitions_total{name="redis_cache"} 0\n'
        '# HELP circuit_breaker_success_rate Current success rate (0.0 - 1.0)\n'
        '# TYPE circuit_breaker_success_rate gauge\n'
        'circuit_breaker_success_rate{name="redis_cache"} 0.6666666666666666\n'
        '# HELP circuit_breaker_rejection_rate Current rejection rate (0.0 - 1.0)\n'
        '# TYPE circuit_breaker_rejection_rate gauge\n'
        'circuit_breaker_rejection_rate{name="redis_cache"} 0\n'
    )
