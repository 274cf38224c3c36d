"""The circuit-breaker conformance suite: the reference conforms to itself in every variant,
every mutant is killed in every variant, and bad targets are one clear error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from rustok_sim.conformance.mutants.circuit_breaker import MUTANTS
from rustok_sim.conformance.reference import circuit_breaker
from rustok_sim.conformance.suites.circuit_breaker import breaker_suite
from rustok_sim.conformance.targets import TargetError, build_target, load_factory
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig

VARIANTS = ("resilience", "standalone", "hardened")
# Fixed, derandomized budgets: the suite's own verdicts must not depend on the run.
PASSING = settings(max_examples=60, stateful_step_count=40, derandomize=True, database=None, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
# A kill needs one failing example, not its shortest form: no shrinking, one error reported.
KILLING = settings(PASSING, max_examples=200, report_multiple_bugs=False,
                   phases=[Phase.explicit, Phase.reuse, Phase.generate])


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_reference_conforms_in_every_variant(variant: str) -> None:
    run_state_machine_as_test(breaker_suite(circuit_breaker, variant, "reference"), settings=PASSING)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_mutant_is_killed(mutant: str, variant: str) -> None:
    with pytest.raises(AssertionError, match="differs from the reference|not an edge"):
        run_state_machine_as_test(breaker_suite(MUTANTS[mutant], variant, mutant), settings=KILLING)


def test_a_bad_target_string_is_one_clear_error() -> None:
    with pytest.raises(TargetError, match="expected 'module:factory'"):
        load_factory("no_colon_here")
    with pytest.raises(TargetError, match="cannot import module 'no_such_module_xyz'"):
        load_factory("no_such_module_xyz:factory")
    with pytest.raises(TargetError, match="has no 'missing'"):
        load_factory("rustok_sim.conformance.reference:missing")
    with pytest.raises(TargetError, match="not a factory"):
        load_factory("rustok_sim.conformance.suites.circuit_breaker:COMPONENT")
    assert load_factory("rustok_sim.conformance.reference:circuit_breaker") is circuit_breaker


def test_a_factory_that_raises_or_returns_the_wrong_thing_is_a_finding_about_the_target() -> None:
    config, clock = CircuitBreakerConfig(), ManualClock()

    def raising(config: Any, clock: Any) -> Any:
        raise RuntimeError("no licence")

    with pytest.raises(TargetError, match="its factory raised RuntimeError: no licence"):
        build_target(raising, config, clock, "circuit_breaker")
    with pytest.raises(TargetError, match="does not speak the circuit_breaker protocol: .*admit: missing"):
        build_target(lambda config, clock: object(), config, clock, "circuit_breaker")
