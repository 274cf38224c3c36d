"""Tenant-resolution traffic on a real Redis: the shared part (`TenantTrafficPart`: the same
resolver, breakers, request processes, metrics and trace records) with its cache backends on
the managed `redis-server` through the real adapter (`RedisCacheBackend`, redis-py), and the
nemesis following the outage window.

Each backend call is timed on the wall clock; its duration divided by the scale is what the
request waits in virtual time (the ledger's cost), so the latency a request reports is what the
real call took, in virtual seconds. The breaker is inside `RedisCacheBackend` (``breaker.call``):
an outcome reaches the breaker when the real call returns, at the virtual instant the call
started (the environment does not advance during a blocking call).

Client settings: the socket and connect timeouts are the config's `socket_timeout` times the
scale (wall seconds), so a black-holed call costs `socket_timeout` virtual seconds, as in the
simulation; redis-py retries only when the config asks for them (`retries`).

Stale values. A paused Redis runs the commands it buffered when it resumes, so a SET whose call
timed out can still land; and an invalidation that fails (the breaker open, Redis paused) is
lost, since both resolvers ignore its error. Every positive-cache hit is decoded and compared
with the tenants table; a hit that differs is counted (``stale_hits``, with the first and last
virtual second) and recorded as a ``stale_value`` anomaly. The story's tenants do not change by
themselves; `schedule_renames` renames a tenant in the table at a virtual second and invalidates
its cache entry through the resolver, as an admin edit would (a ``tenant_store`` ``renamed``
decision in the trace).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from typing import Any, Literal, TypeVar

import redis
import simpy
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from rustok_sim.adapters.redis_cache import CIRCUIT_OPEN_MESSAGE, RedisCacheBackend, RedisCacheConfig, client_for_url
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker
from rustok_sim.model.tenancy.cache import CacheError
from rustok_sim.model.tenancy.context import TenantContext
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.scenarios.drivers.redis import FakeRedisBackend, RedisLedger, SimRedisServer
from rustok_sim.scenarios.drivers.tenancy import TenantTraffic, TenantTrafficPart
from rustok_sim.scenarios.engine.config import Profile
from rustok_sim.scenarios.engine.stats import percentiles
from rustok_sim.scenarios.live.nemesis import RedisNemesis
from rustok_sim.scenarios.live.realtime import LiveWorld
from rustok_sim.scenarios.live.redis_server import ManagedRedisServer

__all__ = ["LiveRedisBackend", "LiveTenantTrafficPart"]

T = TypeVar("T")
Outcome = Literal["ok", "failed", "rejected"]


class LiveRedisBackend(FakeRedisBackend):
    """A `CacheBackend` on the real adapter, timed: each call's wall duration over `scale` goes
    to the calling request's ledger (virtual seconds) and to `latencies[outcome]`, where the
    outcome is ``ok``, ``failed`` (Redis answered with an error or did not answer) or
    ``rejected`` (the open breaker failed it without I/O). The simulation's wrapper of the same
    adapter, with measured time instead of sampled latency, and each hit checked."""

    def __init__(self, inner: RedisCacheBackend, server: SimRedisServer, scale: float,
                 latencies: dict[Outcome, list[float]],
                 check_hit: Callable[[str, bytes], None] | None = None) -> None:
        super().__init__(inner, server)
        self.scale, self.latencies = scale, latencies
        self.check_hit = check_hit

    def _timed(self, fn: Callable[[], T]) -> T:
        ledger = self.server.ledger
        ledger.calls += 1
        outcome: Outcome = "ok"
        began = time.perf_counter()
        try:
            return fn()
        except CacheError as exc:
            outcome = "rejected" if exc.message == CIRCUIT_OPEN_MESSAGE else "failed"
            raise
        finally:
            cost = (time.perf_counter() - began) / self.scale
            ledger.cost += cost
            self.latencies[outcome].append(cost)
            if outcome != "rejected":
                self.server.commands += 1

    def get(self, key: str) -> bytes | None:
        value = self._timed(lambda: self.inner.get(key))
        if value is not None and self.check_hit is not None:
            self.check_hit(key, value)
        return value

    def close(self) -> None:
        self.inner.close()


def _client(url: str, traffic: TenantTraffic, scale: float) -> redis.Redis:
    client_settings = traffic.redis
    timeout = client_settings.socket_timeout * scale
    if client_settings.retries == 0:
        return client_for_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    retry = Retry(ConstantBackoff(client_settings.retry_cost * scale), client_settings.retries)
    return redis.Redis.from_url(url, retry=retry, retry_on_error=[redis.ConnectionError, redis.TimeoutError],
                                socket_timeout=timeout, socket_connect_timeout=timeout)


class LiveTenantTrafficPart(TenantTrafficPart):
    """`TenantTrafficPart` with its Redis backends on `redis_server` and a `RedisNemesis` that
    kills (``refused``) or pauses (``blackhole``) it during the outage window."""

    def __init__(self, world: LiveWorld, section: TenantTraffic, profile: Profile,
                 redis_server: ManagedRedisServer) -> None:
        self.redis_server = redis_server
        self.scale = world.scale
        self.call_latencies: dict[Outcome, list[float]] = {"ok": [], "failed": [], "rejected": []}
        self.live_backends: list[LiveRedisBackend] = []
        self.stale_hits = 0
        self.checked_hits = 0
        self.stale_keys: set[str] = set()
        """Cache keys a stale value was served for."""
        self.stale_span: tuple[float, float] | None = None
        """First and last virtual second a stale value was served."""
        self.renames = 0
        self._invalidating = False
        super().__init__(world, section, profile)
        self._contexts_by_cache_key = {key.positive_key(): context for key, context in self.database.items()}
        self.nemesis = RedisNemesis(redis_server, world.recorder)
        self.server.followers.append(self.nemesis.follow)

    def _backend(self, which: str, ttl: float, breaker_variant: str) -> Any:
        world, section = self.world, self.section
        breaker = CircuitBreaker(section.breaker.config(breaker_variant), clock=world.clock,
                                 observer=world.observer, name=f"redis.{which}")
        self.breakers.append(breaker)
        url = self.redis_server.url
        config = RedisCacheConfig(url=url, ttl=ttl, prefix="", socket_timeout=section.redis.socket_timeout * self.scale,
                                  socket_connect_timeout=section.redis.socket_timeout * self.scale)
        inner = RedisCacheBackend(config, clock=world.clock, client=_client(url, section, self.scale),
                                  breaker=breaker, observer=world.observer, name=f"redis.{which}")
        check = self._check_hit if which == "positive" else None
        backend = LiveRedisBackend(inner, self.server, self.scale, self.call_latencies, check)
        self.live_backends.append(backend)
        return backend

    def _check_hit(self, cache_key: str, value: bytes) -> None:
        """Compare a positive-cache hit with the tenants table (the database's truth). A read by
        an invalidation itself (hardened looks up the entry to find the tenant's aliases) serves
        nobody, so it is not checked."""
        if self._invalidating:
            return
        expected = self._contexts_by_cache_key.get(cache_key)
        self.checked_hits += 1
        try:
            served: TenantContext | None = TenantContext.from_json(value)
        except ValueError:
            served = None
        if served != expected:
            self.stale_hits += 1
            self.stale_keys.add(cache_key)
            now = self.world.env.now
            self.stale_span = (now, now) if self.stale_span is None else (self.stale_span[0], now)
            self.world.recorder.anomaly("cache_backend", "redis.positive", "stale_value",
                                        f"cache hit for {cache_key!r} differs from the tenants table",
                                        {"key": cache_key})

    def schedule_renames(self, renames: Sequence[tuple[float, int]]) -> None:
        """Rename tenant `index` (0-based; 0 is the most popular) at each virtual second `at`."""
        for at, index in renames:
            if not 0 <= index < len(self.tenant_ids):
                raise ValueError(f"rename at {at:g} s names tenant {index}; tenants are 0..{len(self.tenant_ids) - 1}")
            self.world.env.process(self._rename(at, index))

    def _rename(self, at: float, index: int) -> Generator[simpy.Event, Any, None]:
        env = self.world.env
        yield env.timeout(max(0.0, at - env.now))
        key = TenantKey.uuid(self.tenant_ids[index])
        renamed = self.database[key].with_changes(name=f"Tenant {index} (renamed at {env.now:g} s)")
        self.database[key] = renamed
        self._contexts_by_cache_key[key.positive_key()] = renamed
        self.renames += 1
        self.world.recorder.decision("tenant_store", "tenants", "renamed", str(key), {"tenant": index})
        ledger = RedisLedger()
        self._invalidating = True
        try:
            self._call(ledger, self.resolver.invalidate, key)  # errors are the resolver's to ignore, as in Rust
        finally:
            self._invalidating = False
        if ledger.cost:
            yield env.timeout(ledger.cost)
        ledger.settle()

    def close(self) -> None:
        for backend in self.live_backends:
            backend.close()

    def metrics(self) -> dict[str, Any]:
        metrics = super().metrics()
        metrics["live"] = {
            "redis_port": self.redis_server.port,
            "redis_starts": self.redis_server.starts,
            "nemesis": self.nemesis.summary(),
            "redis_call_latency": {outcome: percentiles(values) for outcome, values in self.call_latencies.items()},
            "redis_calls": {outcome: len(values) for outcome, values in self.call_latencies.items()},
            "stale_hits": self.stale_hits,
            "stale_span": list(self.stale_span) if self.stale_span is not None else None,
            "stale_keys": sorted(self.stale_keys),
            "checked_hits": self.checked_hits,
            "renames": self.renames,
        }
        return metrics
