"""What an events component must offer to stand in for ours: one `typing.Protocol` per component.

A conformance target (another implementation, a peer library behind an adapter, a deliberately
broken mutant) provides exactly this surface; the suites drive it and the reference side by side
through nothing else. Pure declarations, no behaviour. Sections:

- **Outbox and relay** (below): `OutboxStore` and `OutboxTransaction` (the storage seam, declared
  in `rustok_sim.model.events.outbox` and re-exported here), `OutboxTransportProtocol` and
  `OutboxRelayProtocol`. The reference classes: `InMemoryOutboxStore` and
  `rustok_sim.adapters.sql.outbox.SqlOutboxStore`; `OutboxTransport` (model and SQL);
  `OutboxRelay` (model and SQL). ``tests/events/test_outbox_stores.py`` checks they satisfy them.
- **Bus and dispatcher**: their own section, kept apart from this one.
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
