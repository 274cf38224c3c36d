"""Examples of tenant identifier validation (spec section 5).

First the 19 Rust unit tests and the doc-tests of `tenant_validation.rs`, one Python test each
(where Rust only asserts `is_err`, we assert the variant the spec derives). Then the places where
a naive Python port would differ from Rust: whitespace, case mapping, byte lengths, check order.
The generated-input properties live in `test_tenant_validation_properties.py`.
"""

from __future__ import annotations

import pickle
import uuid

import pytest

from rustok_sim.model.tenancy.validation import (
    NIL_UUID,
    RESERVED_SLUGS,
    SLUG_PATTERN,
    UUID_PATTERN,
    WHITE_SPACE,
    ClassifiedIdentifier,
    IdentifierKind,
    TenantIdentifierTypeError,
    TenantIdentifierValidator,
    TenantValidationError,
    TenantValidationErrorKind,
    classify_identifier,
)

V = TenantIdentifierValidator

# A fixed v4 UUID stands in for Rust's `Uuid::new_v4()`: tests stay deterministic.
V4 = uuid.UUID("9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5f")


def kind_of(validator, raw) -> str:
    """The Rust variant name `validator(raw)` fails with (fails the test if it succeeds)."""
    with pytest.raises(TenantValidationError) as info:
        validator(raw)
    return info.value.kind


# --- Rust unit tests (tenant_validation.rs `mod tests`, 19) -----------------------------------


def test_validate_slug_valid():
    assert V.validate_slug("my-tenant") == "my-tenant"
    assert V.validate_slug("tenant123") == "tenant123"
    assert V.validate_slug("a") == "a"


def test_validate_slug_normalization():
    assert V.validate_slug("  my-tenant  ") == "my-tenant"
    assert V.validate_slug("MyTenant123") == "mytenant123"


def test_validate_slug_empty():
    assert kind_of(V.validate_slug, "") == "Empty"
    assert kind_of(V.validate_slug, "   ") == "Empty"


def test_validate_slug_reserved():
    for slug in ("admin", "api", "www"):
        assert kind_of(V.validate_slug, slug) == "Reserved"


def test_validate_slug_invalid_characters():
    for raw in ("tenant@123", "tenant 123", "tenant_123", "tenant.123"):
        assert kind_of(V.validate_slug, raw) == "InvalidCharacters"


def test_validate_slug_too_long():
    assert kind_of(V.validate_slug, "a" * 65) == "TooLong"


def test_validate_uuid_valid():
    assert V.validate_uuid(str(V4)) == V4


def test_validate_uuid_invalid():
    for raw in ("invalid", "12345", "not-a-uuid"):
        assert kind_of(V.validate_uuid, raw) == "InvalidUuid"


def test_validate_uuid_normalization():
    assert V.validate_uuid(str(V4).upper()) == V4


def test_validate_host_valid():
    for host in ("example.com", "sub.example.com", "my-tenant.app.com"):
        assert V.validate_host(host) == host


def test_validate_host_normalization():
    assert V.validate_host("  Example.COM  ") == "example.com"


def test_validate_host_invalid():
    assert kind_of(V.validate_host, "") == "Empty"
    for raw in ("invalid host", "example..com", "-example.com", "example-.com"):
        assert kind_of(V.validate_host, raw) == "InvalidHostname"


def test_validate_host_too_long():
    host = "a" * 250 + ".com"
    assert len(host) == 254
    assert kind_of(V.validate_host, host) == "HostnameTooLong"


def test_validate_any_slug():
    assert V.validate_any("my-tenant") == "my-tenant"


def test_validate_any_uuid():
    assert V.validate_any(str(V4)) == str(V4)


def test_validate_any_hostname():
    assert V.validate_any("example.com") == "example.com"


@pytest.mark.parametrize("raw", ["'; DROP TABLE--", "1' OR '1'='1", "admin'--"])
def test_sql_injection_attempts(raw):
    # "admin'--" contains a reserved word but fails the pattern first: not Reserved.
    assert kind_of(V.validate_slug, raw) == "InvalidCharacters"


@pytest.mark.parametrize("raw", ["<script>alert(1)</script>", "javascript:alert(1)", "<img src=x>"])
def test_xss_attempts(raw):
    assert kind_of(V.validate_slug, raw) == "InvalidCharacters"


@pytest.mark.parametrize("raw", ["../../../etc/passwd", "..\\windows\\system32"])
def test_path_traversal_attempts(raw):
    assert kind_of(V.validate_slug, raw) == "InvalidCharacters"


# --- Rust doc-tests ---------------------------------------------------------------------------


def test_doctest_validate_slug():
    assert V.validate_slug("my-tenant") and V.validate_slug("tenant123")
    assert kind_of(V.validate_slug, "") == "Empty"
    assert kind_of(V.validate_slug, "admin") == "Reserved"
    assert kind_of(V.validate_slug, "tenant@123") == "InvalidCharacters"


def test_doctest_validate_uuid():
    assert V.validate_uuid(str(V4)) == V4
    assert kind_of(V.validate_uuid, "invalid") == "InvalidUuid"


def test_doctest_validate_host():
    assert V.validate_host("example.com") == "example.com"
    assert V.validate_host("sub.example.com") == "sub.example.com"
    assert kind_of(V.validate_host, "invalid host") == "InvalidHostname"


# --- The error type ---------------------------------------------------------------------------

DISPLAY = {
    "TooLong": "Identifier is too long (max 64 characters)",
    "InvalidCharacters": (
        "Identifier contains invalid characters (only lowercase alphanumeric and hyphens allowed)"
    ),
    "Reserved": "Identifier 'admin' is reserved and cannot be used",
    "InvalidUuid": "Invalid UUID format",
    "Empty": "Identifier cannot be empty",
    "HostnameTooLong": "Hostname is too long (max 253 characters)",
    "InvalidHostname": "Invalid hostname format",
}


@pytest.mark.parametrize(
    ("validator", "raw", "kind"),
    [
        (V.validate_slug, "a" * 65, "TooLong"),
        (V.validate_slug, "tenant@123", "InvalidCharacters"),
        (V.validate_slug, " ADMIN ", "Reserved"),
        (V.validate_uuid, "invalid", "InvalidUuid"),
        (V.validate_slug, "", "Empty"),
        (V.validate_host, "a" * 254, "HostnameTooLong"),
        (V.validate_host, "invalid host", "InvalidHostname"),
    ],
)
def test_each_variant_displays_the_rust_text(validator, raw, kind):
    with pytest.raises(TenantValidationError) as info:
        validator(raw)
    assert info.value.kind == kind
    assert str(info.value) == DISPLAY[kind]


def test_there_are_exactly_seven_variants():
    assert {k.value for k in TenantValidationErrorKind} == set(DISPLAY)


def test_reserved_error_carries_the_normalised_slug():
    with pytest.raises(TenantValidationError) as info:
        V.validate_slug("\tAdMiN\u3000")
    assert info.value.kind is TenantValidationErrorKind.RESERVED
    assert info.value.value == "admin"


def test_error_value_is_the_normalised_input_for_every_kind():
    with pytest.raises(TenantValidationError) as info:
        V.validate_host("  Bad Host  ")
    assert info.value.value == "bad host"


def test_error_is_a_value_error_and_survives_pickling():
    with pytest.raises(ValueError) as info:
        V.validate_slug("API")
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.kind, clone.value, str(clone)) == ("Reserved", "api", str(info.value))
    assert repr(clone) == "TenantValidationError(kind='Reserved', value='api')"


# --- Reserved slugs and the pattern -----------------------------------------------------------


def test_reserved_slugs_are_the_41_of_the_spec():
    assert len(RESERVED_SLUGS) == 41
    assert {"api", "swagger", "vpn", "signin", "localhost", "postgres", "public"} <= RESERVED_SLUGS


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_every_reserved_slug_is_refused_in_any_case(slug):
    assert kind_of(V.validate_slug, slug.upper()) == "Reserved"


def test_reserved_is_an_exact_match_and_never_applies_to_hosts():
    assert V.validate_slug("admin-1") == "admin-1"
    assert V.validate_slug("admins") == "admins"
    assert V.validate_host("admin") == "admin"
    assert V.validate_any("admin.com") == "admin.com"


def test_slug_pattern_is_a_whole_string_match_even_before_a_newline():
    assert SLUG_PATTERN.match("abc")
    assert SLUG_PATTERN.match("abc\n") is None  # Python's `$` would accept this
    assert SLUG_PATTERN.match("abc-def!") is None
    assert UUID_PATTERN.match(str(V4) + "\n") is None


def test_slug_hyphen_rules():
    assert V.validate_slug("a-") == "a-"
    assert V.validate_slug("a--b") == "a--b"
    assert V.validate_slug("0") == "0"
    assert kind_of(V.validate_slug, "-a") == "InvalidCharacters"


# --- Lengths are UTF-8 bytes of the normalised value -----------------------------------------


def test_slug_63_ok_64_invalid_characters_65_too_long():
    assert V.validate_slug("a" * 63) == "a" * 63
    assert kind_of(V.validate_slug, "a" * 64) == "InvalidCharacters"
    assert kind_of(V.validate_slug, "a" * 65) == "TooLong"


def test_slug_length_is_measured_after_trimming():
    assert V.validate_slug(" " * 10 + "a" * 63 + "\n" * 10) == "a" * 63


def test_dotted_capital_i_grows_when_lowercased_and_the_length_check_sees_the_growth():
    assert "\u0130".lower() == "i\u0307"  # 2 UTF-8 bytes in, 3 out
    assert kind_of(V.validate_slug, "\u0130" * 21) == "InvalidCharacters"  # 63 bytes
    assert kind_of(V.validate_slug, "\u0130" * 22) == "TooLong"  # 44 raw, 66 normalised
    assert kind_of(V.validate_host, "\u0130" * 84) == "InvalidHostname"  # 252 bytes
    assert kind_of(V.validate_host, "\u0130" * 85) == "HostnameTooLong"  # 170 raw, 255


def test_host_253_bytes_ok_254_too_long():
    host_253 = ".".join(["a" * 63] * 3 + ["a" * 61])
    assert len(host_253) == 253 and V.validate_host(host_253) == host_253
    assert kind_of(V.validate_host, host_253 + "a") == "HostnameTooLong"


def test_host_label_63_ok_64_invalid():
    assert V.validate_host("a" * 63 + ".com") == "a" * 63 + ".com"
    assert kind_of(V.validate_host, "a" * 64 + ".com") == "InvalidHostname"


# --- Case mapping: Rust `to_lowercase` --------------------------------------------------------


def test_kelvin_sign_lowercases_to_ascii_k_so_key_is_a_valid_slug():
    assert V.validate_slug("\u212aey") == "key"
    assert V.validate_any("\u212aey") == "key"
    assert V.validate_host("\u212aEY.example") == "key.example"


def test_kelvin_sign_shrinks_from_three_bytes_to_one_before_the_length_check():
    raw = "\u212a" * 63  # 189 UTF-8 bytes raw, 63 normalised
    assert V.validate_slug(raw) == "k" * 63
    host = ".".join(["\u212a" * 63] * 3 + ["\u212a" * 61])  # 739 bytes raw, 253 normalised
    assert V.validate_host(host) == ".".join(["k" * 63] * 3 + ["k" * 61])


def test_kelvin_sign_is_not_a_hex_digit_after_lowercasing():
    assert kind_of(V.validate_uuid, str(V4)[:-1] + "\u212a") == "InvalidUuid"


@pytest.mark.parametrize(
    "raw", ["\u1e9e", "\u03a3", "tenant\u03a3", "\ufb01", "\u2126", "\u212b", "\u0131", "stra\u00dfe"]
)
def test_other_case_mapping_edges_stay_non_ascii_and_are_rejected(raw):
    assert kind_of(V.validate_slug, raw) == "InvalidCharacters"


def test_unicode_16_capitals_are_lowercased_as_rust_does():
    # U+A7CB lowercases to U+0264 (3 -> 2 bytes) in Unicode 16+; Python 3.11's tables lack it.
    assert kind_of(V.validate_slug, "\ua7cb" * 32) == "InvalidCharacters"  # 64 bytes after
    assert kind_of(V.validate_slug, "\ua7cb" * 33) == "TooLong"  # 66 bytes after
    assert kind_of(V.validate_host, "\ua7dc" * 126) == "InvalidHostname"  # U+019B: 252 bytes
    assert kind_of(V.validate_host, "\ua7dc" * 127) == "HostnameTooLong"


# --- Whitespace: Rust `trim` is Unicode White_Space, not `str.strip()` ----------------------


def test_white_space_is_the_25_character_unicode_property():
    assert len(WHITE_SPACE) == 25
    assert {"\t", "\n", "\x0b", "\x0c", "\r", " ", "\x85", "\xa0", "\u3000"} <= WHITE_SPACE


@pytest.mark.parametrize("ws", sorted(WHITE_SPACE), ids=lambda c: f"U+{ord(c):04X}")
def test_every_white_space_character_is_trimmed(ws):
    assert V.validate_slug(ws + "tenant" + ws) == "tenant"
    assert V.validate_host(ws + "example.com" + ws) == "example.com"
    assert V.validate_uuid(ws + str(V4) + ws) == V4
    assert kind_of(V.validate_slug, ws * 3) == "Empty"


@pytest.mark.parametrize(
    "not_ws", ["\x1c", "\x1d", "\x1e", "\x1f", "\u180e", "\u200b", "\ufeff"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_python_only_and_lookalike_whitespace_is_kept(not_ws):
    # U+001C..U+001F are str.isspace() in Python but not White_Space; the others are neither.
    assert kind_of(V.validate_slug, not_ws + "tenant") == "InvalidCharacters"
    assert kind_of(V.validate_slug, "tenant" + not_ws) == "InvalidCharacters"
    assert kind_of(V.validate_host, "example.com" + not_ws) == "InvalidHostname"
    assert kind_of(V.validate_uuid, str(V4) + not_ws) == "InvalidUuid"


def test_inner_whitespace_is_not_trimmed():
    assert kind_of(V.validate_slug, "my tenant") == "InvalidCharacters"


# --- Check order decides the error of a multi-fault input ------------------------------------


def test_slug_check_order():
    assert kind_of(V.validate_slug, "@" * 65) == "TooLong"  # length before pattern
    assert kind_of(V.validate_slug, "-" + "a" * 70) == "TooLong"
    assert kind_of(V.validate_slug, "Admin!") == "InvalidCharacters"  # pattern before reserved


def test_host_check_order():
    assert kind_of(V.validate_host, " " * 5 + "\t") == "Empty"
    assert kind_of(V.validate_host, "a b" * 100) == "HostnameTooLong"  # length before chars
    assert kind_of(V.validate_host, "a_b.-c") == "InvalidHostname"


def test_uuid_has_no_empty_error():
    assert kind_of(V.validate_uuid, "") == "InvalidUuid"
    assert kind_of(V.validate_uuid, "   ") == "InvalidUuid"


# --- UUID forms ------------------------------------------------------------------------------


def test_nil_uuid_is_accepted_and_no_version_is_checked():
    assert V.validate_uuid("00000000-0000-0000-0000-000000000000") == NIL_UUID
    assert V.validate_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff") == uuid.UUID(int=2**128 - 1)


@pytest.mark.parametrize(
    "raw",
    [
        "{9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5f}",
        "9f1c2b7e4d3a4c5b8e6f0a1b2c3d4e5f",
        "urn:uuid:9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5f",
        "9f1c2b7e-4d3a-4c5b-8e6f0a1b-2c3d4e5f",
        "9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5",
        "9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5g",
    ],
)
def test_other_uuid_spellings_are_rejected(raw):
    assert kind_of(V.validate_uuid, raw) == "InvalidUuid"


# --- validate_any routing --------------------------------------------------------------------


def test_validate_any_returns_the_uuid_as_a_lowercase_hyphenated_string():
    assert V.validate_any(f"  {V4}\n") == str(V4)


def test_validate_any_sends_an_uppercase_uuid_to_the_slug_path_with_the_same_result():
    assert V.validate_any(str(V4).upper()) == str(V4)
    assert V.validate_slug(str(V4).upper()) == str(V4)


def test_validate_any_routes_dotted_input_to_host():
    assert V.validate_any(" Example.COM ") == "example.com"
    assert kind_of(V.validate_any, "example..com") == "InvalidHostname"


def test_validate_any_routes_everything_else_to_slug():
    assert kind_of(V.validate_any, "") == "Empty"
    assert kind_of(V.validate_any, "ADMIN") == "Reserved"
    assert kind_of(V.validate_any, "a" * 65) == "TooLong"


# --- Non-text input --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, b"tenant", bytearray(b"tenant"), 123, ["tenant"]])
@pytest.mark.parametrize(
    "fn",
    [V.validate_slug, V.validate_uuid, V.validate_host, V.validate_any, classify_identifier],
    ids=["slug", "uuid", "host", "any", "classify"],
)
def test_non_str_input_raises_a_typed_type_error(fn, raw):
    with pytest.raises(TenantIdentifierTypeError, match="must be str") as info:
        fn(raw)
    assert isinstance(info.value, TypeError)
    assert not isinstance(info.value, TenantValidationError)


def test_lone_surrogate_is_not_a_rust_str():
    with pytest.raises(TenantIdentifierTypeError, match="U\\+DC80 at index 3"):
        V.validate_slug("abc\udc80")


def test_str_subclass_is_accepted_as_plain_text():
    class Shouty(str):
        def lower(self):  # must not be used
            return "admin"

    assert V.validate_slug(Shouty("Tenant")) == "tenant"


# --- classify_identifier: V1 header classification -------------------------------------------


def test_classify_uuid_first():
    got = classify_identifier(str(V4).upper())
    assert got == ClassifiedIdentifier(IdentifierKind.UUID, str(V4), V4)


def test_classify_nil_uuid_is_a_uuid_not_a_slug():
    assert classify_identifier(str(NIL_UUID)).kind is IdentifierKind.UUID


def test_classify_slug_second_with_nil_uuid():
    assert classify_identifier(" My-Tenant ") == ClassifiedIdentifier(
        IdentifierKind.SLUG, "my-tenant", NIL_UUID
    )


def test_classify_simple_hex_uuid_is_a_slug():
    assert classify_identifier(V4.hex).kind is IdentifierKind.SLUG


@pytest.mark.parametrize(("raw", "kind"), [("admin", "Reserved"), ("a.b", "InvalidCharacters"),
                                           ("", "Empty"), ("a" * 65, "TooLong")])
def test_classify_raises_the_slug_error(raw, kind):
    assert kind_of(classify_identifier, raw) == kind


def test_identifier_kind_values_are_the_cache_key_segments():
    assert [k.value for k in IdentifierKind] == ["uuid", "slug", "host"]
    assert f"tenant:v1:{IdentifierKind.SLUG}:acme" == "tenant:v1:slug:acme"


# --- Conformance vectors from rustc ----------------------------------------------------------
# Produced by rustc 1.95.0 (Unicode 17.0) running a transcription of tenant_validation.rs: the
# real std `trim`/`to_lowercase`/`len`; the regex crate was unavailable offline, so its two
# anchored patterns were written as equivalent byte checks. Columns: slug, uuid, host, any.


def ok(value):
    return ("ok", value)


def err(kind):
    return ("err", kind)


SAME_LOWER = object()  # the expected value is `raw.strip().lower()` (ASCII-safe rows only)

RUST_VECTORS = [
    ("\u212aey", ok("key"), err("InvalidUuid"), ok("key"), ok("key")),
    ("\u212aEY.example", err("InvalidCharacters"), err("InvalidUuid"), ok("key.example"), ok("key.example")),
    ("  \u212a\u212a\u212a  ", ok("kkk"), err("InvalidUuid"), ok("kkk"), ok("kkk")),
    ("\u0130", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u0130" * 21, err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u0130" * 22, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("\u0130" * 84, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("\u0130" * 85, err("TooLong"), err("InvalidUuid"), err("HostnameTooLong"), err("TooLong")),
    ("\u1e9e", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u03a3", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("A\u03a3", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\ufb01", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u2126", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u212b", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\ua7cb" * 32, err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\ua7cb" * 33, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("\ua7dc" * 126, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("\ua7dc" * 127, err("TooLong"), err("InvalidUuid"), err("HostnameTooLong"), err("TooLong")),
    ("\x1ftenant", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("tenant\x1c", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u180etenant", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u200btenant", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\ufefftenant", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("\u0085tenant\u3000", ok("tenant"), err("InvalidUuid"), ok("tenant"), ok("tenant")),
    ("\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f tenant\t\n\x0b\x0c\r", ok("tenant"), err("InvalidUuid"), ok("tenant"), ok("tenant")),
    ("a" * 63, ok(SAME_LOWER), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("a" * 64, err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("a" * 65, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("A" * 63 + "\n", ok(SAME_LOWER), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("-" + "a" * 70, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("@" * 65, err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("TooLong")),
    ("a-", ok("a-"), err("InvalidUuid"), err("InvalidHostname"), ok("a-")),
    ("a--b", ok("a--b"), err("InvalidUuid"), ok("a--b"), ok("a--b")),
    ("-a", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("ADMIN", err("Reserved"), err("InvalidUuid"), ok("admin"), err("Reserved")),
    (" Admin\n", err("Reserved"), err("InvalidUuid"), ok("admin"), err("Reserved")),
    ("admin-1", ok("admin-1"), err("InvalidUuid"), ok("admin-1"), ok("admin-1")),
    ("admin.com", err("InvalidCharacters"), err("InvalidUuid"), ok("admin.com"), ok("admin.com")),
    ("api.example.com", err("InvalidCharacters"), err("InvalidUuid"), ok("api.example.com"), ok("api.example.com")),
    ("550E8400-E29B-41D4-A716-446655440000", ok(SAME_LOWER), ok(SAME_LOWER), ok(SAME_LOWER), ok(SAME_LOWER)),
    (" 550e8400-e29b-41d4-a716-446655440000\t", ok(SAME_LOWER), ok(SAME_LOWER), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("00000000-0000-0000-0000-000000000000", ok(SAME_LOWER), ok(SAME_LOWER), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("{550e8400-e29b-41d4-a716-446655440000}", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("550e8400e29b41d4a716446655440000", ok(SAME_LOWER), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("urn:uuid:550e8400-e29b-41d4-a716-446655440000", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("550e8400-e29b-41d4-a716-44665544000\u212a", ok(SAME_LOWER), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("", err("Empty"), err("InvalidUuid"), err("Empty"), err("Empty")),
    ("   ", err("Empty"), err("InvalidUuid"), err("Empty"), err("Empty")),
    ("\x1f", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidCharacters")),
    ("example.com.", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidHostname")),
    (".example.com", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidHostname")),
    ("a..b", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidHostname")),
    ("1.2.3.4", err("InvalidCharacters"), err("InvalidUuid"), ok("1.2.3.4"), ok("1.2.3.4")),
    ("example.com:8080", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidHostname")),
    ("ex_ample.com", err("InvalidCharacters"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidHostname")),
    ("a" * 63 + ".com", err("TooLong"), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("a" * 64 + ".com", err("TooLong"), err("InvalidUuid"), err("InvalidHostname"), err("InvalidHostname")),
    (".".join(["a" * 63] * 3 + ["a" * 61]), err("TooLong"), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    (".".join(["a" * 63] * 3 + ["a" * 62]), err("TooLong"), err("InvalidUuid"), err("HostnameTooLong"), err("HostnameTooLong")),
    (".".join(["\u212a" * 63] * 3 + ["\u212a" * 61]), err("TooLong"), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
    ("a" * 250 + ".com", err("TooLong"), err("InvalidUuid"), err("HostnameTooLong"), err("HostnameTooLong")),
    ("xn--bcher-kva.example", err("InvalidCharacters"), err("InvalidUuid"), ok(SAME_LOWER), ok(SAME_LOWER)),
]


def outcome(validator, raw):
    try:
        return ok(str(validator(raw)))
    except TenantValidationError as exc:
        return err(exc.kind.value)


@pytest.mark.parametrize(
    ("raw", "slug", "uuid_", "host", "any_"), RUST_VECTORS,
    ids=[ascii(row[0])[1:31] for row in RUST_VECTORS],
)
def test_agrees_with_rustc_on_conformance_vectors(raw, slug, uuid_, host, any_):
    def resolve(expected):
        return ok(raw.strip().lower()) if expected[1] is SAME_LOWER else expected

    got = [outcome(fn, raw) for fn in (V.validate_slug, V.validate_uuid, V.validate_host, V.validate_any)]
    assert got == [resolve(e) for e in (slug, uuid_, host, any_)]


# -- bounded errors for huge input ------------------------------------------------------------------


def test_a_huge_identifier_keeps_a_bounded_excerpt_and_its_length() -> None:
    from rustok_sim.model.tenancy.validation import MAX_EXCERPT_CHARS

    with pytest.raises(TenantValidationError) as info:
        V.validate_slug("a" * 1_000_000)
    error = info.value
    assert error.kind == "TooLong" and str(error) == "Identifier is too long (max 64 characters)"
    assert error.value == "a" * MAX_EXCERPT_CHARS and error.length == 1_000_000 and error.truncated
    assert len(repr(error)) < 400 and "1000000 bytes" in repr(error)
    again = pickle.loads(pickle.dumps(error))
    assert (again.value, again.length, again.truncated) == (error.value, 1_000_000, True)


def test_a_normal_size_identifier_keeps_its_whole_value() -> None:
    with pytest.raises(TenantValidationError) as info:
        V.validate_slug("a" * 65)
    assert info.value.value == "a" * 65 and info.value.length == 65 and not info.value.truncated
    with pytest.raises(TenantValidationError) as host:
        V.validate_host("x" * 254)
    assert host.value.value == "x" * 254 and not host.value.truncated
