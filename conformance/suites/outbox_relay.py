"""The outbox relay suite: target relays and reference relays driven side by side, under one
controlled clock, over two outboxes that receive the same writes.

**What the target is.** A factory ``factory(setup, clock) -> relay`` is called once per relay
worker; ``setup`` is a `RelaySetup`: the `RelayConfig` (the suite's variant, a deterministic
``worker_id`` ``relay-0``, ``relay-1``, ...; a restarted relay gets the next one), the store the
relay must claim from (`RelaySetup.store`, an `OutboxStore`) and the downstream transport it
publishes to (`RelaySetup.downstream`, an `EventTransport`). The object returned must speak the
``outbox_relay`` protocol (`rustok_sim.model.events.protocols.OutboxRelayProtocol`). The reference
factory is `reference_relay`: the model's `OutboxRelay`.

**Two sides, each with its own everything.** The suite keeps a target side and a reference side;
each has its own `InMemoryOutboxStore` (override `new_store` for another store), its own
`OutboxTransport` and `TransactionalEventBus` writing to it (their id generators have the same
seed, so both sides get the same envelope ids, created_at and payloads), its own `Downstream` (a
recording transport that fails on demand), and its own relays, one per worker id. Relays of one
side share that side's store, as relays share ``sys_events``. Every operation runs on the target
side, then on the reference side, at the same clock reading.

**Steps** (Hypothesis rules): commit or roll back a transaction writing 1-3 rows (now and then,
at most once per example, followed by a committed row whose payload is not an envelope); a pass
(`process_pending_once` or `run_step`) by a worker; a claim (`claim_batch`) kept "in hand" by a
worker holding nothing, finished later a few rows at a time by `process_claimed` or by the split
path (`begin_dispatch`, a publish taking virtual time, `mark_dispatched` / `mark_failed_attempt`);
a claim race (worker A's claim with worker B's whole pass run between A's candidate SELECT and its
UPDATE, the `on_candidates` seam, the downstream up or down for B); a slow relay (A claims, the
clock moves to the exact end of A's lease, B passes, A finishes); a relay crash after its claim
(its batch is never published) or between a publish and its mark (staged, or the downstream
panicking right after it accepted a row, which the relay's pass must propagate); the downstream
down, up, or failing the next 1 or 3 publishes, and an outage (passes at each retry's exact due
time while it is down, through backoff to the DLQ); acknowledging a row through the outbox
transport (any row, one in the DLQ, or one a relay holds, which it then completes late); clock
jumps by fixed amounts and to the exact microsecond of, or one before, the next retry due time
and the next lease expiry, each with a pass there (`probe_boundary`); a drain (downstream up,
held rows finished, the clock past every due time and lease, passes until one claims nothing).
Relay crashes are capped at two per example: in faithful each strands its batch for good.

**Compared after every operation** (each call made on both sides, inside compound rules too, so
a difference names the call that made it): the outcome (the value returned: the claimed rows and
their snapshot fields, a pass's count, ``run_step``'s sleep, ``process_claimed``'s bool,
``begin_dispatch``'s envelope id; or the error's kind, text, ``message``, ``event_id`` and
``reason``); then every row of both stores (order, status, retry_count, next_attempt_at,
last_error, claimed_by, claimed_at, created_at, dispatched_at, event_type, schema_version); every
relay's ``metrics()`` (dead relays too); what each downstream received (ids, in order) and every
attempt it saw (id, delivered / failed); the rows each worker holds in hand. A new relay's
``worker_id`` and ``config`` are compared when it starts. Payloads are not compared (both sides
write the same envelopes).

**Invariants after every step:** *no ghosts* (no rolled-back write is ever in the target's store
or reaches its downstream); *nothing committed lost* (a committed row never leaves the store, a
dispatched row was delivered or acknowledged; under ``hardened`` a drain leaves no committed row
pending: a dead relay's claim is a lease); *moves are edges* (the target side's store is watched:
every row move a store operation makes, pending / claimed / dispatched / failed, including a
claim taken over while claimed, must be an edge of `ROW_TRANSITIONS` for the variant, with a
trigger of that operation). Coverage counts the reference's moves in the same table.

**Goals** (`FAITHFUL_GOALS`, `HARDENED_GOALS`: the machine's ``goals`` for its variant) are the
situations a run must reach to be conclusive: both crash points, a claim at the exact due time
and a pass one microsecond before it, the DLQ, a drain after a rollback; hardened: reclaims (from
a dead relay, at the exact lease expiry), a pass one microsecond before expiry, a refused late
mark, a drain with nothing lost; faithful: a dead relay's claim surviving past its would-be lease,
the stale-candidate claim race, a late completion. The faithful late completions onto a pending
or failed row are optional edges (`_OPTIONAL_EDGES` says why).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rustok_sim.conformance.protocols import PROTOCOLS, surface_mismatches
from rustok_sim.conformance.suites.differential import DifferentialMachine, Outcome
from rustok_sim.conformance.targets import Factory, TargetError, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.bus import EventTransport, ExternalError, ReliabilityLevel, publish_batch_sequential
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.outbox import (
    MICROS,
    ClaimedEvent,
    ClaimResult,
    InMemoryOutboxStore,
    OutboxRow,
    OutboxStore,
    OutboxTransaction,
    OutboxTransport,
    SysEventStatus,
    row_state,
)
from rustok_sim.model.events.relay import ROW_TRANSITIONS, ClaimRequest, OutboxRelay, RelayConfig
from rustok_sim.model.events.transactional import TransactionalEventBus

__all__ = ["COMPONENT", "METRICS_FIELDS", "ROW_FIELDS", "VARIANTS", "Downstream", "Move", "RelayPanic",
           "RelaySetup", "WatchedStore", "reference_relay", "relay_suite"]

COMPONENT = "outbox_relay"
VARIANTS = ("faithful", "hardened")
METRICS_FIELDS = ("success_total", "failure_total", "retry_total", "dlq_total", "latency_ms_total",
                  "processed_total")
ROW_FIELDS = ("event_type", "schema_version", "status", "retry_count", "next_attempt_at", "last_error",
              "claimed_by", "claimed_at", "created_at", "dispatched_at")
"""The row columns compared (all but the payload, which both sides write identically)."""
_CLAIMED_FIELDS = ("status", "retry_count", "next_attempt_at", "claimed_by", "claimed_at", "previous_claimed_at")
_TENANT = uuid.UUID("00000000-0000-4000-8000-00000000000b")
_SEED = 11
_PENDING, _DISPATCHED, _FAILED = (SysEventStatus.PENDING.value, SysEventStatus.DISPATCHED.value,
                                  SysEventStatus.FAILED.value)
_CLAIM_TRIGGERS = frozenset({"claim", "reclaim", "stale_claim"})
_MAX_CRASHES = 2
"""Crashes per example: each one strands its batch for good in faithful, so more would leave most
examples with nothing left to retry."""
_MAX_ACKNOWLEDGEMENTS = 2
_JUMPS: tuple[float | str, ...] = (0.0005, 0.25, 1.0, 4.0, 30.0, "to_due", "before_due", "to_lease_end",
                                   "before_lease_end")


# --------------------------------------------------------------------------------------------
# What a relay is built with, and what it publishes to
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelaySetup:
    """A relay factory's ``config``: the relay's config (variant, worker id, batch size, attempts,
    backoff, lease) and the store and downstream of the side it belongs to."""

    relay: RelayConfig
    store: OutboxStore
    downstream: EventTransport


def reference_relay(config: RelaySetup, clock: Callable[[], float], observer: Any = None) -> OutboxRelay:
    """The reference: the model's `OutboxRelay` over the setup's store and downstream."""
    return OutboxRelay(config.store, config.downstream, config.relay, clock=clock, observer=observer)


class RelayPanic(Exception):
    """The downstream accepted a row and then the relay died (a Rust panic, not an ``Err``): a
    relay lets it propagate with the row still claimed."""


class Downstream:
    """The relays' target transport on one side: records what it receives, in order, and fails on
    demand (while ``down``, or the next ``fail_next`` publishes) with ``External error:
    downstream unavailable``; armed with ``panic_after_delivery`` it accepts the next row and then
    raises `RelayPanic`."""

    def __init__(self) -> None:
        self.received: list[uuid.UUID] = []
        self.attempts: list[tuple[uuid.UUID, str]] = []
        self.down = False
        self.fail_next = 0
        self.panic_after_delivery = False

    def publish(self, envelope: EventEnvelope) -> None:
        if self.down or self.fail_next > 0:
            self.fail_next = max(0, self.fail_next - 1)
            self.attempts.append((envelope.id, "failed"))
            raise ExternalError("downstream unavailable")
        self.received.append(envelope.id)
        self.attempts.append((envelope.id, "delivered"))
        if self.panic_after_delivery:
            self.panic_after_delivery = False
            raise RelayPanic(f"relay died after publishing {envelope.id}, before marking it")

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None:
        publish_batch_sequential(self, envelopes)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        return None

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.IN_MEMORY


# --------------------------------------------------------------------------------------------
# A store that notes every row move
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Move:
    """One row changed by one store operation: ``op`` is ``claim`` or the trigger of the mark
    (``published``, ``retry_scheduled``, ``max_attempts``, ``acknowledged``); ``before`` is the
    row just before the operation's write, ``after`` just after; ``now_us`` the claim's time."""

    op: str
    before: OutboxRow
    after: OutboxRow
    now_us: int | None = None

    @property
    def source(self) -> str:
        return row_state(self.before.status, self.before.claimed_at)

    @property
    def target(self) -> str:
        return row_state(self.after.status, self.after.claimed_at)


def _observed(row: OutboxRow) -> tuple[Any, ...]:
    return (row.id, *(getattr(row, name, None) for name in ROW_FIELDS))


def _metrics(snapshot: Any) -> tuple[Any, ...]:
    return tuple(getattr(snapshot, name, None) for name in METRICS_FIELDS)


def _claim_of(row: OutboxRow) -> tuple[Any, ...]:
    return (row.status, row.claimed_by, row.claimed_at, row.retry_count, row.next_attempt_at, row.dispatched_at)


class WatchedStore:
    """An `OutboxStore` around another that notes, in `moves`, every row each relay operation
    changed (a claim's candidates, the row a mark or acknowledge touched), read just before the
    write and just after it. A claim's `on_candidates` hook runs before the "before" reading, so
    the moves of a relay run inside it are its own, never counted twice."""

    def __init__(self, inner: OutboxStore) -> None:
        self.inner = inner
        self.moves: list[Move] = []

    def begin(self) -> OutboxTransaction:
        return self.inner.begin()

    def insert(self, executor: Any, row: OutboxRow) -> None:
        self.inner.insert(executor, row)

    def claim(self, request: ClaimRequest,
              on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> ClaimResult:
        before: dict[uuid.UUID, OutboxRow] = {}

        def hook(ids: list[uuid.UUID]) -> None:
            if on_candidates is not None:
                on_candidates(ids)
            before.update((event_id, self.inner.get(event_id)) for event_id in ids)

        result = self.inner.claim(request, hook)
        for event_id, row in before.items():
            after = self.inner.get(event_id)
            if _claim_of(after) != _claim_of(row):
                self.moves.append(Move("claim", row, after, request.now_us))
        return result

    def _marked(self, op: str, event_id: uuid.UUID, call: Callable[[], str | None]) -> str | None:
        try:
            before = self.inner.get(event_id)
        except Exception:  # noqa: BLE001 - a missing row: the inner store's own error follows
            return call()
        previous = call()
        if previous is not None:
            self.moves.append(Move(op, before, self.inner.get(event_id)))
        return previous

    def mark_dispatched(self, row: ClaimedEvent, now_us: int, *, guarded: bool,
                        before_write: Callable[[], None] | None = None) -> str | None:
        return self._marked("published", row.id, lambda: self.inner.mark_dispatched(
            row, now_us, guarded=guarded, before_write=before_write))

    def reschedule(self, row: ClaimedEvent, retry_count: int, last_error: str, next_attempt_at_us: int, *,
                   guarded: bool, before_write: Callable[[], None] | None = None) -> str | None:
        return self._marked("retry_scheduled", row.id, lambda: self.inner.reschedule(
            row, retry_count, last_error, next_attempt_at_us, guarded=guarded, before_write=before_write))

    def move_to_dlq(self, row: ClaimedEvent, retry_count: int, last_error: str, *, guarded: bool,
                    before_write: Callable[[], None] | None = None) -> str | None:
        return self._marked("max_attempts", row.id, lambda: self.inner.move_to_dlq(
            row, retry_count, last_error, guarded=guarded, before_write=before_write))

    def acknowledge(self, event_id: uuid.UUID, now_us: int) -> str:
        previous = self._marked("acknowledged", event_id, lambda: self.inner.acknowledge(event_id, now_us))
        assert previous is not None
        return previous

    def count(self, status: SysEventStatus | str | None = None) -> int:
        return self.inner.count(status)

    def get(self, event_id: uuid.UUID) -> OutboxRow:
        return self.inner.get(event_id)

    def rows(self) -> list[OutboxRow]:
        return self.inner.rows()

    def stale_claims(self, older_than_us: int) -> list[uuid.UUID]:
        return self.inner.stale_claims(older_than_us)

    def take_moves(self) -> list[Move]:
        moves, self.moves = self.moves, []
        return moves


# --------------------------------------------------------------------------------------------
# One side of the comparison
# --------------------------------------------------------------------------------------------


@dataclass
class _Side:
    """A store, a writer, a downstream, and the relays of one side, by worker id."""

    store: WatchedStore
    outbox: OutboxTransport
    bus: TransactionalEventBus
    ids: IdGenerator
    downstream: Downstream = field(default_factory=Downstream)
    relays: dict[str, Any] = field(default_factory=dict)
    hands: dict[str, list[ClaimedEvent]] = field(default_factory=dict)
    acknowledged: set[uuid.UUID] = field(default_factory=set)
    inner: Outcome | None = None
    """The outcome of the pass a claim race ran inside another relay's claim."""
    staged: tuple[ClaimedEvent, EventEnvelope | None, BaseException | None] | None = None

    def write(self, count: int, commit: bool, nodes: list[uuid.UUID]) -> list[uuid.UUID]:
        tx = self.store.begin()
        envelopes = [self.bus.publish_in_tx(tx, _TENANT, None, NodeCreated(node_id=node, kind="post"))
                     for node in nodes[:count]]
        tx.commit() if commit else tx.rollback()
        return [envelope.id for envelope in envelopes]

    def write_malformed(self, now_us: int) -> uuid.UUID:
        event_id = self.ids.new_id()
        with self.store.begin() as tx:
            self.store.insert(tx, OutboxRow(event_id, "node.created", 1, {"malformed": True}, _PENDING, 0, None,
                                            None, None, None, now_us, None))
        return event_id

    def race(self, a: str, b: str) -> list[ClaimedEvent]:
        def run_b(ids: list[uuid.UUID]) -> None:
            try:
                self.inner = ("ok", self.relays[b].process_pending_once())
            except Exception as exc:  # noqa: BLE001 - compared as an outcome
                self.inner = ("error", exc)
        self.inner = None
        rows: list[ClaimedEvent] = self.relays[a].claim_batch(run_b)
        return rows

    def begin_staged(self, worker: str) -> EventEnvelope | None:
        row = self.hands[worker].pop(0)
        self.staged = (row, None, None)
        envelope: EventEnvelope | None = self.relays[worker].begin_dispatch(row)
        self.staged = (row, envelope, None)
        return envelope

    def publish_staged(self) -> None:
        assert self.staged is not None
        row, envelope, _ = self.staged
        assert envelope is not None
        try:
            self.downstream.publish(envelope)
        except ExternalError as exc:
            self.staged = (row, envelope, exc)
            raise

    def mark_staged(self, worker: str) -> None:
        assert self.staged is not None
        row, envelope, error = self.staged
        self.staged = None
        relay = self.relays[worker]
        if error is None:
            relay.mark_dispatched(row, envelope)
        else:
            relay.mark_failed_attempt(row, error, envelope)


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------

_COMMON_GOALS = {
    "crash_between_claim_and_publish": "a relay died holding claimed rows it had not published",
    "crash_between_publish_and_mark": "a relay died after the downstream accepted a row and before marking it",
    "claimed_exactly_at_backoff_due": "a retried row was claimed at the exact microsecond its backoff ended",
    "held_one_tick_before_backoff_due": "a pass one microsecond before a row's retry was due left it alone",
    "moved_to_dlq": "a row's last allowed attempt failed and the row moved to failed (the DLQ)",
    "rollback_then_drain": "a drain ran after a rolled-back write: nothing of it reached a store or downstream",
}
HARDENED_GOALS = {
    **_COMMON_GOALS,
    "reclaimed_from_dead_relay": "a live relay took over a row whose claimer had died, after its lease",
    "reclaimed_exactly_at_lease_expiry": "a claim was taken over at the exact microsecond its lease ended",
    "held_one_tick_before_lease_expiry": "a pass one microsecond before a lease ended left the row with its holder",
    "claim_lost_after_takeover": "a relay whose lease was taken over tried to mark the row and was refused",
    "drained_nothing_lost": "a drain after a relay crash left every committed row dispatched or failed",
}
FAITHFUL_GOALS = {
    **_COMMON_GOALS,
    "dead_claim_never_reclaimed": "a pass after a dead relay's lease would have ended left its claim in place",
    "stale_claim_race": "a relay claimed a row another relay had finished since its candidate SELECT",
    "late_completion": "a relay completed a row after it had left the relay's claim (by primary key, from the "
                       "claim-time snapshot)",
}
_GOALS = {"faithful": FAITHFUL_GOALS, "hardened": HARDENED_GOALS}

_OPTIONAL_EDGES = {
    "faithful": frozenset({
        ("pending", "dispatched", "published"), ("pending", "pending", "retry_scheduled"),
        ("pending", "failed", "max_attempts"), ("failed", "dispatched", "published"),
        ("failed", "pending", "retry_scheduled"), ("failed", "failed", "max_attempts"),
    }),
    "hardened": frozenset(),
}
"""Edges a ci run need not reach (source, target, trigger). Faithful: a late completion onto a
pending or failed row needs two relays holding one row at once, which takes another relay's claim
*and* an acknowledgement of that row between a relay's candidate SELECT and its UPDATE (then the
other relay's failure leaves the row pending or failed under the first one's claim); the suite's
race runs one whole pass there, not a claim and an acknowledgement."""


class _RelaySuite(DifferentialMachine):
    factory: Factory
    table = ROW_TRANSITIONS
    error_fields = ("message", "event_id", "reason")

    target: _Side
    reference: _Side
    _checked_types: ClassVar[set[type]]

    def now(self) -> float | None:
        return self.clock.now if hasattr(self, "clock") else None

    def new_store(self) -> OutboxStore:
        """Each side's store (a fresh one per side and example)."""
        return InMemoryOutboxStore()

    # -- setup ---------------------------------------------------------------------------------

    @initialize(
        batch_size=st.sampled_from([2, 1, 3, 100]),
        max_attempts=st.sampled_from([2, 1, 3, 5]),
        backoff=st.sampled_from([(1.0, 60.0), (0.5, 1.0), (2.0, 3.0)]),
        claim_ttl=st.sampled_from([2.0, 10.0]),
        workers=st.sampled_from([2, 3, 1]),
    )
    def setup(self, batch_size: int, max_attempts: int, backoff: tuple[float, float], claim_ttl: float,
              workers: int) -> None:
        self.clock = ManualClock()
        self.observer = self.reference_observer(self.clock)
        self.relay_config = RelayConfig(batch_size=batch_size, max_attempts=max_attempts,
                                        backoff_base_s=backoff[0], backoff_max_s=backoff[1],
                                        variant=self.variant, claim_ttl_s=claim_ttl)  # type: ignore[arg-type]
        self.ttl_us = round(claim_ttl * MICROS)
        self.target = self._side(None)
        self.reference = self._side(self.observer)
        self.steps = [f"config {self.relay_config.model_dump()}"]
        self._dirty = False
        self.live: list[str] = []
        self.dead: set[str] = set()
        self.committed: list[uuid.UUID] = []
        self.rolled_back: set[uuid.UUID] = set()
        self.malformed = False
        self._row_cache: dict[int, tuple[tuple[int, float], list[OutboxRow]]] = {}
        self.crashes = 0
        self.acknowledgements = 0
        self._workers_made = 0
        self._nodes = 0
        for _ in range(workers):
            self._start_worker()

    def _side(self, observer: Any) -> _Side:
        store = WatchedStore(self.new_store())
        ids = IdGenerator(self.clock, _SEED)
        outbox = OutboxTransport(store, clock=self.clock, observer=observer)
        return _Side(store, outbox, TransactionalEventBus(outbox, ids=ids), ids)

    def _start_worker(self, announce: bool = True) -> str:
        worker = f"relay-{self._workers_made}"
        self._workers_made += 1
        config = RelayConfig(**{**self.relay_config.model_dump(), "worker_id": worker})
        target, reference = self.target, self.reference
        target.relays[worker] = self._build(RelaySetup(config, target.store, target.downstream))
        reference.relays[worker] = reference_relay(RelaySetup(config, reference.store, reference.downstream),
                                                   self.clock, self.observer)
        target.hands[worker], reference.hands[worker] = [], []
        if announce:
            self._note(f"start {worker}")
        self.same(f"{worker}.worker_id", target.relays[worker].worker_id, reference.relays[worker].worker_id)
        self.same(f"{worker}.config", target.relays[worker].config, reference.relays[worker].config)
        self.live.append(worker)
        return worker

    def _build(self, setup: RelaySetup) -> Any:
        """`build_target`, with the surface check done once per class of relay the factory returns
        (a suite builds a few relays per example; checking signatures is most of their cost)."""
        checked = type(self)._checked_types
        if not checked:
            relay = build_target(self.factory, setup, self.clock, COMPONENT, self.target_name)
            checked.add(type(relay))
            return relay
        try:
            relay = self.factory(setup, self.clock)
        except Exception as exc:  # noqa: BLE001 - whatever the factory raises is a finding about it
            raise TargetError(f"{self.target_name}: its factory raised {type(exc).__name__}: {exc}") from None
        if type(relay) not in checked:
            problems = surface_mismatches(relay, PROTOCOLS[COMPONENT])
            if problems:
                raise TargetError(f"{self.target_name}: does not speak the {COMPONENT} protocol: "
                                  f"{'; '.join(problems)}")
            checked.add(type(relay))
        return relay

    def _crash(self, worker: str) -> None:
        self.crashes += 1
        self._note(f"{worker} dies; relay-{self._workers_made} starts in its place")
        self.live.remove(worker)
        self.dead.add(worker)
        for side in (self.target, self.reference):
            side.hands[worker] = []
        self._start_worker(announce=False)

    # -- helpers ---------------------------------------------------------------------------------

    def both(self, action: str, call: Callable[[Any], Any]) -> tuple[Outcome, Outcome]:
        """`DifferentialMachine.both`, with everything compared after each operation (not only at
        the end of a rule): a compound rule's difference names the operation that made it."""
        self._settle()
        outcomes = super().both(action, call)
        self._dirty = True
        return outcomes

    def _note(self, step: str) -> None:
        """Record a step that is not an operation on both sides (a clock jump, a fault)."""
        self._settle()
        self.steps.append(step)

    def _settle(self) -> None:
        if getattr(self, "_dirty", False):
            self._dirty = False
            self.moves_are_edges_of_the_table()
            self.observably_the_same()
            self.no_ghosts()
            self.nothing_committed_lost()

    def _now_us(self) -> int:
        return round(self.clock() * MICROS)

    def _worker(self, index: int) -> str:
        return self.live[index % len(self.live)]

    def _idle(self) -> list[str]:
        return [worker for worker in self.live if not self.reference.hands[worker]]

    def _holding(self) -> list[str]:
        return [worker for worker in self.live if self.reference.hands[worker]]

    def _same_claimed(self, target: Outcome, reference: Outcome) -> None:
        self.same_outcome(target, reference)
        if reference[0] != "ok":
            return
        self.same("claimed rows", [row.id for row in target[1]], [row.id for row in reference[1]])
        for mine, theirs in zip(target[1], reference[1]):
            for name in _CLAIMED_FIELDS:
                self.same(f"claimed row {theirs.id} .{name}", getattr(mine, name, None), getattr(theirs, name))

    def _claiming(self, action: str, call: Callable[[_Side], Any]) -> tuple[Outcome, Outcome]:
        """Run a claiming operation on both sides, noting the boundary goals it can reach."""
        now = self._now_us()
        before = {row.id: row for row in self.reference.store.rows()}
        target, reference = self.both(action, call)
        after = {row.id: row for row in self.reference.store.rows()}
        for event_id, row in before.items():
            kept = _claim_of(after[event_id]) == _claim_of(row)
            if row.status != _PENDING or not kept:
                continue
            if row.claimed_at is None and row.next_attempt_at is not None and row.next_attempt_at - now == 1:
                self.reached("held_one_tick_before_backoff_due")
            if row.claimed_at is not None and row.claimed_by != self._actor(action):
                if self.variant == "hardened" and row.claimed_at + self.ttl_us - now == 1:
                    self.reached("held_one_tick_before_lease_expiry")
                if self.variant == "faithful" and row.claimed_by in self.dead and now >= row.claimed_at + self.ttl_us:
                    self.reached("dead_claim_never_reclaimed")
        return target, reference

    @staticmethod
    def _actor(action: str) -> str:
        return action.partition(".")[0]

    # -- writes ----------------------------------------------------------------------------------

    @rule(count=st.integers(1, 3), commit=st.booleans(), malformed=st.integers(0, 7))
    def transaction(self, count: int, commit: bool, malformed: int) -> None:
        """A transaction writing `count` rows, committed or rolled back; now and then (`malformed`
        7, at most once per example) followed by a row whose payload is not an envelope (faithful:
        the pass that claims it aborts there, stranding the rest of its batch; hardened: a
        failed attempt). Rare, because in faithful a stranded batch leaves nothing to explore."""
        self._write(count, commit)
        if malformed == 7 and not self.malformed:
            self._malformed_row()

    def _write(self, count: int, commit: bool) -> None:
        nodes = [uuid.UUID(int=(9 << 64) + self._nodes + k) for k in range(count)]
        self._nodes += count
        verb = "commit" if commit else "roll back"
        target, reference = self.both(f"{verb} a transaction writing {count} row(s)",
                                      lambda s: s.write(count, commit, nodes))
        self.same_outcome(target, reference, compare_values=True)
        if reference[0] == "ok":
            (self.committed.extend if commit else self.rolled_back.update)(reference[1])

    def _ensure_due_row(self) -> None:
        """Commit a one-row transaction unless some row is pending, unclaimed and due: what a
        compound step needs to have something to claim."""
        now = self._now_us()
        if not any(row.status == _PENDING and row.claimed_at is None
                   and (row.next_attempt_at is None or row.next_attempt_at <= now)
                   for row in self.reference.store.rows()):
            self._write(1, True)

    def _malformed_row(self) -> None:
        self.malformed = True
        now = self._now_us()
        target, reference = self.both("commit a row whose payload is not an envelope",
                                      lambda s: s.write_malformed(now))
        self.same_outcome(target, reference, compare_values=True)
        if reference[0] == "ok":
            self.committed.append(reference[1])

    # -- time ----------------------------------------------------------------------------------

    def _boundary(self, jump: str, now: int) -> int | None:
        rows = self.reference.store.rows()
        if jump in ("to_due", "before_due"):
            times = [row.next_attempt_at for row in rows
                     if row.status == _PENDING and row.next_attempt_at is not None and row.next_attempt_at > now]
        else:
            times = [row.claimed_at + self.ttl_us for row in rows
                     if row.claimed_at is not None and row.claimed_at + self.ttl_us > now]
        if not times:
            return None
        moment = min(times) - (1 if jump.startswith("before") else 0)
        return moment if moment > now else None

    @rule(jump=st.sampled_from(_JUMPS))
    def advance(self, jump: float | str) -> None:
        if isinstance(jump, str):
            moment = self._boundary(jump, self._now_us())
            if moment is None:
                return
            self._note(f"advance {jump} (t={moment / MICROS:.6f})")
            self.clock.set(moment / MICROS)
        else:
            self._note(f"advance {jump:g}")
            self.clock.advance(jump)

    @rule(index=st.integers(0, 5), lease=st.booleans())
    def probe_boundary(self, index: int, lease: bool) -> None:
        """The next retry due time (or, with `lease`, lease expiry): the clock one microsecond
        before it and a pass by a worker, then exactly at it and another pass. For a lease, the
        pass is by a worker other than the holder; with no claim to probe, a worker holding
        nothing first claims a batch and keeps it."""
        worker = self._worker(index)
        if lease:
            claimed = sorted((row.claimed_at, row.claimed_by) for row in self.reference.store.rows()
                             if row.claimed_at is not None and row.claimed_by is not None)
            if not claimed and self._idle() and len(self.live) >= 2:
                self._ensure_due_row()
                self._claim_into_hand(self._idle()[index % len(self._idle())])
                claimed = sorted((row.claimed_at, row.claimed_by) for row in self.reference.store.rows()
                                 if row.claimed_at is not None and row.claimed_by is not None)
            others = [w for w in self.live if not claimed or w != claimed[0][1]] or self.live
            worker = others[index % len(others)]
        for jump in (("before_lease_end", "to_lease_end") if lease else ("before_due", "to_due")):
            moment = self._boundary(jump, self._now_us())
            if moment is None:
                continue
            self._note(f"advance {jump} (t={moment / MICROS:.6f})")
            self.clock.set(moment / MICROS)
            self.same_outcome(*self._claiming(f"{worker}.process_pending_once()",
                                              lambda s: s.relays[worker].process_pending_once()),
                              compare_values=True)

    # -- downstream ------------------------------------------------------------------------------

    @rule(state=st.sampled_from(["down", "up", "fail_next_1", "fail_next_3"]))
    def downstream(self, state: str) -> None:
        self._note(f"downstream {state}")
        for side in (self.target, self.reference):
            side.downstream.down = state == "down"
            side.downstream.fail_next = int(state.rpartition("_")[2]) if state.startswith("fail") else 0

    @rule(index=st.integers(0, 5), passes=st.integers(1, 5))
    def outage(self, index: int, passes: int) -> None:
        """The downstream is down for a while: `passes` passes by one worker, each at the exact
        microsecond the next retry is due, so rows go through their backoff to the DLQ. The
        downstream is back up afterwards."""
        worker = self._worker(index)
        self.downstream("down")
        for _ in range(passes):
            self.advance("to_due")
            self.same_outcome(*self._claiming(f"{worker}.process_pending_once()",
                                              lambda s: s.relays[worker].process_pending_once()),
                              compare_values=True)
        self.downstream("up")

    @precondition(lambda self: self.committed and self.acknowledgements < _MAX_ACKNOWLEDGEMENTS)
    @rule(pick=st.integers(0, 63), which=st.sampled_from(["any", "failed", "held_delivered", "held_failed"]))
    def acknowledge(self, pick: int, which: str) -> None:
        """Acknowledge a committed row through the outbox transport: any, one in the DLQ, or one
        a live relay holds (claimed now, if no relay holds anything), which that relay then
        completes late, its publish delivered or failed."""
        self.acknowledgements += 1
        worker = None
        if which.startswith("held"):
            if not self._holding() and self._idle():
                self._ensure_due_row()
                self._claim_into_hand(self._idle()[pick % len(self._idle())])
            holding = self._holding()
            worker = holding[pick % len(holding)] if holding else None
        failed = [row.id for row in self.reference.store.rows() if row.status == _FAILED] if which == "failed" else []
        choices = [self.reference.hands[worker][0].id] if worker is not None else failed or self.committed
        event_id = choices[pick % len(choices)]
        target, reference = self.both(f"acknowledge({event_id})", lambda s: s.outbox.acknowledge(event_id))
        self.same_outcome(target, reference)
        for side in (self.target, self.reference):
            side.acknowledged.add(event_id)
        if worker is None:
            return
        was = [side.downstream.fail_next for side in (self.target, self.reference)]
        if which == "held_failed":
            self._note("downstream fails the next publish")
            for side in (self.target, self.reference):
                side.downstream.fail_next = max(side.downstream.fail_next, 1)
        self._finish(worker, False, 0.0)
        for side, fail_next in zip((self.target, self.reference), was):
            side.downstream.fail_next = fail_next

    # -- relays ----------------------------------------------------------------------------------

    @rule(index=st.integers(0, 5), how=st.sampled_from(["process_pending_once", "run_step"]))
    def relay_pass(self, index: int, how: str) -> None:
        worker = self._worker(index)
        self.same_outcome(*self._claiming(f"{worker}.{how}()", lambda s: getattr(s.relays[worker], how)()),
                          compare_values=True)

    @precondition(lambda self: self._idle())
    @rule(index=st.integers(0, 5))
    def claim(self, index: int) -> None:
        """A claim whose rows a worker holding nothing keeps in hand, to finish later (or never)."""
        idle = self._idle()
        self._claim_into_hand(idle[index % len(idle)])

    def _claim_into_hand(self, worker: str) -> None:
        target, reference = self._claiming(f"{worker}.claim_batch()", lambda s: s.relays[worker].claim_batch())
        self._same_claimed(target, reference)
        if reference[0] == "ok":
            self.target.hands[worker].extend(target[1])
            self.reference.hands[worker].extend(reference[1])

    def _two_workers(self, a: int, b: int) -> tuple[str, str] | None:
        """Worker A (one holding nothing) and another live worker B, or None when there is no B."""
        idle = self._idle()
        first = idle[a % len(idle)]
        second = self.live[(self.live.index(first) + b) % len(self.live)]
        return None if second == first else (first, second)

    @precondition(lambda self: len(self.live) >= 2 and self._idle())
    @rule(a=st.integers(0, 5), b=st.integers(1, 5), outage=st.booleans())
    def claim_race(self, a: int, b: int, outage: bool) -> None:
        """Worker A's claim (A holds nothing), with worker B's whole pass between A's candidate
        SELECT and its UPDATE; with `outage` the downstream is down for B's pass (so B reschedules
        or fails the rows A selected)."""
        pair = self._two_workers(a, b)
        if pair is None:
            return
        first, second = pair
        self._ensure_due_row()
        was = [(side.downstream.down, side.downstream.fail_next) for side in (self.target, self.reference)]
        if outage:
            self.downstream("down")
        try:
            target, reference = self._claiming(
                f"{first}.claim_batch(on_candidates={second}.process_pending_once)", lambda s: s.race(first, second))
        finally:
            if outage:
                self._note("downstream as before")
                for side, (down, fail_next) in zip((self.target, self.reference), was):
                    side.downstream.down, side.downstream.fail_next = down, fail_next
        self._same_claimed(target, reference)
        if self.reference.inner is not None or self.target.inner is not None:
            inner_t = self.target.inner or ("ok", None)
            inner_r = self.reference.inner or ("ok", None)
            self.same_outcome(inner_t, inner_r, compare_values=True)
        if reference[0] == "ok":
            self.target.hands[first].extend(target[1])
            self.reference.hands[first].extend(reference[1])

    @precondition(lambda self: self._holding())
    @rule(index=st.integers(0, 5), count=st.integers(1, 3), staged=st.booleans(),
          latency=st.sampled_from([0.0015, 0.0, 0.25]))
    def finish(self, index: int, count: int, staged: bool, latency: float) -> None:
        """The next `count` rows a worker holds, each by `process_claimed` or by the split path
        with a publish that takes `latency` seconds."""
        holding = self._holding()
        worker = holding[index % len(holding)]
        for _ in range(count):
            if not self.reference.hands[worker]:
                break
            self._finish(worker, staged, latency)

    def _finish(self, worker: str, staged: bool, latency: float) -> None:
        if not staged:
            rows = {id(side): side.hands[worker].pop(0) for side in (self.target, self.reference)}
            target, reference = self.both(f"{worker}.process_claimed({rows[id(self.reference)].id})",
                                          lambda s: s.relays[worker].process_claimed(rows[id(s)]))
            self.same_outcome(target, reference, compare_values=True)
        else:
            _, reference = self._staged(worker, latency, mark=True)
        if self.variant == "hardened" and reference[0] == "error" and "claim was lost" in str(reference[1]):
            self.reached("claim_lost_after_takeover")

    def _staged(self, worker: str, latency: float, *, mark: bool) -> tuple[str, Outcome]:
        """begin_dispatch, the publish (taking `latency` seconds), then the mark unless not `mark`.
        Returns how far it got (``begin``, ``publish`` or ``mark``) and the reference's outcome there."""
        row_id = self.reference.hands[worker][0].id
        target, reference = self.both(f"{worker}.begin_dispatch({row_id})", lambda s: s.begin_staged(worker))
        self.same_outcome(target, reference)
        if reference[0] == "ok":
            self.same("begin_dispatch() envelope id", getattr(target[1], "id", None),
                      getattr(reference[1], "id", None))
        if reference[0] == "error" or reference[1] is None:
            return "begin", reference
        if latency:
            self._note(f"advance {latency:g} (publishing)")
            self.clock.advance(latency)
        target, reference = self.both(f"downstream.publish({row_id})", lambda s: s.publish_staged())
        self.same_outcome(target, reference)
        if not mark:
            return "publish", reference
        mark_name = "mark_dispatched" if reference[0] == "ok" else "mark_failed_attempt"
        target, reference = self.both(f"{worker}.{mark_name}({row_id})", lambda s: s.mark_staged(worker))
        self.same_outcome(target, reference)
        return "mark", reference

    @precondition(lambda self: len(self.live) >= 2 and self._idle())
    @rule(a=st.integers(0, 5), b=st.integers(1, 5), staged=st.booleans())
    def lease_overrun(self, a: int, b: int, staged: bool) -> None:
        """A slow relay: A (holding nothing) claims a batch, the clock moves to the exact end of
        A's lease, B runs a pass (hardened: takes the rows over), then A finishes what it holds
        (hardened: refused)."""
        pair = self._two_workers(a, b)
        if pair is None:
            return
        first, second = pair
        self._ensure_due_row()
        target, reference = self._claiming(f"{first}.claim_batch()", lambda s: s.relays[first].claim_batch())
        self._same_claimed(target, reference)
        if reference[0] != "ok" or not reference[1]:
            return
        self.target.hands[first].extend(target[1])
        self.reference.hands[first].extend(reference[1])
        moment = self._now_us() + self.ttl_us
        self._note(f"advance to the end of {first}'s lease (t={moment / MICROS:.6f})")
        self.clock.set(moment / MICROS)
        self.same_outcome(*self._claiming(f"{second}.process_pending_once()",
                                          lambda s: s.relays[second].process_pending_once()), compare_values=True)
        while self.reference.hands[first]:
            self._finish(first, staged, 0.0015)

    # -- crashes ---------------------------------------------------------------------------------

    @precondition(lambda self: self.crashes < _MAX_CRASHES)
    @rule(index=st.integers(0, 5))
    def crash_after_claim(self, index: int) -> None:
        """The worker claims a batch and dies before publishing any of it (with what it held)."""
        worker = self._worker(index)
        self._ensure_due_row()
        target, reference = self._claiming(f"{worker}.claim_batch()", lambda s: s.relays[worker].claim_batch())
        self._same_claimed(target, reference)
        if self.reference.hands[worker] or (reference[0] == "ok" and reference[1]):
            self.reached("crash_between_claim_and_publish")
        self._crash(worker)

    @precondition(lambda self: self.crashes < _MAX_CRASHES)
    @rule(index=st.integers(0, 5), latency=st.sampled_from([0.0, 0.0025]))
    def crash_after_publish(self, index: int, latency: float) -> None:
        """A worker dies after the downstream accepted a row and before marking it: the next row it
        holds, staged; or, holding nothing, a pass whose first delivery panics."""
        worker = self._worker(index)
        if self.reference.hands[worker]:
            if self._staged(worker, latency, mark=False) == ("publish", ("ok", None)):
                self.reached("crash_between_publish_and_mark")
            for side in (self.target, self.reference):
                side.staged = None
            self._crash(worker)
            return
        self._ensure_due_row()
        for side in (self.target, self.reference):
            side.downstream.panic_after_delivery = True
        try:
            target, reference = self._claiming(f"{worker}.process_pending_once() (the downstream panics after a "
                                               f"delivery)", lambda s: s.relays[worker].process_pending_once())
        finally:
            for side in (self.target, self.reference):
                side.downstream.panic_after_delivery = False
        self.same_outcome(target, reference, compare_values=True)
        if reference[0] == "error" and isinstance(reference[1], RelayPanic):
            self.reached("crash_between_publish_and_mark")
            self._crash(worker)

    # -- drain -----------------------------------------------------------------------------------

    @rule(index=st.integers(0, 5))
    def drain(self, index: int) -> None:
        """Downstream up, every held row finished, then passes by one worker with the clock past
        every due time and lease until a pass claims nothing."""
        self._note("drain: downstream up")
        for side in (self.target, self.reference):
            side.downstream.down, side.downstream.fail_next = False, 0
        for worker in list(self.live):
            while self.reference.hands[worker]:
                self._finish(worker, False, 0.0)
        worker = self._worker(index)
        settled = False
        for _ in range(len(self.reference.store.rows()) + 8):
            rows = self.reference.store.rows()
            now = self._now_us()
            moment = max([now] + [row.next_attempt_at for row in rows if row.status == _PENDING
                                  and row.next_attempt_at is not None]
                         + [row.claimed_at + self.ttl_us for row in rows if row.claimed_at is not None])
            if moment > now:
                self._note(f"advance past every due time and lease (t={moment / MICROS:.6f})")
                self.clock.set(moment / MICROS)
            target, reference = self._claiming(f"{worker}.process_pending_once()",
                                               lambda s: s.relays[worker].process_pending_once())
            self.same_outcome(target, reference, compare_values=True)
            if reference == ("ok", 0):
                settled = True
                break
        if self.rolled_back:
            self.reached("rollback_then_drain")
        if self.variant == "hardened" and self.dead and settled:
            committed = set(self.committed)
            stuck = [row for row in self.target.store.rows() if row.status == _PENDING and row.id in committed]
            if stuck:
                raise AssertionError(f"{self.target_name} lost committed rows: after a drain {stuck[0].id} is still "
                                     f"{row_state(stuck[0].status, stuck[0].claimed_at)} (claimed by "
                                     f"{stuck[0].claimed_by!r}); hardened claims are leases, every committed row "
                                     f"must end dispatched or failed")
            self.reached("drained_nothing_lost")

    # -- after every step ------------------------------------------------------------------------

    def _rows(self, side: _Side) -> list[OutboxRow]:
        """The side's rows now (read once per step: every change to a store is a recorded step)."""
        key = (len(self.steps), self.clock.now)
        cache = self._row_cache.get(id(side))
        if cache is None or cache[0] != key:
            cache = self._row_cache[id(side)] = (key, side.store.rows())
        return cache[1]

    @invariant()
    def observably_the_same(self) -> None:
        if not hasattr(self, "reference"):
            return
        target, reference = self.target, self.reference
        mine, theirs = self._rows(target), self._rows(reference)
        if [_observed(row) for row in mine] != [_observed(row) for row in theirs]:
            self.same("row ids (in created_at order)", [row.id for row in mine], [row.id for row in theirs])
            for a, b in zip(mine, theirs):
                for name in ROW_FIELDS:
                    self.same(f"row {b.id} .{name}", getattr(a, name), getattr(b, name))
        self.same("downstream received", target.downstream.received, reference.downstream.received)
        self.same("downstream attempts", target.downstream.attempts, reference.downstream.attempts)
        for worker, relay in reference.relays.items():
            t_metrics, r_metrics = target.relays[worker].metrics(), relay.metrics()
            if _metrics(t_metrics) != _metrics(r_metrics):
                for name in METRICS_FIELDS:
                    self.same(f"{worker}.metrics().{name}", getattr(t_metrics, name, None),
                              getattr(r_metrics, name))
            if len(target.hands[worker]) != len(reference.hands[worker]) or any(
                    a.id != b.id for a, b in zip(target.hands[worker], reference.hands[worker])):
                self.same(f"{worker} rows in hand", [row.id for row in target.hands[worker]],
                          [row.id for row in reference.hands[worker]])

    @invariant()
    def no_ghosts(self) -> None:
        if not hasattr(self, "reference") or not self.rolled_back:
            return
        for event_id in self.target.downstream.received:
            if event_id in self.rolled_back:
                raise AssertionError(f"{self.target_name} published {event_id}, a rolled-back write (a ghost), "
                                     f"after {self.steps[-1]!r}")
        for row in self._rows(self.target):
            if row.id in self.rolled_back:
                raise AssertionError(f"{self.target_name}'s store holds {row.id}, a rolled-back write, "
                                     f"after {self.steps[-1]!r}")

    @invariant()
    def nothing_committed_lost(self) -> None:
        if not hasattr(self, "reference") or not self.committed:
            return
        rows = {row.id: row for row in self._rows(self.target)}
        target = self.target
        for event_id in self.committed:
            row = rows.get(event_id)
            if row is None:
                raise AssertionError(f"{self.target_name} lost committed row {event_id}: not in its store "
                                     f"after {self.steps[-1]!r}")
            if row.status == _DISPATCHED and event_id not in target.acknowledged \
                    and event_id not in target.downstream.received:
                raise AssertionError(f"{self.target_name} marked {event_id} dispatched without its downstream "
                                     f"receiving it, after {self.steps[-1]!r}")

    @invariant()
    def moves_are_edges_of_the_table(self) -> None:
        if not hasattr(self, "reference"):
            return
        edges = self.table.for_variant(self.variant)
        for move in self.target.store.take_moves():
            triggers = _CLAIM_TRIGGERS if move.op == "claim" else frozenset({move.op})
            if not any((e.source, e.target) == (move.source, move.target) and e.trigger in triggers for e in edges):
                raise AssertionError(f"{self.target_name} moved row {move.after.id} {move.source} -> {move.target} "
                                     f"({move.op}) after {self.steps[-1]!r}: not an edge of the {self.variant} "
                                     f"{self.table.component} table")
        for move in self.reference.store.take_moves():
            self._note_goals(move)

    def _note_goals(self, move: Move) -> None:
        before = move.before
        if move.op == "max_attempts":
            self.reached("moved_to_dlq")
        elif move.op == "claim":
            if move.source == "pending" and before.next_attempt_at is not None \
                    and before.next_attempt_at == move.now_us:
                self.reached("claimed_exactly_at_backoff_due")
            if move.source == "claimed" and self.variant == "hardened" and before.claimed_at is not None:
                if before.claimed_by in self.dead:
                    self.reached("reclaimed_from_dead_relay")
                if before.claimed_at + self.ttl_us == move.now_us:
                    self.reached("reclaimed_exactly_at_lease_expiry")
            if self.variant == "faithful" and (move.source in ("dispatched", "failed") or (
                    before.next_attempt_at is not None and move.now_us is not None
                    and before.next_attempt_at > move.now_us)):
                self.reached("stale_claim_race")
        elif move.op != "acknowledged" and move.source != "claimed" and self.variant == "faithful":
            self.reached("late_completion")


def relay_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's state machine for one relay factory and one relay variant (faithful, hardened)."""
    if variant not in _GOALS:
        raise ValueError(f"outbox_relay has no variant {variant!r}; variants: {', '.join(VARIANTS)}")
    return type(f"RelaySuite_{variant}", (_RelaySuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name, "_checked_types": set(),
                 "goals": dict(_GOALS[variant]), "optional_edges": _OPTIONAL_EDGES[variant]})
