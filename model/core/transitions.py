"""Transition tables: every state machine of the model keeps its legal moves here, as data.

A component module declares one `TransitionTable` (its states, what triggers each move, the guard
in words, and which variants have the edge). The table *decides*: a component never names the
state it moves to, it fires a trigger and the table gives the target (as h11's
``EVENT_TRIGGERED_TRANSITIONS`` does). `TransitionTable.bind(variant)` gives the `Machine` one
variant runs on: a dict from (state, trigger) to target, so firing costs one lookup.

`Machine.fire` is also the one place a transition record is emitted: every state change of every
component goes through it, observed or not, so an undeclared move is an `IllegalTransition`
naming component, state, trigger and variant whether or not anyone watches, and every
`transition` record carries exactly the table's `component` and bare `trigger`. That is what lets
`coverage` join records to tables with no per-component special cases; the conformance suites
read coverage from it and the reports draw state diagrams from the same tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from rustok_sim.model.core.trace import Observer, TraceRecord


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
    """A component fired a trigger its table does not allow in its current state: a bug in the
    model (or in a target under test), never a consequence of input. Names what and where."""

    def __init__(self, component: str, state: str, trigger: str, variant: str | None) -> None:
        self.component, self.state, self.trigger, self.variant = component, state, trigger, variant
        where = f" (variant {variant!r})" if variant is not None else ""
        super().__init__(f"{component}: no transition from state {state!r} on trigger {trigger!r}{where}")


class TransitionTable:
    """The edges of one component's state machine.

    `states` (optional) is the enum whose members the bound machines return as targets, so a
    component keeps its enum-typed state; without it targets are the plain strings of the table.
    A (source, trigger) pair leads to one target per variant: `bind` refuses a table that says
    otherwise, because a trigger that could go two ways would not decide anything (name the
    condition in the trigger instead: ``critical_depth_reached``, not ``acquire``).
    """

    __slots__ = ("component", "edges", "states_enum", "_machines")

    def __init__(self, component: str, edges: Iterable[Edge], *,
                 states: type[Enum] | None = None) -> None:
        self.component = component
        self.edges: tuple[Edge, ...] = tuple(edges)
        self.states_enum = states
        self._machines: dict[str | None, Machine] = {}
        if states is not None:
            unknown = set(self.states()) - {str(member.value) for member in states}
            if unknown:
                raise ValueError(f"{component}: table names states {sorted(unknown)} that "
                                 f"{states.__name__} does not have")

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

    def variants(self) -> tuple[str, ...]:
        """The variants some edge is restricted to (empty when every edge applies to all)."""
        return tuple(sorted({v for edge in self.edges if edge.variants for v in edge.variants}))

    def for_variant(self, variant: str | None) -> tuple[Edge, ...]:
        """The edges that `variant` has (for coverage and diagrams of one variant)."""
        return tuple(edge for edge in self.edges if edge.applies_to(variant))

    def _moves(self, variant: str | None) -> dict[tuple[str, str], Any]:
        moves: dict[tuple[str, str], Any] = {}
        for edge in self.for_variant(variant) if variant is not None else self.edges:
            if variant is None and edge.variants is not None:
                continue
            key = (edge.source, edge.trigger)
            target: Any = edge.target if self.states_enum is None else self.states_enum(edge.target)
            if key in moves and moves[key] != target:
                raise ValueError(f"{self.component}: trigger {edge.trigger!r} from {edge.source!r} leads to "
                                 f"both {moves[key]!r} and {target!r} for variant {variant!r}")
            moves[key] = target
        return moves

    def bind(self, variant: str | None = None) -> Machine:
        """The machine that `variant` runs on (cached: every instance of a variant shares it).
        With variant None only the edges common to all variants are allowed."""
        machine = self._machines.get(variant)
        if machine is None:
            machine = self._machines[variant] = Machine(self, variant, self._moves(variant))
        return machine

    def fire(self, state: str, trigger: str, variant: str | None = None) -> Any:
        """The target of `trigger` from `state`, or `IllegalTransition`. No record is emitted;
        components fire through their bound `Machine`, which emits."""
        return self.bind(variant).target(state, trigger)

    def edge(self, source: str, target: str, trigger: str, variant: str | None = None) -> Edge | None:
        """The declared edge for this move, if any."""
        for edge in self.edges:
            if (edge.source, edge.target, edge.trigger) == (source, target, trigger) and edge.applies_to(variant):
                return edge
        return None


class Machine:
    """One variant's moves of a table, and the one emitter of transition records.

    Stateless: the component keeps its state (one breaker, or one entry per cache key) and asks
    `fire(state, trigger, observer, instance)` for the next one. With an observer, the record
    names the table's component, the instance, both states and the bare trigger; `detail` holds
    anything else the move needs to say (which relay worker, which epoch) and should only be
    built when an observer is present.
    """

    __slots__ = ("table", "component", "variant", "moves", "_records")

    def __init__(self, table: TransitionTable, variant: str | None,
                 moves: dict[tuple[str, str], Any]) -> None:
        self.table, self.component, self.variant, self.moves = table, table.component, variant, moves
        # (state, trigger) -> (target, source text, target text): the record's strings are
        # computed once per edge, not per move (enum `.value` costs more than the lookup).
        self._records: dict[tuple[Any, str], tuple[Any, str, str]] = {
            key: (target, key[0], _plain(target)) for key, target in moves.items()}

    def target(self, state: Any, trigger: str) -> Any:
        target = self.moves.get((state, trigger))
        if target is None:
            raise IllegalTransition(self.component, _plain(state), trigger, self.variant)
        return target

    def fire(self, state: Any, trigger: str, observer: Observer | None, instance: str,
             detail: Mapping[str, Any] | None = None) -> Any:
        """Move from `state` on `trigger`: return the target, emitting the record if observed."""
        move = self._records.get((state, trigger))
        if move is None:
            raise IllegalTransition(self.component, _plain(state), trigger, self.variant)
        if observer is not None:
            observer.transition(self.component, instance, move[1], move[2], trigger, detail)
        return move[0]

    def allows(self, state: Any, trigger: str) -> bool:
        return (state, trigger) in self.moves

    def __repr__(self) -> str:
        return f"Machine({self.component!r}, variant={self.variant!r}, {len(self.moves)} moves)"


def _plain(state: Any) -> str:
    return state.value if isinstance(state, Enum) else state


class EdgeCoverage(NamedTuple):
    """How often a run took each edge of one table, and the transitions it saw that the table
    does not declare (for a trace from another implementation, that is a finding)."""

    component: str
    variant: str | None
    hits: dict[Edge, int]
    undeclared: dict[tuple[str, str, str], int]

    @property
    def covered(self) -> int:
        return sum(1 for count in self.hits.values() if count)

    @property
    def ratio(self) -> float:
        return self.covered / len(self.hits) if self.hits else 1.0

    def missing(self) -> tuple[Edge, ...]:
        return tuple(edge for edge, count in self.hits.items() if not count)


def coverage(records: Iterable[TraceRecord], tables: Iterable[TransitionTable],
             variants: Mapping[str, str | None] | None = None) -> dict[str, EdgeCoverage]:
    """Edge coverage of every table, by joining `transition` records to it on (component,
    from_state, to_state, trigger). `variants` restricts a component to one variant's edges.
    One generic join: a component's records name its table's component and bare triggers."""
    chosen = variants or {}
    result: dict[str, EdgeCoverage] = {}
    index: dict[str, dict[tuple[str, str, str], Edge]] = {}
    for table in tables:
        variant = chosen.get(table.component)
        edges = table.for_variant(variant)
        result[table.component] = EdgeCoverage(table.component, variant, {edge: 0 for edge in edges}, {})
        index[table.component] = {(e.source, e.target, e.trigger): e for e in edges}
    for record in records:
        if record.kind != "transition":
            continue
        component = record.component  # type: ignore[attr-defined]
        by_move = index.get(component)
        if by_move is None:
            continue
        move = (record.from_state, record.to_state, record.trigger)  # type: ignore[attr-defined]
        edge = by_move.get(move)
        cov = result[component]
        if edge is None:
            cov.undeclared[move] = cov.undeclared.get(move, 0) + 1
        else:
            cov.hits[edge] += 1
    return result
