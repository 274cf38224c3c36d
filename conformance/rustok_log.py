"""RusToK's own logs as a trace: `tracing-subscriber`'s default text format and its JSON format.

The Rust code already logs, through `tracing`, most of what the trace checker needs: every
circuit-breaker transition, each rejection, a release at depth 0, a lagging dispatcher, the
relay's retries and DLQ moves. `import_log` reads such a log line by line and maps each line it
knows (`MESSAGES`, the exact texts of the Rust source at the spec's snapshots, spec §1-§3) to the
trace record it stands for; `check_log` then runs the trace checker's transition check and every
invariant that a log can decide, and says which ones need the richer trace.

Two line formats, detected per line:

- text (``tracing_subscriber::fmt()``, the default ``Full`` format, ANSI colours stripped)::

      2026-12-01T10:00:00.123456Z  WARN rustok_core::resilience::circuit_breaker: Circuit breaker rejected request state="open"

  timestamp, level, optional span context (``span{field=..}:span2:``), the target, ``: ``, the
  message, then the event's fields as ``key=value``;
- JSON (``.json()``): ``{"timestamp": ..., "level": "WARN", "fields": {"message": ..., ...},
  "target": ..., "span": ..., "spans": [...]}``; with ``.flatten_event(true)`` the fields are at
  the top level.

A line that is not a `tracing` event at all (a panic message, another program's output) or an
event with a message this importer does not map is *ignored* and counted. A line that looks like a
known event but is broken (a JSON object cut in half, a known message cut short, a timestamp that
is not RFC 3339, a field with the wrong type) is a `Problem` with its line number and reason.

What a log cannot say, and so what is not checked from one: admissions and outcomes of breaker
calls (CB-A logs neither; CB-B logs outcomes at debug only), every acquire of a backpressure slot,
events published and handled, transactions committed, projections applied, HTTP statuses. Logs
name no breaker instance either: each `target` (the Rust module path) is taken as one instance.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from rustok_sim.conformance.invariants.verdict import Verdict
from rustok_sim.conformance.trace_checker import (
    CheckReport,
    Finding,
    Numbered,
    Problem,
    _raw_lines,
    check_records,
    json_problem,
    resolve_variants,
)
from rustok_sim.model.core.rust import USIZE_MAX
from rustok_sim.model.core.trace import Anomaly, Decision, EventRecord, TraceRecord, Transition

__all__ = ["LOG_CHECKED", "MESSAGES", "LogImport", "check_log", "import_log"]

CB_A = "rustok_core::circuit_breaker"
CB_B = "rustok_core::resilience::circuit_breaker"
BACKPRESSURE = "rustok_core::events::backpressure"
BUS = "rustok_core::events::bus"
HANDLER = "rustok_core::events::handler"
RELAY = "rustok_outbox::relay"
TRANSACTIONAL = "rustok_outbox::transactional"
CACHE = "rustok_core::cache"

MESSAGES: dict[str, tuple[str, str]] = {
    # CB-B (resilience/circuit_breaker.rs, spec §1.3)
    "Circuit breaker: Open -> HalfOpen": (CB_B, "transition open -> half_open on timeout_elapsed"),
    "Circuit breaker: HalfOpen -> Closed": (CB_B, "transition half_open -> closed on success_threshold"),
    "Circuit breaker: Closed -> Open": (CB_B, "transition closed -> open on failure_threshold"),
    "Circuit breaker: HalfOpen -> Open": (CB_B, "transition half_open -> open on probe_failed"),
    "Circuit breaker: Manually opened": (CB_B, "transition (current) -> open on manual_open"),
    "Circuit breaker: Manually closed": (CB_B, "transition (current) -> closed on manual_close"),
    "Circuit breaker: Reset": (CB_B, "transition (current) -> closed on reset, when not closed"),
    "Circuit breaker rejected request": (CB_B, "decision rejected, reason circuit_<state> (field state)"),
    "Circuit breaker: success": (CB_B, "decision logged_succeeded (debug level; reason: field state)"),
    "Circuit breaker: failure": (CB_B, "decision logged_failed (reason: field state)"),
    "Circuit breaker: Unexpected success in Open state": (CB_B, "decision logged_succeeded, reason open"),
    # CB-A (circuit_breaker.rs, spec §1.2)
    "Circuit breaker tripped to OPEN state": (CB_A, "transition (current) -> open: failure_threshold from closed, "
                                                    "probe_failed from half_open"),
    "Circuit breaker transitioning to HALF_OPEN state": (CB_A, "transition open -> half_open on timeout_elapsed"),
    "Circuit breaker closed (service recovered)": (CB_A, "transition (current) -> closed on success_threshold"),
    "Circuit breaker manually reset to CLOSED state": (CB_A, "transition (current) -> closed on reset"),
    # backpressure.rs (spec §2.2)
    "Event queue at critical capacity, rejecting event": (BACKPRESSURE, "decision rejected, reason queue_full (fields current_depth, max_depth)"),
    "Event queue approaching capacity (warning threshold)": (BACKPRESSURE, "decision logged_warning_accept (debug level)"),
    "BackpressureController: release() called with depth already at 0": (BACKPRESSURE, "anomaly release_at_zero (a double release)"),
    # bus.rs (spec §3.2)
    "Event rejected due to backpressure": (BUS, "decision rejected on event_bus, reason backpressure"),
    "Event dropped - channel full or no receivers. CQRS indexes may become inconsistent!": (
        BUS, "event dropped_no_receivers on event_bus (the 02-13 text)"),
    "Event dropped - no receivers. CQRS indexes may become inconsistent!": (BUS, "event dropped_no_receivers on event_bus (from 02-14)"),
    # handler.rs (spec §3.3)
    "Event dispatcher lagged, skipped events": (HANDLER, "anomaly lagged_slots_leaked (field skipped)"),
    "Event handler error": (HANDLER, "event handler_error on event_dispatcher (after its retries)"),
    # relay.rs (spec §3.6)
    "Outbox event dispatched": (RELAY, "transition sys_event claimed -> dispatched on published"),
    "Outbox event scheduled for retry": (RELAY, "transition sys_event claimed -> pending on retry_scheduled"),
    "Outbox event moved to DLQ (failed)": (RELAY, "transition sys_event claimed -> failed on max_attempts, and event failed on outbox_relay"),
    # transactional.rs (spec §3.4)
    "EventTransport doesn't support transactional writes. Event may be lost if transaction fails.": (
        TRANSACTIONAL, "note: a non-outbox transport publishes before the commit"),
    # cache.rs (spec §7)
    "Redis cache circuit breaker is OPEN": (CACHE, "decision rejected on redis_cache, reason circuit_open"),
}
"""Every message the importer maps: message -> (the Rust target that logs it, what it becomes).
The spec's own quotations are substrings of these (the spec quotes "moved to DLQ", "release()
called with depth already at 0"); the full texts are the Rust source's."""

LOG_CHECKED: dict[str, str] = {
    "breaker_legal": "checked: every transition logged by either breaker, against the table, in order per target",
    "no_stuck_half_open": "checked: a breaker whose last logged move entered half_open more than 3 timeouts "
                          "before the log ends (a log does not give the timeout: the shortest logged open period "
                          "stands for it, else the default 60 s)",
    "slot_conservation": "partly: a release at depth 0 and a lagging dispatcher (slots that are never released) "
                         "are logged; a slot leaked by a crashed handler is not",
    "depth_bound": "checked: a release at depth 0 is logged, and under the faithful variant it wraps the usize",
    "nothing_lost": "partly: events dropped for want of receivers, skipped by a lagging dispatcher, or moved to "
                    "the DLQ are logged; an event that was published and never handled is not",
}
NEEDS_TRACE: dict[str, str] = {
    "no_ghosts": "needs transaction committed / rolled_back and projection records; a log only warns once that a "
                 "non-outbox transport publishes before the commit",
    "no_zombies": "needs transaction committed and projection applied records",
    "projection_applies_once": "needs projection applied / duplicate records",
    "coalescing": "needs the resolver's load transitions (RusToK logs no load start)",
    "no_reload_storm": "needs the resolver's not-found loads",
    "no_5xx_from_cache_outage": "needs the HTTP status of each request",
    "replay": "needs the breaker's admissions and outcomes, and every backpressure acquire and release; "
              "logs hold only rejections and transitions",
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TEXT = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT\S+)\s+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR)\s+(?P<rest>.*)$")
_TARGET = re.compile(r"(?:^|[\s:])(?P<target>[A-Za-z_]\w*(?:::\w+)*): ")
_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "WARN", "ERROR"})


@dataclass
class LogImport:
    """What the importer made of a log: records (with their lines), problems, what it ignored."""

    records: Numbered = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    mapped: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    start: datetime | None = None
    end: datetime | None = None
    """The first mapped line's time (t = 0) and the last tracing line's (the end of the log)."""
    notes: list[str] = field(default_factory=list)
    breaker_variants: set[str] = field(default_factory=set)
    """Which breakers' messages the log has: resilience (CB-B), standalone (CB-A)."""


@dataclass(frozen=True, slots=True)
class _Event:
    line: int
    timestamp: datetime
    level: str
    target: str
    message: str
    fields: Mapping[str, Any]


def _timestamp(text: Any, line: int, problems: list[Problem]) -> datetime | None:
    if not isinstance(text, str):
        problems.append(Problem(line, f"field 'timestamp': expected an RFC 3339 string, got {type(text).__name__}"))
        return None
    value = text.strip()
    # Python's parser takes at most microseconds; tracing may print nanoseconds.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append(Problem(line, f"field 'timestamp': {text[:40]!r} is not an RFC 3339 timestamp"))
        return None
    if stamp.tzinfo is None:
        problems.append(Problem(line, f"field 'timestamp': {text[:40]!r} has no UTC offset"))
        return None
    return stamp


def _text_value(raw: str) -> Any:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        try:
            return json.loads(raw)
        except ValueError:
            return raw[1:-1]
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


def _known_prefix(message: str) -> str | None:
    """The known message that `message` is a cut-short start of, if any."""
    if len(message) < 8:
        return None
    for known in MESSAGES:
        if known.startswith(message) and known != message:
            return known
    return None


def _parse_text(number: int, text: str, imported: LogImport) -> _Event | None:
    match = _TEXT.match(text)
    if match is None:
        imported.ignored["not tracing lines"] += 1
        return None
    rest = match["rest"]
    candidates = list(_TARGET.finditer(rest))
    # A module path (with ::) is the target; a bare word may be a span's name. A crate root
    # target (``rustok_server:``) has no ::, so take the first bare word when no path appears.
    target_match = next((m for m in candidates if "::" in m["target"]), candidates[0] if candidates else None)
    if target_match is None:
        imported.ignored["tracing lines without a module target"] += 1
        return None
    target = target_match["target"]
    body = rest[target_match.end():]
    message, fields = body, {}
    for known in MESSAGES:
        if body == known or body.startswith(known + " "):
            message = known
            fields = {k: _text_value(v) for k, v in _FIELD.findall(body[len(known):])}
            break
    else:
        cut = _known_prefix(body.rstrip())
        if cut is not None:
            imported.problems.append(Problem(number, f"line cut short: the message {body.rstrip()!r} is the start "
                                                     f"of {cut!r}; a truncated write?"))
            return None
    stamp = _timestamp(match["ts"], number, imported.problems)
    if stamp is None:
        return None
    imported.formats["text"] += 1
    return _Event(number, stamp, match["level"], target, message, fields)


def _parse_json(number: int, text: str, newline: bool, imported: LogImport) -> _Event | None:
    problem = json_problem(text, newline)
    if problem is not None:
        imported.problems.append(Problem(number, problem))
        return None
    obj = json.loads(text)
    if not isinstance(obj, dict) or "level" not in obj or not ("fields" in obj or "message" in obj):
        imported.ignored["JSON objects that are not tracing events"] += 1
        return None
    fields_obj = obj.get("fields", obj)
    if not isinstance(fields_obj, dict):
        imported.problems.append(Problem(number, f"field 'fields': expected an object, got {type(fields_obj).__name__}"))
        return None
    level = obj.get("level")
    if not isinstance(level, str) or level.upper() not in _LEVELS:
        imported.problems.append(Problem(number, f"field 'level': {level!r} is not a tracing level "
                                                 f"({', '.join(sorted(_LEVELS))})"))
        return None
    message = fields_obj.get("message", "")
    target = obj.get("target", "")
    if not isinstance(message, str) or not isinstance(target, str):
        bad = "fields.message" if not isinstance(message, str) else "target"
        imported.problems.append(Problem(number, f"field {bad!r}: expected a string"))
        return None
    if message not in MESSAGES:
        cut = _known_prefix(message)
        if cut is not None:
            imported.problems.append(Problem(number, f"field 'fields.message': {message!r} is the start of "
                                                     f"{cut!r}; cut short?"))
            return None
    if "timestamp" not in obj:
        if message in MESSAGES:
            imported.problems.append(Problem(number, "field 'timestamp': missing (tracing-subscriber writes one "
                                                     "unless .without_time() is set)"))
        else:
            imported.ignored["JSON events without a timestamp"] += 1
        return None
    stamp = _timestamp(obj["timestamp"], number, imported.problems)
    if stamp is None:
        return None
    imported.formats["json"] += 1
    fields = {k: v for k, v in fields_obj.items() if k != "message"}
    return _Event(number, stamp, level.upper(), target, message, fields)


def _int_field(event: _Event, name: str, problems: list[Problem]) -> int | None:
    value = event.fields.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(Problem(event.line, f"field {name!r}: expected an integer, got {value!r:.40}"))
    return None


class _Mapper:
    """Turns known events into records, tracking each breaker's state for the moves whose log
    line does not name where they start."""

    def __init__(self, imported: LogImport, variants: Mapping[str, str | None]) -> None:
        self.imported, self.variants = imported, variants
        self.state: dict[str, str] = {}
        self.seq = 0

    def _t(self, event: _Event) -> float:
        start = self.imported.start
        assert start is not None
        return (event.timestamp - start).total_seconds()

    def _add(self, event: _Event, record: TraceRecord) -> None:
        self.imported.records.append((event.line, record))

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _move(self, event: _Event, source: str, target: str, trigger: str, detail: dict[str, Any] | None = None) -> None:
        self._add(event, Transition(self._next(), self._t(event), "circuit_breaker", event.target, source, target,
                                    trigger, detail))
        self.state[event.target] = target

    def map(self, event: _Event) -> None:
        message, imported = event.message, self.imported
        if message not in MESSAGES:
            imported.ignored["tracing events with messages the importer does not map"] += 1
            return
        expected_target = MESSAGES[message][0]
        if event.target and event.target != expected_target and not event.target.startswith(expected_target):
            imported.notes.append(f"line {event.line}: {message!r} logged by target {event.target}, "
                                  f"not {expected_target}; mapped by its message")
        imported.mapped[message] += 1
        t = self._t(event)
        current = self.state.get(event.target, "closed")
        if expected_target == CB_B:
            imported.breaker_variants.add("resilience")
            fixed = {"Circuit breaker: Open -> HalfOpen": ("open", "half_open", "timeout_elapsed"),
                     "Circuit breaker: HalfOpen -> Closed": ("half_open", "closed", "success_threshold"),
                     "Circuit breaker: Closed -> Open": ("closed", "open", "failure_threshold"),
                     "Circuit breaker: HalfOpen -> Open": ("half_open", "open", "probe_failed")}
            if message in fixed:
                source, target, trigger = fixed[message]
                count = _int_field(event, "failure_count", imported.problems)
                self._move(event, source, target, trigger, {"failure_count": count} if count is not None else None)
            elif message == "Circuit breaker: Manually opened":
                self._move(event, current, "open", "manual_open")
            elif message == "Circuit breaker: Manually closed":
                self._move(event, current, "closed", "manual_close")
            elif message == "Circuit breaker: Reset":
                if current != "closed":
                    self._move(event, current, "closed", "reset")
            elif message == "Circuit breaker rejected request":
                state = event.fields.get("state")
                self._add(event, Decision(self._next(), t, "circuit_breaker", event.target, "rejected",
                                          f"circuit_{state}" if isinstance(state, str) else None))
            else:
                outcome = "failed" if message == "Circuit breaker: failure" else "succeeded"
                state = "open" if "Open state" in message else event.fields.get("state")
                self._add(event, Decision(self._next(), t, "circuit_breaker", event.target, "logged_" + outcome,
                                          str(state) if state is not None else None))
        elif expected_target == CB_A:
            imported.breaker_variants.add("standalone")
            if message == "Circuit breaker tripped to OPEN state":
                if current != "open":  # a re-trip while Open moves the open time, not the state
                    self._move(event, current, "open", "probe_failed" if current == "half_open" else "failure_threshold")
            elif message == "Circuit breaker transitioning to HALF_OPEN state":
                self._move(event, "open", "half_open", "timeout_elapsed")
            elif message == "Circuit breaker closed (service recovered)":
                if current != "closed":
                    self._move(event, current, "closed", "success_threshold")
            elif current != "closed":
                self._move(event, current, "closed", "reset")
        elif expected_target == BACKPRESSURE:
            if message.startswith("BackpressureController: release()"):
                wraps = self.variants.get("backpressure") != "hardened"
                self._add(event, Anomaly(self._next(), t, "backpressure", event.target, "release_at_zero",
                                         message, {"depth_after": USIZE_MAX if wraps else 0}))
            else:
                depth = _int_field(event, "current_depth", imported.problems)
                max_depth = _int_field(event, "max_depth", imported.problems)
                rejected = message.startswith("Event queue at critical")
                self._add(event, Decision(self._next(), t, "backpressure", event.target,
                                          "rejected" if rejected else "logged_warning_accept",
                                          "queue_full" if rejected else "warning",
                                          {"depth": depth, "max_depth": max_depth}))
        elif expected_target == BUS:
            kind = str(event.fields.get("event_type", "?"))
            if message.startswith("Event rejected"):
                self._add(event, Decision(self._next(), t, "event_bus", event.target, "rejected", "backpressure"))
            else:
                self._add(event, EventRecord(self._next(), t, "event_bus", event.target, "dropped_no_receivers",
                                             f"line-{event.line}", kind))
        elif expected_target == HANDLER:
            if message.startswith("Event dispatcher lagged"):
                skipped = _int_field(event, "skipped", imported.problems)
                self._add(event, Anomaly(self._next(), t, "event_dispatcher", event.target, "lagged_slots_leaked",
                                         f"{skipped if skipped is not None else 'some'} events were skipped (Lagged) "
                                         "and their backpressure slots will never be released",
                                         {"missed": skipped}))
            else:
                self._add(event, EventRecord(self._next(), t, "event_dispatcher", event.target, "handler_error",
                                             str(event.fields.get("event_id", f"line-{event.line}")),
                                             str(event.fields.get("event_type", "?"))))
        elif expected_target == RELAY:
            event_id = str(event.fields.get("event_id", f"line-{event.line}"))
            target, trigger = {"Outbox event dispatched": ("dispatched", "published"),
                               "Outbox event scheduled for retry": ("pending", "retry_scheduled"),
                               "Outbox event moved to DLQ (failed)": ("failed", "max_attempts")}[message]
            self._add(event, Transition(self._next(), t, "sys_event", event_id, "claimed", target, trigger))
            if target == "failed":
                self._add(event, EventRecord(self._next(), t, "outbox_relay", event.target, "failed", event_id, "?"))
        elif expected_target == TRANSACTIONAL:
            imported.notes.append(f"line {event.line}: the transport is not transactional: an event of a "
                                  "transaction that rolls back is published anyway (no_ghosts cannot hold; it "
                                  "needs the richer trace to count ghosts)")
        else:
            self._add(event, Decision(self._next(), t, "redis_cache", event.target, "rejected", "circuit_open"))


def import_log(source: str | os.PathLike[str] | IO[bytes], variants: Mapping[str, str | None] | None = None,
               label: str = "<log>") -> LogImport:
    """Read a RusToK log (text or JSON lines, mixed is fine) into records; never raises on bad
    input: unreadable lines are problems, unrelated lines are counted as ignored."""
    imported = LogImport()
    events: list[_Event] = []
    for number, raw, newline in _raw_lines(source, label, imported.problems):
        text = _ANSI.sub("", raw).strip()
        if not text:
            continue
        event = (_parse_json(number, text, newline, imported) if text.startswith("{")
                 else _parse_text(number, text, imported))
        if event is not None:
            events.append(event)
    mapped = [e for e in events if e.message in MESSAGES]
    if mapped:
        imported.start = min(e.timestamp for e in mapped)
        imported.end = max(e.timestamp for e in events)
    mapper = _Mapper(imported, variants or {})
    last: datetime | None = None
    for event in events:
        if event.message in MESSAGES and last is not None and event.timestamp < last:
            imported.notes.append(f"line {event.line}: timestamp {event.timestamp.isoformat()} is earlier than "
                                  "the line before (threads log out of order); kept in file order")
        if event.message in MESSAGES:
            last = max(last, event.timestamp) if last is not None else event.timestamp
        mapper.map(event)
    return imported


def _log_nothing_lost(records: Numbered) -> tuple[Verdict, list[Finding]]:
    findings: list[Finding] = []
    for line, r in records:
        if isinstance(r, EventRecord) and r.action == "dropped_no_receivers":
            findings.append(Finding("nothing_lost", line, f"the bus dropped a {r.event_type} event: no receivers"))
        elif isinstance(r, EventRecord) and r.component == "outbox_relay" and r.action == "failed":
            findings.append(Finding("nothing_lost", line, f"outbox event {r.event_id} moved to the DLQ: "
                                                          "never delivered"))
        elif isinstance(r, Anomaly) and r.anomaly == "lagged_slots_leaked":
            findings.append(Finding("nothing_lost", line, f"{r.message}"))
    detail = (f"{len(findings)} losses in the log (dropped for want of receivers, skipped by a lagging "
              "dispatcher, moved to the DLQ); events never handled need the richer trace")
    return Verdict("nothing_lost", "fail" if findings else "pass", detail), findings


def check_log(source: str | os.PathLike[str] | IO[bytes], variant_options: Sequence[str] = (),
              label: str = "<log>") -> CheckReport:
    """Import a RusToK log and check what a log can decide (see `LOG_CHECKED`); the report lists
    the invariants that need the richer trace as not checked."""
    base, _ = resolve_variants(variant_options)  # usage errors first; backpressure's variant is not in a log
    imported = import_log(source, base, label)
    options = list(variant_options)
    inferred: dict[str, str] = {}
    breaker = "circuit_breaker"
    if base.get(breaker) == resolve_variants([])[0].get(breaker) and not any(
            o.startswith(breaker + "=") or o in ("resilience", "standalone", "hardened") for o in variant_options):
        seen = imported.breaker_variants
        if seen:
            inferred[breaker] = "resilience" if "resilience" in seen else "standalone"
            options.append(f"{breaker}={inferred[breaker]}")
            if len(seen) > 1:
                imported.notes.append("the log has lines of both breakers (CB-A and CB-B); all are checked "
                                      "against CB-B's table (pass --variant circuit_breaker=standalone for CB-A's)")
    variants, how = resolve_variants(options)
    report = CheckReport(label, "RusToK log (" + (", ".join(f"{n} {f} lines" for f, n in sorted(imported.formats.items()))
                                                  or "no tracing lines") + ")")
    report.problems += imported.problems
    shown = {getattr(r, "component", None) for _, r in imported.records}
    report.variants = [(f"{h.split(' ', 1)[0]} (from the log's messages)" if h.split("=", 1)[0] in inferred else h)
                       for h in how if h.split("=", 1)[0] in shown]
    if imported.start is not None:
        report.notes.append(f"t = 0 is {imported.start.isoformat()} (the first mapped line)")
    total_ignored = sum(imported.ignored.values())
    report.notes.append(f"{sum(imported.mapped.values())} lines mapped to trace records, {total_ignored} ignored"
                        + (" (" + ", ".join(f"{n} {why}" for why, n in sorted(imported.ignored.items())) + ")"
                           if total_ignored else ""))
    report.notes += imported.notes
    records = imported.records
    # A log may begin mid-life (any first state); only the breakers log every move they make.
    depths = {r.detail.get("max_depth") for _, r in records
              if isinstance(r, Decision) and r.component == "backpressure" and r.detail}
    depths.discard(None)
    meta: dict[str, Any] = {}
    if imported.start is not None and imported.end is not None:
        meta["end"] = (imported.end - imported.start).total_seconds()
    if len(depths) == 1:
        meta["configs"] = {"backpressure": {"*": {"max_queue_depth": depths.pop()}}}
    check_records(report, records, meta, variants, from_start=False,
                  continuity=lambda component: component == "circuit_breaker", run_replay=False)
    keep = {"breaker_legal", "no_stuck_half_open", "depth_bound", "slot_conservation"}
    # breaker_legal's checker assumes every breaker starts closed; a log may begin mid-life, so
    # its verdict is the transition check's (first move from anywhere, then in order).
    moves = sum(1 for _, r in records if isinstance(r, Transition) and r.component == breaker)
    illegal = [f for f in report.findings if f.check == "transition" and f.message.startswith(breaker + " ")]
    report.verdicts = [v if v.invariant != "breaker_legal" else Verdict(
        "breaker_legal", "fail" if illegal else "pass",
        f"{moves} transitions of variant {variants.get(breaker)}"
        + (f"; {len(illegal)} illegal, first at line {illegal[0].line}" if illegal else ""))
        for v in report.verdicts if v.invariant in keep]
    report.findings = [f for f in report.findings if f.check in keep - {"breaker_legal"} or f.check == "transition"]
    report.unchecked = []
    for name in ("breaker_legal", "no_stuck_half_open", "depth_bound", "slot_conservation"):
        if not any(v.invariant == name for v in report.verdicts):
            report.unchecked.append((name, "the log has no lines of its component"))
    verdict, findings = _log_nothing_lost(records)
    report.verdicts.append(verdict)
    report.findings += findings
    report.unchecked += [(name, why) for name, why in NEEDS_TRACE.items()]
    report.scope += [f"{name}: {what}" for name, what in LOG_CHECKED.items()]
    return report
