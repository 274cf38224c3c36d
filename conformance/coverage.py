"""Transition coverage of a suite run: which edges of a component's table the reference took
while the suite drove it (counted by trigger), which edges of the variant it never reached, and
how often each named "sometimes" goal of the suite (a situation worth reaching at least once,
such as a half-open episode that closes) was reached."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from rustok_sim.model.core.trace import TraceRecord
from rustok_sim.model.core.transitions import TransitionTable

__all__ = ["EdgeCoverage"]


class EdgeCoverage:
    """A trace sink counting ``transition`` records as (source, target, trigger)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.goals: Counter[str] = Counter()

    def reached(self, goal: str) -> None:
        self.goals[goal] += 1

    def accept(self, record: TraceRecord) -> None:
        self.counts[(record.from_state, record.to_state, record.trigger)] += 1  # type: ignore[attr-defined]

    def wants(self, kind: str, component: str | None = None) -> bool:
        return kind == "transition"

    def report(self, table: TransitionTable | None, variant: str, goals: Mapping[str, str] | None = None,
               optional: Iterable[tuple[str, str, str]] = ()) -> dict[str, Any]:
        """Edges covered (with counts) and missed; ``required_missed`` are the missed edges not in
        `optional`; goals reached (with counts) and ``goals_missed``. A run with anything in
        ``required_missed`` or ``goals_missed`` is inconclusive."""
        edges = [(e.source, e.target, e.trigger) for e in table.for_variant(variant)] if table else []
        covered = {_edge(*e): self.counts[e] for e in edges if self.counts[e]}
        missed = [e for e in edges if not self.counts[e]]
        skip = set(optional)
        goals = goals or {}
        return {"edges": len(edges), "covered": covered, "missed": [_edge(*e) for e in missed],
                "required_missed": [_edge(*e) for e in missed if e not in skip],
                "goals": {name: self.goals[name] for name in goals if self.goals[name]},
                "goals_missed": [name for name in goals if not self.goals[name]]}


def _edge(source: str, target: str, trigger: str) -> str:
    return f"{source} -> {target} on {trigger}"
