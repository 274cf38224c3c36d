"""EventDispatcher, as in `rustok-core/src/events/handler.rs` (spec §3.3), as a sans-IO state machine.

The Rust dispatcher is a tokio task: it receives from its own bus subscription, picks the handlers
whose predicate matches, runs them (fail-fast: one after another; concurrent: one task per handler,
bounded by a semaphore of ``max(1, max_concurrent)`` permits shared by all events), retries a
failing handler ``retry_count`` times with a fixed ``retry_delay_ms`` sleep, calls ``on_error``
after the last failure, and finally gives back **one** backpressure slot per event.

Here nothing runs and nothing sleeps. The dispatcher hands out `HandlerWork` items (handler,
envelope, attempt) that a *driver* executes, taking whatever (virtual) time it likes, and then
reports with `complete(work, outcome)`: `OK`, `HandlerFailed(error)` (Rust's ``Err``) or
`HandlerCrashed(exc)` (a panic). A retry comes back as a new work item whose ``not_before`` is
``now + retry_delay``; `next_deadline()` tells the driver when the next one is due. The semaphore
is a count of permits plus a FIFO of waiting dispatches (tokio's semaphore is fair), and a
concurrent-mode work item holds its permit from hand-out through every retry until it completes,
as the spawned Rust task holds ``_permit`` across ``handle_with_retry``.

Slot accounting (the point of this module). One slot per event is released:

- no matching handler: at once;
- fail-fast: after the last handler, or after the first one that still fails after its retries
  (the rest are skipped);
- concurrent: when the last of the event's handler tasks finishes, success or error.

A **crash** (panic) is where revisions differ:

- concurrent mode: the permit is always returned (dropped on unwind). From 02-14
  (``revision="2026-02-14"``, the default) a drop guard counts the crashed task as finished, so the
  slot is still released exactly once. At 1df8c5b3e (``"2026-02-13"``) the counter is a plain
  increment after the handler returns, so a crash means the count never reaches the total and the
  event's slot **leaks** (an ``anomaly``).
- fail-fast mode: the spec is silent. From 02-14 the model releases the slot exactly once (the
  per-event task and its drop guard; issue 3 asks for exactly-once release on every path). At
  02-13 the dispatch runs inline in the receive loop with no guard: the panic unwinds before the
  release, the slot leaks (an ``anomaly``) and the whole dispatcher dies with it.
  ``variant="hardened"`` releases the slot on every crash path in both revisions.

Other revision difference: at 02-13 each event is dispatched inline in the receive loop, so the
next event is not received until the current one is done (fail-fast) or until all its handlers
have permits (concurrent); from 02-14 each event gets its own task and all events are taken at once.

Known defects kept (spec §3.3 analysis), reported as anomalies when an observer is given:
events lost to ``Lagged`` never release their slots; two dispatchers on one bus release twice per
event, which drives the controller's depth through 0 (it wraps in the faithful controller).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from rustok_sim.model.core.clock import Clock, ManualClock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.core.transitions import Edge, TransitionTable
from rustok_sim.model.events.bus import ChannelClosed, EventBus, Lagged, Receiver, RustokError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope

COMPONENT = "event_dispatcher"

Revision = Literal["2026-02-13", "2026-02-14"]


# --------------------------------------------------------------------------------------------
# Lifecycle as data
# --------------------------------------------------------------------------------------------


TRANSITIONS = TransitionTable(COMPONENT, (
    Edge("created", "running", "start", "start() on a new dispatcher"),
    Edge("running", "stopped", "stop", "stop() aborts the receive loop"),
    Edge("running", "closed", "channel_closed", "the bus closed and the receiver drained"),
    Edge("running", "crashed", "inline_panic", "02-13 fail-fast: a panic kills the inline receive loop",
         frozenset({"2026-02-13"})),
))
"""The dispatcher's lifecycle (variants here are revisions). Work already handed out completes
in every state."""


class DispatcherStateError(RuntimeError):
    """An operation that the dispatcher's lifecycle does not allow (e.g. `start` twice)."""


class WorkError(RuntimeError):
    """`complete()` was given a work item that is not outstanding (already completed, or not
    from this dispatcher): a driver bug, reported instead of corrupting the slot accounting."""


# --------------------------------------------------------------------------------------------
# Config, handlers, outcomes
# --------------------------------------------------------------------------------------------


class DispatcherConfig(BaseModel):
    """Spec §3.3 `DispatcherConfig` defaults, plus which Rust revision and variant to model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail_fast: bool = Field(False, description="run handlers one by one and stop at the first failure")
    max_concurrent: int = Field(10, ge=0, description="semaphore permits (0 behaves as 1)")
    retry_count: int = Field(0, ge=0, description="extra attempts after the first one")
    retry_delay_ms: int = Field(100, ge=0, description="fixed delay between attempts, milliseconds")
    max_queue_depth: int = Field(10_000, ge=0, description="never read by the Rust code")
    revision: Revision = Field("2026-02-14", description="2026-02-13 (1df8c5b3e) or 2026-02-14 semantics")
    variant: Literal["faithful", "hardened"] = Field(
        "faithful", description="hardened: a crash releases the slot on every path")

    @property
    def permits(self) -> int:
        return max(1, self.max_concurrent)

    @property
    def max_attempts(self) -> int:
        return self.retry_count + 1


class EventHandler(Protocol):
    """What the dispatcher needs from a handler (Rust `EventHandler`).

    `handle(envelope)` is only ever called by drivers. It returns normally on success, raises a
    `RustokError` (e.g. `ExternalError`) for Rust's ``Err``, and any other exception is a crash
    (Rust panic): not retried and no `on_error`.
    """

    name: str

    def handles(self, event: Any) -> bool: ...

    def handle(self, envelope: EventEnvelope) -> None: ...

    def on_error(self, envelope: EventEnvelope, error: BaseException) -> None: ...


class BaseEventHandler:
    """Convenience base: the default `on_error` does nothing beyond what the dispatcher traces
    (Rust's default only logs "Event handler error")."""

    name = "handler"

    def handles(self, event: Any) -> bool:  # pragma: no cover - subclasses override
        return True

    def handle(self, envelope: EventEnvelope) -> None:  # pragma: no cover
        raise NotImplementedError

    def on_error(self, envelope: EventEnvelope, error: BaseException) -> None:
        return None


class HandlerBuilder(BaseEventHandler):
    """A handler from a predicate over the event and a function over the envelope
    (Rust `HandlerBuilder` / `event_handler!`)."""

    __slots__ = ("name", "predicate", "fn", "on_error_fn")

    def __init__(self, name: str, predicate: Callable[[Any], bool],
                 fn: Callable[[EventEnvelope], Any],
                 on_error: Callable[[EventEnvelope, BaseException], None] | None = None) -> None:
        self.name, self.predicate, self.fn, self.on_error_fn = name, predicate, fn, on_error

    def handles(self, event: Any) -> bool:
        return bool(self.predicate(event))

    def handle(self, envelope: EventEnvelope) -> None:
        self.fn(envelope)

    def on_error(self, envelope: EventEnvelope, error: BaseException) -> None:
        if self.on_error_fn is not None:
            self.on_error_fn(envelope, error)

    def __repr__(self) -> str:
        return f"HandlerBuilder({self.name!r})"


class _Ok:
    __slots__ = ()

    def __repr__(self) -> str:
        return "OK"


OK = _Ok()
"""Outcome: the handler returned ``Ok(())``."""


class HandlerFailed:
    """Outcome: the handler returned ``Err(error)``; retried while attempts remain."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | str) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"HandlerFailed({self.error!r})"


class HandlerCrashed:
    """Outcome: the handler panicked. Never retried; `on_error` is not called."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException | str) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"HandlerCrashed({self.exc!r})"


Outcome = _Ok | HandlerFailed | HandlerCrashed


def outcome_of(handler: EventHandler, envelope: EventEnvelope) -> Outcome:
    """Run `handler.handle(envelope)` inline and classify the result (for synchronous drivers)."""
    try:
        handler.handle(envelope)
    except RustokError as error:
        return HandlerFailed(error)
    except Exception as exc:  # noqa: BLE001 - any other exception is a panic by definition
        return HandlerCrashed(exc)
    return OK


# --------------------------------------------------------------------------------------------
# Work items and per-event dispatch state
# --------------------------------------------------------------------------------------------


class _Dispatch:
    """One event's dispatch: the matching handlers and how far it got."""

    __slots__ = ("envelope", "handlers", "next_index", "completed", "released", "dead")

    def __init__(self, envelope: EventEnvelope, handlers: list[EventHandler]) -> None:
        self.envelope = envelope
        self.handlers = handlers
        self.next_index = 0  # next handler to start (fail-fast) or to get a permit (concurrent)
        self.completed = 0  # concurrent: handler tasks counted as finished
        self.released = False
        self.dead = False  # a crash ended it without a release (leak)

    @property
    def fully_started(self) -> bool:
        return self.next_index >= len(self.handlers)


class HandlerWork:
    """One handler invocation for a driver to execute: call ``handler.handle(envelope)``, then
    `EventDispatcher.complete(work, outcome)`. `attempt` counts from 1; `not_before` is the
    earliest time (clock seconds) the driver may run it (a retry's fixed delay)."""

    __slots__ = ("handler", "envelope", "attempt", "not_before", "seq", "_dispatch", "_outstanding")

    def __init__(self, handler: EventHandler, dispatch: _Dispatch, attempt: int, not_before: float,
                 seq: int) -> None:
        self.handler = handler
        self.envelope = dispatch.envelope
        self.attempt = attempt
        self.not_before = not_before
        self.seq = seq
        self._dispatch = dispatch
        self._outstanding = False

    def __lt__(self, other: HandlerWork) -> bool:  # heap order: due time, then creation order
        return (self.not_before, self.seq) < (other.not_before, other.seq)

    def __repr__(self) -> str:
        return (f"HandlerWork({self.handler.name!r}, event={self.envelope.id}, attempt={self.attempt}, "
                f"not_before={self.not_before})")


class DispatcherStats:
    """Counters of what the dispatcher did (no Rust equivalent; for scenarios and checks)."""

    __slots__ = ("events_received", "events_missed", "events_without_handlers", "invocations",
                 "successes", "failures", "retries", "crashes", "skipped_handlers",
                 "slots_released", "slots_leaked")

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return f"DispatcherStats({self.as_dict()!r})"


# --------------------------------------------------------------------------------------------
# The dispatcher
# --------------------------------------------------------------------------------------------


class EventDispatcher:
    """Sans-IO EventDispatcher over one `EventBus` subscription.

    Use: `register(...)` handlers, `start()`, then repeatedly `next_work()` → run → `complete()`.
    `next_deadline()` is the time the next delayed retry becomes due (``None`` if none);
    `is_idle()` says nothing is ready, delayed, waiting or outstanding. `run_until_idle()` is a
    tiny synchronous driver that runs handlers inline and jumps a `ManualClock` over retry delays.

    Observer records (component ``event_dispatcher``): ``transition`` for the lifecycle,
    ``event`` received / handled / failed / crashed, ``decision`` no_handlers / retry / fail_fast_stop
    / permit_wait / lagged, ``sample`` permits_in_use, ``anomaly`` slot_leaked /
    slot_over_release / lagged_slots_leaked.
    """

    __slots__ = ("bus", "config", "clock", "observer", "name", "stats", "handlers", "state",
                 "_receiver", "_ready", "_delayed", "_permits_free", "_permit_waiters",
                 "_outstanding", "_blocking", "_seq", "_delay_s", "_max_attempts", "_fail_fast",
                 "_inline", "_guarded_crash", "_hardened")

    def __init__(self, bus: EventBus, config: DispatcherConfig | None = None, *,
                 clock: Clock | None = None, observer: Observer | None = None,
                 name: str = COMPONENT) -> None:
        self.bus = bus
        self.config = config if config is not None else DispatcherConfig()
        self.clock: Clock = clock if clock is not None else ManualClock()
        self.observer = observer
        self.name = name
        self.stats = DispatcherStats()
        self.handlers: list[EventHandler] = []
        self.state = "created"
        self._receiver: Receiver | None = None
        self._ready: deque[HandlerWork] = deque()
        self._delayed: list[HandlerWork] = []  # heap by (not_before, seq)
        self._permits_free = self.config.permits
        self._permit_waiters: deque[_Dispatch] = deque()
        self._outstanding = 0
        self._blocking: _Dispatch | None = None  # 02-13 inline dispatch holding the receive loop
        self._seq = 0
        cfg = self.config
        self._delay_s = cfg.retry_delay_ms / 1000.0
        self._max_attempts = cfg.max_attempts
        self._fail_fast = cfg.fail_fast
        self._inline = cfg.revision == "2026-02-13"
        self._hardened = cfg.variant == "hardened"
        # A crash still counts as finished (and releases): drop guard (02-14) or hardened.
        self._guarded_crash = self._hardened or not self._inline

    # -- registration and lifecycle ------------------------------------------------------

    def register(self, handler: EventHandler) -> EventDispatcher:
        """Append a handler (registration order is the fail-fast order)."""
        self.handlers.append(handler)
        return self

    register_boxed = register

    def handler_count(self) -> int:
        return len(self.handlers)

    def start(self) -> EventDispatcher:
        """Subscribe to the bus (events sent before this are not seen) and start receiving."""
        if self.state != "created":
            raise DispatcherStateError(f"dispatcher {self.name!r} cannot start: it is {self.state}")
        self._receiver = self.bus.subscribe(f"{self.name}/rx")
        self.bus.register_slot_releaser(self.name)
        self._move("start")
        return self

    def stop(self) -> None:
        """`RunningDispatcher::stop()`: stop receiving and drop the subscription. Work already
        handed out, delayed or waiting for a permit still completes and releases its slot (the
        02-14 per-event tasks outlive the aborted receive loop)."""
        if self.state != "running":
            raise DispatcherStateError(f"dispatcher {self.name!r} cannot stop: it is {self.state}")
        self._end_receiving("stop")

    def _end_receiving(self, trigger: str) -> None:
        if self._receiver is not None:
            self._receiver.close()
        self.bus.unregister_slot_releaser(self.name)
        self._move(trigger)

    def _move(self, trigger: str) -> None:
        source = self.state
        target = TRANSITIONS.target_of(source, trigger)
        if target is None:
            raise DispatcherStateError(f"dispatcher {self.name!r}: no transition from {source} on {trigger}")
        self.state = target
        if self.observer is not None:
            self.observer.transition(COMPONENT, self.name, source, target, trigger)

    # -- the driver protocol -------------------------------------------------------------

    def next_work(self) -> HandlerWork | None:
        """Receive what is waiting on the bus, promote due retries, and hand out the next ready
        handler invocation (``None`` if nothing can run now)."""
        self._pump()
        if not self._ready:
            return None
        work = self._ready.popleft()
        work._outstanding = True
        self._outstanding += 1
        self.stats.invocations += 1
        return work

    poll = next_work

    def complete(self, work: HandlerWork, outcome: Outcome) -> None:
        """Report how `work` ended. `outcome` is `OK`, `HandlerFailed(err)` or `HandlerCrashed(exc)`."""
        if not work._outstanding:
            raise WorkError(f"{work!r} is not outstanding: completed twice or never handed out")
        work._outstanding = False
        self._outstanding -= 1
        dispatch = work._dispatch
        env = work.envelope
        obs = self.observer
        if outcome is OK:
            self.stats.successes += 1
            if obs is not None:
                obs.event(COMPONENT, self.name, "handled", str(env.id), env.event_type,
                          str(env.tenant_id), {"handler": work.handler.name, "attempt": work.attempt})
            self._handler_finished(work, ok=True)
        elif isinstance(outcome, HandlerFailed):
            if work.attempt < self._max_attempts:
                # Fixed delay, no backoff; the concurrent task keeps its permit while it sleeps.
                self.stats.retries += 1
                retry = self._new_work(work.handler, dispatch, work.attempt + 1,
                                       self.clock() + self._delay_s)
                heapq.heappush(self._delayed, retry)
                if obs is not None:
                    obs.decision(COMPONENT, self.name, "retry", "handler_error",
                                 {"event_id": str(env.id), "handler": work.handler.name,
                                  "attempt": work.attempt, "max_attempts": self._max_attempts,
                                  "not_before": retry.not_before, "error": str(outcome.error)})
                return
            self.stats.failures += 1
            if obs is not None:
                obs.event(COMPONENT, self.name, "failed", str(env.id), env.event_type,
                          str(env.tenant_id), {"handler": work.handler.name, "attempt": work.attempt,
                                               "error": str(outcome.error)})
            work.handler.on_error(env, outcome.error if isinstance(outcome.error, BaseException)
                                  else RustokError(str(outcome.error)))
            self._handler_finished(work, ok=False)
        elif isinstance(outcome, HandlerCrashed):
            self.stats.crashes += 1
            if obs is not None:
                obs.event(COMPONENT, self.name, "crashed", str(env.id), env.event_type,
                          str(env.tenant_id), {"handler": work.handler.name, "attempt": work.attempt,
                                               "error": str(outcome.exc)})
            self._handler_crashed(work)
        else:
            raise TypeError(f"outcome must be OK, HandlerFailed or HandlerCrashed, got {outcome!r}")

    def next_deadline(self) -> float | None:
        """When the earliest delayed retry becomes runnable (clock seconds), or ``None``."""
        return self._delayed[0].not_before if self._delayed else None

    def is_idle(self) -> bool:
        """Nothing ready, delayed, waiting for a permit or outstanding, and nothing unread on
        the bus (as far as this dispatcher still receives)."""
        self._pump()
        return not (self._ready or self._delayed or self._permit_waiters or self._outstanding)

    @property
    def outstanding(self) -> int:
        return self._outstanding

    @property
    def permits_in_use(self) -> int:
        return self.config.permits - self._permits_free

    def run_until_idle(self, *, max_steps: int = 1_000_000) -> int:
        """Tiny synchronous driver: run handlers inline (zero time each), jump the clock to each
        retry deadline (the clock must be a `ManualClock` if retries are delayed) and stop when
        idle. Returns the number of handler invocations executed."""
        executed = 0
        while executed < max_steps:
            work = self.next_work()
            if work is not None:
                self.complete(work, outcome_of(work.handler, work.envelope))
                executed += 1
                continue
            deadline = self.next_deadline()
            if deadline is None:
                return executed
            set_time = getattr(self.clock, "set", None)
            if set_time is None:
                raise DispatcherStateError(
                    f"a retry is due at t={deadline} but the clock {self.clock!r} cannot be moved; "
                    f"drive this dispatcher with a ManualClock or your own driver")
            set_time(max(deadline, self.clock()))
        raise DispatcherStateError(f"run_until_idle did not settle within {max_steps} invocations")

    # -- internals -----------------------------------------------------------------------

    def _new_work(self, handler: EventHandler, dispatch: _Dispatch, attempt: int,
                  not_before: float) -> HandlerWork:
        self._seq += 1
        return HandlerWork(handler, dispatch, attempt, not_before, self._seq)

    def _pump(self) -> None:
        if self._delayed:
            now = self.clock()
            while self._delayed and self._delayed[0].not_before <= now:
                self._ready.append(heapq.heappop(self._delayed))
        if self.state != "running":
            return
        receiver = self._receiver
        assert receiver is not None
        while self._blocking is None:
            try:
                item = receiver.try_recv()
            except ChannelClosed:
                self._end_receiving("channel_closed")
                return
            if item is None:
                return
            if isinstance(item, Lagged):
                self._on_lagged(item.missed)
                continue
            self._dispatch(item)
            if self.state != "running":  # the inline dispatch crashed the loop
                return

    def _on_lagged(self, missed: int) -> None:
        # Rust logs a warn and continues; the skipped events were accepted by the bus (each took
        # a slot) and will never be dispatched, so their slots are never given back.
        self.stats.events_missed += missed
        if self.observer is not None:
            self.observer.decision(COMPONENT, self.name, "lagged", "receiver_lagged", {"missed": missed})
            if self.bus.backpressure is not None:
                self.observer.anomaly(
                    COMPONENT, self.name, "lagged_slots_leaked",
                    f"{missed} events were skipped (Lagged) and their backpressure slots will never be released",
                    {"missed": missed})

    def _dispatch(self, envelope: EventEnvelope) -> None:
        self.stats.events_received += 1
        matching = [h for h in self.handlers if h.handles(envelope.event)]
        obs = self.observer
        if obs is not None:
            obs.event(COMPONENT, self.name, "dispatching", str(envelope.id), envelope.event_type,
                      str(envelope.tenant_id), {"handlers": [h.name for h in matching]})
        dispatch = _Dispatch(envelope, matching)
        if not matching:
            self.stats.events_without_handlers += 1
            if obs is not None:
                obs.decision(COMPONENT, self.name, "no_handlers", None, {"event_id": str(envelope.id)})
            self._release_slot(dispatch)
            return
        if self._fail_fast:
            self._start_next_sequential(dispatch)
            if self._inline:
                self._blocking = dispatch
        else:
            self._request_permits(dispatch)
            if self._inline and not dispatch.fully_started:
                self._blocking = dispatch

    def _start_next_sequential(self, dispatch: _Dispatch) -> None:
        handler = dispatch.handlers[dispatch.next_index]
        dispatch.next_index += 1
        self._ready.append(self._new_work(handler, dispatch, 1, self.clock()))

    def _request_permits(self, dispatch: _Dispatch) -> None:
        """The dispatch task awaits one permit per handler, in registration order; tokio's
        semaphore is FIFO, so a dispatch behind others in the queue waits its turn."""
        while not dispatch.fully_started:
            if self._permits_free > 0 and not self._permit_waiters:
                self._permits_free -= 1
                self._spawn_next(dispatch)
            else:
                self._permit_waiters.append(dispatch)
                if self.observer is not None:
                    self.observer.decision(COMPONENT, self.name, "permit_wait", "semaphore_exhausted",
                                           {"event_id": str(dispatch.envelope.id),
                                            "handler": dispatch.handlers[dispatch.next_index].name})
                return

    def _spawn_next(self, dispatch: _Dispatch) -> None:
        handler = dispatch.handlers[dispatch.next_index]
        dispatch.next_index += 1
        self._ready.append(self._new_work(handler, dispatch, 1, self.clock()))
        if self.observer is not None:
            self.observer.sample(COMPONENT, self.name, "permits_in_use", self.permits_in_use)

    def _return_permit(self) -> None:
        # A released permit goes straight to the head waiter (fair semaphore); the woken
        # dispatch spawns its handler and queues again for its next one.
        self._permits_free += 1
        while self._permit_waiters and self._permits_free > 0:
            dispatch = self._permit_waiters.popleft()
            self._permits_free -= 1
            self._spawn_next(dispatch)
            if not dispatch.fully_started:
                self._permit_waiters.append(dispatch)
            elif dispatch is self._blocking:
                self._blocking = None  # 02-13: the receive loop resumes once all are spawned
        if self.observer is not None:
            self.observer.sample(COMPONENT, self.name, "permits_in_use", self.permits_in_use)

    def _handler_finished(self, work: HandlerWork, ok: bool) -> None:
        dispatch = work._dispatch
        if self._fail_fast:
            if ok and not dispatch.fully_started:
                self._start_next_sequential(dispatch)
                return
            if not ok and not dispatch.fully_started:
                skipped = len(dispatch.handlers) - dispatch.next_index
                self.stats.skipped_handlers += skipped
                if self.observer is not None:
                    self.observer.decision(COMPONENT, self.name, "fail_fast_stop", "handler_failed",
                                           {"event_id": str(dispatch.envelope.id),
                                            "failed_handler": work.handler.name, "skipped": skipped})
                dispatch.next_index = len(dispatch.handlers)
            self._release_slot(dispatch)
            self._unblock(dispatch)
            return
        self._return_permit()
        dispatch.completed += 1
        if dispatch.completed == len(dispatch.handlers):
            self._release_slot(dispatch)

    def _handler_crashed(self, work: HandlerWork) -> None:
        dispatch = work._dispatch
        if self._fail_fast:
            skipped = len(dispatch.handlers) - dispatch.next_index
            self.stats.skipped_handlers += skipped
            dispatch.next_index = len(dispatch.handlers)
            if self._guarded_crash:
                self._release_slot(dispatch)
                self._unblock(dispatch)
                return
            self._leak_slot(dispatch, "the panic unwound the fail-fast dispatch before its release")
            if self._inline and self.state == "running":
                # 02-13: the dispatch ran inside the receive loop, so the panic ended the loop.
                self._blocking = None
                self._end_receiving("inline_panic")
            else:
                self._unblock(dispatch)
            return
        self._return_permit()  # the permit is dropped while unwinding in every revision
        if self._guarded_crash:
            dispatch.completed += 1
            if dispatch.completed == len(dispatch.handlers):
                self._release_slot(dispatch)
        elif not dispatch.dead:
            # 02-13: the completion counter is incremented after the handler returns; a panic
            # skips it, so this event's count can never reach its total.
            self._leak_slot(dispatch, "the panicking handler task never incremented the completion counter")

    def _unblock(self, dispatch: _Dispatch) -> None:
        if self._blocking is dispatch:
            self._blocking = None

    def _release_slot(self, dispatch: _Dispatch) -> None:
        if dispatch.released:  # one release per dispatch is the invariant this module exists for
            raise AssertionError(f"slot of event {dispatch.envelope.id} released twice by {self.name}")
        dispatch.released = True
        bp = self.bus.backpressure
        if bp is None:
            return
        self.stats.slots_released += 1
        if bp.current_depth == 0 and self.observer is not None:
            self.observer.anomaly(
                COMPONENT, self.name, "slot_over_release",
                f"releasing the slot of event {dispatch.envelope.id} with controller depth already 0: "
                f"another subscriber released it (more than one dispatcher on this bus?)",
                {"event_id": str(dispatch.envelope.id)})
        bp.release()

    def _leak_slot(self, dispatch: _Dispatch, why: str) -> None:
        dispatch.dead = True
        if self.bus.backpressure is None:
            return
        self.stats.slots_leaked += 1
        if self.observer is not None:
            self.observer.anomaly(COMPONENT, self.name, "slot_leaked",
                                  f"backpressure slot of event {dispatch.envelope.id} is never released: {why}",
                                  {"event_id": str(dispatch.envelope.id)})

    def __repr__(self) -> str:
        return (f"EventDispatcher({self.name!r}, state={self.state}, handlers={len(self.handlers)}, "
                f"ready={len(self._ready)}, delayed={len(self._delayed)}, "
                f"waiting={len(self._permit_waiters)}, outstanding={self._outstanding})")
