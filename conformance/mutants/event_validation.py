"""Broken event validators, each a plausible bug of a port of `events/validation.rs`, as target
factories. Each changes how one kind of rule is checked (`EventValidator._check`) or how a
payload is read, and leaves the rest to the reference. The event validation suite must kill each
in every snapshot where it is a bug (`VARIANTS_OF` names the ones that are bugs in some only)."""

from __future__ import annotations

from typing import Any

from rustok_sim.model.events.domain import DomainEventBase, Rule
from rustok_sim.model.events.validation import I64_MAX, EventValidationError
from rustok_sim.model.events.validator import SNAPSHOTS, EventValidator

__all__ = ["MUTANTS", "VARIANTS_OF"]


class _CharacterLength(EventValidator):
    """LEN counts characters (`len(str)`), not UTF-8 bytes."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        value = getattr(event, rule.field)
        if rule.code == "LEN" and rule.limit is not None:
            if value is not None and len(value) > rule.limit:
                raise EventValidationError.field_too_long(rule.field, rule.limit)
            return
        super()._check(rule, event)


class _LimitExclusive(EventValidator):
    """LEN refuses a value of exactly the limit (``>=`` for ``>``)."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        value = getattr(event, rule.field)
        if rule.code == "LEN" and rule.limit is not None and value is not None and len(value.encode()) == rule.limit:
            raise EventValidationError.field_too_long(rule.field, rule.limit)
        super()._check(rule, event)


class _PythonStrip(EventValidator):
    """NE trims with `str.strip()`, which also removes U+001C..U+001F."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "NE":
            if not getattr(event, rule.field).strip():
                raise EventValidationError.empty_field(rule.field)
            return
        super()._check(rule, event)


class _PythonAlphanumeric(EventValidator):
    """AN uses `str.isalnum()`, which refuses combining marks that Rust counts as alphabetic."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "AN":
            if not all(c in "-_" or c.isalnum() for c in getattr(event, rule.field)):
                raise EventValidationError.invalid_characters(rule.field)
            return
        super()._check(rule, event)


class _OptionalUuidUnchecked(EventValidator):
    """OPT is skipped: a present nil optional UUID passes."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code != "OPT":
            super()._check(rule, event)


class _LastRuleReported(EventValidator):
    """All rules run and the last failure wins, not the first."""

    def validate(self, event: Any) -> None:
        parsed = self._parse(event)
        failure: EventValidationError | None = None
        for rule in parsed.rules:
            try:
                self._check(rule, parsed)
            except EventValidationError as exc:
                failure = exc
        if failure is not None:
            raise failure


class _ZeroIsNegative(EventValidator):
    """GE0 refuses 0 (``> 0`` for ``>= 0``)."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "GE0" and getattr(event, rule.field) == 0:
            raise EventValidationError.out_of_range(rule.field, 0, 0, I64_MAX)
        super()._check(rule, event)


class _CurrencyCaseInsensitive(EventValidator):
    """CUR accepts any ASCII letters (upper-cases before checking)."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "CUR":
            value = getattr(event, rule.field)
            if len(value.encode()) != 3:
                raise EventValidationError.invalid_value(rule.field, "currency code must be exactly 3 characters")
            if not all("A" <= c <= "Z" for c in value.upper()):
                raise EventValidationError.invalid_value(rule.field, "currency code must be uppercase letters")
            return
        super()._check(rule, event)


class _LessOrEqual(EventValidator):
    """LESS_THAN accepts equal values (``<=`` for ``<``)."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "LESS_THAN" and getattr(event, rule.field) == getattr(event, str(rule.other)):
            return
        super()._check(rule, event)


class _StatusCaseInsensitive(EventValidator):
    """DIFFERS compares case-insensitively ("open" and "Open" are the same status)."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "DIFFERS":
            if getattr(event, rule.field).casefold() == getattr(event, str(rule.other)).casefold():
                raise EventValidationError.invalid_value(rule.field, "must be different from old_status")
            return
        super()._check(rule, event)


class _ListFieldNamedPlainly(EventValidator):
    """A nil id in a list is reported under the list's own name, not Rust's "moved_comment_ids[]"."""

    def _check(self, rule: Rule, event: DomainEventBase) -> None:
        if rule.code == "EACH_NN":
            if any(item.int == 0 for item in getattr(event, rule.field)):
                raise EventValidationError.nil_uuid(rule.field)
            return
        super()._check(rule, event)


class _EarlySnapshot(EventValidator):
    """Knows only the 39 variants of 2026-02-13 (a validator that was never updated)."""

    def __init__(self, snapshot: str = "2026-03-11") -> None:
        super().__init__(snapshot)
        self._variants = SNAPSHOTS["2026-02-13"]


def _factory(cls: type[EventValidator]) -> Any:
    def build(config: str, clock: Any) -> EventValidator:
        return cls(config)
    build.__name__ = cls.__name__.lstrip("_")
    return build


MUTANTS = {
    "character_length": _factory(_CharacterLength),
    "limit_exclusive": _factory(_LimitExclusive),
    "python_strip": _factory(_PythonStrip),
    "python_alphanumeric": _factory(_PythonAlphanumeric),
    "optional_uuid_unchecked": _factory(_OptionalUuidUnchecked),
    "last_rule_reported": _factory(_LastRuleReported),
    "zero_is_negative": _factory(_ZeroIsNegative),
    "currency_case_insensitive": _factory(_CurrencyCaseInsensitive),
    "less_or_equal": _factory(_LessOrEqual),
    "status_case_insensitive": _factory(_StatusCaseInsensitive),
    "list_field_named_plainly": _factory(_ListFieldNamedPlainly),
    "early_snapshot": _factory(_EarlySnapshot),
}

VARIANTS_OF = {
    "early_snapshot": ("2026-03-11",),  # at 2026-02-13 it is the reference
    "list_field_named_plainly": ("2026-03-11",),  # TopicSplit, the one list rule, came after 2026-02-13
}
