"""Behaviour ``v2``: the moka resolver of ``tenant_v2.rs`` (spec §6.3), with its Rust tests."""

from __future__ import annotations

import uuid

import pytest

from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import (
    Hit,
    LoadTicket,
    MokaTenantResolver,
    TenantLoadFailed,
    TenantResolverConfig,
    V2CacheStats,
    build_tenant_resolver,
)

ACME = TenantKey.slug("acme")


@pytest.fixture
def r(clock: ManualClock) -> MokaTenantResolver:
    return MokaTenantResolver(clock=clock)


def test_default_config_is_sane() -> None:
    """Rust `default_config_is_sane`: capacity >= 1000 and TTL >= TTI."""
    config = MokaTenantResolver(clock=ManualClock()).config
    assert config.variant == "v2"
    assert config.max_capacity >= 1000
    assert config.time_to_idle is not None and config.time_to_live >= config.time_to_idle


def test_tenant_resolver_caches_results(r: MokaTenantResolver, store: TenantStore, acme) -> None:
    loads: list[TenantKey] = []

    def loader(key: TenantKey) -> TenantContext | None:
        loads.append(key)
        return store.find(key)

    assert r.resolve(ACME, loader) == acme
    assert r.resolve(ACME, loader) == acme
    assert loads == [ACME]


def test_tenant_resolver_invalidation(r: MokaTenantResolver, store: TenantStore, acme) -> None:
    r.resolve(ACME, store.find)
    r.invalidate_by_slug("acme")
    assert isinstance(r.lookup(ACME), LoadTicket)


def test_tenant_resolver_not_found_reaches_the_caller_as_load_failed(r: MokaTenantResolver,
                                                                     store: TenantStore) -> None:
    """Rust's `test_tenant_resolver_not_found` expects `Err(NotFound)`, which `resolve()` can
    never return: every loader error is wrapped as LoadFailed."""
    with pytest.raises(TenantLoadFailed) as info:
        r.resolve(TenantKey.slug("nobody"), store.find)
    assert str(info.value) == "Failed to load tenant: Tenant not found"
    assert info.value.inner == "Tenant not found"


def test_cache_stats(r: MokaTenantResolver, store: TenantStore) -> None:
    assert r.stats() == V2CacheStats(entries=0, weighted_size=0)
    r.resolve(ACME, store.find)
    assert r.stats() == V2CacheStats(entries=1, weighted_size=1)


def test_each_key_form_is_its_own_entry(r: MokaTenantResolver, store: TenantStore, acme) -> None:
    by_uuid, by_host = TenantKey.uuid(acme.id), TenantKey.host("acme.example.com")
    for key in (ACME, by_uuid, by_host):
        r.resolve(key, store.find)
    assert r.stats().entries == 3
    r.invalidate_by_uuid(acme.id)
    assert isinstance(r.lookup(by_uuid), LoadTicket)
    assert isinstance(r.lookup(ACME), Hit) and isinstance(r.lookup(by_host), Hit)


def test_no_negative_caching(r: MokaTenantResolver, store: TenantStore) -> None:
    nobody = TenantKey.slug("nobody")
    for _ in range(3):
        with pytest.raises(TenantLoadFailed):
            r.resolve(nobody, store.find)
    assert r.stats().entries == 0
    assert isinstance(r.lookup(nobody), LoadTicket)


def test_invalidate_all_and_publishes_nothing(r: MokaTenantResolver, store: TenantStore) -> None:
    r.resolve(ACME, store.find)
    r.resolve(TenantKey.slug("globex"), store.find)
    r.invalidate_all()
    assert r.stats().entries == 0
    assert not hasattr(r, "published")


def test_capacity_is_an_entry_count_with_lru_eviction(clock: ManualClock) -> None:
    r = MokaTenantResolver(TenantResolverConfig(variant="v2", max_capacity=1000), clock=clock)
    tenants = [TenantContext(uuid.UUID(int=i + 1), f"T{i}", f"t{i}") for i in range(1005)]
    for t in tenants:
        r.complete(r.lookup(TenantKey.uuid(t.id)), t)
        assert r.stats().entries <= 1000
    assert r.stats().entries == 1000
    assert isinstance(r.lookup(TenantKey.uuid(tenants[0].id)), LoadTicket)  # evicted (LRU)
    assert isinstance(r.lookup(TenantKey.uuid(tenants[-1].id)), Hit)


def test_http_statuses_400_and_404(r: MokaTenantResolver, store: TenantStore, acme) -> None:
    assert r.resolve_request({"X-Tenant-Slug": "acme"}, store.find) == (200, acme)
    assert r.resolve_request({"X-Tenant-ID": str(acme.id)}, store.find) == (200, acme)
    status, error = r.resolve_request({}, store.find)
    assert status == 400
    assert r.resolve_request({"X-Tenant-Slug": "nobody"}, store.find)[0] == 404

    def broken(key: TenantKey) -> TenantContext | None:
        raise TenantDatabaseError("connection refused")

    status, error = r.resolve_request({"X-Tenant-Slug": "globex"}, broken)
    assert status == 404  # V2 maps every resolve error to 404, database errors included
    assert str(error) == "Failed to load tenant: Database error: connection refused"


def test_v2_host_key_is_raw(r: MokaTenantResolver, store: TenantStore) -> None:
    """V2 takes Host raw, port included, so a domain lookup of 'acme.example.com:443' misses."""
    assert r.resolve_request({"Host": "acme.example.com:443"}, store.find)[0] == 404
    assert r.resolve_request({"Host": "acme.example.com"}, store.find)[0] == 200


def test_factory_refuses_v1_options_for_v2(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="positive / negative / publisher"):
        build_tenant_resolver(TenantResolverConfig(variant="v2"), clock=clock,
                              publisher=lambda channel, payload: None)
