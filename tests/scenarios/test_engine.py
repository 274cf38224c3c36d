"""The engine every story runs on: seeded streams, the trace wiring, fault windows, gauges, results."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest

from rustok_sim.conformance.invariants import KnownDefect, Verdict, judge
from rustok_sim.model.core.trace import TraceRecord
from rustok_sim.model.core.tracefile import read_jsonl
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController
from rustok_sim.scenarios.engine.config import ScenarioConfig, Window
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World


class ToyConfig(ScenarioConfig):
    scenario: Literal["toy"] = "toy"
    slots: int = 3
    outage: Window = Window(start=1.0, duration=2.0)


class DoubleReleaseChecker:
    invariant = "no_double_release"
    kinds = frozenset({"anomaly"})

    def __init__(self, defect: KnownDefect | None) -> None:
        self.violations, self.defect = 0, defect

    def feed(self, record: TraceRecord) -> None:
        if getattr(record, "anomaly", None) == "release_at_zero":
            self.violations += 1

    def verdict(self) -> Verdict:
        return judge(self.invariant, self.violations, f"{self.violations} releases at depth 0", self.defect)


def drive(world: World, config: ToyConfig) -> dict[str, Any]:
    rng = world.rng("work")
    controller = BackpressureController(BackpressureConfig(10, 0.5, 0.9, variant="faithful" if config.profile == "faithful" else "hardened"),
                                        observer=world.observer)
    world.gauge("backpressure", "toy", "depth", lambda: controller.current_depth)
    world.window("redis_outage", "toy", config.outage.start, config.outage.end, detail={"mode": "refused"})
    world.start_sampling(until=5.0)
    draws = []

    def work():
        for _ in range(config.slots):
            yield world.env.timeout(rng.random())
            draws.append(world.env.now)
            controller.admit()
        controller.release()
        controller.release()
        controller.release()
        controller.release()  # one too many

    world.env.process(work())
    world.run(until=6.0)
    return {"draws": draws, "timeline": world.timelines()}


def checkers(config: ToyConfig):
    return [DoubleReleaseChecker(KnownDefect("§2.3", "wraps") if config.profile == "faithful" else None)]


TOY = Story("toy", "a toy", ToyConfig, drive, checkers)


def test_same_seed_same_result_and_trace(tmp_path):
    a = TOY.run(ToyConfig(trace_level="full"), 7, trace_path=tmp_path / "a.jsonl")
    b = TOY.run(ToyConfig(trace_level="full"), 7, trace_path=tmp_path / "b.jsonl")
    c = TOY.run(ToyConfig(trace_level="full"), 8, trace_path=tmp_path / "c.jsonl")
    assert a.to_json() == b.to_json()
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
    assert a.metrics["draws"] != c.metrics["draws"]


def test_verdicts_follow_the_profile():
    faithful = TOY.run(ToyConfig(), 1)
    hardened = TOY.run(ToyConfig(profile="hardened"), 1)
    assert faithful.verdict("no_double_release").status == "known-defect"
    assert faithful.verdict("no_double_release").spec == "§2.3"
    assert faithful.ok
    assert hardened.verdict("no_double_release").status == "fail"
    assert not hardened.ok


def test_trace_level_filters_output_but_not_the_checkers():
    summary = TOY.run(ToyConfig(trace_level="summary"), 1)
    kinds = {r.kind for r in summary.trace}
    assert kinds == {"fault", "anomaly"}
    full = TOY.run(ToyConfig(trace_level="full"), 1)
    assert {"sample", "fault", "anomaly", "transition"} <= {r.kind for r in full.trace}
    assert summary.metrics["trace_records"]["anomaly"] == 1
    assert summary.verdict("no_double_release").status == "known-defect"


def test_fault_window_and_gauges():
    result = TOY.run(ToyConfig(trace_level="full"), 1)
    faults = [(r.t, r.phase) for r in result.trace if r.kind == "fault"]
    assert faults == [(1.0, "start"), (3.0, "end")]
    timeline = result.metrics["timeline"]
    assert timeline["t"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert len(timeline["backpressure/toy/depth"]) == 6


def test_result_json_is_strict_json_and_reads_back(tmp_path):
    result = TOY.run(ToyConfig(), 3, trace_path=tmp_path / "t.jsonl")
    data = json.loads(result.to_json())
    assert data["scenario"] == "toy" and data["seed"] == 3
    assert data["verdicts"][0]["invariant"] == "no_double_release"
    assert ToyConfig.model_validate(data["config"]) == result.config
    assert len(read_jsonl(tmp_path / "t.jsonl").records) == sum(result.metrics["trace_records"].values()) == 4


def test_seed_must_be_a_non_negative_int():
    with pytest.raises(TypeError, match="seed"):
        TOY.run(ToyConfig(), -1)


def test_progress_reaches_one():
    seen: list[float] = []
    world = World(ToyConfig(), 1, progress=seen.append)
    def sleeper():
        yield world.env.timeout(10)

    world.env.process(sleeper())
    world.run(until=10.0, horizon=10.0, chunks=5)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 5
