"""ns per call: our circuit breaker vs pybreaker, in one process (ratios are what count).

Two cases: a successful call while Closed, and a rejected call while Open (the rejection is
raised and caught in the loop, as a caller would). Run: python benchmarks/breaker.py
Targets (issue 2): ours <= 0.25x pybreaker closed and <= 0.2x open.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit

import pybreaker
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitOpenError


def _ok() -> int:
    return 1


def measure(number: int = 200_000, repeat: int = 7) -> dict[str, float]:
    """Fastest of `repeat` rounds per case, in ns per call. The cases are interleaved within
    each round so that load from other processes hits ours and pybreaker alike."""
    clock = ManualClock()
    ours = CircuitBreaker(CircuitBreakerConfig(), clock=clock)
    ours_open = CircuitBreaker(CircuitBreakerConfig(), clock=clock)
    ours_open.open()
    theirs = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    theirs_open = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    theirs_open.open()

    def closed_loop(breaker):
        call = breaker.call

        def loop():
            for _ in range(number):
                call(_ok)
        return loop

    def open_loop(breaker, error):
        call = breaker.call

        def loop():
            for _ in range(number):
                try:
                    call(_ok)
                except error:
                    pass
        return loop

    def baseline_loop():
        for _ in range(number):
            _ok()

    cases = {
        "baseline_direct_call_ns": baseline_loop,
        "ours_closed_ns": closed_loop(ours),
        "pybreaker_closed_ns": closed_loop(theirs),
        "ours_open_ns": open_loop(ours_open, CircuitOpenError),
        "pybreaker_open_ns": open_loop(theirs_open, pybreaker.CircuitBreakerError),
    }
    best = {name: float("inf") for name in cases}
    for _ in range(repeat):
        for name, loop in cases.items():
            best[name] = min(best[name], timeit.Timer(loop).timeit(number=1) / number * 1e9)
    if ours.state.value != "closed" or ours_open.state.value != "open":
        raise RuntimeError("benchmark breakers left their intended state")
    results = dict(best)
    results["ratio_closed"] = results["ours_closed_ns"] / results["pybreaker_closed_ns"]
    results["ratio_open"] = results["ours_open_ns"] / results["pybreaker_open_ns"]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs; the fastest is kept")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    r = measure(args.number, args.repeat)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"direct call baseline          {r['baseline_direct_call_ns']:8.0f} ns")
    print(f"closed, success   ours {r['ours_closed_ns']:8.0f} ns   pybreaker {r['pybreaker_closed_ns']:8.0f} ns"
          f"   ratio {r['ratio_closed']:.3f} (target <= 0.25)")
    print(f"open, rejected    ours {r['ours_open_ns']:8.0f} ns   pybreaker {r['pybreaker_open_ns']:8.0f} ns"
          f"   ratio {r['ratio_open']:.3f} (target <= 0.20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
