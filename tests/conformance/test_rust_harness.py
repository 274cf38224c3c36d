"""The example Rust `exec:` harness (examples/rust/breaker-harness: its own circuit breaker, written
in Rust): the gate finds it conformant in every breaker variant, and its `--mutant` (one failure
late to trip) is killed in every variant.

CI builds it offline with `.ci/rust-harness` and sets RUSTOK_SIM_RUST_HARNESS to the binary; there
a missing binary is a failure. Elsewhere the tests use the default build path, and skip when
nothing has been built (build with `.ci/rust-harness`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from rustok_sim.cli import main
from rustok_sim.conformance.exec_target import exec_factory
from rustok_sim.conformance.gate import COMPONENTS, SuiteVerdict, run_suite, suite_settings

CRATE = Path(__file__).resolve().parents[2] / "examples" / "rust" / "breaker-harness"
DEFAULT_BINARY = CRATE / "target" / "release" / "breaker-harness"
BREAKER = COMPONENTS["circuit_breaker"]
VARIANTS = ("resilience", "standalone", "hardened")  # every variant the harness implements


def _binary() -> Path | None:
    configured = os.environ.get("RUSTOK_SIM_RUST_HARNESS")
    if configured is not None:  # CI: it must be there
        return Path(configured)
    return DEFAULT_BINARY if DEFAULT_BINARY.exists() else None


BINARY = _binary()
needs_binary = pytest.mark.skipif(
    BINARY is None, reason=f"the Rust harness is not built: RUSTOK_SIM_RUST_HARNESS is unset and {DEFAULT_BINARY} "
                           f"does not exist (build it offline with .ci/rust-harness)")


@pytest.fixture(scope="module")
def binary() -> Path:
    assert BINARY is not None
    assert BINARY.is_file() and os.access(BINARY, os.X_OK), (
        f"RUSTOK_SIM_RUST_HARNESS={os.environ.get('RUSTOK_SIM_RUST_HARNESS')!r} is not an executable "
        f"(.ci/rust-harness prints the path it built)")
    return BINARY


def _verdict(binary: Path, variant: str, *flags: str, shrink: bool = True) -> SuiteVerdict:
    factory = exec_factory("circuit_breaker", " ".join([str(binary), *flags]))
    try:
        return run_suite(BREAKER, variant, factory, "rust-harness", suite_settings("ci", shrink=shrink))
    finally:
        factory.close()  # type: ignore[attr-defined]


@needs_binary
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_rust_harness_conforms(binary: Path, variant: str) -> None:
    verdict = _verdict(binary, variant)
    # "inconclusive" is the coverage criterion (a required edge or goal not reached), not a finding.
    assert verdict.status in ("conformant", "inconclusive"), f"{verdict.detail}\nsteps: {verdict.steps}"


@needs_binary
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_rust_harness_mutant_is_killed(binary: Path, variant: str) -> None:
    verdict = _verdict(binary, variant, "--mutant", shrink=False)
    assert verdict.status == "violation", "the gate missed a breaker that trips one failure late"
    assert "differs from the reference" in verdict.detail


@needs_binary
def test_the_rust_mutant_is_killed_through_the_cli(binary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"circuit_breaker=exec:{binary} --mutant"
    assert main(["conform", "--target", target, "--variant", "resilience"]) == 1
    assert "differs from the reference" in capsys.readouterr().out


@needs_binary
def test_the_rust_harness_answers_bad_requests_with_errors(binary: Path) -> None:
    """Protocol errors are replies, not crashes: an unknown version, garbage, no instance yet."""
    requests = [
        '{"v": 2, "id": 1, "t": 0.0, "op": "get", "name": "state"}',
        "not json",
        '{"v": 1, "id": 3, "t": 0.0, "op": "get", "name": "state"}',
        '{"v": 1, "id": 4, "t": 0.0, "op": "new", "component": "circuit_breaker", "config": {"failure_threshold": 0, '
        '"success_threshold": 1, "timeout": 1.0, "half_open_max_requests": null, "variant": "hardened"}}',
        '{"v": 1, "id": 5, "t": 0.0, "op": "new", "component": "circuit_breaker", "config": {"failure_threshold": 1, '
        '"success_threshold": 1, "timeout": 1.0, "half_open_max_requests": null, "variant": "resilience"}}',
        '{"v": 1, "id": 6, "t": 0.0, "op": "call", "method": "try_acquire", "args": []}',
        '{"v": 1, "id": 7, "t": 0.0, "op": "call", "method": "on_failure", "args": [{"permit": "p1"}]}',
        '{"v": 1, "id": 8, "t": 0.25, "op": "call", "method": "try_acquire", "args": []}',
        '{"v": 1, "id": 9, "t": 0.25, "op": "call", "method": "on_success", "args": [{"permit": "p1"}]}',
    ]
    done = subprocess.run([str(binary)], input="\n".join(requests) + "\n", capture_output=True, text=True,
                          timeout=10, check=True)
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r.get("id") for r in replies] == [1, None, 3, 4, 5, 6, 7, 8, 9]
    assert [r["error"]["kind"] for r in replies[:4]] == ["ProtocolError", "ProtocolError", "RuntimeError", "ValueError"]
    assert replies[5] == {"id": 6, "ok": {"permit": "p1"}}
    assert replies[7]["error"] == {"kind": "CircuitOpenError", "message": "Circuit breaker is open, requests blocked",
                                   "fields": {"state": "open", "retry_after": 0.75}}
    assert replies[8]["error"]["kind"] == "PermitError"
