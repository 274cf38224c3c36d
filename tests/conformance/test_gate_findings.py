"""Findings the gate must report as verdicts, not crashes: a target that answers differently when
Hypothesis replays the same steps, an exec target that dies (with what it wrote to stderr); and a
counterexample trace that names the target's moves with the triggers the reference gave them."""

from __future__ import annotations

import math
import sys
from itertools import count
from pathlib import Path
from typing import Any

from rustok_sim.conformance.exec_target import exec_factory
from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings
from rustok_sim.model.core.trace import Transition
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker

BREAKER = COMPONENTS["circuit_breaker"]


class _CeilingRetryAfter(CircuitBreaker):
    """Rounds retry_after up to whole seconds."""

    def retry_after(self) -> float | None:
        value = super().retry_after()
        return None if value is None else float(math.ceil(value))


def test_a_target_that_differs_on_replay_is_a_violation_not_a_crash() -> None:
    built = count()

    def sometimes_broken(config: Any, clock: Any) -> CircuitBreaker:
        # Only the 5th instance is broken (it starts open): replaying its example builds a 6th,
        # which is not.
        breaker = CircuitBreaker(config, clock=clock, name="flaky")
        if next(built) == 5:
            breaker.open()
        return breaker

    verdict = run_suite(BREAKER, "resilience", sometimes_broken, "flaky", suite_settings("ci"))
    assert verdict.status == "violation"
    assert "flaky is not deterministic" in verdict.detail


def test_the_counterexample_trace_uses_the_reference_s_trigger_for_the_same_move() -> None:
    def factory(config: Any, clock: Any) -> CircuitBreaker:
        return _CeilingRetryAfter(config, clock=clock, name="ceiling")

    verdict = run_suite(BREAKER, "resilience", factory, "ceiling", suite_settings("ci"))
    assert verdict.status == "violation" and "retry_after" in verdict.detail
    moves = [r for r in verdict.trace if isinstance(r, Transition)]
    reference = {(r.from_state, r.to_state, r.trigger) for r in moves if r.instance != "target"}
    target = [(r.from_state, r.to_state, r.trigger) for r in moves if r.instance == "target"]
    assert target and all(move in reference for move in target), (target, reference)


def test_an_exec_target_that_dies_reports_its_stderr(tmp_path: Path) -> None:
    script = tmp_path / "dying.py"
    script.write_text("import json, sys\n"
                      "request = json.loads(sys.stdin.readline())\n"
                      "print(json.dumps({'id': request['id'], 'ok': None}), flush=True)\n"
                      "sys.stdin.readline()\n"
                      "sys.stderr.write('panicked at src/main.rs:12\\n')\n"
                      "sys.exit(101)\n", encoding="utf-8")
    factory = exec_factory("circuit_breaker", f"{sys.executable} {script}", timeout=5)
    try:
        verdict = run_suite(BREAKER, "resilience", factory, "dying", suite_settings("ci", shrink=False))
    finally:
        factory.close()  # type: ignore[attr-defined]
    assert verdict.status == "violation"
    assert "exited (code 101)" in verdict.detail and "panicked at src/main.rs:12" in verdict.detail
