"""Broken tenant identifier validators, each a plausible bug of a port of `tenant_validation.rs`,
as target factories. Each changes one check of one validator; `validate_any` routes through the
mutant's own validators, so a broken slug check also shows through it. The tenant identifier
suite must kill every one."""

from __future__ import annotations

import re
import uuid
from typing import Any

from rustok_sim.model.core.rust import rust_to_lowercase, rust_trim, utf8_len
from rustok_sim.model.tenancy.validation import (
    MAX_HOST_BYTES,
    MAX_LABEL_BYTES,
    MAX_SLUG_BYTES,
    RESERVED_SLUGS,
    SLUG_PATTERN,
    UUID_PATTERN,
    TenantIdentifierValidator,
    TenantValidationError,
)

__all__ = ["MUTANTS"]


class _Validator:
    """The reference's behaviour as instance methods, for a mutant to change one of."""

    def validate_slug(self, raw: str) -> str:
        return TenantIdentifierValidator.validate_slug(raw)

    def validate_uuid(self, raw: str) -> uuid.UUID:
        return TenantIdentifierValidator.validate_uuid(raw)

    def validate_host(self, raw: str) -> str:
        return TenantIdentifierValidator.validate_host(raw)

    def validate_any(self, raw: str) -> str:
        trimmed = rust_trim(raw)
        if UUID_PATTERN.match(trimmed):
            return str(self.validate_uuid(trimmed))
        if "." in trimmed:
            return self.validate_host(trimmed)
        return self.validate_slug(trimmed)


def _slug_checks(value: str, *, length: int, reserved: frozenset[str] = RESERVED_SLUGS,
                 pattern: re.Pattern[str] = SLUG_PATTERN) -> str:
    if not value:
        raise TenantValidationError("Empty", value)
    if length > MAX_SLUG_BYTES:
        raise TenantValidationError("TooLong", value)
    if pattern.match(value) is None:
        raise TenantValidationError("InvalidCharacters", value)
    if value in reserved:
        raise TenantValidationError("Reserved", value)
    return value


class _MissingReservedSlug(_Validator):
    """The reserved list lacks "postgres" (one of 41; a list copied by hand)."""

    def validate_slug(self, raw: str) -> str:
        value = rust_to_lowercase(rust_trim(raw))
        return _slug_checks(value, length=utf8_len(value), reserved=RESERVED_SLUGS - {"postgres"})


class _CharacterLength(_Validator):
    """TooLong counts characters, not UTF-8 bytes."""

    def validate_slug(self, raw: str) -> str:
        value = rust_to_lowercase(rust_trim(raw))
        return _slug_checks(value, length=len(value))


class _LengthOfRawInput(_Validator):
    """TooLong measures the raw input, before trimming and lowercasing."""

    def validate_slug(self, raw: str) -> str:
        return _slug_checks(rust_to_lowercase(rust_trim(raw)), length=utf8_len(raw))


class _PythonStrip(_Validator):
    """Trims with `str.strip()`, which also removes U+001C..U+001F."""

    def validate_slug(self, raw: str) -> str:
        value = rust_to_lowercase(raw.strip())
        return _slug_checks(value, length=utf8_len(value))


class _LeadingHyphenAllowed(_Validator):
    """The slug pattern lets the first character be a hyphen."""

    _PATTERN = re.compile(r"\A[a-z0-9-]{1,63}\Z")

    def validate_slug(self, raw: str) -> str:
        value = rust_to_lowercase(rust_trim(raw))
        return _slug_checks(value, length=utf8_len(value), pattern=self._PATTERN)


def _host_checks(value: str, *, max_host: int = MAX_HOST_BYTES, max_label: int = MAX_LABEL_BYTES) -> str:
    if not value:
        raise TenantValidationError("Empty", value)
    if utf8_len(value) > max_host:
        raise TenantValidationError("HostnameTooLong", value)
    if not all(ch.isascii() and (ch.isalnum() or ch in ".-") for ch in value):
        raise TenantValidationError("InvalidHostname", value)
    for label in value.split("."):
        if not label or len(label) > max_label or label.startswith("-") or label.endswith("-"):
            raise TenantValidationError("InvalidHostname", value)
    return value


class _LabelOfSixtyFour(_Validator):
    """A host label may have 64 bytes (``>`` 64 for ``>`` 63)."""

    def validate_host(self, raw: str) -> str:
        return _host_checks(rust_to_lowercase(rust_trim(raw)), max_label=MAX_LABEL_BYTES + 1)


class _HostLimitInclusive(_Validator):
    """A host of exactly 253 bytes is HostnameTooLong (``>=`` for ``>``)."""

    def validate_host(self, raw: str) -> str:
        return _host_checks(rust_to_lowercase(rust_trim(raw)), max_host=MAX_HOST_BYTES - 1)


class _AnyUuidForm(_Validator):
    """Parses any UUID spelling Python's `uuid.UUID` takes (simple, braced, urn) instead of only
    the hyphenated form."""

    def validate_uuid(self, raw: str) -> uuid.UUID:
        value = rust_to_lowercase(rust_trim(raw))
        try:
            return uuid.UUID(value)
        except ValueError:
            raise TenantValidationError("InvalidUuid", value) from None


class _NilUuidRefused(_Validator):
    """The nil UUID is refused (Rust accepts it)."""

    def validate_uuid(self, raw: str) -> uuid.UUID:
        parsed = TenantIdentifierValidator.validate_uuid(raw)
        if parsed.int == 0:
            raise TenantValidationError("InvalidUuid", str(parsed))
        return parsed


class _HostsAsSlugs(_Validator):
    """`validate_any` never routes to `validate_host`: a dotted identifier goes to the slug check."""

    def validate_any(self, raw: str) -> str:
        trimmed = rust_trim(raw)
        if UUID_PATTERN.match(trimmed):
            return str(self.validate_uuid(trimmed))
        return self.validate_slug(trimmed)


def _factory(cls: type[_Validator]) -> Any:
    def build(config: Any, clock: Any) -> _Validator:
        return cls()
    build.__name__ = cls.__name__.lstrip("_")
    return build


MUTANTS = {
    "missing_reserved_slug": _factory(_MissingReservedSlug),
    "character_length": _factory(_CharacterLength),
    "length_of_raw_input": _factory(_LengthOfRawInput),
    "python_strip": _factory(_PythonStrip),
    "leading_hyphen_allowed": _factory(_LeadingHyphenAllowed),
    "label_of_sixty_four": _factory(_LabelOfSixtyFour),
    "host_limit_inclusive": _factory(_HostLimitInclusive),
    "any_uuid_form": _factory(_AnyUuidForm),
    "nil_uuid_refused": _factory(_NilUuidRefused),
    "hosts_as_slugs": _factory(_HostsAsSlugs),
}
