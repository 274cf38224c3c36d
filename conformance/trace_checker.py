"""The trace checker: is this trace (ours, or one imported from RusToK's own logs) legal?

`check_trace_file(path, fmt, variants)` reads a trace and runs every check the trace has enough
records for, in one report:

1. **Lines.** Each line of a JSON Lines trace is validated on its own (JSON, then the record's
   fields against the schema of `rustok_sim.model.core.tracefile`); a line that fails is a
   `Problem` naming its line number, the field and the reason (a line cut in half is called
   that), and the check goes on with the next line, so one run lists every problem.
2. **Transitions.** Every ``transition`` record is looked up in its component's transition table
   (`rustok_sim.model.core.transitions`) for the variant that ran, and must start in the state the
   previous transition of the same instance ended in.
3. **Invariants.** The checkers of `rustok_sim.conformance.invariants` that the trace's records can
   feed (breaker_legal, no_stuck_half_open, depth_bound, slot_conservation, nothing_lost,
   no_ghosts, no_zombies, projection_applies_once, coalescing, no_reload_storm,
   no_5xx_from_cache_outage). The checker is strict: a failure is a violation even where the spec
   documents it as a defect of the faithful code (the verdict then names the defect and its
   section, `KNOWN_DEFECTS`). An
   invariant whose records the trace does not hold is listed as not checked, with the reason.
4. **Replay.** Where the trace records a component's *inputs* (`INPUTS`) and its header gives the
   instance's config (``configs``), the inputs are fed at their recorded times (a `ManualClock`)
   to a fresh reference instance, and the transitions and anomalies it produces must be the ones
   the trace has. Circuit breaker and backpressure controller.

Exit status (`CheckReport.exit_code`): 0 every check passed, 1 a violation, 2 input that could
not be read (a malformed line: the rest is still checked and reported, but the trace cannot pass).

The input vocabulary (``decision`` records the driver writes beside the model's own): see
`INPUTS`; `RecordedBreaker` and `RecordedBackpressure` drive a reference instance and write them.
"""

from __future__ import annotations

import math
import os
import re
import sys
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from pydantic import TypeAdapter, ValidationError

from rustok_sim.conformance.invariants.breaker import BreakerLegal, NoStuckHalfOpen
from rustok_sim.conformance.invariants.events import _SLOT_ANOMALIES, DepthBound, NothingLost, SlotConservation
from rustok_sim.conformance.invariants.outbox import NoGhosts, NoZombies, ProjectionAppliesOnce
from rustok_sim.conformance.invariants.tenancy import Coalescing, No5xxFromCacheOutage, NoReloadStorm
from rustok_sim.conformance.invariants.verdict import Checker, Verdict, check
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import (
    RECORD_TYPES,
    TRACE_FORMAT,
    TRACE_FORMAT_VERSION,
    Anomaly,
    Decision,
    EventRecord,
    TraceRecord,
    TraceRecorder,
    Transition,
)
from rustok_sim.model.core.tracefile import TraceFormatError, TraceHeader, TraceLine, _parse
from rustok_sim.model.core.transitions import TransitionTable
from rustok_sim.model.events import dispatcher as dispatcher_module
from rustok_sim.model.events import relay as relay_module
from rustok_sim.model.resilience import backpressure as backpressure_module
from rustok_sim.model.resilience import circuit_breaker as breaker_module
from rustok_sim.model.tenancy import cache as cache_module
from rustok_sim.model.tenancy import resolver as resolver_module

__all__ = ["COMPONENTS", "INPUTS", "KNOWN_DEFECTS", "CheckReport", "ComponentInfo", "Finding", "Problem", "RecordedBackpressure",
           "RecordedBreaker", "TraceCheckUsageError", "check_records", "check_trace_file", "read_trace_lines",
           "resolve_variants"]

Format = Literal["trace", "rustok-log"]


class TraceCheckUsageError(ValueError):
    """An option the checker cannot use (unknown component or variant): exit 2, one line."""


# --------------------------------------------------------------------------------------------
# The tables: component -> its transition table, its variants and its profile map.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComponentInfo:
    table: TransitionTable
    variants: tuple[str, ...]
    """Every variant the model has (may be empty: the table has one behaviour)."""
    profiles: Mapping[str, str] | None
    """profile -> variant (faithful / hardened), None when the component has no variants."""
    initial: str | None = None
    """The state every instance starts in, when the model fixes one (a trace of ours starts at
    construction); None: the first transition may start anywhere."""


def _variants_of(alias: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in typing.get_args(alias))


COMPONENTS: dict[str, ComponentInfo] = {
    breaker_module.COMPONENT: ComponentInfo(breaker_module.TRANSITIONS, _variants_of(breaker_module.Variant),
                                            breaker_module.PROFILE_VARIANTS, "closed"),
    backpressure_module.COMPONENT: ComponentInfo(backpressure_module.TRANSITIONS,
                                                 _variants_of(backpressure_module.Variant),
                                                 backpressure_module.PROFILE_VARIANTS),
    dispatcher_module.COMPONENT: ComponentInfo(dispatcher_module.TRANSITIONS, _variants_of(dispatcher_module.Variant),
                                               dispatcher_module.PROFILE_VARIANTS, "created"),
    dispatcher_module.DISPATCH_COMPONENT: ComponentInfo(dispatcher_module.DISPATCH,
                                                        _variants_of(dispatcher_module.Variant),
                                                        dispatcher_module.PROFILE_VARIANTS, "held"),
    dispatcher_module.WORK_COMPONENT: ComponentInfo(dispatcher_module.WORK, _variants_of(dispatcher_module.Variant),
                                                    dispatcher_module.PROFILE_VARIANTS, "ready"),
    relay_module.ROW_COMPONENT: ComponentInfo(relay_module.ROW_TRANSITIONS, _variants_of(relay_module.Variant),
                                              relay_module.PROFILE_VARIANTS),
    resolver_module.COMPONENT: ComponentInfo(resolver_module.LOAD_TRANSITIONS, _variants_of(resolver_module.Variant),
                                             resolver_module.PROFILE_VARIANTS, "idle"),
    cache_module.COMPONENT: ComponentInfo(cache_module.ENTRY_TRANSITIONS, (), None, "absent"),
}
"""Every component whose transitions the checker knows, keyed by the trace's `component`."""


def resolve_variants(options: Sequence[str], meta: Mapping[str, Any] | None = None,
                     default_profile: str = "faithful") -> tuple[dict[str, str | None], list[str]]:
    """The variant each component is checked against, and how each was chosen.

    `options` are ``--variant`` values: ``COMPONENT=VARIANT``, or a bare ``VARIANT`` for every
    component that has it. Then the header's ``variants`` ({component: variant}) and its configs'
    ``variant`` fields, then its ``profile`` (faithful / hardened), then `default_profile`."""
    meta = meta or {}
    chosen: dict[str, str | None] = {}
    how: dict[str, str] = {}
    explicit: dict[str, str] = {}
    for option in options:
        if "=" in option:
            component, _, variant = option.partition("=")
            info = COMPONENTS.get(component)
            if info is None:
                raise TraceCheckUsageError(f"--variant {option}: unknown component {component!r}; known: "
                                           f"{', '.join(sorted(COMPONENTS))}")
            if variant not in info.variants:
                raise TraceCheckUsageError(f"--variant {option}: component {component} has no variant {variant!r}; "
                                           f"its variants: {', '.join(info.variants) or '(none)'}")
            explicit[component] = variant
        else:
            having = [name for name, info in COMPONENTS.items() if option in info.variants]
            if not having:
                raise TraceCheckUsageError(
                    f"--variant {option}: no component has variant {option!r}; variants: "
                    + "; ".join(f"{n}: {', '.join(i.variants)}" for n, i in COMPONENTS.items() if i.variants))
            for name in having:
                explicit.setdefault(name, option)
    header_variants: Mapping[str, Any] = meta["variants"] if isinstance(meta.get("variants"), Mapping) else {}
    configs: Mapping[str, Any] = meta["configs"] if isinstance(meta.get("configs"), Mapping) else {}
    profile = meta.get("profile") if meta.get("profile") in ("faithful", "hardened") else None
    for name, info in COMPONENTS.items():
        if not info.variants:
            chosen[name] = None
            continue
        if name in explicit:
            chosen[name], how[name] = explicit[name], "--variant"
            continue
        from_header = header_variants.get(name)
        if from_header in info.variants:
            chosen[name], how[name] = str(from_header), "the header's variants"
            continue
        config_variants = {cfg.get("variant") for cfg in (configs.get(name) or {}).values()
                           if isinstance(cfg, Mapping)} if isinstance(configs.get(name), Mapping) else set()
        if len(config_variants) == 1 and next(iter(config_variants)) in info.variants:
            chosen[name], how[name] = str(next(iter(config_variants))), "the header's configs"
            continue
        use = profile or default_profile
        chosen[name] = info.profiles[use] if info.profiles else None
        how[name] = f"profile {use}" + ("" if profile else ", the default")
    return chosen, [f"{name}={chosen[name]} ({how[name]})" for name in how]


# --------------------------------------------------------------------------------------------
# What a check finds.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """Input the checker cannot read: a line that is not a valid record (line 0: the file)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation: `check` is ``transition``, ``replay`` or an invariant's name."""

    check: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.check}: {self.message}"


@dataclass
class CheckReport:
    """Everything one check of one file found; `text()` renders it, `exit_code` judges it."""

    source: str
    format: str
    records: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    variants: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)
    """(check, why it was not run): invariants the trace holds no records for."""
    replays: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    """What each invariant can decide from this format (a log decides less than a trace)."""
    transitions_checked: int = 0

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if self.findings else 0

    def text(self, max_lines: int = 50) -> str:
        out = [f"{self.source}: {self.format}, {self.records} records"
               + (f" ({', '.join(f'{n} {k}' for k, n in sorted(self.kinds.items()))})" if self.kinds else "")]
        out.extend(f"  note: {note}" for note in self.notes)
        if self.variants:
            out.append("variants: " + ", ".join(self.variants))
        if self.problems:
            out.append(f"malformed input ({len(self.problems)}):")
            out.extend(f"  {p}" for p in self.problems[:max_lines])
            if len(self.problems) > max_lines:
                out.append(f"  ... and {len(self.problems) - max_lines} more")
        out.append(f"transitions: {self.transitions_checked} checked against their tables, "
                   f"{sum(1 for f in self.findings if f.check == 'transition')} illegal")
        if self.verdicts:
            out.append("invariants:")
            for verdict in self.verdicts:
                status = {"pass": "pass", "fail": "FAIL"}.get(verdict.status, verdict.status)
                out.append(f"  {status:<4}  {verdict.invariant}: {verdict.detail}"
                           + (f" [spec {verdict.spec}]" if verdict.spec else ""))
        if self.scope:
            out.append("what this format can check:")
            out.extend(f"  {line}" for line in self.scope)
        if self.unchecked:
            out.append("not checked:")
            out.extend(f"  {name}: {why}" for name, why in self.unchecked)
        if self.replays:
            out.append("replay through the reference model:")
            out.extend(f"  {line}" for line in self.replays)
        if self.findings:
            out.append(f"violations ({len(self.findings)}):")
            out.extend(f"  {f}" for f in self.findings[:max_lines])
            if len(self.findings) > max_lines:
                out.append(f"  ... and {len(self.findings) - max_lines} more")
        if self.problems:
            result = (f"UNREADABLE: {len(self.problems)} malformed line(s)"
                       + (f", {len(self.findings)} violation(s) in the rest" if self.findings else ""))
        elif self.findings:
            result = f"FAIL: {len(self.findings)} violation(s)"
        else:
            result = "OK: every check passed"
        out.append(f"result: {result}")
        return "\n".join(out)


Numbered = list[tuple[int, TraceRecord]]
"""Records with the line (1-based) each came from."""


# --------------------------------------------------------------------------------------------
# Reading: every line on its own, every problem listed.
# --------------------------------------------------------------------------------------------

_LINE: TypeAdapter[Any] = TypeAdapter(TraceLine)
_LOG_LINE = re.compile(r"^(\x1b\[[0-9;]*m)*\d{4}-\d\d-\d\dT\S+\s+(\x1b\[[0-9;]*m)*\s*(TRACE|DEBUG|INFO|WARN|ERROR)\b")


def _raw_lines(source: str | os.PathLike[str] | IO[bytes], label: str,
               problems: list[Problem]) -> Iterator[tuple[int, str, bool]]:
    """(number, text, ends with a newline) of each line; undecodable lines become problems."""
    fh: Any
    if isinstance(source, (str, os.PathLike)):
        if os.fspath(source) == "-":
            fh, owned = sys.stdin.buffer, False
        elif os.path.isdir(source):
            problems.append(Problem(0, f"{label}: cannot read: it is a directory"))
            return
        else:
            try:
                fh, owned = open(source, "rb"), True  # noqa: SIM115 - closed below
            except OSError as exc:
                problems.append(Problem(0, f"{label}: cannot read: {exc.strerror or exc}"))
                return
    else:
        fh, owned = source, False
    try:
        for number, raw in enumerate(fh, start=1):
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            newline = raw.endswith(b"\n")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(number, f"not UTF-8 text: byte {raw[exc.start]:#04x} at column {exc.start + 1}"))
                continue
            yield number, text.rstrip("\r\n"), newline
    except OSError as exc:
        problems.append(Problem(0, f"{label}: cannot read: {exc.strerror or exc}"))
    finally:
        if owned:
            fh.close()


def json_problem(text: str, newline: bool) -> str | None:
    """Why `text` is not one JSON value, saying so plainly when the line was cut short; None if
    it parses (with the trace reader's rules: unique keys, no NaN, no BOM)."""
    try:
        _parse(text, "", 2)
        return None
    except TraceFormatError as exc:
        reason = exc.message
    if _unclosed(text):
        tail = "" if newline else " and the file ends without a newline"
        return (f"line cut short: the line ends at column {len(text)} inside its JSON "
                f"({reason.removeprefix('not valid JSON: ')}){tail}; a truncated write?")
    return reason


def _unclosed(text: str) -> bool:
    """Whether `text` ends inside a string or with an object or array still open: a JSON value
    cut short, as a write interrupted mid-line leaves it."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def _describe(error: ValidationError, kind: Any) -> str:
    parts = []
    for item in error.errors()[:3]:
        loc = [str(p) for p in item["loc"]]
        if loc and loc[0] == kind:
            loc = loc[1:]
        where = f"field {'.'.join(loc)!r}" if loc else "record"
        parts.append(f"{where}: {item['msg']}")
    more = f" (and {error.error_count() - 3} more)" if error.error_count() > 3 else ""
    prefix = f"{kind} record: " if isinstance(kind, str) and kind in RECORD_TYPES else ""
    return prefix + "; ".join(parts) + more


def read_trace_lines(source: str | os.PathLike[str] | IO[bytes], label: str | None = None
                     ) -> tuple[dict[str, Any], Numbered, list[Problem]]:
    """Header metadata, the records that are valid (with their line numbers) and a `Problem` for
    every line that is not. Never raises on bad input."""
    label = label or ("<stdin>" if isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-"
                      else os.fspath(source) if isinstance(source, (str, os.PathLike))
                      else str(getattr(source, "name", "<stream>")))
    problems: list[Problem] = []
    meta: dict[str, Any] = {}
    records: Numbered = []
    header_seen = False
    first = True
    last_seq, last_t = -1, -math.inf
    any_line = False
    for number, text, newline in _raw_lines(source, label, problems):
        if not text.strip():
            continue
        any_line = True
        if number == 1 and text.startswith("\ufeff"):
            problems.append(Problem(1, "the file starts with a byte-order mark (BOM); a trace is UTF-8 without one"))
            text = text[1:]
        reason = json_problem(text, newline)
        if reason is not None:
            if first and _LOG_LINE.match(text):
                reason += "; this looks like a RusToK log: check it with --format rustok-log"
            problems.append(Problem(number, reason))
            first = False
            continue
        obj = _parse(text, label, 2)
        if first:
            first = False
            if isinstance(obj, dict) and "format" in obj:
                try:
                    header = TraceHeader.model_validate(obj)
                except ValidationError as exc:
                    problems.append(Problem(number, f"bad header: {_describe(exc, None)}"))
                    continue
                if header.format != TRACE_FORMAT or header.version != TRACE_FORMAT_VERSION:
                    problems.append(Problem(number, f"trace format {header.format} version {header.version} "
                                                    f"is not supported (this checker reads "
                                                    f"{TRACE_FORMAT} version {TRACE_FORMAT_VERSION})"))
                meta.update(obj)
                header_seen = True
                continue
            hint = ("; this looks like a RusToK JSON log: check it with --format rustok-log"
                    if isinstance(obj, dict) and "level" in obj and ("fields" in obj or "message" in obj) else "")
            problems.append(Problem(number, f'no header: the first line must be {{"format": "{TRACE_FORMAT}", '
                                            f'"version": {TRACE_FORMAT_VERSION}, ...}}; checking the lines as '
                                            f"records{hint}"))
        if not isinstance(obj, dict):
            problems.append(Problem(number, f"a record must be a JSON object, got {type(obj).__name__}"))
            continue
        try:
            line = _LINE.validate_python(obj)
        except ValidationError as exc:
            problems.append(Problem(number, _describe(exc, obj.get("kind"))))
            continue
        if line.seq <= last_seq:
            problems.append(Problem(number, f"field 'seq': {line.seq} does not increase (previous {last_seq})"))
        if line.t < last_t:
            problems.append(Problem(number, f"field 't': {line.t} is earlier than the previous record's {last_t}: "
                                            "time never goes backwards in a trace"))
        last_seq, last_t = max(last_seq, line.seq), max(last_t, line.t)
        data = line.model_dump()
        records.append((number, RECORD_TYPES[data.pop("kind")](**data)))
    if not any_line and not problems:
        problems.append(Problem(0, f"{label}: empty trace: no header line"))
    elif not header_seen and not problems:
        problems.append(Problem(1, "no header line"))
    return meta, records, problems


# --------------------------------------------------------------------------------------------
# Transitions against the tables.
# --------------------------------------------------------------------------------------------


def check_transitions(records: Numbered, variants: Mapping[str, str | None], *, from_start: bool,
                      continuity: Callable[[str], bool] = lambda component: True
                      ) -> tuple[list[Finding], int, Counter[str]]:
    """Findings for transitions that are not edges of their table for the variant, or that
    start elsewhere than the previous transition of the instance ended. `from_start`: the trace
    begins when the instances were built, so their first move starts in the model's initial
    state; otherwise (a log excerpt) the first move of an instance may start anywhere."""
    findings: list[Finding] = []
    unknown: Counter[str] = Counter()
    at: dict[tuple[str, str], tuple[str, int]] = {}
    checked = 0
    for line, record in records:
        if not isinstance(record, Transition):
            continue
        info = COMPONENTS.get(record.component)
        if info is None:
            unknown[record.component] += 1
            continue
        checked += 1
        variant = variants.get(record.component)
        table = info.table
        key = (record.component, record.instance)
        who = f"{record.component} {record.instance!r}"
        states = table.states()
        bad_state = [s for s in (record.from_state, record.to_state) if s not in states]
        if bad_state:
            findings.append(Finding("transition", line, f"{who}: unknown state {bad_state[0]!r}; "
                                                        f"the {record.component} table has {', '.join(states)}"))
            at[key] = (record.to_state, line)
            continue
        previous = at.get(key)
        if continuity(record.component):
            if previous is None and from_start and info.initial is not None and record.from_state != info.initial:
                findings.append(Finding("transition", line,
                                        f"{who}: first move starts in {record.from_state}, but every instance "
                                        f"starts in {info.initial}"))
            elif previous is not None and previous[0] != record.from_state:
                findings.append(Finding("transition", line,
                                        f"{who}: moves from {record.from_state} while in {previous[0]} "
                                        f"(since line {previous[1]})"))
        if table.edge(record.from_state, record.to_state, record.trigger, variant) is None:
            allowed = [f"{e.trigger} -> {e.target}" for e in table.for_variant(variant) if e.source == record.from_state]
            named = f" variant {variant}" if variant else ""
            findings.append(Finding("transition", line,
                                    f"{who}: {record.from_state} -> {record.to_state} on {record.trigger} is not "
                                    f"an edge of the {record.component} table for{named or ' any variant'}"
                                    f" (from {record.from_state} it allows: {'; '.join(allowed) or 'nothing'})"))
        at[key] = (record.to_state, line)
    return findings, checked, unknown


# --------------------------------------------------------------------------------------------
# Invariants: which ones the records can feed, and the lines that show a failure.
# --------------------------------------------------------------------------------------------


def _has(records: Numbered, kind: str, components: Iterable[str] | None = None,
         actions: Iterable[str] | None = None) -> bool:
    wanted = frozenset(components) if components is not None else None
    acts = frozenset(actions) if actions is not None else None
    for _, record in records:
        if record.kind != kind:
            continue
        if wanted is not None and getattr(record, "component", None) not in wanted:
            continue
        if acts is not None and getattr(record, "action", getattr(record, "decision", None)) not in acts:
            continue
        return True
    return False


def _config(meta: Mapping[str, Any], component: str, instance: str | None = None) -> Mapping[str, Any] | None:
    configs = meta.get("configs")
    if not isinstance(configs, Mapping):
        return None
    per = configs.get(component)
    if not isinstance(per, Mapping):
        return None
    if instance is not None and isinstance(per.get(instance), Mapping):
        return per[instance]
    if isinstance(per.get("*"), Mapping):
        return per["*"]
    if instance is None:
        found = [c for c in per.values() if isinstance(c, Mapping)]
        return found[0] if len(found) == 1 else None
    return None


def choose_invariants(records: Numbered, meta: Mapping[str, Any], variants: Mapping[str, str | None]
                      ) -> tuple[list[Checker], list[tuple[str, str]], list[str]]:
    """The checkers this trace can feed, the invariants it cannot (with why), and notes on the
    parameters assumed."""
    checkers: list[Checker] = []
    skipped: list[tuple[str, str]] = []
    notes: list[str] = []
    end = records[-1][1].t if records else 0.0
    if isinstance(meta.get("end"), (int, float)):
        end = float(meta["end"])
    breaker = breaker_module.COMPONENT
    if _has(records, "transition", [breaker]) or _has(records, "decision", [breaker]):
        checkers.append(BreakerLegal(str(variants.get(breaker))))
        cfg = _config(meta, breaker)
        timeout = cfg.get("timeout") if cfg else None
        if not isinstance(timeout, (int, float)):
            gap = _shortest_open_period(records)
            if gap is not None:
                # The move to half_open is lazy (on a call at or after the timeout), so the
                # shortest open period is an upper bound of the timeout: never stricter than it.
                timeout = gap
                notes.append(f"no_stuck_half_open takes the breaker timeout as {gap:g} s, the shortest open period "
                             "in the trace (no config in the input gives the timeout)")
            else:
                timeout = breaker_module.CircuitBreakerConfig().timeout
                notes.append(f"no_stuck_half_open assumes the default breaker timeout of {timeout:g} s "
                             "(no config in the input gives one)")
        checkers.append(NoStuckHalfOpen(float(timeout), end))
    else:
        skipped += [("breaker_legal", "no circuit_breaker records"), ("no_stuck_half_open", "no circuit_breaker records")]
    bp = backpressure_module.COMPONENT
    slot_components = [bp, dispatcher_module.COMPONENT, dispatcher_module.DISPATCH_COMPONENT, "event_bus"]
    if any(_has(records, kind, slot_components) for kind in ("transition", "decision", "anomaly", "event", "sample")):
        cfg = _config(meta, bp)
        max_depth = cfg.get("max_queue_depth") if cfg else None
        if not isinstance(max_depth, int):
            max_depth = backpressure_module.BackpressureConfig().max_queue_depth
        checkers += [DepthBound(max_depth), SlotConservation()]
    else:
        skipped += [("depth_bound", "no backpressure, bus or dispatcher records"),
                    ("slot_conservation", "no backpressure, bus or dispatcher records")]
    if _has(records, "event", ["event_bus"], ["published"]) or _has(records, "event", ["outbox"], ["written"]):
        checkers.append(NothingLost(drops_allowed=True))
        notes.append("nothing_lost counts events a producer dropped after a rejection but does not fail on them "
                     "(the trace does not say whether its producers promise to retry)")
    else:
        skipped.append(("nothing_lost", "no event_bus 'published' or outbox 'written' event records"))
    if _has(records, "event", ["transaction", "projection"]):
        checkers += [NoGhosts(), NoZombies(), ProjectionAppliesOnce()]
    else:
        skipped += [(name, "no transaction or projection event records")
                    for name in ("no_ghosts", "no_zombies", "projection_applies_once")]
    resolver = resolver_module.COMPONENT
    if _has(records, "transition", [resolver]):
        checkers.append(Coalescing())
        cfg = _config(meta, resolver)
        ttl = cfg.get("negative_ttl") if cfg else None
        if isinstance(ttl, (int, float)) and not isinstance(ttl, bool):
            checkers.append(NoReloadStorm(None, float(ttl), negative_cache=variants.get(resolver) != "v2"))
        else:  # a guessed TTL longer than the real one would call every legitimate reload a storm
            skipped.append(("no_reload_storm", "needs the resolver's negative_ttl: the header has no "
                                               "configs.tenant_resolver with one"))
    else:
        skipped += [("coalescing", "no tenant_resolver transitions"), ("no_reload_storm", "no tenant_resolver transitions")]
    if _has(records, "decision", ["http"]):
        checkers.append(No5xxFromCacheOutage())
    else:
        skipped.append(("no_5xx_from_cache_outage", "no http 'responded' decisions"))
    return checkers, skipped, notes


KNOWN_DEFECTS: dict[str, tuple[str, frozenset[str], str, str]] = {
    "no_stuck_half_open": ("circuit_breaker", frozenset({"resilience"}), "§1.3",
                           "CB-B counts every half-open probe and never decrements"),
    "depth_bound": ("backpressure", frozenset({"faithful"}), "§2.2", "a release at depth 0 wraps the usize"),
    "slot_conservation": ("event_dispatch", frozenset({"2026-02-13", "2026-02-14"}), "§3.3",
                          "two dispatchers on one bus release twice; 02-13 leaks a crashed handler's slot"),
    "no_zombies": ("sys_event", frozenset({"faithful"}), "§3.6", "nothing reclaims a row claimed by a relay that died"),
    "no_ghosts": ("sys_event", frozenset({"faithful"}), "§3.4",
                  "a non-outbox transport publishes before the transaction's outcome is known"),
    "no_5xx_from_cache_outage": ("tenant_resolver", frozenset({"v1"}), "§6.2/§7",
                                 "V1 turns any cache error into HTTP 500"),
    "no_reload_storm": ("tenant_resolver", frozenset({"v1"}), "§6.2", "V1 waiters re-check only the positive cache"),
}
"""invariant -> (component, its faithful variants, spec section, summary): a failure that the
faithful Rust code is documented to have. The checker still fails it (a trace from production
with the defect is a finding), and says which defect it is."""


def _annotate(verdict: Verdict, variants: Mapping[str, str | None]) -> Verdict:
    known = KNOWN_DEFECTS.get(verdict.invariant)
    if not verdict.failed or known is None or variants.get(known[0]) not in known[1]:
        return verdict
    return Verdict(verdict.invariant, "fail", f"{verdict.detail} (a documented defect of the faithful code, "
                                              f"{known[0]}={variants.get(known[0])}: {known[3]})", known[2])


def _shortest_open_period(records: Numbered) -> float | None:
    opened: dict[str, float] = {}
    shortest: float | None = None
    for _, r in records:
        if isinstance(r, Transition) and r.component == breaker_module.COMPONENT:
            if r.to_state == "open":
                opened[r.instance] = r.t
            elif r.from_state == "open" and r.to_state == "half_open" and r.instance in opened:
                gap = r.t - opened.pop(r.instance)
                shortest = gap if shortest is None else min(shortest, gap)
    return shortest if shortest is not None and shortest > 0 else None


def _witnesses(verdict: Verdict, records: Numbered, limit: int = 5) -> list[Finding]:
    """The lines that show why `verdict` failed, where the invariant has lines to point at."""
    name = verdict.invariant
    out: list[Finding] = []
    if name in ("slot_conservation", "depth_bound"):
        for line, r in records:
            if isinstance(r, Anomaly) and r.anomaly in _SLOT_ANOMALIES:
                if name == "depth_bound" and r.anomaly != "release_at_zero":
                    continue
                out.append(Finding(name, line, f"{r.component} {r.instance!r}: {r.anomaly}: {r.message}"))
    elif name == "nothing_lost":
        owed: dict[str, int] = {}
        for line, r in records:
            if isinstance(r, Anomaly) and r.anomaly == "lagged_slots_leaked":
                out.append(Finding(name, line, f"{r.component} {r.instance!r}: {r.message}"))
            elif isinstance(r, EventRecord):
                if (r.component, r.action) in (("event_bus", "published"), ("outbox", "written")):
                    owed.setdefault(r.event_id, line)
                elif (r.component == "event_dispatcher" and r.action in ("handled", "failed", "crashed")) or (
                        r.component == "transaction" and r.action == "rolled_back"):
                    owed.pop(r.event_id, None)
        out += [Finding(name, line, f"event {event_id} published here never reached the end of its handler")
                for event_id, line in owed.items()]
    elif name == "no_stuck_half_open":
        last: dict[str, tuple[int, Transition]] = {}
        for line, r in records:
            if isinstance(r, Transition) and r.component == breaker_module.COMPONENT:
                last[r.instance] = (line, r)
        out += [Finding(name, line, f"circuit_breaker {r.instance!r} enters half_open at t={r.t:g} and is still "
                                    "there at the end")
                for line, r in last.values() if r.to_state == "half_open"]
    elif name in ("no_ghosts", "no_zombies"):
        committed: dict[str, int] = {}
        delivered: dict[str, int] = {}
        for line, r in records:
            if isinstance(r, EventRecord):
                if r.component == "transaction" and r.action == "committed":
                    committed.setdefault(r.event_id, line)
                elif r.component == "projection" and r.action in ("applied", "duplicate"):
                    delivered.setdefault(r.event_id, line)
        if name == "no_ghosts":
            out += [Finding(name, line, f"event {e} reaches the projection but its transaction never committed")
                    for e, line in delivered.items() if e not in committed]
        else:
            out += [Finding(name, line, f"event {e} committed here never reaches the projection")
                    for e, line in committed.items() if e not in delivered]
    elif name == "projection_applies_once":
        seen: set[str] = set()
        for line, r in records:
            if isinstance(r, EventRecord) and r.component == "projection" and r.action == "applied":
                if r.event_id in seen:
                    out.append(Finding(name, line, f"event {r.event_id} applied a second time"))
                seen.add(r.event_id)
    elif name == "coalescing":
        loading: set[str] = set()
        for line, r in records:
            if isinstance(r, Transition) and r.component == resolver_module.COMPONENT:
                if r.to_state == "loading":
                    if r.instance in loading:
                        out.append(Finding(name, line, f"a second load of {r.instance!r} while one is in flight"))
                    loading.add(r.instance)
                else:
                    loading.discard(r.instance)
    if len(out) > limit:
        out = out[:limit] + [Finding(name, None, f"... and {len(out) - limit} more")]
    return out or [Finding(name, None, verdict.detail)]


# --------------------------------------------------------------------------------------------
# Replay: recorded inputs through the reference, at their recorded times.
# --------------------------------------------------------------------------------------------

INPUTS: dict[str, dict[str, str]] = {
    breaker_module.COMPONENT: {
        "admitted": "a call was admitted; detail {\"call\": id}",
        "rejected": "a call was rejected (the model writes this one itself)",
        "succeeded": "the admitted call `detail.call` succeeded",
        "failed": "the admitted call `detail.call` failed",
        "manual": "reason open / close / reset: the manual control was called",
    },
    backpressure_module.COMPONENT: {
        "accepted": "try_acquire() took a slot",
        "rejected": "try_acquire() was refused (the model writes this one itself)",
        "released": "release() gave a slot back",
    },
}
"""The ``decision`` records (per component: decision -> meaning) that make a trace replayable."""


def _observable(record: TraceRecord) -> tuple[Any, ...] | None:
    if isinstance(record, Transition):
        return ("transition", record.from_state, record.to_state, record.trigger)
    if isinstance(record, Anomaly):
        return ("anomaly", record.anomaly)
    return None


def _show(obs: tuple[Any, ...], t: float) -> str:
    if obs[0] == "transition":
        return f"{obs[1]} -> {obs[2]} on {obs[3]} at t={t:g}"
    return f"anomaly {obs[1]} at t={t:g}"


def _replay_instance(component: str, instance: str, records: Numbered, config: Mapping[str, Any],
                     variant: str | None) -> tuple[list[Finding], str]:
    clock = ManualClock(records[0][1].t if records else 0.0)
    recorder = TraceRecorder(clock, kinds={"transition", "anomaly"})
    data = dict(config)
    if variant is not None:
        data["variant"] = variant
    breaker: breaker_module.CircuitBreaker | None = None
    controller: backpressure_module.BackpressureController | None = None
    try:
        if component == breaker_module.COMPONENT:
            breaker = breaker_module.CircuitBreaker(breaker_module.CircuitBreakerConfig.model_validate(data),
                                                    clock=clock, observer=recorder, name=instance)
        else:
            controller = backpressure_module.BackpressureController(
                backpressure_module.BackpressureConfig.model_validate(data), observer=recorder, name=instance)
    except (ValidationError, TypeError, ValueError) as exc:
        first = str(exc).splitlines()
        return [Finding("replay", None, f"{component} {instance!r}: the header's config cannot build the reference: "
                                        f"{'; '.join(first[:3])}")], ""
    permits: dict[Any, breaker_module.Permit] = {}
    expected: list[tuple[int, TraceRecord, tuple[Any, ...]]] = []
    produced_at: list[int] = []  # the line of the input that produced each reference record
    findings: list[Finding] = []
    inputs = 0
    who = f"{component} {instance!r}"
    stopped = False
    for line, record in records:
        obs = _observable(record)
        if obs is not None:
            expected.append((line, record, obs))
            continue
        if not isinstance(record, Decision) or record.decision not in INPUTS[component]:
            continue
        inputs += 1
        if record.t > clock.now:
            clock.set(record.t)
        before = len(recorder.records)
        what = record.decision
        call = (record.detail or {}).get("call")
        problem: str | None = None
        try:
            if breaker is not None:
                if what in ("admitted", "rejected"):
                    state = breaker.state.value
                    permit = breaker.admit()
                    if what == "admitted" and permit is None:
                        problem = f"the trace admits a call here; the reference, {state} at t={clock.now:g}, rejects it"
                    elif what == "rejected" and permit is not None:
                        problem = (f"the trace rejects a call here; the reference, {state} at t={clock.now:g}, "
                                   "admits it")
                    elif permit is not None:
                        if call is None:
                            problem = "an 'admitted' input without detail.call: its outcome cannot be matched"
                        permits[call] = permit
                elif what in ("succeeded", "failed"):
                    held = permits.pop(call, None)
                    if held is None:
                        problem = f"outcome of call {call!r}, which the trace never admitted (or finished already)"
                    else:
                        (breaker.on_success if what == "succeeded" else breaker.on_failure)(held)
                elif what == "manual":
                    action = {"open": breaker.open, "close": breaker.close, "reset": breaker.reset}.get(record.reason or "")
                    if action is None:
                        problem = f"manual input with reason {record.reason!r}; expected open, close or reset"
                    else:
                        action()
            elif controller is not None:
                if what in ("accepted", "rejected"):
                    depth = controller.current_depth
                    ok = controller.admit()
                    if ok != (what == "accepted"):
                        problem = (f"the trace {'accepts' if what == 'accepted' else 'rejects'} an acquire here; "
                                   f"the reference at depth {depth} {'rejects' if not ok else 'accepts'} it")
                elif what == "released":
                    controller.release()
        except (AttributeError, breaker_module.PermitError) as exc:
            problem = f"the reference refuses this input: {exc}"
        if problem is not None:
            findings.append(Finding("replay", line, f"{who}: {problem}"))
            stopped = True
            break
        produced_at += [line] * (len(recorder.records) - before)
    if not stopped and not findings:
        got = recorder.records
        for i in range(max(len(expected), len(got))):
            want = expected[i] if i < len(expected) else None
            have = got[i] if i < len(got) else None
            have_obs = _observable(have) if have is not None else None
            if want is not None and have is not None and want[2] == have_obs and math.isclose(
                    want[1].t, have.t, rel_tol=0, abs_tol=1e-9):
                continue
            if want is None:
                assert have is not None and have_obs is not None
                findings.append(Finding("replay", produced_at[i],
                                        f"{who}: the reference makes a move the trace does not record: "
                                        f"{_show(have_obs, have.t)} (after the input on this line)"))
            elif have is None:
                findings.append(Finding("replay", want[0], f"{who}: the trace records {_show(want[2], want[1].t)}; "
                                                           "the reference, fed the same inputs, makes no such move"))
            else:
                assert have_obs is not None
                findings.append(Finding("replay", want[0], f"{who}: the trace records {_show(want[2], want[1].t)}; "
                                                           f"the reference gives {_show(have_obs, have.t)}"))
            break
    state = (breaker.state.value if breaker is not None else controller.state.value if controller is not None else "?")
    summary = (f"{who}: {inputs} inputs replayed, "
               + (f"the same {len(expected)} moves (transitions and anomalies), final state {state}" if not findings
                  else "differs (see violations)"))
    return findings, summary


def replay(records: Numbered, meta: Mapping[str, Any], variants: Mapping[str, str | None]
           ) -> tuple[list[Finding], list[str]]:
    """Replay every breaker and backpressure instance whose inputs the trace records."""
    findings: list[Finding] = []
    lines: list[str] = []
    for component in INPUTS:
        by_instance: dict[str, Numbered] = {}
        for line, record in records:
            if getattr(record, "component", None) == component:
                by_instance.setdefault(getattr(record, "instance", ""), []).append((line, record))
        for instance, own in by_instance.items():
            has_inputs = any(isinstance(r, Decision) and r.decision in INPUTS[component] and r.decision != "rejected"
                             for _, r in own)
            if not has_inputs:
                lines.append(f"{component} {instance!r}: not replayed: the trace records no inputs for it "
                             f"(decisions {', '.join(d for d in INPUTS[component] if d != 'rejected')})")
                continue
            config = _config(meta, component, instance)
            if config is None:
                lines.append(f"{component} {instance!r}: not replayed: the header has no "
                             f"configs.{component}[{instance!r}] to build the reference from")
                continue
            found, summary = _replay_instance(component, instance, own, config, variants.get(component))
            findings += found
            if summary:
                lines.append(summary)
    return findings, lines


# --------------------------------------------------------------------------------------------
# The whole check.
# --------------------------------------------------------------------------------------------


def check_records(report: CheckReport, records: Numbered, meta: Mapping[str, Any], variants: Mapping[str, str | None],
                  *, from_start: bool = True, continuity: Callable[[str], bool] = lambda component: True,
                  run_replay: bool = True) -> CheckReport:
    """Run transitions, invariants and replay over already-read records, into `report`."""
    report.records = len(records)
    report.kinds.update(r.kind for _, r in records)
    findings, checked, unknown = check_transitions(records, variants, from_start=from_start, continuity=continuity)
    report.transitions_checked = checked
    report.findings += findings
    for component, count in sorted(unknown.items()):
        report.notes.append(f"{count} transitions of component {component!r} not checked: no transition table "
                            f"for it (known: {', '.join(sorted(COMPONENTS))})")
    checkers, skipped, notes = choose_invariants(records, meta, variants)
    report.notes += notes
    report.unchecked += skipped
    verdicts = [_annotate(v, variants) for v in check((r for _, r in records), checkers)]
    report.verdicts += verdicts
    for verdict in verdicts:
        if verdict.failed and verdict.invariant != "breaker_legal":  # its lines are the transition findings
            report.findings += _witnesses(verdict, records)
        elif verdict.failed and not any(f.check == "transition" for f in findings):
            report.findings.append(Finding(verdict.invariant, None, verdict.detail))
    if run_replay:
        found, lines = replay(records, meta, variants)
        report.findings += found
        report.replays += lines
    return report


def check_trace_file(source: str | os.PathLike[str] | IO[bytes], fmt: Format = "trace",
                     variant_options: Sequence[str] = (), label: str | None = None) -> CheckReport:
    """Check one file in `fmt` (``trace``: our JSON Lines; ``rustok-log``: RusToK's tracing
    output, text or JSON). Bad input is reported in the result, never raised; unknown
    ``--variant`` values raise `TraceCheckUsageError`."""
    name = label or ("<stdin>" if isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-"
                     else os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<stream>")
    if fmt == "rustok-log":
        from rustok_sim.conformance.rustok_log import check_log

        return check_log(source, variant_options, name)
    if fmt != "trace":
        raise TraceCheckUsageError(f"unknown format {fmt!r}; known: trace, rustok-log")
    resolve_variants(variant_options)  # usage errors before reading anything
    meta, records, problems = read_trace_lines(source, name)
    variants, how = resolve_variants(variant_options, meta)
    report = CheckReport(name, f"rustok-sim trace v{meta['version']}" if "version" in meta
                         else "rustok-sim trace (no valid header)")
    report.problems += problems
    present = {getattr(r, "component", None) for _, r in records}
    report.variants = [h for h in how if h.split("=", 1)[0] in present]
    return check_records(report, records, meta, variants)


# --------------------------------------------------------------------------------------------
# Drivers that write replayable traces.
# --------------------------------------------------------------------------------------------


class RecordedBreaker:
    """A reference breaker whose inputs go into the trace beside its own records, so that
    `check-trace` can replay them: ``call = b.admit()`` (None when rejected), then
    ``b.succeed(call)`` or ``b.fail(call)``; ``open()`` / ``close()`` / ``reset()``.
    `header()` is the meta a trace of it needs (its config under ``configs``)."""

    def __init__(self, config: breaker_module.CircuitBreakerConfig, *, clock: ManualClock,
                 recorder: TraceRecorder, name: str = "breaker") -> None:
        self.breaker = breaker_module.CircuitBreaker(config, clock=clock, observer=recorder, name=name)
        self.recorder, self.name, self.config = recorder, name, config
        self._calls = 0
        self._permits: dict[int, breaker_module.Permit] = {}

    def admit(self) -> int | None:
        permit = self.breaker.admit()
        if permit is None:
            return None
        self._calls += 1
        self._permits[self._calls] = permit
        self.recorder.decision(breaker_module.COMPONENT, self.name, "admitted", None, {"call": self._calls})
        return self._calls

    def succeed(self, call: int) -> None:
        self.recorder.decision(breaker_module.COMPONENT, self.name, "succeeded", None, {"call": call})
        self.breaker.on_success(self._permits.pop(call))

    def fail(self, call: int) -> None:
        self.recorder.decision(breaker_module.COMPONENT, self.name, "failed", None, {"call": call})
        self.breaker.on_failure(self._permits.pop(call))

    def _manual(self, what: str, action: Callable[[], None]) -> None:
        self.recorder.decision(breaker_module.COMPONENT, self.name, "manual", what)
        action()

    def open(self) -> None:
        self._manual("open", self.breaker.open)

    def close(self) -> None:
        self._manual("close", self.breaker.close)

    def reset(self) -> None:
        self._manual("reset", self.breaker.reset)

    def header(self) -> dict[str, Any]:
        return {"configs": {breaker_module.COMPONENT: {self.name: self.config.model_dump()}}}


class RecordedBackpressure:
    """A reference backpressure controller that writes its inputs (``accepted`` / ``released``;
    the controller writes ``rejected`` itself) so that `check-trace` can replay them."""

    def __init__(self, config: backpressure_module.BackpressureConfig, *, recorder: TraceRecorder,
                 name: str = "backpressure") -> None:
        self.controller = backpressure_module.BackpressureController(config, observer=recorder, name=name)
        self.recorder, self.name, self.config = recorder, name, config

    def acquire(self) -> bool:
        ok = self.controller.admit()
        if ok:
            self.recorder.decision(backpressure_module.COMPONENT, self.name, "accepted")
        return ok

    def release(self) -> None:
        self.recorder.decision(backpressure_module.COMPONENT, self.name, "released")
        self.controller.release()

    def header(self) -> dict[str, Any]:
        return {"configs": {backpressure_module.COMPONENT: {self.name: self.config.model_dump()}}}
