"""Transition coverage of a suite run: which edges of a component's table the reference took
while the suite drove it (counted by trigger), and which edges of the variant it never reached."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rustok_sim.model.core.trace import TraceRecord
from rustok_sim.model.core.transitions import TransitionTable

__all__ = ["EdgeCoverage"]


class EdgeCoverage:
    """A trace sink counting ``transition`` records as (source, target, trigger)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def accept(self, record: TraceRecord) -> None:
        self.counts[(record.from_state, record.to_state, record.trigger)] += 1  # type: ignore[attr-defined]

    def wants(self, kind: str, component: str | None = None) -> bool:
        return kind == "transition"

    def report(self, table: TransitionTable, variant: str) -> dict[str, Any]:
        edges = [(e.source, e.target, e.trigger) for e in table.for_variant(variant)]
        covered = {f"{s} -> {t} on {g}": self.counts[(s, t, g)] for s, t, g in edges if self.counts[(s, t, g)]}
        missed = [f"{s} -> {t} on {g}" for s, t, g in edges if not self.counts[(s, t, g)]]
        return {"edges": len(edges), "covered": covered, "missed": missed}
