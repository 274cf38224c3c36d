"""Small, exact statistics for results: percentiles, batch-means confidence intervals, and a
time-weighted accumulator for state fractions and mean queue lengths.

Everything here is plain Python over lists of floats (no numpy on the hot path, and results stay
byte-stable across machines).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

__all__ = ["TimeWeighted", "batch_means_ci", "percentiles", "student_t_quantile"]

_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
         18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
         120: 1.980}


def student_t_quantile(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (two-sided 95%)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1 (got {df})")
    if df in _T975:
        return _T975[df]
    if df > 120:
        return NormalDist().inv_cdf(0.975)
    lower = max(k for k in _T975 if k < df)
    upper = min(k for k in _T975 if k > df)
    # interpolate in 1/df, which is close to linear for t quantiles
    w = (1 / df - 1 / upper) / (1 / lower - 1 / upper)
    return _T975[upper] + w * (_T975[lower] - _T975[upper])


def batch_means_ci(values: Sequence[float], batches: int = 20) -> tuple[float, tuple[float, float]]:
    """Mean of a (possibly autocorrelated) series and its 95% interval by non-overlapping batch
    means: the series is cut into `batches` equal batches, whose means are close to independent
    when each batch is long compared with the correlation time."""
    n = len(values)
    if n == 0:
        return math.nan, (math.nan, math.nan)
    mean = math.fsum(values) / n
    batches = min(batches, n)
    if batches < 2:
        return mean, (mean, mean)
    size = n // batches
    means = [math.fsum(values[i * size:(i + 1) * size]) / size for i in range(batches)]
    grand = math.fsum(means) / batches
    var = math.fsum((m - grand) ** 2 for m in means) / (batches - 1)
    half = student_t_quantile(batches - 1) * math.sqrt(var / batches)
    return mean, (mean - half, mean + half)


def percentiles(values: Sequence[float], points: Sequence[float] = (50, 90, 95, 99, 99.9)) -> dict[str, float]:
    """Nearest-rank percentiles, keyed ``"p50"``, ``"p99.9"``; empty input gives an empty dict."""
    if not values:
        return {}
    ordered = sorted(values)
    n = len(ordered)
    out: dict[str, float] = {}
    for p in points:
        rank = max(1, math.ceil(p / 100 * n))
        label = f"p{p:g}"
        out[label] = ordered[rank - 1]
    out["max"] = ordered[-1]
    out["mean"] = math.fsum(ordered) / n
    return out


class TimeWeighted:
    """The time-weighted mean of a piecewise-constant value (queue length, a 0/1 state flag),
    updated at each change: ``update(now, new_value)``."""

    __slots__ = ("value", "since", "start", "area")

    def __init__(self, now: float = 0.0, value: float = 0.0) -> None:
        self.value, self.since, self.start, self.area = value, now, now, 0.0

    def update(self, now: float, value: float) -> None:
        self.area += self.value * (now - self.since)
        self.value, self.since = value, now

    def restart(self, now: float) -> None:
        """Forget the past (end of warm-up), keep the current value."""
        self.area, self.since, self.start = 0.0, now, now

    def mean(self, now: float) -> float:
        span = now - self.start
        if span <= 0:
            return self.value
        return (self.area + self.value * (now - self.since)) / span
