"""Operating curves of the consecutive-failure breaker across `failure_threshold` and `timeout`:
the analytic numbers per setting, the simulation check where it is affordable, and the answer
to the architect's question (which settings meet the limits, and which with most margin).

Entry points: `CurveConfig` (the question), `compute_operating_curves(config)` ->
`OperatingCurves` (points, simulated checks, `recommendation`), `OperatingCurves.csv_rows()`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import ValidationError

from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig, Variant
from rustok_sim.reports.curves import analytic
from rustok_sim.reports.curves.analytic import SECONDS_PER_WEEK, BreakerSetting
from rustok_sim.reports.curves.intervals import Estimate
from rustok_sim.reports.curves.simulation import simulate_detection_delays, simulate_trip_cycles

__all__ = ["DELAY_STATISTICS", "CurveConfig", "CurveConfigError", "CurvePoint", "OperatingCurves",
           "Recommendation", "SimulatedPoint", "compute_operating_curves", "recommend_setting"]

DELAY_STATISTICS = {"mean": None, "p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
"""How "open within D seconds of an outage" is read: by the mean or by a quantile of the delay."""


class CurveConfigError(ValueError):
    """A curve question that cannot be answered: names the field, the value and the rule."""


@dataclass(frozen=True)
class CurveConfig:
    """The question. Units: `rate` requests/s; `p0`, `p1` probabilities a request fails (healthy,
    during an outage); `window` seconds for the false-trip probability; `timeouts` seconds;
    `max_detection_delay` seconds, read as `delay_statistic`; `max_recovery` seconds (mean, from
    the end of a hard outage until Closed); `max_outage_failures_per_minute` failed requests that
    still reach the dependency per minute of outage. `replications` > 0 runs the simulation check
    (seeded by `seed`), skipping a check that would need more than `simulation_budget` requests."""

    rate: float = 100.0
    p0: float = 0.005
    p1: float = 0.5
    window: float = SECONDS_PER_WEEK
    thresholds: tuple[int, ...] = tuple(range(1, 11))
    timeouts: tuple[float, ...] = (5.0, 15.0, 30.0, 60.0)
    success_threshold: int = 2
    half_open_max_requests: int | None = 3
    variant: Variant = "resilience"
    max_false_trips_per_week: float = 1.0
    max_detection_delay: float = 3.0
    delay_statistic: str = "p95"
    max_recovery: float | None = None
    max_outage_failures_per_minute: float | None = None
    replications: int = 0
    seed: int = 0
    simulation_budget: int = 1_000_000

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise CurveConfigError(f"rate must be a finite number of requests/s > 0 (got {self.rate})")
        for name in ("p0", "p1"):
            value = getattr(self, name)
            if not (0.0 <= value <= 1.0):
                raise CurveConfigError(f"{name} must be a probability in [0, 1] (got {value})")
        if not (self.window > 0 and math.isfinite(self.window)):
            raise CurveConfigError(f"window must be a finite number of seconds > 0 (got {self.window})")
        if not self.thresholds or any(k < 1 for k in self.thresholds):
            raise CurveConfigError(f"thresholds must be a non-empty list of integers >= 1 (got {list(self.thresholds)})")
        if not self.timeouts or any(not (t >= 0 and math.isfinite(t)) for t in self.timeouts):
            raise CurveConfigError(f"timeouts must be a non-empty list of finite seconds >= 0 (got {list(self.timeouts)})")
        if self.delay_statistic not in DELAY_STATISTICS:
            raise CurveConfigError(f"delay_statistic must be one of {', '.join(DELAY_STATISTICS)} "
                                   f"(got {self.delay_statistic!r})")
        for name in ("max_false_trips_per_week", "max_detection_delay", "max_recovery",
                     "max_outage_failures_per_minute"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise CurveConfigError(f"{name} must be > 0 (got {value})")
        if self.replications < 0 or (0 < self.replications < 10):
            raise CurveConfigError(f"replications must be 0 (no simulation) or >= 10 (got {self.replications})")
        if self.simulation_budget < 1:
            raise CurveConfigError(f"simulation_budget must be >= 1 request (got {self.simulation_budget})")
        try:
            for k in self.thresholds:
                self.setting(k, self.timeouts[0])
            # The model's own rules too (hardened needs thresholds and limits >= 1), so a
            # simulation check can always build the breaker the curves describe.
            CircuitBreakerConfig(failure_threshold=min(self.thresholds), success_threshold=self.success_threshold,
                                 timeout=float(self.timeouts[0]), half_open_max_requests=self.half_open_max_requests,
                                 variant=self.variant)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise CurveConfigError(f"breaker config: {first['msg']}") from None
        except ValueError as exc:
            raise CurveConfigError(str(exc)) from None

    def setting(self, failure_threshold: int, timeout: float) -> BreakerSetting:
        return BreakerSetting(failure_threshold, timeout, self.success_threshold, self.half_open_max_requests,
                              self.variant)


@dataclass(frozen=True)
class CurvePoint:
    """Analytic numbers for one (failure_threshold, timeout) setting; seconds and requests.

    False trips: `false_trip_probability` (at least one in the window, from a fresh count),
    `false_trips_per_week` (long run). Detection (jump to p1 while Closed, the run at the jump
    distributed as on a healthy breaker): `detection_mean` and quantiles. What the timeout
    costs: `rejected_per_false_trip`, `open_seconds_per_false_trip`, `rejected_per_week`,
    `recovery_mean` / `recovery_after_failed_probe`, and, during an outage,
    `outage_failures_per_minute` and `outage_rejected_fraction`. `can_close` False: half-open
    can never close (stuck after the first trip)."""

    failure_threshold: int
    timeout: float
    false_trip_probability: float
    false_trips_per_week: float
    detection_mean: float
    detection_p50: float
    detection_p90: float
    detection_p95: float
    detection_p99: float
    rejected_per_false_trip: float
    open_seconds_per_false_trip: float
    rejected_per_week: float
    recovery_mean: float
    recovery_after_failed_probe: float
    outage_failures_per_minute: float
    outage_rejected_fraction: float
    can_close: bool

    def detection(self, statistic: str) -> float:
        return self.detection_mean if statistic == "mean" else float(getattr(self, f"detection_{statistic}"))


@dataclass(frozen=True)
class SimulatedPoint:
    """The real breaker at one setting, estimates with 95% intervals. `analytic_*` are the exact
    values for what the simulation does (its warm-up leaves the run at the jump distributed as
    `analytic.run_distribution_after`, not the steady law, a difference of about the
    per-request trip probability). Checks over `simulation_budget` are None, said in `notes`."""

    failure_threshold: int
    timeout: float
    replications: int
    detection_mean: Estimate
    detection_p95: Estimate
    analytic_detection_mean: float
    analytic_detection_p95: float
    false_trips_per_week: Estimate | None
    rejected_per_false_trip: Estimate | None
    analytic_false_trips_per_week: float
    analytic_rejected_per_false_trip: float
    notes: str = ""


@dataclass(frozen=True)
class Recommendation:
    """The feasible settings (failure_threshold, timeout), the one with most margin (None when
    nothing is feasible), its margin (the smallest limit/value ratio over the limits) and a
    plain sentence."""

    feasible: tuple[tuple[int, float], ...]
    best: CurvePoint | None
    margin: float
    sentence: str


@dataclass(frozen=True)
class OperatingCurves:
    config: CurveConfig
    points: tuple[CurvePoint, ...]
    simulated: tuple[SimulatedPoint, ...] = field(default=())
    recommendation: Recommendation | None = None

    def point(self, failure_threshold: int, timeout: float) -> CurvePoint:
        for p in self.points:
            if p.failure_threshold == failure_threshold and p.timeout == timeout:
                return p
        raise KeyError(f"no curve point for failure_threshold={failure_threshold}, timeout={timeout}")

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per setting, the analytic numbers plus `feasible` and the chosen one."""
        feasible = set(self.recommendation.feasible) if self.recommendation else set()
        best = self.recommendation.best if self.recommendation else None
        rows = []
        for p in self.points:
            row = {f.name: getattr(p, f.name) for f in fields(p)}
            row["feasible"] = (p.failure_threshold, p.timeout) in feasible
            row["recommended"] = p is best
            rows.append(row)
        return rows

    def simulation_rows(self) -> list[dict[str, Any]]:
        """One row per simulated setting: each estimate with its interval beside the analytic value."""
        rows = []
        for s in self.simulated:
            row: dict[str, Any] = {"failure_threshold": s.failure_threshold, "timeout": s.timeout,
                                   "replications": s.replications}
            for name, estimate, exact in (
                    ("detection_mean", s.detection_mean, s.analytic_detection_mean),
                    ("detection_p95", s.detection_p95, s.analytic_detection_p95),
                    ("false_trips_per_week", s.false_trips_per_week, s.analytic_false_trips_per_week),
                    ("rejected_per_false_trip", s.rejected_per_false_trip, s.analytic_rejected_per_false_trip)):
                row[f"{name}_analytic"] = exact
                row[f"{name}_simulated"] = estimate.value if estimate else ""
                row[f"{name}_low"] = estimate.low if estimate else ""
                row[f"{name}_high"] = estimate.high if estimate else ""
                row[f"{name}_agrees"] = estimate.contains(exact) if estimate else ""
            row["notes"] = s.notes
            rows.append(row)
        return rows


def _curve_point(config: CurveConfig, k: int, timeout: float, steady: analytic.Vector,
                 quantiles: dict[float, float]) -> CurvePoint:
    setting = config.setting(k, timeout)
    rate, p0, p1 = config.rate, config.p0, config.p1
    cycle = analytic.trip_cycle(setting, p0, rate)
    recovery = analytic.recovery_after_outage(setting, p0, rate)
    load = analytic.outage_load(setting, p1, rate)
    # A breaker stuck half-open after its first trip has no long run of trips: 0 per week (and
    # can_close False, so it is never feasible).
    trips_per_week = cycle.trips_per_week
    return CurvePoint(
        failure_threshold=k, timeout=timeout,
        false_trip_probability=analytic.false_trip_probability(k, p0, rate, config.window),
        false_trips_per_week=trips_per_week,
        detection_mean=analytic.detection_delay_mean(k, p1, rate, steady),
        detection_p50=quantiles[0.5], detection_p90=quantiles[0.9], detection_p95=quantiles[0.95],
        detection_p99=quantiles[0.99],
        rejected_per_false_trip=cycle.rejected_requests, open_seconds_per_false_trip=cycle.open_seconds,
        rejected_per_week=(trips_per_week * cycle.rejected_requests if trips_per_week else 0.0),
        recovery_mean=recovery.mean, recovery_after_failed_probe=recovery.after_failed_probe,
        outage_failures_per_minute=load.failed_per_minute, outage_rejected_fraction=load.rejected_fraction,
        can_close=setting.can_close)


def _simulated_point(config: CurveConfig, k: int, timeout: float, index: int) -> SimulatedPoint:
    setting = config.setting(k, timeout)
    rate, p0, p1, n = config.rate, config.p0, config.p1, config.replications
    seed = config.seed * 1_000_003 + index  # one stream family per setting, fixed by (seed, order)
    notes = []
    warmup = 20
    samples = simulate_detection_delays(setting, rate, p0, p1, n, seed, warmup_requests=warmup)
    start = analytic.run_distribution_after(k, p0, warmup)
    cycle = analytic.trip_cycle(setting, p0, rate)
    needed = n * (cycle.closed_seconds + cycle.open_seconds) * rate
    trips: Estimate | None = None
    rejected: Estimate | None = None
    if not setting.can_close:
        notes.append("half-open never closes: no trip cycle to simulate")
    elif needed <= config.simulation_budget:
        cycles = simulate_trip_cycles(setting, rate, p0, n, seed + 500_000)
        trips, rejected = cycles.trips_per_week(), cycles.mean_rejected()
    else:
        notes.append(f"false trips too rare to simulate: about {needed:.3g} requests needed, "
                     f"budget {config.simulation_budget:.3g}")
    if samples.discarded:
        notes.append(f"{samples.discarded} of {n} runs tripped during the {warmup}-request warm-up")
    return SimulatedPoint(
        failure_threshold=k, timeout=timeout, replications=n,
        detection_mean=samples.mean(), detection_p95=samples.quantile(0.95),
        analytic_detection_mean=analytic.detection_delay_mean(k, p1, rate, start),
        analytic_detection_p95=analytic.detection_delay_quantile(k, p1, rate, 0.95, start),
        false_trips_per_week=trips, rejected_per_false_trip=rejected,
        analytic_false_trips_per_week=cycle.trips_per_week, analytic_rejected_per_false_trip=cycle.rejected_requests,
        notes="; ".join(notes))


def compute_operating_curves(config: CurveConfig) -> OperatingCurves:
    """Every (failure_threshold, timeout) point of `config`, analytic; with
    `config.replications` > 0 also the simulation check of each threshold (at the first
    timeout: detection does not depend on it, and the trip cycle's dependence is the Open
    period, which the check exercises); and the recommendation."""
    points = []
    for k in config.thresholds:
        steady = analytic.steady_run_distribution(k, config.p0)
        # Detection does not depend on the timeout: its quantiles (bisections) once per threshold.
        quantiles = {q: analytic.detection_delay_quantile(k, config.p1, config.rate, q, steady)
                     for q in (0.5, 0.9, 0.95, 0.99)}
        for timeout in config.timeouts:
            points.append(_curve_point(config, k, timeout, steady, quantiles))
    simulated: list[SimulatedPoint] = []
    if config.replications and config.p1 > 0:
        for index, k in enumerate(config.thresholds):
            simulated.append(_simulated_point(config, k, config.timeouts[0], index))
    curves = OperatingCurves(config, tuple(points), tuple(simulated))
    return OperatingCurves(config, curves.points, curves.simulated, recommend_setting(curves))


def _limits(config: CurveConfig) -> list[tuple[str, float, Any]]:
    """(name, limit, value-of-a-point) for every active limit."""
    statistic = config.delay_statistic
    limits: list[tuple[str, float, Any]] = [
        ("false trips/week", config.max_false_trips_per_week, lambda p: p.false_trips_per_week),
        (f"{statistic} detection delay", config.max_detection_delay, lambda p: p.detection(statistic)),
    ]
    if config.max_recovery is not None:
        limits.append(("mean recovery", config.max_recovery, lambda p: p.recovery_mean))
    if config.max_outage_failures_per_minute is not None:
        limits.append(("failed requests/min of outage", config.max_outage_failures_per_minute,
                       lambda p: p.outage_failures_per_minute))
    return limits


def _margin(point: CurvePoint, limits: Sequence[tuple[str, float, Any]]) -> float:
    """The smallest limit/value ratio: > 1 means every limit holds with that factor to spare."""
    ratios = []
    for _name, limit, value_of in limits:
        value = value_of(point)
        ratios.append(math.inf if value == 0 else limit / value)
    return min(ratios)


def _seconds(x: float) -> str:
    return "never" if math.isinf(x) else f"{x:.3g} s"


def _count(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.3g}"


def recommend_setting(curves: OperatingCurves) -> Recommendation:
    """The settings that meet every limit of `curves.config`, and the one whose tightest limit
    has the most room (largest smallest limit/value ratio). Ties (timeout changes neither false
    trips nor detection, so with no recovery or outage limit every timeout ties) go to the
    shortest timeout, then the smallest threshold; a setting whose half-open never closes is
    never feasible."""
    config = curves.config
    limits = _limits(config)
    scored = [(p, _margin(p, limits)) for p in curves.points if p.can_close]
    feasible = [(p, m) for p, m in scored if m >= 1.0]
    where = (f"at {config.rate:g} requests/s with {config.p0:.3%} background errors and an outage at "
             f"{config.p1:.0%} errors")
    if not feasible:
        if not scored:
            return Recommendation((), None, 0.0, f"No setting can close after a trip {where}: "
                                                 f"success_threshold {config.success_threshold} exceeds what "
                                                 f"half-open admits (spec §1.3).")
        closest, margin = max(scored, key=lambda pm: (pm[1], -pm[0].timeout, -pm[0].failure_threshold))
        broken = [f"{name} {_count(value_of(closest))} (limit {limit:g})" for name, limit, value_of in limits
                  if value_of(closest) > limit]
        return Recommendation((), None, margin, (
            f"No setting meets every limit {where}. The closest is failure_threshold "
            f"{closest.failure_threshold} with timeout {closest.timeout:g} s, which misses "
            f"{', '.join(broken)}; relax a limit or change the workload."))
    best, margin = max(feasible, key=lambda pm: (pm[1], -pm[0].timeout, -pm[0].failure_threshold))
    statistic = config.delay_statistic
    thresholds = sorted({p.failure_threshold for p, _ in feasible})
    timeouts = sorted({p.timeout for p, _ in feasible})
    sentence = (
        f"{where[0].upper()}{where[1:]}, failure_threshold {best.failure_threshold} with timeout "
        f"{best.timeout:g} s meets every limit with the most margin ({margin:.3g}x on the tightest): "
        f"{best.false_trips_per_week:.3g} false trips/week (limit {config.max_false_trips_per_week:g}), "
        f"{statistic} detection delay {_seconds(best.detection(statistic))} (limit {config.max_detection_delay:g} s). "
        f"Feasible: {len(feasible)} of {len(curves.points)} settings, failure_threshold "
        f"{', '.join(map(str, thresholds))} with timeouts {', '.join(f'{t:g}' for t in timeouts)} s. "
        f"Its timeout costs {best.rejected_per_false_trip:.3g} rejected requests per false trip, "
        f"a mean recovery of {_seconds(best.recovery_mean)} after an outage, and "
        f"{best.outage_failures_per_minute:.3g} failed requests per minute of outage.")
    if config.max_recovery is None and config.max_outage_failures_per_minute is None and len(config.timeouts) > 1:
        sentence += (" With no recovery or outage-load limit every timeout ties, so the shortest was "
                     "taken; set --max-recovery or --max-outage-failures to choose it on purpose.")
    return Recommendation(tuple((p.failure_threshold, p.timeout) for p, _ in feasible), best, margin, sentence)
