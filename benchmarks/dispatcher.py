"""us per arrival: an M/M/1/K queue in simpy, bare vs through the event bus and dispatcher.

The baseline (``bare_simpy``) is the idiomatic simpy M/M/1/K, the way a simpy user writes it and
what issue 7 measured at 4.0 us per arrival: a source process draws exponential inter-arrival
times (lambda), an arrival that finds K customers in the system (``server.count +
len(server.queue) >= K``) is lost, otherwise it starts a customer process that requests a
``simpy.Resource(capacity=1)``, holds it for an exponential service time (mu) and releases it
(``with server.request() as req: yield req; yield env.timeout(...)``). It is the form of the
bare loop in benchmarks/backpressure.py, which reproduces the "backpressure in the loop 1.05x"
that issue 7 measured in the same run as its bare simpy. Two more reference rows are printed,
not used for the target: ``bare_simpy_store`` (the other common form: one server process
taking customers from a ``simpy.Store``, cheaper than a process per customer) and
``bare_minimal_loop`` (a hand-rolled queue: a list and one server process woken by an event,
about the least simpy can do per arrival). Divide a row by another for the ratio to it.

The model loops run the same story with the same seed, with the model in the loop: the arrival
publishes a real `EventEnvelope` through an `EventBus` whose `BackpressureController` (max depth
K, critical fraction 1.0) is the K limit, using the bus's non-raising `offer` (a simulation's
publish path; `publish` raises Rust's errors), and the server is one simpy process that takes
`HandlerWork` from the `EventDispatcher` (woken by its work-available hook, never polling),
holds it for the service time, then completes it (which releases the slot). Every run of a case
must lose and serve the same numbers as the baseline (same seed, same story): the benchmark
checks that. Ratios are measured in one process with the cases interleaved in each round; the
median round counts: each round's time over the same round's baseline, the median of those
ratios (steadier on a shared machine). The ``gc us`` column is the time the cyclic garbage
collector ran during a case, per arrival: a trace that keeps its records in memory makes the
collector traverse them (the ``bare`` and untraced runs keep nothing and collect almost never).
Garbage is collected (untimed) before each case: a finished simpy world is cyclic, and freeing
one case's world must not be charged to the next.

Target (issue 7, section 6): the dispatcher with real envelopes and the trace at transition
level (TraceRecorder(clock, kinds={"transition"})) within 2.0x bare simpy per arrival.
Exit 0 when met, 1 when missed (says which), 2 when simpy is missing.
Run: python benchmarks/dispatcher.py [--arrivals N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import uuid

try:
    import simpy
except ImportError:  # pragma: no cover - exercised only without the bench extra
    print("benchmarks/dispatcher.py needs simpy (pip install simpy)", file=sys.stderr)
    sys.exit(2)

from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import EventBus
from rustok_sim.model.events.dispatcher import OK, DispatcherConfig, EventDispatcher
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController

LAMBDA, MU, K = 9.0, 10.0, 10
TARGET = 2.0
TENANT = uuid.UUID(int=1)
EVENT = NodeCreated(node_id=uuid.UUID(int=2), kind="post")


class _Sink:
    name = "read_model"

    def handles(self, event: object) -> bool:
        return True

    def handle(self, envelope: object) -> None:
        return None

    def on_error(self, envelope: object, error: BaseException) -> None:
        return None


def bare(arrivals: int, seed: int) -> dict[str, int]:
    """The idiomatic simpy M/M/1/K: one process per customer on a `simpy.Resource`."""
    env = simpy.Environment()
    rng = random.Random(seed)
    server = simpy.Resource(env, capacity=1)
    state = {"lost": 0, "served": 0}

    def customer():
        with server.request() as request:
            yield request
            yield env.timeout(rng.expovariate(MU))
        state["served"] += 1

    def source():
        for _ in range(arrivals):
            yield env.timeout(rng.expovariate(LAMBDA))
            if server.count + len(server.queue) >= K:  # K in the system, the one in service included
                state["lost"] += 1
                continue
            env.process(customer())

    env.run(env.process(source()))
    return {"lost": state["lost"], "served": state["served"]}


def bare_store(arrivals: int, seed: int) -> dict[str, int]:
    """The other common simpy form: one server process taking customers from a `simpy.Store`."""
    env = simpy.Environment()
    rng = random.Random(seed)
    waiting = simpy.Store(env)
    state = {"lost": 0, "served": 0, "busy": 0}

    def source():
        for n in range(arrivals):
            yield env.timeout(rng.expovariate(LAMBDA))
            if len(waiting.items) + state["busy"] >= K:
                state["lost"] += 1
                continue
            waiting.put(n)

    def server():
        while True:
            yield waiting.get()
            state["busy"] = 1
            yield env.timeout(rng.expovariate(MU))
            state["busy"] = 0
            state["served"] += 1

    env.process(server())
    env.run(env.process(source()))
    return {"lost": state["lost"], "served": state["served"]}


def bare_minimal(arrivals: int, seed: int) -> dict[str, int]:
    """A hand-rolled queue: a list and one server process woken by an event (reference only)."""
    env = simpy.Environment()
    rng = random.Random(seed)
    queue: list[int] = []
    state = {"lost": 0, "served": 0, "wake": None, "busy": 0}

    def source():
        for n in range(arrivals):
            yield env.timeout(rng.expovariate(LAMBDA))
            if len(queue) + state["busy"] >= K:  # K in the system, the one in service included
                state["lost"] += 1
                continue
            queue.append(n)
            wake = state["wake"]
            if wake is not None:
                state["wake"] = None
                wake.succeed()

    def server():
        while True:
            if not queue:
                state["wake"] = env.event()
                yield state["wake"]
            queue.pop(0)
            state["busy"] = 1
            yield env.timeout(rng.expovariate(MU))
            state["busy"] = 0
            state["served"] += 1

    env.process(server())
    env.run(env.process(source()))
    return {"lost": state["lost"], "served": state["served"]}


def through_model(arrivals: int, seed: int, trace_kinds: set[str] | None) -> dict[str, int]:
    env = simpy.Environment()
    rng = random.Random(seed)
    clock = lambda: env.now  # noqa: E731 - the driver's clock is simpy's
    trace = TraceRecorder(clock, kinds=trace_kinds) if trace_kinds is not None else None
    controller = BackpressureController(BackpressureConfig(K, 0.9, 1.0))
    bus = EventBus(backpressure=controller, ids=IdGenerator(clock, seed), observer=trace)
    dispatcher = EventDispatcher(bus, DispatcherConfig(max_concurrent=1), clock=clock, observer=trace)
    dispatcher.register(_Sink()).start()
    state = {"lost": 0, "served": 0, "wake": None}

    def wake_server() -> None:
        wake = state["wake"]
        if wake is not None:
            state["wake"] = None
            wake.succeed()

    dispatcher.on_work_available(wake_server)
    offer, pump, next_work, complete = bus.offer, dispatcher.pump, dispatcher.next_work, dispatcher.complete

    def source():
        for _ in range(arrivals):
            yield env.timeout(rng.expovariate(LAMBDA))
            if offer(TENANT, None, EVENT) is None:  # rejected at depth K: lost
                state["lost"] += 1
                continue
            pump()

    def server():
        while True:
            work = next_work()
            if work is None:
                state["wake"] = env.event()
                yield state["wake"]
                continue
            yield env.timeout(rng.expovariate(MU))
            complete(work, OK)
            state["served"] += 1

    env.process(server())
    env.run(env.process(source()))
    return {"lost": state["lost"], "served": state["served"], "records": len(trace) if trace else 0}


def measure(arrivals: int, rounds: int, seed: int = 7) -> dict[str, object]:
    cases = {
        "bare_simpy": lambda: bare(arrivals, seed),
        "bare_simpy_store": lambda: bare_store(arrivals, seed),
        "bare_minimal_loop": lambda: bare_minimal(arrivals, seed),
        "dispatcher_no_trace": lambda: through_model(arrivals, seed, None),
        "dispatcher_trace_transitions": lambda: through_model(arrivals, seed, {"transition"}),
        "dispatcher_trace_full": lambda: through_model(arrivals, seed, set()
                                                       | {"transition", "decision", "sample", "event", "anomaly", "fault"}),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    gc_times: dict[str, list[float]] = {name: [] for name in cases}
    outcome: dict[str, dict[str, int]] = {}
    in_gc = [0.0, 0.0]  # start of the current collection, seconds collected so far

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            in_gc[0] = time.perf_counter()
        else:
            in_gc[1] += time.perf_counter() - in_gc[0]

    gc.callbacks.append(on_gc)
    try:
        for _ in range(rounds):
            for name, run in cases.items():
                # A finished simpy world is cyclic garbage (processes, frames, the environment,
                # and the trace the run kept): collect it here, untimed, so that no case pays
                # for freeing the one before it.
                gc.collect()
                in_gc[1] = 0.0
                start = time.perf_counter()
                outcome[name] = run()
                times[name].append(time.perf_counter() - start)
                gc_times[name].append(in_gc[1])
    finally:
        gc.callbacks.remove(on_gc)
    per_arrival = {name: statistics.median(t) / arrivals * 1e6 for name, t in times.items()}
    # The ratio of each round's times (cases interleaved, so a round shares the machine's load),
    # then the median over rounds: steadier on a shared machine than a ratio of medians.
    ratios = {name: statistics.median(t / b for t, b in zip(times[name], times["bare_simpy"], strict=True))
              for name in cases}
    mismatched = sorted(name for name in cases
                        if (outcome[name]["lost"], outcome[name]["served"])
                        != (outcome["bare_simpy"]["lost"], outcome["bare_simpy"]["served"]))
    return {"arrivals": arrivals, "rounds": rounds, "us_per_arrival": per_arrival,
            "gc_us_per_arrival": {name: statistics.median(t) / arrivals * 1e6 for name, t in gc_times.items()},
            "ratio_to_bare": ratios, "outcome": outcome, "outcome_mismatch": mismatched}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrivals", type=int, default=50_000, help="arrivals per run (issue 7 measured 200000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the median counts")
    args = parser.parse_args(argv)
    if args.arrivals < 1 or args.rounds < 1:
        parser.error("--arrivals and --rounds must be at least 1")
    result = measure(args.arrivals, args.rounds)
    print(f"M/M/1/K lambda={LAMBDA} mu={MU} K={K}, {args.arrivals} arrivals, median of {args.rounds} rounds")
    print(f"{'case':32} {'us/arrival':>10} {'x bare':>8} {'gc us':>8}")
    for name, value in result["us_per_arrival"].items():  # type: ignore[union-attr]
        print(f"{name:32} {value:10.2f} {result['ratio_to_bare'][name]:8.2f} "  # type: ignore[index]
              f"{result['gc_us_per_arrival'][name]:8.2f}")  # type: ignore[index]
    print(json.dumps(result, sort_keys=True))
    if result["outcome_mismatch"]:
        print(f"BROKEN: {result['outcome_mismatch']} lost or served differently from the baseline "
              f"(same seed, same story): {result['outcome']}", file=sys.stderr)
        return 1
    ratio = result["ratio_to_bare"]["dispatcher_trace_transitions"]  # type: ignore[index]
    if ratio > TARGET:
        print(f"MISSED: dispatcher with the trace at transition level is {ratio:.2f}x bare simpy "
              f"(target {TARGET}x)", file=sys.stderr)
        return 1
    print(f"met: dispatcher with the trace at transition level is {ratio:.2f}x bare simpy (target {TARGET}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
