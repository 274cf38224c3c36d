"""The bus + dispatcher slot-accounting suite: a target event pipeline and the reference driven
side by side under one controlled clock.

What the target is. A backpressure slot is taken by the bus (`publish_envelope` /
`offer_envelope` admit through the controller) and given back by the dispatcher (when an
event's last handler finishes), or by the bus itself when a send finds no receivers; slot
accounting is a property of the three together, so a target is the whole pipeline. The factory,
``factory(config, clock)``, gets a `PipelineConfig` (the dispatcher's, the bus's and, unless it
is ``None``, the controller's config) and returns a **dispatcher** speaking the
``event_dispatcher`` protocol whose ``bus`` attribute speaks ``event_bus`` and whose
``bus.backpressure`` speaks ``backpressure`` (``None`` when the config has none). That is the
reference's own shape (`EventDispatcher.bus`, `EventBus.backpressure`), so a target built like
it needs no adapter; the three surfaces are checked before anything runs (one `TargetError`).
The factory does not register handlers or start the dispatcher: the suite does both through
the protocol. Each side has its own controller, bus, dispatcher and handlers.

Envelopes are built by the suite (one seeded `IdGenerator` on the shared clock) and handed to
both buses with ``publish_envelope`` / ``offer_envelope``: ids and timestamps are construction
data of a bus (its ``ids``), not protocol, and a shared envelope lets the suite pair each side's
work items by event id. Envelopes are frozen, so sharing them shares no state. Events are valid
or invalid (a nil id, an empty kind): the bus never validates (spec §3.2), so both kinds take a
slot and are dispatched; one handler kind matches valid events only.

Each example draws a config for the suite's variant (the dispatcher variant names the era:
``2026-02-13`` runs the 1df8c5b3e bus with ``no_receivers="silent_ok"`` and the faithful
controller, ``2026-02-14`` the faithful controller, ``hardened`` the hardened controller):
fail-fast or concurrent, 0-3 permits (0 behaves as 1), 0-2 retries with a fixed delay, a ring of
1-8 envelopes (so a receiver can lag), a small controller or none, 1-3 handlers, each of a kind
(all events, node events, valid events, none) and a behaviour (ok, flaky: Err then Ok, fails,
crashes), and whether the dispatcher starts at once. Then it steps: publish (both paths, runs of
up to four, so the ring overflows and the controller reaches critical), take work
(``next_work``), finish any outstanding item with OK, ``Err`` or a panic, in any order; complete
an item that is not outstanding (a driver bug both must refuse); drive (take and finish as the
handlers behave, finishing the oldest outstanding item when nothing is ready, jumping the clock
to the next retry deadline); a flood (a burst of up to ten, then drive until idle); ``pump``;
move the clock (to the next deadline, a microsecond before it, or by a fixed step); register a
handler; and, after an example's first eight moves and while the dispatcher has not ended,
``start`` (refused while running), ``stop`` (refused before start), ``bus.close()``, or a stop
under load (a burst, some work handed out, ``stop()``, then drive what was in flight).

Compared after every operation, even within a step: its return value (``next_work``'s item by
handler, event id, attempt, state and ``not_before``; ``pump``'s count; ``offer_envelope``'s
`SendOutcome`), its error's kind (and, for the Rust-visible bus errors, the text,
``event_type``, ``total_dropped`` and the controller error's kind, current and max; driver-bug
errors such as `WorkError` and `DispatcherStateError` name the instance, so only their kind is
compared), then the controller's depth, ``permits_in_use`` and ``outstanding``, so a slot
released twice is reported at the ``complete`` that did it. Compared after every step: the
dispatcher's state, ``outstanding``, ``permits_in_use``, ``is_idle()``, ``next_deadline()``,
``handler_count()`` and every field of ``stats()``; the state, attempt and ``not_before`` of
every work item still live; the ``on_error`` calls each side's handlers received; how often the
work-available hook fired; the bus's ``stats()``, ``receiver_count`` and ``closed``; the
controller's state and every field of ``metrics()``. Each change of the dispatcher's lifecycle
state is checked against the variant's `TRANSITIONS` table. The per-event slot state
(`DISPATCH`) and the per-work state (`WORK`) are compared through what they decide (the depth,
``slots_released`` / ``slots_leaked``, each item's state); the reference's moves on those two
tables reach the run's coverage too (the gate reports the lifecycle table's).

Variants are the dispatcher table's own names (`VARIANTS`): the faithful profile is
``2026-02-14``; ``2026-02-13`` is the only one with the ``inline_panic`` edge and leaked slots on
a crash. `goals` names the slot-accounting situations a run must reach (all permits busy, a
retry that succeeds, retries exhausted, a crash, fail-fast skipping, a rejection at critical, a
drain back to depth 0 after critical, a lagging receiver, a stop with work in flight).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from pydantic import BaseModel, ConfigDict

from rustok_sim.conformance.protocols import PROTOCOLS, surface_mismatches
from rustok_sim.conformance.suites.differential import DifferentialMachine, Outcome
from rustok_sim.conformance.targets import Factory, TargetError, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.bus import (
    BackpressureRejectedError,
    EventBus,
    EventBusConfig,
    ExternalError,
    SendOutcome,
)
from rustok_sim.model.events.dispatcher import (
    OK,
    TRANSITIONS,
    DispatcherConfig,
    DispatcherStats,
    EventDispatcher,
    HandlerCrashed,
    HandlerFailed,
    WorkState,
)
from rustok_sim.model.events.domain import DomainEventBase, NodeCreated, TagCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController

__all__ = ["BUS_STATS_FIELDS", "COMPONENT", "DISPATCHER_STATS_FIELDS", "METRICS_FIELDS", "VARIANTS",
           "PipelineConfig", "dispatcher_suite", "pipeline_config", "reference_dispatcher"]

COMPONENT = "event_dispatcher"
VARIANTS = ("2026-02-14", "2026-02-13", "hardened")
"""The dispatcher's variants (its table's): faithful is 2026-02-14, hardened is hardened."""

DISPATCHER_STATS_FIELDS = tuple(DispatcherStats.__dataclass_fields__)
BUS_STATS_FIELDS = ("events_published", "events_dropped", "subscribers")
METRICS_FIELDS = ("current_depth", "max_depth", "state", "events_accepted", "events_rejected", "warning_count",
                  "critical_count")

_TENANT = uuid.UUID("0195a3c2-0000-7000-8000-00000000000a")
_ACTOR = uuid.UUID("0195a3c2-0000-7000-8000-00000000000b")
_NIL = uuid.UUID(int=0)
_EVENTS: dict[str, DomainEventBase] = {
    "node": NodeCreated(node_id=uuid.UUID("0195a3c2-0000-7000-8000-000000000001"), kind="article"),
    "node_invalid": NodeCreated(node_id=_NIL, kind=""),
    "tag": TagCreated(tag_id=uuid.UUID("0195a3c2-0000-7000-8000-000000000002")),
    "tag_invalid": TagCreated(tag_id=_NIL),
}
_HANDLER_KINDS = ("all", "node", "valid", "none")
_BEHAVIOURS = ("ok", "flaky", "fails", "crashes")
_MAX_HANDLERS = 4
_THRESHOLDS = [(0.5, 0.75), (0.25, 1.0), (0.0, 0.5)]
_QUIET_MOVES = 8
_DRAIN_ROUNDS = 40
"""Moves of an example before stop, close or a second start may come (see `lifecycle`)."""
_DRIVER_BUGS = ("WorkError", "DispatcherStateError", "BusClosedError")
"""Errors that say the driver misused an object: their text names the instance, so only the kind
is compared."""


class PipelineConfig(BaseModel):
    """What a target factory gets: the dispatcher's config, the bus's, and the controller's
    (``None``: the bus has no backpressure)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dispatcher: DispatcherConfig
    bus: EventBusConfig
    backpressure: BackpressureConfig | None


def pipeline_config(variant: str, *, fail_fast: bool = False, max_concurrent: int = 2, retry_count: int = 1,
                    retry_delay_ms: int = 100, capacity: int = 8, max_queue_depth: int | None = 4,
                    thresholds: tuple[float, float] = (0.5, 0.75)) -> PipelineConfig:
    """The pipeline of one dispatcher variant: the bus and controller of the same era (02-13's
    bus returns Ok without receivers; hardened runs the hardened controller)."""
    backpressure = None
    if max_queue_depth is not None:
        backpressure = BackpressureConfig(max_queue_depth=max_queue_depth, warning_threshold=thresholds[0],
                                          critical_threshold=thresholds[1],
                                          variant="hardened" if variant == "hardened" else "faithful")
    return PipelineConfig(
        dispatcher=DispatcherConfig(fail_fast=fail_fast, max_concurrent=max_concurrent, retry_count=retry_count,
                                    retry_delay_ms=retry_delay_ms, variant=variant),  # type: ignore[arg-type]
        bus=EventBusConfig(capacity=capacity, no_receivers="silent_ok" if variant == "2026-02-13" else "error"),
        backpressure=backpressure)


def reference_dispatcher(config: PipelineConfig, clock: Callable[[], float], observer: Any = None) -> EventDispatcher:
    """The reference pipeline: controller, bus and dispatcher (not started, no handlers)."""
    controller = None if config.backpressure is None else BackpressureController(config.backpressure,
                                                                                 name="reference")
    bus = EventBus(config.bus, backpressure=controller, name="reference_bus")
    return EventDispatcher(bus, config.dispatcher, clock=clock, observer=observer, name="reference")


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def _work_view(work: Any) -> tuple[Any, ...] | None:
    if work is None:
        return None
    return (work.handler.name, work.envelope.id, work.attempt, _plain(work.state), work.not_before)


class _SuiteHandler:
    """A handler of one side: matches by kind, records every ``on_error`` call it receives.
    `behaviour` is how the suite's `drive` runs it: ``ok``, ``flaky`` (Err on the first attempt,
    then Ok), ``fails`` (Err on every attempt) or ``crashes`` (a panic)."""

    __slots__ = ("name", "kind", "behaviour", "errors")

    def __init__(self, name: str, kind: str, behaviour: str, errors: list[tuple[str, uuid.UUID, str]]) -> None:
        self.name, self.kind, self.behaviour, self.errors = name, kind, behaviour, errors

    def outcome(self, attempt: int) -> str:
        behaviour = self.behaviour
        if behaviour == "flaky":
            return "err" if attempt == 1 else "ok"
        return {"ok": "ok", "fails": "err", "crashes": "crash"}[behaviour]

    def handles(self, event: Any) -> bool:
        kind = self.kind
        if kind == "all":
            return True
        if kind == "node":
            return bool(event.event_type.startswith("node."))
        if kind == "valid":
            return bool(event.is_valid())
        return False

    def handle(self, envelope: Any) -> None:  # the suite decides outcomes; drivers never call this
        return None

    def on_error(self, envelope: Any, error: BaseException) -> None:
        self.errors.append((self.name, envelope.id, str(error)))

    def __repr__(self) -> str:
        return f"handler {self.name}({self.kind})"


class _Pair:
    """One handler invocation on both sides (the same object comes back for each retry)."""

    __slots__ = ("target", "reference")

    def __init__(self, target: Any, reference: Any) -> None:
        self.target, self.reference = target, reference


_FINAL = (WorkState.SUCCEEDED, WorkState.FAILED, WorkState.CRASHED)


_CHECKED: dict[Any, set[tuple[type, ...]]] = {}
"""factory -> the classes of the pipelines it built whose surfaces were checked."""


class _DispatcherSuite(DifferentialMachine):
    factory: Factory
    table = TRANSITIONS
    error_fields = ("event_type", "total_dropped")
    goals = {
        "all_permits_busy": "every semaphore permit held while another handler of a concurrent dispatch waits for one",
        "retry_then_success": "a handler that failed, waited out the retry delay and then succeeded",
        "retries_exhausted": "a handler that failed on its last attempt after at least one retry (on_error called)",
        "handler_crashed": "a handler that panicked while its event held a backpressure slot",
        "fail_fast_skipped": "fail-fast: a handler failed for good and the event's later handlers were skipped",
        "rejected_at_critical": "a publish refused by the controller at the critical depth",
        "drained_after_critical": "the controller reached its critical depth, then every slot came back (depth 0)",
        "lagged_events": "the dispatcher's receiver lagged behind the ring and missed events",
        "stopped_with_work_in_flight": "stop() while handler work was ready, running, delayed or waiting",
    }

    def now(self) -> float | None:
        return self.clock.now if hasattr(self, "clock") else None

    # -- setup --------------------------------------------------------------------------------------

    @initialize(
        fail_fast=st.booleans(),
        max_concurrent=st.sampled_from([2, 1, 0, 3]),
        retry_count=st.sampled_from([1, 0, 2]),
        retry_delay_ms=st.sampled_from([100, 0, 250]),
        capacity=st.sampled_from([8, 4, 8, 1]),
        max_queue_depth=st.sampled_from([4, 2, 8, None]),
        thresholds=st.sampled_from(_THRESHOLDS),
        handlers=st.lists(st.tuples(st.sampled_from(("all", "node", "valid", "all", "none")),
                                    st.sampled_from(_BEHAVIOURS)), min_size=1, max_size=3),
        start=st.sampled_from([True, True, True, False]),
    )
    def setup(self, fail_fast: bool, max_concurrent: int, retry_count: int, retry_delay_ms: int, capacity: int,
              max_queue_depth: int | None, thresholds: tuple[float, float], handlers: list[tuple[str, str]],
              start: bool) -> None:
        self.config = pipeline_config(self.variant, fail_fast=fail_fast, max_concurrent=max_concurrent,
                                      retry_count=retry_count, retry_delay_ms=retry_delay_ms, capacity=capacity,
                                      max_queue_depth=max_queue_depth, thresholds=thresholds)
        self.clock = ManualClock()
        self.ids = IdGenerator(self.clock, seed=11)
        self.steps: list[str] = [f"config {self.config.model_dump()}"]
        self.reference = reference_dispatcher(self.config, self.clock, self.reference_observer(self.clock))
        self.target = self._build_target()
        self.last_state = self.reference.state
        self.errors: dict[int, list[tuple[str, uuid.UUID, str]]] = {id(self.target): [], id(self.reference): []}
        self.hooks = {id(self.target): 0, id(self.reference): 0}
        for side in (self.target, self.reference):
            side.on_work_available(self._hook(id(side)))
        self.pairs: list[_Pair] = []
        self.live: list[_Pair] = []
        self.permits = self.config.dispatcher.permits
        self.was_critical = False
        self.moves = 0
        for kind in handlers:
            self._register(kind)
        if start:
            self.start()

    def _build_target(self) -> Any:
        """The factory's pipeline, its three surfaces checked (once per class: the check reads
        signatures, which costs more than an example's steps)."""
        checked = _CHECKED.setdefault(self.factory, set())
        if not checked:
            target = build_target(self.factory, self.config, self.clock, COMPONENT, self.target_name)
        else:
            try:
                target = self.factory(self.config, self.clock)
            except Exception as exc:  # noqa: BLE001 - whatever the factory raises is a finding about it
                raise TargetError(f"{self.target_name}: its factory raised {type(exc).__name__}: {exc}") from None
        bus = getattr(target, "bus", None)
        controller = getattr(bus, "backpressure", None)
        kinds = (type(target), type(bus), type(controller))
        if kinds in checked:
            return target
        for what, part, component in (("", target, COMPONENT), ("its bus ", bus, "event_bus"),
                                      ("its bus.backpressure ", controller, "backpressure")):
            if part is None and component == "backpressure":
                if self.config.backpressure is not None:
                    raise TargetError(f"{self.target_name}: bus.backpressure is None, but the config has a controller")
                continue
            problems = surface_mismatches(part, PROTOCOLS[component]) if part is not None else ["missing"]
            if problems:
                raise TargetError(f"{self.target_name}: {what}does not speak the {component} protocol: "
                                  f"{'; '.join(problems)}")
        if controller is not None and self.config.backpressure is None:
            raise TargetError(f"{self.target_name}: bus.backpressure is {controller!r}, but the config has none")
        checked.add(kinds)
        return target

    def _hook(self, key: int) -> Callable[[], None]:
        def hook() -> None:
            self.hooks[key] += 1
        return hook

    def _register(self, spec: tuple[str, str]) -> None:
        kind, behaviour = spec
        name = f"h{self.reference.handler_count()}"
        handlers = {id(side): _SuiteHandler(name, kind, behaviour, self.errors[id(side)])
                    for side in (self.target, self.reference)}
        target, reference = self.both(f"register({name}: {kind}, {behaviour})",
                                      lambda d: d.register(handlers[id(d)]))
        self._same_result(target, reference)
        if reference[0] == "ok":
            self.same("register() returns the dispatcher", target[1] is self.target, True)

    # -- comparing ----------------------------------------------------------------------------------

    def _after_operation(self) -> None:
        """After each operation's result is compared, even within a step (a burst and its drain
        are one step): the slot counts, so a difference is reported at the operation that made
        it, and the goals that hold only for a moment."""
        reference, target = self.reference, self.target
        controller = reference.bus.backpressure
        if controller is not None:
            self.same("backpressure depth", target.bus.backpressure.current_depth, controller.current_depth)
        self.same("permits_in_use", target.permits_in_use, reference.permits_in_use)
        self.same("outstanding", target.outstanding, reference.outstanding)
        if not self.config.dispatcher.fail_fast and reference.permits_in_use == self.permits and (
                reference._permit_waiters):
            self.reached("all_permits_busy")
        if controller is not None:
            depth = controller.current_depth
            if depth >= controller.critical_depth > 0:
                self.was_critical = True
            elif depth == 0 and self.was_critical:
                self.reached("drained_after_critical")
                self.was_critical = False

    def _same_result(self, target: Outcome, reference: Outcome) -> None:
        if reference[0] == "error" and type(reference[1]).__name__ in _DRIVER_BUGS:
            if target[0] != "error":
                self.same_outcome(target, reference)
            self.same("error kind", type(target[1]).__name__, type(reference[1]).__name__)
            self._after_operation()
            return
        self.same_outcome(target, reference)
        if reference[0] == "error" and isinstance(reference[1], BackpressureRejectedError):
            cause_t, cause_r = getattr(target[1], "cause", None), reference[1].cause
            for name in ("kind", "current", "max"):
                self.same(f"error cause.{name}", getattr(cause_t, name, None), getattr(cause_r, name))
        self._after_operation()

    # -- rules --------------------------------------------------------------------------------------

    @rule(event=st.sampled_from(sorted(_EVENTS)), count=st.integers(1, 4),
          path=st.sampled_from(["publish_envelope", "offer_envelope"]))
    def publish(self, event: str, count: int, path: str) -> None:
        for _ in range(count):
            send = functools.partial(_send, path, EventEnvelope.new(_TENANT, _ACTOR, _EVENTS[event], ids=self.ids))
            target, reference = self.both(f"{path}({event})", send)
            if path == "offer_envelope" and reference[0] == "ok" and target[0] == "ok":
                self.same("offer_envelope()", _plain(target[1]), _plain(reference[1]))
                self._after_operation()
            else:
                self._same_result(target, reference)
            if reference == ("ok", SendOutcome.REJECTED) or (
                    reference[0] == "error" and isinstance(reference[1], BackpressureRejectedError)):
                self.reached("rejected_at_critical")

    @rule(count=st.integers(1, 3))
    def take(self, count: int) -> None:
        for _ in range(count):
            if self._take() is None:
                return

    def _take(self) -> _Pair | None:
        target, reference = self.both("next_work()", lambda d: d.next_work())
        if target[0] == reference[0] == "ok":
            self.same("next_work()", _work_view(target[1]), _work_view(reference[1]))
        self._same_result(target, reference)
        if reference[1] is None:
            return None
        pair = _Pair(target[1], reference[1])
        if reference[1].attempt == 1:
            self.pairs.append(pair)
            self.live.append(pair)
        else:  # a retry: the same item as before on both sides
            known = next(p for p in self.pairs if p.reference is reference[1])
            self.same("a retry's work item is the one handed out before", target[1] is known.target, True)
            pair = known
        return pair

    def _outstanding(self) -> list[_Pair]:
        return [p for p in self.live if p.reference.state is WorkState.RUNNING]

    @precondition(lambda self: any(p.reference.state is WorkState.RUNNING for p in self.live))
    @rule(index=st.integers(0, 20), outcome=st.sampled_from(["ok", "err", "crash"]))
    def finish(self, index: int, outcome: str) -> None:
        running = self._outstanding()
        self._complete(running[index % len(running)], outcome)

    def _complete(self, pair: _Pair, outcome: str) -> None:
        work = {id(self.target): pair.target, id(self.reference): pair.reference}
        attempt = pair.reference.attempt
        skipped = self.reference.stats().skipped_handlers
        target, reference = self.both(f"complete({pair.reference.handler.name}, attempt {attempt}, {outcome})",
                                      lambda d: d.complete(work[id(d)], _outcome(outcome)))
        self._same_result(target, reference)
        state = pair.reference.state
        if state is WorkState.SUCCEEDED and attempt > 1:
            self.reached("retry_then_success")
        elif state is WorkState.FAILED:
            if attempt > 1:
                self.reached("retries_exhausted")
            if self.reference.stats().skipped_handlers > skipped:
                self.reached("fail_fast_skipped")
        elif state is WorkState.CRASHED and self.config.backpressure is not None:
            self.reached("handler_crashed")

    @precondition(lambda self: any(p.reference.state is not WorkState.RUNNING for p in self.pairs))
    @rule(index=st.integers(0, 20))
    def complete_again(self, index: int) -> None:
        """A driver bug: completing an item that is not outstanding (finished, or waiting for its
        retry, or ready again). Both must refuse it and change nothing."""
        done = [p for p in self.pairs if p.reference.state is not WorkState.RUNNING]
        self._complete(done[index % len(done)], "ok")

    @rule(count=st.integers(1, 10), event=st.sampled_from(sorted(_EVENTS)))
    def flood(self, count: int, event: str) -> None:
        """A burst of `count` events, then a driver that runs until the pipeline is idle (or
        stuck: a leaked slot or a blocked loop): the controller climbs through its thresholds
        and, if every slot comes back, down again."""
        self.publish(event, count, "offer_envelope")
        self.drive(_DRAIN_ROUNDS)

    @rule(rounds=st.integers(1, 8))
    def drive(self, rounds: int) -> None:
        """A driver that runs each ready item at once, as its handler behaves; with nothing
        ready it finishes the oldest outstanding item, or else jumps the clock to the next retry
        deadline."""
        for _ in range(rounds):
            pair = self._take()
            if pair is None:
                running = self._outstanding()
                if running:
                    pair = running[0]
                else:
                    deadline = self.reference.next_deadline()
                    if deadline is None:
                        return
                    self._advance(max(deadline - self.clock.now, 0.0))
                    continue
            self._complete(pair, pair.reference.handler.outcome(pair.reference.attempt))

    @rule()
    def pump(self) -> None:
        target, reference = self.both("pump()", lambda d: d.pump())
        self.same_outcome(target, reference, compare_values=True)
        self._after_operation()

    @rule(seconds=st.sampled_from([0.1, 0.25, 1.0, "to_deadline", "before_deadline"]))
    def advance(self, seconds: float | str) -> None:
        if isinstance(seconds, str):
            deadline = self.reference.next_deadline()
            if deadline is None:
                return
            step = max(deadline - self.clock.now - (1e-6 if seconds == "before_deadline" else 0.0), 0.0)
        else:
            step = seconds
        self._advance(step)

    def _advance(self, seconds: float) -> None:
        self.steps.append(f"advance {seconds:g}")
        self.clock.advance(seconds)

    @precondition(lambda self: self.reference.handler_count() < _MAX_HANDLERS)
    @rule(kind=st.sampled_from(_HANDLER_KINDS), behaviour=st.sampled_from(_BEHAVIOURS))
    def register(self, kind: str, behaviour: str) -> None:
        self._register((kind, behaviour))

    @precondition(lambda self: self.moves >= _QUIET_MOVES and self.reference.state in ("created", "running"))
    @rule(action=st.sampled_from(["start", "stop", "close_bus", "start"]))
    def lifecycle(self, action: str) -> None:
        """``start()`` (refused while running), ``stop()`` (refused before start) or
        ``bus.close()``. Stop and close end what an example can publish or receive, so they come
        after its first few moves, when there is work in flight to finish after them, and not
        after the dispatcher has stopped for good."""
        getattr(self, action)()

    @precondition(lambda self: self.moves >= _QUIET_MOVES and self.reference.state == "running")
    @rule(count=st.integers(1, 6), taken=st.integers(0, 2))
    def stop_under_load(self, count: int, taken: int) -> None:
        """A shutdown during a burst: `count` events, `taken` items handed out, ``stop()``, then a
        driver that finishes what was in flight (which must still give every slot back)."""
        self.publish("node", count, "offer_envelope")
        self.take(taken)
        self.stop()
        self.drive(_DRAIN_ROUNDS)

    def start(self) -> None:
        target, reference = self.both("start()", lambda d: d.start())
        self._same_result(target, reference)
        if reference[0] == "ok":
            self.same("start() returns the dispatcher", target[1] is self.target, True)

    def stop(self) -> None:
        target, reference = self.both("stop()", lambda d: d.stop())
        self._same_result(target, reference)
        if reference[0] == "ok" and not self.reference.is_idle():
            self.reached("stopped_with_work_in_flight")

    def close_bus(self) -> None:
        self._same_result(*self.both("bus.close()", lambda d: d.bus.close()))

    # -- after every step ---------------------------------------------------------------------------

    @invariant()
    def observably_the_same(self) -> None:
        if not hasattr(self, "target"):
            return
        self.moves += 1
        target, reference = self.target, self.reference
        same = self.same
        same("state", _plain(target.state), reference.state)
        same("outstanding", target.outstanding, reference.outstanding)
        same("permits_in_use", target.permits_in_use, reference.permits_in_use)
        same("is_idle()", target.is_idle(), reference.is_idle())
        same("next_deadline()", target.next_deadline(), reference.next_deadline())
        same("handler_count()", target.handler_count(), reference.handler_count())
        target_stats, reference_stats = target.stats(), reference.stats()
        for name in DISPATCHER_STATS_FIELDS:
            same(f"stats().{name}", getattr(target_stats, name, None), getattr(reference_stats, name))
        live = []
        for pair in self.live:
            t, r = pair.target, pair.reference
            what = f"work {r.handler.name} of event {r.envelope.id}"
            same(f"{what}: state", _plain(t.state), r.state.value)
            same(f"{what}: attempt", t.attempt, r.attempt)
            same(f"{what}: not_before", t.not_before, r.not_before)
            if r.state not in _FINAL:
                live.append(pair)
        self.live = live
        same("on_error calls", self.errors[id(target)], self.errors[id(reference)])
        same("work-available hook calls", self.hooks[id(target)], self.hooks[id(reference)])
        target_bus, reference_bus = target.bus, reference.bus
        bus_stats_t, bus_stats_r = target_bus.stats(), reference_bus.stats()
        for name in BUS_STATS_FIELDS:
            same(f"bus.stats().{name}", getattr(bus_stats_t, name, None), getattr(bus_stats_r, name))
        same("bus.receiver_count", target_bus.receiver_count, reference_bus.receiver_count)
        same("bus.closed", target_bus.closed, reference_bus.closed)
        controller = reference_bus.backpressure
        if controller is not None:
            target_controller = target_bus.backpressure
            same("backpressure.state", _plain(target_controller.state), controller.state.value)
            metrics_t, metrics_r = target_controller.metrics(), controller.metrics()
            for name in METRICS_FIELDS:
                same(f"backpressure.metrics().{name}", _plain(getattr(metrics_t, name, None)),
                     _plain(getattr(metrics_r, name)))
        if reference_stats.events_missed:
            self.reached("lagged_events")

    @invariant()
    def moves_are_edges_of_the_table(self) -> None:
        """The base class's check, for a lifecycle state read as text (the protocol's `state`)."""
        if not hasattr(self, "target"):
            return
        state = _plain(self.target.state)
        if state != self.last_state:
            edges = [e for e in self.table.for_variant(self.variant) if (e.source, e.target) == (self.last_state, state)]
            if not edges:
                raise AssertionError(f"{self.target_name} moved {self.last_state} -> {state} after "
                                     f"{self.steps[-1]!r}: not an edge of the {self.variant} table")
            self.last_state = state


def _send(path: str, envelope: EventEnvelope, dispatcher: Any) -> Any:
    return getattr(dispatcher.bus, path)(envelope)


def _outcome(kind: str) -> Any:
    """A fresh outcome object per side and call."""
    if kind == "ok":
        return OK
    if kind == "err":
        return HandlerFailed(ExternalError("handler error (suite)"))
    return HandlerCrashed(RuntimeError("handler panicked (suite)"))


def dispatcher_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's state machine for one target factory and one dispatcher variant."""
    if variant not in VARIANTS:
        raise ValueError(f"event_dispatcher has no variant {variant!r}; variants: {', '.join(VARIANTS)}")
    return type(f"DispatcherSuite_{variant.replace('-', '_')}", (_DispatcherSuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name})

