"""The 7 validator helpers and EventValidationError (spec §4.1-4.3).

The first block ports the 8 Rust unit tests of `validation.rs` case for case; then the property
tests of `validation_proptest.rs`; then the Rust string semantics (trim, byte length,
alphanumeric) that Python does differently by default.
"""

from __future__ import annotations

import pickle
import sys
import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.model.core.rust import WHITE_SPACE as RUST_WHITESPACE
from rustok_sim.model.core.rust import is_rust_alphanumeric, rust_trim, utf8_len
from rustok_sim.model.events import (
    EventValidationError,
    ValidationErrorKind,
    validate_alphanumeric_with_dash,
    validate_currency_code,
    validate_max_length,
    validate_not_empty,
    validate_not_nil_uuid,
    validate_optional_uuid,
    validate_range,
)
from rustok_sim.model.events.validation import I64_MAX

NIL = uuid.UUID(int=0)

# The Unicode White_Space property (PropList.txt), written out independently of the module.
WHITE_SPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
               0x2028, 0x2029, 0x202F, 0x205F, 0x3000}


# --------------------------------------------------------------------------------------------
# The 8 Rust tests of validation.rs
# --------------------------------------------------------------------------------------------


def test_validate_not_empty() -> None:
    validate_not_empty("f", "value")
    with pytest.raises(EventValidationError) as empty:
        validate_not_empty("f", "")
    with pytest.raises(EventValidationError) as blank:
        validate_not_empty("f", "   ")
    assert empty.value == blank.value == EventValidationError.empty_field("f")


def test_validate_max_length() -> None:
    validate_max_length("f", "short", 10)
    validate_max_length("f", "exactly10!", 10)
    with pytest.raises(EventValidationError) as info:
        validate_max_length("f", "this is too long", 10)
    assert info.value.kind == "FieldTooLong" and info.value.max == 10 and info.value.field == "f"


def test_validate_not_nil_uuid() -> None:
    validate_not_nil_uuid("id", uuid.uuid4())
    with pytest.raises(EventValidationError) as info:
        validate_not_nil_uuid("id", NIL)
    assert info.value.kind == "NilUuid" and info.value.field == "id"


def test_validate_optional_uuid() -> None:
    validate_optional_uuid("id", uuid.uuid4())
    validate_optional_uuid("id", None)
    with pytest.raises(EventValidationError, match="UUID field 'id' cannot be nil"):
        validate_optional_uuid("id", NIL)


def test_validate_range() -> None:
    for value in (50, 0, 100):
        validate_range("n", value, 0, 100)
    for value in (-1, 101):
        with pytest.raises(EventValidationError) as info:
            validate_range("n", value, 0, 100)
        assert (info.value.kind, info.value.value, info.value.min, info.value.max) == ("OutOfRange", value, 0, 100)


def test_validate_currency_code() -> None:
    validate_currency_code("currency", "USD")
    validate_currency_code("currency", "EUR")
    for code in ("US", "USDD", "usd", "US1"):
        with pytest.raises(EventValidationError) as info:
            validate_currency_code("currency", code)
        assert info.value.kind == "InvalidValue" and info.value.field == "currency"


def test_validate_alphanumeric_with_dash() -> None:
    for value in ("valid-slug", "valid_slug", "valid123"):
        validate_alphanumeric_with_dash("slug", value)
    for value in ("invalid@slug", "invalid slug"):
        with pytest.raises(EventValidationError) as info:
            validate_alphanumeric_with_dash("slug", value)
        assert info.value == EventValidationError.invalid_characters("slug")


def test_error_display() -> None:
    assert str(EventValidationError.empty_field("test_field")) == "Field 'test_field' cannot be empty"
    assert (str(EventValidationError.field_too_long("test_field", 100))
            == "Field 'test_field' exceeds maximum length of 100 characters")
    assert str(EventValidationError.nil_uuid("test_id")) == "UUID field 'test_id' cannot be nil"


# --------------------------------------------------------------------------------------------
# The error type beyond the Rust tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "text"), [
    (EventValidationError.empty_field("kind"), "Field 'kind' cannot be empty"),
    (EventValidationError.field_too_long("kind", 64), "Field 'kind' exceeds maximum length of 64 characters"),
    (EventValidationError.nil_uuid("node_id"), "UUID field 'node_id' cannot be nil"),
    (EventValidationError.invalid_value("email", "invalid email format"),
     "Invalid value for field 'email': invalid email format"),
    (EventValidationError.missing_field("x"), "Missing required field 'x'"),
    (EventValidationError.out_of_range("total", -100, 0, I64_MAX),
     "Field 'total' value -100 is out of valid range (0..9223372036854775807)"),
    (EventValidationError.invalid_characters("kind"), "Field 'kind' contains invalid characters"),
])
def test_every_kind_displays_the_rust_text(error: EventValidationError, text: str) -> None:
    assert str(error) == text


def test_there_are_exactly_seven_kinds() -> None:
    assert {k.value for k in ValidationErrorKind} == {
        "EmptyField", "FieldTooLong", "NilUuid", "InvalidValue", "MissingField", "OutOfRange",
        "InvalidCharacters"}


def test_kind_compares_equal_to_its_name() -> None:
    assert EventValidationError.nil_uuid("x").kind == "NilUuid"
    assert EventValidationError("EmptyField", "x").kind is ValidationErrorKind.EMPTY_FIELD


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        EventValidationError("Bogus", "x")


def test_errors_survive_pickling_with_their_payload() -> None:
    error = EventValidationError.out_of_range("total", -1, 0, I64_MAX)
    copy = pickle.loads(pickle.dumps(error))
    assert copy == error and str(copy) == str(error) and copy.value == -1


def test_errors_compare_by_value() -> None:
    assert EventValidationError.field_too_long("a", 1) != EventValidationError.field_too_long("a", 2)
    assert len({EventValidationError.nil_uuid("a"), EventValidationError.nil_uuid("a")}) == 1


# --------------------------------------------------------------------------------------------
# validation_proptest.rs
# --------------------------------------------------------------------------------------------


@given(st.from_regex(r"[a-zA-Z0-9]{1,64}", fullmatch=True))
def test_prop_not_empty_accepts_alphanumeric(value: str) -> None:
    validate_not_empty("field", value)


@given(st.from_regex(r"[ \t\n\r]{1,10}", fullmatch=True))
def test_prop_not_empty_rejects_ascii_whitespace(value: str) -> None:
    with pytest.raises(EventValidationError) as info:
        validate_not_empty("field", value)
    assert info.value.kind == "EmptyField"


# --------------------------------------------------------------------------------------------
# Rust string semantics
# --------------------------------------------------------------------------------------------


def test_rust_whitespace_is_exactly_unicode_white_space() -> None:
    assert {ord(c) for c in RUST_WHITESPACE} == WHITE_SPACE


def test_trim_strips_exactly_white_space_over_all_code_points() -> None:
    trimmed_away = {cp for cp in range(sys.maxunicode + 1)
                    if not 0xD800 <= cp <= 0xDFFF and rust_trim(chr(cp)) == ""}
    assert trimmed_away == WHITE_SPACE


@pytest.mark.parametrize("char", ["\x1c", "\x1d", "\x1e", "\x1f"])
def test_python_space_that_rust_keeps(char: str) -> None:
    # str.strip() would remove these information separators; Rust's trim does not.
    assert char.strip() == "" and rust_trim(char) == char
    validate_not_empty("f", char)


@pytest.mark.parametrize("char", ["\u180e", "\u200b", "\ufeff", "\u2060"])
def test_format_characters_are_not_white_space(char: str) -> None:
    # U+180E was White_Space before Unicode 6.3; Rust follows the current property.
    assert rust_trim(char) == char
    validate_not_empty("f", char)


@given(st.text(alphabet=sorted(RUST_WHITESPACE), min_size=1))
def test_prop_unicode_white_space_only_is_empty(value: str) -> None:
    with pytest.raises(EventValidationError) as info:
        validate_not_empty("field", value)
    assert info.value == EventValidationError.empty_field("field")


@given(st.text(alphabet=sorted(RUST_WHITESPACE)), st.text(min_size=1).filter(lambda s: s.strip() == s),
       st.text(alphabet=sorted(RUST_WHITESPACE)))
def test_prop_trim_only_touches_the_ends(left: str, core: str, right: str) -> None:
    if not any(ord(c) in WHITE_SPACE for c in (core[0], core[-1])):
        assert rust_trim(left + core + right) == core


@pytest.mark.parametrize(("text", "size"), [("", 0), ("a", 1), ("é", 2), ("€", 3), ("😀", 4), ("aé€😀", 10)])
def test_length_is_utf8_bytes(text: str, size: int) -> None:
    assert utf8_len(text) == size


@given(st.text())
def test_prop_utf8_len_matches_encoding(text: str) -> None:
    assert utf8_len(text) == len(text.encode("utf-8", "surrogatepass"))


def test_max_length_counts_bytes_not_characters() -> None:
    validate_max_length("f", "é" * 5, 10)  # 5 characters, 10 bytes
    with pytest.raises(EventValidationError):
        validate_max_length("f", "é" * 6, 10)  # 6 characters, 12 bytes: Rust says too long


@pytest.mark.parametrize(("char", "alphanumeric"), [
    ("a", True), ("Z", True), ("7", True),
    ("é", True),        # Ll
    ("Ж", True),        # Cyrillic
    ("漢", True),       # Lo
    ("ʰ", True),        # Lm modifier letter
    ("٣", True),        # Arabic-Indic digit three, Nd
    ("²", True),        # superscript two, No: Rust is_numeric covers No
    ("½", True),        # No
    ("Ⅻ", True),        # Roman numeral, Nl
    ("\u0345", True),   # COMBINING GREEK YPOGEGRAMMENI: Mn but Other_Alphabetic
    ("\u093e", True),   # DEVANAGARI VOWEL SIGN AA: Mc, Other_Alphabetic
    ("\u05b0", True),   # HEBREW POINT SHEVA: Mn, Other_Alphabetic
    ("\u24b6", True),   # CIRCLED LATIN CAPITAL LETTER A: So but Other_Alphabetic
    ("\u0301", False),  # COMBINING ACUTE ACCENT: Mn, not Alphabetic
    ("_", False), ("-", False), (" ", False), ("@", False), (".", False),
    ("\u00a0", False), ("😀", False), ("€", False),
])
def test_rust_alphanumeric(char: str, alphanumeric: bool) -> None:
    assert is_rust_alphanumeric(char) is alphanumeric


def test_non_ascii_letters_and_digits_pass_the_slug_check() -> None:
    validate_alphanumeric_with_dash("kind", "статья-2")
    validate_alphanumeric_with_dash("kind", "café_٣²")
    validate_alphanumeric_with_dash("kind", "")  # empty passes this check (NE is separate)
    validate_alphanumeric_with_dash("kind", "-_-")


def test_decomposed_accent_fails_where_composed_passes() -> None:
    composed = "caf\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    validate_alphanumeric_with_dash("kind", composed)
    with pytest.raises(EventValidationError):
        validate_alphanumeric_with_dash("kind", decomposed)


@given(st.text(alphabet=st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No"))
               | st.sampled_from("-_")))
def test_prop_letters_digits_dash_underscore_pass(value: str) -> None:
    validate_alphanumeric_with_dash("kind", value)


@given(st.text(), st.characters(categories=("P", "S", "Z", "Cc", "Cf", "Co", "Cn"), exclude_characters="-_")
       .filter(lambda c: not is_rust_alphanumeric(c)), st.text())
def test_prop_one_foreign_character_fails(left: str, bad: str, right: str) -> None:
    value = left + bad + right
    with pytest.raises(EventValidationError) as info:
        validate_alphanumeric_with_dash("kind", value)
    assert info.value.kind == "InvalidCharacters"


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_prop_ascii_fast_path_matches_the_general_rule(value: str) -> None:
    expected = all(c in "-_" or is_rust_alphanumeric(c) for c in value)
    try:
        validate_alphanumeric_with_dash("kind", value)
        passed = True
    except EventValidationError:
        passed = False
    assert passed is expected
    assert expected is all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


@pytest.mark.parametrize(("code", "reason"), [
    ("US", "currency code must be exactly 3 characters"),
    ("USDD", "currency code must be exactly 3 characters"),
    ("", "currency code must be exactly 3 characters"),
    ("ÉU", "currency code must be uppercase letters"),   # 3 bytes, 2 characters
    ("ÉUR", "currency code must be exactly 3 characters"),  # 3 characters, 4 bytes
    ("usd", "currency code must be uppercase letters"),
    ("US1", "currency code must be uppercase letters"),
    ("U D", "currency code must be uppercase letters"),
])
def test_currency_code_reasons(code: str, reason: str) -> None:
    with pytest.raises(EventValidationError) as info:
        validate_currency_code("currency", code)
    assert info.value == EventValidationError.invalid_value("currency", reason)


@given(st.from_regex(r"[A-Z]{3}", fullmatch=True))
def test_prop_any_three_uppercase_letters_is_a_currency(code: str) -> None:
    validate_currency_code("currency", code)


@given(st.integers(), st.integers(), st.integers())
def test_prop_range_is_inclusive(value: int, low: int, high: int) -> None:
    inside = low <= value <= high
    try:
        validate_range("n", value, low, high)
        assert inside
    except EventValidationError as error:
        assert not inside and (error.value, error.min, error.max) == (value, low, high)
