"""TransactionalEventBus (spec §3.4): the outbox row lives and dies with the caller's transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from rustok_sim.adapters.sql.outbox import OutboxTransport, count_rows, fetch_row
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import EventBus, MemoryTransport, NoReceiversError, ValidationError
from rustok_sim.model.events.domain import NodeCreated, OrderPlaced
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.transactional import EventPublishValidationError, TransactionalEventBus
from rustok_sim.model.events.validation import ValidationErrorKind

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
ACTOR = uuid.UUID("44444444-4444-4444-4444-444444444444")


# The caller's own business table, so a rollback can be seen to undo both writes. A Table (not raw
# SQL) so that the per-test PostgreSQL schema applies to it too.
nodes = Table("nodes", MetaData(), Column("id", Integer, primary_key=True), Column("title", String(50)))


def node(kind: str = "post") -> NodeCreated:
    return NodeCreated(node_id=uuid.UUID("22222222-2222-2222-2222-222222222222"), kind=kind)


@pytest.fixture
def outbox(db_engine):
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    transport = OutboxTransport(db_engine, clock=clock)
    transport.create_schema()
    bus = TransactionalEventBus(transport, ids=IdGenerator(clock, seed=9), observer=recorder)
    nodes.metadata.create_all(db_engine)
    return db_engine, bus, recorder


def test_rollback_leaves_no_row(outbox):
    engine, bus, _ = outbox
    with Session(engine) as session:
        session.begin()
        session.execute(insert(nodes).values(id=1, title="draft"))
        bus.publish_in_tx(session, TENANT, ACTOR, node())
        session.rollback()
    assert count_rows(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(nodes)).scalar_one() == 0


def test_commit_leaves_one_pending_row(outbox):
    engine, bus, _ = outbox
    with Session(engine) as session, session.begin():
        session.execute(insert(nodes).values(id=1, title="hello"))
        envelope = bus.publish_in_tx(session, TENANT, ACTOR, node())
    row = fetch_row(engine, envelope.id)
    assert row["status"] == "pending"
    assert row["payload"]["tenant_id"] == str(TENANT) and row["payload"]["actor_id"] == str(ACTOR)


def test_three_events_in_one_transaction_give_three_rows(outbox):
    engine, bus, _ = outbox
    with Session(engine) as session, session.begin():
        for _ in range(3):
            bus.publish_in_tx(session, TENANT, None, node())
    assert count_rows(engine, "pending") == 3


def test_mixed_commits_and_rollbacks_keep_only_committed_rows(outbox):
    engine, bus, _ = outbox
    committed = []
    for outcome in ("commit", "rollback", "commit"):
        with Session(engine) as session:
            session.begin()
            envelope = bus.publish_in_tx(session, TENANT, None, node())
            if outcome == "commit":
                session.commit()
                committed.append(envelope.id)
            else:
                session.rollback()
    assert count_rows(engine) == 2
    assert {fetch_row(engine, event_id)["id"] for event_id in committed} == set(committed)


def test_a_core_connection_is_an_executor_too(outbox):
    engine, bus, _ = outbox
    with engine.connect() as conn:
        transaction = conn.begin()
        bus.publish_in_tx(conn, TENANT, None, node())
        transaction.rollback()
        with conn.begin():
            bus.publish_in_tx(conn, TENANT, None, node())
    assert count_rows(engine) == 1


def test_validation_failure_has_the_spec_text_and_writes_nothing(outbox):
    engine, bus, recorder = outbox
    with Session(engine) as session, session.begin():
        with pytest.raises(EventPublishValidationError) as caught:
            bus.publish_in_tx(session, TENANT, None, node(kind=""))
    assert str(caught.value) == "Validation error: Event validation failed: Field 'kind' cannot be empty"
    assert isinstance(caught.value, ValidationError)
    assert caught.value.cause.kind is ValidationErrorKind.EMPTY_FIELD and caught.value.cause.field == "kind"
    assert count_rows(engine) == 0
    [rejected] = recorder.of_kind("decision", "transactional_bus")
    assert rejected.decision == "rejected" and rejected.detail["field"] == "kind"


def test_publish_without_transaction_validates_the_same_way(outbox):
    engine, bus, _ = outbox
    bad = OrderPlaced(order_id=uuid.uuid4(), total=-1, currency="USD")
    with pytest.raises(EventPublishValidationError,
                       match=r"^Validation error: Event validation failed: Field 'total' value -1 is out of valid range"):
        bus.publish(TENANT, None, bad)
    bus.publish(TENANT, None, node())
    assert count_rows(engine) == 1


# -- non-outbox transports: published at once, leaked on rollback ------------------------------------


def test_memory_transport_publishes_before_the_transaction_decides(db_engine):
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    event_bus = EventBus(ids=IdGenerator(clock, seed=1))
    receiver = event_bus.subscribe()
    bus = TransactionalEventBus(MemoryTransport(event_bus), ids=IdGenerator(clock, seed=2), observer=recorder)
    with Session(db_engine) as session:
        session.begin()
        envelope = bus.publish_in_tx(session, TENANT, None, node())
        session.rollback()
    assert receiver.try_recv() == envelope  # the event is out although nothing committed
    [leak] = [r for r in recorder.of_kind("decision") if r.decision == "published_outside_tx"]
    assert leak.detail["transport"] == "MemoryTransport"


def test_memory_transport_errors_reach_the_caller(db_engine):
    bus = TransactionalEventBus(MemoryTransport(EventBus()), ids=IdGenerator(ManualClock(), seed=2))
    with Session(db_engine) as session, pytest.raises(NoReceiversError):
        bus.publish_in_tx(session, TENANT, None, node())


# -- the in-memory store: the same transactional contract without SQL --------------------------------


def test_in_memory_outbox_row_lives_and_dies_with_the_store_transaction():
    from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport

    store = InMemoryOutboxStore()
    clock = ManualClock(3.0)
    bus = TransactionalEventBus(OutboxTransport(store, clock=clock), ids=IdGenerator(clock, seed=4))
    tx = store.begin()
    bus.publish_in_tx(tx, TENANT, ACTOR, node())
    assert store.count() == 0, "not visible before the commit"
    tx.rollback()
    assert store.count() == 0
    with store.begin() as tx:
        envelope = bus.publish_in_tx(tx, TENANT, ACTOR, node())
    row = store.get(envelope.id)
    assert (row.status, row.created_at, row.payload) == ("pending", 3_000_000, envelope)


def test_in_memory_outbox_validation_failure_writes_nothing():
    from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport

    store = InMemoryOutboxStore()
    bus = TransactionalEventBus(OutboxTransport(store, clock=ManualClock()), ids=IdGenerator(ManualClock(), seed=4))
    with store.begin() as tx, pytest.raises(EventPublishValidationError):
        bus.publish_in_tx(tx, TENANT, None, node(kind=""))
    assert store.count() == 0


def test_the_bus_needs_a_seeded_id_source():
    from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport

    with pytest.raises(TypeError, match="needs ids= a seeded IdGenerator"):
        TransactionalEventBus(OutboxTransport(InMemoryOutboxStore(), clock=ManualClock()), ids=None)


@pytest.mark.parametrize("transport", [None, {}, EventBus()], ids=["None", "dict", "bare EventBus"])
def test_the_bus_needs_a_transport(transport):
    with pytest.raises(TypeError, match=r"TransactionalEventBus needs an EventTransport .* got "):
        TransactionalEventBus(transport, ids=IdGenerator(ManualClock(), seed=2))


def test_an_event_given_as_a_dict_is_a_type_error_naming_the_model():
    from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport

    store = InMemoryOutboxStore()
    bus = TransactionalEventBus(OutboxTransport(store, clock=ManualClock()), ids=IdGenerator(ManualClock(), seed=4))
    data = {"type": "NodeCreated", "node_id": str(uuid.UUID(int=2)), "kind": "post"}
    with store.begin() as tx, pytest.raises(TypeError, match=r"event must be a DomainEvent model .* got dict "
                                                             r".*parse_event\(data\)"):
        bus.publish_in_tx(tx, TENANT, None, data)
    with pytest.raises(TypeError, match="event must be a DomainEvent model"):
        bus.publish(TENANT, None, data)
    assert store.count() == 0
