"""pybreaker as a circuit-breaker conformance target: ``circuit_breaker(config, clock)`` returns an
object that speaks `CircuitBreakerProtocol`, backed by a real ``pybreaker.CircuitBreaker``.

The gate then reports where pybreaker's semantics differ from each RusToK variant; those
differences are findings, listed in docs/peers.md and re-checked by
tests/conformance/test_pybreaker_peer.py. The adapter translates *surface* only (names, error
types, the split protocol) and never corrects behaviour, so every difference the suite sees is
pybreaker's.

Config mapping: ``failure_threshold -> fail_max``, ``timeout -> reset_timeout`` (pybreaker turns it
into a ``timedelta``, so it resolves to microseconds), ``success_threshold -> success_threshold``
(pybreaker >= 1.1). ``half_open_max_requests`` has no counterpart: pybreaker admits every call
while half-open. ``throw_new_error_on_trip=False``, so a failing call re-raises its own error, as
our ``call()`` does, instead of pybreaker's ``CircuitBreakerError`` on the tripping call.

Time. pybreaker reads the wall clock in exactly two places, both as ``datetime.now(UTC)``:
``CircuitBreaker.open()`` stores it as the storage's ``opened_at``, and ``CircuitOpenState.before_call``
rejects while ``datetime.now(UTC) < opened_at + timedelta(seconds=reset_timeout)``. Both go
through the state storage, pybreaker's own seam, so the adapter gives each breaker its own
`_ClockStorage`: the ``opened_at`` setter ignores the wall-clock value it is handed and stores
the controlled clock's reading, and the getter returns a `_ClockInstant`. Adding the timeout to
it gives another instant, and comparing the wall clock with that instant (``now < deadline``
is answered by the instant's reflected ``__gt__``, because ``datetime.__lt__`` returns
NotImplemented for a non-datetime) asks the controlled clock instead. Nothing is patched: the
``pybreaker`` module, ``datetime`` and other breakers are untouched, each adapter instance sees
only its own clock, and the comparison is exact float arithmetic (``opened + timeout``, the same
expression as the reference's deadline), so a clock advanced by exactly ``timeout`` admits.

Permits. pybreaker has no split protocol, but ``CircuitBreaker.calling()`` (a context manager,
its documented ``with breaker.calling():`` form) is one: entering it runs the admission
(``call`` of the current state object, under pybreaker's lock, including the lazy Open ->
HalfOpen switch), and the outcome is recorded when the block exits, by the *same state object*
that admitted it (``generator_call``). `try_acquire` enters it and keeps it in the permit;
``on_success`` exits it cleanly, ``on_failure`` exits it with `PermitFailure` (an ordinary
exception, so pybreaker counts it as a system error). Several permits can be outstanding: the
lock is held only while entering, as with concurrent callers of pybreaker.

Reporting. pybreaker keeps no totals; the adapter counts what pybreaker tells it through a
`pybreaker.CircuitBreakerListener` (successes, failures, every ``state_change`` notification)
and what only the adapter sees (requests, rejections: pybreaker has no rejection event; calls in
flight). ``failure_count`` / ``success_count`` are pybreaker's ``fail_counter`` /
``success_counter``; ``last_failure_time`` is its ``opened_at`` (the controlled clock's reading);
``half_open_requests`` is always 0 (pybreaker keeps no half-open admission count).

Surface translations (not findings): pybreaker's state names (``"half-open"``) become
`CircuitState`; a rejection (``CircuitBreakerError("Timeout not elapsed yet, circuit breaker still
open")``) becomes `CircuitOpenError` with the variant's Rust Display text, the state that rejected
it and the seconds left of the open period; ``reset()``, which pybreaker lacks, is its ``close()``
plus zeroed totals; ``open()`` / ``close()`` are pybreaker's (it has them in every variant, CB-A
has none).

`behaviour_only(config, clock)` is a diagnostic view of the same adapter: the observables that
decide nothing in pybreaker (`REPORTING_ONLY`) are read from a shadow reference breaker, so the
gate's first counterexample is pybreaker's first *behavioural* deviation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import pybreaker

from rustok_sim.model.resilience.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakerStats,
    CircuitOpenError,
    CircuitState,
    Permit,
    PermitError,
)

__all__ = ["REPORTING_ONLY", "PermitFailure", "PybreakerCircuitBreaker", "PybreakerPermit", "behaviour_only",
           "circuit_breaker"]

T = TypeVar("T")
Clock = Callable[[], float]

_STATES: Final = {
    pybreaker.STATE_CLOSED: CircuitState.CLOSED,
    pybreaker.STATE_OPEN: CircuitState.OPEN,
    pybreaker.STATE_HALF_OPEN: CircuitState.HALF_OPEN,
}

# The Display text of RusToK's Open error per variant (spec §1.2, §1.3), which the suite compares.
_OPEN_MESSAGE: Final = {
    "standalone": "Circuit breaker is open",
    "resilience": "Circuit breaker is open, requests blocked",
    "hardened": "Circuit breaker is open, requests blocked",
}


class _ClockInstant:
    """A point on the controlled clock (seconds), standing where pybreaker keeps a ``datetime``.

    pybreaker only adds the reset timeout to it and compares the wall clock with the sum
    (``datetime.now(UTC) < opened_at + timeout``); the reflected comparison answers with the
    controlled clock's reading instead of the wall-clock value it is given."""

    __slots__ = ("seconds", "_clock")

    def __init__(self, seconds: float, clock: Clock) -> None:
        self.seconds, self._clock = seconds, clock

    def __add__(self, other: object) -> _ClockInstant:
        if not isinstance(other, timedelta):
            return NotImplemented
        return _ClockInstant(self.seconds + other.total_seconds(), self._clock)

    def __gt__(self, other: object) -> bool:
        # Reached as the reflection of `datetime.now(UTC) < self`: "now is before this instant".
        if not isinstance(other, datetime):
            return NotImplemented
        return self._clock() < self.seconds

    def __repr__(self) -> str:
        return f"_ClockInstant({self.seconds!r})"


class _ClockStorage(pybreaker.CircuitMemoryStorage):
    """pybreaker's in-memory storage with ``opened_at`` taken from the controlled clock."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(pybreaker.STATE_CLOSED)
        self._clock = clock
        self.opened_seconds: float | None = None

    @property
    def opened_at(self) -> Any:  # a _ClockInstant where pybreaker expects a datetime
        return None if self.opened_seconds is None else _ClockInstant(self.opened_seconds, self._clock)

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        # `value` is pybreaker's datetime.now(UTC); the controlled clock's reading replaces it.
        self.opened_seconds = self._clock()


class _Tally(pybreaker.CircuitBreakerListener):
    """What pybreaker's listener interface reports: outcomes and state-change notifications."""

    def __init__(self) -> None:
        self.successes = self.failures = self.state_changes = 0

    def success(self, cb: pybreaker.CircuitBreaker) -> None:
        self.successes += 1

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        self.failures += 1

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        self.state_changes += 1


class PermitFailure(Exception):
    """The failure `on_failure` reports to pybreaker (pybreaker needs an exception to fail a call)."""


class PybreakerPermit:
    """An admitted call: pybreaker's entered ``calling()`` context, exited by the outcome.

    `epoch` ties it to one `reset()` period, for the adapter's ``in_flight`` count."""

    __slots__ = ("calling", "epoch", "done", "shadow")

    def __init__(self, calling: contextlib.AbstractContextManager[Any], epoch: int) -> None:
        self.calling, self.epoch, self.done = calling, epoch, False
        self.shadow: Permit | None = None  # the shadow reference's permit, for `behaviour_only`

    def __repr__(self) -> str:
        return f"PybreakerPermit(epoch={self.epoch}, done={self.done})"


class PybreakerCircuitBreaker:
    """`CircuitBreakerProtocol` over a ``pybreaker.CircuitBreaker`` on a controlled clock.

    `breaker` is the pybreaker object itself (for listeners, exclusions, inspection)."""

    def __init__(self, config: CircuitBreakerConfig, clock: Clock, name: str = "pybreaker") -> None:
        self._config = config
        self._clock = clock
        self._storage = _ClockStorage(clock)
        self._tally = _Tally()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=config.failure_threshold, reset_timeout=config.timeout,
            success_threshold=config.success_threshold, state_storage=self._storage,
            listeners=[self._tally], name=name, throw_new_error_on_trip=False)
        self._open_message = _OPEN_MESSAGE[config.variant]
        self._requests = self._rejected = self._in_flight = 0
        self._epoch = 0

    # -- reading ------------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """pybreaker's stored state; lazy like ours (Open until a call after the timeout)."""
        return _STATES[self.breaker.current_state]

    @property
    def variant(self) -> str:
        """The RusToK variant this target is judged against (the config's)."""
        return self._config.variant

    @property
    def failure_count(self) -> int:
        return self.breaker.fail_counter

    @property
    def success_count(self) -> int:
        return self.breaker.success_counter

    def _deadline(self) -> float | None:
        opened = self._storage.opened_at
        if opened is None:
            return None
        deadline: _ClockInstant = opened + timedelta(seconds=self.breaker.reset_timeout)
        return deadline.seconds

    def retry_after(self) -> float | None:
        """Seconds until pybreaker would admit a call: the rest of the open period while Open,
        else 0.0 (pybreaker never rejects while half-open)."""
        deadline = self._deadline()
        if self.state is not CircuitState.OPEN or deadline is None:
            return 0.0
        wait = deadline - self._clock()
        return wait if wait > 0 else 0.0

    def stats(self) -> CircuitBreakerStats:
        return CircuitBreakerStats(
            state=self.state, total_requests=self._requests, total_successes=self._tally.successes,
            total_failures=self._tally.failures, total_rejected=self._rejected,
            state_transitions=self._tally.state_changes, failure_count=self.failure_count,
            success_count=self.success_count, in_flight=self._in_flight, half_open_requests=0,
            last_failure_time=self._storage.opened_seconds)

    # -- admission and outcomes ---------------------------------------------------------------

    def try_acquire(self) -> PybreakerPermit:
        """Enter ``breaker.calling()`` (pybreaker's admission) or raise `CircuitOpenError`."""
        self._requests += 1
        calling = self.breaker.calling()
        try:
            calling.__enter__()
        except pybreaker.CircuitBreakerError:
            self._rejected += 1
            state = self.state
            raise CircuitOpenError(self._open_message, state, self.retry_after()) from None
        self._in_flight += 1
        return PybreakerPermit(calling, self._epoch)

    def admit(self) -> PybreakerPermit | None:
        try:
            return self.try_acquire()
        except CircuitOpenError:
            return None

    def on_success(self, permit: PybreakerPermit) -> None:
        self._finish(permit, None)

    def on_failure(self, permit: PybreakerPermit) -> None:
        self._finish(permit, PermitFailure("the call failed"))

    def _finish(self, permit: PybreakerPermit, error: BaseException | None) -> None:
        if not isinstance(permit, PybreakerPermit):
            raise TypeError(f"expected the PybreakerPermit that try_acquire() returned, got {type(permit).__name__}")
        if permit.done:
            raise PermitError("permit already finished: each permit takes exactly one on_success or on_failure")
        permit.done = True
        if permit.epoch == self._epoch:
            self._in_flight -= 1
        try:
            if error is None:
                permit.calling.__exit__(None, None, None)
            else:
                # False: pybreaker recorded the failure and let the call's own error through.
                permit.calling.__exit__(type(error), error, error.__traceback__)
        except pybreaker.CircuitBreakerError:
            pass  # only with throw_new_error_on_trip, which the adapter turns off

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` through pybreaker (the split protocol above, with `fn`'s own exception handed
        to pybreaker, so its exclusions apply); raises `CircuitOpenError` when rejected."""
        permit = self.try_acquire()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._finish(permit, exc)
            raise
        self._finish(permit, None)
        return result

    # -- manual control -------------------------------------------------------------------------

    def open(self) -> None:
        """pybreaker's ``open()``: Open, stamping ``opened_at``, even when already Open."""
        self.breaker.open()

    def close(self) -> None:
        """pybreaker's ``close()``: Closed with both counters zeroed, even when already Closed."""
        self.breaker.close()

    def reset(self) -> None:
        """pybreaker has no reset: its ``close()``, then the adapter's totals zeroed."""
        self.breaker.close()
        self._tally.successes = self._tally.failures = self._tally.state_changes = 0
        self._requests = self._rejected = self._in_flight = 0
        self._epoch += 1

    def __repr__(self) -> str:
        return (f"PybreakerCircuitBreaker(state={self.state.value}, fail_counter={self.failure_count}, "
                f"success_counter={self.success_count})")


def circuit_breaker(config: CircuitBreakerConfig, clock: Clock) -> PybreakerCircuitBreaker:
    """The gate's target factory: a pybreaker breaker for `config` on `clock` (seconds)."""
    return PybreakerCircuitBreaker(config, clock)


# -- a diagnostic view: behaviour only ---------------------------------------------------------------

REPORTING_ONLY: Final = ("failure_count", "success_count", "state_transitions", "half_open_requests",
                         "last_failure_time")
"""Observables pybreaker keeps differently (its counters, its ``opened_at``, every ``state_change``
notification) or not at all (a half-open admission count), and that decide nothing in it: the
state, the admissions and rejections, ``retry_after`` and the totals are what it *does*."""


class _BehaviourOnly(PybreakerCircuitBreaker):
    """The adapter with the `REPORTING_ONLY` observables read from a shadow reference breaker
    that receives the same operations, so the suite compares behaviour alone. The shadow is
    only a mask: every admission, rejection, state and deadline is still pybreaker's."""

    def __init__(self, config: CircuitBreakerConfig, clock: Clock) -> None:
        super().__init__(config, clock)
        self._shadow = CircuitBreaker(config, clock=clock, name="shadow")

    @property
    def failure_count(self) -> int:
        return self._shadow.failure_count

    @property
    def success_count(self) -> int:
        return self._shadow.success_count

    def stats(self) -> CircuitBreakerStats:
        shadow = self._shadow.stats()
        return replace(super().stats(), **{name: getattr(shadow, name) for name in REPORTING_ONLY})

    def try_acquire(self) -> PybreakerPermit:
        shadow = self._shadow.admit()  # first: its rejection must not raise past pybreaker's admission
        permit = super().try_acquire()
        permit.shadow = shadow
        return permit

    def _finish(self, permit: PybreakerPermit, error: BaseException | None) -> None:
        super()._finish(permit, error)
        if permit.shadow is not None:
            (self._shadow.on_success if error is None else self._shadow.on_failure)(permit.shadow)

    def open(self) -> None:
        super().open()
        self._shadow.open()

    def close(self) -> None:
        super().close()
        self._shadow.close()

    def reset(self) -> None:
        super().reset()
        self._shadow.reset()


def behaviour_only(config: CircuitBreakerConfig, clock: Clock) -> PybreakerCircuitBreaker:
    """A diagnostic target factory: pybreaker with its reporting-only differences masked
    (`REPORTING_ONLY`), so the gate's counterexample is the first *behavioural* deviation."""
    return _BehaviourOnly(config, clock)
