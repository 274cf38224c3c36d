"""Behaviour ``hardened``: what the ERROR_HANDLING_POLICY asks for and V1 does not do."""

from __future__ import annotations

import socket

import pytest

from rustok_sim.adapters.redis_cache import RedisCacheBackend, RedisCacheConfig, RedisFaults, open_cache_backend
from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.tenancy.cache import CacheError, InMemoryCacheBackend
from rustok_sim.model.tenancy.context import TenantNotFoundError
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import Hit, LoadTicket, MiddlewareTenantResolver, TenantResolverConfig

ACME = TenantKey.slug("acme")
NOBODY = TenantKey.slug("nobody")
HARDENED = TenantResolverConfig(variant="hardened")


def hardened(clock: ManualClock, observer=None, faults: RedisFaults | None = None,  # noqa: ANN001
             **kwargs) -> MiddlewareTenantResolver:  # noqa: ANN003
    if faults is not None:
        kwargs["positive"] = RedisCacheBackend(RedisCacheConfig(prefix="data", ttl=300), clock=clock,
                                               faults=faults, name="data")
        kwargs["negative"] = RedisCacheBackend(RedisCacheConfig(prefix="negative", ttl=60), clock=clock,
                                               faults=faults, name="negative")
    return MiddlewareTenantResolver(HARDENED, clock=clock, observer=observer, name="hardened", **kwargs)


def fell_back(recorder: TraceRecorder) -> list[str]:
    return [d.detail["op"] for d in recorder.of_kind("decision", "tenant_resolver")
            if d.decision == "fell_back"]


# -- never fail a request because of the cache ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_cache_outage_falls_back_to_the_database(mode: str, clock: ManualClock, store: TenantStore,
                                                 recorder: TraceRecorder, acme) -> None:
    faults = RedisFaults()
    r = hardened(clock, recorder, faults)
    getattr(faults, mode)()
    assert r.resolve_request({"X-Tenant-ID": "acme"}, store.find) == (200, acme)
    assert fell_back(recorder) == ["negative_get", "get", "set"]
    assert r.resolve_request({"X-Tenant-ID": "nobody"}, store.find)[0] == 404
    assert fell_back(recorder)[3:] == ["negative_get", "get", "negative_set"]
    assert r.cache_fallbacks == 6


def test_open_circuit_falls_back_without_touching_redis(clock: ManualClock, store: TenantStore, acme) -> None:
    faults = RedisFaults()
    r = hardened(clock, faults=faults)
    faults.hang()
    for _ in range(5):
        assert r.resolve_request({"X-Tenant-ID": "acme"}, store.find) == (200, acme)
    # Each breaker let 5 operations wait out the 1 s socket timeout before it opened.
    assert r.negative.take_charged() == pytest.approx(5 * 1.0)
    assert r.positive.take_charged() == pytest.approx(5 * 1.0)
    assert r.positive.breaker.state.value == "open" and r.negative.breaker.state.value == "open"
    assert r.resolve_request({"X-Tenant-ID": "acme"}, store.find) == (200, acme)
    assert r.positive.take_charged() + r.negative.take_charged() == 0.0  # failed fast


def test_unreachable_redis_url_is_a_typed_error_or_a_logged_fallback(clock: ManualClock,
                                                                     recorder: TraceRecorder) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    config = RedisCacheConfig(url=f"redis://127.0.0.1:{port}/0", prefix="p", ttl=300,
                              socket_timeout=0.2, socket_connect_timeout=0.2)
    with pytest.raises(CacheError, match=f"cannot connect to Redis at redis://127.0.0.1:{port}/0"):
        open_cache_backend(config, clock=clock)
    backend = open_cache_backend(config, clock=clock, fall_back=True, observer=recorder, name="data")
    assert isinstance(backend, InMemoryCacheBackend) and backend.ttl == 300
    (decision,) = recorder.of_kind("decision")
    assert (decision.decision, decision.reason) == ("fell_back", "redis_unreachable")


# -- waiters consult the negative cache --------------------------------------------------------------------


def test_waiters_of_a_not_found_load_answer_from_the_negative_cache(clock: ManualClock, make_driver) -> None:
    r = hardened(clock)
    d = make_driver(r, load_time=0.01)
    results = d.run([NOBODY] * 4)
    assert all(isinstance(x, TenantNotFoundError) for x in results)
    assert d.loads == [NOBODY]
    assert r.stats().negative_inserts == 1


# -- all aliases go together ------------------------------------------------------------------------------


def test_invalidating_one_alias_invalidates_all(clock: ManualClock, store: TenantStore, acme) -> None:
    r = hardened(clock)
    for key in acme.aliases():
        r.resolve(key, store.find)
    r.invalidate_by_host("acme.example.com")
    for key in acme.aliases():
        assert isinstance(r.lookup(key), LoadTicket)
    assert sorted(r.published) == sorted(k.invalidation_payload() for k in acme.aliases())


def test_alias_invalidation_finds_the_tenant_even_when_the_key_itself_is_not_cached(
        clock: ManualClock, store: TenantStore, acme) -> None:
    r = hardened(clock)
    r.resolve(TenantKey.uuid(acme.id), store.find)
    r.invalidate(ACME)  # slug not cached here, but the uuid entry names the tenant's slug
    assert isinstance(r.lookup(TenantKey.uuid(acme.id)), LoadTicket)


def test_renamed_tenant_drops_old_and_new_aliases(clock: ManualClock, store: TenantStore, acme) -> None:
    r = hardened(clock)
    r.resolve(ACME, store.find)
    r.resolve(TenantKey.uuid(acme.id), store.find)
    store.update(acme.id, slug="acme-new")
    r.invalidate_by_uuid(acme.id)  # the cached context still names the old slug
    assert isinstance(r.lookup(ACME), LoadTicket)


def test_a_load_of_one_alias_is_stale_after_another_alias_was_invalidated(clock: ManualClock,
                                                                          store: TenantStore, acme) -> None:
    r = hardened(clock)
    r.resolve(TenantKey.uuid(acme.id), store.find)
    ticket = r.lookup(ACME)
    stale = store.find(ACME)
    store.update(acme.id, name="Renamed")
    r.invalidate_by_uuid(acme.id)
    assert r.complete(ticket, stale) == stale
    assert isinstance(r.lookup(ACME), LoadTicket)


def test_a_not_found_load_is_stale_after_the_tenant_was_created_and_invalidated(clock: ManualClock,
                                                                                store: TenantStore) -> None:
    r = hardened(clock)
    ticket = r.lookup(NOBODY)
    store.create("Nobody", "nobody")
    r.invalidate(NOBODY)
    with pytest.raises(TenantNotFoundError):
        r.complete(ticket, None)  # the request that read "absent" still gets 404 ...
    outcome = r.lookup(NOBODY)    # ... but no negative entry shadows the new tenant
    assert isinstance(outcome, LoadTicket)
    assert r.complete(outcome, store.find(NOBODY)).slug == "nobody"
    assert isinstance(r.lookup(NOBODY), Hit)


def test_v1_faithful_counterpart_keeps_the_stale_negative_entry(clock: ManualClock, store: TenantStore) -> None:
    r = MiddlewareTenantResolver(clock=clock)
    ticket = r.lookup(NOBODY)
    store.create("Nobody", "nobody")
    r.invalidate(NOBODY)
    with pytest.raises(TenantNotFoundError):
        r.complete(ticket, None)
    with pytest.raises(TenantNotFoundError):
        r.lookup(NOBODY)  # shadowed for up to 60 s
