"""Tenant identifier validation: RusToK's `TenantIdentifierValidator`, reproduced exactly.

Mirrors `crates/rustok-core/src/tenant_validation.rs` (spec section 5): four validators that
normalise a raw identifier (Rust `trim()` then `to_lowercase()`) and then check it, in a fixed
order, returning the normalised value or raising `TenantValidationError` whose `.kind` is the Rust
variant name and whose `str()` is the Rust `Display` text. The order of the checks is part of the
contract: it decides which error a multi-fault input gets (`"   "` is `Empty`, a 65-byte slug
full of '@' is `TooLong`, `"ADMIN"` is `Reserved('admin')`).

Three places where the obvious Python spelling is *not* what Rust does:

* `str.strip()` strips U+001C..U+001F (Python counts them as whitespace); Rust's `trim()` strips
  exactly the Unicode White_Space property, which does not include them. We strip an explicit
  `WHITE_SPACE` set instead.
* Lengths are UTF-8 byte lengths (`String::len`) of the *normalised* value, not `len(str)` and
  not of the raw input: lowercasing can grow a string ('İ', 2 bytes -> 'i̇', 3 bytes) or shrink it
  (the Kelvin sign U+212A, 3 bytes -> ASCII 'k', so "\u212Aey" is the valid slug "key").
* Rust's regex `$` matches only at the very end of the text; Python's `$` also matches before a
  trailing newline. `SLUG_PATTERN` and `UUID_PATTERN` are anchored with `\\A ... \\Z`.

Case mapping is pinned to Unicode `RUST_UNICODE_VERSION` (what rustc 1.95's `to_lowercase`
implements). Python 3.11's `str.lower()` implements Unicode 14.0 and agrees with it, final-sigma
rule included, except for 55 capital letters encoded in Unicode 16/17, which we map with a small
table (two of them shrink from 3 to 2 UTF-8 bytes, which can turn `TooLong` into
`InvalidCharacters`). The one residual difference is not observable through Rust's API: a Σ next
to a letter new in Unicode 15+ may lowercase to σ here where Rust gives ς; both are 2 bytes and
non-ASCII, so the verdict and the error kind are the same, only the `.value` we attach differs.

Pure functions, no I/O, no state.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from typing import Final

from rustok_sim.model.core.rust import (
    RUST_UNICODE_VERSION,
    WHITE_SPACE,
    rust_to_lowercase,
    rust_trim,
    utf8_len,
)

__all__ = [
    "MAX_HOST_BYTES",
    "MAX_EXCERPT_CHARS",
    "MAX_LABEL_BYTES",
    "MAX_SLUG_BYTES",
    "NIL_UUID",
    "RESERVED_SLUGS",
    "RUST_UNICODE_VERSION",
    "SLUG_PATTERN",
    "UUID_PATTERN",
    "WHITE_SPACE",
    "ClassifiedIdentifier",
    "IdentifierKind",
    "TenantIdentifierTypeError",
    "TenantIdentifierValidator",
    "TenantValidationError",
    "TenantValidationErrorKind",
    "classify_identifier",
    "rust_to_lowercase",
    "rust_trim",
    "utf8_len",
]

MAX_SLUG_BYTES: Final = 64
"""`validate_slug`: more UTF-8 bytes than this (after normalisation) is `TooLong`. The pattern
allows only 63 characters, so a 64-byte slug passes this check and fails the pattern."""

MAX_HOST_BYTES: Final = 253
"""`validate_host`: more UTF-8 bytes than this (after normalisation) is `HostnameTooLong`."""

MAX_LABEL_BYTES: Final = 63
"""`validate_host`: a dot-separated label longer than this is `InvalidHostname`."""

NIL_UUID: Final = uuid.UUID(int=0)

# `\A...\Z`, never `^...$`: Rust's `$` does not match before a trailing newline, Python's does.
SLUG_PATTERN: Final = re.compile(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
"""Rust `^[a-z0-9][a-z0-9-]{0,62}$` as a whole-string match (ASCII only; at most 63 chars)."""

UUID_PATTERN: Final = re.compile(
    r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"
)
"""The lowercase hyphenated 8-4-4-4-12 form; the only UUID spelling the validator accepts."""

RESERVED_SLUGS: Final[frozenset[str]] = frozenset(
    {
        # System endpoints
        "api", "admin", "www", "app", "cdn", "assets", "static", "health", "metrics", "docs",
        "swagger",
        # Common subdomains
        "mail", "smtp", "pop", "imap", "ftp", "sftp", "ssh", "vpn",
        # Security-related
        "auth", "login", "logout", "register", "signup", "signin",
        # Development
        "dev", "test", "staging", "prod", "production", "localhost",
        # Database / cache
        "db", "database", "cache", "redis", "postgres",
        # Special
        "root", "system", "internal", "private", "public",
    }
)
"""The 41 slugs `validate_slug` refuses (exact match on the normalised value; hosts are exempt)."""


class TenantValidationErrorKind(enum.StrEnum):
    """The seven Rust `TenantValidationError` variants; each value is the Rust variant name."""

    TOO_LONG = "TooLong"
    INVALID_CHARACTERS = "InvalidCharacters"
    RESERVED = "Reserved"
    INVALID_UUID = "InvalidUuid"
    EMPTY = "Empty"
    HOSTNAME_TOO_LONG = "HostnameTooLong"
    INVALID_HOSTNAME = "InvalidHostname"


_DISPLAY: Final[dict[TenantValidationErrorKind, str]] = {
    TenantValidationErrorKind.TOO_LONG: "Identifier is too long (max 64 characters)",
    TenantValidationErrorKind.INVALID_CHARACTERS: (
        "Identifier contains invalid characters (only lowercase alphanumeric and hyphens allowed)"
    ),
    TenantValidationErrorKind.RESERVED: "Identifier '{0}' is reserved and cannot be used",
    TenantValidationErrorKind.INVALID_UUID: "Invalid UUID format",
    TenantValidationErrorKind.EMPTY: "Identifier cannot be empty",
    TenantValidationErrorKind.HOSTNAME_TOO_LONG: "Hostname is too long (max 253 characters)",
    TenantValidationErrorKind.INVALID_HOSTNAME: "Invalid hostname format",
}


MAX_EXCERPT_CHARS: Final = 256
"""How much of an offending value an error keeps: an identifier can be megabytes long (a header
is attacker-controlled), and an error is logged, pickled to workers and put in traces. Every
valid-length identifier (a 253-byte host at most) fits whole."""


class TenantValidationError(ValueError):
    """A tenant identifier broke a rule. `str(err)` is exactly the Rust `Display` text.

    `kind` is the Rust variant (a `TenantValidationErrorKind`, equal to its name as a str, e.g.
    `"Reserved"`). `value` is the normalised (trimmed, lowercased) identifier the failing check
    looked at; only `Reserved` carries it in Rust, for the other kinds it is extra context.
    A value longer than `MAX_EXCERPT_CHARS` is kept as its first `MAX_EXCERPT_CHARS` characters
    (`truncated` is then True); `length` is always the UTF-8 byte length of the whole value.
    """

    def __init__(self, kind: TenantValidationErrorKind | str, value: str, length: int | None = None) -> None:
        self.kind = TenantValidationErrorKind(kind)
        if not isinstance(value, str):
            raise TypeError(f"TenantValidationError value must be str, got {type(value).__name__}")
        self.length = utf8_len(value) if length is None else length
        self.truncated = len(value) > MAX_EXCERPT_CHARS or (length is not None and length > utf8_len(value))
        self.value = value[:MAX_EXCERPT_CHARS]
        super().__init__(_DISPLAY[self.kind].format(self.value))

    def __reduce__(self) -> tuple[type[TenantValidationError], tuple[str, str, int]]:
        # Keeps the error picklable (dask workers) despite the non-message constructor.
        return (type(self), (self.kind.value, self.value, self.length))

    def __repr__(self) -> str:
        cut = f"... ({self.length} bytes)" if self.truncated else ""
        return f"{type(self).__name__}(kind={self.kind.value!r}, value={self.value!r}{cut})"


class TenantIdentifierTypeError(TypeError):
    """The identifier is not something Rust's `&str` could hold.

    Raised for non-`str` input (None, bytes, int, ...) and for a `str` containing a lone
    surrogate (U+D800..U+DFFF), which is not valid UTF-8. Deliberately not a
    `TenantValidationError`: it is a caller bug, not a bad identifier, and Rust has no variant.
    """


def _as_rust_str(raw: object) -> str:
    if not isinstance(raw, str):
        raise TenantIdentifierTypeError(
            f"tenant identifier must be str, got {type(raw).__name__} {raw!r:.60}"
        )
    text = str.__str__(raw)  # a plain str even for subclasses with overridden methods
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise TenantIdentifierTypeError(
                f"tenant identifier must be valid Unicode text (a Rust &str); lone surrogate "
                f"U+{ord(text[exc.start]):04X} at index {exc.start}"
            ) from None
    return text


def _normalise(raw: object) -> str:
    return rust_to_lowercase(rust_trim(_as_rust_str(raw)))


class TenantIdentifierValidator:
    """The four Rust associated functions; no instance state. Each returns the normalised value
    or raises `TenantValidationError`; non-text input raises `TenantIdentifierTypeError`."""

    @staticmethod
    def validate_slug(raw: str) -> str:
        """Trim + lowercase, then in order: empty -> `Empty`; > 64 UTF-8 bytes -> `TooLong`;
        not `SLUG_PATTERN` -> `InvalidCharacters`; in `RESERVED_SLUGS` -> `Reserved(value)`.

        Leading hyphen rejected; trailing and consecutive hyphens allowed.
        """
        value = _normalise(raw)
        if not value:
            raise TenantValidationError(TenantValidationErrorKind.EMPTY, value)
        if utf8_len(value) > MAX_SLUG_BYTES:
            raise TenantValidationError(TenantValidationErrorKind.TOO_LONG, value)
        if SLUG_PATTERN.match(value) is None:
            raise TenantValidationError(TenantValidationErrorKind.INVALID_CHARACTERS, value)
        if value in RESERVED_SLUGS:
            raise TenantValidationError(TenantValidationErrorKind.RESERVED, value)
        return value

    @staticmethod
    def validate_uuid(raw: str) -> uuid.UUID:
        """Trim + lowercase, then require `UUID_PATTERN` (else `InvalidUuid`, even when empty).

        Uppercase input is accepted; simple, braced and urn forms are not; nil is accepted and
        the version is not checked.
        """
        value = _normalise(raw)
        if UUID_PATTERN.match(value) is None:
            raise TenantValidationError(TenantValidationErrorKind.INVALID_UUID, value)
        return uuid.UUID(value)

    @staticmethod
    def validate_host(raw: str) -> str:
        """Trim + lowercase, then in order: empty -> `Empty`; > 253 UTF-8 bytes ->
        `HostnameTooLong`; any char outside ASCII letters, digits, '.', '-' -> `InvalidHostname`;
        any '.'-separated label empty, > 63 bytes, or starting/ending with '-' ->
        `InvalidHostname`.

        No port (':' is rejected), no TLD rule, IPv4 literals pass, reserved slugs do not apply.
        """
        value = _normalise(raw)
        if not value:
            raise TenantValidationError(TenantValidationErrorKind.EMPTY, value)
        if utf8_len(value) > MAX_HOST_BYTES:
            raise TenantValidationError(TenantValidationErrorKind.HOSTNAME_TOO_LONG, value)
        if not all(ch.isascii() and (ch.isalnum() or ch in ".-") for ch in value):
            raise TenantValidationError(TenantValidationErrorKind.INVALID_HOSTNAME, value)
        for label in value.split("."):
            if (
                not label
                or len(label) > MAX_LABEL_BYTES  # ASCII by now: chars == bytes
                or label.startswith("-")
                or label.endswith("-")
            ):
                raise TenantValidationError(TenantValidationErrorKind.INVALID_HOSTNAME, value)
        return value

    @staticmethod
    def validate_any(raw: str) -> str:
        """Route on the trimmed, *not* lowercased input: `UUID_PATTERN` -> `validate_uuid`
        (returned as its lowercase hyphenated string); else contains '.' -> `validate_host`;
        else `validate_slug`.

        An uppercase UUID misses `UUID_PATTERN` and goes to `validate_slug`, which lowercases it
        into the same 36-character string.
        """
        trimmed = rust_trim(_as_rust_str(raw))
        if UUID_PATTERN.match(trimmed) is not None:
            return str(TenantIdentifierValidator.validate_uuid(trimmed))
        if "." in trimmed:
            return TenantIdentifierValidator.validate_host(trimmed)
        return TenantIdentifierValidator.validate_slug(trimmed)


class IdentifierKind(enum.StrEnum):
    """Rust `TenantIdentifierKind`; the value is its `as_str()`, used in cache keys."""

    UUID = "uuid"
    SLUG = "slug"
    HOST = "host"


@dataclass(frozen=True, slots=True)
class ClassifiedIdentifier:
    """A classified header identifier, as the Rust `ResolvedTenantIdentifier` built by V1.

    `value` is the normalised identifier (a UUID as its lowercase hyphenated string); `uuid` is
    the parsed UUID for kind `UUID` and the nil UUID for kind `SLUG`.
    """

    kind: IdentifierKind
    value: str
    uuid: uuid.UUID


def classify_identifier(raw: str) -> ClassifiedIdentifier:
    """V1's header classification (`classify_and_validate_identifier` in `tenant.rs`).

    `validate_uuid` first -> `UUID`; otherwise `validate_slug` -> `SLUG`; if the slug check
    fails too, its `TenantValidationError` propagates (V1 answers 400). Never yields `HOST`
    (hosts come from host resolution, not from the header). The caller trims the header and
    substitutes the default id for an empty one before calling this, as V1 does.
    """
    try:
        parsed = TenantIdentifierValidator.validate_uuid(raw)
    except TenantValidationError:
        pass
    else:
        return ClassifiedIdentifier(IdentifierKind.UUID, str(parsed), parsed)
    slug = TenantIdentifierValidator.validate_slug(raw)
    return ClassifiedIdentifier(IdentifierKind.SLUG, slug, NIL_UUID)
