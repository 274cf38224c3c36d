"""EventEnvelope (spec §3.1): what `new` fills in, its JSON form and malformed envelopes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events import (
    ALL_VARIANTS,
    DomainEventBase,
    EventEnvelope,
    EventFormatError,
    IdGenerator,
    NodeCreated,
    OrderPlaced,
    parse_event,
)
from rustok_sim.model.events.ids import ulid_timestamp_ms

TENANT = uuid.UUID("11111111-2222-4333-8444-555555555555")
ACTOR = uuid.UUID("66666666-7777-4888-9999-aaaaaaaaaaaa")
NODE = NodeCreated(node_id=uuid.UUID("0190f3b4-6d8e-7c3a-9b1e-2f4a5c6d7e8f"), kind="post")
RUST_KEY_ORDER = ["id", "event_type", "schema_version", "correlation_id", "causation_id", "tenant_id",
                  "actor_id", "trace_id", "timestamp", "retry_count", "event"]


def _envelope(event: DomainEventBase = NODE, seed: int = 1, t: float = 0.0) -> EventEnvelope:
    return EventEnvelope.new(TENANT, ACTOR, event, ids=IdGenerator(ManualClock(t), seed))


def _format_error(obj: Any) -> EventFormatError:
    with pytest.raises(EventFormatError) as info:
        EventEnvelope.from_json(obj)
    return info.value


# --------------------------------------------------------------------------------------------
# EventEnvelope::new
# --------------------------------------------------------------------------------------------


def test_new_fills_the_fields_like_rust() -> None:
    env = _envelope()
    assert env.correlation_id == env.id
    assert env.causation_id is None
    assert env.event_type == "node.created" and env.schema_version == 1
    assert env.tenant_id == TENANT and env.actor_id == ACTOR
    assert env.trace_id is None and env.retry_count == 0
    assert env.event is NODE


def test_new_takes_id_and_time_from_the_injected_generator() -> None:
    ids = IdGenerator(ManualClock(42.5), seed=9, epoch=1_770_000_000)
    env = EventEnvelope.new(TENANT, None, NODE, ids=ids)
    assert ulid_timestamp_ms(env.id) == 1_770_000_042_500
    assert env.timestamp == datetime.fromtimestamp(1_770_000_042.5, UTC)


def test_explicit_now_wins_and_is_normalised_to_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    env = EventEnvelope.new(TENANT, None, NODE, ids=IdGenerator(ManualClock(), 0),
                            now=datetime(2026, 2, 13, 11, 13, tzinfo=moscow))
    assert env.timestamp == datetime(2026, 2, 13, 8, 13, tzinfo=UTC)
    assert env.timestamp.utcoffset() == timedelta(0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now= must carry a UTC offset"):
        EventEnvelope.new(TENANT, None, NODE, ids=IdGenerator(ManualClock(), 0), now=datetime(2026, 2, 13))


def test_there_is_no_default_id_source() -> None:
    with pytest.raises(TypeError, match="ids"):
        EventEnvelope.new(TENANT, None, NODE)  # type: ignore[call-arg]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((str(TENANT), None, NODE), {}, "tenant_id must be a uuid.UUID, got str"),
    ((TENANT, "someone", NODE), {}, "actor_id must be a uuid.UUID or None, got str"),
    ((TENANT, None, {"type": "NodeCreated"}), {}, "event must be a DomainEvent variant"),
    ((TENANT, None, NODE), {"ids": 7}, "ids= an IdGenerator"),
    ((TENANT, None, NODE), {"trace_id": 5}, "trace_id must be a str or None, got int"),
    ((TENANT, None, NODE), {"now": 1_770_000_000}, "now= must be an aware datetime"),
])
def test_new_checks_its_argument_types_at_the_call(args: tuple[Any, ...], kwargs: dict[str, Any],
                                                    message: str) -> None:
    kwargs.setdefault("ids", IdGenerator(ManualClock(), 0))
    with pytest.raises(TypeError, match=message):
        EventEnvelope.new(*args, **kwargs)


def test_new_refuses_a_trace_id_that_is_not_utf8() -> None:
    with pytest.raises(ValueError, match="trace_id is not valid Unicode"):
        EventEnvelope.new(TENANT, None, NODE, ids=IdGenerator(ManualClock(), 0), trace_id="\ud800")


def test_the_trusted_constructor_builds_what_the_validating_one_does() -> None:
    env = EventEnvelope.new(TENANT, ACTOR, NODE, ids=IdGenerator(ManualClock(3.25), 4), trace_id="77")
    validated = EventEnvelope(**dict(env))
    assert validated == env and env == validated
    assert validated.model_fields_set == env.model_fields_set
    assert validated.to_json() == env.to_json() and validated.model_dump() == env.model_dump()


def test_same_seed_gives_byte_identical_envelopes() -> None:
    assert _envelope(seed=5).to_json() == _envelope(seed=5).to_json()
    assert _envelope(seed=5).id != _envelope(seed=6).id


def test_new_does_not_validate_the_event() -> None:
    # Rust's EventEnvelope::new does not; only TransactionalEventBus validates.
    bad = NodeCreated(node_id=uuid.UUID(int=0), kind="")
    assert _envelope(bad).event is bad


def test_trace_id_can_be_given() -> None:
    env = EventEnvelope.new(TENANT, None, NODE, ids=IdGenerator(ManualClock(), 0), trace_id="1234")
    assert env.trace_id == "1234"


def test_envelopes_are_immutable() -> None:
    env = _envelope()
    with pytest.raises(ValidationError):
        env.retry_count = 1  # type: ignore[misc]
    copy = env.model_copy(update={"retry_count": 1})
    assert copy.retry_count == 1 and env.retry_count == 0
    assert env.model_fields_set == set(EventEnvelope.model_fields)  # the shared set was not touched


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def test_json_has_the_rust_fields_in_rust_order() -> None:
    data = _envelope().to_json_dict()
    assert list(data) == RUST_KEY_ORDER
    assert data["event"] == {"type": "NodeCreated", "data": {"node_id": str(NODE.node_id), "kind": "post",
                                                             "author_id": None}}
    assert data["timestamp"].endswith("Z")
    assert data["causation_id"] is None and data["trace_id"] is None


@given(st.uuids(), st.none() | st.uuids(), st.text(), st.floats(0, 1e6), st.integers(0, 2**32))
def test_prop_envelope_json_has_the_required_keys(tenant: uuid.UUID, actor: uuid.UUID | None, kind: str,
                                                  t: float, seed: int) -> None:
    # validation_proptest.rs: the envelope JSON has the keys id, event_type, tenant_id and event.
    event = NodeCreated(node_id=uuid.uuid4(), kind=kind)
    env = EventEnvelope.new(tenant, actor, event, ids=IdGenerator(ManualClock(t), seed))
    data = json.loads(env.to_json())
    assert {"id", "event_type", "tenant_id", "event"} <= data.keys()
    assert data["event_type"] == "node.created" and data["tenant_id"] == str(tenant)


def _sample_event(cls: type[DomainEventBase]) -> DomainEventBase:
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        text = repr(info.annotation)
        values[name] = ([uuid.uuid4()] if "list" in text else uuid.uuid4() if "UUID" in text
                        else True if "bool" in text else 7 if "int" in text else "en")
    return cls(**values)


@given(st.sampled_from(ALL_VARIANTS), st.none() | st.uuids(), st.none() | st.text(), st.floats(0, 1e9),
       st.integers(0, 2**64))
def test_prop_round_trip_is_lossless(cls: type[DomainEventBase], actor: uuid.UUID | None,
                                     trace_id: str | None, t: float, seed: int) -> None:
    env = EventEnvelope.new(TENANT, actor, _sample_event(cls), ids=IdGenerator(ManualClock(t), seed),
                            trace_id=trace_id)
    assert EventEnvelope.from_json(env.to_json_dict()) == env
    assert EventEnvelope.from_json(env.to_json()) == env
    assert EventEnvelope.from_json(env.to_json().encode("utf-8")) == env


@given(st.none() | st.text(), st.text(), st.datetimes(timezones=st.just(UTC)), st.none() | st.uuids(),
       st.integers(0, 2**32 - 1))
def test_prop_to_json_is_byte_equal_to_pydantics_dump(trace_id: str | None, event_type: str, when: datetime,
                                                      causation: uuid.UUID | None, retry: int) -> None:
    # to_json / to_json_dict write the serde form by hand for speed; pydantic's dump of the same
    # model is the reference they must match, escapes and timestamp digits included.
    try:
        env = EventEnvelope(id=uuid.UUID(int=9), event_type=event_type, schema_version=1,
                            correlation_id=uuid.UUID(int=10), causation_id=causation, tenant_id=TENANT,
                            actor_id=None, trace_id=trace_id, timestamp=when, retry_count=retry, event=NODE)
    except ValidationError:
        return  # a lone surrogate: not a Rust String, never an envelope
    assert env.to_json() == env.model_dump_json()
    assert env.to_json_dict() == env.model_dump(mode="json")
    assert list(env.to_json_dict()) == RUST_KEY_ORDER


def test_envelope_event_is_the_same_form_parse_event_reads() -> None:
    env = _envelope(OrderPlaced(order_id=uuid.uuid4(), total=10000, currency="USD"))
    assert parse_event(env.to_json_dict()["event"]) == env.event


def test_rust_timestamps_with_nanoseconds_and_offsets_are_read() -> None:
    data = _envelope().to_json_dict()
    data["timestamp"] = "2026-02-13T11:13:00.123456789+03:00"
    env = EventEnvelope.from_json(data)
    # Python datetimes hold microseconds: the nanosecond digits are dropped.
    assert env.timestamp == datetime(2026, 2, 13, 8, 13, 0, 123456, tzinfo=UTC)


def test_event_type_is_not_cross_checked_like_serde() -> None:
    data = _envelope().to_json_dict()
    data["event_type"] = "something.else"
    assert EventEnvelope.from_json(data).event_type == "something.else"


def test_missing_optional_fields_read_as_none() -> None:
    data = _envelope().to_json_dict()
    for key in ("causation_id", "actor_id", "trace_id"):
        del data[key]
    env = EventEnvelope.from_json(data)
    assert env.causation_id is None and env.actor_id is None and env.trace_id is None


# --------------------------------------------------------------------------------------------
# Malformed envelopes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["id", "event_type", "schema_version", "correlation_id", "tenant_id",
                                 "timestamp", "retry_count", "event"])
def test_missing_required_field_is_named(key: str) -> None:
    data = _envelope().to_json_dict()
    del data[key]
    error = _format_error(data)
    assert error.field == key and "Field required" in str(error)


@pytest.mark.parametrize(("key", "value"), [
    ("id", "not-a-uuid"), ("tenant_id", 5), ("schema_version", -1), ("schema_version", 2**16),
    ("retry_count", -1), ("retry_count", 1.0), ("retry_count", 2**32), ("trace_id", 5),
    ("timestamp", "2026-02-13T08:13:00"), ("timestamp", 1_770_000_000), ("timestamp", "yesterday"),
])
def test_wrong_value_is_named(key: str, value: Any) -> None:
    data = _envelope().to_json_dict()
    data[key] = value
    assert _format_error(data).field == key
    assert _format_error(json.dumps(data)).field == key


def test_bad_event_field_is_named_with_its_path() -> None:
    data = _envelope().to_json_dict()
    data["event"]["data"]["kind"] = 5
    assert _format_error(data).field == "event.data.kind"


def test_unknown_event_variant_is_named() -> None:
    data = _envelope().to_json_dict()
    data["event"] = {"type": "Nope", "data": {}}
    error = _format_error(data)
    assert error.field == "event.type" and "unknown event variant 'Nope'" in str(error)


@pytest.mark.parametrize("obj", ["{", b"\x00", "[]", 5, None])
def test_not_an_envelope_at_all(obj: Any) -> None:
    error = _format_error(obj)
    assert error.field is None and str(error).startswith("malformed EventEnvelope")


# --------------------------------------------------------------------------------------------
# Defects of Python's JSON reader that serde_json does not have (issue 7, section 8)
# --------------------------------------------------------------------------------------------


def _with_repeated(text: str, key: str, value: str) -> str:
    """`text` (one JSON object) with `"key": value` added at its start, repeating `key`."""
    return "{" + f'"{key}":{value},' + text[1:]


def test_tenant_id_given_twice_is_a_format_error_naming_it() -> None:
    text = _envelope().to_json()
    error = _format_error(_with_repeated(text, "tenant_id", f'"{ACTOR}"'))
    assert error.field == "tenant_id" and "duplicate field `tenant_id`" in str(error)
    assert _format_error(_with_repeated(text, "tenant_id", f'"{ACTOR}"').encode()).field == "tenant_id"


def test_event_type_tag_given_twice_inside_an_envelope_is_named_with_its_path() -> None:
    data = _envelope().to_json_dict()
    event_text = '{"type":"NodeUpdated",' + json.dumps(data["event"])[1:]
    text = _envelope().to_json().replace(json.dumps(data["event"], separators=(",", ":")), event_text)
    assert event_text in text
    error = _format_error(text)
    assert error.field == "event.type" and "duplicate field `type`" in str(error)


def test_a_repeated_unknown_key_is_ignored_like_serde_does() -> None:
    env = _envelope()
    text = _with_repeated(_with_repeated(env.to_json(), "extra", "1"), "extra", "2")
    assert EventEnvelope.from_json(text) == env


@pytest.mark.parametrize("depth", [128, 129, 5_000, 200_000])
def test_nesting_past_serde_jsons_limit_is_a_format_error_not_a_crash(depth: int) -> None:
    text = _with_repeated(_envelope().to_json(), "extra", "[" * (depth - 1) + "]" * (depth - 1))
    error = _format_error(text)
    assert error.field is None and "recursion limit exceeded" in str(error)


def test_nesting_up_to_serde_jsons_limit_is_read() -> None:
    env = _envelope()
    assert EventEnvelope.from_json(_with_repeated(env.to_json(), "extra", "[" * 126 + "]" * 126)) == env


def test_deeply_nested_python_data_is_a_format_error_not_a_crash() -> None:
    data = _envelope().to_json_dict()
    deep: Any = "x"
    for _ in range(100_000):
        deep = {"type": "NodeCreated", "data": deep}
    data["event"] = deep
    assert isinstance(_format_error(data), EventFormatError)


@pytest.mark.parametrize("cls", ALL_VARIANTS, ids=lambda c: c.__name__)
def test_to_json_of_every_variant_is_byte_equal_to_pydantics_dump(cls: type[DomainEventBase]) -> None:
    env = EventEnvelope.new(TENANT, uuid.UUID(int=3), _sample_event(cls), ids=IdGenerator(ManualClock(1.5), 4))
    assert env.to_json() == env.model_dump_json()
    assert env.to_json_dict() == env.model_dump(mode="json")


def test_id_text_is_the_ids_text_and_is_not_a_field() -> None:
    env = EventEnvelope.new(TENANT, None, NODE, ids=IdGenerator(ManualClock(1.0), 4))
    assert env.id_text == str(env.id) and env.id_text is env.id_text  # computed once
    parsed = EventEnvelope.from_json(env.to_json())
    assert parsed.id_text == str(env.id) and parsed == env
    assert "_id_text" not in env.model_dump() and "id_text" not in env.model_dump()
    changed = env.model_copy(update={"id": uuid.UUID(int=77)})
    assert changed.id_text == str(uuid.UUID(int=77))  # a copy computes its own
