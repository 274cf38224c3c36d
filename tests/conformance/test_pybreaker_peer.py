"""pybreaker as a conformance target: the adapter speaks the protocol on a controlled clock, and
every deviation docs/peers.md documents is still found, so a change to pybreaker or to the
adapter makes the doc go stale loudly.

Each finding is a short step list replayed on the adapter and on the reference under one
`ManualClock`, compared after every step exactly as the circuit-breaker suite compares (the same
observables, the same message form); a finding must first show at its *last* step, with the
observable the doc names. A finding shown past an earlier one lists the earlier observables it
ignores. The first finding of each variant is also what the gate itself reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pybreaker", reason="pybreaker is not installed (the `test` and `bench` extras)")

from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings  # noqa: E402
from rustok_sim.conformance.peers.pybreaker_adapter import behaviour_only, circuit_breaker  # noqa: E402
from rustok_sim.conformance.protocols import PROTOCOLS, surface_mismatches  # noqa: E402
from rustok_sim.conformance.reference import circuit_breaker as reference_breaker  # noqa: E402
from rustok_sim.conformance.suites.circuit_breaker import STATS_FIELDS  # noqa: E402
from rustok_sim.conformance.targets import build_target  # noqa: E402
from rustok_sim.model.core.clock import ManualClock  # noqa: E402
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig, CircuitOpenError  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "peers.md"
TARGET = "rustok_sim.conformance.peers.pybreaker_adapter:circuit_breaker"


# -- replaying a step list on the adapter and the reference -------------------------------------


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else repr(value)


def _described(outcome: tuple[str, Any]) -> str:
    kind, value = outcome
    return f"raised {type(value).__name__}: {value}" if kind == "error" else "returned"


def _differs(target: Any, reference: Any) -> bool:
    if isinstance(reference, float) and isinstance(target, (int, float)) and not isinstance(target, bool):
        return abs(target - reference) > 1e-9
    return bool(target != reference)


_ERROR_FIELDS: tuple[tuple[str, Callable[[Exception], Any]], ...] = (
    ("kind", lambda e: type(e).__name__), ("text", str),
    ("state", lambda e: getattr(e, "state", None)), ("retry_after", lambda e: getattr(e, "retry_after", None)))


def _run(side: Any, step: str, permit: Any) -> tuple[str, Any]:
    try:
        if step.endswith("try_acquire"):
            return "ok", side.try_acquire()
        if step.startswith(("on_success", "on_failure")):
            return "ok", getattr(side, step.partition("(")[0])(permit)
        return "ok", getattr(side, step)()
    except Exception as exc:  # noqa: BLE001 - an error is an observable outcome
        return "error", exc


def replay(variant: str, config: dict[str, Any], steps: tuple[str, ...],
           ignore: tuple[str, ...] = ()) -> tuple[int, str] | None:
    """Run `steps` on pybreaker and on the reference; the first difference as (step index, the
    suite's sentence), or None. Steps: ``advance S``, ``pN = try_acquire`` (or a bare
    ``try_acquire`` that is expected to be rejected), ``on_success(pN)``, ``on_failure(pN)``,
    ``open``, ``close``, ``reset``. `ignore` names observables not compared (``failure_count``
    skips it and ``stats().failure_count``)."""
    breaker_config = CircuitBreakerConfig(variant=variant, **config)  # type: ignore[arg-type]
    clock = ManualClock()
    target, reference = circuit_breaker(breaker_config, clock), reference_breaker(breaker_config, clock)
    permits: dict[str, tuple[Any, Any]] = {}

    def sentence(step: str, what: str, got: str, want: str) -> str:
        return f"differs from the reference after {step!r} (t={clock.now:g}): {what}: target {got}, reference {want}"

    for index, step in enumerate(steps):
        if step.startswith("advance "):
            clock.advance(float(step.split()[1]))
        else:
            name = re.search(r"\((p\d+)\)", step)
            pair = permits.get(name.group(1), (None, None)) if name else (None, None)
            got, want = _run(target, step, pair[0]), _run(reference, step, pair[1])
            if " = " in step:
                permits[step.split(" = ")[0]] = (got[1], want[1])
            if got[0] != want[0]:
                return index, sentence(step, "outcome", repr(_described(got)), repr(_described(want)))
            if got[0] == "error":  # as the suite: the kind, the text, then the fields it compares
                for what, read in _ERROR_FIELDS:
                    if f"error {what}" not in ignore and _differs(read(got[1]), read(want[1])):
                        return index, sentence(step, f"error {what}", _text(read(got[1])), _text(read(want[1])))
        observed = [(name, getattr(target, name), getattr(reference, name))
                    for name in ("state", "failure_count", "success_count")]
        observed.append(("retry_after()", target.retry_after(), reference.retry_after()))
        got_stats, want_stats = target.stats(), reference.stats()
        observed += [(f"stats().{name}", getattr(got_stats, name, None), getattr(want_stats, name))
                     for name in STATS_FIELDS]
        for what, got_value, want_value in observed:
            if what in ignore or what.removeprefix("stats().") in ignore:
                continue
            if _differs(got_value, want_value):
                return index, sentence(step, what, _text(got_value), _text(want_value))
    return None


# -- the documented findings ---------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    id: str
    variant: str
    config: dict[str, Any]
    steps: tuple[str, ...]
    expect: str
    """What the difference at the last step must say (the observable and both values)."""
    ignore: tuple[str, ...] = ()
    """Observables of earlier findings that would otherwise show first."""


def _cfg(failure: int = 1, success: int = 1, timeout: float = 1.0, half_open_max: int | None = None) -> dict[str, Any]:
    return {"failure_threshold": failure, "success_threshold": success, "timeout": timeout,
            "half_open_max_requests": half_open_max}


TRIP = ("p1 = try_acquire", "on_failure(p1)")
PROBE = (*TRIP, "advance 1", "p2 = try_acquire")
_COUNTS = ("state_transitions", "failure_count", "success_count", "half_open_requests", "last_failure_time")

FINDINGS = (
    # resilience (CB-B)
    Finding("R1", "resilience", _cfg(), ("close",), "stats().state_transitions: target 1, reference 0"),
    Finding("R2", "resilience", _cfg(success=2), (*PROBE, "on_success(p2)"), "failure_count: target 0, reference 1"),
    Finding("R3", "resilience", _cfg(), (*PROBE, "on_failure(p2)"), "failure_count: target 2, reference 0"),
    Finding("R4", "resilience", _cfg(success=3), (*PROBE, "p3 = try_acquire"),
            "stats().half_open_requests: target 0, reference 1"),
    Finding("R5", "resilience", _cfg(), ("open", "reset"), "stats().last_failure_time: target 0.0, reference None"),
    Finding("R6", "resilience", _cfg(success=2, half_open_max=1), (*PROBE, "p3 = try_acquire"),
            "retry_after(): target 0.0, reference None", _COUNTS),
    Finding("R7", "resilience", _cfg(success=3, half_open_max=1), (*PROBE, "p3 = try_acquire", "p4 = try_acquire"),
            "outcome: target 'returned', reference 'raised CircuitOpenError: Circuit breaker is open, requests blocked'",
            (*_COUNTS, "retry_after()")),
    Finding("R8", "resilience", _cfg(success=2),
            ("p1 = try_acquire", "p2 = try_acquire", "on_failure(p2)", "advance 1", "p3 = try_acquire",
             "on_success(p3)", "on_success(p1)"), "state: target half_open, reference closed", _COUNTS),
    Finding("R9", "resilience", _cfg(success=2),
            (*PROBE, "on_success(p2)", "open", "advance 1", "p3 = try_acquire", "on_success(p3)"),
            "state: target half_open, reference closed", _COUNTS),
    Finding("R10", "resilience", _cfg(success=1),
            (*PROBE, "p3 = try_acquire", "on_failure(p2)", "on_success(p3)"),
            "state: target closed, reference open", _COUNTS),
    Finding("R11", "resilience", _cfg(failure=2), ("p1 = try_acquire", "open", "advance 0.5", "on_failure(p1)"),
            "retry_after(): target 0.5, reference 1.0", _COUNTS),
    Finding("R12", "resilience", _cfg(), ("open", "advance 0.5", "open"), "retry_after(): target 1.0, reference 0.5",
            _COUNTS),
    Finding("R13", "resilience", _cfg(timeout=1.0000004), ("open", "advance 1.0000002", "try_acquire"),
            "outcome: target 'returned', reference 'raised CircuitOpenError", ("retry_after()",)),
    # standalone (CB-A)
    Finding("S1", "standalone", _cfg(half_open_max=2), TRIP, "stats().state_transitions: target 1, reference 0"),
    Finding("S2", "standalone", _cfg(success=2, half_open_max=2), (*PROBE, "on_success(p2)"),
            "failure_count: target 0, reference 1", ("state_transitions",)),
    Finding("S3", "standalone", _cfg(half_open_max=2), (*PROBE, "on_failure(p2)"),
            "failure_count: target 2, reference 1", ("state_transitions",)),
    Finding("S4", "standalone", _cfg(success=3, half_open_max=2), (*PROBE, "p3 = try_acquire"),
            "stats().half_open_requests: target 0, reference 1", ("state_transitions",)),
    Finding("S5", "standalone", _cfg(success=2, half_open_max=2),
            (*PROBE, "p3 = try_acquire", "on_success(p2)", "on_failure(p3)"),
            "success_count: target 0, reference 1", ("state_transitions", "failure_count", "half_open_requests")),
    Finding("S6", "standalone", _cfg(success=3, half_open_max=2),
            (*PROBE, "p3 = try_acquire", "p4 = try_acquire", "p5 = try_acquire"),
            "outcome: target 'returned', reference 'raised CircuitOpenError: Circuit breaker is open'",
            (*_COUNTS, "retry_after()")),
    Finding("S7", "standalone", _cfg(failure=2, success=2, half_open_max=2),
            ("p1 = try_acquire", "p2 = try_acquire", "on_failure(p2)", "p3 = try_acquire", "on_failure(p3)",
             "advance 1", "p4 = try_acquire", "on_success(p4)", "on_failure(p1)"),
            "state: target half_open, reference open", _COUNTS),
    Finding("S8", "standalone", _cfg(timeout=1.0000004, half_open_max=2), (*TRIP, "advance 1.0000002", "try_acquire"),
            "outcome: target 'returned', reference 'raised CircuitOpenError", ("retry_after()", "state_transitions")),
    Finding("S9", "standalone", _cfg(half_open_max=2), ("open",),
            "outcome: target 'returned', reference 'raised AttributeError: open() does not exist"),
    # hardened
    Finding("H1", "hardened", _cfg(), ("close",), "stats().state_transitions: target 1, reference 0"),
    Finding("H2", "hardened", _cfg(success=2), (*PROBE, "on_success(p2)"), "failure_count: target 0, reference 1",
            ("half_open_requests",)),
    Finding("H3", "hardened", _cfg(), (*PROBE, "on_failure(p2)"), "failure_count: target 2, reference 0",
            ("half_open_requests",)),
    Finding("H4", "hardened", _cfg(success=2), PROBE, "stats().half_open_requests: target 0, reference 1"),
    Finding("H5", "hardened", _cfg(), ("open", "reset"), "stats().last_failure_time: target 0.0, reference None"),
    Finding("H6", "hardened", _cfg(), ("p1 = try_acquire", "reset", "on_failure(p1)"),
            "state: target open, reference closed"),
    Finding("H7", "hardened", _cfg(success=2, half_open_max=1), (*PROBE, "p3 = try_acquire"),
            "outcome: target 'returned', reference 'raised CircuitOpenError: Circuit breaker is open, requests blocked'",
            (*_COUNTS, "retry_after()")),
    Finding("H8", "hardened", _cfg(),
            ("p1 = try_acquire", "p2 = try_acquire", "on_failure(p2)", "advance 0.5", "on_failure(p1)"),
            "retry_after(): target 1.0, reference 0.5", _COUNTS),
    Finding("H9", "hardened", _cfg(), (*PROBE, "p3 = try_acquire", "on_failure(p2)", "on_success(p3)"),
            "state: target closed, reference open", _COUNTS),
    Finding("H10", "hardened", _cfg(), ("open", "advance 0.5", "open"), "retry_after(): target 1.0, reference 0.5",
            _COUNTS),
    Finding("H11", "hardened", _cfg(timeout=1.0000004), ("open", "advance 1.0000002", "try_acquire"),
            "outcome: target 'returned', reference 'raised CircuitOpenError", ("retry_after()",)),
)
GATE_FIRST = {"resilience": "R1", "standalone": "S1", "hardened": "H1"}
"""The finding the gate itself reports first against the plain adapter, per variant."""
GATE_FIRST_BEHAVIOUR = {"resilience": "R6", "standalone": "S6", "hardened": "H6"}
"""The finding the gate reports first against `behaviour_only` (reporting differences masked)."""


# -- tests ---------------------------------------------------------------------------------------


def test_the_adapter_speaks_the_circuit_breaker_protocol() -> None:
    config = CircuitBreakerConfig()
    assert surface_mismatches(circuit_breaker(config, ManualClock()), PROTOCOLS["circuit_breaker"]) == []
    build_target(circuit_breaker, config, ManualClock(), "circuit_breaker")


def test_pybreaker_time_is_each_adapters_own_controlled_clock() -> None:
    config = CircuitBreakerConfig(failure_threshold=1, success_threshold=1, timeout=5.0)
    early, late = ManualClock(), ManualClock(100.0)
    first, second = circuit_breaker(config, early), circuit_breaker(config, late)
    for breaker in (first, second):
        breaker.on_failure(breaker.try_acquire())
    assert (first.stats().last_failure_time, second.stats().last_failure_time) == (0.0, 100.0)
    early.advance(5.0 - 1e-6)
    with pytest.raises(CircuitOpenError) as rejected:
        first.try_acquire()
    assert rejected.value.retry_after == pytest.approx(1e-6)
    early.advance(1e-6)  # exactly the timeout after the trip: the probe is admitted
    first.on_success(first.try_acquire())
    assert first.state.value == "closed" and second.state.value == "open"  # the other clock never moved


def test_a_call_reraises_its_own_error_and_counts_as_a_failure() -> None:
    breaker = circuit_breaker(CircuitBreakerConfig(failure_threshold=1), ManualClock())
    def lookup() -> int:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        breaker.call(lookup)
    assert breaker.state.value == "open" and breaker.stats().total_failures == 1
    with pytest.raises(CircuitOpenError, match="requests blocked"):
        breaker.call(lambda: 1)


@pytest.mark.parametrize(("factory", "firsts"), [(circuit_breaker, GATE_FIRST), (behaviour_only, GATE_FIRST_BEHAVIOUR)],
                         ids=["circuit_breaker", "behaviour_only"])
@pytest.mark.parametrize("variant", sorted(GATE_FIRST))
def test_the_gate_reports_the_documented_first_finding(factory: Any, firsts: dict[str, str], variant: str) -> None:
    finding = next(f for f in FINDINGS if f.id == firsts[variant])
    verdict = run_suite(COMPONENTS["circuit_breaker"], variant, factory, TARGET, suite_settings("ci"))
    assert verdict.status == "violation"
    gate_step = finding.steps[-1].split(" = ")[-1].partition("(")[0]  # the gate prints no permit names
    assert f"after {gate_step!r}" in verdict.detail and finding.expect in verdict.detail, verdict.detail


@pytest.mark.parametrize("finding", FINDINGS, ids=[f.id for f in FINDINGS])
def test_each_documented_finding_is_still_found(finding: Finding) -> None:
    found = replay(finding.variant, finding.config, finding.steps, finding.ignore)
    assert found is not None, f"{finding.id}: pybreaker no longer differs here; update docs/peers.md"
    index, detail = found
    assert index == len(finding.steps) - 1, f"{finding.id}: shows earlier, at step {index + 1}: {detail}"
    assert finding.expect in detail, f"{finding.id}: {detail}"


def test_docs_peers_lists_every_finding_with_its_observable() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| \*\*([RSH]\d+)\*\* \|", text, flags=re.MULTILINE))
    assert documented == {f.id for f in FINDINGS}
    for finding in FINDINGS:
        row = next(line for line in text.splitlines() if line.startswith(f"| **{finding.id}** |"))
        assert finding.expect.split(": target")[0] in row, f"{finding.id}: the doc's row names another observable"
