"""cachetools as a tenant-cache conformance target: ``tenant_resolver(config, clock)`` returns a
V2-shaped resolver (`TenantResolverV2`) whose cache is a real ``cachetools.TTLCache`` with
``timer=`` the controlled clock, so the gate compares cachetools' expiry and eviction with the
moka model's.

What is cachetools and what is the adapter. The cache (what an entry is, when it expires, which
entry a full cache evicts, how many entries it counts) is cachetools: ``TTLCache(maxsize=
max_capacity, ttl=time_to_live, timer=clock)``. cachetools has no idle expiry (``TLRUCache``
computes an entry's deadline once, at insert, never on access), so ``time_to_idle`` cannot be
mapped; the adapter ignores it and the gate finds the difference (docs/peers.md). The per-key
load coalescing around the cache (one loader per key, waiters sharing its outcome, errors never
cached, ``TenantLoadFailed`` texts) is the adapter's: a cache library has none, and the suite
needs the split protocol to drive a cache at all. It follows V2's rules so that every difference
the suite reports comes from the cache.

Stats: ``entries`` and ``weighted_size`` are ``len(cache)``, which cachetools computes after
expiring what is due (``TTLCache.__len__`` purges on the timer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cachetools

from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantError, TenantNotFoundError
from rustok_sim.model.tenancy.http import Headers, TenantSettings, http_status, resolve_identifier_v2
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import (
    ResolverProtocolError,
    TenantLoadFailed,
    TenantResolverConfig,
    V2CacheStats,
)

__all__ = ["CachetoolsTenantResolver", "tenant_resolver"]


class _Hit:
    __slots__ = ("key", "context")

    def __init__(self, key: TenantKey, context: TenantContext) -> None:
        self.key, self.context = key, context


class _Ticket:
    __slots__ = ("key", "waiters", "done", "outcome")

    def __init__(self, key: TenantKey) -> None:
        self.key, self.waiters, self.done = key, 0, False
        self.outcome: TenantContext | TenantLoadFailed | None = None


class _Wait:
    __slots__ = ("key", "ticket", "resumed")

    def __init__(self, key: TenantKey, ticket: _Ticket) -> None:
        self.key, self.ticket, self.resumed = key, ticket, False

    @property
    def ready(self) -> bool:
        return self.ticket.done


class CachetoolsTenantResolver:
    """V2's protocol over a ``cachetools.TTLCache`` (see the module docstring)."""

    def __init__(self, config: TenantResolverConfig, clock: Callable[[], float], name: str = "cachetools") -> None:
        self.config, self._name = config, name
        self.cache: cachetools.TTLCache[TenantKey, TenantContext] = cachetools.TTLCache(
            maxsize=config.max_capacity, ttl=config.time_to_live, timer=clock)
        self._inflight: dict[TenantKey, _Ticket] = {}

    @property
    def variant(self) -> str:
        return "v2"

    @property
    def name(self) -> str:
        return self._name

    @property
    def in_flight(self) -> dict[TenantKey, Any]:
        return dict(self._inflight)

    def lookup(self, key: TenantKey) -> Any:
        context = self.cache.get(key)
        if context is not None:
            return _Hit(key, context)
        ticket = self._inflight.get(key)
        if ticket is not None:
            ticket.waiters += 1
            return _Wait(key, ticket)
        ticket = self._inflight[key] = _Ticket(key)
        return ticket

    def complete(self, ticket: Any, result: TenantContext | None | BaseException) -> TenantContext:
        if not isinstance(ticket, _Ticket) or self._inflight.get(ticket.key) is not ticket:
            raise ResolverProtocolError(f"{ticket!r} was already completed or is not this resolver's")
        del self._inflight[ticket.key]
        ticket.done = True
        if result is None or isinstance(result, BaseException):
            inner: TenantError = TenantNotFoundError(ticket.key) if result is None else (
                result if isinstance(result, TenantError) else TenantDatabaseError(str(result)))
            ticket.outcome = TenantLoadFailed(str(inner))
            raise TenantLoadFailed(str(inner))
        self.cache[ticket.key] = result
        ticket.outcome = result
        return result

    def resume(self, wait: Any) -> Any:
        if not isinstance(wait, _Wait) or wait.resumed or not wait.ticket.done:
            raise ResolverProtocolError(f"{wait!r} cannot be resumed (not ready, or resumed already)")
        wait.resumed = True
        outcome = wait.ticket.outcome
        if isinstance(outcome, TenantLoadFailed):
            raise TenantLoadFailed(outcome.inner)
        assert isinstance(outcome, TenantContext)
        return _Hit(wait.key, outcome)

    def resolve(self, key: TenantKey, loader: Callable[[TenantKey], TenantContext | None]) -> TenantContext:
        outcome = self.lookup(key)
        if isinstance(outcome, _Hit):
            return outcome.context
        if isinstance(outcome, _Wait):
            raise ResolverProtocolError(f"{key} is being loaded; a synchronous resolve cannot wait for it")
        try:
            result: TenantContext | None | BaseException = loader(key)
        except Exception as exc:  # the load's failure is the request's outcome
            result = exc
        return self.complete(outcome, result)

    def resolve_request(self, headers: Headers, loader: Callable[[TenantKey], TenantContext | None],
                        settings: TenantSettings | None = None) -> tuple[int, TenantContext | Exception]:
        try:
            return 200, self.resolve(resolve_identifier_v2(headers, settings), loader)
        except ResolverProtocolError:
            raise
        except Exception as exc:
            return http_status(exc), exc

    def invalidate(self, key: TenantKey) -> None:
        self.cache.pop(key, None)

    def invalidate_by_uuid(self, tenant_id: Any) -> None:
        self.invalidate(TenantKey.uuid(tenant_id))

    def invalidate_by_slug(self, slug: str) -> None:
        self.invalidate(TenantKey.slug(slug))

    def invalidate_by_host(self, host: str) -> None:
        self.invalidate(TenantKey.host(host))

    def invalidate_all(self) -> None:
        self.cache.clear()

    def stats(self) -> V2CacheStats:
        entries = len(self.cache)
        return V2CacheStats(entries=entries, weighted_size=entries)


def tenant_resolver(config: TenantResolverConfig, clock: Callable[[], float]) -> CachetoolsTenantResolver:
    """The target factory (variant ``v2`` only: cachetools stands in for V2's moka cache)."""
    if config.variant != "v2":
        raise ValueError(f"the cachetools peer stands in for V2's moka cache; variant {config.variant!r} "
                         "has V1's two-backend middleware")
    return CachetoolsTenantResolver(config, clock)
