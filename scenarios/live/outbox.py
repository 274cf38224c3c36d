"""Transactional writes through the outbox on a real database, with relays as OS processes.

The shared part (`OutboxPipelinePart`: the inventory service's operations, rollbacks, committed
writes, metrics, the invariants' records) runs in the live world on a `SqlOutboxStore` of the
run's database; each relay is a `relay_worker` process on the same database, delivering to the
idempotent read model there. The parent reads every worker's event lines as the run goes (every
`INGEST_POLL` virtual seconds) and records what they say in the one trace: a delivery becomes the
``projection`` ``applied`` / ``duplicate`` record the invariants read (whether it was a duplicate
is the read model's own verdict, from its inbox table), a crash line the ``relay_crash`` fault's
start.

The crash nemesis: a `RelayCrash` arms the relay's current process at `at` (an ``arm`` file it
reads before each crash point); the process reaches the point and SIGKILLs itself. After
`restart_delay` a new process with a new worker id takes its place, and the fault ends.
`terminate_connections` is the other nemesis action: ``pg_terminate_backend`` of every
PostgreSQL connection a relay process holds (found by its application name).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simpy
from sqlalchemy import text

from rustok_sim.adapters.sql.outbox import SqlOutboxStore
from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.scenarios.drivers.outbox import PROJECTION_NAME, OutboxPipeline, OutboxPipelinePart
from rustok_sim.scenarios.engine.config import Profile
from rustok_sim.scenarios.engine.stats import percentiles
from rustok_sim.scenarios.faults.relay import RelayCrash
from rustok_sim.scenarios.live.database import LiveDatabase
from rustok_sim.scenarios.live.processes import CHILDREN
from rustok_sim.scenarios.live.realtime import LiveWorld
from rustok_sim.scenarios.live.relay_worker import RelayWorkerSpec

__all__ = ["INGEST_POLL", "LiveOutboxPipelinePart", "RelayProcess"]

INGEST_POLL = 0.05
"""Virtual seconds between two reads of the workers' event lines."""


@dataclass
class RelayProcess:
    """One relay process: its slot, worker id, process, and the files it talks through."""

    index: int
    worker: str
    process: subprocess.Popen[bytes]
    events: Path
    arm: Path
    offset: int = 0
    crashed: bool = False
    ready: bool = False
    """It wrote its ``ready`` line: connected to the database, about to claim."""
    spawned_at: float = 0.0
    """Virtual second the process was started."""
    errors: list[str] = field(default_factory=list)


class LiveOutboxPipelinePart(OutboxPipelinePart):
    """`OutboxPipelinePart` on `database`, its relays as `relay_worker` processes (files in
    `run_dir`)."""

    def __init__(self, world: LiveWorld, section: OutboxPipeline, profile: Profile, database: LiveDatabase,
                 run_dir: Path) -> None:
        self.database, self.run_dir, self.scale = database, run_dir, world.scale
        self.paced = world.paced
        self.processes: dict[int, RelayProcess] = {}
        self.retired: list[RelayProcess] = []
        self.relay_errors = 0
        self.claims = 0
        self.claimed_rows = 0
        self.terminated_connections = 0
        self.publish_latencies: list[float] = []
        """Virtual seconds per delivery: the read model's real transaction, over the scale."""
        self.startups: list[float] = []
        """Virtual seconds from a relay process's start to its ``ready`` line."""
        super().__init__(world, section, profile)
        if self.store is not None:
            world.env.process(self._ingest_loop())

    def _open_store(self) -> Any:
        assert self.database.engine is not None
        return SqlOutboxStore(self.database.engine, epoch=self.database.epoch)

    # -- relay processes --------------------------------------------------------------------

    def _start_relay(self, index: int) -> None:
        # The base part starts its relays while it is built, before the paced clock is synced to
        # the wall clock; a process needs the synced start, so it is spawned once the run runs.
        self.world.env.process(self._spawn_when_running(index))

    def _spawn_when_running(self, index: int) -> Generator[simpy.Event, Any, None]:
        self._spawn(index)
        yield self.world.env.timeout(0)

    def _spawn(self, index: int) -> None:
        section, worker = self.section, self._worker(index)
        events, arm = self.run_dir / f"{worker}.events.jsonl", self.run_dir / f"{worker}.arm"
        events.touch()
        relay = {"batch_size": section.relay_batch_size, "max_attempts": section.relay_max_attempts,
                 "backoff_base_s": section.relay_backoff_base_s, "backoff_max_s": section.relay_backoff_max_s,
                 "worker_id": worker, "variant": self.relay_variant, "claim_ttl_s": section.claim_ttl_s}
        paced = self.paced
        spec = RelayWorkerSpec(url=self.database.worker_url, schema_name=self.database.schema,
                               epoch=self.database.epoch, wall_start=paced.real_start - paced.env_start * self.scale,
                               scale=self.scale, relay=relay, consumer=PROJECTION_NAME, events=str(events),
                               arm=str(arm))
        spec_path = self.run_dir / f"{worker}.spec.json"
        spec_path.write_text(spec.model_dump_json(), encoding="utf-8")
        process = CHILDREN.spawn([sys.executable, "-m", "rustok_sim.scenarios.live.relay_worker", str(spec_path)],
                                 log=self.run_dir / f"{worker}.log")
        self.processes[index] = RelayProcess(index, worker, process, events, arm, spawned_at=self.world.env.now)

    def _arm(self, crash: RelayCrash) -> Generator[simpy.Event, Any, None]:
        yield self.world.env.timeout(crash.at)
        handle = self.processes[crash.relay]  # spawned at time 0, before any crash is armed
        handle.arm.write_text(crash.point, encoding="utf-8")
        self.armed[crash.relay] = crash

    def when_ready(self, index: int, limit: float = 20.0) -> Generator[simpy.Event, Any, bool]:
        """Wait (virtual seconds, at most `limit`) until relay `index`'s current process is ready;
        a process takes a second or more of wall time to start, which a nemesis action aimed at
        its connections must not race."""
        deadline = self.world.env.now + limit
        while self.world.env.now < deadline:
            handle = self.processes.get(index)
            if handle is not None and handle.ready and handle.process.poll() is None:
                return True
            yield self.world.env.timeout(INGEST_POLL)
        return False

    def terminate_connections(self, index: int) -> int:
        """``pg_terminate_backend`` of every connection relay `index`'s process holds; returns how
        many were terminated (0 on SQLite, which has none). A ``pg_terminate_backend`` fault
        records it."""
        engine = self.database.engine
        if engine is None or self.database.schema is None:
            return 0
        handle = self.processes[index]
        self.world.recorder.fault("pg_terminate_backend", "start", handle.worker, {"relay": index})
        with engine.begin() as conn:
            killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE application_name = :name"), {"name": handle.worker}).scalar_one()
        self.terminated_connections += int(killed)
        self.world.recorder.fault("pg_terminate_backend", "end", handle.worker, {"relay": index,
                                                                                 "terminated": int(killed)})
        return int(killed)

    # -- what the workers say -----------------------------------------------------------------

    def _ingest_loop(self) -> Generator[simpy.Event, Any, None]:
        while True:
            self.ingest()
            yield self.world.env.timeout(INGEST_POLL)

    def ingest(self) -> None:
        for handle in [*self.processes.values(), *self.retired]:
            self._ingest(handle)

    def _ingest(self, handle: RelayProcess) -> None:
        with open(handle.events, encoding="utf-8") as stream:
            stream.seek(handle.offset)
            while True:
                line = stream.readline()
                if not line.endswith("\n"):  # none, or a line still being written: next time
                    break
                handle.offset += len(line.encode("utf-8"))
                self._on_line(handle, json.loads(line))

    def _on_line(self, handle: RelayProcess, line: dict[str, Any]) -> None:
        kind = line["kind"]
        if kind == "delivery":
            self._on_delivery(line)
        elif kind == "ready":
            handle.ready = True
            self.startups.append(self.world.env.now - handle.spawned_at)
        elif kind == "claim":
            self.claims += 1
            self.claimed_rows += int(line["rows"])
        elif kind == "error":
            self.relay_errors += 1
            handle.errors.append(str(line["error"]))
        elif kind == "crash":
            self._on_crash(handle, str(line["point"]))

    def _on_delivery(self, line: dict[str, Any]) -> None:
        projection = self.projection
        event_id = uuid.UUID(line["event_id"])
        projection.deliveries += 1
        self.publish_latencies.append(float(line["publish_wall_s"]) / self.scale)
        duplicate = not line["applied"]
        if duplicate:
            projection.duplicates += 1
        else:
            projection.applied.add(event_id)
            aggregate = uuid.UUID(line["aggregate"])
            projection.levels[aggregate] = projection.levels.get(aggregate, 0) + int(line["change"])
            self.delivered(event_id)
        if projection.events is not None:
            projection.events.event(v.PROJECTION, PROJECTION_NAME, v.DUPLICATE if duplicate else v.APPLIED,
                                    str(event_id), str(line["event_type"]), str(line["tenant_id"]), None)

    def _on_crash(self, handle: RelayProcess, point: str) -> None:
        crash = self.armed.pop(handle.index, None)
        restart_delay = crash.restart_delay if crash is not None else 0.0
        handle.crashed = True
        CHILDREN.reap(handle.process)  # it killed itself; reap it
        self.retired.append(handle)
        self.counts["relay_crashes"] += 1
        detail = {"point": point, "restart_delay": restart_delay, "signal": "SIGKILL"}
        self.world.recorder.fault(v.RELAY_CRASH, "start", handle.worker, detail)
        self.world.env.process(self._restart(handle.index, handle.worker, restart_delay, detail))

    # -- the end ------------------------------------------------------------------------------

    def stop(self, read_last: bool = True) -> None:
        """Stop every relay process and (`read_last`) read what they wrote last. Idempotent. On the
        way out of a failed run, `read_last=False`: the trace is closed by then."""
        for handle in list(self.processes.values()):
            if handle.process.poll() is None:
                handle.process.terminate()
        for handle in list(self.processes.values()):
            try:
                handle.process.wait(5.0)
            except subprocess.TimeoutExpired:
                pass
            CHILDREN.reap(handle.process)
        if read_last:
            self.ingest()

    def metrics(self) -> dict[str, Any]:
        metrics = super().metrics()
        metrics["live"] = {
            "database": self.database.kind,
            "schema": self.database.schema,
            "relay_processes": [{"worker": h.worker, "pid": h.process.pid, "crashed": h.crashed,
                                 "errors": len(h.errors)} for h in [*self.retired, *self.processes.values()]],
            "relay_errors": self.relay_errors,
            "claims": self.claims,
            "claimed_rows": self.claimed_rows,
            "terminated_connections": self.terminated_connections,
            "publish_latency": percentiles(self.publish_latencies),
            "relay_startup": percentiles(self.startups),
        }
        return metrics
