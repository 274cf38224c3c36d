"""`stampede`: a hot tenant's cache entry expiring under high concurrency, and a flood of lookups
for a tenant that does not exist.

Requests at a high rate name one hot tenant (and, for `traffic.missing_fraction` of them, one
tenant that is not in the database). The database load is slow next to the arrival gap, so every
expiry finds many requests at once. The resolver coalesces them: one loader runs, the others
wait for it (spec §6.1, §6.2). Per key, the run is cut into **episodes** (the loads that follow
one expiry, or the cold start: a load that starts less than half a TTL after the previous one
ended belongs to the same episode) and reports loader calls per episode, against the
counterfactual of a cache without coalescing, in which every request that loaded or waited
would have run its own load (derived from the same run, not simulated: the model has no
uncoalesced mode to fork).

The missing tenant shows V1's defect (spec §6.2, analysis): waiters whose load ended in
not-found re-check only the positive cache, so each becomes the loader in turn, and one
not-found costs as many database loads as there were waiters. Hardened waiters see the cached
not-found: one load per negative TTL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from rustok_sim.conformance.invariants import Checker
from rustok_sim.scenarios.drivers.tenancy import (
    ResolverSection,
    TenantTraffic,
    checkers_for_tenant_traffic,
    install_tenant_traffic,
)
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.distributions import Latency, Lognormal
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World
from rustok_sim.scenarios.faults.redis import RedisOutage
from rustok_sim.scenarios.workloads import Arrivals, Poisson, ZipfTenants

__all__ = ["STORY", "StampedeConfig", "StampedeTraffic", "episodes", "run"]


class StampedeTraffic(TenantTraffic):
    """Tenant traffic with the stampede's defaults: one hot tenant, one missing one, short TTLs,
    slow loads, and no Redis outage."""

    duration: float = Field(60.0, gt=0, allow_inf_nan=False, description="virtual seconds of requests")
    arrivals: Arrivals = Field(default_factory=lambda: Poisson(rate=1000.0), description="requests per second")
    tenants: ZipfTenants = Field(default_factory=lambda: ZipfTenants(count=1, exponent=0.0))
    missing_fraction: float = Field(0.2, ge=0, le=1, allow_inf_nan=False,
                                    description="fraction of requests naming a tenant that does not exist")
    missing_tenants: int = Field(1, ge=1, le=100_000, description="distinct nonexistent tenants asked for")
    resolver: ResolverSection = Field(default_factory=lambda: ResolverSection(time_to_live=10.0, negative_ttl=10.0))
    database: Latency = Field(default_factory=lambda: Lognormal(median=0.05, p99=0.2),
                              description="one tenant load, seconds")
    outage: RedisOutage | None = None


class StampedeConfig(ScenarioConfig):
    scenario: Literal["stampede"] = "stampede"
    traffic: StampedeTraffic = Field(default_factory=StampedeTraffic)


def episodes(loads: Sequence[tuple[float, float]], demand: Sequence[float], gap: float) -> list[dict[str, Any]]:
    """Cut one key's loads (start, end) into episodes; a load starting less than `gap` after the
    previous one ended continues its episode. Each episode counts its loads and the requests
    (by start time) that loaded or waited during it."""
    out: list[dict[str, Any]] = []
    for start, end in sorted(loads):
        if out and start - out[-1]["end"] < gap:
            out[-1]["end"] = max(out[-1]["end"], end)
            out[-1]["loads"] += 1
        else:
            out.append({"start": start, "end": end, "loads": 1, "demand": 0})
    index = 0
    for t in sorted(demand):
        while index + 1 < len(out) and t >= out[index + 1]["start"]:
            index += 1
        if out:
            out[index]["demand"] += 1
    return out


def _key_summary(found: list[dict[str, Any]], waits: int) -> dict[str, Any]:
    expiries = found[1:]  # the first episode is the cold start
    loads = sum(e["loads"] for e in found)
    demand = sum(e["demand"] for e in found)

    def per(items: list[dict[str, Any]], field: str) -> float | None:
        return sum(e[field] for e in items) / len(items) if items else None
    return {
        "loads": loads,
        "waiters": waits,
        "episodes": len(found),
        "expiries": len(expiries),
        "loader_calls_per_expiry": per(expiries, "loads"),
        "max_loader_calls_in_an_episode": max((e["loads"] for e in found), default=0),
        "loads_without_coalescing": demand,
        "loader_calls_per_expiry_without_coalescing": per(expiries, "demand"),
        "episode_loads": [e["loads"] for e in found],
    }


def drive(world: World, config: StampedeConfig) -> dict[str, Any]:
    traffic = config.traffic
    part = install_tenant_traffic(world, traffic, config.profile)
    world.start_sampling(until=traffic.duration)
    world.run(traffic.duration + 60.0, horizon=traffic.duration)
    gap = min(traffic.resolver.time_to_live, traffic.resolver.negative_ttl) / 2
    hot, missing = part.keys[0], part.missing_keys[0]

    def summary(key: Any) -> dict[str, Any]:
        found = episodes(part.loads_by_key.get(key, []), part.demand_by_key.get(key, []), gap)
        return _key_summary(found, part.waits_by_key.get(key, 0))
    return {**part.metrics(), "hot_tenant": summary(hot), "missing_tenant": summary(missing),
            "timelines": world.timelines()}


def checkers(config: StampedeConfig) -> Sequence[Checker]:
    return checkers_for_tenant_traffic(config.traffic, config.profile)


STORY: Story[StampedeConfig] = Story(
    name="stampede",
    summary="a hot tenant expires under 1000 requests/s and a missing tenant is flooded: coalescing "
            "vs reload storms",
    config=StampedeConfig,
    drive=drive,
    checkers=checkers,
)


def run(config: StampedeConfig | None = None, seed: int = 1, **kwargs: Any) -> ScenarioResult:
    return STORY.run(config if config is not None else StampedeConfig(), seed, **kwargs)
