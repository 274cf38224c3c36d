"""Transition tables: the one declaration of each state machine, and the checks built on it."""

from __future__ import annotations

from enum import Enum

import pytest

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.core.transitions import Edge, IllegalTransition, TransitionTable, coverage
from rustok_sim.model.events import dispatcher, relay
from rustok_sim.model.resilience import backpressure, circuit_breaker
from rustok_sim.model.tenancy import cache as cache_backends
from rustok_sim.model.tenancy import resolver as tenant_resolver

TABLES = {
    "circuit_breaker": circuit_breaker.TRANSITIONS,
    "backpressure": backpressure.TRANSITIONS,
    "event_dispatcher": dispatcher.TRANSITIONS,
    "event_dispatch": dispatcher.DISPATCH,
    "handler_work": dispatcher.WORK,
    "sys_event": relay.ROW_TRANSITIONS,
    "cache_entry": cache_backends.ENTRY_TRANSITIONS,
    "tenant_resolver": tenant_resolver.LOAD_TRANSITIONS,
}


def test_the_table_decides_the_target_and_refuses_undeclared_triggers():
    table = TransitionTable("toy", (Edge("a", "b", "go"), Edge("b", "a", "back", variants=frozenset({"x"}))))
    assert table.fire("a", "go") == "b"
    assert table.fire("b", "back", "x") == "a"
    with pytest.raises(IllegalTransition, match="toy: no transition from state 'b' on trigger 'back' "
                                                r"\(variant 'y'\)") as info:
        table.fire("b", "back", "y")
    assert (info.value.component, info.value.state, info.value.trigger, info.value.variant) == ("toy", "b", "back", "y")
    with pytest.raises(IllegalTransition):
        table.fire("b", "go")
    assert table.states() == ("a", "b") and table.triggers() == ("go", "back")
    assert [e.trigger for e in table.for_variant("y")] == ["go"]


def test_a_bound_machine_is_the_one_emitter_and_emits_only_when_observed():
    recorder = TraceRecorder(ManualClock())
    machine = TransitionTable("toy", (Edge("a", "b", "go"),)).bind()
    assert machine.fire("a", "go", None, "t1") == "b" and len(recorder) == 0
    assert machine.fire("a", "go", recorder, "t1", {"worker": "w1"}) == "b"
    (record,) = recorder.transitions()
    assert (record.component, record.instance, record.from_state, record.to_state, record.trigger,
            record.detail) == ("toy", "t1", "a", "b", "go", {"worker": "w1"})
    with pytest.raises(IllegalTransition):
        machine.fire("b", "go", recorder, "t1")
    assert len(recorder) == 1, "an illegal move emits nothing"


def test_enum_states_come_back_as_enum_members():
    class S(str, Enum):
        A = "a"
        B = "b"
    machine = TransitionTable("toy", (Edge("a", "b", "go"),), states=S).bind()
    assert machine.fire(S.A, "go", None, "x") is S.B


def test_a_trigger_that_could_go_two_ways_is_refused_when_bound():
    table = TransitionTable("toy", (Edge("a", "b", "go"), Edge("a", "c", "go")))
    with pytest.raises(ValueError, match="leads to both"):
        table.bind()


def test_coverage_joins_records_to_tables_and_reports_undeclared_moves():
    table = TransitionTable("toy", (Edge("a", "b", "go"), Edge("b", "a", "back"), Edge("b", "c", "end")))
    recorder = TraceRecorder(ManualClock())
    machine = table.bind()
    machine.fire(machine.fire("a", "go", recorder, "1"), "back", recorder, "1")
    machine.fire("a", "go", recorder, "2")
    recorder.transition("toy", "3", "c", "a", "teleport")
    recorder.transition("other", "1", "x", "y", "z")
    cov = coverage(recorder.records, [table])["toy"]
    assert cov.hits == {table.edges[0]: 2, table.edges[1]: 1, table.edges[2]: 0}
    assert cov.covered == 2 and cov.missing() == (table.edges[2],)
    assert cov.undeclared == {("c", "a", "teleport"): 1}


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


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_model_table_binds_for_every_variant(name):
    table = TABLES[name]
    for variant in (None, *table.variants()):
        assert table.bind(variant).moves, variant
