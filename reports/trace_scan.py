"""One streamed pass over a run's `trace.jsonl`: the fault windows (for shading the timelines)
and, for each verdict that is not a pass, the shortest excerpt of the trace that shows it.

A trace can hold millions of lines (a 200,000-arrival `mmck` run writes 600,000), so a line is
only parsed when its text names a kind or component the scan needs; everything else is skipped
on a substring test.

Excerpts, per invariant (what a reader needs to see the failure with their own eyes):

- breaker stuck half-open: the outage, then every transition of the breaker that ends the run
  half-open;
- 5xx from a cache outage: the outage start, the breaker's first moves after it, the outage end
  (the 500s themselves are `decision` records, kept only at ``--trace-level full``);
- slot accounting and depth (``depth_bound``, ``slot_conservation``, ``slots_returned``,
  ``nothing_lost``): the fault, and the first anomaly of each kind the model names;
- zombies and read-model divergence: the relay crash, and the transitions of the one row left
  claimed for good with the fewest moves;
- reload storms: a missing tenant's key loaded, found missing, and loaded again at once;
- anything else: the faults and the first records of the invariant's components.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rustok_sim.reports.results import ReportInputError

__all__ = ["Excerpt", "FaultWindow", "TraceLine", "TraceScan", "scan_trace"]

EXCERPT_LIMIT: Final = 14
"""Lines an excerpt shows at most; the rest are counted, not printed."""

_COMPONENTS: Final[dict[str, tuple[str, ...]]] = {
    "breaker_legal": ("circuit_breaker",),
    "no_stuck_half_open": ("circuit_breaker",),
    "no_5xx_from_cache_outage": ("circuit_breaker",),
    "coalescing": ("tenant_resolver",),
    "no_reload_storm": ("tenant_resolver",),
    "depth_bound": ("backpressure",),
    "slot_conservation": ("backpressure", "event_dispatcher", "event_bus"),
    "slots_returned": ("backpressure", "event_dispatcher", "event_bus"),
    "nothing_lost": ("backpressure", "event_dispatcher", "event_bus"),
    "no_ghosts": ("sys_event",),
    "no_zombies": ("sys_event",),
    "read_model_converges": ("sys_event",),
    "projection_applies_once": ("sys_event",),
}
_ANOMALY_INVARIANTS: Final = frozenset({"depth_bound", "slot_conservation", "slots_returned", "nothing_lost"})
_ZOMBIE_INVARIANTS: Final = frozenset({"no_zombies", "read_model_converges"})


@dataclass(frozen=True, slots=True)
class TraceLine:
    number: int
    """Line number in trace.jsonl (1 is the header)."""
    text: str


@dataclass(frozen=True, slots=True)
class Excerpt:
    invariant: str
    lines: tuple[TraceLine, ...]
    omitted: int
    """Lines of the same story left out to keep the excerpt short."""
    note: str


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """A fault over virtual time in seconds; `end` equals `start` for an instant fault, and is None
    when the trace ends before the fault does."""

    fault: str
    target: str
    start: float
    end: float | None


@dataclass
class TraceScan:
    faults: list[FaultWindow] = field(default_factory=list)
    excerpts: dict[str, Excerpt] = field(default_factory=dict)
    lines: int = 0
    claimed_rows: dict[int, int] = field(default_factory=dict)
    """Outbox rows in state ``claimed`` at the end of each second of virtual time that saw a row
    move: second -> rows (from the rows' own transitions; empty when the trace has none). A floor
    that never goes back to zero is rows claimed for good."""


def scan_trace(path: Path, invariants: Iterable[str] = ()) -> TraceScan:
    """Read `path` once: its fault windows, and an excerpt for each of `invariants` (the ones
    whose verdict was not a pass)."""
    wanted = sorted(set(invariants))
    components = {c for name in wanted for c in _COMPONENTS.get(name, ())}
    needles = ['"kind":"fault"', '"kind":"anomaly"', '"component":"sys_event"'] + [
        f'"component":"{c}"' for c in sorted(components)]
    claimed = 0
    fault_lines: list[TraceLine] = []
    anomaly_lines: list[TraceLine] = []
    by_component: dict[str, list[TraceLine]] = {c: [] for c in components}
    by_instance: dict[tuple[str, str], list[TraceLine]] = {}
    last_state: dict[tuple[str, str], str] = {}
    anomaly_kinds: set[tuple[str, str]] = set()
    open_faults: dict[tuple[str, str], float] = {}
    scan = TraceScan()
    track_instances = components & {"circuit_breaker", "sys_event", "tenant_resolver"}
    number = 0
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, 1):
            if number == 1 or not any(needle in text for needle in needles):
                continue
            try:
                record: dict[str, Any] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ReportInputError(f"{path}: line {number} is not JSON ({exc.msg}); delete the run's folder so "
                                       f"the report runs it again") from None
            line = TraceLine(number, text.rstrip("\n"))
            kind = record.get("kind")
            if kind == "fault":
                fault_lines.append(line)
                key = (str(record["fault"]), str(record.get("target", "")))
                phase, t = record.get("phase"), float(record["t"])
                if phase == "start":
                    open_faults[key] = t
                elif phase == "end":
                    scan.faults.append(FaultWindow(key[0], key[1], open_faults.pop(key, 0.0), t))
                else:
                    scan.faults.append(FaultWindow(key[0], key[1], t, t))
                continue
            component = str(record.get("component"))
            if component == "sys_event" and kind == "transition":
                claimed += (record.get("to_state") == "claimed") - (record.get("from_state") == "claimed")
                second = int(float(record["t"]))
                scan.claimed_rows[second] = claimed
            if kind == "anomaly":
                anomaly = (component, str(record.get("anomaly")))
                if anomaly not in anomaly_kinds:  # the first of each kind says it; the rest repeat it
                    anomaly_kinds.add(anomaly)
                    anomaly_lines.append(line)
                continue
            if component not in components:
                continue
            if len(by_component[component]) < EXCERPT_LIMIT:
                by_component[component].append(line)
            if component in track_instances and kind == "transition":
                instance = (component, str(record.get("instance")))
                by_instance.setdefault(instance, []).append(line)
                last_state[instance] = str(record.get("to_state"))
    scan.lines = number
    for key, start in open_faults.items():
        scan.faults.append(FaultWindow(key[0], key[1], start, None))
    scan.faults.sort(key=lambda w: (w.start, w.fault))
    for name in wanted:
        scan.excerpts[name] = _excerpt(name, fault_lines, anomaly_lines, by_component, by_instance, last_state)
    return scan


def _excerpt(invariant: str, faults: list[TraceLine], anomalies: list[TraceLine],
             by_component: Mapping[str, list[TraceLine]], by_instance: Mapping[tuple[str, str], list[TraceLine]],
             last_state: Mapping[tuple[str, str], str]) -> Excerpt:
    components = _COMPONENTS.get(invariant, ())
    if invariant == "no_stuck_half_open":
        stuck = [k for k, state in last_state.items() if k[0] == "circuit_breaker" and state == "half_open"]
        if stuck:
            return _merge(invariant, faults, by_instance[stuck[0]],
                          f"breaker {stuck[0][1]} enters half_open and never leaves it before the run ends")
    if invariant == "no_5xx_from_cache_outage":
        outage = [line for line in faults if '"redis_outage"' in line.text]
        first_moves = [line for line in by_component.get("circuit_breaker", [])
                       if not outage or line.number > outage[0].number][:3]
        return _merge(invariant, outage, first_moves,
                      "Redis fails and the breaker opens; every request in this window whose cache call fails or "
                      "is rejected is answered 500 (each one a `decision` record at --trace-level full)")
    if invariant in _ANOMALY_INVARIANTS and anomalies:
        return _merge(invariant, faults, anomalies, "the model names the defect as it happens (first anomaly of "
                                                    "each kind)")
    if invariant in _ZOMBIE_INVARIANTS:
        zombies = sorted((lines for k, lines in by_instance.items()
                          if k[0] == "sys_event" and last_state.get(k) == "claimed"), key=len)
        if zombies:
            worker = json.loads(zombies[0][0].text).get("detail", {}).get("worker", "")
            crashes = [line for line in faults if '"relay_crash"' in line.text and f'"target":"{worker}"' in line.text]
            count = len(zombies)
            return _merge(invariant, crashes, zombies[0],
                          f"a relay dies holding its claim; the row stays claimed until the end "
                          f"({count} row(s) end claimed)")
    if invariant == "no_reload_storm":
        storm = _first_reload(by_instance)
        if storm:
            return _merge(invariant, [], storm, "a missing tenant is loaded, found missing, and loaded again at "
                                                "once: the waiters do not consult the negative cache")
    shown = [line for c in components for line in by_component.get(c, [])]
    note = ("the faults and the first records of " + ", ".join(components)) if shown else (
        "the trace holds no record of the events themselves (only the fault windows); the verdict's own "
        "text and the metrics count what happened")
    return _merge(invariant, faults, shown, note)


def _first_reload(by_instance: Mapping[tuple[str, str], list[TraceLine]]) -> list[TraceLine]:
    """The first ``miss, not_found, miss`` of a tenant key (with the next ``not_found`` when it
    is there): a reload right after a not-found."""
    for (component, _instance), lines in by_instance.items():
        if component != "tenant_resolver":
            continue
        for i in range(len(lines) - 2):
            if ('"trigger":"not_found"' in lines[i + 1].text and '"trigger":"miss"' in lines[i + 2].text
                    and '"trigger":"miss"' in lines[i].text):
                return lines[i:i + 4]
    return []


def _merge(invariant: str, first: list[TraceLine], second: list[TraceLine], note: str) -> Excerpt:
    """Both sets of lines in trace order, at most `EXCERPT_LIMIT` of them."""
    merged = sorted({line.number: line for line in (*first, *second)}.values(), key=lambda line: line.number)
    return Excerpt(invariant, tuple(merged[:EXCERPT_LIMIT]), max(0, len(merged) - EXCERPT_LIMIT), note)
