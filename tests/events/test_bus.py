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
    BusClosedError,
    ChannelClosed,
    EventBus,
    EventBusConfig,
    EventBusStats,
    ExternalError,
    Lagged,
    MemoryTransport,
    NoReceiversError,
    ReliabilityLevel,
    SendOutcome,
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


# -- the non-raising publish path ----------------------------------------------------------------


def _paired_buses(**config: object) -> tuple[tuple[EventBus, TraceRecorder], tuple[EventBus, TraceRecorder]]:
    pairs = []
    for _ in range(2):
        controller = BackpressureController(BackpressureConfig(2, 0.5, 1.0))
        bus, recorder, _clock = make_bus(backpressure=controller, **config)
        pairs.append((bus, recorder))
    return pairs[0], pairs[1]


def test_offer_rejects_without_raising_and_counts_and_traces_as_publish():
    (raising, raising_trace), (offering, offering_trace) = _paired_buses()
    for bus in (raising, offering):
        bus.subscribe("rx")
    outcomes = []
    for _ in range(3):
        try:
            raising.publish(TENANT, None, node_created())
            outcomes.append("sent")
        except BackpressureRejectedError as exc:
            outcomes.append(str(exc))
    offered = [offering.offer(TENANT, None, node_created()) for _ in range(3)]
    assert outcomes[:2] == ["sent", "sent"]
    assert outcomes[2] == ("External error: Event rejected due to backpressure: "
                           "Event queue is at critical capacity (2/2), rejecting events")
    assert [e is not None for e in offered] == [True, True, False]
    assert raising.stats() == offering.stats()
    assert raising.backpressure.metrics() == offering.backpressure.metrics()  # type: ignore[union-attr]
    strip = lambda trace: [(r.kind, getattr(r, "decision", None), getattr(r, "action", None)) for r in trace]  # noqa: E731
    assert strip(raising_trace) == strip(offering_trace)


def test_offer_envelope_says_what_happened():
    (bus, _), _ = _paired_buses()
    ids = bus.ids
    assert ids is not None
    from rustok_sim.model.events.envelope import EventEnvelope

    envelope = EventEnvelope.new(TENANT, None, node_created(), ids=ids)
    assert bus.offer_envelope(envelope) is SendOutcome.NO_RECEIVERS  # the slot was given back
    assert bus.backpressure.current_depth == 0  # type: ignore[union-attr]
    bus.subscribe()
    assert [bus.offer_envelope(envelope) for _ in range(3)] == [SendOutcome.SENT, SendOutcome.SENT,
                                                                 SendOutcome.REJECTED]
    assert bus.stats() == EventBusStats(events_published=2, events_dropped=2, subscribers=1)


@pytest.mark.parametrize("mode", ["error", "silent_ok"])
def test_offer_reports_no_receivers_in_both_modes(mode: str):
    bus, _, _ = make_bus(no_receivers=mode)
    assert bus.offer(TENANT, None, node_created()) is None
    assert bus.stats().events_dropped == 1


def test_offer_on_a_closed_bus_is_a_driver_bug_not_an_outcome():
    bus, _, _ = make_bus()
    bus.close()
    with pytest.raises(BusClosedError):
        bus.offer(TENANT, None, node_created())


# -- stats, construction, observers ------------------------------------------------------------


def test_stats_is_a_frozen_snapshot():
    bus, _, _ = make_bus()
    bus.subscribe()
    before = bus.stats()
    bus.publish(TENANT, None, node_created())
    assert before.events_published == 0 and bus.stats().events_published == 1
    with pytest.raises(AttributeError):
        before.events_published = 5  # type: ignore[misc]
    assert not hasattr(bus, "events_published")


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"config": {"capacity": 4}}, "EventBusConfig"),
    ({"backpressure": 100}, "BackpressureController"),
    ({"ids": "seed"}, "IdGenerator"),
    ({"observer": object()}, "needs observer= a TraceRecorder .* got object without wants"),
    ({"name": 7}, "needs name= a non-empty str .* got int 7"),
])
def test_constructor_names_what_it_expected(kwargs: dict, words: str):
    config = kwargs.pop("config", None)
    with pytest.raises(TypeError, match=words):
        EventBus(config, **kwargs)  # type: ignore[arg-type]


class _Counting:
    """An observer that keeps only transitions and counts what it is asked and given."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.calls: list[str] = []

    def wants(self, kind: str, component: str | None = None) -> bool:
        self.asked.append(kind)
        return kind == "transition"

    def __getattr__(self, name: str):
        def record(*args, **kwargs):
            self.calls.append(name)
        return record


def test_the_bus_asks_once_per_kind_and_never_calls_for_an_unwanted_kind():
    observer = _Counting()
    clock = ManualClock()
    bus = EventBus(EventBusConfig(capacity=2), backpressure=BackpressureController(BackpressureConfig(3, 0.5, 1.0)),
                   ids=IdGenerator(clock, 1), observer=observer)  # type: ignore[arg-type]
    slow = bus.subscribe("slow")
    for _ in range(5):
        bus.offer(TENANT, None, node_created())
    drain(slow)
    slow.close()
    assert sorted(observer.asked) == ["anomaly", "decision", "event", "sample"]
    assert observer.calls == []  # no event, decision, sample or anomaly call was even made


@pytest.mark.parametrize("bus", ["bus", {}, 128], ids=["str", "dict", "int"])
def test_a_memory_transport_needs_an_event_bus(bus):
    with pytest.raises(TypeError, match=r"MemoryTransport needs an EventBus \(or None .* got "):
        MemoryTransport(bus)


@pytest.mark.parametrize("capacity", ["4", 4.0, True], ids=["str", "float", "bool"])
def test_a_capacity_must_be_an_int(capacity):
    with pytest.raises(PydanticValidationError, match="capacity"):
        EventBus.with_capacity(capacity)
