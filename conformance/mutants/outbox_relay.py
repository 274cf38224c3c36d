"""Broken outbox relays, each a plausible bug, as target factories (``factory(setup, clock)``,
`rustok_sim.conformance.suites.outbox_relay.RelaySetup`). The relay suite must kill each one in
every variant where it is a bug: `VARIANTS_OF` names the variants of those that are bugs only in
some (``unguarded_marks`` is exactly the faithful relay's behaviour, so a bug only in hardened).

Each is the model's `OutboxRelay` with one step done wrong, or over a store proxy that bends one
request the relay makes (the claim's lease cutoff, a mark's claim guard).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from rustok_sim.conformance.suites.outbox_relay import RelaySetup
from rustok_sim.model.events.bus import RustokError
from rustok_sim.model.events.outbox import MICROS, ClaimedEvent, ClaimResult, OutboxStore
from rustok_sim.model.events.relay import ClaimRequest, OutboxRelay, RelayConfig

__all__ = ["MUTANTS", "VARIANTS_OF"]

Factory = Callable[[RelaySetup, Callable[[], float]], OutboxRelay]


class _BentStore:
    """An `OutboxStore` proxy: every operation goes to `inner`, except that `bend_claim` may
    rewrite a claim's request and `unguarded` drops the claim guard from the marks."""

    def __init__(self, inner: OutboxStore, bend_claim: Callable[[ClaimRequest], ClaimRequest] | None = None,
                 unguarded: bool = False) -> None:
        self.inner, self.bend_claim, self.unguarded = inner, bend_claim, unguarded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def claim(self, request: ClaimRequest,
              on_candidates: Callable[[list[uuid.UUID]], None] | None = None) -> ClaimResult:
        if self.bend_claim is not None:
            request = self.bend_claim(request)
        return self.inner.claim(request, on_candidates)

    def _guard(self, guarded: bool) -> bool:
        return False if self.unguarded else guarded

    def mark_dispatched(self, row: ClaimedEvent, now_us: int, *, guarded: bool,
                        before_write: Callable[[], None] | None = None) -> str | None:
        return self.inner.mark_dispatched(row, now_us, guarded=self._guard(guarded), before_write=before_write)

    def reschedule(self, row: ClaimedEvent, retry_count: int, last_error: str, next_attempt_at_us: int, *,
                   guarded: bool, before_write: Callable[[], None] | None = None) -> str | None:
        return self.inner.reschedule(row, retry_count, last_error, next_attempt_at_us,
                                     guarded=self._guard(guarded), before_write=before_write)

    def move_to_dlq(self, row: ClaimedEvent, retry_count: int, last_error: str, *, guarded: bool,
                    before_write: Callable[[], None] | None = None) -> str | None:
        return self.inner.move_to_dlq(row, retry_count, last_error, guarded=self._guard(guarded),
                                      before_write=before_write)


# -- the relay's own steps done wrong ---------------------------------------------------------


class _MarksBeforePublishing(OutboxRelay):
    """Marks the row dispatched, then publishes: a failed publish (or a crash) loses the event."""

    def process_claimed(self, row: ClaimedEvent) -> bool:
        envelope = self.begin_dispatch(row)
        if envelope is None:
            return False
        self.mark_dispatched(row, envelope)
        try:
            self.target.publish(envelope)
        except RustokError:
            return False
        return True


class _RetryCountNotIncremented(OutboxRelay):
    """Writes the claim-time retry count back unchanged: a failing row is retried forever at the
    first backoff and never reaches the DLQ."""

    def mark_failed_attempt(self, row: ClaimedEvent, error: BaseException, envelope: Any = None) -> None:
        row.retry_count -= 1
        super().mark_failed_attempt(row, error, envelope)


class _DlqOneAttemptLate(OutboxRelay):
    """Moves a row to the DLQ after max_attempts + 1 failures (``>`` for ``>=``)."""

    def mark_failed_attempt(self, row: ClaimedEvent, error: BaseException, envelope: Any = None) -> None:
        config = self.config
        self.config = config.model_copy(update={"max_attempts": config.max_attempts + 1})
        try:
            super().mark_failed_attempt(row, error, envelope)
        finally:
            self.config = config


class _AheadConfig(RelayConfig):
    def backoff_ms(self, retry_count: int) -> int:
        return super().backoff_ms(retry_count + 1)


class _BackoffOneStepAhead(OutboxRelay):
    """backoff(n) = base * 2**n (the exponent without its - 1): every delay is one doubling early."""

    def mark_failed_attempt(self, row: ClaimedEvent, error: BaseException, envelope: Any = None) -> None:
        config = self.config
        self.config = _AheadConfig(**config.model_dump())
        try:
            super().mark_failed_attempt(row, error, envelope)
        finally:
            self.config = config


class _ProcessesBatchInReverse(OutboxRelay):
    """Publishes a claimed batch newest first (the claim is oldest first)."""

    def process_pending_once(self) -> int:
        claimed = self.claim_batch()
        for row in reversed(claimed):
            self.process_claimed(row)
        return len(claimed)


class _RetriesUncounted(OutboxRelay):
    """Never increments ``retry_total``."""

    def _count_retry(self) -> None:
        return None


class _CatchesRelayPanic(OutboxRelay):
    """Treats a crash of the relay during a publish (any non-`RustokError`) as a failed attempt,
    so a row the downstream already accepted is rescheduled and delivered again, with the
    panic swallowed instead of the relay dying with the row claimed."""

    def process_claimed(self, row: ClaimedEvent) -> bool:
        try:
            return super().process_claimed(row)
        except RustokError:
            raise
        except Exception as exc:  # noqa: BLE001 - the bug: everything is an Err
            self.mark_failed_attempt(row, exc)
            return False


class _LatencyUncounted(OutboxRelay):
    """Adds nothing to ``latency_ms_total`` (still counts the row processed)."""

    def _count_processed(self, row: ClaimedEvent) -> None:
        row.started = None
        super()._count_processed(row)


# -- store requests bent ----------------------------------------------------------------------


def _one_tick_early(config: RelayConfig) -> Callable[[ClaimRequest], ClaimRequest]:
    ttl_us = round(config.claim_ttl_s * MICROS)

    def bend(request: ClaimRequest) -> ClaimRequest:
        return dataclasses.replace(request, lease_cutoff_us=request.now_us - ttl_us + 1, recheck_eligibility=True)
    return bend


def _any_claim(config: RelayConfig) -> Callable[[ClaimRequest], ClaimRequest]:
    def bend(request: ClaimRequest) -> ClaimRequest:
        return dataclasses.replace(request, lease_cutoff_us=request.now_us, recheck_eligibility=True)
    return bend


def _relay(cls: type[OutboxRelay]) -> Factory:
    def build(setup: RelaySetup, clock: Callable[[], float]) -> OutboxRelay:
        return cls(setup.store, setup.downstream, setup.relay, clock=clock)
    build.__name__ = cls.__name__.lstrip("_")
    return build


def _bent(name: str, bend: Callable[[RelayConfig], Callable[[ClaimRequest], ClaimRequest]] | None = None,
          unguarded: bool = False) -> Factory:
    def build(setup: RelaySetup, clock: Callable[[], float]) -> OutboxRelay:
        store = _BentStore(setup.store, bend(setup.relay) if bend is not None else None, unguarded)
        return OutboxRelay(store, setup.downstream, setup.relay, clock=clock)
    build.__name__ = name
    return build


MUTANTS: dict[str, Factory] = {
    "marks_before_publishing": _relay(_MarksBeforePublishing),
    "reclaims_one_tick_early": _bent("reclaims_one_tick_early", _one_tick_early),
    "steals_live_claims": _bent("steals_live_claims", _any_claim),
    "retry_count_not_incremented": _relay(_RetryCountNotIncremented),
    "dlq_one_attempt_late": _relay(_DlqOneAttemptLate),
    "backoff_one_step_ahead": _relay(_BackoffOneStepAhead),
    "processes_batch_in_reverse": _relay(_ProcessesBatchInReverse),
    "retries_uncounted": _relay(_RetriesUncounted),
    "catches_relay_panic": _relay(_CatchesRelayPanic),
    "latency_uncounted": _relay(_LatencyUncounted),
    "unguarded_marks": _bent("unguarded_marks", unguarded=True),
}
"""``reclaims_one_tick_early`` takes over a lease one microsecond before it ends (hardened); in
faithful, where nothing may ever be reclaimed, it reclaims at all. ``steals_live_claims`` takes
rows another worker holds, lease or not. ``unguarded_marks`` completes a row by primary key only,
so a relay whose lease was taken over overwrites the new holder's work instead of being refused."""

VARIANTS_OF: dict[str, tuple[str, ...]] = {
    "unguarded_marks": ("hardened",),  # faithful (Rust 02-13) marks by primary key: it is the reference there
}
"""Mutants that are bugs only in some variants -> those variants (the rest: every variant)."""
