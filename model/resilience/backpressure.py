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

`PROFILE_VARIANTS` maps the faithful and hardened profiles to these two.

The table decides: the stored state changes only through `TRANSITIONS` (its bound
`Machine.fire`), observed or not, on a trigger that names the depth condition that held
(``warning_depth_reached``, ``critical_depth_reached``, ``below_critical``, ``below_warning``,
``release_wrap``). An acquire or release only fires when the depth lands on a threshold, so the
hot path is two integer comparisons; ``state == state_at(depth)`` holds after every operation.

State outside the table: the depth itself (a usize; the state is a function of it, but the depth
has 2**64 values, so it is a counter the triggers read, not a state) and the reporting counters
of `metrics()` (accepted, rejected, warning_count, critical_count). The two threshold depths are
fixed at construction.

The model is single-threaded: Rust's load-then-increment race (overshooting critical depth under
concurrency) is something a driver can stage by interleaving, not something this object does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.rust import USIZE_MAX, usize_from_f64
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.core.transitions import Edge, TransitionTable

__all__ = ["COMPONENT", "PROFILE_VARIANTS", "TRANSITIONS", "USIZE_MAX", "BackpressureConfig",
           "BackpressureController", "BackpressureError", "BackpressureMetrics", "BackpressureState",
           "Variant", "usize_from_f64"]

COMPONENT: Final = "backpressure"

Variant = Literal["faithful", "hardened"]

PROFILE_VARIANTS: Final[dict[str, Variant]] = {"faithful": "faithful", "hardened": "hardened"}


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
    Edge("normal", "warning", "warning_depth_reached", "an acquire brings the depth to warning_depth"),
    Edge("normal", "critical", "critical_depth_reached",
         "an acquire brings the depth to critical_depth (== warning_depth)"),
    Edge("warning", "critical", "critical_depth_reached", "an acquire brings the depth to critical_depth"),
    Edge("critical", "warning", "below_critical",
         "a release takes the depth below critical_depth, still >= warning_depth"),
    Edge("critical", "normal", "below_warning",
         "a release takes the depth below warning_depth (== critical_depth)"),
    Edge("warning", "normal", "below_warning", "a release takes the depth below warning_depth"),
    Edge("normal", "critical", "release_wrap", "release at depth 0 wraps the usize",
         frozenset({"faithful"})),
    Edge("warning", "critical", "release_wrap", "release at depth 0 wraps the usize when warning_depth is 0",
         frozenset({"faithful"})),
), states=BackpressureState)
"""Every legal state change, with what fires it. Code, coverage and diagrams read this table."""


class BackpressureConfig(BaseModel):
    """Spec §2.1. Validation is what Rust's `new()` asserts (warning < critical <= 1.0), applied
    to every config, plus finite numbers. `Default` values pass it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    max_queue_depth: int = Field(10_000, ge=0, le=USIZE_MAX, description="base for thresholds (events)")
    warning_threshold: float = Field(0.7, allow_inf_nan=False, description="fraction of max")
    critical_threshold: float = Field(0.9, allow_inf_nan=False, description="fraction of max")
    variant: Variant = "faithful"

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


@dataclass(frozen=True, slots=True)
class BackpressureMetrics:
    """Snapshot of spec §2.3's fields. `warning_count` counts calls accepted while in Warning;
    `critical_count` counts rejected calls (so it always equals `events_rejected`)."""

    current_depth: int
    max_depth: int
    state: BackpressureState
    events_accepted: int
    events_rejected: int
    warning_count: int
    critical_count: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)




class BackpressureController:
    """Counts events between `admit()` / `try_acquire()` and `release()`; rejects at the
    critical depth. Takes no clock: nothing it does depends on time.

    Reports to `observer` (if any, and only the kinds it keeps): a ``transition`` whenever the
    state changes, a ``decision`` for each rejection (accepts are the hot path and are counted,
    not traced) and an ``anomaly`` for a release at depth 0.
    """

    __slots__ = ("config", "name", "_machine", "_transitions", "_decisions", "_anomalies", "_state",
                 "_depth", "_accepted", "_rejected", "_warning_count", "_warning_depth",
                 "_critical_depth", "_max_depth", "_saturate")

    def __init__(self, config: BackpressureConfig | None = None, *, observer: Observer | None = None,
                 name: str = COMPONENT) -> None:
        if config is None:
            config = BackpressureConfig()
        elif not isinstance(config, BackpressureConfig):
            raise TypeError(f"BackpressureController expects config= a BackpressureConfig, got "
                            f"{given(config, BackpressureConfig)}; build one with "
                            f"BackpressureConfig(max_queue_depth, warning, critical) or "
                            f"BackpressureConfig.model_validate(data)")
        self.config = config
        self.name = require_name(name, "BackpressureController")
        observer = require_observer(observer, f"BackpressureController {name!r}")
        self._machine = TRANSITIONS.bind(config.variant)
        self._transitions = observer_for(observer, "transition", COMPONENT)
        self._decisions = observer_for(observer, "decision", COMPONENT)
        self._anomalies = observer_for(observer, "anomaly", COMPONENT)
        self._depth = 0
        self._accepted = 0
        self._rejected = 0  # Rust's events_rejected and critical_count: always equal
        self._warning_count = 0
        self._warning_depth = config.warning_depth()
        self._critical_depth = config.critical_depth()
        self._max_depth = config.max_queue_depth
        self._saturate = config.variant == "hardened"
        self._state = self.state_at(0)  # the start state; Warning or Critical when a depth is 0

    # -- reading -------------------------------------------------------------------------

    def state_at(self, depth: int) -> BackpressureState:
        """The state Rust derives from `depth` (inclusive lower bounds)."""
        if depth >= self._critical_depth:
            return _C
        if depth >= self._warning_depth:
            return _W
        return _N

    @property
    def state(self) -> BackpressureState:
        """Rust's `state()`: always the state of the live depth."""
        return self._state

    @property
    def current_depth(self) -> int:
        return self._depth

    @property
    def max_depth(self) -> int:
        return self._max_depth

    @property
    def warning_depth(self) -> int:
        return self._warning_depth

    @property
    def critical_depth(self) -> int:
        return self._critical_depth

    @property
    def variant(self) -> Variant:
        return self.config.variant

    def metrics(self) -> BackpressureMetrics:
        return BackpressureMetrics(self._depth, self._max_depth, self._state, self._accepted,
                                   self._rejected, self._warning_count, self._rejected)

    # -- operations ----------------------------------------------------------------------

    def admit(self) -> bool:
        """Take one slot (True) or reject (False) at or above the critical depth, without
        raising: the one admission decision. A rejection is counted and observed exactly as
        `try_acquire`'s."""
        depth = self._depth
        if depth >= self._critical_depth:
            self._rejected += 1
            if self._decisions is not None:
                self._decisions.decision(COMPONENT, self.name, "rejected", "queue_full",
                                         {"depth": depth, "critical_depth": self._critical_depth})
            return False
        if depth >= self._warning_depth:
            self._warning_count += 1
        self._accepted += 1
        depth += 1
        self._depth = depth
        if depth == self._critical_depth:
            self._state = self._machine.fire(self._state, "critical_depth_reached", self._transitions,
                                             self.name)
        elif depth == self._warning_depth:
            self._state = self._machine.fire(self._state, "warning_depth_reached", self._transitions,
                                             self.name)
        return True

    def try_acquire(self) -> None:
        """Take one slot, or raise `BackpressureError` (QueueFull) at or above critical depth."""
        if not self.admit():
            raise BackpressureError("QueueFull", self._depth, self._max_depth)

    def release(self) -> None:
        """Give one slot back. At depth 0 this is a caller bug: faithful wraps, hardened saturates."""
        depth = self._depth
        if depth == 0:
            self._release_at_zero()
            return
        self._depth = depth - 1
        # Leaving a threshold depth is the only way down out of a state (see the table).
        if depth == self._warning_depth:
            self._state = self._machine.fire(self._state, "below_warning", self._transitions, self.name)
        elif depth == self._critical_depth:
            self._state = self._machine.fire(self._state, "below_critical", self._transitions, self.name)

    def _release_at_zero(self) -> None:
        new_depth = 0 if self._saturate else USIZE_MAX  # usize 0 - 1 wraps in release builds
        self._depth = new_depth
        if self._anomalies is not None:
            self._anomalies.anomaly(
                COMPONENT, self.name, "release_at_zero",
                "release() called with depth already at 0; "
                + ("depth saturated at 0" if self._saturate else f"usize wrapped to {USIZE_MAX}"),
                {"depth_after": new_depth})
        if self._state is not self.state_at(new_depth):
            self._state = self._machine.fire(self._state, "release_wrap", self._transitions, self.name)

    def reset_metrics(self) -> None:
        """Zero the counters, not the depth (Rust has this under cfg(test) only)."""
        self._accepted = self._rejected = self._warning_count = 0

    def __repr__(self) -> str:
        return (f"BackpressureController(depth={self._depth}, state={self._state.value}, "
                f"warning_depth={self._warning_depth}, critical_depth={self._critical_depth})")
