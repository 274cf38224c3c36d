"""The event envelope: what the bus carries and the outbox stores (spec §3.1, Rust `EventEnvelope`).

An envelope wraps one `DomainEvent` with its id, tenant, actor, correlation data and timestamp.
`EventEnvelope.new` fills them like Rust's `EventEnvelope::new`; ids and time come from an injected
`IdGenerator` (and optionally an explicit `now`) so that a scenario is reproducible.

The JSON form is serde's: the envelope's fields in Rust order, `event` in the adjacently tagged
form `{"type": "<Variant>", "data": {...}}`, the timestamp as chrono writes it (RFC 3339 in UTC,
"...Z", with 0, 3 or 6 fraction digits), None as null. It is what the outbox's `payload` column
holds.

Envelopes are frozen: one envelope object is shared by every subscriber here, where Rust hands
each receiver its own clone, so a handler must not be able to change what the others see. Use
`model_copy(update=...)` to derive a changed one.

Where validation happens. Data that crosses a boundary is validated in full: `from_json` (the
outbox payload, a trace, a user's file) and the keyword constructor ``EventEnvelope(**fields)``.
`new` is the hot path of a simulation (one envelope per simulated event): its inputs are the
model's own objects, so it checks only their types (a clear `TypeError` at the call) and builds
the frozen model without re-running pydantic over values it already knows are well-formed
(an id from `IdGenerator`, a UTC timestamp, an event that is a validated `DomainEventBase`).
`to_json` / `to_json_dict` write serde's form directly (the event part by pydantic); a property
test holds them byte-equal to pydantic's own dump.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from json.encoder import encode_basestring  # C-accelerated
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError

from rustok_sim.model.events.domain import (
    DomainEvent,
    DomainEventBase,
    EventFormatError,
    String,
    Uuid,
    duplicate_event_field,
    event_json,
    format_errors,
    serde_json_problem,
)
from rustok_sim.model.events.ids import IdGenerator

U16 = Annotated[int, Field(strict=True, ge=0, le=2**16 - 1)]
U32 = Annotated[int, Field(strict=True, ge=0, le=2**32 - 1)]


# The shape chrono's (relaxed) RFC 3339 parser reads: date, 'T'/'t'/' ', time with seconds, an
# optional fraction, an offset. The offset is optional here only so that a naive time reaches
# `_as_utc` and gets its own message.
_RFC3339_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
                           r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?")


def _datetime_or_text(value: Any) -> Any:
    # chrono's DateTime<Utc> reads only RFC 3339 text; pydantic would also take Unix numbers, as
    # numbers or as numeric text ("1770000000"), and times without seconds ("2026-02-13T08:13Z").
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        if _RFC3339_TEXT.fullmatch(value):
            return value
        raise ValueError(f"expected an RFC 3339 timestamp such as '2026-02-13T08:13:00Z', got {value!r}")
    raise ValueError(f"expected an RFC 3339 timestamp string, got {type(value).__name__}")


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a UTC offset (e.g. '2026-02-13T08:13:00Z'); "
                         "a naive time is ambiguous")
    return value.astimezone(UTC)


def _chrono_rfc3339(value: datetime) -> str:
    # chrono serialises a DateTime<Utc> with SecondsFormat::AutoSi and 'Z': no fraction for a whole
    # second, else the fewest of 3, 6 or 9 digits that is exact ("...:00.123Z", not pydantic's
    # "...:00.123000Z"). Python holds microseconds, so 9 digits never occur here. Built on
    # isoformat (C) because every envelope written to JSON formats one.
    if value.tzinfo is not UTC:  # every envelope's timestamp is UTC already: skip the offset call
        offset = value.utcoffset()
        if offset is None:
            value = value.replace(tzinfo=UTC)
        elif offset:
            value = value.astimezone(UTC)
    text = value.isoformat()  # "...+00:00"; isoformat omits a zero fraction itself
    micros = value.microsecond
    if micros and not micros % 1000:
        return text[:-9] + "Z"  # whole milliseconds: 3 digits
    return text[:-6] + "Z"


_UUID_TEXT: dict[uuid.UUID, str] = {}


def uuid_text(value: uuid.UUID) -> str:
    """``str(value)``, memoised for the few ids that recur in every envelope (tenants, actors):
    a dict hit costs a third of formatting a UUID. Bounded: cleared past 4096 entries."""
    text = _UUID_TEXT.get(value)
    if text is None:
        if len(_UUID_TEXT) >= 4096:
            _UUID_TEXT.clear()
        text = _UUID_TEXT[value] = str(value)
    return text


UtcDateTime = Annotated[datetime, BeforeValidator(_datetime_or_text), AfterValidator(_as_utc),
                        PlainSerializer(_chrono_rfc3339, return_type=str, when_used="json")]
"""Rust `DateTime<Utc>`: an aware datetime, normalised to UTC; in JSON, chrono's RFC 3339 text."""


class EventEnvelope(BaseModel):
    """One domain event with its metadata (Rust `EventEnvelope`).

    Fields, in Rust order: `id` (ULID as UUID), `event_type` (the event's dotted type),
    `schema_version` (the event's, always 1 today), `correlation_id` (= id for a new envelope),
    `causation_id` (None for a new envelope), `tenant_id`, `actor_id` (optional), `trace_id`
    (the tracing span id as decimal text, or None), `timestamp` (UTC), `retry_count` (always 0:
    nothing in RusToK changes it; retries are counted on the outbox row), `event`.
    Deserialising does not check that `event_type` matches `event` (serde does not either).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
    # Not a field: the id's text, computed on first use (`id_text`) and kept. A slot, so pydantic
    # neither validates, dumps, compares nor copies it (a `model_copy` computes its own).
    __slots__ = ("_id_text",)

    id: Uuid
    event_type: String
    schema_version: U16
    correlation_id: Uuid
    causation_id: Uuid | None = None
    tenant_id: Uuid
    actor_id: Uuid | None = None
    trace_id: String | None = None
    timestamp: UtcDateTime
    retry_count: U32
    event: DomainEvent

    @classmethod
    def new(cls, tenant_id: uuid.UUID, actor_id: uuid.UUID | None, event: DomainEventBase, *,
            ids: IdGenerator, now: datetime | None = None,
            trace_id: str | None = None) -> EventEnvelope:
        """Wrap `event` like Rust's `EventEnvelope::new(tenant, actor, event)`.

        The id comes from `ids` (required: ids reach the trace, so the driver passes a seeded
        generator). The timestamp is `now` if given (an aware datetime, normalised to UTC), else
        the time of the generator's clock. The event is not validated (Rust does not either;
        `TransactionalEventBus` validates first). Wrong argument types raise `TypeError`.
        """
        if not isinstance(event, DomainEventBase):
            raise TypeError(f"EventEnvelope.new: event must be a DomainEvent variant (e.g. NodeCreated), "
                            f"got {type(event).__name__}")
        if not isinstance(tenant_id, uuid.UUID):
            raise TypeError(f"EventEnvelope.new: tenant_id must be a uuid.UUID, got {type(tenant_id).__name__}")
        if actor_id is not None and not isinstance(actor_id, uuid.UUID):
            raise TypeError(f"EventEnvelope.new: actor_id must be a uuid.UUID or None, "
                            f"got {type(actor_id).__name__}")
        if not isinstance(ids, IdGenerator):
            raise TypeError(f"EventEnvelope.new needs ids= an IdGenerator(clock, seed), got {type(ids).__name__}")
        if trace_id is not None:
            if not isinstance(trace_id, str):
                raise TypeError(f"EventEnvelope.new: trace_id must be a str or None, got {type(trace_id).__name__}")
            _reject_lone_surrogates("trace_id", trace_id)
        if now is None:
            event_id, timestamp = ids.stamp()
        elif isinstance(now, datetime):
            event_id = ids.new_id()
            if now.tzinfo is None or now.utcoffset() is None:
                raise ValueError("EventEnvelope.new: now= must carry a UTC offset (e.g. tzinfo=UTC); "
                                 "a naive time is ambiguous")
            timestamp = now.astimezone(UTC)
        else:
            raise TypeError(f"EventEnvelope.new: now= must be an aware datetime or None, got {type(now).__name__}")
        envelope = _new_model(cls)
        _set(envelope, "__dict__", {
            "id": event_id, "event_type": event.event_type, "schema_version": event.schema_version,
            "correlation_id": event_id, "causation_id": None, "tenant_id": tenant_id,
            "actor_id": actor_id, "trace_id": trace_id, "timestamp": timestamp, "retry_count": 0,
            "event": event,
        })
        # Every field is set (as the keyword constructor would record). One shared set is safe:
        # pydantic copies it before changing it (model_copy) and a frozen model never adds to it.
        _set(envelope, "__pydantic_fields_set__", _ALL_FIELDS_SET)
        _set(envelope, "__pydantic_extra__", None)
        _set(envelope, "__pydantic_private__", None)
        _set(envelope, "_id_text", None)  # set, so that `id_text` never misses into pydantic's __getattr__
        return envelope

    @property
    def id_text(self) -> str:
        """``str(self.id)``, computed once per envelope: trace records, instance names and the
        JSON form all need it, and formatting a UUID costs more than most of a dispatch."""
        text: str | None = getattr(self, "_id_text", None)
        if text is None:
            text = str(self.__dict__["id"])
            _set(self, "_id_text", text)
        return text

    def to_json_dict(self) -> dict[str, Any]:
        """The serde JSON form as plain Python data (the outbox `payload`)."""
        d = self.__dict__
        causation, actor = d["causation_id"], d["actor_id"]
        return {
            "id": self.id_text, "event_type": d["event_type"], "schema_version": d["schema_version"],
            "correlation_id": self.id_text if d["correlation_id"] is d["id"] else str(d["correlation_id"]),
            "causation_id": None if causation is None else str(causation),
            "tenant_id": uuid_text(d["tenant_id"]), "actor_id": None if actor is None else uuid_text(actor),
            "trace_id": d["trace_id"], "timestamp": _chrono_rfc3339(d["timestamp"]),
            "retry_count": d["retry_count"], "event": d["event"].to_json_dict(),
        }

    def to_json(self) -> str:
        """The serde JSON form as a compact string (serde_json's `to_string`)."""
        d = self.__dict__
        causation, actor, trace = d["causation_id"], d["actor_id"], d["trace_id"]
        event_id, correlation = d["id"], d["correlation_id"]
        id_text = self.id_text
        event = d["event"]
        causation_json = "null" if causation is None else f'"{causation}"'
        actor_json = "null" if actor is None else f'"{uuid_text(actor)}"'
        trace_json = "null" if trace is None else encode_basestring(trace)
        event_text = event_json(event)
        # One f-string (BUILD_STRING): ints are formatted inline, no str() calls, no tuple.
        return (f'{{"id":"{id_text}","event_type":{encode_basestring(d["event_type"])}'
                f',"schema_version":{d["schema_version"]:d}'
                f',"correlation_id":"{id_text if correlation is event_id else correlation}"'
                f',"causation_id":{causation_json},"tenant_id":"{uuid_text(d["tenant_id"])}"'
                f',"actor_id":{actor_json},"trace_id":{trace_json}'
                f',"timestamp":"{_chrono_rfc3339(d["timestamp"])}","retry_count":{d["retry_count"]:d}'
                f',"event":{event_text}}}')

    @classmethod
    def from_json(cls, obj: dict[str, Any] | str | bytes | bytearray) -> EventEnvelope:
        """Read an envelope from its JSON form (a dict, or JSON text as str or bytes).

        Raises `EventFormatError` naming the field ("tenant_id", "event.data.kind", ...): also
        for a field given twice and for nesting past serde_json's recursion limit (JSON text).
        """
        try:
            if isinstance(obj, (str, bytes, bytearray)):
                problem = serde_json_problem(obj, _duplicate_envelope_field)
                if problem is not None:
                    raise EventFormatError("EventEnvelope", [problem])
                return cls.model_validate_json(obj)
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise EventFormatError("EventEnvelope", format_errors(exc)) from None
        except RecursionError:
            raise EventFormatError("EventEnvelope", [{
                "field": None, "type": "recursion_limit_exceeded", "input": None,
                "message": "recursion limit exceeded: the value is nested too deeply"}]) from None


_ALL_FIELDS_SET = set(EventEnvelope.model_fields)
_new_model, _set = object.__new__, object.__setattr__


def _reject_lone_surrogates(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"EventEnvelope.new: {name} is not valid Unicode (it contains a lone surrogate); "
                         f"a Rust String is UTF-8") from None


def _duplicate_envelope_field(document: Any) -> str | None:
    if isinstance(document, dict) and hasattr(document, "repeated"):
        repeated = [key for key in document.repeated if key in EventEnvelope.model_fields]
        if repeated:
            return str(repeated[0])
    return duplicate_event_field(document.get("event"), "event") if isinstance(document, dict) else None
