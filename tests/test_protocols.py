"""Every reference component speaks its protocol exactly, and the surface checker catches a target
that does not (the conformance gate checks targets with it before running a suite)."""

from __future__ import annotations

import pytest

from rustok_sim.adapters.redis_cache import RedisCacheBackend
from rustok_sim.adapters.sql.outbox import OutboxTransport as SqlOutboxTransport
from rustok_sim.adapters.sql.outbox import SqlOutboxStore
from rustok_sim.adapters.sql.relay import OutboxRelay as SqlOutboxRelay
from rustok_sim.conformance.protocols import PROTOCOLS, protocol_members, surface_mismatches
from rustok_sim.model.events.bus import EventBus
from rustok_sim.model.events.dispatcher import EventDispatcher
from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport
from rustok_sim.model.events.relay import OutboxRelay
from rustok_sim.model.resilience.backpressure import BackpressureController
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker
from rustok_sim.model.tenancy.cache import InMemoryCacheBackend
from rustok_sim.model.tenancy.resolver import MiddlewareTenantResolver, MokaTenantResolver

REFERENCES = {
    "circuit_breaker": [CircuitBreaker],
    "backpressure": [BackpressureController],
    "cache_backend": [InMemoryCacheBackend, RedisCacheBackend],
    "tenant_resolver_v1": [MiddlewareTenantResolver],
    "tenant_resolver_v2": [MokaTenantResolver],
    "tenant_resolver_hardened": [MiddlewareTenantResolver],
    "outbox_store": [InMemoryOutboxStore, SqlOutboxStore],
    "outbox_transport": [OutboxTransport, SqlOutboxTransport],
    "outbox_relay": [OutboxRelay, SqlOutboxRelay],
    "event_bus": [EventBus],
    "event_dispatcher": [EventDispatcher],
}


def test_every_protocol_has_a_reference_and_every_reference_a_protocol():
    assert set(PROTOCOLS) == set(REFERENCES)


@pytest.mark.parametrize("component", sorted(REFERENCES))
def test_reference_classes_satisfy_their_protocol(component):
    protocol = PROTOCOLS[component]
    assert protocol_members(protocol), f"{component}: the protocol declares nothing"
    for reference in REFERENCES[component]:
        assert surface_mismatches(reference, protocol) == [], reference.__name__


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
