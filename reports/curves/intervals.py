"""Confidence intervals for simulation estimates: Wilson for a proportion, Student t for a mean,
order statistics for a quantile. Plain Python (no scipy); `level` is two-sided, e.g. 0.95."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["Estimate", "mean_interval", "normal_quantile", "quantile_interval", "student_t_quantile",
           "wilson_interval"]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A simulated value with its two-sided interval at `level`, from `samples` replications."""

    value: float
    low: float
    high: float
    level: float
    samples: int

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


def _require_level(level: float) -> None:
    if not (0.0 < level < 1.0):
        raise ValueError(f"confidence level must be in (0, 1) (got {level})")


def normal_quantile(level: float) -> float:
    """z such that a standard normal lies within +-z with probability `level`."""
    _require_level(level)
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def student_t_quantile(level: float, df: int) -> float:
    """t such that Student's t with `df` degrees of freedom lies within +-t with probability
    `level`: the Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun
    26.7.5), within 1e-3 of the exact value for df >= 5 and exact as df grows; below 5 it is
    too small, so callers here need at least 6 replications."""
    if df < 5:
        raise ValueError(f"need at least 5 degrees of freedom for a t interval (got {df})")
    z = normal_quantile(level)
    n = float(df)
    return (z + (z ** 3 + z) / (4 * n) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * n ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * n ** 3)
            + (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / (92160 * n ** 4))


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> Estimate:
    """The proportion successes/trials with its Wilson score interval (sound near 0 and 1,
    where the normal approximation gives impossible bounds)."""
    if trials <= 0 or not (0 <= successes <= trials):
        raise ValueError(f"need 0 <= successes <= trials and trials > 0 (got {successes}/{trials})")
    z = normal_quantile(level)
    share = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    return Estimate(share, max(0.0, centre - half), min(1.0, centre + half), level, trials)


def mean_interval(values: Sequence[float], level: float = 0.95) -> Estimate:
    """The sample mean of independent replications with its Student t interval."""
    n = len(values)
    if n < 6:
        raise ValueError(f"need at least 6 replications for a mean interval (got {n})")
    mean = math.fsum(values) / n
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = student_t_quantile(level, n - 1) * math.sqrt(variance / n)
    return Estimate(mean, mean - half, mean + half, level, n)


def quantile_interval(values: Sequence[float], q: float, level: float = 0.95) -> Estimate:
    """The q-quantile of independent samples (nearest rank) with its distribution-free interval:
    the order statistics whose ranks bound the binomial(n, q) count of samples below the true
    quantile (normal approximation of the binomial, fine for n q (1-q) >= 10)."""
    if not (0.0 < q < 1.0):
        raise ValueError(f"quantile must be in (0, 1) (got {q})")
    ordered = sorted(values)
    n = len(ordered)
    if n < 2:
        raise ValueError(f"need at least 2 samples for a quantile interval (got {n})")
    z = normal_quantile(level)
    spread = z * math.sqrt(n * q * (1 - q))
    low_rank = max(0, math.floor(n * q - spread) - 1)
    high_rank = min(n - 1, math.ceil(n * q + spread))
    point = ordered[min(n - 1, max(0, math.ceil(n * q) - 1))]
    return Estimate(point, ordered[low_rank], ordered[high_rank], level, n)
