"""Tenant-resolution invariants over a trace.

- `No5xxFromCacheOutage`: no request ends in a 5xx because of a cache error. The cache is an
  optimisation; RusToK's error-handling policy says a cache failure falls back to the database.
  V1 answers 500 instead (spec §6.2, §7). Reads the ``http`` ``responded`` decisions (reason: the
  status; detail ``cause``: ``"cache"`` when a cache error ended the request).
- `Coalescing`: at most one load in flight per key: the resolver's load slot (``tenant_resolver``
  transitions, ``idle -> loading`` on ``miss``) never starts a load for a key already loading.
- `NoReloadStorm`: while the cache is up, a tenant that was not found is not loaded again while
  its not-found is cached (`negative_ttl`). V1 waiters re-check only the positive cache after
  the load, so each becomes the loader in turn (spec §6.2). While the cache is down (a
  ``redis_outage`` fault, or a circuit breaker that is not Closed) nothing can be cached, so
  loads then are not counted, and not-founds from before are forgotten. Likewise for one key the
  hardened resolver does not trust the cache for (decisions ``unconfirmed``: a write or
  invalidation of it raised, and ``write_skipped``: its not-found was not cached): its earlier
  not-found is forgotten and one it did not cache is not remembered. V2 caches no not-found by
  design (spec §6.3, "TTL handles it"): the invariant does not apply and says so.
"""

from __future__ import annotations

from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.conformance.invariants.verdict import KnownDefect, Verdict, judge
from rustok_sim.model.core.trace import TraceRecord
from rustok_sim.model.resilience.circuit_breaker import COMPONENT as BREAKER

__all__ = ["Coalescing", "No5xxFromCacheOutage", "NoReloadStorm"]

_RESOLVER = "tenant_resolver"
_UNTRUSTED = frozenset({"unconfirmed", "write_skipped"})
"""Hardened resolver decisions after which a key's cached not-found is not trusted, or not written."""


class No5xxFromCacheOutage:
    invariant = "no_5xx_from_cache_outage"
    kinds = frozenset({"decision"})

    def __init__(self, defect: KnownDefect | None = None) -> None:
        self.defect = defect
        self.responses = 0
        self.cache_5xx = 0
        self.other_5xx = 0

    def feed(self, record: TraceRecord) -> None:
        if record.component != v.HTTP or record.decision != v.RESPONDED:  # type: ignore[attr-defined]
            return
        self.responses += 1
        reason = record.reason or ""  # type: ignore[attr-defined]
        if reason.startswith("5"):
            if (record.detail or {}).get("cause") == "cache":  # type: ignore[attr-defined]
                self.cache_5xx += 1
            else:
                self.other_5xx += 1

    def verdict(self) -> Verdict:
        detail = (f"{self.cache_5xx} of {self.responses} responses were 5xx caused by a cache error"
                  f" ({self.other_5xx} other 5xx)")
        return judge(self.invariant, self.cache_5xx, detail, self.defect)


class Coalescing:
    invariant = "coalescing"
    kinds = frozenset({"transition"})

    def __init__(self) -> None:
        self.loading: set[str] = set()
        self.loads = 0
        self.doubled = 0

    def feed(self, record: TraceRecord) -> None:
        if record.component != _RESOLVER:  # type: ignore[attr-defined]
            return
        instance = record.instance  # type: ignore[attr-defined]
        if record.to_state == "loading":  # type: ignore[attr-defined]
            self.loads += 1
            if instance in self.loading:
                self.doubled += 1
            self.loading.add(instance)
        else:
            self.loading.discard(instance)

    def verdict(self) -> Verdict:
        return judge(self.invariant, self.doubled,
                     f"{self.loads} loads; {self.doubled} started while the same key was loading", None)


class NoReloadStorm:
    invariant = "no_reload_storm"
    kinds = frozenset({"transition", "fault", "decision"})

    def __init__(self, defect: KnownDefect | None = None, negative_ttl: float = 60.0, *,
                 negative_cache: bool = True) -> None:
        self.defect, self.negative_ttl, self.negative_cache = defect, negative_ttl, negative_cache
        self.not_found_at: dict[str, float] = {}
        self.not_found = 0
        self.reloads = 0
        self.outages = 0
        self.breakers_down: set[str] = set()
        self.uncached: set[str] = set()
        """Load slots (instances) whose next not-found the resolver does not cache."""

    def feed(self, record: TraceRecord) -> None:
        if record.kind == "decision":
            if record.component == _RESOLVER and record.decision in _UNTRUSTED:  # type: ignore[attr-defined]
                key = (record.detail or {}).get("key")  # type: ignore[attr-defined]
                if key is not None:
                    slot = f"{record.instance}[{key}]"  # type: ignore[attr-defined]
                    self.not_found_at.pop(slot, None)
                    if record.decision == "write_skipped":  # type: ignore[attr-defined]
                        self.uncached.add(slot)
            return
        if record.kind == "fault":
            if record.fault == v.REDIS_OUTAGE:  # type: ignore[attr-defined]
                phase = record.phase  # type: ignore[attr-defined]
                if phase == "start":
                    self.outages += 1
                    self.not_found_at.clear()
                elif phase == "end":
                    self.outages = max(self.outages - 1, 0)
            return
        component = record.component  # type: ignore[attr-defined]
        if component == BREAKER:
            if record.to_state == "closed":  # type: ignore[attr-defined]
                self.breakers_down.discard(record.instance)  # type: ignore[attr-defined]
            else:
                self.breakers_down.add(record.instance)  # type: ignore[attr-defined]
                self.not_found_at.clear()
            return
        if component != _RESOLVER or record.trigger != "not_found":  # type: ignore[attr-defined]
            return
        instance = record.instance  # type: ignore[attr-defined]
        uncached = instance in self.uncached
        if uncached:
            self.uncached.discard(instance)
        if self.outages or self.breakers_down:
            return
        self.not_found += 1
        if uncached:
            return
        previous = self.not_found_at.get(instance)
        if previous is not None and record.t - previous < self.negative_ttl:
            self.reloads += 1
        else:
            self.not_found_at[instance] = record.t

    def verdict(self) -> Verdict:
        if not self.negative_cache:
            return judge(self.invariant, 0, f"not applicable: this resolver caches no not-found (spec §6.3); "
                                            f"{self.not_found} loads found no tenant", None)
        detail = (f"{self.not_found} loads found no tenant; {self.reloads} of them reloaded a tenant whose "
                  f"not-found was cached (within {self.negative_ttl:g} s)")
        return judge(self.invariant, self.reloads, detail, self.defect)
