"""Which header or host names the tenant (V1 and V2), bad input, settings, HTTP statuses."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rustok_sim.model.tenancy.cache import CacheError
from rustok_sim.model.tenancy.context import TenantDatabaseError, TenantNotFoundError
from rustok_sim.model.tenancy.http import (
    DEFAULT_TENANT_ID,
    TenantIdentifierError,
    TenantSettings,
    header_str,
    http_status,
    parse_uuid_rust,
    resolve_identifier_v1,
    resolve_identifier_v2,
)
from rustok_sim.model.tenancy.keys import IdentifierKind, TenantKey
from rustok_sim.model.tenancy.resolver import TenantLoadFailed
from rustok_sim.model.tenancy.validation import TenantValidationErrorKind

U = "123e4567-e89b-12d3-a456-426614174000"
DEFAULT_KEY = TenantKey.uuid(DEFAULT_TENANT_ID)
HOST = TenantSettings(resolution="host")


# -- settings ------------------------------------------------------------------------------------


def test_settings_defaults_are_rusts() -> None:
    s = TenantSettings()
    assert (s.enabled, s.resolution, s.header_name) == (True, "header", "X-Tenant-ID")
    assert str(s.default_id) == "00000000-0000-0000-0000-000000000001"


def test_settings_reject_a_header_name_that_is_not_a_token() -> None:
    with pytest.raises(ValidationError, match="header_name"):
        TenantSettings(header_name="X Tenant")
    with pytest.raises(ValidationError, match="default_id"):
        TenantSettings(default_id="not-a-uuid")


# -- V1, header mode -------------------------------------------------------------------------------


def test_v1_header_uuid_is_a_uuid_key_in_canonical_form() -> None:
    assert resolve_identifier_v1({"X-Tenant-ID": f"  {U.upper()} "}) == TenantKey.uuid(U)


def test_v1_header_slug_is_normalised() -> None:
    assert resolve_identifier_v1({"x-tenant-id": " MyTenant "}) == TenantKey.slug("mytenant")


def test_v1_header_name_matches_case_insensitively_and_the_first_value_wins() -> None:
    headers = [("x-TENANT-id", "first"), ("X-Tenant-ID", "second")]
    assert resolve_identifier_v1(headers) == TenantKey.slug("first")


@pytest.mark.parametrize("headers", [
    {},
    {"X-Tenant-ID": ""},
    {"X-Tenant-ID": " \t "},
    {"X-Tenant-ID": "caf\u00e9"},            # non-ASCII
    {"X-Tenant-ID": b"caf\xc3\xa9"},          # non-ASCII bytes
    {"X-Tenant-ID": "acme\x01"},             # control character
    {"X-Tenant-ID": "acme\x7f"},             # DEL
], ids=["missing", "empty", "blank", "non-ascii", "non-ascii-bytes", "control", "del"])
def test_v1_header_missing_or_not_visible_ascii_means_the_default_tenant(headers: dict) -> None:
    assert resolve_identifier_v1(headers) == DEFAULT_KEY


def test_v1_header_tab_is_visible_ascii_and_trimmed() -> None:
    assert resolve_identifier_v1({"X-Tenant-ID": "\tacme\t"}) == TenantKey.slug("acme")


@pytest.mark.parametrize("value, kind", [
    ("admin", TenantValidationErrorKind.RESERVED),
    ("tenant_123", TenantValidationErrorKind.INVALID_CHARACTERS),
    ("'; DROP TABLE--", TenantValidationErrorKind.INVALID_CHARACTERS),
    ("a" * 65, TenantValidationErrorKind.TOO_LONG),
])
def test_v1_header_that_is_neither_uuid_nor_slug_is_400(value: str, kind: str) -> None:
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v1({"X-Tenant-ID": value})
    assert http_status(info.value) == 400
    assert info.value.cause is not None and info.value.cause.kind == kind


def test_v1_has_no_x_tenant_slug_header() -> None:
    assert resolve_identifier_v1({"X-Tenant-Slug": "acme"}) == DEFAULT_KEY


def test_v1_custom_header_name() -> None:
    settings = TenantSettings(header_name="X-Org")
    assert resolve_identifier_v1({"X-Org": "acme", "X-Tenant-ID": "other"}, settings) == TenantKey.slug("acme")


def test_v1_disabled_or_unknown_resolution_means_the_default_tenant() -> None:
    headers = {"X-Tenant-ID": "acme", "Host": "acme.example.com"}
    assert resolve_identifier_v1(headers, TenantSettings(enabled=False)) == DEFAULT_KEY
    assert resolve_identifier_v1(headers, TenantSettings(resolution="cookie")) == DEFAULT_KEY
    custom = uuid.UUID("5d8a6c1e-3b2f-4e7a-9c0d-1f2e3a4b5c6d")  # any id but the default
    assert resolve_identifier_v1({}, TenantSettings(enabled=False, default_id=custom)) == TenantKey.uuid(custom)


# -- V1, host mode ---------------------------------------------------------------------------------


def test_v1_host_precedence_x_forwarded_host_then_forwarded_then_host() -> None:
    all_three = {"X-Forwarded-Host": " a.example.com , b.example.com",
                 "Forwarded": 'for=1.2.3.4;host="f.example.com", host=g.example.com',
                 "Host": "h.example.com"}
    assert resolve_identifier_v1(all_three, HOST) == TenantKey.host("a.example.com")
    del all_three["X-Forwarded-Host"]
    assert resolve_identifier_v1(all_three, HOST) == TenantKey.host("f.example.com")
    del all_three["Forwarded"]
    assert resolve_identifier_v1(all_three, HOST) == TenantKey.host("h.example.com")


def test_v1_forwarded_without_host_falls_through_to_host() -> None:
    headers = {"Forwarded": "for=1.2.3.4;proto=https", "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("h.example.com")


@pytest.mark.parametrize("mode", ["host", "domain", "subdomain"])
def test_v1_host_modes_strip_the_port_and_lowercase(mode: str) -> None:
    settings = TenantSettings(resolution=mode)
    assert resolve_identifier_v1({"Host": "Acme.Example.COM:8443"}, settings) == TenantKey.host("acme.example.com")


def test_v1_host_mode_without_any_host_header_is_400() -> None:
    with pytest.raises(TenantIdentifierError):
        resolve_identifier_v1({"X-Tenant-ID": "acme"}, HOST)


@pytest.mark.parametrize("host", ["bad_host.com", "example..com", "-x.com", "", "caf\u00e9.com"])
def test_v1_invalid_host_is_400(host: str) -> None:
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v1({"Host": host}, HOST)
    assert http_status(info.value) == 400


def test_v1_host_that_is_not_visible_ascii_counts_as_absent() -> None:
    headers = {"X-Forwarded-Host": "caf\u00e9.com", "Host": "ok.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("ok.example.com")


# -- V2 ------------------------------------------------------------------------------------------------


def test_v2_header_order() -> None:
    full = {"X-Tenant-ID": U, "X-Tenant-Slug": "Acme ", "Host": "Acme.example.com:8080"}
    assert resolve_identifier_v2(full) == TenantKey.uuid(U)
    full["X-Tenant-ID"] = "acme"  # not a UUID: silently skipped
    assert resolve_identifier_v2(full) == TenantKey.slug("Acme ")  # raw: no trim, no lowercase
    del full["X-Tenant-Slug"]
    assert resolve_identifier_v2(full) == TenantKey(IdentifierKind.HOST, "Acme.example.com:8080")
    del full["Host"]
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v2(full)
    assert http_status(info.value) == 400


def test_v2_configured_header_first_then_literal_x_tenant_id() -> None:
    other = "9b1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
    settings = TenantSettings(header_name="X-Org")
    assert resolve_identifier_v2({"X-Org": U, "X-Tenant-ID": other}, settings) == TenantKey.uuid(U)
    assert resolve_identifier_v2({"X-Org": "nope", "X-Tenant-ID": other}, settings) == TenantKey.uuid(other)


def test_v2_ignores_forwarded_headers() -> None:
    with pytest.raises(TenantIdentifierError):
        resolve_identifier_v2({"X-Forwarded-Host": "a.example.com"})


@pytest.mark.parametrize("text", [U, U.upper(), U.replace("-", ""), "{" + U + "}", "urn:uuid:" + U])
def test_rust_uuid_parse_accepts_its_four_forms(text: str) -> None:
    assert parse_uuid_rust(text) == uuid.UUID(U)


@pytest.mark.parametrize("text", [" " + U, "URN:UUID:" + U, U[:-1], "{" + U, U.replace("-", "", 1) + "-",
                                  "123e4567e89b-12d3-a456-426614174000-"])
def test_rust_uuid_parse_rejects_what_rust_rejects(text: str) -> None:
    assert parse_uuid_rust(text) is None


@given(st.uuids())
def test_rust_uuid_parse_round_trips_every_form(u: uuid.UUID) -> None:
    for text in (str(u), str(u).upper(), u.hex, "{" + str(u) + "}", "urn:uuid:" + str(u)):
        assert parse_uuid_rust(text) == u


# -- statuses and header access ---------------------------------------------------------------------


def test_http_status_mapping() -> None:
    assert http_status(TenantIdentifierError("x")) == 400
    assert http_status(TenantNotFoundError()) == 404
    assert http_status(TenantLoadFailed("Tenant not found")) == 404
    assert http_status(TenantDatabaseError("boom")) == 500
    assert http_status(CacheError("Redis unavailable (circuit breaker open)")) == 500
    assert http_status(RuntimeError("bug")) == 500


@given(st.text(max_size=20))
def test_header_str_returns_only_visible_ascii(value: str) -> None:
    got = header_str({"X": value}, "x")
    visible = all(c == "\t" or " " <= c <= "~" for c in value)
    assert got == (value if visible else None)


def test_a_huge_host_gives_a_bounded_message() -> None:
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v1({"Host": "a" * 1_000_000}, TenantSettings(resolution="host"))
    assert len(str(info.value)) < 500 and "1000000 chars" in str(info.value)


def test_settings_of_the_wrong_type_say_what_was_expected() -> None:
    for resolve in (resolve_identifier_v1, resolve_identifier_v2):
        with pytest.raises(TypeError, match="must be a TenantSettings .* got dict"):
            resolve({"X-Tenant-ID": U}, {"header_name": "X-Org"})  # type: ignore[arg-type]
