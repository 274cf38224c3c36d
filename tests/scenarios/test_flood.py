"""The flood story: backpressure under a burst, direct producers drop, outbox producers retry,
handler faults, and the second dispatcher's double release (faithful wraps, hardened does not)."""

from __future__ import annotations

from typing import Any

import pytest

from rustok_sim.scenarios.stories.flood import FloodConfig, run


def flood(profile: str = "faithful", **flood: Any) -> FloodConfig:
    base: dict[str, Any] = {
        "duration": 10.0,
        "producers": {"arrivals": {"kind": "poisson", "rate": 300.0,
                                   "bursts": [{"start": 3.0, "duration": 3.0, "factor": 5.0}]}},
        "handlers": {"c": 2, "service": {"kind": "exponential", "mean": 0.005}},
        "backpressure": {"max_queue_depth": 400},
    }
    for key, value in flood.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return FloodConfig.model_validate({"profile": profile, "flood": base})


def test_a_burst_takes_backpressure_to_warning_then_critical_and_direct_producers_drop() -> None:
    result = run(flood(), 1)
    m = result.metrics
    assert m["rejected"] > 0 and m["dropped"] == m["rejected"]
    assert m["accepted"] + m["rejected"] == m["offered"]
    assert m["handled"] == m["accepted"]
    assert 3.0 <= m["time_to_warning"] <= m["time_to_critical"] < 6.0
    depth = m["timelines"]["backpressure/bus/depth"]
    assert max(depth) <= 400 and max(depth) >= 360 - 2  # Critical at 0.9 * 400
    assert m["latency"]["p99"] > m["latency"]["p50"] > 0
    assert m["drain_time"] is not None and m["final_depth"] == 0
    verdicts = {v.invariant: v for v in result.verdicts}
    assert verdicts["nothing_lost"].status == "pass" and "dropped by producers" in verdicts["nothing_lost"].detail
    assert result.ok


def test_outbox_producers_lose_nothing_when_the_relay_keeps_retrying() -> None:
    result = run(flood(producers={"mode": "outbox", "relay_max_attempts": 40, "relay_backoff_max_s": 2.0}), 1)
    m = result.metrics
    assert m["dropped"] == 0 and m["dead_lettered"] == 0
    assert m["retried_publishes"] > 0  # backpressure did refuse the relay
    assert m["handled"] == m["offered"]
    assert result.verdict("nothing_lost").status == "pass"


def test_rusts_five_attempts_dead_letter_part_of_a_long_flood() -> None:
    result = run(flood(duration=20.0, producers={
        "mode": "outbox", "arrivals": {"kind": "poisson", "rate": 300.0,
                                       "bursts": [{"start": 2.0, "duration": 12.0, "factor": 5.0}]}}), 1)
    m = result.metrics
    assert m["dead_lettered"] > 0
    assert m["handled"] + m["dead_lettered"] == m["offered"]
    verdict = result.verdict("nothing_lost")
    assert verdict.status == "fail" and "dead-lettered" in verdict.detail


def test_a_second_dispatcher_wraps_the_faithful_depth_and_the_bus_rejects_everything() -> None:
    result = run(flood(duration=8.0, second_dispatcher={"at": 2.0, "servers": 1},
                       producers={"arrivals": {"kind": "poisson", "rate": 100.0}}), 1)
    m = result.metrics
    assert m["final_depth"] > 10**18  # a usize wrapped below 0
    assert m["rejected"] > 0.5 * m["offered"]  # from the wrap on, every publish is refused
    assert result.verdict("depth_bound").status == "known-defect"
    assert result.verdict("depth_bound").spec == "§2.2"
    assert result.verdict("slot_conservation").status == "known-defect"
    assert result.ok  # known defects do not fail the run


def test_under_hardened_the_double_release_saturates_instead_of_wrapping() -> None:
    result = run(flood("hardened", duration=8.0, second_dispatcher={"at": 2.0, "servers": 1},
                       producers={"arrivals": {"kind": "poisson", "rate": 100.0}}), 1)
    m = result.metrics
    assert m["final_depth"] == 0 and m["rejected"] == 0
    assert result.verdict("depth_bound").status == "pass"
    # Two releasers is still wrong accounting: hardened reports it as a failure, never a known defect.
    assert result.verdict("slot_conservation").status == "fail"
    assert all(v.status != "known-defect" for v in result.verdicts)


def test_a_slow_handler_window_raises_latency_and_depth() -> None:
    calm = run(flood(producers={"arrivals": {"kind": "poisson", "rate": 200.0}}), 3).metrics
    slow = run(flood(producers={"arrivals": {"kind": "poisson", "rate": 200.0}},
                     slow_handler={"start": 2.0, "duration": 4.0, "factor": 10.0}), 3).metrics
    assert slow["latency"]["p99"] > 10 * calm["latency"]["p99"]
    assert max(slow["timelines"]["backpressure/bus/depth"]) > max(calm["timelines"]["backpressure/bus/depth"])


def test_a_failing_handler_is_retried_and_then_fails_for_good() -> None:
    result = run(flood(producers={"arrivals": {"kind": "poisson", "rate": 100.0}},
                       handlers={"retry_count": 1, "retry_delay_ms": 50},
                       failing_handler={"start": 1.0, "duration": 5.0, "probability": 0.5}), 2)
    m = result.metrics
    assert m["failed"] > 0 and m["handled"] > 0
    assert m["handled"] + m["failed"] == m["accepted"]
    assert result.verdict("nothing_lost").status == "pass"
    assert result.verdict("slots_returned").status == "pass"


def test_fault_windows_are_in_the_trace() -> None:
    result = run(flood(slow_handler={"start": 2.0, "duration": 1.0}), 1)
    faults = [(r.fault, r.phase, r.t) for r in result.trace if r.kind == "fault"]  # type: ignore[union-attr]
    assert faults == [("slow_handler", "start", 2.0), ("slow_handler", "end", 3.0)]


@pytest.mark.parametrize("mode", ["direct", "outbox"])
def test_same_seed_same_bytes(mode: str) -> None:
    config = flood(duration=5.0, producers={"mode": mode})
    assert run(config, 4).to_json() == run(config, 4).to_json()
    assert run(config, 4).to_json() != run(config, 5).to_json()


def test_the_sqlite_outbox_store_gives_the_same_story_as_the_in_memory_one() -> None:
    def outcome(store: str) -> dict[str, Any]:
        metrics = run(flood(duration=4.0, producers={"mode": "outbox", "store": store}), 2).metrics
        return {key: metrics[key] for key in ("offered", "accepted", "rejected", "handled", "dead_lettered")}
    assert outcome("sqlite") == outcome("memory")
