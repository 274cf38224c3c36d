"""What a tenancy component must offer to stand in for ours: one `typing.Protocol` per component.

A conformance target (another implementation, a peer library behind an adapter, a deliberately
broken mutant) provides exactly this surface; the suites drive it and the reference side by side
through nothing else. `tests/tenancy/test_protocols.py` checks that the reference classes satisfy
each protocol, method names and signatures included.

- `CacheBackend`: Rust's `CacheBackend` trait (the in-memory moka backend, the Redis adapter).
- `TenantResolverV2`: variant ``v2``, the moka resolver (`MokaTenantResolver`).
- `TenantResolverV1`: variant ``v1``, the live middleware (`MiddlewareTenantResolver`).
- `TenantIdentifierValidatorProtocol`: Rust's `TenantIdentifierValidator` (its four associated
  functions; the reference `TenantIdentifierValidator` has them as static methods).
- `HardenedTenantResolver`: variant ``hardened``: V1's surface plus the count of cache errors
  it absorbed and the count of unconfirmed keys.

`RESOLVER_PROTOCOLS` maps each variant to its protocol. Pure declarations, no behaviour.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from rustok_sim.model.tenancy.cache import CacheStats
    from rustok_sim.model.tenancy.context import TenantContext
    from rustok_sim.model.tenancy.http import Headers, TenantSettings
    from rustok_sim.model.tenancy.keys import TenantKey
    from rustok_sim.model.tenancy.resolver import (
        Hit,
        LoadTicket,
        TenantCacheStats,
        V2CacheStats,
        Wait,
    )

__all__ = [
    "RESOLVER_PROTOCOLS",
    "CacheBackend",
    "HardenedTenantResolver",
    "TenantResolverV1",
    "TenantIdentifierValidatorProtocol",
    "TenantResolverV2",
]


@runtime_checkable
class CacheBackend(Protocol):
    """Rust `CacheBackend`: byte values under string keys. Every method may raise `CacheError`."""

    def health(self) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None: ...

    def invalidate(self, key: str) -> None: ...

    def stats(self) -> CacheStats: ...


class _TenantResolver(Protocol):
    """What every variant offers: the split protocol, its synchronous conveniences, and
    invalidation by key. `variant` and `name` identify it in a trace."""

    @property
    def variant(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def in_flight(self) -> dict[TenantKey, LoadTicket]: ...

    def lookup(self, key: TenantKey) -> Hit | LoadTicket | Wait: ...

    def resume(self, wait: Wait) -> Hit | LoadTicket | Wait: ...

    def complete(self, ticket: LoadTicket, result: TenantContext | None | BaseException) -> TenantContext: ...

    def resolve(self, key: TenantKey, loader: Callable[[TenantKey], TenantContext | None]) -> TenantContext: ...

    def resolve_request(self, headers: Headers, loader: Callable[[TenantKey], TenantContext | None],
                        settings: TenantSettings | None = None) -> tuple[int, TenantContext | Exception]: ...

    def invalidate(self, key: TenantKey) -> None: ...

    def invalidate_by_uuid(self, tenant_id: uuid.UUID | str) -> None: ...

    def invalidate_by_slug(self, slug: str) -> None: ...

    def invalidate_by_host(self, host: str) -> None: ...


@runtime_checkable
class TenantResolverV2(_TenantResolver, Protocol):
    """Variant ``v2``: moka, one cache, no negative entries, nothing published."""

    def invalidate_all(self) -> None: ...

    def stats(self) -> V2CacheStats: ...


@runtime_checkable
class TenantResolverV1(_TenantResolver, Protocol):
    """Variant ``v1``: two cache backends, invalidations published and applied."""

    @property
    def published(self) -> list[str]: ...

    def invalidate_identifier(self, identifier: str) -> None: ...

    def apply_invalidation(self, payload: str) -> bool: ...

    def stats(self) -> TenantCacheStats: ...


@runtime_checkable
class HardenedTenantResolver(TenantResolverV1, Protocol):
    """Variant ``hardened``: V1's surface, plus how many cache errors it absorbed and how many
    keys it does not trust the cache for (a write or invalidation of theirs raised)."""

    @property
    def cache_fallbacks(self) -> int: ...

    @property
    def unconfirmed_keys(self) -> int: ...


RESOLVER_PROTOCOLS: dict[str, type] = {
    "v1": TenantResolverV1,
    "v2": TenantResolverV2,
    "hardened": HardenedTenantResolver,
}
"""The protocol a target of each resolver variant must satisfy."""


@runtime_checkable
class TenantIdentifierValidatorProtocol(Protocol):
    """Rust's `TenantIdentifierValidator` (spec §5): each call normalises `raw` (Unicode trim,
    then lowercase) and returns the normalised value, or raises `TenantValidationError` (``kind``
    the Rust variant name, ``str()`` its Display text)."""

    def validate_slug(self, raw: str) -> str: ...

    def validate_uuid(self, raw: str) -> uuid.UUID: ...

    def validate_host(self, raw: str) -> str: ...

    def validate_any(self, raw: str) -> str: ...
