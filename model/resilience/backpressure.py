"""Backpressure controller, as in `rustok-core/src/events/backpressure.rs` (spec §2).

A counter of in-flight events with two thresholds. The state is a pure function of the depth:
``depth >= critical_depth`` is Critical, else ``depth >= warning_depth`` is Warning, else Normal.
`try_acquire` rejects only in Critical, so rejection starts at the critical depth (90 % by
default), never at ``max_queue_depth``, which is only a base for the thresholds and a number in
messages.

Both depths are ``(max as f64 * fraction) as usize``: truncation, saturating at 0 and at
``usize::MAX`` (so ``100 * 0.29`` is 28, not 29).

Variants:
- ``faithful`` (default): `release()` at depth 0 wraps the usize to ``2**64 - 1``, as Rust does
  after its warn log. From then on the state is Critical and every acquire is rejected until
  enough releases wrap it back, which never happens in practice. An ``anomaly`` is recorded.
- ``hardened``: the depth saturates at 0; the same ``anomaly`` is recorded, so a double release
  is still visible.

The model is single-threaded: Rust's load-then-increment race (overshooting critical depth under
concurrency) is something a driver can stage by interleaving, not something this object does.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.core.transitions import Edge, TransitionTable

USIZE_MAX = 2**64 - 1
COMPONENT = "backpressure"


def usize_from_f64(value: float) -> int:
    """Rust's ``f64 as usize``: truncate toward zero, NaN and negatives to 0, saturate at max."""
    if math.isnan(value) or value <= 0:
        return 0
    if value >= USIZE_MAX:
        return USIZE_MAX
    return int(value)


class BackpressureState(str, Enum):
    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"

    def is_critical(self) -> bool:
        return self is BackpressureState.CRITICAL

    def is_degraded(self) -> bool:
        return self is not BackpressureState.NORMAL


_N, _W, _C = BackpressureState.NORMAL, BackpressureState.WARNING, BackpressureState.CRITICAL

TRANSITIONS = TransitionTable(COMPONENT, (
    Edge("normal", "warning", "acquire", "depth reaches warning_depth"),
    Edge("normal", "critical", "acquire", "depth reaches critical_depth == warning_depth"),
    Edge("warning", "critical", "acquire", "depth reaches critical_depth"),
    Edge("critical", "warning", "release", "depth drops below critical_depth, still >= warning_depth"),
    Edge("critical", "normal", "release", "depth drops below critical_depth and warning_depth"),
    Edge("warning", "normal", "release", "depth drops below warning_depth"),
    Edge("normal", "critical", "release_wrap", "release at depth 0 wraps the usize",
         frozenset({"faithful"})),
    Edge("warning", "critical", "release_wrap", "release at depth 0 wraps the usize when warning_depth is 0",
         frozenset({"faithful"})),
))
"""Every legal state change, with what fires it. Code, coverage and diagrams read this table."""


class BackpressureConfig(BaseModel):
    """Spec §2.1. Validation is what Rust's `new()` asserts (warning < critical <= 1.0), applied
    to every config, plus finite numbers. `Default` values pass it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_queue_depth: int = Field(10_000, ge=0, le=USIZE_MAX, description="base for thresholds (events)")
    warning_threshold: float = Field(0.7, allow_inf_nan=False, description="fraction of max")
    critical_threshold: float = Field(0.9, allow_inf_nan=False, description="fraction of max")
    variant: Literal["faithful", "hardened"] = "faithful"

    def __init__(self, *args: Any, **data: Any) -> None:
        """Fields by keyword, or positionally in field order like Rust's `new(max, warning,
        critical)`: ``BackpressureConfig(1000, 0.6, 0.8)``."""
        if args:
            names = tuple(type(self).model_fields)
            if len(args) > len(names):
                raise TypeError(f"BackpressureConfig takes at most {len(names)} positional arguments "
                                f"({len(args)} given)")
            for name, value in zip(names, args):
                if name in data:
                    raise TypeError(f"BackpressureConfig got multiple values for argument {name!r}")
                data[name] = value
        super().__init__(**data)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> BackpressureConfig:
        if not self.warning_threshold < self.critical_threshold:
            raise ValueError(
                f"warning_threshold must be less than critical_threshold "
                f"(got warning_threshold={self.warning_threshold}, critical_threshold={self.critical_threshold})")
        if not self.critical_threshold <= 1.0:
            raise ValueError(f"critical_threshold must be <= 1.0 (got {self.critical_threshold})")
        return self

    def warning_depth(self) -> int:
        return usize_from_f64(float(self.max_queue_depth) * self.warning_threshold)

    def critical_depth(self) -> int:
        return usize_from_f64(float(self.max_queue_depth) * self.critical_threshold)


class BackpressureError(Exception):
    """Rust's `BackpressureError`. Only ``QueueFull`` is ever raised by the controller;
    ``WarningThreshold`` exists in Rust but no code returns it."""

    def __init__(self, kind: Literal["QueueFull", "WarningThreshold"], current: int, max: int) -> None:
        self.kind, self.current, self.max = kind, current, max
        super().__init__(self._display())

    def _display(self) -> str:
        if self.kind == "QueueFull":
            return f"Event queue is at critical capacity ({self.current}/{self.max}), rejecting events"
        return f"Event queue depth ({self.current}/{self.max}) exceeds warning threshold"


class BackpressureMetrics:
    """Snapshot of spec §2.3's fields. `warning_count` counts calls accepted while in Warning;
    `critical_count` counts rejected calls (so it always equals `events_rejected`)."""

    __slots__ = ("current_depth", "max_depth", "state", "events_accepted", "events_rejected",
                 "warning_count", "critical_count")

    def __init__(self, current_depth: int, max_depth: int, state: BackpressureState,
                 events_accepted: int, events_rejected: int, warning_count: int,
                 critical_count: int) -> None:
        self.current_depth, self.max_depth, self.state = current_depth, max_depth, state
        self.events_accepted, self.events_rejected = events_accepted, events_rejected
        self.warning_count, self.critical_count = warning_count, critical_count

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return f"BackpressureMetrics({self.as_dict()!r})"


class BackpressureController:
    """Counts events between `try_acquire()` and `release()`; rejects at the critical depth.

    Reports to `observer` (if any): a ``transition`` whenever the derived state changes, a
    ``decision`` for each rejection (accepts are the hot path and are counted, not traced) and
    an ``anomaly`` for a release at depth 0.
    """

    __slots__ = ("config", "name", "observer", "depth", "events_accepted", "events_rejected",
                 "warning_count", "critical_count", "_warning_depth", "_critical_depth",
                 "_max_depth", "_saturate")

    def __init__(self, config: BackpressureConfig | None = None, *, observer: Observer | None = None,
                 name: str = COMPONENT) -> None:
        self.config = config if config is not None else BackpressureConfig()
        self.name = name
        self.observer = observer
        self.depth = 0
        self.events_accepted = 0
        self.events_rejected = 0
        self.warning_count = 0
        self.critical_count = 0
        self._warning_depth = self.config.warning_depth()
        self._critical_depth = self.config.critical_depth()
        self._max_depth = self.config.max_queue_depth
        self._saturate = self.config.variant == "hardened"

    # -- derived state -------------------------------------------------------------------

    def _state_at(self, depth: int) -> BackpressureState:
        if depth >= self._critical_depth:
            return _C
        if depth >= self._warning_depth:
            return _W
        return _N

    @property
    def state(self) -> BackpressureState:
        return self._state_at(self.depth)

    @property
    def current_depth(self) -> int:
        return self.depth

    @property
    def max_depth(self) -> int:
        return self._max_depth

    @property
    def warning_depth(self) -> int:
        return self._warning_depth

    @property
    def critical_depth(self) -> int:
        return self._critical_depth

    # -- operations ----------------------------------------------------------------------

    def try_acquire(self) -> None:
        """Take one slot, or raise `BackpressureError` (QueueFull) at or above critical depth."""
        depth = self.depth
        if depth >= self._critical_depth:
            self.events_rejected += 1
            self.critical_count += 1
            error = BackpressureError("QueueFull", depth, self._max_depth)
            if self.observer is not None:
                self.observer.decision(COMPONENT, self.name, "rejected", "queue_full",
                                       {"depth": depth, "critical_depth": self._critical_depth})
            raise error
        if depth >= self._warning_depth:
            self.warning_count += 1
        self.events_accepted += 1
        self.depth = depth + 1
        if self.observer is not None:
            self._report_change(depth, depth + 1, "acquire")

    def release(self) -> None:
        """Give one slot back. At depth 0 this is a caller bug: faithful wraps, hardened saturates."""
        depth = self.depth
        if depth == 0:
            new_depth = 0 if self._saturate else USIZE_MAX
            self.depth = new_depth
            if self.observer is not None:
                self.observer.anomaly(
                    COMPONENT, self.name, "release_at_zero",
                    "release() called with depth already at 0; "
                    + ("depth saturated at 0" if self._saturate else f"usize wrapped to {USIZE_MAX}"),
                    {"depth_after": new_depth})
                self._report_change(0, new_depth, "release_wrap")
            return
        self.depth = depth - 1
        if self.observer is not None:
            self._report_change(depth, depth - 1, "release")

    def _report_change(self, before: int, after: int, trigger: str) -> None:
        source, target = self._state_at(before), self._state_at(after)
        if source is target:
            return
        TRANSITIONS.check(source.value, target.value, trigger, self.config.variant)
        self.observer.transition(COMPONENT, self.name, source.value, target.value, trigger)  # type: ignore[union-attr]

    def metrics(self) -> BackpressureMetrics:
        return BackpressureMetrics(self.depth, self._max_depth, self.state, self.events_accepted,
                                   self.events_rejected, self.warning_count, self.critical_count)

    def reset_metrics(self) -> None:
        """Zero the counters, not the depth (Rust has this under cfg(test) only)."""
        self.events_accepted = self.events_rejected = self.warning_count = self.critical_count = 0

    def __repr__(self) -> str:
        return (f"BackpressureController(depth={self.depth}, state={self.state.value}, "
                f"warning_depth={self._warning_depth}, critical_depth={self._critical_depth})")
