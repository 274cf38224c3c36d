"""The reference bus, receiver and dispatcher provide exactly their protocols' surface.

Member by member: every protocol member exists on the reference with the same kind (read-only
property or method) and the same signature (parameter names, kinds, defaults and annotations,
where a protocol naming another protocol stands for the reference class it describes), and the
reference has no public member outside its protocol except the ones listed with a reason.
"""

from __future__ import annotations

import inspect
import uuid

import pytest

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events import IdGenerator, NodeCreated
from rustok_sim.model.events.bus import EventBus, Receiver, SendOutcome
from rustok_sim.model.events.dispatcher import OK, EventDispatcher, HandlerBuilder
from rustok_sim.model.events.protocols import (
    BUS_DISPATCHER_PROTOCOLS,
    EventBusProtocol,
    EventDispatcherProtocol,
    ReceiverProtocol,
)

# Public members of a reference class that are not part of its protocol, and why.
EXTRAS = {
    EventBus: {"config", "name", "observer", "backpressure", "ids",  # construction data
               "new", "with_capacity", "with_backpressure"},  # Rust's constructors (a factory's job)
    Receiver: {"name", "received", "missed"},  # its name and per-receiver tallies (diagnostics)
    EventDispatcher: {"bus", "config", "clock", "name", "handlers",  # construction data
                      "register_boxed", "poll"},  # aliases of register / next_work
}
PAIRS = [(EventBusProtocol, EventBus), (ReceiverProtocol, Receiver), (EventDispatcherProtocol, EventDispatcher)]
# A protocol's annotation naming a protocol stands for the reference class it describes.
STANDS_FOR = {"ReceiverProtocol": "Receiver"}


def members(cls: type) -> dict[str, object]:
    found: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass.__module__ == "typing":
            continue
        found.update({name: value for name, value in vars(klass).items() if not name.startswith("_")})
    return found


def shape(fn: object) -> inspect.Signature:
    signature = inspect.signature(fn)  # type: ignore[arg-type]
    params = [p.replace(annotation=STANDS_FOR.get(p.annotation, p.annotation)) for p in signature.parameters.values()]
    return signature.replace(parameters=params,
                             return_annotation=STANDS_FOR.get(signature.return_annotation,
                                                              signature.return_annotation))


@pytest.mark.parametrize(("protocol", "reference"), PAIRS, ids=lambda v: v.__name__)
def test_the_reference_has_every_protocol_member_with_the_same_signature(protocol, reference) -> None:
    theirs = members(reference)
    for name, wanted in members(protocol).items():
        assert name in theirs, f"{reference.__name__} lacks {name}"
        got = theirs[name]
        if isinstance(wanted, property):
            assert isinstance(got, property), f"{reference.__name__}.{name} should be a read-only property"
            assert got.fset is None, f"{reference.__name__}.{name} should be read-only"
            assert shape(got.fget) == shape(wanted.fget), name
        else:
            assert callable(got) and not isinstance(got, (classmethod, staticmethod, property)), name
            assert shape(got) == shape(wanted), (
                f"{reference.__name__}.{name}{inspect.signature(got)} != protocol {inspect.signature(wanted)}")


@pytest.mark.parametrize(("protocol", "reference"), PAIRS, ids=lambda v: v.__name__)
def test_the_reference_has_no_undeclared_public_members(protocol, reference) -> None:
    extra = set(members(reference)) - set(members(protocol)) - EXTRAS[reference]
    assert not extra, f"{reference.__name__} has public members outside its protocol: {sorted(extra)}"


def test_the_extras_are_real_members() -> None:
    # A stale entry would silently widen what a reference may add.
    for reference, names in EXTRAS.items():
        assert names <= set(members(reference)), sorted(names - set(members(reference)))


def test_protocols_are_named_by_component() -> None:
    assert BUS_DISPATCHER_PROTOCOLS == {"event_bus": EventBusProtocol, "event_bus_receiver": ReceiverProtocol,
                                        "event_dispatcher": EventDispatcherProtocol}


def test_instances_satisfy_their_protocols_and_run_through_them() -> None:
    clock = ManualClock()
    bus: EventBusProtocol = EventBus(ids=IdGenerator(clock, 1))
    dispatcher: EventDispatcherProtocol = EventDispatcher(bus, clock=clock)  # type: ignore[arg-type]
    seen: list[object] = []
    dispatcher.register(HandlerBuilder("all", lambda e: True, seen.append)).start()
    receiver: ReceiverProtocol = bus.subscribe("probe")
    assert isinstance(bus, EventBusProtocol) and isinstance(dispatcher, EventDispatcherProtocol)
    assert isinstance(receiver, ReceiverProtocol)
    envelope = bus.offer(uuid.UUID(int=1), None, NodeCreated(node_id=uuid.UUID(int=2), kind="post"))
    assert envelope is not None and receiver.try_recv() is envelope
    work = dispatcher.next_work()
    assert work is not None and work.envelope is envelope
    dispatcher.complete(work, OK)
    assert dispatcher.is_idle() and dispatcher.stats().successes == 1
    assert bus.offer_envelope(envelope) is SendOutcome.SENT and bus.stats().events_published == 2
