"""The transactional outbox in the model: the row, the store protocol, the in-memory store and the
`OutboxTransport` (spec §3.5, rustok-outbox).

A row per event (Rust's `sys_events` table), written in the caller's transaction so that it exists
if and only if the business change commits. The relay (`rustok_sim.model.events.relay`) moves
rows on; its *policy* (eligibility, claim, lease, backoff, DLQ) is pure code there, and a store
only offers the atomic operations that policy needs:

- ``begin()`` a transaction, ``insert(executor, row)`` in it, commit or roll back;
- ``claim(request, on_candidates)``: select eligible rows and claim them, atomically per the
  request (the policy's `ClaimRequest` says what "eligible" and "still claimable" mean);
- ``mark_dispatched`` / ``reschedule`` / ``move_to_dlq`` a claimed row (guarded by the claim
  in the hardened relay, by primary key only in the faithful one), ``acknowledge`` a row;
- reads for invariants and reports: ``count``, ``get``, ``rows``, ``stale_claims``.

A hardened relay's lease ("reclaim expired leases") is part of ``claim``: a row whose claim is
older than the request's ``lease_cutoff_us`` is eligible again, so the takeover is as atomic as
any claim (that is what upstream does: no separate reclaim sweep).

`InMemoryOutboxStore` is the simulation default: plain slotted rows in a dict plus a queue of the
pending ones in claim order, a few microseconds per row. The SQLAlchemy store
(`rustok_sim.adapters.sql.outbox.SqlOutboxStore`, SQLite and PostgreSQL) does the same operations
in SQL. ``tests/events/test_outbox_stores.py`` runs one suite on every store.

Time is **integer microseconds of virtual time** (``round(clock() * 1e6)``): the resolution both
databases keep, exact to compare (a lease boundary or a due time never depends on float noise).
The SQL store maps it to ``timestamptz`` as ``epoch + t``.

State outside the table: a row's life (pending, claimed, dispatched, failed) is the relay's
``sys_event`` table (`rustok_sim.model.events.relay.ROW_TRANSITIONS`); everything here is the data
those moves write (retry count, due time, last error, claim) plus the store's own bookkeeping (the
claim-order queue of the in-memory store), none of which is a state of its own.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.events.bus import NotFoundError, ReliabilityLevel, publish_batch_sequential

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope
    from rustok_sim.model.events.relay import ClaimRequest

COMPONENT = "outbox"
LAST_ERROR_MAX = 2048
"""``last_error`` is varchar(2048)."""
WORKER_ID_MAX = 128
"""``claimed_by`` is varchar(128)."""
MICROS = 1_000_000


def clock_micros(clock: Clock) -> int:
    """The clock's time in whole microseconds (the resolution rows keep)."""
    return round(clock() * MICROS)


class SysEventStatus(str, Enum):
    """`SysEventStatus`: the ``status`` column. pending -> dispatched, or pending -> failed (DLQ)."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    FAILED = "failed"


_PENDING, _DISPATCHED, _FAILED = (SysEventStatus.PENDING.value, SysEventStatus.DISPATCHED.value,
                                  SysEventStatus.FAILED.value)


class UnparsablePayload:
    """A payload whose stored text is not JSON (possible on SQLite only; PostgreSQL's jsonb refuses
    it on insert). Carries the raw text and the parser's message, so the relay can name the row."""

    __slots__ = ("raw", "error")

    def __init__(self, raw: str, error: str) -> None:
        self.raw, self.error = raw, error

    def __repr__(self) -> str:
        return f"UnparsablePayload({self.raw[:60]!r}, error={self.error!r})"


class OutboxDuplicateIdError(ValueError):
    """A row with this id already exists (the primary key refuses it)."""

    def __init__(self, event_id: uuid.UUID) -> None:
        self.event_id = event_id
        super().__init__(f"sys_event {event_id} already exists (duplicate primary key)")


class OutboxTransactionError(RuntimeError):
    """An outbox transaction was used after it was committed or rolled back."""


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class OutboxRow:
    """One ``sys_events`` row. Times are virtual microseconds (None = NULL).

    ``payload`` is what the row holds for the envelope: the in-memory store keeps the
    `EventEnvelope` itself (envelopes are frozen, so this is the serialized form without the cost
    of serializing), the SQL store the JSON value read back from the column (a dict, or an
    `UnparsablePayload`); a test may put any JSON value there to stage a malformed row.
    """

    id: uuid.UUID
    event_type: str
    schema_version: int
    payload: Any
    status: str
    retry_count: int
    next_attempt_at: int | None
    last_error: str | None
    claimed_by: str | None
    claimed_at: int | None
    created_at: int
    dispatched_at: int | None

    @classmethod
    def pending(cls, envelope: EventEnvelope, now_us: int) -> OutboxRow:
        """The row `write_to_outbox` inserts: pending, retry 0, every nullable column NULL."""
        return cls(envelope.id, envelope.event_type, envelope.schema_version, envelope, _PENDING, 0,
                   None, None, None, None, now_us, None)

    def values(self) -> dict[str, Any]:
        """The columns as a dict (for reports and tests)."""
        return {name: getattr(self, name) for name in _ROW_FIELDS}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.id}, {self.status}, retry_count={self.retry_count}, "
                f"claimed_by={self.claimed_by!r})")


_ROW_FIELDS = tuple(OutboxRow.__dataclass_fields__)


@dataclass(slots=True, eq=False, repr=False)
class ClaimedEvent(OutboxRow):
    """A row as the claim read it (Rust's `entity::Model` of the claimed row): a snapshot, not the
    live row, so completing it uses the claim-time values as Rust does.

    ``previous_claimed_at`` is the claim this one replaced (None, or an expired lease in the
    hardened relay); ``started`` is the clock time the relay began publishing it (latency)."""

    previous_claimed_at: int | None = None
    started: float | None = None


def snapshot(row: OutboxRow, previous_claimed_at: int | None) -> ClaimedEvent:
    return ClaimedEvent(row.id, row.event_type, row.schema_version, row.payload, row.status,
                        row.retry_count, row.next_attempt_at, row.last_error, row.claimed_by,
                        row.claimed_at, row.created_at, row.dispatched_at, previous_claimed_at)


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What one claim did: how many candidates its SELECT found, and the rows it now holds
    (in claim order)."""

    candidates: int
    rows: list[ClaimedEvent]


NO_CLAIM = ClaimResult(0, [])


CLAIMED = "claimed"


def row_state(status: str, claimed_at: int | None) -> str:
    """A row's state in the relay's table (`rustok_sim.model.events.relay.RowState` values):
    "claimed" while a claim is on it, else its status."""
    return CLAIMED if claimed_at is not None else status


# --------------------------------------------------------------------------------------------
# The store protocol
# --------------------------------------------------------------------------------------------


@runtime_checkable
class OutboxTransaction(Protocol):
    """A store transaction: ``with store.begin() as tx: store.insert(tx, row)`` commits on a clean
    exit and rolls back on an exception; `commit` / `rollback` end it explicitly."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def __enter__(self) -> OutboxTransaction: ...

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...


@runtime_checkable
class OutboxStore(Protocol):
    """The atomic operations the relay's policy needs. Every store behaves the same
    (``tests/events/test_outbox_stores.py``): the same rows claimed in the same order, the same
    faithful stale-candidate race, the same hardened lease.

    Marks take the claimed snapshot and return the row's state *before* the write (so the relay's
    table can check the move), or None when `guarded` and the claim is no longer the snapshot's
    (status pending, same ``claimed_by`` and ``claimed_at``): the hardened relay's lost claim.
    Unguarded marks (faithful, Rust 02-13) find the row by id (`NotFoundError` if it is gone),
    call `before_write` (where Rust counts the outcome) and update by primary key only.
    """

    def begin(self) -> OutboxTransaction: ...

    def insert(self, executor: Any, row: OutboxRow) -> None:
        """Insert `row` through `executor`: a transaction from `begin()` (or, for the SQL store,
        the caller's Session / Connection). Visible to others once that transaction commits."""
        ...

    def claim(self, request: ClaimRequest,
              on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> ClaimResult:
        """Select up to ``request.batch_size`` eligible rows (oldest first by created_at, id),
        call `on_candidates(ids)`, claim those the request still allows, and return the rows now
        claimed by ``request.worker`` among them (the re-select). `on_candidates` is the seam where
        a driver runs another relay to stage the claim races."""
        ...

    def mark_dispatched(self, row: ClaimedEvent, now_us: int, *, guarded: bool,
                        before_write: Callable[[], None] | None = None) -> str | None: ...

    def reschedule(self, row: ClaimedEvent, retry_count: int, last_error: str, next_attempt_at_us: int, *,
                   guarded: bool, before_write: Callable[[], None] | None = None) -> str | None: ...

    def move_to_dlq(self, row: ClaimedEvent, retry_count: int, last_error: str, *, guarded: bool,
                    before_write: Callable[[], None] | None = None) -> str | None: ...

    def acknowledge(self, event_id: uuid.UUID, now_us: int) -> str:
        """Mark a row dispatched now and clear its claim and last error (retry count and due time
        stay); `NotFoundError` ("Not found: sys_event <id>") if there is no such row."""
        ...

    def count(self, status: SysEventStatus | str | None = None) -> int: ...

    def get(self, event_id: uuid.UUID) -> OutboxRow:
        """A copy of one row; `NotFoundError` if missing."""
        ...

    def rows(self) -> list[OutboxRow]:
        """Copies of every row, ordered by created_at then id."""
        ...

    def stale_claims(self, older_than_us: int) -> list[uuid.UUID]:
        """Ids of pending rows claimed at or before `older_than_us` (a faithful relay never takes
        them back), ordered by created_at then id."""
        ...


# --------------------------------------------------------------------------------------------
# The in-memory store
# --------------------------------------------------------------------------------------------


class MemoryOutboxTransaction:
    """A transaction of `InMemoryOutboxStore`: inserted rows are buffered and become visible at
    `commit` (atomically: a duplicate id fails the whole commit and nothing is added)."""

    __slots__ = ("store", "rows", "open")

    def __init__(self, store: InMemoryOutboxStore) -> None:
        self.store = store
        self.rows: list[OutboxRow] = []
        self.open = True

    def commit(self) -> None:
        self._check_open()
        self.open = False
        self.store._commit(self.rows)

    def rollback(self) -> None:
        self._check_open()
        self.open = False
        self.rows = []

    def _check_open(self) -> None:
        if not self.open:
            raise OutboxTransactionError("outbox transaction already ended (committed or rolled back)")

    def __enter__(self) -> MemoryOutboxTransaction:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if not self.open:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


def _order_key(row: OutboxRow) -> tuple[int, int]:
    return (row.created_at, row.id.int)


class InMemoryOutboxStore:
    """`OutboxStore` in plain Python objects: the simulation default.

    Rows live in a dict by id. The pending rows are also kept in a list in claim order (created_at,
    then id; ids from one `IdGenerator` grow with time, so an insert is nearly always an append),
    scanned from a head index: rows that left pending are skipped, and dropped from the list once
    they make up half of it, so a claim costs O(batch + rows it must skip). The rows it must skip
    are those claimed and not yet finished and those waiting for their retry time; a long outage
    with many rows in backoff makes each claim scan them (measured in ``benchmarks/outbox.py``
    only for the healthy path).

    Single-threaded, like every model object: a simulation drives it from one thread.
    """

    __slots__ = ("_rows", "_queue", "_head", "_dead", "_queued", "_locked")

    def __init__(self) -> None:
        self._rows: dict[uuid.UUID, OutboxRow] = {}
        # Candidates of a claim with lock_candidates, from its SELECT to its UPDATE: another claim
        # in between skips them, as PostgreSQL's FOR UPDATE SKIP LOCKED does.
        self._locked: set[uuid.UUID] = set()
        self._queue: list[OutboxRow] = []
        self._head = 0
        self._dead = 0
        self._queued: set[uuid.UUID] = set()

    # -- writing -----------------------------------------------------------------------------

    def begin(self) -> MemoryOutboxTransaction:
        return MemoryOutboxTransaction(self)

    def insert(self, executor: Any, row: OutboxRow) -> None:
        if not isinstance(executor, MemoryOutboxTransaction) or executor.store is not self:
            raise TypeError(f"InMemoryOutboxStore.insert needs a transaction from this store's begin(), "
                            f"got {type(executor).__name__}")
        executor._check_open()
        if row.id in self._rows:
            raise OutboxDuplicateIdError(row.id)
        executor.rows.append(row)

    def _commit(self, rows: list[OutboxRow]) -> None:
        seen: set[uuid.UUID] = set()
        for row in rows:
            if row.id in self._rows or row.id in seen:
                raise OutboxDuplicateIdError(row.id)
            seen.add(row.id)
        for row in rows:
            self._rows[row.id] = row
            if row.status == _PENDING:
                self._enqueue(row)

    def _enqueue(self, row: OutboxRow) -> None:
        queue = self._queue
        self._queued.add(row.id)
        if len(queue) == self._head or _order_key(queue[-1]) <= _order_key(row):
            queue.append(row)
        else:
            position = bisect.bisect_right(queue, _order_key(row), lo=self._head, key=_order_key)
            queue.insert(position, row)

    def _left_pending(self) -> None:
        # A queued row left pending: compact once dead entries are half the live part.
        self._dead += 1
        queue = self._queue
        while self._head < len(queue) and queue[self._head].status != _PENDING:
            self._queued.discard(queue[self._head].id)
            self._head += 1
            self._dead -= 1
        if self._dead > 32 and 2 * self._dead > len(queue) - self._head:
            live = []
            for row in queue[self._head:]:
                if row.status == _PENDING:
                    live.append(row)
                else:
                    self._queued.discard(row.id)
            self._queue, self._head, self._dead = live, 0, 0
        elif self._head > 1024 and 2 * self._head > len(queue):
            del queue[:self._head]
            self._head = 0

    # -- claiming ----------------------------------------------------------------------------

    def claim(self, request: ClaimRequest,
              on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> ClaimResult:
        limit = request.batch_size
        if limit <= 0:
            return NO_CLAIM
        candidates: list[tuple[OutboxRow, int | None]] = []
        queue, locked = self._queue, self._locked
        for index in range(self._head, len(queue)):
            row = queue[index]
            if request.is_eligible(row) and not (locked and row.id in locked):
                candidates.append((row, row.claimed_at))
                if len(candidates) == limit:
                    break
        if not candidates:
            return NO_CLAIM
        if on_candidates is not None:
            ids = [row.id for row, _ in candidates]
            if request.lock_candidates:
                locked.update(ids)
                try:
                    on_candidates(ids)
                finally:
                    locked.difference_update(ids)
            else:
                on_candidates(ids)
        worker, now = request.worker, request.now_us
        for row, _ in candidates:
            if request.allows(row):
                row.claimed_by, row.claimed_at = worker, now
        claimed = [snapshot(row, previous) for row, previous in candidates if request.reselects(row)]
        return ClaimResult(len(candidates), claimed)

    # -- finishing a claimed row ---------------------------------------------------------------

    def _finish(self, row: ClaimedEvent, guarded: bool,
                before_write: Callable[[], None] | None) -> tuple[OutboxRow | None, str | None]:
        live = self._rows.get(row.id)
        if guarded:
            if live is None or live.status != _PENDING or live.claimed_by != row.claimed_by \
                    or live.claimed_at != row.claimed_at:
                return None, None
        elif live is None:
            raise NotFoundError(f"sys_event {row.id}")
        previous = row_state(live.status, live.claimed_at)
        if before_write is not None:
            before_write()
        return live, previous

    def _set_status(self, live: OutboxRow, status: str) -> None:
        was_pending = live.status == _PENDING
        live.status = status
        if status == _PENDING:
            if live.id not in self._queued:
                self._enqueue(live)
        elif was_pending and live.id in self._queued:
            self._left_pending()

    def mark_dispatched(self, row: ClaimedEvent, now_us: int, *, guarded: bool,
                        before_write: Callable[[], None] | None = None) -> str | None:
        live, previous = self._finish(row, guarded, before_write)
        if live is None:
            return None
        live.dispatched_at, live.claimed_by, live.claimed_at = now_us, None, None
        live.last_error = live.next_attempt_at = None
        self._set_status(live, _DISPATCHED)
        return previous

    def reschedule(self, row: ClaimedEvent, retry_count: int, last_error: str, next_attempt_at_us: int, *,
                   guarded: bool, before_write: Callable[[], None] | None = None) -> str | None:
        live, previous = self._finish(row, guarded, before_write)
        if live is None:
            return None
        live.retry_count, live.last_error, live.next_attempt_at = retry_count, last_error, next_attempt_at_us
        live.claimed_by = live.claimed_at = None
        self._set_status(live, _PENDING)
        return previous

    def move_to_dlq(self, row: ClaimedEvent, retry_count: int, last_error: str, *, guarded: bool,
                    before_write: Callable[[], None] | None = None) -> str | None:
        live, previous = self._finish(row, guarded, before_write)
        if live is None:
            return None
        live.retry_count, live.last_error, live.next_attempt_at = retry_count, last_error, None
        live.claimed_by = live.claimed_at = None
        self._set_status(live, _FAILED)
        return previous

    def acknowledge(self, event_id: uuid.UUID, now_us: int) -> str:
        live = self._rows.get(event_id)
        if live is None:
            raise NotFoundError(f"sys_event {event_id}")
        previous = row_state(live.status, live.claimed_at)
        live.dispatched_at, live.claimed_by, live.claimed_at, live.last_error = now_us, None, None, None
        self._set_status(live, _DISPATCHED)
        return previous

    # -- reading -----------------------------------------------------------------------------

    def count(self, status: SysEventStatus | str | None = None) -> int:
        if status is None:
            return len(self._rows)
        wanted = SysEventStatus(status).value
        return sum(1 for row in self._rows.values() if row.status == wanted)

    def get(self, event_id: uuid.UUID) -> OutboxRow:
        live = self._rows.get(event_id)
        if live is None:
            raise NotFoundError(f"sys_event {event_id}")
        return OutboxRow(**live.values())

    def rows(self) -> list[OutboxRow]:
        return [OutboxRow(**row.values()) for row in sorted(self._rows.values(), key=_order_key)]

    def stale_claims(self, older_than_us: int) -> list[uuid.UUID]:
        return [row.id for row in sorted(self._rows.values(), key=_order_key)
                if row.status == _PENDING and row.claimed_at is not None and row.claimed_at <= older_than_us]

    def __iter__(self) -> Iterator[OutboxRow]:
        return iter(self.rows())

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"InMemoryOutboxStore({len(self._rows)} rows, {len(self._queue) - self._head} queued)"


# --------------------------------------------------------------------------------------------
# The transport
# --------------------------------------------------------------------------------------------


class OutboxTransport:
    """`OutboxTransport`: an `EventTransport` (reliability Outbox) that writes outbox rows to a store.

    `write_to_outbox(executor, envelope)` inserts through the caller's transaction (`executor`: a
    transaction from ``store.begin()``, or whatever the store accepts, e.g. a SQLAlchemy Session),
    so the row commits or rolls back with it; `publish(envelope)` (no caller transaction) inserts
    in a transaction of its own; `acknowledge(id)` marks a row dispatched. Rows are stamped with
    the injected clock.

    Observer records (component ``outbox``): ``event`` ``written`` (per insert; the row only
    becomes real if the caller commits) and ``acknowledged``, plus the ``sys_event`` transition
    ``acknowledged`` (the same row table the relay fires).
    """

    __slots__ = ("store", "clock", "observer", "name", "_events", "_transitions", "_machine")

    def __init__(self, store: OutboxStore, *, clock: Clock, observer: Observer | None = None,
                 name: str = COMPONENT) -> None:
        from rustok_sim.model.events.relay import ROW_TRANSITIONS

        if not isinstance(store, OutboxStore):
            raise TypeError(f"OutboxTransport needs store= an OutboxStore (InMemoryOutboxStore, "
                            f"SqlOutboxStore), got {given(store)}")
        self.store = store
        self.clock = require_clock(clock, "OutboxTransport")
        self.name = require_name(name, "OutboxTransport")
        observer = require_observer(observer, f"OutboxTransport {name!r}")
        self.observer = observer
        self._events = observer_for(observer, "event")
        self._transitions = observer_for(observer, "transition")
        self._machine = ROW_TRANSITIONS.bind(None)

    def now_us(self) -> int:
        return round(self.clock() * MICROS)

    def write_to_outbox(self, executor: Any, envelope: EventEnvelope) -> None:
        """Insert the envelope's row through `executor` (its transaction decides its fate)."""
        self.store.insert(executor, OutboxRow.pending(envelope, round(self.clock() * MICROS)))
        if self._events is not None:
            self._events.event(COMPONENT, self.name, "written", str(envelope.id), envelope.event_type,
                               str(envelope.tenant_id))

    # -- EventTransport ------------------------------------------------------------------

    def publish(self, envelope: EventEnvelope) -> None:
        with self.store.begin() as tx:
            self.write_to_outbox(tx, envelope)

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None:
        publish_batch_sequential(self, envelopes)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        """Mark a row dispatched now and clear its claim and last error; `NotFoundError`
        ("Not found: sys_event <id>") if there is no such row."""
        previous = self.store.acknowledge(event_id, self.now_us())
        self._machine.fire(previous, "acknowledged", self._transitions, str(event_id))
        if self._events is not None:
            self._events.event(COMPONENT, self.name, "acknowledged", str(event_id), "", None)

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.OUTBOX

    def __repr__(self) -> str:
        return f"OutboxTransport({self.store!r})"
