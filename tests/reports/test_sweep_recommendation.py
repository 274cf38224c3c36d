"""The recommendation on small result sets whose right answer is known."""

from __future__ import annotations

import math

import pytest

from rustok_sim.reports.sweep import SweepError, parse_axis, parse_constraint, parse_goal
from rustok_sim.reports.sweep.grid import grid_points
from rustok_sim.reports.sweep.objective import pareto_front, recommend
from rustok_sim.reports.sweep.stats import summarize, t_interval

AXES = [parse_axis("threshold=1,3,5,8")]


def summaries(values_by_point):
    """values_by_point: per point, per seed, a metrics dict."""
    points = grid_points(AXES)
    return summarize([(point, list(enumerate(runs, 1))) for point, runs in zip(points, values_by_point)])


def runs(failed, open_s):
    return [{"failed": f, "time_to_open": t} for f, t in zip(failed, open_s)]


# Point 0: failed ~100, opens at ~2.9 s (too close to the 3 s limit: its interval crosses it)
# Point 1: failed ~101, opens at ~1.0 s   <- as good as point 0 on failures, far more margin
# Point 2: failed ~150, opens at ~0.5 s   <- most margin, but clearly worse on failures
# Point 3: failed ~100, opens at ~4.0 s   <- breaks the limit
RESULTS = summaries([
    runs([100, 99, 101, 100, 100], [2.7, 3.1, 2.9, 2.8, 3.0]),
    runs([101, 100, 102, 101, 101], [1.0, 1.1, 0.9, 1.0, 1.0]),
    runs([150, 151, 149, 150, 150], [0.5, 0.5, 0.5, 0.5, 0.5]),
    runs([99, 100, 100, 99, 101], [4.0, 4.1, 3.9, 4.0, 4.0]),
])


def test_fewest_failures_within_the_limit_with_the_most_margin():
    rec = recommend(RESULTS, AXES, [parse_goal("min:failed")], [parse_constraint("time_to_open<=3")])
    assert rec.summary is not None and rec.summary.point.values == (3,)
    assert rec.confidence == "high"
    assert rec.text.startswith("Recommended: threshold = 3.")
    assert "5 of 5 seeds meet it" in rec.text
    assert rec.margins["time_to_open<=3"] == pytest.approx((3 - RESULTS[1].metrics["time_to_open"].high) / 3)


def test_without_an_objective_the_most_margin_wins():
    rec = recommend(RESULTS, AXES, [], [parse_constraint("time_to_open<=3")])
    assert rec.summary is not None and rec.summary.point.values == (5,)


def test_without_constraints_the_best_mean_wins():
    rec = recommend(RESULTS, AXES, [parse_goal("min:failed")], [])
    assert rec.summary is not None and rec.summary.point.values == (8,)
    assert "other point(s)" in rec.text  # points 0 and 1 cannot be told apart from it


def test_nothing_meets_an_impossible_limit():
    rec = recommend(RESULTS, AXES, [parse_goal("failed")], [parse_constraint("time_to_open<0.1")])
    assert rec.summary is None and rec.confidence == "none"
    assert "No point meets every constraint" in rec.text and "the best mean is 0.5" in rec.text


def test_one_seed_is_a_first_look():
    one = summaries([[{"failed": 10}], [{"failed": 5}], [{"failed": 7}], [{"failed": 9}]])
    rec = recommend(one, AXES, [parse_goal("min:failed")], [parse_constraint("failed<=8")])
    assert rec.summary is not None and rec.summary.point.values == (3,)
    assert rec.confidence == "low" and "one seed per point gives no interval" in rec.text


def test_the_pareto_front_keeps_only_undominated_points():
    # (failed, time_to_open): the third point is beaten on both by the first.
    got = summaries([[{"failed": 10, "time_to_open": 5.0}], [{"failed": 8, "time_to_open": 6.0}],
                     [{"failed": 12, "time_to_open": 7.0}], [{"failed": 20, "time_to_open": 1.0}]])
    front = pareto_front(got, [parse_goal("min:failed"), parse_goal("min:time_to_open")])
    assert [s.point.values for s in front] == [(1,), (3,), (8,)]


def test_the_t_interval_matches_the_textbook():
    summary = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert summary.mean == 3.0 and summary.sd == pytest.approx(math.sqrt(2.5))
    assert summary.high - summary.mean == pytest.approx(2.776 * math.sqrt(2.5) / math.sqrt(5))
    assert math.isnan(t_interval([4.0]).low)


def test_a_counter_a_run_did_not_report_is_zero():
    got = summaries([[{"failed": 3}, {}], [{"failed": 1}], [{}], [{"failed": 0}]])
    assert got[0].metrics["failed"].values == (3.0, 0.0) and got[2].metrics["failed"].mean == 0.0


@pytest.mark.parametrize(("text", "message"), [
    ("time_to_open=3", "expected METRIC<=VALUE"),
    ("time_to_open<=soon", "is not a number"),
    ("time_to_open<=inf", "finite"),
])
def test_a_bad_constraint_says_what_is_wrong(text, message):
    with pytest.raises(SweepError, match=message):
        parse_constraint(text)


def test_a_bad_objective_says_what_is_wrong():
    with pytest.raises(SweepError, match="expected min:METRIC or max:METRIC"):
        parse_goal("lowest:failed")
