"""A live Redis outage: the redis_outage story on a redis-server the harness starts, killed
(SIGKILL, restarted) or paused (SIGSTOP, SIGCONT) by the nemesis, judged by the same invariants.

A short version of the catalog entry so each run stays near 12 s of wall time: 40 virtual
seconds at 0.25 wall s per virtual s, 50 requests/s, the outage from 10 s to 23 s, a 5 s
breaker timeout (two probes during the outage, recovery after it).
"""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from rustok_sim.model.core.trace import Decision, Fault, Transition
from rustok_sim.scenarios.engine.loading import load_config
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.live.processes import CHILDREN
from rustok_sim.scenarios.live.realtime import run_live_story
from rustok_sim.scenarios.live.stories import LIVE_STORIES, LiveServices

pytestmark = pytest.mark.redis_server

SCALE = 0.25
SOCKET_TIMEOUT = 1.0  # virtual seconds (the story's default); 0.25 s on the wall clock
FAILURE_THRESHOLD = 5
SHORT = ["traffic.duration=40", "traffic.outage.start=10", "traffic.outage.duration=13", "traffic.breaker.timeout=5",
         "traffic.arrivals.rate=50", "trace_level=full"]


def _live_run(profile: str, mode: str, redis_binary: str) -> tuple[ScenarioResult, list[Any]]:
    config = load_config("redis_outage", [*SHORT, f"traffic.outage.mode={mode}"], profile=profile)
    live = LIVE_STORIES["redis_outage"]
    with LiveServices(live.needs, redis_binary=redis_binary) as services:
        result = run_live_story(live, config, 1, services, scale=SCALE)
    assert isinstance(result.trace, list)
    return result, result.trace


@pytest.fixture(scope="module")
def faithful_kill(redis_binary: str) -> tuple[ScenarioResult, list[Any]]:
    return _live_run("faithful", "refused", redis_binary)


@pytest.fixture(scope="module")
def hardened_kill(redis_binary: str) -> tuple[ScenarioResult, list[Any]]:
    return _live_run("hardened", "refused", redis_binary)


@pytest.fixture(scope="module")
def faithful_pause(redis_binary: str) -> tuple[ScenarioResult, list[Any]]:
    return _live_run("faithful", "blackhole", redis_binary)


def _outage(trace: list[Any]) -> tuple[float, float]:
    edges = [r for r in trace if isinstance(r, Fault) and r.fault == "redis_outage"]
    assert [e.phase for e in edges] == ["start", "end"]
    return edges[0].t, edges[1].t


def _failures_until_first_open(trace: list[Any], breaker: str) -> int:
    """Backend calls that failed on the real Redis, from the outage's start to the breaker's first
    Closed -> Open (the adapter records a failure after the breaker has counted it, so the call
    that trips the breaker is the decision at the transition's instant)."""
    start, _ = _outage(trace)
    opened = next((r for r in trace if isinstance(r, Transition) and r.instance == breaker
                   and r.to_state == "open" and r.t >= start), None)
    assert opened is not None, f"breaker {breaker} never opened"
    return sum(1 for r in trace if isinstance(r, Decision) and r.component == "cache_backend"
               and r.instance == breaker and r.decision == "failed" and start <= r.t <= opened.t)


def test_the_nemesis_kills_and_restarts_the_server_inside_the_outage_window(faithful_kill) -> None:
    result, trace = faithful_kill
    start, end = _outage(trace)
    kill = [r for r in trace if isinstance(r, Fault) and r.fault == "redis_sigkill"]
    assert [k.phase for k in kill] == ["start", "end"]
    assert start <= kill[0].t and kill[1].t <= end + 1.0  # the restart waits for PING: a little past the end
    assert result.metrics["live"]["redis_starts"] == 2


def test_the_breaker_opens_at_its_failure_threshold(faithful_kill) -> None:
    # V1 asks the negative cache first, so its breaker sees the outage first and, once open,
    # fails every request before the positive cache is asked (as in the simulation).
    _, trace = faithful_kill
    assert _failures_until_first_open(trace, "redis.negative") == FAILURE_THRESHOLD


def test_v1_turns_the_outage_into_500s_and_recovers_after_the_restart(faithful_kill) -> None:
    result, trace = faithful_kill
    metrics = result.metrics
    assert metrics["cache_error_500s"] > 0
    assert metrics["http_status_counts"]["500"] == metrics["cache_error_500s"]
    assert result.verdict("no_5xx_from_cache_outage").status == "known-defect"
    _, end = _outage(trace)
    closes = [r for r in trace if isinstance(r, Transition) and r.component == "circuit_breaker"
              and r.to_state == "closed" and r.t > end]
    assert {r.instance for r in closes} == {"redis.negative"}
    assert all(state["state"] == "closed" for state in metrics["breakers"].values())
    assert metrics["time_to_recover"] is not None
    late_500s = [b for b in metrics["http_status_by_interval"] if b["t"] >= end + 10 and b["counts"].get("500")]
    assert late_500s == []  # 10 virtual s after the restart, nothing fails any more


def test_hardened_serves_the_outage_from_the_database(faithful_kill, hardened_kill) -> None:
    faithful, hardened = faithful_kill[0], hardened_kill[0]
    assert "500" not in hardened.metrics["http_status_counts"]
    assert hardened.verdict("no_5xx_from_cache_outage").status == "pass"
    # The requests V1 failed, hardened loaded from the database.
    assert hardened.metrics["db_loads"] > faithful.metrics["db_loads"] + faithful.metrics["cache_error_500s"] // 2
    assert hardened.metrics["cache_fallbacks"] > 0


def test_while_open_a_black_holed_redis_is_rejected_fast(faithful_pause) -> None:
    result, _ = faithful_pause
    live = result.metrics["live"]
    calls, latency = live["redis_calls"], live["redis_call_latency"]
    assert calls["failed"] >= FAILURE_THRESHOLD  # calls that waited out the socket timeout
    assert latency["failed"]["p50"] >= 0.8 * SOCKET_TIMEOUT  # they really hung (a generous lower bound)
    assert calls["rejected"] > 10 * calls["failed"]  # most outage calls never reached the paused server
    # "Far below": median rejection under a hundredth of the socket timeout (measured: ~1e-4 of it).
    assert latency["rejected"]["p50"] < SOCKET_TIMEOUT / 100
    assert result.metrics["latency_during_outage"]["p50"] < SOCKET_TIMEOUT / 10


def test_every_verdict_matches_the_simulated_story(faithful_kill, hardened_kill) -> None:
    for result in (faithful_kill[0], hardened_kill[0]):
        assert result.ok, [(v.invariant, v.status, v.message) for v in result.failed]
        assert result.metrics["live"]["stale_hits"] == 0


def test_nothing_leaks_after_a_run(faithful_kill, faithful_pause) -> None:
    for result, _trace in (faithful_kill, faithful_pause):
        port = result.metrics["live"]["redis_port"]
        assert port != 6379
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens on the run's port
    pids = [r.detail["pid"] for r in faithful_kill[1] + faithful_pause[1]
            if isinstance(r, Fault) and r.fault.startswith("redis_sig") and r.detail and r.detail.get("pid")]
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert CHILDREN.alive() == []
