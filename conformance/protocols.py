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
    "event_validation": events.EventValidatorProtocol,
    "tenant_identifiers": tenancy.TenantIdentifierValidatorProtocol,
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


def _strict_parameters(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    # Names, kinds and defaults; annotations are left out because an alias (`Outcome`) and the
    # union it names are the same type written two ways.
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def surface_mismatches(candidate: Any, protocol: type, *, strict: bool = False) -> list[str]:
    """What `candidate` (a class or an instance) lacks or declares differently from `protocol`,
    one sentence per member; empty when it conforms.

    By default a method must take the protocol's parameters in the same order and kinds (what a
    suite needs to drive it). `strict` (for our own references) also requires the same
    parameters exactly, defaults included, and a property where the protocol has one to be
    read-only."""
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
            elif strict and isinstance(actual, property) and actual.fset is not None:
                problems.append(f"{name}: should be read-only")
            continue
        if callable(declared):
            method = getattr(klass, name, None)
            if isinstance(actual, (property, classmethod)) or not callable(method):
                problems.append(f"{name}: should be a method")
                continue
            if strict:
                # A static method (Rust's associated function) takes what the method takes after self.
                declared_parameters = _strict_parameters(declared)[isinstance(actual, staticmethod):]
                if _strict_parameters(method) != declared_parameters:
                    problems.append(f"{name}{inspect.signature(method)} differs from the protocol's "
                                    f"{name}{inspect.signature(declared)}")
                continue
            expected, got = _parameters(declared), _parameters(method)
            if [n for n, _ in expected] != [n for n, _ in got][:len(expected)] or any(
                    kind != got_kind for (_, kind), (_, got_kind) in zip(expected, got)):
                problems.append(f"{name}: parameters {[n for n, _ in got]} differ from the protocol's "
                                f"{[n for n, _ in expected]}")
            elif any(p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                     for p in list(inspect.signature(method).parameters.values())[len(expected) + 1:]):
                problems.append(f"{name}: takes required parameters the protocol does not pass")
    return problems


def public_members(cls: type) -> set[str]:
    """The public names a class defines (its own and its bases', `object` and typing excluded)."""
    found: set[str] = set()
    for klass in cls.__mro__:
        if klass is object or klass.__module__ == "typing":
            continue
        found.update(name for name in vars(klass) if not name.startswith("_"))
    return found


def undeclared_members(cls: type, protocol: type) -> set[str]:
    """Public members of `cls` that `protocol` does not declare (for our references: each must be
    listed with a reason, so the protocol stays the whole surface)."""
    return public_members(cls) - set(protocol_members(protocol))
