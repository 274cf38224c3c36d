"""The event pipeline in virtual time: an `EventBus` with its `BackpressureController`, one or
more `EventDispatcher`s on it, and for each dispatcher a pool of handler servers (simpy
processes) that take `HandlerWork`, hold it for a drawn service time and complete it.

The model decides everything: which event gets a slot (the controller, through `bus.offer` or
the transactional bus), which work runs next and when a retry is due (the dispatcher), when a
slot is released (the dispatcher, when the event's last handler finishes). The driver only adds
time: a server that finds nothing to do waits on a simpy event that the dispatcher's
work-available hook succeeds (no polling), or until the next retry is due.

Handler faults are windows on the pool: `slow` multiplies service times, `failing` makes a
fraction of invocations return ``Err`` (retried by the dispatcher as configured), `crashing`
makes them panic. A second dispatcher on the same bus (`add_dispatcher`) is the spec §3.3
double-release defect: both release each event's one slot.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from rustok_sim.model.events.bus import EventBus, ExternalError
from rustok_sim.model.events.dispatcher import (
    OK,
    DispatcherConfig,
    EventDispatcher,
    HandlerCrashed,
    HandlerFailed,
    WorkState,
)
from rustok_sim.model.resilience.backpressure import BackpressureController
from rustok_sim.scenarios.engine.distributions import Sampler
from rustok_sim.scenarios.engine.world import World

__all__ = ["HandlerPool", "ReadModelHandler", "build_dispatcher", "depth_of"]

_FINISHED = (WorkState.SUCCEEDED, WorkState.FAILED, WorkState.CRASHED)


class ReadModelHandler:
    """The one handler of the flood: matches every event. Its effect is the time it takes (the
    pool's service time); the dispatcher never calls `handle` itself (drivers run handlers)."""

    __slots__ = ("name", "errors")

    def __init__(self, name: str = "read_model") -> None:
        self.name = name
        self.errors = 0

    def handles(self, event: object) -> bool:
        return True

    def handle(self, envelope: object) -> None:
        return None

    def on_error(self, envelope: object, error: BaseException) -> None:
        self.errors += 1


class HandlerPool:
    """`servers` simpy processes draining one dispatcher. `on_finished(envelope, state, now)` is
    called once per event when its handler work ends for good (succeeded, failed after its
    retries, crashed); one handler per event, so that is when the dispatcher releases its slot."""

    __slots__ = ("world", "dispatcher", "servers", "service", "on_finished", "slow_factor",
                 "fail_probability", "crash_probability", "_fault_rng", "_idle", "busy",
                 "completed", "_env")

    def __init__(self, world: World, dispatcher: EventDispatcher, servers: int, service: Sampler,
                 on_finished: Callable[[Any, WorkState, float], None] | None = None) -> None:
        self.world, self.dispatcher, self.servers, self.service = world, dispatcher, servers, service
        self.on_finished = on_finished
        self.slow_factor = 1.0
        self.fail_probability = 0.0
        self.crash_probability = 0.0
        self._fault_rng = world.rng(f"handler_faults/{dispatcher.name}")
        self._env = world.env
        self._idle: list[simpy.Event] = []
        self.busy = 0
        self.completed = 0
        dispatcher.on_work_available(self._wake_one)
        for index in range(servers):
            world.env.process(self._serve(index))

    def _wake_one(self) -> None:
        idle = self._idle
        if idle:
            idle.pop().succeed()

    def kick(self) -> None:
        """Receive what was published and wake a server if work is ready (after a publish)."""
        if self.dispatcher.pump() and self._idle:
            self._idle.pop().succeed()

    def _serve(self, index: int) -> Generator[simpy.Event, Any, None]:
        env, dispatcher = self._env, self.dispatcher
        next_work, complete, next_deadline = dispatcher.next_work, dispatcher.complete, dispatcher.next_deadline
        service, idle, on_finished = self.service, self._idle, self.on_finished
        timeout, event = env.timeout, env.event
        while True:
            work = next_work()
            if work is None:
                wake = event()
                idle.append(wake)
                deadline = next_deadline()
                if deadline is None:
                    yield wake
                else:  # a retry is due later: wake for it unless work arrives first
                    yield wake | timeout(max(deadline - env.now, 0.0))
                    if not wake.triggered:
                        idle.remove(wake)
                continue
            if idle and dispatcher.pump():  # more ready than this server: hand some on
                idle.pop().succeed()
            self.busy += 1
            duration = service()
            if self.slow_factor != 1.0:
                duration *= self.slow_factor
            yield timeout(duration)
            self.busy -= 1
            outcome = self._outcome()
            complete(work, outcome)
            if work.state in _FINISHED:
                self.completed += 1
                if on_finished is not None:
                    on_finished(work.envelope, work.state, env.now)

    def _outcome(self) -> Any:
        if self.crash_probability and self._fault_rng.random() < self.crash_probability:
            return HandlerCrashed(RuntimeError("handler panicked (injected fault)"))
        if self.fail_probability and self._fault_rng.random() < self.fail_probability:
            return HandlerFailed(ExternalError("handler error (injected fault)"))
        return OK


def build_dispatcher(world: World, bus: EventBus, *, name: str, max_concurrent: int, variant: str,
                     retry_count: int = 0, retry_delay_ms: int = 100) -> EventDispatcher:
    config = DispatcherConfig(max_concurrent=max_concurrent, variant=variant,  # type: ignore[arg-type]
                              retry_count=retry_count, retry_delay_ms=retry_delay_ms)
    dispatcher = EventDispatcher(bus, config, clock=world.clock, observer=world.observer, name=name)
    dispatcher.register(ReadModelHandler()).start()
    return dispatcher


def depth_of(controller: BackpressureController) -> Callable[[], float]:
    return lambda: float(controller.current_depth)
