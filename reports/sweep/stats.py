"""Per-point summaries over seeds: for every metric its mean and a 95% t-interval.

Seeds are independent replications of the same config, so the mean over K seeds has the
Student-t interval ``mean ± t(0.975, K-1) · sd / √K``. With one seed there is no interval
(``low``/``high`` are NaN) and the recommendation says so.

A run that did not report a metric: if every value the sweep saw for it is an integer it is a
counter that stayed at zero (``http_status_counts.500`` when no request failed) and counts as 0;
otherwise (a time, a rate) it is left out and `n` is smaller than the number of runs. NaN (the
run reported "no value", such as a recovery time when the breaker never closed) is left out too.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rustok_sim.reports.sweep.grid import Point
from rustok_sim.scenarios.engine.stats import student_t_quantile

__all__ = ["MetricSummary", "PointSummary", "counter_metrics", "summarize", "t_interval"]


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """One metric at one point: `n` values, their mean, standard deviation and the 95% interval
    of the mean (NaN bounds below two values), in the metric's own unit."""

    n: int
    mean: float
    sd: float
    low: float
    high: float
    values: tuple[float, ...]
    """The values by seed, in seed order (what the interval was computed from)."""

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True, slots=True)
class PointSummary:
    point: Point
    seeds: tuple[int, ...]
    metrics: Mapping[str, MetricSummary]


def t_interval(values: Sequence[float]) -> MetricSummary:
    """Mean, sd and the two-sided 95% Student-t interval of the mean of `values` (finite ones)."""
    kept = tuple(float(v) for v in values if not math.isnan(v))
    n = len(kept)
    if n == 0:
        return MetricSummary(0, math.nan, math.nan, math.nan, math.nan, kept)
    mean = math.fsum(kept) / n
    if n == 1:
        return MetricSummary(1, mean, math.nan, math.nan, math.nan, kept)
    sd = statistics.stdev(kept)
    half = student_t_quantile(n - 1) * sd / math.sqrt(n)
    return MetricSummary(n, mean, sd, mean - half, mean + half, kept)


def counter_metrics(runs: Sequence[Mapping[str, float]]) -> frozenset[str]:
    """The metrics whose every reported value is an integer: counters, 0 when not reported."""
    seen: dict[str, bool] = {}
    for metrics in runs:
        for name, value in metrics.items():
            seen[name] = seen.get(name, True) and isinstance(value, int)
    return frozenset(name for name, integral in seen.items() if integral)


def summarize(runs_by_point: Sequence[tuple[Point, Sequence[tuple[int, Mapping[str, float]]]]],
              zero_if_unreported: Iterable[str] = ()) -> list[PointSummary]:
    """One summary per point from its ``(seed, metrics)`` runs; points keep the order given.
    `zero_if_unreported` names counters no run reported (a status code no request got) that
    still need a summary, of zeros, because an objective or constraint reads them."""
    every_run = [metrics for _point, runs in runs_by_point for _seed, metrics in runs]
    reported = {name for metrics in every_run for name in metrics}
    counters = counter_metrics(every_run) | (set(zero_if_unreported) - reported)
    names = sorted(reported | counters)
    summaries = []
    for point, runs in runs_by_point:
        ordered = sorted(runs, key=lambda run: run[0])
        by_metric: dict[str, MetricSummary] = {}
        for name in names:
            values = [metrics[name] if name in metrics else (0 if name in counters else math.nan)
                      for _seed, metrics in ordered]
            by_metric[name] = t_interval(values)
        summaries.append(PointSummary(point, tuple(seed for seed, _ in ordered), by_metric))
    return summaries
