"""TransactionalEventBus (`rustok-outbox/src/transactional.rs`, spec §3.4).

Validates a domain event, wraps it in an envelope and hands it to one `EventTransport`:

- an `OutboxTransport` (`rustok_sim.model.events.outbox`, over any `OutboxStore`; the SQL one is
  `rustok_sim.adapters.sql.outbox.OutboxTransport`) gets the envelope **inside the caller's
  transaction** (`publish_in_tx` writes the row through the caller's executor: a transaction
  from ``store.begin()``, or for the SQL store a Session / Connection), so a rollback discards it
  and a commit persists it as ``pending`` for the relay;
- any other transport (memory, streaming) cannot take part in the transaction, so Rust logs a
  warn and publishes **immediately**. The event is then out before the transaction's outcome
  is known and a rollback does not retract it: the leak is kept, and reported as a ``decision``
  ``published_outside_tx`` so a scenario can count leaked events.

Validation failure raises `ValidationError` whose text is
``Validation error: Event validation failed: <EventValidationError text>``; nothing is written or
published. `publish` (no transaction) validates the same way and calls `transport.publish`.

State outside the table: none; the bus is stateless between calls (it has no transition table).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.trace import Observer, require_observer
from rustok_sim.model.events.bus import EventTransport, ValidationError, require_transport
from rustok_sim.model.events.domain import DomainEventBase
from rustok_sim.model.events.outbox import OutboxTransport
from rustok_sim.model.events.validation import EventValidationError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope
    from rustok_sim.model.events.ids import IdGenerator

COMPONENT = "transactional_bus"


class EventPublishValidationError(ValidationError):
    """`Error::Validation("Event validation failed: ...")`; `cause` is the `EventValidationError`
    (with its `kind` and `field`)."""

    def __init__(self, cause: EventValidationError) -> None:
        self.cause = cause
        super().__init__(f"Event validation failed: {cause}")


class TransactionalEventBus:
    """Validate, build the envelope (ids and timestamp from `ids`), then write or publish.

    Both methods return the envelope they built (Rust returns `()`; tests and scenarios need the
    id). Observer records: ``decision`` ``rejected`` (validation), ``event`` ``written_in_tx`` /
    ``published`` and ``decision`` ``published_outside_tx`` for the non-outbox leak.
    """

    __slots__ = ("transport", "ids", "observer", "name")

    def __init__(self, transport: EventTransport, *, ids: IdGenerator,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        transport = require_transport(transport, "TransactionalEventBus")
        if not callable(getattr(ids, "new_id", None)):
            raise TypeError(f"TransactionalEventBus needs ids= a seeded IdGenerator (envelope ids reach the "
                            f"trace), got {type(ids).__name__}")
        self.transport = transport
        self.ids = ids
        self.name = require_name(name, "TransactionalEventBus")
        self.observer = require_observer(observer, f"TransactionalEventBus {name!r}")

    def _validated_envelope(self, tenant_id: uuid.UUID, actor_id: uuid.UUID | None,
                            event: Any) -> EventEnvelope:
        from rustok_sim.model.events.envelope import EventEnvelope

        if not isinstance(event, DomainEventBase):
            raise TypeError(f"TransactionalEventBus: event must be a DomainEvent model (e.g. NodeCreated(...)), "
                            f"got {given(event, DomainEventBase)}; a dict or JSON text becomes one with "
                            f"parse_event(data)")
        try:
            event.validate()
        except EventValidationError as exc:
            if self.observer is not None:
                self.observer.decision(COMPONENT, self.name, "rejected", "validation",
                                       {"event_type": event.event_type, "kind": str(exc.kind),
                                        "field": exc.field, "error": str(exc)})
            raise EventPublishValidationError(exc) from None
        return EventEnvelope.new(tenant_id, actor_id, event, ids=self.ids)

    def publish_in_tx(self, executor: Any, tenant_id: uuid.UUID, actor_id: uuid.UUID | None,
                      event: Any) -> EventEnvelope:
        """Publish as part of the caller's transaction (`executor`: what the outbox's store takes,
        e.g. a transaction from ``store.begin()`` or a SQLAlchemy Session / Connection with a
        transaction open). Outbox: the row is written through `executor`. Other transports:
        published now, whatever the transaction later does."""
        envelope = self._validated_envelope(tenant_id, actor_id, event)
        transport = self.transport
        if isinstance(transport, OutboxTransport):  # Rust: as_any().downcast_ref::<OutboxTransport>()
            transport.write_to_outbox(executor, envelope)
            if self.observer is not None:
                self.observer.event(COMPONENT, self.name, "written_in_tx", str(envelope.id),
                                    envelope.event_type, str(envelope.tenant_id))
            return envelope
        # "EventTransport doesn't support transactional writes. Event may be lost if transaction fails."
        if self.observer is not None:
            self.observer.decision(COMPONENT, self.name, "published_outside_tx", "non_transactional_transport",
                                   {"event_id": str(envelope.id), "event_type": envelope.event_type,
                                    "transport": type(transport).__name__})
        transport.publish(envelope)
        if self.observer is not None:
            self.observer.event(COMPONENT, self.name, "published", str(envelope.id),
                                envelope.event_type, str(envelope.tenant_id))
        return envelope

    def publish(self, tenant_id: uuid.UUID, actor_id: uuid.UUID | None, event: Any) -> EventEnvelope:
        """Validate and publish through the transport, outside any caller transaction."""
        envelope = self._validated_envelope(tenant_id, actor_id, event)
        self.transport.publish(envelope)
        if self.observer is not None:
            self.observer.event(COMPONENT, self.name, "published", str(envelope.id),
                                envelope.event_type, str(envelope.tenant_id))
        return envelope

    def __repr__(self) -> str:
        return f"TransactionalEventBus({self.transport!r})"
