"""Broken event pipelines, each a plausible slot-accounting or dispatch bug, as target factories
(``factory(config, clock)`` with the suite's `PipelineConfig`). The dispatcher suite must kill
every one of them in every variant.

Each mutant changes one thing in the reference's dispatcher or bus and keeps the rest, so a kill
shows the suite sees that one thing: a slot released twice or never (after a failure, for an event
no handler matches, for a send without receivers), a permit kept after a crash or one permit too
many, a retry count one short, a retry without its delay, retries counted as failures, newest
work first, fail-fast that does not stop, a stop that drops queued work, a bus that validates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rustok_sim.conformance.suites.dispatcher import PipelineConfig
from rustok_sim.model.events.bus import BusClosedError, EventBus, SendOutcome
from rustok_sim.model.events.dispatcher import EventDispatcher, HandlerFailed, HandlerWork, Outcome, WorkState
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.transactional import EventPublishValidationError
from rustok_sim.model.events.validation import EventValidationError
from rustok_sim.model.resilience.backpressure import BackpressureController

__all__ = ["MUTANTS"]


class _ReleasesSlotTwice(EventDispatcher):
    """Gives back two slots when an event's dispatch ends (a release in the handler task and
    another in the dispatch task)."""

    def _release_slot(self, dispatch: Any, trigger: str) -> None:
        super()._release_slot(dispatch, trigger)
        controller = self.bus.backpressure
        if controller is not None and controller.current_depth > 0:
            controller.release()


class _FailureKeepsSlot(EventDispatcher):
    """Releases the slot only on the success path: an event whose last handler failed for good
    keeps its slot (counted as released, never given back)."""

    _failing = False

    def _handler_finished(self, work: HandlerWork, ok: bool) -> None:
        self._failing = not ok
        try:
            super()._handler_finished(work, ok)
        finally:
            self._failing = False

    def _release_slot(self, dispatch: Any, trigger: str) -> None:
        if not self._failing:
            super()._release_slot(dispatch, trigger)
            return
        dispatch.slot = self._slot_machine.fire(dispatch.slot, trigger, None, "")
        if self.bus.backpressure is not None:
            self._counts["slots_released"] += 1


class _UnmatchedEventKeepsSlot(EventDispatcher):
    """Forgets the release when no handler matches an event (the early return before it)."""

    def _release_slot(self, dispatch: Any, trigger: str) -> None:
        if trigger != "no_matching_handler":
            super()._release_slot(dispatch, trigger)
            return
        dispatch.slot = self._slot_machine.fire(dispatch.slot, trigger, None, "")
        if self.bus.backpressure is not None:
            self._counts["slots_released"] += 1


class _CrashKeepsPermit(EventDispatcher):
    """A panicking handler task never drops its semaphore permit."""

    _crashing = False

    def _handler_crashed(self, work: HandlerWork) -> None:
        self._crashing = True
        try:
            super()._handler_crashed(work)
        finally:
            self._crashing = False

    def _return_permit(self) -> None:
        if self._crashing:
            self._crashing = False
            return
        super()._return_permit()


class _ExtraPermit(EventDispatcher):
    """A semaphore of ``max(1, max_concurrent) + 1`` permits (reported as in use correctly)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._permits_free += 1

    @property
    def permits_in_use(self) -> int:
        return self.config.permits + 1 - self._permits_free


class _OneAttemptShort(EventDispatcher):
    """``retry_count`` attempts instead of ``retry_count + 1`` (at least one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_attempts = max(1, self.config.retry_count)


class _RetryWithoutDelay(EventDispatcher):
    """A failed attempt is retried at once: the fixed delay is never slept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._delay_s = 0.0


class _RetriesCountedAsFailures(EventDispatcher):
    """Counts every failed attempt in ``stats().failures``, not only the last one."""

    def complete(self, work: HandlerWork, outcome: Outcome) -> None:
        retrying = (isinstance(outcome, HandlerFailed) and isinstance(work, HandlerWork)
                    and work.state is WorkState.RUNNING and work.attempt < self._max_attempts)
        super().complete(work, outcome)
        if retrying:
            self._counts["failures"] += 1


class _NewestWorkFirst(EventDispatcher):
    """Hands out the most recently readied work first (a stack for the ready queue)."""

    def next_work(self) -> HandlerWork | None:
        self.pump()
        if len(self._ready) > 1:
            self._ready.rotate(1)
        return super().next_work()


class _FailFastRunsTheRest(EventDispatcher):
    """Fail-fast that logs the failure but still runs the event's later handlers."""

    def _handler_finished(self, work: HandlerWork, ok: bool) -> None:
        super()._handler_finished(work, ok or self._fail_fast)


class _StopDropsQueuedWork(EventDispatcher):
    """``stop()`` also aborts work not yet handed out (ready, waiting out a retry, waiting for a
    permit); their events' slots are never released."""

    def stop(self) -> None:
        super().stop()
        self._ready.clear()
        self._delayed.clear()
        self._permit_waiters.clear()


class _NoReceiversKeepsSlot(EventBus):
    """A send without receivers counts the drop but does not give the slot back."""

    def _send(self, envelope: EventEnvelope) -> SendOutcome:
        if self._closed:
            raise BusClosedError(f"event bus {self.name!r} is closed; nothing can publish to it")
        if self._receiver_count == 0 and self.backpressure is not None:
            self._dropped += 1
            return SendOutcome.REJECTED if not self.backpressure.admit() else SendOutcome.NO_RECEIVERS
        return super()._send(envelope)


class _ValidatingBus(EventBus):
    """Validates events before publishing (the transactional bus's check, where Rust's bus has
    none): an invalid event is refused and never takes a slot."""

    def publish_envelope(self, envelope: EventEnvelope) -> None:
        try:
            envelope.event.validate()
        except EventValidationError as exc:
            raise EventPublishValidationError(exc) from None
        super().publish_envelope(envelope)

    def offer_envelope(self, envelope: EventEnvelope) -> SendOutcome:
        if not envelope.event.is_valid():
            return SendOutcome.REJECTED
        return super().offer_envelope(envelope)


def _factory(name: str, dispatcher: type[EventDispatcher] = EventDispatcher,
             bus: type[EventBus] = EventBus) -> Callable[[PipelineConfig, Any], EventDispatcher]:
    def build(config: PipelineConfig, clock: Any) -> EventDispatcher:
        controller = None if config.backpressure is None else BackpressureController(config.backpressure,
                                                                                     name="mutant")
        return dispatcher(bus(config.bus, backpressure=controller, name="mutant_bus"), config.dispatcher,
                          clock=clock, name="mutant")
    build.__name__ = name
    return build


MUTANTS = {
    "releases_slot_twice": _factory("releases_slot_twice", _ReleasesSlotTwice),
    "failure_keeps_slot": _factory("failure_keeps_slot", _FailureKeepsSlot),
    "unmatched_event_keeps_slot": _factory("unmatched_event_keeps_slot", _UnmatchedEventKeepsSlot),
    "crash_keeps_permit": _factory("crash_keeps_permit", _CrashKeepsPermit),
    "extra_permit": _factory("extra_permit", _ExtraPermit),
    "one_attempt_short": _factory("one_attempt_short", _OneAttemptShort),
    "retry_without_delay": _factory("retry_without_delay", _RetryWithoutDelay),
    "retries_counted_as_failures": _factory("retries_counted_as_failures", _RetriesCountedAsFailures),
    "newest_work_first": _factory("newest_work_first", _NewestWorkFirst),
    "fail_fast_runs_the_rest": _factory("fail_fast_runs_the_rest", _FailFastRunsTheRest),
    "stop_drops_queued_work": _factory("stop_drops_queued_work", _StopDropsQueuedWork),
    "no_receivers_keeps_slot": _factory("no_receivers_keeps_slot", bus=_NoReceiversKeepsSlot),
    "validating_bus": _factory("validating_bus", bus=_ValidatingBus),
}
