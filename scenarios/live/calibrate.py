"""Calibration: the simulation re-run with what a live run measured, compared metric by metric.

`calibrated_config` takes a live ``result.json`` and returns the same story's config with the
simulation's latencies replaced by the live measurements (all in virtual seconds, i.e. wall
seconds over the run's scale):

- tenant traffic: the healthy Redis round trip (``traffic.redis.latency``) becomes a lognormal
  with the live successful calls' median and p99; with a ``refused`` outage, the cost of a
  refused call (``refused_cost``) becomes the live failed calls' median;
- outbox: one publish (``pipeline.publish``) becomes a lognormal with the live read-model
  transactions' median and p99, and each crash's ``restart_delay`` grows by the live relay
  processes' mean start-up time (a process takes a while to import and connect; the simulated
  relay starts at once).

The same seed drives the same arrivals, rollbacks and tenant picks, so what differs is only what
the live services did differently. `compare` lists each metric as (live, simulated, relative
difference = (simulated - live) / |live|; None when live is 0 and the simulation is not).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.loading import story_named

__all__ = ["CalibrationError", "MetricComparison", "calibrated_config", "compare", "lag_warning", "run_calibration"]

LATE_SHARE_WARNING = 0.1
"""A live run with more than this share of its events late ran stretched: say so."""

CALIBRATED_STORIES = ("redis_outage", "rollback", "mixed")


class CalibrationError(ValueError):
    """A live result calibration cannot use (not a live result, a story it does not know)."""


@dataclass(frozen=True, slots=True)
class MetricComparison:
    metric: str
    live: float | None
    simulated: float | None

    @property
    def relative(self) -> float | None:
        """(simulated - live) / |live|; 0 when both are 0; None when either is missing or live is
        0 and the simulation is not."""
        if self.live is None or self.simulated is None:
            return None
        if self.live == 0:
            return 0.0 if self.simulated == 0 else None
        return (self.simulated - self.live) / abs(self.live)


def _live_sections(result: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The live measurements of the tenancy part and of the outbox part (None when absent)."""
    live = result["metrics"].get("live")
    if not isinstance(live, Mapping):
        raise CalibrationError("the result has no 'live' metrics: calibrate needs the result.json of "
                               "'rustok-sim live', not of 'rustok-sim run'")
    scenario = result["scenario"]
    if scenario == "mixed":
        return live.get("tenancy"), live.get("outbox")
    if scenario == "redis_outage":
        return live, None
    return None, live


def _lognormal(measured: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not measured or not measured.get("p50") or measured.get("p99") is None:
        return None
    median, p99 = float(measured["p50"]), float(measured["p99"])
    return {"kind": "lognormal", "median": median, "p99": max(p99, median * 1.000001)}


def lag_warning(result: Mapping[str, Any]) -> str | None:
    """A sentence when the live run fell behind the wall clock, else None.

    A run whose environment was late for most of its events stretched its virtual time: the
    measured latencies still are what the real calls took, but every rate the story drives
    (arrivals, relay polling) ran slower than configured against the real services, so the
    comparison says more about the machine than about the model."""
    live = result.get("metrics", {}).get("live")
    lag = live.get("lag") if isinstance(live, Mapping) else None
    if not isinstance(lag, Mapping) or not lag.get("events"):
        return None
    share = lag["late_events"] / lag["events"]
    if share <= LATE_SHARE_WARNING:
        return None
    return (f"the live run fell behind the wall clock ({share:.0%} of its events more than "
            f"{lag['late_after_wall_s']:g} s late, at most {lag['max_wall_s']:.3g} s): its services saw a slower "
            f"workload than the simulation; run it again with a larger --scale or a lighter workload")


def calibrated_config(result: Mapping[str, Any]) -> tuple[ScenarioConfig, dict[str, Any]]:
    """The live run's config with the measured latencies, and what was changed (field -> value)."""
    scenario = result.get("scenario")
    if scenario not in CALIBRATED_STORIES:
        raise CalibrationError(f"calibration knows the stories {', '.join(CALIBRATED_STORIES)}; "
                               f"the result is of {scenario!r}")
    data = copy.deepcopy(dict(result["config"]))
    tenancy, outbox = _live_sections(result)
    changes: dict[str, Any] = {}
    if tenancy is not None and "traffic" in data:
        redis = data["traffic"].setdefault("redis", {})
        latency = _lognormal(tenancy["redis_call_latency"].get("ok"))
        if latency is not None:
            redis["latency"] = changes["traffic.redis.latency"] = latency
        outage = data["traffic"].get("outage") or {}
        failed = tenancy["redis_call_latency"].get("failed") or {}
        if outage.get("mode") == "refused" and failed.get("p50") is not None:
            redis["refused_cost"] = changes["traffic.redis.refused_cost"] = float(failed["p50"])
    if outbox is not None and "pipeline" in data:
        publish = _lognormal(outbox.get("publish_latency"))
        if publish is not None:
            data["pipeline"]["publish"] = changes["pipeline.publish"] = publish
        startup = (outbox.get("relay_startup") or {}).get("mean")
        if startup is not None:
            for index, crash in enumerate(data["pipeline"].get("crashes", [])):
                crash["restart_delay"] = float(crash.get("restart_delay", 5.0)) + float(startup)
                changes[f"pipeline.crashes[{index}].restart_delay"] = crash["restart_delay"]
    story = story_named(str(scenario))
    return story.config.model_validate(data), changes


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _tenancy_metrics(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    counts = metrics.get("http_status_counts", {})
    latency, outage = metrics.get("latency", {}), metrics.get("latency_during_outage", {})
    return {
        "requests": _number(metrics.get("requests")),
        "http 200": _number(counts.get("200", 0)),
        "http 404": _number(counts.get("404", 0)),
        "http 500": _number(counts.get("500", 0)),
        "db_loads": _number(metrics.get("db_loads")),
        "time_to_open": _number(metrics.get("time_to_open")),
        "time_to_recover": _number(metrics.get("time_to_recover")),
        "latency p50": _number(latency.get("p50")),
        "latency p99": _number(latency.get("p99")),
        "outage latency p50": _number(outage.get("p50")),
        "outage latency p99": _number(outage.get("p99")),
    }


def _outbox_metrics(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    latency = metrics.get("delivery_latency", {})
    return {name: _number(metrics.get(name)) for name in
            ("committed", "rolled_back", "delivered", "zombies", "duplicates", "ghosts", "read_model_divergence",
             "drain_time")} | {"delivery latency p50": _number(latency.get("p50")),
                               "delivery latency p99": _number(latency.get("p99"))}


def _comparable(scenario: str, metrics: Mapping[str, Any]) -> dict[str, float | None]:
    if scenario == "redis_outage":
        return _tenancy_metrics(metrics)
    if scenario == "rollback":
        return _outbox_metrics(metrics)
    return ({f"tenancy.{k}": v for k, v in _tenancy_metrics(metrics["tenancy"]).items()}
            | {f"outbox.{k}": v for k, v in _outbox_metrics(metrics["outbox"]).items()})


def compare(scenario: str, live: Mapping[str, Any], simulated: Mapping[str, Any]) -> list[MetricComparison]:
    """Each comparable metric of `scenario`, live against simulated."""
    ours, theirs = _comparable(scenario, live), _comparable(scenario, simulated)
    return [MetricComparison(name, value, theirs.get(name)) for name, value in ours.items()]


def run_calibration(result: Mapping[str, Any]) -> tuple[list[MetricComparison], dict[str, Any]]:
    """Re-run `result`'s story in simulation with its measured latencies (same seed); the
    comparison and the config changes."""
    if result.get("format") != "rustok-sim-result":
        raise CalibrationError("not a rustok-sim result.json (no 'format': 'rustok-sim-result')")
    config, changes = calibrated_config(result)
    story = story_named(config.scenario)
    simulated = story.run(config, int(result["seed"]))
    return compare(config.scenario, result["metrics"], simulated.metrics), changes
