"""Transition tables: the one declaration of each state machine, and the checks built on it."""

from __future__ import annotations

import pytest

from model import backpressure, cache_backends, circuit_breaker, tenant_resolver
from model.events import dispatcher, relay
from model.transitions import Edge, IllegalTransition, TransitionTable

TABLES = {
    "circuit_breaker": circuit_breaker.TRANSITIONS,
    "backpressure": backpressure.TRANSITIONS,
    "event_dispatcher": dispatcher.TRANSITIONS,
    "sys_event": relay.ROW_TRANSITIONS,
    "cache_entry": cache_backends.ENTRY_TRANSITIONS,
    "tenant_resolver": tenant_resolver.LOAD_TRANSITIONS,
}


def test_check_refuses_undeclared_moves_and_variant_specific_edges():
    table = TransitionTable("toy", (Edge("a", "b", "go"), Edge("b", "a", "back", variants=frozenset({"x"}))))
    assert table.check("a", "b", "go").target == "b"
    assert table.check("b", "a", "back", "x")
    with pytest.raises(IllegalTransition, match="toy: undeclared transition b -> a on 'back' for variant 'y'"):
        table.check("b", "a", "back", "y")
    with pytest.raises(IllegalTransition):
        table.check("a", "a", "go")
    assert table.target_of("a", "go") == "b" and table.target_of("a", "back") is None
    assert table.states() == ("a", "b") and table.triggers() == ("go", "back")
    assert [e.trigger for e in table.for_variant("y")] == ["go"]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_model_table_is_well_formed(name):
    table = TABLES[name]
    assert table.component == name
    assert len(table) == len(set(table.edges)), "duplicate edge"
    for edge in table:
        assert edge.source and edge.target and edge.trigger and edge.guard, edge
        assert isinstance(edge.source, str) and type(edge.source) is str, "states are plain strings"


def test_breaker_table_states_match_the_enum():
    assert set(circuit_breaker.TRANSITIONS.states()) == {s.value for s in circuit_breaker.CircuitState}
    assert set(backpressure.TRANSITIONS.states()) == {s.value for s in backpressure.BackpressureState}
