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
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError
from rustok_sim.model.events.domain import DomainEvent, DomainEventBase, EventFormatError, String, Uuid, format_errors
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
    # "...:00.123000Z"). Python holds microseconds, so 9 digits never occur here.
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
            f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    micros = value.microsecond
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + "Z"


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
        generator). The timestamp is `now` if given, else the time of the generator's clock. The
        event is not validated (Rust does not either; `TransactionalEventBus` validates first).
        """
        generator = ids
        event_id = generator.new_id()
        if now is None:
            now = generator.now()
        return cls(
            id=event_id,
            event_type=event.event_type,
            schema_version=event.schema_version,
            correlation_id=event_id,
            causation_id=None,
            tenant_id=tenant_id,
            actor_id=actor_id,
            trace_id=trace_id,
            timestamp=now,
            retry_count=0,
            event=event,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The serde JSON form as plain Python data (the outbox `payload`)."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """The serde JSON form as a compact string."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, obj: dict[str, Any] | str | bytes | bytearray) -> EventEnvelope:
        """Read an envelope from its JSON form (a dict, or JSON text as str or bytes).

        Raises `EventFormatError` naming the field ("tenant_id", "event.data.kind", ...).
        """
        try:
            if isinstance(obj, (str, bytes, bytearray)):
                return cls.model_validate_json(obj)
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise EventFormatError("EventEnvelope", format_errors(exc)) from None
