"""An event flood, as a reusable part: producers publishing domain events through the
transactional bus into an `EventBus` with backpressure, drained by an `EventDispatcher` with `c`
handler servers (`rustok_sim.scenarios.drivers.dispatch`).

Producers are either

- ``direct``: `TransactionalEventBus` over a `MemoryTransport`. A rejected publish raises the
  bus's backpressure error; the producer drops the event and counts it (a ``producer``
  ``dropped`` record): the event is lost, by design and visibly; or
- ``outbox``: `TransactionalEventBus` over an `OutboxTransport` on an in-memory outbox store;
  each event is written in its producer's transaction, and `relays` relay processes publish the
  pending rows to the bus. A rejected publish is a failed attempt: the row stays pending with the
  relay's backoff and is retried, so nothing is lost unless a row runs out of attempts (the DLQ).

Faults on the handlers (`slow_handler`, `failing_handler`) and a `second_dispatcher` on the same
bus (spec §3.3: both release each event's one slot, so the depth runs through 0 and, in the
faithful controller, wraps).
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from typing import Any, Literal

import simpy
from pydantic import Field

from rustok_sim.conformance.invariants import Checker, KnownDefect
from rustok_sim.conformance.invariants import vocabulary as v
from rustok_sim.conformance.invariants.events import DepthBound, NothingLost, SlotConservation
from rustok_sim.model.events import dispatcher as dispatcher_module
from rustok_sim.model.events import relay as relay_module
from rustok_sim.model.events.bus import EventBus, EventBusConfig, MemoryTransport, RustokError
from rustok_sim.model.events.dispatcher import WorkState
from rustok_sim.model.events.outbox import OutboxTransport
from rustok_sim.model.events.relay import OutboxRelay, RelayConfig
from rustok_sim.model.events.transactional import TransactionalEventBus
from rustok_sim.model.resilience import backpressure as backpressure_module
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController
from rustok_sim.scenarios.drivers.dispatch import HandlerPool, build_dispatcher
from rustok_sim.scenarios.drivers.stores import outbox_store
from rustok_sim.scenarios.engine.config import Profile, Settings, resolve_variant
from rustok_sim.scenarios.engine.distributions import Exponential, Latency, sampler
from rustok_sim.scenarios.engine.stats import percentiles
from rustok_sim.scenarios.engine.world import World
from rustok_sim.scenarios.faults.handlers import FailingHandler, SecondDispatcher, SlowHandler
from rustok_sim.scenarios.workloads import Arrivals, Burst, EventMix, Poisson, ZipfTenants, arrival_times

__all__ = ["EventFlood", "FloodPart", "checkers_for_event_flood", "install_event_flood"]

_STATE_CODE = {"normal": 0.0, "warning": 1.0, "critical": 2.0}


class Producers(Settings):
    mode: Literal["direct", "outbox"] = Field("direct", description="direct: a rejected event is dropped; "
                                              "outbox: written in the producer's transaction, relayed, retried")
    arrivals: Arrivals = Field(default_factory=lambda: Poisson(
        rate=600.0, bursts=[Burst(start=20.0, duration=15.0, factor=4.0)]),
        description="when events are published (events/s)")
    events: EventMix = Field(default_factory=EventMix)
    tenants: ZipfTenants = Field(default_factory=lambda: ZipfTenants(count=50))
    store: Literal["memory", "sqlite"] = Field("memory", description="outbox mode: the in-memory store, or the "
                                               "SQL store on an in-memory SQLite database (to show its cost)")
    relays: int = Field(1, ge=1, le=64, description="outbox mode: relay processes")
    relay_batch_size: int = Field(100, ge=1, le=100_000, description="outbox mode: rows per relay pass")
    relay_max_attempts: int = Field(5, ge=1, le=1000, description="outbox mode: attempts before the DLQ (Rust: 5)")
    relay_backoff_base_s: float = Field(1.0, ge=0, allow_inf_nan=False, description="outbox mode: first retry delay")
    relay_backoff_max_s: float = Field(60.0, ge=0, allow_inf_nan=False, description="outbox mode: retry delay cap")
    relay_variant: Literal["faithful", "hardened"] | None = None


class Handlers(Settings):
    c: int = Field(4, ge=1, le=10_000, description="handler servers (dispatcher max_concurrent)")
    service: Latency = Field(default_factory=lambda: Exponential(mean=0.005), description="seconds per event")
    retry_count: int = Field(0, ge=0, le=100, description="dispatcher retries after a handler error")
    retry_delay_ms: int = Field(100, ge=0, description="fixed delay between handler attempts")
    variant: Literal["2026-02-14", "2026-02-13", "hardened"] | None = None


class BackpressureSection(Settings):
    max_queue_depth: int = Field(5000, ge=1, description="events (Rust default 10000)")
    warning_threshold: float = Field(0.7, gt=0, allow_inf_nan=False)
    critical_threshold: float = Field(0.9, gt=0, le=1.0, allow_inf_nan=False)
    variant: Literal["faithful", "hardened"] | None = None


class EventFlood(Settings):
    duration: float = Field(60.0, gt=0, allow_inf_nan=False, description="virtual seconds of publishing")
    producers: Producers = Field(default_factory=Producers)
    handlers: Handlers = Field(default_factory=Handlers)
    backpressure: BackpressureSection = Field(default_factory=BackpressureSection)
    slow_handler: SlowHandler | None = None
    failing_handler: FailingHandler | None = None
    second_dispatcher: SecondDispatcher | None = None


def _variants(section: EventFlood, profile: Profile) -> tuple[str, str, str]:
    return (resolve_variant(profile, section.backpressure.variant, backpressure_module.PROFILE_VARIANTS),
            resolve_variant(profile, section.handlers.variant, dispatcher_module.PROFILE_VARIANTS),
            resolve_variant(profile, section.producers.relay_variant, relay_module.PROFILE_VARIANTS))


def checkers_for_event_flood(section: EventFlood, profile: Profile) -> list[Checker]:
    bp_variant, dispatcher_variant, _ = _variants(section, profile)
    faithful = profile == "faithful"
    wrap = KnownDefect("§2.2", "a release at depth 0 wraps the usize; the controller then rejects everything")
    double = KnownDefect("§3.3", "two dispatchers on one bus release each event's slot twice")
    leak = KnownDefect("§3.3", "02-13: a crashed handler never releases its slot")
    slot_defect = None
    if faithful and section.second_dispatcher is not None:
        slot_defect = double
    elif faithful and dispatcher_variant == "2026-02-13":
        slot_defect = leak
    return [DepthBound(section.backpressure.max_queue_depth, wrap if faithful and bp_variant == "faithful" else None),
            SlotConservation(slot_defect),
            NothingLost(drops_allowed=section.producers.mode == "direct",
                        defect=double if faithful and section.second_dispatcher is not None else None)]


class FloodPart:
    """The flood's model objects and counters; `metrics()` after the run."""

    def __init__(self, world: World, section: EventFlood, profile: Profile) -> None:
        self.world, self.section = world, section
        env = world.env
        bp_variant, dispatcher_variant, relay_variant = _variants(section, profile)
        bp = section.backpressure
        self.controller = BackpressureController(
            BackpressureConfig(max_queue_depth=bp.max_queue_depth, warning_threshold=bp.warning_threshold,
                               critical_threshold=bp.critical_threshold, variant=bp_variant),
            observer=world.observer, name="bus")
        capacity = 1 << max(7, (bp.max_queue_depth - 1).bit_length())
        self.bus = EventBus(EventBusConfig(capacity=min(capacity, 1 << 20)), backpressure=self.controller,
                            ids=world.ids("envelopes"), observer=world.observer)
        handlers = section.handlers
        self.dispatcher_variant = dispatcher_variant
        self.dispatcher = build_dispatcher(world, self.bus, name="dispatcher", max_concurrent=handlers.c,
                                           variant=dispatcher_variant, retry_count=handlers.retry_count,
                                           retry_delay_ms=handlers.retry_delay_ms)
        self.pools = [HandlerPool(world, self.dispatcher, handlers.c,
                                  sampler(handlers.service, world.rng("service")), on_finished=self._finished)]
        self.published_at: dict[uuid.UUID, float] = {}
        self.latencies: list[float] = []
        self.counts = {"offered": 0, "accepted": 0, "rejected": 0, "dropped": 0, "retried_publishes": 0,
                       "handled": 0, "failed": 0, "crashed": 0, "finished_twice": 0}
        self.first: dict[str, float | None] = {"warning": None, "critical": None}
        self.production_end = section.duration
        self.idle_at: float | None = None
        self.events = world.recorder if world.recorder.wants("event") else None

        tbus_ids = world.ids("events")
        if section.producers.mode == "outbox":
            self.store: Any = outbox_store(section.producers.store)
            transport: Any = OutboxTransport(self.store, clock=world.clock, observer=world.observer)
            self.relays: list[OutboxRelay] = []
            producers = section.producers
            target = _CountingTransport(MemoryTransport(self.bus), self)
            for index in range(producers.relays):
                config = RelayConfig(batch_size=producers.relay_batch_size,
                                     max_attempts=producers.relay_max_attempts,
                                     backoff_base_s=producers.relay_backoff_base_s,
                                     backoff_max_s=producers.relay_backoff_max_s,
                                     worker_id=f"relay-{index}", variant=relay_variant)  # type: ignore[arg-type]
                relay = OutboxRelay(self.store, target, config, clock=world.clock, observer=world.observer)
                self.relays.append(relay)
                env.process(self._relay_loop(relay))
        else:
            self.store = None
            self.relays = []
            transport = MemoryTransport(self.bus)
        self.tbus = TransactionalEventBus(transport, ids=tbus_ids, observer=world.observer)

        world.gauge("backpressure", "bus", "depth", lambda: float(self.controller.current_depth))
        world.gauge("backpressure", "bus", "state", lambda: _STATE_CODE[self.controller.state.value])
        world.gauge("event_dispatcher", "dispatcher", "busy", lambda: float(sum(p.busy for p in self.pools)))
        if self.store is not None:
            store = self.store
            world.gauge("outbox", "store", "pending", lambda: float(store.count("pending")))
        self._install_faults(section)
        env.process(self._produce())

    # -- producers -------------------------------------------------------------------------

    def _produce(self) -> Generator[simpy.Event, Any, None]:
        world, section, env = self.world, self.section, self.world.env
        producers = section.producers
        pick_event = producers.events.picker(world.rng("event_mix"))
        pick_tenant = producers.tenants.picker(world.rng("tenants"))
        tenant_ids = [uuid.UUID(int=(2 << 64) + k) for k in range(producers.tenants.count)]
        counts, published_at = self.counts, self.published_at
        tbus, store, kick = self.tbus, self.store, self._kick
        for t in arrival_times(producers.arrivals, world.rng("arrivals"), end=section.duration):
            yield env.timeout(t - env.now)
            counts["offered"] += 1
            tenant, event = tenant_ids[pick_tenant()], pick_event()
            if store is not None:
                with store.begin() as tx:
                    envelope = tbus.publish_in_tx(tx, tenant, None, event)
                published_at[envelope.id] = env.now
                continue
            try:
                envelope = tbus.publish(tenant, None, event)
            except RustokError:  # backpressure: a direct producer has nowhere to keep it
                counts["rejected"] += 1
                counts["dropped"] += 1
                if self.events is not None:
                    self.events.event(v.PRODUCER, "direct", v.DROPPED, "", event.event_type,  # type: ignore[attr-defined]
                                      str(tenant), {"reason": "backpressure"})
                self._note_state()
                continue
            counts["accepted"] += 1
            published_at[envelope.id] = env.now
            self._note_state()
            kick()
        self.production_end = env.now if env.now > 0 else section.duration

    def _relay_loop(self, relay: OutboxRelay) -> Generator[simpy.Event, Any, None]:
        env = self.world.env
        while True:
            delay = relay.run_step()
            self._note_state()
            self._kick()
            yield env.timeout(delay if delay > 0 else 0.001)

    def _kick(self) -> None:
        for pool in self.pools:  # every dispatcher on the bus receives every event
            pool.kick()

    def _note_state(self) -> None:
        state = self.controller.state.value
        if state != "normal":
            first = self.first
            if first["warning"] is None:
                first["warning"] = self.world.env.now
            if state == "critical" and first["critical"] is None:
                first["critical"] = self.world.env.now

    # -- handlers ----------------------------------------------------------------------------

    def _finished(self, envelope: Any, state: WorkState, now: float) -> None:
        counts = self.counts
        if state is WorkState.SUCCEEDED:
            counts["handled"] += 1
        elif state is WorkState.FAILED:
            counts["failed"] += 1
        else:
            counts["crashed"] += 1
        start = self.published_at.pop(envelope.id, None)
        if start is None:
            counts["finished_twice"] += 1  # the second dispatcher's copy
        else:
            self.latencies.append(now - start)

    def _install_faults(self, section: EventFlood) -> None:
        world = self.world
        if section.slow_handler is not None:
            slow = section.slow_handler
            self._pool_window(v.SLOW_HANDLER, slow.start, slow.duration, "slow_factor", slow.factor, 1.0,
                              {"factor": slow.factor})
        if section.failing_handler is not None:
            failing = section.failing_handler
            self._pool_window(v.FAILING_HANDLER, failing.start, failing.duration, "fail_probability",
                              failing.probability, 0.0, {"probability": failing.probability})
        if section.second_dispatcher is not None:
            second = section.second_dispatcher

            def start_second() -> Generator[simpy.Event, Any, None]:
                yield world.env.timeout(second.at)
                world.instant_fault(v.SECOND_DISPATCHER, "bus", {"servers": second.servers})
                dispatcher = build_dispatcher(world, self.bus, name="dispatcher-2",
                                              max_concurrent=second.servers, variant=self.dispatcher_variant)
                self.pools.append(HandlerPool(world, dispatcher, second.servers,
                                              sampler(section.handlers.service, world.rng("service-2")),
                                              on_finished=self._finished))
            world.env.process(start_second())

    def _pool_window(self, fault: str, start: float, duration: float, attribute: str, during: float,
                     after: float, detail: dict[str, Any]) -> None:
        """A fault window that sets `attribute` on every handler pool (the second dispatcher's
        too, if it is running) to `during`, then back to `after`."""
        def set_all(value: float) -> None:
            for pool in self.pools:
                setattr(pool, attribute, value)
        self.world.window(fault, "dispatcher", start, start + duration, detail=detail,
                          on_start=lambda: set_all(during), on_end=lambda: set_all(after))

    # -- the end -------------------------------------------------------------------------------

    def idle(self) -> bool:
        if any(pool.busy for pool in self.pools):
            return False
        if any(not pool.dispatcher.is_idle() for pool in self.pools):
            return False
        return self.store is None or self.store.count("pending") == 0

    def drain(self, limit: float) -> simpy.Event:
        """A process that ends when everything published has been handled (or at `limit`
        virtual seconds after production ended)."""
        return self.world.drain(self.idle, after=self.section.duration, limit=limit, poll=0.01,
                                on_idle=self._note_idle)

    def _note_idle(self, now: float) -> None:
        self.idle_at = now

    def metrics(self) -> dict[str, Any]:
        counts = dict(self.counts)
        if self.store is not None:
            counts["pending_at_end"] = self.store.count("pending")
            counts["dead_lettered"] = self.store.count("failed")
            relay = [r.metrics().as_dict() for r in self.relays]
            counts["relay_retries"] = sum(m["retry_total"] for m in relay)
        counts["unfinished"] = len(self.published_at)
        bp = self.controller.metrics().as_dict()
        return {
            **counts,
            "backpressure": {k: (val.value if hasattr(val, "value") else val) for k, val in bp.items()},
            "final_depth": self.controller.current_depth,
            "time_to_warning": self.first["warning"],
            "time_to_critical": self.first["critical"],
            "drain_time": None if self.idle_at is None else max(self.idle_at - self.section.duration, 0.0),
            "latency": percentiles(self.latencies),
            "producer_mode": self.section.producers.mode,
        }


class _CountingTransport:
    """The relays' target: the bus's `MemoryTransport`, counting the publishes backpressure
    refused (each one a failed attempt the relay will retry)."""

    __slots__ = ("inner", "part")

    def __init__(self, inner: MemoryTransport, part: FloodPart) -> None:
        self.inner, self.part = inner, part

    def publish(self, envelope: Any) -> None:
        try:
            self.inner.publish(envelope)
        except RustokError:
            self.part.counts["rejected"] += 1
            self.part.counts["retried_publishes"] += 1
            raise
        self.part.counts["accepted"] += 1

    def publish_batch(self, envelopes: list[Any]) -> None:
        for envelope in envelopes:
            self.publish(envelope)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        self.inner.acknowledge(event_id)

    def reliability_level(self) -> Any:
        return self.inner.reliability_level()

    def stats(self) -> Any:
        return self.inner.stats()

    def subscribe(self, name: str | None = None) -> Any:
        return self.inner.subscribe(name)


def install_event_flood(world: World, section: EventFlood, profile: Profile) -> FloodPart:
    return FloodPart(world, section, profile)

