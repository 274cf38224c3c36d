"""The demo stories measure what they claim: the faithful defects and the hardened fixes."""

from __future__ import annotations

from rustok_sim.scenarios.demo import run_demo


def by(result, story, key):
    return {row[key]: row for row in result.summaries if row["story"] == story}


def test_demo_is_reproducible():
    first, second = run_demo(), run_demo()
    assert [r.to_dict() for r in first.recorder.records] == [r.to_dict() for r in second.recorder.records]


def test_breaker_story_shows_cb_b_sticking_half_open_only_under_the_sticky_config():
    rows = [r for r in run_demo().summaries if r["story"] == "breaker"]
    stuck = {(r["config"], r["variant"]) for r in rows if r["final_state"] == "half_open"}
    assert stuck == {("success_threshold=5", "resilience")}


def test_tenant_story_v1_fails_requests_during_a_redis_outage_and_hardened_does_not():
    rows = by(run_demo(), "tenants", "variant")
    assert rows["v1"]["outage_requests_served"] == "0/120"
    assert rows["v1"]["http_500"] >= 120
    assert rows["hardened"]["http_500"] == 0
    assert rows["hardened"]["outage_requests_served"] == "120/120"
    assert rows["hardened"]["db_loads"] > rows["v1"]["db_loads"]  # the price: the database takes the load


def test_backpressure_story_double_release_wraps_only_when_faithful():
    rows = by(run_demo(), "backpressure", "variant")
    assert rows["faithful"]["depth_after_double_release"] == 2**64 - 1
    assert rows["faithful"]["next_acquire"] == "rejected"
    assert rows["hardened"]["next_acquire"] == "accepted"


def test_backpressure_story_reports_the_depth_right_after_the_double_release():
    rows = by(run_demo(), "backpressure", "variant")
    assert rows["hardened"]["depth_after_double_release"] == 0  # saturated at 0, before the next acquire
