"""The analytic operating curves against the real `CircuitBreaker` on a ManualClock, seeded.

Points are chosen where the probabilities are far from 0 and 1 (large p0, windows of a few
hundred requests), so a wrong formula lands outside the interval. Each test compares one or a
few values; there are `CHECKS` comparisons in this file, each at level 1 - 0.05 / CHECKS
(Bonferroni), so the whole file holds at 95% jointly. Seeds are fixed and were not searched.
"""

from __future__ import annotations

import pytest

from rustok_sim.reports.curves import analytic as a
from rustok_sim.reports.curves.analytic import BreakerSetting
from rustok_sim.reports.curves.simulation import (
    simulate_detection_delays,
    simulate_recovery_after_failed_probe,
    simulate_run_count_shares,
    simulate_trip_cycles,
    simulate_window_trips,
)

CHECKS = 15
LEVEL = 1 - 0.05 / CHECKS


@pytest.mark.parametrize(("k", "p0", "rate", "window"), [(2, 0.05, 10.0, 30.0), (3, 0.2, 10.0, 20.0)])
def test_false_trip_probability_in_a_window_agrees(k, p0, rate, window):
    exact = a.false_trip_probability(k, p0, rate, window)
    assert 0.3 < exact < 0.8
    estimate = simulate_window_trips(BreakerSetting(k, 1.0), rate, p0, window, replications=800, seed=k, level=LEVEL)
    assert estimate.contains(exact), (estimate, exact)
    # and the check has teeth: the next threshold's probability is far outside
    assert not estimate.contains(a.false_trip_probability(k + 1, p0, rate, window))


@pytest.mark.parametrize(("k", "p0", "p1", "warmup"), [(3, 0.2, 0.5, 20), (5, 0.1, 0.8, 20), (3, 0.5, 0.9, 6)])
def test_detection_delay_agrees_including_the_run_at_the_jump(k, p0, p1, warmup):
    rate = 10.0
    samples = simulate_detection_delays(BreakerSetting(k, 1.0), rate, p0, p1, replications=1000, seed=10 + k,
                                        warmup_requests=warmup)
    start = a.run_distribution_after(k, p0, warmup)
    exact_mean = a.detection_delay_mean(k, p1, rate, start)
    median = a.detection_delay_quantile(k, p1, rate, 0.5, start)
    assert samples.mean(LEVEL).contains(exact_mean), (samples.mean(LEVEL), exact_mean)
    assert samples.share_within(median, LEVEL).contains(0.5)


def test_ignoring_the_failures_already_in_the_run_is_detectably_wrong():
    # at p0 = 0.5 the run at the jump is often 1 or 2: counting from 0 overstates the mean ~20%
    k, p0, p1, rate, warmup = 3, 0.5, 0.9, 10.0, 6
    samples = simulate_detection_delays(BreakerSetting(k, 1.0), rate, p0, p1, replications=1000, seed=13,
                                        warmup_requests=warmup)
    assert not samples.mean(LEVEL).contains(a.detection_delay_mean(k, p1, rate))


def test_a_trip_cycle_agrees_timeout_half_open_and_rejections():
    setting, rate, p0 = BreakerSetting(3, 0.5), 10.0, 0.2
    cycles = simulate_trip_cycles(setting, rate, p0, replications=800, seed=21)
    exact = a.trip_cycle(setting, p0, rate)
    assert cycles.mean_cycle(LEVEL).contains(exact.cycle_seconds)
    assert cycles.mean_rejected(LEVEL).contains(exact.rejected_requests)
    assert cycles.mean_open_periods(LEVEL).contains(exact.open_periods)


def test_recovery_after_a_failed_probe_agrees():
    setting, rate, p0 = BreakerSetting(3, 0.5), 10.0, 0.2
    estimate = simulate_recovery_after_failed_probe(setting, rate, p0, replications=1000, seed=31, level=LEVEL)
    assert estimate.contains(a.recovery_after_outage(setting, p0, rate).after_failed_probe)


def test_the_steady_run_at_an_arbitrary_moment_agrees_with_a_long_run():
    # one long healthy run, trips and recoveries included: arrivals that find the breaker Closed
    setting, rate, p0 = BreakerSetting(3, 0.5), 10.0, 0.2
    shares = simulate_run_count_shares(setting, rate, p0, requests=84_000, seed=41, level=LEVEL)
    for estimate, exact in zip(shares, a.steady_run_distribution(3, p0)):
        assert estimate.contains(float(exact)), (estimate, exact)


def test_same_seed_same_estimates():
    setting = BreakerSetting(2, 1.0)
    first = simulate_window_trips(setting, 10.0, 0.05, 5.0, replications=50, seed=7)
    assert first == simulate_window_trips(setting, 10.0, 0.05, 5.0, replications=50, seed=7)
