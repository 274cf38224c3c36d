"""Cache backends (spec §7): the `CacheBackend` protocol, its errors and stats, and the in-memory
backend; plus `ExpiringLruCache`, the TTL / TTI / capacity cache both moka stand-ins are built on.

`ExpiringLruCache` is our model of a moka cache:

- an entry expires at ``inserted + ttl`` or ``last_access + tti``, whichever comes first, and it
  is already expired *at* that instant (moka's check is ``ts + ttl <= now``);
- a hit refreshes the last access (for TTI) and the recency (for eviction);
- capacity is an entry count. **Eviction policy: LRU** (moka uses TinyLFU admission with LRU
  eviction, so under pressure moka may refuse to admit a new entry where we evict the least
  recently used one). Expired entries are purged before any live entry is evicted, and the live
  entry count never exceeds `capacity` after an operation. Rust's `entry_count()` is approximate
  (pending maintenance); ours is exact.

Expiry is lazy, on the injected clock, like everything in the model: each operation (get,
insert, invalidate) first drops the entries that have expired by now. Write order is TTL order
and recency order is TTI order, so purging only ever looks at the heads of two ordered dicts
(amortised O(1)); the earliest instant either head can expire is kept (`_horizon`), so a hit
before it costs no purge at all. Readers (`peek`, `len`, `in`, `keys`, `stats`) never purge:
they leave the cache and the trace as they found it and skip expired entries instead.

Every entry moves through `ENTRY_TRANSITIONS` (component ``cache_entry``, one table for every
cache: which cache and which key is the record's instance, ``"<cache name>[<key>]"``), fired
through the bound `Machine`, whose target the cache applies (``absent``: the entry is dropped).

State outside the table: an entry's ``fresh`` / ``absent`` state *is* its presence in the two
orders (a per-key state field would only duplicate it); its timestamps (inserted, last access)
are timers the expiry triggers read; the eviction / expiration / invalidation counters are
statistics, not states.

`InMemoryCacheBackend` is RusToK's moka `InMemoryCacheBackend`: bytes values, one TTL, a
capacity, `health()` always Ok, `stats()` reporting only `entries`, and `set_with_ttl` ignoring
its TTL argument (02-14 on).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from rustok_sim.model.core.checks import require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.core.transitions import Edge, TransitionTable
from rustok_sim.model.tenancy.protocols import CacheBackend

__all__ = [
    "COMPONENT",
    "ENTRY_TRANSITIONS",
    "CacheBackend",
    "CacheError",
    "CacheStats",
    "ExpiringLruCache",
    "ExpiringLruStats",
    "InMemoryCacheBackend",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

COMPONENT = "cache_entry"


class CacheError(Exception):
    """Rust `Error::Cache(msg)`. `str()` is the Display text ``"Cache error: {msg}"``; `message`
    is the inner text (e.g. "Redis unavailable (circuit breaker open)")."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"Cache error: {message}")

    def __reduce__(self) -> tuple[type[CacheError], tuple[str]]:
        return (type(self), (self.message,))


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Rust `CacheStats`. Moka reports only `entries`; Redis reports all zeros."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0


@dataclass(frozen=True, slots=True)
class ExpiringLruStats:
    """What an `ExpiringLruCache` counted: capacity evictions, TTL / TTI expirations, explicit
    invalidations, and the live entries now."""

    evictions: int
    expirations: int
    invalidations: int
    entries: int


# --------------------------------------------------------------------------------------------
# Entry lifecycle, as data.
# --------------------------------------------------------------------------------------------

EntryState = Literal["absent", "fresh"]


ENTRY_TRANSITIONS = TransitionTable(COMPONENT, (
    Edge("absent", "fresh", "insert", "insert of a key not present"),
    Edge("fresh", "fresh", "insert", "insert over a live entry (restarts its TTL and TTI)"),
    Edge("fresh", "absent", "expire_ttl", "now >= inserted + ttl"),
    Edge("fresh", "absent", "expire_tti", "now >= last_access + tti (and TTL not reached)"),
    Edge("fresh", "absent", "evict", "insert of a new key with capacity live entries (LRU victim)"),
    Edge("fresh", "absent", "invalidate", "invalidate(key) or invalidate_all()"),
))
"""Every state change of one cache entry. Trace: a `transition` with component ``cache_entry``,
instance ``"<name>[<key>]"`` and the bare trigger (only when an observer keeps transitions)."""

_MACHINE = ENTRY_TRANSITIONS.bind()
_INF = math.inf


def _check_limits(capacity: object, ttl: object, tti: object) -> None:
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(f"capacity must be an int number of entries, got {type(capacity).__name__} {capacity!r}")
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1 entry, got {capacity}")
    for label, value in (("ttl", ttl), ("tti", tti)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{label} must be seconds (a float) or None, got {type(value).__name__} {value!r}")
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{label} must be a finite number of seconds > 0, or None; got {value!r}")


class _Entry(Generic[V]):
    __slots__ = ("value", "inserted", "accessed")

    def __init__(self, value: V, now: float) -> None:
        self.value, self.inserted, self.accessed = value, now, now


class ExpiringLruCache(Generic[K, V]):
    """A capacity-bounded cache with TTL and TTI on an injected clock; LRU eviction.

    `ttl` / `tti` are seconds (None = no such limit); `capacity` is an entry count >= 1.
    `stats()` gives the counts (evictions, expirations, invalidations, live entries).
    """

    __slots__ = ("capacity", "ttl", "tti", "clock", "name", "_observer", "_by_access", "_by_write",
                 "_horizon", "_evictions", "_expirations", "_invalidations")

    def __init__(self, *, capacity: int, ttl: float | None, tti: float | None, clock: Clock,
                 observer: Observer | None = None, name: str = "cache") -> None:
        _check_limits(capacity, ttl, tti)
        self.capacity, self.ttl, self.tti = capacity, ttl, tti
        self.clock = require_clock(clock, "ExpiringLruCache")
        self.name = require_name(name, "ExpiringLruCache")
        observer = require_observer(observer, f"ExpiringLruCache {name!r}")
        self._observer = observer_for(observer, "transition")
        self._by_access: OrderedDict[K, _Entry[V]] = OrderedDict()  # LRU first
        self._by_write: OrderedDict[K, None] = OrderedDict()  # oldest insert first
        self._horizon = _INF  # no entry can have expired before this instant
        self._evictions = self._expirations = self._invalidations = 0

    # -- internals ------------------------------------------------------------------------

    def _fire(self, key: K, state: EntryState, trigger: str) -> EntryState:
        observer = self._observer
        if observer is None:
            return _MACHINE.fire(state, trigger, None, "")
        return _MACHINE.fire(state, trigger, observer, f"{self.name}[{key}]")

    def _remove(self, key: K, trigger: str) -> None:
        if self._fire(key, "fresh", trigger) == "absent":
            del self._by_access[key]
            del self._by_write[key]

    def _recompute_horizon(self) -> None:
        horizon = _INF
        if self.ttl is not None and self._by_write:
            horizon = self._by_access[next(iter(self._by_write))].inserted + self.ttl
        if self.tti is not None and self._by_access:
            horizon = min(horizon, next(iter(self._by_access.values())).accessed + self.tti)
        self._horizon = horizon

    def _purge(self, now: float) -> None:
        """Drop every entry expired by `now`. TTL expiry follows write order and TTI expiry
        follows access order, so only the heads of the two orders need looking at."""
        if self.ttl is not None:
            while self._by_write:
                key = next(iter(self._by_write))
                if self._by_access[key].inserted + self.ttl > now:
                    break
                self._remove(key, "expire_ttl")
                self._expirations += 1
        if self.tti is not None:
            while self._by_access:
                key, entry = next(iter(self._by_access.items()))
                if entry.accessed + self.tti > now:
                    break
                self._remove(key, "expire_tti")  # TTL-expired entries are gone already
                self._expirations += 1
        self._recompute_horizon()

    def _live(self, entry: _Entry[V], now: float) -> bool:
        return ((self.ttl is None or entry.inserted + self.ttl > now)
                and (self.tti is None or entry.accessed + self.tti > now))

    # -- API ------------------------------------------------------------------------------

    def get(self, key: K) -> V | None:
        """The live value, or None. A hit refreshes the entry's last access and recency."""
        now = self.clock()
        if now >= self._horizon:
            self._purge(now)
        entry = self._by_access.get(key)
        if entry is None:
            return None
        entry.accessed = now
        self._by_access.move_to_end(key)
        return entry.value

    def peek(self, key: K) -> V | None:
        """The live value without touching its last access or recency (a reader: no purge)."""
        entry = self._by_access.get(key)
        return entry.value if entry is not None and self._live(entry, self.clock()) else None

    def insert(self, key: K, value: V) -> None:
        """Insert or replace; a replaced entry restarts its TTL and TTI. A new key in a full
        cache evicts the least recently used live entry first."""
        now = self.clock()
        if now >= self._horizon:
            self._purge(now)
        entry = self._by_access.get(key)
        if entry is not None:
            self._fire(key, "fresh", "insert")
            entry.value, entry.inserted, entry.accessed = value, now, now
            self._by_access.move_to_end(key)
            self._by_write.move_to_end(key)
        else:
            if len(self._by_access) >= self.capacity:
                self._remove(next(iter(self._by_access)), "evict")
                self._evictions += 1
            self._fire(key, "absent", "insert")
            self._by_access[key] = _Entry(value, now)
            self._by_write[key] = None
        self._recompute_horizon()

    def invalidate(self, key: K) -> bool:
        """Remove `key`; True if a live entry was removed."""
        now = self.clock()
        if now >= self._horizon:
            self._purge(now)
        if key not in self._by_access:
            return False
        self._remove(key, "invalidate")
        self._invalidations += 1
        return True

    def invalidate_all(self) -> int:
        """Remove every entry; returns how many live entries were removed."""
        now = self.clock()
        if now >= self._horizon:
            self._purge(now)
        count = len(self._by_access)
        for key in list(self._by_access):
            self._remove(key, "invalidate")
        self._invalidations += count
        self._horizon = _INF
        return count

    def __len__(self) -> int:
        """Live entries now (a reader: expired ones are skipped, not purged)."""
        now = self.clock()
        if now < self._horizon:
            return len(self._by_access)
        return sum(1 for entry in self._by_access.values() if self._live(entry, now))

    def __contains__(self, key: object) -> bool:
        entry = self._by_access.get(key)  # type: ignore[arg-type]
        return entry is not None and self._live(entry, self.clock())

    def keys(self) -> list[K]:
        """Live keys, least recently used first (a reader)."""
        now = self.clock()
        return [key for key, entry in self._by_access.items() if self._live(entry, now)]

    def stats(self) -> ExpiringLruStats:
        return ExpiringLruStats(self._evictions, self._expirations, self._invalidations, len(self))


def _as_bytes(key: str, value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"cache values are bytes, got {type(value).__name__} for key {key!r:.80}")
    return bytes(value)


class InMemoryCacheBackend:
    """RusToK's moka `InMemoryCacheBackend`: TTL (seconds) and capacity, bytes values.

    Faithful quirks: `set_with_ttl` ignores its TTL and applies the backend's (02-14 on);
    `stats()` reports only `entries` (hits, misses and evictions stay 0; the model's counts are
    on `cache`). Never raises `CacheError`.
    """

    __slots__ = ("ttl", "cache")

    def __init__(self, ttl: float, capacity: int, *, clock: Clock, observer: Observer | None = None,
                 name: str = "in_memory_cache") -> None:
        self.ttl = ttl
        self.cache: ExpiringLruCache[str, bytes] = ExpiringLruCache(
            capacity=capacity, ttl=ttl, tti=None, clock=clock, observer=observer, name=name)

    def health(self) -> None:
        return None

    def get(self, key: str) -> bytes | None:
        return self.cache.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.cache.insert(key, _as_bytes(key, value))

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        """Rust (02-14 on) ignores `ttl` here and applies the backend's TTL; so do we."""
        self.cache.insert(key, _as_bytes(key, value))

    def invalidate(self, key: str) -> None:
        self.cache.invalidate(key)

    def stats(self) -> CacheStats:
        return CacheStats(entries=len(self.cache))
