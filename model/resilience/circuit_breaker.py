"""Circuit breaker, both Rust implementations plus a hardened one (spec §1).

Variants (``CircuitBreakerConfig.variant``):

- ``resilience`` (default): CB-B, ``rustok-core/src/resilience/circuit_breaker.rs``, the breaker
  that survives. The half-open limit counts *every* probe admitted in the episode and is never
  decremented, so with ``success_threshold > half_open_max_requests + 1`` the breaker can stay
  half-open forever; a late failure while Open pushes the open period forward; totals and
  rates as in Rust.
- ``standalone``: CB-A, ``rustok-core/src/circuit_breaker.rs`` (deleted 02-14). The outcome of a
  call is judged by the state the call *started* in; the half-open limit caps in-flight probes,
  and the probe that closes the circuit decrements its counter after the close has zeroed it, so
  the u32 wraps (recorded as an anomaly; Rust does it silently). Rust's CB-A keeps no totals;
  the model keeps them anyway so the same stats and invariants apply.
- ``hardened``: what the later Rust rewrite ("maximum concurrently executing half-open probes")
  and the guide promise. The half-open limit caps in-flight probes (the transition probe
  included), every permit belongs to an *episode* and an outcome only moves the state machine if
  it belongs to the current episode, so a slow call admitted while Closed cannot extend an Open
  period or close a half-open circuit, and ``reset()`` does not let stale outcomes skew totals.
  Each half-open episode starts its success count afresh (as CB-A and the rewrite do), so
  successes of an episode ended by ``open()`` do not count towards closing the next one.
  Zero thresholds are rejected at construction. With in-flight counting the breaker always
  leaves HalfOpen: every admitted probe finishes, frees its place, and the next probes come in
  until ``success_threshold`` successes close it or one failure opens it.

Time is the injected clock; Open -> HalfOpen is lazy, evaluated on the next admission attempt
(there is no timer in Rust either, so `state` keeps saying Open after the timeout until a call).
"elapsed >= timeout" is evaluated as ``last_failure_time + timeout <= now``, one expression for
every path, so a clock advanced by exactly `timeout` after the trip always admits the probe.

The split protocol is ``permit = try_acquire()`` then ``on_success(permit)`` or
``on_failure(permit)``; `call(fn)` is built on the same logic. `TRANSITIONS` is the one table of
legal state changes; the code fires them through `_move`, and coverage and diagrams read it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rustok_sim.model.core.clock import Clock
from rustok_sim.model.core.trace import Observer
from rustok_sim.model.core.transitions import Edge, TransitionTable

T = TypeVar("T")
U32_MAX = 2**32 - 1
COMPONENT = "circuit_breaker"


class CircuitState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    def as_str(self) -> str:
        return self.value

    def as_u8(self) -> int:
        return _STATE_CODE[self]


_CLOSED, _OPEN, _HALF = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN
_STATE_CODE = {_CLOSED: 0, _OPEN: 1, _HALF: 2}

Variant = Literal["resilience", "standalone", "hardened"]


_ALL = None  # every variant
_CB_B = frozenset({"resilience", "hardened"})  # CB-A has no open()/close()
_CB_A = frozenset({"standalone"})

TRANSITIONS = TransitionTable(COMPONENT, (
    Edge("closed", "open", "failure_threshold", "consecutive failures >= failure_threshold", _ALL),
    Edge("open", "half_open", "timeout_elapsed", "a call arrives >= timeout after the circuit opened", _ALL),
    Edge("half_open", "closed", "success_threshold", "half-open successes >= success_threshold", _ALL),
    Edge("half_open", "open", "probe_failed", "any failure of a half-open probe", _ALL),
    Edge("closed", "open", "manual_open", "open() called", _CB_B),
    Edge("half_open", "open", "manual_open", "open() called", _CB_B),
    Edge("open", "closed", "manual_close", "close() called", _CB_B),
    Edge("half_open", "closed", "manual_close", "close() called", _CB_B),
    Edge("open", "closed", "reset", "reset() called", _ALL),
    Edge("half_open", "closed", "reset", "reset() called", _ALL),
    # CB-A judges an outcome by the state the call started in, so outcomes can land late:
    Edge("half_open", "open", "failure_threshold", "late failure of a call admitted while Closed", _CB_A),
    Edge("closed", "open", "probe_failed", "late failure of a half-open probe after a close", _CB_A),
    Edge("open", "closed", "success_threshold", "late success of a half-open probe after a trip", _CB_A),
))
"""Every legal state change, with its trigger, guard and the variants that have it."""


def rust_f64_display(value: float) -> str:
    """Rust's `Display` for f64: shortest round-trip digits, never an exponent, no trailing
    ".0" (so 1.0 prints "1" and 2/3 prints "0.6666666666666666")."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class CircuitBreakerConfig(BaseModel):
    """Spec §1.1. Rust validates nothing, so faithful variants accept zero thresholds (the first
    failure trips, the first half-open success closes); ``hardened`` requires them >= 1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_threshold: int = Field(5, ge=0, le=U32_MAX, description="consecutive failures that trip")
    success_threshold: int = Field(2, ge=0, le=U32_MAX, description="half-open successes that close")
    timeout: float = Field(60.0, ge=0, allow_inf_nan=False, description="seconds Open before a probe")
    half_open_max_requests: int | None = Field(3, ge=0, le=U32_MAX,
                                               description="half-open admission limit; None = unlimited")
    variant: Variant = "resilience"

    @model_validator(mode="after")
    def _variant_rules(self) -> CircuitBreakerConfig:
        if self.variant == "standalone" and self.half_open_max_requests is None:
            raise ValueError("half_open_max_requests cannot be None for variant 'standalone' "
                             "(CB-A's limit is a plain u32)")
        if self.variant == "hardened":
            for field in ("failure_threshold", "success_threshold", "half_open_max_requests"):
                if getattr(self, field) is not None and getattr(self, field) < 1:
                    raise ValueError(f"{field} must be >= 1 for variant 'hardened' (got {getattr(self, field)})")
        return self


class CircuitOpenError(Exception):
    """The call was rejected without running.

    `state` is the state that rejected it; `retry_after` the seconds until a probe may be
    admitted (None when a saturated half-open limit rejected it, which no timeout ends). `str()`
    is Rust's Display text. Built on BaseException's C-level init (args = message, state,
    retry_after) because a rejection is a hot path and a Python __init__ triples its cost."""

    __slots__ = ()

    @property
    def state(self) -> CircuitState:
        return self.args[1]

    @property
    def retry_after(self) -> float | None:
        return self.args[2]

    def __str__(self) -> str:
        return self.args[0]


# Display texts of the Open error per Rust version (CB-A; CB-B from 02-14).
_OPEN_MESSAGE = {
    "standalone": "Circuit breaker is open",
    "resilience": "Circuit breaker is open, requests blocked",
    "hardened": "Circuit breaker is open, requests blocked",
}


class Permit:
    """An admitted call, to be finished with exactly one `on_success` / `on_failure`.

    `started_in` is the state the call was admitted in; `counted` says whether it took a
    half-open place; `episode` ties it to one state period (used by ``hardened``), `epoch` to
    one `reset()` period. `done` is None for the shared permit `call()` uses on its fast path."""

    __slots__ = ("started_in", "counted", "episode", "epoch", "done")

    def __init__(self, started_in: CircuitState, counted: bool, episode: int, epoch: int,
                 tracked: bool = True) -> None:
        self.started_in, self.counted, self.episode, self.epoch = started_in, counted, episode, epoch
        self.done: bool | None = False if tracked else None

    def __repr__(self) -> str:
        return f"Permit(started_in={self.started_in.value}, counted={self.counted}, episode={self.episode}, done={self.done})"


class PermitError(RuntimeError):
    """A permit was finished twice or given to a breaker that did not issue it."""


class CircuitBreakerStats:
    """CB-B's `CircuitBreakerStats`, plus `in_flight` and `half_open_requests` for invariants.

    Invariant (until a `reset()` with calls still in flight, which Rust lets skew the totals):
    ``total_requests == total_successes + total_failures + total_rejected + in_flight``."""

    __slots__ = ("state", "total_requests", "total_successes", "total_failures", "total_rejected",
                 "state_transitions", "failure_count", "success_count", "in_flight",
                 "half_open_requests")

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values[name])

    def success_rate(self) -> float:
        """successes / requests (rejections included in the denominator); 1.0 with no requests."""
        return self.total_successes / self.total_requests if self.total_requests else 1.0

    def rejection_rate(self) -> float:
        """rejected / requests; 0.0 with no requests."""
        return self.total_rejected / self.total_requests if self.total_requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["state"] = self.state.value
        out["success_rate"] = self.success_rate()
        out["rejection_rate"] = self.rejection_rate()
        return out

    def __repr__(self) -> str:
        return f"CircuitBreakerStats({self.as_dict()!r})"


class CircuitBreaker:
    """A circuit breaker on an injected clock; see the module docstring for the variants.

    Observer records: ``transition`` for each state change (cause = trigger of `TRANSITIONS`),
    ``decision`` ``rejected`` for each rejected call, ``anomaly`` for a wrapped counter, a permit
    finished twice, or totals skewed by a reset with calls in flight.
    """

    __slots__ = ("config", "clock", "observer", "name", "_state", "failure_count", "success_count",
                 "half_open_requests", "last_failure_time", "total_requests", "total_successes",
                 "total_failures", "total_rejected", "state_transitions", "in_flight", "_episode",
                 "_epoch", "_variant", "_failure_threshold", "_success_threshold", "_timeout",
                 "_half_open_max", "_open_message", "_closed_permit", "_shared_closed_permit")

    def __init__(self, config: CircuitBreakerConfig | None = None, *, clock: Clock,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        self.config = config if config is not None else CircuitBreakerConfig()
        self.clock = clock
        self.observer = observer
        self.name = name
        self._variant = self.config.variant
        self._failure_threshold = self.config.failure_threshold
        self._success_threshold = self.config.success_threshold
        self._timeout = self.config.timeout
        self._half_open_max = self.config.half_open_max_requests
        self._open_message = _OPEN_MESSAGE[self._variant]
        self._state = _CLOSED
        self.failure_count = 0
        self.success_count = 0
        self.half_open_requests = 0
        self.last_failure_time: float | None = None
        self.total_requests = 0
        self.total_successes = 0
        self.total_failures = 0
        self.total_rejected = 0
        self.state_transitions = 0
        self.in_flight = 0
        self._episode = 0  # bumped on every state change; hardened outcomes must match it
        self._epoch = 0  # bumped on reset(); outcomes of older permits skew the totals
        self._closed_permit = Permit(_CLOSED, False, 0, 0, tracked=False)
        # CB-B judges an outcome by the current state, not the permit, so `call()` can share one.
        self._shared_closed_permit = self._variant == "resilience"

    # -- reading ---------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The stored state. Lazy like Rust: Open stays Open after the timeout until a call."""
        return self._state

    @property
    def variant(self) -> str:
        return self._variant

    def stats(self) -> CircuitBreakerStats:
        return CircuitBreakerStats(
            state=self._state, total_requests=self.total_requests,
            total_successes=self.total_successes, total_failures=self.total_failures,
            total_rejected=self.total_rejected, state_transitions=self.state_transitions,
            failure_count=self.failure_count, success_count=self.success_count,
            in_flight=self.in_flight, half_open_requests=self.half_open_requests)

    # -- transitions -----------------------------------------------------------------------

    def _move(self, target: CircuitState, trigger: str) -> None:
        source = self._state
        TRANSITIONS.check(source.value, target.value, trigger, self._variant)
        self._state = target
        self._episode += 1
        if self._variant != "standalone":
            self.state_transitions += 1
        if self.observer is not None:
            self.observer.transition(COMPONENT, self.name, source.value, target.value, trigger)

    def _trip(self, trigger: str) -> None:
        """Go to Open, stamping the open time (the spec's `last_failure_time = now`)."""
        self.last_failure_time = self.clock()
        if self._state is _OPEN:  # CB-A re-trip while already Open: time moves, state does not
            return
        self._move(_OPEN, trigger)

    def _anomaly(self, kind: str, message: str, **detail: Any) -> None:
        if self.observer is not None:
            self.observer.anomaly(COMPONENT, self.name, kind, message, detail or None)

    # -- admission ------------------------------------------------------------------------

    def try_acquire(self) -> Permit:
        """Admit a call (returning its permit) or raise `CircuitOpenError`."""
        self.total_requests += 1
        state = self._state
        if state is _CLOSED:
            self.in_flight += 1
            return Permit(_CLOSED, False, self._episode, self._epoch)
        return self._admit_slow(state)

    def _admit_slow(self, state: CircuitState) -> Permit:
        if state is _OPEN:
            lft = self.last_failure_time
            # "elapsed >= timeout", tested as "the deadline lft + timeout has been reached": the
            # same float expression as `call()`'s fast path, and exact for a clock advanced by
            # `timeout` from the trip (`now - lft` can round below `timeout`).
            wait = None if lft is None else lft + self._timeout - self.clock()
            if wait is not None and wait <= 0:
                self.half_open_requests = 0
                if self._variant != "resilience":  # CB-A; hardened: successes are per episode
                    self.success_count = 0
                self._move(_HALF, "timeout_elapsed")
                # The transition probe is not counted in Rust; hardened counts it in-flight.
                counted = self._variant == "hardened"
                if counted:
                    self.half_open_requests = 1
                self.in_flight += 1
                return Permit(_HALF, counted, self._episode, self._epoch)
            raise self._reject(state, wait)
        limit = self._half_open_max
        if limit is not None and self.half_open_requests >= limit:
            raise self._reject(state, None)
        self.half_open_requests += 1
        self.in_flight += 1
        return Permit(_HALF, True, self._episode, self._epoch)

    def _reject(self, state: CircuitState, retry_after: float | None) -> CircuitOpenError:
        self.total_rejected += 1
        if self.observer is not None:
            self.observer.decision(COMPONENT, self.name, "rejected", f"circuit_{state.value}",
                                   {"retry_after": retry_after})
        return CircuitOpenError(self._open_message, state, retry_after)

    # -- outcomes ---------------------------------------------------------------------------

    def _finish(self, permit: Permit) -> bool:
        """Close out the permit's bookkeeping; False when its outcome must not touch anything."""
        done = permit.done
        if done:
            self._anomaly("permit_reused", "a permit was finished twice; the second outcome is ignored")
            raise PermitError("permit already finished")
        if done is not None:
            permit.done = True
        if permit.epoch != self._epoch:
            # Issued before reset(): Rust still adds the outcome to the zeroed totals.
            if self._variant == "hardened":
                return False
            self._anomaly("stats_skew", "an outcome of a call started before reset() lands in the "
                                        "zeroed totals; requests no longer equal outcomes")
            return True
        self.in_flight -= 1
        return True

    def on_success(self, permit: Permit) -> None:
        """Record that the admitted call succeeded."""
        if self._finish(permit):
            self._record(permit, True)
            self.total_successes += 1

    def on_failure(self, permit: Permit) -> None:
        """Record that the admitted call failed."""
        if self._finish(permit):
            self._record(permit, False)
            self.total_failures += 1

    def _record(self, permit: Permit, ok: bool) -> None:
        variant = self._variant
        if variant == "standalone":
            self._standalone_outcome(permit, ok)
            return
        if variant == "hardened":
            current = permit.episode == self._episode
            if permit.counted and current:
                self.half_open_requests -= 1
            if not current:
                return  # a stale outcome: the state it was admitted in is gone
        self._outcome_in_current_state(ok)

    def _outcome_in_current_state(self, ok: bool) -> None:
        """CB-B: an outcome is judged by the state the breaker is in *now*."""
        state = self._state
        if state is _CLOSED:
            if ok:
                self.failure_count = 0
            else:
                self.failure_count += 1
                if self.failure_count >= self._failure_threshold:
                    self.success_count = 0
                    self._trip("failure_threshold")
        elif state is _HALF:
            if ok:
                self.success_count += 1
                if self.success_count >= self._success_threshold:
                    self._close_from_half_open()
            else:
                self.failure_count = self.success_count = self.half_open_requests = 0
                self._trip("probe_failed")
        elif not ok:
            # Open (a call admitted earlier fails late): the open period is extended. A success
            # while Open changes nothing (Rust logs "Unexpected success in Open state"). Hardened
            # never gets here: a permit from before the trip is stale.
            self.last_failure_time = self.clock()

    def _close_from_half_open(self) -> None:
        self.failure_count = self.success_count = self.half_open_requests = 0
        self._move(_CLOSED, "success_threshold")

    def _standalone_outcome(self, permit: Permit, ok: bool) -> None:
        if permit.started_in is _CLOSED:
            if ok:
                self.failure_count = 0
            else:
                self.failure_count = (self.failure_count + 1) & U32_MAX  # AtomicU32::fetch_add wraps
                if self.failure_count >= self._failure_threshold:
                    self._trip("failure_threshold")
        else:
            if ok:
                self.success_count += 1
                if self.success_count >= self._success_threshold:
                    # CB-A's close() runs whatever the state is by now, even Open after a trip.
                    self.failure_count = self.success_count = self.half_open_requests = 0
                    if self._state is not _CLOSED:
                        self._move(_CLOSED, "success_threshold")
            else:
                self._trip("probe_failed")
            if permit.counted:  # the decrement after the probe, which may wrap after a close
                if self.half_open_requests == 0:
                    self.half_open_requests = U32_MAX
                    self._anomaly("counter_wrap", "half_open_requests decremented at 0 and wrapped "
                                                  "to u32::MAX (harmless until the next half-open episode "
                                                  "resets it, unless that episode has already begun)")
                else:
                    self.half_open_requests -= 1

    # -- convenience ---------------------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` through the breaker; raises `CircuitOpenError` when rejected,
        re-raises `fn`'s exception after recording the failure."""
        # Two inlined fast paths (the hot cases of a busy service): a CB-B call while Closed and a
        # rejection while Open before the timeout. Every other case goes through `try_acquire`
        # and `on_success` / `on_failure`; tests/test_circuit_breaker_properties.py checks that
        # `call()` and the split protocol agree step by step.
        state = self._state
        if state is _CLOSED and self._shared_closed_permit:
            # in_flight is only raised again when the general path needs it: nothing but fn
            # itself can look at the breaker while fn runs.
            self.total_requests += 1
            permit = self._closed_permit
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                if permit.epoch == self._epoch:
                    self.in_flight += 1
                self.on_failure(permit)
                raise
            if self._state is _CLOSED and permit is self._closed_permit:
                self.failure_count = 0
                self.total_successes += 1
            else:  # fn itself moved the breaker (re-entrant use): take the general path
                if permit.epoch == self._epoch:
                    self.in_flight += 1
                self.on_success(permit)
            return result
        if state is _OPEN and self.observer is None:
            lft = self.last_failure_time
            if lft is not None:
                wait = lft + self._timeout - self.clock()
                if wait > 0:
                    self.total_requests += 1
                    self.total_rejected += 1
                    raise CircuitOpenError(self._open_message, state, wait)
        permit = self.try_acquire()
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            self.on_failure(permit)
            raise
        self.on_success(permit)
        return result

    # -- manual control -------------------------------------------------------------------------

    def open(self) -> None:
        """Force Open (CB-B; not in CB-A) and stamp the open time."""
        self._require_manual("open")
        if self._state is not _OPEN:
            self.last_failure_time = self.clock()
            self._move(_OPEN, "manual_open")

    def close(self) -> None:
        """Force Closed (CB-B; not in CB-A). Like Rust it keeps half_open_requests and the open time."""
        self._require_manual("close")
        if self._state is not _CLOSED:
            self.failure_count = self.success_count = 0
            if self._variant == "hardened":
                self.half_open_requests = 0
            self._move(_CLOSED, "manual_close")

    def _require_manual(self, what: str) -> None:
        if self._variant == "standalone":
            raise AttributeError(f"{what}() does not exist on the standalone (CB-A) breaker; use reset()")

    def reset(self) -> None:
        """Back to Closed with every counter zeroed. CB-B also zeroes all totals (including
        state_transitions) and forgets the open time; CB-A keeps the open time."""
        if self._state is not _CLOSED:
            self._move(_CLOSED, "reset")
        self.failure_count = self.success_count = self.half_open_requests = 0
        if self._variant != "standalone":
            self.last_failure_time = None
        self.total_requests = self.total_successes = self.total_failures = 0
        self.total_rejected = self.state_transitions = 0
        self.in_flight = 0
        self._epoch += 1
        self._episode += 1
        self._closed_permit = Permit(_CLOSED, False, 0, self._epoch, tracked=False)

    # -- export -----------------------------------------------------------------------------------

    def prometheus(self, name: str) -> str:
        """Text exposition as CB-B's `export_prometheus_metrics(name)` (from 02-17)."""
        stats = self.stats()
        label = '{name="' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"}'
        # Order and HELP texts as CB-B's exposition (02-17); rates printed like Rust's f64 Display.
        series = (
            ("circuit_breaker_state", "gauge",
             "Current state of the circuit breaker (0=closed, 1=open, 2=half_open)", stats.state.as_u8()),
            ("circuit_breaker_requests_total", "counter", "Total number of requests", stats.total_requests),
            ("circuit_breaker_successes_total", "counter", "Total number of successful requests",
             stats.total_successes),
            ("circuit_breaker_failures_total", "counter", "Total number of failed requests", stats.total_failures),
            ("circuit_breaker_rejected_total", "counter", "Total number of rejected requests (circuit open)",
             stats.total_rejected),
            ("circuit_breaker_state_transitions_total", "counter", "Total number of state transitions",
             stats.state_transitions),
            ("circuit_breaker_success_rate", "gauge", "Current success rate (0.0 - 1.0)",
             rust_f64_display(stats.success_rate())),
            ("circuit_breaker_rejection_rate", "gauge", "Current rejection rate (0.0 - 1.0)",
             rust_f64_display(stats.rejection_rate())),
        )
        lines = []
        for metric, kind, help_text, value in series:
            lines.append(f"# HELP {metric} {help_text}")
            lines.append(f"# TYPE {metric} {kind}")
            lines.append(f"{metric}{label} {value}")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return (f"CircuitBreaker(name={self.name!r}, variant={self._variant}, state={self._state.value}, "
                f"failures={self.failure_count}, successes={self.success_count})")
