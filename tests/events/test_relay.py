"""OutboxRelay (spec §3.6): claim, dispatch, retry with backoff, DLQ, stuck claims, claim races."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import insert

from rustok_sim.adapters.sql.db import UnparsablePayload, clock_datetime, make_engine
from rustok_sim.adapters.sql.outbox import OutboxTransport, count_rows, fetch_row, fetch_rows, outbox_row, sys_events
from rustok_sim.adapters.sql.relay import (
    RUN_ERROR_SLEEP_S,
    RUN_IDLE_SLEEP_S,
    OutboxPayloadError,
    OutboxRelay,
    RelayConfig,
    stale_claims,
)
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import EventBus, EventBusConfig, ExternalError, MemoryTransport
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from tests.events.drivers import RecordingTarget

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")


class Outbox:
    """An outbox on one engine with a clock, an id generator and a trace."""

    def __init__(self, engine, clock: ManualClock | None = None) -> None:
        self.engine = engine
        self.clock = clock or ManualClock()
        self.trace = TraceRecorder(self.clock)
        self.transport = OutboxTransport(engine, clock=self.clock)
        self.transport.create_schema()
        self.ids = IdGenerator(self.clock, seed=13)

    def add(self, n: int = 1) -> list[uuid.UUID]:
        envelopes = [EventEnvelope.new(TENANT, None, NodeCreated(node_id=uuid.uuid4(), kind="post"), ids=self.ids)
                     for _ in range(n)]
        with self.engine.begin() as conn:
            for envelope in envelopes:
                self.transport.write_to_outbox(conn, envelope)
        return [envelope.id for envelope in envelopes]

    def add_raw(self, payload) -> uuid.UUID:
        event_id = self.ids.new_id()
        row = {**outbox_row(_placeholder(event_id), clock_datetime(self.clock)), "payload": payload}
        with self.engine.begin() as conn:
            conn.execute(insert(sys_events).values(**row))
        return event_id

    def relay(self, target, engine=None, **config) -> OutboxRelay:
        config.setdefault("worker_id", "relay-a")
        return OutboxRelay(engine or self.engine, target, RelayConfig(**config), clock=self.clock,
                           observer=self.trace)


class _placeholder:
    """Just enough of an envelope for `outbox_row` when the payload is written separately."""

    def __init__(self, event_id: uuid.UUID) -> None:
        self.id, self.event_type, self.schema_version = event_id, "node.created", 1

    def to_json_dict(self) -> dict:
        return {}


@pytest.fixture
def outbox(db_engine) -> Outbox:
    return Outbox(db_engine)


# -- config ---------------------------------------------------------------------------------------


def test_config_defaults_match_the_spec():
    config = RelayConfig()
    assert (config.batch_size, config.max_attempts, config.backoff_base_s, config.backoff_max_s) == (100, 5, 1.0, 60.0)
    assert config.worker_id is None  # drawn from the relay's seeded ids (Rust: relay-<uuid v4>)
    assert config.variant == "faithful" and config.claim_ttl_s == 60.0


def test_default_worker_id_is_a_v4_uuid_drawn_from_the_seeded_source(db_engine):
    relays = [OutboxRelay(db_engine, RecordingTarget(), clock=ManualClock(), ids=random.Random(7)) for _ in range(2)]
    worker = relays[0].worker_id
    assert worker.startswith("relay-") and uuid.UUID(worker.removeprefix("relay-")).version == 4
    assert relays[1].worker_id == worker, "the same seed gives the same worker id"
    assert OutboxRelay(db_engine, RecordingTarget(), clock=ManualClock(), ids=random.Random(8)).worker_id != worker
    assert relays[0].name == worker


def test_a_relay_without_worker_id_or_seeded_ids_is_a_clear_type_error(db_engine):
    with pytest.raises(TypeError, match="needs a worker id: RelayConfig.worker_id=.... or ids= a seeded"):
        OutboxRelay(db_engine, RecordingTarget(), clock=ManualClock())
    with pytest.raises(TypeError, match="OutboxRelay needs clock= a zero-argument callable"):
        OutboxRelay(db_engine, RecordingTarget(), RelayConfig(worker_id="w"), clock=None)
    with pytest.raises(TypeError, match="config must be a RelayConfig, got dict"):
        OutboxRelay(db_engine, RecordingTarget(), {"worker_id": "w"}, clock=ManualClock())


def test_backoff_doubles_from_one_second_and_caps_at_sixty():
    config = RelayConfig(worker_id="w")
    assert [config.backoff_ms(n) for n in range(1, 9)] == [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]
    assert config.backoff_ms(1000) == 60000  # the exponent stops at 16


@given(base=st.floats(0, 10), cap=st.floats(0, 120), n=st.integers(1, 40))
def test_backoff_is_monotone_and_never_above_the_cap(base, cap, n):
    config = RelayConfig(worker_id="w", backoff_base_s=base, backoff_max_s=cap)
    assert config.backoff_ms(n) <= config.backoff_ms(n + 1) <= round(cap * 1_000_000) // 1000


def test_bad_config_names_the_field():
    with pytest.raises(PydanticValidationError, match="worker_id"):
        RelayConfig(worker_id="")
    with pytest.raises(PydanticValidationError, match="batch_size"):
        RelayConfig(batch_size=-1)


# -- dispatch, retry, DLQ ---------------------------------------------------------------------------


def test_pending_rows_are_dispatched_oldest_first(outbox):
    first = outbox.add(1)
    outbox.clock.advance(1)
    second = outbox.add(2)
    target = RecordingTarget()
    relay = outbox.relay(target, batch_size=2)
    assert relay.process_pending_once() == 2
    assert target.published == first + second[:1]
    assert relay.process_pending_once() == 1 and relay.process_pending_once() == 0
    row = fetch_row(outbox.engine, first[0])
    assert row["status"] == "dispatched" and row["dispatched_at"] == clock_datetime(outbox.clock)
    assert (row["claimed_by"], row["claimed_at"], row["next_attempt_at"], row["last_error"]) == (None,) * 4
    assert relay.metrics().as_dict() == {"success_total": 3, "failure_total": 0, "retry_total": 0,
                                         "dlq_total": 0, "latency_ms_total": 0, "processed_total": 3}


def test_failures_back_off_1_2_4_8_seconds_then_the_row_fails_after_5_attempts(outbox):
    [event_id] = outbox.add(1)
    target = RecordingTarget(fail_with="target down")
    relay = outbox.relay(target)
    attempt_times = []
    for due in (0.0, 1.0, 3.0, 7.0, 15.0):
        outbox.clock.set(due - 0.001 if due else 0.0)
        if due:
            assert relay.process_pending_once() == 0, f"claimed before its next_attempt_at {due}"
        outbox.clock.set(due)
        assert relay.process_pending_once() == 1
        attempt_times.append(outbox.clock.now)
        row = fetch_row(outbox.engine, event_id)
        assert row["last_error"] == "External error: target down" and row["claimed_by"] is None
    assert attempt_times == [0.0, 1.0, 3.0, 7.0, 15.0]
    assert row["status"] == "failed" and row["retry_count"] == 5 and row["next_attempt_at"] is None
    outbox.clock.set(10_000)
    assert relay.process_pending_once() == 0
    assert len(target.published) == 5
    assert relay.metrics().as_dict() == {"success_total": 0, "failure_total": 5, "retry_total": 4,
                                         "dlq_total": 1, "latency_ms_total": 0, "processed_total": 5}
    scheduled = [r.detail["backoff_ms"] for r in outbox.trace.of_kind("event", "outbox_relay")
                 if r.action == "retry_scheduled"]
    assert scheduled == [1000, 2000, 4000, 8000]


def test_next_attempt_at_is_clock_time_plus_backoff(outbox):
    [event_id] = outbox.add(1)
    outbox.clock.set(100.0)
    outbox.relay(RecordingTarget(fail_with="x")).process_pending_once()
    assert fetch_row(outbox.engine, event_id)["next_attempt_at"] == clock_datetime(lambda: 101.0)


def test_max_attempts_one_fails_on_the_first_error(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(RecordingTarget(fail_with="x"), max_attempts=1)
    relay.process_pending_once()
    assert fetch_row(outbox.engine, event_id)["status"] == "failed" and relay.metrics().retry_total == 0


def test_latency_is_measured_with_the_injected_clock(outbox):
    outbox.add(2)
    relay = outbox.relay(RecordingTarget(clock=outbox.clock, takes=0.25))
    relay.process_pending_once()
    assert relay.metrics().latency_ms_total == 500


def test_relay_to_a_bus_without_subscribers_depends_on_the_no_receivers_mode(outbox):
    ids = outbox.add(1)
    strict = outbox.relay(MemoryTransport(EventBus()))  # 02-14: Err -> retries -> failed
    strict.process_pending_once()
    assert fetch_row(outbox.engine, ids[0])["last_error"] == \
        "External error: Event dropped (no receivers): node.created. Total dropped: 1"
    more = outbox.add(1)
    lenient = outbox.relay(MemoryTransport(EventBus(EventBusConfig(no_receivers="silent_ok"))), worker_id="b")
    lenient.process_pending_once()  # 02-13: Ok although nobody received it
    assert fetch_row(outbox.engine, more[0])["status"] == "dispatched"


def test_run_step_returns_the_sleep_of_rusts_run_loop(outbox):
    relay = outbox.relay(RecordingTarget())
    assert relay.run_step() == RUN_IDLE_SLEEP_S == 0.1
    outbox.add(1)
    assert relay.run_step() == 0.0
    outbox.add_raw({"not": "an envelope"})
    assert relay.run_step() == RUN_ERROR_SLEEP_S == 1.0
    assert [r.decision for r in outbox.trace.of_kind("decision", "outbox_relay")][-1] == "pass_failed"


# -- malformed payloads -------------------------------------------------------------------------------


def test_malformed_payload_is_reported_with_its_id_and_stops_the_batch(outbox):
    [good] = outbox.add(1)
    outbox.clock.advance(1)
    bad = outbox.add_raw({"not": "an envelope"})
    outbox.clock.advance(1)
    [later] = outbox.add(1)
    target = RecordingTarget()
    relay = outbox.relay(target)
    with pytest.raises(OutboxPayloadError) as caught:
        relay.process_pending_once()
    message = str(caught.value)
    assert message.startswith(f"Serialization error: sys_event {bad}: payload is not a valid EventEnvelope: ")
    assert "\n" not in message and caught.value.event_id == bad
    assert target.published == [good]
    for event_id in (bad, later):  # the rest of the batch stays claimed, pending
        row = fetch_row(outbox.engine, event_id)
        assert (row["status"], row["claimed_by"]) == ("pending", "relay-a")
    outbox.clock.advance(3600)
    assert relay.process_pending_once() == 0  # ... for good: nothing reclaims them
    assert relay.metrics().processed_total == 1


def test_payload_that_is_not_json_is_reported_too():
    outbox = Outbox(make_engine())  # SQLite only: PostgreSQL's jsonb refuses such text on insert
    bad = outbox.add_raw(UnparsablePayload("{broken", ""))
    with pytest.raises(OutboxPayloadError, match=f"sys_event {bad}: payload is not a valid EventEnvelope: not JSON: "):
        outbox.relay(RecordingTarget()).process_pending_once()


def test_hardened_relay_sends_a_malformed_row_to_the_dlq_and_continues(outbox):
    bad = outbox.add_raw({"not": "an envelope"})
    outbox.clock.advance(1)
    [later] = outbox.add(1)
    relay = outbox.relay(RecordingTarget(), variant="hardened")
    assert relay.process_pending_once() == 2
    assert fetch_row(outbox.engine, later)["status"] == "dispatched"
    for due in (1, 2, 4, 8):
        outbox.clock.advance(due)
        relay.process_pending_once()
    row = fetch_row(outbox.engine, bad)
    assert row["status"] == "failed" and row["retry_count"] == 5
    assert row["last_error"].startswith(f"Serialization error: sys_event {bad}: payload is not a valid EventEnvelope")


# -- a relay that dies after claiming -------------------------------------------------------------------


def test_faithful_rows_claimed_by_a_dead_relay_stay_stuck_for_good(outbox):
    ids = outbox.add(3)
    dead = outbox.relay(RecordingTarget(), worker_id="dead")
    assert len(dead.claim_batch()) == 3  # ... and then the process dies
    outbox.clock.advance(24 * 3600)
    survivor = outbox.relay(RecordingTarget(), worker_id="survivor")
    assert survivor.process_pending_once() == 0
    assert stale_claims(outbox.engine, clock_datetime(outbox.clock)) == ids
    assert count_rows(outbox.engine, "pending") == 3


def test_hardened_lease_lets_another_relay_reclaim_after_the_ttl(outbox):
    ids = outbox.add(2)
    dead_target = RecordingTarget()
    dead = outbox.relay(dead_target, worker_id="dead", variant="hardened", claim_ttl_s=60)
    claimed = dead.claim_batch()
    survivor_target = RecordingTarget()
    survivor = outbox.relay(survivor_target, worker_id="survivor", variant="hardened", claim_ttl_s=60)
    outbox.clock.advance(59.999)
    assert survivor.process_pending_once() == 0  # the lease still holds
    outbox.clock.advance(0.001)
    assert survivor.process_pending_once() == 2
    assert survivor_target.published == ids and count_rows(outbox.engine, "dispatched") == 2
    # The old worker wakes up: it may still publish (at-least-once), but it cannot complete the row.
    with pytest.raises(ExternalError) as caught:
        dead.process_claimed(claimed[0])
    assert str(caught.value) == f"External error: outbox event {ids[0]} claim was lost before completion"
    assert fetch_row(outbox.engine, ids[0])["status"] == "dispatched"
    assert dead_target.published == [ids[0]]


def test_faithful_late_completion_by_the_dead_worker_is_not_detected(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(RecordingTarget(fail_with="x"))
    [row] = relay.claim_batch()
    relay.process_claimed(row)  # fails: retry_count 1, claim cleared
    relay.process_claimed(row)  # a duplicate completion from the same stale snapshot
    assert fetch_row(outbox.engine, event_id)["retry_count"] == 1  # computed from the claim-time row, again


# -- concurrent relays on PostgreSQL -------------------------------------------------------------------


def _run_in_threads(*functions, timeout: float = 60.0) -> None:
    errors: list[BaseException] = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guard(fn), daemon=True) for fn in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "relay thread hung"
    if errors:
        raise errors[0]


@pytest.mark.postgres
@pytest.mark.parametrize("variant", ["faithful", "hardened"])
def test_two_relays_claiming_concurrently_never_claim_the_same_row(pg_schema, variant):
    url, schema = pg_schema
    engines = [make_engine(url, schema=schema, pool_size=2) for _ in range(2)]
    outbox = Outbox(engines[0], ManualClock(10.0))
    rows = outbox.add(300)
    relays = [outbox.relay(RecordingTarget(), engine=engine, worker_id=f"w{i}", batch_size=40, variant=variant)
              for i, engine in enumerate(engines)]
    barrier = threading.Barrier(2, timeout=30)
    claimed: list[list[uuid.UUID]] = [[], []]
    last: list[int] = [1, 1]

    def worker(index: int):
        def run():
            while True:
                barrier.wait()  # both claims start together, every round
                got = relays[index].claim_batch()
                claimed[index].extend(row.id for row in got)
                last[index] = len(got)
                barrier.wait()
                if last == [0, 0]:
                    return
        return run

    try:
        _run_in_threads(worker(0), worker(1))
    finally:
        for engine in engines:
            engine.dispose()
    assert set(claimed[0]).isdisjoint(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == sorted(rows)  # every row claimed exactly once


@pytest.mark.postgres
def test_two_hardened_relays_processing_concurrently_dispatch_each_row_once(pg_schema):
    url, schema = pg_schema
    engines = [make_engine(url, schema=schema, pool_size=2) for _ in range(2)]
    outbox = Outbox(engines[0], ManualClock(10.0))
    rows = outbox.add(200)
    target = RecordingTarget()
    relays = [outbox.relay(target, engine=engine, worker_id=f"w{i}", batch_size=25, variant="hardened")
              for i, engine in enumerate(engines)]

    def drain(relay: OutboxRelay):
        return lambda: [None for _ in iter(relay.process_pending_once, 0)]

    try:
        _run_in_threads(drain(relays[0]), drain(relays[1]))
    finally:
        for engine in engines:
            engine.dispose()
    assert sorted(target.published) == sorted(rows)
    assert relays[0].metrics().success_total + relays[1].metrics().success_total == 200


@pytest.mark.postgres
@pytest.mark.parametrize("variant, published", [("faithful", 2), ("hardened", 1)])
def test_a_stale_candidate_select_redispatches_in_the_faithful_relay(pg_schema, variant, published):
    """(analysis) B selects candidates, A then claims, publishes and marks the row dispatched, then
    B's UPDATE runs: it re-checks only claimed_at IS NULL, which the dispatch cleared."""
    url, schema = pg_schema
    engines = [make_engine(url, schema=schema) for _ in range(2)]
    try:
        outbox = Outbox(engines[0])
        [event_id] = outbox.add(1)
        target = RecordingTarget()
        relay_a = outbox.relay(target, engine=engines[0], worker_id="a", variant=variant)
        relay_b = outbox.relay(target, engine=engines[1], worker_id="b", variant=variant)
        claimed = relay_b.claim_batch(on_candidates=lambda ids: relay_a.process_pending_once())
        for row in claimed:
            relay_b.process_claimed(row)
        assert target.published == [event_id] * published
        assert fetch_row(outbox.engine, event_id)["status"] == "dispatched"
    finally:
        for engine in engines:
            engine.dispose()


def test_observer_sees_claims_dispatches_and_retries(outbox):
    [event_id] = outbox.add(1)
    relay = outbox.relay(RecordingTarget(fail_with="x"), max_attempts=2)
    relay.process_pending_once()
    outbox.clock.advance(1)
    relay.process_pending_once()
    actions = [r.action for r in outbox.trace.of_kind("event", "outbox_relay")]
    decisions = [r.decision for r in outbox.trace.of_kind("decision", "outbox_relay")]
    assert actions == ["retry_scheduled", "failed"] and decisions == ["claimed", "claimed"]
    moves = [(t.instance, t.from_state, t.to_state) for t in outbox.trace.transitions("sys_event")]
    assert moves == [(str(event_id), "pending", "claimed"), (str(event_id), "claimed", "pending"),
                     (str(event_id), "pending", "claimed"), (str(event_id), "claimed", "failed")]


def test_a_hardened_reclaim_is_its_own_row_transition(outbox):
    [event_id] = outbox.add(1)
    outbox.relay(RecordingTarget(), worker_id="dead", variant="hardened").claim_batch()
    outbox.clock.advance(60)
    outbox.relay(RecordingTarget(), worker_id="survivor", variant="hardened").process_pending_once()
    moves = [(t.trigger, t.detail) for t in outbox.trace.transitions("sys_event")]
    assert moves == [("claim", {"worker": "dead"}), ("reclaim", {"worker": "survivor"}),
                     ("published", {"worker": "survivor"})]


def test_rows_are_listed_in_creation_order(outbox):
    ids = []
    for _ in range(3):
        ids += outbox.add(1)
        outbox.clock.advance(timedelta(seconds=1).total_seconds())
    assert [row["id"] for row in fetch_rows(outbox.engine)] == ids


@pytest.mark.parametrize("target", [None, "bus", {}, EventBus()], ids=["None", "str", "dict", "bare EventBus"])
def test_a_relay_refuses_a_target_that_is_not_a_transport_before_claiming_anything(target):
    """A wrong target used to pass construction and raise AttributeError at the first publish,
    after the claim: the faithful relay never reclaims, so the row was stranded for good."""
    from rustok_sim.model.events.outbox import InMemoryOutboxStore
    from rustok_sim.model.events.relay import OutboxRelay as ModelRelay

    with pytest.raises(TypeError, match=r"OutboxRelay needs target= an EventTransport \(publish, publish_batch, "
                                        r"acknowledge, reliability_level.* got \w+ .* without publish"):
        ModelRelay(InMemoryOutboxStore(), target, clock=ManualClock(), ids=random.Random(1))


def test_a_bare_event_bus_as_target_is_told_to_wrap_it(db_engine):
    with pytest.raises(TypeError, match=r"without publish_batch\(\), acknowledge\(\), reliability_level\(\); "
                                        r"wrap an EventBus as MemoryTransport\(bus\)"):
        OutboxRelay(db_engine, EventBus(), RelayConfig(worker_id="w"), clock=ManualClock())
