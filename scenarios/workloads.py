"""Who asks for what, and when: arrival processes (Poisson, bursts, ramps, diurnal), Zipf tenant
popularity and mixes of domain event types.

An arrival process is a config section (`Arrivals`) plus `arrival_times(arrivals, rng, end)`,
a generator of absolute virtual times. Non-homogeneous rates (ramp, diurnal, bursts) are drawn
by thinning (Lewis and Shedler): candidates at the peak rate, each kept with probability
rate(t) / peak, which is exact for any bounded rate function. A driver consumes the times in a
simpy process (``yield env.timeout(t - env.now)``).
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, model_validator

from rustok_sim.scenarios.engine.config import Settings

__all__ = ["EVENT_KINDS", "Arrivals", "Burst", "Diurnal", "EventMix", "Poisson", "Ramp", "ZipfTenants", "arrival_times",
           "rate_function"]


class Burst(Settings):
    """For `duration` seconds from `start`, the rate is multiplied by `factor`."""

    start: float = Field(ge=0, allow_inf_nan=False, description="virtual seconds")
    duration: float = Field(gt=0, allow_inf_nan=False, description="virtual seconds")
    factor: float = Field(gt=0, allow_inf_nan=False, description="rate multiplier during the burst")


class Poisson(Settings):
    kind: Literal["poisson"] = "poisson"
    rate: float = Field(gt=0, allow_inf_nan=False, description="arrivals per virtual second")
    bursts: list[Burst] = Field(default_factory=list, description="windows at a multiple of the rate")


class Ramp(Settings):
    """The rate goes linearly from `start_rate` to `end_rate` over `duration`, then stays."""

    kind: Literal["ramp"] = "ramp"
    start_rate: float = Field(ge=0, allow_inf_nan=False, description="arrivals/s at t = 0")
    end_rate: float = Field(ge=0, allow_inf_nan=False, description="arrivals/s from t = duration")
    duration: float = Field(gt=0, allow_inf_nan=False, description="virtual seconds")
    bursts: list[Burst] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_rate(self) -> Ramp:
        if self.start_rate == 0 and self.end_rate == 0:
            raise ValueError("start_rate and end_rate cannot both be 0")
        return self


class Diurnal(Settings):
    """rate(t) = mean_rate * (1 + amplitude * sin(2 pi t / period)): a day compressed to `period`."""

    kind: Literal["diurnal"] = "diurnal"
    mean_rate: float = Field(gt=0, allow_inf_nan=False, description="arrivals/s averaged over a period")
    amplitude: float = Field(0.5, ge=0, le=1, allow_inf_nan=False, description="0: flat, 1: down to 0 at night")
    period: float = Field(86_400.0, gt=0, allow_inf_nan=False, description="virtual seconds per cycle")
    bursts: list[Burst] = Field(default_factory=list)


Arrivals: TypeAlias = Annotated[Poisson | Ramp | Diurnal, Field(discriminator="kind")]


def _base_rate(arrivals: Poisson | Ramp | Diurnal) -> tuple[Callable[[float], float], float]:
    if isinstance(arrivals, Poisson):
        rate = arrivals.rate
        return (lambda t: rate), rate
    if isinstance(arrivals, Ramp):
        a, b, span = arrivals.start_rate, arrivals.end_rate, arrivals.duration
        return (lambda t: a + (b - a) * min(t / span, 1.0)), max(a, b)
    mean, amp, period = arrivals.mean_rate, arrivals.amplitude, arrivals.period
    return (lambda t: mean * (1.0 + amp * math.sin(2 * math.pi * t / period))), mean * (1.0 + amp)


def rate_function(arrivals: Poisson | Ramp | Diurnal) -> tuple[Callable[[float], float], float]:
    """rate(t) in arrivals/s, bursts included, and its upper bound."""
    base, peak = _base_rate(arrivals)
    bursts = tuple((b.start, b.start + b.duration, b.factor) for b in arrivals.bursts)
    if not bursts:
        return base, peak

    def rate(t: float) -> float:
        value = base(t)
        for start, end, factor in bursts:
            if start <= t < end:
                value *= factor
        return value

    factor_bound = 1.0
    for _, _, factor in bursts:  # overlapping bursts multiply
        factor_bound *= max(factor, 1.0)
    return rate, peak * factor_bound


def arrival_times(arrivals: Poisson | Ramp | Diurnal, rng: random.Random,
                  end: float = math.inf) -> Iterator[float]:
    """Absolute arrival times in virtual seconds, increasing, until `end` (exclusive)."""
    expovariate, uniform = rng.expovariate, rng.random
    if isinstance(arrivals, Poisson) and not arrivals.bursts:
        rate, t = arrivals.rate, 0.0
        while True:
            t += expovariate(rate)
            if t >= end:
                return
            yield t
    rate_at, peak = rate_function(arrivals)
    t = 0.0
    while True:
        t += expovariate(peak)
        if t >= end:
            return
        if uniform() * peak < rate_at(t):
            yield t


class ZipfTenants(Settings):
    """`count` tenants; tenant k (1-based) is asked with probability proportional to 1 / k^exponent."""

    count: int = Field(100, ge=1, le=1_000_000, description="tenants")
    exponent: float = Field(1.1, ge=0, allow_inf_nan=False, description="0: uniform; larger: a hotter head")

    def picker(self, rng: random.Random) -> Callable[[], int]:
        """A draw of a tenant index in [0, count): O(log count) per draw, by bisection."""
        weights = [1.0 / (k ** self.exponent) for k in range(1, self.count + 1)]
        cumulative = list(itertools.accumulate(weights))
        total, uniform, right = cumulative[-1], rng.random, bisect.bisect_right
        last = self.count - 1
        return lambda: min(right(cumulative, uniform() * total), last)


def _event_kinds() -> dict[str, object]:
    """One real domain event per kind, built once: an event is immutable, and the bus gives each
    envelope its own id, so publishing the same event object many times is what a flood of that
    kind is (and costs no pydantic validation per event)."""
    from rustok_sim.model.events.domain import (
        InventoryUpdated,
        NodeCreated,
        NodeUpdated,
        OrderPlaced,
        PriceUpdated,
        ProductCreated,
    )

    entity, other = uuid.UUID(int=(1 << 64) + 1), uuid.UUID(int=(1 << 64) + 2)
    return {
        "node_created": NodeCreated(node_id=entity, kind="post"),
        "node_updated": NodeUpdated(node_id=entity, kind="post"),
        "product_created": ProductCreated(product_id=entity),
        "inventory_updated": InventoryUpdated(variant_id=entity, product_id=other, location_id=other,
                                              old_quantity=5, new_quantity=4),
        "price_updated": PriceUpdated(variant_id=entity, product_id=other, currency="EUR", new_amount=1999),
        "order_placed": OrderPlaced(order_id=entity, total=4200, currency="EUR"),
    }


EVENT_KINDS: tuple[str, ...] = ("inventory_updated", "node_created", "node_updated", "order_placed",
                                "price_updated", "product_created")


class EventMix(Settings):
    """Which domain events producers publish, by relative weight."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {"node_created": 5.0, "node_updated": 3.0, "order_placed": 1.0,
                                 "product_created": 1.0},
        description=f"event kind -> relative weight; kinds: {', '.join(EVENT_KINDS)}")

    @model_validator(mode="after")
    def _known_kinds(self) -> EventMix:
        unknown = sorted(set(self.weights) - set(EVENT_KINDS))
        if unknown:
            raise ValueError(f"unknown event kind(s) {unknown}; known: {list(EVENT_KINDS)}")
        if any(w < 0 or not math.isfinite(w) for w in self.weights.values()):
            raise ValueError("weights must be finite and >= 0")
        if sum(self.weights.values()) <= 0:
            raise ValueError("at least one weight must be > 0")
        return self

    def picker(self, rng: random.Random) -> Callable[[], object]:
        """A draw of one domain event (a real model event) by the weights."""
        events = _event_kinds()
        kinds: Sequence[str] = sorted(k for k, w in self.weights.items() if w > 0)
        if len(kinds) == 1:
            only = events[kinds[0]]
            return lambda: only
        cumulative = list(itertools.accumulate(self.weights[k] for k in kinds))
        total, uniform, right = cumulative[-1], rng.random, bisect.bisect_right
        chosen = [events[k] for k in kinds]
        last = len(kinds) - 1
        return lambda: chosen[min(right(cumulative, uniform() * total), last)]
