"""The report's pieces on small hand-made inputs: trace excerpts, fault windows, profiles, the
twin's intervals, the cost table and the documents' Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rustok_sim.reports.catalog_runs import parse_profiles
from rustok_sim.reports.costs import defect_costs
from rustok_sim.reports.explanations import load_explanations, markdown_to_html
from rustok_sim.reports.results import ReportInputError, StoredResult
from rustok_sim.reports.trace_scan import FaultWindow, scan_trace
from rustok_sim.reports.twin import point_of


def _trace(path: Path, *records: dict[str, object]) -> Path:
    header = {"format": "rustok-sim-trace", "version": 2}
    lines = [header, *({"seq": n, **r} for n, r in enumerate(records, 1))]
    path.write_text("".join(json.dumps(line, separators=(",", ":"), sort_keys=True) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def _move(t: float, instance: str, source: str, target: str, trigger: str) -> dict[str, object]:
    return {"kind": "transition", "component": "circuit_breaker", "instance": instance, "t": t,
            "from_state": source, "to_state": target, "trigger": trigger}


def test_report_excerpt_of_a_stuck_breaker_is_its_moves_and_the_outage(tmp_path: Path) -> None:
    path = _trace(tmp_path / "trace.jsonl",
                  {"kind": "fault", "fault": "redis_outage", "phase": "start", "t": 1.0, "target": "redis"},
                  _move(1.1, "redis.negative", "closed", "open", "failure_threshold"),
                  _move(1.2, "redis.positive", "closed", "open", "failure_threshold"),
                  _move(4.0, "redis.positive", "open", "half_open", "timeout_elapsed"),
                  _move(4.1, "redis.positive", "half_open", "closed", "probe_succeeded"),
                  {"kind": "fault", "fault": "redis_outage", "phase": "end", "t": 5.0, "target": "redis"},
                  _move(6.0, "redis.negative", "open", "half_open", "timeout_elapsed"))
    scan = scan_trace(path, ["no_stuck_half_open"])
    assert scan.faults == [FaultWindow("redis_outage", "redis", 1.0, 5.0)]
    excerpt = scan.excerpts["no_stuck_half_open"]
    assert [line.number for line in excerpt.lines] == [2, 3, 7, 8]  # the positive breaker recovered: left out
    assert "redis.negative" in excerpt.note and excerpt.omitted == 0


def test_report_excerpt_of_a_slot_defect_is_the_first_anomaly_of_each_kind(tmp_path: Path) -> None:
    anomaly = {"kind": "anomaly", "component": "backpressure", "instance": "bus", "anomaly": "release_at_zero",
               "message": "wrapped", "t": 2.0}
    path = _trace(tmp_path / "trace.jsonl",
                  {"kind": "fault", "fault": "second_dispatcher", "phase": "instant", "t": 1.0, "target": "bus"},
                  anomaly, {**anomaly, "t": 3.0}, {**anomaly, "t": 4.0})
    scan = scan_trace(path, ["depth_bound"])
    assert scan.faults == [FaultWindow("second_dispatcher", "bus", 1.0, 1.0)]
    assert [line.number for line in scan.excerpts["depth_bound"].lines] == [2, 3]


def test_report_fault_still_open_at_the_end_has_no_end(tmp_path: Path) -> None:
    path = _trace(tmp_path / "trace.jsonl",
                  {"kind": "fault", "fault": "redis_outage", "phase": "start", "t": 7.0, "target": "redis"})
    assert scan_trace(path).faults == [FaultWindow("redis_outage", "redis", 7.0, None)]


def test_report_profiles_parse_in_order_and_refuse_unknown_names() -> None:
    assert parse_profiles("hardened, faithful") == ("hardened", "faithful")
    with pytest.raises(ReportInputError, match="unknown profile 'safe'"):
        parse_profiles("faithful,safe")


def _mmck_result(p_block: float, ci: list[float]) -> StoredResult:
    return StoredResult.model_validate({
        "format": "rustok-sim-result", "version": 1, "scenario": "mmck", "profile": "faithful", "seed": 1,
        "config": {"lambda": 1.0, "mu": 10.0, "c": 1, "K": 10},
        "metrics": {"p_block": p_block, "p_block_ci95": ci, "counted_arrivals": 3000, "L": 0.1,
                    "little_residual": 0.0},
        "verdicts": []})


def test_report_twin_point_without_blocking_uses_the_rule_of_three() -> None:
    point = point_of("low", _mmck_result(0.0, [0.0, 0.0]))
    assert point.ci95 == (0.0, 0.001) and point.within


def test_report_costs_keep_counts_exact_and_skip_measures_both_runs_lack() -> None:
    wrapped = 2**64 - 1
    rows = {r.measure: r for r in defect_costs({"final_depth": wrapped, "rejected": 5, "db_loads": 0},
                                               {"final_depth": 0, "rejected": 0, "db_loads": 0})}
    assert rows["final backpressure depth"].difference == wrapped  # no float rounding
    assert rows["events rejected by backpressure"].faithful_worse
    assert "database loads" not in rows  # zero in both


def test_report_markdown_renders_the_documents_tables_and_code() -> None:
    html = markdown_to_html("| a | b |\n| --- | --- |\n| `x` | **y** <z> |\n\n- one\n  more\n")
    assert "<th>a</th>" in html and "<code>x</code>" in html and "<strong>y</strong> &lt;z&gt;" in html
    assert "<li>one more</li>" in html


def test_report_explains_each_known_defect_from_the_documents() -> None:
    explanations = load_explanations()
    if not explanations.found:
        pytest.skip("docs/ is not next to this installation")
    assert explanations.anchor_for("no_stuck_half_open") == "doc-circuit-breaker-model-resilience-circuit"
    assert "usize" in explanations.invariants["depth_bound"][1]


def test_report_trace_cut_in_half_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    path = _trace(tmp_path / "trace.jsonl",
                  {"kind": "fault", "fault": "redis_outage", "phase": "start", "t": 1.0, "target": "redis"})
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"kind":"fault","fault":"redis_outage","pha\n')
    with pytest.raises(ReportInputError, match="line 3 is not JSON"):
        scan_trace(path)
