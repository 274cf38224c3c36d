"""Injected time for the model.

A clock is any zero-argument callable returning monotonic seconds as a float. The model never
reads the wall clock itself: simpy drivers pass ``lambda: env.now``, tests pass a `ManualClock`
and jump it, live runs pass `rustok_sim.adapters.realtime.monotonic_clock` (real time). Time-driven transitions (a breaker's
Open -> HalfOpen, a cache entry's TTL) are evaluated against the clock whenever a component is
asked, never by a timer.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable

Clock = Callable[[], float]
"""Monotonic seconds, as a float. Must never go backwards."""



def require_clock(clock: Clock | None, owner: str) -> Clock:
    """`clock` if it is callable, else a `TypeError` naming `owner`: no component silently
    defaults its clock, and a missing one fails at construction, not at the fifth call."""
    if not callable(clock):
        raise TypeError(f"{owner} needs clock= a zero-argument callable returning monotonic seconds "
                        f"(a ManualClock, lambda: env.now), got {type(clock).__name__}")
    return clock


class ClockError(ValueError):
    """A clock was asked to move backwards or by a non-finite amount."""


class ClockTypeError(ClockError, TypeError):
    """A clock was given something that is not a number of seconds."""


def _require_seconds(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClockTypeError(f"{where} takes seconds as a number, got {type(value).__name__} {value!r:.40}")


class ManualClock(functools.partial):
    """A clock that only moves when told to: `advance(seconds)` or `set(t)`.

    Call it to read the time, exactly like any other `Clock`. It is a `functools.partial` over
    a one-element list so that reading it (which the model does on every time-dependent call,
    millions of times in a sweep) is a C-level call rather than a Python method dispatch; that
    halves the cost of a breaker rejection's clock read.
    """

    def __new__(cls, start: float = 0.0) -> ManualClock:
        _require_seconds(start, "ManualClock start")
        if not math.isfinite(start):
            raise ClockError(f"clock start must be a finite number of seconds, got {start!r}")
        return super().__new__(cls, operator.getitem, [float(start)], 0)

    @property
    def now(self) -> float:
        return self.args[0][0]

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (>= 0) and return the new time."""
        _require_seconds(seconds, "ManualClock.advance")
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ClockError(f"clock can only advance by a finite, non-negative amount, got {seconds!r}")
        box = self.args[0]
        box[0] += seconds
        return box[0]

    def set(self, t: float) -> float:
        """Jump to absolute time `t`, which may not be earlier than now."""
        _require_seconds(t, "ManualClock.set")
        box = self.args[0]
        if not (math.isfinite(t) and t >= box[0]):
            raise ClockError(f"clock cannot move from {box[0]!r} to {t!r}: time is monotonic")
        box[0] = float(t)
        return box[0]

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now!r})"

    def __reduce__(self):  # pickle as what it is, not as a partial
        return (ManualClock, (self.now,))
