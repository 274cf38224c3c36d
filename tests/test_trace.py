"""The trace: in-memory recorder, JSON Lines round trip, schema, and errors that name file and line."""

from __future__ import annotations

import io
import json

import pytest

from rustok_sim.model.core.clock import ClockError, ManualClock
from rustok_sim.model.core.trace import (
    TRACE_FORMAT_VERSION,
    CountSink,
    FilterSink,
    JsonlSink,
    ListSink,
    TeeSink,
    TraceRecorder,
    TraceWriteError,
    Transition,
    observer_for,
    recorder_for_level,
)
from rustok_sim.model.core.tracefile import (
    LINE_MODELS,
    TraceFormatError,
    iter_jsonl,
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


# -- sinks ----------------------------------------------------------------------------------


def _emit_all(r: TraceRecorder) -> None:
    r.transition("circuit_breaker", "redis", "closed", "open", "failure_threshold")
    r.decision("circuit_breaker", "redis", "rejected", "circuit_open")
    r.sample("backpressure", "bus", "depth", 3)
    r.fault("redis_outage", "start", "redis")
    r.event("event_bus", "bus", "published", "e1", "node.created")
    r.anomaly("backpressure", "bus", "release_at_zero", "wrapped")


def test_kinds_filter_what_is_kept_and_what_components_are_asked_for():
    r = TraceRecorder(ManualClock(), kinds={"transition"})
    _emit_all(r)
    assert [rec.kind for rec in r.records] == ["transition"]
    assert r.wants("transition") and not r.wants("decision")
    assert observer_for(r, "decision") is None and observer_for(r, "transition") is r
    assert observer_for(None, "transition") is None
    with pytest.raises(ValueError, match="unknown trace record kinds"):
        TraceRecorder(ManualClock(), kinds={"transitions"})


def test_component_filter_and_filter_sink():
    r = TraceRecorder(ManualClock(), components={"backpressure"})
    _emit_all(r)
    assert [rec.kind for rec in r.records] == ["sample", "fault", "anomaly"]  # faults have no component
    inner = ListSink()
    f = TraceRecorder(ManualClock(), sink=FilterSink(inner, kinds={"decision", "event"}))
    _emit_all(f)
    assert [rec.kind for rec in inner.records] == ["decision", "event"]
    assert f.wants("event") and not f.wants("sample")


def test_count_sink_keeps_nothing_but_counts():
    sink = CountSink()
    r = TraceRecorder(ManualClock(), sink=sink)
    _emit_all(r)
    _emit_all(r)
    assert sink.total() == 12 and sink.total("transition") == 2
    assert sink.counts[("sample", "backpressure")] == 2
    with pytest.raises(TypeError, match="keeps no list"):
        r.records  # noqa: B018


def test_jsonl_sink_streams_a_file_the_reader_accepts(tmp_path):
    path = tmp_path / "stream.jsonl"
    sink = JsonlSink(str(path), meta={"seed": 3})
    clock = ManualClock()
    r = TraceRecorder(clock, sink=sink)
    _emit_all(r)
    clock.advance(1.5)
    r.transition("circuit_breaker", "redis", "open", "half_open", "timeout_elapsed", {"probe": 1})
    sink.close()
    back = read_jsonl(path)
    assert back.meta["seed"] == 3 and len(back.records) == 7 == sink.count
    assert back.records[-1] == Transition(7, 1.5, "circuit_breaker", "redis", "open", "half_open",
                                          "timeout_elapsed", {"probe": 1})


@pytest.mark.parametrize("level, kinds", [
    ("transitions", {"transition", "fault", "anomaly"}),
    ("decisions", {"transition", "fault", "anomaly", "decision", "event"}),
    ("full", {"transition", "fault", "anomaly", "decision", "event", "sample"}),
])
def test_trace_levels(level, kinds):
    r = recorder_for_level(level, ManualClock())
    _emit_all(r)
    assert {rec.kind for rec in r.records} == kinds


def test_levels_off_and_counts():
    assert recorder_for_level("off", ManualClock()) is None
    counted = recorder_for_level("counts", ManualClock())
    _emit_all(counted)
    assert isinstance(counted.sink, CountSink) and counted.sink.total() == 6
    with pytest.raises(ValueError, match="unknown trace level"):
        recorder_for_level("verbose", ManualClock())  # type: ignore[arg-type]


def test_recorder_needs_a_clock():
    with pytest.raises(TypeError, match="TraceRecorder needs clock="):
        TraceRecorder(None)  # type: ignore[arg-type]


def test_line_models_are_derived_from_the_record_declarations():
    from dataclasses import fields

    from rustok_sim.model.core.trace import RECORD_TYPES
    for kind, cls in RECORD_TYPES.items():
        assert set(LINE_MODELS[kind].model_fields) == {"kind"} | {f.name for f in fields(cls)}


# -- the reader's edges ---------------------------------------------------------------------


SAMPLE = {"kind": "sample", "seq": 1, "t": 0.5, "component": "c", "instance": "i", "name": "d", "value": 1}


def test_deeply_nested_json_is_a_line_error_not_a_traceback():
    deep = '{"kind": "decision", "seq": 1, "t": 0, "component": "c", "instance": "i", "decision": "x", ' \
           '"detail": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(_text(HEADER, deep), name="deep.jsonl")
    assert info.value.line == 2 and "nested too deeply" in str(info.value)


def test_invalid_utf8_names_its_real_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps(SAMPLE | {"seq": 0})
    lines = [json.dumps(HEADER).encode()] + [json.dumps(SAMPLE | {"seq": n}).encode() for n in range(1, 1000)]
    lines.append(b'{"kind": "sample", "seq": 1000, "t": 0, "component": "\xff\xfe", "instance": "i"}'
                 .replace(b"\\xff\\xfe", b"\xff\xfe"))
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert good
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(path)
    assert info.value.line == 1001 and "not UTF-8" in info.value.message


@pytest.mark.parametrize("header", [
    {"format": "rustok-sim-trace", "version": "2"},
    {"format": "rustok-sim-trace", "version": True},
    {"format": "rustok-sim-trace", "version": 2.5},
])
def test_header_version_must_be_an_integer(header):
    with pytest.raises(TraceFormatError, match="bad header"):
        read_jsonl(_text(header))


@pytest.mark.parametrize("raw", [
    '{"kind": "sample", "seq": 1, "t": NaN, "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": 1, "t": 0, "component": "c", "instance": "i", "name": "d", "value": Infinity}',
    '{"kind": "sample", "seq": 1, "t": 0, "component": "c", "instance": "i", "name": "d", "value": 1, "value": 2}',
    '{"kind": "sample", "seq": "1", "t": 0, "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": 1, "t": "0", "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": 1, "t": true, "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": 1, "t": 0, "component": 7, "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": -1, "t": 0, "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "fault", "seq": 1, "t": 0, "fault": "f", "phase": "middle", "target": "x"}',
])
def test_the_reader_refuses_what_the_schema_refuses(raw):
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(_text(HEADER, raw))
    assert info.value.line == 2
    jsonschema = pytest.importorskip("jsonschema")
    try:
        obj = json.loads(raw, object_pairs_hook=_strict_pairs, parse_constant=_no_constant)
    except ValueError:
        return  # not JSON at all: the schema never sees it
    assert not jsonschema.Draft202012Validator(trace_json_schema()).is_valid(obj)


def _strict_pairs(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(name)


@pytest.mark.parametrize("raw", [
    '{"kind": "sample", "seq": 1, "t": 0, "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": 1.0, "t": 2, "component": "c", "instance": "i", "name": "d", "value": 1.5}',
    '{"kind": "transition", "seq": 1, "t": 0, "component": "c", "instance": "i", "from_state": "a", '
    '"to_state": "b", "trigger": "go", "detail": {"worker": "w1"}}',
    '{"kind": "decision", "seq": 1, "t": 0, "component": "c", "instance": "i", "decision": "x", "reason": null}',
])
def test_the_reader_accepts_what_the_schema_accepts(raw):
    (record,) = read_jsonl(_text(HEADER, raw)).records
    assert record.seq == 1 and isinstance(record.seq, int)
    jsonschema = pytest.importorskip("jsonschema")
    assert jsonschema.Draft202012Validator(trace_json_schema()).is_valid(json.loads(raw))


def test_iter_jsonl_streams_records_and_the_header(tmp_path):
    path = tmp_path / "t.jsonl"
    write_jsonl(sample_recorder().records, path, meta={"seed": 1})
    meta: dict = {}
    stream = iter_jsonl(path, meta_out=meta)
    first = next(stream)
    assert first.kind == "transition" and meta["seed"] == 1
    assert len(list(stream)) == 5


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


# -- found by a new user: the writer never writes what the reader refuses -------------------


@pytest.mark.parametrize("raw", [
    '{"kind": "sample", "seq": 1, "t": 1e999, "component": "c", "instance": "i", "name": "d", "value": 1}',
    '{"kind": "sample", "seq": 1, "t": 0, "component": "c", "instance": "i", "name": "d", "value": -1e400}',
    '{"kind": "sample", "seq": ' + "9" * 5000 + ', "t": 0, "component": "c", "instance": "i", "name": "d", "value": 1}',
])
def test_numbers_out_of_range_are_line_errors(raw):
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(_text(HEADER, raw))
    assert info.value.line == 2 and "out of range" in info.value.message


def test_time_never_goes_backwards_in_a_trace():
    later = SAMPLE | {"seq": 1, "t": 10.0}
    earlier = SAMPLE | {"seq": 2, "t": 5.0}
    with pytest.raises(TraceFormatError, match="earlier than the previous record's 10.0") as info:
        read_jsonl(_text(HEADER, later, earlier))
    assert info.value.line == 3


def test_a_truncated_line_names_its_end_and_a_bom_is_named(tmp_path):
    with pytest.raises(TraceFormatError, match="column 21"):
        read_jsonl(_text(HEADER, '{"kind":"transition"'))
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(HEADER).encode() + b"\n")
    with pytest.raises(TraceFormatError, match="byte-order mark"):
        read_jsonl(bom)


def test_a_float_version_reads_back_as_the_integer():
    meta: dict = {}
    list(iter_jsonl(_text({"format": "rustok-sim-trace", "version": 2.0}), meta_out=meta))
    assert meta["version"] == 2 and type(meta["version"]) is int


def test_a_directory_or_missing_file_is_named_without_a_line_number(tmp_path):
    with pytest.raises(TraceFormatError, match="it is a directory") as info:
        read_jsonl(tmp_path)
    assert str(info.value) == f"{tmp_path}: cannot read trace file: it is a directory"
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(tmp_path / "missing.jsonl")
    assert ":0:" not in str(info.value)


@pytest.mark.parametrize("meta", [{"version": 3}, {"format": "other"}])
def test_meta_cannot_overwrite_the_header(meta, tmp_path):
    with pytest.raises(TraceWriteError, match="may not set"):
        JsonlSink(str(tmp_path / "t.jsonl"), meta=meta)
    with pytest.raises(TraceWriteError, match="may not set"):
        write_jsonl([], tmp_path / "u.jsonl", meta=meta)


@pytest.mark.parametrize("emit, fragment", [
    (lambda r: r.transition("circuit_breaker", 5, "closed", "open", "failure_threshold"), "instance must be a string"),
    (lambda r: r.sample("x", "y", "depth", "high"), "value must be a finite number"),
    (lambda r: r.sample("x", "y", "depth", float("nan")), "value must be a finite number"),
    (lambda r: r.decision("x", "y", "rejected", None, {"ids": {1, 2}}), "cannot be written as JSON"),
    (lambda r: r.fault("redis_outage", "middle", "redis"), "phase must be start, end or instant"),
])
def test_a_streamed_record_the_reader_would_refuse_fails_at_the_call(emit, fragment):
    buffer = io.StringIO()
    recorder = TraceRecorder(ManualClock(), sink=JsonlSink(buffer))
    with pytest.raises(TraceWriteError, match=fragment):
        emit(recorder)
    assert buffer.getvalue().count("\n") == 1, "only the header was written"


def test_jsonl_sink_takes_a_path_and_is_a_context_manager(tmp_path):
    from pathlib import Path

    path = Path(tmp_path) / "p.jsonl"
    with JsonlSink(path) as sink:
        TraceRecorder(ManualClock(), sink=sink).sample("c", "i", "depth", 1)
    assert len(read_jsonl(path).records) == 1


def test_tee_sink_streams_and_keeps_records(tmp_path):
    kept = ListSink()
    with JsonlSink(tmp_path / "tee.jsonl") as stream:
        recorder = TraceRecorder(ManualClock(), sink=TeeSink(stream, kept))
        _emit_all(recorder)
    assert len(recorder.records) == 6 and read_jsonl(tmp_path / "tee.jsonl").records == kept.records


def test_recorder_arguments_are_checked():
    with pytest.raises(TypeError, match="not the string 'transition'"):
        TraceRecorder(ManualClock(), kinds="transition")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs sink= a trace sink"):
        TraceRecorder(ManualClock(), sink="file.jsonl")  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [lambda: ManualClock("5"), lambda: ManualClock().advance("1"),
                                  lambda: ManualClock().set(None), lambda: ManualClock().advance(True)])
def test_manual_clock_says_it_wants_seconds(call):
    with pytest.raises(ClockError, match="takes seconds as a number"):
        call()
