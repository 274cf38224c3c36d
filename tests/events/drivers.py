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

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.dispatcher import EventDispatcher, outcome_of


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
