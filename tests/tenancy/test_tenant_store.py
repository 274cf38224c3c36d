"""The tenants table: what the loaders read."""

from __future__ import annotations

import uuid

import pytest

from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantNotFoundError
from rustok_sim.model.tenancy.keys import TenantKey


def test_find_by_each_kind(store: TenantStore, acme: TenantContext) -> None:
    assert store.find(TenantKey.uuid(acme.id)) == acme
    assert store.find(TenantKey.slug("acme")) == acme
    assert store.find(TenantKey.host("acme.example.com")) == acme
    assert acme.settings == {"plan": "pro"} and acme.is_active


def test_missing_tenant_is_none(store: TenantStore) -> None:
    assert store.find(TenantKey.slug("nobody")) is None
    assert store.find(TenantKey.uuid(uuid.UUID(int=0xdead))) is None
    assert store.find(TenantKey.host("nobody.example.com")) is None


def test_domain_lookup_is_exact_equality(store: TenantStore) -> None:
    store.create("Caps", "caps", "Caps.Example.com")
    assert store.find(TenantKey.host("caps.example.com")) is None


def test_inactive_tenant_still_resolves(store: TenantStore, acme: TenantContext) -> None:
    store.update(acme.id, is_active=False)
    found = store.find(TenantKey.slug("acme"))
    assert found is not None and found.is_active is False


def test_update_and_delete(store: TenantStore, acme: TenantContext) -> None:
    renamed = store.update(acme.id, slug="acme-2", settings={"plan": "free"})
    assert renamed == acme.with_changes(slug="acme-2", settings={"plan": "free"})
    assert store.find(TenantKey.slug("acme")) is None
    assert store.delete(acme.id) is True
    assert store.delete(acme.id) is False
    with pytest.raises(TenantNotFoundError):
        store.update(acme.id, name="ghost")
    with pytest.raises(ValueError, match="no updatable column"):
        store.update(acme.id, colour="red")


def test_database_errors_are_typed(store: TenantStore) -> None:
    with pytest.raises(TenantDatabaseError) as info:
        store.create("Dup", "acme")  # slug is unique
    assert str(info.value).startswith("Database error: ")
    assert info.value.http_status == 500


def test_an_unreachable_database_is_a_typed_error() -> None:
    with pytest.raises(TenantDatabaseError):
        TenantStore("sqlite:////nonexistent-dir/for/sure/tenants.db")


def test_file_database_persists_across_stores(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'tenants.db'}"
    created = TenantStore(url).create("Acme", "acme")
    assert TenantStore(url).find_by_slug("acme") == created


def test_context_json_round_trip_and_rejects_garbage(acme: TenantContext) -> None:
    assert TenantContext.from_json(acme.to_json()) == acme
    for bad in (b"not json", b"[]", b'{"id": "x"}', b'{"id": "' + str(acme.id).encode() + b'"}'):
        with pytest.raises(ValueError):
            TenantContext.from_json(bad)


def test_aliases(acme: TenantContext) -> None:
    assert acme.aliases() == (TenantKey.uuid(acme.id), TenantKey.slug("acme"),
                              TenantKey.host("acme.example.com"))


def test_ids_come_from_the_seed_never_uuid4() -> None:
    first = [TenantStore(seed=7).create("Acme", "acme").id for _ in range(2)]
    assert first[0] == first[1] and first[0].version == 4
    assert TenantStore(seed=8).create("Acme", "acme").id != first[0]
    store = TenantStore(seed=7)
    ids = [store.create(f"T{i}", f"t{i}").id for i in range(3)]
    assert len(set(ids)) == 3 and ids[0] == first[0]


def test_wrong_types_at_the_store_boundary_are_typed_errors() -> None:
    with pytest.raises(TypeError, match="seed must be an int"):
        TenantStore(seed="7")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a TenantKey"):
        TenantStore().find("acme")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="TenantContext.name must be str"):
        TenantStore().create(None, "acme")  # type: ignore[arg-type]
