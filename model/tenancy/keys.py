"""Tenant cache keys: what a tenant is looked up by, and the strings the caches store it under.

A `TenantKey` is one identifier of one kind (spec §6.2, §6.3): a UUID, a slug or a host. The same
tenant has up to three keys (its *aliases*), and every key is a separate cache entry in both
resolvers. V2 (moka) uses the `TenantKey` itself as the cache key (a Uuid key never equals a Slug
key, even for the same text); V1 turns it into two strings:

- positive ``tenant:v1:{uuid|slug|host}:{value}`` (the host value lowercased again),
- negative ``tenant_negative:v1:{kind}:{value}``,

and publishes ``"<positive>|<negative>"`` on `INVALIDATION_CHANNEL` when it invalidates a pair.

Pure values, no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Final

from rustok_sim.model.core.rust import rust_to_lowercase
from rustok_sim.model.tenancy.validation import IdentifierKind

__all__ = [
    "CACHE_VERSION",
    "INVALIDATION_CHANNEL",
    "IdentifierKind",
    "TenantKey",
    "alias_keys",
    "parse_invalidation_payload",
]

CACHE_VERSION: Final = "v1"
"""V1's `TENANT_CACHE_VERSION`, part of every V1 cache key."""

INVALIDATION_CHANNEL: Final = "tenant.cache.invalidate"
"""Redis pub/sub channel V1 publishes invalidations on."""


@dataclass(frozen=True, slots=True)
class TenantKey:
    """One identifier of a tenant: `kind` (uuid / slug / host) and its `value`.

    Build keys with `uuid()`, `slug()`, `host()`: a UUID value is stored as its lowercase
    hyphenated string, so the same UUID always makes the same key. Values are otherwise taken as
    given (V1 validates and normalises before building a key; V2 deliberately does not).

    The V1 key strings are derived once per key object and kept (a resolver hit asks for both
    on every request); they take no part in equality, hashing or repr.
    """

    kind: IdentifierKind
    value: str
    _positive: str | None = field(default=None, init=False, repr=False, compare=False)
    _negative: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, IdentifierKind):
            try:
                object.__setattr__(self, "kind", IdentifierKind(self.kind))
            except ValueError:
                raise TypeError(f"TenantKey kind must be an IdentifierKind (uuid, slug, host), "
                                f"got {self.kind!r}") from None
        if not isinstance(self.value, str):
            raise TypeError(f"TenantKey value must be str, got {type(self.value).__name__} {self.value!r:.60}")

    @classmethod
    def uuid(cls, value: uuid.UUID | str) -> TenantKey:
        """A UUID key; `value` is a `uuid.UUID` or any string `uuid.UUID()` parses."""
        parsed = value if isinstance(value, uuid.UUID) else uuid.UUID(value)
        return cls(IdentifierKind.UUID, str(parsed))

    @classmethod
    def slug(cls, value: str) -> TenantKey:
        return cls(IdentifierKind.SLUG, value)

    @classmethod
    def host(cls, value: str) -> TenantKey:
        return cls(IdentifierKind.HOST, value)

    def _v1_value(self) -> str:
        # Rust `kind_key`: hosts are lowercased again (`str::to_lowercase`), other kinds as-is.
        return rust_to_lowercase(self.value) if self.kind is IdentifierKind.HOST else self.value

    def positive_key(self) -> str:
        """V1's positive cache key, ``tenant:v1:{kind}:{value}``."""
        key = self._positive
        if key is None:
            key = f"tenant:{CACHE_VERSION}:{self.kind.value}:{self._v1_value()}"
            object.__setattr__(self, "_positive", key)
        return key

    def negative_key(self) -> str:
        """V1's negative cache key, ``tenant_negative:v1:{kind}:{value}``."""
        key = self._negative
        if key is None:
            key = f"tenant_negative:{CACHE_VERSION}:{self.kind.value}:{self._v1_value()}"
            object.__setattr__(self, "_negative", key)
        return key

    def invalidation_payload(self) -> str:
        """What V1 publishes on `INVALIDATION_CHANNEL`: ``"<positive>|<negative>"``."""
        return f"{self.positive_key()}|{self.negative_key()}"

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"


def alias_keys(tenant_id: uuid.UUID | str, slug: str | None, domain: str | None) -> tuple[TenantKey, ...]:
    """Every key a tenant with this id, slug and domain can be found under (uuid, slug, host).

    The host alias is the domain as stored: V1 looks a host up by exact equality on the validated
    (lowercase) host, so a domain stored in another case is never found by host.
    """
    keys = [TenantKey.uuid(tenant_id)]
    if slug:
        keys.append(TenantKey.slug(slug))
    if domain:
        keys.append(TenantKey.host(domain))
    return tuple(keys)


def parse_invalidation_payload(payload: str) -> tuple[str, str] | None:
    """Split an invalidation message into (positive key, negative key); None if malformed.

    As the V1 listener (``payload.split('|')``, two ``next()``): the first two parts, which may be
    empty (``"<key>|"`` still deletes ``<key>``); a third part, if any, is ignored. Only a payload
    without any '|' is skipped.
    """
    parts = payload.split("|", 2)
    if len(parts) < 2:
        return None
    return parts[0], parts[1]
