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

Which semantics: one field, ``config.variant``: ``"2026-02-14"`` (the default and the faithful
profile), ``"2026-02-13"`` (1df8c5b3e) or ``"hardened"`` (02-14 plus: a crash releases the slot
on every path). `PROFILE_VARIANTS` maps the two profiles to these.

A **crash** (panic) is where variants differ:

- concurrent mode: the permit is always returned (dropped on unwind). From 02-14
  (``variant="2026-02-14"``, the default) a drop guard counts the crashed task as finished, so the
  slot is still released exactly once. At 1df8c5b3e (``"2026-02-13"``) the counter is a plain
  increment after the handler returns, so a crash means the count never reaches the total and the
  event's slot **leaks** (an ``anomaly``).
- fail-fast mode: the spec is silent. From 02-14 the model releases the slot exactly once (the
  per-event task and its drop guard; issue 3 asks for exactly-once release on every path). At
  02-13 the dispatch runs inline in the receive loop with no guard: the panic unwinds before the
  release, the slot leaks (an ``anomaly``) and the whole dispatcher dies with it.
  ``variant="hardened"`` releases the slot on every crash path (02-14 receive semantics).

Other variant difference: at 02-13 each event is dispatched inline in the receive loop, so the
next event is not received until the current one is done (fail-fast) or until all its handlers
have permits (concurrent); from 02-14 each event gets its own task and all events are taken at once.

Tables decide. Three `TransitionTable`s, each fired through `Machine.fire` for every change,
observed or not: `TRANSITIONS` (component ``event_dispatcher``: the lifecycle), `DISPATCH`
(``event_dispatch``: one event's backpressure slot, held until released or leaked) and `WORK`
(``handler_work``: one handler's invocation across its retries: ready, running with the driver,
waiting out a retry delay, then succeeded / failed / crashed; in concurrent mode the semaphore
permit is held exactly while the work is in ready, running or retry_wait).

State outside the tables, and why: the semaphore's free-permit count and its FIFO of events
waiting for a permit (a counter and a queue position, not a state of one machine); each event's
count of finished handler tasks and index of the next handler to start (counters that decide
*when* `all_handlers_done` fires); the ready queue and the retry heap (scheduling order, keyed by
due time); whether the 02-13 inline receive loop is blocked on an event (a reference to that
event, set and cleared by the dispatch steps); the stats counters. None of these is a state a
trace reader would join to a table.

Driver protocol: `on_work_available(callback)` registers a hook called (no arguments) whenever
work becomes ready that was not before, so a simpy driver can wait on an event instead of
polling; `pump()` receives what the bus holds and promotes due retries; `next_work()` pumps and
hands out one item; `is_idle()` and the other readers have no side effects. Driver loops (the
old ``run_until_idle``) live in tests (`tests/events/drivers.py`) and scenarios.

Cost (what the hot path avoids, and why). The observer is asked once per kind at construction;
a kind nobody keeps is ``None`` and costs one comparison. Instance names (``<name>/<event id>``
for `DISPATCH`, ``.../<handler>`` for `WORK`) are built on the first observed move and kept, from
the envelope's memoised `id_text`, so an unobserved dispatcher never formats a UUID. `next_work`
and `pump` compare the receiver's position with the ring's before calling into the bus, and the
outcome of `complete` is tested by identity for `OK` first. benchmarks/dispatcher.py measures the
dispatcher in a simpy M/M/1/K loop against the idiomatic simpy model.

Known defects kept (spec §3.3 analysis), reported as anomalies when an observer is given:
events lost to ``Lagged`` never release their slots; two dispatchers on one bus release twice per
event, which drives the controller's depth through 0 (it wraps in the faithful controller).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.trace import Observer, require_observer
from rustok_sim.model.core.transitions import Edge, TransitionTable
from rustok_sim.model.events.bus import EventBus, Lagged, Receiver, RustokError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rustok_sim.model.events.envelope import EventEnvelope

COMPONENT = "event_dispatcher"
DISPATCH_COMPONENT = "event_dispatch"
WORK_COMPONENT = "handler_work"

Variant = Literal["2026-02-14", "2026-02-13", "hardened"]
PROFILE_VARIANTS: dict[str, Variant] = {"faithful": "2026-02-14", "hardened": "hardened"}
"""The variant each profile runs: faithful is the Rust code as of 02-14 (the default)."""


# --------------------------------------------------------------------------------------------
# The machines, as data
# --------------------------------------------------------------------------------------------


class DispatcherState(str, Enum):
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    CLOSED = "closed"
    CRASHED = "crashed"


TRANSITIONS = TransitionTable(COMPONENT, (
    Edge("created", "running", "start", "start() on a new dispatcher"),
    Edge("running", "stopped", "stop", "stop() aborts the receive loop"),
    Edge("running", "closed", "channel_closed", "the bus closed and the receiver drained"),
    Edge("running", "crashed", "inline_panic", "02-13 fail-fast: a panic kills the inline receive loop",
         frozenset({"2026-02-13"})),
), states=DispatcherState)
"""The dispatcher's lifecycle. Work already handed out completes in every state."""


class SlotState(str, Enum):
    HELD = "held"
    RELEASED = "released"
    LEAKED = "leaked"


DISPATCH = TransitionTable(DISPATCH_COMPONENT, (
    Edge("held", "released", "no_matching_handler", "no registered handler handles the event"),
    Edge("held", "released", "all_handlers_done", "every matching handler finished (ok or error)"),
    Edge("held", "released", "fail_fast_stopped", "fail-fast: a handler failed after its retries; the rest are skipped"),
    Edge("held", "released", "crash_guarded", "a crash, counted as finished by the 02-14 drop guard or hardened",
         frozenset({"2026-02-14", "hardened"})),
    Edge("held", "leaked", "crash_unguarded", "02-13: a crash skips the release (no drop guard)",
         frozenset({"2026-02-13"})),
), states=SlotState)
"""One event's backpressure slot: taken by the bus on publish, given back exactly once here."""


class WorkState(str, Enum):
    READY = "ready"
    RUNNING = "running"
    RETRY_WAIT = "retry_wait"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CRASHED = "crashed"


WORK = TransitionTable(WORK_COMPONENT, (
    Edge("ready", "running", "handed_out", "next_work() gave it to the driver"),
    Edge("running", "succeeded", "handler_ok", "the handler returned Ok"),
    Edge("running", "retry_wait", "handler_err_attempts_left", "Err with attempts left: sleep retry_delay_ms"),
    Edge("retry_wait", "ready", "retry_due", "the fixed retry delay has passed"),
    Edge("running", "failed", "handler_err_exhausted", "Err on the last attempt: on_error, then Err"),
    Edge("running", "crashed", "handler_panicked", "a panic: never retried, no on_error"),
), states=WorkState)
"""One handler invocation with its retries (a Rust `handle_with_retry` call)."""


class DispatcherStateError(RuntimeError):
    """An operation that the dispatcher's lifecycle does not allow (e.g. `start` twice)."""


class WorkError(RuntimeError):
    """`complete()` was given a work item that is not outstanding (already completed, or not
    from this dispatcher): a driver bug, reported instead of corrupting the slot accounting."""


# --------------------------------------------------------------------------------------------
# Config, handlers, outcomes
# --------------------------------------------------------------------------------------------


class DispatcherConfig(BaseModel):
    """Spec §3.3 `DispatcherConfig` defaults, plus which semantics to model (`variant`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    fail_fast: bool = Field(False, description="run handlers one by one and stop at the first failure")
    max_concurrent: int = Field(10, ge=0, description="semaphore permits (0 behaves as 1)")
    retry_count: int = Field(0, ge=0, description="extra attempts after the first one")
    retry_delay_ms: int = Field(100, ge=0, description="fixed delay between attempts, milliseconds")
    max_queue_depth: int = Field(10_000, ge=0, description="never read by the Rust code")
    variant: Variant = Field(
        "2026-02-14", description="2026-02-14 (faithful), 2026-02-13 (1df8c5b3e) or hardened "
                                  "(02-14, and a crash releases the slot on every path)")

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
    """One event's dispatch: the matching handlers, how far it got and its slot (`DISPATCH`).

    `instance` (``<dispatcher>/<event id>``, the name of its `DISPATCH` records) is built on
    first use, so an unobserved dispatch never formats the event id."""

    __slots__ = ("envelope", "handlers", "total", "next_index", "completed", "slot", "owner", "_instance")

    def __init__(self, envelope: EventEnvelope, handlers: list[EventHandler], owner: str) -> None:
        self.envelope = envelope
        self.handlers = handlers
        self.total = len(handlers)
        self.next_index = 0  # next handler to start (fail-fast) or to get a permit (concurrent)
        self.completed = 0  # concurrent: handler tasks counted as finished
        self.slot = SlotState.HELD
        self.owner = owner
        self._instance: str | None = None

    @property
    def instance(self) -> str:
        name = self._instance
        if name is None:
            name = self._instance = f"{self.owner}/{self.envelope.id_text}"
        return name

    @property
    def fully_started(self) -> bool:
        return self.next_index >= self.total


class HandlerWork:
    """One handler invocation for a driver to execute: call ``handler.handle(envelope)``, then
    `EventDispatcher.complete(work, outcome)`. `attempt` counts from 1; `not_before` is the
    earliest time (clock seconds) the driver may run it (a retry's fixed delay). `state` is its
    `WORK` state; a retry is the same item coming back with the next attempt."""

    __slots__ = ("handler", "envelope", "attempt", "not_before", "seq", "state", "_instance", "_dispatch")

    def __init__(self, handler: EventHandler, dispatch: _Dispatch, not_before: float, seq: int) -> None:
        self.handler = handler
        self.envelope = dispatch.envelope
        self.attempt = 1
        self.not_before = not_before
        self.seq = seq
        self.state = WorkState.READY
        self._instance: str | None = None
        self._dispatch = dispatch

    @property
    def instance(self) -> str:
        """``<dispatcher>/<event id>/<handler>``: the name of its `WORK` records (built on
        first use, so unobserved work never formats it)."""
        name = self._instance
        if name is None:
            name = self._instance = f"{self._dispatch.instance}/{self.handler.name}"
        return name

    def __lt__(self, other: HandlerWork) -> bool:  # heap order: due time, then creation order
        return (self.not_before, self.seq) < (other.not_before, other.seq)

    def __repr__(self) -> str:
        return (f"HandlerWork({self.handler.name!r}, event={self.envelope.id}, attempt={self.attempt}, "
                f"state={self.state.value}, not_before={self.not_before})")


@dataclass(frozen=True, slots=True)
class DispatcherStats:
    """What the dispatcher did, as of one `stats()` call (no Rust equivalent; for scenarios and
    checks). `slots_released + slots_leaked` is the number of events whose dispatch ended."""

    events_received: int = 0
    events_missed: int = 0
    events_without_handlers: int = 0
    invocations: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    crashes: int = 0
    skipped_handlers: int = 0
    slots_released: int = 0
    slots_leaked: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# The dispatcher
# --------------------------------------------------------------------------------------------


class EventDispatcher:
    """Sans-IO EventDispatcher over one `EventBus` subscription.

    Use: `register(...)` handlers, `start()`, then repeatedly `next_work()` -> run -> `complete()`.
    `on_work_available(callback)` tells a driver when to look again; `next_deadline()` is the
    time the next delayed retry becomes due (``None`` if none); `is_idle()` says nothing is
    ready, delayed, waiting, outstanding or unread on the bus. `clock` is required.

    Observer records: ``transition`` from the three tables (component ``event_dispatcher``,
    ``event_dispatch``, ``handler_work``), ``event`` dispatching / handled / failed / crashed,
    ``decision`` no_handlers / retry / fail_fast_stop / permit_wait / lagged, ``sample``
    permits_in_use, ``anomaly`` slot_leaked / slot_over_release / lagged_slots_leaked.
    """

    __slots__ = ("bus", "config", "clock", "name", "handlers", "_state", "_machine", "_slot_machine",
                 "_work_machine", "_tracer", "_events", "_decisions", "_samples", "_anomalies",
                 "_receiver", "_ready", "_delayed", "_permits_free", "_permit_waiters",
                 "_outstanding", "_blocking", "_seq", "_delay_s", "_max_attempts", "_fail_fast",
                 "_inline", "_guarded_crash", "_on_work", "_counts")

    def __init__(self, bus: EventBus, config: DispatcherConfig | None = None, *,
                 clock: Clock, observer: Observer | None = None,
                 name: str = COMPONENT) -> None:
        if not isinstance(bus, EventBus):
            raise TypeError(f"EventDispatcher needs an EventBus as its first argument, got {given(bus, EventBus)}")
        if config is not None and not isinstance(config, DispatcherConfig):
            raise TypeError(f"EventDispatcher config must be a DispatcherConfig (e.g. DispatcherConfig("
                            f"fail_fast=True)), got {given(config, DispatcherConfig)}")
        self.bus = bus
        self.config = config if config is not None else DispatcherConfig()
        self.clock = require_clock(clock, "EventDispatcher")
        self.name = require_name(name, "EventDispatcher")
        observer = require_observer(observer, f"EventDispatcher {name!r}")
        self.handlers: list[EventHandler] = []
        cfg = self.config
        self._machine = TRANSITIONS.bind(cfg.variant)
        self._slot_machine = DISPATCH.bind(cfg.variant)
        self._work_machine = WORK.bind(cfg.variant)
        self._state = DispatcherState.CREATED
        # Ask the observer once per kind; hold None for the kinds nobody keeps.
        wants = observer.wants if observer is not None else (lambda kind: False)
        self._tracer = observer if wants("transition") else None
        self._events = observer if wants("event") else None
        self._decisions = observer if wants("decision") else None
        self._samples = observer if wants("sample") else None
        self._anomalies = observer if wants("anomaly") else None
        self._receiver: Receiver | None = None
        self._ready: deque[HandlerWork] = deque()
        self._delayed: list[HandlerWork] = []  # heap by (not_before, seq)
        self._permits_free = cfg.permits
        self._permit_waiters: deque[_Dispatch] = deque()
        self._outstanding = 0
        self._blocking: _Dispatch | None = None  # 02-13 inline dispatch holding the receive loop
        self._seq = 0
        self._delay_s = cfg.retry_delay_ms / 1000.0
        self._max_attempts = cfg.max_attempts
        self._fail_fast = cfg.fail_fast
        self._inline = cfg.variant == "2026-02-13"
        # A crash still counts as finished (and releases): drop guard (02-14) or hardened.
        self._guarded_crash = not self._inline
        self._on_work: tuple[Callable[[], None], ...] = ()
        self._counts = dict.fromkeys(DispatcherStats.__dataclass_fields__, 0)

    # -- registration and lifecycle ------------------------------------------------------

    @property
    def state(self) -> str:
        """The lifecycle state: created, running, stopped, closed or crashed."""
        return self._state.value

    def register(self, handler: EventHandler) -> Self:
        """Append a handler (registration order is the fail-fast order)."""
        for attribute in ("name", "handles", "handle", "on_error"):
            if not hasattr(handler, attribute):
                raise TypeError(f"EventDispatcher.register: a handler needs name, handles, handle and "
                                f"on_error (see EventHandler); {type(handler).__name__} has no {attribute!r}")
        self.handlers.append(handler)
        return self

    register_boxed = register

    def handler_count(self) -> int:
        return len(self.handlers)

    def start(self) -> Self:
        """Subscribe to the bus (events sent before this are not seen) and start receiving."""
        if self._state is not DispatcherState.CREATED:
            raise DispatcherStateError(f"dispatcher {self.name!r} cannot start: it is {self.state}")
        self._receiver = self.bus.subscribe(f"{self.name}/rx")
        self.bus.register_slot_releaser(self.name)
        self._state = self._machine.fire(self._state, "start", self._tracer, self.name)
        return self

    def stop(self) -> None:
        """`RunningDispatcher::stop()`: stop receiving and drop the subscription. Work already
        handed out, delayed or waiting for a permit still completes and releases its slot (the
        02-14 per-event tasks outlive the aborted receive loop)."""
        if self._state is not DispatcherState.RUNNING:
            raise DispatcherStateError(f"dispatcher {self.name!r} cannot stop: it is {self.state}")
        self._end_receiving("stop")

    def _end_receiving(self, trigger: str) -> None:
        if self._receiver is not None:
            self._receiver.close()
        self.bus.unregister_slot_releaser(self.name)
        self._state = self._machine.fire(self._state, trigger, self._tracer, self.name)

    # -- the driver protocol -------------------------------------------------------------

    def on_work_available(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback()` whenever work becomes ready while none was (an event received with
        a matching handler, a retry promoted, a permit handed on). Events arrive through the bus,
        so a driver also calls `pump()` (or `next_work()`) after it publishes; the callback then
        says there is something to take. Returns a function that unregisters it."""
        if not callable(callback):
            raise TypeError(f"on_work_available needs a callable, got {type(callback).__name__}")
        self._on_work += (callback,)
        return lambda: self._remove_work_hook(callback)

    def _remove_work_hook(self, callback: Callable[[], None]) -> None:
        hooks = list(self._on_work)
        hooks.remove(callback)
        self._on_work = tuple(hooks)

    def pump(self) -> int:
        """Receive what is waiting on the bus and promote due retries; returns how many items
        are ready. `next_work()` does this itself."""
        rx = self._receiver
        if self._delayed or (rx is not None and (rx._next != self.bus._tail or self.bus._closed)):
            self._pump()
        return len(self._ready)

    def next_work(self) -> HandlerWork | None:
        """Receive what is waiting on the bus, promote due retries, and hand out the next ready
        handler invocation (``None`` if nothing can run now)."""
        # The same as calling _pump() first: it only acts on due retries or unread input (the
        # receiver's position against the ring's, read directly: no call for the common case).
        rx = self._receiver
        if self._delayed or (rx is not None and (rx._next != self.bus._tail or self.bus._closed)):
            self._pump()
        ready = self._ready
        if not ready:
            return None
        work = ready.popleft()
        tracer = self._tracer
        work.state = self._work_machine.fire(work.state, "handed_out", tracer,
                                             "" if tracer is None else work.instance)
        self._outstanding += 1
        self._counts["invocations"] += 1
        return work

    poll = next_work

    def complete(self, work: HandlerWork, outcome: Outcome) -> None:
        """Report how `work` ended. `outcome` is `OK`, `HandlerFailed(err)` or `HandlerCrashed(exc)`."""
        if not isinstance(work, HandlerWork) or work.state is not WorkState.RUNNING:
            raise WorkError(f"{work!r} is not outstanding: completed twice or never handed out")
        env = work.envelope
        events = self._events
        counts = self._counts
        fire = self._work_machine.fire
        tracer = self._tracer
        instance = "" if tracer is None else work.instance
        if outcome is OK:
            work.state = fire(work.state, "handler_ok", tracer, instance)
            self._outstanding -= 1
            counts["successes"] += 1
            if events is not None:
                events.event(COMPONENT, self.name, "handled", env.id_text, env.event_type,
                             str(env.tenant_id), {"handler": work.handler.name, "attempt": work.attempt})
            self._handler_finished(work, True)
        elif isinstance(outcome, HandlerFailed):
            if work.attempt < self._max_attempts:
                # Fixed delay, no backoff; the concurrent task keeps its permit while it sleeps.
                work.state = fire(work.state, "handler_err_attempts_left", tracer, instance,
                                  {"attempt": work.attempt} if tracer is not None else None)
                self._outstanding -= 1
                counts["retries"] += 1
                work.attempt += 1
                work.not_before = self.clock() + self._delay_s
                self._seq += 1
                work.seq = self._seq
                heapq.heappush(self._delayed, work)
                if self._decisions is not None:
                    self._decisions.decision(COMPONENT, self.name, "retry", "handler_error",
                                             {"event_id": env.id_text, "handler": work.handler.name,
                                              "attempt": work.attempt - 1, "max_attempts": self._max_attempts,
                                              "not_before": work.not_before, "error": str(outcome.error)})
                return
            work.state = fire(work.state, "handler_err_exhausted", tracer, instance)
            self._outstanding -= 1
            counts["failures"] += 1
            if events is not None:
                events.event(COMPONENT, self.name, "failed", env.id_text, env.event_type,
                             str(env.tenant_id), {"handler": work.handler.name, "attempt": work.attempt,
                                                  "error": str(outcome.error)})
            work.handler.on_error(env, outcome.error if isinstance(outcome.error, BaseException)
                                  else RustokError(str(outcome.error)))
            self._handler_finished(work, False)
        elif isinstance(outcome, HandlerCrashed):
            work.state = fire(work.state, "handler_panicked", tracer, instance)
            self._outstanding -= 1
            counts["crashes"] += 1
            if events is not None:
                events.event(COMPONENT, self.name, "crashed", env.id_text, env.event_type,
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
        the bus (as far as this dispatcher still receives). Reads only: receives nothing."""
        if self._ready or self._delayed or self._permit_waiters or self._outstanding:
            return False
        receiver = self._receiver
        receiving = self._state is DispatcherState.RUNNING and receiver is not None and self._blocking is None
        return not (receiving and receiver is not None and receiver.pending() > 0)

    def stats(self) -> DispatcherStats:
        """A snapshot of the counters."""
        return DispatcherStats(**self._counts)

    @property
    def outstanding(self) -> int:
        return self._outstanding

    @property
    def permits_in_use(self) -> int:
        return self.config.permits - self._permits_free

    # -- internals -----------------------------------------------------------------------

    def _make_ready(self, work: HandlerWork) -> None:
        ready = self._ready
        ready.append(work)
        if len(ready) == 1:
            for callback in self._on_work:
                callback()

    def _pump(self) -> None:
        delayed = self._delayed
        if delayed:
            now = self.clock()
            while delayed and delayed[0].not_before <= now:
                work = heapq.heappop(delayed)
                tracer = self._tracer
                work.state = self._work_machine.fire(work.state, "retry_due", tracer,
                                                     "" if tracer is None else work.instance)
                self._make_ready(work)
        if self._state is not DispatcherState.RUNNING:
            return
        receiver = self._receiver
        assert receiver is not None
        bus = self.bus
        while self._blocking is None:
            # Read the ring position directly: with something unread, try_recv() returns an
            # envelope or Lagged; with nothing unread it would return None, or raise
            # ChannelClosed once the bus is closed, so neither needs a call here.
            if receiver._next == bus._tail:
                if bus._closed:
                    self._end_receiving("channel_closed")
                return
            item = receiver.try_recv()
            if item.__class__ is Lagged:
                self._on_lagged(item.missed)
                continue
            self._dispatch(item)  # type: ignore[arg-type]
            if self._state is not DispatcherState.RUNNING:  # the inline dispatch crashed the loop
                return

    def _on_lagged(self, missed: int) -> None:
        # Rust logs a warn and continues; the skipped events were accepted by the bus (each took
        # a slot) and will never be dispatched, so their slots are never given back.
        self._counts["events_missed"] += missed
        if self._decisions is not None:
            self._decisions.decision(COMPONENT, self.name, "lagged", "receiver_lagged", {"missed": missed})
        if self._anomalies is not None and self.bus.backpressure is not None:
            self._anomalies.anomaly(
                COMPONENT, self.name, "lagged_slots_leaked",
                f"{missed} events were skipped (Lagged) and their backpressure slots will never be released",
                {"missed": missed})

    def _dispatch(self, envelope: EventEnvelope) -> None:
        counts = self._counts
        counts["events_received"] += 1
        event = envelope.event
        matching = []  # a loop, not a comprehension: no function frame per event (CPython 3.11)
        for handler in self.handlers:
            if handler.handles(event):
                matching.append(handler)
        if self._events is not None:
            self._events.event(COMPONENT, self.name, "dispatching", envelope.id_text, envelope.event_type,
                               str(envelope.tenant_id), {"handlers": [h.name for h in matching]})
        dispatch = _Dispatch(envelope, matching, self.name)
        if not matching:
            counts["events_without_handlers"] += 1
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "no_handlers", None, {"event_id": envelope.id_text})
            self._release_slot(dispatch, "no_matching_handler")
            return
        if self._fail_fast:
            self._start_next(dispatch)
            if self._inline:
                self._blocking = dispatch
        else:
            self._request_permits(dispatch)
            if self._inline and not dispatch.fully_started:
                self._blocking = dispatch

    def _start_next(self, dispatch: _Dispatch) -> None:
        """Make the dispatch's next handler ready (fail-fast: its turn came; concurrent: it
        got a permit), calling the work-available hooks if the ready queue was empty."""
        index = dispatch.next_index
        dispatch.next_index = index + 1
        self._seq = seq = self._seq + 1
        ready = self._ready
        ready.append(HandlerWork(dispatch.handlers[index], dispatch, self.clock(), seq))
        if len(ready) == 1:
            for callback in self._on_work:
                callback()

    def _request_permits(self, dispatch: _Dispatch) -> None:
        """The dispatch task awaits one permit per handler, in registration order; tokio's
        semaphore is FIFO, so a dispatch behind others in the queue waits its turn."""
        while dispatch.next_index < dispatch.total:
            if self._permits_free > 0 and not self._permit_waiters:
                self._permits_free -= 1
                self._start_next(dispatch)
                if self._samples is not None:
                    self._samples.sample(COMPONENT, self.name, "permits_in_use", self.permits_in_use)
            else:
                self._permit_waiters.append(dispatch)
                if self._decisions is not None:
                    self._decisions.decision(COMPONENT, self.name, "permit_wait", "semaphore_exhausted",
                                             {"event_id": dispatch.envelope.id_text,
                                              "handler": dispatch.handlers[dispatch.next_index].name})
                return

    def _return_permit(self) -> None:
        # A released permit goes straight to the head waiter (fair semaphore); the woken
        # dispatch spawns its handler and queues again for its next one.
        self._permits_free += 1
        waiters = self._permit_waiters
        while waiters and self._permits_free > 0:
            dispatch = waiters.popleft()
            self._permits_free -= 1
            self._start_next(dispatch)
            if self._samples is not None:
                self._samples.sample(COMPONENT, self.name, "permits_in_use", self.permits_in_use)
            if dispatch.next_index < dispatch.total:
                waiters.append(dispatch)
            elif dispatch is self._blocking:
                self._blocking = None  # 02-13: the receive loop resumes once all are spawned
        if self._samples is not None:
            self._samples.sample(COMPONENT, self.name, "permits_in_use", self.permits_in_use)

    def _handler_finished(self, work: HandlerWork, ok: bool) -> None:
        dispatch = work._dispatch
        if self._fail_fast:
            if ok and not dispatch.fully_started:
                self._start_next(dispatch)
                return
            if not ok and not dispatch.fully_started:
                skipped = len(dispatch.handlers) - dispatch.next_index
                self._counts["skipped_handlers"] += skipped
                if self._decisions is not None:
                    self._decisions.decision(COMPONENT, self.name, "fail_fast_stop", "handler_failed",
                                             {"event_id": dispatch.envelope.id_text,
                                              "failed_handler": work.handler.name, "skipped": skipped})
                dispatch.next_index = len(dispatch.handlers)
                self._release_slot(dispatch, "fail_fast_stopped")
            else:
                self._release_slot(dispatch, "all_handlers_done")
            self._unblock(dispatch)
            return
        self._return_permit()
        dispatch.completed += 1
        if dispatch.completed == len(dispatch.handlers) and dispatch.slot is SlotState.HELD:
            self._release_slot(dispatch, "all_handlers_done")

    def _handler_crashed(self, work: HandlerWork) -> None:
        dispatch = work._dispatch
        if self._fail_fast:
            skipped = len(dispatch.handlers) - dispatch.next_index
            self._counts["skipped_handlers"] += skipped
            dispatch.next_index = len(dispatch.handlers)
            if self._guarded_crash:
                self._release_slot(dispatch, "crash_guarded")
                self._unblock(dispatch)
                return
            self._leak_slot(dispatch, "the panic unwound the fail-fast dispatch before its release")
            if self._inline and self._state is DispatcherState.RUNNING:
                # 02-13: the dispatch ran inside the receive loop, so the panic ended the loop.
                self._blocking = None
                self._end_receiving("inline_panic")
            else:
                self._unblock(dispatch)
            return
        self._return_permit()  # the permit is dropped while unwinding in every variant
        if self._guarded_crash:
            dispatch.completed += 1
            if dispatch.completed == len(dispatch.handlers):
                self._release_slot(dispatch, "crash_guarded")
        elif dispatch.slot is SlotState.HELD:
            # 02-13: the completion counter is incremented after the handler returns; a panic
            # skips it, so this event's count can never reach its total.
            self._leak_slot(dispatch, "the panicking handler task never incremented the completion counter")

    def _unblock(self, dispatch: _Dispatch) -> None:
        if self._blocking is dispatch:
            self._blocking = None

    def _release_slot(self, dispatch: _Dispatch, trigger: str) -> None:
        # The table refuses a second release (held -> released happens once per dispatch): the
        # invariant this module exists for.
        tracer = self._tracer
        dispatch.slot = self._slot_machine.fire(dispatch.slot, trigger, tracer,
                                                "" if tracer is None else dispatch.instance)
        bp = self.bus.backpressure
        if bp is None:
            return
        self._counts["slots_released"] += 1
        if self._anomalies is not None and bp.current_depth == 0:
            self._anomalies.anomaly(
                COMPONENT, self.name, "slot_over_release",
                f"releasing the slot of event {dispatch.envelope.id} with controller depth already 0: "
                f"another subscriber released it (more than one dispatcher on this bus?)",
                {"event_id": dispatch.envelope.id_text})
        bp.release()

    def _leak_slot(self, dispatch: _Dispatch, why: str) -> None:
        tracer = self._tracer
        dispatch.slot = self._slot_machine.fire(dispatch.slot, "crash_unguarded", tracer,
                                                "" if tracer is None else dispatch.instance)
        if self.bus.backpressure is None:
            return
        self._counts["slots_leaked"] += 1
        if self._anomalies is not None:
            self._anomalies.anomaly(COMPONENT, self.name, "slot_leaked",
                                    f"backpressure slot of event {dispatch.envelope.id} is never released: {why}",
                                    {"event_id": dispatch.envelope.id_text})

    def __repr__(self) -> str:
        return (f"EventDispatcher({self.name!r}, state={self.state}, handlers={len(self.handlers)}, "
                f"ready={len(self._ready)}, delayed={len(self._delayed)}, "
                f"waiting={len(self._permit_waiters)}, outstanding={self._outstanding})")
