"""`flood`: producers publish domain events through the transactional bus faster than the
handlers can take them; backpressure rises to Warning, then Critical, and rejects.

What it shows: the queue depth and the backpressure state over time, how many events were
accepted and rejected, when the controller reached Warning and Critical, how long the backlog
took to drain once production stopped, and publish-to-handled latency percentiles. With
``producers.mode = "direct"`` a rejected event is dropped and counted; with ``"outbox"`` it stays
pending in the outbox and the relay retries it with backoff, so nothing is lost (unless a row
exhausts its attempts and lands in the DLQ, which the metrics show).

Faults: a slow or failing handler window, and a second dispatcher on the same bus, which
releases every event's slot a second time (spec §3.3) until the faithful controller's depth
wraps (§2.2) and it rejects everything from then on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from rustok_sim.conformance.invariants import Checker, KnownDefect, Verdict
from rustok_sim.conformance.invariants.events import judge_drained
from rustok_sim.scenarios.drivers.flood import EventFlood, checkers_for_event_flood, install_event_flood
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World

__all__ = ["STORY", "FloodConfig", "run"]


class FloodConfig(ScenarioConfig):
    scenario: Literal["flood"] = "flood"
    flood: EventFlood = Field(default_factory=EventFlood)
    drain_limit: float = Field(300.0, gt=0, allow_inf_nan=False,
                               description="virtual seconds after production to wait for the backlog")


def drive(world: World, config: FloodConfig) -> dict[str, Any]:
    part = install_event_flood(world, config.flood, config.profile)
    world.start_sampling()
    done = part.drain(config.drain_limit)
    world.run(done, horizon=config.flood.duration * 1.2)
    return {**part.metrics(), "timelines": world.timelines()}


def checkers(config: FloodConfig) -> Sequence[Checker]:
    return checkers_for_event_flood(config.flood, config.profile)


def judge_metrics(config: FloodConfig, metrics: Mapping[str, Any]) -> Sequence[Verdict]:
    faithful = config.profile == "faithful"
    defect = (KnownDefect("§3.3", "the second dispatcher's releases leave the depth wrong after the drain")
              if faithful and config.flood.second_dispatcher is not None else None)
    return [judge_drained(metrics["final_depth"], defect)]


STORY: Story[FloodConfig] = Story(
    name="flood",
    summary="producers outrun the handlers: backpressure Warning, Critical, rejections, drain",
    config=FloodConfig,
    drive=drive,
    checkers=checkers,
    judge_metrics=judge_metrics,
)


def run(config: FloodConfig | None = None, seed: int = 1, **kwargs: Any) -> ScenarioResult:
    return STORY.run(config if config is not None else FloodConfig(), seed, **kwargs)
