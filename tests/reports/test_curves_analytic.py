"""The operating-curve math on cases checkable by hand or by brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rustok_sim.reports.curves import CurveConfig, CurveConfigError, compute_operating_curves
from rustok_sim.reports.curves import analytic as a
from rustok_sim.reports.curves.analytic import BreakerSetting


def poisson(n: int, mean: float) -> float:
    return math.exp(-mean) * mean ** n / math.factorial(n)


def has_run(outcomes: tuple[bool, ...], k: int) -> bool:
    run = 0
    for failed in outcomes:
        run = run + 1 if failed else 0
        if run >= k:
            return True
    return False


def brute_force_trip_probability(k: int, p: float, mean_requests: float, max_n: int = 14) -> float:
    """Every failure pattern of n requests, weighted by its probability and by Poisson(n)."""
    total = 0.0
    for n in range(max_n + 1):
        trips = sum(p ** sum(seq) * (1 - p) ** (n - sum(seq))
                    for seq in itertools.product((False, True), repeat=n) if has_run(seq, k))
        total += poisson(n, mean_requests) * trips
    return total


@pytest.mark.parametrize(("k", "p"), [(2, 0.3), (3, 0.5), (3, 0.1)])
def test_false_trip_probability_matches_brute_force_enumeration(k, p):
    # mean 1.5 requests: the Poisson tail past 14 requests is below 1e-10
    assert a.false_trip_probability(k, p, rate=3.0, window=0.5) == pytest.approx(
        brute_force_trip_probability(k, p, 1.5), abs=1e-10)


def test_a_threshold_of_one_trips_at_the_first_failure_a_poisson_thinning():
    rate, p, window = 20.0, 0.01, 30.0
    assert a.false_trip_probability(1, p, rate, window) == pytest.approx(1 - math.exp(-rate * p * window), rel=1e-12)
    times = [0.1, 1.0, 5.0]
    cdf = a.detection_delay_cdf(1, 0.25, 8.0, times)
    assert cdf == pytest.approx([1 - math.exp(-8.0 * 0.25 * t) for t in times], rel=1e-12)
    assert a.detection_delay_mean(1, 0.25, 8.0) == pytest.approx(0.5)
    assert a.detection_delay_quantile(1, 0.25, 8.0, 0.95) == pytest.approx(-math.log(0.05) / 2.0, rel=1e-8)


def test_no_errors_never_trip_and_never_detect():
    assert a.false_trip_probability(3, 0.0, 100.0, a.SECONDS_PER_WEEK) == 0.0
    assert a.trip_cycle(BreakerSetting(3, 30.0), 0.0, 100.0).trips_per_week == 0.0
    assert a.detection_delay_mean(3, 0.0, 100.0) == math.inf
    assert a.detection_delay_quantile(3, 0.0, 100.0, 0.95) == math.inf


def test_every_request_failing_trips_at_the_kth_request():
    k, rate, window = 3, 2.0, 1.5  # Poisson mean 3
    at_least_k = 1 - sum(poisson(n, rate * window) for n in range(k))
    assert a.false_trip_probability(k, 1.0, rate, window) == pytest.approx(at_least_k, rel=1e-12)
    # from a run of 1 already at the jump, 2 more failures: Erlang(2, rate)
    start = np.array([0.0, 1.0, 0.0])
    assert a.detection_delay_mean(k, 1.0, rate, start) == pytest.approx(1.0)
    t = 0.7
    erlang = 1 - math.exp(-rate * t) * (1 + rate * t)
    assert a.detection_delay_cdf(k, 1.0, rate, [t], start)[0] == pytest.approx(erlang, rel=1e-12)


def test_expected_requests_closed_form_matches_the_chain():
    k, p = 4, 0.3
    transient = a.run_length_matrix(k, p)[:k, :k]
    solved = np.linalg.solve(np.eye(k) - transient, np.ones(k))
    for i in range(k):
        start = np.eye(k)[i]
        assert a.expected_requests_to_trip(k, p, start) == pytest.approx(solved[i], rel=1e-10)
    assert a.expected_requests_to_trip(k, p) == pytest.approx((1 - p ** k) / ((1 - p) * p ** k))


def test_rare_trips_keep_their_precision():
    # P(trip in T) ~ rate * T / E0 when tiny: no 1 - survival cancellation at 1e-16
    k, p, rate, window = 10, 0.005, 100.0, a.SECONDS_PER_WEEK
    rare = a.false_trip_probability(k, p, rate, window)
    assert rare == pytest.approx(rate * window / a.expected_requests_to_trip(k, p), rel=1e-6)
    assert 1e-16 < rare < 1e-15


def test_the_steady_run_falls_by_p0_per_failure():
    assert a.steady_run_distribution(2, 0.25) == pytest.approx([1 / 1.25, 0.25 / 1.25])
    assert a.steady_run_distribution(3, 1.0) == pytest.approx([1 / 3] * 3)


def test_a_trip_cycle_by_hand():
    # k=1, half-open closes on one success; p0 = 0.5: closed 2 requests (0.2 s), 2 Open
    # periods per trip on average, each 1 s timeout + 0.1 s wait for the probe
    cycle = a.trip_cycle(BreakerSetting(1, 1.0, success_threshold=1), 0.5, 10.0)
    assert cycle.closed_seconds == pytest.approx(0.2)
    assert cycle.open_periods == pytest.approx(2.0)
    assert cycle.open_seconds == pytest.approx(2.2)
    assert cycle.rejected_requests == pytest.approx(20.0)
    assert cycle.trips_per_week == pytest.approx(a.SECONDS_PER_WEEK / 2.4)


def test_recovery_from_a_hard_outage_by_hand():
    # one success closes and p0 = 0: the probe after the timeout closes; after a failed probe
    # the full timeout plus the wait; at a random phase the equilibrium residual of timeout + Exp
    recovery = a.recovery_after_outage(BreakerSetting(2, 10.0, success_threshold=1), 0.0, 1.0)
    assert recovery.after_failed_probe == pytest.approx(11.0)
    assert recovery.mean == pytest.approx((100 + 20 + 2) / (2 * 11))


def test_a_hard_outage_lets_only_the_probes_through():
    load = a.outage_load(BreakerSetting(3, 9.0, success_threshold=2), 1.0, 1.0)
    assert load.failed_per_minute == pytest.approx(6.0)  # one failed probe per 10 s cycle
    assert load.rejected_fraction == pytest.approx(0.9)


def test_cb_b_stuck_half_open_never_closes_but_cb_a_and_hardened_do():
    assert not BreakerSetting(3, 5.0, success_threshold=5, half_open_max_requests=2).can_close
    assert BreakerSetting(3, 5.0, success_threshold=5, half_open_max_requests=2, variant="standalone").can_close
    assert BreakerSetting(3, 5.0, success_threshold=5, half_open_max_requests=2, variant="hardened").can_close
    assert a.trip_cycle(BreakerSetting(3, 5.0, success_threshold=5, half_open_max_requests=2), 0.1, 10.0
                        ).rejected_requests == math.inf


def test_the_recommendation_answers_the_architects_question():
    curves = compute_operating_curves(CurveConfig(thresholds=tuple(range(1, 9))))
    rec = curves.recommendation
    assert rec is not None and rec.best is not None
    assert {k for k, _ in rec.feasible} == {4, 5}
    assert (rec.best.failure_threshold, rec.best.timeout) == (4, 5.0)
    assert "failure_threshold 4 with timeout 5 s" in rec.sentence


def test_a_recovery_limit_chooses_the_timeout():
    curves = compute_operating_curves(CurveConfig(thresholds=(4, 5), max_recovery=10.0,
                                                  max_outage_failures_per_minute=20.0))
    rec = curves.recommendation
    assert rec is not None and rec.best is not None
    assert rec.feasible == ((4, 15.0),)
    assert rec.best.timeout == 15.0


def test_impossible_limits_say_what_is_missed():
    rec = compute_operating_curves(CurveConfig(thresholds=(2, 3), max_detection_delay=0.01)).recommendation
    assert rec is not None and rec.best is None and rec.feasible == ()
    assert rec.sentence.startswith("No setting meets every limit")


def test_a_stuck_setting_is_never_recommended():
    rec = compute_operating_curves(CurveConfig(thresholds=(4,), success_threshold=5,
                                               half_open_max_requests=2)).recommendation
    assert rec is not None and rec.best is None
    assert "cannot close" in rec.sentence or "No setting" in rec.sentence


@pytest.mark.parametrize(("fields", "message"), [
    ({"p0": -0.1}, "p0 must be a probability"),
    ({"p1": 1.5}, "p1 must be a probability"),
    ({"rate": 0.0}, "rate must be"),
    ({"thresholds": (0, 1)}, "thresholds"),
    ({"timeouts": (-1.0,)}, "timeouts"),
    ({"delay_statistic": "p42"}, "delay_statistic"),
    ({"variant": "hardened", "half_open_max_requests": 0}, "half_open_max_requests"),
])
def test_a_bad_question_names_the_field(fields, message):
    with pytest.raises(CurveConfigError, match=message):
        CurveConfig(**fields)


def test_the_plotting_grid_gives_the_same_cdf():
    start = a.steady_run_distribution(4, 0.1)
    times, grid = a.detection_delay_cdf_grid(4, 0.6, 50.0, 2.0, 40, start)
    assert grid == pytest.approx(a.detection_delay_cdf(4, 0.6, 50.0, times, start), abs=1e-12)
