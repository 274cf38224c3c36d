"""Tenant resolver: a sans-IO cache in front of the tenants table, with per-key load coalescing.

The protocol (DESIGN.md, "split calls that span time"):

    outcome = resolver.lookup(key)          # Hit | LoadTicket | Wait, or raises
    Hit        -> outcome.context is the tenant
    LoadTicket -> you are the one loader: query the store, then
                  resolver.complete(ticket, context | None | error) -> context, or raises
    Wait       -> someone else is loading; once its load completed (`wait.ready`, or the
                  callback given to `wait.on_complete(callback)` was called),
                  resolver.resume(wait) -> Hit | LoadTicket | Wait, or raises

`complete` takes the loaded `TenantContext`, None for "no such tenant", or the exception the
load raised. What it returns or raises is what the loading request gets; the error types carry
the HTTP status (`rustok_sim.model.tenancy.http.http_status`). `resolve(key, loader)` and
`resolve_request(headers, loader)` are synchronous conveniences built on the same calls. A
simpy driver parks a waiter on an event it succeeds from `wait.on_complete`, instead of polling
`wait.ready`; the callback runs once, after `complete` has finished (so a `resume` inside it sees
what the load wrote), with the load's outcome: the context, or the error the loader's request got.

Three variants (`TenantResolverConfig.variant`; `PROFILE_VARIANTS` maps the profiles to them):

``v2`` - the moka resolver of ``tenant_v2.rs`` (spec §6.3), `MokaTenantResolver`. One cache from
    `TenantKey` to context: capacity 1000, TTL 300 s, TTI 60 s, whichever expires first (LRU
    eviction, see `rustok_sim.model.tenancy.cache`). One loader per key; its waiters share its outcome,
    value or error. Errors are never cached and reach every caller as `TenantLoadFailed` (404),
    not-found included. Invalidation removes exactly one key; nothing is published.
``v1`` - the live middleware of ``tenant.rs`` (spec §6.2), `MiddlewareTenantResolver`. Two
    `CacheBackend`s (positive 300 s, negative 60 s, capacity 1000; in-memory or Redis) under
    ``tenant:v1:*`` / ``tenant_negative:v1:*`` keys. A request checks the negative cache (hit:
    404), then the positive cache, then coalesces: the first caller loads, the others wait and,
    when woken, re-check **only the positive cache** and otherwise loop (after a not-found every
    waiter becomes the loader in turn). Not-found writes the negative entry; found writes the
    positive entry after the waiters were released. Any cache error is a `CacheError` (500).
    A positive entry serde_json cannot read (bad JSON, nesting past serde's limit, a duplicate
    field: `TenantContextFormatError`) is a corrupt entry: invalidated and treated as a miss.
    Invalidation deletes the positive and negative key of one identifier and publishes
    ``"<key>|<negative key>"`` to ``tenant.cache.invalidate``. A load that was in flight when its
    key was invalidated still writes its (stale) value; the model reports that as an anomaly
    ``stale_publish``.
``hardened`` - v1 plus what the ERROR_HANDLING_POLICY asks and the code does not do: a cache
    error falls back to the database and never fails a request (decision ``fell_back``); waiters
    consult the negative cache too; invalidating one alias invalidates every alias of the tenant
    (uuid, slug, host); a load that started before an invalidation of its key or tenant does not
    write its value (decision ``stale_discarded``; the caller still gets what it loaded).
    A key whose cache write (positive or negative) or invalidation raised a `CacheError` is
    *unconfirmed* (decision ``unconfirmed``): a timed-out command is not one that failed, since a
    paused Redis applies its buffered commands when it resumes, possibly reordered, so "SET (timed
    out), DEL (timed out)" can leave the old value. While a key is unconfirmed, a lookup re-issues
    its invalidation (both entries) and is a miss whatever that gave (decision
    ``unconfirmed_miss``; neither cache is read), and its loaded value is not written (decision
    ``write_skipped``; the load's waiters take its outcome, decision ``shared``). The key is
    confirmed again (decision ``confirmed``) by an invalidation of it that succeeds at least
    `TenantResolverConfig.settle` seconds after the last cache failure of any key. At most
    `max_capacity` keys are unconfirmed; a failure past that cannot be named, so every key is
    untrusted (decision ``cache_bypassed``) until the longest TTL after that failure's settle
    window, when every entry a late command can have left has expired (``cache_bypass_ended``).

The per-key load slot is `LOAD_TRANSITIONS` (``idle`` / ``loading``), fired through the bound
`Machine` on every change, observed or not. Trace: a ``transition`` per load-slot change
(component ``tenant_resolver``, instance ``"<name>[<kind>:<value>]"``, bare trigger);
``decision`` records ``hit``, ``negative_hit``, ``coalesced``, ``loaded``, ``not_found``,
``load_failed``, ``fell_back``, ``stale_discarded``, ``corrupt_entry``, ``invalidated``,
``published``, and (hardened) ``unconfirmed``, ``unconfirmed_miss``, ``write_skipped``,
``shared``, ``confirmed``, ``cache_bypassed``, ``cache_bypass_ended``; ``anomaly``
``stale_publish``. Cache entries report their own transitions
(`rustok_sim.model.tenancy.cache.ENTRY_TRANSITIONS`). The resolver asks its observer once, at
construction, which kinds it keeps; a kind nobody keeps costs nothing.

State outside the table: a key's slot is ``loading`` exactly while its ticket is in
`in_flight` (the map *is* the slot state; ``idle`` keys are simply absent), and the ticket
carries what the load needs to finish (its id, start time, waiter count, outcome, callbacks).
The invalidation epochs (which loads an invalidation made stale) are timers in all but name:
they order events, they are not states a key can be in. Hardened's unconfirmed keys are trust in
the cache, not a load state: any slot state combines with either. The V1 counters are
statistics, read through `stats()`. Hit memos (the `Hit` a stored value gives, by cache key) are caches of pure
results, invisible in behaviour.

Speed. A hit is the hot path of every request, so it allocates nothing: the parsed context and
its `Hit` are memoised by the stored bytes (V1) or stored as the cache value (V2).

Not modelled: V1's lost wake-up (a waiter that subscribes after `notify_waiters()` fired waits
forever; here subscribing and checking are one step), the Redis INCR copies of V1's metrics,
and V2's missing `init_tenant_resolver` (which would give every request an empty cache).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.core.transitions import Edge, TransitionTable
from rustok_sim.model.tenancy.cache import CacheError, ExpiringLruCache, InMemoryCacheBackend
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantError, TenantNotFoundError
from rustok_sim.model.tenancy.http import (
    Headers,
    TenantSettings,
    http_status,
    resolve_identifier_v1,
    resolve_identifier_v2,
)
from rustok_sim.model.tenancy.keys import (
    CACHE_VERSION,
    INVALIDATION_CHANNEL,
    IdentifierKind,
    TenantKey,
    parse_invalidation_payload,
)
from rustok_sim.model.tenancy.protocols import CacheBackend
from rustok_sim.model.tenancy.validation import TenantValidationError, classify_identifier

__all__ = [
    "COMPONENT",
    "LOAD_TRANSITIONS",
    "PROFILE_VARIANTS",
    "Hit",
    "LoadResult",
    "LoadTicket",
    "MiddlewareTenantResolver",
    "MokaTenantResolver",
    "ResolverProtocolError",
    "TenantCacheStats",
    "TenantLoadFailed",
    "TenantResolver",
    "TenantResolverConfig",
    "V2CacheStats",
    "Variant",
    "Wait",
    "build_tenant_resolver",
    "key_from_positive",
]

COMPONENT = "tenant_resolver"

Variant = Literal["v1", "v2", "hardened"]
LoadState = Literal["idle", "loading"]

PROFILE_VARIANTS: Final[dict[str, Variant]] = {"faithful": "v1", "hardened": "hardened"}
"""The resolver variant each scenario profile runs: ``faithful`` is the live middleware (V1,
what the server wires), ``hardened`` V1 with the error-handling policy applied. ``v2`` (never
wired into routes) is only run on request."""


LOAD_TRANSITIONS = TransitionTable(COMPONENT, (
    Edge("idle", "loading", "miss", "no cached entry and no load in flight: the caller gets the ticket"),
    Edge("loading", "idle", "loaded", "complete(ticket, context)"),
    Edge("loading", "idle", "not_found", "complete(ticket, None)"),
    Edge("loading", "idle", "failed", "complete(ticket, error), or V1's negative write failed"),
))
"""The per-key load slot, the same in all three variants. A lookup of a key in ``loading``
gets a `Wait` (decision ``coalesced``) and leaves the slot as it is."""


class TenantResolverConfig(BaseModel):
    """Which variant, and the cache limits (seconds, entries). Defaults are the spec's.

    `time_to_idle` applies to ``v2`` only (V1's moka backends have TTL only); `negative_ttl`
    to ``v1`` / ``hardened`` only (V2 has no negative cache).

    `settle` applies to ``hardened`` only. A cache write or invalidation whose call raised is not
    one that failed: a paused Redis applies the commands queued in its socket buffers when it
    resumes, within a moment, in an order that can differ from the order they were sent. So a
    key whose write or invalidation raised stays *unconfirmed* until an invalidation of it
    succeeds at least `settle` seconds after the last cache failure the resolver saw (of any key:
    a call still waiting when the server resumed started at most one socket timeout before its
    failure or success is seen). The default, 5 s, is five times the 1 s socket timeout of the
    Redis backend's defaults; 0 confirms on the first successful invalidation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    variant: Variant = "v1"
    max_capacity: int = Field(1000, ge=1, description="entries per cache")
    time_to_live: float = Field(300.0, gt=0, allow_inf_nan=False, description="seconds from insert")
    time_to_idle: float | None = Field(60.0, gt=0, allow_inf_nan=False,
                                       description="seconds from last access (v2 only); None = off")
    negative_ttl: float = Field(60.0, gt=0, allow_inf_nan=False,
                                description="seconds a not-found is cached (v1 / hardened)")
    settle: float = Field(5.0, ge=0, allow_inf_nan=False,
                          description="hardened only: seconds after the last cache failure before a "
                                      "successful invalidation confirms an unconfirmed key")


class TenantLoadFailed(TenantError):
    """V2's `TenantError::LoadFailed`: every loader error, "Failed to load tenant: {inner}". 404."""

    http_status = 404

    def __init__(self, inner: str) -> None:
        self.inner = inner
        super().__init__(f"Failed to load tenant: {inner}")


class ResolverProtocolError(RuntimeError):
    """The split protocol was misused: a ticket completed twice or by another resolver, a wait
    resumed before its load completed or resumed twice, a synchronous resolve that would block."""


# --------------------------------------------------------------------------------------------
# Outcomes of lookup / resume
# --------------------------------------------------------------------------------------------


class Hit:
    """The tenant was in the cache (or, for a V2 waiter, its loader's result). A value: the
    resolver hands out the same `Hit` for the same cached value, so never modify one."""

    __slots__ = ("key", "context")

    def __init__(self, key: TenantKey, context: TenantContext) -> None:
        self.key, self.context = key, context

    def __repr__(self) -> str:
        return f"Hit({self.key}, {self.context.slug!r})"


LoadOutcome: TypeAlias = "TenantContext | BaseException"
"""What a completed load came to: the context, or the error its loading request got."""


class LoadTicket:
    """You are the one loader of `key`. Finish with ``resolver.complete(ticket, result)``.

    `started_at` is the clock time of the lookup, `waiters` how many lookups waited on it so
    far, `done` whether it was completed, `outcome` (once done) the context or the error the
    loading request got: V2 waiters share it, `Wait.on_complete` callbacks receive it."""

    __slots__ = ("key", "id", "started_at", "epoch", "owner", "waiters", "done", "outcome",
                 "_callbacks", "_shared")

    def __init__(self, key: TenantKey, id: int, started_at: float, epoch: int, owner: object) -> None:
        self.key, self.id, self.started_at, self.epoch, self.owner = key, id, started_at, epoch, owner
        self.waiters = 0
        self.done = False
        self.outcome: LoadOutcome | None = None
        self._callbacks: list[Callable[[LoadOutcome], object]] = []
        # Hardened: the load's value was not cached (its key is unconfirmed), so its waiters
        # take its outcome instead of re-reading the cache.
        self._shared = False

    def _finish(self, outcome: LoadOutcome) -> None:
        """Record the outcome and call every registered callback once, in registration order."""
        self.outcome = outcome
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(outcome)

    def __repr__(self) -> str:
        return f"LoadTicket(#{self.id} {self.key}, waiters={self.waiters}, done={self.done})"


class Wait:
    """Someone else is loading `key` (`ticket`). Call ``resolver.resume(wait)`` once `ready`;
    `on_complete(callback)` says when, without polling."""

    __slots__ = ("key", "ticket", "resumed")

    def __init__(self, key: TenantKey, ticket: LoadTicket) -> None:
        self.key, self.ticket, self.resumed = key, ticket, False

    @property
    def ready(self) -> bool:
        return self.ticket.done

    def on_complete(self, callback: Callable[[LoadOutcome], object]) -> None:
        """Call `callback(outcome)` once, when the load this wait is on completes (after
        `complete` has finished); at once if it already has. `outcome` is the loaded context or
        the error the loading request got. The callback should only schedule the waiter (a
        simpy driver: ``lambda outcome: event.succeed()``) and leave `resume` to it."""
        if not callable(callback):
            raise TypeError(f"on_complete needs a callable(outcome), got {type(callback).__name__}")
        ticket = self.ticket
        if ticket.done:
            assert ticket.outcome is not None
            callback(ticket.outcome)
        else:
            ticket._callbacks.append(callback)

    def __repr__(self) -> str:
        return f"Wait({self.key} on #{self.ticket.id}, ready={self.ready})"


Outcome: TypeAlias = "Hit | LoadTicket | Wait"
LoadResult: TypeAlias = "TenantContext | None | BaseException"
Loader: TypeAlias = "Callable[[TenantKey], TenantContext | None]"


@dataclass(frozen=True, slots=True)
class TenantCacheStats:
    """V1's `TenantCacheStats` (10 fields). Evictions and entries come from the backends'
    stats: moka reports only entries (evictions 0), Redis reports zeros."""

    hits: int
    misses: int
    evictions: int
    negative_hits: int
    negative_misses: int
    negative_evictions: int
    entries: int
    negative_entries: int
    negative_inserts: int
    coalesced_requests: int


@dataclass(frozen=True, slots=True)
class V2CacheStats:
    """V2's `TenantCacheStats{entries, weighted_size}` (unweighted: both are the entry count)."""

    entries: int
    weighted_size: int


# --------------------------------------------------------------------------------------------
# Shared machinery: the load slots, tickets, epochs, trace
# --------------------------------------------------------------------------------------------


def _as_database_error(error: BaseException) -> TenantError:
    return error if isinstance(error, TenantError) else TenantDatabaseError(str(error))


def _require_key(key: object) -> TenantKey:
    if not isinstance(key, TenantKey):
        raise TypeError(f"tenant resolver keys are TenantKey, got {type(key).__name__} {key!r:.60}")
    return key


def _check_config(config: object, owner: str, default: TenantResolverConfig) -> TenantResolverConfig:
    if config is None:
        return default
    if not isinstance(config, TenantResolverConfig):
        raise TypeError(f"{owner} needs a TenantResolverConfig (or None for the defaults), got "
                        f"{given(config, TenantResolverConfig)}; build one with TenantResolverConfig(**fields)")
    return config




class _ResolverBase:
    def __init__(self, config: TenantResolverConfig, clock: Clock, observer: Observer | None,
                 name: str) -> None:
        self.config, self._name = config, require_name(name, type(self).__name__)
        self.clock = require_clock(clock, type(self).__name__)
        observer = require_observer(observer, f"{type(self).__name__} {name!r}")
        self._machine = LOAD_TRANSITIONS.bind(config.variant)
        self._observer = observer
        # Asked once: an observer that keeps only transitions makes hits and decisions free.
        self._transitions = observer_for(observer, "transition")
        self._decisions = observer_for(observer, "decision")
        self._anomalies = observer_for(observer, "anomaly")
        self._inflight: dict[TenantKey, LoadTicket] = {}
        self._next_ticket = 0
        # Invalidation epochs: a ticket remembers the epoch it started in; an invalidation of its
        # key (or, hardened, of its tenant) after that makes its result stale. Only needed while
        # loads are in flight, so the maps are emptied whenever none is.
        self._epoch = 0
        self._key_epoch: dict[TenantKey, int] = {}
        self._tenant_epoch: dict[uuid.UUID, int] = {}

    @property
    def variant(self) -> Variant:
        """Which semantics this resolver runs (``v1``, ``v2`` or ``hardened``)."""
        return self.config.variant

    @property
    def name(self) -> str:
        """The instance name its trace records carry."""
        return self._name

    @property
    def observer(self) -> Observer | None:
        """The observer given at construction (fixed: the kinds it keeps were asked then)."""
        return self._observer

    # -- trace --------------------------------------------------------------------------------

    def _fire(self, key: TenantKey, state: LoadState, trigger: str) -> LoadState:
        observer = self._transitions
        instance = f"{self.name}[{key}]" if observer is not None else ""
        return self._machine.fire(state, trigger, observer, instance)

    def _decide(self, decision: str, key: TenantKey | None, reason: str | None = None,
                detail: dict[str, object] | None = None) -> None:
        # Callers on hot paths test `self._decisions` first, so no observer means no call at all.
        observer = self._decisions
        if observer is not None:
            detail = dict(detail or {})
            if key is not None:
                detail["key"] = str(key)
            observer.decision(COMPONENT, self.name, decision, reason, detail or None)

    def _anomaly(self, anomaly: str, message: str, detail: dict[str, object]) -> None:
        if self._anomalies is not None:
            self._anomalies.anomaly(COMPONENT, self.name, anomaly, message, detail)

    # -- load slots ----------------------------------------------------------------------------

    @property
    def in_flight(self) -> dict[TenantKey, LoadTicket]:
        """The loads in flight now, by key (a copy)."""
        return dict(self._inflight)

    def _coalesce(self, key: TenantKey) -> LoadTicket | Wait:
        ticket = self._inflight.get(key)
        if ticket is not None:
            ticket.waiters += 1
            self._on_coalesced(key)
            if self._decisions is not None:
                self._decide("coalesced", key, None, {"ticket": ticket.id})
            return Wait(key, ticket)
        if self._fire(key, "idle", "miss") == "loading":
            self._next_ticket += 1
            ticket = LoadTicket(key, self._next_ticket, self.clock(), self._epoch, self)
            self._inflight[key] = ticket
        return ticket  # type: ignore[return-value]  # the table leads a miss to loading

    def _on_coalesced(self, key: TenantKey) -> None:
        pass

    def _release(self, ticket: LoadTicket, trigger: str) -> None:
        if not isinstance(ticket, LoadTicket) or ticket.owner is not self:
            raise ResolverProtocolError(f"{ticket!r} was not issued by resolver {self.name!r}")
        if ticket.done or self._inflight.get(ticket.key) is not ticket:
            raise ResolverProtocolError(f"{ticket!r} was already completed")
        if self._fire(ticket.key, "loading", trigger) == "idle":
            del self._inflight[ticket.key]
            ticket.done = True

    def _check_resume(self, wait: Wait) -> None:
        if not isinstance(wait, Wait):
            hint = ("; a LoadTicket is finished by its loader with complete(ticket, result)"
                    if isinstance(wait, LoadTicket) else "")
            raise TypeError(f"resume() expects a Wait (what lookup() returns while another request loads "
                            f"the key), got {given(wait, Wait)}{hint}")
        if wait.ticket.owner is not self:
            raise ResolverProtocolError(f"{wait!r} was not issued by resolver {self.name!r}")
        if wait.resumed:
            raise ResolverProtocolError(f"{wait!r} was already resumed")
        if not wait.ticket.done:
            raise ResolverProtocolError(f"{wait!r}: its load is still in flight; resume once wait.ready")
        wait.resumed = True

    def _prune_epochs(self) -> None:
        if not self._inflight:
            self._key_epoch.clear()
            self._tenant_epoch.clear()

    def _bump_epoch(self, keys: Iterable[TenantKey], tenant_ids: Iterable[uuid.UUID] = ()) -> None:
        if not self._inflight:
            return  # no load can be made stale
        self._epoch += 1
        for key in keys:
            self._key_epoch[key] = self._epoch
        for tenant_id in tenant_ids:
            self._tenant_epoch[tenant_id] = self._epoch

    def _is_stale(self, ticket: LoadTicket, context: TenantContext | None) -> bool:
        if self._key_epoch.get(ticket.key, 0) > ticket.epoch:
            return True
        if context is None:
            return False
        if self._tenant_epoch.get(context.id, 0) > ticket.epoch:
            return True
        return any(self._key_epoch.get(alias, 0) > ticket.epoch for alias in context.aliases())

    # -- conveniences ---------------------------------------------------------------------------

    def lookup(self, key: TenantKey) -> Outcome:  # pragma: no cover - overridden
        raise NotImplementedError

    def complete(self, ticket: LoadTicket, result: LoadResult) -> TenantContext:  # pragma: no cover
        raise NotImplementedError

    def resolve(self, key: TenantKey, loader: Loader) -> TenantContext:
        """Synchronous lookup-then-load: `loader(key)` returns the context or None, or raises.
        Raises `ResolverProtocolError` if another load of `key` is in flight (it cannot wait)."""
        outcome = self.lookup(key)
        if isinstance(outcome, Hit):
            return outcome.context
        if isinstance(outcome, Wait):
            raise ResolverProtocolError(f"{key} is being loaded by ticket #{outcome.ticket.id}; "
                                        "a synchronous resolve cannot wait for it")
        try:
            result: LoadResult = loader(key)
        except Exception as exc:  # the load's failure is the request's outcome
            result = exc
        return self.complete(outcome, result)

    def _identifier(self, headers: Headers, settings: TenantSettings | None) -> TenantKey:
        return resolve_identifier_v1(headers, settings)

    def resolve_request(self, headers: Headers, loader: Loader,
                        settings: TenantSettings | None = None) -> tuple[int, TenantContext | Exception]:
        """A whole request, synchronously: (200, context) or (status, error) with the status the
        middleware answers (400 / 404 / 500; V2: 400 / 404)."""
        try:
            return 200, self.resolve(self._identifier(headers, settings), loader)
        except ResolverProtocolError:
            raise
        except Exception as exc:
            return http_status(exc), exc

    def invalidate_by_uuid(self, tenant_id: uuid.UUID | str) -> None:
        self.invalidate(TenantKey.uuid(tenant_id))

    def invalidate_by_slug(self, slug: str) -> None:
        self.invalidate(TenantKey.slug(slug))

    def invalidate_by_host(self, host: str) -> None:
        self.invalidate(TenantKey.host(host))

    def invalidate(self, key: TenantKey) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# V2: moka
# --------------------------------------------------------------------------------------------


class MokaTenantResolver(_ResolverBase):
    """Variant ``v2`` (see the module docstring). `cache` is the `ExpiringLruCache`; its values
    are the `Hit`s a lookup returns (so a hit allocates nothing)."""

    def __init__(self, config: TenantResolverConfig | None = None, *, clock: Clock,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        config = _check_config(config, "MokaTenantResolver", TenantResolverConfig(variant="v2"))
        if config.variant != "v2":
            raise ValueError(f"MokaTenantResolver is variant 'v2', got a config with variant "
                             f"{config.variant!r}; use MiddlewareTenantResolver or build_tenant_resolver")
        super().__init__(config, clock, observer, name)
        self.cache: ExpiringLruCache[TenantKey, Hit] = ExpiringLruCache(
            capacity=config.max_capacity, ttl=config.time_to_live, tti=config.time_to_idle,
            clock=clock, observer=observer, name=name)

    def lookup(self, key: TenantKey) -> Outcome:
        """A live entry is a `Hit` (and refreshes its idle time); else the ticket or a `Wait`."""
        if type(key) is not TenantKey:
            _require_key(key)
        hit = self.cache.get(key)
        if hit is not None:
            if self._decisions is not None:
                self._decide("hit", key)
            return hit
        return self._coalesce(key)

    def complete(self, ticket: LoadTicket, result: LoadResult) -> TenantContext:
        """Cache a loaded context and return it; None or an error is not cached and raises
        `TenantLoadFailed` here and for every waiter of this ticket."""
        _require_ticket(ticket)
        if result is None or isinstance(result, BaseException):
            inner = TenantNotFoundError(ticket.key) if result is None else _as_database_error(result)
            self._release(ticket, "not_found" if result is None else "failed")
            failure = TenantLoadFailed(str(inner))
            self._decide("load_failed", ticket.key, str(inner))
            self._prune_epochs()
            ticket._finish(failure)
            raise failure from (result if isinstance(result, BaseException) else None)
        _check_context(result)
        self._release(ticket, "loaded")
        if self._is_stale(ticket, None):
            # moka inserts the init result even if the key was invalidated meanwhile.
            self._anomaly("stale_publish", f"load #{ticket.id} of {ticket.key} started before an "
                          "invalidation of its key and cached its result anyway",
                          {"key": str(ticket.key), "started_at": ticket.started_at})
        self.cache.insert(ticket.key, Hit(ticket.key, result))
        self._decide("loaded", ticket.key)
        self._prune_epochs()
        ticket._finish(result)
        return result

    def resume(self, wait: Wait) -> Outcome:
        """A waiter gets its loader's outcome: a `Hit` with the loaded context, or the same
        `TenantLoadFailed` (as a new exception object)."""
        self._check_resume(wait)
        outcome = wait.ticket.outcome
        if isinstance(outcome, TenantLoadFailed):
            raise TenantLoadFailed(outcome.inner)
        assert isinstance(outcome, TenantContext)
        return Hit(wait.key, outcome)

    def invalidate(self, key: TenantKey) -> None:
        """Remove exactly this key (other aliases of the tenant stay). Nothing is published."""
        self.cache.invalidate(_require_key(key))
        self._bump_epoch((key,))
        self._decide("invalidated", key)

    def invalidate_all(self) -> None:
        keys = self.cache.keys()
        self.cache.invalidate_all()
        self._bump_epoch([*keys, *self._inflight])
        self._decide("invalidated", None, "all")

    def stats(self) -> V2CacheStats:
        entries = len(self.cache)
        return V2CacheStats(entries=entries, weighted_size=entries)

    def _identifier(self, headers: Headers, settings: TenantSettings | None) -> TenantKey:
        return resolve_identifier_v2(headers, settings)


def _require_ticket(ticket: object) -> None:
    """A `TypeError` unless `ticket` is a `LoadTicket`: checked before anything reads it."""
    if not isinstance(ticket, LoadTicket):
        hint = "; a Wait is finished with resume(wait)" if isinstance(ticket, Wait) else ""
        raise TypeError(f"complete(ticket, result) expects the LoadTicket lookup() returned on a miss, "
                        f"got {given(ticket, LoadTicket)}{hint}")


def _check_context(result: object) -> None:
    if not isinstance(result, TenantContext):
        raise TypeError(f"complete(ticket, result): result must be a TenantContext, None (not found) "
                        f"or the exception the load raised; got {type(result).__name__} {result!r:.60}")


# --------------------------------------------------------------------------------------------
# V1 and hardened: the live middleware
# --------------------------------------------------------------------------------------------


def _fast_get(backend: CacheBackend) -> Callable[[str], bytes | None]:
    if type(backend) is InMemoryCacheBackend:
        return backend.cache.get
    return backend.get


def key_from_positive(cache_key: str) -> TenantKey | None:
    """The `TenantKey` of a V1 positive key ``tenant:v1:{kind}:{value}``; None if it is not one."""
    prefix = f"tenant:{CACHE_VERSION}:"
    if not cache_key.startswith(prefix):
        return None
    kind, sep, value = cache_key[len(prefix):].partition(":")
    if not sep or kind not in {k.value for k in IdentifierKind}:
        return None
    return TenantKey(IdentifierKind(kind), value)


class MiddlewareTenantResolver(_ResolverBase):
    """Variants ``v1`` and ``hardened`` (see the module docstring).

    `positive` / `negative` are `CacheBackend`s (in-memory by default, with the config's TTLs and
    capacity); `publisher(channel, payload)` is called for every invalidation message (V1 only
    has one with Redis) and every payload is also kept in `published`. V1's counters are read
    through `stats()` (V1's ten fields); `cache_fallbacks` counts the cache errors hardened mode
    absorbed and `unconfirmed_keys` the keys it does not trust the cache for.

    Hardened mode also keeps an alias index (key -> tenant id, tenant id -> keys) of every
    tenant it cached, so that invalidating any alias finds the others even when they expired
    or were never cached here; invalidation removes the entries, so its size is bounded by the
    distinct keys written since.
    """

    def __init__(self, config: TenantResolverConfig | None = None, *, clock: Clock,
                 positive: CacheBackend | None = None, negative: CacheBackend | None = None,
                 publisher: Callable[[str, str], None] | None = None,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        config = _check_config(config, "MiddlewareTenantResolver", TenantResolverConfig())
        if config.variant == "v2":
            raise ValueError("variant 'v2' is MokaTenantResolver; use build_tenant_resolver")
        super().__init__(config, clock, observer, name)
        self.hardened = config.variant == "hardened"
        for label, backend in (("positive", positive), ("negative", negative)):
            if backend is not None and not isinstance(backend, CacheBackend):
                raise TypeError(f"{label}= must be a CacheBackend (get, set, set_with_ttl, invalidate, "
                                f"health, stats), got {type(backend).__name__}")
        if publisher is not None and not callable(publisher):
            raise TypeError(f"publisher= must be callable(channel, payload), got {type(publisher).__name__}")
        self._positive: CacheBackend = positive if positive is not None else InMemoryCacheBackend(
            config.time_to_live, config.max_capacity, clock=clock, observer=observer,
            name=f"{name}.positive")
        self._negative: CacheBackend = negative if negative is not None else InMemoryCacheBackend(
            config.negative_ttl, config.max_capacity, clock=clock, observer=observer,
            name=f"{name}.negative")
        # The request path reads both caches; for our own in-memory backend (exactly that type,
        # not a subclass that may override `get`) it reads its moka cache directly: one call
        # per read instead of two.
        self._positive_get = _fast_get(self._positive)
        self._negative_get = _fast_get(self._negative)
        self.publisher = publisher
        self._published: list[str] = []
        self._hits = self._misses = 0
        self._negative_hits = self._negative_misses = self._negative_inserts = 0
        self._coalesced_requests = 0
        self._cache_fallbacks = 0
        # The Hit each positive key's stored bytes give: (bytes, Hit). Bounded like the cache.
        self._hit_memo: dict[str, tuple[bytes, Hit]] = {}
        self._hit_memo_size = config.max_capacity
        # hardened: which tenant each positive key was written for, and the reverse
        self._key_owner: dict[TenantKey, uuid.UUID] = {}
        self._tenant_keys: dict[uuid.UUID, set[TenantKey]] = {}
        # hardened: unconfirmed keys -> (positive key, negative key, virtual time of the last
        # failure), at most `max_capacity` of them; past that, every key is untrusted until
        # `_bypass_until` (see `_unconfirm`). `_last_failure` is the time of the last cache error
        # of any operation and key.
        self._unconfirmed: dict[TenantKey, tuple[str, str, float]] = {}
        self._unconfirmed_cap = config.max_capacity
        self._bypass_until: float | None = None
        self._last_failure = float("-inf")

    @property
    def positive(self) -> CacheBackend:
        """The positive cache backend (fixed at construction)."""
        return self._positive

    @property
    def negative(self) -> CacheBackend:
        """The negative cache backend (fixed at construction)."""
        return self._negative

    @property
    def published(self) -> list[str]:
        """Every invalidation payload this resolver published, in order (a copy)."""
        return list(self._published)

    @property
    def cache_fallbacks(self) -> int:
        """Cache errors hardened mode absorbed (always 0 in V1, where they fail the request)."""
        return self._cache_fallbacks

    @property
    def unconfirmed_keys(self) -> int:
        """Hardened: how many keys are unconfirmed now (a write or invalidation of theirs raised,
        and no invalidation has succeeded `settle` seconds after the last failure). While the
        set is full, every key is untrusted, counted here or not. Always 0 in V1."""
        return len(self._unconfirmed)

    # -- hardened: unconfirmed keys ---------------------------------------------------------------

    def _unconfirm(self, key: TenantKey, positive_key: str, negative_key: str, op: str,
                   error: CacheError) -> None:
        """Hardened: a write or invalidation of `key` raised, so Redis may still apply it (or
        an earlier command) late: stop trusting the cache for `key`. With `max_capacity` keys
        unconfirmed already, a new one cannot be named, so the whole cache is bypassed until
        every entry such a late command can have left has expired: the longest TTL after the
        settle window of this failure (decision ``cache_bypassed``)."""
        now = self.clock()
        if now > self._last_failure:
            self._last_failure = now
        unconfirmed = self._unconfirmed
        known = key in unconfirmed
        if known or len(unconfirmed) < self._unconfirmed_cap:
            unconfirmed[key] = (positive_key, negative_key, now)
            if self._decisions is not None:
                self._decide("unconfirmed", key, "cache_error", {"op": op, "error": str(error), "failed_at": now,
                                                                 "again": known, "unconfirmed": len(unconfirmed)})
            return
        config = self.config
        until = now + config.settle + max(config.time_to_live, config.negative_ttl)
        started = self._bypass_until is None
        if started or until > self._bypass_until:  # type: ignore[operator]
            self._bypass_until = until
        if self._decisions is not None:
            self._decide("cache_bypassed", key, "unconfirmed_cap", {"op": op, "error": str(error), "failed_at": now,
                                                                    "until": until, "cap": self._unconfirmed_cap,
                                                                    "started": started})

    def _untrusted(self, key: TenantKey) -> bool:
        """Hardened: whether the cache may hold a value for `key` that a late command left."""
        until = self._bypass_until
        if until is not None:
            if self.clock() < until:
                return True
            self._bypass_until = None
            self._decide("cache_bypass_ended", None, None, {"unconfirmed": len(self._unconfirmed)})
        return key in self._unconfirmed

    def _delete_both(self, key: TenantKey | None, positive_key: str, negative_key: str,
                     reissued: bool) -> bool:
        """Delete both entries (errors ignored, as in Rust); hardened: a failure makes `key`
        unconfirmed, a success `settle` after the last failure confirms it. True if both
        deletes succeeded."""
        ok, now = True, self.clock()
        for backend, k, op in ((self.positive, positive_key, "invalidate"),
                               (self.negative, negative_key, "negative_invalidate")):
            try:
                backend.invalidate(k)
            except CacheError as exc:
                ok = False
                if self._decisions is not None:
                    detail: dict[str, object] = {"op": op, "error": str(exc), "ignored": True}
                    if reissued:
                        detail["reissued"] = True
                    self._decide("fell_back" if self.hardened else "cache_error", key, "cache_error", detail)
                if self.hardened and key is not None:
                    self._unconfirm(key, positive_key, negative_key, op, exc)
        if ok and key is not None and key in self._unconfirmed and now >= self._last_failure + self.config.settle:
            failed_at = self._unconfirmed.pop(key)[2]
            self._decide("confirmed", key, None, {"failed_at": failed_at, "last_failure": self._last_failure,
                                                  "unconfirmed": len(self._unconfirmed)})
        return ok

    def _unconfirmed_lookup(self, key: TenantKey) -> Outcome:
        """Hardened, `key` untrusted: re-issue its invalidation (both entries), then a miss
        whatever that gave: the ticket or a `Wait`, without reading either cache."""
        record = self._unconfirmed.get(key)
        positive_key, negative_key = (record[0], record[1]) if record is not None else (
            key.positive_key(), key.negative_key())
        ok = self._delete_both(key, positive_key, negative_key, reissued=True)
        self._negative_misses += 1
        self._misses += 1
        if self._decisions is not None:
            self._decide("unconfirmed_miss", key, None, {"reinvalidated": ok,
                                                         "still_unconfirmed": key in self._unconfirmed,
                                                         "bypass": self._bypass_until is not None})
        return self._coalesce(key)

    # -- cache access, with V1's 500 or hardened's fallback ----------------------------------------

    def _cache_error(self, error: CacheError, op: str, key: TenantKey) -> None:
        """V1: the error propagates (500). Hardened: log it and carry on as a miss / no-op."""
        if not self.hardened:
            self._decide("cache_error", key, op, {"error": str(error)})
            raise error
        self._cache_fallbacks += 1
        now = self.clock()
        if now > self._last_failure:
            self._last_failure = now
        self._decide("fell_back", key, "cache_error", {"op": op, "error": str(error)})

    def _negative_hit(self, key: TenantKey) -> bool:
        try:
            raw = self.negative.get(key.negative_key())
        except CacheError as exc:
            self._cache_error(exc, "negative_get", key)
            return False
        if raw is None:
            self._negative_misses += 1
            return False
        self._negative_hits += 1
        if self._decisions is not None:
            self._decide("negative_hit", key)
        return True

    def _hit_or_coalesce(self, key: TenantKey) -> Outcome:
        cache_key = key._positive or key.positive_key()  # the key caches its V1 strings
        try:
            raw = self.positive.get(cache_key)
        except CacheError as exc:
            self._cache_error(exc, "get", key)
            return self._coalesce(key)
        return self._positive_read(key, cache_key, raw)

    def _positive_read(self, key: TenantKey, cache_key: str, raw: bytes | None) -> Outcome:
        """What a positive-cache read gives: a hit (memoised by the stored bytes), a corrupt
        entry dropped (then a miss), or a miss (the ticket or a `Wait`)."""
        if raw is None:
            self._misses += 1
            return self._coalesce(key)
        self._hits += 1  # Rust counts the hit before deserialising
        memo = self._hit_memo.get(cache_key)
        if memo is not None and memo[0] == raw:
            hit = memo[1]
        else:
            try:
                context = TenantContext.from_json(raw)
            except ValueError as exc:  # TenantContextFormatError: what serde_json refuses
                # Rust: warn, invalidate the entry (ignoring errors), treat as a miss.
                self._decide("corrupt_entry", key, str(exc))
                try:
                    self.positive.invalidate(cache_key)
                except CacheError as error:
                    if self.hardened:
                        self._unconfirm(key, cache_key, key.negative_key(), "invalidate", error)
                return self._coalesce(key)
            hit = Hit(key, context)
            memo_table = self._hit_memo
            if len(memo_table) >= self._hit_memo_size and cache_key not in memo_table:
                del memo_table[next(iter(memo_table))]
            memo_table[cache_key] = (bytes(raw), hit)
        if self._decisions is not None:
            self._decide("hit", key)
        return hit

    def _on_coalesced(self, key: TenantKey) -> None:
        self._coalesced_requests += 1

    # -- the protocol ---------------------------------------------------------------------------

    def lookup(self, key: TenantKey) -> Outcome:
        """Negative cache (hit: raises `TenantNotFoundError`), positive cache (`Hit`), else the
        ticket or a `Wait`. V1: a cache error raises `CacheError`."""
        if type(key) is not TenantKey:
            _require_key(key)
        if (self._unconfirmed or self._bypass_until is not None) and self._untrusted(key):
            return self._unconfirmed_lookup(key)  # hardened only: V1 never has either
        # `_negative_hit`, inlined for the request path: a hit pays for two cache reads already.
        try:
            negative = self._negative_get(key._negative or key.negative_key())
        except CacheError as exc:
            self._cache_error(exc, "negative_get", key)
            negative = None
        if negative is not None:
            self._negative_hits += 1
            self._decide("negative_hit", key)
            raise TenantNotFoundError(key)
        self._negative_misses += 1
        # `_hit_or_coalesce`, inlined likewise; a memoised hit returns without another call.
        cache_key = key._positive or key.positive_key()
        try:
            raw = self._positive_get(cache_key)
        except CacheError as exc:
            self._cache_error(exc, "get", key)
            return self._coalesce(key)
        if raw is not None and self._decisions is None:
            memo = self._hit_memo.get(cache_key)
            if memo is not None and memo[0] == raw:
                self._hits += 1
                return memo[1]
        return self._positive_read(key, cache_key, raw)

    def resume(self, wait: Wait) -> Outcome:
        """V1: re-check the positive cache only; a miss loops (a new ticket or `Wait`).
        Hardened: the negative cache first (hit: `TenantNotFoundError`); for a load whose value
        was not cached because its key is unconfirmed, the loader's outcome (a `Hit` with the
        loaded context, or `TenantNotFoundError`); for an untrusted key no cache read at all."""
        self._check_resume(wait)
        key = wait.key
        if self.hardened:
            ticket = wait.ticket
            if ticket._shared:
                outcome = ticket.outcome
                if isinstance(outcome, TenantContext):
                    self._decide("shared", key, None, {"ticket": ticket.id})
                    return Hit(key, outcome)
                if isinstance(outcome, TenantNotFoundError):
                    self._decide("shared", key, "not_found", {"ticket": ticket.id})
                    raise TenantNotFoundError(key)
            if (self._unconfirmed or self._bypass_until is not None) and self._untrusted(key):
                self._negative_misses += 1
                self._misses += 1
                self._decide("unconfirmed_miss", key, None, {"resume": True})
                return self._coalesce(key)
            if self._negative_hit(key):
                raise TenantNotFoundError(key)
        return self._hit_or_coalesce(key)

    def complete(self, ticket: LoadTicket, result: LoadResult) -> TenantContext:
        """Finish a load. Returns the context (after writing the positive entry; V1: a write
        error raises `CacheError`). None writes the negative entry and raises
        `TenantNotFoundError`. An error raises `TenantDatabaseError` (500), nothing cached. A
        context serde_json cannot write (`TenantContext.to_json`: settings nested past its
        limit, which Rust's loader could not even have read) raises `TenantContextFormatError`
        (500), nothing cached. Then the `Wait.on_complete` callbacks of this ticket run, with that outcome."""
        _require_ticket(ticket)
        if result is not None and not isinstance(result, BaseException):
            _check_context(result)
        outcome: LoadOutcome | None = None
        try:
            if isinstance(result, BaseException):
                self._release(ticket, "failed")
                error = _as_database_error(result)
                outcome = error
                self._decide("load_failed", ticket.key, str(error))
                raise error from (None if error is result else result)
            if result is None:
                # In Rust the negative write happens inside the loader, before the release.
                try:
                    self._write(ticket, None)
                except CacheError as exc:
                    self._release(ticket, "failed")
                    outcome = exc
                    raise
                self._release(ticket, "not_found")
                outcome = TenantNotFoundError(ticket.key)
                self._decide("not_found", ticket.key)
                raise outcome
            # In Rust the waiters are released before the positive entry is written.
            self._release(ticket, "loaded")
            outcome = result
            try:
                self._write(ticket, result)
            except Exception as exc:  # V1's CacheError, or a context serde_json cannot write
                outcome = exc
                raise
            self._decide("loaded", ticket.key)
            return result
        finally:
            self._prune_epochs()
            if outcome is not None:
                ticket._finish(outcome)

    def _write(self, ticket: LoadTicket, context: TenantContext | None) -> None:
        key = ticket.key
        if self._is_stale(ticket, context):
            if self.hardened:
                self._decide("stale_discarded", key, "invalidated during load",
                             {"started_at": ticket.started_at})
                return
            self._anomaly("stale_publish",
                          f"load #{ticket.id} of {key} started before an invalidation and wrote "
                          f"its {'not-found' if context is None else 'value'} anyway",
                          {"key": str(key), "started_at": ticket.started_at})
        if (self._unconfirmed or self._bypass_until is not None) and self._untrusted(key):
            # Hardened only: a write now could be reordered with the late-applied commands.
            ticket._shared = True
            self._decide("write_skipped", key, "unconfirmed",
                         {"value": "not_found" if context is None else "context",
                          "bypass": self._bypass_until is not None})
            return
        if context is None:
            try:
                self.negative.set(key.negative_key(), b"")
            except CacheError as exc:
                self._cache_error(exc, "negative_set", key)
                self._unconfirm(key, key.positive_key(), key.negative_key(), "negative_set", exc)
                return
            self._negative_inserts += 1
            return
        try:
            self.positive.set(key.positive_key(), context.to_json())
        except CacheError as exc:
            self._cache_error(exc, "set", key)
            self._unconfirm(key, key.positive_key(), key.negative_key(), "set", exc)
            return
        if self.hardened:
            self._index(key, context)

    # -- invalidation ---------------------------------------------------------------------------

    def _index(self, key: TenantKey, context: TenantContext) -> None:
        """Remember that `key` and every alias of `context` belong to its tenant, so that
        invalidating any of them (cached here or not) finds all the others."""
        owned = self._tenant_keys.setdefault(context.id, set())
        for k in (key, *context.aliases()):
            if self._key_owner.get(k, context.id) != context.id:
                self._forget(k)  # the key now names another tenant (a slug or domain moved)
            self._key_owner[k] = context.id
            owned.add(k)

    def _forget(self, key: TenantKey) -> uuid.UUID | None:
        """Drop `key` from the alias index; returns the tenant it belonged to."""
        owner = self._key_owner.pop(key, None)
        if owner is not None:
            owned = self._tenant_keys.get(owner)
            if owned is not None:
                owned.discard(key)
                if not owned:
                    del self._tenant_keys[owner]
        return owner

    def _peek(self, key: TenantKey) -> TenantContext | None:
        """The cached context under `key`, without counting a hit or miss; None on any error."""
        try:
            raw = self.positive.get(key.positive_key())
            return TenantContext.from_json(raw) if raw is not None else None
        except (CacheError, ValueError):  # ValueError: an entry serde_json would refuse
            return None

    def _aliases(self, key: TenantKey) -> tuple[set[TenantKey], set[uuid.UUID]]:
        """Hardened: every key cached for the tenant behind `key`, from the cached contexts
        (uuid, slug, host of the tenant) and from the keys this instance wrote for it."""
        keys, tenant_ids = {key}, set()
        context = self._peek(key)
        if context is not None:
            tenant_ids.add(context.id)
        owner = self._key_owner.get(key)
        if owner is not None:
            tenant_ids.add(owner)
        for tenant_id in list(tenant_ids):
            for other in (context, self._peek(TenantKey.uuid(tenant_id))):
                if other is not None:
                    keys.update(other.aliases())
                    tenant_ids.add(other.id)
            keys.update(self._tenant_keys.get(tenant_id, ()))
        return keys, tenant_ids

    def invalidate(self, key: TenantKey) -> None:
        """Delete the positive and negative entry of `key` (errors ignored, as in Rust) and
        publish ``"<key>|<negative key>"``. Hardened: the same for every alias of its tenant."""
        _require_key(key)
        if self.hardened:
            keys, tenant_ids = self._aliases(key)
        else:
            keys, tenant_ids = {key}, set()
        for k in sorted(keys, key=str):
            self._delete_pair(k.positive_key(), k.negative_key(), k)
            self._publish(k.invalidation_payload(), k)
            self._forget(k)
        self._bump_epoch(keys, tenant_ids)

    def invalidate_identifier(self, identifier: str) -> None:
        """Rust `invalidate_tenant_cache(ctx, identifier)`: classify best-effort (UUID, then
        slug; anything else is taken as a UUID-kind key with the raw text) and invalidate."""
        try:
            classified = classify_identifier(identifier)
            key = TenantKey(classified.kind, classified.value)
        except TenantValidationError:
            key = TenantKey(IdentifierKind.UUID, identifier)
        self.invalidate(key)

    def _delete_pair(self, cache_key: str, negative_key: str, key: TenantKey | None) -> None:
        self._delete_both(key, cache_key, negative_key, reissued=False)
        self._decide("invalidated", key)

    def _publish(self, payload: str, key: TenantKey | None) -> None:
        self._published.append(payload)
        if self.publisher is not None:
            self.publisher(INVALIDATION_CHANNEL, payload)
        self._decide("published", key, INVALIDATION_CHANNEL, {"payload": payload})

    def apply_invalidation(self, payload: str) -> bool:
        """The V1 listener: a message from ``tenant.cache.invalidate`` deletes both keys locally.
        False (and nothing done) for a malformed payload. Nothing is re-published."""
        parsed = parse_invalidation_payload(payload)
        if parsed is None:
            self._decide("rejected", None, "malformed invalidation payload", {"payload": payload})
            return False
        cache_key, negative_key = parsed
        key = key_from_positive(cache_key)
        self._delete_pair(cache_key, negative_key, key)
        if key is not None:
            owner = self._forget(key)
            self._bump_epoch((key,), (owner,) if owner is not None else ())
        return True

    # -- reporting ------------------------------------------------------------------------------

    def stats(self) -> TenantCacheStats:
        base, negative = self.positive.stats(), self.negative.stats()
        return TenantCacheStats(
            hits=self._hits, misses=self._misses, evictions=base.evictions,
            negative_hits=self._negative_hits, negative_misses=self._negative_misses,
            negative_evictions=negative.evictions, entries=base.entries,
            negative_entries=negative.entries, negative_inserts=self._negative_inserts,
            coalesced_requests=self._coalesced_requests)


TenantResolver: TypeAlias = "MokaTenantResolver | MiddlewareTenantResolver"


def build_tenant_resolver(config: TenantResolverConfig | None = None, *, clock: Clock,
                          positive: CacheBackend | None = None, negative: CacheBackend | None = None,
                          publisher: Callable[[str, str], None] | None = None,
                          observer: Observer | None = None, name: str = COMPONENT) -> TenantResolver:
    """The resolver for ``config.variant``. `positive`, `negative` and `publisher` are for
    ``v1`` / ``hardened`` (V2 has one built-in moka cache and publishes nothing)."""
    config = _check_config(config, "build_tenant_resolver", TenantResolverConfig())
    if config.variant == "v2":
        if positive is not None or negative is not None or publisher is not None:
            raise ValueError("variant 'v2' has its own moka cache and publishes nothing: "
                             "positive / negative / publisher apply to 'v1' and 'hardened' only")
        return MokaTenantResolver(config, clock=clock, observer=observer, name=name)
    return MiddlewareTenantResolver(config, clock=clock, positive=positive, negative=negative,
                                    publisher=publisher, observer=observer, name=name)
