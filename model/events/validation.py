"""Event validation: the error type and the 7 validator helpers of RusToK's `events/validation.rs`.

Spec §4.1-4.2. Each helper checks one rule and raises `EventValidationError` (the Rust code returns
`Err`); `DomainEvent.validate()` in `rustok_sim.model.events.domain` chains them in the spec's order and so
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

import uuid
from enum import StrEnum
from typing import Any

from rustok_sim.model.core.rust import is_rust_alphanumeric, rust_trim, utf8_len

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
