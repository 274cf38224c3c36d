"""Tenant-resolution traffic, as a reusable part: HTTP requests naming tenants (Zipf popularity,
a fraction naming tenants that do not exist) resolved by the model's tenant resolver, whose V1 /
hardened caches are Redis behind circuit breakers (`rustok_sim.scenarios.drivers.redis`), in
front of a tenants table whose loads take database time.

One simpy process per request walks the resolver's split protocol: `lookup` gives a `Hit` (200
from the cache), a `LoadTicket` (this request loads: database time, then `complete`), or a `Wait`
(the request parks on a simpy event that the load's `on_complete` callback succeeds, then
`resume`s). Every Redis call's cost is waited out before its breaker permit is settled. Each
request ends with an ``http`` ``responded`` decision whose reason is the status (200, 404, 500)
and whose detail says the latency, the source (cache, database, none) and, for a 500, whether a
cache error caused it.

Faults: a Redis outage window (``refused`` or ``blackhole``), which V1 turns into HTTP 500s
(spec §6.2, §7) and hardened serves from the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from functools import partial
from typing import Any, Literal

import simpy
from pydantic import Field, model_validator

from rustok_sim.conformance.invariants import Checker, KnownDefect
from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.conformance.invariants.breaker import BreakerLegal, NoStuckHalfOpen
from rustok_sim.conformance.invariants.tenancy import Coalescing, No5xxFromCacheOutage, NoReloadStorm
from rustok_sim.model.resilience import circuit_breaker as breaker_module
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig
from rustok_sim.model.tenancy import resolver as resolver_module
from rustok_sim.model.tenancy.cache import CacheError
from rustok_sim.model.tenancy.context import TenantContext
from rustok_sim.model.tenancy.http import http_status
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import Hit, LoadTicket, TenantResolverConfig, build_tenant_resolver
from rustok_sim.scenarios.drivers.redis import (
    FakeRedisBackend,
    RedisClient,
    RedisLedger,
    SimRedisBackend,
    SimRedisServer,
)
from rustok_sim.scenarios.engine.config import Profile, Settings, resolve_variant
from rustok_sim.scenarios.engine.distributions import Latency, Lognormal, sampler
from rustok_sim.scenarios.engine.stats import percentiles
from rustok_sim.scenarios.engine.world import World
from rustok_sim.scenarios.faults.redis import RedisOutage
from rustok_sim.scenarios.workloads import Arrivals, Poisson, ZipfTenants, arrival_times

__all__ = ["BreakerSection", "TenantTraffic", "TenantTrafficPart", "checkers_for_tenant_traffic",
           "install_tenant_traffic"]

_STATE_CODE = {"closed": 0.0, "open": 1.0, "half_open": 2.0}


class BreakerSection(Settings):
    """The Redis backends' circuit breaker (spec §1.1; Rust's defaults are 5 / 2 / 60 s / 3; the
    story's timeout is shorter so a two-minute run shows a recovery)."""

    failure_threshold: int = Field(5, ge=0)
    success_threshold: int = Field(2, ge=0)
    timeout: float = Field(10.0, ge=0, allow_inf_nan=False, description="seconds Open before a probe")
    half_open_max_requests: int | None = Field(3, ge=0)
    variant: Literal["resilience", "standalone", "hardened"] | None = None

    def config(self, variant: str) -> CircuitBreakerConfig:
        return CircuitBreakerConfig(failure_threshold=self.failure_threshold,
                                    success_threshold=self.success_threshold, timeout=self.timeout,
                                    half_open_max_requests=self.half_open_max_requests,
                                    variant=variant)  # type: ignore[arg-type]


class ResolverSection(Settings):
    variant: Literal["v1", "v2", "hardened"] | None = None
    # Rust V1's TTLs (spec §6.2)
    time_to_live: float = Field(300.0, gt=0, allow_inf_nan=False, description="positive cache TTL, seconds")
    negative_ttl: float = Field(60.0, gt=0, allow_inf_nan=False, description="not-found TTL, seconds")
    max_capacity: int = Field(1000, ge=1)


class TenantTraffic(Settings):
    duration: float = Field(120.0, gt=0, allow_inf_nan=False, description="virtual seconds of requests")
    arrivals: Arrivals = Field(default_factory=lambda: Poisson(rate=200.0), description="requests per second")
    tenants: ZipfTenants = Field(default_factory=lambda: ZipfTenants(count=200, exponent=1.1))
    missing_fraction: float = Field(0.02, ge=0, le=1, allow_inf_nan=False,
                                    description="fraction of requests naming a tenant that does not exist")
    missing_tenants: int = Field(5, ge=1, le=100_000, description="distinct nonexistent tenants asked for")
    resolver: ResolverSection = Field(default_factory=ResolverSection)
    breaker: BreakerSection = Field(default_factory=BreakerSection)
    redis: RedisClient = Field(default_factory=RedisClient)
    database: Latency = Field(default_factory=lambda: Lognormal(median=0.004, p99=0.04),
                              description="one tenant load, seconds")
    # 25 s, not a multiple of the breaker's 10 s timeout, so the probe that closes it comes a few
    # seconds after the outage (a multiple would land a probe on the outage's last instant).
    outage: RedisOutage | None = Field(default_factory=lambda: RedisOutage(start=30.0, duration=25.0))
    interval: float = Field(5.0, gt=0, allow_inf_nan=False, description="seconds per reporting interval")

    @model_validator(mode="after")
    def _outage_inside(self) -> TenantTraffic:
        if self.outage is not None and self.outage.start >= self.duration:
            raise ValueError(f"outage.start ({self.outage.start}) must be before duration ({self.duration})")
        return self


def _variants(section: TenantTraffic, profile: Profile) -> tuple[str, str]:
    return (resolve_variant(profile, section.resolver.variant, resolver_module.PROFILE_VARIANTS),
            resolve_variant(profile, section.breaker.variant, breaker_module.PROFILE_VARIANTS))


def checkers_for_tenant_traffic(section: TenantTraffic, profile: Profile) -> list[Checker]:
    resolver_variant, breaker_variant = _variants(section, profile)
    faithful = profile == "faithful"
    outage_500 = KnownDefect("§6.2/§7", "V1 turns any cache error into HTTP 500; there is no database fallback")
    stuck = KnownDefect("§1.3", "CB-B counts every half-open probe and never decrements: with success_threshold > "
                                "half_open_max_requests + 1 it stays half-open for good")
    storm = KnownDefect("§6.2", "V1 waiters re-check only the positive cache, so after a not-found each becomes "
                                "the loader in turn")
    breaker = section.breaker
    return [
        BreakerLegal(breaker_variant),
        NoStuckHalfOpen(breaker.timeout, section.duration,
                        stuck if faithful and breaker_variant == "resilience" else None),
        No5xxFromCacheOutage(outage_500 if faithful and resolver_variant == "v1" else None),
        Coalescing(),
        NoReloadStorm(storm if faithful and resolver_variant == "v1" else None, section.resolver.negative_ttl,
                      negative_cache=resolver_variant != "v2"),
    ]


class TenantTrafficPart:
    def __init__(self, world: World, section: TenantTraffic, profile: Profile) -> None:
        self.world, self.section = world, section
        resolver_variant, breaker_variant = _variants(section, profile)
        self.resolver_variant, self.breaker_variant = resolver_variant, breaker_variant
        clock, observer = world.clock, world.observer
        count = section.tenants.count
        self.tenant_ids = [uuid.UUID(int=(3 << 64) + k) for k in range(count)]
        self.database = {TenantKey.uuid(tid): TenantContext(id=tid, name=f"Tenant {k}", slug=f"tenant-{k}")
                         for k, tid in enumerate(self.tenant_ids)}
        self.missing_keys = [TenantKey.uuid(uuid.UUID(int=(4 << 64) + k)) for k in range(section.missing_tenants)]
        self.keys = list(self.database)
        redis = section.redis
        self.server = SimRedisServer(clock, sampler(redis.latency, world.rng("redis")), redis)
        self.breakers: list[CircuitBreaker] = []
        resolver_config = TenantResolverConfig(variant=resolver_variant,  # type: ignore[arg-type]
                                               time_to_live=section.resolver.time_to_live,
                                               negative_ttl=section.resolver.negative_ttl,
                                               max_capacity=section.resolver.max_capacity)
        if resolver_variant == "v2":
            self.resolver: Any = build_tenant_resolver(resolver_config, clock=clock, observer=observer, name="tenant")
        else:
            positive = self._backend("positive", section.resolver.time_to_live, breaker_variant)
            negative = self._backend("negative", section.resolver.negative_ttl, breaker_variant)
            self.resolver = build_tenant_resolver(resolver_config, clock=clock, positive=positive,
                                                  negative=negative, observer=observer, name="tenant")
        self.db_sample = sampler(section.database, world.rng("database"))
        self.status_counts: dict[str, int] = {}
        self.by_interval: list[dict[str, int]] = []
        self.db_by_interval: list[int] = []
        self.db_loads = 0
        self.missing_loads = 0
        self.loads_by_key: dict[TenantKey, list[tuple[float, float]]] = {}
        """Each key's loads as (start, end) in virtual time, for stampede episodes."""
        self.waits_by_key: dict[TenantKey, int] = {}
        self.demand_by_key: dict[TenantKey, list[float]] = {}
        """When each request that loaded or waited for a load first did so: without coalescing,
        each of them would have run a load of its own."""
        self.latencies: list[float] = []
        self.outage_latencies: list[float] = []
        self.cache_500s = 0
        self.first_open: float | None = None
        self.recovered_at: float | None = None
        self.decisions = world.recorder if world.recorder.wants("decision") else None
        for breaker in self.breakers:
            world.gauge("circuit_breaker", breaker.name, "state", partial(_state_code, breaker))
        world.gauge("redis", "server", "up", self._redis_up)
        outage = section.outage
        if outage is not None and resolver_variant != "v2":
            world.window(v.REDIS_OUTAGE, "redis", outage.start, min(outage.end, section.duration + 3600.0),
                         detail={"mode": outage.mode}, on_start=lambda: self.server.fail(outage.mode),
                         on_end=self.server.heal)
        world.env.process(self._arrivals())

    def _backend(self, which: str, ttl: float, breaker_variant: str) -> Any:
        world, section = self.world, self.section
        breaker = CircuitBreaker(section.breaker.config(breaker_variant), clock=world.clock,
                                 observer=world.observer, name=f"redis.{which}")
        self.breakers.append(breaker)
        if section.redis.backend == "memory":
            return SimRedisBackend(self.server, breaker, ttl=ttl, prefix="", name=f"redis.{which}")
        return self._fakeredis(which, ttl, breaker)

    def _fakeredis(self, which: str, ttl: float, breaker: CircuitBreaker) -> Any:
        from rustok_sim.adapters.redis_cache import RedisCacheBackend, RedisCacheConfig, RedisFaults

        if not hasattr(self, "_fake_faults"):
            self._fake_faults = RedisFaults()
        faults = self._fake_faults
        redis = self.section.redis
        config = RedisCacheConfig(ttl=ttl, socket_timeout=redis.socket_timeout, prefix="")
        inner = RedisCacheBackend(config, clock=self.world.clock, faults=faults, breaker=breaker,
                                  observer=self.world.observer, name=f"redis.{which}")
        server = self.server

        def follow(mode: str | None) -> None:
            if mode is None:
                faults.heal()
            elif mode == "refused":
                faults.refuse()
            else:
                faults.hang()
        if not server.followers:
            server.followers.append(follow)
        return FakeRedisBackend(inner, server)

    def _redis_up(self) -> float:
        return 0.0 if self.server.mode else 1.0

    # -- requests ---------------------------------------------------------------------------------

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        world, section, env = self.world, self.section, self.world.env
        pick = section.tenants.picker(world.rng("tenants"))
        choose = world.rng("missing")
        keys, missing, fraction = self.keys, self.missing_keys, section.missing_fraction
        process = env.process
        for t in arrival_times(section.arrivals, world.rng("requests"), end=section.duration):
            yield env.timeout(t - env.now)
            if fraction and choose.random() < fraction:
                key = missing[choose.randrange(len(missing))]
            else:
                key = keys[pick()]
            process(self._request(key))

    def _call(self, ledger: RedisLedger, fn: Any, *args: Any) -> tuple[Any, BaseException | None]:
        self.server.ledger = ledger
        try:
            return fn(*args), None
        except Exception as exc:  # noqa: BLE001 - every error is an HTTP status, by the model's rule
            return None, exc

    def _request(self, key: TenantKey) -> Generator[simpy.Event, Any, None]:
        env, resolver = self.world.env, self.resolver
        start = env.now
        ledger = RedisLedger()
        source = "cache"
        joined: float | None = None
        outcome, error = self._call(ledger, resolver.lookup, key)
        while error is None:
            if ledger.cost:
                yield env.timeout(ledger.cost)
            ledger.settle()
            self._watch_breaker()
            if isinstance(outcome, Hit):
                break
            if joined is None:
                joined = env.now
            if isinstance(outcome, LoadTicket):
                source = "database"
                self.db_loads += 1
                self._count_db()
                began = env.now
                yield env.timeout(self.db_sample())
                self.loads_by_key.setdefault(key, []).append((began, env.now))
                context = self.database.get(key)
                if context is None:
                    self.missing_loads += 1
                outcome, error = self._call(ledger, resolver.complete, outcome, context)
                if error is None:
                    if ledger.cost:
                        yield env.timeout(ledger.cost)
                    ledger.settle()
                    break
                continue
            self.waits_by_key[key] = self.waits_by_key.get(key, 0) + 1
            wake = env.event()
            outcome.on_complete(lambda _outcome, wake=wake: wake.succeed())
            yield wake
            outcome, error = self._call(ledger, resolver.resume, outcome)
        if error is not None:
            if ledger.cost:
                yield env.timeout(ledger.cost)
            ledger.settle()
            self._watch_breaker()
        if joined is not None:
            self.demand_by_key.setdefault(key, []).append(joined)
        status = 200 if error is None else http_status(error)
        cause = None
        if error is not None:
            cause = "cache" if isinstance(error, CacheError) else type(error).__name__
            if status >= 500 and cause == "cache":
                self.cache_500s += 1
            if status == 404:
                source = "none"
        self._respond(status, env.now - start, source, cause)

    def _count_db(self) -> None:
        index = int(self.world.env.now // self.section.interval)
        loads = self.db_by_interval
        while len(loads) <= index:
            loads.append(0)
        loads[index] += 1

    def _respond(self, status: int, latency: float, source: str, cause: str | None) -> None:
        now = self.world.env.now
        text = str(status)
        self.status_counts[text] = self.status_counts.get(text, 0) + 1
        index = int(now // self.section.interval)
        intervals = self.by_interval
        while len(intervals) <= index:
            intervals.append({})
        bucket = intervals[index]
        bucket[text] = bucket.get(text, 0) + 1
        self.latencies.append(latency)
        outage = self.section.outage
        if outage is not None and outage.start <= now < outage.end:
            self.outage_latencies.append(latency)
        if self.decisions is not None:
            self.decisions.decision(v.HTTP, "tenant", v.RESPONDED, text,
                                    {"latency": latency, "source": source, "cause": cause})

    def _watch_breaker(self) -> None:
        """Time to open: the outage's start to the first breaker leaving Closed. Time to recover:
        the outage's end to every breaker Closed again."""
        outage = self.section.outage
        now = self.world.env.now
        if not self.breakers or outage is None or now < outage.start:
            return
        closed = all(b.state.value == "closed" for b in self.breakers)
        if not closed and self.first_open is None:
            self.first_open = now
        if closed and now >= outage.end and self.first_open is not None and self.recovered_at is None:
            self.recovered_at = now

    # -- the end --------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        outage = self.section.outage
        breakers = {b.name: {"state": b.state.value, **_breaker_totals(b)} for b in self.breakers}
        interval = self.section.interval
        return {
            "resolver_variant": self.resolver_variant,
            "breaker_variant": self.breaker_variant if self.breakers else None,
            "requests": sum(self.status_counts.values()),
            "http_status_counts": dict(sorted(self.status_counts.items())),
            "http_status_by_interval": [{"t": i * interval, "counts": dict(sorted(c.items()))}
                                        for i, c in enumerate(self.by_interval)],
            "cache_error_500s": self.cache_500s,
            "latency": percentiles(self.latencies),
            "latency_during_outage": percentiles(self.outage_latencies),
            "db_loads": self.db_loads,
            "db_loads_by_interval": [{"t": i * interval, "loads": n} for i, n in enumerate(self.db_by_interval)],
            "missing_tenant_loads": self.missing_loads,
            "redis_commands": self.server.commands,
            "breakers": breakers,
            "time_to_open": None if outage is None or self.first_open is None else self.first_open - outage.start,
            "time_to_recover": (None if outage is None or self.recovered_at is None
                                else self.recovered_at - outage.end),
            "cache_fallbacks": getattr(self.resolver, "cache_fallbacks", 0),
            "unconfirmed_keys": getattr(self.resolver, "unconfirmed_keys", 0),
        }


def _state_code(breaker: CircuitBreaker) -> float:
    return _STATE_CODE[breaker.state.value]


def _breaker_totals(breaker: CircuitBreaker) -> dict[str, Any]:
    stats = breaker.stats().as_dict()
    return {k: (val.value if hasattr(val, "value") else val) for k, val in stats.items()}


def install_tenant_traffic(world: World, section: TenantTraffic, profile: Profile) -> TenantTrafficPart:
    return TenantTrafficPart(world, section, profile)
