"""The resolver after the refit: corrupt entries serde would refuse, completion hooks for drivers,
one component per table in the trace, observers asked once, readers without side effects, and
constructors that say what they expected."""

from __future__ import annotations

import pytest
import simpy

from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.core.transitions import coverage
from rustok_sim.model.tenancy.cache import ENTRY_TRANSITIONS
from rustok_sim.model.tenancy.context import TenantContext, TenantContextFormatError, TenantNotFoundError
from rustok_sim.model.tenancy.keys import TenantKey
from rustok_sim.model.tenancy.resolver import (
    LOAD_TRANSITIONS,
    PROFILE_VARIANTS,
    Hit,
    LoadTicket,
    MiddlewareTenantResolver,
    MokaTenantResolver,
    TenantLoadFailed,
    TenantResolverConfig,
    Wait,
    build_tenant_resolver,
)

VARIANTS = ["v1", "v2", "hardened"]
ACME = TenantKey.slug("acme")


def resolver(variant: str, clock, observer=None):  # noqa: ANN001, ANN201
    return build_tenant_resolver(TenantResolverConfig(variant=variant), clock=clock, observer=observer,
                                 name=f"tenants-{variant}")


def poisoned(acme: TenantContext, depth: int = 5_000) -> bytes:
    """acme's cached JSON with its settings nested `depth` levels deep."""
    good = acme.to_json().decode()
    settings = '"settings":' + "[" * depth + "]" * depth
    return good.replace('"settings":{"plan":"pro"}', settings).encode()


# -- poisoned entries: a parse error, then the corrupt-entry handling ------------------------------


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_a_deeply_nested_cached_context_is_a_corrupt_entry_not_a_500_for_its_whole_ttl(
        variant: str, clock: ManualClock, store: TenantStore, acme: TenantContext) -> None:
    recorder = TraceRecorder(clock)
    r = MiddlewareTenantResolver(TenantResolverConfig(variant=variant), clock=clock, observer=recorder)
    r.positive.set(ACME.positive_key(), poisoned(acme))
    loads: list[TenantKey] = []

    def load(key: TenantKey) -> TenantContext | None:
        loads.append(key)
        return store.find(key)

    statuses = []
    for t in (0.0, 10.0, 100.0, 299.0, 301.0):
        clock.set(t)
        status, ctx = r.resolve_request({"X-Tenant-ID": "acme"}, load)
        statuses.append(status)
        assert ctx == acme
    assert statuses == [200] * 5
    # dropped once at t=0 and reloaded; hits until that value's own TTL ran out at 300 s
    assert loads == [ACME, ACME]
    corrupt = [d for d in recorder.of_kind("decision") if d.decision == "corrupt_entry"]
    assert len(corrupt) == 1 and corrupt[0].reason.startswith("recursion limit exceeded at line 1 column")


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_a_cached_context_with_a_duplicate_field_is_a_corrupt_entry(variant: str, clock: ManualClock,
                                                                    acme: TenantContext) -> None:
    r = MiddlewareTenantResolver(TenantResolverConfig(variant=variant), clock=clock)
    evil = acme.to_json().replace(b'"slug":"acme"', b'"slug":"acme","slug":"admin"')
    r.positive.set(ACME.positive_key(), evil)
    assert isinstance(r.lookup(ACME), LoadTicket)
    assert r.positive.get(ACME.positive_key()) is None


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_a_loaded_context_serde_could_not_write_is_a_typed_500_and_frees_the_slot(
        variant: str, clock: ManualClock, acme: TenantContext) -> None:
    r = MiddlewareTenantResolver(TenantResolverConfig(variant=variant), clock=clock)
    deep: dict = {}
    for _ in range(200):
        deep = {"a": deep}
    status, error = r.resolve_request({"X-Tenant-ID": "acme"}, lambda key: acme.with_changes(settings=deep))
    assert status == 500 and isinstance(error, TenantContextFormatError)
    assert not r.in_flight and r.positive.get(ACME.positive_key()) is None


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_the_hit_memo_follows_the_stored_value(variant: str, clock: ManualClock, acme: TenantContext) -> None:
    r = resolver(variant, clock)
    assert r.resolve(ACME, lambda key: acme) == acme
    assert r.lookup(ACME).context == acme
    renamed = acme.with_changes(name="Acme Corp")
    r.invalidate(ACME)
    assert r.resolve(ACME, lambda key: renamed) == renamed
    outcome = r.lookup(ACME)
    assert isinstance(outcome, Hit) and outcome.context.name == "Acme Corp"


# -- completion hooks --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_on_complete_is_called_once_with_the_outcome(variant: str, clock: ManualClock, acme) -> None:
    r = resolver(variant, clock)
    ticket = r.lookup(ACME)
    wait = r.lookup(ACME)
    assert isinstance(ticket, LoadTicket) and isinstance(wait, Wait)
    seen: list[object] = []
    wait.on_complete(seen.append)
    wait.on_complete(lambda outcome: seen.append(("again", outcome)))
    assert seen == []
    r.complete(ticket, acme)
    assert seen == [acme, ("again", acme)]
    late: list[object] = []
    wait.on_complete(late.append)  # already complete: called at once
    assert late == [acme] and len(seen) == 2
    assert isinstance(r.resume(wait), Hit)


@pytest.mark.parametrize(("variant", "error"), [("v1", TenantNotFoundError), ("hardened", TenantNotFoundError),
                                                 ("v2", TenantLoadFailed)])
def test_on_complete_gets_the_error_of_a_not_found_load(variant: str, error: type, clock: ManualClock) -> None:
    r = resolver(variant, clock)
    ticket, wait = r.lookup(ACME), r.lookup(ACME)
    seen: list[object] = []
    wait.on_complete(seen.append)
    with pytest.raises(error):
        r.complete(ticket, None)
    assert len(seen) == 1 and isinstance(seen[0], error)


def test_on_complete_needs_a_callable(clock: ManualClock) -> None:
    r = resolver("v1", clock)
    r.lookup(ACME)
    with pytest.raises(TypeError, match="on_complete needs a callable"):
        r.lookup(ACME).on_complete(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_simpy_driver_parks_waiters_on_an_event_without_polling(variant: str, store: TenantStore,
                                                                  acme: TenantContext) -> None:
    env = simpy.Environment()
    r = resolver(variant, lambda: env.now)
    loads: list[float] = []
    served: list[float] = []
    wakeups = 0

    def request(env: simpy.Environment):  # noqa: ANN202
        nonlocal wakeups
        outcome = r.lookup(ACME)
        while not isinstance(outcome, Hit):
            if isinstance(outcome, LoadTicket):
                loads.append(env.now)
                yield env.timeout(0.05)
                r.complete(outcome, store.find(outcome.key))
                served.append(env.now)
                return
            woken = env.event()
            outcome.on_complete(lambda _outcome, woken=woken: woken.succeed())
            yield woken
            wakeups += 1
            outcome = r.resume(outcome)
        served.append(env.now)

    for _ in range(20):
        env.process(request(env))
    env.run()
    assert loads == [0.0] and served == [0.05] * 20
    assert wakeups == 19  # each waiter woke exactly once


# -- the trace speaks the tables' words -----------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_transition_record_names_its_table_and_coverage_joins_them(variant: str, clock: ManualClock,
                                                                         make_driver, acme) -> None:
    recorder = TraceRecorder(clock)
    r = resolver(variant, clock, recorder)
    d = make_driver(r)
    d.run([ACME, ACME, TenantKey.slug("nobody")])
    d.fail_next = [RuntimeError("db down")]
    d.run([TenantKey.slug("globex")])
    r.invalidate(ACME)
    transitions = recorder.transitions()
    assert {t.component for t in transitions} <= {"tenant_resolver", "cache_entry"}
    cov = coverage(recorder.records, [LOAD_TRANSITIONS, ENTRY_TRANSITIONS])
    assert cov["tenant_resolver"].ratio == 1.0
    assert not cov["tenant_resolver"].undeclared and not cov["cache_entry"].undeclared
    entry_instances = {t.instance for t in transitions if t.component == "cache_entry"}
    expected = {f"tenants-{variant}[slug:acme]"} if variant == "v2" else {
        f"tenants-{variant}.positive[tenant:v1:slug:acme]"}
    assert expected <= entry_instances


@pytest.mark.parametrize("variant", VARIANTS)
def test_an_observer_that_keeps_only_transitions_gets_no_record_from_a_hit(variant: str, clock: ManualClock,
                                                                          acme) -> None:
    recorder = TraceRecorder(clock, kinds={"transition"})
    r = resolver(variant, clock, recorder)
    r.resolve(ACME, lambda key: acme)
    before = len(recorder.records)
    assert before and all(record.kind == "transition" for record in recorder.records)
    for _ in range(3):
        assert isinstance(r.lookup(ACME), Hit)
    assert len(recorder.records) == before


# -- readers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_readers_change_nothing_even_past_expiry(variant: str, clock: ManualClock, acme) -> None:
    recorder = TraceRecorder(clock)
    r = resolver(variant, clock, recorder)
    r.resolve(ACME, lambda key: acme)
    clock.advance(400.0)
    before = list(recorder.records)
    first, second = r.stats(), r.stats()
    assert first == second and first.entries == 0
    assert r.in_flight == {}
    assert recorder.records == before  # no expiry was fired by reading
    assert isinstance(r.lookup(ACME), LoadTicket)  # the next operation purges
    assert any(t.trigger == "expire_ttl" for t in recorder.transitions("cache_entry"))


# -- configuration and construction ----------------------------------------------------------------------


def test_profiles_map_to_variants() -> None:
    assert PROFILE_VARIANTS == {"faithful": "v1", "hardened": "hardened"}
    for variant in PROFILE_VARIANTS.values():
        assert TenantResolverConfig(variant=variant).variant == variant


def test_the_pre_refit_setting_name_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="behaviour"):
        TenantResolverConfig(behaviour="hardened")


@pytest.mark.parametrize("cls", [MiddlewareTenantResolver, MokaTenantResolver])
def test_no_resolver_defaults_its_clock(cls: type) -> None:
    with pytest.raises(TypeError, match=f"{cls.__name__} needs clock="):
        cls(clock=None)


def test_a_dict_where_a_config_belongs_says_what_was_expected(clock: ManualClock) -> None:
    with pytest.raises(TypeError, match="needs a TenantResolverConfig .* got dict"):
        MiddlewareTenantResolver({"variant": "v1"}, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a TenantResolverConfig"):
        build_tenant_resolver("v2", clock=clock)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="MokaTenantResolver is variant 'v2'"):
        MokaTenantResolver(TenantResolverConfig(variant="v1"), clock=clock)
    with pytest.raises(TypeError, match="positive= must be a CacheBackend"):
        MiddlewareTenantResolver(clock=clock, positive={})  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", VARIANTS)
def test_complete_with_something_that_is_not_a_context_is_a_typed_error(variant: str, clock: ManualClock) -> None:
    r = resolver(variant, clock)
    ticket = r.lookup(ACME)
    with pytest.raises(TypeError, match="result must be a TenantContext, None .* got dict"):
        r.complete(ticket, {"slug": "acme"})  # type: ignore[arg-type]
    assert ACME in r.in_flight  # the slot is untouched: complete it properly later


@pytest.mark.parametrize("variant", VARIANTS)
def test_resume_given_the_ticket_says_it_expects_a_wait(variant: str, clock: ManualClock) -> None:
    r = resolver(variant, clock)
    ticket = r.lookup(ACME)
    with pytest.raises(TypeError, match=r"resume\(\) expects a Wait .* got LoadTicket .*"
                                        r"finished by its loader with complete\(ticket, result\)"):
        r.resume(ticket)  # type: ignore[arg-type]
    assert r.in_flight == {ACME: ticket}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("result", [None, "context"])
def test_complete_without_a_ticket_says_it_expects_a_load_ticket(variant: str, result: str | None,
                                                                  clock: ManualClock, acme) -> None:
    r = resolver(variant, clock)
    ticket = r.lookup(ACME)
    with pytest.raises(TypeError, match=r"complete\(ticket, result\) expects the LoadTicket .* got NoneType None"):
        r.complete(None, acme if result else None)  # type: ignore[arg-type]
    wait = r.lookup(ACME)
    with pytest.raises(TypeError, match=r"expects the LoadTicket .* got Wait .* finished with resume\(wait\)"):
        r.complete(wait, acme)  # type: ignore[arg-type]
    assert r.in_flight == {ACME: ticket}, "nothing was released"


@pytest.mark.parametrize("field", ["max_capacity", "time_to_live"])
@pytest.mark.parametrize("value", ["10", True])
def test_config_numbers_are_not_coerced(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TenantResolverConfig(**{field: value})


def test_config_from_json_and_from_python_numbers() -> None:
    assert TenantResolverConfig(time_to_live=30, max_capacity=10).time_to_live == 30.0
    text = '{"variant": "hardened", "max_capacity": 10, "time_to_live": 30, "time_to_idle": null}'
    assert TenantResolverConfig.model_validate_json(text) == TenantResolverConfig(
        variant="hardened", max_capacity=10, time_to_live=30.0, time_to_idle=None)
