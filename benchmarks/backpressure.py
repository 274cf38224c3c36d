"""Backpressure in a simpy M/M/1/K loop: cost per arrival against bare simpy, in one process.

The same seeded arrival process (lambda 9/s, mu 10/s, K 10) runs three ways: bare simpy with a
plain integer queue bound (the baseline), with the controller's non-raising `admit()` /
`release()`, and with its raising `try_acquire()` (the rejection caught, as the bus does).
Rounds are interleaved; each ratio is the median over rounds of the per-round ratio.

Target (issue 7 §6, measured 1.05x before the refit): backpressure in the loop within 1.10x bare
simpy per arrival, through `admit()`. Exit 0 when met, 1 when missed (named), 2 without simpy.
Run: python benchmarks/backpressure.py [--arrivals N] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

from _report import finish, missing_dependency

from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController, BackpressureError

TARGET = 1.10
K = 10


def _run(simpy: Any, arrivals: int, gate: str) -> Callable[[], None]:
    def run() -> None:
        env = simpy.Environment()
        rng = random.Random(7)
        server = simpy.Resource(env, capacity=1)
        controller = BackpressureController(BackpressureConfig(max_queue_depth=K, warning_threshold=0.5,
                                                               critical_threshold=1.0))
        admit, release, try_acquire = controller.admit, controller.release, controller.try_acquire
        depth = [0]

        def serve() -> Any:
            with server.request() as slot:
                yield slot
                yield env.timeout(rng.expovariate(10.0))
            if gate == "bare":
                depth[0] -= 1
            else:
                release()

        def source() -> Any:
            for _ in range(arrivals):
                yield env.timeout(rng.expovariate(9.0))
                if gate == "bare":
                    if depth[0] >= K:
                        continue
                    depth[0] += 1
                elif gate == "admit":
                    if not admit():
                        continue
                else:
                    try:
                        try_acquire()
                    except BackpressureError:
                        continue
                env.process(serve())

        env.process(source())
        env.run()
    return run


def measure(simpy: Any, arrivals: int = 20_000, repeat: int = 7) -> dict[str, float]:
    cases = {gate: _run(simpy, arrivals, gate) for gate in ("bare", "admit", "try_acquire")}
    rounds: dict[str, list[float]] = {gate: [] for gate in cases}
    for _ in range(repeat):
        for gate, run in cases.items():
            rounds[gate].append(timeit.Timer(run).timeit(number=1) / arrivals * 1e6)
    results = {f"{gate}_us_per_arrival": statistics.median(t) for gate, t in rounds.items()}
    for gate in ("admit", "try_acquire"):
        results[f"{gate}_ratio"] = statistics.median(a / b for a, b in zip(rounds[gate], rounds["bare"], strict=True))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--arrivals", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        import simpy
    except ImportError:
        return missing_dependency("backpressure.py", "simpy")
    r = measure(simpy, args.arrivals, args.repeat)
    missed = [] if r["admit_ratio"] <= TARGET else [
        f"admit() in the M/M/1/K loop: {r['admit_ratio']:.3f}x bare simpy > {TARGET}"]
    print(f"bare simpy       {r['bare_us_per_arrival']:6.2f} us/arrival")
    print(f"admit/release    {r['admit_us_per_arrival']:6.2f} us/arrival  {r['admit_ratio']:.3f}x (target <= {TARGET})")
    print(f"try_acquire      {r['try_acquire_us_per_arrival']:6.2f} us/arrival  {r['try_acquire_ratio']:.3f}x")
    return finish(r, missed)


if __name__ == "__main__":
    sys.exit(main())
