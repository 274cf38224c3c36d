"""Behaviour ``v1``: the live middleware of ``tenant.rs`` (spec §6.2)."""

from __future__ import annotations

import pytest

from rustok_sim.adapters.redis_cache import RedisCacheBackend, RedisCacheConfig, RedisFaults
from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.tenancy.cache import CacheError, InMemoryCacheBackend
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantNotFoundError
from rustok_sim.model.tenancy.http import DEFAULT_TENANT_ID, TenantSettings
from rustok_sim.model.tenancy.keys import INVALIDATION_CHANNEL, TenantKey
from rustok_sim.model.tenancy.resolver import (
    Hit,
    LoadTicket,
    MiddlewareTenantResolver,
    TenantCacheStats,
    TenantResolverConfig,
    Wait,
)

ACME = TenantKey.slug("acme")
NOBODY = TenantKey.slug("nobody")


@pytest.fixture
def r(clock: ManualClock) -> MiddlewareTenantResolver:
    return MiddlewareTenantResolver(clock=clock)


def redis_backends(clock: ManualClock, faults: RedisFaults) -> tuple[RedisCacheBackend, RedisCacheBackend]:
    """V1's Redis pair on one (fake) server: prefixes and TTLs as in Rust."""
    data = RedisCacheBackend(RedisCacheConfig(prefix="tenant-cache:v1:data", ttl=300), clock=clock,
                             faults=faults, name="data")
    negative = RedisCacheBackend(RedisCacheConfig(prefix="tenant-cache:v1:negative", ttl=60),
                                 clock=clock, faults=faults, name="negative")
    return data, negative


# -- the request flow -----------------------------------------------------------------------------


def test_found_tenant_is_cached_under_the_v1_key(r: MiddlewareTenantResolver, store: TenantStore,
                                                 acme) -> None:
    assert r.resolve(ACME, store.find) == acme
    assert r.positive.get("tenant:v1:slug:acme") == acme.to_json()
    assert isinstance(r.lookup(ACME), Hit)


def test_not_found_is_cached_negatively_for_60_s(r: MiddlewareTenantResolver, store: TenantStore,
                                                 clock: ManualClock) -> None:
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    assert r.negative.get("tenant_negative:v1:slug:nobody") == b""
    loads: list[TenantKey] = []
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, loads.append)  # answered by the negative cache, no load
    assert loads == []
    clock.advance(60.0)
    assert isinstance(r.lookup(NOBODY), LoadTicket)


def test_negative_entry_shadows_a_tenant_created_meanwhile(r: MiddlewareTenantResolver,
                                                           store: TenantStore) -> None:
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    store.create("Nobody", "nobody")
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    r.invalidate(NOBODY)  # deletes the negative entry too
    assert r.resolve(NOBODY, store.find).slug == "nobody"


def test_waiters_recheck_only_the_positive_cache_so_a_not_found_is_loaded_again_by_each(
        r: MiddlewareTenantResolver, make_driver) -> None:
    d = make_driver(r, load_time=0.01)
    results = d.run([NOBODY] * 4)
    assert all(isinstance(x, TenantNotFoundError) for x in results)
    assert d.loads == [NOBODY] * 4  # one after the other, never two at once
    s = r.stats()
    assert (s.negative_inserts, s.coalesced_requests) == (4, 3 + 2 + 1)


def test_the_ten_stats_fields(r: MiddlewareTenantResolver, make_driver, acme) -> None:
    d = make_driver(r)
    d.run([ACME, ACME, ACME])      # 1 load, 2 coalesced, waiters hit
    d.run([ACME])                  # hit
    d.run([NOBODY])                # negative insert
    d.run([NOBODY])                # negative hit
    assert r.stats() == TenantCacheStats(
        hits=3, misses=4, evictions=0, negative_hits=1, negative_misses=5, negative_evictions=0,
        entries=1, negative_entries=1, negative_inserts=1, coalesced_requests=2)


def test_inactive_tenant_still_resolves(r: MiddlewareTenantResolver, store: TenantStore, acme) -> None:
    store.update(acme.id, is_active=False)
    assert r.resolve(ACME, store.find).is_active is False


def test_corrupt_positive_entry_is_dropped_and_reloaded(clock: ManualClock, store: TenantStore,
                                                        recorder: TraceRecorder, acme) -> None:
    r = MiddlewareTenantResolver(clock=clock, observer=recorder)
    r.positive.set(ACME.positive_key(), b"{not json")
    outcome = r.lookup(ACME)
    assert isinstance(outcome, LoadTicket)
    assert r.positive.get(ACME.positive_key()) is None
    assert r.stats().hits == 1  # Rust counts the hit before deserialising
    assert [d.decision for d in recorder.of_kind("decision")] == ["corrupt_entry"]
    assert r.complete(outcome, acme) == acme


# -- statuses ---------------------------------------------------------------------------------------


def test_http_statuses(r: MiddlewareTenantResolver, store: TenantStore, acme) -> None:
    assert r.resolve_request({"X-Tenant-ID": "acme"}, store.find) == (200, acme)
    assert r.resolve_request({"X-Tenant-ID": "bad_slug!"}, store.find)[0] == 400
    assert r.resolve_request({"X-Tenant-ID": "nobody"}, store.find)[0] == 404

    def broken(key: TenantKey) -> TenantContext | None:
        raise TenantDatabaseError("connection refused")

    status, error = r.resolve_request({"X-Tenant-ID": "globex"}, broken)
    assert (status, str(error)) == (500, "Database error: connection refused")


def test_missing_header_resolves_the_default_tenant(r: MiddlewareTenantResolver, store: TenantStore) -> None:
    status, error = r.resolve_request({}, store.find)
    assert status == 404 and isinstance(error, TenantNotFoundError)  # no default tenant seeded
    default = store.create("Default", "default", id=DEFAULT_TENANT_ID)
    r.invalidate_by_uuid(default.id)
    assert r.resolve_request({"X-Tenant-ID": "caf\u00e9"}, store.find) == (200, default)


def test_host_resolution_end_to_end(r: MiddlewareTenantResolver, store: TenantStore, acme) -> None:
    host = TenantSettings(resolution="host")
    assert r.resolve_request({"X-Forwarded-Host": "ACME.example.com:443"}, store.find, host) == (200, acme)
    assert r.positive.get("tenant:v1:host:acme.example.com") is not None
    assert r.resolve_request({}, store.find, host)[0] == 400


# -- a cache backend error is a 500 -------------------------------------------------------------------


def test_cache_backend_error_is_a_500(clock: ManualClock, store: TenantStore) -> None:
    faults = RedisFaults()
    data, negative = redis_backends(clock, faults)
    r = MiddlewareTenantResolver(clock=clock, positive=data, negative=negative)
    assert r.resolve_request({"X-Tenant-ID": "acme"}, store.find)[0] == 200
    faults.refuse()
    for _ in range(5):  # the negative GET fails: 500 before the DB is asked
        status, error = r.resolve_request({"X-Tenant-ID": "acme"}, store.find)
        assert status == 500 and isinstance(error, CacheError)
    status, error = r.resolve_request({"X-Tenant-ID": "acme"}, store.find)
    assert status == 500
    assert str(error) == "Cache error: Redis unavailable (circuit breaker open)"


def test_positive_write_error_is_a_500_even_though_the_tenant_loaded(clock: ManualClock,
                                                                     store: TenantStore) -> None:
    faults = RedisFaults()
    data, negative = redis_backends(clock, faults)
    r = MiddlewareTenantResolver(clock=clock, positive=data, negative=negative)
    ticket = r.lookup(ACME)
    faults.refuse()
    with pytest.raises(CacheError):
        r.complete(ticket, store.find(ACME))
    assert not r.in_flight


def test_negative_write_error_is_a_500(clock: ManualClock) -> None:
    faults = RedisFaults()
    data, negative = redis_backends(clock, faults)
    r = MiddlewareTenantResolver(clock=clock, positive=data, negative=negative)
    ticket = r.lookup(NOBODY)
    faults.refuse()
    with pytest.raises(CacheError):
        r.complete(ticket, None)
    assert r.stats().negative_inserts == 0 and not r.in_flight


def test_redis_backends_use_the_rust_key_layout(clock: ManualClock, store: TenantStore, acme) -> None:
    faults = RedisFaults()
    data, negative = redis_backends(clock, faults)
    r = MiddlewareTenantResolver(clock=clock, positive=data, negative=negative)
    r.resolve(TenantKey.uuid(acme.id), store.find)
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    assert sorted(data.client.keys()) == sorted([
        f"tenant-cache:v1:data:tenant:v1:uuid:{acme.id}".encode(),
        b"tenant-cache:v1:negative:tenant_negative:v1:slug:nobody"])
    assert r.stats().entries == 0  # Redis reports zeros


# -- invalidation ---------------------------------------------------------------------------------------


def test_invalidation_deletes_both_keys_and_publishes(clock: ManualClock, store: TenantStore, acme) -> None:
    sent: list[tuple[str, str]] = []
    r = MiddlewareTenantResolver(clock=clock, publisher=lambda ch, msg: sent.append((ch, msg)))
    r.resolve(ACME, store.find)
    r.negative.set(ACME.negative_key(), b"")
    r.invalidate_identifier("ACME")
    assert r.positive.get(ACME.positive_key()) is None and r.negative.get(ACME.negative_key()) is None
    assert sent == [(INVALIDATION_CHANNEL, "tenant:v1:slug:acme|tenant_negative:v1:slug:acme")]
    assert r.published == ["tenant:v1:slug:acme|tenant_negative:v1:slug:acme"]


def test_invalidate_identifier_falls_back_to_a_uuid_kind_key(r: MiddlewareTenantResolver) -> None:
    r.invalidate_identifier("Not A Slug!")
    assert r.published == ["tenant:v1:uuid:Not A Slug!|tenant_negative:v1:uuid:Not A Slug!"]


def test_invalidating_one_kind_leaves_the_other_aliases(r: MiddlewareTenantResolver, store: TenantStore,
                                                        acme) -> None:
    for key in acme.aliases():
        r.resolve(key, store.find)
    r.invalidate_by_slug("acme")
    assert isinstance(r.lookup(TenantKey.uuid(acme.id)), Hit)
    assert isinstance(r.lookup(TenantKey.host("acme.example.com")), Hit)
    assert len(r.published) == 1


def test_invalidation_reaches_other_instances_through_the_listener(clock: ManualClock, store: TenantStore,
                                                                   acme) -> None:
    instances: list[MiddlewareTenantResolver] = []

    def broadcast(channel: str, payload: str) -> None:
        for other in instances:
            other.apply_invalidation(payload)

    instances += [MiddlewareTenantResolver(clock=clock, publisher=broadcast, name=f"i{n}") for n in range(3)]
    for inst in instances:
        inst.resolve(ACME, store.find)
    instances[0].invalidate(ACME)
    assert all(isinstance(inst.lookup(ACME), LoadTicket) for inst in instances)


def test_listener_ignores_malformed_payloads(r: MiddlewareTenantResolver, store: TenantStore) -> None:
    r.resolve(ACME, store.find)
    assert r.apply_invalidation("tenant:v1:slug:acme") is False
    assert isinstance(r.lookup(ACME), Hit)


def test_v1_waiter_after_found_gets_the_positive_hit(r: MiddlewareTenantResolver, acme) -> None:
    ticket, wait = r.lookup(ACME), r.lookup(ACME)
    assert isinstance(wait, Wait)
    r.complete(ticket, acme)
    outcome = r.resume(wait)
    assert isinstance(outcome, Hit) and outcome.context == acme


def test_default_backends_have_the_spec_ttls_and_capacity(r: MiddlewareTenantResolver) -> None:
    assert isinstance(r.positive, InMemoryCacheBackend) and isinstance(r.negative, InMemoryCacheBackend)
    assert (r.positive.ttl, r.negative.ttl) == (300.0, 60.0)
    assert r.positive.cache.capacity == r.negative.cache.capacity == 1000
    assert r.config == TenantResolverConfig()
