"""Event validation: the error type and the 7 validator helpers of RusToK's `events/validation.rs`.

Spec §4.1-4.2. Each helper checks one rule and raises `EventValidationError` (the Rust code returns
`Err`); `DomainEvent.validate()` in `model.events.domain` chains them in the spec's order and so
reports the *first* rule that fails.

Three places where Python and Rust disagree by default, reproduced here on purpose:

- *trim*: Rust's `str::trim` strips exactly the Unicode ``White_Space`` characters
  (`char::is_whitespace`). Python's `str.strip()` also strips U+001C..U+001F (file/group/record/
  unit separators), which are not White_Space. `rust_trim` strips the Rust set only.
- *length*: limits are in UTF-8 **bytes** (Rust `str::len`), although the error text says
  "characters". `utf8_len` counts bytes.
- *alphanumeric*: Rust's `char::is_alphanumeric` is Unicode ``Alphabetic`` or ``Numeric``; Python's
  `str.isalnum()` is a different rule (it misses combining marks such as U+0345 that are
  Alphabetic, for instance). `is_rust_alphanumeric` documents the rule used.
"""

from __future__ import annotations

import bisect
import unicodedata
import uuid
from enum import StrEnum
from typing import Any

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
U64_MAX = 2**64 - 1


class ValidationErrorKind(StrEnum):
    """The 7 variants of Rust's `EventValidationError`. A `StrEnum`, so `kind == "EmptyField"` holds."""

    EMPTY_FIELD = "EmptyField"
    FIELD_TOO_LONG = "FieldTooLong"
    NIL_UUID = "NilUuid"
    INVALID_VALUE = "InvalidValue"
    MISSING_FIELD = "MissingField"  # exists in Rust, but no rule ever produces it
    OUT_OF_RANGE = "OutOfRange"
    INVALID_CHARACTERS = "InvalidCharacters"


class EventValidationError(Exception):
    """A domain event broke one of its business rules (Rust `EventValidationError`).

    `kind` says which rule; `field` names the offending field; `max` (FieldTooLong, OutOfRange),
    `min` and `value` (OutOfRange) and `reason` (InvalidValue) carry the payload of the Rust
    variant and are None otherwise. `str(error)` is Rust's Display text, byte for byte.

    This is the *business-rule* error. A payload that is not even well-formed (a missing field, a
    wrong type, an i32 out of range) never becomes an event: see `EventFormatError`.
    """

    def __init__(self, kind: ValidationErrorKind | str, field: str, *, max: int | None = None,
                 min: int | None = None, value: int | None = None, reason: str | None = None) -> None:
        self.kind = ValidationErrorKind(kind)
        self.field = field
        self.max, self.min, self.value, self.reason = max, min, value, reason
        super().__init__(self._display())

    # -- constructors named like the Rust variants ---------------------------------------

    @classmethod
    def empty_field(cls, field: str) -> EventValidationError:
        return cls(ValidationErrorKind.EMPTY_FIELD, field)

    @classmethod
    def field_too_long(cls, field: str, max: int) -> EventValidationError:
        return cls(ValidationErrorKind.FIELD_TOO_LONG, field, max=max)

    @classmethod
    def nil_uuid(cls, field: str) -> EventValidationError:
        return cls(ValidationErrorKind.NIL_UUID, field)

    @classmethod
    def invalid_value(cls, field: str, reason: str) -> EventValidationError:
        return cls(ValidationErrorKind.INVALID_VALUE, field, reason=reason)

    @classmethod
    def missing_field(cls, field: str) -> EventValidationError:
        return cls(ValidationErrorKind.MISSING_FIELD, field)

    @classmethod
    def out_of_range(cls, field: str, value: int, min: int, max: int) -> EventValidationError:
        return cls(ValidationErrorKind.OUT_OF_RANGE, field, value=value, min=min, max=max)

    @classmethod
    def invalid_characters(cls, field: str) -> EventValidationError:
        return cls(ValidationErrorKind.INVALID_CHARACTERS, field)

    # -- Display, equality, pickling -----------------------------------------------------

    def _display(self) -> str:
        f, kind = self.field, self.kind
        if kind is ValidationErrorKind.EMPTY_FIELD:
            return f"Field '{f}' cannot be empty"
        if kind is ValidationErrorKind.FIELD_TOO_LONG:
            return f"Field '{f}' exceeds maximum length of {self.max} characters"
        if kind is ValidationErrorKind.NIL_UUID:
            return f"UUID field '{f}' cannot be nil"
        if kind is ValidationErrorKind.INVALID_VALUE:
            return f"Invalid value for field '{f}': {self.reason}"
        if kind is ValidationErrorKind.MISSING_FIELD:
            return f"Missing required field '{f}'"
        if kind is ValidationErrorKind.OUT_OF_RANGE:
            return f"Field '{f}' value {self.value} is out of valid range ({self.min}..{self.max})"
        return f"Field '{f}' contains invalid characters"

    def _key(self) -> tuple[Any, ...]:
        return (self.kind, self.field, self.max, self.min, self.value, self.reason)

    def __eq__(self, other: object) -> bool:
        # Value equality like Rust's derived PartialEq, so tests can compare whole errors.
        if not isinstance(other, EventValidationError):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only payload: the default Exception pickling (cls(*args)) would lose it, and
        # errors do cross process boundaries in sweeps.
        return (_rebuild_error, self._key())

    def __repr__(self) -> str:
        payload = {k: v for k, v in (("max", self.max), ("min", self.min), ("value", self.value),
                                     ("reason", self.reason)) if v is not None}
        extra = "".join(f", {k}={v!r}" for k, v in payload.items())
        return f"EventValidationError({self.kind.value}, field={self.field!r}{extra})"


def _rebuild_error(kind: str, field: str, max: int | None, min: int | None, value: int | None,
                   reason: str | None) -> EventValidationError:
    return EventValidationError(kind, field, max=max, min=min, value=value, reason=reason)


# --------------------------------------------------------------------------------------------
# Rust string semantics
# --------------------------------------------------------------------------------------------

RUST_WHITESPACE = frozenset(
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""The 25 characters with the Unicode ``White_Space`` property: exactly Rust's `char::is_whitespace`.

Not included (although Python's `str.isspace()` says True for the first four): U+001C..U+001F.
Also not included: U+180E MONGOLIAN VOWEL SEPARATOR (White_Space until Unicode 6.3), U+200B ZERO
WIDTH SPACE and U+FEFF BOM, which are format characters.
"""
_RUST_WHITESPACE_STR = "".join(sorted(RUST_WHITESPACE))


def rust_trim(value: str) -> str:
    """`value` with leading and trailing White_Space removed, like Rust's `str::trim`."""
    return value.strip(_RUST_WHITESPACE_STR)


def utf8_len(value: str) -> int:
    """Length in UTF-8 bytes, like Rust's `str::len`."""
    if value.isascii():  # the common case, without building the encoded copy
        return len(value)
    return len(value.encode("utf-8"))


def is_rust_alphanumeric(char: str) -> bool:
    """Rust's `char::is_alphanumeric` for one character: Unicode ``Alphabetic`` or ``Numeric``.

    Alphabetic = general categories Lu, Ll, Lt, Lm, Lo, Nl plus the ``Other_Alphabetic`` property
    (mostly combining vowel signs, e.g. U+0345, U+093E DEVANAGARI VOWEL SIGN AA, U+05B0 HEBREW
    POINT SHEVA); Numeric (Rust `is_numeric`) = categories Nd, Nl, No (so '²' and '½' pass).
    Categories come from Python's `unicodedata` (Unicode 14.0 in Python 3.11), Other_Alphabetic
    from the table below, so the result differs from a newer Rust only for characters assigned
    after Unicode 14.0. A combining mark that is not Other_Alphabetic (U+0301 COMBINING ACUTE
    ACCENT) is *not* alphanumeric, so a decomposed 'é' (e + U+0301) fails where the composed one
    passes. '_' and '-' are not alphanumeric.
    """
    if char.isascii():
        return char.isalnum()
    category = unicodedata.category(char)
    if category[0] == "L" or category in ("Nd", "Nl", "No"):
        return True
    code = ord(char)
    index = bisect.bisect_right(_OTHER_ALPHABETIC_STARTS, code) - 1
    return index >= 0 and code <= _OTHER_ALPHABETIC_ENDS[index]


# --------------------------------------------------------------------------------------------
# The 7 helpers (validators module of validation.rs). Argument order as in Rust: field first.
# --------------------------------------------------------------------------------------------


def validate_not_empty(field: str, value: str) -> None:
    """EmptyField if `value` is empty after trimming Unicode White_Space ("   " fails)."""
    if not rust_trim(value):
        raise EventValidationError.empty_field(field)


def validate_max_length(field: str, value: str, max_len: int) -> None:
    """FieldTooLong(field, max_len) if `value` has more than `max_len` UTF-8 bytes (equal is OK)."""
    if utf8_len(value) > max_len:
        raise EventValidationError.field_too_long(field, max_len)


def validate_not_nil_uuid(field: str, value: uuid.UUID) -> None:
    """NilUuid if `value` is the all-zero UUID."""
    if value.int == 0:
        raise EventValidationError.nil_uuid(field)


def validate_optional_uuid(field: str, value: uuid.UUID | None) -> None:
    """None is fine; a present UUID must not be nil (NilUuid)."""
    if value is not None and value.int == 0:
        raise EventValidationError.nil_uuid(field)


def validate_range(field: str, value: int, min_value: int, max_value: int) -> None:
    """OutOfRange unless min_value <= value <= max_value (inclusive at both ends)."""
    if value < min_value or value > max_value:
        raise EventValidationError.out_of_range(field, value, min_value, max_value)


def validate_alphanumeric_with_dash(field: str, value: str) -> None:
    """InvalidCharacters unless every character is Rust-alphanumeric, '-' or '_'.

    Non-ASCII letters and digits pass (see `is_rust_alphanumeric`); the empty string passes.
    """
    if value.isascii():
        # Fast path: for ASCII, Rust's rule is exactly [A-Za-z0-9_-]*.
        without_dashes = value.replace("-", "").replace("_", "")
        if without_dashes and not without_dashes.isalnum():
            raise EventValidationError.invalid_characters(field)
        return
    for char in value:
        if char != "-" and char != "_" and not is_rust_alphanumeric(char):
            raise EventValidationError.invalid_characters(field)


def validate_currency_code(field: str, value: str) -> None:
    """InvalidValue unless `value` is exactly 3 UTF-8 bytes, all ASCII 'A'..'Z'. No ISO 4217 list."""
    if utf8_len(value) != 3:
        raise EventValidationError.invalid_value(field, "currency code must be exactly 3 characters")
    if not all("A" <= char <= "Z" for char in value):
        raise EventValidationError.invalid_value(field, "currency code must be uppercase letters")


# --------------------------------------------------------------------------------------------
# Unicode Other_Alphabetic, as inclusive (first, last) code point pairs. Generated from the
# `regex` module's Unicode database (regex 2026.11.19, `\p{Other_Alphabetic}`); Python's
# unicodedata does not expose this property. Regenerate the same way when Unicode moves on.
# --------------------------------------------------------------------------------------------

_OTHER_ALPHABETIC_RANGES = (
    0x0345, 0x0345, 0x0363, 0x036F, 0x05B0, 0x05BD, 0x05BF, 0x05BF, 0x05C1, 0x05C2, 0x05C4, 0x05C5,
    0x05C7, 0x05C9, 0x0610, 0x061A, 0x064B, 0x0657, 0x0659, 0x065F, 0x0670, 0x0670, 0x06D6, 0x06DC,
    0x06E1, 0x06E4, 0x06E7, 0x06E8, 0x06ED, 0x06ED, 0x0711, 0x0711, 0x0730, 0x073F, 0x07A6, 0x07B0,
    0x0816, 0x0817, 0x081B, 0x0823, 0x0825, 0x0827, 0x0829, 0x082C, 0x0897, 0x0897, 0x08D4, 0x08DF,
    0x08E3, 0x08E9, 0x08F0, 0x0903, 0x093A, 0x093B, 0x093E, 0x094C, 0x094E, 0x094F, 0x0955, 0x0957,
    0x0962, 0x0963, 0x0981, 0x0983, 0x09BE, 0x09C4, 0x09C7, 0x09C8, 0x09CB, 0x09CC, 0x09D7, 0x09D7,
    0x09E2, 0x09E3, 0x0A01, 0x0A03, 0x0A3E, 0x0A42, 0x0A47, 0x0A48, 0x0A4B, 0x0A4C, 0x0A51, 0x0A51,
    0x0A70, 0x0A71, 0x0A75, 0x0A75, 0x0A81, 0x0A83, 0x0ABE, 0x0AC5, 0x0AC7, 0x0AC9, 0x0ACB, 0x0ACC,
    0x0AE2, 0x0AE3, 0x0AFA, 0x0AFC, 0x0B01, 0x0B03, 0x0B3E, 0x0B44, 0x0B47, 0x0B48, 0x0B4B, 0x0B4C,
    0x0B56, 0x0B57, 0x0B62, 0x0B63, 0x0B82, 0x0B82, 0x0BBE, 0x0BC2, 0x0BC6, 0x0BC8, 0x0BCA, 0x0BCC,
    0x0BD7, 0x0BD7, 0x0C00, 0x0C04, 0x0C3E, 0x0C44, 0x0C46, 0x0C48, 0x0C4A, 0x0C4C, 0x0C55, 0x0C56,
    0x0C62, 0x0C63, 0x0C81, 0x0C83, 0x0CBE, 0x0CC4, 0x0CC6, 0x0CC8, 0x0CCA, 0x0CCC, 0x0CD5, 0x0CD6,
    0x0CE2, 0x0CE3, 0x0CF3, 0x0CF3, 0x0D00, 0x0D03, 0x0D3E, 0x0D44, 0x0D46, 0x0D48, 0x0D4A, 0x0D4C,
    0x0D57, 0x0D57, 0x0D62, 0x0D63, 0x0D81, 0x0D83, 0x0DCF, 0x0DD4, 0x0DD6, 0x0DD6, 0x0DD8, 0x0DDF,
    0x0DF2, 0x0DF3, 0x0E31, 0x0E31, 0x0E34, 0x0E3A, 0x0E4D, 0x0E4D, 0x0EB1, 0x0EB1, 0x0EB4, 0x0EB9,
    0x0EBB, 0x0EBC, 0x0ECD, 0x0ECD, 0x0F71, 0x0F83, 0x0F8D, 0x0F97, 0x0F99, 0x0FBC, 0x102B, 0x1036,
    0x1038, 0x1038, 0x103B, 0x103E, 0x1056, 0x1059, 0x105E, 0x1060, 0x1062, 0x1064, 0x1067, 0x106D,
    0x1071, 0x1074, 0x1082, 0x108D, 0x108F, 0x108F, 0x109A, 0x109D, 0x1712, 0x1713, 0x1732, 0x1733,
    0x1752, 0x1753, 0x1772, 0x1773, 0x17B6, 0x17C8, 0x1885, 0x1886, 0x18A9, 0x18A9, 0x1920, 0x192B,
    0x1930, 0x1938, 0x1A17, 0x1A1B, 0x1A55, 0x1A5E, 0x1A61, 0x1A74, 0x1ABF, 0x1AC0, 0x1ACC, 0x1ACE,
    0x1B00, 0x1B04, 0x1B35, 0x1B43, 0x1B80, 0x1B82, 0x1BA1, 0x1BA9, 0x1BAC, 0x1BAD, 0x1BE7, 0x1BF1,
    0x1C24, 0x1C36, 0x1DD3, 0x1DF4, 0x24B6, 0x24E9, 0x2DE0, 0x2DFF, 0xA674, 0xA67B, 0xA69E, 0xA69F,
    0xA802, 0xA802, 0xA80B, 0xA80B, 0xA823, 0xA827, 0xA880, 0xA881, 0xA8B4, 0xA8C3, 0xA8C5, 0xA8C5,
    0xA8FF, 0xA8FF, 0xA926, 0xA92A, 0xA947, 0xA952, 0xA980, 0xA983, 0xA9B4, 0xA9BF, 0xA9E5, 0xA9E5,
    0xAA29, 0xAA36, 0xAA43, 0xAA43, 0xAA4C, 0xAA4D, 0xAA7B, 0xAA7D, 0xAAB0, 0xAAB0, 0xAAB2, 0xAAB4,
    0xAAB7, 0xAAB8, 0xAABE, 0xAABE, 0xAAEB, 0xAAEF, 0xAAF5, 0xAAF5, 0xABE3, 0xABEA, 0xFB1E, 0xFB1E,
    0x10376, 0x1037A, 0x10A01, 0x10A03, 0x10A05, 0x10A06, 0x10A0C, 0x10A0F, 0x10D24, 0x10D27,
    0x10D69, 0x10D69, 0x10EAB, 0x10EAC, 0x10ECB, 0x10ECD, 0x10EF3, 0x10EF3, 0x10EF5, 0x10EF5,
    0x10EF7, 0x10EF8, 0x10EFA, 0x10EFC, 0x11000, 0x11002, 0x11038, 0x11045, 0x11073, 0x11074,
    0x11080, 0x11082, 0x110B0, 0x110B8, 0x110C2, 0x110C2, 0x11100, 0x11102, 0x11127, 0x11132,
    0x11145, 0x11146, 0x11180, 0x11182, 0x111B3, 0x111BF, 0x111CE, 0x111CF, 0x1122C, 0x11234,
    0x11237, 0x11237, 0x1123E, 0x1123E, 0x11241, 0x11241, 0x112DF, 0x112E8, 0x11300, 0x11303,
    0x1133E, 0x11344, 0x11347, 0x11348, 0x1134B, 0x1134C, 0x11357, 0x11357, 0x11362, 0x11363,
    0x113B8, 0x113C0, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7, 0x113CA, 0x113CC, 0x113CD,
    0x11435, 0x11441, 0x11443, 0x11445, 0x114B0, 0x114C1, 0x115AF, 0x115B5, 0x115B8, 0x115BE,
    0x115DC, 0x115DD, 0x11630, 0x1163E, 0x11640, 0x11640, 0x116AB, 0x116B5, 0x1171D, 0x1172A,
    0x1182C, 0x11838, 0x11930, 0x11935, 0x11937, 0x11938, 0x1193B, 0x1193C, 0x11940, 0x11940,
    0x11942, 0x11942, 0x119D1, 0x119D7, 0x119DA, 0x119DF, 0x119E4, 0x119E4, 0x11A01, 0x11A0A,
    0x11A35, 0x11A39, 0x11A3B, 0x11A3E, 0x11A51, 0x11A5B, 0x11A8A, 0x11A97, 0x11B60, 0x11B67,
    0x11C2F, 0x11C36, 0x11C38, 0x11C3E, 0x11C92, 0x11CA7, 0x11CA9, 0x11CB6, 0x11D31, 0x11D36,
    0x11D3A, 0x11D3A, 0x11D3C, 0x11D3D, 0x11D3F, 0x11D41, 0x11D43, 0x11D43, 0x11D47, 0x11D47,
    0x11D8A, 0x11D8E, 0x11D90, 0x11D91, 0x11D93, 0x11D96, 0x11DF0, 0x11DF0, 0x11EF3, 0x11EF6,
    0x11F00, 0x11F01, 0x11F03, 0x11F03, 0x11F34, 0x11F3A, 0x11F3E, 0x11F40, 0x1611E, 0x1612E,
    0x16F4F, 0x16F4F, 0x16F51, 0x16F87, 0x16F8F, 0x16F92, 0x16FF0, 0x16FF1, 0x1BC9E, 0x1BC9E,
    0x1E000, 0x1E006, 0x1E008, 0x1E018, 0x1E01B, 0x1E021, 0x1E023, 0x1E024, 0x1E026, 0x1E02A,
    0x1E08F, 0x1E08F, 0x1E6E3, 0x1E6E3, 0x1E6E6, 0x1E6E6, 0x1E6EE, 0x1E6EF, 0x1E6F5, 0x1E6F5,
    0x1E947, 0x1E947, 0x1F130, 0x1F149, 0x1F150, 0x1F169, 0x1F170, 0x1F189,
)
_OTHER_ALPHABETIC_STARTS = _OTHER_ALPHABETIC_RANGES[0::2]
_OTHER_ALPHABETIC_ENDS = _OTHER_ALPHABETIC_RANGES[1::2]
