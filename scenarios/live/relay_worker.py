"""One outbox relay as an OS process of its own: ``python -m rustok_sim.scenarios.live.relay_worker SPEC.json``.

The relay is the model's (`rustok_sim.adapters.sql.relay.OutboxRelay`: the policy of
`rustok_sim.model.events.relay` over ``sys_events``); its target is the idempotent read model
(`ReadModelConsumer`, an inbox table in the same database). The loop is the simulated driver's
(claim a batch; per row begin_dispatch, publish, mark), on the wall clock: its clock is the
run's virtual time, ``(monotonic() - wall_start) / scale`` (CLOCK_MONOTONIC is system-wide, so
every process of the run agrees with the parent's paced environment).

What the parent learns, it reads from `events` (JSON Lines, one flush per line): each delivery
(event id, whether the read model applied it or recognised a duplicate, the inventory change,
the wall seconds the read model's transaction took),
each error the loop survived, and the crash.

Crash hook. Before each crash point (``after_claim``, ``after_publish``) the worker reads the
`arm` file; when it names that point, the worker writes a ``crash`` line and sends itself
SIGKILL: nothing after the point runs, no handler, no cleanup, as when the kernel kills it.

A database error (a connection the nemesis terminated with ``pg_terminate_backend``) is logged as
an ``error`` line and the loop sleeps the relay's error delay and goes on, as Rust's run loop
does; the engine's pre-ping replaces the dead connection.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from rustok_sim.adapters.sql.consumer import ReadModelConsumer
from rustok_sim.adapters.sql.db import make_engine, short_reason
from rustok_sim.adapters.sql.relay import OutboxRelay
from rustok_sim.model.events.bus import ReliabilityLevel, RustokError
from rustok_sim.model.events.relay import RUN_ERROR_SLEEP_S, RUN_IDLE_SLEEP_S, RelayConfig

__all__ = ["RelayWorkerSpec", "main"]


class RelayWorkerSpec(BaseModel):
    """Everything a relay process needs, written by the parent as JSON."""

    model_config = ConfigDict(extra="forbid")

    url: str
    schema_name: str | None
    epoch: float
    wall_start: float
    """The parent's monotonic second at virtual time 0."""
    scale: float
    """Wall seconds per virtual second."""
    relay: dict[str, Any]
    """RelayConfig fields."""
    consumer: str
    events: str
    arm: str


class _Emitter:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, **fields: Any) -> None:
        self.stream.write(json.dumps(fields, separators=(",", ":")) + "\n")
        self.stream.flush()


class _ReadModelTarget:
    """The relay's `EventTransport`: each publish is one application by the idempotent read model."""

    def __init__(self, consumer: ReadModelConsumer, emit: _Emitter) -> None:
        self.consumer, self.emit = consumer, emit

    def publish(self, envelope: Any) -> None:
        began = time.perf_counter()
        applied = self.consumer.apply(envelope)
        publish_wall_s = time.perf_counter() - began
        event = envelope.event
        self.emit(kind="delivery", event_id=str(envelope.id), event_type=envelope.event_type,
                  tenant_id=str(envelope.tenant_id), applied=applied, aggregate=str(event.variant_id),
                  change=event.new_quantity - event.old_quantity, publish_wall_s=publish_wall_s)

    def publish_batch(self, envelopes: list[Any]) -> None:
        for envelope in envelopes:
            self.publish(envelope)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        return None

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.IN_MEMORY


def _crash_point(arm: Path, point: str, emit: _Emitter) -> None:
    try:
        armed = arm.read_text().strip()
    except FileNotFoundError:
        return
    if armed == point:
        emit(kind="crash", point=point)
        os.kill(os.getpid(), signal.SIGKILL)


def run(spec: RelayWorkerSpec) -> None:
    config = RelayConfig(**spec.relay)
    worker = config.worker_id or "relay"
    kwargs: dict[str, Any] = {}
    if not spec.url.startswith("sqlite"):
        # The nemesis finds this process's connections by name (pg_stat_activity.application_name).
        kwargs = {"connect_args": {"application_name": worker}, "pool_pre_ping": True}
    engine = make_engine(spec.url, schema=spec.schema_name, **kwargs)
    wall_start, scale = spec.wall_start, spec.scale

    def clock() -> float:
        return (time.monotonic() - wall_start) / scale

    arm = Path(spec.arm)
    with open(spec.events, "a", encoding="utf-8") as stream:
        emit = _Emitter(stream)
        target = _ReadModelTarget(ReadModelConsumer(engine, clock=clock, name=spec.consumer, epoch=spec.epoch), emit)
        relay = OutboxRelay(engine, target, config, clock=clock, epoch=spec.epoch)
        emit(kind="ready", pid=os.getpid(), worker=worker)
        while True:
            try:
                rows = relay.claim_batch()
                if not rows:
                    time.sleep(RUN_IDLE_SLEEP_S * scale)
                    continue
                emit(kind="claim", rows=len(rows))
                _crash_point(arm, "after_claim", emit)
                for row in rows:
                    envelope = relay.begin_dispatch(row)
                    if envelope is None:
                        continue
                    try:
                        target.publish(envelope)
                    except RustokError as exc:
                        relay.mark_failed_attempt(row, exc, envelope)
                        continue
                    _crash_point(arm, "after_publish", emit)
                    relay.mark_dispatched(row, envelope)
            except Exception as exc:  # noqa: BLE001 - the run loop survives anything, as Rust's does
                emit(kind="error", error=f"{type(exc).__name__}: {short_reason(exc)}")
                time.sleep(RUN_ERROR_SLEEP_S * scale)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m rustok_sim.scenarios.live.relay_worker SPEC.json", file=sys.stderr)
        return 2
    spec = RelayWorkerSpec.model_validate_json(Path(args[0]).read_text(encoding="utf-8"))
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    run(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
