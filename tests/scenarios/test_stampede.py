"""The stampede story: one loader per expiry of a hot tenant, the counterfactual without
coalescing, and V1's waiters reloading a missing tenant (faithful) against hardened's one load."""

from __future__ import annotations

from typing import Any

import pytest

from rustok_sim.scenarios.stories.stampede import StampedeConfig, episodes, run


def stampede(profile: str = "faithful", **traffic: Any) -> StampedeConfig:
    base: dict[str, Any] = {"duration": 30.0, "arrivals": {"kind": "poisson", "rate": 500.0}}
    base.update(traffic)
    return StampedeConfig.model_validate({"profile": profile, "traffic": base})


@pytest.mark.parametrize("profile", ["faithful", "hardened"])
def test_a_hot_tenant_costs_one_load_per_expiry_however_many_requests_wait(profile: str) -> None:
    result = run(stampede(profile), 1)
    hot = result.metrics["hot_tenant"]
    assert hot["expiries"] == 2  # TTL 10 s over 30 s: the cold start, then two expiries
    assert hot["loader_calls_per_expiry"] == 1.0 and hot["max_loader_calls_in_an_episode"] == 1
    # 500/s for a ~50 ms load: about 25 requests would each have loaded without coalescing
    assert hot["loader_calls_per_expiry_without_coalescing"] > 10
    assert hot["loads_without_coalescing"] == hot["loads"] + hot["waiters"]  # each waiter waited once
    assert result.verdict("coalescing").status == "pass"


def test_v1_waiters_reload_a_missing_tenant_in_turn_and_hardened_loads_it_once() -> None:
    faithful, hardened = run(stampede("faithful"), 2), run(stampede("hardened"), 2)
    f, h = faithful.metrics["missing_tenant"], hardened.metrics["missing_tenant"]
    assert f["max_loader_calls_in_an_episode"] > 3
    # every V1 waiter became a loader: coalescing saved nothing
    assert f["loads"] == f["loads_without_coalescing"]
    assert h["loader_calls_per_expiry"] == 1.0 and h["loads"] == h["episodes"]
    assert h["loads_without_coalescing"] > h["loads"]
    storm = faithful.verdict("no_reload_storm")
    assert storm.status == "known-defect" and storm.spec == "§6.2"
    assert hardened.verdict("no_reload_storm").status == "pass"
    assert all(v.status == "pass" for v in hardened.verdicts)
    assert faithful.ok and hardened.ok


def test_a_slower_database_makes_the_counterfactual_stampede_bigger() -> None:
    fast = run(stampede(database={"kind": "constant", "value": 0.01}), 1).metrics["hot_tenant"]
    slow = run(stampede(database={"kind": "constant", "value": 0.1}), 1).metrics["hot_tenant"]
    assert fast["loader_calls_per_expiry"] == slow["loader_calls_per_expiry"] == 1.0
    # about rate x load time each: 5 and 50
    assert 2 < fast["loader_calls_per_expiry_without_coalescing"] < 10
    assert 30 < slow["loader_calls_per_expiry_without_coalescing"] < 70


def test_the_story_has_no_outage_unless_asked() -> None:
    assert StampedeConfig().traffic.outage is None
    result = run(stampede(), 1)
    assert "500" not in result.metrics["http_status_counts"]


def test_episodes_split_loads_at_half_a_ttl_and_attribute_demand() -> None:
    loads = [(0.0, 0.1), (0.1, 0.2), (10.0, 10.1), (10.15, 10.3), (20.0, 20.1)]
    demand = [0.0, 0.05, 0.1, 10.0, 10.01, 10.02, 20.0]
    found = episodes(loads, demand, gap=5.0)
    assert [e["loads"] for e in found] == [2, 2, 1]
    assert [e["demand"] for e in found] == [3, 3, 1]
    assert found[1]["start"] == 10.0 and found[1]["end"] == 10.3
    assert episodes([], [], gap=5.0) == []
