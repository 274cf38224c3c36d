"""Event validation as one component: an event's serde JSON form in, the first broken rule out.

`EventValidator` is what a conformance target for RusToK's event validation stands in for: the
Rust path from a payload to `DomainEvent::validate()` (serde's reading of the adjacently tagged
form, then the variant's rules in the spec's order). It holds which event variants exist at a
snapshot of the Rust code: at ``2026-02-13`` the 39 of spec §4.4, at ``2026-03-11`` the 55 with
§4.6's additions (their rules, and those of the 39, did not change in between). A variant the
snapshot does not have is a format error at ``type``, as serde reports an unknown variant.
"""

from __future__ import annotations

from typing import Any, Final

from rustok_sim.model.events.domain import (
    ALL_VARIANTS,
    PRIMARY_VARIANTS,
    DomainEventBase,
    EventFormatError,
    Rule,
    parse_event,
)

__all__ = ["SNAPSHOTS", "EventValidator"]

SNAPSHOTS: Final[dict[str, frozenset[str]]] = {
    "2026-03-11": frozenset(cls.variant for cls in ALL_VARIANTS),
    "2026-02-13": frozenset(cls.variant for cls in PRIMARY_VARIANTS),
}
"""Snapshot of the Rust code -> the names of the `DomainEvent` variants it has."""


class EventValidator:
    """`validate(event)` reads an event from its serde JSON form (a dict, or JSON text) and checks
    its business rules: it raises `EventFormatError` (naming the JSON path) for a payload that
    is not a well-formed event of this snapshot, `EventValidationError` for the first rule the
    event breaks, and returns None for a valid event."""

    def __init__(self, snapshot: str = "2026-03-11") -> None:
        if snapshot not in SNAPSHOTS:
            raise ValueError(f"unknown snapshot {snapshot!r}; known: {', '.join(SNAPSHOTS)}")
        self.snapshot = snapshot
        self._variants = SNAPSHOTS[snapshot]

    def validate(self, event: Any) -> None:
        parsed = self._parse(event)
        for rule in parsed.rules:
            self._check(rule, parsed)

    def _parse(self, event: Any) -> DomainEventBase:
        parsed = parse_event(event)
        if parsed.variant not in self._variants:
            raise EventFormatError("DomainEvent", [{
                "field": "type", "type": "union_tag_invalid", "input": parsed.variant,
                "message": f"unknown event variant {parsed.variant!r} (the {self.snapshot} code has no such variant)"}])
        return parsed

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        # One rule at a time, so a variation of the validator (a conformance mutant) can change
        # how one kind of rule is checked and leave the rest as they are.
        rule.check(event)
