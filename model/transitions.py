"""Transition tables: every state machine of the model keeps its legal moves here, as data.

A component module declares one `TransitionTable` (its states, what triggers each move, the guard
in words, and which variants have the edge) and fires its state changes through `check`, which
refuses any move the table does not declare. The conformance suites read the same tables for
transition coverage ("which edges did a run exercise") and the reports draw state diagrams from
them, so code, coverage and diagrams cannot drift apart.
"""

from __future__ import annotations

from typing import Iterable, Iterator, NamedTuple


class Edge(NamedTuple):
    """One legal move: `source` --`trigger`--> `target`, when `guard` (prose) holds.

    States and triggers are plain strings (an enum state is given by its value). `variants` is
    None when every variant of the component has the edge, else the set of those that do.
    """

    source: str
    target: str
    trigger: str
    guard: str = ""
    variants: frozenset[str] | None = None

    def applies_to(self, variant: str | None) -> bool:
        return self.variants is None or variant is None or variant in self.variants


class IllegalTransition(AssertionError):
    """The model tried a move its own table does not declare: a bug in the model, not in input."""


class TransitionTable:
    """The edges of one component's state machine, indexed for the checks the model makes."""

    __slots__ = ("component", "edges", "_by_move", "_by_trigger")

    def __init__(self, component: str, edges: Iterable[Edge]) -> None:
        self.component = component
        self.edges: tuple[Edge, ...] = tuple(edges)
        self._by_move: dict[tuple[str, str, str], list[Edge]] = {}
        self._by_trigger: dict[tuple[str, str], list[Edge]] = {}
        for edge in self.edges:
            self._by_move.setdefault((edge.source, edge.target, edge.trigger), []).append(edge)
            self._by_trigger.setdefault((edge.source, edge.trigger), []).append(edge)

    def __iter__(self) -> Iterator[Edge]:
        return iter(self.edges)

    def __len__(self) -> int:
        return len(self.edges)

    def __repr__(self) -> str:
        return f"TransitionTable({self.component!r}, {len(self.edges)} edges)"

    def states(self) -> tuple[str, ...]:
        """Every state named by an edge, in order of first appearance."""
        seen: dict[str, None] = {}
        for edge in self.edges:
            seen.setdefault(edge.source)
            seen.setdefault(edge.target)
        return tuple(seen)

    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(edge.trigger for edge in self.edges))

    def for_variant(self, variant: str) -> tuple[Edge, ...]:
        """The edges that `variant` has (for coverage and diagrams of one variant)."""
        return tuple(edge for edge in self.edges if edge.applies_to(variant))

    def find(self, source: str, target: str, trigger: str, variant: str | None = None) -> Edge | None:
        for edge in self._by_move.get((source, target, trigger), ()):
            if edge.applies_to(variant):
                return edge
        return None

    def check(self, source: str, target: str, trigger: str, variant: str | None = None) -> Edge:
        """The edge for this move, or `IllegalTransition` if the table does not declare it."""
        edge = self.find(source, target, trigger, variant)
        if edge is None:
            where = f" for variant {variant!r}" if variant is not None else ""
            raise IllegalTransition(f"{self.component}: undeclared transition {source} -> {target} "
                                    f"on {trigger!r}{where}")
        return edge

    def target_of(self, source: str, trigger: str, variant: str | None = None) -> str | None:
        """Where `trigger` leads from `source` (None if nowhere); for machines driven by trigger."""
        for edge in self._by_trigger.get((source, trigger), ()):
            if edge.applies_to(variant):
                return edge.target
        return None
