"""`RedisCacheBackend` (spec §7): a `CacheBackend` on redis-py, every operation through a circuit
breaker. The live adapter of the cache layer: it does I/O through its client, either a fakeredis
server (the default, no service needed) or a real Redis URL.

Behaviour, as in Rust:

- keys are ``"{prefix}:{key}"`` (the key alone when the prefix is empty);
- `health` PINGs (any reply but PONG is an error), `get` GETs (a nil reply is a miss and a
  breaker *success*), `set` / `set_with_ttl` SET with ``EX <whole seconds>`` (the TTL is
  truncated, so a TTL under 1 s sends ``EX 0``, which Redis rejects: a breaker failure),
  `invalidate` DELs; `stats` is all zeros;
- every operation goes through the breaker: a Redis error (refused, timed out, rejected command)
  is a breaker failure and raises `CacheError(<redis error text>)`; while the circuit rejects,
  every operation raises `CacheError("Redis unavailable (circuit breaker open)")` without I/O;
- there is no fallback inside the backend; callers decide (V1 answers 500, hardened falls back).

Time. Scenarios run this backend in virtual time, but Redis expires keys on its own wall clock.
So the value stored in Redis carries the deadline computed from the injected clock
(``now + EX``), and `get` treats an entry as gone once ``clock() > deadline`` (Redis' own rule:
a key expires when now is *past* its expire time). Redis' EX still bounds the key's real
lifetime. A value without our header (written by something else) has no virtual deadline.

Faults. `RedisFaults` is the outage switch of one Redis server, shared by every backend on it:
``refuse()`` makes connections fail at once (for fakeredis, the server's ``connected`` flag;
for a real server, an injected ConnectionError), ``hang()`` makes every command time out: it
raises redis' TimeoutError after charging the configured `socket_timeout` to the backend's
virtual cost (`charged`, read and reset with `take_charged()`), so the model never sleeps.

Client settings: redis-py retries a failed command by default; a retry against a dead server
multiplies the cost of every call. `client_for_url` turns retries off (``Retry(NoBackoff(), 0)``)
and sets short connect / read timeouts, so a call against a dead server fails fast.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import fakeredis
import redis
from pydantic import BaseModel, ConfigDict, Field
from redis.backoff import NoBackoff
from redis.retry import Retry

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitOpenError
from rustok_sim.model.tenancy.cache import CacheBackend, CacheError, CacheStats, InMemoryCacheBackend

__all__ = [
    "CIRCUIT_OPEN_MESSAGE",
    "RedisCacheBackend",
    "RedisCacheConfig",
    "RedisFaults",
    "client_for_url",
    "open_cache_backend",
    "redacted_url",
]

COMPONENT = "cache_backend"
CIRCUIT_OPEN_MESSAGE = "Redis unavailable (circuit breaker open)"

T = TypeVar("T")

# Value envelope: magic, then the virtual deadline as a big-endian float64, then the payload.
_MAGIC = b"\x00rsim-ttl\x00"
_DEADLINE = struct.Struct(">d")
_HEADER = len(_MAGIC) + _DEADLINE.size


class RedisCacheConfig(BaseModel):
    """One Redis cache backend. `url` None means a private fakeredis server."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    url: str | None = Field(None, description="redis:// URL; None = fakeredis (no service needed)")
    prefix: str = Field("", description="key prefix; keys become '{prefix}:{key}'")
    ttl: float = Field(300.0, ge=0, allow_inf_nan=False,
                       description="seconds; sent as EX <whole seconds>, so < 1 s is rejected by Redis")
    socket_timeout: float = Field(1.0, gt=0, allow_inf_nan=False,
                                  description="seconds a command may wait for a reply")
    socket_connect_timeout: float = Field(1.0, gt=0, allow_inf_nan=False,
                                          description="seconds a connection attempt may take")
    breaker: CircuitBreakerConfig = Field(default_factory=CircuitBreakerConfig,
                                          description="Rust's default: 5 / 2 / 60 s / 3")


class RedisFaults:
    """The outage switch of one Redis server, shared by the backends that use it.

    `mode` is None (healthy), ``"refuse"`` or ``"hang"``. `fake_server` is the fakeredis server
    backends without a URL connect to when built with these faults.
    """

    __slots__ = ("mode", "fake_server")

    def __init__(self, fake_server: fakeredis.FakeServer | None = None) -> None:
        self.mode: Literal["refuse", "hang"] | None = None
        self.fake_server = fake_server if fake_server is not None else fakeredis.FakeServer()

    def refuse(self) -> None:
        """Connections are refused at once (a Redis process that is gone)."""
        self.mode = "refuse"
        self.fake_server.connected = False

    def hang(self) -> None:
        """Every command waits until the socket timeout (a black-holed Redis)."""
        self.mode = "hang"
        self.fake_server.connected = True

    def heal(self) -> None:
        self.mode = None
        self.fake_server.connected = True


def redacted_url(url: str) -> str:
    """`url` with any password replaced by '***', for error messages and traces."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def client_for_url(url: str, *, socket_timeout: float = 1.0,
                   socket_connect_timeout: float = 1.0) -> redis.Redis:
    """A redis-py client that fails fast: no retries, short connect and read timeouts.
    Raises `CacheError` for a URL redis-py cannot use."""
    try:
        return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0),
                                    socket_timeout=socket_timeout,
                                    socket_connect_timeout=socket_connect_timeout)
    except ValueError as exc:
        raise CacheError(f"invalid Redis URL {redacted_url(url)!r}: {exc}") from None


class RedisCacheBackend:
    """A `CacheBackend` on Redis with a circuit breaker (see the module docstring).

    Build it with a config (`url` None: fakeredis on `faults.fake_server` or a private server),
    or pass a ready `client`. The constructor does no I/O (Rust @02-13: a bad server shows up
    on the first operation); `connect()` also PINGs, outside the breaker, and raises
    `CacheError` when Redis is unreachable (Rust from 02-14).
    """

    __slots__ = ("config", "clock", "client", "faults", "breaker", "observer", "name", "charged",
                 "_prefix", "_decisions")

    def __init__(self, config: RedisCacheConfig | None = None, *, clock: Clock,
                 client: redis.Redis | None = None, faults: RedisFaults | None = None,
                 breaker: CircuitBreaker | None = None, observer: Observer | None = None,
                 name: str = "redis_cache") -> None:
        if config is None:
            config = RedisCacheConfig()
        elif not isinstance(config, RedisCacheConfig):
            raise TypeError(f"RedisCacheBackend needs a RedisCacheConfig (or None for the defaults), got "
                            f"{given(config, RedisCacheConfig)}; build one with RedisCacheConfig(**fields)")
        if faults is not None and not isinstance(faults, RedisFaults):
            raise TypeError(f"faults= must be a RedisFaults, got {given(faults, RedisFaults)}")
        if breaker is not None and not isinstance(breaker, CircuitBreaker):
            raise TypeError(f"breaker= must be a CircuitBreaker, got {given(breaker, CircuitBreaker)}")
        self.config = config
        self.clock = require_clock(clock, "RedisCacheBackend")
        name = require_name(name, "RedisCacheBackend")
        observer = require_observer(observer, f"RedisCacheBackend {name!r}")
        self.faults, self.observer, self.name = faults, observer, name
        self._decisions = observer_for(observer, "decision")
        if client is None:
            if config.url is None:
                server = faults.fake_server if faults is not None else fakeredis.FakeServer()
                client = fakeredis.FakeRedis(server=server)
            else:
                client = client_for_url(config.url, socket_timeout=config.socket_timeout,
                                        socket_connect_timeout=config.socket_connect_timeout)
        self.client = client
        self.breaker = breaker if breaker is not None else CircuitBreaker(
            config.breaker, clock=clock, observer=observer, name=f"{name}.breaker")
        self.charged = 0.0
        self._prefix = f"{config.prefix}:" if config.prefix else ""

    @classmethod
    def connect(cls, config: RedisCacheConfig | None = None, **kwargs: Any) -> RedisCacheBackend:
        """Build the backend and PING once, outside the breaker (Rust from 02-14: the
        constructor connects). Raises `CacheError` naming the URL when Redis does not answer."""
        backend = cls(config, **kwargs)
        try:
            backend._guarded(backend.client.ping)
        except redis.RedisError as exc:
            url = backend.config.url or "fakeredis"
            raise CacheError(f"cannot connect to Redis at {redacted_url(url)}: {exc}") from None
        return backend

    # -- plumbing ------------------------------------------------------------------------------

    def circuit_breaker(self) -> CircuitBreaker:
        """Rust `circuit_breaker()`: the breaker every operation goes through, for monitoring."""
        return self.breaker

    def full_key(self, key: str) -> str:
        """The Redis key for `key`: ``"{prefix}:{key}"``, or `key` with an empty prefix."""
        return self._prefix + key

    def take_charged(self) -> float:
        """Virtual seconds the operations since the last call spent waiting on a hung Redis."""
        charged, self.charged = self.charged, 0.0
        return charged

    def _guarded(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One Redis round trip, with the injected fault applied first."""
        faults = self.faults
        if faults is not None and faults.mode is not None:
            if faults.mode == "hang":
                self.charged += self.config.socket_timeout
                raise redis.TimeoutError("Timeout reading from socket")
            if self.config.url is not None:  # a fake server refuses by itself
                raise redis.ConnectionError("Connection refused (injected fault)")
        return fn(*args, **kwargs)

    def _run(self, op: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return self.breaker.call(self._guarded, fn, *args)
        except CircuitOpenError:
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "rejected", "circuit_open", {"op": op})
            raise CacheError(CIRCUIT_OPEN_MESSAGE) from None
        except redis.RedisError as exc:
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "failed", type(exc).__name__,
                                       {"op": op, "error": str(exc)})
            raise CacheError(str(exc)) from exc

    # -- CacheBackend ----------------------------------------------------------------------------

    def health(self) -> None:
        """PING; any reply other than PONG is `CacheError("unexpected Redis PING response: ...")`,
        a breaker failure."""

        def ping() -> None:
            reply = self.client.execute_command("PING")
            if reply not in (True, b"PONG", "PONG"):
                # Rust reads the reply as a String and formats it with `{pong}`: no quotes.
                text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
                raise CacheError(f"unexpected Redis PING response: {text}")

        self._run("health", ping)

    def get(self, key: str) -> bytes | None:
        reply = self._run("get", self.client.get, self.full_key(key))
        if reply is None:
            return None
        # A client built with decode_responses=True answers str; the payload is bytes either way.
        raw = reply.encode("utf-8") if isinstance(reply, str) else bytes(reply)
        if raw[:len(_MAGIC)] == _MAGIC and len(raw) >= _HEADER:
            (deadline,) = _DEADLINE.unpack_from(raw, len(_MAGIC))
            if self.clock() > deadline:
                return None
            return raw[_HEADER:]
        return raw

    def set(self, key: str, value: bytes) -> None:
        self.set_with_ttl(key, value, self.config.ttl)

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        """SET with ``EX int(ttl)`` (truncated, as Rust's `Duration::as_secs`)."""
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not (ttl >= 0 and math.isfinite(ttl)):
            raise ValueError(f"ttl must be a finite number of seconds >= 0, got {ttl!r}")
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"cache values are bytes, got {type(value).__name__} for key {key!r:.80}")
        seconds = int(ttl)
        payload = _MAGIC + _DEADLINE.pack(self.clock() + seconds) + bytes(value)
        full_key = self.full_key(key)
        self._run("set", lambda: self.client.set(full_key, payload, ex=seconds))

    def invalidate(self, key: str) -> None:
        self._run("invalidate", self.client.delete, self.full_key(key))

    def stats(self) -> CacheStats:
        return CacheStats()

    def publish(self, channel: str, message: str) -> bool:
        """PUBLISH outside the breaker, errors swallowed (V1's invalidation publisher)."""
        try:
            self._guarded(self.client.publish, channel, message)
        except redis.RedisError:
            return False
        return True

    def close(self) -> None:
        self.client.close()


def open_cache_backend(config: RedisCacheConfig, *, clock: Clock, fall_back: bool = False,
                       capacity: int = 1000, faults: RedisFaults | None = None,
                       observer: Observer | None = None, name: str = "redis_cache") -> CacheBackend:
    """Connect a `RedisCacheBackend` (PING once). If Redis does not answer: raise the
    `CacheError` (``fall_back=False``), or log a ``fell_back`` decision and return an
    `InMemoryCacheBackend` with the config's TTL and `capacity` (the hardened mode)."""
    try:
        return RedisCacheBackend.connect(config, clock=clock, faults=faults, observer=observer,
                                         name=name)
    except CacheError as exc:
        if not fall_back:
            raise
        if observer is not None:
            observer.decision(COMPONENT, name, "fell_back", "redis_unreachable",
                              {"error": str(exc), "to": "in_memory"})
        return InMemoryCacheBackend(config.ttl, capacity, clock=clock, observer=observer, name=name)
