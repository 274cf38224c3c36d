"""`rustok-sim conform`: exit 0 for the reference, 1 with a readable shrunk counterexample for a
broken target, 2 for a usage error; the self-test kills every mutant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rustok_sim.cli import main

MUTANT = "rustok_sim.conformance.mutants.circuit_breaker:threshold_off_by_one"


def test_the_reference_is_conformant(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.json"
    assert main(["conform", "--component", "circuit_breaker", "--variant", "resilience", "--json", str(out)]) == 0
    [verdict] = json.loads(out.read_text())
    assert verdict["status"] == "conformant" and verdict["target"] == "reference"


def test_a_broken_target_is_a_violation_with_a_short_counterexample(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "verdicts.json"
    assert main(["conform", "--target", f"circuit_breaker={MUTANT}", "--variant", "standalone",
                 "--json", str(out)]) == 1
    [verdict] = json.loads(out.read_text())
    assert verdict["status"] == "violation" and "differs from the reference" in verdict["detail"]
    assert verdict["steps"][0].startswith("config ")
    assert 2 <= len(verdict["steps"]) <= 12  # shrunk: the config, a few calls, the difference
    assert "counterexample" in capsys.readouterr().out


def test_the_self_test_kills_every_mutant(tmp_path: Path) -> None:
    out = tmp_path / "matrix.json"
    assert main(["conform", "--self-test", "--json", str(out)]) == 0
    matrix = json.loads(out.read_text())
    assert len(matrix) >= 15 and all(row["killed"] for row in matrix)


@pytest.mark.parametrize(("argv", "message"), [
    (["--component", "circuit_breakr"], "did you mean 'circuit_breaker'"),
    (["--variant", "nope"], "no chosen component has variant 'nope'"),
    (["--target", "circuit_breaker"], "expected COMPONENT=module:factory"),
    (["--target", "circuit_breaker=no_such_module_xyz:f"], "cannot import module"),
    (["--target", "cache=rustok_sim.conformance.reference:circuit_breaker"], "unknown component 'cache'"),
    (["--target", "circuit_breaker=rustok_sim.conformance.gate:PROFILES"], "not a factory"),
])
def test_usage_errors_are_one_message_and_exit_2(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_factory_that_returns_no_breaker_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", "--target", "circuit_breaker=builtins:slice", "--variant", "hardened"]) == 2
    assert "does not speak the circuit_breaker protocol" in capsys.readouterr().err


def test_the_verdicts_carry_the_transition_coverage_of_the_run(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.json"
    assert main(["conform", "--component", "circuit_breaker", "--variant", "resilience", "--json", str(out)]) == 0
    [verdict] = json.loads(out.read_text())
    coverage = verdict["coverage"]
    assert coverage["edges"] == 10 and not coverage["missed"]  # CB-B: every edge of its table reached
    assert coverage["covered"]["closed -> open on failure_threshold"] > 0


def test_artifacts_hold_a_state_diagram_per_suite_run(tmp_path: Path) -> None:
    out = tmp_path / "artifacts"
    assert main(["conform", "--component", "backpressure", "--artifacts", str(out)]) == 0
    for variant in ("faithful", "hardened"):
        png, svg = out / f"backpressure-{variant}.png", out / f"backpressure-{variant}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        text = svg.read_text()
        assert "<svg" in text and "critical_depth_reached" in text  # the edge labels are drawn
    assert len(json.loads((out / "verdicts.json").read_text())) == 2


def test_a_violation_leaves_a_runnable_pytest_file_that_reproduces_it(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    out = tmp_path / "artifacts"
    assert main(["conform", "--target", f"circuit_breaker={MUTANT}", "--variant", "hardened",
                 "--artifacts", str(out)]) == 1
    assert "reproduce: rustok-sim conform --component circuit_breaker --variant hardened" in capsys.readouterr().out
    test_file = out / "counterexample-circuit_breaker-hardened.py"
    steps = (out / "counterexample-circuit_breaker-hardened.txt").read_text()
    assert steps.startswith("config ") and "differs from the reference" in steps
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 1 and "differs from the reference" in run.stdout


def test_a_counterexample_trace_replays_to_the_difference_and_its_timeline_is_drawn(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "artifacts"
    assert main(["conform", "--target", f"circuit_breaker={MUTANT}", "--variant", "resilience",
                 "--artifacts", str(out)]) == 1
    stem = out / "counterexample-circuit_breaker-resilience"
    for suffix in ("-timeline.png", "-timeline.svg"):
        assert (out / f"{stem.name}{suffix}").stat().st_size > 1000
    capsys.readouterr()
    # the trace holds what the target did; check-trace replays its inputs through the reference
    assert main(["check-trace", str(stem) + ".trace.jsonl"]) == 1
    printed = capsys.readouterr().out
    assert "circuit_breaker 'target'" in printed and "the reference makes a move the trace does not record" in printed


def test_junit_has_one_case_per_suite_run_and_the_violation_as_a_failure(tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    out = tmp_path / "gate.xml"
    assert main(["conform", "--target", f"circuit_breaker={MUTANT}", "--junit", str(out)]) == 1
    suite = ET.parse(out).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "3" and suite.get("failures") == "3"
    failure = suite.find("testcase/failure")
    assert failure is not None and "differs from the reference" in (failure.get("message") or "")
    assert "reproduce: rustok-sim conform" in (failure.text or "")


def test_a_budget_that_misses_required_coverage_is_inconclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from rustok_sim.conformance import gate

    monkeypatch.setitem(gate.PROFILES, "ci", (2, 3))  # far too small to reach every edge and goal
    out = tmp_path / "verdicts.json"
    assert main(["conform", "--component", "circuit_breaker", "--variant", "resilience", "--json", str(out)]) == 3
    [verdict] = json.loads(out.read_text())
    assert verdict["status"] == "inconclusive"
    assert verdict["coverage"]["required_missed"] and verdict["coverage"]["goals_missed"]
    assert "half_open_closes" in verdict["coverage"]["goals_missed"]
    assert "goals not reached" in capsys.readouterr().out


def test_the_ci_profile_reaches_every_required_edge_and_goal(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.json"
    assert main(["conform", "--component", "circuit_breaker", "--component", "backpressure",
                 "--json", str(out)]) == 0
    for verdict in json.loads(out.read_text()):
        assert verdict["status"] == "conformant", verdict
        assert not verdict["coverage"]["required_missed"] and not verdict["coverage"]["goals_missed"]
        assert verdict["coverage"]["goals"]


def test_a_seeded_run_is_reproducible_and_its_reproduce_command_carries_the_seed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for name in ("a.json", "b.json"):
        out = tmp_path / name
        assert main(["conform", "--target", f"circuit_breaker={MUTANT}", "--variant", "standalone",
                     "--profile", "thorough", "--seed", "7", "--json", str(out)]) == 1
        runs.append(json.loads(out.read_text()))
    assert runs[0] == runs[1] and runs[0][0]["seed"] == 7
    assert "--profile thorough --seed 7" in capsys.readouterr().out.replace("\n", " ")


def test_a_thorough_run_without_a_seed_picks_one_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", "--target", f"circuit_breaker={MUTANT}", "--variant", "standalone",
                 "--profile", "thorough"]) == 1
    printed = capsys.readouterr().out
    assert "pass --seed" in printed and "--seed" in printed.split("reproduce:")[1]
