"""Transactional-outbox invariants over a trace.

- `NoGhosts`: no consumer sees an event whose transaction did not commit. Read: ``transaction``
  ``committed`` / ``rolled_back`` and ``projection`` ``applied`` / ``duplicate`` event records. With
  the outbox transport a rolled-back row never exists; any other transport publishes before the
  outcome is known (spec §3.4).
- `NoZombies`: every event whose transaction committed reaches the projection by the end of the
  run (the drain). The faithful relay never reclaims a row claimed by a worker that died (spec
  §3.6), so a crash after claiming leaves its batch undelivered for good.
- `ProjectionAppliesOnce`: the projection applies each event at most once; a redelivery (the
  outbox is at-least-once) must be recognised as a ``duplicate``.
"""

from __future__ import annotations

from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.conformance.invariants.verdict import KnownDefect, Verdict, judge
from rustok_sim.model.core.trace import TraceRecord

__all__ = ["NoGhosts", "NoZombies", "ProjectionAppliesOnce"]


def _sample(ids: set[str], limit: int = 3) -> str:
    shown = sorted(ids)[:limit]
    return ", ".join(shown) + (" ..." if len(ids) > limit else "")


class NoGhosts:
    invariant = "no_ghosts"
    kinds = frozenset({"event"})

    def __init__(self, defect: KnownDefect | None = None) -> None:
        self.defect = defect
        self.committed: set[str] = set()
        self.delivered: set[str] = set()

    def feed(self, record: TraceRecord) -> None:
        component, action = record.component, record.action  # type: ignore[attr-defined]
        if component == v.TRANSACTION and action == v.COMMITTED:
            self.committed.add(record.event_id)  # type: ignore[attr-defined]
        elif component == v.PROJECTION and action in (v.APPLIED, v.DUPLICATE):
            self.delivered.add(record.event_id)  # type: ignore[attr-defined]

    def verdict(self) -> Verdict:
        ghosts = self.delivered - self.committed
        detail = f"{len(self.delivered)} events delivered, {len(ghosts)} of them never committed"
        if ghosts:
            detail += f" (first: {_sample(ghosts)})"
        return judge(self.invariant, len(ghosts), detail, self.defect)


class NoZombies:
    invariant = "no_zombies"
    kinds = frozenset({"event"})

    def __init__(self, defect: KnownDefect | None = None) -> None:
        self.defect = defect
        self.owed: set[str] = set()
        self.delivered: set[str] = set()
        self.committed = 0

    def feed(self, record: TraceRecord) -> None:
        component, action = record.component, record.action  # type: ignore[attr-defined]
        event_id = record.event_id  # type: ignore[attr-defined]
        if component == v.TRANSACTION and action == v.COMMITTED:
            self.committed += 1
            if event_id not in self.delivered:  # a non-outbox transport delivers before the commit
                self.owed.add(event_id)
        elif component == v.PROJECTION and action in (v.APPLIED, v.DUPLICATE):
            self.delivered.add(event_id)
            self.owed.discard(event_id)

    def verdict(self) -> Verdict:
        detail = f"{self.committed} events committed, {len(self.owed)} never delivered"
        if self.owed:
            detail += f" (first: {_sample(self.owed)})"
        return judge(self.invariant, len(self.owed), detail, self.defect)


class ProjectionAppliesOnce:
    invariant = "projection_applies_once"
    kinds = frozenset({"event"})

    def __init__(self) -> None:
        self.applied: set[str] = set()
        self.twice: set[str] = set()
        self.duplicates = 0

    def feed(self, record: TraceRecord) -> None:
        if record.component != v.PROJECTION:  # type: ignore[attr-defined]
            return
        action, event_id = record.action, record.event_id  # type: ignore[attr-defined]
        if action == v.APPLIED:
            if event_id in self.applied:
                self.twice.add(event_id)
            self.applied.add(event_id)
        elif action == v.DUPLICATE:
            self.duplicates += 1

    def verdict(self) -> Verdict:
        detail = (f"{len(self.applied)} events applied, {len(self.twice)} of them more than once; "
                  f"{self.duplicates} redeliveries recognised as duplicates")
        return judge(self.invariant, len(self.twice), detail, None)
