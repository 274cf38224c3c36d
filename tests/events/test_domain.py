"""The 55 DomainEvent variants: metadata, validate() rules and order, and the Rust unit tests.

`SPEC` below is a transcription of spec §4.4/§4.6 written independently of `rustok_sim.model.events.domain`
(fields with their Rust types, the rules in evaluation order, the idx column). Every test that
can be table-driven is driven by it; the Hypothesis strategies that build valid events are derived
from it too, so a wrong limit or a missing rule in the model shows up as a failing example.
The JSON/format side is in test_domain_format.py.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rustok_sim.model.events import (
    ALL_VARIANTS,
    LATER_VARIANTS,
    PRIMARY_VARIANTS,
    VARIANTS_BY_EVENT_TYPE,
    VARIANTS_BY_NAME,
    BuildRequested,
    DomainEventBase,
    EventValidationError,
    InventoryLow,
    InventoryUpdated,
    MediaUploaded,
    NodeCreated,
    NodeUpdated,
    OrderPlaced,
    OrderStatusChanged,
    UserRegistered,
    parse_event,
)

I32_MAX = 2**31 - 1
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1
NIL = uuid.UUID(int=0)
WHITE_SPACE = "".join(map(chr, [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
                                *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))

# variant | event_type | idx | fields (name type) | rules in evaluation order
# Types: uuid, uuid?, str, str?, i32, i64, i64?, u64, bool, [uuid]  ("?" = Option).
# Rules: the spec's NN OPT NE LEN AN GE0 CUR; LEN?/GE0? apply only when present; MIME = must contain
# '/'; EMAIL = must contain '@' and '.'; LT(a,b) = a < b; DIFF(a,b) = a != b; LIST = non-empty list;
# EACHNN = every element non-nil (reported as "<field>[]").
SPEC_TABLE = """
NodeCreated | node.created | Y | node_id uuid, kind str, author_id uuid? | NN(node_id) NE(kind) LEN(kind,64) AN(kind) OPT(author_id)
NodeUpdated | node.updated | Y | node_id uuid, kind str | NN(node_id) NE(kind) LEN(kind,64)
NodeTranslationUpdated | node.translation.updated | Y | node_id uuid, locale str | NN(node_id) NE(locale) LEN(locale,10)
NodePublished | node.published | Y | node_id uuid, kind str | NN(node_id) NE(kind) LEN(kind,64)
NodeUnpublished | node.unpublished | Y | node_id uuid, kind str | NN(node_id) NE(kind) LEN(kind,64)
NodeDeleted | node.deleted | Y | node_id uuid, kind str | NN(node_id) NE(kind) LEN(kind,64)
BodyUpdated | body.updated | Y | node_id uuid, locale str | NN(node_id) NE(locale) LEN(locale,10)
CategoryCreated | category.created | N | category_id uuid | NN(category_id)
CategoryUpdated | category.updated | N | category_id uuid | NN(category_id)
CategoryDeleted | category.deleted | N | category_id uuid | NN(category_id)
TagCreated | tag.created | N | tag_id uuid | NN(tag_id)
TagAttached | tag.attached | Y | tag_id uuid, target_type str, target_id uuid | NN(tag_id) NE(target_type) LEN(target_type,64) NN(target_id)
TagDetached | tag.detached | Y | tag_id uuid, target_type str, target_id uuid | NN(tag_id) NE(target_type) LEN(target_type,64) NN(target_id)
MediaUploaded | media.uploaded | N | media_id uuid, mime_type str, size i64 | NN(media_id) NE(mime_type) LEN(mime_type,255) MIME(mime_type) GE0(size)
MediaDeleted | media.deleted | N | media_id uuid | NN(media_id)
UserRegistered | user.registered | N | user_id uuid, email str | NN(user_id) NE(email) LEN(email,255) EMAIL(email)
UserLoggedIn | user.logged_in | N | user_id uuid | NN(user_id)
UserUpdated | user.updated | N | user_id uuid | NN(user_id)
UserDeleted | user.deleted | N | user_id uuid | NN(user_id)
ProductCreated | product.created | Y | product_id uuid | NN(product_id)
ProductUpdated | product.updated | Y | product_id uuid | NN(product_id)
ProductPublished | product.published | Y | product_id uuid | NN(product_id)
ProductDeleted | product.deleted | Y | product_id uuid | NN(product_id)
VariantCreated | variant.created | N | variant_id uuid, product_id uuid | NN(variant_id) NN(product_id)
VariantUpdated | variant.updated | Y | variant_id uuid, product_id uuid | NN(variant_id) NN(product_id)
VariantDeleted | variant.deleted | N | variant_id uuid, product_id uuid | NN(variant_id) NN(product_id)
InventoryUpdated | inventory.updated | Y | variant_id uuid, product_id uuid, location_id uuid, old_quantity i32, new_quantity i32 | NN(variant_id) NN(product_id) NN(location_id) GE0(old_quantity) GE0(new_quantity)
InventoryLow | inventory.low | N | variant_id uuid, product_id uuid, remaining i32, threshold i32 | NN(variant_id) NN(product_id) GE0(remaining) GE0(threshold) LT(remaining,threshold)
PriceUpdated | price.updated | Y | variant_id uuid, product_id uuid, currency str, old_amount i64?, new_amount i64 | NN(variant_id) NN(product_id) CUR(currency) GE0?(old_amount) GE0(new_amount)
OrderPlaced | order.placed | N | order_id uuid, customer_id uuid?, total i64, currency str | NN(order_id) OPT(customer_id) GE0(total) CUR(currency)
OrderStatusChanged | order.status_changed | N | order_id uuid, old_status str, new_status str | NN(order_id) NE(old_status) LEN(old_status,50) NE(new_status) LEN(new_status,50) DIFF(new_status,old_status)
OrderCompleted | order.completed | N | order_id uuid | NN(order_id)
OrderCancelled | order.cancelled | N | order_id uuid, reason str? | NN(order_id) LEN?(reason,500)
ReindexRequested | index.reindex_requested | N | target_type str, target_id uuid? | NE(target_type) LEN(target_type,64) OPT(target_id)
IndexUpdated | index.updated | N | index_name str, target_id uuid | NE(index_name) LEN(index_name,64) NN(target_id)
TenantCreated | tenant.created | N | tenant_id uuid | NN(tenant_id)
TenantUpdated | tenant.updated | N | tenant_id uuid | NN(tenant_id)
LocaleEnabled | locale.enabled | N | tenant_id uuid, locale str | NN(tenant_id) NE(locale) LEN(locale,10)
LocaleDisabled | locale.disabled | N | tenant_id uuid, locale str | NN(tenant_id) NE(locale) LEN(locale,10)
BuildRequested | build.requested | N | build_id uuid, requested_by str | NN(build_id) NE(requested_by) LEN(requested_by,255)
ForumTopicCreated | forum.topic.created | Y | topic_id uuid, category_id uuid, author_id uuid?, locale str | NN(topic_id) NN(category_id) OPT(author_id) NE(locale) LEN(locale,10)
ForumTopicReplied | forum.topic.replied | Y | topic_id uuid, reply_id uuid, author_id uuid? | NN(topic_id) NN(reply_id) OPT(author_id)
ForumTopicStatusChanged | forum.topic.status_changed | Y | topic_id uuid, old_status str, new_status str, moderator_id uuid? | NN(topic_id) NE(old_status) LEN(old_status,50) NE(new_status) LEN(new_status,50) DIFF(new_status,old_status) OPT(moderator_id)
ForumTopicPinned | forum.topic.pinned | N | topic_id uuid, is_pinned bool, moderator_id uuid? | NN(topic_id) OPT(moderator_id)
ForumReplyStatusChanged | forum.reply.status_changed | N | reply_id uuid, topic_id uuid, new_status str, moderator_id uuid? | NN(reply_id) NN(topic_id) NE(new_status) LEN(new_status,50) OPT(moderator_id)
BlogPostCreated | blog.post.created | Y | post_id uuid, author_id uuid?, locale str | NN(post_id) OPT(author_id) NE(locale) LEN(locale,10)
BlogPostPublished | blog.post.published | Y | post_id uuid, author_id uuid? | NN(post_id) OPT(author_id)
BlogPostUnpublished | blog.post.unpublished | Y | post_id uuid | NN(post_id)
BlogPostUpdated | blog.post.updated | Y | post_id uuid, locale str | NN(post_id) NE(locale) LEN(locale,10)
BlogPostArchived | blog.post.archived | Y | post_id uuid, reason str? | NN(post_id) LEN?(reason,500)
BlogPostDeleted | blog.post.deleted | Y | post_id uuid | NN(post_id)
TopicPromotedToPost | content.topic.promoted_to_post | N | topic_id uuid, post_id uuid, moved_comments u64, locale str, reason str? | NN(topic_id) NN(post_id) NE(locale) LEN(locale,10) LEN?(reason,500)
PostDemotedToTopic | content.post.demoted_to_topic | N | post_id uuid, topic_id uuid, moved_comments u64, locale str, reason str? | NN(post_id) NN(topic_id) NE(locale) LEN(locale,10) LEN?(reason,500)
TopicSplit | content.topic.split | N | source_topic_id uuid, target_topic_id uuid, moved_comment_ids [uuid], moved_comments u64, reason str? | NN(source_topic_id) NN(target_topic_id) LIST(moved_comment_ids) EACHNN(moved_comment_ids) LEN?(reason,500)
TopicsMerged | content.topics.merged | N | target_topic_id uuid, moved_comments u64, reason str? | NN(target_topic_id) LEN?(reason,500)
"""


@dataclass(frozen=True)
class SpecRule:
    code: str            # NN, OPT, NE, LEN, LEN?, AN, GE0, GE0?, CUR, MIME, EMAIL, LT, DIFF, LIST, EACHNN
    field: str
    arg: str | None      # the limit of LEN, the other field of LT/DIFF

    def __str__(self) -> str:
        return f"{self.code}({self.field}{',' + self.arg if self.arg else ''})"


@dataclass(frozen=True)
class SpecVariant:
    name: str
    event_type: str
    affects_index: bool
    fields: dict[str, str]
    rules: tuple[SpecRule, ...]

    @property
    def cls(self) -> type[DomainEventBase]:
        return VARIANTS_BY_NAME[self.name]


def _parse_spec(table: str) -> list[SpecVariant]:
    out = []
    for line in table.strip().splitlines():
        name, event_type, idx, fields, rules = (part.strip() for part in line.split("|"))
        field_types = dict(item.strip().split(" ") for item in fields.split(","))
        parsed = tuple(SpecRule(m[1], m[2], m[3]) for m in
                       re.finditer(r"([A-Z0-9?]+)\((\w+)(?:,(\w+))?\)", rules))
        out.append(SpecVariant(name, event_type, idx == "Y", field_types, parsed))
    return out


SPEC = _parse_spec(SPEC_TABLE)
SPEC_BY_NAME = {v.name: v for v in SPEC}
RULE_CASES = [pytest.param(v, i, id=f"{v.name}-{i}-{r}") for v in SPEC for i, r in enumerate(v.rules)]
LEN_CASES = [pytest.param(v, r, id=f"{v.name}-{r.field}") for v in SPEC for r in v.rules
             if r.code in ("LEN", "LEN?")]
NE_CASES = [pytest.param(v, r, id=f"{v.name}-{r.field}") for v in SPEC for r in v.rules if r.code == "NE"]
VARIANT_CASES = [pytest.param(v, id=v.name) for v in SPEC]


# --------------------------------------------------------------------------------------------
# Building valid events (deterministic examples and Hypothesis strategies) from the table
# --------------------------------------------------------------------------------------------

EXAMPLE_STRINGS = {"kind": "post", "locale": "en", "target_type": "node", "index_name": "nodes",
                   "mime_type": "image/jpeg", "email": "user@example.com", "currency": "USD",
                   "old_status": "pending", "new_status": "processing", "reason": "duplicate",
                   "requested_by": "admin@rustok.local"}


def example_event(spec: SpecVariant) -> DomainEventBase:
    """A fixed valid event of the variant: every field set, ids from a fixed namespace."""
    values: dict[str, Any] = {}
    for number, (name, kind) in enumerate(spec.fields.items(), start=1):
        values[name] = {
            "uuid": uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.name}/{name}"), "str": EXAMPLE_STRINGS.get(name),
            "i32": 10 * number, "i64": 1000 * number, "u64": 3, "bool": True,
            "[uuid]": [uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.name}/{name}/0")],
        }.get(kind.rstrip("?"))
    return spec.cls(**values)


def _truncate_utf8(text: str, limit: int) -> str:
    """The longest prefix of `text` with at most `limit` UTF-8 bytes."""
    return text.encode("utf-8")[:max(limit, 0)].decode("utf-8", "ignore")


def _field_rules(spec: SpecVariant, name: str) -> dict[str, SpecRule]:
    return {r.code.rstrip("?"): r for r in spec.rules if r.field == name}


_ALNUM_ALPHABET = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No")) | st.sampled_from("-_")
_ANY_CHAR = st.characters(codec="utf-8")  # no surrogates: a Rust String cannot hold them


@st.composite
def text_of_bytes(draw: st.DrawFn, spec: SpecVariant, name: str, size: int | None = None) -> str:
    """A string for field `name` that satisfies its character rules (AN, MIME, EMAIL, NE).

    With `size` the result has exactly that many UTF-8 bytes (padded with 'a'); otherwise it
    respects the field's LEN limit.
    """
    rules = _field_rules(spec, name)
    if "CUR" in rules:
        return draw(st.from_regex(r"[A-Z]{3}", fullmatch=True))
    needles = {"MIME": "/", "EMAIL": "@."}.get(next((c for c in ("MIME", "EMAIL") if c in rules), ""), "")
    alphabet = _ALNUM_ALPHABET if "AN" in rules else _ANY_CHAR
    limit = size if size is not None else int(rules["LEN"].arg) if "LEN" in rules else 100
    lead = "a" if "NE" in rules or size is not None else ""  # never blank, and pads to a size
    budget = limit - len(lead) - len(needles)
    # At most 64 characters are drawn (then padded when a size is asked): long random text costs
    # time and finds nothing that the exact-size cases do not.
    body = _truncate_utf8(draw(st.text(alphabet=alphabet, max_size=min(max(budget, 0), 64))), budget)
    for needle in needles:  # at independent positions, so "@" may come after "."
        at = draw(st.integers(0, len(body)))
        body = body[:at] + needle + body[at:]
    text = lead + body
    if size is not None:
        text += "a" * (size - len(text.encode("utf-8")))
    return text


def _value_strategy(spec: SpecVariant, name: str, kind: str) -> st.SearchStrategy[Any]:
    optional, base = kind.endswith("?"), kind.rstrip("?")
    strategy: st.SearchStrategy[Any] = {
        "uuid": st.uuids(allow_nil=False),
        "str": text_of_bytes(spec, name),
        "i32": st.integers(0, I32_MAX),     # every i32 field has GE0
        "i64": st.integers(0, I64_MAX),     # and every i64 field
        "u64": st.integers(0, U64_MAX),
        "bool": st.booleans(),
        "[uuid]": st.lists(st.uuids(allow_nil=False), min_size=1, max_size=4),
    }[base]
    return st.none() | strategy if optional else strategy


def _satisfies_cross_field_rules(spec: SpecVariant, values: dict[str, Any]) -> bool:
    for rule in spec.rules:
        if rule.code == "LT" and not values[rule.field] < values[rule.arg]:
            return False
        if rule.code == "DIFF" and values[rule.field] == values[rule.arg]:
            return False
    return True


def valid_events(spec: SpecVariant) -> st.SearchStrategy[DomainEventBase]:
    """Any valid event of the variant (cross-field rules LT/DIFF by filtering)."""
    fields = {name: _value_strategy(spec, name, kind) for name, kind in spec.fields.items()}
    return (st.fixed_dictionaries(fields)
            .filter(lambda values: _satisfies_cross_field_rules(spec, values))
            .map(lambda values: spec.cls(**values)))


# --------------------------------------------------------------------------------------------
# Breaking one rule, and the error the spec says it gives
# --------------------------------------------------------------------------------------------

REASONS = {
    "MIME": "must be in format 'type/subtype'",
    "EMAIL": "invalid email format",
    "LT": "must be less than threshold for low inventory",
    "DIFF": "must be different from old_status",
    "LIST": "must not be empty",
}


def breaking_value(rule: SpecRule, event: DomainEventBase) -> Any:
    """A value for `rule.field` that breaks `rule` and no earlier rule on the same field."""
    code = rule.code.rstrip("?")
    if code in ("NN", "OPT"):
        return NIL
    if code == "NE":
        return " \t\u3000"
    if code == "LEN":
        return "a" * (int(rule.arg) + 1)
    if code == "AN":
        return "invalid@kind"
    if code == "GE0":
        return -1
    if code == "CUR":
        return "US"
    if code == "MIME":
        return "invalid"
    if code == "EMAIL":
        return "invalid-email"
    if code in ("LT", "DIFF"):
        return getattr(event, rule.arg)
    if code == "LIST":
        return []
    if code == "EACHNN":
        return [uuid.uuid4(), NIL]
    raise AssertionError(f"no breaker for {rule}")


def expected_error(rule: SpecRule) -> EventValidationError:
    code = rule.code.rstrip("?")
    field = rule.field
    if code in ("NN", "OPT"):
        return EventValidationError.nil_uuid(field)
    if code == "NE":
        return EventValidationError.empty_field(field)
    if code == "LEN":
        return EventValidationError.field_too_long(field, int(rule.arg))
    if code == "AN":
        return EventValidationError.invalid_characters(field)
    if code == "GE0":
        return EventValidationError.out_of_range(field, -1, 0, I64_MAX)
    if code == "CUR":
        return EventValidationError.invalid_value(field, "currency code must be exactly 3 characters")
    if code == "EACHNN":
        return EventValidationError.nil_uuid(f"{field}[]")
    return EventValidationError.invalid_value(field, REASONS[code])


def broken(event: DomainEventBase, updates: dict[str, Any]) -> DomainEventBase:
    # Through the constructor, not model_copy, so the broken event is still a well-formed one.
    return type(event)(**{**event.model_dump(mode="python")["data"], **updates})


def error_of(event: DomainEventBase) -> EventValidationError | None:
    try:
        event.validate()
    except EventValidationError as error:
        return error
    return None


# --------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------


def test_variant_counts_match_the_spec() -> None:
    assert len(PRIMARY_VARIANTS) == 39 and len(LATER_VARIANTS) == 16 and len(ALL_VARIANTS) == 55
    assert [cls.__name__ for cls in ALL_VARIANTS] == [v.name for v in SPEC]
    assert len(VARIANTS_BY_EVENT_TYPE) == 55  # event types are unique


@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_variant_metadata(spec: SpecVariant) -> None:
    event = example_event(spec)
    assert event.variant == spec.name
    assert event.event_type == spec.event_type
    assert event.schema_version == 1
    assert event.affects_index is spec.affects_index
    assert VARIANTS_BY_EVENT_TYPE[spec.event_type] is spec.cls


@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_variant_fields_in_rust_order(spec: SpecVariant) -> None:
    assert list(spec.cls.model_fields) == list(spec.fields)
    assert list(example_event(spec).to_json_dict()["data"]) == list(spec.fields)


@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_rule_table_matches_the_spec(spec: SpecVariant) -> None:
    codes = {"GE0": "GE0", "MIME": "CONTAINS", "EMAIL": "CONTAINS", "LT": "LESS_THAN",
             "DIFF": "DIFFERS", "LIST": "NOT_EMPTY_LIST", "EACHNN": "EACH_NN"}
    expected = [(codes.get(r.code.rstrip("?"), r.code.rstrip("?")), r.field, r.code.endswith("?")
                 or r.code == "OPT") for r in spec.rules]
    assert [(r.code, r.field, r.optional) for r in spec.cls.rules] == expected
    assert [r.limit for r in spec.cls.rules if r.code == "LEN"] == \
        [int(r.arg) for r in spec.rules if r.code.startswith("LEN")]


def test_events_are_immutable() -> None:
    event = example_event(SPEC_BY_NAME["NodeCreated"])
    with pytest.raises(Exception):
        event.kind = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# One valid and one invalid case per variant; each rule alone; rule order
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_example_event_is_valid(spec: SpecVariant) -> None:
    event = example_event(spec)
    event.validate()
    assert event.is_valid()


@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_breaking_the_first_rule_is_reported(spec: SpecVariant) -> None:
    event = example_event(spec)
    rule = spec.rules[0]
    bad = broken(event, {rule.field: breaking_value(rule, event)})
    with pytest.raises(EventValidationError) as info:
        bad.validate()
    assert info.value == expected_error(rule)
    assert not bad.is_valid()


@pytest.mark.parametrize(("spec", "index"), RULE_CASES)
def test_each_rule_alone_gives_its_error(spec: SpecVariant, index: int) -> None:
    event = example_event(spec)
    rule = spec.rules[index]
    assert error_of(broken(event, {rule.field: breaking_value(rule, event)})) == expected_error(rule)


@pytest.mark.parametrize(("spec", "index"), RULE_CASES)
def test_rule_is_checked_before_every_later_rule(spec: SpecVariant, index: int) -> None:
    """Break rule `index` and, on other fields, every later rule: rule `index` is reported."""
    event = example_event(spec)
    rule = spec.rules[index]
    updates = {rule.field: breaking_value(rule, event)}
    read_so_far = {r.field for r in spec.rules[:index + 1]} | {r.arg for r in spec.rules[:index + 1] if r.arg}
    for later in spec.rules[index + 1:]:
        if later.field in updates or later.field in read_so_far or (later.arg and later.arg in updates):
            continue
        updates[later.field] = breaking_value(later, event)
    assert error_of(broken(event, updates)) == expected_error(rule)


def test_nil_id_is_reported_before_empty_kind() -> None:
    event = NodeCreated(node_id=NIL, kind="", author_id=NIL)
    with pytest.raises(EventValidationError) as info:
        event.validate()
    assert info.value.kind == "NilUuid" and info.value.field == "node_id"


@given(st.data())
@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_prop_first_broken_rule_wins(spec: SpecVariant, data: st.DataObject) -> None:
    event = data.draw(valid_events(spec))
    chosen = data.draw(st.sets(st.integers(0, len(spec.rules) - 1), min_size=1))
    updates: dict[str, Any] = {}
    applied = []
    for index in sorted(chosen):  # one breaker per field; cross-field rules only on intact fields
        rule = spec.rules[index]
        if rule.field in updates or (rule.arg and rule.arg in updates):
            continue
        updates[rule.field] = breaking_value(rule, event)
        applied.append(rule)
    assert error_of(broken(event, updates)) == expected_error(applied[0])


# --------------------------------------------------------------------------------------------
# Hypothesis: valid events, limits in bytes, Unicode White_Space
# --------------------------------------------------------------------------------------------


@given(st.data())
@pytest.mark.parametrize("spec", VARIANT_CASES)
def test_prop_valid_events_validate_and_round_trip(spec: SpecVariant, data: st.DataObject) -> None:
    event = data.draw(valid_events(spec))
    event.validate()
    assert parse_event(event.to_json_dict()) == event
    assert parse_event(event.to_json()) == event
    assert parse_event(event.to_json().encode("utf-8")) == event


@given(st.data())
@pytest.mark.parametrize(("spec", "rule"), LEN_CASES)
def test_prop_one_byte_past_the_limit_is_too_long(spec: SpecVariant, rule: SpecRule, data: st.DataObject) -> None:
    limit = int(rule.arg)
    event = data.draw(valid_events(spec))
    at_limit = data.draw(text_of_bytes(spec, rule.field, size=limit))
    past_limit = data.draw(text_of_bytes(spec, rule.field, size=limit + 1))
    assert len(at_limit.encode()) == limit and len(past_limit.encode()) == limit + 1
    ok = broken(event, {rule.field: at_limit})
    assume(_satisfies_cross_field_rules(spec, ok.model_dump()["data"]))
    assert error_of(ok) is None
    assert error_of(broken(event, {rule.field: past_limit})) == EventValidationError.field_too_long(rule.field, limit)


@given(st.data())
@pytest.mark.parametrize(("spec", "rule"), LEN_CASES)
def test_prop_limit_counts_bytes_not_characters(spec: SpecVariant, rule: SpecRule, data: st.DataObject) -> None:
    # More than limit/2 characters of 2..4 bytes each, but at most `limit` characters: within the
    # limit when counting characters, over it when counting bytes (which is what Rust does).
    limit = int(rule.arg)
    if "AN" in _field_rules(spec, rule.field):
        wide = st.characters(min_codepoint=0x80, categories=("Lu", "Ll", "Lo", "Nd", "Nl", "No"))
    else:
        wide = st.characters(min_codepoint=0x80, codec="utf-8")
    palette = data.draw(st.lists(wide, min_size=1, max_size=4))
    count = data.draw(st.integers(limit // 2 + 1, limit))
    text = "".join(palette[i % len(palette)] for i in range(count))
    assume(text.strip(WHITE_SPACE))
    assert len(text) <= limit < len(text.encode("utf-8"))
    event = example_event(spec)  # the string is what varies here
    error = error_of(broken(event, {rule.field: text}))
    assert error == EventValidationError.field_too_long(rule.field, limit)


@given(st.data())
@pytest.mark.parametrize(("spec", "rule"), NE_CASES)
def test_prop_white_space_only_is_empty(spec: SpecVariant, rule: SpecRule, data: st.DataObject) -> None:
    blank = data.draw(st.text(alphabet=WHITE_SPACE, min_size=1, max_size=8))
    assert error_of(broken(example_event(spec), {rule.field: blank})) == EventValidationError.empty_field(rule.field)


@pytest.mark.parametrize(("text", "too_long"), [("é" * 32, False), ("é" * 33, True), ("ß" * 33, True),
                                                ("a" * 64, False), ("a" * 65, True)])
def test_node_created_kind_limit_is_64_bytes(text: str, too_long: bool) -> None:
    event = NodeCreated(node_id=uuid.uuid4(), kind=text)
    assert error_of(event) == (EventValidationError.field_too_long("kind", 64) if too_long else None)


@pytest.mark.parametrize(("text", "too_long"), [("€" * 21, False), ("€" * 22, True),
                                                ("😀" * 16, False), ("😀" * 17, True)])
def test_node_updated_kind_limit_with_wide_characters(text: str, too_long: bool) -> None:
    event = NodeUpdated(node_id=uuid.uuid4(), kind=text)
    assert error_of(event) == (EventValidationError.field_too_long("kind", 64) if too_long else None)


def test_information_separator_is_not_blank_in_rust() -> None:
    # Python's str.strip() would call "\x1f" blank; Rust's trim does not, so NodeUpdated accepts it.
    NodeUpdated(node_id=uuid.uuid4(), kind="\x1f").validate()


# --------------------------------------------------------------------------------------------
# validation_proptest.rs (events)
# --------------------------------------------------------------------------------------------


@given(st.from_regex(r"[a-z]{1,100}", fullmatch=True))
def test_prop_node_created_kind_valid_iff_at_most_64(kind: str) -> None:
    event = NodeCreated(node_id=uuid.uuid4(), kind=kind, author_id=None)
    assert event.is_valid() is (len(kind) <= 64)


@given(st.text(), st.none() | st.uuids())
def test_prop_nil_node_id_is_nil_uuid(kind: str, author: uuid.UUID | None) -> None:
    event = NodeCreated(node_id=NIL, kind=kind, author_id=author)
    assert error_of(event) == EventValidationError.nil_uuid("node_id")


@given(st.uuids(), st.text(), st.none() | st.uuids())
def test_prop_node_created_json_round_trip(node_id: uuid.UUID, kind: str, author: uuid.UUID | None) -> None:
    event = NodeCreated(node_id=node_id, kind=kind, author_id=author)  # valid or not
    assert parse_event(event.to_json()) == event
    assert parse_event(event.to_json_dict()) == event


# --------------------------------------------------------------------------------------------
# types.rs unit tests (17 + the 2 BuildRequested tests of 02-19)
# --------------------------------------------------------------------------------------------


def _u() -> uuid.UUID:
    return uuid.uuid4()


def test_node_created_valid() -> None:
    NodeCreated(node_id=_u(), kind="post", author_id=_u()).validate()


def test_node_created_nil_id() -> None:
    with pytest.raises(EventValidationError):
        NodeCreated(node_id=NIL, kind="post", author_id=None).validate()


def test_node_created_empty_kind() -> None:
    with pytest.raises(EventValidationError):
        NodeCreated(node_id=_u(), kind="", author_id=None).validate()


def test_node_created_invalid_kind_characters() -> None:
    with pytest.raises(EventValidationError):
        NodeCreated(node_id=_u(), kind="invalid@kind", author_id=None).validate()


def test_order_placed_valid() -> None:
    OrderPlaced(order_id=_u(), customer_id=_u(), total=10000, currency="USD").validate()


def test_order_placed_negative_total() -> None:
    with pytest.raises(EventValidationError) as info:
        OrderPlaced(order_id=_u(), customer_id=_u(), total=-100, currency="USD").validate()
    assert str(info.value) == "Field 'total' value -100 is out of valid range (0..9223372036854775807)"


def test_order_placed_invalid_currency() -> None:
    with pytest.raises(EventValidationError):
        OrderPlaced(order_id=_u(), customer_id=_u(), total=10000, currency="US").validate()


def test_user_registered_valid() -> None:
    UserRegistered(user_id=_u(), email="user@example.com").validate()


def test_user_registered_invalid_email() -> None:
    with pytest.raises(EventValidationError) as info:
        UserRegistered(user_id=_u(), email="invalid-email").validate()
    assert str(info.value) == "Invalid value for field 'email': invalid email format"


def test_inventory_updated_valid() -> None:
    InventoryUpdated(variant_id=_u(), product_id=_u(), location_id=_u(), old_quantity=10,
                     new_quantity=5).validate()


def test_inventory_updated_negative_quantity() -> None:
    with pytest.raises(EventValidationError):
        InventoryUpdated(variant_id=_u(), product_id=_u(), location_id=_u(), old_quantity=-5,
                         new_quantity=10).validate()


def test_inventory_low_valid() -> None:
    InventoryLow(variant_id=_u(), product_id=_u(), remaining=5, threshold=10).validate()


def test_inventory_low_invalid_remaining_above_threshold() -> None:
    with pytest.raises(EventValidationError):
        InventoryLow(variant_id=_u(), product_id=_u(), remaining=15, threshold=10).validate()


def test_order_status_changed_valid() -> None:
    OrderStatusChanged(order_id=_u(), old_status="pending", new_status="processing").validate()


def test_order_status_changed_same_status() -> None:
    with pytest.raises(EventValidationError):
        OrderStatusChanged(order_id=_u(), old_status="pending", new_status="pending").validate()


def test_media_uploaded_valid() -> None:
    MediaUploaded(media_id=_u(), mime_type="image/jpeg", size=102400).validate()


def test_media_uploaded_invalid_mime_type() -> None:
    with pytest.raises(EventValidationError):
        MediaUploaded(media_id=_u(), mime_type="invalid", size=102400).validate()


def test_build_requested_valid_and_metadata() -> None:
    event = BuildRequested(build_id=_u(), requested_by="admin@rustok.local")
    assert event.event_type == "build.requested" and event.schema_version == 1
    event.validate()


def test_build_requested_invalid_requested_by() -> None:
    with pytest.raises(EventValidationError):
        BuildRequested(build_id=_u(), requested_by="").validate()


# --------------------------------------------------------------------------------------------
# Business-rule corners the spec calls out
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("email", "valid"), [("a.b@c", True), ("a@b.c", True), ("@.", True),
                                              ("user@localhost", False), ("user.example.com", False)])
def test_email_needs_only_an_at_and_a_dot_anywhere(email: str, valid: bool) -> None:
    assert UserRegistered(user_id=_u(), email=email).is_valid() is valid


def test_status_comparison_is_case_sensitive() -> None:
    OrderStatusChanged(order_id=_u(), old_status="pending", new_status="Pending").validate()


def test_inventory_low_equal_is_not_low() -> None:
    assert error_of(InventoryLow(variant_id=_u(), product_id=_u(), remaining=10, threshold=10)) == \
        EventValidationError.invalid_value("remaining", "must be less than threshold for low inventory")


def test_optional_reason_may_be_empty_but_not_too_long() -> None:
    cancelled = VARIANTS_BY_NAME["OrderCancelled"]
    cancelled(order_id=_u(), reason="").validate()
    cancelled(order_id=_u(), reason=None).validate()
    assert error_of(cancelled(order_id=_u(), reason="x" * 501)) == EventValidationError.field_too_long("reason", 500)


def test_price_updated_old_amount_checked_only_when_present() -> None:
    price = VARIANTS_BY_NAME["PriceUpdated"]
    price(variant_id=_u(), product_id=_u(), currency="EUR", old_amount=None, new_amount=0).validate()
    assert error_of(price(variant_id=_u(), product_id=_u(), currency="EUR", old_amount=-1, new_amount=5)) == \
        EventValidationError.out_of_range("old_amount", -1, 0, I64_MAX)


def test_i32_extremes_are_widened_for_the_range_check() -> None:
    event = InventoryUpdated(variant_id=_u(), product_id=_u(), location_id=_u(),
                             old_quantity=-(2**31), new_quantity=I32_MAX)
    assert error_of(event) == EventValidationError.out_of_range("old_quantity", -(2**31), 0, I64_MAX)


def test_topic_split_reports_nil_elements_under_the_list_name() -> None:
    split = VARIANTS_BY_NAME["TopicSplit"]
    event = split(source_topic_id=_u(), target_topic_id=_u(), moved_comment_ids=[_u(), NIL, NIL],
                  moved_comments=3)
    assert str(error_of(event)) == "UUID field 'moved_comment_ids[]' cannot be nil"


def test_rules_render_in_spec_notation() -> None:
    assert [str(r) for r in NodeCreated.rules] == [
        "NN(node_id)", "NE(kind)", "LEN(kind, 64)", "AN(kind)", "OPT(author_id) if present"]

