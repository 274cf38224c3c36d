"""The bus + dispatcher conformance suite: the reference pipeline conforms in every variant and
reaches every goal and lifecycle edge under the ci profile; every mutant is killed in every
variant; a target whose bus or controller lacks its surface is one clear error."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis.stateful import run_state_machine_as_test

from rustok_sim.conformance.coverage import EdgeCoverage
from rustok_sim.conformance.gate import suite_settings
from rustok_sim.conformance.mutants.dispatcher import MUTANTS
from rustok_sim.conformance.suites.dispatcher import (
    TRANSITIONS,
    VARIANTS,
    PipelineConfig,
    dispatcher_suite,
    reference_dispatcher,
)
from rustok_sim.conformance.targets import TargetError
from rustok_sim.model.events.dispatcher import EventDispatcher


@cache
def _reference_run(variant: str) -> tuple[EdgeCoverage, AssertionError | None]:
    """One ci run of the reference against itself, with its coverage (shared by two tests)."""
    machine = dispatcher_suite(reference_dispatcher, variant, "reference")
    coverage = EdgeCoverage()
    try:
        run_state_machine_as_test(type(machine.__name__, (machine,), {"coverage": coverage}),
                                  settings=suite_settings("ci"))
    except AssertionError as exc:
        return coverage, exc
    return coverage, None


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_reference_conforms_in_every_variant(variant: str) -> None:
    _, failure = _reference_run(variant)
    assert failure is None, str(failure)


@pytest.mark.parametrize("variant", VARIANTS)
def test_ci_reaches_every_goal_and_lifecycle_edge(variant: str) -> None:
    coverage, _ = _reference_run(variant)
    machine: Any = dispatcher_suite(reference_dispatcher, variant)
    report = coverage.report(TRANSITIONS, variant, machine.goals, machine.optional_edges)
    assert report["goals_missed"] == [], report["goals"]
    assert report["required_missed"] == []
    assert set(coverage.goals) == set(machine.goals)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_mutant_is_killed(mutant: str, variant: str) -> None:
    with pytest.raises(AssertionError, match="differs from the reference|not an edge"):
        run_state_machine_as_test(dispatcher_suite(MUTANTS[mutant], variant, mutant),
                                  settings=suite_settings("ci", shrink=False))


def test_there_are_at_least_five_mutants() -> None:
    assert len(MUTANTS) >= 5


class _BusWithoutOffer:
    """A bus that lacks most of the event_bus surface."""

    backpressure = None

    def publish_envelope(self, envelope: Any) -> None:
        return None


def test_a_target_whose_bus_lacks_the_protocol_is_one_clear_error() -> None:
    def factory(config: PipelineConfig, clock: Any) -> EventDispatcher:
        dispatcher = reference_dispatcher(config, clock)
        return type("Wrapped", (), {name: getattr(dispatcher, name) for name in (
            "register", "handler_count", "start", "stop", "on_work_available", "pump", "next_work",
            "complete", "next_deadline", "is_idle", "stats")} | {
            "state": property(lambda self: dispatcher.state),
            "outstanding": property(lambda self: dispatcher.outstanding),
            "permits_in_use": property(lambda self: dispatcher.permits_in_use),
            "bus": _BusWithoutOffer()})()

    with pytest.raises(TargetError, match="its bus does not speak the event_bus protocol: .*offer_envelope: missing"):
        run_state_machine_as_test(dispatcher_suite(factory, "2026-02-14", "busless"),
                                  settings=suite_settings("ci", shrink=False))


def test_a_target_without_the_configured_controller_is_one_clear_error() -> None:
    def factory(config: PipelineConfig, clock: Any) -> EventDispatcher:
        return reference_dispatcher(config.model_copy(update={"backpressure": None}), clock)

    with pytest.raises(TargetError, match="bus.backpressure is None, but the config has a controller"):
        run_state_machine_as_test(dispatcher_suite(factory, "hardened", "uncontrolled"),
                                  settings=suite_settings("ci", shrink=False))


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="no variant 'faithful'; variants: 2026-02-14, 2026-02-13, hardened"):
        dispatcher_suite(reference_dispatcher, "faithful")
