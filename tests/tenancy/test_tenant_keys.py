"""Tenant keys: V1's cache-key formats, V2's key identity, the invalidation payload."""

from __future__ import annotations

import uuid

from rustok_sim.model.tenancy.keys import IdentifierKind, TenantKey, alias_keys, parse_invalidation_payload

U = "123e4567-e89b-12d3-a456-426614174000"


def test_v1_positive_and_negative_key_formats() -> None:
    assert TenantKey.uuid(U).positive_key() == f"tenant:v1:uuid:{U}"
    assert TenantKey.slug("demo").positive_key() == "tenant:v1:slug:demo"
    assert TenantKey.host("demo.example.test").positive_key() == "tenant:v1:host:demo.example.test"
    assert TenantKey.uuid(U).negative_key() == f"tenant_negative:v1:uuid:{U}"
    assert TenantKey.slug("demo").negative_key() == "tenant_negative:v1:slug:demo"


def test_v1_host_keys_are_lowercased_again() -> None:
    assert TenantKey.host("Example.COM").positive_key() == "tenant:v1:host:example.com"
    assert TenantKey.host("Example.COM").negative_key() == "tenant_negative:v1:host:example.com"


def test_uuid_keys_are_canonical_whatever_the_input_spelling() -> None:
    assert TenantKey.uuid(U.upper()) == TenantKey.uuid(uuid.UUID(U)) == TenantKey.uuid(U)
    assert TenantKey.uuid(U).value == U


def test_tenant_key_is_hashable_and_distinct() -> None:
    """Rust `tenant_key_is_hashable_and_distinct`: Uuid, Slug and Host keys never collide."""
    same_text = U
    keys = {TenantKey(IdentifierKind.UUID, same_text), TenantKey.slug(same_text),
            TenantKey.host(same_text)}
    assert len(keys) == 3


def test_invalidation_payload_is_both_keys_joined_by_a_bar() -> None:
    assert TenantKey.slug("demo").invalidation_payload() == "tenant:v1:slug:demo|tenant_negative:v1:slug:demo"


def test_parse_invalidation_payload_returns_both_keys() -> None:
    payload = "tenant:v1:slug:demo|tenant_negative:v1:slug:demo"
    assert parse_invalidation_payload(payload) == ("tenant:v1:slug:demo", "tenant_negative:v1:slug:demo")


def test_parse_invalidation_payload_rejects_only_a_payload_without_a_bar() -> None:
    assert parse_invalidation_payload("tenant:v1:slug:demo") is None
    # Rust's listener takes the first two parts of split('|'), empty ones included.
    assert parse_invalidation_payload("|tenant_negative:v1:slug:demo") == ("", "tenant_negative:v1:slug:demo")
    assert parse_invalidation_payload("tenant:v1:slug:demo|") == ("tenant:v1:slug:demo", "")


def test_alias_keys_cover_uuid_slug_and_domain() -> None:
    assert alias_keys(U, "demo", "demo.example.test") == (
        TenantKey.uuid(U), TenantKey.slug("demo"), TenantKey.host("demo.example.test"))
    assert alias_keys(U, "demo", None) == (TenantKey.uuid(U), TenantKey.slug("demo"))
