"""us per row: the outbox (publish in a committed transaction) + relay dispatch, in-memory store vs SQLite.

One row's cost is its publish (`OutboxTransport.publish`: an insert in a transaction of its own,
committed) plus its share of a relay pass (claim a batch of 100, decode, publish to a no-op
transport, mark dispatched). Each round builds a fresh store, publishes `--rows` prebuilt
envelopes (building them is not timed: that is the envelope's cost, not the outbox's) and drains
them with one relay; the in-memory store (`InMemoryOutboxStore`, the simulation default) and the
SQL store on in-memory SQLite (`make_engine()`) take turns, so load from other processes hits
both alike. Reported: the median per-row cost of each over the rounds, split into publish and
dispatch, and the median of the per-round ratio memory / SQLite.

Targets (issue 7): in-memory <= 15 us per row; in-memory <= 0.1x SQLite ("far below").
Exit 0 when both are met, 1 when one is missed (named), 2 when SQLAlchemy is missing.
Run: python benchmarks/outbox.py [--rows N] [--repeat R] [--json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from _report import finish, missing_dependency

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxStore, OutboxTransport
from rustok_sim.model.events.relay import OutboxRelay, RelayConfig

MEMORY_TARGET_US = 15.0
RATIO_TARGET = 0.10
TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
NODE = uuid.UUID("22222222-2222-2222-2222-222222222222")


class NoOpTransport:
    """A relay target that accepts everything and does nothing."""

    def publish(self, envelope: EventEnvelope) -> None:
        return None

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None:
        return None

    def acknowledge(self, event_id: uuid.UUID) -> None:
        return None

    def reliability_level(self) -> None:
        return None


def envelopes(rows: int, seed: int) -> list[EventEnvelope]:
    ids = IdGenerator(ManualClock(), seed=seed)
    event = NodeCreated(node_id=NODE, kind="post")
    return [EventEnvelope.new(TENANT, None, event, ids=ids) for _ in range(rows)]


def one_round(make_store: Callable[[], OutboxStore], batch: list[EventEnvelope]) -> tuple[float, float]:
    """(publish, dispatch) seconds for `batch` on a fresh store."""
    store = make_store()
    clock = ManualClock()
    transport = OutboxTransport(store, clock=clock)
    relay = OutboxRelay(store, NoOpTransport(), RelayConfig(worker_id="bench", batch_size=100), clock=clock)
    publish = transport.publish
    started = time.perf_counter()
    for envelope in batch:
        publish(envelope)
    published = time.perf_counter()
    while relay.process_pending_once():
        pass
    finished = time.perf_counter()
    if store.count("dispatched") != len(batch):
        raise RuntimeError(f"benchmark round left {len(batch) - store.count('dispatched')} rows undispatched")
    return published - started, finished - published


def sqlite_store() -> OutboxStore:
    from rustok_sim.adapters.sql.db import make_engine
    from rustok_sim.adapters.sql.outbox import SqlOutboxStore

    store = SqlOutboxStore(make_engine())
    store.create_schema()
    return store


def measure(rows: int, repeat: int) -> dict[str, float]:
    stores: dict[str, Callable[[], OutboxStore]] = {"memory": InMemoryOutboxStore, "sqlite": sqlite_store}
    per_row: dict[str, list[tuple[float, float]]] = {name: [] for name in stores}
    one_round(InMemoryOutboxStore, envelopes(200, seed=0))  # warm imports and caches
    one_round(sqlite_store, envelopes(200, seed=0))
    for index in range(repeat):
        for name, make in stores.items():
            batch = envelopes(rows, seed=index)
            publish_s, dispatch_s = one_round(make, batch)
            per_row[name].append((publish_s / rows * 1e6, dispatch_s / rows * 1e6))
    results: dict[str, float] = {"rows": float(rows), "rounds": float(repeat)}
    for name, samples in per_row.items():
        results[f"{name}_publish_us"] = statistics.median(p for p, _ in samples)
        results[f"{name}_dispatch_us"] = statistics.median(d for _, d in samples)
        results[f"{name}_total_us"] = statistics.median(p + d for p, d in samples)
    results["memory_over_sqlite"] = statistics.median(
        (mp + md) / (sp + sd) for (mp, md), (sp, sd) in zip(per_row["memory"], per_row["sqlite"], strict=True))
    return results


def misses(r: dict[str, float]) -> list[str]:
    found = []
    if r["memory_total_us"] > MEMORY_TARGET_US:
        found.append(f"in-memory outbox: {r['memory_total_us']:.2f} us per row > {MEMORY_TARGET_US}")
    if r["memory_over_sqlite"] > RATIO_TARGET:
        found.append(f"in-memory outbox: {r['memory_over_sqlite']:.3f}x SQLite > {RATIO_TARGET}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="rows per round")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved rounds; medians are kept")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error(f"--rows and --repeat must be at least 1, got {args.rows} and {args.repeat}")
    try:
        import sqlalchemy  # noqa: F401 - only to report its absence in one line
    except ImportError:
        return missing_dependency("outbox.py", "SQLAlchemy")
    r = measure(args.rows, args.repeat)
    missed = misses(r)
    if not args.json:
        print(f"{args.rows} rows per round, {args.repeat} interleaved rounds, medians")
        print(f"{'store':<8} {'publish us':>11} {'dispatch us':>12} {'total us/row':>13}")
        for name in ("memory", "sqlite"):
            print(f"{name:<8} {r[f'{name}_publish_us']:11.2f} {r[f'{name}_dispatch_us']:12.2f} "
                  f"{r[f'{name}_total_us']:13.2f}")
        print(f"in-memory / SQLite: {r['memory_over_sqlite']:.4f}x")
        print(f"targets: in-memory <= {MEMORY_TARGET_US} us per row; <= {RATIO_TARGET}x SQLite")
    return finish(r, missed)


if __name__ == "__main__":
    sys.exit(main())
