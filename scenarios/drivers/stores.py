"""The outbox store a scenario asks for: the model's in-memory store (the default, microseconds
a row) or the SQL store on in-memory SQLite (to show what the real store's work costs)."""

from __future__ import annotations

from typing import Any, Literal

from rustok_sim.model.events.outbox import InMemoryOutboxStore

__all__ = ["StoreKind", "outbox_store"]

StoreKind = Literal["memory", "sqlite"]


def outbox_store(kind: StoreKind | str) -> Any:
    if kind == "memory":
        return InMemoryOutboxStore()
    from rustok_sim.adapters.sql.db import make_engine
    from rustok_sim.adapters.sql.outbox import SqlOutboxStore

    store = SqlOutboxStore(make_engine("sqlite://"))
    store.create_schema()
    return store
