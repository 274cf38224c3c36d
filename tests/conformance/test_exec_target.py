"""`exec:` targets: the example Python harness conforms, its mutant is killed, and a harness that
crashes, answers garbage or hangs is a finding with the step, never a hung gate."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rustok_sim.cli import main
from rustok_sim.conformance.exec_target import exec_factory
from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings

HARNESS = Path(__file__).resolve().parents[2] / "examples" / "python" / "breaker_harness.py"
BREAKER = COMPONENTS["circuit_breaker"]


def command(*extra: str) -> str:
    return " ".join([sys.executable, str(HARNESS), *extra])


def test_the_example_harness_conforms() -> None:
    factory = exec_factory("circuit_breaker", command())
    try:
        verdict = run_suite(BREAKER, "resilience", factory, "harness", suite_settings("ci"))
    finally:
        factory.close()  # type: ignore[attr-defined]
    assert verdict.status == "conformant", verdict.detail


def test_the_harness_mutant_is_killed_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", "--target", f"circuit_breaker=exec:{command('--mutant')}", "--variant", "standalone"]) == 1
    assert "differs from the reference" in capsys.readouterr().out


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "harness.py"
    path.write_text("import json, sys\n" + body, encoding="utf-8")
    return f"{sys.executable} {path}"


NEW_THEN = '''for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "new":
        print(json.dumps({{"id": request["id"], "ok": None}}), flush=True)
        continue
    {after}
'''


@pytest.mark.parametrize(("after", "finding"), [
    ("sys.exit(3)", "target process exited (code 3)"),
    ("print('hello', flush=True)", "is not JSON"),
    ("print(json.dumps({'id': 999, 'ok': None}), flush=True)", "does not answer request"),
    ("import time; time.sleep(30)", "no reply to"),
])
def test_a_broken_harness_is_a_finding_with_its_step(tmp_path: Path, after: str, finding: str) -> None:
    factory = exec_factory("circuit_breaker", _script(tmp_path, NEW_THEN.format(after=after)), timeout=0.5)
    try:
        verdict = run_suite(BREAKER, "resilience", factory, "broken", suite_settings("ci", shrink=False))
    finally:
        factory.close()  # type: ignore[attr-defined]
    assert verdict.status == "violation"
    assert finding in verdict.detail and " after " in verdict.detail


def test_an_exec_target_for_a_component_it_does_not_speak_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", "--target", "backpressure=exec:true"]) == 2
    assert "exec targets speak circuit_breaker, event_validation, tenant_identifiers" in capsys.readouterr().err
    assert main(["conform", "--target", "circuit_breaker=exec:"]) == 2

