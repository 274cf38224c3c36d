"""A story: a named scenario with its config model, its driver and its invariants; and
`run_story`, the one way every story runs (so every run gets the same world, the same trace
wiring and the same verdicts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from rustok_sim.conformance.invariants import Checker, Verdict
from rustok_sim.model.core.trace import JsonlSink, ListSink
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.world import ProgressHook, World

__all__ = ["Story", "run_story"]

C = TypeVar("C", bound=ScenarioConfig)


@dataclass(frozen=True)
class Story(Generic[C]):
    name: str
    summary: str
    """One line: what the story shows."""
    config: type[C]
    drive: Callable[[World, C], dict[str, Any]]
    """Builds the model on the world, runs it to the end, returns the metrics."""
    checkers: Callable[[C], Sequence[Checker]]
    """The invariants every run of this story is judged by, built for the config's variants."""
    judge_metrics: Callable[[C, Mapping[str, Any]], Sequence[Verdict]] = field(default=lambda config, metrics: ())
    """Verdicts only the end state can give (the read model against the committed writes)."""

    def run(self, config: C, seed: int, *, trace_path: Path | None = None,
            progress: ProgressHook | None = None) -> ScenarioResult:
        return run_story(self, config, seed, trace_path=trace_path, progress=progress)


def run_story(story: Story[C], config: C, seed: int, *, trace_path: Path | None = None,
              progress: ProgressHook | None = None, make_world: Callable[..., World] = World,
              drive: Callable[[Any, C], Mapping[str, Any]] | None = None,
              meta: Mapping[str, Any] | None = None) -> ScenarioResult:
    """Run `story` on `config` with `seed`. The trace goes to memory, or streams to `trace_path`.

    Another driver (a live run) passes its world (`make_world`, called as `World` is), its
    `drive` instead of the story's, and what its trace header says besides (`meta`)."""
    if not isinstance(config, story.config):
        raise TypeError(f"story {story.name!r} runs a {story.config.__name__}, got {type(config).__name__}")
    header = {"source": "rustok-sim run", "scenario": story.name, "profile": config.profile, "seed": seed,
              **(meta or {})}
    output: JsonlSink | ListSink = JsonlSink(trace_path, meta=header) if trace_path is not None else ListSink()
    try:
        world = make_world(config, seed, checkers=story.checkers(config), output=output, progress=progress)
        metrics = dict((drive or story.drive)(world, config))
    finally:
        if isinstance(output, JsonlSink):
            output.close()
    metrics["trace_records"] = world.record_counts()
    verdicts = tuple(world.checker_sink.verdicts()) + tuple(story.judge_metrics(config, metrics))
    trace = trace_path if trace_path is not None else output.records  # type: ignore[union-attr]
    return ScenarioResult(config, seed, metrics, verdicts, trace)
