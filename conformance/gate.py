"""The conformance gate: which suites exist, how a profile sizes them, and running a suite (or the
mutant self-test) to a verdict.

A suite run ends in one `SuiteVerdict`: ``conformant`` (the budget of examples found no
difference), or ``violation`` with the counterexample's message (the step and the observable
that differed) and the steps that led there. Hypothesis shrinks a violation before it is
reported, except in the self-test, where one failing example is enough to call a mutant killed.

Components: ``circuit_breaker``, ``backpressure``, ``tenant_resolver`` (the resolver cache),
``outbox_relay`` and ``event_dispatcher`` (bus and dispatcher slot accounting), each in all its
variants; and two stateless ones with property suites: ``event_validation`` (per snapshot of the
Rust code) and ``tenant_identifiers``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from rustok_sim.conformance.coverage import EdgeCoverage
from rustok_sim.conformance.exec_target import TargetProtocolError, exec_factory
from rustok_sim.conformance.mutants import backpressure as backpressure_mutants
from rustok_sim.conformance.mutants import circuit_breaker as breaker_mutants
from rustok_sim.conformance.mutants import dispatcher as dispatcher_mutants
from rustok_sim.conformance.mutants import event_validation as event_validation_mutants
from rustok_sim.conformance.mutants import outbox_relay as relay_mutants
from rustok_sim.conformance.mutants import tenant_identifiers as identifier_mutants
from rustok_sim.conformance.mutants import tenant_resolver as resolver_mutants
from rustok_sim.conformance.reference import circuit_breaker as reference_breaker
from rustok_sim.conformance.suites.backpressure import backpressure_suite, reference_backpressure
from rustok_sim.conformance.suites.circuit_breaker import breaker_suite
from rustok_sim.conformance.suites.dispatcher import VARIANTS as DISPATCHER_VARIANTS
from rustok_sim.conformance.suites.dispatcher import dispatcher_suite, reference_dispatcher
from rustok_sim.conformance.suites.event_validation import VARIANTS as EVENT_VALIDATION_VARIANTS
from rustok_sim.conformance.suites.event_validation import event_validation_suite, reference_event_validator
from rustok_sim.conformance.suites.outbox_relay import reference_relay, relay_suite
from rustok_sim.conformance.suites.tenant_identifiers import VARIANTS as IDENTIFIER_VARIANTS
from rustok_sim.conformance.suites.tenant_identifiers import identifier_suite, reference_identifier_validator
from rustok_sim.conformance.suites.tenant_resolver import reference_resolver, resolver_suite
from rustok_sim.conformance.targets import Factory, TargetError, load_factory
from rustok_sim.model.core.transitions import TransitionTable
from rustok_sim.model.events.dispatcher import TRANSITIONS as DISPATCHER_TABLE
from rustok_sim.model.events.relay import ROW_TRANSITIONS
from rustok_sim.model.resilience.backpressure import TRANSITIONS as BACKPRESSURE_TABLE
from rustok_sim.model.resilience.circuit_breaker import TRANSITIONS as BREAKER_TABLE
from rustok_sim.model.tenancy.cache import ENTRY_TRANSITIONS

__all__ = ["COMPONENTS", "PROFILES", "Component", "GateError", "SuiteVerdict", "run_suite", "self_test",
           "suite_settings"]

Profile = Literal["ci", "thorough"]


class GateError(ValueError):
    """A usage error of the gate (unknown component or variant, bad target): exit 2."""


@dataclass(frozen=True)
class Component:
    name: str
    variants: tuple[str, ...]
    suite: Callable[[Factory, str, str], type[RuleBasedStateMachine]]
    reference: Factory
    table: TransitionTable | None
    """None for a stateless component (a validator): its suite is a property suite, with goals
    and no edges."""
    mutants: Mapping[str, Factory]
    mutant_variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Mutants that are bugs only in some variants -> those variants (the rest: all of them)."""
    examples_share: float = 1.0
    """The share of a profile's examples this suite runs: below 1 for a suite whose every step
    does many operations (the event validation suite validates about 15 payloads a step)."""


COMPONENTS: dict[str, Component] = {
    "circuit_breaker": Component("circuit_breaker", ("resilience", "standalone", "hardened"), breaker_suite,
                                 reference_breaker, BREAKER_TABLE, breaker_mutants.MUTANTS),
    "backpressure": Component("backpressure", ("faithful", "hardened"), backpressure_suite,
                              reference_backpressure, BACKPRESSURE_TABLE, backpressure_mutants.MUTANTS),
    "tenant_resolver": Component("tenant_resolver", ("v2", "v1", "hardened"), resolver_suite, reference_resolver,
                                 ENTRY_TRANSITIONS, resolver_mutants.MUTANTS, resolver_mutants.VARIANTS_OF),
    "outbox_relay": Component("outbox_relay", ("faithful", "hardened"), relay_suite, reference_relay, ROW_TRANSITIONS,
                              relay_mutants.MUTANTS, relay_mutants.VARIANTS_OF),
    "event_dispatcher": Component("event_dispatcher", DISPATCHER_VARIANTS, dispatcher_suite, reference_dispatcher,
                                  DISPATCHER_TABLE, dispatcher_mutants.MUTANTS,
                                  getattr(dispatcher_mutants, "VARIANTS_OF", {})),
    "event_validation": Component("event_validation", EVENT_VALIDATION_VARIANTS, event_validation_suite,
                                  reference_event_validator, None, event_validation_mutants.MUTANTS,
                                  event_validation_mutants.VARIANTS_OF, examples_share=0.25),
    "tenant_identifiers": Component("tenant_identifiers", IDENTIFIER_VARIANTS, identifier_suite,
                                    reference_identifier_validator, None, identifier_mutants.MUTANTS),
}

PROFILES: dict[str, tuple[int, int]] = {"ci": (200, 40), "thorough": (2000, 100)}
"""profile -> (examples per suite and variant, steps per example)."""


def suite_settings(profile: Profile, *, shrink: bool = True) -> settings:
    """The Hypothesis settings of a profile: ``ci`` is derandomized (the same examples every
    run); ``thorough`` explores many more, randomly."""
    if profile not in PROFILES:
        raise GateError(f"unknown profile {profile!r}; use ci or thorough")
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])
    examples, steps = PROFILES[profile]
    return settings(derandomize=profile == "ci", database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False,
                    phases=phases, max_examples=examples, stateful_step_count=steps)


@dataclass
class SuiteVerdict:
    component: str
    variant: str
    target: str
    status: Literal["conformant", "violation", "inconclusive"]
    detail: str = ""
    steps: list[str] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    trace: list[Any] = field(default_factory=list)
    """A violation's counterexample as trace records (the reference's, and the target's moves)."""
    config: dict[str, Any] | None = None
    """A violation's counterexample config (the component's config model, as JSON)."""
    timeline: list[tuple[float | None, str, str | None, str | None]] = field(default_factory=list)
    """A violation's counterexample, per operation: (virtual time, operation, target state,
    reference state)."""
    edge_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(source, target, trigger) -> times the reference took it: what the state diagram draws."""

    def as_dict(self) -> dict[str, Any]:
        return {"component": self.component, "variant": self.variant, "target": self.target,
                "status": self.status, "detail": self.detail, "steps": self.steps, "coverage": self.coverage,
                "seed": self.seed}


def component_named(name: str) -> Component:
    component = COMPONENTS.get(name)
    if component is None:
        close = difflib.get_close_matches(name, list(COMPONENTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(COMPONENTS))}"
        raise GateError(f"unknown component {name!r}{hint}")
    return component


def parse_targets(specs: Sequence[str]) -> dict[str, tuple[str, Factory]]:
    """``COMPONENT=module:factory`` options, checked: component -> (spec, factory)."""
    out: dict[str, tuple[str, Factory]] = {}
    for spec in specs:
        name, equals, target = spec.partition("=")
        if not equals:
            raise GateError(f"--target {spec!r}: expected COMPONENT=module:factory")
        component_named(name)
        if target.startswith("exec:"):
            command = target[len("exec:"):].strip()
            if not command:
                raise GateError(f"--target {spec!r}: exec: needs a command")
            try:
                out[name] = (target, exec_factory(name, command))
            except ValueError as exc:
                raise GateError(f"--target {spec!r}: {exc}") from None
            continue
        try:
            out[name] = (target, load_factory(target))
        except TargetError as exc:
            raise GateError(str(exc)) from None
    return out


def run_suite(component: Component, variant: str, factory: Factory, target: str, config: settings,
              seed_value: int | None = None) -> SuiteVerdict:
    """One suite run to a verdict. `seed_value` fixes Hypothesis's random choices (it overrides
    the ``ci`` profile's derandomization): the same seed, target and profile explore the same
    examples, so a ``thorough`` finding is reproducible."""
    if variant not in component.variants:
        raise GateError(f"{component.name} has no variant {variant!r}; variants: {', '.join(component.variants)}")
    machine = component.suite(factory, variant, target)
    if component.examples_share != 1.0:
        config = settings(config, max_examples=max(1, round(config.max_examples * component.examples_share)))
    coverage = EdgeCoverage()
    seen: list[list[str]] = []
    traces: list[tuple[list[Any], list[Any], dict[str, Any] | None]] = []

    def keep_steps(self: Any) -> None:
        if hasattr(self, "steps"):
            seen.append(list(self.steps))
            config = getattr(self, "config", None)
            traces.append((list(getattr(getattr(self, "trace_sink", None), "records", [])),
                           list(getattr(self, "timeline", [])),
                           _as_json(config)))
    runner = type(machine.__name__, (machine,), {"teardown": keep_steps, "coverage": coverage})
    if seed_value is not None:
        runner = seed(seed_value)(runner)
    try:
        run_state_machine_as_test(runner, settings=config)
    except TargetError as exc:
        raise GateError(str(exc)) from None
    except AssertionError as exc:
        verdict = SuiteVerdict(component.name, variant, target, "violation", str(exc), seen[-1] if seen else [])
    except Flaky as exc:  # FlakyStrategyDefinition, FlakyFailure, FlakyReplay
        # Hypothesis replays a failing example to shrink it; a target that then answers
        # differently (state kept between examples, the wall clock, randomness) is a finding.
        verdict = SuiteVerdict(component.name, variant, target, "violation",
                               f"{target} is not deterministic: the same operations, replayed, gave another "
                               f"outcome ({type(exc).__name__}); does it keep state between instances or read the "
                               f"wall clock?", seen[-1] if seen else [])
    except TargetProtocolError as exc:  # raised while reading the target's state after a step
        steps = seen[-1] if seen else []
        after = f" after {steps[-1]!r}" if steps else ""
        verdict = SuiteVerdict(component.name, variant, target, "violation", f"{target} failed{after}: {exc}", steps)
    else:
        verdict = SuiteVerdict(component.name, variant, target, "conformant")
    verdict.seed = seed_value
    if verdict.status == "violation" and traces:
        verdict.trace, verdict.timeline, verdict.config = traces[-1]
    verdict.coverage = coverage.report(component.table, variant, getattr(machine, "goals", {}),
                                        getattr(machine, "optional_edges", ()))
    verdict.edge_counts = dict(coverage.counts)
    if verdict.status == "conformant" and (verdict.coverage["required_missed"] or verdict.coverage["goals_missed"]):
        unreached = verdict.coverage["required_missed"] + [f"goal {g!r}" for g in verdict.coverage["goals_missed"]]
        verdict.status = "inconclusive"
        verdict.detail = f"no difference found, but the budget ran out before reaching: {'; '.join(unreached)}"
    return verdict


def _as_json(config: Any) -> dict[str, Any] | None:
    dump = getattr(config, "model_dump", None)
    return dump(mode="json") if callable(dump) else None


def self_test(components: Sequence[Component], profile: Profile,
              seed_value: int | None = None) -> list[tuple[str, str, str, bool]]:
    """Every mutant of each component against its suite in every variant: (component, mutant,
    variant, killed)."""
    config = suite_settings(profile, shrink=False)
    matrix = []
    for component in components:
        for mutant, factory in component.mutants.items():
            for variant in component.mutant_variants.get(mutant, component.variants):
                verdict = run_suite(component, variant, factory, mutant, config, seed_value)
                matrix.append((component.name, mutant, variant, verdict.status == "violation"))
    return matrix
