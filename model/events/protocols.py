"""What an events component must offer to stand in for ours: one `typing.Protocol` per component.

A conformance target (another implementation, a peer library behind an adapter, a deliberately
broken mutant) provides exactly this surface; the suites drive it and the reference side by side
through nothing else. Pure declarations, no behaviour. Sections:

- **Outbox and relay** (below): `OutboxStore` and `OutboxTransaction` (the storage seam, declared
  in `rustok_sim.model.events.outbox` and re-exported here), `OutboxTransportProtocol` and
  `OutboxRelayProtocol`. The reference classes: `InMemoryOutboxStore` and
  `rustok_sim.adapters.sql.outbox.SqlOutboxStore`; `OutboxTransport` (model and SQL);
  `OutboxRelay` (model and SQL). ``tests/events/test_outbox_stores.py`` checks they satisfy them.
- **Bus and dispatcher** (at the end): `EventBusProtocol` with `ReceiverProtocol` (what
  `subscribe()` returns) and `EventDispatcherProtocol`. The reference classes: `EventBus`,
  `Receiver`, `EventDispatcher`; ``tests/events/test_bus_dispatcher_protocols.py`` checks them
  member by member (names, parameter lists, annotations).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rustok_sim.model.events.outbox import OutboxStore, OutboxTransaction

if TYPE_CHECKING:
    from rustok_sim.model.events.bus import ReliabilityLevel
    from rustok_sim.model.events.envelope import EventEnvelope
    from rustok_sim.model.events.outbox import ClaimedEvent, OutboxRow
    from rustok_sim.model.events.relay import RelayConfig, RelayMetricsSnapshot

__all__ = ["OUTBOX_PROTOCOLS", "OutboxRelayProtocol", "OutboxStore", "OutboxTransaction",
           "OutboxTransportProtocol"]


# ==============================================================================================
# Outbox and relay
# ==============================================================================================


@runtime_checkable
class OutboxTransportProtocol(Protocol):
    """Rust's `OutboxTransport`: an `EventTransport` whose rows join the caller's transaction."""

    def write_to_outbox(self, executor: Any, envelope: EventEnvelope) -> None: ...

    def publish(self, envelope: EventEnvelope) -> None: ...

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None: ...

    def acknowledge(self, event_id: uuid.UUID) -> None: ...

    def reliability_level(self) -> ReliabilityLevel: ...


@runtime_checkable
class OutboxRelayProtocol(Protocol):
    """Rust's `OutboxRelay`, with the split steps a driver needs to put time into a publish and to
    stage crashes and claim races (see `rustok_sim.model.events.relay`)."""

    @property
    def worker_id(self) -> str: ...

    @property
    def config(self) -> RelayConfig: ...

    def metrics(self) -> RelayMetricsSnapshot: ...

    def process_pending_once(self) -> int: ...

    def run_step(self) -> float: ...

    def claim_batch(self, on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> list[ClaimedEvent]: ...

    def decode(self, row: OutboxRow) -> EventEnvelope: ...

    def begin_dispatch(self, row: ClaimedEvent) -> EventEnvelope | None: ...

    def process_claimed(self, row: ClaimedEvent) -> bool: ...

    def mark_dispatched(self, row: ClaimedEvent, envelope: EventEnvelope | None = None) -> None: ...

    def mark_failed_attempt(self, row: ClaimedEvent, error: BaseException,
                            envelope: EventEnvelope | None = None) -> None: ...


OUTBOX_PROTOCOLS: dict[str, type] = {
    "outbox_store": OutboxStore,
    "outbox_transport": OutboxTransportProtocol,
    "outbox_relay": OutboxRelayProtocol,
}
"""The outbox components' protocols by component name."""


# ==============================================================================================
# Bus and dispatcher
# ==============================================================================================
# Construction (config, backpressure controller, id source, observer, clock) is not part of a
# protocol: a target's factory adapts it. Each reference class's public attributes that are
# construction data, and its aliases, are listed with the reason in the protocol test.

if TYPE_CHECKING:
    from typing import Self

    from rustok_sim.model.events.bus import EventBusStats, Lagged, SendOutcome
    from rustok_sim.model.events.dispatcher import DispatcherStats, EventHandler, HandlerWork, Outcome


@runtime_checkable
class ReceiverProtocol(Protocol):
    """One subscriber's cursor (tokio `broadcast::Receiver`): `try_recv()` gives the next
    envelope, a `Lagged(n)` marker (then keep reading) or None, and raises `ChannelClosed` once
    the bus is closed and drained."""

    def try_recv(self) -> EventEnvelope | Lagged | None: ...

    def pending(self) -> int: ...

    @property
    def is_open(self) -> bool: ...

    def close(self) -> None: ...


@runtime_checkable
class EventBusProtocol(Protocol):
    """Rust's `EventBus` (spec §3.2): a bounded broadcast with optional backpressure.

    Two publish paths with one decision: `publish` / `publish_envelope` raise Rust's errors
    (`BackpressureRejectedError`, `NoReceiversError` unless ``silent_ok``); `offer` /
    `offer_envelope` report the same outcome without raising (None / a `SendOutcome`). Both
    count and trace alike. `stats()` is a frozen snapshot. A slot releaser (a dispatcher)
    declares itself with `register_slot_releaser` so that a second one is reported."""

    def clone(self) -> Self: ...

    @property
    def capacity(self) -> int: ...

    @property
    def effective_capacity(self) -> int: ...

    @property
    def receiver_count(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def stats(self) -> EventBusStats: ...

    def subscribe(self, name: str | None = None) -> ReceiverProtocol: ...

    def register_slot_releaser(self, name: str) -> int: ...

    def unregister_slot_releaser(self, name: str) -> None: ...

    def close(self) -> None: ...

    def publish(self, tenant_id: uuid.UUID, actor_id: uuid.UUID | None, event: Any) -> EventEnvelope: ...

    def publish_envelope(self, envelope: EventEnvelope) -> None: ...

    def offer(self, tenant_id: uuid.UUID, actor_id: uuid.UUID | None, event: Any) -> EventEnvelope | None: ...

    def offer_envelope(self, envelope: EventEnvelope) -> SendOutcome: ...


@runtime_checkable
class EventDispatcherProtocol(Protocol):
    """Rust's `EventDispatcher` (spec §3.3) as a sans-IO machine a driver runs.

    `register` handlers, `start()`, then `next_work()` -> run the handler -> `complete(work,
    outcome)`; `on_work_available(callback)` says when to look again (no polling), `pump()`
    receives what the bus holds, `next_deadline()` is when the next retry is due, `is_idle()`
    and the other readers have no side effects; `stats()` is a frozen snapshot."""

    @property
    def state(self) -> str: ...

    def register(self, handler: EventHandler) -> Self: ...

    def handler_count(self) -> int: ...

    def start(self) -> Self: ...

    def stop(self) -> None: ...

    def on_work_available(self, callback: Callable[[], None]) -> Callable[[], None]: ...

    def pump(self) -> int: ...

    def next_work(self) -> HandlerWork | None: ...

    def complete(self, work: HandlerWork, outcome: Outcome) -> None: ...

    def next_deadline(self) -> float | None: ...

    def is_idle(self) -> bool: ...

    def stats(self) -> DispatcherStats: ...

    @property
    def outstanding(self) -> int: ...

    @property
    def permits_in_use(self) -> int: ...


BUS_DISPATCHER_PROTOCOLS: dict[str, type] = {
    "event_bus": EventBusProtocol,
    "event_bus_receiver": ReceiverProtocol,
    "event_dispatcher": EventDispatcherProtocol,
}
"""The bus and dispatcher protocols by component name."""

__all__ += ["BUS_DISPATCHER_PROTOCOLS", "EventBusProtocol", "EventDispatcherProtocol", "ReceiverProtocol"]


# ==============================================================================================
# Event validation
# ==============================================================================================


@runtime_checkable
class EventValidatorProtocol(Protocol):
    """RusToK's event validation as one call (reference: `rustok_sim.model.events.validator.EventValidator`):
    `event` is the serde JSON form, ``{"type": <variant>, "data": {...}}``, as parsed JSON or as
    JSON text. Raises `EventFormatError` (its ``field`` the JSON path of the problem) for a
    payload serde would refuse, `EventValidationError` (``kind``, ``field``, ``max``, ``min``,
    ``value``, ``reason``) for the first business rule broken, in the spec's order; None when valid."""

    def validate(self, event: Any) -> None: ...


__all__ += ["EventValidatorProtocol"]
