"""Spec-derived fidelity checks for the event bus, dispatcher, transactional bus, outbox and relay
(spec §3.2-3.6 and the §8 / §9 items about them). One behaviour per test, deterministic, no sleeps;
database tests run on SQLite and, through `db_engine`, on PostgreSQL when it is configured."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from rustok_sim.adapters.sql.consumer import ReadModelConsumer
from rustok_sim.adapters.sql.db import (
    DatabaseUnavailableError,
    DatabaseUrlError,
    clock_datetime,
    make_engine,
)
from rustok_sim.adapters.sql.outbox import OutboxTransport, count_rows, fetch_row, outbox_row, sys_events
from rustok_sim.adapters.sql.relay import OutboxPayloadError, OutboxRelay, RelayConfig, RelayMetricsSnapshot
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.bus import (
    BackpressureRejectedError,
    EventBus,
    EventBusConfig,
    ExternalError,
    MemoryTransport,
    NoReceiversError,
    NotFoundError,
    ReliabilityLevel,
)
from rustok_sim.model.events.dispatcher import OK, DispatcherConfig, EventDispatcher, HandlerFailed
from rustok_sim.model.events.domain import IndexUpdated, NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.transactional import EventPublishValidationError, TransactionalEventBus
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController
from tests.events.drivers import run_until_idle

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
NODE = uuid.UUID("22222222-2222-2222-2222-222222222222")


def node_created(kind: str = "post") -> NodeCreated:
    return NodeCreated(node_id=NODE, kind=kind)


def bus_with(controller: BackpressureController | None = None, **config: object) -> EventBus:
    return EventBus(EventBusConfig(**config), backpressure=controller,  # type: ignore[arg-type]
                    ids=IdGenerator(ManualClock(), seed=21))


class Target:
    """A relay target that records ids and fails while `failures` remain."""

    def __init__(self, failures: int = 0, message: str = "downstream unavailable") -> None:
        self.failures, self.message = failures, message
        self.published: list[uuid.UUID] = []

    def publish(self, envelope: EventEnvelope) -> None:
        self.published.append(envelope.id)
        if self.failures:
            self.failures -= 1
            raise ExternalError(self.message)

    def publish_batch(self, envelopes) -> None:
        for envelope in envelopes:
            self.publish(envelope)

    def acknowledge(self, event_id) -> None:
        return None

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.IN_MEMORY


class Outbox:
    """An outbox table on `engine`, a transport and a relay factory sharing one manual clock."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.clock = ManualClock(1_000.0)
        self.transport = OutboxTransport(engine, clock=self.clock)
        self.transport.create_schema()
        self.ids = IdGenerator(self.clock, seed=77)

    def now(self):
        return clock_datetime(self.clock)

    def add(self, n: int = 1, *, step: float = 0.0) -> list[uuid.UUID]:
        ids = []
        for _ in range(n):
            envelope = EventEnvelope.new(TENANT, None, node_created(), ids=self.ids)
            self.transport.publish(envelope)
            ids.append(envelope.id)
            self.clock.advance(step)
        return ids

    def add_bad(self) -> uuid.UUID:
        event_id = self.ids.new_id()
        envelope = EventEnvelope.new(TENANT, None, node_created(), ids=self.ids)
        row = {**outbox_row(envelope, self.now()), "id": event_id, "payload": {"not": "an envelope"}}
        with self.engine.begin() as conn:
            conn.execute(insert(sys_events).values(**row))
        return event_id

    def set(self, event_id: uuid.UUID, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sys_events).where(sys_events.c.id == event_id).values(**values))

    def relay(self, target, **config) -> OutboxRelay:
        config.setdefault("worker_id", "relay-w1")
        return OutboxRelay(self.engine, target, RelayConfig(**config), clock=self.clock)


@pytest.fixture
def outbox(db_engine) -> Outbox:
    return Outbox(db_engine)


# == §3.2 EventBus ====================================================================================


def test_bus_constructors_take_the_spec_capacities():
    controller = BackpressureController()
    assert EventBus.new().capacity == 128
    assert EventBus.with_capacity(7).capacity == 7
    bus = EventBus.with_backpressure(16, controller)
    assert bus.capacity == 16 and bus.backpressure is controller


def test_bus_publish_counts_only_successful_sends_as_published():
    bus = bus_with()
    bus.subscribe()
    for _ in range(3):
        bus.publish(TENANT, None, node_created())
    assert bus.stats().as_dict() == {"events_published": 3, "events_dropped": 0, "subscribers": 1}


def test_bus_backpressure_rejection_text_at_the_default_controller():
    controller = BackpressureController()
    for _ in range(9000):
        controller.try_acquire()
    bus = bus_with(controller)
    bus.subscribe()
    with pytest.raises(BackpressureRejectedError) as caught:
        bus.publish(TENANT, None, node_created())
    assert str(caught.value) == ("External error: Event rejected due to backpressure: "
                                 "Event queue is at critical capacity (9000/10000), rejecting events")
    assert isinstance(caught.value, ExternalError)


def test_bus_backpressure_rejection_sends_nothing_and_takes_no_slot():
    controller = BackpressureController(BackpressureConfig(max_queue_depth=10))  # critical at 9
    bus = bus_with(controller)
    receiver = bus.subscribe()
    for _ in range(9):
        bus.publish(TENANT, None, node_created())
    while receiver.try_recv() is not None:
        pass
    with pytest.raises(BackpressureRejectedError):
        bus.publish(TENANT, None, node_created())
    assert receiver.try_recv() is None
    assert controller.current_depth == 9 and controller.metrics().events_rejected == 1
    assert (bus.stats().events_published, bus.stats().events_dropped) == (9, 1)


def test_bus_no_receivers_error_text_names_the_event_type_and_total():
    bus = bus_with()
    with pytest.raises(NoReceiversError) as caught:
        bus.publish(TENANT, None, IndexUpdated(index_name="products", target_id=NODE))
    assert str(caught.value) == "External error: Event dropped (no receivers): index.updated. Total dropped: 1"
    assert isinstance(caught.value, ExternalError)
    assert (bus.stats().events_published, bus.stats().events_dropped) == (0, 1)


def test_bus_dropped_total_counts_backpressure_rejections_and_failed_sends():
    controller = BackpressureController(BackpressureConfig(max_queue_depth=1))  # critical at 0
    bus = bus_with(controller)
    for _ in range(2):
        with pytest.raises(BackpressureRejectedError):
            bus.publish(TENANT, None, node_created())
    unlimited = bus_with()
    for expected in (1, 2):
        with pytest.raises(NoReceiversError, match=f"Total dropped: {expected}$"):
            unlimited.publish(TENANT, None, node_created())
    assert bus.stats().events_dropped == 2


def test_bus_failed_send_releases_the_slot_it_took():
    controller = BackpressureController(BackpressureConfig(max_queue_depth=100))
    controller.try_acquire()  # one event already in flight elsewhere
    bus = bus_with(controller)
    with pytest.raises(NoReceiversError):
        bus.publish(TENANT, None, node_created())
    assert controller.current_depth == 1
    assert controller.metrics().events_accepted == 2


def test_bus_silent_ok_mode_returns_normally_but_drops_and_releases():
    controller = BackpressureController()
    bus = bus_with(controller, no_receivers="silent_ok")
    envelope = bus.publish(TENANT, None, node_created())
    assert envelope.event_type == "node.created"
    assert (bus.stats().events_published, bus.stats().events_dropped) == (0, 1)
    assert controller.current_depth == 0


def test_bus_subscribers_is_the_live_count_sampled_at_subscribe():
    bus = bus_with()
    first, _second = bus.subscribe(), bus.subscribe()
    first.close()
    assert bus.stats().subscribers == 2 and bus.receiver_count == 1  # never lowered on close
    bus.subscribe()
    assert bus.stats().subscribers == 2  # a sample of the receiver count, not a running total


def test_bus_publish_does_not_validate():
    bus = bus_with()
    receiver = bus.subscribe()
    envelope = bus.publish(TENANT, None, node_created(kind=""))
    assert receiver.try_recv() == envelope


def test_bus_send_to_a_full_buffer_succeeds_and_the_slow_receiver_lags():
    bus = bus_with(capacity=2)
    receiver = bus.subscribe()
    for _ in range(3):
        bus.publish(TENANT, None, node_created())
    assert bus.stats().events_published == 3 and bus.stats().events_dropped == 0
    lagged = receiver.try_recv()
    assert lagged.missed == 1


def test_bus_accepted_event_keeps_its_slot_after_delivery():
    controller = BackpressureController()
    bus = bus_with(controller)
    receiver = bus.subscribe()
    bus.publish(TENANT, None, node_created())
    receiver.try_recv()
    assert controller.current_depth == 1  # only a dispatcher gives it back


def test_bus_clone_shares_the_channel_the_stats_and_the_controller():
    controller = BackpressureController()
    bus = bus_with(controller)
    handle = bus.clone()
    receiver = handle.subscribe()
    envelope = bus.publish(TENANT, None, node_created())
    assert receiver.try_recv() == envelope
    assert handle.stats() == bus.stats() and handle.stats().events_published == 1
    assert handle.backpressure is controller and controller.current_depth == 1


# == §3.4 EventTransport / MemoryTransport ============================================================


def test_memory_transport_defaults_to_a_128_bus_that_errors_without_receivers():
    transport = MemoryTransport()
    assert transport.bus.capacity == 128 and transport.bus.config.no_receivers == "error"
    assert transport.reliability_level() is ReliabilityLevel.IN_MEMORY
    assert ReliabilityLevel.IN_MEMORY.value == "InMemory"


def test_memory_transport_with_capacity_subscribe_and_stats_go_through_its_bus():
    transport = MemoryTransport.with_capacity(16)
    receiver = transport.subscribe()
    envelope = EventEnvelope.new(TENANT, None, node_created(), ids=IdGenerator(ManualClock(), seed=8))
    transport.publish(envelope)
    assert transport.bus.capacity == 16 and receiver.try_recv() == envelope
    assert transport.stats().as_dict() == {"events_published": 1, "events_dropped": 0, "subscribers": 1}


def test_memory_transport_acknowledge_is_a_no_op():
    transport = MemoryTransport()
    assert transport.acknowledge(uuid.uuid4()) is None
    assert transport.bus.stats().as_dict() == {"events_published": 0, "events_dropped": 0, "subscribers": 0}


def test_publish_batch_keeps_what_was_sent_before_the_first_error():
    controller = BackpressureController(BackpressureConfig(max_queue_depth=3))  # critical at 2
    bus = bus_with(controller)
    receiver = bus.subscribe()
    envelopes = [EventEnvelope.new(TENANT, None, node_created(), ids=IdGenerator(ManualClock(), seed=s))
                 for s in range(4)]
    with pytest.raises(BackpressureRejectedError):
        MemoryTransport(bus).publish_batch(envelopes)
    assert [receiver.try_recv(), receiver.try_recv(), receiver.try_recv()] == [envelopes[0], envelopes[1], None]
    assert (bus.stats().events_published, bus.stats().events_dropped) == (2, 1)  # the 4th was never tried


def test_reliability_levels_have_the_rust_names():
    assert [level.value for level in ReliabilityLevel] == ["InMemory", "Outbox", "Streaming"]


# == §3.3 EventDispatcher =============================================================================


class Handler:
    def __init__(self, name: str, failures: int = 0) -> None:
        self.name, self.failures = name, failures
        self.attempts = 0
        self.errors: list[BaseException] = []

    def handles(self, event) -> bool:
        return True

    def handle(self, envelope) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ExternalError(f"{self.name} attempt {self.attempts}")

    def on_error(self, envelope, error) -> None:
        self.errors.append(error)


def dispatcher_world(**config):
    clock = ManualClock()
    controller = BackpressureController()
    bus = EventBus(backpressure=controller, ids=IdGenerator(clock, seed=4))
    dispatcher = EventDispatcher(bus, DispatcherConfig(**config), clock=clock)
    return clock, controller, bus, dispatcher


def test_dispatcher_default_retry_count_zero_means_one_attempt_and_on_error():
    _, controller, bus, dispatcher = dispatcher_world()
    handler = Handler("h", failures=1)
    dispatcher.register(handler).start()
    bus.publish(TENANT, None, node_created())
    run_until_idle(dispatcher)
    assert handler.attempts == 1
    assert [str(e) for e in handler.errors] == ["External error: h attempt 1"]
    assert controller.current_depth == 0


def test_dispatcher_attempts_are_retry_count_plus_one_with_a_fixed_delay():
    clock, _, bus, dispatcher = dispatcher_world(retry_count=3, retry_delay_ms=250)
    handler = Handler("h", failures=10)
    dispatcher.register(handler).start()
    bus.publish(TENANT, None, node_created())
    times = []
    while (work := dispatcher.next_work()) is not None or dispatcher.next_deadline() is not None:
        if work is None:
            clock.set(dispatcher.next_deadline())
            continue
        times.append((work.attempt, clock()))
        dispatcher.complete(work, HandlerFailed(ExternalError("x")))
    assert times == [(1, 0.0), (2, 0.25), (3, 0.5), (4, 0.75)]


def test_dispatcher_on_error_gets_the_final_error_once():
    _, _, bus, dispatcher = dispatcher_world(retry_count=2, retry_delay_ms=100)
    handler = Handler("h", failures=5)
    dispatcher.register(handler).start()
    bus.publish(TENANT, None, node_created())
    run_until_idle(dispatcher)
    assert handler.attempts == 3
    assert [str(e) for e in handler.errors] == ["External error: h attempt 3"]


def test_dispatcher_never_touches_the_envelope_retry_count():
    _, _, bus, dispatcher = dispatcher_world(retry_count=2)
    seen: list[int] = []

    class Peek(Handler):
        def handle(self, envelope) -> None:
            seen.append(envelope.retry_count)
            super().handle(envelope)

    dispatcher.register(Peek("h", failures=2)).start()
    envelope = bus.publish(TENANT, None, node_created())
    run_until_idle(dispatcher)
    assert seen == [0, 0, 0] and envelope.retry_count == 0


def test_dispatcher_fail_fast_skips_the_rest_after_a_final_failure_and_releases_once():
    _, controller, bus, dispatcher = dispatcher_world(fail_fast=True, retry_count=1, retry_delay_ms=10)
    first, failing, last = Handler("a"), Handler("b", failures=2), Handler("c")
    for handler in (first, failing, last):
        dispatcher.register(handler)
    dispatcher.start()
    bus.publish(TENANT, None, node_created())
    run_until_idle(dispatcher)
    assert (first.attempts, failing.attempts, last.attempts) == (1, 2, 0)
    assert len(failing.errors) == 1
    assert controller.current_depth == 0 and dispatcher.stats().slots_released == 1


def test_dispatcher_fail_fast_does_not_use_the_semaphore():
    _, _, bus, dispatcher = dispatcher_world(fail_fast=True, max_concurrent=1)
    dispatcher.register(Handler("a")).start()
    bus.publish(TENANT, None, node_created())
    bus.publish(TENANT, None, node_created())
    works = [dispatcher.next_work(), dispatcher.next_work()]
    assert all(work is not None for work in works)  # both events run at once (02-14)
    assert dispatcher.permits_in_use == 0


def test_dispatcher_concurrent_mode_ignores_handler_errors_and_runs_the_others():
    _, controller, bus, dispatcher = dispatcher_world()
    failing, other = Handler("a", failures=1), Handler("b")
    dispatcher.register(failing).register(other).start()
    bus.publish(TENANT, None, node_created())
    run_until_idle(dispatcher)
    assert (failing.attempts, other.attempts) == (1, 1) and len(failing.errors) == 1
    assert controller.current_depth == 0 and dispatcher.stats().slots_released == 1


def test_dispatcher_semaphore_is_shared_by_all_events():
    _, _, bus, dispatcher = dispatcher_world(max_concurrent=3)
    dispatcher.register(Handler("a")).register(Handler("b")).start()
    bus.publish(TENANT, None, node_created())
    bus.publish(TENANT, None, node_created())
    handed = [dispatcher.next_work() for _ in range(4)]
    assert [w is not None for w in handed] == [True, True, True, False]
    dispatcher.complete(handed[0], OK)
    assert dispatcher.next_work() is not None


def test_dispatcher_without_matching_handlers_releases_one_slot():
    _, controller, bus, dispatcher = dispatcher_world()
    dispatcher.start()  # no handlers at all
    bus.publish(TENANT, None, node_created())
    assert dispatcher.next_work() is None
    assert controller.current_depth == 0 and dispatcher.stats().slots_released == 1


def test_dispatcher_does_not_see_events_published_before_start():
    _, controller, bus, dispatcher = dispatcher_world()
    handler = Handler("h")
    dispatcher.register(handler)
    bus.subscribe()  # someone else keeps the bus deliverable
    bus.publish(TENANT, None, node_created())
    dispatcher.start()
    run_until_idle(dispatcher)
    assert handler.attempts == 0 and controller.current_depth == 1


# == §3.4 TransactionalEventBus =======================================================================


def test_publish_in_tx_row_is_visible_in_the_callers_transaction_only(outbox):
    bus = TransactionalEventBus(outbox.transport, ids=outbox.ids)
    with Session(outbox.engine) as session:
        session.begin()
        envelope = bus.publish_in_tx(session, TENANT, None, node_created())
        inside = session.execute(select(sys_events.c.id)).scalars().all()
        session.rollback()
    assert inside == [envelope.id]
    assert count_rows(outbox.engine) == 0


def test_publish_in_tx_commit_persists_the_spec_insert_values(outbox):
    bus = TransactionalEventBus(outbox.transport, ids=outbox.ids)
    actor = uuid.UUID("44444444-4444-4444-4444-444444444444")
    with Session(outbox.engine) as session, session.begin():
        envelope = bus.publish_in_tx(session, TENANT, actor, node_created())
    row = fetch_row(outbox.engine, envelope.id)
    assert row["event_type"] == "node.created" and row["schema_version"] == 1
    assert row["payload"] == envelope.to_json_dict()
    assert "tenant_id" not in row and row["payload"]["tenant_id"] == str(TENANT)
    assert (row["status"], row["retry_count"]) == ("pending", 0)
    assert all(row[column] is None for column in
               ("next_attempt_at", "last_error", "claimed_by", "claimed_at", "dispatched_at"))
    assert row["created_at"] == outbox.now()


def test_publish_in_tx_validation_failure_writes_nothing_and_has_the_spec_text(outbox):
    bus = TransactionalEventBus(outbox.transport, ids=outbox.ids)
    with Session(outbox.engine) as session, session.begin():
        with pytest.raises(EventPublishValidationError) as caught:
            bus.publish_in_tx(session, TENANT, None, node_created(kind=""))
    assert str(caught.value) == "Validation error: Event validation failed: Field 'kind' cannot be empty"
    assert count_rows(outbox.engine) == 0


def test_transactional_validation_failure_publishes_nothing_on_a_memory_transport(db_engine):
    event_bus = EventBus(ids=IdGenerator(ManualClock(), seed=1))
    receiver = event_bus.subscribe()
    bus = TransactionalEventBus(MemoryTransport(event_bus), ids=IdGenerator(ManualClock(), seed=2))
    with pytest.raises(EventPublishValidationError):
        bus.publish(TENANT, None, node_created(kind=""))
    with Session(db_engine) as session, pytest.raises(EventPublishValidationError):
        bus.publish_in_tx(session, TENANT, None, node_created(kind=""))
    assert receiver.try_recv() is None and event_bus.stats().events_published == 0


def test_transactional_publish_on_the_outbox_commits_a_row_by_itself(outbox):
    bus = TransactionalEventBus(outbox.transport, ids=outbox.ids)
    envelope = bus.publish(TENANT, None, node_created())
    assert fetch_row(outbox.engine, envelope.id)["status"] == "pending"


def test_publish_in_tx_on_a_memory_transport_is_not_retracted_by_rollback(db_engine):
    event_bus = EventBus(ids=IdGenerator(ManualClock(), seed=1))
    receiver = event_bus.subscribe()
    bus = TransactionalEventBus(MemoryTransport(event_bus), ids=IdGenerator(ManualClock(), seed=2))
    with Session(db_engine) as session:
        session.begin()
        envelope = bus.publish_in_tx(session, TENANT, None, node_created())
        session.rollback()
    assert receiver.try_recv() == envelope and event_bus.stats().events_published == 1


# == §3.5 Outbox table, OutboxTransport =================================================================


def test_outbox_transport_reports_outbox_reliability(outbox):
    assert outbox.transport.reliability_level() is ReliabilityLevel.OUTBOX


def test_acknowledge_sets_dispatched_and_clears_only_the_claim_and_error(outbox):
    [event_id] = outbox.add(1)
    due = outbox.now() + timedelta(seconds=4)
    outbox.set(event_id, retry_count=2, last_error="External error: x", claimed_by="relay-x",
               claimed_at=outbox.now(), next_attempt_at=due)
    outbox.clock.advance(3)
    outbox.transport.acknowledge(event_id)
    row = fetch_row(outbox.engine, event_id)
    assert (row["status"], row["dispatched_at"]) == ("dispatched", outbox.now())
    assert (row["claimed_by"], row["claimed_at"], row["last_error"]) == (None, None, None)
    assert (row["retry_count"], row["next_attempt_at"]) == (2, due)


def test_acknowledge_of_a_missing_row_is_not_found_naming_the_sys_event(outbox):
    missing = uuid.UUID("99999999-9999-9999-9999-999999999999")
    with pytest.raises(NotFoundError) as caught:
        outbox.transport.acknowledge(missing)
    assert caught.value.message == f"sys_event {missing}"
    assert count_rows(outbox.engine) == 0


def test_outbox_publish_batch_inserts_one_pending_row_per_envelope(outbox):
    envelopes = [EventEnvelope.new(TENANT, None, node_created(), ids=outbox.ids) for _ in range(3)]
    outbox.transport.publish_batch(envelopes)
    assert count_rows(outbox.engine, "pending") == 3


# == §3.6 Relay =========================================================================================


def test_relay_backoff_is_base_times_two_to_the_n_minus_one_capped():
    config = RelayConfig()
    assert [config.backoff_ms(n) for n in range(1, 10)] == [
        1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]


def test_relay_backoff_exponent_stops_at_sixteen():
    config = RelayConfig(backoff_base_s=0.001, backoff_max_s=10_000)
    assert config.backoff_ms(17) == 65_536 and config.backoff_ms(40) == 65_536


def test_relay_metrics_snapshot_has_the_six_spec_fields():
    relay = OutboxRelay(make_engine(), Target(), clock=ManualClock(), ids=IdGenerator(ManualClock(), seed=1))
    assert relay.metrics().as_dict() == {"success_total": 0, "failure_total": 0, "retry_total": 0,
                                         "dlq_total": 0, "latency_ms_total": 0, "processed_total": 0}


def test_relay_claim_sets_worker_and_time_and_leaves_rows_pending(outbox):
    ids = outbox.add(2)
    outbox.clock.advance(5)
    claimed = outbox.relay(Target()).claim_batch()
    assert [row.id for row in claimed] == ids
    for event_id in ids:
        row = fetch_row(outbox.engine, event_id)
        assert (row["status"], row["claimed_by"], row["claimed_at"]) == ("pending", "relay-w1", outbox.now())


def test_relay_claims_oldest_first_up_to_batch_size(outbox):
    ids = outbox.add(5, step=1.0)
    target = Target()
    relay = outbox.relay(target, batch_size=2)
    assert relay.process_pending_once() == 2
    assert target.published == ids[:2]
    assert relay.process_pending_once() == 2 and relay.process_pending_once() == 1
    assert target.published == ids


def test_relay_skips_rows_that_are_not_due_or_not_pending_or_claimed(outbox):
    due_later, dispatched, failed, claimed, eligible = outbox.add(5, step=1.0)
    outbox.set(due_later, next_attempt_at=outbox.now() + timedelta(microseconds=1))
    outbox.set(dispatched, status="dispatched")
    outbox.set(failed, status="failed")
    outbox.set(claimed, claimed_by="other", claimed_at=outbox.now())
    target = Target()
    assert outbox.relay(target).process_pending_once() == 1
    assert target.published == [eligible]


def test_relay_row_due_exactly_now_is_claimed(outbox):
    [event_id] = outbox.add(1)
    outbox.set(event_id, next_attempt_at=outbox.now())
    assert outbox.relay(Target()).process_pending_once() == 1


def test_relay_success_row_values(outbox):
    [event_id] = outbox.add(1)
    outbox.clock.advance(2)
    relay = outbox.relay(Target())
    relay.process_pending_once()
    row = fetch_row(outbox.engine, event_id)
    assert (row["status"], row["dispatched_at"], row["retry_count"]) == ("dispatched", outbox.now(), 0)
    assert all(row[column] is None for column in ("claimed_by", "claimed_at", "last_error", "next_attempt_at"))
    assert relay.metrics().as_dict() == {"success_total": 1, "failure_total": 0, "retry_total": 0,
                                         "dlq_total": 0, "latency_ms_total": 0, "processed_total": 1}


def test_relay_first_failure_row_values(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(Target(failures=1))
    relay.process_pending_once()
    row = fetch_row(outbox.engine, event_id)
    assert (row["status"], row["retry_count"]) == ("pending", 1)
    assert row["last_error"] == "External error: downstream unavailable"
    assert row["next_attempt_at"] == outbox.now() + timedelta(seconds=1)
    assert (row["claimed_by"], row["claimed_at"], row["dispatched_at"]) == (None, None, None)
    assert relay.metrics().as_dict() == {"success_total": 0, "failure_total": 1, "retry_total": 1,
                                         "dlq_total": 0, "latency_ms_total": 0, "processed_total": 1}


def test_relay_is_not_retried_before_the_backoff_elapses(outbox):
    outbox.add(1)
    target = Target(failures=1)
    relay = outbox.relay(target)
    relay.process_pending_once()
    outbox.clock.advance(0.999999)
    assert relay.process_pending_once() == 0
    outbox.clock.advance(0.000001)
    assert relay.process_pending_once() == 1 and len(target.published) == 2


def test_relay_retry_schedule_is_1_2_4_8_seconds(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(Target(failures=10))
    delays = []
    for _ in range(4):
        relay.process_pending_once()
        row = fetch_row(outbox.engine, event_id)
        delays.append((row["next_attempt_at"] - outbox.now()).total_seconds())
        outbox.clock.set(outbox.clock() + delays[-1])
    assert delays == [1.0, 2.0, 4.0, 8.0]


def test_relay_fifth_failure_moves_the_row_to_failed(outbox):
    [event_id] = outbox.add(1)
    target = Target(failures=10, message="still down")
    relay = outbox.relay(target)
    for delay in (0, 1, 2, 4, 8):
        outbox.clock.advance(delay)
        assert relay.process_pending_once() == 1
    row = fetch_row(outbox.engine, event_id)
    assert (row["status"], row["retry_count"], row["next_attempt_at"]) == ("failed", 5, None)
    assert row["last_error"] == "External error: still down"
    assert (row["claimed_by"], row["claimed_at"]) == (None, None)
    assert len(target.published) == 5
    assert relay.metrics() == RelayMetricsSnapshot(failure_total=5, retry_total=4, dlq_total=1, processed_total=5)
    outbox.clock.advance(3600)
    assert relay.process_pending_once() == 0  # failed rows are never picked up again


def test_relay_success_after_a_retry_clears_the_error_and_keeps_the_count(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(Target(failures=1))
    relay.process_pending_once()
    outbox.clock.advance(1)
    relay.process_pending_once()
    row = fetch_row(outbox.engine, event_id)
    assert (row["status"], row["retry_count"], row["last_error"], row["next_attempt_at"]) == (
        "dispatched", 1, None, None)


def test_relay_latency_is_whole_milliseconds_summed(outbox):
    outbox.add(2)

    class Slow(Target):
        def publish(self, envelope) -> None:
            outbox.clock.advance(0.0125)
            super().publish(envelope)

    relay = outbox.relay(Slow())
    relay.process_pending_once()
    assert relay.metrics().latency_ms_total == 24  # 12 ms + 12 ms, each truncated


def test_relay_latency_is_exact_at_large_clock_values(db_engine):
    outbox = Outbox(db_engine)
    outbox.clock.set(1_700_000_000.0)  # epoch-like virtual time: float noise must not lose a ms
    outbox.add(1)

    class Slow(Target):
        def publish(self, envelope) -> None:
            outbox.clock.advance(0.007)
            super().publish(envelope)

    relay = outbox.relay(Slow())
    relay.process_pending_once()
    assert relay.metrics().latency_ms_total == 7


def test_relay_last_error_is_the_no_receivers_display_text(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(MemoryTransport(EventBus(ids=outbox.ids)))
    relay.process_pending_once()
    assert fetch_row(outbox.engine, event_id)["last_error"] == (
        "External error: Event dropped (no receivers): node.created. Total dropped: 1")


def test_relay_to_a_bus_without_subscribers_ends_failed_from_02_14(outbox):
    [event_id] = outbox.add(1)
    bus = EventBus(ids=outbox.ids)
    relay = outbox.relay(MemoryTransport(bus))
    for delay in (0, 1, 2, 4, 8):
        outbox.clock.advance(delay)
        relay.process_pending_once()
    row = fetch_row(outbox.engine, event_id)
    assert (row["status"], row["retry_count"]) == ("failed", 5)
    assert row["last_error"] == "External error: Event dropped (no receivers): node.created. Total dropped: 5"
    assert bus.stats().events_dropped == 5 and bus.stats().events_published == 0


def test_relay_to_a_bus_without_subscribers_dispatches_at_02_13(outbox):
    [event_id] = outbox.add(1)
    bus = EventBus(EventBusConfig(no_receivers="silent_ok"), ids=outbox.ids)
    relay = outbox.relay(MemoryTransport(bus))
    relay.process_pending_once()
    assert fetch_row(outbox.engine, event_id)["status"] == "dispatched"
    assert relay.metrics().success_total == 1 and bus.stats().events_dropped == 1


def test_relay_malformed_payload_aborts_the_batch_and_leaves_the_rest_claimed(outbox):
    [before] = outbox.add(1, step=1.0)
    bad = outbox.add_bad()
    outbox.clock.advance(1)
    after = outbox.add(2, step=1.0)
    target = Target()
    relay = outbox.relay(target)
    with pytest.raises(OutboxPayloadError):
        relay.process_pending_once()
    assert target.published == [before]
    assert fetch_row(outbox.engine, before)["status"] == "dispatched"
    for event_id in (bad, *after):
        row = fetch_row(outbox.engine, event_id)
        assert (row["status"], row["retry_count"], row["claimed_by"]) == ("pending", 0, "relay-w1")
        assert row["last_error"] is None
    assert relay.metrics() == RelayMetricsSnapshot(success_total=1, processed_total=1)


@pytest.mark.postgres
def test_relay_faithful_error_longer_than_the_column_fails_the_pass_on_postgresql(database_url):
    from sqlalchemy.exc import DBAPIError

    from rustok_sim.adapters.sql.db import drop_schema, new_schema_name

    schema = new_schema_name("rustok_sim_test")
    engine = make_engine(database_url, schema=schema)
    try:
        outbox = Outbox(engine)
        [event_id] = outbox.add(1)
        relay = outbox.relay(Target(failures=1, message="x" * 3000))
        with pytest.raises(DBAPIError):  # varchar(2048): Rust's UPDATE fails the same way
            relay.process_pending_once()
        row = fetch_row(engine, event_id)
        assert (row["status"], row["retry_count"], row["claimed_by"]) == ("pending", 0, "relay-w1")
        # Rust counted the retry between find_by_id and the failing UPDATE.
        assert relay.metrics() == RelayMetricsSnapshot(failure_total=1, retry_total=1, processed_total=1)
    finally:
        drop_schema(engine, schema)
        engine.dispose()


def test_relay_hardened_cuts_last_error_to_the_column_length(outbox):
    [event_id] = outbox.add(1)
    outbox.relay(Target(failures=1, message="x" * 3000), variant="hardened").process_pending_once()
    last_error = fetch_row(outbox.engine, event_id)["last_error"]
    assert len(last_error) == 2048 and last_error.startswith("External error: xxx")


def test_relay_faithful_never_reclaims_rows_of_a_dead_relay(outbox):
    outbox.add(1)
    outbox.relay(Target(), worker_id="dead").claim_batch()
    outbox.clock.advance(10 * 365 * 86400)
    assert outbox.relay(Target(), worker_id="alive").process_pending_once() == 0


def test_relay_hardened_reclaims_after_the_lease(outbox):
    [event_id] = outbox.add(1)
    outbox.relay(Target(), worker_id="dead", variant="hardened").claim_batch()
    outbox.clock.advance(60)
    target = Target()
    assert outbox.relay(target, worker_id="alive", variant="hardened").process_pending_once() == 1
    assert target.published == [event_id]


def test_relay_run_step_sleeps_like_the_run_loop(outbox):
    relay = outbox.relay(Target())
    assert relay.run_step() == pytest.approx(0.1)
    outbox.add(1)
    assert relay.run_step() == 0.0
    outbox.add_bad()
    assert relay.run_step() == pytest.approx(1.0)


# == consumer, database errors ==========================================================================


def test_idempotent_consumer_applies_a_redelivered_event_once(db_engine):
    clock = ManualClock()
    consumer = ReadModelConsumer(db_engine, clock=clock)
    consumer.create_schema()
    envelope = EventEnvelope.new(TENANT, None, node_created(), ids=IdGenerator(clock, seed=3))
    assert [consumer.apply(envelope), consumer.apply(envelope)] == [True, False]
    assert consumer.counters() == {(TENANT, "node.created"): 1}


def test_database_url_with_a_non_numeric_port_is_a_typed_url_error():
    with pytest.raises(DatabaseUrlError) as caught:
        make_engine("postgresql+psycopg://user:secret@localhost:notaport/db")
    message = str(caught.value)
    assert message.startswith("invalid database URL 'postgresql+psycopg://user:***@localhost:notaport/db': ")
    assert "secret" not in message and "\n" not in message


def test_unreachable_database_is_one_typed_line():
    with pytest.raises(DatabaseUnavailableError) as caught:
        make_engine("postgresql+psycopg://user:secret@127.0.0.1:1/db")
    assert str(caught.value) == (
        "cannot connect to postgresql+psycopg://user:***@127.0.0.1:1/db: connection refused")
