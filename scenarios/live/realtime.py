"""The real-time driver: the same `World` and the same story parts, on a simpy clock paced to
the wall clock.

Virtual time stays the unit of everything the model and the trace see (a record's ``t``, a
breaker's timeout, a TTL), so a live trace reads like a simulated one and the same checkers
judge it. What changes is that each virtual second takes `scale` wall seconds
(`simpy.rt.RealtimeEnvironment` with ``factor=scale``): at the default 0.25 a 120 s
``redis_outage`` takes 30 s. Real I/O happens inside the story parts' calls (a Redis GET, an
outbox INSERT) and its measured wall duration, divided by `scale`, is what the part waits in
virtual time, so a slow real call is a slow virtual call.

One thread runs the environment (the model is not thread-safe, and needs no lock this way). A
call that blocks (a black-holed Redis, until its socket timeout) therefore holds back every
other request: the environment falls behind the wall clock (non-strict: it catches up by
running the late events at once, each at its own virtual time). `PacedEnvironment` measures how
far behind it fell; `lag` in the live metrics says how much of the run was late and by how much.
Where production serves concurrent requests during a hang in parallel, this driver serves them
one after the other: counts before the breaker opens can differ from the simulation's (see
docs/live.md).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import simpy
from simpy.core import Infinity
from simpy.rt import RealtimeEnvironment

from rustok_sim.conformance.invariants import Checker
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.story import Story, run_story
from rustok_sim.scenarios.engine.world import ProgressHook, World

__all__ = ["DEFAULT_SCALE", "LiveStory", "LiveWorld", "PacedEnvironment", "run_live_story"]

DEFAULT_SCALE = 0.25
"""Wall seconds per virtual second, unless a run says otherwise."""

C = TypeVar("C", bound=ScenarioConfig)


class PacedEnvironment(RealtimeEnvironment):
    """A non-strict real-time environment that records how late it processed its events.

    `lag_max` and `late_events` are wall seconds and a count: an event counts as late when it
    ran more than `late_after` wall seconds after its due time."""

    def __init__(self, factor: float, late_after: float = 0.05) -> None:
        super().__init__(factor=factor, strict=False)
        self.lag_max = 0.0
        self.late_events = 0
        self.events = 0
        self.late_after = late_after

    def step(self) -> None:
        due_virtual = self.peek()
        if due_virtual != Infinity:
            due_wall = self.real_start + (due_virtual - self.env_start) * self.factor
            lag = time.monotonic() - due_wall
            self.events += 1
            if lag > self.lag_max:
                self.lag_max = lag
            if lag > self.late_after:
                self.late_events += 1
        super().step()

    def lag(self) -> dict[str, Any]:
        return {"max_wall_s": round(self.lag_max, 6), "late_events": self.late_events, "events": self.events,
                "late_after_wall_s": self.late_after}


class LiveWorld(World):
    """A `World` whose environment is a `PacedEnvironment` at `scale` wall seconds per virtual
    second; everything else (random streams, ids, trace wiring, checkers) is the simulation's."""

    def __init__(self, config: ScenarioConfig, seed: int, *, scale: float, checkers: Sequence[Checker] = (),
                 output: Any = None, progress: ProgressHook | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be > 0 wall seconds per virtual second, got {scale!r}")
        super().__init__(config, seed, checkers=checkers, output=output, progress=progress)
        env = PacedEnvironment(factor=scale)
        self.env = env
        self.scale = scale
        self.clock = lambda: env.now
        # The base world's recorder reads the clock it was built with; rebuild it on ours, with
        # the same kinds and the same sink.
        self.recorder = TraceRecorder(self.clock, kinds=self.recorder.kinds, sink=self.sink)
        self.observer = self.recorder
        self._synced = False

    @property
    def paced(self) -> PacedEnvironment:
        assert isinstance(self.env, PacedEnvironment)
        return self.env

    def run(self, until: float | simpy.Event, *, horizon: float | None = None, chunks: int = 100) -> None:
        if not self._synced:  # the wall clock starts when the run does, not when the world was built
            self.paced.sync()
            self._synced = True
        super().run(until, horizon=horizon, chunks=chunks)

    def wall_seconds(self, virtual: float) -> float:
        return virtual * self.scale


@dataclass(frozen=True)
class LiveStory(Generic[C]):
    """How a story runs live: the simulated `story` (config model, checkers, end-state
    verdicts, all reused) and a `drive` that builds its parts on real services."""

    story: Story[C]
    drive: Callable[[LiveWorld, C, Any], dict[str, Any]]
    """Builds the parts on the world with the services (a `LiveServices`), runs, returns metrics."""
    needs: frozenset[str]
    """Which services the run starts or connects to: ``redis``, ``database``."""

    @property
    def name(self) -> str:
        return self.story.name


def run_live_story(live: LiveStory[C], config: C, seed: int, services: Any, *, scale: float,
                   trace_path: Path | None = None, progress: ProgressHook | None = None,
                   meta: Mapping[str, Any] | None = None) -> ScenarioResult:
    """`run_story` for a live run: same checkers and verdicts, on a `LiveWorld`, with the live
    parts on `services`. The trace header says ``source: rustok-sim live`` and the scale."""
    return run_story(live.story, config, seed, trace_path=trace_path, progress=progress,
                     make_world=functools.partial(LiveWorld, scale=scale),
                     drive=lambda world, cfg: live.drive(world, cfg, services),
                     meta={"source": "rustok-sim live", "scale": scale, **(meta or {})})
