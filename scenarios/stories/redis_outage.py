"""`redis_outage`: tenant resolution while the Redis cache behind the circuit breaker goes away.

Requests resolve tenants through the resolver (`v1`, the live middleware; `v2`, the moka resolver
without Redis; or `hardened`) whose caches are Redis behind circuit breakers. During the outage
window calls fail (refused at once, or black-holed until the client's socket timeout), the
breaker counts failures and opens, and then fails fast until its timeout lets a probe through.
V1 turns every cache error into an HTTP 500 (spec §6.2, §7); hardened falls back to the
database. Metrics: HTTP status counts over the run and per interval, latency percentiles
(overall and during the outage), breaker states and totals, database loads per interval, time
from the outage's start to the breaker opening and from its end to the breaker closing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from rustok_sim.conformance.invariants import Checker
from rustok_sim.scenarios.drivers.tenancy import TenantTraffic, checkers_for_tenant_traffic, install_tenant_traffic
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World

__all__ = ["STORY", "RedisOutageConfig", "run"]


class RedisOutageConfig(ScenarioConfig):
    scenario: Literal["redis_outage"] = "redis_outage"
    traffic: TenantTraffic = Field(default_factory=TenantTraffic)


def drive(world: World, config: RedisOutageConfig) -> dict[str, Any]:
    part = install_tenant_traffic(world, config.traffic, config.profile)
    world.start_sampling(until=config.traffic.duration)
    # Requests still in flight at the end finish (a black-holed call takes its socket timeout).
    world.run(config.traffic.duration + config.traffic.redis.socket_timeout * (1 + config.traffic.redis.retries) + 5.0,
              horizon=config.traffic.duration)
    return {**part.metrics(), "timelines": world.timelines()}


def checkers(config: RedisOutageConfig) -> Sequence[Checker]:
    return checkers_for_tenant_traffic(config.traffic, config.profile)


STORY: Story[RedisOutageConfig] = Story(
    name="redis_outage",
    summary="Redis goes away behind the breaker: V1 answers 500, hardened serves from the database",
    config=RedisOutageConfig,
    drive=drive,
    checkers=checkers,
)


def run(config: RedisOutageConfig | None = None, seed: int = 1, **kwargs: Any) -> ScenarioResult:
    return STORY.run(config if config is not None else RedisOutageConfig(), seed, **kwargs)
