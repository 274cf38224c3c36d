"""OutboxRelay (`rustok-outbox/src/relay.rs`, spec §3.6): moves `sys_events` rows to a transport.

One pass, `process_pending_once()`:

1. **Claim**, in one transaction: select up to ``batch_size`` rows that are pending, due
   (``next_attempt_at`` NULL or <= now) and unclaimed (``claimed_at`` NULL), oldest first; update
   those ids, still requiring ``claimed_at IS NULL``, to ``claimed_by = worker, claimed_at = now``;
   re-select the ids now claimed by this worker; commit.
2. **Process** the claimed rows one by one: decode the payload into an `EventEnvelope` (a failure
   aborts the rest of the pass, and every row of the batch not yet processed stays claimed),
   ``target.publish(envelope)``, add the elapsed milliseconds to ``latency_ms_total`` and count
   ``processed_total``.
3. Success: ``dispatched``, ``dispatched_at = now``, claim / last_error / next_attempt_at cleared.
4. Failure: ``retry_count + 1``, ``last_error`` = the error's text, claim cleared; at
   ``max_attempts`` (5) the row is ``failed`` (the DLQ), otherwise it stays pending with
   ``next_attempt_at = now + backoff(retry_count)``.

``backoff(n) = min(base * 2**min(n-1, 16), max)``: with the defaults the delays before attempts
2..5 are 1, 2, 4 and 8 s, and the 5th failure moves the row to ``failed``.

Variants:

- ``faithful`` (default, 02-13 code): nothing ever reclaims a row whose relay died after claiming
  it (spec §3.6 NOT FOUND): every path requires ``claimed_at IS NULL``, so such rows are stuck
  for good. *(analysis)* The claim's UPDATE re-checks only ``claimed_at IS NULL`` (not status or
  due time) and the re-select does not check status, so a relay whose candidate SELECT is older
  than another relay's complete pass re-claims and re-publishes rows that pass already dispatched
  (or already failed and rescheduled). Under PostgreSQL READ COMMITTED two claims that overlap
  *in time* cannot both win a row: the second UPDATE waits for the first's row locks and then
  finds ``claimed_at`` set.
- ``hardened`` (what upstream adopted later): a claim is a lease of ``claim_ttl_s`` (60 s) after
  which another relay may take the row; the candidate SELECT takes row locks with ``FOR UPDATE
  SKIP LOCKED`` on PostgreSQL; the UPDATE and re-select repeat the full eligibility condition; the
  final updates only touch a row still claimed by this worker at this claim time (else
  ``External error: outbox event <id> claim was lost before completion``); an undecodable payload
  counts as a failed attempt (so it reaches the DLQ) instead of aborting the pass; and
  ``last_error`` is cut to the column's 2048 characters.

Time: ``now`` is ``epoch + clock()`` (see `rustok_sim.adapters.sql.db`), never the database's clock; latency is
measured with the same clock, so it is whatever virtual time the target's publish took.
Nothing sleeps: `run_step()` does one pass of Rust's ``run()`` loop and returns how long that loop
would sleep before the next one (0.1 s when idle, 1 s after an error).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rustok_sim.adapters.sql.db import UnparsablePayload, clock_datetime
from rustok_sim.adapters.sql.outbox import LAST_ERROR_MAX, WORKER_ID_MAX, SysEventStatus, sys_events
from rustok_sim.model.core.clock import Clock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.core.transitions import Edge, IllegalTransition, TransitionTable
from rustok_sim.model.events.bus import EventTransport, ExternalError, NotFoundError, RustokError, SerializationError
from sqlalchemy import Engine, and_, or_, select, update

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope

COMPONENT = "outbox_relay"
RUN_IDLE_SLEEP_S = 0.1
RUN_ERROR_SLEEP_S = 1.0
_PENDING, _DISPATCHED, _FAILED = (SysEventStatus.PENDING.value, SysEventStatus.DISPATCHED.value,
                                  SysEventStatus.FAILED.value)


ROW_TRANSITIONS = TransitionTable("sys_event", (
    Edge("pending", "claimed", "claim", "pending, due and unclaimed; claimed_at = now"),
    Edge("claimed", "claimed", "reclaim", "the claim lease expired; another worker takes the row",
         frozenset({"hardened"})),
    Edge("claimed", "dispatched", "published", "target.publish succeeded"),
    Edge("claimed", "pending", "retry_scheduled", "publish failed, retry_count < max_attempts"),
    Edge("claimed", "failed", "max_attempts", "publish failed, retry_count >= max_attempts (DLQ)"),
))
"""A `sys_events` row's life as the relay sees it ("claimed" is a pending row with a claim).
There is deliberately no edge out of "claimed" for a relay that died: in the faithful variant
such a row stays claimed for good. Reported as ``transition`` records of component
``sys_event`` with the row id as the instance."""



def _default_worker_id() -> str:
    return f"relay-{uuid.uuid4()}"


class RelayConfig(BaseModel):
    """Spec §3.6 `RelayConfig` defaults, plus the variant and the hardened claim lease."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_size: int = Field(100, ge=0, description="rows claimed per pass")
    max_attempts: int = Field(5, ge=0, le=2**31 - 1, description="publish attempts before the row is failed")
    backoff_base_s: float = Field(1.0, ge=0, allow_inf_nan=False, description="first retry delay, seconds")
    backoff_max_s: float = Field(60.0, ge=0, allow_inf_nan=False, description="retry delay cap, seconds")
    worker_id: str = Field(default_factory=_default_worker_id, min_length=1, max_length=WORKER_ID_MAX,
                           description="claimed_by value; Rust default relay-<uuid v4>")
    variant: Literal["faithful", "hardened"] = "faithful"
    claim_ttl_s: float = Field(60.0, gt=0, allow_inf_nan=False,
                               description="hardened only: a claim older than this may be taken over")

    def backoff_ms(self, retry_count: int) -> int:
        """Delay before the next attempt after `retry_count` failures, in whole milliseconds."""
        exponent = min(max(retry_count - 1, 0), 16)
        base_ms = round(self.backoff_base_s * 1_000_000) // 1000  # Duration::as_millis truncates
        max_ms = round(self.backoff_max_s * 1_000_000) // 1000
        return min(base_ms * 2**exponent, max_ms)


class RelayMetricsSnapshot:
    """`RelayMetricsSnapshot`: counters since the relay was made."""

    __slots__ = ("success_total", "failure_total", "retry_total", "dlq_total", "latency_ms_total",
                 "processed_total")

    def __init__(self, success_total: int = 0, failure_total: int = 0, retry_total: int = 0,
                 dlq_total: int = 0, latency_ms_total: int = 0, processed_total: int = 0) -> None:
        self.success_total, self.failure_total, self.retry_total = success_total, failure_total, retry_total
        self.dlq_total, self.latency_ms_total, self.processed_total = dlq_total, latency_ms_total, processed_total

    def copy(self) -> RelayMetricsSnapshot:
        return RelayMetricsSnapshot(**self.as_dict())

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RelayMetricsSnapshot) and other.as_dict() == self.as_dict()

    def __repr__(self) -> str:
        return f"RelayMetricsSnapshot({self.as_dict()!r})"


class OutboxPayloadError(SerializationError):
    """A claimed row's payload is not a serialized `EventEnvelope`. Names the row."""

    def __init__(self, event_id: uuid.UUID, reason: str) -> None:
        self.event_id, self.reason = event_id, reason
        super().__init__(f"sys_event {event_id}: payload is not a valid EventEnvelope: {reason}")


class ClaimedEvent:
    """A row as the claim read it (Rust `entity::Model`). The hardened marks compare
    `claimed_by` / `claimed_at` with the row's current values to detect a lost claim."""

    __slots__ = ("id", "event_type", "schema_version", "payload", "status", "retry_count",
                 "next_attempt_at", "last_error", "claimed_by", "claimed_at", "created_at",
                 "dispatched_at")

    def __init__(self, row: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, row[name])

    def __repr__(self) -> str:
        return f"ClaimedEvent({self.id}, retry_count={self.retry_count}, claimed_by={self.claimed_by!r})"


class OutboxRelay:
    """Sans-IO outbox relay over a SQLAlchemy engine (spec §3.6). See the module docstring.

    Building blocks, for drivers that stage crashes and races: `claim_batch()` (step 1; its
    `on_candidates` hook runs between the candidate SELECT and the claiming UPDATE),
    `process_claimed(row)` (steps 2-4 for one row), `mark_dispatched(row)` and
    `mark_failed_attempt(row, error)`. A relay that "dies after claiming" is one whose driver calls
    `claim_batch()` and nothing else.

    Observer records (component ``outbox_relay``): ``decision`` ``claimed`` (per pass),
    ``event`` ``dispatched`` / ``retry_scheduled`` / ``failed`` (DLQ) / ``payload_error``, and
    ``decision`` ``claim_lost`` (hardened).
    """

    __slots__ = ("engine", "target", "config", "clock", "epoch", "observer", "name", "_metrics",
                 "_hardened", "_pg")

    def __init__(self, engine: Engine, target: EventTransport, config: RelayConfig | None = None, *,
                 clock: Clock, epoch: float = 0.0, observer: Observer | None = None,
                 name: str | None = None) -> None:
        self.engine = engine
        self.target = target
        self.config = config if config is not None else RelayConfig()
        self.clock = clock
        self.epoch = epoch
        self.observer = observer
        self.name = name or self.config.worker_id
        self._metrics = RelayMetricsSnapshot()
        self._hardened = self.config.variant == "hardened"
        self._pg = engine.dialect.name == "postgresql"

    @property
    def worker_id(self) -> str:
        return self.config.worker_id

    def now(self) -> datetime:
        return clock_datetime(self.clock, self.epoch)

    def metrics(self) -> RelayMetricsSnapshot:
        """A copy of the counters (Rust `metrics()`)."""
        return self._metrics.copy()

    def backoff(self, retry_count: int) -> timedelta:
        return timedelta(milliseconds=self.config.backoff_ms(retry_count))

    # -- the pass ------------------------------------------------------------------------

    def process_pending_once(self) -> int:
        """Claim a batch and process it in order; returns how many rows were claimed.
        Raises `OutboxPayloadError` (faithful) at the first undecodable row, leaving it and the
        rest of the batch claimed; database errors propagate the same way."""
        claimed = self.claim_batch()
        for row in claimed:
            self.process_claimed(row)
        return len(claimed)

    def run_step(self) -> float:
        """One iteration of Rust's ``run()`` loop (02-14+): a pass whose error is recorded, not
        raised. Returns the sleep before the next pass: 0 after work, 0.1 s idle, 1 s on error."""
        try:
            count = self.process_pending_once()
        except Exception as exc:  # noqa: BLE001 - Rust's run() logs every error and carries on
            if self.observer is not None:
                self.observer.decision(COMPONENT, self.name, "pass_failed", type(exc).__name__,
                                       {"error": str(exc)})
            return RUN_ERROR_SLEEP_S
        return 0.0 if count else RUN_IDLE_SLEEP_S

    # -- step 1: claim -------------------------------------------------------------------

    def claim_batch(self, on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> list[ClaimedEvent]:
        """Claim up to ``batch_size`` due rows for this worker (one transaction).

        `on_candidates(ids)` is called after the candidate SELECT and before the claiming
        UPDATE, inside the open transaction: a seam for drivers and tests to run another relay
        exactly there (the interleaving that matters for claim races)."""
        now = self.now()
        worker = self.config.worker_id
        c = sys_events.c
        due = or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now)
        if self._hardened:
            stale_before = now - timedelta(seconds=self.config.claim_ttl_s)
            unclaimed = or_(c.claimed_at.is_(None), c.claimed_at <= stale_before)
        else:
            unclaimed = c.claimed_at.is_(None)
        candidates_q = (select(c.id, c.claimed_at).where(c.status == _PENDING, due, unclaimed)
                        .order_by(c.created_at, c.id).limit(self.config.batch_size))
        if self._hardened and self._pg:
            candidates_q = candidates_q.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            candidates = conn.execute(candidates_q).all()
            ids = [row.id for row in candidates]
            if not ids:
                return []
            if on_candidates is not None:
                on_candidates(list(ids))
            if self._hardened:
                claim_where = and_(c.id.in_(ids), c.status == _PENDING, due, unclaimed)
                reselect_where = and_(c.id.in_(ids), c.status == _PENDING, c.claimed_by == worker,
                                      c.claimed_at == now)
            else:
                # Rust 02-13: only claimed_at IS NULL is re-checked; the re-select trusts claimed_by.
                claim_where = and_(c.id.in_(ids), c.claimed_at.is_(None))
                reselect_where = and_(c.id.in_(ids), c.claimed_by == worker, c.claimed_at.is_not(None))
            conn.execute(update(sys_events).where(claim_where).values(claimed_by=worker, claimed_at=now))
            rows = conn.execute(select(sys_events).where(reselect_where)
                                .order_by(c.created_at, c.id)).mappings().all()
        claimed = [ClaimedEvent(row) for row in rows]
        if self.observer is not None:
            self.observer.decision(COMPONENT, self.name, "claimed", None,
                                   {"candidates": len(ids), "claimed": len(claimed),
                                    "ids": [str(row.id) for row in claimed]})
            previously_claimed = {row.id for row in candidates if row.claimed_at is not None}
            for row in claimed:
                if row.id in previously_claimed:
                    self._row_transition(row, "claimed", "reclaim")
                else:
                    self._row_transition(row, "pending", "claim")
        return claimed

    def _row_transition(self, row: ClaimedEvent, source: str, trigger: str) -> None:
        target = ROW_TRANSITIONS.target_of(source, trigger, self.config.variant)
        if target is None:
            raise IllegalTransition(f"sys_event: undeclared transition from {source} on {trigger!r}")
        self.observer.transition("sys_event", str(row.id), source, target,  # type: ignore[union-attr]
                                 f"{trigger} by {self.config.worker_id}")

    # -- steps 2-4: process one row ------------------------------------------------------

    def decode(self, row: ClaimedEvent) -> EventEnvelope:
        """The row's envelope, or `OutboxPayloadError` naming the row."""
        from rustok_sim.model.events.envelope import EventEnvelope

        payload = row.payload
        if isinstance(payload, UnparsablePayload):
            raise OutboxPayloadError(row.id, f"not JSON: {payload.error}")
        try:
            return EventEnvelope.from_json(payload)
        except ValueError as exc:  # EventFormatError (and pydantic's) are ValueErrors
            raise OutboxPayloadError(row.id, str(exc)) from None

    def process_claimed(self, row: ClaimedEvent) -> bool:
        """Publish one claimed row and record the outcome; True if it was dispatched.

        The target's ``Err`` is a raised `RustokError`; any other exception is a crash of the
        relay (Rust panic) and propagates with the row still claimed."""
        started = self.clock()
        try:
            envelope = self.decode(row)
        except OutboxPayloadError as exc:
            if self.observer is not None:
                self.observer.event(COMPONENT, self.name, "payload_error", str(row.id), row.event_type,
                                    None, {"error": str(exc)})
            if not self._hardened:
                raise  # Rust `from_value(...)?`: the pass ends here; this row and the rest stay claimed
            self._count_processed(started)
            self._metrics.failure_total += 1
            self.mark_failed_attempt(row, exc)
            return False
        error: RustokError | None = None
        try:
            self.target.publish(envelope)
        except RustokError as exc:
            error = exc
        self._count_processed(started)
        if error is None:
            self.mark_dispatched(row, envelope)
            self._metrics.success_total += 1
            return True
        self._metrics.failure_total += 1
        self.mark_failed_attempt(row, error, envelope)
        return False

    def _count_processed(self, started: float) -> None:
        # Instant::elapsed().as_millis(): whole milliseconds, truncated. Round to microseconds
        # first (as `clock_datetime` does) so float noise never turns 3 ms into 2 ms.
        elapsed_us = max(0, round((self.clock() - started) * 1_000_000))
        elapsed_ms = elapsed_us // 1000
        self._metrics.latency_ms_total += elapsed_ms
        self._metrics.processed_total += 1

    def mark_dispatched(self, row: ClaimedEvent, envelope: EventEnvelope | None = None) -> None:
        now = self.now()
        values = dict(status=_DISPATCHED, dispatched_at=now, claimed_by=None, claimed_at=None,
                      last_error=None, next_attempt_at=None)
        self._update_row(row, values)
        if self.observer is not None:
            self._row_transition(row, "claimed", "published")
            self.observer.event(COMPONENT, self.name, "dispatched", str(row.id), row.event_type,
                                str(envelope.tenant_id) if envelope is not None else None,
                                {"attempt": row.retry_count + 1})

    def mark_failed_attempt(self, row: ClaimedEvent, error: BaseException,
                            envelope: EventEnvelope | None = None) -> None:
        """Count a failed attempt: reschedule with backoff, or move to ``failed`` at max_attempts.
        The new retry_count is the claimed row's + 1 (Rust uses the claim-time model)."""
        retry_count = row.retry_count + 1
        message = str(error)
        if self._hardened:
            message = message[:LAST_ERROR_MAX]
        values: dict[str, Any] = dict(retry_count=retry_count, last_error=message, claimed_by=None,
                                      claimed_at=None)
        if retry_count >= self.config.max_attempts:
            values.update(status=_FAILED, next_attempt_at=None)
        else:
            next_attempt_at = self.now() + self.backoff(retry_count)
            values.update(status=_PENDING, next_attempt_at=next_attempt_at)
        moved_to_dlq = values["status"] == _FAILED

        def count_outcome() -> None:
            if moved_to_dlq:
                self._metrics.dlq_total += 1
            else:
                self._metrics.retry_total += 1

        self._update_row(row, values, on_found=count_outcome)
        if self.observer is not None:
            self._row_transition(row, "claimed", "max_attempts" if moved_to_dlq else "retry_scheduled")
            detail: dict[str, Any] = {"retry_count": retry_count, "error": message}
            if not moved_to_dlq:
                detail["next_attempt_at"] = values["next_attempt_at"].isoformat()
                detail["backoff_ms"] = self.config.backoff_ms(retry_count)
            self.observer.event(COMPONENT, self.name, "failed" if moved_to_dlq else "retry_scheduled",
                                str(row.id), row.event_type,
                                str(envelope.tenant_id) if envelope is not None else None, detail)

    def _update_row(self, row: ClaimedEvent, values: dict[str, Any],
                    on_found: Callable[[], None] | None = None) -> None:
        """Write `values` to the row. `on_found` runs where Rust counts the outcome: faithful
        (02-13) between `find_by_id` and the UPDATE, so a failing UPDATE (e.g. a `last_error`
        longer than varchar(2048) on PostgreSQL) has already been counted; hardened only once the
        UPDATE kept the claim."""
        c = sys_events.c
        with self.engine.begin() as conn:
            if self._hardened:
                # Only while the claim is still ours: a row taken over after the lease must not be
                # completed by the worker that lost it.
                result = conn.execute(update(sys_events).where(
                    c.id == row.id, c.status == _PENDING, c.claimed_by == row.claimed_by,
                    c.claimed_at == row.claimed_at).values(**values))
                if result.rowcount != 1:
                    if self.observer is not None:
                        self.observer.decision(COMPONENT, self.name, "claim_lost", None, {"event_id": str(row.id)})
                    raise ExternalError(f"outbox event {row.id} claim was lost before completion")
                if on_found is not None:
                    on_found()
                return
            # Rust 02-13: find_by_id (NotFound if gone), then update by primary key only.
            exists = conn.execute(select(c.id).where(c.id == row.id)).first()
            if exists is None:
                raise NotFoundError(f"sys_event {row.id}")
            if on_found is not None:
                on_found()
            conn.execute(update(sys_events).where(c.id == row.id).values(**values))

    def __repr__(self) -> str:
        return f"OutboxRelay({self.config.worker_id!r}, variant={self.config.variant}, metrics={self._metrics!r})"


def stale_claims(engine: Engine, older_than: datetime) -> list[uuid.UUID]:
    """Ids of pending rows claimed at or before `older_than`: in the faithful relay these are
    stuck for good (no code path reclaims them)."""
    c = sys_events.c
    with engine.connect() as conn:
        return list(conn.execute(select(c.id).where(c.status == _PENDING, c.claimed_at.is_not(None),
                                                    c.claimed_at <= older_than)
                                 .order_by(c.created_at, c.id)).scalars())
