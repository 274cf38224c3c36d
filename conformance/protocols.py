"""The public surface a conformance target must speak, per component, and a checker for it.

Each subsystem of the model declares its components' `typing.Protocol`s next to the code
(`rustok_sim.model.<subsystem>.protocols`); this module gathers them under one name per component
(`PROTOCOLS`) and checks an object against one (`surface_mismatches`): every member the protocol
declares must exist on the candidate, with the same kind (method, property or attribute) and, for
methods, parameters of the same names, kinds and order. `runtime_checkable` only checks that names
exist; a target that takes its arguments in another order would pass it and then fail obscurely
in the middle of a suite, so the gate checks signatures before it runs anything.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from rustok_sim.model.events import protocols as events
from rustok_sim.model.resilience import protocols as resilience
from rustok_sim.model.tenancy import protocols as tenancy

PROTOCOLS: dict[str, type] = {
    "circuit_breaker": resilience.CircuitBreakerProtocol,
    "backpressure": resilience.BackpressureProtocol,
    "cache_backend": tenancy.CacheBackend,
    "tenant_resolver_v1": tenancy.TenantResolverV1,
    "tenant_resolver_v2": tenancy.TenantResolverV2,
    "tenant_resolver_hardened": tenancy.HardenedTenantResolver,
    "event_bus": events.EventBusProtocol,
    "event_dispatcher": events.EventDispatcherProtocol,
    "outbox_store": events.OutboxStore,
    "outbox_transport": events.OutboxTransportProtocol,
    "outbox_relay": events.OutboxRelayProtocol,
}
"""Component name -> the Protocol its targets must satisfy."""


def protocol_members(protocol: type) -> dict[str, Any]:
    """The members a protocol declares (its own and its bases'), without dunders."""
    members: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or not getattr(klass, "_is_protocol", False):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_"):
                members[name] = value
        for name in getattr(klass, "__annotations__", {}):
            if not name.startswith("_"):
                members.setdefault(name, None)
    return members


def _parameters(fn: Callable[..., Any]) -> list[tuple[str, Any]]:
    signature = inspect.signature(fn)
    return [(p.name, p.kind) for p in signature.parameters.values() if p.name != "self"]


def surface_mismatches(candidate: Any, protocol: type) -> list[str]:
    """What `candidate` (a class or an instance) lacks or declares differently from `protocol`,
    one sentence per member; empty when it conforms."""
    klass = candidate if isinstance(candidate, type) else type(candidate)
    problems = []
    for name, declared in protocol_members(protocol).items():
        if not hasattr(klass, name) and not (not isinstance(candidate, type) and hasattr(candidate, name)):
            problems.append(f"{name}: missing")
            continue
        actual = inspect.getattr_static(klass, name, None)
        if isinstance(declared, property):
            if not isinstance(actual, property) and callable(actual):
                problems.append(f"{name}: should be a property, is a method")
            continue
        if callable(declared):
            if isinstance(actual, property) or not callable(getattr(klass, name, None)):
                problems.append(f"{name}: should be a method")
                continue
            expected, got = _parameters(declared), _parameters(getattr(klass, name))
            if [n for n, _ in expected] != [n for n, _ in got][:len(expected)] or any(
                    kind != got_kind for (_, kind), (_, got_kind) in zip(expected, got)):
                problems.append(f"{name}: parameters {[n for n, _ in got]} differ from the protocol's "
                                f"{[n for n, _ in expected]}")
            elif any(p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                     for p in list(inspect.signature(getattr(klass, name)).parameters.values())[len(expected) + 1:]):
                problems.append(f"{name}: takes required parameters the protocol does not pass")
    return problems
