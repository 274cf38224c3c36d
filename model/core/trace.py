"""The one typed trace that every component writes and every tool reads.

Six record kinds, each stamped with virtual time ``t`` (from the recorder's injected clock) and a
sequence number ``seq`` that increases by one per record across all components sharing a recorder:

- ``transition``: a state machine moved (component, instance, from_state, to_state, trigger,
  detail): `component` and `trigger` are exactly those of the component's transition table;
- ``decision``: a request was accepted / rejected / coalesced / fell back, with its reason;
- ``sample``: a gauge value (queue depth, entry count, ...);
- ``fault``: an injected fault started or ended (scenarios write these);
- ``event``: a domain event was published / delivered / applied / dropped, with its ids;
- ``anomaly``: something the model detects that Rust would do silently (a usize counter wrapping,
  a slot released twice, stats that no longer add up).

In memory the records are plain slotted objects appended to a list, cheap enough for hot loops;
a component with no observer builds no records at all. At the boundary they are JSON Lines: a
header line ``{"format": "rustok-sim-trace", "version": 1, ...}`` followed by one record per line,
validated by pydantic models whose JSON Schema `trace_json_schema()` exports (so a trace written
by the real Rust services can be checked with the same code).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from rustok_sim.model.core.clock import Clock

TRACE_FORMAT = "rustok-sim-trace"
TRACE_FORMAT_VERSION = 2

Detail = Mapping[str, Any] | None


# --------------------------------------------------------------------------------------------
# In-memory records (hot path): plain slotted classes, no validation.
# --------------------------------------------------------------------------------------------


class TraceRecord:
    """Base of the in-memory records. `fields` lists the attributes after seq and t."""

    __slots__ = ("seq", "t")
    kind: str = ""
    fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "seq": self.seq, "t": self.t}
        for name in self.fields:
            value = getattr(self, name)
            if value is not None:
                out[name] = dict(value) if name == "detail" else value
        return out

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind")
        return f"{type(self).__name__}({body})"


class Transition(TraceRecord):
    __slots__ = ("component", "instance", "from_state", "to_state", "trigger", "detail")
    kind = "transition"
    fields = ("component", "instance", "from_state", "to_state", "trigger", "detail")

    def __init__(self, seq: int, t: float, component: str, instance: str, from_state: str,
                 to_state: str, trigger: str, detail: Detail = None) -> None:
        self.seq, self.t = seq, t
        self.component, self.instance = component, instance
        self.from_state, self.to_state, self.trigger, self.detail = from_state, to_state, trigger, detail


class Decision(TraceRecord):
    __slots__ = ("component", "instance", "decision", "reason", "detail")
    kind = "decision"
    fields = ("component", "instance", "decision", "reason", "detail")

    def __init__(self, seq: int, t: float, component: str, instance: str, decision: str,
                 reason: str | None = None, detail: Detail = None) -> None:
        self.seq, self.t = seq, t
        self.component, self.instance = component, instance
        self.decision, self.reason, self.detail = decision, reason, detail


class Sample(TraceRecord):
    __slots__ = ("component", "instance", "name", "value")
    kind = "sample"
    fields = ("component", "instance", "name", "value")

    def __init__(self, seq: int, t: float, component: str, instance: str, name: str,
                 value: float) -> None:
        self.seq, self.t = seq, t
        self.component, self.instance = component, instance
        self.name, self.value = name, value


class Fault(TraceRecord):
    __slots__ = ("fault", "phase", "target", "detail")
    kind = "fault"
    fields = ("fault", "phase", "target", "detail")

    def __init__(self, seq: int, t: float, fault: str, phase: str, target: str,
                 detail: Detail = None) -> None:
        self.seq, self.t = seq, t
        self.fault, self.phase, self.target, self.detail = fault, phase, target, detail


class EventRecord(TraceRecord):
    __slots__ = ("component", "instance", "action", "event_id", "event_type", "tenant_id", "detail")
    kind = "event"
    fields = ("component", "instance", "action", "event_id", "event_type", "tenant_id", "detail")

    def __init__(self, seq: int, t: float, component: str, instance: str, action: str,
                 event_id: str, event_type: str, tenant_id: str | None = None,
                 detail: Detail = None) -> None:
        self.seq, self.t = seq, t
        self.component, self.instance = component, instance
        self.action, self.event_id, self.event_type = action, event_id, event_type
        self.tenant_id, self.detail = tenant_id, detail


class Anomaly(TraceRecord):
    __slots__ = ("component", "instance", "anomaly", "message", "detail")
    kind = "anomaly"
    fields = ("component", "instance", "anomaly", "message", "detail")

    def __init__(self, seq: int, t: float, component: str, instance: str, anomaly: str,
                 message: str, detail: Detail = None) -> None:
        self.seq, self.t = seq, t
        self.component, self.instance = component, instance
        self.anomaly, self.message, self.detail = anomaly, message, detail


RECORD_TYPES: dict[str, type[TraceRecord]] = {
    cls.kind: cls for cls in (Transition, Decision, Sample, Fault, EventRecord, Anomaly)
}


# --------------------------------------------------------------------------------------------
# Observers: how components report. A component holds `observer` (or None) and calls it.
# --------------------------------------------------------------------------------------------


class Observer(Protocol):
    """What a component needs from whoever watches it. `TraceRecorder` is the standard one.

    `wants(kind)` says whether records of that kind are kept at all; a component asks once, when
    it is built, and holds None instead of the observer for kinds nobody keeps, so an observer
    that records only transitions costs a rejection nothing."""

    def wants(self, kind: str) -> bool: ...

    def transition(self, component: str, instance: str, from_state: str, to_state: str,
                   trigger: str, detail: Detail = None) -> None: ...

    def decision(self, component: str, instance: str, decision: str, reason: str | None = None,
                 detail: Detail = None) -> None: ...

    def sample(self, component: str, instance: str, name: str, value: float) -> None: ...

    def fault(self, fault: str, phase: str, target: str, detail: Detail = None) -> None: ...

    def event(self, component: str, instance: str, action: str, event_id: str, event_type: str,
              tenant_id: str | None = None, detail: Detail = None) -> None: ...

    def anomaly(self, component: str, instance: str, anomaly: str, message: str,
                detail: Detail = None) -> None: ...


class TraceRecorder:
    """Collects records in memory, stamping each with the clock's time and the next `seq`.

    One recorder is shared by every component of a run so that `seq` orders them all. Listeners
    added with `subscribe` see each record as it is made (pybreaker-style listeners, live
    coverage); keep them cheap, they run inside the component's call.
    """

    __slots__ = ("clock", "records", "_seq", "_listeners", "kinds")

    def __init__(self, clock: Clock, *, kinds: Iterable[str] | None = None) -> None:
        self.clock = clock
        self.records: list[TraceRecord] = []
        self._seq = 0
        self._listeners: list[Callable[[TraceRecord], None]] = []
        self.kinds = frozenset(kinds) if kinds is not None else frozenset(RECORD_TYPES)

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    def subscribe(self, listener: Callable[[TraceRecord], None]) -> Callable[[], None]:
        """Call `listener(record)` for every new record; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _add(self, record: TraceRecord) -> None:
        self.records.append(record)
        for listener in self._listeners:
            listener(record)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def transition(self, component: str, instance: str, from_state: str, to_state: str,
                   trigger: str, detail: Detail = None) -> None:
        self._add(Transition(self._next(), self.clock(), component, instance, from_state,
                             to_state, trigger, detail))

    def decision(self, component: str, instance: str, decision: str, reason: str | None = None,
                 detail: Detail = None) -> None:
        self._add(Decision(self._next(), self.clock(), component, instance, decision, reason, detail))

    def sample(self, component: str, instance: str, name: str, value: float) -> None:
        self._add(Sample(self._next(), self.clock(), component, instance, name, value))

    def fault(self, fault: str, phase: str, target: str, detail: Detail = None) -> None:
        self._add(Fault(self._next(), self.clock(), fault, phase, target, detail))

    def event(self, component: str, instance: str, action: str, event_id: str, event_type: str,
              tenant_id: str | None = None, detail: Detail = None) -> None:
        self._add(EventRecord(self._next(), self.clock(), component, instance, action, event_id,
                              event_type, tenant_id, detail))

    def anomaly(self, component: str, instance: str, anomaly: str, message: str,
                detail: Detail = None) -> None:
        self._add(Anomaly(self._next(), self.clock(), component, instance, anomaly, message, detail))

    # -- reading -------------------------------------------------------------------------

    def of_kind(self, kind: str, component: str | None = None) -> list[TraceRecord]:
        """Records of one kind, optionally of one component, in order."""
        return [r for r in self.records
                if r.kind == kind and (component is None or getattr(r, "component", None) == component)]

    def transitions(self, component: str | None = None) -> list[Transition]:
        return self.of_kind("transition", component)  # type: ignore[return-value]

    def anomalies(self, component: str | None = None) -> list[Anomaly]:
        return self.of_kind("anomaly", component)  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self.records)


# --------------------------------------------------------------------------------------------
# Boundary models (pydantic): JSON Lines and the JSON Schema.
# --------------------------------------------------------------------------------------------


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: int = Field(ge=0, description="sequence number, increasing across the whole trace")
    t: float = Field(description="virtual time in seconds")


class TransitionLine(_Line):
    kind: Literal["transition"]
    component: str
    instance: str
    from_state: str
    to_state: str
    trigger: str = Field(description="the trigger of the component's transition table")
    detail: dict[str, Any] | None = None


class DecisionLine(_Line):
    kind: Literal["decision"]
    component: str
    instance: str
    decision: str = Field(description="accepted / rejected / coalesced / fell_back / ...")
    reason: str | None = None
    detail: dict[str, Any] | None = None


class SampleLine(_Line):
    kind: Literal["sample"]
    component: str
    instance: str
    name: str
    value: float


class FaultLine(_Line):
    kind: Literal["fault"]
    fault: str
    phase: Literal["start", "end", "instant"]
    target: str
    detail: dict[str, Any] | None = None


class EventLine(_Line):
    kind: Literal["event"]
    component: str
    instance: str
    action: str = Field(description="published / delivered / applied / dropped / ...")
    event_id: str
    event_type: str
    tenant_id: str | None = None
    detail: dict[str, Any] | None = None


class AnomalyLine(_Line):
    kind: Literal["anomaly"]
    component: str
    instance: str
    anomaly: str
    message: str
    detail: dict[str, Any] | None = None


class TraceHeader(BaseModel):
    """First line of a trace file."""

    model_config = ConfigDict(extra="allow")
    format: Literal["rustok-sim-trace"]
    version: int = Field(description="trace format version; this reader knows version 1")


TraceLine = Annotated[
    TransitionLine | DecisionLine | SampleLine | FaultLine | EventLine | AnomalyLine,
    Field(discriminator="kind"),
]
_LINE_ADAPTER: TypeAdapter[Any] = TypeAdapter(TraceLine)


def trace_json_schema() -> dict[str, Any]:
    """JSON Schema of one trace line: the header (first line) or a record (every other line)."""
    record_schema = _LINE_ADAPTER.json_schema(ref_template="#/$defs/{model}")
    defs = dict(record_schema.pop("$defs", {}))
    defs["TraceHeader"] = TraceHeader.model_json_schema(ref_template="#/$defs/{model}")
    defs["TraceRecord"] = record_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{TRACE_FORMAT} v{TRACE_FORMAT_VERSION} line",
        "description": "A JSON Lines trace: the first line is a TraceHeader, each later line a TraceRecord.",
        "oneOf": [{"$ref": "#/$defs/TraceHeader"}, {"$ref": "#/$defs/TraceRecord"}],
        "$defs": defs,
    }


class TraceFormatError(ValueError):
    """A trace file is not a valid rustok-sim trace; says which file, which line and why."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        super().__init__(f"{source}:{line}: {message}")


class TraceFile:
    """A trace read back from JSON Lines: its header metadata and its records."""

    __slots__ = ("meta", "records")

    def __init__(self, meta: dict[str, Any], records: list[TraceRecord]) -> None:
        self.meta, self.records = meta, records


def _record_from_line(line: BaseModel) -> TraceRecord:
    data = line.model_dump()
    cls = RECORD_TYPES[data.pop("kind")]
    return cls(**data)


def write_jsonl(records: Iterable[TraceRecord], target: str | os.PathLike[str] | io.TextIOBase,
                meta: Mapping[str, Any] | None = None) -> None:
    """Write a header line (with `meta`) and one JSON object per record."""
    header = {"format": TRACE_FORMAT, "version": TRACE_FORMAT_VERSION, **(meta or {})}
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8") as fh:
            _write_lines(fh, header, records)
    else:
        _write_lines(target, header, records)


def _write_lines(fh: Any, header: Mapping[str, Any], records: Iterable[TraceRecord]) -> None:
    dumps = json.dumps
    fh.write(dumps(header, sort_keys=True) + "\n")
    for record in records:
        fh.write(dumps(record.to_dict(), sort_keys=True, separators=(",", ":")) + "\n")


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "record"
    return f"{where}: {first['msg']}" + (f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else "")


def read_jsonl(source: str | os.PathLike[str] | io.TextIOBase, name: str | None = None) -> TraceFile:
    """Read and validate a JSON Lines trace. Raises `TraceFormatError` naming file and line."""
    if isinstance(source, (str, os.PathLike)):
        label = name or str(source)
        try:
            with open(source, encoding="utf-8") as fh:
                return _read_lines(fh, label)
        except OSError as exc:
            raise TraceFormatError(label, 0, f"cannot read trace file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise TraceFormatError(label, 0, f"not UTF-8 text: {exc.reason}") from None
    return _read_lines(source, name or getattr(source, "name", "<stream>"))


def _read_lines(fh: Iterable[str], label: str) -> TraceFile:
    meta: dict[str, Any] | None = None
    records: list[TraceRecord] = []
    last_seq = -1
    for number, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TraceFormatError(label, number, f"not valid JSON: {exc.msg} at column {exc.colno}") from None
        if meta is None:
            if not isinstance(obj, dict) or obj.get("format") != TRACE_FORMAT:
                raise TraceFormatError(label, number,
                                       f'first line must be a header {{"format": "{TRACE_FORMAT}", "version": N}}')
            try:
                header = TraceHeader.model_validate(obj)
            except ValidationError as exc:
                raise TraceFormatError(label, number, f"bad header: {_describe(exc)}") from None
            if header.version != TRACE_FORMAT_VERSION:
                raise TraceFormatError(label, number, f"trace format version {header.version} is not supported "
                                                      f"(this reader knows version {TRACE_FORMAT_VERSION})")
            meta = obj
            continue
        try:
            line = _LINE_ADAPTER.validate_python(obj)
        except ValidationError as exc:
            raise TraceFormatError(label, number, _describe(exc)) from None
        if line.seq <= last_seq:
            raise TraceFormatError(label, number, f"seq {line.seq} does not increase (previous {last_seq})")
        last_seq = line.seq
        records.append(_record_from_line(line))
    if meta is None:
        raise TraceFormatError(label, 1, "empty trace: no header line")
    return TraceFile(meta, records)
