"""Hardened: a key whose cache write or invalidation raised is *unconfirmed* until an invalidation
of it succeeds `settle` seconds after the last cache failure.

A call that raised a timeout is not a command that failed: a paused Redis applies what it had
queued when it resumes, in an order that can differ from the one the client sent (docs/live.md).
`PausableRedis` is that server in miniature: while paused, every call raises `CacheError`, and
the writes and deletes are queued; `resume()` applies the queue in the order asked for. So "SET
(timed out), then DEL (timed out)", resumed in reverse, leaves the old value in the cache: V1
serves it for the rest of its TTL, hardened never does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.tenancy.cache import CacheError, CacheStats
from rustok_sim.model.tenancy.context import TenantContext, TenantNotFoundError
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import Hit, LoadTicket, MiddlewareTenantResolver, TenantResolverConfig, Wait

TENANT_ID = uuid.UUID(int=0xAC3E)
OLD = TenantContext(id=TENANT_ID, name="Acme", slug="acme")
NEW = OLD.with_changes(name="Acme (renamed)")
ACME = TenantKey.uuid(TENANT_ID)
OTHERS = [TenantKey.uuid(uuid.UUID(int=0xB000 + n)) for n in range(4)]


class PausableRedis:
    """One fake Redis for both caches (their keys differ). ``paused``: every call raises, writes
    and deletes are queued for `resume`; ``down``: every call raises and nothing is applied."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.mode = "up"
        self.queued: list[tuple[str, str, bytes | None]] = []
        self.calls: list[tuple[str, str]] = []

    def _check(self, op: str, key: str, value: bytes | None = None) -> None:
        self.calls.append((op, key))
        if self.mode == "paused" and op != "get":
            self.queued.append((op, key, value))
        if self.mode != "up":
            raise CacheError("Redis timeout" if self.mode == "paused" else "Connection refused")

    def pause(self) -> None:
        self.mode = "paused"

    def resume(self, order: str = "sent") -> None:
        """Apply the queued commands, in the order they were sent or reversed."""
        self.mode = "up"
        queued = self.queued if order == "sent" else self.queued[::-1]
        for op, key, value in queued:
            if op == "set":
                assert value is not None
                self.data[key] = value
            else:
                self.data.pop(key, None)
        self.queued = []

    def health(self) -> None:
        self._check("health", "")

    def get(self, key: str) -> bytes | None:
        self._check("get", key)
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        self._check("set", key, value)
        self.data[key] = value

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None:
        self.set(key, value)

    def invalidate(self, key: str) -> None:
        self._check("invalidate", key)
        self.data.pop(key, None)

    def stats(self) -> CacheStats:
        return CacheStats()


class Tenants:
    """The database: what a load returns now, and how many loads ran."""

    def __init__(self) -> None:
        self.rows: dict[TenantKey, TenantContext] = {ACME: OLD}
        self.loads = 0

    def find(self, key: TenantKey) -> TenantContext | None:
        self.loads += 1
        return self.rows.get(key)


@pytest.fixture
def redis() -> PausableRedis:
    return PausableRedis()


@pytest.fixture
def db() -> Tenants:
    return Tenants()


def resolver(variant: str, clock: ManualClock, redis: PausableRedis, observer: TraceRecorder | None = None,
             **config: object) -> MiddlewareTenantResolver:
    return MiddlewareTenantResolver(TenantResolverConfig(variant=variant, **config),  # type: ignore[arg-type]
                                    clock=clock, positive=redis, negative=redis, observer=observer, name=variant)


def decisions(recorder: TraceRecorder) -> list[str]:
    return [d.decision for d in recorder.of_kind("decision", "tenant_resolver")]  # type: ignore[attr-defined]


def serve(r: MiddlewareTenantResolver, db: Tenants, key: TenantKey = ACME) -> TenantContext:
    """One request: a hit, or the load (never a wait here)."""
    return r.resolve(key, db.find)


def set_times_out_then_invalidate_times_out(r: MiddlewareTenantResolver, redis: PausableRedis, db: Tenants) -> None:
    """A load of the old value starts while Redis runs; Redis pauses; the load's SET times out; the
    tenant is renamed and invalidated (both DELs time out); Redis resumes and applies the DELs
    before the SET."""
    ticket = r.lookup(ACME)
    assert isinstance(ticket, LoadTicket)
    loaded = db.find(ACME)
    redis.pause()
    try:
        r.complete(ticket, loaded)
    except CacheError:
        assert r.variant == "v1"  # V1 answers 500 to the loading request
    db.rows[ACME] = NEW
    r.invalidate(ACME)
    redis.resume(order="reversed")
    assert redis.data[ACME.positive_key()] == OLD.to_json()  # the late SET won


# -- the defect, and V1 unchanged ----------------------------------------------------------------------


def test_v1_serves_the_stale_value_a_late_set_left_for_the_rest_of_its_ttl(clock: ManualClock, redis: PausableRedis,
                                                                           db: Tenants) -> None:
    recorder = TraceRecorder(clock)
    r = resolver("v1", clock, redis, recorder)
    set_times_out_then_invalidate_times_out(r, redis, db)
    for _ in range(3):
        clock.advance(10.0)
        assert serve(r, db) == OLD  # stale, as the Rust code would serve it
    assert r.unconfirmed_keys == 0
    assert not {"unconfirmed", "unconfirmed_miss", "write_skipped", "confirmed", "shared"} & set(decisions(recorder))
    assert decisions(recorder).count("cache_error") == 3  # the SET and both DELs


def test_hardened_never_serves_the_stale_value_and_trusts_the_key_again_after_the_settle_window(
        clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    recorder = TraceRecorder(clock)
    r = resolver("hardened", clock, redis, recorder)
    set_times_out_then_invalidate_times_out(r, redis, db)
    assert r.unconfirmed_keys == 1
    assert [d.detail["op"] for d in recorder.of_kind("decision", "tenant_resolver")  # type: ignore[attr-defined]
            if d.decision == "unconfirmed"] == ["set", "invalidate", "negative_invalidate"]

    clock.advance(1.0)  # within the settle window: re-invalidated, a miss, loaded, not written
    calls = len(redis.calls)
    assert serve(r, db) == NEW
    assert redis.calls[calls:] == [("invalidate", ACME.positive_key()), ("invalidate", ACME.negative_key())]
    assert ACME.positive_key() not in redis.data  # the stale entry is gone, nothing new written
    assert decisions(recorder)[-2:] == ["write_skipped", "loaded"]
    assert r.unconfirmed_keys == 1

    clock.set(5.0)  # settle (5 s) after the last failure (t=0): this invalidation confirms
    assert serve(r, db) == NEW
    assert r.unconfirmed_keys == 0
    assert "confirmed" in decisions(recorder)
    assert redis.data[ACME.positive_key()] == NEW.to_json()  # written again
    loads = db.loads
    assert isinstance(r.lookup(ACME), Hit) and db.loads == loads
    assert serve(r, db) == NEW


def test_unconfirmed_lookups_count_as_misses_and_read_neither_cache(clock: ManualClock, redis: PausableRedis,
                                                                     db: Tenants) -> None:
    r = resolver("hardened", clock, redis)
    set_times_out_then_invalidate_times_out(r, redis, db)
    before = r.stats()
    calls = len(redis.calls)
    serve(r, db)
    assert ("get", ACME.positive_key()) not in redis.calls[calls:]
    assert ("get", ACME.negative_key()) not in redis.calls[calls:]
    after = r.stats()
    assert (after.misses - before.misses, after.negative_misses - before.negative_misses) == (1, 1)
    assert after.hits == before.hits


# -- the settle window -------------------------------------------------------------------------------


@pytest.mark.parametrize("settle", [0.0, 2.0, 5.0])
def test_a_key_is_confirmed_only_by_an_invalidation_settle_seconds_after_the_last_failure(
        settle: float, clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    r = resolver("hardened", clock, redis, settle=settle)
    redis.mode = "down"
    clock.set(10.0)
    r.invalidate(ACME)  # lost
    assert r.unconfirmed_keys == 1
    redis.mode = "up"
    if settle:
        clock.set(10.0 + settle - 1e-6)
        serve(r, db)
        assert r.unconfirmed_keys == 1
    clock.set(10.0 + settle)
    serve(r, db)
    assert r.unconfirmed_keys == 0


def test_a_failed_reinvalidation_restarts_the_window(clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    r = resolver("hardened", clock, redis)
    redis.mode = "down"
    r.invalidate(ACME)  # t=0
    clock.set(4.0)
    assert serve(r, db) == OLD  # the re-invalidation fails again: still served from the database
    redis.mode = "up"
    clock.set(5.0)  # settle after the first failure, not after the last
    serve(r, db)
    assert r.unconfirmed_keys == 1
    clock.set(9.0)
    serve(r, db)
    assert r.unconfirmed_keys == 0


def test_the_window_counts_from_the_last_cache_failure_of_any_key(clock: ManualClock, redis: PausableRedis,
                                                                  db: Tenants) -> None:
    """A command still waiting in a paused server's buffers may be another key's: the server's
    last failure is what the window waits out, not only this key's."""
    r = resolver("hardened", clock, redis)
    redis.mode = "down"
    r.invalidate(ACME)  # t=0
    clock.set(3.0)
    with pytest.raises(TenantNotFoundError):
        serve(r, db, OTHERS[0])  # a read fails at t=3 (and the not-found's write)
    redis.mode = "up"
    clock.set(5.0)
    serve(r, db)
    assert r.unconfirmed_keys == 2
    clock.set(8.0)
    serve(r, db)
    assert r.unconfirmed_keys == 1  # OTHERS[0] waits for its own lookup or invalidation
    r.invalidate(OTHERS[0])
    assert r.unconfirmed_keys == 0


def test_an_explicit_invalidation_confirms_too(clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    r = resolver("hardened", clock, redis)
    redis.mode = "down"
    serve(r, db)  # the write fails
    assert r.unconfirmed_keys == 1
    redis.mode = "up"
    clock.set(5.0)
    r.invalidate(ACME)
    assert r.unconfirmed_keys == 0
    serve(r, db)
    assert isinstance(r.lookup(ACME), Hit)


def test_a_failed_negative_write_makes_the_key_unconfirmed(clock: ManualClock, redis: PausableRedis,
                                                         db: Tenants) -> None:
    """A late not-found entry would answer 404 for a tenant created meanwhile."""
    r = resolver("hardened", clock, redis)
    key = OTHERS[1]
    ticket = r.lookup(key)
    assert isinstance(ticket, LoadTicket)
    redis.pause()
    with pytest.raises(TenantNotFoundError):
        r.complete(ticket, None)  # the negative SET times out
    db.rows[key] = OLD.with_changes(id=uuid.UUID(int=0xB001), slug="created")
    redis.resume()
    assert key.negative_key() in redis.data  # the late negative entry landed
    assert serve(r, db, key) == db.rows[key]  # not a 404: the negative cache is not trusted either


# -- coalescing while unconfirmed ------------------------------------------------------------------------


def test_waiters_of_an_unconfirmed_key_share_the_loaded_value(clock: ManualClock, redis: PausableRedis,
                                                              db: Tenants) -> None:
    recorder = TraceRecorder(clock)
    r = resolver("hardened", clock, redis, recorder)
    redis.mode = "down"
    r.invalidate(ACME)
    redis.mode = "up"
    ticket = r.lookup(ACME)
    waits = [r.lookup(ACME) for _ in range(3)]
    assert isinstance(ticket, LoadTicket) and all(isinstance(w, Wait) for w in waits)
    assert r.complete(ticket, db.find(ACME)) == OLD
    for wait in waits:
        outcome = r.resume(wait)  # type: ignore[arg-type]
        assert isinstance(outcome, Hit) and outcome.context == OLD
    assert db.loads == 1  # one load for four requests, as when the cache is trusted
    assert decisions(recorder).count("shared") == 3


def test_waiters_share_a_not_found_while_unconfirmed(clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    r = resolver("hardened", clock, redis)
    key = OTHERS[2]
    redis.mode = "down"
    r.invalidate(key)
    redis.mode = "up"
    ticket, wait = r.lookup(key), r.lookup(key)
    assert isinstance(ticket, LoadTicket) and isinstance(wait, Wait)
    with pytest.raises(TenantNotFoundError):
        r.complete(ticket, None)
    assert key.negative_key() not in redis.data  # not written while unconfirmed
    with pytest.raises(TenantNotFoundError):
        r.resume(wait)


def test_a_failed_load_is_not_shared(clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    r = resolver("hardened", clock, redis)
    redis.mode = "down"
    r.invalidate(ACME)
    redis.mode = "up"
    ticket, wait = r.lookup(ACME), r.lookup(ACME)
    assert isinstance(ticket, LoadTicket) and isinstance(wait, Wait)
    with pytest.raises(Exception):
        r.complete(ticket, RuntimeError("connection reset"))
    assert isinstance(r.resume(wait), LoadTicket)  # the waiter loads, without reading the cache


# -- the cap ----------------------------------------------------------------------------------------------


def _keys(n: int) -> Iterator[TenantKey]:
    return iter(TenantKey.uuid(uuid.UUID(int=0xC000 + i)) for i in range(n))


def test_past_the_cap_every_key_bypasses_the_cache_until_the_longest_ttl_after_the_last_failure(
        clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    recorder = TraceRecorder(clock)
    r = resolver("hardened", clock, redis, recorder, max_capacity=2, time_to_live=30.0, negative_ttl=10.0)
    serve(r, db)
    assert isinstance(r.lookup(ACME), Hit)  # cached while Redis runs
    redis.mode = "down"
    clock.set(1.0)
    for key in _keys(3):
        r.invalidate(key)
    assert r.unconfirmed_keys == 2  # never more than the cap
    bypassed = [d for d in recorder.of_kind("decision", "tenant_resolver") if d.decision == "cache_bypassed"]  # type: ignore[attr-defined]
    assert [d.detail["started"] for d in bypassed] == [True, False]  # the third key's two deletes
    assert bypassed[0].detail["until"] == 1.0 + 5.0 + 30.0
    redis.mode = "up"

    clock.set(2.0)
    loads, calls = db.loads, len(redis.calls)
    assert serve(r, db) == OLD  # ACME never failed, but the third key could not be named
    assert db.loads == loads + 1
    assert ("get", ACME.positive_key()) not in redis.calls[calls:]
    assert ACME.positive_key() not in redis.data  # re-invalidated, not written back

    clock.set(1.0 + 5.0 + 30.0 - 1e-6)  # settle + the longest TTL after the last unnamed failure
    assert not isinstance(r.lookup(ACME), Hit)
    r.complete(r.in_flight[ACME], OLD)
    clock.set(1.0 + 5.0 + 30.0)
    serve(r, db)  # trusted again: loaded and written
    assert "cache_bypass_ended" in decisions(recorder)
    assert isinstance(r.lookup(ACME), Hit)
    assert r.unconfirmed_keys == 2  # the named keys still wait for their own invalidation
    for key in _keys(2):
        with pytest.raises(TenantNotFoundError):
            serve(r, db, key)
    assert r.unconfirmed_keys == 0


def test_a_long_outage_keeps_the_unconfirmed_set_bounded(clock: ManualClock, redis: PausableRedis,
                                                         db: Tenants) -> None:
    r = resolver("hardened", clock, redis, max_capacity=8)
    redis.mode = "down"
    for i, key in enumerate(_keys(500)):
        clock.set(i * 0.1)
        with pytest.raises(TenantNotFoundError):
            serve(r, db, key)
        assert r.unconfirmed_keys <= 8
    assert r.unconfirmed_keys == 8


def test_without_cache_errors_nothing_changes(clock: ManualClock, redis: PausableRedis, db: Tenants) -> None:
    recorder = TraceRecorder(clock)
    r = resolver("hardened", clock, redis, recorder)
    for _ in range(3):
        serve(r, db)
    r.invalidate(ACME)
    serve(r, db)
    assert db.loads == 2 and r.unconfirmed_keys == 0
    assert not {"unconfirmed", "unconfirmed_miss", "write_skipped", "confirmed", "cache_bypassed"} & set(
        decisions(recorder))
