"""Grid axes and points: what ``--grid`` and ``--random`` turn into."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.reports.sweep import SweepError, parse_axis
from rustok_sim.reports.sweep.grid import grid_points, random_points


def test_an_integer_range_includes_its_stop():
    assert parse_axis("traffic.breaker.failure_threshold=1:5:2").values == (1, 3, 5)


def test_a_float_range_is_rounded_to_the_digits_it_shows():
    assert parse_axis("timeout=0.1:0.5:0.1").values == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert parse_axis("timeout=1:2:0.25").values == (1.0, 1.25, 1.5, 1.75, 2.0)


def test_a_list_takes_toml_scalars_and_bare_words():
    assert parse_axis("profile=faithful,hardened").values == ("faithful", "hardened")
    assert parse_axis("x=5, 0.5, true").values == (5, 0.5, True)
    assert parse_axis("traffic.breaker.timeout=10").values == (10,)


@pytest.mark.parametrize(("text", "message"), [
    ("timeout", "expected field=start:stop:step"),
    ("timeout=", "no values after '='"),
    ("timeout=1:5", "a range is start:stop:step"),
    ("timeout=1:5:0", "step must be > 0"),
    ("timeout=5:1:1", "stop 1 is below start 5"),
    ("timeout=a:5:1", "start 'a' is not a number"),
    ("timeout=1,,2", "empty value"),
    ("timeout=1,2,1", "value 1 is listed twice"),
    ("bad field=1", "is not a field name"),
    ("timeout=0:1000000:1", "more than 100000"),
])
def test_a_bad_axis_says_what_is_wrong(text, message):
    with pytest.raises(SweepError, match=message):
        parse_axis(text)


def test_points_are_the_product_in_grid_order():
    axes = [parse_axis("a=1,2"), parse_axis("b=x,y,z")]
    points = grid_points(axes)
    assert [p.values for p in points] == [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
    assert [p.index for p in points] == list(range(6))


def test_a_field_swept_twice_is_refused():
    with pytest.raises(SweepError, match="swept twice"):
        grid_points([parse_axis("a=1,2"), parse_axis("a=3")])


@given(count=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_random_points_are_distinct_grid_points_in_grid_order_and_seeded(count, seed):
    axes = [parse_axis("a=1:6:1"), parse_axis("b=0.5:3:0.5")]
    points = random_points(axes, count, seed)
    everything = {p.values: p.index for p in grid_points(axes)}
    assert len(points) == min(count, 36)
    assert [p.index for p in points] == sorted({p.index for p in points})
    assert all(everything[p.values] == p.index for p in points)
    assert random_points(axes, count, seed) == points


def test_random_sampling_does_not_build_a_huge_grid():
    axes = [parse_axis(f"f{i}=1:100:1") for i in range(4)]  # 10^8 points
    assert len(random_points(axes, 10, seed=3)) == 10
    with pytest.raises(SweepError, match="sample it with --random N"):
        grid_points(axes)
