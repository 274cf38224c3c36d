"""Calibration without services: which config fields a live result's measurements replace, and
how a difference is expressed. (The live agreement itself is tested in test_live_cli.py.)"""

from __future__ import annotations

import pytest

from rustok_sim.scenarios.engine.loading import load_config
from rustok_sim.scenarios.live.calibrate import (
    CalibrationError,
    MetricComparison,
    calibrated_config,
    compare,
    lag_warning,
)


def _live_result(scenario: str, live: dict) -> dict:
    config = load_config(scenario)
    return {"format": "rustok-sim-result", "scenario": scenario, "seed": 3, "profile": "faithful",
            "config": config.model_dump(mode="json", by_alias=True), "metrics": {"live": live}}


def test_the_measured_redis_round_trip_and_refused_cost_replace_the_simulated_ones() -> None:
    live = {"redis_call_latency": {"ok": {"p50": 0.0008, "p99": 0.02}, "failed": {"p50": 0.0002}, "rejected": {}}}
    config, changes = calibrated_config(_live_result("redis_outage", live))
    redis = config.traffic.redis  # type: ignore[attr-defined]
    assert (redis.latency.kind, redis.latency.median, redis.latency.p99) == ("lognormal", 0.0008, 0.02)
    assert redis.refused_cost == 0.0002
    assert set(changes) == {"traffic.redis.latency", "traffic.redis.refused_cost"}


def test_relay_start_up_lengthens_each_restart_and_the_publish_time_is_measured() -> None:
    live = {"publish_latency": {"p50": 0.006, "p99": 0.02}, "relay_startup": {"mean": 1.5}}
    config, changes = calibrated_config(_live_result("rollback", live))
    pipeline = config.pipeline  # type: ignore[attr-defined]
    assert [crash.restart_delay for crash in pipeline.crashes] == [6.5, 6.5]  # the catalog's 5 s + 1.5 s
    assert pipeline.publish.median == 0.006
    assert "pipeline.publish" in changes


def test_a_simulated_result_or_another_story_is_refused() -> None:
    result = _live_result("rollback", {})
    del result["metrics"]["live"]
    with pytest.raises(CalibrationError, match="rustok-sim live"):
        calibrated_config(result)
    with pytest.raises(CalibrationError, match="'flood'"):
        calibrated_config({**_live_result("rollback", {}), "scenario": "flood"})


@pytest.mark.parametrize("live, simulated, relative", [
    (100.0, 110.0, 0.1), (100.0, 90.0, -0.1), (0.0, 0.0, 0.0), (0.0, 3.0, None), (None, 1.0, None)])
def test_the_relative_difference_is_against_the_live_value(live, simulated, relative) -> None:
    assert MetricComparison("m", live, simulated).relative == (pytest.approx(relative) if relative else relative)


def test_compare_lists_the_outcome_counts_by_status() -> None:
    live = {"requests": 10, "http_status_counts": {"200": 7, "500": 3}, "latency": {}, "latency_during_outage": {}}
    simulated = {"requests": 10, "http_status_counts": {"200": 8, "500": 2}, "latency": {}, "latency_during_outage": {}}
    rows = {row.metric: row for row in compare("redis_outage", live, simulated)}
    assert (rows["http 500"].live, rows["http 500"].simulated) == (3, 2)
    assert rows["http 404"].live == rows["http 404"].simulated == 0


def test_a_live_run_that_fell_behind_the_wall_clock_is_named() -> None:
    behind = {"lag": {"events": 100, "late_events": 60, "late_after_wall_s": 0.05, "max_wall_s": 3.2}}
    on_time = {"lag": {"events": 100, "late_events": 2, "late_after_wall_s": 0.05, "max_wall_s": 0.07}}
    assert "60% of its events" in (lag_warning(_live_result("rollback", behind)) or "")
    assert lag_warning(_live_result("rollback", on_time)) is None
