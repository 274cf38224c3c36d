"""`rustok-sim check-trace`: our traces and RusToK's logs, good ones pass, faulty ones are rejected
with the exact line and reason (issue 11 §7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rustok_sim.cli import main
from rustok_sim.conformance.rustok_log import MESSAGES
from rustok_sim.conformance.trace_checker import (
    CheckReport,
    RecordedBackpressure,
    RecordedBreaker,
    check_trace_file,
)
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.core.tracefile import write_jsonl
from rustok_sim.model.resilience.backpressure import BackpressureConfig
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
HEADER = '{"format": "rustok-sim-trace", "version": 2}'


def write(tmp_path: Path, name: str, *lines: str, newline: bool = True) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + ("\n" if newline else ""), encoding="utf-8")
    return path


def move(seq: int, source: str, target: str, trigger: str, component: str = "circuit_breaker",
         instance: str = "db", t: float | None = None) -> str:
    return json.dumps({"kind": "transition", "seq": seq, "t": float(seq) if t is None else t, "component": component,
                       "instance": instance, "from_state": source, "to_state": target, "trigger": trigger})


def anomaly(seq: int, component: str, name: str, detail: dict[str, object] | None = None) -> str:
    return json.dumps({"kind": "anomaly", "seq": seq, "t": float(seq), "component": component, "instance": "bus",
                       "anomaly": name, "message": f"{name} happened", **({"detail": detail} if detail else {})})


def findings(report: CheckReport) -> list[str]:
    return [str(f) for f in report.findings]


def problems(report: CheckReport) -> list[str]:
    return [str(p) for p in report.problems]


# -- good traces pass ------------------------------------------------------------------------


DOC = EXAMPLES.parent / "trace-formats.md"


def test_the_docs_have_examples_of_both_formats() -> None:
    names = {path.name for path in EXAMPLES.iterdir()}
    assert {"breaker-trace.jsonl", "rustok-breaker.log", "rustok-breaker.json.log"} <= names


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.iterdir()))
def test_every_example_in_the_docs_passes(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    fmt = "rustok-log" if name.endswith(".log") else "trace"
    assert main(["check-trace", str(EXAMPLES / name), "--format", fmt]) == 0
    assert "result: OK: every check passed" in capsys.readouterr().out


def test_the_examples_shown_in_the_docs_are_the_checked_files() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in ("breaker-trace.jsonl", "rustok-breaker.log", "rustok-breaker.json.log"):
        shown = [line for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines()
                 if line and line in doc]
        assert shown, f"docs/trace-formats.md shows nothing of {name}"
    assert (EXAMPLES / "breaker-trace.jsonl").read_text(encoding="utf-8").strip() in doc
    assert (EXAMPLES / "rustok-breaker.log").read_text(encoding="utf-8").strip() in doc


def test_the_docs_list_every_message_the_importer_maps() -> None:
    doc = DOC.read_text(encoding="utf-8")
    missing = [message for message in MESSAGES if f"| {message} |" not in doc]
    assert not missing


def test_the_docs_trace_examples_are_replayed_through_the_reference() -> None:
    breaker = check_trace_file(EXAMPLES / "breaker-trace.jsonl")
    assert breaker.replays == ["circuit_breaker 'db': 9 inputs replayed, the same 3 moves (transitions and "
                               "anomalies), final state closed"]
    backpressure = check_trace_file(EXAMPLES / "backpressure-trace.jsonl")
    assert "17 inputs replayed" in backpressure.replays[0]


def test_a_scenario_run_trace_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "redis_outage", "--seed", "1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    report = check_trace_file(tmp_path / "trace.jsonl")
    assert report.exit_code == 0, report.text()
    assert {v.invariant for v in report.verdicts} >= {"breaker_legal", "no_stuck_half_open", "coalescing"}
    assert report.transitions_checked > 100


@pytest.mark.parametrize("variant", ["resilience", "standalone", "hardened"])
def test_a_model_trace_with_its_inputs_replays_in_every_breaker_variant(tmp_path: Path, variant: str) -> None:
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    breaker = RecordedBreaker(CircuitBreakerConfig(failure_threshold=2, success_threshold=2, timeout=10.0,
                                                   half_open_max_requests=2, variant=variant),  # type: ignore[arg-type]
                              clock=clock, recorder=recorder)
    for step in range(40):  # a service that fails for a while, then recovers
        call = breaker.admit()
        clock.advance(1.5)
        if call is not None:
            (breaker.fail if 5 <= step < 20 else breaker.succeed)(call)
    path = tmp_path / "trace.jsonl"
    write_jsonl(recorder.records, path, meta=breaker.header())
    report = check_trace_file(path)
    assert report.exit_code == 0, report.text()
    assert "inputs replayed, the same" in report.replays[0]
    assert report.transitions_checked >= 3


# -- faulty traces are rejected with the line and the reason ---------------------------------


def test_an_illegal_transition_names_its_line_and_the_legal_moves(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "open", "failure_threshold"),
                 move(2, "open", "closed", "success_threshold"))
    report = check_trace_file(path)
    assert report.exit_code == 1
    assert findings(report)[0] == (
        "line 3: transition: circuit_breaker 'db': open -> closed on success_threshold is not an edge of the "
        "circuit_breaker table for variant resilience (from open it allows: timeout_elapsed -> half_open; "
        "manual_close -> closed; reset -> closed)")
    assert [v.status for v in report.verdicts if v.invariant == "breaker_legal"] == ["fail"]


def test_the_same_edge_is_legal_in_the_variant_that_has_it(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "open", "failure_threshold"),
                 move(2, "open", "closed", "success_threshold"))
    assert check_trace_file(path, variant_options=["circuit_breaker=standalone"]).exit_code == 0


def test_a_move_from_a_state_the_instance_is_not_in_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "open", "failure_threshold"),
                 move(2, "closed", "open", "failure_threshold"))
    report = check_trace_file(path)
    assert report.exit_code == 1
    assert findings(report)[0] == ("line 3: transition: circuit_breaker 'db': moves from closed while in open "
                                   "(since line 2)")


def test_a_lost_slot_fails_slot_conservation_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", HEADER,
                 move(1, "held", "released", "all_handlers_done", "event_dispatch", "event[1]"),
                 anomaly(2, "event_dispatcher", "slot_leaked", {"event_id": "2"}))
    report = check_trace_file(path)
    assert report.exit_code == 1
    assert "line 3: slot_conservation: event_dispatcher 'bus': slot_leaked: slot_leaked happened" in findings(report)


def test_a_double_release_fails_slot_conservation_and_depth_bound_and_replays(tmp_path: Path) -> None:
    recorder = TraceRecorder(ManualClock())
    controller = RecordedBackpressure(BackpressureConfig(10, 0.5, 0.8), recorder=recorder, name="bus")
    controller.acquire()
    controller.release()
    controller.release()  # the second release of the same slot
    path = tmp_path / "t.jsonl"
    write_jsonl(recorder.records, path, meta=controller.header())
    report = check_trace_file(path)
    assert report.exit_code == 1
    lines = findings(report)
    assert any(line.startswith("line 5: slot_conservation: backpressure 'bus': release_at_zero: release() called "
                               "with depth already at 0") for line in lines), lines
    assert any(line.startswith("line 5: depth_bound:") for line in lines), lines
    assert "the same 2 moves" in report.replays[0]  # the reference wraps the depth too


def test_a_malformed_line_is_reported_and_the_rest_still_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "open", "failure_threshold"),
                 '{"kind": "transition", "seq": 2,, "t": 2.0}',
                 move(3, "open", "closed", "success_threshold"))
    report = check_trace_file(path)
    assert report.exit_code == 2
    assert problems(report) == ["line 3: not valid JSON: Expecting property name enclosed in double quotes at column 33"]
    assert findings(report)[0].startswith("line 4: transition: circuit_breaker 'db': open -> closed")


def test_a_line_cut_in_half_is_called_that(tmp_path: Path) -> None:
    whole = move(2, "open", "half_open", "timeout_elapsed")
    path = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "open", "failure_threshold"), whole[:40],
                 move(3, "half_open", "closed", "success_threshold"), whole[:25], newline=False)
    report = check_trace_file(path)
    assert report.exit_code == 2
    line3, line5 = problems(report)
    assert line3.startswith("line 3: line cut short: the line ends at column 40 inside its JSON (")
    assert line3.endswith("); a truncated write?")
    assert line5.startswith("line 5: line cut short: the line ends at column 25 inside its JSON (")
    assert line5.endswith(") and the file ends without a newline; a truncated write?")
    assert report.transitions_checked == 2  # lines 2 and 4 are still checked


def test_a_record_with_a_missing_or_wrong_field_names_the_field(tmp_path: Path) -> None:
    no_target = json.loads(move(1, "closed", "open", "failure_threshold"))
    del no_target["to_state"]
    bad_seq = json.loads(move(2, "closed", "open", "failure_threshold"))
    bad_seq["seq"] = "2"
    path = write(tmp_path, "t.jsonl", HEADER, json.dumps(no_target), json.dumps(bad_seq),
                 json.dumps({"kind": "teleport", "seq": 3, "t": 3.0}))
    report = check_trace_file(path)
    assert report.exit_code == 2
    assert problems(report)[0] == "line 2: transition record: field 'to_state': Field required"
    assert problems(report)[1] == "line 3: transition record: field 'seq': Input should be a valid integer"
    assert problems(report)[2].startswith("line 4: record: Input tag 'teleport' found using 'kind' does not match")


def test_time_going_backwards_and_a_missing_header_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", move(1, "closed", "open", "failure_threshold", t=5.0),
                 move(2, "open", "half_open", "timeout_elapsed", t=4.0))
    assert problems(check_trace_file(path)) == [
        'line 1: no header: the first line must be {"format": "rustok-sim-trace", "version": 2, ...}; checking '
        "the lines as records",
        "line 2: field 't': 4.0 is earlier than the previous record's 5.0: time never goes backwards in a trace"]


def test_a_replay_that_disagrees_with_the_trace_is_a_violation(tmp_path: Path) -> None:
    lines = (EXAMPLES / "breaker-trace.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["configs"]["circuit_breaker"]["db"]["failure_threshold"] = 3  # the trace tripped after 2
    path = write(tmp_path, "t.jsonl", json.dumps(header), *lines[1:])
    report = check_trace_file(path)
    assert report.exit_code == 1
    assert findings(report) == [
        "line 9: replay: circuit_breaker 'db': the trace rejects a call here; the reference, closed at t=3, admits it"]


def test_a_trace_without_inputs_says_it_was_not_replayed(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "open", "failure_threshold"))
    report = check_trace_file(path)
    assert report.exit_code == 0
    assert report.replays == ["circuit_breaker 'db': not replayed: the trace records no inputs for it (decisions "
                              "admitted, succeeded, failed, manual)"]
    assert ("no_ghosts", "no transaction or projection event records") in report.unchecked


# -- RusToK's logs -----------------------------------------------------------------------------

TS = "2026-12-01T10:00:{:02d}.000000Z"


def text(second: int, level: str, target: str, message: str) -> str:
    return f"{TS.format(second)} {level:>5} {target}: {message}"


def test_a_log_with_unrelated_lines_passes_and_lists_what_it_cannot_check(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log",
                 "Compiling rustok-server v0.1.0",
                 text(0, "INFO", "rustok_server", "listening on 0.0.0.0:3000"),
                 text(1, "ERROR", "rustok_core::resilience::circuit_breaker", "Circuit breaker: Closed -> Open "
                                                                             "failure_count=5"),
                 text(2, "INFO", "request{id=7}:rustok_server::http", "GET /health 200"),
                 text(3, "WARN", "rustok_core::resilience::circuit_breaker",
                      'Circuit breaker rejected request state="open"'),
                 text(4, "INFO", "rustok_core::resilience::circuit_breaker", "Circuit breaker: Open -> HalfOpen"),
                 text(5, "INFO", "rustok_core::resilience::circuit_breaker", "Circuit breaker: HalfOpen -> Closed"))
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 0, report.text()
    assert any("4 lines mapped to trace records, 3 ignored" in note for note in report.notes), report.notes
    unchecked = dict(report.unchecked)
    assert set(unchecked) == {"depth_bound", "slot_conservation", "no_ghosts", "no_zombies", "projection_applies_once", "coalescing", "no_reload_storm",
                              "no_5xx_from_cache_outage", "replay"}
    assert "not checked:" in report.text() and "what this format can check:" in report.text()


def test_a_double_release_in_a_log_is_rejected_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log",
                 text(0, "INFO", "rustok_server", "started"),
                 text(1, "WARN", "rustok_core::events::backpressure",
                      "BackpressureController: release() called with depth already at 0"))
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 1
    assert ("line 2: slot_conservation: backpressure 'rustok_core::events::backpressure': release_at_zero: "
            "BackpressureController: release() called with depth already at 0") in findings(report)
    assert any(f.startswith("line 2: depth_bound:") for f in findings(report))


def test_an_illegal_breaker_sequence_in_a_log_is_rejected(tmp_path: Path) -> None:
    target = "rustok_core::resilience::circuit_breaker"
    path = write(tmp_path, "app.log", text(1, "ERROR", target, "Circuit breaker: Closed -> Open failure_count=5"),
                 text(2, "ERROR", target, "Circuit breaker: Closed -> Open failure_count=5"))
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 1
    assert findings(report) == [f"line 2: transition: circuit_breaker '{target}': moves from closed while in open "
                                "(since line 1)"]


def test_a_log_may_start_mid_life(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log", text(1, "INFO", "rustok_core::resilience::circuit_breaker",
                                           "Circuit breaker: Open -> HalfOpen"))
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 0, report.text()
    assert [v.status for v in report.verdicts if v.invariant == "breaker_legal"] == ["pass"]


def test_a_breaker_left_half_open_until_the_log_ends_is_stuck(tmp_path: Path) -> None:
    target = "rustok_core::resilience::circuit_breaker"
    path = write(tmp_path, "app.log", f"2026-12-01T10:00:00.000000Z  INFO {target}: Circuit breaker: Open -> HalfOpen",
                 "2026-12-01T10:05:00.000000Z  INFO rustok_server: still serving")
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 1
    assert findings(report) == [f"line 1: no_stuck_half_open: circuit_breaker '{target}' enters half_open at t=0 "
                                "and is still there at the end"]


def test_cb_a_messages_are_checked_as_the_standalone_breaker(tmp_path: Path) -> None:
    target = "rustok_core::circuit_breaker"
    path = write(tmp_path, "app.log", text(1, "WARN", target, "Circuit breaker tripped to OPEN state"),
                 text(2, "INFO", target, "Circuit breaker transitioning to HALF_OPEN state"),
                 text(3, "WARN", target, "Circuit breaker tripped to OPEN state"),
                 text(4, "INFO", target, "Circuit breaker transitioning to HALF_OPEN state"),
                 text(5, "INFO", target, "Circuit breaker closed (service recovered)"))
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 0, report.text()
    assert report.variants[0] == "circuit_breaker=standalone (from the log's messages)"
    assert [v.detail for v in report.verdicts if v.invariant == "breaker_legal"] == [
        "5 transitions of variant standalone"]


def test_losses_in_a_log_fail_nothing_lost(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log",
                 text(1, "ERROR", "rustok_outbox::relay",
                      "Outbox event moved to DLQ (failed) event_id=0190a3b1-7c2e-7000-8000-000000000001 retry_count=5"),
                 text(2, "WARN", "rustok_core::events::handler", "Event dispatcher lagged, skipped events skipped=12"))
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 1
    assert findings(report)[-2:] == [
        "line 1: nothing_lost: outbox event 0190a3b1-7c2e-7000-8000-000000000001 moved to the DLQ: never delivered",
        "line 2: nothing_lost: 12 events were skipped (Lagged) and their backpressure slots will never be released"]
    assert any(f.startswith("line 2: slot_conservation:") for f in findings(report))


def test_a_json_log_line_cut_in_half_is_rejected(tmp_path: Path) -> None:
    good = json.dumps({"timestamp": TS.format(1), "level": "INFO", "target": "rustok_core::resilience::circuit_breaker",
                       "fields": {"message": "Circuit breaker: Open -> HalfOpen"}})
    path = write(tmp_path, "app.json.log", good, good[:50], good)
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 2
    [problem] = problems(report)
    assert problem.startswith("line 2: line cut short: the line ends at column 50 inside its JSON (")
    assert report.transitions_checked == 2  # the lines around it are still checked


def test_a_text_log_line_cut_short_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log", text(1, "ERROR", "rustok_core::resilience::circuit_breaker",
                                           "Circuit breaker: Closed ->"), newline=False)
    report = check_trace_file(path, "rustok-log")
    assert report.exit_code == 2
    assert problems(report) == ["line 1: line cut short: the message 'Circuit breaker: Closed ->' is the start of "
                                "'Circuit breaker: Closed -> Open'; a truncated write?"]


def test_a_bad_timestamp_or_level_in_a_json_log_names_the_field(tmp_path: Path) -> None:
    event = {"timestamp": "yesterday", "level": "INFO", "target": "rustok_core::resilience::circuit_breaker",
             "fields": {"message": "Circuit breaker: Open -> HalfOpen"}}
    path = write(tmp_path, "app.json.log", json.dumps(event), json.dumps({**event, "timestamp": TS.format(1),
                                                                          "level": "LOUD"}))
    assert problems(check_trace_file(path, "rustok-log")) == [
        "line 1: field 'timestamp': 'yesterday' is not an RFC 3339 timestamp",
        "line 2: field 'level': 'LOUD' is not a tracing level (DEBUG, ERROR, INFO, TRACE, WARN)"]


def test_flattened_json_and_ansi_colours_are_read(tmp_path: Path) -> None:
    flat = json.dumps({"timestamp": TS.format(1), "level": "ERROR", "message": "Circuit breaker: Closed -> Open",
                       "failure_count": 5, "target": "rustok_core::resilience::circuit_breaker"})
    coloured = (f"\x1b[2m{TS.format(2)}\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mrustok_core::resilience::circuit_breaker"
                "\x1b[0m\x1b[2m:\x1b[0m Circuit breaker: Open -> HalfOpen")
    report = check_trace_file(write(tmp_path, "app.log", flat, coloured), "rustok-log")
    assert report.exit_code == 0, report.text()
    assert report.transitions_checked == 2


# -- the command ---------------------------------------------------------------------------------


def test_exit_codes_and_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "t.jsonl", HEADER, move(1, "closed", "half_open", "timeout_elapsed"))
    assert main(["check-trace", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "line 2: transition: circuit_breaker 'db': closed -> half_open on timeout_elapsed" in out
    assert out.rstrip().endswith("result: FAIL: 1 violation(s)")
    assert main(["check-trace", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == (f"rustok-sim: error: {tmp_path / 'missing.jsonl'}: cannot read: "
                                               "No such file or directory")
    assert main(["check-trace", str(bad), "--variant", "circuit_breaker=cb-c"]) == 2
    assert "component circuit_breaker has no variant 'cb-c'" in capsys.readouterr().err
    assert main(["check-trace", str(bad), "--format", "syslog"]) == 2
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(HEADER.encode() + b"\n\xff\xfe\n")
    assert main(["check-trace", str(binary)]) == 2
    assert "line 2: not UTF-8 text: byte 0xff at column 1" in capsys.readouterr().out


def test_trace_check_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace-check", str(EXAMPLES / "breaker-trace.jsonl")]) == 0
    assert "valid rustok-sim trace v2" in capsys.readouterr().out
