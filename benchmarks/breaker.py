"""ns per call: our circuit breaker vs pybreaker, in one process (ratios are what count).

For every variant: a successful `call` while Closed and a rejected `call` while Open (raised and
caught in the loop, as a caller would), the same rejection with an observer that keeps only
transitions, and the non-raising split path (`admit()` + `on_success`, and `admit()` returning
None while Open). Rounds are interleaved (every case once per round, so load from other processes
hits all of them alike); each ratio is the median over rounds of the per-round ratio.

Targets (issue 7): `call` <= 0.20x pybreaker closed and open, for every variant; a rejection with
a transition-only observer costs no more than without one (<= 1.05x, the noise of a round).
Exit 0 when every target is met, 1 when one is missed (named), 2 when pybreaker is missing.
Run: python benchmarks/breaker.py [--number N] [--repeat R] [--json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable

from _report import finish, missing_dependency

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitOpenError

VARIANTS = ("resilience", "standalone", "hardened")
CALL_TARGET = 0.20
OBSERVED_TARGET = 1.05


def _ok() -> int:
    return 1


def _closed_call(call: Callable[..., object], number: int) -> Callable[[], None]:
    def loop() -> None:
        for _ in range(number):
            call(_ok)
    return loop


def _open_call(call: Callable[..., object], error: type[BaseException], number: int) -> Callable[[], None]:
    def loop() -> None:
        for _ in range(number):
            try:
                call(_ok)
            except error:
                pass
    return loop


def _closed_split(breaker: CircuitBreaker, number: int) -> Callable[[], None]:
    admit, on_success = breaker.admit, breaker.on_success

    def loop() -> None:
        for _ in range(number):
            permit = admit()
            if permit is not None:
                _ok()
                on_success(permit)
    return loop


def _open_split(breaker: CircuitBreaker, number: int) -> Callable[[], None]:
    admit = breaker.admit

    def loop() -> None:
        for _ in range(number):
            if admit() is not None:
                raise RuntimeError("an open breaker admitted a call")
    return loop


def measure(pybreaker, number: int = 50_000, repeat: int = 9) -> dict[str, float]:  # type: ignore[no-untyped-def]
    clock = ManualClock()
    theirs = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    theirs_open = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    theirs_open.open()
    cases: dict[str, Callable[[], None]] = {
        "pybreaker_closed": _closed_call(theirs.call, number),
        "pybreaker_open": _open_call(theirs_open.call, pybreaker.CircuitBreakerError, number),
    }
    breakers = []
    for variant in VARIANTS:
        config = CircuitBreakerConfig(variant=variant)
        closed = CircuitBreaker(config, clock=clock)
        opened = CircuitBreaker(config, clock=clock)
        observed = CircuitBreaker(config, clock=clock, observer=TraceRecorder(clock, kinds={"transition"}))
        split_closed = CircuitBreaker(config, clock=clock)
        split_open = CircuitBreaker(config, clock=clock)
        for breaker in (opened, observed, split_open):
            for _ in range(config.failure_threshold):  # trip it the way an outage would
                breaker.on_failure(breaker.try_acquire())
        breakers += [(closed, "closed"), (opened, "open"), (observed, "open"), (split_closed, "closed"),
                     (split_open, "open")]
        cases[f"{variant}_call_closed"] = _closed_call(closed.call, number)
        cases[f"{variant}_call_open"] = _open_call(opened.call, CircuitOpenError, number)
        cases[f"{variant}_call_open_observed"] = _open_call(observed.call, CircuitOpenError, number)
        cases[f"{variant}_admit_closed"] = _closed_split(split_closed, number)
        cases[f"{variant}_admit_open"] = _open_split(split_open, number)
    rounds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, loop in cases.items():
            rounds[name].append(timeit.Timer(loop).timeit(number=1) / number * 1e9)
    for breaker, state in breakers:
        if breaker.state.value != state:
            raise RuntimeError(f"benchmark breaker {breaker!r} left its intended state {state}")
    results = {f"{name}_ns": statistics.median(times) for name, times in rounds.items()}

    def ratio(name: str, base: str) -> float:
        return statistics.median(a / b for a, b in zip(rounds[name], rounds[base], strict=True))

    for variant in VARIANTS:
        for kind in ("closed", "open"):
            results[f"{variant}_call_{kind}_ratio"] = ratio(f"{variant}_call_{kind}", f"pybreaker_{kind}")
            results[f"{variant}_admit_{kind}_ratio"] = ratio(f"{variant}_admit_{kind}", f"pybreaker_{kind}")
        results[f"{variant}_observed_over_unobserved"] = ratio(f"{variant}_call_open_observed",
                                                              f"{variant}_call_open")
    return results


def misses(r: dict[str, float]) -> list[str]:
    found = []
    for variant in VARIANTS:
        for kind in ("closed", "open"):
            value = r[f"{variant}_call_{kind}_ratio"]
            if value > CALL_TARGET:
                found.append(f"{variant} call {kind}: {value:.3f}x pybreaker > {CALL_TARGET}")
        value = r[f"{variant}_observed_over_unobserved"]
        if value > OBSERVED_TARGET:
            found.append(f"{variant} rejection with a transition-only observer: {value:.3f}x the "
                         f"unobserved one > {OBSERVED_TARGET}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--number", type=int, default=50_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=9, help="interleaved rounds; medians are kept")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    args = parser.parse_args(argv)
    try:
        import pybreaker
    except ImportError:
        return missing_dependency("breaker.py", "pybreaker")
    r = measure(pybreaker, args.number, args.repeat)
    missed = misses(r)
    if not args.json:
        print(f"pybreaker: closed {r['pybreaker_closed_ns']:.0f} ns, open {r['pybreaker_open_ns']:.0f} ns per call")
        print(f"{'variant':<11} {'path':<22} {'ns':>6} {'x pybreaker':>12}")
        for variant in VARIANTS:
            for path, kind in (("call closed", "closed"), ("call open (raises)", "open"),
                               ("admit+on_success", "closed"), ("admit open (None)", "open")):
                key = f"{variant}_{path.split()[0].split('+')[0]}_{kind}"
                print(f"{variant:<11} {path:<22} {r[key + '_ns']:6.0f} {r[key + '_ratio']:12.3f}")
            print(f"{variant:<11} {'call open, observed':<22} {r[f'{variant}_call_open_observed_ns']:6.0f} "
                  f"{r[f'{variant}_observed_over_unobserved']:9.3f} x unobserved")
        print("targets: call <= 0.20x pybreaker closed and open; observed rejection <= 1.05x unobserved")
    return finish(r, missed)


if __name__ == "__main__":
    sys.exit(main())
