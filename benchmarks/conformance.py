"""Steps per wall second of the conformance gate's circuit-breaker suite, next to a trivial state
machine's in the same process, and the whole ``ci`` gate's wall time.

A step is one rule run by Hypothesis (the invariants run after each). Baseline: a trivial
`RuleBasedStateMachine` (one rule adding to a counter, one invariant reading it) under the same
settings, which is what Hypothesis itself costs per step. Measured: the breaker suite
(`rustok_sim.conformance.suites.circuit_breaker`) over its three variants with the ``ci`` profile
(200 examples, up to 40 steps, derandomized), first with the in-process reference as target,
then through the example exec harnesses (the Rust one when built: ``.ci/rust-harness`` prints its
path, or set ``RUSTOK_SIM_RUST_HARNESS``; and the Python one). The trivial machine and the
in-process suite alternate over the rounds; each figure is the median round.

Last, the wall time of ``rustok-sim conform`` over every component with the ``ci`` profile.

Targets (issue 11): the breaker suite at least 1,500 steps/s with the reference as target, at
least 500 steps/s through the Rust exec harness; the whole ``ci`` gate within 120 s.
Run: python benchmarks/conformance.py [--rounds R] [--no-gate]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _report import finish
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from rustok_sim.conformance.exec_target import exec_factory
from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings

TARGET_REFERENCE = 1500.0
TARGET_RUST = 500.0
TARGET_GATE_S = 120.0
ROOT = Path(__file__).resolve().parent.parent
RUST_BINARY = ROOT / "examples/rust/breaker-harness/target/release/breaker-harness"
PYTHON_HARNESS = f"{sys.executable} {ROOT / 'examples/python/breaker_harness.py'}"


class _Trivial(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    @rule()
    def add(self) -> None:
        self.total += 1

    @invariant()
    def non_negative(self) -> None:
        assert self.total >= 0


def _counted(machine: type[RuleBasedStateMachine]) -> tuple[type[RuleBasedStateMachine], dict[str, int]]:
    counts = {"checks": 0, "examples": 0}

    class Counted(machine):  # type: ignore[valid-type, misc]
        def check_invariants(self, *args: Any, **kwargs: Any) -> Any:
            counts["checks"] += 1
            return super().check_invariants(*args, **kwargs)

        def teardown(self) -> None:
            counts["examples"] += 1
            super().teardown()

    return Counted, counts


def _steps_per_second(machine: type[RuleBasedStateMachine]) -> tuple[float, int]:
    counted, counts = _counted(machine)
    start = time.perf_counter()
    run_state_machine_as_test(counted, settings=suite_settings("ci"))
    elapsed = time.perf_counter() - start
    steps = counts["checks"] - counts["examples"]  # one invariant check per example before any rule
    return steps / elapsed, steps


def _breaker(factory_of: Callable[[], Any]) -> tuple[float, int]:
    component = COMPONENTS["circuit_breaker"]
    steps = 0
    elapsed = 0.0
    for variant in component.variants:
        factory = factory_of()
        try:
            rate, count = _steps_per_second(component.suite(factory, variant, "bench"))
        finally:
            getattr(factory, "close", lambda: None)()
        steps += count
        elapsed += count / rate
    return steps / elapsed, steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-gate", action="store_true", help="skip the whole-gate wall time")
    args = parser.parse_args()
    reference = COMPONENTS["circuit_breaker"].reference
    trivial_rates, reference_rates = [], []
    steps = 0
    for _ in range(args.rounds):
        trivial_rates.append(_steps_per_second(_Trivial)[0])
        rate, steps = _breaker(lambda: reference)
        reference_rates.append(rate)
    results: dict[str, Any] = {
        "trivial_machine_steps_per_s": round(statistics.median(trivial_rates)),
        "breaker_suite_reference_steps_per_s": round(statistics.median(reference_rates)),
        "breaker_suite_steps_per_run": steps,
        "reference_vs_trivial": round(statistics.median(reference_rates) / statistics.median(trivial_rates), 3),
    }
    missed = []
    if results["breaker_suite_reference_steps_per_s"] < TARGET_REFERENCE:
        missed.append(f"breaker suite with the reference: {results['breaker_suite_reference_steps_per_s']} "
                      f"steps/s < {TARGET_REFERENCE:g}")
    rust = os.environ.get("RUSTOK_SIM_RUST_HARNESS") or (str(RUST_BINARY) if RUST_BINARY.exists() else None)
    if rust:
        results["breaker_suite_rust_exec_steps_per_s"] = round(_breaker(lambda: exec_factory("circuit_breaker", rust))[0])
        if results["breaker_suite_rust_exec_steps_per_s"] < TARGET_RUST:
            missed.append(f"breaker suite through the Rust harness: {results['breaker_suite_rust_exec_steps_per_s']} "
                          f"steps/s < {TARGET_RUST:g}")
    else:
        results["breaker_suite_rust_exec_steps_per_s"] = "not built (run .ci/rust-harness)"
    results["breaker_suite_python_exec_steps_per_s"] = round(
        _breaker(lambda: exec_factory("circuit_breaker", PYTHON_HARNESS))[0])
    if not args.no_gate:
        start = time.perf_counter()
        config = suite_settings("ci")
        statuses = {}
        for component in COMPONENTS.values():
            for variant in component.variants:
                verdict = run_suite(component, variant, component.reference, "reference", config)
                statuses[f"{component.name}/{variant}"] = verdict.status
        results["ci_gate_wall_s"] = round(time.perf_counter() - start, 1)
        results["ci_gate_verdicts"] = statuses
        if results["ci_gate_wall_s"] > TARGET_GATE_S:
            missed.append(f"the ci gate over every component took {results['ci_gate_wall_s']} s > {TARGET_GATE_S:g}")
    return finish(results, missed)


if __name__ == "__main__":
    sys.exit(main())
