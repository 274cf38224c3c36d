"""cachetools' TTLCache as the V2 tenant cache: with a controlled timer it conforms to the moka
model except for idle expiry, which it does not have (docs/peers.md, "cachetools")."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytest.importorskip("cachetools", reason="cachetools is a peer in the test extra: pip install -e '.[test]'")

from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings  # noqa: E402
from rustok_sim.conformance.peers.cachetools_resolver import tenant_resolver  # noqa: E402
from rustok_sim.conformance.protocols import PROTOCOLS, surface_mismatches  # noqa: E402
from rustok_sim.conformance.suites.tenant_resolver import reference_resolver  # noqa: E402
from rustok_sim.model.core.clock import ManualClock  # noqa: E402
from rustok_sim.model.tenancy.context import TenantContext  # noqa: E402
from rustok_sim.model.tenancy.keys import TenantKey  # noqa: E402
from rustok_sim.model.tenancy.resolver import TenantResolverConfig  # noqa: E402

COMPONENT = COMPONENTS["tenant_resolver"]


def test_the_adapter_speaks_the_v2_protocol() -> None:
    target = tenant_resolver(TenantResolverConfig(variant="v2"), ManualClock())
    assert surface_mismatches(target, PROTOCOLS["tenant_resolver_v2"]) == []


def test_the_gate_finds_that_cachetools_has_no_idle_expiry() -> None:
    verdict = run_suite(COMPONENT, "v2", tenant_resolver, "cachetools", suite_settings("ci"))
    assert verdict.status == "violation"
    assert "'time_to_idle': None" not in verdict.steps[0]  # only a config with a TTI shows it
    assert "stats().entries: target 1, reference 0" in verdict.detail


def _without_idle_expiry(config: TenantResolverConfig, clock: Any) -> Any:
    # configs with a TTI go to the reference, so the suite checks cachetools on the rest
    return reference_resolver(config, clock) if config.time_to_idle is not None else tenant_resolver(config, clock)


def test_without_a_tti_cachetools_expires_and_evicts_as_the_model_does() -> None:
    verdict = run_suite(COMPONENT, "v2", _without_idle_expiry, "cachetools without TTI", suite_settings("ci"))
    assert verdict.status in ("conformant", "inconclusive"), verdict.detail  # TTI edges are the reference's


def test_the_idle_expiry_finding_as_a_step_list() -> None:
    config = TenantResolverConfig(variant="v2", max_capacity=4, time_to_live=10.0, time_to_idle=2.0)
    tenant = TenantContext(id=uuid.UUID(int=0x51A0), name="Tenant 0", slug="tenant-0")
    key = TenantKey.slug("tenant-0")
    sides = []
    for build in (tenant_resolver, reference_resolver):
        clock = ManualClock()
        resolver = build(config, clock)
        resolver.complete(resolver.lookup(key), tenant)  # loaded at t=0
        clock.set(2.0)  # idle for exactly time_to_idle
        sides.append(resolver.stats().entries)
    assert sides == [1, 0]  # cachetools keeps it until its TTL; moka expires it after 2 s idle
