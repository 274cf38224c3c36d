"""One simulated world: the simpy environment, its clock, seeded random streams and ids, the
trace recorder wired to the output and to the invariant checkers, fault windows and gauges.

A story's driver code receives a `World` and builds the model components on it: every
component gets ``clock=world.clock`` and ``observer=world.observer``; every random draw comes
from ``world.rng("name")``, a stream of its own, so adding a stream to a story never shifts the
draws of another; every id from ``world.ids("name")``. Same config and seed, same world.

Where records go: the recorder keeps the union of what the trace level writes and what the
checkers read; `FilterSink` passes the level's kinds on to the output (a streaming `JsonlSink`
for `run --out`, a `ListSink` in memory otherwise) and a `CheckerSink` feeds the invariants as
the run goes, so a million-event run neither keeps its trace nor re-reads it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Sequence
from typing import Any, Final

import simpy

from rustok_sim.conformance.invariants import Checker, CheckerSink
from rustok_sim.model.core.trace import Detail, ListSink, TraceRecord, TraceRecorder, TraceSink
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.scenarios.engine.config import ScenarioConfig, TraceLevel

__all__ = ["LEVEL_KINDS", "Gauge", "ProgressHook", "RunSink", "World"]

LEVEL_KINDS: Final[dict[TraceLevel, frozenset[str]]] = {
    "full": frozenset({"transition", "decision", "sample", "fault", "event", "anomaly"}),
    "transitions": frozenset({"transition", "fault", "anomaly"}),
    "summary": frozenset({"fault", "anomaly"}),
}

ProgressHook = Callable[[float], None]
"""Called with the fraction done (0..1) as the run advances."""


class RunSink:
    """Where a run's records go, in one call per record: counted by kind, written to the output
    when the trace level keeps the kind, fed to the checkers that read it. (A `TeeSink` of a
    `FilterSink`, a `CheckerSink` and a `CountSink` does the same in four calls; a million-event
    run makes several million records.)"""

    __slots__ = ("output", "checkers", "counts", "_routes")

    def __init__(self, output: TraceSink, written: frozenset[str], checkers: CheckerSink) -> None:
        self.output, self.checkers = output, checkers
        self.counts: dict[str, int] = {}
        routes: dict[str, tuple[Callable[[TraceRecord], None], ...]] = {}
        for kind in written | checkers.kinds:
            feeds = [checker.feed for checker in checkers.checkers if kind in checker.kinds]
            routes[kind] = ((output.accept,) if kind in written else ()) + tuple(feeds)
        self._routes = routes

    def accept(self, record: TraceRecord) -> None:
        kind = record.kind
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        for route in self._routes[kind]:
            route(record)

    def wants(self, kind: str, component: str | None = None) -> bool:
        return kind in self._routes


class Gauge:
    """A value read at every sampling tick: written as a `sample` record (at the ``full`` level)
    and kept as a timeline for the result (reports plot it)."""

    __slots__ = ("component", "instance", "name", "read", "values")

    def __init__(self, component: str, instance: str, name: str, read: Callable[[], float]) -> None:
        self.component, self.instance, self.name, self.read = component, instance, name, read
        self.values: list[float] = []

    @property
    def key(self) -> str:
        return f"{self.component}/{self.instance}/{self.name}"


class World:
    def __init__(self, config: ScenarioConfig, seed: int, *, checkers: Sequence[Checker] = (),
                 output: TraceSink | None = None, progress: ProgressHook | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r}")
        self.config = config
        self.seed = seed
        self.env = simpy.Environment()
        env = self.env
        self.clock: Callable[[], float] = lambda: env.now
        self.output: TraceSink = output if output is not None else ListSink()
        self.checker_sink = CheckerSink(checkers)
        written = LEVEL_KINDS[config.trace_level]
        self.sink = RunSink(self.output, written, self.checker_sink)
        self.recorder = TraceRecorder(self.clock, kinds=written | self.checker_sink.kinds, sink=self.sink)
        self.observer = self.recorder
        self._progress = progress
        self.gauges: list[Gauge] = []
        self.sample_times: list[float] = []
        self._samples_wanted = self.recorder.wants("sample")

    # -- randomness and ids ---------------------------------------------------------------

    def rng(self, stream: str) -> random.Random:
        """A random stream of its own, fixed by (seed, stream name)."""
        return random.Random(f"{self.seed}/{stream}")

    def ids(self, stream: str) -> IdGenerator:
        return IdGenerator(self.clock, f"{self.seed}/ids/{stream}")

    # -- faults ---------------------------------------------------------------------------

    def window(self, fault: str, target: str, start: float, end: float, *, detail: Detail = None,
               on_start: Callable[[], None] | None = None, on_end: Callable[[], None] | None = None) -> None:
        """A fault window: a ``fault`` record at start and at end, with the hooks that make the
        fault real (take Redis down, bring it back) called at those instants."""
        if not 0 <= start < end:
            raise ValueError(f"fault window {fault!r} needs 0 <= start < end (got {start}, {end})")

        def process() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(start - self.env.now)
            self.recorder.fault(fault, "start", target, detail)
            if on_start is not None:
                on_start()
            yield self.env.timeout(end - start)
            if on_end is not None:
                on_end()
            self.recorder.fault(fault, "end", target, detail)

        self.env.process(process())

    def instant_fault(self, fault: str, target: str, detail: Detail = None) -> None:
        self.recorder.fault(fault, "instant", target, detail)

    # -- gauges ---------------------------------------------------------------------------

    def gauge(self, component: str, instance: str, name: str, read: Callable[[], float]) -> Gauge:
        gauge = Gauge(component, instance, name, read)
        self.gauges.append(gauge)
        return gauge

    def start_sampling(self, until: float | None = None) -> None:
        """Sample every gauge every ``sample_interval`` virtual seconds, from now until `until`
        (or for as long as the run goes)."""
        interval = self.config.sample_interval

        def process() -> Generator[simpy.Event, Any, None]:
            while until is None or self.env.now <= until:
                self._sample_now()
                yield self.env.timeout(interval)

        self.env.process(process())

    def _sample_now(self) -> None:
        self.sample_times.append(self.env.now)
        for gauge in self.gauges:
            value = gauge.read()
            gauge.values.append(value)
            if self._samples_wanted:
                self.recorder.sample(gauge.component, gauge.instance, gauge.name, value)

    def timelines(self) -> dict[str, Any]:
        """The sampled gauges: ``{"t": [...], "<component>/<instance>/<name>": [...]}``."""
        out: dict[str, Any] = {"t": list(self.sample_times)}
        for gauge in self.gauges:
            out[gauge.key] = list(gauge.values)
        return out

    # -- running --------------------------------------------------------------------------

    def drain(self, idle: Callable[[], bool], *, after: float, limit: float, poll: float,
              on_idle: Callable[[float], None] | None = None) -> simpy.Event:
        """A process that waits until virtual time `after`, then polls `idle()` every `poll`
        seconds for at most `limit` seconds; `on_idle(now)` is called if it became idle."""
        env = self.env

        def wait() -> Generator[simpy.Event, Any, None]:
            if env.now < after:
                yield env.timeout(after - env.now)
            deadline = env.now + limit
            while not idle() and env.now < deadline:
                yield env.timeout(poll)
            if on_idle is not None and idle():
                on_idle(env.now)
        return env.process(wait())

    def run(self, until: float | simpy.Event, *, horizon: float | None = None, chunks: int = 100) -> None:
        """Run the world until a virtual time or an event. With a progress hook and a `horizon`
        (the expected end time), run in `chunks` steps and report the fraction done."""
        if self._progress is None or horizon is None or horizon <= 0:
            self.env.run(until=until)
            if self._progress is not None:
                self._progress(1.0)
            return
        step = horizon / chunks
        done = until if isinstance(until, simpy.Event) else None
        end = None if isinstance(until, simpy.Event) else float(until)
        while True:
            if done is not None and done.processed:
                break
            target = self.env.now + step
            if end is not None and target >= end:
                self.env.run(until=end)
                break
            if done is not None and not self.env._queue:  # noqa: SLF001 - nothing left to happen
                break
            self.env.run(until=target)
            self._progress(min(self.env.now / horizon, 0.999))
        self._progress(1.0)

    def record_counts(self) -> dict[str, int]:
        """How many records of each kind the run made (written to the trace or only checked)."""
        return dict(sorted(self.sink.counts.items()))
