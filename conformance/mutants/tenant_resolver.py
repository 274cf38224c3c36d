"""Broken tenant resolvers, each a plausible bug, as target factories. The resolver suite must
kill each in every variant where it is a bug: `VARIANTS_OF` names the variants of the ones that
are bugs only in some (a stale load that writes its value is V1's documented behaviour, and a
bug only in hardened)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rustok_sim.model.tenancy.cache import ExpiringLruCache
from rustok_sim.model.tenancy.context import TenantDatabaseError
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import (
    LoadTicket,
    MiddlewareTenantResolver,
    MokaTenantResolver,
    TenantLoadFailed,
    TenantResolverConfig,
    Wait,
)

__all__ = ["MUTANTS", "VARIANTS_OF"]


class _NoCoalescing:
    """A lookup while the key is loading starts a second load instead of waiting (a stampede)."""

    _inflight: dict[TenantKey, LoadTicket]

    def _coalesce(self, key: TenantKey) -> LoadTicket | Wait:
        self._inflight.pop(key, None)
        return super()._coalesce(key)  # type: ignore[misc]


class _ErrorCached:
    """A failed load is remembered: the next lookup of the key fails at once instead of loading."""

    def complete(self, ticket: LoadTicket, result: Any) -> Any:
        if isinstance(result, BaseException):
            self.__dict__.setdefault("poisoned", set()).add(ticket.key)
        return super().complete(ticket, result)  # type: ignore[misc]

    def lookup(self, key: TenantKey) -> Any:
        poisoned = self.__dict__.get("poisoned", set())
        if key in poisoned:
            poisoned.discard(key)
            if isinstance(self, MokaTenantResolver):
                raise TenantLoadFailed(str(TenantDatabaseError("connection reset")))
            raise TenantDatabaseError("connection reset")
        return super().lookup(key)  # type: ignore[misc]


class _HostInvalidationIgnored:
    """Invalidation by host does nothing (the alias a domain change goes through)."""

    def invalidate_by_host(self, host: str) -> None:
        return None


class _LateExpiryCache(ExpiringLruCache[Any, Any]):
    """Judges expiry a tick (a microsecond) early in time: an entry is still live at its deadline."""

    __slots__ = ()

    def _purge(self, now: float) -> None:
        super()._purge(now - 1e-6)

    def _live(self, entry: Any, now: float) -> bool:
        return super()._live(entry, now - 1e-6)


def _expiry_one_tick_late(resolver: Any) -> Any:
    caches = [resolver.cache] if isinstance(resolver, MokaTenantResolver) else [
        resolver.positive.cache, resolver.negative.cache]
    for cache in caches:
        cache.__class__ = _LateExpiryCache
    return resolver


class _TtiNotRefreshed:
    """V2: a hit does not refresh the entry's idle time (nor its recency)."""

    cache: Any

    def lookup(self, key: TenantKey) -> Any:
        hit = self.cache.peek(key)
        if hit is not None:
            return hit
        return super().lookup(key)  # type: ignore[misc]


class _StaleLoadWritten:
    """Hardened: a load that started before an invalidation of its key still writes its value."""

    def _is_stale(self, ticket: LoadTicket, context: Any) -> bool:
        return False


class _WaiterSkipsNegative:
    """Hardened: a waiter woken by a not-found re-checks only the positive cache (V1's loop)."""

    def resume(self, wait: Wait) -> Any:
        self._check_resume(wait)  # type: ignore[attr-defined]
        return self._hit_or_coalesce(wait.key)  # type: ignore[attr-defined]


def _resolver(mixin: type | None = None, *, config_change: Callable[[TenantResolverConfig], TenantResolverConfig]
              | None = None, patch: Callable[[Any], Any] | None = None) -> Callable[[TenantResolverConfig, Any], Any]:
    def factory(config: TenantResolverConfig, clock: Any) -> Any:
        base: type = MokaTenantResolver if config.variant == "v2" else MiddlewareTenantResolver
        cls = type(f"Mutant{base.__name__}", (mixin, base), {}) if mixin is not None else base
        if config_change is not None:
            config = config_change(config)
        resolver = cls(config, clock=clock, name="mutant")
        return patch(resolver) if patch is not None else resolver
    return factory


MUTANTS = {
    "no_coalescing": _resolver(_NoCoalescing),
    "error_cached": _resolver(_ErrorCached),
    "host_invalidation_ignored": _resolver(_HostInvalidationIgnored),
    "expiry_one_tick_late": _resolver(patch=_expiry_one_tick_late),
    "capacity_one_more": _resolver(config_change=lambda c: c.model_copy(update={"max_capacity": c.max_capacity + 1})),
    "negative_ttl_is_ttl": _resolver(config_change=lambda c: c.model_copy(update={"negative_ttl": c.time_to_live})),
    "tti_not_refreshed": _resolver(_TtiNotRefreshed),
    "stale_load_written": _resolver(_StaleLoadWritten),
    "waiter_skips_negative": _resolver(_WaiterSkipsNegative),
}

VARIANTS_OF: dict[str, tuple[str, ...]] = {
    "negative_ttl_is_ttl": ("v1", "hardened"),  # V2 has no negative cache
    "tti_not_refreshed": ("v2",),  # V1's backends have no TTI
    "stale_load_written": ("hardened",),
    "waiter_skips_negative": ("hardened",),
}
"""Mutants that are bugs only in some variants -> those variants (the rest: every variant)."""
