"""Invariants of the event pipeline (bus, backpressure controller, dispatcher), over a trace.

- `DepthBound`: the controller's depth stays within [0, max_queue_depth]. A release at depth 0
  that wraps the usize (faithful, spec §2.2) or a sampled depth above the maximum breaks it.
- `SlotConservation`: every slot taken is given back exactly once: no slot leaked (02-13 crash
  paths, events lost to ``Lagged``), none released twice (two dispatchers on one bus, §3.3),
  no release at depth 0.
- `NothingLost`: every event the bus published reaches the end of its handler (handled, or
  failed after its retries) by the end of the run, and no receiver lagged; events a direct
  producer dropped after a rejection are counted losses, reported, and a violation only when the
  producer promised to retry (outbox producers: `producer` ``dropped`` must never appear).
- `judge_drained`: after the drain, the controller's depth is back at 0.

Each reads only the record kinds it names, so a run pays for what its checkers read.
"""

from __future__ import annotations

from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.conformance.invariants.verdict import KnownDefect, Verdict, judge
from rustok_sim.model.core.trace import TraceRecord

__all__ = ["DepthBound", "NothingLost", "SlotConservation", "judge_drained"]

_SLOT_ANOMALIES = frozenset({"slot_leaked", "slot_over_release", "lagged_slots_leaked", "release_at_zero"})


class DepthBound:
    invariant = "depth_bound"
    kinds = frozenset({"anomaly"})
    """The depth only leaves [0, max] by a release at 0, which is always an anomaly record; the
    checker does not ask for samples, which would switch on every component's gauges."""

    def __init__(self, max_depth: int, defect: KnownDefect | None = None) -> None:
        self.max_depth, self.defect = max_depth, defect
        self.wraps = 0
        self.saturated = 0

    def feed(self, record: TraceRecord) -> None:
        if record.anomaly == "release_at_zero":  # type: ignore[attr-defined]
            detail = record.detail or {}  # type: ignore[attr-defined]
            if detail.get("depth_after", 0) > self.max_depth:
                self.wraps += 1
            else:
                self.saturated += 1

    def verdict(self) -> Verdict:
        detail = (f"max depth {self.max_depth}; {self.wraps} release(s) at depth 0 wrapped the depth"
                  + (f", {self.saturated} saturated at 0" if self.saturated else ""))
        return judge(self.invariant, self.wraps, detail, self.defect)


class SlotConservation:
    invariant = "slot_conservation"
    kinds = frozenset({"anomaly"})

    def __init__(self, defect: KnownDefect | None = None) -> None:
        self.defect = defect
        self.counts: dict[str, int] = {}
        self.releasers = 1

    def feed(self, record: TraceRecord) -> None:
        name = record.anomaly  # type: ignore[attr-defined]
        if name in _SLOT_ANOMALIES:
            self.counts[name] = self.counts.get(name, 0) + 1
        elif name == "multiple_slot_releasers":
            self.releasers = max(self.releasers, len((record.detail or {}).get("releasers", ())))  # type: ignore[attr-defined]

    def verdict(self) -> Verdict:
        violations = sum(self.counts.values())
        parts = [f"{count} {name}" for name, count in sorted(self.counts.items())] or ["every slot released once"]
        if self.releasers > 1:
            parts.append(f"{self.releasers} dispatchers released slots on one bus")
        return judge(self.invariant, violations, "; ".join(parts), self.defect)


class NothingLost:
    """Every event owed to the consumers reaches the end of its handler. Owed: published to the
    bus, or written to the outbox (and not rolled back with its transaction). A row the relay
    moved to the DLQ (``outbox_relay`` ``failed``) is lost to the consumers, and so counted."""

    invariant = "nothing_lost"
    kinds = frozenset({"event", "anomaly"})

    def __init__(self, drops_allowed: bool, defect: KnownDefect | None = None, *, outbox: str = "outbox") -> None:
        # `outbox`: the outbox transport (its trace instance) whose rows these handlers are owed;
        # another pipeline's outbox in the same world is not theirs
        self.drops_allowed, self.defect, self.outbox = drops_allowed, defect, outbox
        self.owed: set[str] = set()
        self.seen = 0
        self.finished = 0
        self.failed = 0
        self.dropped = 0
        self.dead_lettered = 0
        self.lagged = 0

    def feed(self, record: TraceRecord) -> None:
        if record.kind == "anomaly":
            if record.anomaly == "lagged_slots_leaked":  # type: ignore[attr-defined]
                self.lagged += 1
            return
        component, action = record.component, record.action  # type: ignore[attr-defined]
        event_id = record.event_id  # type: ignore[attr-defined]
        if (component == "event_bus" and action == "published") or (
                component == "outbox" and action == "written" and record.instance == self.outbox):  # type: ignore[attr-defined]
            if event_id not in self.owed:
                self.seen += 1
                self.owed.add(event_id)
        elif component == "event_dispatcher" and action in ("handled", "failed", "crashed"):
            if event_id in self.owed:
                self.owed.discard(event_id)
                self.finished += 1
                if action != "handled":
                    self.failed += 1
        elif component == v.TRANSACTION and action == v.ROLLED_BACK:
            if event_id in self.owed:
                self.owed.discard(event_id)
                self.seen -= 1
        elif component == "outbox_relay" and action == "failed" and event_id in self.owed:
            self.dead_lettered += 1
        elif component == v.PRODUCER and action == v.DROPPED:
            self.dropped += 1

    def verdict(self) -> Verdict:
        unfinished = len(self.owed)
        violations = unfinished + self.lagged + (0 if self.drops_allowed else self.dropped)
        detail = (f"{self.seen} owed to the handlers, {self.finished} reached the end of their handler "
                  f"({self.failed} with an error), {unfinished} never did "
                  f"({self.dead_lettered} of them dead-lettered by the relay), {self.lagged} lag losses; "
                  f"{self.dropped} dropped by producers after a rejection"
                  + (" (direct producers: counted, by design)" if self.drops_allowed and self.dropped else ""))
        return judge(self.invariant, violations, detail, self.defect)


def judge_drained(final_depth: int, defect: KnownDefect | None = None) -> Verdict:
    """After the drain every slot is back: the controller's depth is 0."""
    return judge("slots_returned", 0 if final_depth == 0 else 1,
                 f"controller depth {final_depth} after the drain", defect)
