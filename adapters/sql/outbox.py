"""The transactional outbox in SQL: the `sys_events` table, `SqlOutboxStore` and `OutboxTransport`
(spec §3.5, rustok-outbox).

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
nullable column NULL, ``created_at = now`` where now is the injected clock (see
`rustok_sim.adapters.sql.db`). No RETURNING (the 02-18 SQLite fix).

`SqlOutboxStore` is the model's `OutboxStore` (`rustok_sim.model.events.outbox`) in SQL: the
relay's policy (`rustok_sim.model.events.relay.ClaimRequest`) becomes WHERE clauses, and a claim
stays atomic in the database:

- PostgreSQL: Rust's shape, one READ COMMITTED transaction: candidate SELECT (hardened: ``FOR
  UPDATE SKIP LOCKED``), the claiming UPDATE, the re-select.
- SQLite: the candidate SELECT is a read of its own, then the UPDATE and the re-select run in one
  write transaction (``BEGIN IMMEDIATE``). That is what READ COMMITTED gives on PostgreSQL (each
  statement sees what committed before it), so the faithful stale-candidate race and the hardened
  recheck behave as there; holding SQLite's single write lock across the SELECT would instead
  make a concurrent relay wait (or fail) where PostgreSQL lets it run. SQLite has no row locks,
  so a hardened claim's ``SKIP LOCKED`` is emulated for relays in this process on the same
  engine: its candidates are skipped by their claims until its UPDATE has run (relays in other
  processes rely on the recheck alone, which still never double-claims).

Row times are the model's virtual microseconds, stored as ``epoch + t`` (`micros_datetime`).

State outside the table: the rows' moves are the relay's ``sys_event`` table (fired by the model
relay and transport, not here); this module stores what those moves write. The only state of its
own is the process-local set of candidates held by hardened claims (the SKIP LOCKED emulation).
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rustok_sim.adapters.sql.db import (
    JsonPayload,
    UtcDateTime,
    datetime_micros,
    micros_datetime,
    watch_for_missing_tables,
)
from rustok_sim.model.core.clock import Clock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.events import outbox as model_outbox
from rustok_sim.model.events.bus import NotFoundError
from rustok_sim.model.events.outbox import (
    LAST_ERROR_MAX,
    NO_CLAIM,
    WORKER_ID_MAX,
    ClaimedEvent,
    ClaimResult,
    OutboxDuplicateIdError,
    OutboxRow,
    OutboxTransactionError,
    SysEventStatus,
    row_state,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope
    from rustok_sim.model.events.relay import ClaimRequest

COMPONENT = model_outbox.COMPONENT
_PENDING, _DISPATCHED, _FAILED = (SysEventStatus.PENDING.value, SysEventStatus.DISPATCHED.value,
                                  SysEventStatus.FAILED.value)
__all__ = ["COMPONENT", "LAST_ERROR_MAX", "WORKER_ID_MAX", "SysEventStatus", "metadata", "sys_events",
           "create_outbox_schema", "Executor", "outbox_row", "SqlOutboxStore", "SqlOutboxTransaction",
           "OutboxTransport", "count_rows", "fetch_rows", "fetch_row"]


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
"""Where an outbox write goes: the caller's ORM session or Core connection, inside its transaction
(or a `SqlOutboxTransaction` from `SqlOutboxStore.begin()`)."""


def outbox_row(envelope: EventEnvelope, now: Any) -> dict[str, Any]:
    """The values `write_to_outbox` inserts for `envelope` at time `now` (aware UTC datetime)."""
    return {
        "id": envelope.id,
        "event_type": envelope.event_type,
        "schema_version": envelope.schema_version,
        "payload": envelope.to_json_dict(),
        "status": _PENDING,
        "retry_count": 0,
        "next_attempt_at": None,
        "last_error": None,
        "claimed_by": None,
        "claimed_at": None,
        "created_at": now,
        "dispatched_at": None,
    }


# Candidates held by hardened claims between their SELECT and UPDATE, per connection pool (an
# engine and its execution_options copies share one), for the SKIP LOCKED emulation on SQLite.
_held_candidates: weakref.WeakKeyDictionary[Any, set[uuid.UUID]] = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


class SqlOutboxTransaction:
    """A transaction of `SqlOutboxStore.begin()`: a connection with its transaction open. Commits
    on a clean ``with`` exit, rolls back on an exception."""

    __slots__ = ("connection", "_transaction")

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect()
        try:
            self._transaction = self.connection.begin()
        except BaseException:
            self.connection.close()
            raise

    def commit(self) -> None:
        self._end(commit=True)

    def rollback(self) -> None:
        self._end(commit=False)

    def _end(self, commit: bool) -> None:
        if self.connection.closed:
            raise OutboxTransactionError("outbox transaction already ended (committed or rolled back)")
        try:
            if commit:
                self._transaction.commit()
            else:
                self._transaction.rollback()
        finally:
            self.connection.close()

    def __enter__(self) -> SqlOutboxTransaction:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.connection.closed:
            return
        self._end(commit=exc_type is None)


class SqlOutboxStore:
    """`OutboxStore` on a SQLAlchemy engine (SQLite, PostgreSQL). See the module docstring.

    `epoch` (Unix seconds) is added to the model's virtual time when stamping rows, so a
    simulation starting at t=0 can carry realistic dates."""

    __slots__ = ("engine", "epoch", "epoch_us", "_pg")

    def __init__(self, engine: Engine, *, epoch: float = 0.0) -> None:
        if not isinstance(engine, Engine):
            raise TypeError(f"SqlOutboxStore needs a SQLAlchemy Engine (make_engine(...)), got {type(engine).__name__}")
        self.engine = watch_for_missing_tables(engine)
        self.epoch = epoch
        self.epoch_us = round(epoch * 1_000_000)
        self._pg = engine.dialect.name == "postgresql"

    def create_schema(self) -> None:
        create_outbox_schema(self.engine)

    def _dt(self, micros: int | None) -> datetime | None:
        return None if micros is None else micros_datetime(micros, self.epoch_us)

    def _us(self, value: datetime | None) -> int | None:
        return None if value is None else datetime_micros(value, self.epoch_us)

    def _row(self, mapping: Mapping[str, Any], cls: type[OutboxRow] = OutboxRow) -> Any:
        us = self._us
        return cls(mapping["id"], mapping["event_type"], mapping["schema_version"], mapping["payload"],
                   mapping["status"], mapping["retry_count"], us(mapping["next_attempt_at"]),
                   mapping["last_error"], mapping["claimed_by"], us(mapping["claimed_at"]),
                   datetime_micros(mapping["created_at"], self.epoch_us), us(mapping["dispatched_at"]))

    # -- writing -----------------------------------------------------------------------------

    def begin(self) -> SqlOutboxTransaction:
        return SqlOutboxTransaction(self.engine)

    def insert(self, executor: Any, row: OutboxRow) -> None:
        if isinstance(executor, SqlOutboxTransaction):
            executor = executor.connection
        if not isinstance(executor, (Session, Connection)):
            raise TypeError(f"SqlOutboxStore.insert needs a Session, a Connection or a transaction from "
                            f"begin(), got {type(executor).__name__}")
        payload = row.payload
        if hasattr(payload, "to_json_dict"):
            payload = payload.to_json_dict()
        values = {"id": row.id, "event_type": row.event_type, "schema_version": row.schema_version,
                  "payload": payload, "status": row.status, "retry_count": row.retry_count,
                  "next_attempt_at": self._dt(row.next_attempt_at), "last_error": row.last_error,
                  "claimed_by": row.claimed_by, "claimed_at": self._dt(row.claimed_at),
                  "created_at": self._dt(row.created_at), "dispatched_at": self._dt(row.dispatched_at)}
        try:
            executor.execute(insert(sys_events).values(**values))
        except IntegrityError as exc:
            if "unique" in str(exc.orig).lower() or "duplicate" in str(exc.orig).lower():
                raise OutboxDuplicateIdError(row.id) from None
            raise

    # -- claiming ----------------------------------------------------------------------------

    def claim(self, request: ClaimRequest,
              on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> ClaimResult:
        if request.batch_size <= 0:
            return NO_CLAIM
        c = sys_events.c
        now = micros_datetime(request.now_us, self.epoch_us)
        due = or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now)
        if request.lease_cutoff_us is not None:
            unclaimed = or_(c.claimed_at.is_(None), c.claimed_at <= micros_datetime(request.lease_cutoff_us,
                                                                                    self.epoch_us))
        else:
            unclaimed = c.claimed_at.is_(None)
        eligible = [c.status == _PENDING, due, unclaimed]
        held: set[uuid.UUID] | None = None
        if request.lock_candidates and not self._pg:
            with _held_lock:
                held = _held_candidates.setdefault(self.engine.pool, set())
                if held:
                    eligible.append(c.id.not_in(list(held)))
        candidates_q = (select(c.id, c.claimed_at).where(*eligible)
                        .order_by(c.created_at, c.id).limit(request.batch_size))
        if request.recheck_eligibility:
            claim_where = and_(c.status == _PENDING, due, unclaimed)
            reselect_where = and_(c.status == _PENDING, c.claimed_by == request.worker, c.claimed_at == now)
        else:
            # Rust 02-13: only claimed_at IS NULL is re-checked; the re-select trusts claimed_by.
            claim_where = c.claimed_at.is_(None)
            reselect_where = and_(c.claimed_by == request.worker, c.claimed_at.is_not(None))

        def claim_rows(conn: Connection, ids: list[uuid.UUID]) -> list[Any]:
            conn.execute(update(sys_events).where(c.id.in_(ids), claim_where)
                         .values(claimed_by=request.worker, claimed_at=now))
            return list(conn.execute(select(sys_events).where(c.id.in_(ids), reselect_where)
                                     .order_by(c.created_at, c.id)).mappings())

        if self._pg:
            if request.lock_candidates:
                candidates_q = candidates_q.with_for_update(skip_locked=True)
            with self.engine.begin() as conn:
                candidates = conn.execute(candidates_q).all()
                if not candidates:
                    return NO_CLAIM
                if on_candidates is not None:
                    on_candidates([row.id for row in candidates])
                rows = claim_rows(conn, [row.id for row in candidates])
        else:
            with self.engine.begin() as conn:
                candidates = conn.execute(candidates_q).all()
            if not candidates:
                return NO_CLAIM
            ids = [row.id for row in candidates]
            if held is not None:
                with _held_lock:
                    held.update(ids)
            try:
                if on_candidates is not None:
                    on_candidates(list(ids))
                with self.engine.begin() as conn:
                    rows = claim_rows(conn, ids)
            finally:
                if held is not None:
                    with _held_lock:
                        held.difference_update(ids)
        previous = {row.id: self._us(row.claimed_at) for row in candidates}
        claimed = []
        for mapping in rows:
            event = self._row(mapping, ClaimedEvent)
            event.previous_claimed_at = previous.get(event.id)
            claimed.append(event)
        return ClaimResult(len(candidates), claimed)

    # -- finishing a claimed row ---------------------------------------------------------------

    def _finish(self, row: ClaimedEvent, values: dict[str, Any], guarded: bool,
                before_write: Callable[[], None] | None) -> str | None:
        c = sys_events.c
        with self.engine.begin() as conn:
            if guarded:
                # Only while the claim is still ours: a row taken over after the lease must not be
                # completed by the worker that lost it.
                result = conn.execute(update(sys_events).where(
                    c.id == row.id, c.status == _PENDING, c.claimed_by == row.claimed_by,
                    c.claimed_at == self._dt(row.claimed_at)).values(**values))
                if result.rowcount != 1:
                    return None
                if before_write is not None:
                    before_write()
                return row_state(_PENDING, row.claimed_at)
            # Rust 02-13: find_by_id (NotFound if gone), then update by primary key only.
            found = conn.execute(select(c.status, c.claimed_at).where(c.id == row.id)).first()
            if found is None:
                raise NotFoundError(f"sys_event {row.id}")
            if before_write is not None:
                before_write()
            conn.execute(update(sys_events).where(c.id == row.id).values(**values))
            return row_state(found.status, self._us(found.claimed_at))

    def mark_dispatched(self, row: ClaimedEvent, now_us: int, *, guarded: bool,
                        before_write: Callable[[], None] | None = None) -> str | None:
        return self._finish(row, dict(status=_DISPATCHED, dispatched_at=self._dt(now_us), claimed_by=None,
                                      claimed_at=None, last_error=None, next_attempt_at=None),
                            guarded, before_write)

    def reschedule(self, row: ClaimedEvent, retry_count: int, last_error: str, next_attempt_at_us: int, *,
                   guarded: bool, before_write: Callable[[], None] | None = None) -> str | None:
        return self._finish(row, dict(status=_PENDING, retry_count=retry_count, last_error=last_error,
                                      next_attempt_at=self._dt(next_attempt_at_us), claimed_by=None,
                                      claimed_at=None), guarded, before_write)

    def move_to_dlq(self, row: ClaimedEvent, retry_count: int, last_error: str, *, guarded: bool,
                    before_write: Callable[[], None] | None = None) -> str | None:
        return self._finish(row, dict(status=_FAILED, retry_count=retry_count, last_error=last_error,
                                      next_attempt_at=None, claimed_by=None, claimed_at=None),
                            guarded, before_write)

    def acknowledge(self, event_id: uuid.UUID, now_us: int) -> str:
        c = sys_events.c
        with self.engine.begin() as conn:
            found = conn.execute(select(c.status, c.claimed_at).where(c.id == event_id)).first()
            if found is None:
                raise NotFoundError(f"sys_event {event_id}")
            conn.execute(update(sys_events).where(c.id == event_id).values(
                status=_DISPATCHED, dispatched_at=self._dt(now_us), claimed_by=None, claimed_at=None,
                last_error=None))
        return row_state(found.status, self._us(found.claimed_at))

    # -- reading -----------------------------------------------------------------------------

    def count(self, status: SysEventStatus | str | None = None) -> int:
        return count_rows(self.engine, status)

    def get(self, event_id: uuid.UUID) -> OutboxRow:
        return self._row(fetch_row(self.engine, event_id))

    def rows(self) -> list[OutboxRow]:
        return [self._row(mapping) for mapping in fetch_rows(self.engine)]

    def stale_claims(self, older_than_us: int) -> list[uuid.UUID]:
        c = sys_events.c
        with self.engine.connect() as conn:
            return list(conn.execute(select(c.id).where(
                c.status == _PENDING, c.claimed_at.is_not(None),
                c.claimed_at <= micros_datetime(older_than_us, self.epoch_us)).order_by(c.created_at, c.id)).scalars())

    def __repr__(self) -> str:
        return f"SqlOutboxStore({self.engine.url.render_as_string(hide_password=True)!r})"


class OutboxTransport(model_outbox.OutboxTransport):
    """`OutboxTransport` on a SQLAlchemy engine: the model's transport over a `SqlOutboxStore`.

    `write_to_outbox(executor, envelope)` inserts through the caller's ORM `Session` or Core
    `Connection`, so the row commits or rolls back with the caller's transaction. Times come from
    `clock` (+ `epoch` seconds, see `rustok_sim.adapters.sql.db`)."""

    __slots__ = ("engine", "epoch")

    def __init__(self, engine: Engine, *, clock: Clock, epoch: float = 0.0,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        super().__init__(SqlOutboxStore(engine, epoch=epoch), clock=clock, observer=observer, name=name)
        self.engine = engine
        self.epoch = epoch

    def create_schema(self) -> None:
        create_outbox_schema(self.engine)

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
