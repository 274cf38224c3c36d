"""The circuit-breaker suite: a Hypothesis state machine that drives a target and the reference
side by side under one controlled clock.

Each example draws a config for the suite's variant, builds the reference and the target from it
(`rustok_sim.conformance.targets.build_target`), then runs steps: admit (`try_acquire`), finish
an outstanding permit with success or failure, move the clock (including to the exact instant the
open period ends, and a microsecond before it), reset, and for CB-B and hardened the manual
``open`` / ``close``. After every step it compares everything observable: whether a call was
admitted, the rejection's text, state and ``retry_after``, and then the state, the counters,
``retry_after()`` and every field of ``stats()``. It also checks that each change of the target's
state is an edge of the variant's transition table (`TRANSITIONS`). A difference fails the example
with a sentence saying which step, what the target did and what the reference did; Hypothesis
shrinks it to the shortest such run.

A target that raises something other than `CircuitOpenError` where the reference does not is a
finding too (reported with the step), never an error of the suite.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rustok_sim.conformance.reference import circuit_breaker as reference_breaker
from rustok_sim.conformance.suites.differential import DifferentialMachine
from rustok_sim.conformance.targets import Factory, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.resilience.circuit_breaker import (
    TRANSITIONS,
    CircuitBreakerConfig,
)

__all__ = ["COMPONENT", "STATS_FIELDS", "breaker_suite"]

COMPONENT = "circuit_breaker"
STATS_FIELDS = ("state", "total_requests", "total_successes", "total_failures", "total_rejected",
                "state_transitions", "failure_count", "success_count", "in_flight", "half_open_requests",
                "last_failure_time")
_OBSERVED = ("state", "failure_count", "success_count")


class _BreakerSuite(DifferentialMachine):
    factory: Factory
    table = TRANSITIONS
    error_fields = ("state", "retry_after")
    goals = {"half_open_closes": "a half-open episode that ends closed by successful probes",
             "half_open_reopens": "a half-open episode that ends open again by a failed probe",
             "late_outcome": "a permit finished after the state it was admitted in has changed"}

    def now(self) -> float | None:
        return self.clock.now if hasattr(self, "clock") else None

    @initialize(
        failure_threshold=st.integers(1, 4),
        success_threshold=st.integers(1, 4),
        timeout=st.sampled_from([1.0, 5.0]),
        half_open_max=st.one_of(st.none(), st.integers(1, 3)),
    )
    def setup(self, failure_threshold: int, success_threshold: int, timeout: float,
              half_open_max: int | None) -> None:
        if self.variant == "standalone" and half_open_max is None:
            half_open_max = 2
        self.config = CircuitBreakerConfig(failure_threshold=failure_threshold, success_threshold=success_threshold,
                                           timeout=timeout, half_open_max_requests=half_open_max,
                                           variant=self.variant)  # type: ignore[arg-type]
        self.clock = ManualClock()
        self.reference = reference_breaker(self.config, self.clock, self.reference_observer(self.clock))
        self.target = build_target(self.factory, self.config, self.clock, COMPONENT, self.target_name)
        self.outstanding: list[tuple[Any, Any]] = []
        self.call_ids: dict[int, int] = {}
        self.steps: list[str] = [f"config {self.config.model_dump()}"]
        self.last_state = "closed"

    # -- rules --------------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([0.0, 0.25, 1.0, 5.0, 30.0, "to_deadline", "before_deadline"]))
    def advance(self, seconds: float | str) -> None:
        if isinstance(seconds, str):
            wait = self.reference.retry_after()
            if not wait:
                return
            step = wait if seconds == "to_deadline" else max(wait - 1e-6, 0.0)
        else:
            step = seconds
        self.steps.append(f"advance {step:.10g}")
        self.clock.advance(step)

    @rule(count=st.integers(1, 4))
    def acquire(self, count: int) -> None:
        for _ in range(count):
            target, reference = self.both("try_acquire", lambda b: b.try_acquire())
            self.same_outcome(target, reference)
            if reference[0] == "ok":
                self.outstanding.append((target[1], reference[1]))

    @rule(outcomes=st.lists(st.booleans(), min_size=1, max_size=6))
    def calls(self, outcomes: list[bool]) -> None:
        """Whole calls in a row (admit, then finish at once): how a breaker trips and closes."""
        for success in outcomes:
            target, reference = self.both("try_acquire", lambda b: b.try_acquire())
            self.same_outcome(target, reference)
            if reference[0] != "ok":
                continue
            self._finish_pair(success, target[1], reference[1])

    @precondition(lambda self: self.outstanding)
    @rule(index=st.integers(0, 100), success=st.booleans())
    def finish(self, index: int, success: bool) -> None:
        self._finish_pair(success, *self.outstanding.pop(index % len(self.outstanding)))

    def both(self, action: str, call: Any) -> tuple[Any, Any]:
        """Each operation, and then the target's input written to the example's trace in
        `check-trace`'s replay vocabulary (admitted / rejected / succeeded / failed / manual), so a
        counterexample's trace replays through the reference."""
        target, reference = super().both(action, call)
        recorder = getattr(self, "recorder", None)
        if recorder is not None:
            if action == "try_acquire":
                if target[0] == "ok":
                    self.calls_made = getattr(self, "calls_made", 0) + 1
                    self.call_ids[id(target[1])] = self.calls_made
                    recorder.decision(COMPONENT, "target", "admitted", None, {"call": self.calls_made})
                else:
                    recorder.decision(COMPONENT, "target", "rejected", "circuit_open")
            elif action in ("on_success", "on_failure") and target[0] == "ok":
                recorder.decision(COMPONENT, "target", "succeeded" if action == "on_success" else "failed", None,
                                  {"call": self.call_ids.get(id(self.finishing))})
            elif action in ("open", "close", "reset") and target[0] == "ok":
                recorder.decision(COMPONENT, "target", "manual", action)
        return target, reference

    def _finish_pair(self, success: bool, target_permit: Any, reference_permit: Any) -> None:
        method = "on_success" if success else "on_failure"
        self.finishing = target_permit
        permits = {id(self.target): target_permit, id(self.reference): reference_permit}
        before = self.reference.state.value
        admitted_in = getattr(reference_permit, "started_in", None)
        self.same_outcome(*self.both(method, lambda b: getattr(b, method)(permits[id(b)])))
        after = self.reference.state.value
        if before == "half_open" and after != before:
            self.reached("half_open_closes" if after == "closed" else "half_open_reopens")
        if admitted_in is not None and getattr(admitted_in, "value", admitted_in) != before:
            self.reached("late_outcome")

    @rule(outcomes=st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=4),
          manual=st.sampled_from([None, "open", "close"]), stale=st.sampled_from([None, True, False]))
    def probe_round(self, outcomes: list[bool | None], manual: str | None, stale: bool | None) -> None:
        """A closed circuit fails its way open; then the deadline passes and probes arrive together: each admitted probe is
        then finished in order (True a success, False a failure, None left outstanding for a later
        `finish`), with a manual open or close between two of them where the variant has them.
        With `stale`, a call still outstanding from before the trip finishes first (True a
        success). Late outcomes, of probes after the first decided the episode and of calls
        admitted while closed, are what this reaches."""
        for _ in range(self.config.failure_threshold):  # an outage first, when the circuit is closed
            if self.reference.state.value != "closed":
                break
            target, reference = self.both("try_acquire", lambda b: b.try_acquire())
            self.same_outcome(target, reference)
            if reference[0] == "ok":
                self._finish_pair(False, target[1], reference[1])
        if self.reference.state.value != "open":
            return
        self.steps.append(f"advance {self.reference.retry_after():.10g}")
        self.clock.advance(self.reference.retry_after())
        admitted = []
        for _ in outcomes:
            target, reference = self.both("try_acquire", lambda b: b.try_acquire())
            self.same_outcome(target, reference)
            if reference[0] == "ok":
                admitted.append((target[1], reference[1]))
        if stale is not None and self.outstanding:
            self._finish_pair(stale, *self.outstanding.pop(0))
        for number, (outcome, permits) in enumerate(zip(outcomes, admitted)):
            if number == 1 and manual is not None and self.variant != "standalone":
                self.same_outcome(*self.both(manual, lambda b: getattr(b, manual)()))
            if outcome is None:
                self.outstanding.append(permits)
            else:
                self._finish_pair(outcome, *permits)

    @precondition(lambda self: self.variant != "standalone")
    @rule(action=st.sampled_from(["open", "close"]))
    def manual(self, action: str) -> None:
        target, reference = self.both(action, lambda b: getattr(b, action)())
        self.same_outcome(target, reference)

    @rule()
    def reset(self) -> None:
        target, reference = self.both("reset", lambda b: b.reset())
        self.same_outcome(target, reference)

    # -- after every step ---------------------------------------------------------------------------

    @invariant()
    def observably_the_same(self) -> None:
        if not hasattr(self, "target"):
            return
        target, reference = self.target, self.reference
        for name in _OBSERVED:
            self.same(name, getattr(target, name), getattr(reference, name))
        self.same("retry_after()", target.retry_after(), reference.retry_after())
        target_stats, reference_stats = target.stats(), reference.stats()
        for name in STATS_FIELDS:
            self.same(f"stats().{name}", getattr(target_stats, name, None), getattr(reference_stats, name))


def breaker_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's state machine for one target factory and one breaker variant."""
    return type(f"BreakerSuite_{variant}", (_BreakerSuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name})
