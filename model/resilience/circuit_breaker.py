"""Circuit breaker, both Rust implementations plus a hardened one (spec §1).

Variants (``CircuitBreakerConfig.variant``; `PROFILE_VARIANTS` maps the faithful and hardened
profiles to them):

- ``resilience`` (default, the faithful profile): CB-B, ``rustok-core/src/resilience/circuit_breaker.rs``,
  the breaker that survives. The half-open limit counts *every* probe admitted in the episode
  and is never decremented, so with ``success_threshold > half_open_max_requests + 1`` the
  breaker can stay half-open forever; a late failure while Open pushes the open period forward;
  totals and rates as in Rust.
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

The tables decide: `TRANSITIONS` is the one table of legal state changes; the breaker changes
state only through its bound `Machine.fire` (observed or not), naming the condition that held
(``failure_threshold``, ``timeout_elapsed``, ...) and taking the target from the table.

State outside the table: the guards' inputs and the reporting, which are numbers, not states:
the consecutive ``failure_count``, the half-open ``success_count`` and ``half_open_requests``,
``last_failure_time`` with the deadline ``last_failure_time + timeout`` (the lazy timer), the
totals of `stats()` and ``in_flight``; plus two model-only tags, the *episode* (bumped on every
move, so hardened can tell a stale outcome) and the *epoch* (bumped on reset, so an outcome from
before a reset is recognised). A table over them would have unbounded states; the code tests
the guard and the trigger it fires names the guard that held.

Admission: ``permit = admit()`` (None when rejected) or ``try_acquire()`` (raises
`CircuitOpenError`), then ``on_success(permit)`` or ``on_failure(permit)``. `admit` is the one
decision; `try_acquire` raises on its None. `call(fn)` inlines the two hot cases (a success
while Closed, a rejection while Open) and is checked step by step against the split protocol.
Simulation hot paths use `admit`: an open breaker in an outage rejects without exception cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import Enum
from math import inf
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rustok_sim.model.core.checks import given, require_name
from rustok_sim.model.core.clock import Clock, require_clock
from rustok_sim.model.core.rust import U32_MAX, rust_f64_display, u32_wrapping_add
from rustok_sim.model.core.trace import Observer, observer_for, require_observer
from rustok_sim.model.core.transitions import Edge, TransitionTable

__all__ = ["COMPONENT", "PROFILE_VARIANTS", "TRANSITIONS", "U32_MAX", "CircuitBreaker",
           "CircuitBreakerConfig", "CircuitBreakerStats", "CircuitOpenError", "CircuitState",
           "Permit", "PermitError", "Variant"]

T = TypeVar("T")
COMPONENT: Final = "circuit_breaker"


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

PROFILE_VARIANTS: Final[dict[str, Variant]] = {"faithful": "resilience", "hardened": "hardened"}
"""The breaker each profile runs: faithful is CB-B (the one that survives 02-14); CB-A
(``standalone``) stays available by name for the Redis cache of 02-13."""


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
), states=CircuitState)
"""Every legal state change, with its trigger, guard and the variants that have it."""


class CircuitBreakerConfig(BaseModel):
    """Spec §1.1. Rust validates nothing, so faithful variants accept zero thresholds (the first
    failure trips, the first half-open success closes); ``hardened`` requires them >= 1."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

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
                value = getattr(self, field)
                if value is not None and value < 1:
                    raise ValueError(f"{field} must be >= 1 for variant 'hardened' (got {value})")
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
        return (f"Permit(started_in={self.started_in.value}, counted={self.counted}, "
                f"episode={self.episode}, done={self.done})")


class PermitError(RuntimeError):
    """A permit was finished twice."""


@dataclass(frozen=True, slots=True)
class CircuitBreakerStats:
    """CB-B's `CircuitBreakerStats`, plus what the model's invariants and tests need to see:
    `in_flight`, `half_open_requests` and `last_failure_time` (the time the circuit last opened,
    or was pushed forward by a late failure; None before any trip and after a CB-B reset).

    Invariant (until a `reset()` with calls still in flight, which Rust lets skew the totals):
    ``total_requests == total_successes + total_failures + total_rejected + in_flight``."""

    state: CircuitState
    total_requests: int
    total_successes: int
    total_failures: int
    total_rejected: int
    state_transitions: int
    failure_count: int
    success_count: int
    in_flight: int
    half_open_requests: int
    last_failure_time: float | None

    def success_rate(self) -> float:
        """successes / requests (rejections included in the denominator); 1.0 with no requests."""
        return self.total_successes / self.total_requests if self.total_requests else 1.0

    def rejection_rate(self) -> float:
        """rejected / requests; 0.0 with no requests."""
        return self.total_rejected / self.total_requests if self.total_requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        out["success_rate"] = self.success_rate()
        out["rejection_rate"] = self.rejection_rate()
        return out




class CircuitBreaker:
    """A circuit breaker on an injected clock; see the module docstring for the variants.

    Observer records: ``transition`` for each state change (fired through `TRANSITIONS`),
    ``decision`` ``rejected`` for each rejected call, ``anomaly`` for a wrapped counter, a permit
    finished twice, or totals skewed by a reset with calls in flight. The observer is asked once,
    here, which kinds it keeps; a kind it does not keep costs nothing.
    """

    __slots__ = ("config", "name", "_clock", "_machine", "_transitions", "_decisions", "_anomalies",
                 "_variant", "_state", "_failure_count", "_success_count", "_half_open_requests",
                 "_last_failure_time", "_deadline", "_admitted", "_rejected", "_successes",
                 "_failures", "_state_transitions", "_in_flight", "_episode", "_epoch",
                 "_failure_threshold", "_success_threshold", "_timeout", "_half_open_max",
                 "_open_message", "_closed_permit", "_retry_hint", "_reject_until")

    def __init__(self, config: CircuitBreakerConfig | None = None, *, clock: Clock,
                 observer: Observer | None = None, name: str = COMPONENT) -> None:
        if config is None:
            config = CircuitBreakerConfig()
        elif not isinstance(config, CircuitBreakerConfig):
            raise TypeError(f"CircuitBreaker expects config= a CircuitBreakerConfig, got "
                            f"{given(config, CircuitBreakerConfig)}; build one with "
                            f"CircuitBreakerConfig(**fields) or CircuitBreakerConfig.model_validate(data)")
        self.config = config
        self.name = require_name(name, "CircuitBreaker")
        self._clock = require_clock(clock, f"CircuitBreaker {name!r}")
        observer = require_observer(observer, f"CircuitBreaker {name!r}")
        self._variant = config.variant
        self._machine = TRANSITIONS.bind(config.variant)
        self._transitions = observer_for(observer, "transition", COMPONENT)
        self._decisions = observer_for(observer, "decision", COMPONENT)
        self._anomalies = observer_for(observer, "anomaly", COMPONENT)
        self._failure_threshold = config.failure_threshold
        self._success_threshold = config.success_threshold
        self._timeout = config.timeout
        self._half_open_max = config.half_open_max_requests
        self._open_message = _OPEN_MESSAGE[self._variant]
        self._state = _CLOSED
        self._failure_count = 0
        self._success_count = 0
        self._half_open_requests = 0
        self._last_failure_time: float | None = None
        self._deadline = inf  # last_failure_time + timeout: the first instant a probe is admitted
        self._reject_until = -inf  # the deadline while call() may reject inline, else -inf
        self._admitted = 0  # total_requests = admitted + rejected (one counter per hot path)
        self._rejected = 0
        self._successes = 0
        self._failures = 0
        self._state_transitions = 0
        self._in_flight = 0
        self._episode = 0  # bumped on every state change and reset; hardened outcomes must match it
        self._epoch = 0  # bumped on reset(); outcomes of older permits skew the totals
        self._retry_hint: float | None = None  # retry_after of the latest rejection
        self._closed_permit = self._shared_closed_permit()

    # -- reading ---------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The stored state. Lazy like Rust: Open stays Open after the timeout until a call."""
        return self._state

    @property
    def variant(self) -> Variant:
        return self._variant

    @property
    def failure_count(self) -> int:
        """CB-A's `failure_count()`: consecutive failures counted in Closed."""
        return self._failure_count

    @property
    def success_count(self) -> int:
        """CB-A's `success_count()`: successes counted in the current half-open episode."""
        return self._success_count

    def retry_after(self) -> float | None:
        """Seconds from now until the breaker would admit a call: 0.0 when it would admit one
        now, the rest of the open period while Open, None while a saturated half-open limit
        rejects (no timeout ends that). At the instant of a rejection it equals the rejection's
        `CircuitOpenError.retry_after`. Reads the clock; changes nothing."""
        state = self._state
        if state is _OPEN:
            wait = self._deadline - self._clock()
            return wait if wait > 0 else 0.0
        if state is _HALF and self._half_open_max is not None and self._half_open_requests >= self._half_open_max:
            return None
        return 0.0

    def stats(self) -> CircuitBreakerStats:
        return CircuitBreakerStats(
            state=self._state, total_requests=self._admitted + self._rejected,
            total_successes=self._successes, total_failures=self._failures,
            total_rejected=self._rejected, state_transitions=self._state_transitions,
            failure_count=self._failure_count, success_count=self._success_count,
            in_flight=self._in_flight, half_open_requests=self._half_open_requests,
            last_failure_time=self._last_failure_time)

    # -- transitions -----------------------------------------------------------------------

    def _move(self, trigger: str) -> None:
        """Fire `trigger`: the table gives the next state. Each move starts a new episode."""
        self._state = self._machine.fire(self._state, trigger, self._transitions, self.name)
        self._episode += 1
        self._closed_permit = self._shared_closed_permit()
        self._sync_reject_until()
        if self._variant != "standalone":
            self._state_transitions += 1

    def _sync_reject_until(self) -> None:
        # One slot for call()'s inline rejection test: "Open, nobody keeps decisions, and the
        # deadline", so the hot path reads one attribute instead of three.
        self._reject_until = self._deadline if self._state is _OPEN and self._decisions is None else -inf

    def _shared_closed_permit(self) -> Permit:
        # The untracked permit `call()` shares while Closed. Replaced on every move and reset, so
        # "it is still the current one" means "nothing changed the state while fn ran".
        return Permit(_CLOSED, False, self._episode, self._epoch, tracked=False)

    def _stamp_open_time(self) -> None:
        """The spec's `last_failure_time = now`, with the deadline the Open state waits for."""
        now = self._clock()
        self._last_failure_time = now
        # "elapsed >= timeout" is tested as "the deadline lft + timeout has been reached": one
        # float expression on every path, exact for a clock advanced by `timeout` from the
        # trip (`now - lft` can round below `timeout`).
        self._deadline = now + self._timeout
        self._sync_reject_until()

    def _trip(self, trigger: str) -> None:
        """Go to Open, stamping the open time."""
        self._stamp_open_time()
        if self._state is not _OPEN:  # CB-A re-trip while already Open: time moves, state does not
            self._move(trigger)

    def _anomaly(self, kind: str, message: str, **detail: Any) -> None:
        if self._anomalies is not None:
            self._anomalies.anomaly(COMPONENT, self.name, kind, message, detail or None)

    # -- admission ------------------------------------------------------------------------

    def admit(self) -> Permit | None:
        """Admit a call (its permit) or reject it (None), without raising: the one admission
        decision. A rejection is counted and observed exactly as `try_acquire`'s; `retry_after()`
        says when to come back."""
        state = self._state
        if state is _CLOSED:
            self._admitted += 1
            self._in_flight += 1
            return Permit(_CLOSED, False, self._episode, self._epoch)
        if state is _OPEN:
            wait = self._deadline - self._clock()
            if wait > 0:
                self._reject(state, wait)
                return None
            self._half_open_requests = 0
            if self._variant != "resilience":  # CB-A; hardened: successes are per episode
                self._success_count = 0
            self._move("timeout_elapsed")
            # The transition probe is not counted in Rust; hardened counts it in flight.
            counted = self._variant == "hardened"
            if counted:
                self._half_open_requests = 1
            self._admitted += 1
            self._in_flight += 1
            return Permit(_HALF, counted, self._episode, self._epoch)
        limit = self._half_open_max
        if limit is not None and self._half_open_requests >= limit:
            self._reject(state, None)
            return None
        self._half_open_requests += 1
        self._admitted += 1
        self._in_flight += 1
        return Permit(_HALF, True, self._episode, self._epoch)

    def try_acquire(self) -> Permit:
        """Admit a call (returning its permit) or raise `CircuitOpenError`; `admit()` decides."""
        permit = self.admit()
        if permit is None:
            raise CircuitOpenError(self._open_message, self._state, self._retry_hint)
        return permit

    def _reject(self, state: CircuitState, retry_after: float | None) -> None:
        self._rejected += 1
        self._retry_hint = retry_after
        if self._decisions is not None:
            self._decisions.decision(COMPONENT, self.name, "rejected", f"circuit_{state.value}",
                                     {"retry_after": retry_after})

    # -- outcomes ---------------------------------------------------------------------------

    def on_success(self, permit: Permit) -> None:
        """Record that the admitted call succeeded."""
        try:
            if (permit.done is False and permit.episode == self._episode
                    and permit.started_in is _CLOSED and permit.epoch == self._epoch):
                # The common case, the same in every variant: a call admitted while Closed ends
                # in the same Closed period, so the consecutive failures start over.
                permit.done = True
                self._in_flight -= 1
                self._failure_count = 0
                self._successes += 1
                return
        except AttributeError:
            raise _not_a_permit("on_success", permit) from None
        if self._finish(permit):
            self._record(permit, True)
            self._successes += 1

    def on_failure(self, permit: Permit) -> None:
        """Record that the admitted call failed."""
        if not isinstance(permit, Permit):
            raise _not_a_permit("on_failure", permit)
        if self._finish(permit):
            self._record(permit, False)
            self._failures += 1

    def _finish(self, permit: Permit) -> bool:
        """Close out the permit's bookkeeping; False when its outcome must not touch anything."""
        done = permit.done
        if done:
            self._anomaly("permit_reused", "a permit was finished twice; the second outcome is ignored")
            raise PermitError("permit already finished: each permit takes exactly one on_success "
                              "or on_failure")
        if done is not None:
            permit.done = True
        if permit.epoch != self._epoch:
            # Issued before reset(): Rust still adds the outcome to the zeroed totals.
            if self._variant == "hardened":
                return False
            self._anomaly("stats_skew", "an outcome of a call started before reset() lands in the "
                                        "zeroed totals; requests no longer equal outcomes")
            return True
        self._in_flight -= 1
        return True

    def _record(self, permit: Permit, ok: bool) -> None:
        variant = self._variant
        if variant == "standalone":
            self._standalone_outcome(permit, ok)
            return
        if variant == "hardened":
            current = permit.episode == self._episode
            if permit.counted and current:
                self._half_open_requests -= 1
            if not current:
                return  # a stale outcome: the state it was admitted in is gone
        self._outcome_in_current_state(ok)

    def _outcome_in_current_state(self, ok: bool) -> None:
        """CB-B: an outcome is judged by the state the breaker is in *now*."""
        state = self._state
        if state is _CLOSED:
            if ok:
                self._failure_count = 0
            else:
                self._failure_count += 1
                if self._failure_count >= self._failure_threshold:
                    self._success_count = 0
                    self._trip("failure_threshold")
        elif state is _HALF:
            if ok:
                self._success_count += 1
                if self._success_count >= self._success_threshold:
                    self._failure_count = self._success_count = self._half_open_requests = 0
                    self._move("success_threshold")
            else:
                self._failure_count = self._success_count = self._half_open_requests = 0
                self._trip("probe_failed")
        elif not ok:
            # Open (a call admitted earlier fails late): the open period is extended. A success
            # while Open changes nothing (Rust logs "Unexpected success in Open state"). Hardened
            # never gets here: a permit from before the trip is stale.
            self._stamp_open_time()

    def _standalone_outcome(self, permit: Permit, ok: bool) -> None:
        if permit.started_in is _CLOSED:
            if ok:
                self._failure_count = 0
            else:
                self._failure_count = u32_wrapping_add(self._failure_count)  # AtomicU32::fetch_add
                if self._failure_count >= self._failure_threshold:
                    self._trip("failure_threshold")
        else:
            if ok:
                self._success_count += 1
                if self._success_count >= self._success_threshold:
                    # CB-A's close() runs whatever the state is by now, even Open after a trip.
                    self._failure_count = self._success_count = self._half_open_requests = 0
                    if self._state is not _CLOSED:
                        self._move("success_threshold")
            else:
                self._trip("probe_failed")
            if permit.counted:  # the decrement after the probe, which may wrap after a close
                if self._half_open_requests == 0:
                    self._half_open_requests = U32_MAX
                    self._anomaly("counter_wrap", "half_open_requests decremented at 0 and wrapped "
                                                  "to u32::MAX (harmless until the next half-open episode "
                                                  "resets it, unless that episode has already begun)")
                else:
                    self._half_open_requests -= 1

    # -- convenience ---------------------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` through the breaker; raises `CircuitOpenError` when rejected,
        re-raises `fn`'s exception after recording the failure."""
        # Two inlined fast paths, the hot cases of a busy service in every variant: a rejection
        # while Open before the deadline (unless someone keeps decision records: then
        # `_reject_until` is -inf) and a success while Closed. Everything else goes through
        # admit / on_success / on_failure; the property tests check that call() and the split
        # protocol agree step by step.
        if self._state is not _CLOSED:
            wait = self._reject_until - self._clock()
            if wait > 0:
                self._rejected += 1
                raise CircuitOpenError(self._open_message, _OPEN, wait)
            permit = self.try_acquire()
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                self.on_failure(permit)
                raise
            self.on_success(permit)
            return result
        # in_flight is only raised when the general path needs it: nothing but fn itself can
        # look at the breaker while fn runs.
        permit = self._closed_permit
        self._admitted += 1
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            self._finish_shared(permit, False)
            raise
        if permit is self._closed_permit:
            self._failure_count = 0
            self._successes += 1
        else:  # fn itself moved or reset the breaker (re-entrant use): the general path
            self._finish_shared(permit, True)
        return result

    def _finish_shared(self, permit: Permit, ok: bool) -> None:
        if permit.epoch == self._epoch:
            self._in_flight += 1  # the admission call() skipped, so _finish can take it back
        (self.on_success if ok else self.on_failure)(permit)

    # -- manual control -------------------------------------------------------------------------

    def open(self) -> None:
        """Force Open (CB-B; not in CB-A) and stamp the open time."""
        self._require_manual("open")
        if self._state is not _OPEN:
            self._stamp_open_time()
            self._move("manual_open")

    def close(self) -> None:
        """Force Closed (CB-B; not in CB-A). Like Rust it keeps half_open_requests and the open time."""
        self._require_manual("close")
        if self._state is not _CLOSED:
            self._failure_count = self._success_count = 0
            if self._variant == "hardened":
                self._half_open_requests = 0
            self._move("manual_close")

    def _require_manual(self, what: str) -> None:
        if self._variant == "standalone":
            raise AttributeError(f"{what}() does not exist on the standalone (CB-A) breaker; use reset()")

    def reset(self) -> None:
        """Back to Closed with every counter zeroed. CB-B also zeroes all totals (including
        state_transitions) and forgets the open time; CB-A keeps the open time."""
        if self._state is not _CLOSED:
            self._move("reset")
        self._failure_count = self._success_count = self._half_open_requests = 0
        if self._variant != "standalone":
            self._last_failure_time = None
            self._deadline = inf
        self._sync_reject_until()
        self._admitted = self._rejected = self._successes = self._failures = 0
        self._state_transitions = 0
        self._in_flight = 0
        self._epoch += 1
        self._episode += 1
        self._closed_permit = self._shared_closed_permit()

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
                f"failures={self._failure_count}, successes={self._success_count})")


def _not_a_permit(method: str, value: object) -> TypeError:
    return TypeError(f"CircuitBreaker.{method} expects the Permit that admit()/try_acquire() returned, "
                     f"got {given(value, Permit)}")
