"""What every differential suite shares: run one operation on the target and on the reference,
compare the outcomes (a value, or an error of the same kind, text and fields), say precisely what
differed after which step, and check that each change of the target's state is an edge of the
component's transition table."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import Enum
from typing import Any

from hypothesis.stateful import RuleBasedStateMachine, invariant

from rustok_sim.model.core.trace import FilterSink, ListSink, TeeSink, TraceRecorder
from rustok_sim.model.core.transitions import TransitionTable

__all__ = ["DifferentialMachine"]

Outcome = tuple[str, Any]


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else repr(value)


def _described(outcome: Outcome) -> str:
    kind, value = outcome
    if kind == "error":
        return f"raised {type(value).__name__}: {value}"
    if not isinstance(value, (str, int, float, uuid.UUID)):  # None, a permit, a snapshot: the state says more
        return "returned"
    shown = repr(value)
    return f"returned {shown if len(shown) <= 80 else shown[:77] + '...'}"


class DifferentialMachine(RuleBasedStateMachine):
    target_name: str = "target"
    variant: str = ""
    table: TransitionTable | None
    """The component's transition table; None for a stateless component (a validator)."""
    coverage: Any = None
    """An `EdgeCoverage` shared by every example of a run, fed by the reference's transitions."""
    error_fields: tuple[str, ...] = ()
    """Attributes of an error both sides raised that must be equal (besides its kind and text)."""
    free_text_errors: frozenset[str] = frozenset()
    """Error kinds whose text is the implementation's own (a misuse report naming its objects):
    only the kind must match."""
    goals: dict[str, str] = {}
    """The suite's "sometimes" goals: name -> the situation, in a sentence. A run that never
    reaches one is inconclusive (the gate's exit 3): it did not exercise what it claims to check."""
    optional_edges: frozenset[tuple[str, str, str]] = frozenset()
    """Edges of the table a run need not reach (source, target, trigger), each for a stated reason."""

    target: Any
    reference: Any
    steps: list[str]
    last_state: str

    def now(self) -> float | None:
        return None

    def reached(self, goal: str) -> None:
        """Record that a "sometimes" goal was reached in this example."""
        if goal not in self.goals:
            raise KeyError(f"{type(self).__name__} declares no goal {goal!r}")
        if self.coverage is not None:
            self.coverage.reached(goal)

    def reference_observer(self, clock: Callable[[], float]) -> Any:
        """The observer the reference is built with. It feeds the run's coverage (if it keeps
        one) and keeps this example's trace: the reference's transitions, decisions and
        anomalies, and the target's state changes (instance ``target``), which a counterexample
        is written out as. Also starts the example's timeline: after each operation, the virtual
        time, the operation and both sides' states (for components that have one)."""
        self.trace_sink = ListSink()
        sinks: list[Any] = [self.trace_sink]
        if self.coverage is not None:
            sinks.append(FilterSink(self.coverage, kinds=["transition"]))
        self.recorder = TraceRecorder(clock, sink=TeeSink(*sinks), kinds=["transition", "decision", "anomaly"])
        self.timeline: list[tuple[float | None, str, str | None, str | None]] = []
        return self.recorder

    def _differ(self, what: str, target: Any, reference: Any) -> AssertionError:
        when = f" (t={self.now():.10g})" if self.now() is not None else ""
        return AssertionError(f"{self.target_name} differs from the reference after {self.steps[-1]!r}{when}: "
                              f"{what}: target {_text(target)}, reference {_text(reference)}")

    def same(self, what: str, target: Any, reference: Any) -> None:
        if isinstance(reference, float) and isinstance(target, (int, float)) and not isinstance(target, bool):
            if abs(target - reference) > 1e-9:
                raise self._differ(what, target, reference)
        elif target != reference:
            raise self._differ(what, target, reference)

    def both(self, action: str, call: Callable[[Any], Any]) -> tuple[Outcome, Outcome]:
        """Run one operation on each; an outcome is ("ok", value) or ("error", exception)."""
        self.steps.append(action)
        sink = getattr(self, "trace_sink", None)
        self._operation_start = len(sink.records) if sink is not None else 0
        outcomes: list[Outcome] = []
        for side in (self.target, self.reference):
            try:
                outcomes.append(("ok", call(side)))
            except Exception as exc:  # noqa: BLE001 - any error is an observable outcome
                outcomes.append(("error", exc))
        # After each operation, not only after each rule: a rule of several operations can pass
        # through states, and every single move must be an edge.
        try:
            self.moves_are_edges_of_the_table()
        finally:
            if hasattr(self, "timeline"):
                reference_state = getattr(self.reference, "state", None)
                self.timeline.append((self.now(), action, getattr(self, "last_state", None),
                                      _text(reference_state) if reference_state is not None else None))
        return outcomes[0], outcomes[1]

    def same_outcome(self, target: Outcome, reference: Outcome, *, compare_values: bool = False) -> None:
        if target[0] != reference[0]:
            raise self._differ("outcome", _described(target), _described(reference))
        if target[0] == "ok":
            if compare_values:
                self.same("returned", target[1], reference[1])
            return
        t, r = target[1], reference[1]
        self.same("error kind", type(t).__name__, type(r).__name__)
        if type(r).__name__ not in self.free_text_errors:
            self.same("error text", str(t), str(r))
        for name in self.error_fields:
            if hasattr(r, name):
                self.same(f"error {name}", getattr(t, name, None), getattr(r, name))

    def _trigger_of(self, source: str, target: str, edges: list[Any]) -> str:
        if not edges:
            return "unexplained"
        legal = {e.trigger for e in edges}
        records = getattr(getattr(self, "trace_sink", None), "records", [])
        for record in reversed(records[getattr(self, "_operation_start", 0):]):  # this operation's
            if (getattr(record, "instance", None) != "target" and getattr(record, "from_state", None) == source
                    and getattr(record, "to_state", None) == target and record.trigger in legal):
                return str(record.trigger)
        return str(edges[0].trigger)

    @invariant()
    def moves_are_edges_of_the_table(self) -> None:
        if not hasattr(self, "target") or self.table is None:
            return
        state = self.target.state.value
        if state != self.last_state:
            edges = [e for e in self.table.for_variant(self.variant) if (e.source, e.target) == (self.last_state, state)]
            if getattr(self, "recorder", None) is not None:
                # The target's triggers are not observable. A legal move is written with the
                # trigger the reference gave the same move in this operation if it made one (a
                # manual open() is not a failure threshold), else with the table's first trigger
                # for it; an illegal one as "unexplained" (check-trace rejects it).
                self.recorder.transition(self.table.component, "target", self.last_state, state,
                                         self._trigger_of(self.last_state, state, edges))
            if not edges:
                raise AssertionError(f"{self.target_name} moved {self.last_state} -> {state} after "
                                     f"{self.steps[-1]!r}: not an edge of the {self.variant} table")
            self.last_state = state
