"""Arrivals per wall second: bare simpy M/M/1/K against the `mmck` story, and the peak memory of a
one-million-arrival `mmck` run.

Baseline: the idiomatic simpy M/M/1/K (one process per customer on a `simpy.Resource`; the same
function as `benchmarks/dispatcher.py`'s ``bare_simpy``), lambda 9, mu 10, K 10. Measured case:
the `mmck` story with the same knobs through `run_story` exactly as `rustok-sim run` runs it:
real envelopes through the `EventBus`, its `BackpressureController` and an `EventDispatcher`,
the trace at ``transitions`` kept in memory (a `ListSink`), the invariant checkers fed as the
run goes, and the story's own measurement (blocking series, time-weighted depth, sojourn times,
the drain). The two alternate in each round; the ratio is the median of per-round ratios.

Memory: a fresh interpreter runs a 1,000,000-arrival `mmck` and reports its peak resident set
(`ru_maxrss`), once with the trace streamed to a file (what ``rustok-sim run --out`` does) and
once with the transition trace kept in memory (what ``STORY.run(config, seed)`` returns).

Targets (issue 8): the story at most 2.5x the bare simpy cost per arrival; a one-million-arrival
run within 1 GiB. Run: python benchmarks/flood.py [--arrivals N] [--rounds R] [--memory-arrivals M]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    import simpy  # noqa: F401 - the baseline needs it
except ImportError:  # pragma: no cover
    from _report import missing_dependency
    sys.exit(missing_dependency("flood.py", "simpy"))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import finish  # noqa: E402
from dispatcher import LAMBDA, MU, K, bare  # noqa: E402

from rustok_sim.scenarios.stories.mmck import MmckConfig, run  # noqa: E402

TARGET_RATIO = 2.5
TARGET_MEMORY_MIB = 1024.0

_MEMORY_PROBE = """
import json, resource, sys, tempfile, time, pathlib
from rustok_sim.scenarios.stories.mmck import MmckConfig, run
arrivals, stream = int(sys.argv[1]), sys.argv[2] == "stream"
LAMBDA, MU, K = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
config = MmckConfig(**{"lambda": LAMBDA, "mu": MU, "c": 1, "K": K, "arrivals": arrivals})
start = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "trace.jsonl" if stream else None
    result = run(config, 1, trace_path=path)
    size = path.stat().st_size if path is not None else 0
elapsed = time.perf_counter() - start
print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": elapsed, "trace_bytes": size,
                  "records": result.metrics["trace_records"], "p_block": result.metrics["p_block"]}))
"""


def story(arrivals: int, seed: int) -> dict[str, int]:
    result = run(MmckConfig(**{"lambda": LAMBDA, "mu": MU, "c": 1, "K": K, "arrivals": arrivals}), seed)
    return {"rejected": result.metrics["rejected"]}


def speed(arrivals: int, rounds: int) -> dict[str, object]:
    times: dict[str, list[float]] = {"bare_simpy": [], "mmck_story": []}
    for _ in range(rounds):
        for name, case in (("bare_simpy", lambda: bare(arrivals, 7)), ("mmck_story", lambda: story(arrivals, 7))):
            gc.collect()
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    ratio = statistics.median(s / b for s, b in zip(times["mmck_story"], times["bare_simpy"], strict=True))
    per_second = {name: arrivals / statistics.median(t) for name, t in times.items()}
    return {"arrivals": arrivals, "rounds": rounds, "arrivals_per_second": per_second, "ratio": ratio}


def memory(arrivals: int, stream: bool) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(arrivals), "stream" if stream else "memory",
                          str(LAMBDA), str(MU), str(K)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrivals", type=int, default=100_000, help="arrivals per speed run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; the median counts")
    parser.add_argument("--memory-arrivals", type=int, default=1_000_000, help="arrivals of the memory runs")
    args = parser.parse_args(argv)
    if args.arrivals < 100 or args.rounds < 1 or args.memory_arrivals < 100:
        parser.error("--arrivals and --memory-arrivals must be at least 100, --rounds at least 1")
    results: dict[str, object] = {"speed": speed(args.arrivals, args.rounds)}
    results["memory_streamed"] = memory(args.memory_arrivals, stream=True)
    results["memory_in_memory_trace"] = memory(args.memory_arrivals, stream=False)
    speed_result = results["speed"]
    assert isinstance(speed_result, dict)
    rates = speed_result["arrivals_per_second"]
    print(f"bare simpy {rates['bare_simpy']:,.0f} arrivals/s; mmck story {rates['mmck_story']:,.0f} arrivals/s; "
          f"ratio {speed_result['ratio']:.2f}x (target <= {TARGET_RATIO}x)", file=sys.stderr)
    missed = []
    if speed_result["ratio"] > TARGET_RATIO:
        missed.append(f"mmck story is {speed_result['ratio']:.2f}x bare simpy per arrival (target {TARGET_RATIO}x)")
    for key in ("memory_streamed", "memory_in_memory_trace"):
        peak = results[key]["peak_rss_mib"]  # type: ignore[index]
        print(f"{key}: {args.memory_arrivals:,} arrivals, peak RSS {peak:,.0f} MiB", file=sys.stderr)
        if key == "memory_streamed" and peak > TARGET_MEMORY_MIB:
            missed.append(f"a {args.memory_arrivals}-arrival mmck run peaked at {peak:.0f} MiB (target {TARGET_MEMORY_MIB:.0f})")
    return finish(results, missed)


if __name__ == "__main__":
    sys.exit(main())
