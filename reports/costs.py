"""What each known defect costs, in numbers: the same scenario, config and seed under the
faithful and the hardened profile, measure by measure (requests failed, events lost, extra
database loads, ...), read from the two results' metrics.

Metrics of a composite story (`mixed`) sit in one section per part (``flood``, ``tenancy``,
``outbox``); `metric` looks at the top level first, then in those sections, so one measure reads
the same in `redis_outage` and in `mixed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["MEASURES", "CostRow", "Measure", "defect_costs", "metric"]

PARTS: Final = ("flood", "tenancy", "outbox")


def metric(metrics: Mapping[str, Any], key: str) -> Any:
    """`metrics[key]`, else the first part section that has `key`, else None."""
    if key in metrics:
        return metrics[key]
    for part in PARTS:
        section = metrics.get(part)
        if isinstance(section, Mapping) and key in section:
            return section[key]
    return None


def _number(value: Any) -> float | None:
    """A count stays an int (a wrapped usize, 2^64 - 1, must not round through a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _server_errors(metrics: Mapping[str, Any]) -> float | None:
    counts = metric(metrics, "http_status_counts")
    if not isinstance(counts, Mapping):
        return None
    return float(sum(n for status, n in counts.items() if str(status).startswith("5")))


def _stuck_breakers(metrics: Mapping[str, Any]) -> float | None:
    breakers = metric(metrics, "breakers")
    if not isinstance(breakers, Mapping):
        return None
    states = [b.get("state") for group in breakers.values() if isinstance(group, Mapping)
              for b in group.values() if isinstance(b, Mapping)]
    return float(sum(state == "half_open" for state in states)) if states else None


def _lost_events(metrics: Mapping[str, Any]) -> float | None:
    parts = [_number(metric(metrics, key)) for key in ("zombies", "dead_lettered", "unfinished")]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    unit: str
    read: Callable[[Mapping[str, Any]], float | None]
    worse_when_higher: bool = True


def _key(name: str) -> Callable[[Mapping[str, Any]], float | None]:
    return lambda metrics: _number(metric(metrics, name))


MEASURES: Final[tuple[Measure, ...]] = (
    Measure("requests answered 5xx", "requests", _server_errors),
    Measure("database loads", "loads", _key("db_loads")),
    Measure("missing-tenant loads", "loads", _key("missing_tenant_loads")),
    Measure("breakers left half-open", "breakers", _stuck_breakers),
    Measure("events rejected by backpressure", "events", _key("rejected")),
    Measure("events handled", "events", _key("handled"), worse_when_higher=False),
    Measure("events lost (never handled or delivered)", "events", _lost_events),
    Measure("ghost events (rolled back, still delivered)", "events", _key("ghosts")),
    Measure("duplicates skipped by the projection", "events", _key("duplicates")),
    Measure("read model aggregates behind", "aggregates", _key("read_model_divergence")),
    Measure("final backpressure depth", "slots", _key("final_depth")),
)


@dataclass(frozen=True, slots=True)
class CostRow:
    measure: str
    unit: str
    faithful: float | None
    hardened: float | None
    worse_when_higher: bool

    @property
    def difference(self) -> float | None:
        """faithful minus hardened: what the faithful code costs (positive is worse when higher
        is worse)."""
        if self.faithful is None or self.hardened is None:
            return None
        return self.faithful - self.hardened

    @property
    def faithful_worse(self) -> bool:
        diff = self.difference
        if diff is None or diff == 0:
            return False
        return diff > 0 if self.worse_when_higher else diff < 0


def defect_costs(faithful: Mapping[str, Any], hardened: Mapping[str, Any]) -> list[CostRow]:
    """The measures both runs report, where at least one of them is not zero."""
    rows = []
    for measure in MEASURES:
        a, b = measure.read(faithful), measure.read(hardened)
        if a is None and b is None or not (a or b):
            continue
        rows.append(CostRow(measure.name, measure.unit, a, b, measure.worse_when_higher))
    return rows
