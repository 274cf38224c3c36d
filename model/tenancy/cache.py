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

Expiry is lazy, on the injected clock, like everything in the model: each operation first drops
the entries that have expired by now. Write order is TTL order and recency order is TTI order,
so purging only ever looks at the heads of two ordered dicts (amortised O(1)).

`InMemoryCacheBackend` is RusToK's moka `InMemoryCacheBackend`: bytes values, one TTL, a
capacity, `health()` always Ok, `stats()` reporting only `entries`, and `set_with_ttl` ignoring
its TTL argument (02-14 on).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar, runtime_checkable

from rustok_sim.model.core.clock import Clock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.core.transitions import Edge, TransitionTable

__all__ = [
    "ENTRY_TRANSITIONS",
    "CacheBackend",
    "CacheError",
    "CacheStats",
    "ExpiringLruCache",
    "InMemoryCacheBackend",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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


@runtime_checkable
class CacheBackend(Protocol):
    """Rust `CacheBackend`: byte values under string keys. Every method may raise `CacheError`."""

    def health(self) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None: ...

    def invalidate(self, key: str) -> None: ...

    def stats(self) -> CacheStats: ...


# --------------------------------------------------------------------------------------------
# Entry lifecycle, as data.
# --------------------------------------------------------------------------------------------

EntryState = Literal["absent", "fresh"]


ENTRY_TRANSITIONS = TransitionTable("cache_entry", (
    Edge("absent", "fresh", "insert", "insert of a key not present"),
    Edge("fresh", "fresh", "insert", "insert over a live entry (restarts its TTL and TTI)"),
    Edge("fresh", "absent", "expire_ttl", "now >= inserted + ttl"),
    Edge("fresh", "absent", "expire_tti", "now >= last_access + tti (and TTL not reached)"),
    Edge("fresh", "absent", "evict", "insert of a new key with capacity live entries (LRU victim)"),
    Edge("fresh", "absent", "invalidate", "invalidate(key) or invalidate_all()"),
))
"""Every state change of one cache entry. Trace: a `transition` with instance ``"<name>[<key>]"``
and cause = trigger (only when an observer is attached)."""



class _Entry(Generic[V]):
    __slots__ = ("value", "inserted", "accessed")

    def __init__(self, value: V, now: float) -> None:
        self.value, self.inserted, self.accessed = value, now, now


class ExpiringLruCache(Generic[K, V]):
    """A capacity-bounded cache with TTL and TTI on an injected clock; LRU eviction.

    `ttl` / `tti` are seconds (None = no such limit); `capacity` is an entry count >= 1.
    Counters: `evictions` (capacity), `expirations` (TTL or TTI), `invalidations`.
    """

    __slots__ = ("capacity", "ttl", "tti", "clock", "observer", "name", "component",
                 "_by_access", "_by_write", "evictions", "expirations", "invalidations")

    def __init__(self, *, capacity: int, ttl: float | None, tti: float | None, clock: Clock,
                 observer: Observer | None = None, name: str = "cache",
                 component: str = "cache") -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1 entry, got {capacity}")
        for label, value in (("ttl", ttl), ("tti", tti)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be > 0 seconds or None, got {value!r}")
        self.capacity, self.ttl, self.tti, self.clock = capacity, ttl, tti, clock
        self.observer, self.name, self.component = observer, name, component
        self._by_access: OrderedDict[K, _Entry[V]] = OrderedDict()  # LRU first
        self._by_write: OrderedDict[K, None] = OrderedDict()  # oldest insert first
        self.evictions = self.expirations = self.invalidations = 0

    # -- internals ------------------------------------------------------------------------

    def _note(self, key: K, source: EntryState, target: EntryState, trigger: str) -> None:
        ENTRY_TRANSITIONS.check(source, target, trigger)
        if self.observer is not None:
            self.observer.transition(self.component, f"{self.name}[{key}]", source, target, trigger)

    def _remove(self, key: K, trigger: str) -> None:
        del self._by_access[key]
        del self._by_write[key]
        self._note(key, "fresh", "absent", trigger)

    def _purge(self, now: float) -> None:
        """Drop every entry expired by `now`. TTL expiry follows write order and TTI expiry
        follows access order, so only the heads of the two orders need looking at."""
        if self.ttl is not None:
            while self._by_write:
                key = next(iter(self._by_write))
                if self._by_access[key].inserted + self.ttl > now:
                    break
                self._remove(key, "expire_ttl")
                self.expirations += 1
        if self.tti is not None:
            while self._by_access:
                key, entry = next(iter(self._by_access.items()))
                if entry.accessed + self.tti > now:
                    break
                self._remove(key, "expire_tti")  # TTL-expired entries are gone already
                self.expirations += 1

    # -- API ------------------------------------------------------------------------------

    def get(self, key: K) -> V | None:
        """The live value, or None. A hit refreshes the entry's last access and recency."""
        now = self.clock()
        self._purge(now)
        entry = self._by_access.get(key)
        if entry is None:
            return None
        entry.accessed = now
        self._by_access.move_to_end(key)
        return entry.value

    def peek(self, key: K) -> V | None:
        """The live value without touching its last access or recency."""
        self._purge(self.clock())
        entry = self._by_access.get(key)
        return None if entry is None else entry.value

    def insert(self, key: K, value: V) -> None:
        """Insert or replace; a replaced entry restarts its TTL and TTI. A new key in a full
        cache evicts the least recently used live entry first."""
        now = self.clock()
        self._purge(now)
        if key in self._by_access:
            entry = self._by_access[key]
            entry.value, entry.inserted, entry.accessed = value, now, now
            self._by_access.move_to_end(key)
            self._by_write.move_to_end(key)
            self._note(key, "fresh", "fresh", "insert")
            return
        if len(self._by_access) >= self.capacity:
            self._remove(next(iter(self._by_access)), "evict")
            self.evictions += 1
        self._by_access[key] = _Entry(value, now)
        self._by_write[key] = None
        self._note(key, "absent", "fresh", "insert")

    def invalidate(self, key: K) -> bool:
        """Remove `key`; True if a live entry was removed."""
        self._purge(self.clock())
        if key not in self._by_access:
            return False
        self._remove(key, "invalidate")
        self.invalidations += 1
        return True

    def invalidate_all(self) -> int:
        """Remove every entry; returns how many live entries were removed."""
        self._purge(self.clock())
        count = len(self._by_access)
        for key in list(self._by_access):
            self._remove(key, "invalidate")
        self.invalidations += count
        return count

    def __len__(self) -> int:
        """Live entries now (expired ones are purged first)."""
        self._purge(self.clock())
        return len(self._by_access)

    def __contains__(self, key: object) -> bool:
        self._purge(self.clock())
        return key in self._by_access

    def keys(self) -> list[K]:
        """Live keys, least recently used first."""
        self._purge(self.clock())
        return list(self._by_access)


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
            capacity=capacity, ttl=ttl, tti=None, clock=clock, observer=observer, name=name,
            component="cache_backend")

    def health(self) -> None:
        return None

    def get(self, key: str) -> bytes | None:
        return self.cache.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.cache.insert(key, bytes(value))

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        """Rust (02-14 on) ignores `ttl` here and applies the backend's TTL; so do we."""
        self.cache.insert(key, bytes(value))

    def invalidate(self, key: str) -> None:
        self.cache.invalidate(key)

    def stats(self) -> CacheStats:
        return CacheStats(entries=len(self.cache))
