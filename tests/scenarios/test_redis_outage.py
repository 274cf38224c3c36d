"""The redis_outage story: V1's 500s against hardened's fallback, the breaker opening and
recovering, the stuck half-open breaker, black-holed calls, determinism, and Redis TTLs that
follow the simpy clock (never the wall clock)."""

from __future__ import annotations

from typing import Any

import pytest
import simpy

from rustok_sim.adapters.redis_cache import RedisCacheBackend, RedisCacheConfig
from rustok_sim.model.core.trace import encode_record
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig
from rustok_sim.scenarios.drivers.redis import (
    FakeRedisBackend,
    RedisClient,
    RedisLedger,
    SimRedisBackend,
    SimRedisServer,
)
from rustok_sim.scenarios.stories.redis_outage import RedisOutageConfig, run


def outage(profile: str = "faithful", **traffic: Any) -> RedisOutageConfig:
    base: dict[str, Any] = {"duration": 60.0, "arrivals": {"kind": "poisson", "rate": 100.0},
                            "outage": {"start": 15.0, "duration": 17.0}}
    for key, value in traffic.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return RedisOutageConfig.model_validate({"profile": profile, "traffic": base})


def test_v1_turns_the_outage_into_500s_and_hardened_serves_from_the_database() -> None:
    faithful, hardened = run(outage("faithful"), 3), run(outage("hardened"), 3)
    f, h = faithful.metrics, hardened.metrics
    assert f["resolver_variant"] == "v1" and h["resolver_variant"] == "hardened"
    assert f["requests"] == h["requests"]  # the same arrivals
    assert f["http_status_counts"]["500"] == f["cache_error_500s"] > 0
    assert "500" not in h["http_status_counts"]
    assert h["cache_fallbacks"] > 0 and h["db_loads"] > 5 * f["db_loads"]
    # every 500 falls inside the outage or while the breaker was still open after it
    end = 15.0 + 17.0 + f["time_to_recover"]
    for bucket in f["http_status_by_interval"]:
        if bucket["t"] + 5.0 <= 15.0 or bucket["t"] >= end:
            assert "500" not in bucket["counts"], bucket
    assert faithful.verdict("no_5xx_from_cache_outage").status == "known-defect"
    assert faithful.verdict("no_5xx_from_cache_outage").spec == "§6.2/§7"
    assert hardened.verdict("no_5xx_from_cache_outage").status == "pass"
    assert faithful.ok and hardened.ok
    assert all(v.status == "pass" for v in hardened.verdicts)


def test_the_breaker_opens_at_its_threshold_and_recovers_after_the_outage() -> None:
    result = run(outage("faithful", breaker={"timeout": 5.0}), 1)
    m = result.metrics
    assert 0 <= m["time_to_open"] < 0.1  # refused calls fail at once; 5 of them open it
    assert 0 < m["time_to_recover"] <= 5.0 + 1.0  # the first probe after Redis returns closes it
    for name, totals in m["breakers"].items():
        assert totals["state"] == "closed", name
    # V1 asks the negative cache first, so its breaker is the one that sees the failures
    negative = m["timelines"]["circuit_breaker/redis.negative/state"]
    assert 1.0 in negative and negative[-1] == 0.0
    assert m["breakers"]["redis.negative"]["total_rejected"] > 0
    assert result.verdict("breaker_legal").status == "pass"


def test_fail_fast_while_open_costs_far_less_than_the_socket_timeout() -> None:
    result = run(outage("faithful", outage={"mode": "blackhole"}, redis={"socket_timeout": 1.0}), 1)
    m = result.metrics
    assert 1.0 <= m["time_to_open"] < 2.0  # the first failures are only seen after the timeout
    during = m["latency_during_outage"]
    assert during["max"] == pytest.approx(1.0, abs=0.05)  # a black-holed call waits its timeout
    assert during["p50"] < 0.01  # most requests meet an open breaker and fail at once
    refused = run(outage("faithful"), 1).metrics
    assert refused["latency_during_outage"]["max"] < 0.05


def test_a_client_retry_policy_multiplies_the_cost_of_each_failed_call() -> None:
    plain = run(outage("faithful", outage={"mode": "blackhole"}), 1).metrics
    retrying = run(outage("faithful", outage={"mode": "blackhole"}, redis={"retries": 2, "retry_cost": 0.05}), 1).metrics
    assert retrying["latency_during_outage"]["max"] == pytest.approx(3 * 1.0 + 2 * 0.05, abs=0.05)
    assert retrying["time_to_open"] > plain["time_to_open"]


def test_a_breaker_stuck_half_open_is_a_known_defect_of_cb_b_and_absent_under_hardened() -> None:
    stuck = {"success_threshold": 5, "half_open_max_requests": 2, "timeout": 5.0}
    faithful = run(outage("faithful", breaker=stuck), 1)
    hardened = run(outage("hardened", breaker=stuck), 1)
    f = faithful.metrics
    assert any(b["state"] == "half_open" for b in f["breakers"].values())
    assert f["time_to_recover"] is None
    verdict = faithful.verdict("no_stuck_half_open")
    assert verdict.status == "known-defect" and verdict.spec == "§1.3"
    # stuck half-open rejects every call: V1 answers 500 to the end of the run
    assert "500" in f["http_status_by_interval"][-1]["counts"]
    h = hardened.metrics
    assert all(b["state"] == "closed" for b in h["breakers"].values())
    assert hardened.verdict("no_stuck_half_open").status == "pass"
    assert hardened.ok and all(v.status == "pass" for v in hardened.verdicts)


def test_v2_has_no_redis_so_the_outage_changes_nothing() -> None:
    result = run(outage("faithful", resolver={"variant": "v2"}), 1)
    m = result.metrics
    assert m["breaker_variant"] is None and "500" not in m["http_status_counts"]
    assert "not applicable" in result.verdict("no_reload_storm").detail
    assert result.ok


def test_the_fakeredis_backend_runs_the_real_adapter_with_the_same_outcome_classes() -> None:
    sim = run(outage("faithful"), 2).metrics
    fake = run(outage("faithful", redis={"backend": "fakeredis"}), 2).metrics
    assert fake["requests"] == sim["requests"]
    assert fake["cache_error_500s"] > 0 and fake["time_to_recover"] is not None
    # the real adapter settles the breaker inside the call, the simulated one after it: the
    # counts differ a little, not in kind
    assert abs(fake["cache_error_500s"] - sim["cache_error_500s"]) < 0.1 * sim["cache_error_500s"]


def test_same_seed_same_bytes_and_another_seed_another_trace() -> None:
    config = outage("faithful", duration=30.0, outage={"start": 10.0, "duration": 8.0})
    first, again, other = run(config, 5), run(config, 5), run(config, 6)
    assert first.to_json() == again.to_json()
    assert [encode_record(r) for r in first.trace] == [encode_record(r) for r in again.trace]
    assert [encode_record(r) for r in first.trace] != [encode_record(r) for r in other.trace]


def test_a_bad_outage_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ValueError, match="outage.start"):
        outage(duration=10.0, outage={"start": 20.0, "duration": 5.0})
    with pytest.raises(ValueError, match="mode"):
        outage(outage={"mode": "flaky"})


# -- TTLs follow the virtual clock --------------------------------------------------------------


def _breaker(env: simpy.Environment) -> CircuitBreaker:
    return CircuitBreaker(CircuitBreakerConfig(), clock=lambda: env.now, name="redis.test")


@pytest.mark.parametrize("backend_kind", ["memory", "fakeredis"])
def test_redis_ttls_follow_the_simpy_clock_not_the_wall_clock(backend_kind: str) -> None:
    env = simpy.Environment()
    clock = lambda: env.now  # noqa: E731
    client = RedisClient(backend=backend_kind)  # type: ignore[arg-type]
    server = SimRedisServer(clock, lambda: 0.0, client)
    breaker = _breaker(env)
    backend: Any
    if backend_kind == "memory":
        backend = SimRedisBackend(server, breaker, ttl=60.0, prefix="t:", name="redis.test")
    else:
        inner = RedisCacheBackend(RedisCacheConfig(ttl=60.0, prefix="ttl-test:"), clock=clock, breaker=breaker,
                                  name="redis.test")
        backend = FakeRedisBackend(inner, server)
    seen: dict[float, bytes | None] = {}

    def probe() -> Any:
        server.ledger = RedisLedger()
        backend.set("k", b"v")  # EX 60 at t = 0
        for t in (0.0, 59.999, 60.0, 60.001, 3600.0):
            yield env.timeout(t - env.now)
            server.ledger = RedisLedger()
            seen[t] = backend.get("k")
            server.ledger.settle()

    env.process(probe())
    env.run()
    # Redis keeps a key until now is past its deadline: present through t = 60, gone after it,
    # although no wall time passed at all
    assert seen == {0.0: b"v", 59.999: b"v", 60.0: b"v", 60.001: None, 3600.0: None}


def test_a_ttl_under_one_second_is_ex_0_which_redis_rejects_as_a_breaker_failure() -> None:
    env = simpy.Environment()
    server = SimRedisServer(lambda: env.now, lambda: 0.0, RedisClient())
    breaker = _breaker(env)
    backend = SimRedisBackend(server, breaker, ttl=0.5, prefix="", name="redis.test")
    from rustok_sim.model.tenancy.cache import CacheError

    with pytest.raises(CacheError, match="invalid expire time"):
        backend.set("k", b"v")
    server.ledger.settle()
    assert breaker.stats().as_dict()["total_failures"] == 1
