"""The analytic curves checked against the real model: `CircuitBreaker` on a `ManualClock`,
driven by a seeded Poisson workload (numpy's PCG64 from an explicit seed; never the wall clock).

Each estimate comes from independent replications, each a fresh breaker and its own stream
(`numpy.random.SeedSequence(seed).spawn`), with a 95% interval by default: Wilson for
probabilities, Student t for means, order statistics for quantiles. Calls take no time: a
request's outcome is recorded before the next request arrives (the analytic assumption).

Units: rate in requests/s, times in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitState
from rustok_sim.reports.curves.analytic import BreakerSetting
from rustok_sim.reports.curves.intervals import Estimate, mean_interval, quantile_interval, wilson_interval

__all__ = ["CycleSamples", "DetectionSamples", "simulate_detection_delays", "simulate_recovery_after_failed_probe",
           "simulate_run_count_shares", "simulate_trip_cycles", "simulate_window_trips"]

_OPEN, _CLOSED = CircuitState.OPEN, CircuitState.CLOSED
_CHUNK = 1024  # arrivals drawn per numpy call: cheap draws, bounded memory for long runs


def _breaker(setting: BreakerSetting) -> tuple[CircuitBreaker, ManualClock]:
    clock = ManualClock()
    config = CircuitBreakerConfig(failure_threshold=setting.failure_threshold,
                                  success_threshold=setting.success_threshold,
                                  timeout=float(setting.timeout),
                                  half_open_max_requests=setting.half_open_max_requests,
                                  variant=setting.variant)
    return CircuitBreaker(config, clock=clock), clock


def _streams(seed: int, replications: int) -> list[np.random.Generator]:
    if replications < 1:
        raise ValueError(f"replications must be >= 1 (got {replications})")
    return [np.random.Generator(np.random.PCG64(child))
            for child in np.random.SeedSequence(seed).spawn(replications)]


def _arrivals(rng: np.random.Generator, rate: float, start: float = 0.0) -> Iterator[tuple[float, float]]:
    """Endless Poisson arrivals after `start`: (time in s, a uniform draw for the outcome)."""
    now = start
    while True:
        gaps = rng.exponential(1.0 / rate, _CHUNK).tolist()
        draws = rng.random(_CHUNK).tolist()
        for gap, draw in zip(gaps, draws):
            now += gap
            yield now, draw


def _request(breaker: CircuitBreaker, fails: bool) -> bool:
    """One instant call; False when the breaker rejected it."""
    permit = breaker.admit()
    if permit is None:
        return False
    if fails:
        breaker.on_failure(permit)
    else:
        breaker.on_success(permit)
    return True


def simulate_window_trips(setting: BreakerSetting, rate: float, p0: float, window: float, replications: int,
                          seed: int, level: float = 0.95) -> Estimate:
    """Share of fresh breakers that trip at least once within `window` seconds at error
    probability `p0`, with its Wilson interval."""
    tripped = 0
    for rng in _streams(seed, replications):
        breaker, clock = _breaker(setting)
        for now, draw in _arrivals(rng, rate):
            if now > window:
                break
            clock.set(now)
            _request(breaker, draw < p0)
            if breaker.state is _OPEN:
                tripped += 1
                break
    return wilson_interval(tripped, replications, level)


@dataclass(frozen=True, slots=True)
class DetectionSamples:
    """Detection delays (s) after a jump to p1, one per kept replication; `discarded` runs
    tripped during the healthy warm-up and were dropped (the delay is defined from Closed)."""

    delays: tuple[float, ...]
    discarded: int
    warmup_requests: int

    def mean(self, level: float = 0.95) -> Estimate:
        return mean_interval(self.delays, level)

    def quantile(self, q: float, level: float = 0.95) -> Estimate:
        return quantile_interval(self.delays, q, level)

    def share_within(self, seconds: float, level: float = 0.95) -> Estimate:
        """Empirical P(delay <= seconds) with its Wilson interval."""
        return wilson_interval(sum(1 for d in self.delays if d <= seconds), len(self.delays), level)


def simulate_detection_delays(setting: BreakerSetting, rate: float, p0: float, p1: float, replications: int,
                              seed: int, warmup_requests: int = 20) -> DetectionSamples:
    """Warm a fresh breaker up with `warmup_requests` healthy requests (p0), switch the error
    probability to `p1` right after the last one, and time the opening. The run at the jump is
    whatever the warm-up left (analytic counterpart: `analytic.run_distribution_after`)."""
    if p1 <= 0.0:
        raise ValueError(f"p1 must be > 0 for the breaker to ever open (got {p1})")
    delays: list[float] = []
    discarded = 0
    for rng in _streams(seed, replications):
        breaker, clock = _breaker(setting)
        jump = 0.0
        seen = 0
        for now, draw in _arrivals(rng, rate):
            clock.set(now)
            if seen < warmup_requests:
                seen += 1
                _request(breaker, draw < p0)
                if breaker.state is not _CLOSED:
                    discarded += 1
                    break
                jump = now
                continue
            _request(breaker, draw < p1)
            if breaker.state is _OPEN:
                delays.append(now - jump)
                break
    return DetectionSamples(tuple(delays), discarded, warmup_requests)


@dataclass(frozen=True, slots=True)
class CycleSamples:
    """Per replication (one false-trip cycle from a fresh Closed breaker until it closes again):
    `cycle_seconds`, `rejected` requests and `open_periods` (entries into Open)."""

    cycle_seconds: tuple[float, ...]
    rejected: tuple[int, ...]
    open_periods: tuple[int, ...]

    def mean_cycle(self, level: float = 0.95) -> Estimate:
        return mean_interval(self.cycle_seconds, level)

    def trips_per_week(self, level: float = 0.95) -> Estimate:
        """Long-run false trips per week, week / mean cycle, with the interval mapped through
        the same (decreasing) function."""
        week = 7 * 24 * 3600.0
        cycle = self.mean_cycle(level)
        return Estimate(week / cycle.value, week / cycle.high,
                        week / cycle.low if cycle.low > 0 else math.inf, level, cycle.samples)

    def mean_rejected(self, level: float = 0.95) -> Estimate:
        return mean_interval([float(r) for r in self.rejected], level)

    def mean_open_periods(self, level: float = 0.95) -> Estimate:
        return mean_interval([float(n) for n in self.open_periods], level)


def simulate_trip_cycles(setting: BreakerSetting, rate: float, p0: float, replications: int, seed: int,
                         max_requests: int = 10_000_000) -> CycleSamples:
    """Run each fresh breaker at `p0` through its first trip and back to Closed. A cycle that
    needs more than `max_requests` requests (a stuck half-open breaker) is an error, not a
    silent truncation."""
    cycles: list[float] = []
    rejected_counts: list[int] = []
    open_counts: list[int] = []
    for rng in _streams(seed, replications):
        breaker, clock = _breaker(setting)
        tripped = False
        rejected = opened = 0
        for count, (now, draw) in enumerate(_arrivals(rng, rate)):
            if count >= max_requests:
                raise RuntimeError(f"a trip cycle did not close within {max_requests} requests "
                                   f"(state {breaker.state.value}): is the breaker stuck half-open?")
            clock.set(now)
            permit = breaker.admit()
            if permit is None:
                rejected += 1
                continue
            admitted_in = breaker.state  # Half-open when this request is the transition probe
            if draw < p0:
                breaker.on_failure(permit)
            else:
                breaker.on_success(permit)
            after = breaker.state
            if after is _OPEN and admitted_in is not _OPEN:
                opened += 1
                tripped = True
            elif tripped and after is _CLOSED:
                cycles.append(now)
                break
        rejected_counts.append(rejected)
        open_counts.append(opened)
    return CycleSamples(tuple(cycles), tuple(rejected_counts), tuple(open_counts))


def simulate_recovery_after_failed_probe(setting: BreakerSetting, rate: float, p0: float, replications: int,
                                         seed: int, level: float = 0.95) -> Estimate:
    """Seconds until Closed when a hard outage ends at t = 0, the instant the breaker (re)opened
    (k failures at t = 0 open it); from then on requests fail with probability `p0`."""
    recoveries: list[float] = []
    for rng in _streams(seed, replications):
        breaker, _clock = _breaker(setting)
        for _ in range(setting.failure_threshold):
            _request(breaker, True)
        for now, draw in _arrivals(rng, rate):
            _clock.set(now)
            _request(breaker, draw < p0)
            if breaker.state is _CLOSED:
                recoveries.append(now)
                break
    return mean_interval(recoveries, level)


def simulate_run_count_shares(setting: BreakerSetting, rate: float, p0: float, requests: int, seed: int,
                              batches: int = 20, level: float = 0.95) -> list[Estimate]:
    """One long healthy run of the real breaker, trips and recoveries included: the share of
    arrivals that find it Closed with i consecutive failures, among arrivals that find it
    Closed, i = 0..k-1 (Poisson arrivals see time averages). Intervals by batch means over
    `batches` equal stretches after a first stretch of warm-up is dropped (arrivals in a row are
    correlated, batches far apart are close to independent)."""
    k = setting.failure_threshold
    (rng,) = _streams(seed, 1)
    breaker, clock = _breaker(setting)
    per_batch = requests // (batches + 1)
    if per_batch < 1:
        raise ValueError(f"need more requests ({requests}) than batches + 1 ({batches + 1})")
    shares: list[list[float]] = [[] for _ in range(k)]
    counts = [0] * k
    for index, (now, draw) in enumerate(_arrivals(rng, rate)):
        if index >= per_batch * (batches + 1):
            break
        clock.set(now)
        if breaker.state is _CLOSED:
            counts[breaker.failure_count] += 1
        _request(breaker, draw < p0)
        if (index + 1) % per_batch == 0:
            closed = sum(counts)
            if index + 1 > per_batch and closed:  # the first stretch is warm-up
                for i in range(k):
                    shares[i].append(counts[i] / closed)
            counts = [0] * k
    return [mean_interval(values, level) for values in shares]
