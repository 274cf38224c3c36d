"""Transactional writes through the outbox, relays that crash, and an idempotent projection, as a
reusable part.

**Services.** Each business operation takes its aggregate's row lock (a simpy resource, as
``SELECT ... FOR UPDATE``), does its work (a latency), then in one transaction
(``store.begin()``) updates the aggregate (an inventory level, plus one) and publishes
`InventoryUpdated` through the `TransactionalEventBus`; with probability `rollback_probability`
the transaction rolls back. A ``transaction`` ``committed`` / ``rolled_back`` event record names
the event either way. With the outbox transport a rollback discards the row; with
``transport = "memory"`` the event was published before the outcome was known, and a rollback
does not retract it (spec §3.4): a ghost.

**Relays.** `relays` simpy loops over the model's `OutboxRelay`: claim a batch, then per row
`begin_dispatch`, the publish latency, the target's ``publish``, `mark_dispatched` (or
`mark_failed_attempt` when the downstream fails). A `RelayCrash` arms one relay at a time `at`;
it dies at the next `point` it reaches (``after_claim``: its batch stays claimed;
``after_publish``: that row was delivered but never marked, and the rest of its batch stays
claimed), a ``relay_crash`` fault starts, and
after `restart_delay` a new relay process (a new worker id) takes its place and the fault ends.
The faithful relay never reclaims a row claimed by the dead worker (spec §3.6): the rows it had
claimed and not yet published are never delivered (zombies). The hardened relay's claim is a lease of
`claim_ttl_s`; a live relay takes the row over and delivers it; a row already delivered
after_publish is delivered again, and the idempotent projection skips the duplicate.

**Projection.** The read model applies each event's change (``new_quantity - old_quantity``) to
its copy of the aggregate's level, as an event-sourced projection does (so the order of delivery
does not matter, and a lost event is a lasting difference), and keeps the ids it applied: a
redelivery is a ``duplicate`` and changes nothing. At the end, `read_model_divergence` counts
aggregates whose projected level differs from the committed one.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from typing import Any, Literal

import simpy
from pydantic import Field, model_validator

from rustok_sim.conformance.invariants import Checker, KnownDefect
from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.conformance.invariants.outbox import NoGhosts, NoZombies, ProjectionAppliesOnce
from rustok_sim.model.events import relay as relay_module
from rustok_sim.model.events.bus import ExternalError, ReliabilityLevel, RustokError
from rustok_sim.model.events.domain import InventoryUpdated
from rustok_sim.model.events.outbox import OutboxTransport
from rustok_sim.model.events.relay import RUN_IDLE_SLEEP_S, OutboxRelay, RelayConfig
from rustok_sim.model.events.transactional import TransactionalEventBus
from rustok_sim.scenarios.drivers.stores import outbox_store
from rustok_sim.scenarios.engine.config import Profile, Settings, resolve_variant
from rustok_sim.scenarios.engine.distributions import Exponential, Latency, Lognormal, sampler
from rustok_sim.scenarios.engine.stats import percentiles
from rustok_sim.scenarios.engine.world import World
from rustok_sim.scenarios.faults.relay import RelayCrash
from rustok_sim.scenarios.workloads import Arrivals, Poisson, ZipfTenants, arrival_times

__all__ = ["OutboxPipeline", "OutboxPipelinePart", "checkers_for_outbox_pipeline",
           "install_outbox_pipeline"]

SERVICE = "inventory"
PROJECTION_NAME = "inventory_levels"
OUTBOX_NAME = "inventory_outbox"


def _default_crashes() -> list[RelayCrash]:
    return [RelayCrash(at=20.0, relay=0, point="after_claim"), RelayCrash(at=35.0, relay=1, point="after_publish")]


class OutboxPipeline(Settings):
    duration: float = Field(60.0, gt=0, allow_inf_nan=False, description="virtual seconds of business operations")
    arrivals: Arrivals = Field(default_factory=lambda: Poisson(rate=100.0), description="operations per second")
    aggregates: ZipfTenants = Field(default_factory=lambda: ZipfTenants(count=200, exponent=0.8),
                                    description="the inventory rows written, with Zipf popularity")
    tenants: int = Field(10, ge=1, le=100_000, description="tenants the aggregates belong to (round robin)")
    work: Latency = Field(default_factory=lambda: Lognormal(median=0.004, p99=0.04),
                          description="an operation's work under its row lock, before the transaction")
    rollback_probability: float = Field(0.1, ge=0, le=1, allow_inf_nan=False,
                                        description="chance that an operation's transaction rolls back")
    transport: Literal["outbox", "memory"] = Field(
        "outbox", description="outbox: the row is part of the transaction; memory: published before the outcome")
    store: Literal["memory", "sqlite"] = Field("memory", description="the outbox store")
    relays: int = Field(2, ge=1, le=64, description="relay processes")
    relay_batch_size: int = Field(50, ge=1, le=100_000)
    relay_max_attempts: int = Field(5, ge=1, le=1000, description="attempts before the DLQ (Rust: 5)")
    relay_backoff_base_s: float = Field(1.0, ge=0, allow_inf_nan=False)
    relay_backoff_max_s: float = Field(60.0, ge=0, allow_inf_nan=False)
    claim_ttl_s: float = Field(10.0, gt=0, allow_inf_nan=False,
                               description="hardened relay: a claim older than this may be taken over (upstream: 60)")
    relay_variant: Literal["faithful", "hardened"] | None = None
    publish: Latency = Field(default_factory=lambda: Exponential(mean=0.002),
                             description="one publish to the consumers, seconds")
    downstream_failure_probability: float = Field(0.0, ge=0, le=1, allow_inf_nan=False,
                                                  description="chance that a publish fails (the relay retries)")
    crashes: list[RelayCrash] = Field(default_factory=_default_crashes)

    @model_validator(mode="after")
    def _crashes_name_relays(self) -> OutboxPipeline:
        for index, crash in enumerate(self.crashes):
            if crash.relay >= self.relays:
                raise ValueError(f"crashes[{index}]: relay {crash.relay} does not exist (relays = {self.relays})")
        return self


def _relay_variant(section: OutboxPipeline, profile: Profile) -> str:
    return resolve_variant(profile, section.relay_variant, relay_module.PROFILE_VARIANTS)


def defects_for_outbox_pipeline(section: OutboxPipeline, profile: Profile) -> dict[str, KnownDefect | None]:
    """Which failures the chosen faithful behaviour is documented to have."""
    faithful = profile == "faithful"
    zombie = (KnownDefect("§3.6", "nothing reclaims a row claimed by a relay that died: every path requires "
                                  "claimed_at IS NULL")
              if faithful and _relay_variant(section, profile) == "faithful"
              and section.crashes and section.transport == "outbox" else None)
    ghost = (KnownDefect("§3.4", "a non-outbox transport publishes before the transaction's outcome is known; "
                                 "a rollback does not retract it")
             if faithful and section.transport == "memory" else None)
    return {"zombie": zombie, "ghost": ghost}


def checkers_for_outbox_pipeline(section: OutboxPipeline, profile: Profile) -> list[Checker]:
    defects = defects_for_outbox_pipeline(section, profile)
    return [NoGhosts(defects["ghost"]), NoZombies(defects["zombie"]), ProjectionAppliesOnce()]


class _Projection:
    """The idempotent read model, and the relays' (or the memory transport's) target."""

    __slots__ = ("part", "levels", "applied", "deliveries", "duplicates", "events")

    def __init__(self, part: OutboxPipelinePart) -> None:
        self.part = part
        self.levels: dict[uuid.UUID, int] = {}
        self.applied: set[uuid.UUID] = set()
        self.deliveries = 0
        self.duplicates = 0
        self.events = part.world.recorder if part.world.recorder.wants("event") else None

    def publish(self, envelope: Any) -> None:
        part = self.part
        if part.downstream_fails():
            raise ExternalError("downstream unavailable")
        self.deliveries += 1
        event_id = envelope.id
        duplicate = event_id in self.applied
        if duplicate:
            self.duplicates += 1
        else:
            self.applied.add(event_id)
            event = envelope.event
            aggregate = event.variant_id
            self.levels[aggregate] = self.levels.get(aggregate, 0) + event.new_quantity - event.old_quantity
            part.delivered(event_id)
        if self.events is not None:
            self.events.event(v.PROJECTION, PROJECTION_NAME, v.DUPLICATE if duplicate else v.APPLIED, str(event_id),
                              envelope.event_type, str(envelope.tenant_id), None)

    def publish_batch(self, envelopes: list[Any]) -> None:
        for envelope in envelopes:
            self.publish(envelope)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        return None

    def reliability_level(self) -> ReliabilityLevel:
        return ReliabilityLevel.IN_MEMORY


class _Crashed(Exception):
    """A relay died at its armed point (the driver's own signal, never the model's)."""


class OutboxPipelinePart:
    def __init__(self, world: World, section: OutboxPipeline, profile: Profile) -> None:
        self.world, self.section = world, section
        env = world.env
        self.relay_variant = _relay_variant(section, profile)
        self.committed_levels: dict[uuid.UUID, int] = {}
        count = section.aggregates.count
        self.aggregate_ids = [uuid.UUID(int=(5 << 64) + k) for k in range(count)]
        self.tenant_ids = [uuid.UUID(int=(6 << 64) + k) for k in range(section.tenants)]
        self.location = uuid.UUID(int=7 << 64)
        self.locks: dict[int, simpy.Resource] = {}
        self.counts = {"operations": 0, "committed": 0, "rolled_back": 0, "relay_crashes": 0}
        self.committed_ids: set[uuid.UUID] = set()
        self.rolled_back_ids: set[uuid.UUID] = set()
        self.committed_at: dict[uuid.UUID, float] = {}
        self.latencies: list[float] = []
        self.work = sampler(section.work, world.rng("work"))
        self.publish_time = sampler(section.publish, world.rng("publish"))
        self._rollback_rng = world.rng("rollbacks")
        self._downstream_rng = world.rng("downstream")
        self.events = world.recorder if world.recorder.wants("event") else None
        self.projection = _Projection(self)
        self.store: Any = None
        if section.transport == "outbox":
            self.store = self._open_store()
            transport: Any = OutboxTransport(self.store, clock=world.clock, observer=world.observer,
                                             name=OUTBOX_NAME)
        else:
            transport = self.projection
        self.tbus = TransactionalEventBus(transport, ids=world.ids(f"{SERVICE}-events"), observer=world.observer)
        self.relays: list[OutboxRelay] = []
        self.armed: dict[int, RelayCrash] = {}
        self.generations = [0] * section.relays
        self.production_end = section.duration
        self.idle_at: float | None = None
        if self.store is not None:
            store = self.store
            world.gauge("outbox", "store", "pending", lambda: float(store.count("pending")))
            for index in range(section.relays):
                self._start_relay(index)
            for crash in section.crashes:
                env.process(self._arm(crash))
        if section.rollback_probability > 0:
            world.window(v.ROLLBACKS, SERVICE, 0.0, section.duration,
                         detail={"probability": section.rollback_probability})
        env.process(self._operations())

    def _open_store(self) -> Any:
        """The outbox store the section asks for (a live run opens one on a real database)."""
        return outbox_store(self.section.store)

    # -- services ---------------------------------------------------------------------------

    def _operations(self) -> Generator[simpy.Event, Any, None]:
        world, env, section = self.world, self.world.env, self.section
        pick = section.aggregates.picker(world.rng("aggregates"))
        for t in arrival_times(section.arrivals, world.rng("operations"), end=section.duration):
            yield env.timeout(t - env.now)
            env.process(self._operation(pick()))
        self.production_end = env.now

    def _operation(self, index: int) -> Generator[simpy.Event, Any, None]:
        env, section = self.world.env, self.section
        lock = self.locks.get(index)
        if lock is None:
            lock = self.locks[index] = simpy.Resource(env, capacity=1)
        with lock.request() as held:
            yield held
            yield env.timeout(self.work())
            aggregate = self.aggregate_ids[index]
            level = self.committed_levels.get(aggregate, 0)
            event = InventoryUpdated(variant_id=aggregate, product_id=aggregate, location_id=self.location,
                                     old_quantity=level, new_quantity=level + 1)
            tenant = self.tenant_ids[index % len(self.tenant_ids)]
            self.counts["operations"] += 1
            rollback = self._rollback_rng.random() < section.rollback_probability
            if self.store is not None:
                tx = self.store.begin()
                envelope = self.tbus.publish_in_tx(tx, tenant, None, event)
                tx.rollback() if rollback else tx.commit()
            else:
                envelope = self.tbus.publish_in_tx(None, tenant, None, event)
            if rollback:
                self.counts["rolled_back"] += 1
                self.rolled_back_ids.add(envelope.id)
            else:
                self.counts["committed"] += 1
                self.committed_ids.add(envelope.id)
                self.committed_at[envelope.id] = env.now
                self.committed_levels[aggregate] = level + 1
            if self.events is not None:
                self.events.event(v.TRANSACTION, SERVICE, v.ROLLED_BACK if rollback else v.COMMITTED,
                                  str(envelope.id), envelope.event_type, str(tenant), None)

    def downstream_fails(self) -> bool:
        p = self.section.downstream_failure_probability
        return p > 0 and self._downstream_rng.random() < p

    def delivered(self, event_id: uuid.UUID) -> None:
        committed = self.committed_at.get(event_id)
        if committed is not None:
            self.latencies.append(self.world.env.now - committed)

    # -- relays --------------------------------------------------------------------------------

    def _worker(self, index: int) -> str:
        generation = self.generations[index]
        worker = f"{SERVICE}-relay-{index}"
        return worker if generation == 0 else f"{worker}.{generation}"

    def _start_relay(self, index: int) -> None:
        section = self.section
        config = RelayConfig(batch_size=section.relay_batch_size, max_attempts=section.relay_max_attempts,
                             backoff_base_s=section.relay_backoff_base_s, backoff_max_s=section.relay_backoff_max_s,
                             worker_id=self._worker(index), variant=self.relay_variant,  # type: ignore[arg-type]
                             claim_ttl_s=section.claim_ttl_s)
        relay = OutboxRelay(self.store, self.projection, config, clock=self.world.clock,
                            observer=self.world.observer)
        self.relays.append(relay)
        self.world.env.process(self._relay_loop(index, relay))

    def _arm(self, crash: RelayCrash) -> Generator[simpy.Event, Any, None]:
        yield self.world.env.timeout(crash.at)
        self.armed[crash.relay] = crash

    def _crash_point(self, index: int, point: str) -> None:
        crash = self.armed.get(index)
        if crash is not None and crash.point == point:
            raise _Crashed(crash)

    def _relay_loop(self, index: int, relay: OutboxRelay) -> Generator[simpy.Event, Any, None]:
        env = self.world.env
        try:
            while True:
                rows = relay.claim_batch()
                if not rows:
                    yield env.timeout(RUN_IDLE_SLEEP_S)
                    continue
                self._crash_point(index, "after_claim")
                for row in rows:
                    envelope = relay.begin_dispatch(row)
                    if envelope is None:
                        continue
                    yield env.timeout(self.publish_time())
                    try:
                        self.projection.publish(envelope)
                    except RustokError as exc:
                        relay.mark_failed_attempt(row, exc, envelope)
                        continue
                    self._crash_point(index, "after_publish")
                    relay.mark_dispatched(row, envelope)
        except _Crashed as crashed:
            crash: RelayCrash = crashed.args[0]
            del self.armed[index]
            self.counts["relay_crashes"] += 1
            detail = {"point": crash.point, "restart_delay": crash.restart_delay}
            self.world.recorder.fault(v.RELAY_CRASH, "start", relay.worker_id, detail)
            env.process(self._restart(index, relay.worker_id, crash.restart_delay, detail))

    def _restart(self, index: int, worker: str, delay: float, detail: dict[str, Any]) -> Generator[simpy.Event, Any, None]:
        yield self.world.env.timeout(delay)
        self.world.recorder.fault(v.RELAY_CRASH, "end", worker, detail)
        self.generations[index] += 1
        self._start_relay(index)

    # -- the end ---------------------------------------------------------------------------------

    def idle(self) -> bool:
        if self.store is None:
            return True
        return self.store.count("pending") == 0

    def drain(self, limit: float) -> simpy.Event:
        """A process that ends when no row is pending (or `limit` virtual seconds after the
        operations stopped: a faithful relay leaves dead workers' claims pending for good)."""
        return self.world.drain(self.idle, after=self.section.duration, limit=limit, poll=0.05,
                                on_idle=self._note_idle)

    def _note_idle(self, now: float) -> None:
        self.idle_at = now

    def metrics(self) -> dict[str, Any]:
        projection = self.projection
        applied = projection.applied
        ghosts = len(applied - self.committed_ids)
        undelivered = self.committed_ids - applied
        rows = {"pending": 0, "claimed": 0, "dispatched": 0, "failed": 0}
        if self.store is not None:
            for row in self.store.rows():
                state = "claimed" if row.status == "pending" and row.claimed_by is not None else row.status
                rows[state] += 1
        committed, levels = self.committed_levels, projection.levels
        divergence = sum(1 for key in set(committed) | set(levels) if committed.get(key, 0) != levels.get(key, 0))
        relay_totals: dict[str, int] = {}
        for relay in self.relays:
            for key, value in relay.metrics().as_dict().items():
                relay_totals[key] = relay_totals.get(key, 0) + value
        return {
            "relay_variant": self.relay_variant if self.store is not None else None,
            **self.counts,
            "delivered": len(applied),
            "deliveries": projection.deliveries,
            "ghosts": ghosts,
            "zombies": len(undelivered),
            "duplicates": projection.duplicates,
            "read_model_divergence": divergence,
            "rows_at_end": rows,
            "drain_time": None if self.idle_at is None else self.idle_at - self.production_end,
            "delivery_latency": percentiles(self.latencies),
            "relays": relay_totals,
        }


def install_outbox_pipeline(world: World, section: OutboxPipeline, profile: Profile) -> OutboxPipelinePart:
    return OutboxPipelinePart(world, section, profile)
