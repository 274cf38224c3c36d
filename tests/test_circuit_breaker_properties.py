"""Hypothesis properties of the circuit breaker, driven as a state machine under a manual clock.

Checked after every step, for each variant:
- the breaker never admits a call while Open before the timeout has elapsed;
- half-open admissions never exceed the variant's limit (cumulative per episode for CB-B,
  in flight for CB-A and hardened; CB-A's uncounted transition probe aside);
- stats stay consistent: requests == successes + failures + rejected + in flight (until a
  reset() with calls in flight, which the model flags as an anomaly, as Rust skews the totals);
- `call()` (with its inlined fast paths) and the split try_acquire/on_* protocol agree: a twin
  breaker driven only through the split protocol ends every step in the same state and stats.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitOpenError,
    CircuitState,
)


class Boom(Exception):
    pass


def _boom() -> None:
    raise Boom()


class BreakerMachine(RuleBasedStateMachine):
    variant = "resilience"

    @initialize(
        failure_threshold=st.integers(0, 4),
        success_threshold=st.integers(0, 4),
        timeout=st.sampled_from([0.0, 1.0, 5.0]),
        half_open_max=st.one_of(st.none(), st.integers(0, 3)),
        observed=st.booleans(),
    )
    def setup(self, failure_threshold, success_threshold, timeout, half_open_max, observed):
        if self.variant == "hardened":
            failure_threshold = max(1, failure_threshold)
            success_threshold = max(1, success_threshold)
            half_open_max = None if half_open_max is None else max(1, half_open_max)
        if self.variant == "standalone" and half_open_max is None:
            half_open_max = 2
        self.config = CircuitBreakerConfig(failure_threshold=failure_threshold,
                                           success_threshold=success_threshold, timeout=timeout,
                                           half_open_max_requests=half_open_max, variant=self.variant)
        self.clock = ManualClock()
        self.recorder = TraceRecorder(self.clock)
        # The fast paths of call() are only taken without an observer, so try both.
        self.breaker = CircuitBreaker(self.config, clock=self.clock,
                                      observer=self.recorder if observed else None)
        self.twin = CircuitBreaker(self.config, clock=self.clock, observer=TraceRecorder(self.clock))
        self.outstanding: list[tuple[object, object]] = []
        self.skewed = False
        self.probes_this_episode = 0

    # -- helpers -------------------------------------------------------------------------

    def _admission_expectation(self) -> str | None:
        """What the spec says must happen to the next admission attempt, where it is certain."""
        b = self.breaker
        if b.state is CircuitState.OPEN and b.stats().last_failure_time is not None \
                and self.clock() - b.stats().last_failure_time < self.config.timeout:
            return "reject"
        return None

    def _track_half_open(self, before: CircuitState, admitted: bool) -> None:
        after = self.breaker.state
        if before is CircuitState.OPEN and after is CircuitState.HALF_OPEN:
            self.probes_this_episode = 0  # the transition probe is not counted in Rust
        elif before is CircuitState.HALF_OPEN and admitted:
            self.probes_this_episode += 1

    # -- rules -----------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 5.0, 30.0]))
    def advance(self, seconds):
        self.clock.advance(seconds)

    @rule()
    def acquire(self):
        expected = self._admission_expectation()
        before = self.breaker.state
        try:
            permit = self.breaker.try_acquire()
        except CircuitOpenError:
            with pytest.raises(CircuitOpenError):
                self.twin.try_acquire()
            self._track_half_open(before, admitted=False)
            return
        assert expected != "reject", "admitted while Open before the timeout"
        self.outstanding.append((permit, self.twin.try_acquire()))
        self._track_half_open(before, admitted=True)

    @rule(count=st.integers(2, 6))
    def burst(self, count):
        """Several admissions in a row with nothing finishing: where half-open limits bite."""
        for _ in range(count):
            self.acquire()

    @precondition(lambda self: self.outstanding)
    @rule(index=st.integers(0, 100), success=st.booleans())
    def finish(self, index, success):
        permit, twin_permit = self.outstanding.pop(index % len(self.outstanding))
        if success:
            self.breaker.on_success(permit)
            self.twin.on_success(twin_permit)
        else:
            self.breaker.on_failure(permit)
            self.twin.on_failure(twin_permit)

    @rule(success=st.booleans())
    def call(self, success):
        expected = self._admission_expectation()
        before = self.breaker.state
        try:
            if success:
                self.breaker.call(int)
            else:
                self.breaker.call(_boom)
            admitted = True
        except CircuitOpenError:
            admitted = False
        except Boom:
            admitted = True
        assert not (admitted and expected == "reject"), "admitted while Open before the timeout"
        self._track_half_open(before, admitted)
        # the twin does the same through the split protocol
        try:
            permit = self.twin.try_acquire()
        except CircuitOpenError:
            assert not admitted, "call() admitted what try_acquire() rejected"
            return
        assert admitted, "call() rejected what try_acquire() admitted"
        (self.twin.on_success if success else self.twin.on_failure)(permit)

    @precondition(lambda self: self.variant != "standalone")
    @rule(action=st.sampled_from(["open", "close"]))
    def manual(self, action):
        getattr(self.breaker, action)()
        getattr(self.twin, action)()

    @rule()
    def reset(self):
        if self.outstanding:
            self.skewed = self.skewed or self.variant != "hardened"
        self.breaker.reset()
        self.twin.reset()

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def stats_add_up(self):
        if not hasattr(self, "breaker") or self.skewed:
            return
        s = self.breaker.stats()
        assert s.total_requests == s.total_successes + s.total_failures + s.total_rejected + s.in_flight
        assert 0 <= s.in_flight <= len(self.outstanding)

    @invariant()
    def half_open_limit_holds(self):
        if not hasattr(self, "breaker"):
            return
        limit = self.config.half_open_max_requests
        b = self.breaker
        if limit is None or b.state is not CircuitState.HALF_OPEN:
            return
        if self.variant == "resilience":
            assert self.probes_this_episode <= limit
            assert b.stats().half_open_requests <= limit
        elif self.variant == "hardened":
            assert 0 <= b.stats().half_open_requests <= limit
        elif not self.skewed and b.stats().half_open_requests != 2**32 - 1:
            # CB-A: counted probes in flight (a wrapped counter means Rust rejects everything)
            assert b.stats().half_open_requests <= limit

    @invariant()
    def twin_agrees(self):
        if not hasattr(self, "breaker"):
            return
        a, b = self.breaker.stats().as_dict(), self.twin.stats().as_dict()
        assert a == b

    @invariant()
    def hardened_never_wraps_or_goes_negative(self):
        if hasattr(self, "breaker") and self.variant == "hardened":
            assert self.breaker.stats().half_open_requests >= 0
            assert self.breaker.stats().in_flight >= 0


class ResilienceBreaker(BreakerMachine):
    variant = "resilience"


class StandaloneBreaker(BreakerMachine):
    variant = "standalone"


class HardenedBreaker(BreakerMachine):
    variant = "hardened"


TestResilienceBreaker = ResilienceBreaker.TestCase
TestStandaloneBreaker = StandaloneBreaker.TestCase
TestHardenedBreaker = HardenedBreaker.TestCase
