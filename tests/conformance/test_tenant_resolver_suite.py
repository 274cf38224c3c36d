"""The tenant resolver cache suite: the reference conforms in every variant, reaching every
required cache-entry edge and every goal, and each mutant is killed in every variant where it is
a bug."""

from __future__ import annotations

import pytest

from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings
from rustok_sim.conformance.mutants.tenant_resolver import MUTANTS, VARIANTS_OF
from rustok_sim.conformance.suites.tenant_resolver import VARIANTS, reference_resolver

COMPONENT = COMPONENTS["tenant_resolver"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_reference_conforms_with_full_coverage(variant: str) -> None:
    verdict = run_suite(COMPONENT, variant, reference_resolver, "reference", suite_settings("ci"))
    assert verdict.status == "conformant", verdict.detail
    assert set(verdict.coverage["goals"]) == set(COMPONENT.suite(reference_resolver, variant, "r").goals)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mutant", "variant"),
                         [(m, v) for m in sorted(MUTANTS) for v in VARIANTS_OF.get(m, VARIANTS)])
def test_every_mutant_is_killed(mutant: str, variant: str) -> None:
    verdict = run_suite(COMPONENT, variant, MUTANTS[mutant], mutant, suite_settings("ci", shrink=False))
    assert verdict.status == "violation", f"{mutant} survived in {variant}"
    assert "differs from the reference" in verdict.detail


def test_a_violation_names_the_step_and_the_observable() -> None:
    verdict = run_suite(COMPONENT, "v2", MUTANTS["no_coalescing"], "no_coalescing", suite_settings("ci"))
    assert verdict.status == "violation"
    assert "lookup(" in verdict.detail and "target ('load'" in verdict.detail and "reference ('wait'" in verdict.detail
    assert len(verdict.steps) <= 4  # shrunk: the config and two lookups of one key


def test_a_stale_value_served_after_an_invalidation_is_caught_in_hardened_only() -> None:
    # V1 writes a load that began before an invalidation (its documented defect), hardened does not
    stale = MUTANTS["stale_load_written"]
    assert run_suite(COMPONENT, "v1", stale, "stale", suite_settings("ci", shrink=False)).status == "conformant"
    assert run_suite(COMPONENT, "hardened", stale, "stale", suite_settings("ci", shrink=False)).status == "violation"
