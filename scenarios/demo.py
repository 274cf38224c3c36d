"""The foundation demo: two short stories told to the breaker and backpressure models.

Scripted on a `ManualClock` (no simpy yet): the same model objects that scenarios will drive.

1. *Redis goes away.* A service calls its cache through a circuit breaker at 1 call/s. At
   t=10 s the cache fails; the breaker trips after `failure_threshold` failures and rejects fast.
   The cache comes back at t=50 s; probes close the breaker. Told per variant with the Rust
   defaults and with a config under which CB-B sticks half-open for good.
2. *Redis goes away under the tenant resolver.* Requests for three tenants (and one unknown
   slug) arrive at 2/s through a resolver whose caches live in Redis. Redis refuses connections
   from t=20 s to t=80 s. The live middleware (v1) turns every cache error into HTTP 500, and its
   breakers only make those 500s faster; hardened falls back to the database and keeps serving.
3. *A burst and a double release.* 120 events arrive faster than a handler drains them; the
   controller goes Normal -> Warning -> Critical and rejects at 90 %. Then a buggy caller
   releases one slot too many: faithful wraps the usize and rejects everything after; hardened
   saturates. Both record the anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rustok_sim.adapters.redis_cache import RedisCacheBackend, RedisCacheConfig, RedisFaults
from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController, BackpressureError
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitOpenError
from rustok_sim.model.tenancy.resolver import MiddlewareTenantResolver, TenantResolverConfig
from rustok_sim.model.tenancy.resolver import Variant as ResolverVariant


class CacheDown(Exception):
    """The upstream of the demo breaker is unavailable."""


@dataclass
class DemoResult:
    recorder: TraceRecorder
    summaries: list[dict[str, Any]] = field(default_factory=list)


def breaker_story(recorder: TraceRecorder, clock: ManualClock, variant: str, *, duration: float = 120.0,
                  outage: tuple[float, float] = (10.0, 50.0),
                  config: CircuitBreakerConfig | None = None, label: str = "defaults") -> dict[str, Any]:
    """One call per second against an upstream that is down during `outage` (start, end)."""
    cfg = (config or CircuitBreakerConfig()).model_copy(update={"variant": variant})
    breaker = CircuitBreaker(cfg, clock=clock, observer=recorder, name=f"cache-{variant}-{label}")
    outcomes = {"ok": 0, "upstream_error": 0, "rejected": 0}
    start = clock()

    def upstream() -> str:
        now = clock() - start
        if outage[0] <= now < outage[1]:
            raise CacheDown("connection refused")
        return "value"

    while clock() - start < duration:
        try:
            breaker.call(upstream)
            outcomes["ok"] += 1
        except CacheDown:
            outcomes["upstream_error"] += 1
        except CircuitOpenError:
            outcomes["rejected"] += 1
        clock.advance(1.0)
    stats = breaker.stats()
    return {"story": "breaker", "config": label, "variant": variant,
            "final_state": stats.state.value, **outcomes,
            "success_rate": round(stats.success_rate(), 3), "rejection_rate": round(stats.rejection_rate(), 3),
            "state_transitions": stats.state_transitions}


def tenant_story(recorder: TraceRecorder, clock: ManualClock, variant: ResolverVariant, *, duration: float = 120.0,
                 outage: tuple[float, float] = (20.0, 80.0)) -> dict[str, Any]:
    """2 requests/s over four slugs (one unknown) while Redis refuses connections in `outage`."""
    store = TenantStore()
    for slug in ("acme", "globex", "initech"):
        store.create(slug.title(), slug, f"{slug}.example.com", {})
    faults = RedisFaults()
    caches = {role: RedisCacheBackend(RedisCacheConfig(prefix=f"tenant-cache:v1:{role}", ttl=ttl), clock=clock,
                                      faults=faults, observer=recorder, name=f"redis-{role}-{variant}")
              for role, ttl in (("data", 300), ("negative", 60))}
    resolver = MiddlewareTenantResolver(TenantResolverConfig(variant=variant), clock=clock,
                                        positive=caches["data"], negative=caches["negative"],
                                        observer=recorder, name=f"tenants-{variant}")
    slugs = ("acme", "globex", "initech", "nobody")
    statuses = {"200": 0, "404": 0, "500": 0}
    during_outage = {"200": 0, "404": 0, "500": 0}
    db_loads = 0

    def load(key):  # the tenants table, counting how often the resolver had to go there
        nonlocal db_loads
        db_loads += 1
        return store.find(key)

    start, i = clock(), 0
    while clock() - start < duration:
        now = clock() - start
        if now >= outage[0] and faults.mode is None and now < outage[1]:
            recorder.fault("redis_outage", "start", "redis", {"mode": "refuse"})
            faults.refuse()
        elif now >= outage[1] and faults.mode is not None:
            recorder.fault("redis_outage", "end", "redis")
            faults.heal()
        status, _ = resolver.resolve_request({"X-Tenant-ID": slugs[i % len(slugs)]}, load)
        statuses[str(status)] += 1
        if outage[0] <= now < outage[1]:
            during_outage[str(status)] += 1
        i += 1
        clock.advance(0.5)
    served = during_outage["200"] + during_outage["404"]
    return {"story": "tenants", "variant": variant, "requests": i, **{f"http_{k}": v for k, v in statuses.items()},
            "outage_requests_served": f"{served}/{sum(during_outage.values())}",
            "db_loads": db_loads}


def backpressure_story(recorder: TraceRecorder, clock: ManualClock, variant: str) -> dict[str, Any]:
    """120 arrivals at 10/s drained at 2/s, then everything drained, then one release too many."""
    controller = BackpressureController(BackpressureConfig(max_queue_depth=100, variant=variant),
                                        observer=recorder, name=f"events-{variant}")
    accepted = rejected = 0
    for i in range(120):
        try:
            controller.try_acquire()
            accepted += 1
        except BackpressureError:
            rejected += 1
        if i % 5 == 4 and controller.current_depth:
            controller.release()
        clock.advance(0.1)
    while controller.current_depth:
        controller.release()
        clock.advance(0.5)
    controller.release()  # the bug: one release too many
    clock.advance(0.5)
    depth_after_bug = controller.current_depth  # read before the probe below moves it
    after_bug = "accepted"
    try:
        controller.try_acquire()
    except BackpressureError:
        after_bug = "rejected"
    m = controller.metrics()
    return {"story": "backpressure", "variant": variant,
            "accepted": accepted, "rejected": rejected, "warning_count": m.warning_count,
            "depth_after_double_release": depth_after_bug, "next_acquire": after_bug}


STICKY_CONFIG = CircuitBreakerConfig(success_threshold=5, half_open_max_requests=3)
"""success_threshold > half_open_max_requests + 1: the config under which CB-B sticks half-open."""


def run_demo() -> DemoResult:
    """Tell both stories for each variant on one clock and one trace: the breaker story with the
    Rust defaults and with `STICKY_CONFIG`, the backpressure story faithful and hardened."""
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    result = DemoResult(recorder)
    for label, config in (("defaults", CircuitBreakerConfig()), ("success_threshold=5", STICKY_CONFIG)):
        for variant in ("resilience", "standalone", "hardened"):
            summary = breaker_story(recorder, clock, variant, config=config, label=label)
            result.summaries.append(summary)
    resolver_variants: tuple[ResolverVariant, ...] = ("v1", "hardened")
    for resolver_variant in resolver_variants:
        result.summaries.append(tenant_story(recorder, clock, resolver_variant))
    for variant in ("faithful", "hardened"):
        result.summaries.append(backpressure_story(recorder, clock, variant))
    return result
