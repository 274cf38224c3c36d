"""The trace: in-memory recorder, JSON Lines round trip, schema, and errors that name file and line."""

from __future__ import annotations

import io
import json

import pytest
from rustok_sim.model.core.clock import ClockError, ManualClock
from rustok_sim.model.core.trace import (
    TRACE_FORMAT_VERSION,
    TraceFormatError,
    TraceRecorder,
    read_jsonl,
    trace_json_schema,
    write_jsonl,
)


def sample_recorder() -> TraceRecorder:
    clock = ManualClock()
    r = TraceRecorder(clock)
    r.transition("circuit_breaker", "redis", "closed", "open", "failure_threshold")
    clock.advance(0.25)
    r.decision("circuit_breaker", "redis", "rejected", "circuit_open", {"retry_after": 59.75})
    r.sample("backpressure", "bus", "depth", 42)
    r.fault("redis_outage", "start", "redis", {"mode": "refuse"})
    r.event("event_bus", "bus", "published", "0190a1b2-0000-7000-8000-000000000001", "node.created", "t1")
    clock.advance(1)
    r.anomaly("backpressure", "bus", "release_at_zero", "wrapped", {"depth_after": 2**64 - 1})
    return r


def test_records_carry_virtual_time_and_increasing_seq():
    r = sample_recorder()
    assert [rec.seq for rec in r] == [1, 2, 3, 4, 5, 6]
    assert [rec.t for rec in r] == [0.0, 0.25, 0.25, 0.25, 0.25, 1.25]
    assert [rec.kind for rec in r] == ["transition", "decision", "sample", "fault", "event", "anomaly"]


def test_jsonl_round_trip_is_lossless(tmp_path):
    r = sample_recorder()
    path = tmp_path / "trace.jsonl"
    write_jsonl(r.records, path, meta={"scenario": "unit", "seed": 7})
    back = read_jsonl(path)
    assert back.records == r.records
    assert back.meta["seed"] == 7 and back.meta["version"] == TRACE_FORMAT_VERSION


def test_listeners_see_records_as_they_are_made_and_can_unsubscribe():
    r = TraceRecorder(ManualClock())
    seen = []
    unsubscribe = r.subscribe(seen.append)
    r.sample("c", "i", "depth", 1)
    unsubscribe()
    r.sample("c", "i", "depth", 2)
    assert [s.value for s in seen] == [1]


def test_filters():
    r = sample_recorder()
    assert len(r.transitions("circuit_breaker")) == 1
    assert [a.anomaly for a in r.anomalies()] == ["release_at_zero"]
    assert r.of_kind("sample", "circuit_breaker") == []


def _text(*lines) -> io.StringIO:
    return io.StringIO("".join(json.dumps(line) + "\n" if not isinstance(line, str) else line + "\n"
                               for line in lines))


HEADER = {"format": "rustok-sim-trace", "version": 2}


@pytest.mark.parametrize("lines, line_no, fragment", [
    ((HEADER, "{not json"), 2, "not valid JSON"),
    (({"format": "something-else"},), 1, "first line must be a header"),
    (({"format": "rustok-sim-trace", "version": 99},), 1, "version 99 is not supported"),
    ((HEADER, {"kind": "transition", "seq": 1, "t": 0}), 2, "transition.component"),
    ((HEADER, {"kind": "teleport", "seq": 1, "t": 0}), 2, "teleport"),
    ((HEADER, {"kind": "sample", "seq": 1, "t": 0, "component": "c", "instance": "i", "name": "d",
               "value": "high"}), 2, "value"),
    ((HEADER, {"kind": "fault", "seq": 2, "t": 0, "fault": "f", "phase": "start", "target": "x"},
      {"kind": "fault", "seq": 2, "t": 0, "fault": "f", "phase": "end", "target": "x"}), 3, "does not increase"),
    ((HEADER, {"kind": "sample", "seq": 1, "t": 0, "component": "c", "instance": "i", "name": "d",
               "value": 1, "colour": "red"}), 2, "colour"),
])
def test_malformed_lines_are_reported_with_line_number_and_reason(lines, line_no, fragment):
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(_text(*lines), name="t.jsonl")
    assert info.value.line == line_no
    assert str(info.value).startswith(f"t.jsonl:{line_no}: ")
    assert fragment in str(info.value)


def test_empty_file_and_missing_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(TraceFormatError, match="empty trace"):
        read_jsonl(empty)
    with pytest.raises(TraceFormatError, match="cannot read trace file"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_schema_covers_header_and_every_record_kind():
    schema = trace_json_schema()
    assert set(schema["$defs"]) >= {"TraceHeader", "TraceRecord", "TransitionLine", "DecisionLine",
                                    "SampleLine", "FaultLine", "EventLine", "AnomalyLine"}
    json.dumps(schema)  # serialisable as is


def test_written_lines_validate_against_the_exported_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    buf = io.StringIO()
    write_jsonl(sample_recorder().records, buf)
    validator = jsonschema.Draft202012Validator(trace_json_schema())
    for line in buf.getvalue().splitlines():
        validator.validate(json.loads(line))


def test_manual_clock_only_moves_forward():
    clock = ManualClock(5)
    assert clock() == 5
    clock.advance(2.5)
    assert clock.now == 7.5
    with pytest.raises(ClockError):
        clock.advance(-1)
    with pytest.raises(ClockError):
        clock.set(7.0)
    with pytest.raises(ClockError):
        clock.advance(float("inf"))
    assert clock.set(10) == 10
