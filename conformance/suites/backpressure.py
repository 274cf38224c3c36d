"""The backpressure suite: a target controller and the reference driven side by side.

Each example draws a config (a small `max_queue_depth`, so thresholds are reached, and one of a
set of threshold pairs including a zero warning fraction and a critical fraction of 1.0) for the
suite's variant, then steps: runs of ``try_acquire`` and of ``admit``, runs of ``release``
(including at depth 0, where faithful wraps the usize and hardened saturates). After every step
it compares the outcome (admitted or rejected; the `BackpressureError`'s kind, current, max and
text), then the state, the depths and every field of ``metrics()``, and checks each change of
state against the transition table. The controller has no clock; factories get one anyway.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rustok_sim.conformance.suites.differential import DifferentialMachine
from rustok_sim.conformance.targets import Factory, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.resilience.backpressure import TRANSITIONS, BackpressureConfig, BackpressureController

__all__ = ["COMPONENT", "METRICS_FIELDS", "backpressure_suite", "reference_backpressure"]

COMPONENT = "backpressure"
METRICS_FIELDS = ("current_depth", "max_depth", "state", "events_accepted", "events_rejected", "warning_count",
                  "critical_count")
_OBSERVED = ("state", "current_depth", "max_depth", "warning_depth", "critical_depth")
_THRESHOLDS = [(0.7, 0.9), (0.5, 0.8), (0.0, 0.5), (0.3, 1.0), (0.25, 0.75)]


def reference_backpressure(config: BackpressureConfig, clock: Any, observer: Any = None) -> BackpressureController:
    return BackpressureController(config, observer=observer, name="reference")


class _BackpressureSuite(DifferentialMachine):
    factory: Factory
    table = TRANSITIONS
    error_fields = ("kind", "current", "max")
    goals = {"rejected_when_full": "an admit rejected with QueueFull at the critical depth",
             "critical_then_drained": "a burst that reached the critical depth, then drained"}

    @initialize(max_queue_depth=st.integers(0, 12), thresholds=st.sampled_from(_THRESHOLDS))
    def setup(self, max_queue_depth: int, thresholds: tuple[float, float]) -> None:
        warning, critical = thresholds
        self.config = BackpressureConfig(max_queue_depth=max_queue_depth, warning_threshold=warning,
                                         critical_threshold=critical, variant=self.variant)
        clock = ManualClock()
        self.reference = reference_backpressure(self.config, clock, self.reference_observer(clock))
        self.target = build_target(self.factory, self.config, clock, COMPONENT, self.target_name)
        self.steps = [f"config {self.config.model_dump()}"]
        self.last_state = self.reference.state.value
        self.same("start state", self.target.state, self.reference.state)

    def both(self, action: str, call: Any) -> tuple[Any, Any]:
        """Each operation, and then the target's input written to the example's trace in
        `check-trace`'s replay vocabulary (accepted / rejected / released)."""
        target, reference = super().both(action, call)
        recorder = getattr(self, "recorder", None)
        if recorder is not None:
            if action in ("try_acquire", "admit"):
                admitted = target == ("ok", True) or (action == "try_acquire" and target[0] == "ok")
                recorder.decision(COMPONENT, "target", "accepted" if admitted else "rejected",
                                  None if admitted else "queue_full")
            elif action == "release" and target[0] == "ok":
                recorder.decision(COMPONENT, "target", "released")
        return target, reference

    @rule(count=st.integers(1, 8))
    def try_acquire(self, count: int) -> None:
        for _ in range(count):
            self.same_outcome(*self.both("try_acquire", lambda c: c.try_acquire()))

    @rule(count=st.integers(1, 8))
    def admit(self, count: int) -> None:
        for _ in range(count):
            self._admit()

    def _admit(self) -> None:
        target, reference = self.both("admit", lambda c: c.admit())
        self.same_outcome(target, reference, compare_values=True)
        if reference == ("ok", False):
            self.reached("rejected_when_full")

    @rule(count=st.integers(1, 5))
    def release(self, count: int) -> None:
        for _ in range(count):
            self.same_outcome(*self.both("release", lambda c: c.release()))

    @rule(count=st.integers(1, 12))
    def fill_then_drain(self, count: int) -> None:
        """A burst that is then handled: `count` admits, then a release for every slot the
        reference holds (never one at depth 0), so a run goes up through the thresholds and back
        down through them, the edges a random walk that wraps early in faithful rarely reaches."""
        for _ in range(count):
            self._admit()
        peak = self.reference.current_depth
        if peak >= self.config.critical_depth() > 0:
            self.reached("critical_then_drained")
        for _ in range(min(peak, count)):
            self.same_outcome(*self.both("release", lambda c: c.release()))

    @invariant()
    def observably_the_same(self) -> None:
        if not hasattr(self, "target"):
            return
        for name in _OBSERVED:
            self.same(name, getattr(self.target, name), getattr(self.reference, name))
        target_metrics, reference_metrics = self.target.metrics(), self.reference.metrics()
        for name in METRICS_FIELDS:
            self.same(f"metrics().{name}", getattr(target_metrics, name, None), getattr(reference_metrics, name))


def backpressure_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's state machine for one target factory and one controller variant."""
    return type(f"BackpressureSuite_{variant}", (_BackpressureSuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name})
