"""EventDispatcher (spec §3.3) as a sans-IO state machine: modes, permits, retries, slot accounting."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import EventBus, EventBusConfig, ExternalError, NoReceiversError
from rustok_sim.model.events.dispatcher import (
    OK,
    PROFILE_VARIANTS,
    DispatcherConfig,
    DispatcherStateError,
    EventDispatcher,
    HandlerBuilder,
    HandlerCrashed,
    HandlerFailed,
    WorkError,
)
from rustok_sim.model.events.domain import IndexUpdated, NodeCreated
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.resilience.backpressure import USIZE_MAX, BackpressureConfig, BackpressureController
from tests.events.drivers import run_until_idle

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
TARGET = uuid.UUID("33333333-3333-3333-3333-333333333333")


def index_updated() -> IndexUpdated:
    return IndexUpdated(index_name="products", target_id=TARGET)


def node_created() -> NodeCreated:
    return NodeCreated(node_id=TARGET, kind="post")


class World:
    """A bus with a backpressure controller, a clock and one trace recorder for everything."""

    def __init__(self, *, capacity: int = 128, max_depth: int = 10_000) -> None:
        self.clock = ManualClock()
        self.trace = TraceRecorder(self.clock)
        self.controller = BackpressureController(BackpressureConfig(max_queue_depth=max_depth),
                                                 observer=self.trace)
        self.bus = EventBus(EventBusConfig(capacity=capacity), backpressure=self.controller,
                            ids=IdGenerator(self.clock, seed=5), observer=self.trace)

    def dispatcher(self, name: str = "dispatcher", **config: object) -> EventDispatcher:
        return EventDispatcher(self.bus, DispatcherConfig(**config), clock=self.clock,  # type: ignore[arg-type]
                               observer=self.trace, name=name)

    def publish(self, event=None):
        return self.bus.publish(TENANT, None, event if event is not None else index_updated())

    def anomalies(self, name: str) -> list:
        return [r for r in self.trace.anomalies() if r.anomaly == name]


class Scripted:
    """A handler whose attempts follow a script of 'ok' / 'err' / 'crash' (then 'ok' forever)."""

    def __init__(self, name: str, script: list[str] | None = None, handles=lambda e: True) -> None:
        self.name = name
        self.script = list(script or [])
        self.calls: list[tuple[uuid.UUID, int]] = []
        self.errors: list[BaseException] = []
        self._handles = handles

    def handles(self, event) -> bool:
        return self._handles(event)

    def handle(self, envelope) -> None:
        self.calls.append((envelope.id, len(self.calls) + 1))
        step = self.script.pop(0) if self.script else "ok"
        if step == "err":
            raise ExternalError(f"{self.name} failed")
        if step == "crash":
            raise RuntimeError(f"{self.name} panicked")

    def on_error(self, envelope, error) -> None:
        self.errors.append(error)


# -- config ----------------------------------------------------------------------------------------


def test_config_defaults_match_the_spec():
    config = DispatcherConfig()
    assert (config.fail_fast, config.max_concurrent, config.retry_count, config.retry_delay_ms,
            config.max_queue_depth) == (False, 10, 0, 100, 10_000)
    assert config.variant == "2026-02-14" == PROFILE_VARIANTS["faithful"]
    assert PROFILE_VARIANTS == {"faithful": "2026-02-14", "hardened": "hardened"}
    assert not hasattr(config, "revision")  # one "which semantics" field
    assert DispatcherConfig(max_concurrent=0).permits == 1


def test_handlers_are_kept_in_registration_order():
    world = World()
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("a")).register_boxed(Scripted("b"))
    assert dispatcher.handler_count() == 2 and [h.name for h in dispatcher.handlers] == ["a", "b"]


def test_start_twice_and_stop_before_start_are_lifecycle_errors():
    world = World()
    dispatcher = world.dispatcher()
    with pytest.raises(DispatcherStateError, match="cannot stop: it is created"):
        dispatcher.stop()
    dispatcher.start()
    with pytest.raises(DispatcherStateError, match="cannot start: it is running"):
        dispatcher.start()


# -- slot accounting on every path -------------------------------------------------------------------


def test_no_matching_handler_releases_the_slot_at_once():
    world = World()
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("nodes_only", handles=lambda e: isinstance(e, NodeCreated)))
    dispatcher.start()
    world.publish(index_updated())
    assert world.controller.current_depth == 1
    assert dispatcher.next_work() is None
    assert world.controller.current_depth == 0
    assert dispatcher.stats().events_without_handlers == 1


def test_concurrent_mode_releases_once_when_the_last_handler_finishes():
    world = World()
    dispatcher = world.dispatcher()
    for name in ("a", "b", "c"):
        dispatcher.register(Scripted(name))
    dispatcher.start()
    world.publish()
    works = [dispatcher.next_work() for _ in range(3)]
    assert [w.handler.name for w in works] == ["a", "b", "c"]
    dispatcher.complete(works[1], OK)
    dispatcher.complete(works[0], HandlerFailed(ExternalError("boom")))
    assert world.controller.current_depth == 1  # c still running
    dispatcher.complete(works[2], OK)
    assert world.controller.current_depth == 0
    assert dispatcher.stats().slots_released == 1


def test_handler_error_is_retried_with_a_fixed_delay_then_on_error_once():
    world = World()
    dispatcher = world.dispatcher(retry_count=2, retry_delay_ms=100)
    handler = Scripted("flaky", ["err", "err", "err"])
    dispatcher.register(handler).start()
    world.publish()
    first = dispatcher.next_work()
    dispatcher.complete(first, HandlerFailed(ExternalError("1")))
    assert dispatcher.next_work() is None and dispatcher.next_deadline() == pytest.approx(0.1)
    world.clock.set(0.1)
    second = dispatcher.next_work()
    assert second.attempt == 2 and second.not_before == pytest.approx(0.1)
    dispatcher.complete(second, HandlerFailed(ExternalError("2")))
    assert dispatcher.next_deadline() == pytest.approx(0.2)  # fixed delay, no backoff
    world.clock.set(0.2)
    third = dispatcher.next_work()
    dispatcher.complete(third, HandlerFailed(ExternalError("3")))
    assert [str(e) for e in handler.errors] == ["External error: 3"]
    assert world.controller.current_depth == 0
    assert third.envelope.retry_count == 0  # the envelope's own counter is never touched


def test_retry_that_succeeds_does_not_call_on_error():
    world = World()
    dispatcher = world.dispatcher(retry_count=2, retry_delay_ms=0)
    handler = Scripted("flaky", ["err"])
    dispatcher.register(handler).start()
    world.publish()
    assert run_until_idle(dispatcher) == 2
    assert handler.errors == [] and world.controller.current_depth == 0


def test_run_until_idle_jumps_the_clock_over_retry_delays():
    world = World()
    dispatcher = world.dispatcher(retry_count=3, retry_delay_ms=250)
    dispatcher.register(Scripted("flaky", ["err", "err", "err"])).start()
    world.publish()
    assert run_until_idle(dispatcher) == 4
    assert world.clock.now == pytest.approx(0.75)


def test_crash_in_concurrent_mode_releases_through_the_drop_guard_from_02_14():
    world = World()
    dispatcher = world.dispatcher(retry_count=3)
    crasher, other = Scripted("crasher", ["crash"]), Scripted("other")
    dispatcher.register(crasher).register(other).start()
    world.publish()
    run_until_idle(dispatcher)
    assert len(crasher.calls) == 1 and crasher.errors == []  # not retried, no on_error
    assert len(other.calls) == 1
    assert world.controller.current_depth == 0 and world.anomalies("slot_leaked") == []


def test_crash_in_concurrent_mode_at_02_13_leaks_the_slot_as_an_anomaly():
    world = World()
    dispatcher = world.dispatcher(variant="2026-02-13")
    dispatcher.register(Scripted("crasher", ["crash"])).register(Scripted("other")).start()
    event = world.publish()
    run_until_idle(dispatcher)
    assert world.controller.current_depth == 1
    [leak] = world.anomalies("slot_leaked")
    assert leak.detail == {"event_id": str(event.id)}
    assert dispatcher.permits_in_use == 0  # the permit itself is returned on unwind


def test_fail_fast_runs_handlers_in_order_and_skips_the_rest_after_a_failure():
    world = World()
    dispatcher = world.dispatcher(fail_fast=True, retry_count=1, retry_delay_ms=0)
    a, b, c = Scripted("a"), Scripted("b", ["err", "err"]), Scripted("c")
    for handler in (a, b, c):
        dispatcher.register(handler)
    dispatcher.start()
    world.publish()
    first = dispatcher.next_work()
    assert first.handler is a and dispatcher.next_work() is None  # sequential: b waits for a
    dispatcher.complete(first, OK)
    run_until_idle(dispatcher)
    assert len(b.calls) == 2 and c.calls == []
    assert dispatcher.stats().skipped_handlers == 1
    assert world.controller.current_depth == 0
    stops = [r for r in world.trace.of_kind("decision", "event_dispatcher") if r.decision == "fail_fast_stop"]
    assert stops[0].detail["failed_handler"] == "b"


def test_fail_fast_success_releases_once_after_the_last_handler():
    world = World()
    dispatcher = world.dispatcher(fail_fast=True)
    dispatcher.register(Scripted("a")).register(Scripted("b")).start()
    world.publish()
    work = dispatcher.next_work()
    dispatcher.complete(work, OK)
    assert world.controller.current_depth == 1
    dispatcher.complete(dispatcher.next_work(), OK)
    assert world.controller.current_depth == 0


def test_fail_fast_crash_releases_once_and_skips_the_rest_at_02_14():
    world = World()
    dispatcher = world.dispatcher(fail_fast=True)
    second = Scripted("b")
    dispatcher.register(Scripted("a", ["crash"])).register(second).start()
    world.publish()
    run_until_idle(dispatcher)
    assert world.controller.current_depth == 0 and world.anomalies("slot_leaked") == []
    assert second.calls == []
    assert dispatcher.state == "running"  # 02-14: only that event's task died


def test_fail_fast_crash_at_02_13_kills_the_inline_receive_loop():
    world = World()
    dispatcher = world.dispatcher(fail_fast=True, variant="2026-02-13")
    handler = Scripted("a", ["crash"])
    dispatcher.register(handler).start()
    world.publish()
    run_until_idle(dispatcher)
    assert dispatcher.state == "crashed"
    assert world.bus.receiver_count == 0  # its subscription went with it
    with pytest.raises(NoReceiversError):
        world.publish()
    assert world.controller.current_depth == 1 and len(handler.calls) == 1
    assert [t.to_state for t in world.trace.transitions("event_dispatcher")] == ["running", "crashed"]


def test_hardened_variant_releases_on_every_crash_path():
    for fail_fast in (True, False):
        world = World()
        dispatcher = world.dispatcher(fail_fast=fail_fast, variant="hardened")
        dispatcher.register(Scripted("a", ["crash"])).register(Scripted("b")).start()
        world.publish()
        world.publish()
        run_until_idle(dispatcher)
        assert world.controller.current_depth == 0, fail_fast
        assert world.anomalies("slot_leaked") == []


# -- permits ---------------------------------------------------------------------------------------


def test_max_concurrent_bounds_handler_invocations_across_events():
    world = World()
    dispatcher = world.dispatcher(max_concurrent=2)
    dispatcher.register(Scripted("h")).start()
    for _ in range(5):
        world.publish()
    running = [dispatcher.next_work(), dispatcher.next_work()]
    assert dispatcher.next_work() is None and dispatcher.permits_in_use == 2
    dispatcher.complete(running[0], OK)
    assert dispatcher.next_work() is not None  # the freed permit went to the next waiter
    assert dispatcher.next_work() is None


def test_max_concurrent_zero_behaves_as_one():
    world = World()
    dispatcher = world.dispatcher(max_concurrent=0)
    dispatcher.register(Scripted("h")).start()
    world.publish()
    world.publish()
    assert dispatcher.next_work() is not None and dispatcher.next_work() is None


def test_a_retrying_handler_keeps_its_permit_while_it_waits():
    world = World()
    dispatcher = world.dispatcher(max_concurrent=1, retry_count=1, retry_delay_ms=500)
    dispatcher.register(Scripted("h", ["err"])).start()
    world.publish()
    world.publish()
    first = dispatcher.next_work()
    dispatcher.complete(first, HandlerFailed(ExternalError("x")))
    assert dispatcher.next_work() is None  # the second event waits for the permit
    world.clock.set(0.5)
    retry = dispatcher.next_work()
    assert retry.envelope.id == first.envelope.id and retry.attempt == 2
    dispatcher.complete(retry, OK)
    assert dispatcher.next_work() is not None


def test_02_13_inline_dispatch_blocks_receiving_until_permits_are_taken():
    world = World()
    dispatcher = world.dispatcher(max_concurrent=1, variant="2026-02-13")
    dispatcher.register(Scripted("a")).register(Scripted("b")).start()
    world.publish()
    world.publish()
    first = dispatcher.next_work()
    assert dispatcher.next_work() is None
    assert dispatcher.stats().events_received == 1  # the loop is stuck awaiting b's permit
    dispatcher.complete(first, OK)
    run_until_idle(dispatcher)
    assert dispatcher.stats().events_received == 2 and world.controller.current_depth == 0


def test_completing_a_work_item_twice_is_refused():
    world = World()
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("h")).start()
    world.publish()
    work = dispatcher.next_work()
    dispatcher.complete(work, OK)
    with pytest.raises(WorkError, match="completed twice"):
        dispatcher.complete(work, OK)
    assert world.controller.current_depth == 0


# -- known defects: lag leaks, two dispatchers over-release ------------------------------------------


def test_events_lost_to_lag_never_release_their_slots():
    world = World(capacity=2)
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("h")).start()
    for _ in range(5):
        world.publish()
    run_until_idle(dispatcher)
    assert dispatcher.stats().events_missed == 3 and dispatcher.stats().events_received == 2
    assert world.controller.current_depth == 3
    [leak] = world.anomalies("lagged_slots_leaked")
    assert leak.detail == {"missed": 3}


def test_two_dispatchers_on_one_bus_over_release_and_it_shows_as_anomalies():
    world = World()
    first, second = world.dispatcher("first"), world.dispatcher("second")
    for dispatcher in (first, second):
        dispatcher.register(Scripted("h"))
        dispatcher.start()
    world.publish()
    run_until_idle(first)
    assert world.controller.current_depth == 0
    run_until_idle(second)
    # The faithful controller wraps like a usize; nothing goes silently negative.
    assert world.controller.current_depth == USIZE_MAX
    assert [a.instance for a in world.anomalies("multiple_slot_releasers")] == ["event_bus"]
    assert [a.instance for a in world.anomalies("slot_over_release")] == ["second"]
    assert len(world.anomalies("release_at_zero")) == 1
    with pytest.raises(Exception, match="critical capacity"):
        world.publish()  # and from now on every event is rejected


def test_stopping_drops_the_subscription_but_finishes_started_work():
    world = World()
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("h")).start()
    world.publish()
    work = dispatcher.next_work()
    dispatcher.stop()
    assert world.bus.receiver_count == 0
    dispatcher.complete(work, OK)
    assert world.controller.current_depth == 0 and dispatcher.is_idle()


# -- property: exactly-once release ------------------------------------------------------------------

STEP = st.sampled_from(["ok", "err", "crash"])


@given(fail_fast=st.booleans(), variant=st.sampled_from(["2026-02-13", "2026-02-14", "hardened"]),
       retry_count=st.integers(0, 2),
       max_concurrent=st.integers(0, 3), events=st.integers(1, 6),
       scripts=st.lists(st.lists(STEP, max_size=6), min_size=0, max_size=3))
def test_every_accepted_event_releases_at_most_once_and_every_leak_is_reported(
        fail_fast, variant, retry_count, max_concurrent, events, scripts):
    world = World()
    dispatcher = world.dispatcher(fail_fast=fail_fast, variant=variant,
                                  retry_count=retry_count, retry_delay_ms=10,
                                  max_concurrent=max_concurrent)
    for index, script in enumerate(scripts):
        dispatcher.register(Scripted(f"h{index}", script))
    dispatcher.start()
    for _ in range(events):
        if dispatcher.state == "running":
            world.publish()
    run_until_idle(dispatcher)
    stats = dispatcher.stats()
    received = stats.events_received
    assert stats.slots_released + stats.slots_leaked == received
    assert world.controller.current_depth == events - stats.slots_released  # unreceived events stay
    assert len(world.anomalies("slot_leaked")) == stats.slots_leaked
    assert world.anomalies("slot_over_release") == [] and world.anomalies("release_at_zero") == []
    crash_releases = variant in ("hardened", "2026-02-14")
    if crash_releases:
        assert stats.slots_leaked == 0 and world.controller.current_depth == 0


def test_handler_builder_and_explicit_outcomes_for_external_drivers():
    world = World()
    errors = []
    dispatcher = world.dispatcher(retry_count=1, retry_delay_ms=0)
    dispatcher.register(HandlerBuilder("nodes", lambda e: isinstance(e, NodeCreated), lambda env: None,
                                       on_error=lambda env, err: errors.append(str(err))))
    dispatcher.register(HandlerBuilder("all", lambda e: True, lambda env: None))
    dispatcher.start()
    world.publish(node_created())
    nodes_work, all_work = dispatcher.next_work(), dispatcher.next_work()
    # A driver (e.g. a simpy process) decides the outcomes, not the handler functions.
    dispatcher.complete(nodes_work, HandlerFailed("timeout"))
    dispatcher.complete(all_work, HandlerCrashed("panic"))
    retry = dispatcher.next_work()
    dispatcher.complete(retry, HandlerFailed("timeout again"))
    assert errors == ["timeout again"]
    assert world.controller.current_depth == 0 and dispatcher.is_idle()
    assert dispatcher.stats().as_dict() == {
        "events_received": 1, "events_missed": 0, "events_without_handlers": 0, "invocations": 3,
        "successes": 0, "failures": 1, "retries": 1, "crashes": 1, "skipped_handlers": 0,
        "slots_released": 1, "slots_leaked": 0}


# -- the refit: tables decide, driver protocol, boundaries -------------------------------------


def test_every_state_change_fires_through_the_tables_and_coverage_joins_them():
    from rustok_sim.model.core.transitions import coverage
    from rustok_sim.model.events.dispatcher import DISPATCH, TRANSITIONS, WORK

    world = World()
    dispatcher = world.dispatcher(retry_count=1, retry_delay_ms=0)
    dispatcher.register(Scripted("flaky", ["err"])).start()
    world.publish()
    run_until_idle(dispatcher)
    work = [(t.from_state, t.to_state, t.trigger) for t in world.trace.transitions("handler_work")]
    assert work == [("ready", "running", "handed_out"), ("running", "retry_wait", "handler_err_attempts_left"),
                    ("retry_wait", "ready", "retry_due"), ("ready", "running", "handed_out"),
                    ("running", "succeeded", "handler_ok")]
    slots = [(t.from_state, t.to_state, t.trigger) for t in world.trace.transitions("event_dispatch")]
    assert slots == [("held", "released", "all_handlers_done")]
    cov = coverage(world.trace.records, [TRANSITIONS, DISPATCH, WORK])
    assert all(not c.undeclared for c in cov.values())
    assert cov["handler_work"].covered == 4 and cov["event_dispatcher"].covered == 1


def test_an_unobserved_dispatcher_still_decides_through_its_tables():
    world = World()
    dispatcher = EventDispatcher(world.bus, DispatcherConfig(), clock=world.clock)
    dispatcher.register(Scripted("a")).start()
    world.publish()
    work = dispatcher.next_work()
    assert work.state.value == "running"
    dispatcher.complete(work, OK)
    assert work.state.value == "succeeded"
    with pytest.raises(WorkError):
        dispatcher.complete(work, OK)


def test_only_the_wanted_kinds_are_recorded():
    clock = ManualClock()
    trace = TraceRecorder(clock, kinds={"transition"})
    bus = EventBus(ids=IdGenerator(clock, seed=1))
    dispatcher = EventDispatcher(bus, DispatcherConfig(), clock=clock, observer=trace)
    dispatcher.register(Scripted("a")).start()
    bus.publish(TENANT, None, index_updated())
    run_until_idle(dispatcher)
    assert {r.kind for r in trace.records} == {"transition"}


def test_work_available_hook_fires_when_work_becomes_ready():
    world = World()
    dispatcher = world.dispatcher(retry_count=1, retry_delay_ms=50)
    calls = []
    unsubscribe = dispatcher.on_work_available(lambda: calls.append(world.clock.now))
    dispatcher.register(Scripted("flaky", ["err"])).start()
    world.publish()
    assert calls == [] and dispatcher.pump() == 1 and calls == [0.0]
    dispatcher.complete(dispatcher.next_work(), HandlerFailed("x"))
    world.clock.set(0.05)
    assert dispatcher.pump() == 1 and calls == [0.0, 0.05]  # the retry became due
    unsubscribe()
    dispatcher.complete(dispatcher.next_work(), OK)
    world.publish()
    dispatcher.pump()
    assert calls == [0.0, 0.05]


def test_is_idle_reads_without_receiving():
    world = World()
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("a")).start()
    world.publish()
    assert not dispatcher.is_idle() and not dispatcher.is_idle()
    assert dispatcher.stats().events_received == 0  # asking did not receive the event
    run_until_idle(dispatcher)
    assert dispatcher.is_idle()


def test_stats_are_a_frozen_snapshot():
    import dataclasses

    world = World()
    dispatcher = world.dispatcher()
    before = dispatcher.stats()
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.successes = 5  # type: ignore[misc]
    dispatcher.register(Scripted("a")).start()
    world.publish()
    run_until_idle(dispatcher)
    assert before.successes == 0 and dispatcher.stats().successes == 1


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("not a bus",), {"clock": ManualClock()}, "needs an EventBus"),
    ((None,), {"clock": ManualClock()}, "needs an EventBus"),
    (("BUS", {"fail_fast": True}), {"clock": ManualClock()}, "config must be a DispatcherConfig"),
    (("BUS",), {"clock": None}, "EventDispatcher needs clock="),
])
def test_constructor_checks_its_arguments(args, kwargs, message):
    bus = World().bus
    args = tuple(bus if a == "BUS" else a for a in args)
    with pytest.raises(TypeError, match=message):
        EventDispatcher(*args, **kwargs)


def test_the_clock_is_required():
    with pytest.raises(TypeError, match="clock"):
        EventDispatcher(World().bus)  # type: ignore[call-arg]


def test_register_refuses_something_that_is_not_a_handler():
    with pytest.raises(TypeError, match="function has no 'name'"):
        World().dispatcher().register(lambda envelope: None)  # type: ignore[arg-type]


# -- instance names and the cost of being unobserved ---------------------------------------------


def test_traced_records_name_the_event_and_the_handler():
    world = World()
    dispatcher = world.dispatcher(name="d")
    dispatcher.register(Scripted("a")).register(Scripted("b")).start()
    envelope = world.publish()
    run_until_idle(dispatcher)
    slots = {t.instance for t in world.trace.transitions("event_dispatch")}
    work = {t.instance for t in world.trace.transitions("handler_work")}
    assert slots == {f"d/{envelope.id}"}
    assert work == {f"d/{envelope.id}/a", f"d/{envelope.id}/b"}


def test_an_unobserved_dispatch_never_formats_the_event_id():
    clock = ManualClock()
    bus = EventBus(backpressure=BackpressureController(BackpressureConfig(max_queue_depth=10)),
                   ids=IdGenerator(clock, seed=1))
    dispatcher = EventDispatcher(bus, DispatcherConfig(), clock=clock)
    dispatcher.register(Scripted("a")).start()
    envelopes = [bus.publish(TENANT, None, index_updated()) for _ in range(3)]
    assert run_until_idle(dispatcher) == 3
    assert all(e._id_text is None for e in envelopes)  # type: ignore[attr-defined]  # never asked for
    assert dispatcher.stats().slots_released == 3 and bus.backpressure.current_depth == 0  # type: ignore[union-attr]


def test_a_transition_only_observer_gets_transitions_and_nothing_else_is_called():
    class TransitionsOnly:
        def __init__(self) -> None:
            self.transitions: list[tuple[str, str]] = []
            self.other: list[str] = []

        def wants(self, kind: str, component: str | None = None) -> bool:
            return kind == "transition"

        def transition(self, component, instance, from_state, to_state, trigger, detail=None) -> None:
            self.transitions.append((component, trigger))

        def __getattr__(self, name: str):
            return lambda *args, **kwargs: self.other.append(name)

    clock = ManualClock()
    observer = TransitionsOnly()
    bus = EventBus(ids=IdGenerator(clock, seed=1), observer=observer)  # type: ignore[arg-type]
    dispatcher = EventDispatcher(bus, DispatcherConfig(retry_count=1, retry_delay_ms=0), clock=clock,
                                 observer=observer)  # type: ignore[arg-type]
    dispatcher.register(Scripted("a", ["err"])).start()
    bus.publish(TENANT, None, index_updated())
    run_until_idle(dispatcher)
    assert observer.other == []
    assert [t for c, t in observer.transitions if c == "handler_work"] == [
        "handed_out", "handler_err_attempts_left", "retry_due", "handed_out", "handler_ok"]


def test_closing_the_bus_is_seen_by_next_work_without_a_pending_event():
    world = World()
    dispatcher = world.dispatcher()
    dispatcher.register(Scripted("a")).start()
    world.publish()
    run_until_idle(dispatcher)
    world.bus.close()
    assert dispatcher.next_work() is None and dispatcher.state == "closed"


def test_a_hook_driven_loop_matches_the_raising_publish_path():
    # The way a simpy driver runs it (offer + pump on arrival, next_work on the hook) gives the
    # same counts, slots and trace as publish + run_until_idle.
    def run(non_raising: bool) -> tuple:
        world = World(max_depth=3)
        dispatcher = world.dispatcher(max_concurrent=1)
        dispatcher.register(Scripted("a")).start()
        woken: list[int] = []
        dispatcher.on_work_available(lambda: woken.append(1))
        lost = 0
        in_service = None
        for step in range(12):
            world.clock.advance(0.01)
            if non_raising:
                if world.bus.offer(TENANT, None, index_updated()) is None:
                    lost += 1
                dispatcher.pump()
            else:
                try:
                    world.publish()
                except ExternalError:
                    lost += 1
                dispatcher.pump()
            if step % 3 == 2:  # the server finishes one every third arrival
                if in_service is not None:
                    dispatcher.complete(in_service, OK)
                in_service = dispatcher.next_work()
        strip = [(r.kind, getattr(r, "trigger", None), getattr(r, "instance", None)) for r in world.trace]
        return lost, dispatcher.stats(), world.bus.stats(), world.controller.current_depth, len(woken), strip

    assert run(True) == run(False)
    lost, stats, bus_stats, _, _, _ = run(True)
    assert lost > 0 and bus_stats.events_dropped == lost and stats.events_received == bus_stats.events_published
