"""The one typed trace that every component writes and every tool reads.

Six record kinds, each stamped with virtual time ``t`` (from the recorder's injected clock) and a
sequence number ``seq`` that increases by one per record across all components sharing a recorder:

- ``transition``: a state machine moved (component, instance, from_state, to_state, trigger,
  detail): `component` and `trigger` are exactly those of the component's transition table, and
  only `Machine.fire` (``core/transitions.py``) emits them;
- ``decision``: a request was accepted / rejected / coalesced / fell back, with its reason;
- ``sample``: a gauge value (queue depth, entry count, ...);
- ``fault``: an injected fault started or ended (scenarios write these);
- ``event``: a domain event was published / delivered / applied / dropped, with its ids;
- ``anomaly``: something the model detects that Rust would do silently (a usize counter wrapping,
  a slot released twice, stats that no longer add up).

Each record's fields are declared once, as the slotted dataclass below; the pydantic models that
validate JSON Lines at the boundary and export the JSON Schema are derived from those declarations
(`rustok_sim.model.core.tracefile`).

Where records go is a **sink**: `ListSink` keeps them in memory (the default; tests and reports read
it), `JsonlSink` streams them to a file as they are made, `FilterSink` keeps some kinds or components
and passes them on, `CountSink` only counts them. `TraceRecorder` stamps records and hands them to
its sink; `wants(kind)` lets a component skip building records (and their detail dicts) of kinds
nobody keeps. `recorder_for_level` picks a recorder per trace level for scenarios.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import IO, Any, ClassVar, Literal, Protocol

from rustok_sim.model.core.clock import Clock, require_clock

TRACE_FORMAT = "rustok-sim-trace"
TRACE_FORMAT_VERSION = 2

Detail = Mapping[str, Any] | None


def _doc(text: str) -> Any:
    return field(metadata={"description": text})


def _opt(text: str) -> Any:
    return field(default=None, metadata={"description": text})


# --------------------------------------------------------------------------------------------
# Records: declared once. Slotted dataclasses (the hot path builds millions of them); the
# boundary's pydantic models are generated from these fields.
# --------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=True, repr=True)
class TraceRecord:
    """Base of the records: `seq` orders every record of a run, `t` is virtual time in seconds."""

    kind: ClassVar[str] = ""
    seq: int = _doc("sequence number, increasing across the whole trace")
    t: float = _doc("virtual time in seconds")

    def to_dict(self) -> dict[str, Any]:
        """The record as its JSON object: `kind` first, None-valued optional fields left out."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in _FIELD_NAMES[type(self)]:
            value = getattr(self, name)
            if value is not None:
                out[name] = dict(value) if name == "detail" else value
        return out


@dataclass(slots=True, eq=True, repr=True)
class Transition(TraceRecord):
    kind: ClassVar[str] = "transition"
    component: str = _doc("the component of the transition table")
    instance: str = _doc("which instance of the component (a breaker's name, a cache key)")
    from_state: str = _doc("state before")
    to_state: str = _doc("state after, as the table gives it")
    trigger: str = _doc("the trigger of the component's transition table")
    detail: Detail = _opt("what else the move says (which relay worker, which epoch)")


@dataclass(slots=True, eq=True, repr=True)
class Decision(TraceRecord):
    kind: ClassVar[str] = "decision"
    component: str = _doc("component that decided")
    instance: str = _doc("which instance")
    decision: str = _doc("accepted / rejected / coalesced / fell_back / ...")
    reason: str | None = _opt("why")
    detail: Detail = _opt("fields the decision carries (retry_after, depth, ...)")


@dataclass(slots=True, eq=True, repr=True)
class Sample(TraceRecord):
    kind: ClassVar[str] = "sample"
    component: str = _doc("component sampled")
    instance: str = _doc("which instance")
    name: str = _doc("gauge name (queue_depth, entries, ...)")
    value: float = _doc("gauge value")


@dataclass(slots=True, eq=True, repr=True)
class Fault(TraceRecord):
    kind: ClassVar[str] = "fault"
    fault: str = _doc("fault name (redis_outage, relay_crash, ...)")
    phase: Literal["start", "end", "instant"] = _doc("start and end of a window, or an instant fault")
    target: str = _doc("what the fault hits")
    detail: Detail = _opt("fault parameters")


@dataclass(slots=True, eq=True, repr=True)
class EventRecord(TraceRecord):
    kind: ClassVar[str] = "event"
    component: str = _doc("component that handled the event")
    instance: str = _doc("which instance")
    action: str = _doc("published / delivered / applied / dropped / ...")
    event_id: str = _doc("envelope id")
    event_type: str = _doc("domain event type")
    tenant_id: str | None = _opt("tenant of the event")
    detail: Detail = _opt("what else the action says")


@dataclass(slots=True, eq=True, repr=True)
class Anomaly(TraceRecord):
    kind: ClassVar[str] = "anomaly"
    component: str = _doc("component where it happened")
    instance: str = _doc("which instance")
    anomaly: str = _doc("anomaly name (counter_wrap, slot_leaked, ...)")
    message: str = _doc("what happened, in words")
    detail: Detail = _opt("values involved")


RECORD_TYPES: dict[str, type[TraceRecord]] = {
    cls.kind: cls for cls in (Transition, Decision, Sample, Fault, EventRecord, Anomaly)
}
KINDS: frozenset[str] = frozenset(RECORD_TYPES)
_ALL_RECORD_CLASSES: tuple[type[TraceRecord], ...] = (TraceRecord, *RECORD_TYPES.values())
_FIELD_NAMES: dict[type[TraceRecord], tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in _ALL_RECORD_CLASSES
}


def record_fields(cls: type[TraceRecord]) -> tuple[str, ...]:
    """The record's field names in declaration order (seq, t, then its own)."""
    return _FIELD_NAMES[cls]


# --------------------------------------------------------------------------------------------
# Sinks: where stamped records go.
# --------------------------------------------------------------------------------------------


class TraceSink(Protocol):
    """Receives every record a recorder keeps. `wants` lets the recorder (and through it the
    components) skip records of kinds the sink would throw away."""

    def accept(self, record: TraceRecord) -> None: ...

    def wants(self, kind: str, component: str | None = None) -> bool: ...


class ListSink:
    """Keeps every record in a list, in order (the default: tests and reports read it)."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def accept(self, record: TraceRecord) -> None:
        self.records.append(record)

    def wants(self, kind: str, component: str | None = None) -> bool:
        return True


class CountSink:
    """Keeps nothing but how many records of each (kind, component) went by."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str | None]] = Counter()

    def accept(self, record: TraceRecord) -> None:
        self.counts[(record.kind, getattr(record, "component", None))] += 1

    def wants(self, kind: str, component: str | None = None) -> bool:
        return True

    def total(self, kind: str | None = None) -> int:
        return sum(n for (k, _), n in self.counts.items() if kind is None or k == kind)


class FilterSink:
    """Passes on only the records of some kinds and/or components to `inner`."""

    __slots__ = ("inner", "kinds", "components")

    def __init__(self, inner: TraceSink, *, kinds: Iterable[str] | None = None,
                 components: Iterable[str] | None = None) -> None:
        self.inner = inner
        self.kinds = _known_kinds(kinds) if kinds is not None else None
        self.components = frozenset(components) if components is not None else None

    def accept(self, record: TraceRecord) -> None:
        if (self.kinds is None or record.kind in self.kinds) and (
                self.components is None or getattr(record, "component", None) in self.components):
            self.inner.accept(record)

    def wants(self, kind: str, component: str | None = None) -> bool:
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.components is not None and component is not None and component not in self.components:
            return False
        return self.inner.wants(kind, component)


class TraceWriteError(ValueError):
    """A record cannot be written as a trace line the reader would accept (a field of the wrong
    type, a value JSON cannot hold); names the record and the field."""


_HEADER_KEYS = frozenset({"format", "version"})


def trace_header(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """The header line of a trace with `meta`; `format` and `version` are the writer's, not meta's."""
    reserved = _HEADER_KEYS & set(meta or ())
    if reserved:
        raise TraceWriteError(f"trace meta may not set {sorted(reserved)}: the writer sets the format and version")
    return {"format": TRACE_FORMAT, "version": TRACE_FORMAT_VERSION, **(meta or {})}


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False).encode


def _field_checks(cls: type[TraceRecord]) -> tuple[tuple[str, Callable[[Any], bool], str], ...]:
    checks: list[tuple[str, Callable[[Any], bool], str]] = []
    for f in fields(cls):
        if f.name in ("seq", "kind"):
            continue
        if f.name in ("t", "value"):
            checks.append((f.name, _is_number, "a finite number"))
        elif f.name == "detail":
            checks.append((f.name, _is_detail, "a mapping with string keys, or None"))
        elif f.name == "phase":
            checks.append((f.name, _PHASES.__contains__, "start, end or instant"))
        elif f.default is None:
            checks.append((f.name, _is_optional_str, "a string or None"))
        else:
            checks.append((f.name, _is_str, "a string"))
    return tuple(checks)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and value == value and value not in (float("inf"), float("-inf"))


def _is_detail(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping) and all(type(k) is str for k in value))


def _is_optional_str(value: Any) -> bool:
    return value is None or type(value) is str


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


_PHASES = frozenset({"start", "end", "instant"})
_CHECKS = {cls: _field_checks(cls) for cls in RECORD_TYPES.values()}


def encode_record(record: TraceRecord) -> str:
    """One trace line for `record`, or a `TraceWriteError` if the reader would refuse it."""
    for name, ok, expected in _CHECKS[type(record)]:
        if not ok(getattr(record, name)):
            raise TraceWriteError(f"{record.kind} record seq {record.seq}: {name} must be {expected}, "
                                  f"got {type(getattr(record, name)).__name__} {getattr(record, name)!r:.80}")
    try:
        return _ENCODE(record.to_dict())
    except (TypeError, ValueError) as exc:
        raise TraceWriteError(f"{record.kind} record seq {record.seq} cannot be written as JSON: {exc}") from None


class JsonlSink:
    """Streams records to a file or text stream as JSON Lines, header first, as they are made, so
    a long run's trace never sits in memory. Each record is checked as it is written (a field of
    the wrong type is a `TraceWriteError` at the call that made it, not a line `trace-check`
    refuses later). `close()` flushes, and closes a file the sink opened; a sink is also a context
    manager."""

    __slots__ = ("_stream", "_owns", "count")

    def __init__(self, target: str | os.PathLike[str] | IO[str], meta: Mapping[str, Any] | None = None) -> None:
        header = trace_header(meta)
        if isinstance(target, (str, os.PathLike)):
            try:
                self._stream: IO[str] = open(target, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise OSError(exc.errno, f"cannot write trace {os.fspath(target)}: {exc.strerror or exc}") from None
            self._owns = True
        else:
            self._stream, self._owns = target, False
        self.count = 0
        self._stream.write(json.dumps(header, sort_keys=True) + "\n")

    def accept(self, record: TraceRecord) -> None:
        self._stream.write(encode_record(record) + "\n")
        self.count += 1

    def wants(self, kind: str, component: str | None = None) -> bool:
        return True

    def close(self) -> None:
        self._stream.flush()
        if self._owns:
            self._stream.close()

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class TeeSink:
    """Hands every record to several sinks: stream a trace to a file and keep it in memory."""

    __slots__ = ("sinks",)

    def __init__(self, *sinks: TraceSink) -> None:
        if not sinks:
            raise ValueError("TeeSink needs at least one sink")
        self.sinks = sinks

    def accept(self, record: TraceRecord) -> None:
        for sink in self.sinks:
            sink.accept(record)

    def wants(self, kind: str, component: str | None = None) -> bool:
        return any(sink.wants(kind, component) for sink in self.sinks)


def _known_kinds(kinds: Iterable[str]) -> frozenset[str]:
    if isinstance(kinds, str):
        raise TypeError(f"kinds must be a collection of record kinds such as {{{kinds!r}}}, not the string {kinds!r}")
    chosen = frozenset(kinds)
    unknown = chosen - KINDS
    if unknown:
        raise ValueError(f"unknown trace record kinds {sorted(unknown)}; known: {sorted(KINDS)}")
    return chosen


# --------------------------------------------------------------------------------------------
# Observers: how components report. A component holds `observer` (or None) and calls it.
# --------------------------------------------------------------------------------------------


class Observer(Protocol):
    """What a component needs from whoever watches it. `TraceRecorder` is the standard one.

    `wants(kind)` says whether records of that kind are kept at all; a component asks once, when
    it is built, and holds None instead of the observer for kinds nobody keeps, so an observer
    that records only transitions costs a rejection nothing."""

    def wants(self, kind: str, component: str | None = None) -> bool: ...

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


_OBSERVER_METHODS = ("wants", "transition", "decision", "sample", "fault", "event", "anomaly")


def require_observer(observer: object, owner: str) -> Observer | None:
    """`observer` if it is None or speaks `Observer`, else a `TypeError` naming `owner` and what
    is missing: a wrong observer fails when the component is built, not at its first record."""
    if observer is None:
        return None
    missing = [name for name in _OBSERVER_METHODS if not callable(getattr(observer, name, None))]
    if missing:
        raise TypeError(f"{owner} needs observer= a TraceRecorder (or None), got {type(observer).__name__} "
                        f"without {', '.join(missing)}()")
    return observer  # type: ignore[return-value]


def observer_for(observer: Observer | None, kind: str, component: str | None = None) -> Observer | None:
    """`observer` if it keeps records of `kind` (from `component`), else None: what a component
    stores per kind at construction so its hot path tests one attribute against None."""
    if observer is None or not observer.wants(kind, component):
        return None
    return observer


class TraceRecorder:
    """Stamps records with the clock's time and the next `seq` and hands them to its sink.

    One recorder is shared by every component of a run so that `seq` orders them all. `kinds`
    (default: all) and `components` (default: all) restrict what is kept; `sink` defaults to a
    `ListSink`. Listeners added with `subscribe` see each kept record as it is made (live coverage,
    pybreaker-style listeners); keep them cheap, they run inside the component's call.
    """

    __slots__ = ("clock", "sink", "kinds", "components", "_seq", "_listeners", "_accept", "_tally",
                 "_direct_transitions")

    def __init__(self, clock: Clock, *, sink: TraceSink | None = None, kinds: Iterable[str] | None = None,
                 components: Iterable[str] | None = None) -> None:
        self.clock = require_clock(clock, "TraceRecorder")
        if sink is not None and not (callable(getattr(sink, "accept", None)) and callable(getattr(sink, "wants", None))):
            raise TypeError(f"TraceRecorder needs sink= a trace sink (ListSink, JsonlSink, CountSink, FilterSink, "
                            f"TeeSink) or None, got {type(sink).__name__} {sink!r:.60}")
        self.sink: TraceSink = sink if sink is not None else ListSink()
        self.kinds = _known_kinds(kinds) if kinds is not None else KINDS
        self.components = frozenset(components) if components is not None else None
        self._seq = 0
        self._listeners: list[Callable[[TraceRecord], None]] = []
        self._accept = self.sink.accept
        # A count-only run builds no record objects at all (unless a listener needs them).
        self._tally = self.sink.counts if isinstance(self.sink, CountSink) else None
        self._direct_transitions = False
        self._sync_fast_path()

    def wants(self, kind: str, component: str | None = None) -> bool:
        if kind not in self.kinds:
            return False
        if self.components is not None and component is not None and component not in self.components:
            return False
        return self.sink.wants(kind, component)

    def subscribe(self, listener: Callable[[TraceRecord], None]) -> Callable[[], None]:
        """Call `listener(record)` for every new record; returns a function that unsubscribes."""
        self._listeners.append(listener)
        self._accept = self._accept_and_notify
        self._tally = None
        self._sync_fast_path()
        return lambda: self._unsubscribe(listener)

    def _unsubscribe(self, listener: Callable[[TraceRecord], None]) -> None:
        self._listeners.remove(listener)
        if not self._listeners:
            self._accept = self.sink.accept
            self._tally = self.sink.counts if isinstance(self.sink, CountSink) else None
            self._sync_fast_path()

    def _sync_fast_path(self) -> None:
        # Transitions are the one kind every traced run keeps, millions of times: when nothing
        # filters or tallies them, `transition` skips the generic checks.
        self._direct_transitions = ("transition" in self.kinds and self.components is None
                                    and self._tally is None)

    def _accept_and_notify(self, record: TraceRecord) -> None:
        self.sink.accept(record)
        for listener in self._listeners:
            listener(record)

    def _keeps(self, kind: str, component: str | None) -> bool:
        """Whether to build the record. Components that asked `wants` never get here with an
        unwanted kind; the guard is for callers that did not ask (scenario code, tests). A
        count-only sink is tallied here and the record is never built."""
        if kind not in self.kinds or not (self.components is None or component is None
                                          or component in self.components):
            return False
        tally = self._tally
        if tally is None:
            return True
        self._seq += 1
        tally[(kind, component)] += 1
        return False

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def transition(self, component: str, instance: str, from_state: str, to_state: str,
                   trigger: str, detail: Detail = None) -> None:
        if self._direct_transitions:
            self._seq = seq = self._seq + 1
            self._accept(Transition(seq, self.clock(), component, instance, from_state, to_state, trigger, detail))
        elif self._keeps("transition", component):
            self._seq += 1
            self._accept(Transition(self._seq, self.clock(), component, instance, from_state, to_state,
                                    trigger, detail))

    def decision(self, component: str, instance: str, decision: str, reason: str | None = None,
                 detail: Detail = None) -> None:
        if self._keeps("decision", component):
            self._seq += 1
            self._accept(Decision(self._seq, self.clock(), component, instance, decision, reason, detail))

    def sample(self, component: str, instance: str, name: str, value: float) -> None:
        if self._keeps("sample", component):
            self._seq += 1
            self._accept(Sample(self._seq, self.clock(), component, instance, name, value))

    def fault(self, fault: str, phase: str, target: str, detail: Detail = None) -> None:
        if self._keeps("fault", None):
            self._seq += 1
            self._accept(Fault(self._seq, self.clock(), fault, phase, target, detail))  # type: ignore[arg-type]

    def event(self, component: str, instance: str, action: str, event_id: str, event_type: str,
              tenant_id: str | None = None, detail: Detail = None) -> None:
        if self._keeps("event", component):
            self._seq += 1
            self._accept(EventRecord(self._seq, self.clock(), component, instance, action, event_id,
                                     event_type, tenant_id, detail))

    def anomaly(self, component: str, instance: str, anomaly: str, message: str,
                detail: Detail = None) -> None:
        if self._keeps("anomaly", component):
            self._seq += 1
            self._accept(Anomaly(self._seq, self.clock(), component, instance, anomaly, message, detail))

    # -- reading (only with a ListSink) ------------------------------------------------------

    @property
    def records(self) -> list[TraceRecord]:
        """The kept records, in order. Only a recorder whose sink is a `ListSink` has them."""
        sink = self.sink
        while isinstance(sink, (FilterSink, TeeSink)):
            sink = sink.inner if isinstance(sink, FilterSink) else next(
                (s for s in sink.sinks if isinstance(s, (ListSink, FilterSink))), sink.sinks[0])
        if not isinstance(sink, ListSink):
            raise TypeError(f"this recorder sends its records to a {type(sink).__name__}, which keeps "
                            "no list; use a ListSink (the default) to read records back")
        return sink.records

    def of_kind(self, kind: str, component: str | None = None) -> list[TraceRecord]:
        """Records of one kind, optionally of one component, in order."""
        return [r for r in self.records
                if r.kind == kind and (component is None or getattr(r, "component", None) == component)]

    def transitions(self, component: str | None = None) -> list[Transition]:
        return self.of_kind("transition", component)  # type: ignore[return-value]

    def anomalies(self, component: str | None = None) -> list[Anomaly]:
        return self.of_kind("anomaly", component)  # type: ignore[return-value]

    def __len__(self) -> int:
        return self._seq

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self.records)


TraceLevel = Literal["off", "counts", "transitions", "decisions", "full"]
LEVEL_KINDS: dict[str, frozenset[str]] = {
    "transitions": frozenset({"transition", "fault", "anomaly"}),
    "decisions": frozenset({"transition", "fault", "anomaly", "decision", "event"}),
    "full": KINDS,
}


def recorder_for_level(level: TraceLevel, clock: Clock, *, sink: TraceSink | None = None) -> TraceRecorder | None:
    """The recorder a scenario uses at a trace level: ``off`` (None: components pay nothing),
    ``counts`` (a `CountSink`), ``transitions`` (transitions, faults, anomalies), ``decisions``
    (plus decisions and events), ``full`` (everything, samples included). `sink` overrides where
    kept records go (a `JsonlSink` to stream them)."""
    if level == "off":
        return None
    if level == "counts":
        return TraceRecorder(clock, sink=sink if sink is not None else CountSink())
    if level not in LEVEL_KINDS:
        raise ValueError(f"unknown trace level {level!r}; known: off, counts, {', '.join(LEVEL_KINDS)}")
    return TraceRecorder(clock, sink=sink, kinds=LEVEL_KINDS[level])
