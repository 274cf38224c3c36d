"""The HTTP edge of tenant resolution: settings, which header or host names the tenant, and the
status code each outcome becomes (spec §6.1-§6.3).

- `TenantSettings`: ``settings.rustok.tenant`` (enabled, resolution, header_name, default_id).
- `resolve_identifier_v1(headers, settings)`: the live middleware's extraction. Header mode reads
  `header_name`; a missing value, one that is not visible ASCII, or one empty after trimming
  means the default tenant; otherwise UUID first, then slug, else 400. Host mode (also "domain"
  and "subdomain") takes the first entry of X-Forwarded-Host (even an empty one), else the
  ``host=`` of the first Forwarded entry, else Host; strips the port at the first ':'; validates
  the host, else 400.
  Disabled resolution or an unknown mode means the default tenant.
- `resolve_identifier_v2(headers, settings)`: V2's header order: `header_name` then the literal
  X-Tenant-ID if it parses as a UUID (any form Rust's `Uuid::parse_str` takes), then
  X-Tenant-Slug raw, then Host raw (port included), else 400.
- `http_status(error)`: the status an exception becomes. Each tenant error carries its own
  (`TenantIdentifierError` 400, not found 404, V2's `LoadFailed` 404, database 500); a
  `CacheError` or anything else is 500, which is V1's "a cache backend error is a 500".

Headers are any mapping or iterable of (name, value) pairs; names match case-insensitively and
the first value wins, like `HeaderMap::get`. A value may be str or bytes. "Visible ASCII" is
`HeaderValue::to_str`: bytes 0x20..0x7E plus TAB; anything else (control characters, non-ASCII)
makes the header unreadable, which each mode treats as absent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rustok_sim.model.core.checks import given
from rustok_sim.model.tenancy.keys import IdentifierKind, TenantKey
from rustok_sim.model.tenancy.validation import (
    MAX_EXCERPT_CHARS,
    TenantIdentifierValidator,
    TenantValidationError,
    classify_identifier,
    rust_trim,
)

__all__ = [
    "DEFAULT_TENANT_ID",
    "HeaderValue",
    "Headers",
    "TenantIdentifierError",
    "TenantSettings",
    "header_str",
    "http_status",
    "parse_uuid_rust",
    "resolve_identifier_v1",
    "resolve_identifier_v2",
]

DEFAULT_TENANT_ID = uuid.UUID(int=1)
"""``Uuid::from_u128(1)``: 00000000-0000-0000-0000-000000000001."""

HOST_MODES = frozenset({"host", "domain", "subdomain"})

HeaderValue: TypeAlias = str | bytes
Headers: TypeAlias = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]

_TOKEN = re.compile(r"\A[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


class TenantSettings(BaseModel):
    """``settings.rustok.tenant`` with Rust's defaults. `resolution` is free text: "header",
    "host" / "domain" / "subdomain", anything else resolves every request to `default_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    enabled: bool = True
    resolution: str = "header"
    header_name: str = Field("X-Tenant-ID", description="header carrying the tenant id or slug")
    default_id: uuid.UUID = Field(DEFAULT_TENANT_ID, strict=False,
                                  description="a uuid.UUID, or its text as a settings file carries it")

    @field_validator("header_name")
    @classmethod
    def _header_name_is_token(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError(f"header_name {value!r} is not a valid HTTP header name (RFC 9110 token)")
        return value


class TenantIdentifierError(Exception):
    """No usable tenant identifier in the request: HTTP 400. `cause` is the validation error,
    if a validator rejected the value."""

    http_status = 400

    def __init__(self, message: str, cause: TenantValidationError | None = None) -> None:
        self.cause = cause
        super().__init__(message)


def http_status(error: BaseException) -> int:
    """The HTTP status V1 / V2 answer for `error`; 500 for anything without its own status
    (cache errors, settings errors, bugs)."""
    status = getattr(error, "http_status", None)
    return status if isinstance(status, int) else 500


# --------------------------------------------------------------------------------------------
# Reading headers
# --------------------------------------------------------------------------------------------


def _settings(settings: object) -> TenantSettings:
    if settings is None:
        return TenantSettings()
    if not isinstance(settings, TenantSettings):
        raise TypeError(f"tenant settings must be a TenantSettings (or None for the defaults), got "
                        f"{given(settings, TenantSettings)}; build one with TenantSettings(**fields)")
    return settings


def _is_visible_ascii(value: HeaderValue) -> bool:
    codes = value if isinstance(value, bytes) else (ord(c) for c in value)
    return all(c == 9 or 32 <= c < 127 for c in codes)


def header_str(headers: Headers, name: str) -> str | None:
    """The first value of header `name` (case-insensitive) as text, or None when it is missing
    or not visible ASCII (Rust ``headers.get(name).and_then(|v| v.to_str().ok())``)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for key, value in items:
        if key.lower() == wanted:
            if not _is_visible_ascii(value):
                return None
            return value.decode("ascii") if isinstance(value, bytes) else value
    return None


_HEX = frozenset("0123456789abcdefABCDEF")

# The only whitespace a readable (visible ASCII) header value can hold, so Rust's Unicode `trim()`
# on it strips exactly these.
_HEADER_WS = " \t"


def _hyphenated(text: str) -> bool:
    return (len(text) == 36 and all(text[i] == "-" for i in (8, 13, 18, 23))
            and all(c in _HEX for i, c in enumerate(text) if i not in (8, 13, 18, 23)))


def parse_uuid_rust(text: str) -> uuid.UUID | None:
    """Rust ``Uuid::parse_str``: simple (32 hex), hyphenated (8-4-4-4-12), braced ``{...}`` or
    ``urn:uuid:...`` (prefix lowercase), hex digits in any case, no trimming. None otherwise
    (Python's `uuid.UUID()` is laxer: it strips braces, "urn:" and hyphens anywhere)."""
    n = len(text)
    if n == 32:
        ok = all(c in _HEX for c in text)
    elif n == 36:
        ok = _hyphenated(text)
    elif n == 38:
        ok = text[0] == "{" and text[-1] == "}" and _hyphenated(text[1:-1])
        text = text[1:-1]
    elif n == 45:
        ok = text.startswith("urn:uuid:") and _hyphenated(text[9:])
        text = text[9:]
    else:
        ok = False
    return uuid.UUID(text) if ok else None


# --------------------------------------------------------------------------------------------
# V1 (live middleware)
# --------------------------------------------------------------------------------------------


def _forwarded_host(value: str) -> str | None:
    """The ``host=`` parameter of the first element of a Forwarded header, as Rust's
    `parse_forwarded_host`: the first ';'-separated part that starts with the literal, lowercase
    ``host=`` once leading whitespace is trimmed (so ``Host=`` and ``host =`` are not it); then
    '"' is trimmed from both ends, *then* whitespace. An empty value is still a value (400)."""
    first = value.split(",", 1)[0]
    for part in first.split(";"):
        part = part.lstrip(_HEADER_WS)
        if part.startswith("host="):
            return part[len("host="):].strip('"').strip(_HEADER_WS)
    return None


def _effective_host(headers: Headers) -> str | None:
    """Rust `extract_host`: a readable X-Forwarded-Host always wins with its first entry, trimmed,
    even when that is empty (then `validate_host` answers 400); else a Forwarded ``host=``; else
    Host. A header that is not visible ASCII counts as absent."""
    xfh = header_str(headers, "X-Forwarded-Host")
    if xfh is not None:
        return xfh.split(",", 1)[0].strip(_HEADER_WS)
    fwd = header_str(headers, "Forwarded")
    if fwd is not None:
        host = _forwarded_host(fwd)
        if host is not None:
            return host
    return header_str(headers, "Host")


def resolve_identifier_v1(headers: Headers, settings: TenantSettings | None = None) -> TenantKey:
    """The key V1 resolves this request by; raises `TenantIdentifierError` (400)."""
    settings = _settings(settings)
    default = TenantKey.uuid(settings.default_id)
    if not settings.enabled:
        return default
    if settings.resolution == "header":
        raw = header_str(headers, settings.header_name)
        value = rust_trim(raw) if raw is not None else ""
        if not value:
            value = str(settings.default_id)
        try:
            classified = classify_identifier(value)
        except TenantValidationError as exc:
            raise TenantIdentifierError(
                f"invalid tenant identifier in {settings.header_name}: {exc}", exc) from None
        return TenantKey(classified.kind, classified.value)
    if settings.resolution in HOST_MODES:
        host = _effective_host(headers)
        if host is None:
            raise TenantIdentifierError("no X-Forwarded-Host, Forwarded host= or Host header")
        host = host.split(":", 1)[0]
        try:
            return TenantKey.host(TenantIdentifierValidator.validate_host(host))
        except TenantValidationError as exc:
            shown = host if len(host) <= MAX_EXCERPT_CHARS else f"{host[:MAX_EXCERPT_CHARS]}... ({len(host)} chars)"
            raise TenantIdentifierError(f"invalid tenant hostname {shown!r}: {exc}", exc) from None
    return default


# --------------------------------------------------------------------------------------------
# V2 (moka resolver)
# --------------------------------------------------------------------------------------------


def resolve_identifier_v2(headers: Headers, settings: TenantSettings | None = None) -> TenantKey:
    """The key V2 resolves this request by; raises `TenantIdentifierError` (400) when no header
    names one. `enabled` and `resolution` are not consulted (V2 reads headers only)."""
    settings = _settings(settings)
    names = [settings.header_name]
    if settings.header_name.lower() != "x-tenant-id":
        names.append("X-Tenant-ID")
    for name in names:
        raw = header_str(headers, name)
        parsed = parse_uuid_rust(raw) if raw is not None else None
        if parsed is not None:
            return TenantKey.uuid(parsed)
    slug = header_str(headers, "X-Tenant-Slug")
    if slug:
        return TenantKey(IdentifierKind.SLUG, slug)
    host = header_str(headers, "Host")
    if host:
        return TenantKey(IdentifierKind.HOST, host)
    raise TenantIdentifierError("no tenant identifier: no UUID in "
                                f"{' / '.join(names)}, no X-Tenant-Slug, no Host")
