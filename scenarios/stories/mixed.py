"""`mixed`: a flood, a Redis outage and rollbacks with relay crashes, at once, in one world.

Three parts share one virtual clock, one seed and one trace: the event flood (producers through
the transactional bus into backpressure and the dispatcher's handlers), tenant-resolution
traffic whose Redis goes away behind the circuit breakers, and the inventory service writing
through the outbox with rollbacks, relays that crash and an idempotent projection. Every part's
invariants judge the same trace, so one run answers "what does a bad minute look like" with a
verdict per invariant, and the metrics keep each part's own (``flood``, ``tenancy``, ``outbox``).

What it does not model: the parts do not contend for a shared resource (the database, the CPU),
so their interaction is only that they happen at once and land in one trace; each part's numbers
equal those of its own story run with the same section and seed stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from rustok_sim.conformance.invariants import Checker, KnownDefect, Verdict
from rustok_sim.conformance.invariants.events import judge_drained
from rustok_sim.scenarios.drivers.flood import EventFlood, checkers_for_event_flood, install_event_flood
from rustok_sim.scenarios.drivers.outbox import (
    OutboxPipeline,
    checkers_for_outbox_pipeline,
    defects_for_outbox_pipeline,
    install_outbox_pipeline,
)
from rustok_sim.scenarios.drivers.tenancy import TenantTraffic, checkers_for_tenant_traffic, install_tenant_traffic
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World
from rustok_sim.scenarios.stories.rollback import judge_read_model

__all__ = ["STORY", "MixedConfig", "run"]


class MixedConfig(ScenarioConfig):
    scenario: Literal["mixed"] = "mixed"
    flood: EventFlood = Field(default_factory=EventFlood)
    traffic: TenantTraffic = Field(default_factory=TenantTraffic)
    pipeline: OutboxPipeline = Field(default_factory=OutboxPipeline)
    drain_limit: float = Field(60.0, gt=0, allow_inf_nan=False,
                               description="virtual seconds after the last part's production to drain")


def _end(config: MixedConfig) -> float:
    return max(config.flood.duration, config.traffic.duration, config.pipeline.duration)


def run_to_the_end(world: World, config: MixedConfig, flood: Any, outbox: Any) -> None:
    """Sample, and run until the flood and the outbox have drained and the last request (with its
    socket timeouts and retries) is done, or the horizon; a live run of the story does the same."""
    end = _end(config)
    world.start_sampling()
    env = world.env
    drains = [flood.drain(config.drain_limit + end - config.flood.duration),
              outbox.drain(config.drain_limit + end - config.pipeline.duration)]
    redis = config.traffic.redis
    requests_done = env.timeout(config.traffic.duration + redis.socket_timeout * (1 + redis.retries) + 5.0)
    world.run(env.all_of([*drains, requests_done]), horizon=end + 5.0)


def drive(world: World, config: MixedConfig) -> dict[str, Any]:
    flood = install_event_flood(world, config.flood, config.profile)
    tenancy = install_tenant_traffic(world, config.traffic, config.profile)
    outbox = install_outbox_pipeline(world, config.pipeline, config.profile)
    run_to_the_end(world, config, flood, outbox)
    return {"flood": flood.metrics(), "tenancy": tenancy.metrics(), "outbox": outbox.metrics(),
            "timelines": world.timelines()}


def checkers(config: MixedConfig) -> Sequence[Checker]:
    return [*checkers_for_event_flood(config.flood, config.profile),
            *checkers_for_tenant_traffic(config.traffic, config.profile),
            *checkers_for_outbox_pipeline(config.pipeline, config.profile)]


def judge_metrics(config: MixedConfig, metrics: Mapping[str, Any]) -> Sequence[Verdict]:
    faithful = config.profile == "faithful"
    double = (KnownDefect("§3.3", "the second dispatcher's releases leave the depth wrong after the drain")
              if faithful and config.flood.second_dispatcher is not None else None)
    defects = defects_for_outbox_pipeline(config.pipeline, config.profile)
    return [judge_drained(metrics["flood"]["final_depth"], double),
            judge_read_model(metrics["outbox"]["read_model_divergence"], defects)]


STORY: Story[MixedConfig] = Story(
    name="mixed",
    summary="a flood, a Redis outage and rollbacks with relay crashes at once, judged on one trace",
    config=MixedConfig,
    drive=drive,
    checkers=checkers,
    judge_metrics=judge_metrics,
)


def run(config: MixedConfig | None = None, seed: int = 1, **kwargs: Any) -> ScenarioResult:
    return STORY.run(config if config is not None else MixedConfig(), seed, **kwargs)
