"""Circuit-breaker invariants over a trace.

- `BreakerLegal`: every ``circuit_breaker`` transition is an edge of the breaker's table for the
  variant that ran (`rustok_sim.model.resilience.circuit_breaker.TRANSITIONS`), and starts from
  the state the previous transition of that breaker ended in.
- `NoStuckHalfOpen`: no breaker sits in ``half_open`` at the end of the run after entering it more
  than `patience` breaker timeouts earlier. CB-B's half-open limit counts every probe of an
  episode, so with ``success_threshold > half_open_max_requests + 1`` the probes all succeed, the
  threshold is never reached and every later call is rejected: the breaker never leaves half-open
  (spec §1.3, analysis).
"""

from __future__ import annotations

from rustok_sim.conformance.invariants.verdict import KnownDefect, Verdict, judge
from rustok_sim.model.core.trace import TraceRecord
from rustok_sim.model.resilience.circuit_breaker import COMPONENT, TRANSITIONS

__all__ = ["BreakerLegal", "NoStuckHalfOpen"]


class BreakerLegal:
    invariant = "breaker_legal"
    kinds = frozenset({"transition"})

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.states: dict[str, str] = {}
        self.moves = 0
        self.illegal: list[str] = []

    def feed(self, record: TraceRecord) -> None:
        if record.component != COMPONENT:  # type: ignore[attr-defined]
            return
        self.moves += 1
        source, target, trigger = record.from_state, record.to_state, record.trigger  # type: ignore[attr-defined]
        instance = record.instance  # type: ignore[attr-defined]
        previous = self.states.get(instance, "closed")
        if previous != source:
            self.illegal.append(f"{instance} at t={record.t:g}: moved from {source} while in {previous}")
        elif TRANSITIONS.edge(source, target, trigger, self.variant) is None:
            self.illegal.append(f"{instance} at t={record.t:g}: {source} -> {target} on {trigger} "
                                f"is not an edge of variant {self.variant}")
        self.states[instance] = target

    def verdict(self) -> Verdict:
        detail = f"{self.moves} transitions of variant {self.variant}"
        if self.illegal:
            detail += f"; {len(self.illegal)} illegal, first: {self.illegal[0]}"
        return judge(self.invariant, len(self.illegal), detail, None)


class NoStuckHalfOpen:
    invariant = "no_stuck_half_open"
    kinds = frozenset({"transition"})

    def __init__(self, timeout: float, end: float, defect: KnownDefect | None = None, patience: float = 3.0) -> None:
        self.limit = max(timeout * patience, 1.0)
        self.end, self.defect = end, defect
        self.entered: dict[str, tuple[str, float]] = {}

    def feed(self, record: TraceRecord) -> None:
        if record.component == COMPONENT:  # type: ignore[attr-defined]
            self.entered[record.instance] = (record.to_state, record.t)  # type: ignore[attr-defined]

    def verdict(self) -> Verdict:
        stuck = sorted(f"{name} since t={t:g}" for name, (state, t) in self.entered.items()
                       if state == "half_open" and self.end - t > self.limit)
        detail = (f"half-open for more than {self.limit:g} s at the end of the run: {', '.join(stuck)}"
                  if stuck else f"no breaker half-open for more than {self.limit:g} s at the end")
        return judge(self.invariant, len(stuck), detail, self.defect)
