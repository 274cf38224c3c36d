"""The tenant resolver cache suite: a target resolver and the reference driven side by side under
one controlled clock, over a small world of tenants that the suite keeps as "the database".

Each example draws a config for the suite's variant (``v2``, the moka resolver; ``v1``, the live
middleware; ``hardened``): a capacity of 1 to 4 entries and short TTL, TTI and negative TTL, so
expiry and eviction happen within a few steps. The world is three tenants, each reachable by
uuid, slug and host, plus a slug and a host no tenant has. Steps:

- ``lookup`` of any key: a hit (its key and context), the load ticket (its key) or a wait (on
  which key), or the error (kind, text, HTTP status);
- ``complete`` one outstanding load with what the database holds for its key *now* (a context,
  or None for a missing tenant) or with a database error;
- ``resume`` one wait (also one whose load has not completed: both must refuse it alike);
- invalidation by uuid, slug or host, or of the key itself (V1 and hardened also
  ``invalidate_identifier`` with the raw text, and ``apply_invalidation`` of a published or a
  malformed payload; V2 ``invalidate_all``);
- a rename of a tenant in the database, so a stale value is visible as a different context;
- clock moves: small steps, and to exactly (or a microsecond before) a TTL, TTI or negative-TTL
  deadline counted from the time of an earlier completed load or hit.

After every step it compares ``stats()`` field by field, the loads in flight (key and waiter
count), and for V1 and hardened the invalidation payloads published and the cache fallbacks.
Tickets and waits are paired across the two sides the way the breaker suite pairs permits.

Goals: a load that coalesces three waiters, an invalidation while a load of that key is in
flight (then the load completes), an expiry observed at an exact deadline, and a failed load
that is not cached (the next lookup loads again). Eviction by capacity and expiry by TTL and TTI
are edges of the cache-entry table (`ENTRY_TRANSITIONS`), so coverage requires them.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rustok_sim.conformance.suites.differential import DifferentialMachine, Outcome
from rustok_sim.conformance.targets import Factory, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.tenancy.cache import ENTRY_TRANSITIONS
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError
from rustok_sim.model.tenancy.http import http_status
from rustok_sim.model.tenancy.keys import IdentifierKind, TenantKey
from rustok_sim.model.tenancy.resolver import LoadTicket, TenantResolverConfig, Wait, build_tenant_resolver

__all__ = ["COMPONENT", "PROTOCOL_OF", "VARIANTS", "reference_resolver", "resolver_suite"]

COMPONENT = "tenant_resolver"
VARIANTS = ("v2", "v1", "hardened")
PROTOCOL_OF = {"v2": "tenant_resolver_v2", "v1": "tenant_resolver_v1", "hardened": "tenant_resolver_hardened"}
"""Variant -> the protocol (`rustok_sim.conformance.protocols.PROTOCOLS`) its targets speak."""

_TENANTS = tuple(TenantContext(id=uuid.UUID(int=0x51A0 + n), name=f"Tenant {n}", slug=f"tenant-{n}",
                               domain=f"t{n}.example.com") for n in range(3))
_KEYS = tuple(key for tenant in _TENANTS for key in tenant.aliases()) + (
    TenantKey.slug("ghost"), TenantKey.host("ghost.example.com"))


def reference_resolver(config: TenantResolverConfig, clock: Any, observer: Any = None) -> Any:
    return build_tenant_resolver(config, clock=clock, observer=observer, name="reference")


def _seen(outcome: Any) -> Any:
    """What a lookup or resume returned, as a comparable value. A target's outcome types need
    not be ours: a hit has a ``context``, a wait the ``ticket`` it waits on, a load ticket
    ``waiters`` (the protocol's attributes)."""
    if hasattr(outcome, "context"):
        return ("hit", str(outcome.key), outcome.context)
    if hasattr(outcome, "ticket"):
        return ("wait", str(outcome.key), str(outcome.ticket.key))
    if hasattr(outcome, "waiters"):
        return ("load", str(outcome.key))
    return ("returned", outcome)


class _ResolverSuite(DifferentialMachine):
    factory: Factory
    table = ENTRY_TRANSITIONS
    error_fields = ("http_status", "inner")
    free_text_errors = frozenset({"ResolverProtocolError"})
    goals = {"coalesced_three_waiters": "a load that three lookups waited on completes",
             "invalidated_during_load": "a key invalidated while its load was in flight, then the load completes",
             "expired_at_deadline": "a lookup at exactly a TTL / TTI / negative-TTL deadline that misses",
             "failure_not_cached": "a lookup right after a failed load of its key starts a new load"}

    def now(self) -> float | None:
        return self.clock.now if hasattr(self, "clock") else None

    @initialize(capacity=st.integers(1, 4), ttl=st.sampled_from([4.0, 10.0]),
                tti=st.sampled_from([None, 2.0, 6.0]), negative_ttl=st.sampled_from([1.0, 3.0]))
    def setup(self, capacity: int, ttl: float, tti: float | None, negative_ttl: float) -> None:
        self.config = TenantResolverConfig(variant=self.variant, max_capacity=capacity,  # type: ignore[arg-type]
                                           time_to_live=ttl, time_to_idle=tti, negative_ttl=negative_ttl)
        self.clock = ManualClock()
        self.reference = reference_resolver(self.config, self.clock, self.reference_observer(self.clock))
        self.target = build_target(self.factory, self.config, self.clock, PROTOCOL_OF[self.variant],
                                   self.target_name)
        self.database: dict[uuid.UUID, TenantContext] = {t.id: t for t in _TENANTS}
        self.loads: list[tuple[Any, Any]] = []
        self.waits: list[tuple[Any, Any]] = []
        self.marks: list[float] = [0.0]
        self.failed: set[TenantKey] = set()
        self.loaded: list[TenantKey] = []
        self.invalidated_loading: set[TenantKey] = set()
        self.steps = [f"config {self.config.model_dump()}"]

    # -- helpers ------------------------------------------------------------------------------------

    def _tenant_of(self, key: TenantKey) -> TenantContext | None:
        for tenant in self.database.values():
            if key in tenant.aliases():
                return tenant
        return None

    def _outcome(self, target: Outcome, reference: Outcome) -> None:
        """Compare a lookup or resume; keep the ticket or wait pairs it handed out."""
        self.same_outcome(target, reference)
        if reference[0] == "error":
            self.same("error HTTP status", http_status(target[1]), http_status(reference[1]))
            return
        self.same("returned", _seen(target[1]), _seen(reference[1]))
        if isinstance(reference[1], LoadTicket):
            self.loads.append((target[1], reference[1]))
        elif isinstance(reference[1], Wait):
            self.waits.append((target[1], reference[1]))
        else:
            self.marks.append(self.clock.now)

    def _paired(self, method: str, pair: tuple[Any, Any], *args: Any) -> tuple[Outcome, Outcome]:
        objects = {id(self.target): pair[0], id(self.reference): pair[1]}
        label = f"{method}({pair[1].key}{''.join(f', {a!r}' for a in args)})"
        return self.both(label, lambda r: getattr(r, method)(objects[id(r)], *args))

    # -- rules --------------------------------------------------------------------------------------

    @rule(index=st.integers(0, len(_KEYS) - 1), times=st.integers(1, 3))
    def lookup(self, index: int, times: int) -> None:
        key = _KEYS[index]
        for _ in range(times):
            deadline = self.clock.now in self.deadlines()
            before = len(self.loads)
            self._outcome(*self.both(f"lookup({key})", lambda r: r.lookup(key)))
            started = len(self.loads) > before
            if started and deadline:
                self.reached("expired_at_deadline")
            if started and key in self.failed:
                self.reached("failure_not_cached")
            self.failed.discard(key)

    @rule(indices=st.lists(st.integers(0, len(_KEYS) - 1), min_size=1, max_size=4))
    def requests(self, indices: list[int]) -> None:
        """Whole requests one after another (a lookup, and on a miss the load completed at once
        with what the database holds): how a cache fills, evicts and serves hits."""
        for index in indices:
            before = len(self.loads)
            self.lookup(index, 1)
            if len(self.loads) > before:
                self.complete(len(self.loads) - 1, "database")

    @rule(index=st.integers(0, len(_KEYS) - 1), waiters=st.integers(1, 3))
    def stampede(self, index: int, waiters: int) -> None:
        """Concurrent requests for one key: a lookup each, the load completed from the database,
        then every waiter resumed in turn (a waiter that becomes the loader completes at once)."""
        waits = len(self.waits)
        self.lookup(index, waiters + 1)
        while len(self.waits) > waits:
            ticket = self.waits[waits][1].ticket
            if not ticket.done:  # the load they wait on (begun here, or in flight from before)
                self.complete(next(n for n, pair in enumerate(self.loads) if pair[1] is ticket), "database")
            self.resume(waits)

    def deadlines(self) -> set[float]:
        spans = [self.config.time_to_live, self.config.negative_ttl]
        if self.config.time_to_idle is not None:
            spans.append(self.config.time_to_idle)
        return {mark + span for mark in self.marks for span in spans}

    @precondition(lambda self: self.loads)
    @rule(index=st.integers(0, 100), result=st.sampled_from(["database", "database", "error"]))
    def complete(self, index: int, result: str) -> None:
        pair = self.loads.pop(index % len(self.loads))
        key = pair[1].key
        waiters = pair[1].waiters
        value: Any = TenantDatabaseError("connection reset") if result == "error" else self._tenant_of(key)
        target, reference = self._paired("complete", pair, value)
        self.same_outcome(target, reference)
        if reference[0] == "error":
            self.same("error HTTP status", http_status(target[1]), http_status(reference[1]))
        else:
            self.same("returned", target[1], reference[1])
        self.marks.append(self.clock.now)
        self.loaded.append(key)
        if result == "error":
            self.failed.add(key)
        if waiters >= 3:
            self.reached("coalesced_three_waiters")
        if key in self.invalidated_loading:
            self.invalidated_loading.discard(key)
            self.reached("invalidated_during_load")

    @precondition(lambda self: self.waits)
    @rule(index=st.integers(0, 100))
    def resume(self, index: int) -> None:
        at = index % len(self.waits)
        pair = self.waits[at]
        if pair[1].ready:
            del self.waits[at]
        self._outcome(*self._paired("resume", pair))

    @rule(index=st.integers(0, len(_KEYS) - 1), how=st.sampled_from(["alias", "key", "identifier", "all"]),
          recent=st.booleans())
    def invalidate(self, index: int, how: str, recent: bool) -> None:
        """Invalidate one key, half the time one of the last three loaded (so likely cached);
        or (V2) everything."""
        key = self.loaded[-1 - index % min(3, len(self.loaded))] if recent and self.loaded else _KEYS[index]
        if how == "all" and self.variant == "v2":
            self.invalidated_loading.update(self.reference.in_flight)
            self.same_outcome(*self.both("invalidate_all()", lambda r: r.invalidate_all()))
            return
        if how == "identifier" and self.variant == "v2" or how == "all":
            how = "key"
        if how == "alias":
            method = {IdentifierKind.UUID: "invalidate_by_uuid", IdentifierKind.SLUG: "invalidate_by_slug",
                      IdentifierKind.HOST: "invalidate_by_host"}[key.kind]
            label, call = f"{method}({key.value!r})", (lambda r: getattr(r, method)(key.value))
        elif how == "key":
            label, call = f"invalidate({key})", (lambda r: r.invalidate(key))
        else:
            label, call = f"invalidate_identifier({key.value!r})", (lambda r: r.invalidate_identifier(key.value))
        if key in self.reference.in_flight:
            self.invalidated_loading.add(key)
        self.same_outcome(*self.both(label, call))

    @precondition(lambda self: self.variant != "v2")
    @rule(which=st.integers(0, 100), malformed=st.booleans())
    def apply_invalidation(self, which: int, malformed: bool) -> None:
        published = self.reference.published
        payload = "tenant:v1:slug" if malformed or not published else published[which % len(published)]
        self.same_outcome(*self.both(f"apply_invalidation({payload!r})", lambda r: r.apply_invalidation(payload)),
                          compare_values=True)

    @rule(tenant=st.integers(0, len(_TENANTS) - 1))
    def rename(self, tenant: int) -> None:
        """The tenant's row changes: a value cached before is stale from now on."""
        current = self.database[_TENANTS[tenant].id]
        self.database[current.id] = current.with_changes(name=current.name + "'")
        self.steps.append(f"database: rename {current.slug} to {current.name + chr(39)!r}")

    @rule(seconds=st.sampled_from([0.5, 1.0, 3.0]))
    def advance(self, seconds: float) -> None:
        self.steps.append(f"advance {seconds:g}")
        self.clock.advance(seconds)

    @rule(mark=st.integers(1, 3), span=st.sampled_from(["time_to_live", "time_to_idle", "negative_ttl"]),
          early=st.booleans())
    def advance_to_deadline(self, mark: int, span: str, early: bool) -> None:
        """Move to exactly (or a microsecond before) a deadline counted from one of the last
        three loads or hits (the entries whose deadlines are still ahead)."""
        length = getattr(self.config, span)
        if length is None:
            return
        deadline = self.marks[-min(mark, len(self.marks))] + length - (1e-6 if early else 0.0)
        if deadline <= self.clock.now:
            return
        self.steps.append(f"advance {deadline - self.clock.now:.10g} (to t={deadline:.10g}: {span} from a mark)")
        self.clock.set(deadline)

    # -- after every step ---------------------------------------------------------------------------

    def moves_are_edges_of_the_table(self) -> None:
        """A load slot is ``loading`` exactly while its key is in `in_flight`; both moves
        (miss, and the load's end) are edges of `LOAD_TRANSITIONS`, so there is nothing to
        check per operation beyond what `observably_the_same` compares."""

    @invariant()
    def observably_the_same(self) -> None:
        if not hasattr(self, "target"):
            return
        target_stats, reference_stats = self.target.stats(), self.reference.stats()
        for name in type(reference_stats).__dataclass_fields__:
            self.same(f"stats().{name}", getattr(target_stats, name, None), getattr(reference_stats, name))
        self.same("in_flight", {str(k): t.waiters for k, t in self.target.in_flight.items()},
                  {str(k): t.waiters for k, t in self.reference.in_flight.items()})
        if self.variant != "v2":
            self.same("published", self.target.published, self.reference.published)
        if self.variant == "hardened":
            self.same("cache_fallbacks", self.target.cache_fallbacks, self.reference.cache_fallbacks)
            self.same("unconfirmed_keys", self.target.unconfirmed_keys, self.reference.unconfirmed_keys)


_INSERT_OVER_LIVE = ("fresh", "fresh", "insert")
_EXPIRE_TTI = ("fresh", "absent", "expire_tti")
OPTIONAL_EDGES: dict[str, frozenset[tuple[str, str, str]]] = {
    # V2 starts a load only for a key with no live entry and no load in flight, so nothing is
    # ever inserted over a live entry.
    "v2": frozenset({_INSERT_OVER_LIVE}),
    # V1's backends have a TTL only (no TTI). V1 does insert over a live entry: a waiter woken by
    # a not-found re-checks only the positive cache, loads again and rewrites the negative entry.
    "v1": frozenset({_EXPIRE_TTI}),
    # Hardened waiters consult the negative cache too, which closes that path.
    "hardened": frozenset({_EXPIRE_TTI, _INSERT_OVER_LIVE}),
}
"""Per variant, the cache-entry edges no run can reach, and why."""


def resolver_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's state machine for one target factory and one resolver variant."""
    return type(f"TenantResolverSuite_{variant}", (_ResolverSuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name,
                 "optional_edges": OPTIONAL_EDGES.get(variant, frozenset())})
