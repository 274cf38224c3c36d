"""Broken backpressure controllers, each a plausible bug, as target factories. The backpressure
suite must kill every one of them in both variants."""

from __future__ import annotations

from typing import Any

from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController

__all__ = ["MUTANTS"]


class _CriticalOneLate(BackpressureController):
    def __init__(self, config: BackpressureConfig) -> None:
        super().__init__(config, name="mutant")
        self._critical_depth += 1


class _AcceptsAtCritical(BackpressureController):
    """Rejects only above the critical depth (``>`` for ``>=``)."""

    def admit(self) -> bool:
        if self._depth == self._critical_depth and self._critical_depth < self._max_depth:
            self._critical_depth += 1
            try:
                return super().admit()
            finally:
                self._critical_depth -= 1
        return super().admit()


class _StaleStateOnRelease(BackpressureController):
    """Decrements the depth but never leaves Warning or Critical on the way down."""

    def release(self) -> None:
        state = self._state
        super().release()
        if self._depth != 0 or state is self._state:
            self._state = state


class _RejectionsUncounted(BackpressureController):
    def admit(self) -> bool:
        rejected = self._rejected
        admitted = super().admit()
        self._rejected = rejected
        return admitted


class _ReleasesTwice(BackpressureController):
    """One release gives back two slots (a slot released twice)."""

    def release(self) -> None:
        super().release()
        if self._depth > 0:
            super().release()


class _WarningCountsRejections(BackpressureController):
    def admit(self) -> bool:
        admitted = super().admit()
        if not admitted:
            self._warning_count += 1
        return admitted


def _factory(cls: type[BackpressureController]) -> Any:
    def build(config: BackpressureConfig, clock: Any) -> BackpressureController:
        return cls(config) if cls is _CriticalOneLate else cls(config, name="mutant")
    build.__name__ = cls.__name__.lstrip("_")
    return build


MUTANTS = {
    "critical_one_late": _factory(_CriticalOneLate),
    "accepts_at_critical": _factory(_AcceptsAtCritical),
    "stale_state_on_release": _factory(_StaleStateOnRelease),
    "rejections_uncounted": _factory(_RejectionsUncounted),
    "releases_twice": _factory(_ReleasesTwice),
    "warning_counts_rejections": _factory(_WarningCountsRejections),
}
