"""One suite, every `OutboxStore`: the in-memory store (the simulation default), SQLite and PostgreSQL.

Each test drives the model's `OutboxRelay` and `OutboxTransport` over the store given by the
`store` fixture, so a store that behaves differently fails here: claim order and eligibility,
backoff and DLQ, the faithful stale-candidate race and never-reclaimed rows of a dead relay, the
hardened lease and lost claims. `test_every_store_gives_the_same_trace_and_rows` runs one scripted
story on all stores side by side and compares their traces and final rows field by field.
"""

from __future__ import annotations

import os
import uuid

import pytest

from rustok_sim.adapters.sql.db import drop_schema, make_engine, new_schema_name
from rustok_sim.adapters.sql.outbox import SqlOutboxStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.core.transitions import coverage
from rustok_sim.model.events.bus import ExternalError, NotFoundError
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.outbox import (
    InMemoryOutboxStore,
    OutboxDuplicateIdError,
    OutboxRow,
    OutboxStore,
    OutboxTransactionError,
    OutboxTransport,
)
from rustok_sim.model.events.relay import ROW_TRANSITIONS, OutboxPayloadError, OutboxRelay, RelayConfig
from tests.events.drivers import RecordingTarget

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
NODE = uuid.UUID("22222222-2222-2222-2222-222222222222")
S = 1_000_000  # microseconds per second: row times are virtual microseconds


def _sqlite_store() -> SqlOutboxStore:
    store = SqlOutboxStore(make_engine())
    store.create_schema()
    return store


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request) -> OutboxStore:
    if request.param == "memory":
        yield InMemoryOutboxStore()
        return
    if request.param == "sqlite":
        sqlite = _sqlite_store()
        yield sqlite
        sqlite.engine.dispose()
        return
    url = request.getfixturevalue("database_url")
    schema = new_schema_name("rustok_sim_test")
    engine = make_engine(url, schema=schema)
    try:
        pg = SqlOutboxStore(engine)
        pg.create_schema()
        yield pg
    finally:
        drop_schema(engine, schema)
        engine.dispose()


class World:
    """A store, a clock, a trace, an id generator, a transport and a relay factory."""

    def __init__(self, store: OutboxStore, start: float = 1000.0) -> None:
        self.store = store
        self.clock = ManualClock(start)
        self.trace = TraceRecorder(self.clock)
        self.ids = IdGenerator(self.clock, seed=5)
        self.transport = OutboxTransport(store, clock=self.clock, observer=self.trace)

    def envelope(self) -> EventEnvelope:
        return EventEnvelope.new(TENANT, None, NodeCreated(node_id=NODE, kind="post"), ids=self.ids)

    def add(self, n: int = 1, *, step: float = 0.0) -> list[uuid.UUID]:
        ids = []
        for _ in range(n):
            envelope = self.envelope()
            self.transport.publish(envelope)
            ids.append(envelope.id)
            self.clock.advance(step)
        return ids

    def add_bad(self) -> uuid.UUID:
        event_id = self.ids.new_id()
        row = OutboxRow(event_id, "node.created", 1, {"not": "an envelope"}, "pending", 0, None, None, None,
                        None, self.now(), None)
        with self.store.begin() as tx:
            self.store.insert(tx, row)
        return event_id

    def now(self) -> int:
        return round(self.clock() * S)

    def relay(self, target, **config) -> OutboxRelay:
        config.setdefault("worker_id", "w1")
        return OutboxRelay(self.store, target, RelayConfig(**config), clock=self.clock, observer=self.trace)

    def moves(self) -> list[tuple[str, str, str, str, str]]:
        return [(t.instance, t.from_state, t.to_state, t.trigger, t.detail["worker"] if t.detail else "")
                for t in self.trace.transitions("sys_event")]


@pytest.fixture
def world(store) -> World:
    return World(store)


# -- transactions ---------------------------------------------------------------------------------


def test_a_committed_insert_is_one_pending_row_with_clock_time(world):
    world.clock.set(1234.567891)
    [event_id] = world.add(1)
    row = world.store.get(event_id)
    assert (row.status, row.retry_count, row.created_at) == ("pending", 0, 1_234_567_891)
    assert (row.next_attempt_at, row.last_error, row.claimed_by, row.claimed_at, row.dispatched_at) == (None,) * 5
    assert world.store.count() == world.store.count("pending") == 1


def test_a_rolled_back_insert_leaves_nothing_and_an_ended_transaction_refuses_more(world):
    tx = world.store.begin()
    world.transport.write_to_outbox(tx, world.envelope())
    tx.rollback()
    assert world.store.count() == 0
    with pytest.raises(OutboxTransactionError, match="already ended"):
        tx.commit()
    with pytest.raises(RuntimeError, match="boom"), world.store.begin() as tx2:
        world.transport.write_to_outbox(tx2, world.envelope())
        raise RuntimeError("boom")
    assert world.store.count() == 0


def test_several_rows_in_one_transaction_commit_together(world):
    with world.store.begin() as tx:
        for _ in range(3):
            world.transport.write_to_outbox(tx, world.envelope())
    assert world.store.count("pending") == 3


def test_a_duplicate_id_is_a_typed_error(world):
    envelope = world.envelope()
    world.transport.publish(envelope)
    with pytest.raises(OutboxDuplicateIdError, match=f"sys_event {envelope.id} already exists"):
        world.transport.publish(envelope)
    assert world.store.count() == 1


def test_acknowledge_marks_dispatched_and_a_missing_row_is_not_found(world):
    [event_id] = world.add(1)
    world.clock.advance(2)
    world.transport.acknowledge(event_id)
    row = world.store.get(event_id)
    assert (row.status, row.dispatched_at) == ("dispatched", world.now())
    missing = uuid.UUID(int=42)
    with pytest.raises(NotFoundError, match=f"^Not found: sys_event {missing}$"):
        world.transport.acknowledge(missing)
    assert world.moves() == [(str(event_id), "pending", "dispatched", "acknowledged", "")]


# -- claims -------------------------------------------------------------------------------------------


def test_claims_are_oldest_first_up_to_the_batch_size(world):
    ids = world.add(5, step=1.0)
    relay = world.relay(RecordingTarget(), batch_size=2)
    claimed = relay.claim_batch()
    assert [row.id for row in claimed] == ids[:2]
    for event_id in ids[:2]:
        row = world.store.get(event_id)
        assert (row.status, row.claimed_by, row.claimed_at) == ("pending", "w1", world.now())
    assert [row.id for row in relay.claim_batch()] == ids[2:4]


def test_rows_made_in_the_same_instant_are_claimed_in_id_order(world):
    ids = world.add(50)  # the clock stands still: created_at ties, ids decide
    assert [row.id for row in world.relay(RecordingTarget(), batch_size=100).claim_batch()] == sorted(ids)


def test_only_pending_due_unclaimed_rows_are_claimed(world):
    not_due, dispatched, claimed_elsewhere, due_now = world.add(4, step=1.0)
    world.relay(RecordingTarget(failures=1), worker_id="x", batch_size=1).process_pending_once()  # not_due: retry in 1 s
    world.transport.acknowledge(dispatched)
    world.relay(RecordingTarget(), worker_id="other", batch_size=1).claim_batch()  # claimed_elsewhere
    target = RecordingTarget()
    assert world.relay(target).process_pending_once() == 1
    assert target.published == [due_now]
    world.clock.advance(1)  # exactly the retry time: due
    assert world.relay(target).process_pending_once() == 1
    assert target.published == [due_now, not_due]


def test_a_zero_batch_claims_nothing(world):
    world.add(2)
    assert world.relay(RecordingTarget(), batch_size=0).process_pending_once() == 0


# -- retries, backoff, DLQ ------------------------------------------------------------------------------


def test_failures_back_off_1_2_4_8_seconds_then_the_row_is_failed(world):
    [event_id] = world.add(1)
    target = RecordingTarget(failures=10)
    relay = world.relay(target)
    for delay in (0, 1, 2, 4, 8):
        world.clock.advance(delay)
        assert relay.process_pending_once() == 1, f"not claimed at +{delay}"
        row = world.store.get(event_id)
        assert row.last_error == "External error: downstream unavailable" and row.claimed_by is None
    assert (row.status, row.retry_count, row.next_attempt_at) == ("failed", 5, None)
    world.clock.advance(3600)
    assert relay.process_pending_once() == 0
    assert relay.metrics().as_dict() == {"success_total": 0, "failure_total": 5, "retry_total": 4,
                                         "dlq_total": 1, "latency_ms_total": 0, "processed_total": 5}


def test_a_retry_is_not_due_one_microsecond_early(world):
    [event_id] = world.add(1)
    relay = world.relay(RecordingTarget(failures=1))
    relay.process_pending_once()
    assert world.store.get(event_id).next_attempt_at == world.now() + 1 * S
    world.clock.advance(0.999999)
    assert relay.process_pending_once() == 0
    world.clock.advance(0.000001)
    assert relay.process_pending_once() == 1
    assert world.store.get(event_id).status == "dispatched"


def test_hardened_cuts_last_error_to_2048_and_sends_a_bad_payload_to_the_dlq(world):
    bad = world.add_bad()
    relay = world.relay(RecordingTarget(), variant="hardened")
    for delay in (0, 1, 2, 4, 8):
        world.clock.advance(delay)
        assert relay.process_pending_once() == 1
    row = world.store.get(bad)
    assert (row.status, row.retry_count) == ("failed", 5)
    assert row.last_error.startswith(f"Serialization error: sys_event {bad}: payload is not a valid EventEnvelope")


def test_faithful_bad_payload_aborts_the_pass_and_strands_the_rest_of_the_batch(world):
    [good] = world.add(1, step=1.0)
    bad = world.add_bad()
    world.clock.advance(1)
    [later] = world.add(1)
    target = RecordingTarget()
    relay = world.relay(target)
    with pytest.raises(OutboxPayloadError) as caught:
        relay.process_pending_once()
    assert caught.value.event_id == bad and target.published == [good]
    assert [world.store.get(i).claimed_by for i in (bad, later)] == ["w1", "w1"]
    world.clock.advance(3600)
    assert relay.process_pending_once() == 0


# -- dead relays, leases, races -------------------------------------------------------------------------


def test_faithful_rows_of_a_dead_relay_are_never_reclaimed(world):
    ids = world.add(3)
    world.relay(RecordingTarget(), worker_id="dead").claim_batch()
    world.clock.advance(10 * 365 * 86400)
    assert world.relay(RecordingTarget(), worker_id="alive").process_pending_once() == 0
    assert world.store.stale_claims(world.now()) == ids
    assert world.store.stale_claims(world.now() - 11 * 365 * 86400 * S) == []


def test_hardened_lease_is_taken_over_at_the_ttl_and_the_old_worker_cannot_complete(world):
    ids = world.add(2)
    dead = world.relay(RecordingTarget(), worker_id="dead", variant="hardened")
    claimed = dead.claim_batch()
    survivor_target = RecordingTarget()
    survivor = world.relay(survivor_target, worker_id="survivor", variant="hardened")
    world.clock.advance(59.999999)
    assert survivor.process_pending_once() == 0
    world.clock.advance(0.000001)
    assert survivor.process_pending_once() == 2 and survivor_target.published == ids
    with pytest.raises(ExternalError, match=f"^External error: outbox event {ids[0]} claim was lost before completion$"):
        dead.process_claimed(claimed[0])
    assert world.store.get(ids[0]).status == "dispatched"
    assert [m[3:] for m in world.moves()] == [("claim", "dead")] * 2 + [("reclaim", "survivor"), ("reclaim", "survivor"),
                                                                       ("published", "survivor"), ("published", "survivor")]


@pytest.mark.parametrize(("variant", "published"), [("faithful", 2), ("hardened", 1)])
def test_a_stale_candidate_select_redispatches_in_the_faithful_relay(world, variant, published):
    """(analysis) B selects candidates; A then claims, publishes and marks the row dispatched; then
    B's UPDATE runs: faithful re-checks only claimed_at IS NULL, which the dispatch cleared."""
    [event_id] = world.add(1)
    target = RecordingTarget()
    relay_a = world.relay(target, worker_id="a", variant=variant)
    relay_b = world.relay(target, worker_id="b", variant=variant)
    for row in relay_b.claim_batch(on_candidates=lambda ids: relay_a.process_pending_once()):
        relay_b.process_claimed(row)
    assert target.published == [event_id] * published
    assert world.store.get(event_id).status == "dispatched"
    row = str(event_id)
    if variant == "faithful":
        expected = [(row, "pending", "claimed", "claim", "a"), (row, "claimed", "dispatched", "published", "a"),
                    (row, "dispatched", "claimed", "stale_claim", "b"), (row, "claimed", "dispatched", "published", "b")]
    else:  # B's SELECT holds its candidates (FOR UPDATE SKIP LOCKED): A skips the row, B keeps it
        expected = [(row, "pending", "claimed", "claim", "b"), (row, "claimed", "dispatched", "published", "b")]
    assert world.moves() == expected


def test_a_stale_candidate_revives_a_row_the_other_relay_moved_to_the_dlq(world):
    [event_id] = world.add(1)
    relay_a = world.relay(RecordingTarget(failures=1), worker_id="a", max_attempts=1)
    relay_b = world.relay(RecordingTarget(), worker_id="b", max_attempts=1)
    [row] = relay_b.claim_batch(on_candidates=lambda ids: relay_a.process_pending_once())
    assert world.store.get(event_id).status == "failed"
    relay_b.process_claimed(row)  # faithful: updates by primary key, the DLQ'd row is dispatched
    assert world.store.get(event_id).status == "dispatched"
    assert [m[1:4] for m in world.moves()] == [("pending", "claimed", "claim"), ("claimed", "failed", "max_attempts"),
                                               ("failed", "claimed", "stale_claim"),
                                               ("claimed", "dispatched", "published")]


def test_a_stale_candidate_that_was_rescheduled_is_claimed_before_its_retry_time(world):
    [event_id] = world.add(1)
    relay_a = world.relay(RecordingTarget(failures=1), worker_id="a")
    target_b = RecordingTarget()
    relay_b = world.relay(target_b, worker_id="b")
    for row in relay_b.claim_batch(on_candidates=lambda ids: relay_a.process_pending_once()):
        relay_b.process_claimed(row)
    assert target_b.published == [event_id]  # 1 s before its next_attempt_at
    assert [m[1:4] for m in world.moves()][2] == ("pending", "claimed", "stale_claim")


def test_faithful_late_completion_uses_the_claim_time_snapshot(world):
    [event_id] = world.add(1)
    relay = world.relay(RecordingTarget(failures=5))
    [row] = relay.claim_batch()
    relay.process_claimed(row)
    relay.process_claimed(row)  # a duplicate completion from the same stale snapshot
    assert world.store.get(event_id).retry_count == 1
    assert [m[1:4] for m in world.moves()][-1] == ("pending", "pending", "retry_scheduled")


# -- the split publish path -------------------------------------------------------------------------------


def test_the_split_path_lets_the_driver_spend_virtual_time_and_counts_like_the_combined_one(store):
    split, combined = World(store), World(InMemoryOutboxStore())
    for w in (split, combined):
        w.add(3)
    relay, target = split.relay(RecordingTarget()), RecordingTarget(failures=1)
    for row in relay.claim_batch():
        envelope = relay.begin_dispatch(row)
        split.clock.advance(0.0125)  # the driver's publish takes 12.5 ms of virtual time
        try:
            target.publish(envelope)
        except ExternalError as exc:
            relay.mark_failed_attempt(row, exc, envelope)
        else:
            relay.mark_dispatched(row, envelope)
    reference = combined.relay(RecordingTarget(failures=1, clock=combined.clock, takes=0.0125))
    reference.process_pending_once()
    assert relay.metrics() == reference.metrics()
    assert relay.metrics().as_dict() == {"success_total": 2, "failure_total": 1, "retry_total": 1,
                                         "dlq_total": 0, "latency_ms_total": 36, "processed_total": 3}
    assert [r.to_dict() for r in split.trace.records] == [r.to_dict() for r in combined.trace.records]


def test_mark_without_begin_counts_no_latency(world):
    world.add(1)
    relay = world.relay(RecordingTarget())
    [row] = relay.claim_batch()
    world.clock.advance(5)
    relay.mark_dispatched(row)
    assert relay.metrics().as_dict() == {"success_total": 1, "failure_total": 0, "retry_total": 0,
                                         "dlq_total": 0, "latency_ms_total": 0, "processed_total": 1}


# -- every store side by side ----------------------------------------------------------------------------


def _story(store: OutboxStore) -> tuple[list[tuple], list[dict]]:
    """Retries, a DLQ, a dead relay, a hardened takeover and a faithful race, on one store."""
    w = World(store)
    w.add(4, step=0.5)
    flaky = w.relay(RecordingTarget(failures=3), worker_id="flaky", batch_size=2, max_attempts=2)
    for _ in range(4):
        flaky.run_step()
        w.clock.advance(1)
    w.relay(RecordingTarget(), worker_id="dead", variant="hardened").claim_batch()
    w.add(2)
    w.clock.advance(61)
    w.relay(RecordingTarget(), worker_id="heir", variant="hardened").process_pending_once()
    w.add(1)
    a, b = w.relay(RecordingTarget(), worker_id="a"), w.relay(RecordingTarget(), worker_id="b")
    for row in b.claim_batch(on_candidates=lambda ids: a.process_pending_once()):
        b.process_claimed(row)
    trace = [tuple(v for k, v in r.to_dict().items() if k not in ("seq",)) for r in w.trace.records]
    rows = [{k: v for k, v in row.values().items() if k != "payload"} for row in store.rows()]
    return trace, rows


def test_every_store_gives_the_same_trace_and_rows():
    """PostgreSQL joins when RUSTOK_SIM_DATABASE_URL is set (the per-store tests above skip it
    with the reason otherwise)."""
    stores: dict[str, OutboxStore] = {"memory": InMemoryOutboxStore(), "sqlite": _sqlite_store()}
    cleanup = []
    url = os.environ.get("RUSTOK_SIM_DATABASE_URL", "").strip()
    if url:
        schema = new_schema_name("rustok_sim_test")
        engine = make_engine(url, schema=schema)
        cleanup.append((engine, schema))
        stores["postgresql"] = SqlOutboxStore(engine)
        stores["postgresql"].create_schema()
    try:
        results = {name: _story(store) for name, store in stores.items()}
    finally:
        for engine, schema in cleanup:
            drop_schema(engine, schema)
            engine.dispose()
    reference_trace, reference_rows = results["memory"]
    assert len(reference_rows) == 7 and any(r["status"] == "failed" for r in reference_rows)
    for name, (trace, rows) in results.items():
        assert trace == reference_trace, f"{name} trace differs from the in-memory store's"
        assert rows == reference_rows, f"{name} rows differ from the in-memory store's"


def test_relay_table_coverage_is_computed_from_the_trace(world):
    world.add(1)
    world.relay(RecordingTarget(failures=1)).process_pending_once()
    world.clock.advance(1)
    world.relay(RecordingTarget()).process_pending_once()
    cov = coverage(world.trace.records, [ROW_TRANSITIONS], {"sys_event": "faithful"})["sys_event"]
    hit = {(e.source, e.trigger) for e, n in cov.hits.items() if n}
    assert hit == {("pending", "claim"), ("claimed", "retry_scheduled"), ("claimed", "published")}
    assert cov.undeclared == {}


# -- protocols -------------------------------------------------------------------------------------------


def _public_signatures(cls: type) -> dict[str, list[str]]:
    import inspect

    return {name: list(inspect.signature(member).parameters)
            for name, member in vars(cls).items() if not name.startswith("_") and callable(member)}


@pytest.mark.parametrize("make", [InMemoryOutboxStore, _sqlite_store], ids=["memory", "sqlite"])
def test_the_stores_satisfy_the_store_protocol_with_its_signatures(make):
    from rustok_sim.model.events.protocols import OutboxStore as Declared

    store = make()
    assert isinstance(store, Declared)
    wanted = _public_signatures(Declared)
    have = {name: names for name, names in _public_signatures(type(store)).items() if name in wanted}
    assert have == wanted


def test_the_transports_and_relays_satisfy_their_protocols():
    from rustok_sim.adapters.sql.outbox import OutboxTransport as SqlTransport
    from rustok_sim.adapters.sql.relay import OutboxRelay as SqlRelay
    from rustok_sim.model.events.protocols import OUTBOX_PROTOCOLS, OutboxRelayProtocol, OutboxTransportProtocol

    sqlite = _sqlite_store()
    transports = [OutboxTransport(InMemoryOutboxStore(), clock=ManualClock()),
                  SqlTransport(sqlite.engine, clock=ManualClock())]
    relays = [OutboxRelay(InMemoryOutboxStore(), RecordingTarget(), RelayConfig(worker_id="w"), clock=ManualClock()),
              SqlRelay(sqlite.engine, RecordingTarget(), RelayConfig(worker_id="w"), clock=ManualClock())]
    for transport in transports:
        assert isinstance(transport, OutboxTransportProtocol)
    for relay in relays:
        assert isinstance(relay, OutboxRelayProtocol)
        wanted = {k: v for k, v in _public_signatures(OutboxRelayProtocol).items() if k not in ("worker_id", "config")}
        assert {k: v for k, v in _public_signatures(OutboxRelay).items() if k in wanted} == wanted
    assert set(OUTBOX_PROTOCOLS) == {"outbox_store", "outbox_transport", "outbox_relay"}


def test_a_store_that_is_not_one_is_a_clear_type_error():
    with pytest.raises(TypeError, match="OutboxTransport needs store= an OutboxStore .* got dict"):
        OutboxTransport({}, clock=ManualClock())
    with pytest.raises(TypeError, match="OutboxRelay needs an OutboxStore .* got str"):
        OutboxRelay("sqlite://", RecordingTarget(), RelayConfig(worker_id="w"), clock=ManualClock())
    with pytest.raises(TypeError, match="needs a transaction from this store's begin"):
        InMemoryOutboxStore().insert(object(), None)
    with pytest.raises(TypeError, match="SqlOutboxStore needs a SQLAlchemy Engine"):
        SqlOutboxStore("sqlite://")


# -- the row table -----------------------------------------------------------------------------------------


def test_each_completion_trigger_leads_to_the_status_its_store_operation_writes(world):
    from rustok_sim.model.events.relay import RowState

    targets = {trigger: {e.target for e in ROW_TRANSITIONS if e.trigger == trigger}
               for trigger in ("published", "retry_scheduled", "max_attempts", "acknowledged")}
    assert targets == {"published": {"dispatched"}, "retry_scheduled": {"pending"}, "max_attempts": {"failed"},
                       "acknowledged": {"dispatched"}}
    assert set(ROW_TRANSITIONS.states()) == {state.value for state in RowState}
    for variant in ("faithful", "hardened", None):
        ROW_TRANSITIONS.bind(variant)  # one target per (state, trigger) in every variant


def test_an_observer_that_keeps_only_transitions_gets_every_row_move_and_nothing_else(store):
    w = World(store)
    w.trace = TraceRecorder(w.clock, kinds=["transition"])
    w.add(2)
    relay = w.relay(RecordingTarget(failures=1))
    relay.process_pending_once()
    assert {r.kind for r in w.trace.records} == {"transition"}
    assert [(t.from_state, t.to_state) for t in w.trace.transitions()] == [
        ("pending", "claimed"), ("pending", "claimed"), ("claimed", "pending"), ("claimed", "dispatched")]


def test_an_unobserved_relay_still_moves_rows_through_the_table(world):
    from rustok_sim.model.core.transitions import IllegalTransition

    class LyingStore(InMemoryOutboxStore):
        """Reports a dispatched row as the source of a hardened completion: a store bug."""

        def mark_dispatched(self, row, now_us, *, guarded, before_write=None):
            super().mark_dispatched(row, now_us, guarded=guarded, before_write=before_write)
            return "dispatched"

    w = World(LyingStore())
    w.add(1)
    relay = OutboxRelay(w.store, RecordingTarget(), RelayConfig(worker_id="w", variant="hardened"), clock=w.clock)
    with pytest.raises(IllegalTransition, match="sys_event: no transition from state 'dispatched' on trigger "
                                                "'published' \\(variant 'hardened'\\)"):
        relay.process_pending_once()


def test_a_simpy_driver_puts_virtual_time_into_each_publish():
    simpy = pytest.importorskip("simpy")
    env = simpy.Environment()
    clock = lambda: env.now
    store = InMemoryOutboxStore()
    ids = IdGenerator(clock, seed=9)
    transport = OutboxTransport(store, clock=clock)
    for _ in range(5):
        transport.publish(EventEnvelope.new(TENANT, None, NodeCreated(node_id=NODE, kind="post"), ids=ids))
    relay = OutboxRelay(store, RecordingTarget(), RelayConfig(worker_id="sim"), clock=clock)
    done_at: list[float] = []

    def relay_process():
        for row in relay.claim_batch():
            relay.begin_dispatch(row)
            yield env.timeout(0.020)  # the broker takes 20 ms per event
            relay.mark_dispatched(row)
            done_at.append(env.now)

    env.process(relay_process())
    env.run()
    assert done_at == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.10])
    assert relay.metrics().latency_ms_total == 100 and store.count("dispatched") == 5
