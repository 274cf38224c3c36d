"""Idempotent consumer and read model: duplicates apply once; read model == committed writes."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from rustok_sim.adapters.sql.consumer import ReadModelConsumer
from rustok_sim.adapters.sql.db import make_engine
from rustok_sim.adapters.sql.outbox import OutboxTransport, fetch_rows
from rustok_sim.adapters.sql.relay import OutboxRelay, RelayConfig
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import EventBus, ExternalError, MemoryTransport
from rustok_sim.model.events.dispatcher import DispatcherConfig, EventDispatcher
from rustok_sim.model.events.domain import NodeCreated, ProductCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.transactional import TransactionalEventBus
from tests.events.drivers import run_until_idle

TENANT_A = uuid.UUID("11111111-1111-1111-1111-111111111111")
TENANT_B = uuid.UUID("55555555-5555-5555-5555-555555555555")


def node() -> NodeCreated:
    return NodeCreated(node_id=uuid.uuid4(), kind="post")


@pytest.fixture
def consumer(db_engine):
    clock = ManualClock()
    read_model = ReadModelConsumer(db_engine, clock=clock, observer=TraceRecorder(clock))
    read_model.create_schema()
    return read_model, IdGenerator(clock, seed=21)


def test_a_duplicate_delivery_is_applied_once(consumer):
    read_model, ids = consumer
    envelope = EventEnvelope.new(TENANT_A, None, node(), ids=ids)
    assert read_model.apply(envelope) is True
    assert read_model.apply(envelope) is False
    assert read_model.applied_event_ids() == [envelope.id]
    assert read_model.counters() == {(TENANT_A, "node.created"): 1}
    assert (read_model.applied, read_model.duplicates) == (1, 1)
    actions = [r.action for r in read_model.observer.of_kind("event", "read_model")]
    assert actions == ["applied", "duplicate"]


def test_counters_are_per_tenant_and_event_type(consumer):
    read_model, ids = consumer
    for tenant, event in ((TENANT_A, node()), (TENANT_A, node()), (TENANT_B, ProductCreated(product_id=uuid.uuid4()))):
        read_model.apply(EventEnvelope.new(tenant, None, event, ids=ids))
    assert read_model.counters() == {(TENANT_A, "node.created"): 2, (TENANT_B, "product.created"): 1}
    assert read_model.total_applied() == 3


def test_without_the_inbox_a_duplicate_is_counted_twice(db_engine):
    clock = ManualClock()
    read_model = ReadModelConsumer(db_engine, clock=clock, idempotent=False, name="no_inbox")
    read_model.create_schema()
    envelope = EventEnvelope.new(TENANT_A, None, node(), ids=IdGenerator(clock, seed=1))
    read_model.apply(envelope)
    read_model.apply(envelope)
    assert read_model.counters() == {(TENANT_A, "node.created"): 2}
    assert read_model.applied_event_ids() == [envelope.id, envelope.id]


def test_consumers_sharing_a_database_keep_separate_inboxes(consumer):
    read_model, ids = consumer
    other = ReadModelConsumer(read_model.engine, clock=read_model.clock, name="search_index")
    envelope = EventEnvelope.new(TENANT_A, None, node(), ids=ids)
    assert read_model.apply(envelope) and other.apply(envelope)
    assert other.apply(envelope) is False


def test_database_errors_are_handler_errors(consumer):
    read_model, ids = consumer
    broken = ReadModelConsumer(make_engine(), clock=read_model.clock)  # tables never created
    with pytest.raises(ExternalError) as caught:
        broken.apply(EventEnvelope.new(TENANT_A, None, node(), ids=ids))
    assert str(caught.value).startswith("External error: read model read_model: ")


class Pipeline:
    """Transactional bus -> outbox -> relay -> event bus -> dispatcher -> read model."""

    def __init__(self, engine, *, relay_variant: str = "faithful") -> None:
        self.engine = engine
        self.clock = ManualClock()
        self.trace = TraceRecorder(self.clock)
        outbox = OutboxTransport(engine, clock=self.clock)
        outbox.create_schema()
        self.bus = TransactionalEventBus(outbox, ids=IdGenerator(self.clock, seed=4))
        self.event_bus = EventBus(observer=self.trace)
        self.read_model = ReadModelConsumer(engine, clock=self.clock, observer=self.trace)
        self.read_model.create_schema()
        self.dispatcher = EventDispatcher(self.event_bus, DispatcherConfig(), clock=self.clock, observer=self.trace)
        self.dispatcher.register(self.read_model).start()
        self.relay = OutboxRelay(engine, MemoryTransport(self.event_bus),
                                 RelayConfig(worker_id="relay", variant=relay_variant), clock=self.clock)

    def write(self, commit: bool) -> uuid.UUID:
        with Session(self.engine) as session:
            session.begin()
            envelope = self.bus.publish_in_tx(session, TENANT_A, None, node())
            session.commit() if commit else session.rollback()
        return envelope.id

    def deliver(self) -> None:
        while self.relay.process_pending_once():
            pass
        run_until_idle(self.dispatcher)


def test_read_model_equals_committed_writes_end_to_end(db_engine):
    pipeline = Pipeline(db_engine)
    committed = [pipeline.write(commit) for commit in (True, False, True, True, False)]
    committed = [event_id for event_id, commit in zip(committed, (True, False, True, True, False)) if commit]
    pipeline.deliver()
    assert pipeline.read_model.applied_event_ids() == sorted(committed)
    assert {row["id"] for row in fetch_rows(db_engine) if row["status"] == "dispatched"} == set(committed)


def test_a_relay_that_dies_after_publishing_redelivers_and_the_inbox_absorbs_it(db_engine):
    pipeline = Pipeline(db_engine, relay_variant="hardened")
    event_id = pipeline.write(commit=True)
    [row] = pipeline.relay.claim_batch()
    pipeline.relay.target.publish(pipeline.relay.decode(row))  # published ... and the relay dies here
    run_until_idle(pipeline.dispatcher)
    pipeline.clock.advance(60)  # the claim lease expires; another pass takes the row again
    pipeline.deliver()
    assert pipeline.read_model.applied_event_ids() == [event_id]
    assert pipeline.read_model.duplicates == 1
    assert pipeline.read_model.counters() == {(TENANT_A, "node.created"): 1}


@given(outcomes=st.lists(st.booleans(), max_size=8), redeliver=st.lists(st.integers(0, 7), max_size=4))
def test_read_model_equals_committed_writes_under_redelivery(outcomes, redeliver):
    pipeline = Pipeline(make_engine())
    written = [(pipeline.write(commit), commit) for commit in outcomes]
    committed = sorted(event_id for event_id, commit in written if commit)
    pipeline.deliver()
    dispatched = [row for row in fetch_rows(pipeline.engine) if row["status"] == "dispatched"]
    for index in redeliver:  # the same events again, as a duplicate-happy transport would
        if dispatched:
            envelope = EventEnvelope.from_json(dispatched[index % len(dispatched)]["payload"])
            pipeline.event_bus.publish_envelope(envelope)
    run_until_idle(pipeline.dispatcher)
    assert pipeline.read_model.applied_event_ids() == committed
    assert pipeline.read_model.total_applied() == len(committed)


def test_a_read_model_without_its_tables_says_which_and_how_to_create_them(consumer):
    read_model, ids = consumer
    broken = ReadModelConsumer(make_engine(), clock=read_model.clock)  # tables never created
    with pytest.raises(ExternalError, match=r"read model read_model: table 'sys_event_inbox' does not exist: "
                                            r"call create_schema\(\) first \(ReadModelConsumer.create_schema\(\)"):
        broken.apply(EventEnvelope.new(TENANT_A, None, node(), ids=ids))
