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
timed out can still land. Every positive-cache hit is decoded and compared with the tenants
table; a hit that differs is counted (``stale_hits``) and recorded as a ``stale_value``
anomaly. The story's tenants do not change during a run, so a differing hit can only come from
a foreign or corrupted write; the detector is the check, not a scenario that provokes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import redis
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from rustok_sim.adapters.redis_cache import CIRCUIT_OPEN_MESSAGE, RedisCacheBackend, RedisCacheConfig, client_for_url
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker
from rustok_sim.model.tenancy.cache import CacheError, CacheStats
from rustok_sim.model.tenancy.context import TenantContext
from rustok_sim.scenarios.drivers.redis import SimRedisServer
from rustok_sim.scenarios.drivers.tenancy import TenantTraffic, TenantTrafficPart
from rustok_sim.scenarios.engine.config import Profile
from rustok_sim.scenarios.engine.stats import percentiles
from rustok_sim.scenarios.live.nemesis import RedisNemesis
from rustok_sim.scenarios.live.realtime import LiveWorld
from rustok_sim.scenarios.live.redis_server import ManagedRedisServer

__all__ = ["LiveRedisBackend", "LiveTenantTrafficPart"]

T = TypeVar("T")
Outcome = Literal["ok", "failed", "rejected"]


class LiveRedisBackend:
    """A `CacheBackend` on the real adapter, timed: each call's wall duration over `scale` goes
    to the calling request's ledger (virtual seconds) and to `latencies[outcome]`, where the
    outcome is ``ok``, ``failed`` (Redis answered with an error or did not answer) or
    ``rejected`` (the open breaker failed it without I/O)."""

    def __init__(self, inner: RedisCacheBackend, server: SimRedisServer, scale: float,
                 latencies: dict[Outcome, list[float]],
                 check_hit: Callable[[str, bytes], None] | None = None) -> None:
        self.inner, self.server, self.scale, self.latencies = inner, server, scale, latencies
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

    def health(self) -> None:
        self._timed(self.inner.health)

    def get(self, key: str) -> bytes | None:
        value = self._timed(lambda: self.inner.get(key))
        if value is not None and self.check_hit is not None:
            self.check_hit(key, value)
        return value

    def set(self, key: str, value: bytes) -> None:
        self._timed(lambda: self.inner.set(key, value))

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        self._timed(lambda: self.inner.set_with_ttl(key, value, ttl))

    def invalidate(self, key: str) -> None:
        self._timed(lambda: self.inner.invalidate(key))

    def stats(self) -> CacheStats:
        return CacheStats()

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
        """Compare a positive-cache hit with the tenants table (the database's truth)."""
        expected = self._contexts_by_cache_key.get(cache_key)
        self.checked_hits += 1
        try:
            served: TenantContext | None = TenantContext.from_json(value)
        except ValueError:
            served = None
        if served != expected:
            self.stale_hits += 1
            self.world.recorder.anomaly("cache_backend", "redis.positive", "stale_value",
                                        f"cache hit for {cache_key!r} differs from the tenants table",
                                        {"key": cache_key})

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
            "checked_hits": self.checked_hits,
        }
        return metrics
