"""Idempotent consumer: a CQRS read model fed by events, with an inbox so duplicates apply once.

The relay delivers at least once: a relay that publishes and dies before marking the row
dispatched, a faithful relay re-claiming a stale candidate, a dispatcher retry after a handler
timed out. The read model must therefore remember which events it has applied. This module is
the harness's reference consumer (RusToK at 02-13 has none); scenarios check against it that the
read model equals the committed writes.

Tables (their own `read_model_metadata`; a consumer ``name`` column lets several consumers share
one database):

- ``sys_event_inbox`` (consumer, event_id) primary key, applied_at: the inbox. An event id is
  applied by a consumer at most once because its inbox row is inserted in the same transaction as
  the projection change, and the primary key refuses a second one.
- ``read_model_events`` (consumer, event_id) primary key, tenant_id, event_type, occurred_at,
  applied_at: the projection, one row per applied event.
- ``read_model_counters`` (consumer, tenant_id, event_type) primary key, applied: a per-tenant,
  per-type counter. It is the part that a duplicate would visibly corrupt (counted twice).

``idempotent=False`` skips the inbox check and keys projection rows by a fresh sequence instead,
so that a scenario can show what duplicate delivery does without an inbox.

Use it as a dispatcher handler (`name`, `handles`, `handle`, `on_error`) or call `apply(envelope)`
directly. Database errors become `ExternalError` (a handler ``Err``, so the dispatcher retries).

State outside the table: the consumer has no transition table; its state is the three tables
above (what was applied, and the counters a duplicate would corrupt).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from rustok_sim.adapters.sql.db import UtcDateTime, clock_datetime, short_reason, watch_for_missing_tables
from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, require_observer
from rustok_sim.model.events.bus import ExternalError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope

COMPONENT = "read_model"

read_model_metadata = MetaData()

inbox = Table(
    "sys_event_inbox",
    read_model_metadata,
    Column("consumer", String(128), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("consumer", "event_id", name="pk_sys_event_inbox"),
)

read_model_events = Table(
    "read_model_events",
    read_model_metadata,
    Column("consumer", String(128), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("delivery", Integer, nullable=False, default=0),  # >0 only without the inbox
    Column("tenant_id", Uuid, nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("consumer", "event_id", "delivery", name="pk_read_model_events"),
)

read_model_counters = Table(
    "read_model_counters",
    read_model_metadata,
    Column("consumer", String(128), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("applied", Integer, nullable=False),
    PrimaryKeyConstraint("consumer", "tenant_id", "event_type", name="pk_read_model_counters"),
)


def create_read_model_schema(engine: Engine) -> None:
    """Create the inbox and projection tables if they do not exist."""
    read_model_metadata.create_all(engine, checkfirst=True)


class ReadModelConsumer:
    """Applies envelopes to the read model, each event id at most once (with the inbox).

    `apply(envelope)` returns True if it changed the read model, False for a duplicate.
    Observer records: ``event`` ``applied`` / ``duplicate``.
    """

    __slots__ = ("engine", "name", "clock", "epoch", "observer", "predicate", "idempotent",
                 "applied", "duplicates", "_deliveries")

    def __init__(self, engine: Engine, *, clock: Clock, name: str = COMPONENT, epoch: float = 0.0,
                 predicate: Callable[[Any], bool] | None = None, idempotent: bool = True,
                 observer: Observer | None = None) -> None:
        if not isinstance(engine, Engine):
            raise TypeError(f"ReadModelConsumer needs a SQLAlchemy Engine (make_engine(...)), got {given(engine)}")
        self.engine = watch_for_missing_tables(engine)
        self.name = require_name(name, "ReadModelConsumer")
        self.clock = require_clock(clock, "ReadModelConsumer")
        self.epoch = epoch
        self.observer = require_observer(observer, f"ReadModelConsumer {name!r}")
        self.predicate = predicate
        self.idempotent = idempotent
        self.applied = 0
        self.duplicates = 0
        self._deliveries = 0

    def create_schema(self) -> None:
        create_read_model_schema(self.engine)

    # -- EventHandler --------------------------------------------------------------------

    def handles(self, event: Any) -> bool:
        return True if self.predicate is None else bool(self.predicate(event))

    def handle(self, envelope: EventEnvelope) -> None:
        self.apply(envelope)

    def on_error(self, envelope: EventEnvelope, error: BaseException) -> None:
        return None

    # -- applying ------------------------------------------------------------------------

    def apply(self, envelope: EventEnvelope) -> bool:
        """Apply one delivery in one transaction; True if applied, False if a duplicate."""
        now = clock_datetime(self.clock, self.epoch)
        try:
            applied = self._apply(envelope, now)
        except IntegrityError:
            # A concurrent consumer inserted the same inbox row first: that one applied it.
            applied = False
        except SQLAlchemyError as exc:
            raise ExternalError(f"read model {self.name}: {short_reason(exc)}") from None
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
        if self.observer is not None:
            self.observer.event(COMPONENT, self.name, "applied" if applied else "duplicate",
                                str(envelope.id), envelope.event_type, str(envelope.tenant_id))
        return applied

    def _apply(self, envelope: EventEnvelope, now: Any) -> bool:
        with self.engine.begin() as conn:
            delivery = 0
            if self.idempotent:
                seen = conn.execute(select(inbox.c.event_id).where(
                    inbox.c.consumer == self.name, inbox.c.event_id == envelope.id)).first()
                if seen is not None:
                    return False
                conn.execute(insert(inbox).values(consumer=self.name, event_id=envelope.id, applied_at=now))
            else:
                self._deliveries += 1
                delivery = self._deliveries
            conn.execute(insert(read_model_events).values(
                consumer=self.name, event_id=envelope.id, delivery=delivery, tenant_id=envelope.tenant_id,
                event_type=envelope.event_type, occurred_at=envelope.timestamp, applied_at=now))
            key = _counter_key(self.name, envelope.tenant_id, envelope.event_type)
            bumped = conn.execute(update(read_model_counters).where(*key).values(
                applied=read_model_counters.c.applied + 1))
            if bumped.rowcount == 0:
                conn.execute(insert(read_model_counters).values(
                    consumer=self.name, tenant_id=envelope.tenant_id, event_type=envelope.event_type,
                    applied=1))
        return True

    # -- reading -------------------------------------------------------------------------

    def applied_event_ids(self) -> list[uuid.UUID]:
        """Ids in the projection, one entry per application (so a duplicate shows twice when
        the consumer is not idempotent), ordered by id."""
        c = read_model_events.c
        with self.engine.connect() as conn:
            return list(conn.execute(select(c.event_id).where(c.consumer == self.name)
                                     .order_by(c.event_id, c.delivery)).scalars())

    def counters(self) -> dict[tuple[uuid.UUID, str], int]:
        """(tenant_id, event_type) -> number of applications."""
        c = read_model_counters.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.tenant_id, c.event_type, c.applied).where(c.consumer == self.name))
            return {(row.tenant_id, row.event_type): row.applied for row in rows}

    def total_applied(self) -> int:
        c = read_model_counters.c
        with self.engine.connect() as conn:
            total = conn.execute(select(func.coalesce(func.sum(c.applied), 0)).where(c.consumer == self.name))
            return int(total.scalar_one())

    def __repr__(self) -> str:
        return f"ReadModelConsumer({self.name!r}, applied={self.applied}, duplicates={self.duplicates})"


def _counter_key(consumer: str, tenant_id: uuid.UUID, event_type: str) -> tuple[Any, ...]:
    c = read_model_counters.c
    return (c.consumer == consumer, c.tenant_id == tenant_id, c.event_type == event_type)
