"""Trace cost per record, for each sink, against a bare slotted object of the same shape.

    python benchmarks/trace.py [--records N] [--rounds R] [--json]

Measures, in one process and interleaved rounds (median of rounds), the cost of one
`TraceRecorder.transition(...)` / `decision(...)` call into each sink, and the cost a component
pays for a kind nobody keeps (`observer_for` gives None: one attribute test). The baseline is
building a bare slotted object with the same fields and appending it to a list, the least any
in-memory trace can cost. Exits 1 if a target is missed, 0 otherwise.

Targets: the list sink within 2.5x the bare baseline; the count-only sink no dearer than the
list sink; a filtered-out kind costs under 0.2x the baseline (it builds nothing).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import (
    CountSink,
    FilterSink,
    JsonlSink,
    ListSink,
    TraceRecorder,
    observer_for,
)


class BareRecord:
    __slots__ = ("seq", "t", "component", "instance", "from_state", "to_state", "trigger", "detail")

    def __init__(self, seq, t, component, instance, from_state, to_state, trigger, detail):
        self.seq, self.t, self.component, self.instance = seq, t, component, instance
        self.from_state, self.to_state, self.trigger, self.detail = from_state, to_state, trigger, detail


def bare(n: int) -> float:
    clock = ManualClock()
    out: list[BareRecord] = []
    append = out.append
    start = time.perf_counter()
    for i in range(n):
        append(BareRecord(i, clock(), "circuit_breaker", "redis", "closed", "open", "failure_threshold", None))
    return time.perf_counter() - start


def through(make_recorder, n: int, kind: str = "transition") -> float:
    recorder = make_recorder()
    start = time.perf_counter()
    if kind == "transition":
        emit = recorder.transition
        for _ in range(n):
            emit("circuit_breaker", "redis", "closed", "open", "failure_threshold")
    else:
        emit = recorder.decision
        for _ in range(n):
            emit("circuit_breaker", "redis", "rejected", "circuit_open")
    elapsed = time.perf_counter() - start
    sink = recorder.sink
    if isinstance(sink, JsonlSink):
        sink.close()
    return elapsed


def skipped(n: int) -> float:
    """What a component pays for an unwanted kind: it holds None and tests it."""
    recorder = TraceRecorder(ManualClock(), kinds={"transition"})
    decisions = observer_for(recorder, "decision")
    start = time.perf_counter()
    for _ in range(n):
        if decisions is not None:
            decisions.decision("circuit_breaker", "redis", "rejected", "circuit_open")
    return time.perf_counter() - start


CASES = {
    "list sink": lambda n: through(lambda: TraceRecorder(ManualClock()), n),
    "count-only sink": lambda n: through(lambda: TraceRecorder(ManualClock(), sink=CountSink()), n),
    "filter sink (kept)": lambda n: through(
        lambda: TraceRecorder(ManualClock(), sink=FilterSink(ListSink(), kinds={"transition"})), n),
    "JSON Lines sink (StringIO)": lambda n: through(
        lambda: TraceRecorder(ManualClock(), sink=JsonlSink(io.StringIO())), n),
    "kind filtered out (component holds None)": skipped,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.records < 1 or args.rounds < 1:
        parser.error("--records and --rounds must be >= 1")

    samples: dict[str, list[float]] = {"bare slotted object + append": [], **{name: [] for name in CASES}}
    for _ in range(args.rounds):  # interleaved, so machine noise hits every case alike
        samples["bare slotted object + append"].append(bare(args.records))
        for name, case in CASES.items():
            samples[name].append(case(args.records))
    per_record = {name: statistics.median(values) / args.records * 1e6 for name, values in samples.items()}
    base = per_record["bare slotted object + append"]
    ratios = {name: us / base for name, us in per_record.items()}
    targets = {
        "list sink": ratios["list sink"] <= 2.5,
        "count-only sink": per_record["count-only sink"] <= per_record["list sink"] * 1.1,
        "kind filtered out (component holds None)": ratios["kind filtered out (component holds None)"] <= 0.2,
    }
    result = {"records": args.records, "rounds": args.rounds, "us_per_record": per_record,
              "ratio_to_bare": ratios, "targets_met": targets}
    if not args.json:
        print(f"{'case':<44} {'us/record':>10} {'x bare':>8}")
        for name, us in per_record.items():
            mark = "" if name not in targets else ("  ok" if targets[name] else "  MISSED")
            print(f"{name:<44} {us:>10.3f} {ratios[name]:>8.2f}{mark}")
    print(json.dumps(result, sort_keys=True))
    missed = [name for name, ok in targets.items() if not ok]
    if missed:
        print(f"missed targets: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
