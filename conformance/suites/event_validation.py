"""The event validation suite: a property suite, differential against the reference validator.

Every step hands one payload, an event in its serde JSON form, to the target and to the reference
(`EventValidator` at the suite's snapshot) and compares the outcome: valid, or the same error.
For a broken business rule that is the `EventValidationError`'s kind, Display text and every
field of its payload (``field``, ``max``, ``min``, ``value``, ``reason``); for a payload serde
would refuse, an `EventFormatError` at the same JSON path (its wording is the implementation's).

The payloads are built from the variants' rule tables, so the suite follows the model when a rule
changes: ``every_rule_of`` takes one variant, sends a valid event of it, then, rule by rule, the
same event with only that rule broken (each earlier rule still holding), so the first broken rule
is the one reported; the values sit on the boundaries where implementations differ (a limit in
UTF-8 bytes reached with 2-, 3- and 4-byte characters, Rust's White_Space against Python's
``strip()``, Unicode alphanumerics such as U+0345, 0 and ``i64::MAX`` for a non-negative field,
the exact limit against one byte over). ``edge_case`` sends values that pass one rule only
just, and ``malformed`` sends payloads with exactly one format fault (a field missing, of the
wrong JSON type, out of its Rust integer range, a UUID that does not parse, a lone surrogate, a
field given twice in JSON text, an unknown variant, which at the 2026-02-13 snapshot includes
the 16 variants added later).

A "sometimes" goal per rule of every variant (the suite reported that rule broken at least once)
makes a run that never reaches one inconclusive.
"""

from __future__ import annotations

import functools
import json
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from rustok_sim.conformance.suites.differential import DifferentialMachine
from rustok_sim.conformance.targets import Factory, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.rust import WHITE_SPACE, utf8_len
from rustok_sim.model.events.domain import VARIANTS_BY_NAME, DomainEventBase, Rule
from rustok_sim.model.events.validation import I64_MAX, EventValidationError
from rustok_sim.model.events.validator import SNAPSHOTS, EventValidator

__all__ = ["COMPONENT", "VARIANTS", "event_validation_suite", "reference_event_validator"]

COMPONENT = "event_validation"
VARIANTS: tuple[str, ...] = tuple(SNAPSHOTS)

_NIL = "00000000-0000-0000-0000-000000000000"
_NIL_FORMS = (_NIL, "0" * 32, "urn:uuid:" + _NIL, "{" + _NIL + "}")
_RUST_ONLY_SPACE = sorted(WHITE_SPACE - {" "})
_PYTHON_ONLY_SPACE = ["\x1c", "\x1d", "\x1e", "\x1f"]
"""`str.strip()` removes these; Rust's `trim()` (Unicode White_Space) keeps them."""
_FILLERS = ("a", "é", "記", "𝒜")
"""One character each of 1, 2, 3 and 4 UTF-8 bytes."""
_RUST_ALNUM_NOT_PYTHON = ("\u0345", "\u05b0", "\u0b3f")
"""Alphabetic in Unicode (so `char::is_alphanumeric`), not `str.isalnum()` (combining marks)."""
_CAPITALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NOT_ALNUM = (" ", ".", "@", "/", "+", "\u200b", "😀", "\x1c", "\t", "'")


def reference_event_validator(config: str, clock: Any, observer: Any = None) -> EventValidator:
    """The reference target: `config` is the snapshot (the suite's variant)."""
    return EventValidator(config)


# ----------------------------------------------------------------------------------------------
# The shape of a variant's fields, read off its pydantic model
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    kind: str
    """"uuid", "str", "int", "bool" or "uuid_list"."""
    optional: bool
    low: int = 0
    high: int = 0


def _bounds(metadata: list[Any]) -> tuple[int, int]:
    low, high = 0, I64_MAX
    for item in metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
        for inner in getattr(item, "metadata", ()):
            low, high = getattr(inner, "ge", low), getattr(inner, "le", high)
    return low, high


def _field_shape(name: str, info: Any) -> _Field:
    annotation, metadata, optional = info.annotation, list(info.metadata), not info.is_required()
    args = typing.get_args(annotation)
    if type(None) in args:
        annotation = next(a for a in args if a is not type(None))
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata += extra
    if annotation is uuid.UUID:
        return _Field(name, "uuid", optional)
    if annotation is bool:
        return _Field(name, "bool", optional)
    if annotation is int:
        return _Field(name, "int", optional, *_bounds(metadata))
    if annotation is str:
        return _Field(name, "str", optional)
    if typing.get_origin(annotation) is list:
        return _Field(name, "uuid_list", optional)
    raise TypeError(f"event field {name}: no payload generator for {annotation!r}")


_SHAPES: dict[str, tuple[_Field, ...]] = {
    name: tuple(_field_shape(field, info) for field, info in cls.model_fields.items())
    for name, cls in VARIANTS_BY_NAME.items()
}


def _rules_on(cls: type[DomainEventBase], name: str) -> list[Rule]:
    return [r for r in cls.rules if r.field == name or r.other == name]


# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------

_uuids = st.uuids().filter(lambda u: u.int != 0)
_BOOLEANS = st.booleans()


@functools.cache
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def _pick(draw: Any, options: Any) -> Any:
    """One of `options`. Strategies are built once and reused: building one per draw (a new
    `sampled_from` each time) cost the suite more than the validations it drives."""
    options = tuple(options)
    return options[draw(_integers(0, len(options) - 1))]


@st.composite
def _uuid_text(draw: Any) -> str:
    """A non-nil UUID in one of the spellings the uuid crate parses (hyphenated most often)."""
    value = draw(_uuids)
    return _pick(draw, ([str(value), str(value), str(value).upper(), value.hex, f"urn:uuid:{value}",
                                 "{" + str(value) + "}"]))


_UUID_TEXT = _uuid_text()


def _text_of_bytes(draw: Any, size: int, alphabet: tuple[str, ...] = _FILLERS) -> str:
    """Text of exactly `size` UTF-8 bytes, mostly of one multibyte character (so a length counted
    in characters is far from the one counted in bytes), padded with ASCII letters."""
    filler = _pick(draw, alphabet)
    width = utf8_len(filler)
    count = size // width
    return filler * count + "b" * (size - count * width)


@functools.cache
@st.composite
def _plain_text(draw: Any, limit: int | None, alphanumeric: bool) -> str:
    letters = st.sampled_from("abcXYZ09-_" if alphanumeric else "abc XYZ09-_.@/")
    if limit is not None and draw(_BOOLEANS):
        return _text_of_bytes(draw, _pick(draw, [limit, limit - 1, 1]) or 1)
    return draw(st.text(letters, min_size=1, max_size=12)) or "a"


class _Builder:
    """Values for one variant's fields that satisfy its rules, and one value per rule that breaks
    only that rule."""

    def __init__(self, cls: type[DomainEventBase]) -> None:
        self.cls = cls
        self.shapes = _SHAPES[cls.variant]

    def valid(self, draw: Any) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for shape in self.shapes:
            rules = _rules_on(self.cls, shape.name)
            if shape.optional and draw(_integers(0, 2)) == 0:
                if draw(_BOOLEANS):
                    data[shape.name] = None
                continue
            data[shape.name] = self._valid_value(draw, shape, rules)
        self._relations_hold(draw, data)
        if draw(_integers(0, 5)) == 0:
            data["unknown_key"] = _pick(draw, [1, "x", None, {"nested": True}])  # serde ignores it
        return data

    def _valid_value(self, draw: Any, shape: _Field, rules: list[Rule]) -> Any:
        codes = {r.code for r in rules if r.field == shape.name}
        if shape.kind == "uuid":
            return draw(_UUID_TEXT)
        if shape.kind == "uuid_list":
            return draw(st.lists(_UUID_TEXT, min_size=1, max_size=3))
        if shape.kind == "bool":
            return draw(_BOOLEANS)
        if shape.kind == "int":
            low = max(shape.low, 0) if "GE0" in codes else shape.low
            if draw(_BOOLEANS):
                return _pick(draw, (low, min(shape.high, I64_MAX), 0 if low <= 0 else low))
            return draw(_integers(low, min(shape.high, 10_000)))
        if "CUR" in codes:
            return "".join(_pick(draw, _CAPITALS) for _ in range(3))
        limit = next((r.limit for r in rules if r.code == "LEN" and r.field == shape.name), None)
        text = draw(_plain_text(limit, "AN" in codes))
        for needles in (r.needles for r in rules if r.code == "CONTAINS" and r.field == shape.name):
            text = ("x" + "x".join(needles) + "y") if limit is None or limit >= 2 * len(needles) + 1 else text
        return text

    def _relations_hold(self, draw: Any, data: dict[str, Any]) -> None:
        for relation in self.cls.rules:
            if relation.code == "LESS_THAN" and relation.other is not None:
                low, high = data.get(relation.field), data.get(relation.other)
                if isinstance(low, int) and isinstance(high, int) and not low < high:
                    data[relation.field], data[relation.other] = min(low, high), max(low, high) + (low == high)
            elif relation.code == "DIFFERS" and relation.other is not None and data.get(relation.field) == data.get(relation.other):
                data[relation.field] = f"{data[relation.field]}-2"[:50]

    def breaking(self, draw: Any, rule: Rule, data: dict[str, Any]) -> tuple[str, Any]:
        """(field, value) that breaks `rule` while keeping the field's earlier rules."""
        name, code = rule.field, rule.code
        if code in ("NN", "OPT"):
            return name, _pick(draw, _NIL_FORMS)
        if code == "EACH_NN":
            ids = list(data.get(name) or [str(uuid.UUID(int=1))])
            ids.insert(draw(_integers(0, len(ids))), _pick(draw, _NIL_FORMS))
            return name, ids
        if code == "NOT_EMPTY_LIST":
            return name, []
        if code == "NE":
            return name, "".join(_pick(draw, _RUST_ONLY_SPACE + [" "]) for _ in range(draw(_integers(0, 3))))
        if code == "LEN":
            assert rule.limit is not None
            return name, _text_of_bytes(draw, rule.limit + _pick(draw, [1, 1, 2, 3, 100]))
        if code == "AN":
            text = str(data.get(name) or "kind")[:40]
            at = draw(_integers(0, len(text)))
            return name, text[:at] + _pick(draw, _NOT_ALNUM) + text[at:]
        if code == "GE0":
            shape = next(s for s in self.shapes if s.name == name)
            return name, _pick(draw, ([-1, shape.low, -(2**31)] if shape.low < 0 else [-1]))
        if code == "CUR":
            return name, _pick(draw, ["usd", "Usd", "US", "USDX", "", "U$D", "€", "ÄB", "ÉUR", "123"])
        if code == "CONTAINS":
            text = str(data.get(name, ""))
            missing = _pick(draw, rule.needles)
            return name, text.replace(missing, "") or "plain"
        if code == "LESS_THAN" and rule.other is not None:
            other = data.get(rule.other, 0)
            return name, other + _pick(draw, [0, 0, 1, 7]) if isinstance(other, int) else 0
        if code == "DIFFERS" and rule.other is not None:
            return name, data.get(rule.other, "open")
        raise AssertionError(f"no way to break rule {rule}")


_BUILDERS = {name: _Builder(cls) for name, cls in VARIANTS_BY_NAME.items()}
_WINDOW = 3

# Rust's error for each kind of rule: (kind, the field it names, or None for the rule's field).
_ERROR_OF: dict[str, tuple[str, str | None]] = {
    "NN": ("NilUuid", None), "OPT": ("NilUuid", None), "EACH_NN": ("NilUuid", "moved_comment_ids[]"),
    "NE": ("EmptyField", None), "LEN": ("FieldTooLong", None), "AN": ("InvalidCharacters", None),
    "GE0": ("OutOfRange", None), "CUR": ("InvalidValue", None), "CONTAINS": ("InvalidValue", None),
    "LESS_THAN": ("InvalidValue", None), "DIFFERS": ("InvalidValue", None), "NOT_EMPTY_LIST": ("InvalidValue", None),
}


def _rule_goal(variant: str, index: int, rule: Rule) -> str:
    return f"{variant}#{index + 1} {rule}"


def _reported(rule: Rule, error: BaseException) -> bool:
    kind, field = _ERROR_OF[rule.code]
    return isinstance(error, EventValidationError) and error.kind == kind and error.field == (field or rule.field)


def _shown(value: Any) -> str:
    """A payload for a step label: JSON, long strings abbreviated with their lengths."""
    def short(item: Any) -> Any:
        if isinstance(item, str) and len(item) > 48:
            return f"{item[:12]}…({len(item)} chars, {utf8_len(item)} bytes)"
        if isinstance(item, dict):
            return {k: short(v) for k, v in item.items()}
        if isinstance(item, list):
            return [short(v) for v in item]
        return item
    if isinstance(value, str):
        return "text " + (short(value) if len(value) > 48 else value)
    return json.dumps(short(value), ensure_ascii=False)


# ----------------------------------------------------------------------------------------------
# Malformed payloads: exactly one format fault each
# ----------------------------------------------------------------------------------------------


_WRONG_TYPES: dict[str, list[Any]] = {
    "uuid": [42, True, ["x"]], "str": [5, True, ["a"], {"a": 1}], "int": ["5", 1.5, True, None],
    "bool": [0, "true", None], "uuid_list": ["x", {}, [5]],
}
"""JSON values of another type than the field's (None only where the field is not optional)."""


def _malformed(draw: Any, variant: str, data: dict[str, Any]) -> tuple[str, Any]:
    """(what is wrong, payload)."""
    shapes = [s for s in _SHAPES[variant]]
    required = [s for s in shapes if not s.optional]
    fault = _pick(draw, ["missing field", "wrong type", "out of range", "bad uuid", "surrogate",
                                  "duplicate", "no type", "type not text", "no data", "data not object",
                                  "unknown variant", "not an object", "not json"])
    if fault == "missing field" and required:
        gone = _pick(draw, required).name
        return fault, {"type": variant, "data": {k: v for k, v in data.items() if k != gone}}
    if fault == "wrong type":
        shape = _pick(draw, shapes)
        wrong = _WRONG_TYPES[shape.kind]
        bad = _pick(draw, [w for w in wrong if not (w is None and shape.optional)])
        return fault, {"type": variant, "data": {**data, shape.name: bad}}
    ints = [s for s in shapes if s.kind == "int"]
    if fault == "out of range" and ints:
        shape = _pick(draw, ints)
        return fault, {"type": variant, "data": {**data, shape.name: _pick(draw, [shape.high + 1, shape.low - 1])}}
    ids = [s for s in shapes if s.kind == "uuid"]
    if fault == "bad uuid" and ids:
        shape = _pick(draw, ids)
        bad = _pick(draw, ["not-a-uuid", "", "123e4567-e89b-12d3-a456-42661417400",
                                    "123e4567-e89b-12d3-a456-4266141740000", "g23e4567-e89b-12d3-a456-426614174000",
                                    "123e4567e89b-12d3-a456-426614174000"])
        return fault, {"type": variant, "data": {**data, shape.name: bad}}
    texts = [s for s in shapes if s.kind == "str" and s.name in data]
    if fault == "surrogate" and texts:
        shape = _pick(draw, texts)
        return fault, {"type": variant, "data": {**data, shape.name: "ab\ud800"}}
    if fault == "duplicate" and data:
        name = _pick(draw, (sorted(k for k in data if k != "unknown_key") or ["type"]))
        body = json.dumps({"type": variant, "data": data})
        if name == "type":
            return fault, body[:-1] + f', "type": {json.dumps(variant)}}}'
        return fault, body[:-2] + f', {json.dumps(name)}: {json.dumps(data[name])}}}}}'
    if fault == "no type":
        return fault, {"data": data}
    if fault == "type not text":
        return fault, {"type": _pick(draw, [1, None, ["NodeCreated"]]), "data": data}
    if fault == "no data":
        return fault, {"type": variant}
    if fault == "data not object":
        return fault, {"type": variant, "data": _pick(draw, [[], "x", None, 3])}
    if fault == "not an object":
        return fault, _pick(draw, [[], "text", 3, None])
    if fault == "not json":
        return fault, _pick(draw, ["{", "[1,", "nul", '{"type": "NodeCreated", "data": }'])
    return "unknown variant", {"type": _pick(draw, ([variant.lower(), variant + "s", "DomainEvent", ""])),
                               "data": data}


# ----------------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------------


class _EventValidationSuite(DifferentialMachine):
    factory: Factory
    table = None
    error_fields = ("kind", "field", "max", "min", "value", "reason")
    free_text_errors = frozenset({"EventFormatError"})
    known: tuple[str, ...]
    """The variant names of the suite's snapshot."""

    @initialize()
    def setup(self) -> None:
        self.config = self.variant
        self.reference = reference_event_validator(self.variant, None)
        self.target = build_target(self.factory, self.variant, ManualClock(), COMPONENT, self.target_name)
        self.steps = [f"snapshot {self.variant}"]

    def _validate(self, payload: Any) -> BaseException | None:
        target, reference = self.both(f"validate {_shown(payload)}", lambda v: v.validate(payload))
        self.same_outcome(target, reference)
        if reference[0] == "error" and type(reference[1]).__name__ == "EventFormatError":
            self.reached("format_error")
        return reference[1] if reference[0] == "error" else None

    @rule(first=st.integers(0, len(VARIANTS_BY_NAME) - 1), data=st.data())
    def every_rule_of(self, first: int, data: st.DataObject) -> None:
        """For each of `_WINDOW` variants in a row (from `first`, in name order): a valid event,
        then the same event with each of its rules broken in turn. A window rather than one drawn
        variant, so every rule of all 55 is reached in a ci run (drawn one at a time, some
        variants came up once in 8,000 steps)."""
        names = sorted(VARIANTS_BY_NAME)
        for variant in (names[(first + k) % len(names)] for k in range(_WINDOW)):
            builder = _BUILDERS[variant]
            valid = builder.valid(data.draw)
            if self._validate({"type": variant, "data": valid}) is None and variant in self.known:
                self.reached("valid_event")
            for index, broken in enumerate(builder.cls.rules):
                field, value = builder.breaking(data.draw, broken, valid)
                error = self._validate({"type": variant, "data": {**valid, field: value}})
                if variant in self.known and error is not None and _reported(broken, error):
                    self.reached(_rule_goal(variant, index, broken))

    @rule(variant=st.sampled_from(sorted(VARIANTS_BY_NAME)), data=st.data())
    def malformed(self, variant: str, data: st.DataObject) -> None:
        """A payload with exactly one format fault, so both sides name the same JSON path."""
        _fault, payload = _malformed(data.draw, variant, _BUILDERS[variant].valid(data.draw))
        self._validate(payload)

    @rule(variant=st.sampled_from(sorted(VARIANTS_BY_NAME)), data=st.data())
    def as_json_text(self, variant: str, data: st.DataObject) -> None:
        """The same payloads as JSON text, as a Rust service reads them off the wire."""
        valid = _BUILDERS[variant].valid(data.draw)
        self._validate(json.dumps({"type": variant, "data": valid}, ensure_ascii=data.draw(_BOOLEANS)))

    @rule(data=st.data())
    def edge_case(self, data: st.DataObject) -> None:
        """Values that pass (or fail) one rule only just, where Rust and Python spellings differ."""
        case = _pick(data.draw, (sorted(_EDGE_CASES)))
        variant, overrides, goal = _EDGE_CASES[case](data.draw)
        valid = _BUILDERS[variant].valid(data.draw)
        error = self._validate({"type": variant, "data": {**valid, **overrides}})
        if (error is None) != goal.startswith("refused:"):
            self.reached(goal)


def _at_limit(draw: Any) -> tuple[str, dict[str, Any], str]:
    variant, field, limit = _pick(draw, ([("NodeUpdated", "kind", 64), ("LocaleEnabled", "locale", 10),
                                                  ("OrderCancelled", "reason", 500), ("UserRegistered", "email", 255)]))
    text = _text_of_bytes(draw, limit, ("é", "記", "𝒜"))
    if variant == "UserRegistered":
        text = "a@b." + text[4:]
    return variant, {field: text}, "multibyte text at its byte limit passes"


def _rust_keeps(draw: Any) -> tuple[str, dict[str, Any], str]:
    return "LocaleEnabled", {"locale": _pick(draw, _PYTHON_ONLY_SPACE)}, "U+001C..U+001F is not empty"


def _unicode_alnum(draw: Any) -> tuple[str, dict[str, Any], str]:
    text = "k" + _pick(draw, (_RUST_ALNUM_NOT_PYTHON + ("½", "٣", "記", "Ⅻ")))
    return "NodeCreated", {"kind": text}, "Unicode alphanumeric kind passes"


def _zero_and_max(draw: Any) -> tuple[str, dict[str, Any], str]:
    return "OrderPlaced", {"total": _pick(draw, [0, I64_MAX])}, "0 and i64::MAX are non-negative: passes"


def _euro(draw: Any) -> tuple[str, dict[str, Any], str]:
    return "PriceUpdated", {"currency": _pick(draw, ["€", "ÄB", "ﬀA"])}, "refused: 3-byte non-ASCII currency"


def _status_case(draw: Any) -> tuple[str, dict[str, Any], str]:
    variant = _pick(draw, ("OrderStatusChanged", "ForumTopicStatusChanged"))
    old = _pick(draw, ("open", "closed", "Shipped"))
    return variant, {"old_status": old, "new_status": old.swapcase()}, "statuses that differ in case only pass"


_EDGE_CASES: dict[str, Callable[[Any], tuple[str, dict[str, Any], str]]] = {
    "at_limit": _at_limit, "python_only_space": _rust_keeps, "unicode_alphanumeric": _unicode_alnum,
    "zero_and_max": _zero_and_max, "euro": _euro, "status_case": _status_case,
}
_EDGE_GOALS = {
    "multibyte text at its byte limit passes": "a 2/3/4-byte text exactly at a LEN limit (bytes) passes",
    "U+001C..U+001F is not empty": "a field of only U+001C..U+001F passes NE (Rust does not trim them)",
    "Unicode alphanumeric kind passes": "a kind with a non-ASCII alphanumeric (U+0345, ½, ٣ ...) passes AN",
    "0 and i64::MAX are non-negative: passes": "0 and i64::MAX pass GE0 (the range is inclusive)",
    "statuses that differ in case only pass": "new_status differing from old_status in case only passes (exact compare)",
    "refused: 3-byte non-ASCII currency": "a currency of 3 bytes that are not A..Z ('€') is refused",
}


def _goals(snapshot: str) -> dict[str, str]:
    goals = {"valid_event": "a valid event of the snapshot passed",
             "format_error": "a malformed payload was refused as a format error", **_EDGE_GOALS}
    for name in sorted(SNAPSHOTS[snapshot]):
        for index, broken in enumerate(VARIANTS_BY_NAME[name].rules):
            goals[_rule_goal(name, index, broken)] = f"{name} with only rule {index + 1} ({broken}) broken, reported"
    return goals


def event_validation_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's machine for one target factory and one snapshot of the Rust code."""
    return type(f"EventValidationSuite_{variant.replace('-', '_')}", (_EventValidationSuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name,
                 "known": tuple(sorted(SNAPSHOTS[variant])), "goals": _goals(variant)})
