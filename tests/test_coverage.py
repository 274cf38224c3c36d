"""Edge coverage of every transition table, computed from a trace by the one generic function
(`rustok_sim.model.core.transitions.coverage`), for each component: records name their table's
component and bare trigger, so the join needs no per-component rule, and no record is a move the
table does not declare."""

from __future__ import annotations

import uuid

import pytest

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.core.transitions import TransitionTable, coverage
from rustok_sim.model.events import dispatcher, relay
from rustok_sim.model.events.bus import EventBus, ExternalError
from rustok_sim.model.events.dispatcher import DispatcherConfig, EventDispatcher
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport
from rustok_sim.model.events.relay import OutboxRelay, RelayConfig
from rustok_sim.model.resilience import backpressure, circuit_breaker
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController
from rustok_sim.model.tenancy import cache, resolver
from rustok_sim.model.tenancy.context import TenantContext
from rustok_sim.model.tenancy.keys import TenantKey
from tests.events.drivers import RecordingTarget, run_until_idle


def drive_breaker(clock: ManualClock, trace: TraceRecorder) -> str:
    cb = circuit_breaker.CircuitBreaker(circuit_breaker.CircuitBreakerConfig(failure_threshold=2, timeout=1.0),
                                        clock=clock, observer=trace, name="cb")
    for _ in range(2):
        cb.on_failure(cb.try_acquire())            # closed -> open
    clock.advance(1.0)
    cb.on_failure(cb.try_acquire())                # open -> half_open -> open
    clock.advance(1.0)
    for _ in range(2):
        cb.on_success(cb.try_acquire())            # open -> half_open -> closed
    cb.open()                                      # closed -> open (manual)
    cb.close()                                     # open -> closed (manual)
    for end in ("open", "close", "reset"):         # from half_open: open(), close(), reset()
        if cb.state is not circuit_breaker.CircuitState.CLOSED:
            cb.reset()                             # open -> closed (reset)
        for _ in range(2):
            cb.on_failure(cb.try_acquire())
        clock.advance(1.0)
        permit = cb.try_acquire()
        getattr(cb, end)()
        cb.on_success(permit)                      # a late outcome moves nothing in CB-B
    return "resilience"


def drive_backpressure(clock: ManualClock, trace: TraceRecorder) -> str:
    bp = backpressure.BackpressureController(backpressure.BackpressureConfig(10, 0.5, 0.8), observer=trace)
    for _ in range(8):
        bp.try_acquire()                           # normal -> warning -> critical
    for _ in range(8):
        bp.release()                               # critical -> warning -> normal
    bp.release()                                   # faithful: the usize wraps, normal -> critical
    return "faithful"


def drive_cache(clock: ManualClock, trace: TraceRecorder) -> None:
    lru: cache.ExpiringLruCache[str, int] = cache.ExpiringLruCache(capacity=2, ttl=10.0, tti=3.0, clock=clock,
                                                                   observer=trace, name="lru")
    lru.insert("a", 1)
    lru.insert("a", 2)
    lru.insert("b", 1)
    lru.insert("c", 1)                             # evicts the LRU entry
    clock.advance(3.0)
    lru.get("b")                                   # idle past tti
    lru.insert("d", 1)
    clock.advance(2.9)
    lru.get("d")
    clock.advance(2.9)
    lru.get("d")
    clock.advance(4.3)
    lru.get("d")                                   # past ttl
    lru.insert("e", 1)
    lru.invalidate("e")


def drive_resolver(clock: ManualClock, trace: TraceRecorder) -> str:
    r = resolver.MokaTenantResolver(resolver.TenantResolverConfig(variant="v2"), clock=clock, observer=trace)
    context = TenantContext(id=uuid.UUID(int=7), name="Acme", slug="acme")
    for key, result in ((TenantKey.slug("acme"), context), (TenantKey.slug("nobody"), None),
                        (TenantKey.slug("broken"), RuntimeError("db down"))):
        ticket = r.lookup(key)
        assert isinstance(ticket, resolver.LoadTicket)
        try:
            r.complete(ticket, result)
        except Exception:
            pass
    return "v2"


CASES = {
    "circuit_breaker": (circuit_breaker.TRANSITIONS, drive_breaker),
    "backpressure": (backpressure.TRANSITIONS, drive_backpressure),
    "cache_entry": (cache.ENTRY_TRANSITIONS, drive_cache),
    "tenant_resolver": (resolver.LOAD_TRANSITIONS, drive_resolver),
}


def drive_relay(clock: ManualClock, trace: TraceRecorder) -> str:
    store = InMemoryOutboxStore()
    ids = IdGenerator(clock, seed=3)
    transport = OutboxTransport(store, clock=clock, observer=trace)
    for _ in range(3):
        transport.publish(EventEnvelope.new(uuid.UUID(int=1), None, NodeCreated(node_id=uuid.UUID(int=2), kind="post"),
                                            ids=ids))
    relay_ = OutboxRelay(store, RecordingTarget(failures=2), RelayConfig(worker_id="w1", max_attempts=1),
                         clock=clock, observer=trace)
    for _ in range(4):
        relay_.process_pending_once()              # claim, fail (retry, then DLQ), publish
        clock.advance(60.0)
    return "faithful"


class Sink:
    name = "sink"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def handles(self, event) -> bool:
        return True

    def handle(self, envelope) -> None:
        if self.fail:
            raise ExternalError("handler failed")

    def on_error(self, envelope, error) -> None:
        return None


def drive_dispatcher(clock: ManualClock, trace: TraceRecorder) -> str:
    bus = EventBus(backpressure=BackpressureController(BackpressureConfig(100, 0.7, 0.9)),
                   ids=IdGenerator(clock, seed=4), observer=trace)
    d = EventDispatcher(bus, DispatcherConfig(retry_count=1, retry_delay_ms=10), clock=clock, observer=trace)
    d.register(Sink()).register(FailingSink()).start()
    for _ in range(3):
        bus.publish(uuid.UUID(int=1), None, NodeCreated(node_id=uuid.UUID(int=2), kind="post"))
    run_until_idle(d)
    d.stop()
    return "2026-02-14"


class FailingSink(Sink):
    name = "failing"

    def __init__(self) -> None:
        super().__init__(fail=True)


CASES.update({
    "sys_event": (relay.ROW_TRANSITIONS, drive_relay),
    "event_dispatcher": (dispatcher.TRANSITIONS, drive_dispatcher),
    "event_dispatch": (dispatcher.DISPATCH, drive_dispatcher),
    "handler_work": (dispatcher.WORK, drive_dispatcher),
})


MINIMUM = {"event_dispatcher": 2, "event_dispatch": 1}  # lifecycle start/stop; every slot released normally


@pytest.mark.parametrize("component", [name for name, (_, drive) in CASES.items() if drive is not None])
def test_coverage_of_a_component_is_computed_from_its_trace_alone(component):
    table, drive = CASES[component]
    clock = ManualClock()
    trace = TraceRecorder(clock)
    variant = drive(clock, trace)
    tables: list[TransitionTable] = [t for t, _ in CASES.values()]
    result = coverage(trace.records, tables, {component: variant})
    cov = result[component]
    assert cov.undeclared == {}, f"{component}: records the table does not declare: {cov.undeclared}"
    assert cov.covered >= MINIMUM.get(component, 3), f"{component}: the drive exercised too few edges: {cov.hits}"
    # Every transition record of the run belongs to some table and joins to one of its edges.
    for record in trace.transitions():
        assert record.component in result, f"a transition names no table: {record.component!r}"
        assert not result[record.component].undeclared
    assert sum(cov.hits.values()) == len(trace.transitions(component))


def test_breaker_drive_covers_every_cb_b_edge():
    clock = ManualClock()
    trace = TraceRecorder(clock)
    drive_breaker(clock, trace)
    cov = coverage(trace.records, [circuit_breaker.TRANSITIONS], {"circuit_breaker": "resilience"})
    assert cov["circuit_breaker"].missing() == (), cov["circuit_breaker"].missing()


def test_coverage_reports_a_foreign_trace_move_the_table_does_not_have():
    clock = ManualClock()
    trace = TraceRecorder(clock)
    trace.transition("circuit_breaker", "rust-cb", "closed", "half_open", "timeout_elapsed")
    cov = coverage(trace.records, [circuit_breaker.TRANSITIONS])["circuit_breaker"]
    assert cov.undeclared == {("closed", "half_open", "timeout_elapsed"): 1} and cov.covered == 0
