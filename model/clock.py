"""Injected time for the model.

A clock is any zero-argument callable returning monotonic seconds as a float. The model never
reads the wall clock itself: simpy drivers pass ``lambda: env.now``, tests pass a `ManualClock`
and jump it, live adapters pass `monotonic_clock` (real time). Time-driven transitions (a breaker's
Open -> HalfOpen, a cache entry's TTL) are evaluated against the clock whenever a component is
asked, never by a timer.
"""

from __future__ import annotations

import math
import time
from typing import Callable

Clock = Callable[[], float]
"""Monotonic seconds, as a float. Must never go backwards."""

monotonic_clock: Clock = time.monotonic
"""Real monotonic time, for live adapters only (scenarios and tests use virtual clocks)."""


class ClockError(ValueError):
    """A clock was asked to move backwards or by a non-finite amount."""


class ManualClock:
    """A clock that only moves when told to: `advance(seconds)` or `set(t)`.

    Call it to read the time, exactly like any other `Clock`.
    """

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        if not math.isfinite(start):
            raise ClockError(f"clock start must be a finite number of seconds, got {start!r}")
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    @property
    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (>= 0) and return the new time."""
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ClockError(f"clock can only advance by a finite, non-negative amount, got {seconds!r}")
        self._now += seconds
        return self._now

    def set(self, t: float) -> float:
        """Jump to absolute time `t`, which may not be earlier than now."""
        if not (math.isfinite(t) and t >= self._now):
            raise ClockError(f"clock cannot move from {self._now!r} to {t!r}: time is monotonic")
        self._now = float(t)
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"
