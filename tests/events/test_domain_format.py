"""The serde JSON form of DomainEvent and what happens to payloads that are not well-formed.

Well-formedness (serde's job in Rust) is separate from the business rules: a missing field, a
wrong type, an unknown variant or an integer outside its Rust type is an `EventFormatError` from
`parse_event` naming the field, never an `EventValidationError` and never a bare crash.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from rustok_sim.model.events import (
    ALL_VARIANTS,
    DomainEvent,
    DomainEventBase,
    EventFormatError,
    ForumTopicPinned,
    InventoryLow,
    NodeCreated,
    OrderCancelled,
    TopicsMerged,
    TopicSplit,
    parse_event,
)

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
U64_MAX = 2**64 - 1

ID = "0190f3b4-6d8e-7c3a-9b1e-2f4a5c6d7e8f"
NODE = {"type": "NodeCreated", "data": {"node_id": ID, "kind": "post", "author_id": None}}


def _required(cls: type[DomainEventBase]) -> list[str]:
    return [name for name, info in cls.model_fields.items() if info.is_required()]


def _sample_value(annotation: Any) -> Any:
    """A well-formed JSON value for a field of the given annotation."""
    text = repr(annotation)
    if "list" in text:
        return [ID]
    if "UUID" in text:
        return ID
    if "bool" in text:
        return True
    if "int" in text:
        return 1
    return "en"


def _wrong_value(annotation: Any) -> Any:
    """A JSON value of the wrong type for the annotation (serde would refuse it)."""
    text = repr(annotation)
    if "list" in text:
        return ID  # a string where a list belongs
    if "UUID" in text:
        return 42
    if "bool" in text or "int" in text:
        return "1"
    return 5


def _payload(cls: type[DomainEventBase]) -> dict[str, Any]:
    data = {name: _sample_value(info.annotation) for name, info in cls.model_fields.items()}
    return {"type": cls.__name__, "data": data}


FIELD_CASES = [pytest.param(cls, name, id=f"{cls.__name__}-{name}")
               for cls in ALL_VARIANTS for name in cls.model_fields]
REQUIRED_CASES = [pytest.param(cls, name, id=f"{cls.__name__}-{name}")
                  for cls in ALL_VARIANTS for name in _required(cls)]


def _format_error(obj: Any) -> EventFormatError:
    with pytest.raises(EventFormatError) as info:
        parse_event(obj)
    return info.value


# --------------------------------------------------------------------------------------------
# The serde form
# --------------------------------------------------------------------------------------------


def test_adjacently_tagged_with_the_rust_variant_name() -> None:
    event = parse_event(NODE)
    assert isinstance(event, NodeCreated)
    assert event.to_json_dict() == NODE
    assert json.loads(event.to_json()) == NODE


def test_none_is_written_as_null() -> None:
    data = OrderCancelled(order_id=uuid.UUID(ID)).to_json_dict()["data"]
    assert "reason" in data and data["reason"] is None


def test_missing_option_field_reads_as_none() -> None:
    event = parse_event({"type": "NodeCreated", "data": {"node_id": ID, "kind": "post"}})
    assert event.author_id is None  # type: ignore[attr-defined]


def test_unknown_keys_are_ignored_like_serde() -> None:
    payload = {"type": "NodeCreated", "data": {**NODE["data"], "extra": 1}, "meta": "x"}
    assert parse_event(payload) == parse_event(NODE)


@pytest.mark.parametrize("form", [ID.replace("-", ""), ID.upper(), "{" + ID + "}", "urn:uuid:" + ID])
def test_uuid_text_forms_the_uuid_crate_accepts(form: str) -> None:
    assert parse_event({"type": "TagCreated", "data": {"tag_id": form}}).tag_id == uuid.UUID(ID)  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", ALL_VARIANTS, ids=lambda c: c.__name__)
def test_every_variant_parses_from_dict_str_and_bytes(cls: type[DomainEventBase]) -> None:
    payload = _payload(cls)
    event = parse_event(payload)
    assert type(event) is cls
    assert parse_event(json.dumps(payload)) == event == parse_event(json.dumps(payload).encode())
    assert event.to_json_dict() == payload


@pytest.mark.parametrize(("value", "field"), [(I64_MAX, "total"), (0, "total")])
def test_i64_extremes_survive_json_exactly(value: int, field: str) -> None:
    payload = {"type": "OrderPlaced", "data": {"order_id": ID, "customer_id": None, field: value,
                                                "currency": "USD"}}
    assert json.loads(parse_event(json.dumps(payload)).to_json())["data"][field] == value


def test_u64_max_survives_json_exactly() -> None:
    event = TopicsMerged(target_topic_id=uuid.UUID(ID), moved_comments=U64_MAX)
    assert parse_event(event.to_json()) == event and f"{U64_MAX}" in event.to_json()


def test_domain_event_works_as_a_pydantic_field_type() -> None:
    class Holder(BaseModel):
        event: DomainEvent

    event = parse_event(NODE)
    assert Holder(event=event).event is event
    assert Holder.model_validate({"event": NODE}).event == event
    assert Holder(event=event).model_dump(mode="json") == {"event": NODE}


def test_variant_accepts_its_own_tagged_form_and_plain_fields() -> None:
    assert NodeCreated.model_validate(NODE) == NodeCreated.model_validate(NODE["data"])
    with pytest.raises(ValidationError, match="is not NodeCreated"):
        NodeCreated.model_validate({"type": "NodeUpdated", "data": NODE["data"]})


# --------------------------------------------------------------------------------------------
# Malformed payloads: EventFormatError naming the field
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "name"), REQUIRED_CASES)
def test_missing_required_field_is_named(cls: type[DomainEventBase], name: str) -> None:
    payload = _payload(cls)
    del payload["data"][name]
    error = _format_error(payload)
    assert error.field == f"data.{name}"
    assert "Field required" in str(error) and f"data.{name}" in str(error)


@pytest.mark.parametrize(("cls", "name"), FIELD_CASES)
def test_wrong_type_is_named(cls: type[DomainEventBase], name: str) -> None:
    payload = _payload(cls)
    payload["data"][name] = _wrong_value(cls.model_fields[name].annotation)
    error = _format_error(payload)
    assert error.field == f"data.{name}"
    assert not isinstance(error, type(None)) and isinstance(error, ValueError)


def test_unknown_variant_is_named() -> None:
    error = _format_error({"type": "NodeExploded", "data": {}})
    assert error.field == "type" and "unknown event variant 'NodeExploded'" in str(error)


def test_variant_name_is_case_sensitive() -> None:
    assert _format_error({"type": "nodecreated", "data": NODE["data"]}).field == "type"


def test_dotted_event_type_is_not_a_tag() -> None:
    # The tag is the Rust variant name; "node.created" lives only in the envelope's event_type.
    assert _format_error({"type": "node.created", "data": NODE["data"]}).field == "type"


@pytest.mark.parametrize("payload", [{"data": NODE["data"]}, {}])
def test_missing_type_is_named(payload: dict[str, Any]) -> None:
    error = _format_error(payload)
    assert error.field == "type" and "Field required" in str(error)


@pytest.mark.parametrize("tag", [5, None, ["NodeCreated"]])
def test_non_string_type_is_named(tag: Any) -> None:
    assert _format_error({"type": tag, "data": NODE["data"]}).field == "type"


def test_missing_data_is_named() -> None:
    error = _format_error({"type": "NodeCreated"})
    assert error.field == "data" and "Field required" in str(error)


@pytest.mark.parametrize("data", [5, "x", [1], None])
def test_data_that_is_not_an_object_is_named(data: Any) -> None:
    assert _format_error({"type": "NodeCreated", "data": data}).field == "data"


@pytest.mark.parametrize("obj", [5, [NODE], "5", "[]", "null", None, 1.5, "NaN"])
def test_input_that_is_not_an_object(obj: Any) -> None:
    error = _format_error(obj)
    assert error.field is None and "expected an object" in str(error)


@pytest.mark.parametrize("text", ["{", "", "{'type': 1}", b"\xff\xfe"])
def test_invalid_json(text: str | bytes) -> None:
    error = _format_error(text)
    assert error.field is None and "not valid JSON" in str(error)


@pytest.mark.parametrize(("field", "value"), [
    ("remaining", I32_MAX + 1), ("remaining", I32_MIN - 1), ("threshold", 2**40),
])
def test_i32_out_of_range_is_a_format_error(field: str, value: int) -> None:
    payload = {"type": "InventoryLow", "data": {"variant_id": ID, "product_id": ID, "remaining": 1,
                                                 "threshold": 2, field: value}}
    for obj in (payload, json.dumps(payload)):
        assert _format_error(obj).field == f"data.{field}"


@pytest.mark.parametrize("value", [I32_MIN, I32_MAX])
def test_i32_bounds_are_well_formed(value: int) -> None:
    event = parse_event({"type": "InventoryLow", "data": {"variant_id": ID, "product_id": ID,
                                                           "remaining": value, "threshold": value}})
    assert event.remaining == value  # type: ignore[attr-defined]


@pytest.mark.parametrize(("value", "ok"), [(I64_MAX, True), (I64_MIN, True), (I64_MAX + 1, False),
                                           (I64_MIN - 1, False)])
def test_i64_range(value: int, ok: bool) -> None:
    payload = {"type": "MediaUploaded", "data": {"media_id": ID, "mime_type": "a/b", "size": value}}
    if ok:
        assert parse_event(json.dumps(payload)).size == value  # type: ignore[attr-defined]
    else:
        assert _format_error(json.dumps(payload)).field == "data.size"


@pytest.mark.parametrize(("value", "ok"), [(0, True), (U64_MAX, True), (-1, False), (U64_MAX + 1, False)])
def test_u64_range(value: int, ok: bool) -> None:
    payload = {"type": "TopicsMerged", "data": {"target_topic_id": ID, "moved_comments": value}}
    if ok:
        assert parse_event(payload).moved_comments == value  # type: ignore[attr-defined]
    else:
        assert _format_error(payload).field == "data.moved_comments"


@pytest.mark.parametrize("value", [1.0, 1.5, True, "1", None])
def test_integers_are_not_coerced(value: Any) -> None:
    # serde_json refuses a float, a bool or a string for an integer field; so does the model.
    payload = {"type": "TopicsMerged", "data": {"target_topic_id": ID, "moved_comments": value}}
    assert _format_error(payload).field == "data.moved_comments"
    assert _format_error(json.dumps(payload)).field == "data.moved_comments"


@pytest.mark.parametrize("value", [1, "true", None])
def test_booleans_are_not_coerced(value: Any) -> None:
    payload = {"type": "ForumTopicPinned", "data": {"topic_id": ID, "is_pinned": value}}
    assert _format_error(payload).field == "data.is_pinned"


def test_list_element_is_named_by_index() -> None:
    payload = {"type": "TopicSplit", "data": {"source_topic_id": ID, "target_topic_id": ID,
                                               "moved_comment_ids": [ID, "nope"], "moved_comments": 2}}
    assert _format_error(payload).field == "data.moved_comment_ids[1]"


def test_lone_surrogate_is_not_a_rust_string() -> None:
    payload = {"type": "NodeCreated", "data": {"node_id": ID, "kind": "\ud800"}}
    assert _format_error(payload).field == "data.kind"
    assert _format_error(json.dumps(payload)).field is None  # serde_json: invalid escape


def test_all_problems_are_listed_first_one_named() -> None:
    error = _format_error({"type": "NodeCreated", "data": {"node_id": 1, "kind": 2}})
    assert [e["field"] for e in error.errors] == ["data.node_id", "data.kind"]
    assert str(error).endswith("(and 1 more)")


def test_constructor_rejects_out_of_range_with_the_field_name() -> None:
    with pytest.raises(ValidationError) as info:
        InventoryLow(variant_id=uuid.UUID(ID), product_id=uuid.UUID(ID), remaining=2**31, threshold=1)
    assert info.value.errors()[0]["loc"] == ("remaining",)


def test_type_adapter_of_the_union_reports_unknown_tags() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(DomainEvent).validate_python({"type": "Nope", "data": {}})


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10))
def test_prop_arbitrary_json_never_crashes(obj: Any) -> None:
    try:
        parse_event(obj)
    except EventFormatError:
        pass


@given(st.sampled_from(ALL_VARIANTS), st.dictionaries(st.text(max_size=20),
                                                      st.none() | st.integers() | st.text() | st.lists(st.integers(), max_size=2),
                                                      max_size=6))
def test_prop_arbitrary_data_never_crashes(cls: type[DomainEventBase], data: dict[str, Any]) -> None:
    try:
        event = parse_event({"type": cls.__name__, "data": data})
    except EventFormatError as error:
        assert error.field is not None and error.field.startswith("data")
    else:
        assert type(event) is cls


def test_specific_variants_round_trip_with_optional_values() -> None:
    for event in (
        ForumTopicPinned(topic_id=uuid.UUID(ID), is_pinned=False, moderator_id=uuid.UUID(ID)),
        TopicSplit(source_topic_id=uuid.UUID(ID), target_topic_id=uuid.UUID(ID),
                   moved_comment_ids=[uuid.UUID(ID)] * 3, moved_comments=3, reason="é" * 10),
        OrderCancelled(order_id=uuid.UUID(ID), reason=""),
    ):
        assert parse_event(event.to_json()) == event


def test_json_schema_describes_the_tagged_wire_form() -> None:
    schema = TypeAdapter(DomainEvent).json_schema()
    assert len(schema["oneOf"]) == 55
    node = schema["$defs"]["NodeCreated"]
    assert node["properties"]["type"] == {"const": "NodeCreated"}
    assert node["required"] == ["type", "data"]
    assert node["properties"]["data"]["required"] == ["node_id", "kind"]
    assert set(node["properties"]["data"]["properties"]) == {"node_id", "kind", "author_id"}


# --------------------------------------------------------------------------------------------
# Defects of Python's JSON reader that serde_json does not have (issue 7, section 8)
# --------------------------------------------------------------------------------------------

NODE_TEXT = '"data":{"node_id":"' + ID + '","kind":"post"}'


def test_type_given_twice_is_a_format_error_naming_it() -> None:
    # Python's reader keeps the last "type"; serde refuses the repeated field.
    for text in ('{"type":"NodeUpdated","type":"NodeCreated",' + NODE_TEXT + "}",
                 '{"type":"NodeCreated","type":"NodeCreated",' + NODE_TEXT + "}"):
        error = _format_error(text)
        assert error.field == "type" and "duplicate field `type`" in str(error)
        assert _format_error(text.encode()).field == "type"


def test_a_data_field_given_twice_is_named_with_its_path() -> None:
    text = '{"type":"NodeCreated","data":{"node_id":"' + ID + '","kind":"a","kind":"b"}}'
    error = _format_error(text)
    assert error.field == "data.kind" and "duplicate field `kind`" in str(error)


def test_data_given_twice_is_named() -> None:
    assert _format_error('{"type":"NodeCreated",' + NODE_TEXT + "," + NODE_TEXT + "}").field == "data"


def test_a_repeated_unknown_key_is_ignored_like_serde() -> None:
    text = '{"type":"NodeCreated","x":1,"x":2,"data":{"node_id":"' + ID + '","kind":"a","y":1,"y":[]}}'
    assert parse_event(text) == NodeCreated(node_id=uuid.UUID(ID), kind="a")


@pytest.mark.parametrize("depth", [128, 1_000, 100_000])
def test_nesting_past_serde_jsons_limit_is_a_format_error(depth: int) -> None:
    # serde_json stops at 128 nested containers; Python's reader would raise RecursionError.
    text = '{"type":"NodeCreated","extra":' + "[" * (depth - 1) + "]" * (depth - 1) + "," + NODE_TEXT + "}"
    error = _format_error(text)
    assert error.field is None and "recursion limit exceeded" in str(error)


def test_nesting_just_inside_serde_jsons_limit_is_read() -> None:
    text = '{"type":"NodeCreated","extra":' + "[" * 126 + "]" * 126 + "," + NODE_TEXT + "}"
    assert parse_event(text).variant == "NodeCreated"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    kind = "[" * 300 + '\\"{' * 100
    text = '{"type":"NodeCreated","data":{"node_id":"' + ID + '","kind":"' + kind + '"}}'
    assert parse_event(text).kind == "[" * 300 + '"{' * 100  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", ALL_VARIANTS, ids=lambda c: c.__name__)
def test_every_variants_to_json_is_byte_equal_to_pydantics_dump(cls: type[DomainEventBase]) -> None:
    # `to_json` writes the data fields with a serializer that skips the wrap callback; pydantic's
    # own dump (through the adjacently tagged wrap serializer) is the reference.
    event = parse_event(_payload(cls))
    assert event.to_json() == event.model_dump_json()
    assert json.loads(event.to_json()) == _payload(cls)


@given(st.text(), st.none() | st.text(), st.integers(-(2**63), 2**63 - 1))
def test_prop_to_json_escapes_like_pydantic(title: str, reason: str | None, total: int) -> None:
    # Text with escapes, lone surrogates excluded (not a Rust String), and i64 extremes.
    try:
        events = [parse_event({"type": "NodeCreated", "data": {"node_id": ID, "kind": title}}),
                  parse_event({"type": "OrderCancelled", "data": {"order_id": ID, "reason": reason}}),
                  parse_event({"type": "OrderPlaced", "data": {"order_id": ID, "customer_id": None,
                                                               "total": total, "currency": "USD"}})]
    except (ValidationError, EventFormatError):
        return
    for event in events:
        assert event.to_json() == event.model_dump_json()
