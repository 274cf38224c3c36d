"""`rollback`: services write aggregates and publish their events in transactions, a share of
which roll back; relays crash after claiming a batch and after publishing a row; an idempotent
projection builds the read model.

Metrics: ``ghosts`` (delivered, never committed), ``zombies`` (committed, never delivered by the
end of the drain), ``duplicates`` (deliveries of an event already applied), and
``read_model_divergence`` (aggregates whose projected level differs from the committed one),
with the rows' states at the end, the relays' totals and commit-to-projection latency.

Faithful: the rows claimed by the relay that died after claiming are never reclaimed (spec
§3.6), so they are zombies and the read model stays behind. Hardened: a live relay takes them
over once their lease (`claim_ttl_s`) expires; the row delivered just before the second crash is
delivered again and the projection recognises the duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from rustok_sim.conformance.invariants import Checker, Verdict, judge
from rustok_sim.scenarios.drivers.outbox import (
    OutboxPipeline,
    checkers_for_outbox_pipeline,
    defects_for_outbox_pipeline,
    install_outbox_pipeline,
)
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World

__all__ = ["STORY", "RollbackConfig", "judge_read_model", "run"]


class RollbackConfig(ScenarioConfig):
    scenario: Literal["rollback"] = "rollback"
    pipeline: OutboxPipeline = Field(default_factory=OutboxPipeline)
    drain_limit: float = Field(60.0, gt=0, allow_inf_nan=False,
                               description="virtual seconds after the operations to wait for the relays")


def drive(world: World, config: RollbackConfig) -> dict[str, Any]:
    part = install_outbox_pipeline(world, config.pipeline, config.profile)
    world.start_sampling()
    done = part.drain(config.drain_limit)
    world.run(done, horizon=config.pipeline.duration + config.drain_limit)
    return {**part.metrics(), "timelines": world.timelines()}


def checkers(config: RollbackConfig) -> Sequence[Checker]:
    return checkers_for_outbox_pipeline(config.pipeline, config.profile)


def judge_read_model(divergence: int, defects: Mapping[str, Any]) -> Verdict:
    """The read model converges: after the drain, the projection equals the committed writes."""
    defect = defects.get("zombie") or defects.get("ghost")
    return judge("read_model_converges", divergence,
                 f"{divergence} aggregates where the projection differs from the committed writes", defect)


def judge_metrics(config: RollbackConfig, metrics: Mapping[str, Any]) -> Sequence[Verdict]:
    defects = defects_for_outbox_pipeline(config.pipeline, config.profile)
    return [judge_read_model(metrics["read_model_divergence"], defects)]


STORY: Story[RollbackConfig] = Story(
    name="rollback",
    summary="transactions roll back and relays crash: ghosts, zombies, duplicates and the read model",
    config=RollbackConfig,
    drive=drive,
    checkers=checkers,
    judge_metrics=judge_metrics,
)


def run(config: RollbackConfig | None = None, seed: int = 1, **kwargs: Any) -> ScenarioResult:
    return STORY.run(config if config is not None else RollbackConfig(), seed, **kwargs)
