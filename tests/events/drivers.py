"""A tiny synchronous driver for the sans-IO dispatcher, for tests only.

It runs each handler inline (zero time), jumps a `ManualClock` over retry delays, and stops when
the dispatcher is idle: what `EventDispatcher.run_until_idle` did before the refit moved driver
loops out of the model. simpy drivers live in `scenarios/`.

Tests import it as ``from tests.events.drivers import run_until_idle``. That needs no
``__init__.py`` and no cwd on ``sys.path``: with ``--import-mode=importlib`` (pyproject) pytest
names each test module after its path from the rootdir (``tests.events.test_dispatcher``) and
registers ``tests`` and ``tests.events`` as namespace packages rooted there, so the import resolves
under ``python -m pytest`` and under the ``pytest`` script alike, from any working directory
(``tests/events/test_drivers_import.py`` runs both in a subprocess to keep it that way).
"""

from __future__ import annotations

import threading
import uuid

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.bus import ExternalError
from rustok_sim.model.events.dispatcher import EventDispatcher, outcome_of
from rustok_sim.model.events.envelope import EventEnvelope


class DriverError(RuntimeError):
    """The test driver could not settle the dispatcher."""


def run_until_idle(dispatcher: EventDispatcher, *, max_steps: int = 1_000_000) -> int:
    """Run ready work inline and jump the dispatcher's clock (a `ManualClock`) to each retry
    deadline until nothing is left. Returns the number of handler invocations executed."""
    executed = 0
    clock = dispatcher.clock
    while executed < max_steps:
        work = dispatcher.next_work()
        if work is not None:
            dispatcher.complete(work, outcome_of(work.handler, work.envelope))
            executed += 1
            continue
        deadline = dispatcher.next_deadline()
        if deadline is None:
            return executed
        if not isinstance(clock, ManualClock):
            raise DriverError(f"a retry is due at t={deadline} but the clock {clock!r} is not a ManualClock")
        clock.set(max(deadline, clock()))
    raise DriverError(f"run_until_idle did not settle within {max_steps} invocations")


class RecordingTarget:
    """A relay target transport for tests: records the ids it is given, fails while `failures`
    remain (or always, with `fail_with`), and may take virtual time on `clock`. Thread-safe
    recording, for the tests that run relays on threads."""

    def __init__(self, failures: int = 0, *, fail_with: str | None = None, clock: ManualClock | None = None,
                 takes: float = 0.0) -> None:
        self.failures, self.fail_with, self.clock, self.takes = failures, fail_with, clock, takes
        self.published: list[uuid.UUID] = []
        self._lock = threading.Lock()

    def publish(self, envelope: EventEnvelope) -> None:
        with self._lock:
            self.published.append(envelope.id)
        if self.clock is not None and self.takes:
            self.clock.advance(self.takes)
        if self.fail_with is not None:
            raise ExternalError(self.fail_with)
        if self.failures:
            self.failures -= 1
            raise ExternalError("downstream unavailable")

    def publish_batch(self, envelopes: list[EventEnvelope]) -> None:
        for envelope in envelopes:
            self.publish(envelope)

    def acknowledge(self, event_id: uuid.UUID) -> None:
        return None

    def reliability_level(self) -> None:
        return None
