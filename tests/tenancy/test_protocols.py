"""The reference classes satisfy the tenancy protocols: the same public members, and methods with
the same parameters (names, kinds, defaults), so a conformance target written against a protocol
can stand in for ours."""

from __future__ import annotations

import inspect
from typing import Any, Protocol

import pytest

from rustok_sim.adapters.redis_cache import RedisCacheBackend
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.tenancy.cache import InMemoryCacheBackend
from rustok_sim.model.tenancy.protocols import (
    RESOLVER_PROTOCOLS,
    CacheBackend,
    HardenedTenantResolver,
    TenantResolverV1,
    TenantResolverV2,
)
from rustok_sim.model.tenancy.resolver import TenantResolverConfig, build_tenant_resolver


def protocol_members(protocol: type) -> dict[str, Any]:
    """Every public member a protocol (and the protocols it extends) declares."""
    members: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, Protocol) or not getattr(klass, "_is_protocol", False):
            continue
        members.update({name: value for name, value in vars(klass).items() if not name.startswith("_")})
    return members


def parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def assert_satisfies(instance: object, protocol: type) -> None:
    members = protocol_members(protocol)
    assert members, protocol
    for name, declared in members.items():
        assert hasattr(instance, name), f"{type(instance).__name__} lacks {name}"
        if isinstance(declared, property):
            assert not callable(getattr(instance, name)), f"{type(instance).__name__}.{name} should be a value"
            continue
        ours = getattr(instance, name)
        assert callable(ours), f"{type(instance).__name__}.{name} is not a method"
        # bound methods on both sides: `self` is not part of the comparison
        assert parameters(ours) == parameters(declared.__get__(instance)), (
            f"{type(instance).__name__}.{name}{inspect.signature(ours)} differs from "
            f"{protocol.__name__}.{name}{inspect.signature(declared)}")
    assert isinstance(instance, protocol)


@pytest.mark.parametrize("variant", ["v1", "v2", "hardened"])
def test_each_resolver_variant_satisfies_its_protocol(variant: str) -> None:
    resolver = build_tenant_resolver(TenantResolverConfig(variant=variant), clock=ManualClock())
    assert_satisfies(resolver, RESOLVER_PROTOCOLS[variant])


def test_the_protocols_differ_where_the_variants_do() -> None:
    v1, v2, hardened = (set(protocol_members(p)) for p in (TenantResolverV1, TenantResolverV2,
                                                          HardenedTenantResolver))
    assert v1 - v2 == {"published", "invalidate_identifier", "apply_invalidation"}
    assert v2 - v1 == {"invalidate_all"}
    assert hardened - v1 == {"cache_fallbacks"}


@pytest.mark.parametrize("make", [
    lambda clock: InMemoryCacheBackend(300.0, 10, clock=clock),
    lambda clock: RedisCacheBackend(clock=clock),
], ids=["in_memory", "redis"])
def test_cache_backends_satisfy_the_protocol(make: Any) -> None:
    assert_satisfies(make(ManualClock()), CacheBackend)


def test_a_method_with_other_parameters_is_caught() -> None:
    class Wrong:
        def health(self) -> None: ...
        def get(self, name: str) -> bytes | None: ...  # renamed parameter
        def set(self, key: str, value: bytes) -> None: ...
        def set_with_ttl(self, key: str, value: bytes, ttl: float) -> None: ...
        def invalidate(self, key: str) -> None: ...
        def stats(self) -> Any: ...

    with pytest.raises(AssertionError, match="Wrong.get"):
        assert_satisfies(Wrong(), CacheBackend)
