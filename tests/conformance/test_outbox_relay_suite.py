"""The outbox relay conformance suite: the reference conforms in both variants and the ci profile
reaches every goal and every required edge of the row table; every mutant is killed in every
variant where it is a bug (both, unless `VARIANTS_OF` names fewer)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis.stateful import run_state_machine_as_test

from rustok_sim.conformance.gate import Component, SuiteVerdict, run_suite, suite_settings
from rustok_sim.conformance.mutants.outbox_relay import MUTANTS, VARIANTS_OF
from rustok_sim.conformance.suites.outbox_relay import (
    COMPONENT,
    FAITHFUL_GOALS,
    HARDENED_GOALS,
    VARIANTS,
    reference_relay,
    relay_suite,
)
from rustok_sim.conformance.targets import TargetError
from rustok_sim.model.events.relay import ROW_TRANSITIONS

RELAY = Component(COMPONENT, VARIANTS, relay_suite, reference_relay, ROW_TRANSITIONS, MUTANTS)
KILLED = "differs from the reference|not an edge|lost committed|ghost|without its downstream"


@pytest.fixture(scope="module", params=VARIANTS)
def reference_run(request: pytest.FixtureRequest) -> SuiteVerdict:
    """One ci run of the reference against itself per variant, through the gate (with coverage)."""
    return run_suite(RELAY, request.param, reference_relay, "reference", suite_settings("ci"))


def test_the_reference_conforms_in_both_variants(reference_run: SuiteVerdict) -> None:
    assert reference_run.status != "violation", reference_run.detail


def test_the_ci_profile_reaches_every_goal(reference_run: SuiteVerdict) -> None:
    assert reference_run.coverage["goals_missed"] == []
    assert reference_run.status == "conformant", reference_run.detail


def test_the_ci_profile_reaches_every_required_edge(reference_run: SuiteVerdict) -> None:
    assert reference_run.coverage["required_missed"] == []


@pytest.mark.parametrize(("mutant", "variant"), [(mutant, variant) for mutant in sorted(MUTANTS)
                                                   for variant in VARIANTS_OF.get(mutant, VARIANTS)])
def test_every_mutant_is_killed_where_it_is_a_bug(mutant: str, variant: str) -> None:
    with pytest.raises(AssertionError, match=KILLED):
        run_state_machine_as_test(relay_suite(MUTANTS[mutant], variant, mutant),
                                  settings=suite_settings("ci", shrink=False))


def test_variant_specific_mutants_name_real_mutants_and_variants() -> None:
    assert set(VARIANTS_OF) <= set(MUTANTS)
    assert all(set(variants) <= set(VARIANTS) for variants in VARIANTS_OF.values())


def test_a_killed_mutant_names_the_operation_and_the_observable() -> None:
    verdict = run_suite(RELAY, "hardened", MUTANTS["retries_uncounted"], "retries_uncounted",
                        suite_settings("ci"))
    assert verdict.status == "violation"
    assert "metrics().retry_total: target 0, reference 1" in verdict.detail
    assert verdict.steps[0].startswith("config ")


def test_goals_follow_the_variant() -> None:
    assert relay_suite(reference_relay, "hardened").goals == HARDENED_GOALS  # type: ignore[attr-defined]
    assert relay_suite(reference_relay, "faithful").goals == FAITHFUL_GOALS  # type: ignore[attr-defined]
    assert "reclaimed_exactly_at_lease_expiry" in HARDENED_GOALS
    assert "reclaimed_exactly_at_lease_expiry" not in FAITHFUL_GOALS


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="no variant 'standalone'"):
        relay_suite(reference_relay, "standalone")


def test_a_target_without_the_relay_surface_is_a_target_error() -> None:
    def not_a_relay(setup: Any, clock: Any) -> object:
        return object()

    with pytest.raises(TargetError, match="does not speak the outbox_relay protocol"):
        run_state_machine_as_test(relay_suite(not_a_relay, "faithful", "not_a_relay"),
                                  settings=suite_settings("ci", shrink=False))
