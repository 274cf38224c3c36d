"""Redis in virtual time: a simulated server with outage modes, and a `CacheBackend` whose
breaker permit spans the simulated round trip.

The resolver calls its cache backends synchronously (inside `lookup`, `resume`, `complete`), but a
real Redis call takes time, and what matters in an outage is what happens *during* that time: a
black-holed Redis holds every caller for the client's socket timeout, and all the requests that
arrive meanwhile are admitted by a breaker that is still Closed. So `SimRedisBackend` decides a
call's outcome at once (the model needs the answer) but does not report it to the breaker: it
takes the permit with the non-raising `admit()`, adds the call's virtual cost to the calling
request's `RedisLedger`, and leaves the permit there. The request's simpy process then waits out
the ledger's cost and only then settles every permit (`on_success` / `on_failure`), so the
breaker sees each outcome when the call would really have finished.

Outage modes (`SimRedisServer.mode`): ``"refused"`` (the process is gone: each attempt fails after
`refused_cost`), ``"blackhole"`` (packets vanish: each attempt fails after `socket_timeout`).
`retries` extra attempts each cost `retry_cost` more (redis-py's default policy retries; the
model's adapters turn it off). Keys expire by the injected clock, never the wall clock.

`backend = "fakeredis"` instead runs the real adapter (`rustok_sim.adapters.redis_cache`:
redis-py against a fakeredis server, its breaker inside `breaker.call`), with the hang cost it
charged added to the ledger afterwards: the real client code paths, but the permit no longer
spans the call (outcomes land at the start of the request's wait, not its end).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import Field

from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, Permit
from rustok_sim.model.tenancy.cache import CacheError, CacheStats
from rustok_sim.scenarios.engine.config import Settings
from rustok_sim.scenarios.engine.distributions import Exponential, Latency, Sampler

__all__ = ["CIRCUIT_OPEN_MESSAGE", "RedisClient", "RedisLedger", "SimRedisBackend", "SimRedisServer"]

T = TypeVar("T")

CIRCUIT_OPEN_MESSAGE = "Redis unavailable (circuit breaker open)"
"""The text of Rust's `Error::Cache` while the breaker rejects (spec §7)."""

Mode = Literal["refused", "blackhole"]


class RedisClient(Settings):
    """The Redis client and the server's healthy latency."""

    backend: Literal["memory", "fakeredis"] = Field(
        "memory", description="memory: the simulated server (permits span the call); fakeredis: the real adapter")
    latency: Latency = Field(default_factory=lambda: Exponential(mean=0.0005),
                             description="healthy round trip, seconds")
    socket_timeout: float = Field(1.0, gt=0, allow_inf_nan=False,
                                  description="seconds a call to a black-holed Redis waits before it fails")
    refused_cost: float = Field(0.001, ge=0, allow_inf_nan=False,
                                description="seconds a refused connection attempt takes")
    retries: int = Field(0, ge=0, le=100, description="extra attempts per failed call (redis-py Retry)")
    retry_cost: float = Field(0.008, ge=0, allow_inf_nan=False, description="seconds of backoff before each retry")


class RedisLedger:
    """What one request's Redis calls cost and the permits they hold, until the request's
    process has waited the cost out and settles them."""

    __slots__ = ("cost", "pending", "calls")

    def __init__(self) -> None:
        self.cost = 0.0
        self.pending: list[tuple[CircuitBreaker, Permit, bool]] = []
        self.calls = 0

    def settle(self) -> None:
        """Report every held outcome to its breaker (after the cost has elapsed)."""
        pending, self.pending = self.pending, []
        for breaker, permit, ok in pending:
            if ok:
                breaker.on_success(permit)
            else:
                breaker.on_failure(permit)
        self.cost = 0.0


class SimRedisServer:
    """One simulated Redis: keys with virtual-time deadlines, an outage mode, a command count.
    `ledger` is the calling request's (set by the driver before each resolver call)."""

    __slots__ = ("clock", "data", "mode", "commands", "ledger", "latency", "client", "followers")

    def __init__(self, clock: Callable[[], float], latency: Sampler, client: RedisClient) -> None:
        self.clock, self.latency, self.client = clock, latency, client
        self.data: dict[str, tuple[bytes, float]] = {}
        self.mode: Mode | None = None
        self.commands = 0
        self.ledger = RedisLedger()
        self.followers: list[Callable[[Mode | None], None]] = []
        """Called with each new mode: a real client's fault switch follows the simulated server."""

    def fail(self, mode: Mode) -> None:
        self.mode = mode
        for follow in self.followers:
            follow(mode)

    def heal(self) -> None:
        self.mode = None
        for follow in self.followers:
            follow(None)

    def get(self, key: str) -> bytes | None:
        entry = self.data.get(key)
        if entry is None:
            return None
        if self.clock() > entry[1]:  # Redis: a key expires once now is past its deadline
            del self.data[key]
            return None
        return entry[0]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self.data[key] = (bytes(value), self.clock() + ttl)

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


class SimRedisBackend:
    """A `CacheBackend` on a `SimRedisServer`, every operation through `breaker` (spec §7): an
    open circuit fails at once with Rust's text; a failed call raises `CacheError` with the
    client's text. ``SET EX`` takes whole seconds, as Rust's `ttl.as_secs()`: a TTL under 1 s is
    ``EX 0``, which Redis rejects (a breaker failure)."""

    __slots__ = ("server", "breaker", "ttl", "prefix", "name")

    def __init__(self, server: SimRedisServer, breaker: CircuitBreaker, *, ttl: float, prefix: str,
                 name: str) -> None:
        self.server, self.breaker, self.ttl, self.prefix, self.name = server, breaker, ttl, prefix, name

    def _call(self, fn: Callable[[], T]) -> T:
        server = self.server
        ledger = server.ledger
        ledger.calls += 1
        permit = self.breaker.admit()
        if permit is None:
            raise CacheError(CIRCUIT_OPEN_MESSAGE)
        mode = server.mode
        if mode is None:
            server.commands += 1
            ledger.cost += server.latency()
            try:
                value = fn()
            except CacheError:
                ledger.pending.append((self.breaker, permit, False))
                raise
            ledger.pending.append((self.breaker, permit, True))
            return value
        client = server.client
        per_attempt = client.refused_cost if mode == "refused" else client.socket_timeout
        ledger.cost += per_attempt * (1 + client.retries) + client.retry_cost * client.retries
        ledger.pending.append((self.breaker, permit, False))
        raise CacheError("Connection refused (os error 111)" if mode == "refused" else "Timeout reading from socket")

    def health(self) -> None:
        self._call(lambda: None)

    def get(self, key: str) -> bytes | None:
        full = self.prefix + key
        return self._call(lambda: self.server.get(full))

    def set(self, key: str, value: bytes) -> None:
        self.set_with_ttl(key, value, self.ttl)

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        full, seconds = self.prefix + key, int(ttl)

        def write() -> None:
            if seconds <= 0:
                raise CacheError("ERR invalid expire time in 'set' command")
            self.server.set(full, value, float(seconds))
        self._call(write)

    def invalidate(self, key: str) -> None:
        full = self.prefix + key
        self._call(lambda: self.server.delete(full))

    def stats(self) -> CacheStats:
        return CacheStats()


class FakeRedisBackend:
    """The real adapter (redis-py on fakeredis, `RedisCacheBackend`) as a scenario backend: each
    call's healthy latency, or the hang it charged, goes to the request's ledger."""

    __slots__ = ("inner", "server")

    def __init__(self, inner: Any, server: SimRedisServer) -> None:
        self.inner, self.server = inner, server

    def _timed(self, fn: Callable[[], T]) -> T:
        ledger = self.server.ledger
        ledger.calls += 1
        before = self.inner.breaker.state
        try:
            return fn()
        finally:
            charged = self.inner.take_charged()
            if charged:
                ledger.cost += charged
            elif self.server.mode is None and before.value != "open":
                ledger.cost += self.server.latency()

    def health(self) -> None:
        self._timed(self.inner.health)

    def get(self, key: str) -> bytes | None:
        return self._timed(lambda: self.inner.get(key))

    def set(self, key: str, value: bytes) -> None:
        self._timed(lambda: self.inner.set(key, value))

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        self._timed(lambda: self.inner.set_with_ttl(key, value, ttl))

    def invalidate(self, key: str) -> None:
        self._timed(lambda: self.inner.invalidate(key))

    def stats(self) -> CacheStats:
        return CacheStats()
