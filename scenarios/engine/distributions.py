"""Per-operation latencies: the config sections that describe a distribution, and the samplers a
driver draws from on its hot path.

A config says ``{kind = "exponential", mean = 0.002}``; `Latency` (a pydantic discriminated
union) validates it at the boundary and `sampler(latency, rng)` turns it into a plain
zero-argument callable returning virtual seconds, so a draw costs one call and no validation.
Every sampler draws from the `random.Random` it is given: one named stream per operation
(``world.rng("redis")``), so adding a draw elsewhere never shifts these.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, model_validator

from rustok_sim.scenarios.engine.config import Settings

__all__ = ["Constant", "Empirical", "Exponential", "Latency", "Lognormal", "Sampler", "mean_of", "sampler"]

Sampler: TypeAlias = Callable[[], float]
"""A draw: virtual seconds, >= 0."""


class Constant(Settings):
    kind: Literal["constant"] = "constant"
    value: float = Field(ge=0, allow_inf_nan=False, description="seconds, every draw")


class Exponential(Settings):
    kind: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0, allow_inf_nan=False, description="seconds (rate = 1 / mean)")


class Lognormal(Settings):
    """Parameterised by what an SRE reads off a dashboard: the median and the 99th percentile."""

    kind: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0, allow_inf_nan=False, description="seconds")
    p99: float = Field(gt=0, allow_inf_nan=False, description="seconds, > median")

    @model_validator(mode="after")
    def _spread(self) -> Lognormal:
        if not self.p99 > self.median:
            raise ValueError(f"p99 ({self.p99}) must be greater than median ({self.median})")
        return self

    @property
    def mu(self) -> float:
        return math.log(self.median)

    @property
    def sigma(self) -> float:
        return (math.log(self.p99) - math.log(self.median)) / 2.3263478740408408  # z(0.99)


class Empirical(Settings):
    """Draws uniformly from measured values (a live run's latencies, for calibration)."""

    kind: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1, description="seconds, each >= 0")

    @model_validator(mode="after")
    def _non_negative(self) -> Empirical:
        for index, value in enumerate(self.values):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"values[{index}] must be a finite number >= 0 (got {value})")
        return self


Latency: TypeAlias = Annotated[Constant | Exponential | Lognormal | Empirical, Field(discriminator="kind")]


def sampler(latency: Constant | Exponential | Lognormal | Empirical, rng: random.Random) -> Sampler:
    """A zero-argument callable that draws one latency in seconds from `rng`."""
    if isinstance(latency, Constant):
        value = latency.value
        return lambda: value
    if isinstance(latency, Exponential):
        rate, draw = 1.0 / latency.mean, rng.expovariate
        return lambda: draw(rate)
    if isinstance(latency, Lognormal):
        mu, sigma, lognormal = latency.mu, latency.sigma, rng.lognormvariate
        return lambda: lognormal(mu, sigma)
    if isinstance(latency, Empirical):
        values, choice = tuple(latency.values), rng.choice
        return lambda: choice(values)
    raise TypeError(f"not a latency distribution: {latency!r}")


def mean_of(latency: Constant | Exponential | Lognormal | Empirical) -> float:
    """The distribution's mean in seconds (for twins and capacity estimates)."""
    if isinstance(latency, Constant):
        return latency.value
    if isinstance(latency, Exponential):
        return latency.mean
    if isinstance(latency, Lognormal):
        return math.exp(latency.mu + latency.sigma ** 2 / 2)
    return sum(latency.values) / len(latency.values)
