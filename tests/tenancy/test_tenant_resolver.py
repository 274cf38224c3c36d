"""What all three resolver behaviours share, and where they differ on the same story:
coalescing, failed loads, expiry at the boundaries, invalidation during a load."""

from __future__ import annotations

import uuid

import pytest
import simpy
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantNotFoundError
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import (
    LOAD_TRANSITIONS,
    Hit,
    LoadTicket,
    MiddlewareTenantResolver,
    MokaTenantResolver,
    ResolverProtocolError,
    TenantLoadFailed,
    TenantResolverConfig,
    Wait,
    build_tenant_resolver,
)

VARIANTS = ["v1", "v2", "hardened"]
ACME = TenantKey.slug("acme")


def resolver(variant: str, clock, observer=None, **config):  # noqa: ANN001, ANN201
    return build_tenant_resolver(TenantResolverConfig(variant=variant, **config), clock=clock,
                                 observer=observer, name=variant)


def test_factory_builds_each_behaviour(clock: ManualClock) -> None:
    assert isinstance(resolver("v2", clock), MokaTenantResolver)
    assert isinstance(resolver("v1", clock), MiddlewareTenantResolver)
    assert resolver("hardened", clock).hardened


def test_config_defaults_and_field_errors() -> None:
    c = TenantResolverConfig()
    assert (c.variant, c.max_capacity, c.time_to_live, c.time_to_idle, c.negative_ttl) == (
        "v1", 1000, 300.0, 60.0, 60.0)
    with pytest.raises(ValueError, match="max_capacity"):
        TenantResolverConfig(max_capacity=0)
    with pytest.raises(ValueError, match="variant"):
        TenantResolverConfig(variant="v3")
    with pytest.raises(ValueError, match="time_to_live"):
        TenantResolverConfig(time_to_live=float("inf"))


# -- coalescing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_n_concurrent_lookups_of_a_missing_key_run_exactly_one_load_in_simpy(
        variant: str, store: TenantStore, acme: TenantContext) -> None:
    """50 simpy processes ask for the same tenant at t=0; the load takes 50 ms of virtual time."""
    env = simpy.Environment()
    r = resolver(variant, lambda: env.now)
    done: dict[int, simpy.Event] = {}
    loads: list[float] = []
    results: list[tuple[float, TenantContext]] = []

    def request(env: simpy.Environment):  # noqa: ANN202
        outcome = r.lookup(ACME)
        while True:
            if isinstance(outcome, Hit):
                results.append((env.now, outcome.context))
                return
            if isinstance(outcome, LoadTicket):
                event = done.setdefault(outcome.id, env.event())
                loads.append(env.now)
                yield env.timeout(0.05)
                results.append((env.now, r.complete(outcome, store.find(outcome.key))))
                event.succeed()
                return
            assert isinstance(outcome, Wait)
            yield done.setdefault(outcome.ticket.id, env.event())
            outcome = r.resume(outcome)

    for _ in range(50):
        env.process(request(env))
    env.run()
    assert loads == [0.0]
    assert results == [(0.05, acme)] * 50


@pytest.mark.parametrize("variant", VARIANTS)
def test_coalescing_with_the_fifo_driver(variant: str, clock: ManualClock, make_driver, acme) -> None:
    r = resolver(variant, clock)
    d = make_driver(r, load_time=0.02)
    assert d.run([ACME] * 20) == [acme] * 20
    assert d.loads == [ACME]
    assert d.run([ACME] * 5) == [acme] * 5  # now cached
    assert d.loads == [ACME]


@pytest.mark.parametrize("variant", VARIANTS)
def test_different_keys_load_independently(variant: str, clock: ManualClock) -> None:
    r = resolver(variant, clock)
    a, b = r.lookup(ACME), r.lookup(TenantKey.slug("globex"))
    assert isinstance(a, LoadTicket) and isinstance(b, LoadTicket)
    assert set(r.in_flight) == {ACME, TenantKey.slug("globex")}


@pytest.mark.parametrize("variant", VARIANTS)
def test_protocol_misuse_is_a_precise_error(variant: str, clock: ManualClock, acme) -> None:
    r = resolver(variant, clock)
    ticket = r.lookup(ACME)
    wait = r.lookup(ACME)
    with pytest.raises(ResolverProtocolError, match="still in flight"):
        r.resume(wait)
    with pytest.raises(ResolverProtocolError, match="a synchronous resolve cannot wait"):
        r.resolve(ACME, lambda key: acme)
    r.complete(ticket, acme)
    with pytest.raises(ResolverProtocolError, match="already completed"):
        r.complete(ticket, acme)
    r.resume(wait)
    with pytest.raises(ResolverProtocolError, match="already resumed"):
        r.resume(wait)
    other = resolver(variant, clock)
    with pytest.raises(ResolverProtocolError, match="not issued"):
        other.complete(ticket, acme)
    with pytest.raises(TypeError, match="TenantKey"):
        r.lookup("acme")


# -- failed loads --------------------------------------------------------------------------------


def test_v2_failed_load_is_seen_by_every_waiter_and_not_cached(clock: ManualClock, acme) -> None:
    r = resolver("v2", clock)
    ticket, *waits = [r.lookup(ACME) for _ in range(4)]
    with pytest.raises(TenantLoadFailed) as info:
        r.complete(ticket, TenantDatabaseError("connection reset"))
    assert str(info.value) == "Failed to load tenant: Database error: connection reset"
    for w in waits:
        with pytest.raises(TenantLoadFailed, match="Database error: connection reset"):
            r.resume(w)
    retry = r.lookup(ACME)
    assert isinstance(retry, LoadTicket)  # not cached
    assert r.complete(retry, acme) == acme


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_v1_failed_load_sends_waiters_back_to_load_one_at_a_time(variant: str, clock: ManualClock,
                                                                 make_driver, acme) -> None:
    r = resolver(variant, clock)
    d = make_driver(r)
    d.fail_next = [TenantDatabaseError("connection reset")]
    results = d.run([ACME] * 4)
    assert isinstance(results[0], TenantDatabaseError) and results[0].http_status == 500
    assert results[1:] == [acme] * 3  # the first woken waiter loaded again, the others waited on it
    assert d.loads == [ACME, ACME]
    assert r.stats().negative_inserts == 0 and r.stats().entries == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_an_arbitrary_loader_exception_is_a_database_error(variant: str, clock: ManualClock) -> None:
    r = resolver(variant, clock)
    with pytest.raises((TenantDatabaseError, TenantLoadFailed), match="Database error: disk on fire"):
        r.complete(r.lookup(ACME), OSError("disk on fire"))


# -- expiry at the boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_positive_entry_expires_exactly_at_ttl(variant: str, clock: ManualClock, acme) -> None:
    r = resolver(variant, clock)
    r.complete(r.lookup(ACME), acme)
    for t in range(0, 300, 50):  # keep it from going idle
        clock.set(float(t) + 49.999)
        assert isinstance(r.lookup(ACME), Hit)
    clock.set(299.999)
    assert isinstance(r.lookup(ACME), Hit)
    clock.set(300.0)
    assert isinstance(r.lookup(ACME), LoadTicket)


def test_v2_entry_expires_exactly_at_tti(clock: ManualClock, acme) -> None:
    r = resolver("v2", clock)
    r.complete(r.lookup(ACME), acme)
    clock.set(59.999)
    assert isinstance(r.lookup(ACME), Hit)  # the hit restarts the idle time
    clock.set(119.998)
    assert isinstance(r.lookup(ACME), Hit)
    clock.set(179.998)
    assert isinstance(r.lookup(ACME), LoadTicket)


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_v1_has_no_tti(variant: str, clock: ManualClock, acme) -> None:
    r = resolver(variant, clock)
    r.complete(r.lookup(ACME), acme)
    clock.set(299.0)
    assert isinstance(r.lookup(ACME), Hit)


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_negative_entry_expires_exactly_at_60_s(variant: str, clock: ManualClock) -> None:
    r = resolver(variant, clock)
    nobody = TenantKey.slug("nobody")
    with pytest.raises(TenantNotFoundError):
        r.complete(r.lookup(nobody), None)
    clock.set(59.999)
    with pytest.raises(TenantNotFoundError):
        r.lookup(nobody)
    clock.set(60.0)
    assert isinstance(r.lookup(nobody), LoadTicket)


# -- invalidation during a load, in both orders ---------------------------------------------------------


@pytest.mark.parametrize("variant, stale_cached", [("v1", True), ("v2", True), ("hardened", False)])
def test_invalidate_while_a_load_is_in_flight(variant: str, stale_cached: bool, clock: ManualClock,
                                              recorder: TraceRecorder, store: TenantStore, acme) -> None:
    """The load read the row, then the tenant was renamed and invalidated, then the load ends."""
    r = resolver(variant, clock, recorder)
    ticket = r.lookup(ACME)
    stale = store.find(ACME)
    clock.advance(0.01)
    fresh = store.update(acme.id, name="Acme Renamed")
    r.invalidate(ACME)
    clock.advance(0.01)
    assert r.complete(ticket, stale) == stale  # the loading request gets what it read
    after = r.lookup(ACME)
    if stale_cached:
        assert isinstance(after, Hit) and after.context == stale
        assert [a.anomaly for a in recorder.anomalies()] == ["stale_publish"]
    else:
        assert isinstance(after, LoadTicket)
        assert r.complete(after, store.find(ACME)) == fresh
        assert [d.decision for d in recorder.of_kind("decision") if d.decision == "stale_discarded"] == [
            "stale_discarded"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_invalidate_after_the_load_completed(variant: str, clock: ManualClock, store: TenantStore,
                                             acme) -> None:
    r = resolver(variant, clock)
    r.complete(r.lookup(ACME), acme)
    fresh = store.update(acme.id, name="Acme Renamed")
    r.invalidate(ACME)
    ticket = r.lookup(ACME)
    assert isinstance(ticket, LoadTicket)
    assert r.complete(ticket, store.find(ACME)) == fresh
    assert isinstance(r.lookup(ACME), Hit)


@pytest.mark.parametrize("variant", VARIANTS)
def test_invalidating_another_key_does_not_make_a_load_stale(variant: str, clock: ManualClock,
                                                             acme) -> None:
    r = resolver(variant, clock)
    ticket = r.lookup(ACME)
    r.invalidate(TenantKey.slug("globex"))
    r.complete(ticket, acme)
    assert isinstance(r.lookup(ACME), Hit)


# -- trace ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_load_slot_transitions_follow_the_table(variant: str, clock: ManualClock,
                                                recorder: TraceRecorder, acme) -> None:
    r = resolver(variant, clock, recorder)
    r.complete(r.lookup(ACME), acme)
    with pytest.raises((TenantNotFoundError, TenantLoadFailed)):
        r.complete(r.lookup(TenantKey.slug("nobody")), None)
    with pytest.raises((TenantDatabaseError, TenantLoadFailed)):
        r.complete(r.lookup(TenantKey.slug("other")), TenantDatabaseError("x"))
    seen = {(t.from_state, t.to_state, t.trigger) for t in recorder.transitions("tenant_resolver")}
    assert seen == {(e.source, e.target, e.trigger) for e in LOAD_TRANSITIONS}
    assert {t.instance for t in recorder.transitions("tenant_resolver")} == {
        f"{variant}[slug:acme]", f"{variant}[slug:nobody]", f"{variant}[slug:other]"}


# -- a property over random interleavings --------------------------------------------------------------------

_KEYS = [TenantKey.slug("acme"), TenantKey.slug("globex"), TenantKey.slug("nobody"),
         TenantKey.uuid(uuid.UUID(int=7))]


@given(variant=st.sampled_from(VARIANTS),
       steps=st.lists(st.tuples(st.sampled_from(["lookup", "finish", "resume", "advance", "invalidate"]),
                                st.integers(0, len(_KEYS) - 1), st.floats(0, 90)), max_size=60))
def test_random_interleavings_keep_one_load_per_key_and_answer_correctly(variant: str, steps: list) -> None:
    clock = ManualClock()
    store = TenantStore()
    store.create("Acme", "acme")
    store.create("Globex", "globex")
    r = resolver(variant, clock, max_capacity=2)
    tickets: list[LoadTicket] = []
    waits: list[Wait] = []
    loading: set[TenantKey] = set()

    def check(key: TenantKey, outcome: object) -> None:
        if isinstance(outcome, LoadTicket):
            assert key not in loading, "two loads of one key at once"
            loading.add(key)
            tickets.append(outcome)
        elif isinstance(outcome, Wait):
            assert key in loading
            waits.append(outcome)
        else:
            assert isinstance(outcome, Hit) and outcome.context == store.find(key)

    def expect_not_found(key: TenantKey, call):  # noqa: ANN001, ANN202
        try:
            return call()
        except (TenantNotFoundError, TenantLoadFailed):
            assert store.find(key) is None
            return None

    for op, i, dt in steps:
        key = _KEYS[i]
        if op == "lookup":
            outcome = expect_not_found(key, lambda: r.lookup(key))
            if outcome is not None:
                check(key, outcome)
        elif op == "finish" and tickets:
            ticket = tickets.pop(0)
            loading.discard(ticket.key)
            result = expect_not_found(ticket.key, lambda: r.complete(ticket, store.find(ticket.key)))
            assert result == store.find(ticket.key)
        elif op == "resume" and waits and waits[0].ready:
            w = waits.pop(0)
            outcome = expect_not_found(w.key, lambda: r.resume(w))
            if outcome is not None:
                check(w.key, outcome)
        elif op == "advance":
            clock.advance(dt)
        elif op == "invalidate":
            r.invalidate(key)
        assert set(r.in_flight) == loading
        entries = r.stats().entries
        assert entries <= 2
