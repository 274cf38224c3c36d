"""The backpressure conformance suite: the reference conforms in both variants and every mutant
is killed in both."""

from __future__ import annotations

import pytest
from hypothesis.stateful import run_state_machine_as_test

from rustok_sim.conformance.gate import suite_settings
from rustok_sim.conformance.mutants.backpressure import MUTANTS
from rustok_sim.conformance.suites.backpressure import backpressure_suite, reference_backpressure

VARIANTS = ("faithful", "hardened")


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_reference_conforms_in_both_variants(variant: str) -> None:
    run_state_machine_as_test(backpressure_suite(reference_backpressure, variant, "reference"),
                              settings=suite_settings("ci"))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_mutant_is_killed(mutant: str, variant: str) -> None:
    with pytest.raises(AssertionError, match="differs from the reference|not an edge"):
        run_state_machine_as_test(backpressure_suite(MUTANTS[mutant], variant, mutant),
                                  settings=suite_settings("ci", shrink=False))


def test_a_release_at_zero_is_compared_too() -> None:
    # faithful wraps the usize, hardened saturates: a target that saturates under faithful differs
    def saturating(config, clock):  # type: ignore[no-untyped-def]
        return reference_backpressure(config.model_copy(update={"variant": "hardened"}), clock)

    with pytest.raises(AssertionError, match="differs from the reference"):
        run_state_machine_as_test(backpressure_suite(saturating, "faithful", "saturating"),
                                  settings=suite_settings("ci", shrink=False))
