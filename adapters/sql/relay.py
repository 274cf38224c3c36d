"""OutboxRelay on a SQLAlchemy engine (`rustok-outbox/src/relay.rs`, spec §3.6).

The relay's policy (claim, lease, backoff, retry counting, DLQ, faithful vs hardened) is the
model's, `rustok_sim.model.events.relay.OutboxRelay`; this module only binds it to the
``sys_events`` table through `SqlOutboxStore` (`rustok_sim.adapters.sql.outbox`), where every
claim stays atomic in SQL. ``OutboxRelay(engine, target, config, clock=..., ids=...)`` is the
model relay over ``SqlOutboxStore(engine, epoch=epoch)``.

State outside the table: none here; see the model relay.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from rustok_sim.adapters.sql.db import datetime_micros
from rustok_sim.adapters.sql.outbox import SqlOutboxStore
from rustok_sim.model.core.clock import Clock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.events import relay as model_relay
from rustok_sim.model.events.bus import EventTransport
from rustok_sim.model.events.outbox import ClaimedEvent
from rustok_sim.model.events.relay import (
    COMPONENT,
    ROW_TRANSITIONS,
    RUN_ERROR_SLEEP_S,
    RUN_IDLE_SLEEP_S,
    OutboxPayloadError,
    RelayConfig,
    RelayMetricsSnapshot,
    RowState,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.ids import IdGenerator

__all__ = ["COMPONENT", "ROW_TRANSITIONS", "RUN_ERROR_SLEEP_S", "RUN_IDLE_SLEEP_S", "ClaimedEvent",
           "OutboxPayloadError", "OutboxRelay", "RelayConfig", "RelayMetricsSnapshot", "RowState", "stale_claims"]


class OutboxRelay(model_relay.OutboxRelay):
    """The model's `OutboxRelay` over the ``sys_events`` table of `engine` (see the model relay
    for the pass, the split publish path and the observer records). `epoch` (Unix seconds) is
    added to virtual time when stamping rows."""

    __slots__ = ("engine",)

    def __init__(self, engine: Engine, target: EventTransport, config: RelayConfig | None = None, *,
                 clock: Clock, epoch: float = 0.0, ids: random.Random | IdGenerator | None = None,
                 observer: Observer | None = None, name: str | None = None) -> None:
        super().__init__(SqlOutboxStore(engine, epoch=epoch), target, config, clock=clock, ids=ids,
                         observer=observer, name=name)
        self.engine = engine


def stale_claims(engine: Engine, older_than: datetime, epoch: float = 0.0) -> list[uuid.UUID]:
    """Ids of pending rows claimed at or before `older_than`: in the faithful relay these are
    stuck for good (no code path reclaims them)."""
    store = SqlOutboxStore(engine, epoch=epoch)
    return store.stale_claims(datetime_micros(older_than, store.epoch_us))
