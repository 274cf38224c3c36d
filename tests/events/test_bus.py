"""EventBus (spec §3.2): broadcast with per-receiver lag, stats, backpressure, no-receiver modes."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import (
    BackpressureRejectedError,
    ChannelClosed,
    EventBus,
    EventBusConfig,
    ExternalError,
    Lagged,
    MemoryTransport,
    NoReceiversError,
    ReliabilityLevel,
)
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")


def node_created(kind: str = "post") -> NodeCreated:
    return NodeCreated(node_id=uuid.UUID("22222222-2222-2222-2222-222222222222"), kind=kind)


def make_bus(**config: object) -> tuple[EventBus, TraceRecorder, ManualClock]:
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    backpressure = config.pop("backpressure", None)
    bus = EventBus(EventBusConfig(**config), backpressure=backpressure,  # type: ignore[arg-type]
                   ids=IdGenerator(clock, seed=3), observer=recorder)
    return bus, recorder, clock


def drain(receiver) -> list:
    out = []
    while (item := receiver.try_recv()) is not None:
        out.append(item)
    return out


# -- construction ------------------------------------------------------------------------------


def test_defaults_are_capacity_128_and_error_on_no_receivers():
    bus = EventBus.new()
    assert bus.capacity == 128 and bus.effective_capacity == 128
    assert bus.config.no_receivers == "error"
    assert bus.stats().as_dict() == {"events_published": 0, "events_dropped": 0, "subscribers": 0}


def test_capacity_is_rounded_up_to_a_power_of_two_like_tokio():
    assert EventBus.with_capacity(100).effective_capacity == 128
    assert EventBus.with_capacity(1).effective_capacity == 1
    assert EventBus.with_capacity(5).effective_capacity == 8


def test_zero_capacity_is_a_config_error_naming_the_field():
    with pytest.raises(PydanticValidationError, match="capacity"):
        EventBusConfig(capacity=0)
    with pytest.raises(PydanticValidationError, match="no_receivers"):
        EventBusConfig(no_receivers="maybe")


# -- delivery and lag --------------------------------------------------------------------------


def test_every_receiver_gets_every_event_in_order():
    bus, _, _ = make_bus()
    a, b = bus.subscribe(), bus.subscribe()
    sent = [bus.publish(TENANT, None, node_created()) for _ in range(3)]
    assert drain(a) == sent
    assert drain(b) == sent
    assert bus.stats().events_published == 3


def test_a_new_receiver_sees_only_events_sent_after_it_subscribed():
    bus, _, _ = make_bus()
    early = bus.subscribe()
    first = bus.publish(TENANT, None, node_created())
    late = bus.subscribe()
    second = bus.publish(TENANT, None, node_created())
    assert drain(early) == [first, second]
    assert drain(late) == [second]


def test_slow_receiver_loses_the_oldest_events_and_is_told_how_many():
    bus, recorder, _ = make_bus(capacity=4)
    slow, fast = bus.subscribe("slow"), bus.subscribe("fast")
    sent = []
    for _ in range(10):
        sent.append(bus.publish(TENANT, None, node_created()))
        assert fast.try_recv() == sent[-1]  # keeps up, never lags
    assert slow.try_recv() == Lagged(6)
    assert drain(slow) == sent[6:]  # the 4 newest, still in order
    assert slow.missed == 6 and fast.missed == 0
    lagged = [r for r in recorder.of_kind("decision") if r.decision == "lagged"]
    assert [(r.instance, r.detail["missed"]) for r in lagged] == [("slow", 6)]


def test_send_never_fails_because_the_buffer_is_full():
    bus, _, _ = make_bus(capacity=1)
    bus.subscribe()  # never reads
    for _ in range(50):
        bus.publish(TENANT, None, node_created())
    assert bus.stats().events_published == 50 and bus.stats().events_dropped == 0


def test_closed_bus_ends_receivers_after_they_drain():
    bus, _, _ = make_bus()
    receiver = bus.subscribe()
    sent = bus.publish(TENANT, None, node_created())
    bus.close()
    assert receiver.try_recv() == sent
    with pytest.raises(ChannelClosed):
        receiver.try_recv()


def test_publish_does_not_validate_the_event():
    bus, _, _ = make_bus()
    receiver = bus.subscribe()
    bus.publish(TENANT, None, node_created(kind=""))  # invalid: empty kind
    assert drain(receiver)[0].event.kind == ""


# -- stats ---------------------------------------------------------------------------------------


def test_subscribers_is_sampled_at_subscribe_and_not_lowered_when_receivers_close():
    bus, _, _ = make_bus()
    receivers = [bus.subscribe() for _ in range(3)]
    assert bus.stats().subscribers == 3
    receivers[0].close()
    receivers[1].close()
    assert bus.receiver_count == 1
    assert bus.stats().subscribers == 3  # not lowered on drop ...
    bus.subscribe()
    assert bus.stats().subscribers == 2  # ... only re-sampled at the next subscribe


# -- no receivers --------------------------------------------------------------------------------


def test_no_receivers_is_an_error_by_default_with_the_02_14_text():
    bus, recorder, _ = make_bus()
    with pytest.raises(NoReceiversError) as caught:
        bus.publish(TENANT, None, node_created())
    assert str(caught.value) == "External error: Event dropped (no receivers): node.created. Total dropped: 1"
    assert isinstance(caught.value, ExternalError)
    assert bus.stats().as_dict() == {"events_published": 0, "events_dropped": 1, "subscribers": 0}
    dropped = [r for r in recorder.of_kind("decision") if r.decision == "dropped"]
    assert dropped[0].reason == "no_receivers" and dropped[0].detail["returned"] == "error"


def test_no_receivers_total_counts_every_drop():
    bus, _, _ = make_bus()
    for expected in (1, 2, 3):
        with pytest.raises(NoReceiversError, match=f"Total dropped: {expected}$"):
            bus.publish(TENANT, None, node_created())


def test_no_receivers_silent_ok_mode_of_02_13_returns_normally_and_counts_the_drop():
    bus, recorder, _ = make_bus(no_receivers="silent_ok")
    bus.publish(TENANT, None, node_created())  # no exception: the caller cannot tell
    assert bus.stats().events_dropped == 1 and bus.stats().events_published == 0
    dropped = [r for r in recorder.of_kind("decision") if r.decision == "dropped"]
    assert dropped[0].detail["returned"] == "ok"


def test_a_receiver_that_closed_leaves_the_bus_without_receivers():
    bus, _, _ = make_bus()
    bus.subscribe().close()
    with pytest.raises(NoReceiversError):
        bus.publish(TENANT, None, node_created())


# -- backpressure --------------------------------------------------------------------------------


def test_backpressure_rejection_is_an_external_error_and_a_drop():
    controller = BackpressureController(BackpressureConfig(max_queue_depth=10))  # critical at 9
    bus, recorder, _ = make_bus(backpressure=controller)
    bus.subscribe()
    for _ in range(9):
        bus.publish(TENANT, None, node_created())
    with pytest.raises(BackpressureRejectedError) as caught:
        bus.publish(TENANT, None, node_created())
    assert str(caught.value) == ("External error: Event rejected due to backpressure: "
                                 "Event queue is at critical capacity (9/10), rejecting events")
    assert caught.value.cause.kind == "QueueFull"
    assert bus.stats().events_published == 9 and bus.stats().events_dropped == 1
    assert controller.current_depth == 9  # the rejected event took no slot
    assert [r.reason for r in recorder.of_kind("decision", "event_bus")] == ["backpressure"]


def test_backpressure_rejections_count_in_the_no_receivers_total():
    controller = BackpressureController(BackpressureConfig(max_queue_depth=2))  # critical at 1
    bus, _, _ = make_bus(backpressure=controller)
    receiver = bus.subscribe()
    bus.publish(TENANT, None, node_created())
    with pytest.raises(BackpressureRejectedError):
        bus.publish(TENANT, None, node_created())
    receiver.close()
    controller.release()  # as a dispatcher would after handling the first event
    with pytest.raises(NoReceiversError, match="Total dropped: 2$"):
        bus.publish(TENANT, None, node_created())


def test_failed_send_gives_the_backpressure_slot_back():
    controller = BackpressureController()
    bus, _, _ = make_bus(backpressure=controller)
    with pytest.raises(NoReceiversError):
        bus.publish(TENANT, None, node_created())
    assert controller.current_depth == 0
    assert controller.metrics().events_accepted == 1


def test_each_accepted_event_holds_one_slot_until_someone_releases_it():
    controller = BackpressureController()
    bus, _, _ = make_bus(backpressure=controller)
    bus.subscribe()
    for _ in range(5):
        bus.publish(TENANT, None, node_created())
    assert controller.current_depth == 5  # the bus never releases after a successful send


# -- memory transport ----------------------------------------------------------------------------


def test_memory_transport_publishes_through_its_bus():
    bus, _, _ = make_bus()
    receiver = bus.subscribe()
    transport = MemoryTransport(bus)
    envelope = bus.publish(TENANT, None, node_created())
    receiver.try_recv()
    transport.publish_batch([envelope, envelope])
    assert drain(receiver) == [envelope, envelope]
    assert transport.reliability_level() is ReliabilityLevel.IN_MEMORY
    assert MemoryTransport().bus.capacity == 128


def test_memory_transport_batch_stops_at_the_first_error():
    bus, _, _ = make_bus()
    transport = MemoryTransport(bus)
    receiver = bus.subscribe()
    envelope = bus.publish(TENANT, None, node_created())
    receiver.close()
    with pytest.raises(NoReceiversError):
        transport.publish_batch([envelope, envelope])
    assert bus.stats().events_dropped == 1  # the second was never tried


# -- property: lag accounting ----------------------------------------------------------------------


@given(capacity=st.integers(1, 8),
       ops=st.lists(st.sampled_from(["publish", "recv_a", "recv_b"]), max_size=60))
def test_each_receiver_sees_an_ordered_suffix_and_counts_what_it_missed(capacity, ops):
    bus, _, _ = make_bus(capacity=capacity)
    receivers = {"recv_a": bus.subscribe(), "recv_b": bus.subscribe()}
    sent: list = []
    seen: dict[str, list] = {name: [] for name in receivers}
    missed = {name: 0 for name in receivers}

    def read(name: str) -> None:
        item = receivers[name].try_recv()
        if isinstance(item, Lagged):
            missed[name] += item.missed
        elif item is not None:
            seen[name].append(item)

    for op in ops:
        if op == "publish":
            sent.append(bus.publish(TENANT, None, node_created()))
        else:
            read(op)
    for name in receivers:
        while receivers[name].pending():
            read(name)
        positions = [sent.index(envelope) for envelope in seen[name]]
        assert positions == sorted(positions)  # in publish order, no duplicates
        assert len(set(positions)) == len(positions)
        assert len(seen[name]) + missed[name] == len(sent)  # nothing vanishes unannounced
        assert seen[name][-1:] == sent[-1:]  # the newest event is always still held
