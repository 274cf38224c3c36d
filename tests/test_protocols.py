"""Every reference component speaks its protocol exactly, and the surface checker catches a target
that does not (the conformance gate checks targets with it before it runs a suite).

One checker for every component (`rustok_sim.conformance.protocols`): every protocol member exists
on the reference with the same kind and exactly the same parameters (names, kinds, defaults), a
protocol property is read-only, and a model reference has no public member outside its protocol
but the ones listed below with a reason, so the protocol stays the component's whole surface.
"""

from __future__ import annotations

import uuid

import pytest

from rustok_sim.adapters.redis_cache import RedisCacheBackend
from rustok_sim.adapters.sql.outbox import OutboxTransport as SqlOutboxTransport
from rustok_sim.adapters.sql.outbox import SqlOutboxStore
from rustok_sim.adapters.sql.relay import OutboxRelay as SqlOutboxRelay
from rustok_sim.conformance.protocols import (
    PROTOCOLS,
    protocol_members,
    public_members,
    surface_mismatches,
    undeclared_members,
)
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events import IdGenerator, NodeCreated
from rustok_sim.model.events.bus import EventBus, Receiver, SendOutcome
from rustok_sim.model.events.dispatcher import OK, EventDispatcher, HandlerBuilder
from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport
from rustok_sim.model.events.protocols import EventBusProtocol, EventDispatcherProtocol, ReceiverProtocol
from rustok_sim.model.events.relay import OutboxRelay
from rustok_sim.model.events.validator import EventValidator
from rustok_sim.model.resilience.backpressure import BackpressureController
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker
from rustok_sim.model.tenancy.cache import InMemoryCacheBackend
from rustok_sim.model.tenancy.protocols import HardenedTenantResolver, TenantResolverV1, TenantResolverV2
from rustok_sim.model.tenancy.resolver import MiddlewareTenantResolver, MokaTenantResolver
from rustok_sim.model.tenancy.validation import TenantIdentifierValidator

# component -> (model references, adapter references). Adapters add their I/O surface (connect,
# engine, faults) on top of the protocol, so only model references are held to "nothing else".
REFERENCES: dict[str, tuple[list[type], list[type]]] = {
    "circuit_breaker": ([CircuitBreaker], []),
    "backpressure": ([BackpressureController], []),
    "cache_backend": ([InMemoryCacheBackend], [RedisCacheBackend]),
    "tenant_resolver_v1": ([MiddlewareTenantResolver], []),
    "tenant_resolver_v2": ([MokaTenantResolver], []),
    "tenant_resolver_hardened": ([MiddlewareTenantResolver], []),
    "event_bus": ([EventBus], []),
    "event_dispatcher": ([EventDispatcher], []),
    "outbox_store": ([InMemoryOutboxStore], [SqlOutboxStore]),
    "outbox_transport": ([OutboxTransport], [SqlOutboxTransport]),
    "outbox_relay": ([OutboxRelay], [SqlOutboxRelay]),
    "event_validation": ([EventValidator], []),
    "tenant_identifiers": ([TenantIdentifierValidator], []),
}

_CONSTRUCTION = {"config", "name", "observer", "clock"}  # what the component was built with
EXTRAS: dict[tuple[str, type], set[str]] = {
    ("circuit_breaker", CircuitBreaker): {"config", "name", "prometheus"},  # CB-B's exposition (02-17)
    ("backpressure", BackpressureController): {"config", "name", "state_at",
                                               "reset_metrics"},  # reset_metrics: cfg(test) in Rust
    ("cache_backend", InMemoryCacheBackend): {"cache", "ttl"},  # the moka cache it wraps, its TTL
    ("tenant_resolver_v1", MiddlewareTenantResolver): {"observer", "positive", "negative",  # its two caches
                                                       "cache_fallbacks",  # hardened's counters
                                                       "unconfirmed_keys"},
    ("tenant_resolver_hardened", MiddlewareTenantResolver): {"observer", "positive", "negative"},
    ("tenant_resolver_v2", MokaTenantResolver): {"observer"},
    ("event_bus", EventBus): _CONSTRUCTION - {"clock"} | {"backpressure", "ids",
                                                           "new", "with_capacity", "with_backpressure"},  # Rust's constructors
    ("event_dispatcher", EventDispatcher): _CONSTRUCTION - {"observer"} | {"bus", "handlers",
                                                            "register_boxed", "poll"},  # aliases of register / next_work
    ("outbox_store", InMemoryOutboxStore): set(),
    ("outbox_transport", OutboxTransport): _CONSTRUCTION - {"config"} | {"store", "now_us"},
    ("event_validation", EventValidator): set(),
    ("tenant_identifiers", TenantIdentifierValidator): set(),
    ("outbox_relay", OutboxRelay): _CONSTRUCTION - {"config"} | {"store", "target", "now_us", "backoff_ms"},
}


def _all_pairs() -> list[tuple[str, type, bool]]:
    return [(component, reference, is_model)
            for component, (model_refs, adapter_refs) in REFERENCES.items()
            for is_model, refs in ((True, model_refs), (False, adapter_refs))
            for reference in refs]


def _id(value: object) -> str:
    return value.__name__ if isinstance(value, type) else str(value)


def test_every_protocol_has_a_reference_and_every_reference_a_protocol():
    assert set(PROTOCOLS) == set(REFERENCES)


@pytest.mark.parametrize(("component", "reference", "is_model"), _all_pairs(), ids=_id)
def test_reference_classes_satisfy_their_protocol_exactly(component, reference, is_model):
    protocol = PROTOCOLS[component]
    assert protocol_members(protocol), f"{component}: the protocol declares nothing"
    assert surface_mismatches(reference, protocol, strict=True) == []


@pytest.mark.parametrize(("component", "reference"), sorted(EXTRAS, key=lambda k: (k[0], k[1].__name__)), ids=_id)
def test_a_model_reference_has_no_public_member_outside_its_protocol(component, reference):
    extra = undeclared_members(reference, PROTOCOLS[component]) - EXTRAS[(component, reference)]
    assert not extra, f"{reference.__name__} has public members outside its protocol: {sorted(extra)}"
    stale = EXTRAS[(component, reference)] - public_members(reference)
    assert not stale, f"EXTRAS lists names {reference.__name__} does not have: {sorted(stale)}"


def test_every_model_reference_has_its_extras_listed():
    assert {(c, r) for c, r, is_model in _all_pairs() if is_model} == set(EXTRAS)


def test_the_checker_catches_missing_members_swapped_parameters_and_methods_as_attributes():
    class Swapped:
        state = "closed"  # a plain attribute where the protocol has a property is fine

        def admit(self): ...
        def try_acquire(self): ...
        def on_success(self, other, permit): ...  # an extra required parameter first
        def on_failure(self, permit): ...
        call = None  # not a method

    problems = surface_mismatches(Swapped, PROTOCOLS["circuit_breaker"])
    assert any(p.startswith("reset: missing") for p in problems)
    assert any(p.startswith("on_success: parameters") for p in problems)
    assert any(p.startswith("call: should be a method") for p in problems)
    assert not any(p.startswith("on_failure") for p in problems)


def test_strict_mode_catches_a_renamed_parameter_and_a_writable_property():
    class Renamed(InMemoryCacheBackend):
        def get(self, name: str) -> bytes | None: ...  # type: ignore[override]

    assert any(p.startswith("get(") for p in surface_mismatches(Renamed, PROTOCOLS["cache_backend"], strict=True))

    class Writable(CircuitBreaker):
        __slots__ = ()
        state = property(CircuitBreaker.state.fget, lambda self, value: None)  # type: ignore[assignment]

    assert "state: should be read-only" in surface_mismatches(Writable, PROTOCOLS["circuit_breaker"], strict=True)


def test_the_resolver_protocols_differ_where_the_variants_do():
    v1, v2, hardened = (set(protocol_members(p)) for p in (TenantResolverV1, TenantResolverV2, HardenedTenantResolver))
    assert v1 - v2 == {"published", "invalidate_identifier", "apply_invalidation"}
    assert v2 - v1 == {"invalidate_all"}
    assert hardened - v1 == {"cache_fallbacks", "unconfirmed_keys"}


def test_the_receiver_speaks_its_protocol_and_instances_run_through_the_protocols():
    assert surface_mismatches(Receiver, ReceiverProtocol, strict=True) == []
    clock = ManualClock()
    bus: EventBusProtocol = EventBus(ids=IdGenerator(clock, 1))
    dispatcher: EventDispatcherProtocol = EventDispatcher(bus, clock=clock)  # type: ignore[arg-type]
    seen: list[object] = []
    dispatcher.register(HandlerBuilder("all", lambda e: True, seen.append)).start()
    receiver: ReceiverProtocol = bus.subscribe("probe")
    assert isinstance(bus, EventBusProtocol) and isinstance(dispatcher, EventDispatcherProtocol)
    envelope = bus.offer(uuid.UUID(int=1), None, NodeCreated(node_id=uuid.UUID(int=2), kind="post"))
    assert envelope is not None and receiver.try_recv() is envelope
    work = dispatcher.next_work()
    assert work is not None and work.envelope is envelope
    dispatcher.complete(work, OK)
    assert dispatcher.is_idle() and dispatcher.stats().successes == 1
    assert bus.offer_envelope(envelope) is SendOutcome.SENT and bus.stats().events_published == 2
