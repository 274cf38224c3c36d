"""Fidelity checks derived line by line from the spec (§5 validation, §6 resolvers and settings,
§7 cache backends), one behaviour per test. Where the spec paraphrases the Rust code, the
expectation is what the code does (``tenant.rs`` `extract_host`, the invalidation listener,
`RedisCacheBackend::health`)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from rustok_sim.adapters.redis_cache import CIRCUIT_OPEN_MESSAGE, RedisCacheBackend, RedisCacheConfig, RedisFaults
from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig, CircuitState
from rustok_sim.model.tenancy.cache import CacheError, CacheStats, InMemoryCacheBackend
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantNotFoundError
from rustok_sim.model.tenancy.http import (
    DEFAULT_TENANT_ID,
    TenantIdentifierError,
    TenantSettings,
    http_status,
    resolve_identifier_v1,
    resolve_identifier_v2,
)
from rustok_sim.model.tenancy.keys import INVALIDATION_CHANNEL, IdentifierKind, TenantKey
from rustok_sim.model.tenancy.resolver import (
    Hit,
    LoadTicket,
    MiddlewareTenantResolver,
    MokaTenantResolver,
    TenantCacheStats,
    TenantLoadFailed,
    TenantResolverConfig,
    Wait,
)
from rustok_sim.model.tenancy.validation import (
    RESERVED_SLUGS,
    TenantValidationError,
    classify_identifier,
)
from rustok_sim.model.tenancy.validation import (
    TenantIdentifierValidator as V,
)
from rustok_sim.model.tenancy.validation import (
    TenantValidationErrorKind as K,
)

U = "123e4567-e89b-12d3-a456-426614174000"
HOST = TenantSettings(resolution="host")
DEFAULT_KEY = TenantKey.uuid(DEFAULT_TENANT_ID)
ACME = TenantKey.slug("acme")
NOBODY = TenantKey.slug("nobody")
OPEN_TEXT = "Cache error: Redis unavailable (circuit breaker open)"


def kind_of(fn: Any, raw: str) -> str:
    with pytest.raises(TenantValidationError) as info:
        fn(raw)
    return info.value.kind


class FailingBackend(InMemoryCacheBackend):
    """An in-memory backend whose chosen operations raise `CacheError`."""

    __slots__ = ("_fail",)

    def __init__(self, clock: ManualClock, ttl: float, *, fail: set[str]) -> None:
        super().__init__(ttl, 1000, clock=clock)
        self._fail = fail

    def get(self, key: str) -> bytes | None:
        if "get" in self._fail:
            raise CacheError("boom")
        return super().get(key)

    def set(self, key: str, value: bytes) -> None:
        if "set" in self._fail:
            raise CacheError("boom")
        super().set(key, value)


# ================================================================================================
# §5 Tenant identifier validation
# ================================================================================================


def test_slug_of_64_chars_passes_the_length_check_but_fails_the_pattern() -> None:
    assert kind_of(V.validate_slug, "a" * 64) == K.INVALID_CHARACTERS


def test_slug_of_65_chars_is_too_long() -> None:
    assert kind_of(V.validate_slug, "a" * 65) == K.TOO_LONG


def test_slug_of_63_chars_is_valid() -> None:
    assert V.validate_slug("a" * 63) == "a" * 63


def test_slug_trailing_and_consecutive_hyphens_are_allowed() -> None:
    assert V.validate_slug("a--b-") == "a--b-"


def test_slug_leading_hyphen_is_invalid_characters() -> None:
    assert kind_of(V.validate_slug, "-abc") == K.INVALID_CHARACTERS


@pytest.mark.parametrize("raw", ["a_b", "a.b", "a b", "a@b", "caf\u00e9", "\u0430bc"])
def test_slug_rejects_underscore_dot_space_at_and_non_ascii(raw: str) -> None:
    assert kind_of(V.validate_slug, raw) == K.INVALID_CHARACTERS


def test_reserved_is_checked_on_the_normalised_value_and_carries_it() -> None:
    with pytest.raises(TenantValidationError) as info:
        V.validate_slug("  ADMIN ")
    assert info.value.kind == K.RESERVED
    assert str(info.value) == "Identifier 'admin' is reserved and cannot be used"


def test_reserved_is_an_exact_match_so_admin_1_is_allowed() -> None:
    assert V.validate_slug("admin-1") == "admin-1"


def test_reserved_list_has_41_entries() -> None:
    assert len(RESERVED_SLUGS) == 41
    assert {"api", "swagger", "vpn", "signin", "localhost", "postgres", "public"} <= RESERVED_SLUGS


def test_hosts_are_never_checked_against_the_reserved_list() -> None:
    assert V.validate_host("admin") == "admin"
    assert V.validate_host("admin.example.com") == "admin.example.com"


def test_whitespace_only_slug_is_empty() -> None:
    assert kind_of(V.validate_slug, " \t\n ") == K.EMPTY


@pytest.mark.parametrize("kind, text", [
    (K.TOO_LONG, "Identifier is too long (max 64 characters)"),
    (K.INVALID_CHARACTERS,
     "Identifier contains invalid characters (only lowercase alphanumeric and hyphens allowed)"),
    (K.INVALID_UUID, "Invalid UUID format"),
    (K.EMPTY, "Identifier cannot be empty"),
    (K.HOSTNAME_TOO_LONG, "Hostname is too long (max 253 characters)"),
    (K.INVALID_HOSTNAME, "Invalid hostname format"),
])
def test_display_texts_of_the_payload_free_variants(kind: K, text: str) -> None:
    assert str(TenantValidationError(kind, "whatever")) == text


def test_there_are_exactly_seven_variants() -> None:
    assert len(list(K)) == 7


def test_uuid_uppercase_is_accepted_and_equals_the_original() -> None:
    assert V.validate_uuid(U.upper()) == uuid.UUID(U)


def test_uuid_nil_is_accepted_without_a_version_check() -> None:
    assert V.validate_uuid("00000000-0000-0000-0000-000000000000") == uuid.UUID(int=0)


@pytest.mark.parametrize("raw", [U.replace("-", ""), "{" + U + "}", "urn:uuid:" + U, ""])
def test_uuid_simple_braced_urn_and_empty_are_invalid_uuid(raw: str) -> None:
    assert kind_of(V.validate_uuid, raw) == K.INVALID_UUID


def test_uuid_surrounding_whitespace_is_trimmed() -> None:
    assert V.validate_uuid(f"  {U}\t") == uuid.UUID(U)


def test_host_with_a_port_is_invalid_hostname() -> None:
    assert kind_of(V.validate_host, "example.com:8080") == K.INVALID_HOSTNAME


def test_host_ipv4_literal_passes() -> None:
    assert V.validate_host("192.168.0.1") == "192.168.0.1"


def test_host_label_of_63_passes_and_64_fails() -> None:
    assert V.validate_host("a" * 63 + ".com") == "a" * 63 + ".com"
    assert kind_of(V.validate_host, "a" * 64 + ".com") == K.INVALID_HOSTNAME


def test_host_of_253_bytes_passes_and_254_is_too_long() -> None:
    host = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(host) == 253 and V.validate_host(host) == host
    assert kind_of(V.validate_host, "a" * 250 + ".com") == K.HOSTNAME_TOO_LONG


@pytest.mark.parametrize("raw", [".example.com", "example.com.", "a..b", "-a.com", "a-.com", "a_b.com"])
def test_host_empty_labels_hyphen_edges_and_underscore_are_invalid(raw: str) -> None:
    assert kind_of(V.validate_host, raw) == K.INVALID_HOSTNAME


def test_host_whitespace_only_is_empty() -> None:
    assert kind_of(V.validate_host, "   ") == K.EMPTY


def test_validate_any_lowercase_uuid_returns_its_string() -> None:
    assert V.validate_any(f" {U} ") == U


def test_validate_any_uppercase_uuid_goes_to_slug_with_the_same_output() -> None:
    assert V.validate_any(U.upper()) == U


def test_validate_any_dot_routes_to_host() -> None:
    assert V.validate_any(" Example.COM ") == "example.com"
    assert kind_of(V.validate_any, "tenant.123_") == K.INVALID_HOSTNAME


def test_validate_any_without_dot_routes_to_slug_and_applies_reserved() -> None:
    assert kind_of(V.validate_any, "admin") == K.RESERVED


@pytest.mark.parametrize("raw", ["'; DROP TABLE--", "1' OR '1'='1", "admin'--", "<script>alert(1)</script>",
                                 "javascript:alert(1)", "<img src=x>", "../../../etc/passwd",
                                 "..\\windows\\system32"])
def test_rust_attack_inputs_are_invalid_characters(raw: str) -> None:
    assert kind_of(V.validate_slug, raw) == K.INVALID_CHARACTERS


# ================================================================================================
# §6.1 settings, §6.2 V1 identifier extraction
# ================================================================================================


def test_settings_defaults() -> None:
    s = TenantSettings()
    assert (s.enabled, s.resolution, s.header_name, s.default_id) == (
        True, "header", "X-Tenant-ID", uuid.UUID("00000000-0000-0000-0000-000000000001"))


def test_v1_classify_uuid_first() -> None:
    c = classify_identifier(U.upper())
    assert (c.kind, c.value, c.uuid) == (IdentifierKind.UUID, U, uuid.UUID(U))


def test_v1_classify_slug_has_a_nil_uuid() -> None:
    c = classify_identifier("Acme")
    assert (c.kind, c.value, c.uuid) == (IdentifierKind.SLUG, "acme", uuid.UUID(int=0))


def test_v1_simple_form_uuid_is_classified_as_a_slug() -> None:
    """validate_uuid refuses the 32-hex form; validate_slug accepts it."""
    assert resolve_identifier_v1({"X-Tenant-ID": U.replace("-", "")}) == TenantKey.slug(U.replace("-", ""))


def test_v1_braced_uuid_is_400() -> None:
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v1({"X-Tenant-ID": "{" + U + "}"})
    assert http_status(info.value) == 400 and info.value.cause.kind == K.INVALID_CHARACTERS


def test_v1_empty_header_uses_the_configured_default_id() -> None:
    custom = uuid.UUID("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
    assert resolve_identifier_v1({"X-Tenant-ID": "  "}, TenantSettings(default_id=custom)) == TenantKey.uuid(custom)


def test_v1_header_mode_ignores_host_headers() -> None:
    assert resolve_identifier_v1({"Host": "acme.example.com"}) == DEFAULT_KEY


def test_v1_resolution_is_case_sensitive() -> None:
    assert resolve_identifier_v1({"Host": "acme.example.com"}, TenantSettings(resolution="Host")) == DEFAULT_KEY


def test_v1_disabled_ignores_a_bad_header() -> None:
    assert resolve_identifier_v1({"X-Tenant-ID": "admin"}, TenantSettings(enabled=False)) == DEFAULT_KEY


def test_v1_host_from_x_forwarded_host_first_entry_trimmed_and_port_stripped() -> None:
    headers = {"X-Forwarded-Host": "  Acme.Example.com:8443 , other.com", "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("acme.example.com")


def test_v1_present_but_empty_x_forwarded_host_is_400_not_a_fall_through() -> None:
    """Rust `extract_host` returns the (trimmed) first entry of a readable X-Forwarded-Host even
    when it is empty; `validate_host("")` then fails."""
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v1({"X-Forwarded-Host": " , b.example.com", "Host": "h.example.com"}, HOST)
    assert info.value.cause.kind == K.EMPTY


def test_v1_forwarded_host_quoted_with_port() -> None:
    headers = {"Forwarded": 'proto=https; host="Acme.example.com:443";for=1.2.3.4', "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("acme.example.com")


def test_v1_forwarded_only_the_first_element_is_read() -> None:
    headers = {"Forwarded": "for=1.2.3.4, host=b.example.com", "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("h.example.com")


def test_v1_forwarded_host_parameter_name_is_the_literal_lowercase_host() -> None:
    headers = {"Forwarded": "Host=b.example.com", "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("h.example.com")


def test_v1_forwarded_empty_host_value_is_400() -> None:
    with pytest.raises(TenantIdentifierError):
        resolve_identifier_v1({"Forwarded": "host=", "Host": "h.example.com"}, HOST)


def test_v1_forwarded_quotes_are_trimmed_before_whitespace() -> None:
    """`trim_matches('"')` then `trim()`: a space after the closing quote keeps that quote."""
    with pytest.raises(TenantIdentifierError) as info:
        resolve_identifier_v1({"Forwarded": 'host="a.example.com" ;for=x', "Host": "h.example.com"}, HOST)
    assert info.value.cause.kind == K.INVALID_HOSTNAME


def test_v1_ipv6_host_literal_is_400() -> None:
    with pytest.raises(TenantIdentifierError):
        resolve_identifier_v1({"Host": "[::1]:8080"}, HOST)


@pytest.mark.parametrize("mode", ["domain", "subdomain"])
def test_v1_domain_and_subdomain_modes_use_x_forwarded_host_too(mode: str) -> None:
    headers = {"X-Forwarded-Host": "a.example.com", "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, TenantSettings(resolution=mode)) == TenantKey.host("a.example.com")


def test_v1_host_mode_ignores_the_tenant_header() -> None:
    headers = {"X-Tenant-ID": U, "Host": "h.example.com"}
    assert resolve_identifier_v1(headers, HOST) == TenantKey.host("h.example.com")


# ================================================================================================
# §6.2 keys
# ================================================================================================


def test_v1_key_formats_for_every_kind() -> None:
    assert TenantKey.uuid(U).positive_key() == f"tenant:v1:uuid:{U}"
    assert TenantKey.slug("acme").negative_key() == "tenant_negative:v1:slug:acme"
    assert TenantKey.host("a.example.com").positive_key() == "tenant:v1:host:a.example.com"
    assert TenantKey.host("a.example.com").negative_key() == "tenant_negative:v1:host:a.example.com"


def test_v1_slug_and_uuid_key_values_are_not_lowercased() -> None:
    assert TenantKey.slug("Acme").positive_key() == "tenant:v1:slug:Acme"
    assert TenantKey(IdentifierKind.UUID, "ABC").negative_key() == "tenant_negative:v1:uuid:ABC"


def test_v1_full_redis_key_layout(clock: ManualClock) -> None:
    data = RedisCacheBackend(RedisCacheConfig(prefix="tenant-cache:v1:data"), clock=clock)
    assert data.full_key(TenantKey.uuid(U).positive_key()) == f"tenant-cache:v1:data:tenant:v1:uuid:{U}"


# ================================================================================================
# §6.2 V1 request flow
# ================================================================================================


@pytest.fixture
def r(clock: ManualClock) -> MiddlewareTenantResolver:
    return MiddlewareTenantResolver(clock=clock)


def test_v1_negative_cache_is_checked_before_the_positive_cache(r: MiddlewareTenantResolver, acme) -> None:
    r.positive.set(ACME.positive_key(), acme.to_json())
    r.negative.set(ACME.negative_key(), b"")
    with pytest.raises(TenantNotFoundError) as info:
        r.lookup(ACME)
    assert http_status(info.value) == 404
    assert (r.stats().negative_hits, r.stats().hits, r.stats().misses) == (1, 0, 0)


def test_v1_any_negative_value_is_a_hit(r: MiddlewareTenantResolver) -> None:
    r.negative.set(NOBODY.negative_key(), b"anything")
    with pytest.raises(TenantNotFoundError):
        r.lookup(NOBODY)


def test_v1_miss_counts_a_negative_miss_and_a_miss(r: MiddlewareTenantResolver) -> None:
    assert isinstance(r.lookup(ACME), LoadTicket)
    assert (r.stats().negative_misses, r.stats().misses, r.stats().hits) == (1, 1, 0)


def test_v1_not_found_writes_an_empty_negative_entry(r: MiddlewareTenantResolver, store: TenantStore) -> None:
    status, error = r.resolve_request({"X-Tenant-ID": "nobody"}, store.find)
    assert status == 404 and str(error) == "Tenant not found"
    assert r.negative.get("tenant_negative:v1:slug:nobody") == b""
    assert r.positive.get("tenant:v1:slug:nobody") is None
    assert r.stats().negative_inserts == 1


def test_v1_positive_entry_expires_exactly_at_300_s(r: MiddlewareTenantResolver, store: TenantStore,
                                                    clock: ManualClock) -> None:
    r.resolve(ACME, store.find)
    clock.set(299.999)
    assert isinstance(r.lookup(ACME), Hit)
    clock.set(300.0)
    assert isinstance(r.lookup(ACME), LoadTicket)


def test_v1_positive_entry_has_no_time_to_idle(r: MiddlewareTenantResolver, store: TenantStore,
                                               clock: ManualClock) -> None:
    r.resolve(ACME, store.find)
    clock.set(200.0)  # far beyond any 60 s idle time, never touched meanwhile
    assert isinstance(r.lookup(ACME), Hit)


def test_v1_negative_entry_expires_exactly_at_60_s(r: MiddlewareTenantResolver, store: TenantStore,
                                                   clock: ManualClock) -> None:
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    clock.set(59.999)
    with pytest.raises(TenantNotFoundError):
        r.lookup(NOBODY)
    clock.set(60.0)
    assert isinstance(r.lookup(NOBODY), LoadTicket)


def test_v1_database_error_is_500_and_nothing_is_cached(r: MiddlewareTenantResolver) -> None:
    def broken(key: TenantKey) -> TenantContext | None:
        raise TenantDatabaseError("db down")

    status, error = r.resolve_request({"X-Tenant-ID": "acme"}, broken)
    assert (status, str(error)) == (500, "Database error: db down")
    assert r.stats().entries == r.stats().negative_entries == 0
    assert r.stats().negative_inserts == 0


def test_v1_negative_lookup_error_is_500_before_the_database(clock: ManualClock) -> None:
    r = MiddlewareTenantResolver(clock=clock, negative=FailingBackend(clock, 60, fail={"get"}))
    loads: list[TenantKey] = []
    status, error = r.resolve_request({"X-Tenant-ID": "acme"}, loads.append)
    assert status == 500 and isinstance(error, CacheError) and loads == []


def test_v1_positive_lookup_error_is_500(clock: ManualClock) -> None:
    r = MiddlewareTenantResolver(clock=clock, positive=FailingBackend(clock, 300, fail={"get"}))
    status, error = r.resolve_request({"X-Tenant-ID": "acme"}, lambda key: None)
    assert (status, str(error)) == (500, "Cache error: boom")
    assert r.stats().negative_misses == 1


def test_v1_inactive_tenant_resolves_with_200(r: MiddlewareTenantResolver, store: TenantStore, acme) -> None:
    store.update(acme.id, is_active=False)
    status, ctx = r.resolve_request({"X-Tenant-ID": "acme"}, store.find)
    assert status == 200 and ctx.is_active is False


def test_v1_cached_value_is_the_serde_json_of_the_context(r: MiddlewareTenantResolver) -> None:
    ctx = TenantContext(uuid.UUID(U), "Caf\u00e9", "cafe", None, {"a": 1}, True)
    ticket = r.lookup(TenantKey.slug("cafe"))
    r.complete(ticket, ctx)
    assert r.positive.get("tenant:v1:slug:cafe") == (
        '{"id":"%s","name":"Caf\u00e9","slug":"cafe","domain":null,"settings":{"a":1},'
        '"is_active":true}' % U).encode("utf-8")


def test_v1_waiter_counts_a_coalesced_request(r: MiddlewareTenantResolver) -> None:
    r.lookup(ACME)
    assert isinstance(r.lookup(ACME), Wait)
    assert r.stats().coalesced_requests == 1


def test_v1_waiter_after_not_found_ignores_the_fresh_negative_entry(r: MiddlewareTenantResolver) -> None:
    ticket, wait = r.lookup(NOBODY), r.lookup(NOBODY)
    with pytest.raises(TenantNotFoundError):
        r.complete(ticket, None)
    assert r.negative.get(NOBODY.negative_key()) == b""
    assert isinstance(r.resume(wait), LoadTicket)  # re-checks only the positive cache
    assert r.stats().misses == 3 and r.stats().negative_hits == 0


def test_v1_waiter_after_a_database_error_becomes_the_loader(r: MiddlewareTenantResolver) -> None:
    ticket, wait = r.lookup(ACME), r.lookup(ACME)
    with pytest.raises(TenantDatabaseError):
        r.complete(ticket, TenantDatabaseError("x"))
    assert isinstance(r.resume(wait), LoadTicket)


def test_v1_stats_field_names_in_rust_order() -> None:
    assert list(TenantCacheStats.__dataclass_fields__) == [
        "hits", "misses", "evictions", "negative_hits", "negative_misses", "negative_evictions",
        "entries", "negative_entries", "negative_inserts", "coalesced_requests"]


def test_v1_in_memory_backends_report_no_evictions(clock: ManualClock) -> None:
    r = MiddlewareTenantResolver(TenantResolverConfig(max_capacity=1), clock=clock)
    for n in range(3):
        ctx = TenantContext(uuid.UUID(int=n + 1), f"T{n}", f"t{n}")
        r.complete(r.lookup(TenantKey.slug(ctx.slug)), ctx)
    s = r.stats()
    assert (s.entries, s.evictions) == (1, 0)


def test_v1_redis_backends_report_zero_entries(clock: ManualClock, store: TenantStore) -> None:
    faults = RedisFaults()
    r = MiddlewareTenantResolver(
        clock=clock,
        positive=RedisCacheBackend(RedisCacheConfig(prefix="tenant-cache:v1:data", ttl=300), clock=clock,
                                   faults=faults),
        negative=RedisCacheBackend(RedisCacheConfig(prefix="tenant-cache:v1:negative", ttl=60),
                                   clock=clock, faults=faults))
    r.resolve(ACME, store.find)
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    s = r.stats()
    assert (s.entries, s.negative_entries, s.evictions, s.negative_evictions) == (0, 0, 0, 0)
    assert (s.misses, s.negative_misses, s.negative_inserts) == (2, 2, 1)


def test_v1_redis_negative_ttl_is_60_whole_seconds(clock: ManualClock, store: TenantStore) -> None:
    faults = RedisFaults()
    negative = RedisCacheBackend(RedisCacheConfig(prefix="tenant-cache:v1:negative", ttl=60), clock=clock,
                                 faults=faults)
    r = MiddlewareTenantResolver(clock=clock, negative=negative)
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    assert negative.client.ttl("tenant-cache:v1:negative:tenant_negative:v1:slug:nobody") == 60


# ================================================================================================
# §6.2 invalidation
# ================================================================================================


def test_v1_invalidate_by_host_lowercases_the_key(r: MiddlewareTenantResolver) -> None:
    r.invalidate_by_host("ACME.Example.com")
    assert r.published == ["tenant:v1:host:acme.example.com|tenant_negative:v1:host:acme.example.com"]


def test_v1_invalidate_by_slug_takes_the_value_as_given(r: MiddlewareTenantResolver) -> None:
    r.invalidate_by_slug("Acme")
    assert r.published == ["tenant:v1:slug:Acme|tenant_negative:v1:slug:Acme"]


def test_v1_invalidate_identifier_canonicalises_a_uuid(r: MiddlewareTenantResolver) -> None:
    r.invalidate_identifier(f" {U.upper()} ")
    assert r.published == [f"tenant:v1:uuid:{U}|tenant_negative:v1:uuid:{U}"]


def test_v1_invalidate_identifier_never_yields_a_host_key(r: MiddlewareTenantResolver) -> None:
    r.invalidate_identifier("acme.example.com")
    assert r.published == ["tenant:v1:uuid:acme.example.com|tenant_negative:v1:uuid:acme.example.com"]


def test_v1_invalidate_publishes_on_the_invalidation_channel(clock: ManualClock) -> None:
    sent: list[tuple[str, str]] = []
    r = MiddlewareTenantResolver(clock=clock, publisher=lambda ch, msg: sent.append((ch, msg)))
    r.invalidate_by_uuid(uuid.UUID(U))
    assert sent == [("tenant.cache.invalidate", f"tenant:v1:uuid:{U}|tenant_negative:v1:uuid:{U}")]
    assert INVALIDATION_CHANNEL == "tenant.cache.invalidate"


def test_v1_invalidate_removes_the_negative_entry(r: MiddlewareTenantResolver, store: TenantStore) -> None:
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    r.invalidate(NOBODY)
    assert isinstance(r.lookup(NOBODY), LoadTicket)


def test_v1_listener_payload_with_an_empty_negative_part_still_deletes_the_positive_key(
        r: MiddlewareTenantResolver, store: TenantStore) -> None:
    r.resolve(ACME, store.find)
    assert r.apply_invalidation("tenant:v1:slug:acme|") is True
    assert isinstance(r.lookup(ACME), LoadTicket)


def test_v1_listener_ignores_parts_after_the_second(r: MiddlewareTenantResolver, store: TenantStore) -> None:
    with pytest.raises(TenantNotFoundError):
        r.resolve(NOBODY, store.find)
    assert r.apply_invalidation("x|tenant_negative:v1:slug:nobody|junk") is True
    assert isinstance(r.lookup(NOBODY), LoadTicket)


def test_v1_listener_does_not_republish(r: MiddlewareTenantResolver) -> None:
    r.apply_invalidation(ACME.invalidation_payload())
    assert r.published == []


# ================================================================================================
# §6.3 V2 (moka)
# ================================================================================================


@pytest.fixture
def v2(clock: ManualClock) -> MokaTenantResolver:
    return MokaTenantResolver(clock=clock)


def test_v2_default_limits(v2: MokaTenantResolver) -> None:
    c = v2.config
    assert (c.max_capacity, c.time_to_live, c.time_to_idle) == (1000, 300.0, 60.0)


def test_v2_ttl_expires_from_insert_even_when_accessed(v2: MokaTenantResolver, store: TenantStore,
                                                       clock: ManualClock) -> None:
    v2.resolve(ACME, store.find)
    for t in (59.0, 118.0, 177.0, 236.0, 295.0, 299.999):
        clock.set(t)
        assert isinstance(v2.lookup(ACME), Hit)
    clock.set(300.0)
    assert isinstance(v2.lookup(ACME), LoadTicket)


def test_v2_tti_expires_60_s_after_the_last_access(v2: MokaTenantResolver, store: TenantStore,
                                                   clock: ManualClock) -> None:
    v2.resolve(ACME, store.find)
    clock.set(30.0)
    assert isinstance(v2.lookup(ACME), Hit)
    clock.set(89.999)
    assert isinstance(v2.lookup(ACME), Hit)
    clock.set(149.999)
    assert isinstance(v2.lookup(ACME), LoadTicket)


def test_v2_not_found_display_and_status(v2: MokaTenantResolver, store: TenantStore) -> None:
    with pytest.raises(TenantLoadFailed) as info:
        v2.resolve(NOBODY, store.find)
    assert str(info.value) == "Failed to load tenant: Tenant not found"
    assert http_status(info.value) == 404
    assert not isinstance(info.value, TenantNotFoundError)


def test_v2_errors_are_not_cached(v2: MokaTenantResolver) -> None:
    def broken(key: TenantKey) -> TenantContext | None:
        raise TenantDatabaseError("down")

    with pytest.raises(TenantLoadFailed, match="^Failed to load tenant: Database error: down$"):
        v2.resolve(ACME, broken)
    assert isinstance(v2.lookup(ACME), LoadTicket)


def test_v2_waiters_share_the_loaders_failure(v2: MokaTenantResolver) -> None:
    ticket, wait = v2.lookup(ACME), v2.lookup(ACME)
    with pytest.raises(TenantLoadFailed):
        v2.complete(ticket, None)
    with pytest.raises(TenantLoadFailed, match="^Failed to load tenant: Tenant not found$"):
        v2.resume(wait)


def test_v2_uuid_key_does_not_serve_the_slug(v2: MokaTenantResolver, store: TenantStore, acme) -> None:
    v2.resolve(TenantKey.uuid(acme.id), store.find)
    assert isinstance(v2.lookup(ACME), LoadTicket)


def test_v2_has_no_negative_cache_or_publisher(v2: MokaTenantResolver, store: TenantStore) -> None:
    loads: list[TenantKey] = []

    def loader(key: TenantKey) -> TenantContext | None:
        loads.append(key)
        return None

    for _ in range(2):
        with pytest.raises(TenantLoadFailed):
            v2.resolve(NOBODY, loader)
    assert loads == [NOBODY, NOBODY]


def test_v2_configured_header_then_x_tenant_id_lenient_uuid() -> None:
    settings = TenantSettings(header_name="X-Org")
    got = resolve_identifier_v2({"X-Org": "not-a-uuid", "X-Tenant-ID": "urn:uuid:" + U.upper()}, settings)
    assert got == TenantKey.uuid(U)


def test_v2_uuid_header_is_not_trimmed() -> None:
    got = resolve_identifier_v2({"X-Tenant-ID": f" {U}", "X-Tenant-Slug": "acme"})
    assert got == TenantKey.slug("acme")


def test_v2_slug_is_raw_and_host_keeps_its_port() -> None:
    assert resolve_identifier_v2({"X-Tenant-Slug": " ACME "}) == TenantKey(IdentifierKind.SLUG, " ACME ")
    assert resolve_identifier_v2({"Host": "ACME.example.com:8080"}) == TenantKey(IdentifierKind.HOST,
                                                                                 "ACME.example.com:8080")


def test_v2_empty_slug_falls_through_to_host() -> None:
    assert resolve_identifier_v2({"X-Tenant-Slug": "", "Host": "h"}) == TenantKey(IdentifierKind.HOST, "h")


def test_v2_no_identifier_is_400(v2: MokaTenantResolver, store: TenantStore) -> None:
    status, error = v2.resolve_request({"X-Tenant-ID": "acme", "Host": ""}, store.find)
    assert status == 400 and isinstance(error, TenantIdentifierError)


def test_v2_ignores_enabled_and_resolution_settings(v2: MokaTenantResolver, store: TenantStore, acme) -> None:
    settings = TenantSettings(enabled=False, resolution="host")
    assert v2.resolve_request({"X-Tenant-Slug": "acme"}, store.find, settings) == (200, acme)


def test_v2_invalidate_by_host_removes_exactly_the_raw_key(v2: MokaTenantResolver, store: TenantStore,
                                                           acme) -> None:
    host = TenantKey.host("acme.example.com")
    v2.resolve(host, store.find)
    v2.invalidate_by_host("ACME.example.com")  # another key: V2 does not normalise
    assert isinstance(v2.lookup(host), Hit)
    v2.invalidate_by_host("acme.example.com")
    assert isinstance(v2.lookup(host), LoadTicket)


# ================================================================================================
# §7 Redis cache backend
# ================================================================================================


def fake(clock: ManualClock, faults: RedisFaults | None = None, **config: Any) -> RedisCacheBackend:
    return RedisCacheBackend(RedisCacheConfig(**config), clock=clock, faults=faults)


def test_redis_default_breaker_is_5_2_60_3(clock: ManualClock) -> None:
    cfg = fake(clock).breaker.config
    assert (cfg.failure_threshold, cfg.success_threshold, cfg.timeout, cfg.half_open_max_requests) == (5, 2, 60.0, 3)


def test_redis_circuit_breaker_accessor_exposes_the_breaker(clock: ManualClock) -> None:
    b = fake(clock)
    assert b.circuit_breaker() is b.breaker


def test_redis_empty_prefix_key_as_is_and_prefix_joined_by_colon(clock: ManualClock) -> None:
    assert fake(clock).full_key("tenant:v1:slug:a") == "tenant:v1:slug:a"
    assert fake(clock, prefix="p").full_key("k") == "p:k"


def test_redis_set_uses_the_backend_ttl_truncated(clock: ManualClock) -> None:
    b = fake(clock, prefix="p", ttl=60.999)
    b.set("k", b"v")
    assert b.client.ttl("p:k") == 60


def test_redis_set_with_ttl_uses_its_argument(clock: ManualClock) -> None:
    b = fake(clock, prefix="p", ttl=300)
    b.set_with_ttl("k", b"v", 7.5)
    assert b.client.ttl("p:k") == 7


def test_redis_sub_second_set_with_ttl_is_a_breaker_failure(clock: ManualClock) -> None:
    b = fake(clock, ttl=300)
    with pytest.raises(CacheError):
        b.set_with_ttl("k", b"v", 0.999)
    assert b.breaker.stats().failure_count == 1
    assert b.get("k") is None


def test_redis_nil_get_is_a_success_that_resets_the_failure_count(clock: ManualClock) -> None:
    b = fake(clock, ttl=0.2)
    with pytest.raises(CacheError):
        b.set("k", b"v")
    assert b.breaker.stats().failure_count == 1
    assert b.get("nope") is None
    assert b.breaker.stats().failure_count == 0


def test_redis_ping_reply_other_than_pong_is_an_error_with_the_raw_reply(clock: ManualClock) -> None:
    class Pang:
        def execute_command(self, *args: Any) -> bytes:
            return b"PANG"

    b = RedisCacheBackend(clock=clock, client=Pang())  # type: ignore[arg-type]
    with pytest.raises(CacheError) as info:
        b.health()
    assert str(info.value) == "Cache error: unexpected Redis PING response: PANG"
    assert b.breaker.stats().failure_count == 1


def test_redis_healthy_ping_is_ok(clock: ManualClock) -> None:
    assert fake(clock).health() is None


def test_redis_open_circuit_error_text_and_message(clock: ManualClock) -> None:
    faults = RedisFaults()
    b = fake(clock, faults, breaker=CircuitBreakerConfig(failure_threshold=1))
    faults.refuse()
    with pytest.raises(CacheError):
        b.invalidate("k")
    with pytest.raises(CacheError) as info:
        b.set_with_ttl("k", b"v", 10)
    assert str(info.value) == OPEN_TEXT and info.value.message == CIRCUIT_OPEN_MESSAGE


def test_redis_rust_test_circuit_opens_on_redis_failure(clock: ManualClock) -> None:
    """`test_circuit_breaker_opens_on_redis_failure` (cfg 2 / 2 / 100 ms / 1), offline."""
    faults = RedisFaults()
    b = fake(clock, faults, breaker=CircuitBreakerConfig(failure_threshold=2, success_threshold=2,
                                                         timeout=0.1, half_open_max_requests=1))
    faults.refuse()
    for key in ("key1", "key2"):
        with pytest.raises(CacheError) as info:
            b.get(key)
        assert str(info.value) != OPEN_TEXT
    assert b.breaker.stats().failure_count == 2
    with pytest.raises(CacheError) as info:
        b.get("key3")
    assert str(info.value) == OPEN_TEXT
    assert b.breaker.state is CircuitState.OPEN


def test_redis_stats_stay_zero_after_traffic(clock: ManualClock) -> None:
    b = fake(clock)
    b.set("a", b"1")
    b.get("a")
    b.get("missing")
    assert b.stats() == CacheStats(hits=0, misses=0, evictions=0, entries=0)


def test_redis_backend_has_no_fallback(clock: ManualClock) -> None:
    faults = RedisFaults()
    b = fake(clock, faults)
    b.set("k", b"v")
    faults.refuse()
    with pytest.raises(CacheError):
        b.get("k")


# ================================================================================================
# §7 in-memory backend
# ================================================================================================


def test_in_memory_basic_set_get_invalidate(clock: ManualClock) -> None:
    m = InMemoryCacheBackend(300, 1000, clock=clock)
    m.set("k", b"v")
    assert m.get("k") == b"v"
    m.invalidate("k")
    assert m.get("k") is None


def test_in_memory_health_is_ok(clock: ManualClock) -> None:
    assert InMemoryCacheBackend(300, 1000, clock=clock).health() is None


def test_in_memory_stats_report_only_entries(clock: ManualClock) -> None:
    m = InMemoryCacheBackend(300, 1, clock=clock)
    m.set("a", b"1")
    m.get("a")
    m.get("missing")
    m.set("b", b"2")  # evicts "a"
    assert m.stats() == CacheStats(hits=0, misses=0, evictions=0, entries=1)


def test_in_memory_stats_entries_after_two_sets(clock: ManualClock) -> None:
    m = InMemoryCacheBackend(300, 1000, clock=clock)
    m.set("a", b"1")
    m.set("b", b"2")
    assert m.stats().entries == 2


def test_in_memory_expiration_100_ms(clock: ManualClock) -> None:
    m = InMemoryCacheBackend(0.1, 1000, clock=clock)
    m.set("k", b"v")
    assert m.get("k") == b"v"
    clock.advance(0.15)
    assert m.get("k") is None


def test_in_memory_set_with_ttl_ignores_its_ttl(clock: ManualClock) -> None:
    m = InMemoryCacheBackend(60, 1000, clock=clock)
    m.set_with_ttl("long", b"v", 3600)
    m.set_with_ttl("short", b"v", 1)
    clock.set(30)
    assert m.get("short") == b"v"
    clock.set(60)
    assert m.get("long") is None


def test_in_memory_has_no_time_to_idle(clock: ManualClock) -> None:
    m = InMemoryCacheBackend(300, 1000, clock=clock)
    m.set("k", b"v")
    clock.set(299.0)
    assert m.get("k") == b"v"
