"""The transactional outbox: the `sys_events` table and `OutboxTransport` (spec §3.5, rustok-outbox).

A row per event, written in the caller's transaction so that it exists if and only if the
business change commits. ``payload`` is the whole serialized `EventEnvelope`; there is no
tenant column (the tenant is only inside the payload). Columns, types, nullability and the two
indexes are the migration's (`SysEventsMigration`, created IF NOT EXISTS):

==================  =================  =====  ==========================================
column              type               null   notes
==================  =================  =====  ==========================================
id                  uuid, PK           no     = envelope.id
event_type          varchar(255)       no
schema_version      smallint           no
payload             jsonb              no     the serialized envelope
status              varchar(32)        no     pending / dispatched / failed
retry_count         integer            no     default 0
next_attempt_at     timestamptz        yes
last_error          varchar(2048)      yes
claimed_by          varchar(128)       yes    relay worker id
claimed_at          timestamptz        yes
created_at          timestamptz        no
dispatched_at       timestamptz        yes
==================  =================  =====  ==========================================

Inserts (both `write_to_outbox` and `OutboxTransport.publish`): status pending, retry 0, every
nullable column NULL, ``created_at = now`` where now is the injected clock (see `rustok_sim.adapters.sql.db`).
No RETURNING (the 02-18 SQLite fix).
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import TYPE_CHECKING, Any

from rustok_sim.adapters.sql.db import JsonPayload, UtcDateTime, clock_datetime
from rustok_sim.model.core.clock import Clock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.events.bus import NotFoundError, ReliabilityLevel, publish_batch_sequential
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope

COMPONENT = "outbox"
LAST_ERROR_MAX = 2048
WORKER_ID_MAX = 128


class SysEventStatus(str, Enum):
    """`SysEventStatus`: the row's lifecycle. pending -> dispatched, or pending -> failed (DLQ)."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    FAILED = "failed"


metadata = MetaData()
"""The outbox's tables. Schema-less: map them into a schema with ``schema_translate_map``."""

sys_events = Table(
    "sys_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("event_type", String(255), nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("payload", JsonPayload, nullable=False),
    Column("status", String(32), nullable=False),
    Column("retry_count", Integer, nullable=False, default=0, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("last_error", String(LAST_ERROR_MAX), nullable=True),
    Column("claimed_by", String(WORKER_ID_MAX), nullable=True),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=True),
    Index("idx_sys_events_pending_next_attempt", "status", "next_attempt_at"),
    Index("idx_sys_events_claimed_at", "claimed_at"),
)


def create_outbox_schema(engine: Engine | Connection) -> None:
    """`SysEventsMigration.up`: create the table and indexes if they do not exist."""
    metadata.create_all(engine, checkfirst=True)


Executor = Session | Connection
"""Where an outbox write goes: the caller's ORM session or Core connection, inside its transaction."""


def outbox_row(envelope: EventEnvelope, now: Any) -> dict[str, Any]:
    """The values `write_to_outbox` inserts for `envelope` at time `now` (aware UTC datetime)."""
    return {
        "id": envelope.id,
        "event_type": envelope.event_type,
        "schema_version": envelope.schema_version,
        "payload": envelope.to_json_dict(),
        "status": SysEventStatus.PENDING.value,
        "retry_count": 0,
        "next_attempt_at": None,
        "last_error": None,
        "claimed_by": None,
        "claimed_at": None,
        "created_at": now,
        "dispatched_at": None,
    }


class OutboxTransport:
    """`OutboxTransport`: an `EventTransport` (reliability Outbox) that writes `sys_events` rows.

    `write_to_outbox(executor, envelope)` inserts through the caller's session or connection, so
    the row commits or rolls back with the caller's transaction. `publish(envelope)` (no caller
    transaction) inserts in a transaction of its own. `acknowledge(id)` marks a row dispatched.
    Times come from `clock` (+ `epoch` seconds, see `rustok_sim.adapters.sql.db.clock_datetime`).

    Reports ``event`` ``written`` (per insert; the row only becomes real if the caller commits)
    and ``acknowledged``.
    """

    __slots__ = ("engine", "clock", "epoch", "observer", "name")

    def __init__(self, engine: Engine, *, clock: Clock, epoch: float = 0.0,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        self.engine = engine
        self.clock = clock
        self.epoch = epoch
        self.observer = observer
        self.name = name

    def now(self) -> Any:
        return clock_datetime(self.clock, self.epoch)

    def create_schema(self) -> None:
        create_outbox_schema(self.engine)

    def write_to_outbox(self, executor: Executor, envelope: EventEnvelope) -> None:
        """Insert the envelope's row through `executor` (its transaction decides its fate)."""
        executor.execute(insert(sys_events).values(**outbox_row(envelope, self.now())))
        if self.observer is not None:
            self.observer.event(COMPONENT, self.name, "written", str(envelope.id), envelope.event_type,
                                str(envelope.tenant_id))

    # -- EventTransport ------------------------------------------------------------------

    def publish(self, envelope: EventEnvelope) -> None:
        with self.engine.begin() as conn:
            self.write_to_outbox(conn, envelope)

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None:
        publish_batch_sequential(self, envelopes)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        """Mark a row dispatched now and clear its claim and last error; `NotFoundError`
        ("Not found: sys_event <id>") if there is no such row."""
        now = self.now()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(sys_events).where(sys_events.c.id == event_id).values(
                    status=SysEventStatus.DISPATCHED.value, dispatched_at=now,
                    claimed_by=None, claimed_at=None, last_error=None))
            if result.rowcount == 0:
                raise NotFoundError(f"sys_event {event_id}")
        if self.observer is not None:
            self.observer.event(COMPONENT, self.name, "acknowledged", str(event_id), "", None)

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.OUTBOX

    def __repr__(self) -> str:
        return f"OutboxTransport({self.engine.url.render_as_string(hide_password=True)!r})"


# --------------------------------------------------------------------------------------------
# Reading the table (tests, scenarios, reports)
# --------------------------------------------------------------------------------------------


def count_rows(engine: Engine | Connection, status: SysEventStatus | str | None = None) -> int:
    """Rows in `sys_events`, optionally only those with `status`."""
    query = select(func.count()).select_from(sys_events)
    if status is not None:
        query = query.where(sys_events.c.status == SysEventStatus(status).value)
    if isinstance(engine, Connection):
        return int(engine.execute(query).scalar_one())
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def fetch_rows(engine: Engine, *ids: uuid.UUID) -> list[dict[str, Any]]:
    """All rows (or those with `ids`) as dicts, ordered by created_at then id."""
    query = select(sys_events).order_by(sys_events.c.created_at, sys_events.c.id)
    if ids:
        query = query.where(sys_events.c.id.in_(ids))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def fetch_row(engine: Engine, event_id: uuid.UUID) -> dict[str, Any]:
    """One row as a dict; `NotFoundError` if missing."""
    rows = fetch_rows(engine, event_id)
    if not rows:
        raise NotFoundError(f"sys_event {event_id}")
    return rows[0]
