"""The moka stand-in (`ExpiringLruCache`) and RusToK's `InMemoryCacheBackend` (spec §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.tenancy.cache import (
    ENTRY_TRANSITIONS,
    CacheBackend,
    CacheError,
    CacheStats,
    ExpiringLruCache,
    InMemoryCacheBackend,
)


def cache(clock: ManualClock, capacity: int = 10, ttl: float | None = 300.0,
          tti: float | None = 60.0) -> ExpiringLruCache[str, int]:
    return ExpiringLruCache(capacity=capacity, ttl=ttl, tti=tti, clock=clock)


# -- expiry at the exact boundaries ------------------------------------------------------------------


def test_ttl_expires_exactly_at_the_boundary(clock: ManualClock) -> None:
    c = cache(clock, tti=None)
    c.insert("k", 1)
    clock.set(299.999)
    assert c.get("k") == 1
    clock.set(300.0)
    assert c.get("k") is None


def test_tti_expires_exactly_at_the_boundary_and_a_hit_restarts_it(clock: ManualClock) -> None:
    c = cache(clock)
    c.insert("k", 1)
    clock.set(59.999)
    assert c.get("k") == 1  # last access is now 59.999
    clock.set(119.998)
    assert c.peek("k") == 1  # peek does not touch the idle time
    clock.set(119.999)
    assert c.get("k") is None


def test_ttl_wins_over_tti_when_it_comes_first(clock: ManualClock) -> None:
    c = cache(clock)
    c.insert("k", 1)
    for t in range(50, 300, 50):  # accessed every 50 s: never idle for 60 s
        clock.set(float(t))
        assert c.get("k") == 1
    clock.set(300.0)
    assert c.get("k") is None


def test_reinsert_restarts_ttl(clock: ManualClock) -> None:
    c = cache(clock, tti=None)
    c.insert("k", 1)
    clock.set(200.0)
    c.insert("k", 2)
    clock.set(499.0)
    assert c.get("k") == 2
    clock.set(500.0)
    assert c.get("k") is None


# -- capacity --------------------------------------------------------------------------------------------


def test_lru_eviction_keeps_the_recently_used(clock: ManualClock) -> None:
    c = cache(clock, capacity=2)
    c.insert("a", 1)
    c.insert("b", 2)
    c.get("a")
    c.insert("c", 3)
    assert c.keys() == ["a", "c"]
    assert c.stats().evictions == 1


def test_expired_entries_go_before_live_ones_are_evicted(clock: ManualClock) -> None:
    c = cache(clock, capacity=2, ttl=10.0, tti=None)
    c.insert("old", 1)
    clock.advance(5)
    c.insert("new", 2)
    c.get("old")  # most recently used, but it expires first
    clock.advance(5)
    c.insert("third", 3)
    assert sorted(c.keys()) == ["new", "third"]
    assert (c.stats().evictions, c.stats().expirations) == (0, 1)


@given(st.lists(st.tuples(st.sampled_from(["get", "insert", "invalidate", "advance"]),
                          st.integers(0, 7), st.floats(0, 40)), max_size=80),
       st.integers(1, 4))
def test_entry_count_never_exceeds_capacity_and_nothing_expired_is_returned(ops: list, capacity: int) -> None:
    clock = ManualClock()
    c = cache(clock, capacity=capacity, ttl=50.0, tti=20.0)
    written: dict[int, tuple[float, float]] = {}  # key -> (inserted, last access)
    for op, key, dt in ops:
        if op == "advance":
            clock.advance(dt)
        elif op == "insert":
            c.insert(key, key)
            written[key] = (clock(), clock())
        elif op == "invalidate":
            c.invalidate(key)
            written.pop(key, None)
        else:
            got = c.get(key)
            if got is not None:
                inserted, accessed = written[key]
                assert clock() < inserted + 50.0 and clock() < accessed + 20.0
                written[key] = (inserted, clock())
        assert len(c) <= capacity


def test_transitions_are_reported_with_their_table_edges(clock: ManualClock, recorder: TraceRecorder) -> None:
    c: ExpiringLruCache[str, int] = ExpiringLruCache(capacity=1, ttl=10.0, tti=5.0, clock=clock,
                                                     observer=recorder, name="c")
    c.insert("a", 1)
    c.insert("a", 2)
    c.insert("b", 3)          # evicts a
    clock.advance(5)          # b idle for 5 s
    c.get("b")
    c.insert("a", 4)
    c.invalidate("a")
    c.insert("t", 5)
    clock.advance(4.9)
    c.get("t")
    clock.advance(4.9)
    c.get("t")
    clock.advance(0.2)
    c.get("t")  # an operation purges; a reader (len, keys, peek) would not
    seen = {(r.from_state, r.to_state, r.trigger) for r in recorder.transitions("cache_entry")}
    assert {r.instance for r in recorder.transitions("cache_entry")} == {"c[a]", "c[b]", "c[t]"}
    assert seen == {(e.source, e.target, e.trigger) for e in ENTRY_TRANSITIONS}


def test_bad_limits_are_refused(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="capacity"):
        cache(clock, capacity=0)
    with pytest.raises(ValueError, match="ttl"):
        cache(clock, ttl=0.0)


# -- InMemoryCacheBackend: the Rust tests -------------------------------------------------------------------


def backend(clock: ManualClock, ttl: float = 300.0, capacity: int = 1000) -> InMemoryCacheBackend:
    return InMemoryCacheBackend(ttl, capacity, clock=clock)


def test_in_memory_basic(clock: ManualClock) -> None:
    b = backend(clock)
    assert isinstance(b, CacheBackend)
    b.set("key", b"value")
    assert b.get("key") == b"value"
    b.invalidate("key")
    assert b.get("key") is None


def test_in_memory_health(clock: ManualClock) -> None:
    assert backend(clock).health() is None


def test_in_memory_stats_report_entries_only(clock: ManualClock) -> None:
    b = backend(clock)
    b.set("a", b"1")
    b.set("b", b"2")
    b.get("a")
    b.get("missing")
    assert b.stats() == CacheStats(entries=2)


def test_in_memory_expiration(clock: ManualClock) -> None:
    """Rust: TTL 100 ms, present at once, gone after 150 ms. Here with no wall time passing."""
    b = backend(clock, ttl=0.1)
    b.set("key", b"value")
    assert b.get("key") == b"value"
    clock.advance(0.15)
    assert b.get("key") is None


def test_in_memory_set_with_ttl_ignores_its_ttl(clock: ManualClock) -> None:
    b = backend(clock, ttl=10.0)
    b.set_with_ttl("k", b"v", 1000.0)
    clock.advance(10.0)
    assert b.get("k") is None


def test_in_memory_capacity_is_bounded(clock: ManualClock) -> None:
    b = backend(clock, capacity=3)
    for i in range(10):
        b.set(f"k{i}", b"x")
        assert b.stats().entries <= 3
    assert b.cache.stats().evictions == 7


def test_cache_error_display() -> None:
    e = CacheError("Redis unavailable (circuit breaker open)")
    assert str(e) == "Cache error: Redis unavailable (circuit breaker open)"
    assert e.message == "Redis unavailable (circuit breaker open)"
