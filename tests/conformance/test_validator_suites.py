"""The two property suites, event validation and tenant identifiers: the reference conforms and
reaches every goal (one per rule of every variant, every outcome of every validator, every length
boundary, every reserved slug), every mutant is killed where it is a bug, the findings read as the
one input that differs, and both speak the exec protocol through the example Python harness."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

from rustok_sim.cli import main
from rustok_sim.conformance.exec_target import exec_factory
from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings
from rustok_sim.conformance.protocols import PROTOCOLS, surface_mismatches
from rustok_sim.model.events.domain import VARIANTS_BY_NAME
from rustok_sim.model.events.validator import SNAPSHOTS, EventValidator
from rustok_sim.model.tenancy.validation import RESERVED_SLUGS, TenantIdentifierValidator

HARNESS = Path(__file__).resolve().parents[2] / "examples" / "python" / "validator_harness.py"
EVENTS, IDENTIFIERS = COMPONENTS["event_validation"], COMPONENTS["tenant_identifiers"]
CASES = [(EVENTS, variant) for variant in EVENTS.variants] + [(IDENTIFIERS, "rustok")]


@pytest.mark.parametrize(("component", "variant"), CASES, ids=lambda c: getattr(c, "name", c))
def test_the_reference_conforms_and_reaches_every_goal(component, variant) -> None:  # type: ignore[no-untyped-def]
    verdict = run_suite(component, variant, component.reference, "reference", suite_settings("ci"))
    assert verdict.status == "conformant", verdict.detail
    assert not verdict.coverage["goals_missed"]


def test_event_goals_are_one_per_rule_of_every_variant_of_the_snapshot() -> None:
    machine = EVENTS.suite(EVENTS.reference, "2026-02-13", "reference")
    rule_goals = [goal for goal in machine.goals if "#" in goal]  # type: ignore[attr-defined]
    assert len(rule_goals) == sum(len(VARIANTS_BY_NAME[name].rules) for name in SNAPSHOTS["2026-02-13"])
    assert not any(goal.startswith("TopicSplit#") for goal in rule_goals)  # added after 02-13


def test_identifier_goals_cover_every_reserved_slug() -> None:
    machine = IDENTIFIERS.suite(IDENTIFIERS.reference, "rustok", "reference")
    assert {g for g in machine.goals if g.startswith("reserved ")} == {  # type: ignore[attr-defined]
        f"reserved {slug!r} refused" for slug in RESERVED_SLUGS}


MUTANT_RUNS = [(component, mutant, variant) for component in (EVENTS, IDENTIFIERS)
               for mutant in sorted(component.mutants)
               for variant in component.mutant_variants.get(mutant, component.variants)]


@pytest.mark.parametrize(("component", "mutant", "variant"), MUTANT_RUNS,
                         ids=lambda c: getattr(c, "name", c))
def test_every_mutant_is_killed(component, mutant, variant) -> None:  # type: ignore[no-untyped-def]
    verdict = run_suite(component, variant, component.mutants[mutant], mutant, suite_settings("ci", shrink=False))
    assert verdict.status == "violation" and "differs from the reference" in verdict.detail


def test_a_mutant_that_is_right_at_an_early_snapshot_conforms_there() -> None:
    # The validator that knows only the 39 variants of 02-13 is the reference at 02-13.
    verdict = run_suite(EVENTS, "2026-02-13", EVENTS.mutants["early_snapshot"], "early", suite_settings("ci"))
    assert verdict.status == "conformant", verdict.detail


def test_a_finding_names_the_input_and_both_outcomes() -> None:
    verdict = run_suite(IDENTIFIERS, "rustok", IDENTIFIERS.mutants["python_strip"], "strip", suite_settings("ci"))
    assert verdict.status == "violation"
    assert "Identifier cannot be empty" in verdict.detail  # the mutant trims U+001C..U+001F away
    assert verdict.steps[-1].startswith("validate_")
    events = run_suite(EVENTS, "2026-03-11", EVENTS.mutants["character_length"], "chars", suite_settings("ci"))
    assert "exceeds maximum length" in events.detail and '"type": ' in events.steps[-1]


def test_the_cli_shows_only_the_failing_input_of_a_stateless_component(capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    (tmp_path / "my_validator.py").write_text(
        "from rustok_sim.conformance.mutants.event_validation import MUTANTS\n"
        "factory = MUTANTS['python_alphanumeric']\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a target module in the working directory imports
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert main(["conform", "--target", "event_validation=my_validator:factory", "--variant", "2026-03-11",
                 "--artifacts", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "stateless component" in out and "goals not reached" not in out
    assert (tmp_path / "out" / "counterexample-event_validation-2026-03-11.txt").exists()
    assert not list((tmp_path / "out").glob("*.png"))  # no table, so no state diagram and no timeline


def test_the_references_speak_their_protocols() -> None:
    assert surface_mismatches(EventValidator, PROTOCOLS["event_validation"], strict=True) == []
    # The Rust associated functions are static methods; an instance's plain methods pass too.
    assert surface_mismatches(TenantIdentifierValidator, PROTOCOLS["tenant_identifiers"], strict=True) == []
    assert surface_mismatches(IDENTIFIERS.mutants["character_length"](None, None), PROTOCOLS["tenant_identifiers"]) == []


def _harness(*extra: str) -> str:
    return " ".join([sys.executable, str(HARNESS), *extra])


@pytest.mark.parametrize(("component", "variant"), CASES, ids=lambda c: getattr(c, "name", c))
def test_the_example_exec_harness_conforms_and_its_mutant_is_killed(component, variant) -> None:  # type: ignore[no-untyped-def]
    few = settings(suite_settings("ci", shrink=False), max_examples=60)  # a process round trip per call
    for flag, expected in (("", {"conformant", "inconclusive"}), ("--mutant", {"violation"})):
        factory = exec_factory(component.name, _harness(flag))
        try:
            verdict = run_suite(component, variant, factory, "harness", few)
        finally:
            factory.close()  # type: ignore[attr-defined]
        assert verdict.status in expected, verdict.detail
        if flag:
            assert "differs from the reference" in verdict.detail
