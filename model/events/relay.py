"""OutboxRelay (`rustok-outbox/src/relay.rs`, spec §3.6): the relay's policy, pure, over an `OutboxStore`.

One pass, `process_pending_once()`:

1. **Claim** (`claim_batch`): the store selects up to ``batch_size`` rows that are pending, due
   (``next_attempt_at`` NULL or <= now) and unclaimed, oldest first (created_at, id); claims those
   the request still allows with ``claimed_by = worker, claimed_at = now``; and returns the rows
   now claimed by this worker (the re-select).
2. **Publish** each claimed row in order: `begin_dispatch(row)` decodes the payload into an
   `EventEnvelope` (faithful: a failure aborts the rest of the pass, and every row of the batch not
   yet processed stays claimed); the target publishes it; the elapsed milliseconds are added to
   ``latency_ms_total`` and ``processed_total`` counts it.
3. Success (`mark_dispatched`): ``dispatched``, ``dispatched_at = now``, claim / last_error /
   next_attempt_at cleared.
4. Failure (`mark_failed_attempt`): ``retry_count + 1``, ``last_error`` = the error's text, claim
   cleared; at ``max_attempts`` (5) the row is ``failed`` (the DLQ), otherwise it stays pending
   with ``next_attempt_at = now + backoff(retry_count)``.

``backoff(n) = min(base * 2**min(n-1, 16), max)``: with the defaults the delays before attempts
2..5 are 1, 2, 4 and 8 s, and the 5th failure moves the row to ``failed``.

**Publishing is a step a driver can put time into.** `process_claimed(row)` is `begin_dispatch`,
``target.publish`` and `mark_dispatched` / `mark_failed_attempt` in a row; a simpy driver calls
the three itself and yields between them, so relay latency is the virtual time the publish took.
Both paths count the same metrics at the same points.

Variants (one `ClaimRequest` per pass says which, and every store applies it the same way):

- ``faithful`` (02-13 code): nothing ever reclaims a row whose relay died after claiming it (spec
  §3.6 NOT FOUND): every path requires ``claimed_at IS NULL``, so such rows are stuck for good.
  *(analysis)* The claim's UPDATE re-checks only ``claimed_at IS NULL`` (not status or due time)
  and the re-select does not check status, so a relay whose candidate SELECT is older than another
  relay's complete pass re-claims and re-publishes rows that pass already dispatched (or already
  failed and rescheduled): the ``stale_claim`` edges. Completions update by primary key only, so
  a late completion from a stale snapshot lands whatever the row's state is now: the
  "late completion" edges.
- ``hardened`` (what upstream adopted later): a claim is a lease of ``claim_ttl_s`` (60 s) after
  which another relay may take the row (``reclaim``); the candidate SELECT takes row locks with
  ``FOR UPDATE SKIP LOCKED`` where the store can; the UPDATE and re-select repeat the full
  eligibility condition; the marks only touch a row still claimed by this worker at this claim
  time (else ``External error: outbox event <id> claim was lost before completion``); an
  undecodable payload counts as a failed attempt (so it reaches the DLQ) instead of aborting the
  pass; and ``last_error`` is cut to the column's 2048 characters.

Time: ``now`` is the injected clock in whole microseconds (`rustok_sim.model.events.outbox`);
latency is measured with the same clock. Nothing sleeps: `run_step()` does one pass of Rust's
``run()`` loop and returns how long that loop would sleep before the next one.

The worker id (``claimed_by``, and the relay's name in the trace) is ``RelayConfig.worker_id`` or
``relay-<uuid v4>`` drawn from the seeded ``ids`` source the driver passes; there is no uuid4
default, so (config, seed) fixes the trace.

State outside the table: the row table (`ROW_TRANSITIONS`) is each row's life; the relay itself
keeps only counters (`RelayMetricsSnapshot`: Rust's atomics, not states) and, per claimed
snapshot, the clock time its publish began (for latency). A row's retry count, due time and error
are data its moves write, kept by the store.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, require_observer
from rustok_sim.model.core.transitions import Edge, TransitionTable
from rustok_sim.model.events.bus import (
    EventTransport,
    ExternalError,
    RustokError,
    SerializationError,
    require_transport,
)
from rustok_sim.model.events.outbox import (
    LAST_ERROR_MAX,
    MICROS,
    WORKER_ID_MAX,
    ClaimedEvent,
    OutboxRow,
    OutboxStore,
    SysEventStatus,
    UnparsablePayload,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope
    from rustok_sim.model.events.ids import IdGenerator

COMPONENT = "outbox_relay"
ROW_COMPONENT = "sys_event"
RUN_IDLE_SLEEP_S = 0.1
RUN_ERROR_SLEEP_S = 1.0
_PENDING = SysEventStatus.PENDING.value

Variant = Literal["faithful", "hardened"]
PROFILE_VARIANTS: Mapping[str, Variant] = {"faithful": "faithful", "hardened": "hardened"}


class RowState(str, Enum):
    """A row's state as the relay sees it: its status, or "claimed" while a claim is on it."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DISPATCHED = "dispatched"
    FAILED = "failed"


_FAITHFUL = frozenset({"faithful"})
_HARDENED = frozenset({"hardened"})
_LATE = "late completion from a stale claim snapshot: Rust 02-13 updates by primary key only"

ROW_TRANSITIONS = TransitionTable(ROW_COMPONENT, (
    Edge("pending", "claimed", "claim", "pending, due and unclaimed; claimed_at = now"),
    Edge("claimed", "claimed", "reclaim", "the claim's lease (claim_ttl_s) expired; another worker takes the row",
         _HARDENED),
    Edge("pending", "claimed", "stale_claim", "a stale candidate (no longer due: another relay failed and "
         "rescheduled it since this relay's SELECT); the UPDATE re-checks only claimed_at IS NULL", _FAITHFUL),
    Edge("dispatched", "claimed", "stale_claim", "a stale candidate another relay dispatched since this "
         "relay's SELECT; the UPDATE re-checks only claimed_at IS NULL", _FAITHFUL),
    Edge("failed", "claimed", "stale_claim", "a stale candidate another relay moved to the DLQ since this "
         "relay's SELECT; the UPDATE re-checks only claimed_at IS NULL", _FAITHFUL),
    Edge("claimed", "dispatched", "published", "target.publish succeeded"),
    Edge("claimed", "pending", "retry_scheduled", "publish failed, retry_count < max_attempts"),
    Edge("claimed", "failed", "max_attempts", "publish failed, retry_count >= max_attempts (DLQ)"),
    *(Edge(source, target, trigger, _LATE, _FAITHFUL)
      for source in ("pending", "dispatched", "failed")
      for trigger, target in (("published", "dispatched"), ("retry_scheduled", "pending"),
                              ("max_attempts", "failed"))),
    *(Edge(source, "dispatched", "acknowledged", "OutboxTransport.acknowledge: dispatched now, claim cleared")
      for source in ("pending", "claimed", "dispatched", "failed")),
), states=RowState)
"""A ``sys_events`` row's life. A row is born pending (the ``written`` event, not a transition).
There is deliberately no edge out of "claimed" for a relay that died: in the faithful variant such
a row stays claimed for good. Records: component ``sys_event``, the row id as instance, the relay
worker in ``detail["worker"]``."""


# --------------------------------------------------------------------------------------------
# Config and policy
# --------------------------------------------------------------------------------------------


class RelayConfig(BaseModel):
    """Spec §3.6 `RelayConfig` defaults, plus the variant and the hardened claim lease.

    ``worker_id`` None means "draw ``relay-<uuid v4>`` from the relay's seeded ``ids``" (Rust's
    default is an unseeded v4 uuid; here ids must be reproducible)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    batch_size: int = Field(100, ge=0, description="rows claimed per pass")
    max_attempts: int = Field(5, ge=0, le=2**31 - 1, description="publish attempts before the row is failed")
    backoff_base_s: float = Field(1.0, ge=0, allow_inf_nan=False, description="first retry delay, seconds")
    backoff_max_s: float = Field(60.0, ge=0, allow_inf_nan=False, description="retry delay cap, seconds")
    worker_id: str | None = Field(None, min_length=1, max_length=WORKER_ID_MAX,
                                  description="claimed_by value; None: relay-<uuid v4> from the relay's seeded ids")
    variant: Variant = "faithful"
    claim_ttl_s: float = Field(60.0, gt=0, allow_inf_nan=False,
                               description="hardened only: a claim older than this may be taken over")

    def backoff_ms(self, retry_count: int) -> int:
        """Delay before the next attempt after `retry_count` failures, in whole milliseconds."""
        exponent = min(max(retry_count - 1, 0), 16)
        base_ms = round(self.backoff_base_s * 1_000_000) // 1000  # Duration::as_millis truncates
        max_ms = round(self.backoff_max_s * 1_000_000) // 1000
        return min(base_ms * 2**exponent, max_ms)


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """One pass's claim, as the policy defines it; every store applies exactly this.

    - eligible (the candidate SELECT): status pending, due at ``now_us``, and unclaimed: no claim,
      or (``lease_cutoff_us`` set, hardened) a claim at or before the cutoff;
    - still claimable (the UPDATE): with ``recheck_eligibility`` (hardened) eligible again, else
      (faithful) only ``claimed_at IS NULL``;
    - claimed (the re-select): hardened: pending and claimed by ``worker`` at ``now_us``;
      faithful: claimed by ``worker`` (any time, any status);
    - ``lock_candidates``: the SELECT takes row locks, skipping locked rows (PostgreSQL's
      ``FOR UPDATE SKIP LOCKED``; a store without row locks relies on the recheck).
    """

    worker: str
    now_us: int
    batch_size: int
    lease_cutoff_us: int | None
    recheck_eligibility: bool
    lock_candidates: bool

    @classmethod
    def for_pass(cls, config: RelayConfig, worker: str, now_us: int) -> ClaimRequest:
        hardened = config.variant == "hardened"
        cutoff = now_us - round(config.claim_ttl_s * MICROS) if hardened else None
        return cls(worker, now_us, config.batch_size, cutoff, hardened, hardened)

    def is_eligible(self, row: OutboxRow) -> bool:
        """The candidate SELECT's condition."""
        next_attempt_at, claimed_at = row.next_attempt_at, row.claimed_at
        return (row.status == _PENDING and (next_attempt_at is None or next_attempt_at <= self.now_us)
                and (claimed_at is None or (self.lease_cutoff_us is not None and claimed_at <= self.lease_cutoff_us)))

    def allows(self, row: OutboxRow) -> bool:
        """The claiming UPDATE's condition."""
        if self.recheck_eligibility:
            return self.is_eligible(row)
        return row.claimed_at is None  # Rust 02-13: only claimed_at IS NULL is re-checked

    def reselects(self, row: OutboxRow) -> bool:
        """The re-select's condition (which rows the claim returns)."""
        if self.recheck_eligibility:
            return row.status == _PENDING and row.claimed_by == self.worker and row.claimed_at == self.now_us
        return row.claimed_by == self.worker and row.claimed_at is not None  # trusts claimed_by


def is_due(row: OutboxRow, now_us: int) -> bool:
    return row.next_attempt_at is None or row.next_attempt_at <= now_us


def is_unclaimed(row: OutboxRow, lease_cutoff_us: int | None) -> bool:
    claimed_at = row.claimed_at
    return claimed_at is None or (lease_cutoff_us is not None and claimed_at <= lease_cutoff_us)


def claim_trigger(row: ClaimedEvent, now_us: int) -> tuple[RowState, str]:
    """(state before, trigger) of a claim the store made: a taken-over lease is ``reclaim``; a row
    that was not eligible any more when the UPDATE ran (faithful stale candidate) ``stale_claim``."""
    if row.previous_claimed_at is not None:
        return RowState.CLAIMED, "reclaim"
    if row.status == _PENDING:
        return RowState.PENDING, "claim" if is_due(row, now_us) else "stale_claim"
    return RowState(row.status), "stale_claim"


@dataclass(frozen=True, slots=True)
class RelayMetricsSnapshot:
    """`RelayMetricsSnapshot`: counters since the relay was made."""

    success_total: int = 0
    failure_total: int = 0
    retry_total: int = 0
    dlq_total: int = 0
    latency_ms_total: int = 0
    processed_total: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class OutboxPayloadError(SerializationError):
    """A claimed row's payload is not a serialized `EventEnvelope`. Names the row."""

    def __init__(self, event_id: uuid.UUID, reason: str) -> None:
        self.event_id, self.reason = event_id, reason
        super().__init__(f"sys_event {event_id}: payload is not a valid EventEnvelope: {reason}")


def decode_payload(row: OutboxRow) -> EventEnvelope:
    """The row's envelope, or `OutboxPayloadError` naming the row."""
    from rustok_sim.model.events.envelope import EventEnvelope

    payload = row.payload
    if isinstance(payload, EventEnvelope):
        return payload
    if isinstance(payload, UnparsablePayload):
        raise OutboxPayloadError(row.id, f"not JSON: {payload.error}")
    if not isinstance(payload, (dict, str, bytes, bytearray)):
        raise OutboxPayloadError(row.id, f"expected a JSON object, got {type(payload).__name__}")
    try:
        return EventEnvelope.from_json(payload)
    except ValueError as exc:  # EventFormatError (and pydantic's) are ValueErrors
        raise OutboxPayloadError(row.id, str(exc)) from None


def worker_id_from(ids: object) -> str:
    """``relay-<uuid v4>`` drawn from a seeded source: a `random.Random` or an `IdGenerator`."""
    if isinstance(ids, random.Random):
        return f"relay-{uuid.UUID(int=ids.getrandbits(128), version=4)}"
    new_id = getattr(ids, "new_id", None)
    if callable(new_id):
        return f"relay-{new_id()}"
    raise TypeError(f"OutboxRelay needs ids= a seeded random.Random or IdGenerator to draw its worker id, "
                    f"got {type(ids).__name__}")


# --------------------------------------------------------------------------------------------
# The relay
# --------------------------------------------------------------------------------------------


class OutboxRelay:
    """The outbox relay over any `OutboxStore` (spec §3.6). See the module docstring.

    Building blocks, for drivers that stage time, crashes and races: `claim_batch()` (step 1; its
    `on_candidates` hook runs between the candidate SELECT and the claiming UPDATE),
    `begin_dispatch(row)` (decode, start the latency clock), `mark_dispatched(row)` and
    `mark_failed_attempt(row, error)`; `process_claimed(row)` is those with ``target.publish`` in
    between. A relay that "dies after claiming" is one whose driver calls `claim_batch()` and
    nothing else.

    Observer records (component ``outbox_relay``, instance the worker id unless `name` is given):
    ``decision`` ``claimed`` (per pass with candidates), ``event`` ``dispatched`` /
    ``retry_scheduled`` / ``failed`` (DLQ) / ``payload_error``, ``decision`` ``claim_lost``
    (hardened) and ``pass_failed`` (`run_step`); and the rows' ``sys_event`` transitions.
    """

    __slots__ = ("store", "target", "config", "clock", "observer", "name", "worker_id", "_hardened",
                 "_machine", "_transitions", "_events", "_decisions", "_success", "_failure", "_retry",
                 "_dlq", "_latency_ms", "_processed")

    def __init__(self, store: OutboxStore, target: EventTransport, config: RelayConfig | None = None, *,
                 clock: Clock, ids: random.Random | IdGenerator | None = None,
                 observer: Observer | None = None, name: str | None = None) -> None:
        if not isinstance(store, OutboxStore):
            raise TypeError(f"OutboxRelay needs an OutboxStore (InMemoryOutboxStore, SqlOutboxStore), "
                            f"got {given(store)}")
        target = require_transport(target, "OutboxRelay", "target= ")
        if config is None:
            config = RelayConfig()
        elif not isinstance(config, RelayConfig):
            raise TypeError(f"OutboxRelay config must be a RelayConfig, got {given(config, RelayConfig)}")
        if name is not None:
            name = require_name(name, "OutboxRelay")
        if config.worker_id is None and ids is None:
            raise TypeError("OutboxRelay needs a worker id: RelayConfig(worker_id=...) or ids= a seeded "
                            "random.Random / IdGenerator (ids reach the trace, so there is no uuid4 default)")
        self.store = store
        self.target = target
        self.config = config
        self.clock = require_clock(clock, "OutboxRelay")
        self.worker_id: str = config.worker_id if config.worker_id is not None else worker_id_from(ids)
        observer = require_observer(observer, f"OutboxRelay {name or self.worker_id!r}")
        self.observer = observer
        self.name = name or self.worker_id
        self._hardened = config.variant == "hardened"
        self._machine = ROW_TRANSITIONS.bind(config.variant)
        wants = observer.wants if observer is not None else None
        self._transitions = observer if wants is not None and wants("transition") else None
        self._events = observer if wants is not None and wants("event") else None
        self._decisions = observer if wants is not None and wants("decision") else None
        self._success = self._failure = self._retry = self._dlq = self._latency_ms = self._processed = 0

    def now_us(self) -> int:
        return round(self.clock() * MICROS)

    def metrics(self) -> RelayMetricsSnapshot:
        """The counters now (Rust `metrics()`), as a frozen value."""
        return RelayMetricsSnapshot(self._success, self._failure, self._retry, self._dlq, self._latency_ms,
                                    self._processed)

    def backoff_ms(self, retry_count: int) -> int:
        return self.config.backoff_ms(retry_count)

    # -- the pass ------------------------------------------------------------------------

    def process_pending_once(self) -> int:
        """Claim a batch and process it in order; returns how many rows were claimed.
        Raises `OutboxPayloadError` (faithful) at the first undecodable row, leaving it and the
        rest of the batch claimed; store errors propagate the same way."""
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
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "pass_failed", type(exc).__name__,
                                         {"error": str(exc)})
            return RUN_ERROR_SLEEP_S
        return 0.0 if count else RUN_IDLE_SLEEP_S

    # -- step 1: claim -------------------------------------------------------------------

    def claim_batch(self, on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> list[ClaimedEvent]:
        """Claim up to ``batch_size`` due rows for this worker.

        `on_candidates(ids)` is called after the candidate SELECT and before the claiming UPDATE:
        a seam for drivers and tests to run another relay exactly there (the interleaving that
        matters for claim races)."""
        now = round(self.clock() * MICROS)
        result = self.store.claim(ClaimRequest.for_pass(self.config, self.worker_id, now), on_candidates)
        rows = result.rows
        if result.candidates and self._decisions is not None:
            self._decisions.decision(COMPONENT, self.name, "claimed", None,
                                     {"candidates": result.candidates, "claimed": len(rows),
                                      "ids": [str(row.id) for row in rows]})
        fire, observer = self._machine.fire, self._transitions
        detail = {"worker": self.worker_id} if observer is not None else None
        for row in rows:
            source, trigger = claim_trigger(row, now)
            fire(source, trigger, observer, str(row.id) if observer is not None else "", detail)
        return rows

    # -- steps 2-4: process one row ------------------------------------------------------

    def decode(self, row: OutboxRow) -> EventEnvelope:
        """The row's envelope, or `OutboxPayloadError` naming the row."""
        return decode_payload(row)

    def begin_dispatch(self, row: ClaimedEvent) -> EventEnvelope | None:
        """Step 2's start: note the time (latency) and decode the payload. Returns the envelope
        to publish, or None when the payload was bad and the hardened relay already counted it as
        a failed attempt. Faithful: a bad payload raises `OutboxPayloadError` (Rust's
        `from_value(...)?`: the pass ends there; this row and the rest stay claimed)."""
        row.started = self.clock()
        try:
            return decode_payload(row)
        except OutboxPayloadError as exc:
            if self._events is not None:
                self._events.event(COMPONENT, self.name, "payload_error", str(row.id), row.event_type,
                                   None, {"error": str(exc)})
            if not self._hardened:
                raise
            self.mark_failed_attempt(row, exc)
            return None

    def process_claimed(self, row: ClaimedEvent) -> bool:
        """Publish one claimed row and record the outcome; True if it was dispatched.

        The target's ``Err`` is a raised `RustokError`; any other exception is a crash of the
        relay (Rust panic) and propagates with the row still claimed."""
        envelope = self.begin_dispatch(row)
        if envelope is None:
            return False
        try:
            self.target.publish(envelope)
        except RustokError as exc:
            self.mark_failed_attempt(row, exc, envelope)
            return False
        self.mark_dispatched(row, envelope)
        return True

    def _count_processed(self, row: ClaimedEvent) -> None:
        # Instant::elapsed().as_millis(): whole milliseconds, truncated. Round to microseconds
        # first so float noise never turns 3 ms into 2 ms. A row never begun took no time.
        started = row.started
        if started is not None:
            elapsed_us = max(0, round((self.clock() - started) * MICROS))
            self._latency_ms += elapsed_us // 1000
        self._processed += 1

    def mark_dispatched(self, row: ClaimedEvent, envelope: EventEnvelope | None = None) -> None:
        """Step 3: the publish succeeded. Counts the row processed (latency since
        `begin_dispatch`), writes it dispatched, then counts the success."""
        self._count_processed(row)
        previous = self.store.mark_dispatched(row, round(self.clock() * MICROS), guarded=self._hardened)
        if previous is None:
            self._claim_lost(row)
        observer = self._transitions
        self._machine.fire(previous, "published", observer, str(row.id) if observer is not None else "",
                           {"worker": self.worker_id} if observer is not None else None)
        self._success += 1
        if self._events is not None:
            self._events.event(COMPONENT, self.name, "dispatched", str(row.id), row.event_type,
                               str(envelope.tenant_id) if envelope is not None else None,
                               {"attempt": row.retry_count + 1})

    def mark_failed_attempt(self, row: ClaimedEvent, error: BaseException,
                            envelope: EventEnvelope | None = None) -> None:
        """Step 4: count a failed attempt (processed, latency, failure), then reschedule with
        backoff, or move to ``failed`` at max_attempts. The new retry_count is the claimed row's
        + 1 (Rust uses the claim-time model). The retry / DLQ counter moves where Rust's does:
        faithful after finding the row and before the UPDATE (so a failing UPDATE has been
        counted), hardened once the guarded UPDATE kept the claim."""
        self._count_processed(row)
        self._failure += 1
        retry_count = row.retry_count + 1
        message = str(error)
        if self._hardened:
            message = message[:LAST_ERROR_MAX]
        to_dlq = retry_count >= self.config.max_attempts
        trigger = "max_attempts" if to_dlq else "retry_scheduled"
        count = self._count_dlq if to_dlq else self._count_retry
        faithful_count = None if self._hardened else count
        now = round(self.clock() * MICROS)
        backoff_ms = 0
        if to_dlq:
            previous = self.store.move_to_dlq(row, retry_count, message, guarded=self._hardened,
                                              before_write=faithful_count)
        else:
            backoff_ms = self.config.backoff_ms(retry_count)
            previous = self.store.reschedule(row, retry_count, message, now + backoff_ms * 1000,
                                             guarded=self._hardened, before_write=faithful_count)
        if previous is None:
            self._claim_lost(row)
        if self._hardened:
            count()
        observer = self._transitions
        self._machine.fire(previous, trigger, observer, str(row.id) if observer is not None else "",
                           {"worker": self.worker_id} if observer is not None else None)
        if self._events is not None:
            detail: dict[str, Any] = {"retry_count": retry_count, "error": message}
            if not to_dlq:
                detail["next_attempt_at_us"] = now + backoff_ms * 1000
                detail["backoff_ms"] = backoff_ms
            self._events.event(COMPONENT, self.name, "failed" if to_dlq else "retry_scheduled",
                               str(row.id), row.event_type,
                               str(envelope.tenant_id) if envelope is not None else None, detail)

    def _count_retry(self) -> None:
        self._retry += 1

    def _count_dlq(self) -> None:
        self._dlq += 1

    def _claim_lost(self, row: ClaimedEvent) -> NoReturn:
        if self._decisions is not None:
            self._decisions.decision(COMPONENT, self.name, "claim_lost", None, {"event_id": str(row.id)})
        raise ExternalError(f"outbox event {row.id} claim was lost before completion")

    def __repr__(self) -> str:
        return f"OutboxRelay({self.worker_id!r}, variant={self.config.variant}, metrics={self.metrics()!r})"
