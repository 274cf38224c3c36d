"""EventBus, as in `rustok-core/src/events/bus.rs` over a `tokio::sync::broadcast` channel (spec §3.2).

A bounded broadcast: every receiver sees every event sent after it subscribed, in order. The ring
buffer holds `effective_capacity` envelopes (tokio rounds the capacity up to a power of two); a send
never blocks and never fails because the buffer is full. Instead the oldest envelope is overwritten,
and a receiver that had not read it yet learns on its next `try_recv()` that it `Lagged` by *n*
events and continues from the oldest one still held. A send fails **only** when there are no
receivers at all.

`publish_envelope` steps (Rust order):

1. With a backpressure controller: `try_acquire()`; on rejection count a drop and raise
   `ExternalError("Event rejected due to backpressure: <BackpressureError>")`.
2. No receivers: only a debug log in Rust; the send below then fails.
3. Send. Success counts `events_published`. Failure (no receivers) gives the slot back, counts a
   drop and then, by `no_receivers`:
   - ``"error"`` (default; 02-14 and later): raise
     ``ExternalError("Event dropped (no receivers): <event_type>. Total dropped: <N>")``;
   - ``"silent_ok"`` (1df8c5b3e, 02-13): log a warn and return normally: the event is gone and the
     caller cannot tell.

Slots: the bus takes one backpressure slot per accepted event and gives it back only when the send
fails. Giving it back after delivery is the dispatcher's job (`rustok_sim.model.events.dispatcher`), which is
why the slot accounting assumes exactly one releasing dispatcher per bus; the bus counts the
subscribers that declare themselves slot releasers so that a second one is an ``anomaly``.

Stats: `stats()` returns a frozen `EventBusStats` snapshot (``events_published``,
``events_dropped``, ``subscribers``); the counters themselves are private. ``subscribers`` is the
receiver count sampled at each `subscribe()` and is never lowered when a receiver closes.

Two publish paths share one decision routine (`_send`): `publish` / `publish_envelope` raise
Rust's errors (the faithful surface, what a caller of the Rust bus sees), and `offer` /
`offer_envelope` return a `SendOutcome` (``SENT``, ``REJECTED``, ``NO_RECEIVERS``) without
raising, for simulation hot paths where a rejection is the normal case. Both count, observe and
give slots back identically; only the way the result reaches the caller differs.

State outside a table: the bus has no state machine beyond open/closed (a flag set once by
`close()`); the ring position, each receiver's cursor and the three counters are counters, not
states a trace reader would join to a table.

This module also holds the mirror of `rustok_core::Error` that the event layer raises
(`RustokError` and its variants; each one's ``str()`` is the Rust Display text) and the
`EventTransport` protocol with `MemoryTransport`, the bus seen as a transport (spec §3.4).

Sans-IO: `publish` returns at once; receivers are polled with `try_recv()`; nothing sleeps.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Literal, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.resilience.backpressure import BackpressureController, BackpressureError

COMPONENT = "event_bus"
DEFAULT_CHANNEL_CAPACITY = 128
# tokio asserts capacity <= usize::MAX >> 1 before rounding up to a power of two.
_MAX_CAPACITY = (2**64 - 1) >> 1

NoReceiversBehaviour = Literal["error", "silent_ok"]


# --------------------------------------------------------------------------------------------
# rustok_core::Error mirror: the Display texts callers and logs see.
# --------------------------------------------------------------------------------------------


class RustokError(Exception):
    """Base of the mirror of `rustok_core::Error`. ``str()`` is ``<prefix><message>``, as Rust's
    `Display`; ``message`` is the inner string a caller would wrap or match on."""

    prefix = ""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"{self.prefix}{message}")


class ExternalError(RustokError):
    """`Error::External(String)`."""

    prefix = "External error: "


class ValidationError(RustokError):
    """`Error::Validation(String)` (not pydantic's ValidationError: import it qualified)."""

    prefix = "Validation error: "


class NotFoundError(RustokError):
    """`Error::NotFound(String)`."""

    prefix = "Not found: "


class SerializationError(RustokError):
    """`Error::Serialization(serde_json::Error)`."""

    prefix = "Serialization error: "


class BackpressureRejectedError(ExternalError):
    """The bus refused an event because the controller is at critical depth; `cause` is the
    controller's `BackpressureError`."""

    def __init__(self, cause: BackpressureError) -> None:
        self.cause = cause
        super().__init__(f"Event rejected due to backpressure: {cause}")


class NoReceiversError(ExternalError):
    """A send found no receivers (02-14 behaviour). `total_dropped` is the bus's drop count
    after this one, backpressure rejections included."""

    def __init__(self, event_type: str, total_dropped: int) -> None:
        self.event_type, self.total_dropped = event_type, total_dropped
        super().__init__(f"Event dropped (no receivers): {event_type}. Total dropped: {total_dropped}")


class BusClosedError(RuntimeError):
    """Publishing after `close()`: in Rust the sender no longer exists, so this is a driver bug."""


# --------------------------------------------------------------------------------------------
# Config, stats, receive outcomes
# --------------------------------------------------------------------------------------------


class EventBusConfig(BaseModel):
    """Spec §3.2 settings. `capacity` is what `with_capacity(n)` gets (128 for `new()`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    capacity: int = Field(DEFAULT_CHANNEL_CAPACITY, ge=1, le=_MAX_CAPACITY,
                          description="broadcast buffer size in events; tokio rounds it up to a power of two")
    no_receivers: NoReceiversBehaviour = Field(
        "error", description="'error' (02-14 and later) or 'silent_ok' (1df8c5b3e, 02-13)")


@dataclass(frozen=True, slots=True)
class EventBusStats:
    """The bus's counters as of one `stats()` call (Rust `EventBusStats`, read through the
    `Arc` the bus and its clones share): events sent, events dropped (backpressure rejections
    and sends without receivers) and the receiver count sampled at the last `subscribe()`."""

    events_published: int = 0
    events_dropped: int = 0
    subscribers: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class SendOutcome(str, Enum):
    """What `offer_envelope` did with an envelope (the non-raising publish path)."""

    SENT = "sent"
    """In the ring: every live receiver will see it; the slot (if any) is held until released."""
    REJECTED = "rejected"
    """Refused by the backpressure controller (critical depth); counted as dropped."""
    NO_RECEIVERS = "no_receivers"
    """Nobody subscribed: the slot was given back and the drop counted (``publish`` raises
    `NoReceiversError` here, or returns normally with ``no_receivers="silent_ok"``)."""


class Lagged:
    """`RecvError::Lagged(n)`: this receiver missed `missed` events, which were overwritten
    before it read them. The next `try_recv()` returns the oldest event still held."""

    __slots__ = ("missed",)

    def __init__(self, missed: int) -> None:
        self.missed = missed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lagged) and other.missed == self.missed

    def __hash__(self) -> int:
        return hash(("Lagged", self.missed))

    def __repr__(self) -> str:
        return f"Lagged({self.missed})"


class ChannelClosed(Exception):
    """`RecvError::Closed`: the bus was closed and this receiver has read everything."""


# --------------------------------------------------------------------------------------------
# The bus and its receivers
# --------------------------------------------------------------------------------------------


class Receiver:
    """One subscriber's cursor into the bus. Obtain it from `EventBus.subscribe()`.

    `try_recv()` returns the next `EventEnvelope`, a `Lagged(n)` marker (then keep reading), or
    ``None`` when nothing is waiting; it raises `ChannelClosed` once the bus is closed and drained.
    """

    __slots__ = ("_bus", "name", "_next", "_open", "received", "missed")

    def __init__(self, bus: EventBus, name: str) -> None:
        self._bus = bus
        self.name = name
        self._next = bus._tail  # tokio: a new receiver sees only what is sent after it subscribes
        self._open = True
        self.received = 0
        self.missed = 0

    def try_recv(self) -> EventEnvelope | Lagged | None:
        bus = self._bus
        tail = bus._tail
        nxt = self._next
        if nxt == tail:
            if bus._closed:
                raise ChannelClosed(f"event bus {bus.name!r} is closed")
            return None
        oldest = tail - bus._cap
        if nxt < oldest:
            # Overwritten before we read them: tokio jumps to the oldest retained slot and
            # reports how many were skipped. Those events are gone for this receiver only.
            missed = oldest - nxt
            self._next = oldest
            self.missed += missed
            if bus._decisions is not None:
                bus._decisions.decision(COMPONENT, self.name, "lagged", "receiver_lagged",
                                        {"missed": missed, "from_seq": nxt, "to_seq": oldest})
            return Lagged(missed)
        envelope = bus._buf[nxt & bus._mask]
        self._next = nxt + 1
        self.received += 1
        if bus._events is not None:
            bus._events.event(COMPONENT, self.name, "received", envelope.id_text,
                              envelope.event_type, str(envelope.tenant_id))
        return envelope

    def pending(self) -> int:
        """Events this receiver could still read (or would learn it lagged on), without reading."""
        return self._bus._tail - self._next

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        """Drop the receiver. The bus's live receiver count falls; `stats().subscribers` does not."""
        if self._open:
            self._open = False
            self._bus._receiver_count -= 1
            if self._bus._samples is not None:
                self._bus._samples.sample(COMPONENT, self._bus.name, "receiver_count",
                                          self._bus._receiver_count)

    def __repr__(self) -> str:
        return f"Receiver({self.name!r}, pending={self.pending()}, open={self._open})"


class EventBus:
    """A bounded broadcast of `EventEnvelope`s with optional backpressure (spec §3.2).

    Parameters: `config` (capacity, no-receivers behaviour), `backpressure` (a shared
    `BackpressureController` or ``None``), `ids` (the `IdGenerator` for the envelopes `publish`
    builds: their ids and timestamps come from its clock), `observer` and `name`.

    Every state change is reported when an observer is given: ``event`` ``published`` /
    ``received``, ``decision`` ``rejected`` (backpressure) / ``dropped`` (no receivers) /
    ``lagged`` (per receiver), ``sample`` ``receiver_count`` and ``anomaly`` for a second slot
    releaser. The observer is asked once per kind (``wants``) at construction; kinds nobody
    keeps cost nothing, not even the id text of the record.
    """

    __slots__ = ("config", "name", "observer", "backpressure", "ids",
                 "_cap", "_mask", "_buf", "_tail", "_receiver_count", "_closed", "_silent_ok",
                 "_receiver_seq", "_slot_releasers", "_published", "_dropped", "_subscribers",
                 "_events", "_decisions", "_samples", "_anomalies")

    def __init__(self, config: EventBusConfig | None = None, *,
                 backpressure: BackpressureController | None = None,
                 ids: IdGenerator | None = None,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        if config is not None and not isinstance(config, EventBusConfig):
            raise TypeError(f"EventBus config must be an EventBusConfig (e.g. EventBusConfig(capacity=256)), "
                            f"got {given(config, EventBusConfig)}")
        if backpressure is not None and not isinstance(backpressure, BackpressureController):
            raise TypeError(f"EventBus backpressure= must be a BackpressureController or None, "
                            f"got {given(backpressure, BackpressureController)}")
        if ids is not None and not isinstance(ids, IdGenerator):
            raise TypeError(f"EventBus ids= must be an IdGenerator(clock, seed) or None, "
                            f"got {given(ids, IdGenerator)}")
        name = require_name(name, "EventBus")
        observer = require_observer(observer, f"EventBus {name!r}")
        self.config = config if config is not None else EventBusConfig()
        self.name = name
        self.observer = observer
        self.backpressure = backpressure
        self.ids = ids
        self._events = observer_for(observer, "event", COMPONENT)
        self._decisions = observer_for(observer, "decision", COMPONENT)
        self._samples = observer_for(observer, "sample", COMPONENT)
        self._anomalies = observer_for(observer, "anomaly", COMPONENT)
        self._published = 0
        self._dropped = 0
        self._subscribers = 0
        # tokio::sync::broadcast::channel rounds the capacity up to the next power of two.
        self._cap = 1 << (self.config.capacity - 1).bit_length()
        self._mask = self._cap - 1
        self._buf: list[Any] = [None] * self._cap
        self._tail = 0  # position of the next send; positions of held envelopes: [tail-cap, tail)
        self._receiver_count = 0
        self._closed = False
        self._silent_ok = self.config.no_receivers == "silent_ok"
        self._receiver_seq = 0
        self._slot_releasers: list[str] = []

    # -- Rust constructors ---------------------------------------------------------------

    @classmethod
    def new(cls, **kwargs: Any) -> EventBus:
        """`EventBus::new()`: capacity 128."""
        return cls(EventBusConfig(**_config_fields(kwargs)), **kwargs)

    @classmethod
    def with_capacity(cls, capacity: int, **kwargs: Any) -> EventBus:
        return cls(EventBusConfig(capacity=capacity, **_config_fields(kwargs)), **kwargs)

    @classmethod
    def with_backpressure(cls, capacity: int, backpressure: BackpressureController,
                          **kwargs: Any) -> EventBus:
        return cls(EventBusConfig(capacity=capacity, **_config_fields(kwargs)),
                   backpressure=backpressure, **kwargs)

    def clone(self) -> Self:
        """Rust `Clone`: another handle on the same sender, stats and controller. This object
        already is that shared state, so a clone is the bus itself: a receiver subscribed
        through one handle sees what is published through the other, and the stats are one."""
        return self

    # -- introspection -------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self.config.capacity

    @property
    def effective_capacity(self) -> int:
        """Envelopes the ring really holds: `capacity` rounded up to a power of two."""
        return self._cap

    @property
    def receiver_count(self) -> int:
        """Live receivers (what tokio's `receiver_count()` returns)."""
        return self._receiver_count

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> EventBusStats:
        """A frozen snapshot of the counters (shared by every clone of this bus)."""
        return EventBusStats(self._published, self._dropped, self._subscribers)

    # -- subscribing ---------------------------------------------------------------------

    def subscribe(self, name: str | None = None) -> Receiver:
        """A new receiver that sees events sent from now on. Samples the receiver count into
        `stats().subscribers` (Rust stores it on every subscribe and never lowers it)."""
        self._receiver_seq += 1
        receiver = Receiver(self, name or f"{self.name}/rx{self._receiver_seq}")
        self._receiver_count += 1
        self._subscribers = self._receiver_count
        if self._samples is not None:
            self._samples.sample(COMPONENT, self.name, "receiver_count", self._receiver_count)
            self._samples.sample(COMPONENT, self.name, "stats.subscribers", self._subscribers)
        return receiver

    def register_slot_releaser(self, name: str) -> int:
        """Declare that subscriber `name` gives back one backpressure slot per event it handles
        (a dispatcher). Returns how many releasers the bus now has. The Rust code assumes
        exactly one; with a controller and a second releaser, every event's slot is released
        twice, so this records an ``anomaly`` at the moment the second one appears."""
        self._slot_releasers.append(name)
        count = len(self._slot_releasers)
        if count > 1 and self.backpressure is not None and self._anomalies is not None:
            self._anomalies.anomaly(
                COMPONENT, self.name, "multiple_slot_releasers",
                f"{count} subscribers release a backpressure slot per event "
                f"({', '.join(self._slot_releasers)}); each event's single slot will be released "
                f"{count} times and the controller depth will underflow",
                {"releasers": list(self._slot_releasers)})
        return count

    def unregister_slot_releaser(self, name: str) -> None:
        if name in self._slot_releasers:
            self._slot_releasers.remove(name)

    def close(self) -> None:
        """Drop the last sender: receivers read what is left, then get `ChannelClosed`."""
        self._closed = True

    # -- publishing ----------------------------------------------------------------------

    def publish(self, tenant_id: uuid.UUID, actor_id: uuid.UUID | None, event: Any) -> EventEnvelope:
        """Build an envelope (id and timestamp from the injected `ids` generator, so from its
        clock) and publish it. Does **not** validate the event: only the transactional bus does.
        Returns the envelope (Rust returns `()`; the id is useful to drivers)."""
        envelope = EventEnvelope.new(tenant_id, actor_id, event, ids=self.ids)  # type: ignore[arg-type]
        self.publish_envelope(envelope)
        return envelope

    def publish_envelope(self, envelope: EventEnvelope) -> None:
        """Send one envelope to every receiver (spec §3.2 steps). Raises `ExternalError`
        subclasses on backpressure rejection and, in the default mode, on no receivers."""
        outcome = self._send(envelope)
        if outcome is _SENT:
            return
        if outcome is _REJECTED:
            bp = self.backpressure
            assert bp is not None
            raise BackpressureRejectedError(BackpressureError("QueueFull", bp.current_depth, bp.max_depth))
        if self._silent_ok:
            return  # 02-13: warn "channel full or no receivers" and report success anyway
        raise NoReceiversError(envelope.event_type, self._dropped)

    def offer(self, tenant_id: uuid.UUID, actor_id: uuid.UUID | None, event: Any) -> EventEnvelope | None:
        """`publish` without exceptions: the envelope if it was sent, ``None`` if it was
        rejected (backpressure) or found no receivers. Counted and observed as `publish`."""
        envelope = EventEnvelope.new(tenant_id, actor_id, event, ids=self.ids)  # type: ignore[arg-type]
        return envelope if self._send(envelope) is _SENT else None

    def offer_envelope(self, envelope: EventEnvelope) -> SendOutcome:
        """`publish_envelope` without exceptions: what happened, as a `SendOutcome`. A closed
        bus still raises `BusClosedError` (a driver bug, not an outcome)."""
        return self._send(envelope)

    def _send(self, envelope: EventEnvelope) -> SendOutcome:
        """The one decision routine of both publish paths (spec §3.2 steps 1-3)."""
        if self._closed:
            raise BusClosedError(f"event bus {self.name!r} is closed; nothing can publish to it")
        bp = self.backpressure
        if bp is not None and not bp.admit():
            self._dropped += 1
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "rejected", "backpressure",
                                         {"event_id": envelope.id_text, "event_type": envelope.event_type,
                                          "events_dropped": self._dropped})
            return _REJECTED
        if self._receiver_count == 0:
            # tokio's send fails only here: the channel is never "full". Give the slot back.
            if bp is not None:
                bp.release()
            self._dropped += 1
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "dropped", "no_receivers",
                                         {"event_id": envelope.id_text, "event_type": envelope.event_type,
                                          "events_dropped": self._dropped,
                                          "returned": "ok" if self._silent_ok else "error"})
            return _NO_RECEIVERS
        tail = self._tail
        self._buf[tail & self._mask] = envelope
        self._tail = tail + 1
        self._published += 1
        if self._events is not None:
            self._events.event(COMPONENT, self.name, "published", envelope.id_text, envelope.event_type,
                               str(envelope.tenant_id), {"seq": tail})
        return _SENT

    def __repr__(self) -> str:
        return (f"EventBus({self.name!r}, capacity={self._cap}, receivers={self._receiver_count}, "
                f"stats={self.stats().as_dict()})")


_SENT, _REJECTED, _NO_RECEIVERS = SendOutcome.SENT, SendOutcome.REJECTED, SendOutcome.NO_RECEIVERS


def _config_fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Move EventBusConfig fields out of a constructor's keyword arguments."""
    return {key: kwargs.pop(key) for key in ("no_receivers",) if key in kwargs}


# --------------------------------------------------------------------------------------------
# EventTransport (rustok-core `events/transport.rs`) and the in-memory transport over a bus
# --------------------------------------------------------------------------------------------


class ReliabilityLevel(str, Enum):
    """How far a transport carries an event: in memory only, via the DB outbox, or a stream."""

    IN_MEMORY = "InMemory"
    OUTBOX = "Outbox"
    STREAMING = "Streaming"


@runtime_checkable
class EventTransport(Protocol):
    """What `TransactionalEventBus` and the relay publish through (Rust `EventTransport`).
    `publish_batch` and `acknowledge` have the Rust defaults in `publish_batch_sequential`
    and a no-op respectively."""

    def publish(self, envelope: EventEnvelope) -> None: ...

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None: ...

    def acknowledge(self, event_id: uuid.UUID) -> None: ...

    def reliability_level(self) -> ReliabilityLevel: ...


_TRANSPORT_METHODS = ("publish", "publish_batch", "acknowledge", "reliability_level")


def require_transport(target: object, owner: str, argument: str = "") -> EventTransport:
    """`target` if it has the whole `EventTransport` surface, else a `TypeError` naming `owner`
    (and its `argument`, e.g. ``"target= "``) and the missing methods: a wrong target fails when
    its user is built, not at the first publish (where a relay would already have claimed rows
    that the faithful relay then never reclaims)."""
    missing = [method for method in _TRANSPORT_METHODS if not callable(getattr(target, method, None))]
    if missing:
        wrap = "; wrap an EventBus as MemoryTransport(bus)" if isinstance(target, EventBus) else ""
        raise TypeError(f"{owner} needs {argument}an EventTransport (publish, publish_batch, acknowledge, "
                        f"reliability_level: e.g. MemoryTransport(bus), OutboxTransport(store, clock=...)), "
                        f"got {given(target)} without {', '.join(f'{m}()' for m in missing)}{wrap}")
    return target  # type: ignore[return-value]


def publish_batch_sequential(transport: EventTransport, envelopes: list[EventEnvelope]) -> None:
    """The trait's default `publish_batch`: one by one, stopping at the first error (which is
    raised; the envelopes before it stay published)."""
    for envelope in envelopes:
        transport.publish(envelope)


class MemoryTransport:
    """`MemoryTransport`: an `EventBus` as a transport (InMemory). Publishing is the bus's
    `publish_envelope`, with all its errors (backpressure, no receivers)."""

    __slots__ = ("bus",)

    def __init__(self, bus: EventBus | None = None) -> None:
        if bus is not None and not isinstance(bus, EventBus):
            raise TypeError(f"MemoryTransport needs an EventBus (or None for EventBus::with_capacity(128)), "
                            f"got {given(bus, EventBus)}")
        self.bus = bus if bus is not None else EventBus()  # Rust: EventBus::with_capacity(128)

    @classmethod
    def with_capacity(cls, capacity: int, **kwargs: Any) -> MemoryTransport:
        """`MemoryTransport::with_capacity(n)`: over `EventBus::with_capacity(n)`."""
        return cls(EventBus.with_capacity(capacity, **kwargs))

    def stats(self) -> EventBusStats:
        """A frozen snapshot of the bus's stats."""
        return self.bus.stats()

    def subscribe(self, name: str | None = None) -> Receiver:
        """A receiver on the transport's bus (samples `stats().subscribers` like the bus does)."""
        return self.bus.subscribe(name)

    def publish(self, envelope: EventEnvelope) -> None:
        self.bus.publish_envelope(envelope)

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None:
        publish_batch_sequential(self, envelopes)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        return None

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.IN_MEMORY

    def __repr__(self) -> str:
        return f"MemoryTransport({self.bus!r})"
