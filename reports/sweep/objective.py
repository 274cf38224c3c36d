"""What a sweep is for: objectives (``min:http_status_counts.500``), constraints
(``time_to_open<=1.0``), and the recommendation of the setting that meets every constraint with
the most margin, with how sure the numbers allow one to be.

How a point is chosen:

1. A point *meets* a constraint with confidence when the constraint holds over its whole 95%
   interval (``metric<=limit``: the upper bound is at most the limit) and every seed met it; it
   meets it *on average* when only the mean does. Candidates are the points that meet every
   constraint with confidence, else (said plainly) those that meet them on average.
2. With an objective, the candidates whose objective interval overlaps the best mean's interval
   are statistically as good as the best; among those, the one with the most margin wins (the
   smallest of its constraints' margins, each as a fraction of the limit), then the better mean.
   Without an objective, the most margin wins; without constraints, the best mean.
3. Ties go to the earlier point in grid order, so the choice is deterministic.

Two objectives also give a Pareto front (points no other point beats on both means).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from rustok_sim.reports.sweep.errors import SweepError
from rustok_sim.reports.sweep.grid import Axis, format_value
from rustok_sim.reports.sweep.stats import MetricSummary, PointSummary

__all__ = ["Confidence", "Constraint", "Goal", "Recommendation", "check_metrics", "pareto_front",
           "parse_constraint", "parse_goal", "recommend"]

Confidence = Literal["high", "medium", "low", "none"]
_CONSTRAINT: Final = re.compile(r"^\s*([^<>=!\s]+)\s*(<=|>=|<|>)\s*(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class Goal:
    """An objective: a metric to minimize or maximize."""

    metric: str
    direction: Literal["min", "max"] = "min"

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "min" else a > b

    def __str__(self) -> str:
        return f"{self.direction}:{self.metric}"


@dataclass(frozen=True, slots=True)
class Constraint:
    """``metric <= limit`` (or ``<``, ``>=``, ``>``), in the metric's unit."""

    metric: str
    operator: Literal["<=", ">=", "<", ">"]
    limit: float

    @property
    def upper(self) -> bool:
        """True for an upper limit (``<=``, ``<``)."""
        return self.operator in ("<=", "<")

    def holds(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return {"<=": value <= self.limit, "<": value < self.limit,
                ">=": value >= self.limit, ">": value > self.limit}[self.operator]

    def worst_bound(self, summary: MetricSummary) -> float:
        """The end of the 95% interval nearer the limit (the mean when there is no interval)."""
        bound = summary.high if self.upper else summary.low
        return summary.mean if math.isnan(bound) else bound

    def margin(self, summary: MetricSummary, scale: float) -> float:
        """How far the worst bound is inside the limit, as a fraction of `scale` (negative:
        outside)."""
        gap = self.limit - self.worst_bound(summary) if self.upper else self.worst_bound(summary) - self.limit
        return gap / scale

    def __str__(self) -> str:
        return f"{self.metric}{self.operator}{self.limit:g}"


def parse_goal(text: str) -> Goal:
    """``min:METRIC``, ``max:METRIC``, or a bare ``METRIC`` (minimized)."""
    direction, sep, metric = text.strip().partition(":")
    if not sep:
        direction, metric = "min", direction
    metric = metric.strip()
    if direction not in ("min", "max") or not metric or " " in metric:
        raise SweepError(f"--objective {text!r}: expected min:METRIC or max:METRIC (for example min:cache_error_500s)")
    return Goal(metric, direction)  # type: ignore[arg-type]


def parse_constraint(text: str) -> Constraint:
    """``METRIC<=VALUE`` (also ``<``, ``>=``, ``>``)."""
    match = _CONSTRAINT.match(text)
    if match is None:
        raise SweepError(f"--constraint {text!r}: expected METRIC<=VALUE or METRIC>=VALUE (for example 'latency.p99<=0.05')")
    metric, operator, raw = match.groups()
    try:
        limit = float(raw)
    except ValueError:
        raise SweepError(f"--constraint {text!r}: the limit {raw!r} is not a number") from None
    if not math.isfinite(limit):
        raise SweepError(f"--constraint {text!r}: the limit must be a finite number")
    return Constraint(metric, operator, limit)  # type: ignore[arg-type]


def check_metrics(available: Iterable[str], goals: Sequence[Goal], constraints: Sequence[Constraint]) -> None:
    """Every metric an objective or constraint names must be one the runs report."""
    names = sorted(set(available))
    for option, metric in [*(("--objective", g.metric) for g in goals), *(("--constraint", c.metric) for c in constraints)]:
        if metric not in names:
            close = difflib.get_close_matches(metric, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; the runs report: {_some(names)}"
            raise SweepError(f"{option}: unknown metric {metric!r}{hint}")


def _some(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more (see results.csv)" if len(names) > limit else "")


@dataclass(frozen=True)
class Recommendation:
    """The chosen point (None when nothing meets the constraints or nothing was asked), how sure
    the numbers make it (`confidence`), and the plain-language text that explains both."""

    summary: PointSummary | None
    confidence: Confidence
    text: str
    as_good: tuple[PointSummary, ...] = ()
    """Other candidates statistically as good on the first objective."""
    margins: dict[str, float] = field(default_factory=dict)
    """Per constraint (``str(constraint)``), the margin as a fraction of the limit."""


def _scale(constraint: Constraint, summaries: Sequence[PointSummary]) -> float:
    # A fraction of the limit reads well ("35% below the limit"); a limit of 0 has none, so the
    # metric's spread over the sweep stands in.
    if constraint.limit != 0:
        return abs(constraint.limit)
    spread = max((abs(s.metrics[constraint.metric].mean) for s in summaries
                  if not math.isnan(s.metrics[constraint.metric].mean)), default=0.0)
    return spread or 1.0


def _meets(summary: PointSummary, constraints: Sequence[Constraint], confident: bool) -> bool:
    for constraint in constraints:
        metric = summary.metrics[constraint.metric]
        if confident:
            if not (constraint.holds(constraint.worst_bound(metric)) and all(constraint.holds(v) for v in metric.values)):
                return False
        elif not constraint.holds(metric.mean):
            return False
    return True


def _overlaps(goal: Goal, best: MetricSummary, other: MetricSummary) -> bool:
    """`other` is statistically as good as `best`: their 95% intervals overlap (equal means
    without intervals count as overlapping)."""
    if math.isnan(best.low) or math.isnan(other.low):
        return other.mean == best.mean
    return other.low <= best.high if goal.direction == "min" else other.high >= best.low


def _value(summary: MetricSummary) -> str:
    if math.isnan(summary.low):
        return f"{summary.mean:.4g}"
    return f"{summary.mean:.4g} (95% interval {summary.low:.4g} to {summary.high:.4g})"


def recommend(summaries: Sequence[PointSummary], axes: Sequence[Axis], goals: Sequence[Goal] = (),
              constraints: Sequence[Constraint] = ()) -> Recommendation:
    """The recommendation (see the module docstring for the rule)."""
    if not summaries:
        return Recommendation(None, "none", "No runs finished: nothing to recommend.")
    if not goals and not constraints:
        return Recommendation(None, "none", "No --objective or --constraint was given, so nothing is recommended; "
                                            "summary.csv has every point's means and 95% intervals.")
    confident = [s for s in summaries if _meets(s, constraints, confident=True)]
    candidates = confident or [s for s in summaries if _meets(s, constraints, confident=False)]
    if not candidates:
        return Recommendation(None, "none", _nothing_meets(summaries, axes, constraints))
    scales = {str(c): _scale(c, summaries) for c in constraints}

    def least_margin(s: PointSummary) -> float:
        return min((c.margin(s.metrics[c.metric], scales[str(c)]) for c in constraints), default=0.0)

    pool = candidates
    as_good: list[PointSummary] = []
    if goals:
        goal = goals[0]
        scored = [s for s in candidates if not math.isnan(s.metrics[goal.metric].mean)]
        if not scored:
            return Recommendation(None, "none", f"No candidate point has a value for {goal.metric}.")
        best = scored[0]
        for s in scored[1:]:
            if goal.better(s.metrics[goal.metric].mean, best.metrics[goal.metric].mean):
                best = s
        pool = [s for s in scored if _overlaps(goal, best.metrics[goal.metric], s.metrics[goal.metric])]
        sign = 1.0 if goal.direction == "min" else -1.0
        chosen = min(pool, key=lambda s: (-least_margin(s), sign * s.metrics[goal.metric].mean, s.point.index))
        as_good = [s for s in pool if s is not chosen]
    else:
        chosen = min(pool, key=lambda s: (-least_margin(s), s.point.index))
    margins = {str(c): c.margin(chosen.metrics[c.metric], scales[str(c)]) for c in constraints}
    confidence = _confidence(chosen, bool(confident))
    text = _explain(chosen, axes, goals, constraints, margins, confidence, as_good, len(candidates),
                    len(summaries), bool(confident))
    return Recommendation(chosen, confidence, text, tuple(as_good), margins)


def _confidence(chosen: PointSummary, confident: bool) -> Confidence:
    """high: 5 or more seeds and the constraints met with confidence; medium: the same on 2-4
    seeds; low: one seed, or the constraints met on average only."""
    seeds = len(chosen.seeds)
    if seeds < 2 or not confident:
        return "low"
    if seeds < 5:
        return "medium"
    return "high"


def _explain(chosen: PointSummary, axes: Sequence[Axis], goals: Sequence[Goal], constraints: Sequence[Constraint],
             margins: dict[str, float], confidence: Confidence, as_good: Sequence[PointSummary], candidates: int,
             points: int, confident: bool) -> str:
    setting = ", ".join(f"{axis.field} = {format_value(v)}" for axis, v in zip(axes, chosen.point.values))
    lines = [f"Recommended: {setting}."]
    for goal in goals:
        word = "lower" if goal.direction == "min" else "higher"
        lines.append(f"  {goal.metric} ({word} is better): {_value(chosen.metrics[goal.metric])}.")
    for constraint in constraints:
        metric = chosen.metrics[constraint.metric]
        met = sum(constraint.holds(v) for v in metric.values)
        side = "below" if constraint.upper else "above"
        lines.append(f"  {constraint.metric} {constraint.operator} {constraint.limit:g}: {_value(metric)}; "
                     f"{met} of {len(metric.values)} seeds meet it; the interval's worst end is "
                     f"{abs(margins[str(constraint)]):.0%} {side if margins[str(constraint)] >= 0 else 'past'} the limit.")
    if constraints:
        rule = "with 95% confidence" if confident else "on average only (no point meets them with 95% confidence)"
        lines.append(f"  {candidates} of {points} points meet every constraint {rule}.")
    if goals and as_good:
        lines.append(f"  {len(as_good)} other point(s) are statistically as good on {goals[0].metric} "
                     f"(overlapping intervals); this one was picked for the most constraint margin."
                     if constraints else
                     f"  {len(as_good)} other point(s) are statistically as good on {goals[0].metric} "
                     f"(overlapping intervals); more seeds would separate them.")
    seeds = len(chosen.seeds)
    held = ("every constraint holds over the whole 95% interval and in every seed" if constraints else
            "no other point's interval beats it" if not as_good else
            f"{len(as_good)} other point(s) cannot be told apart from it")
    reasons = {
        "high": f"High confidence: {seeds} seeds per point; {held}.",
        "medium": f"Medium confidence: {held}, but {seeds} seeds per point is few; "
                  f"run --seeds 5 or more before relying on it.",
        "low": ("Low confidence: one seed per point gives no interval; this is a first look, run --seeds 5 or more."
                if seeds < 2 else
                "Low confidence: the constraints hold on average but not over the whole 95% interval or in every "
                "seed; more seeds, or a looser limit, would settle it."),
        "none": "",
    }
    lines.append(reasons[confidence])
    return "\n".join(lines)


def _nothing_meets(summaries: Sequence[PointSummary], axes: Sequence[Axis], constraints: Sequence[Constraint]) -> str:
    lines = ["No point meets every constraint, even on average."]
    for constraint in constraints:
        met = [s for s in summaries if constraint.holds(s.metrics[constraint.metric].mean)]
        values = [s.metrics[constraint.metric].mean for s in summaries if not math.isnan(s.metrics[constraint.metric].mean)]
        best = (min(values) if constraint.upper else max(values)) if values else math.nan
        lines.append(f"  {constraint}: met by {len(met)} of {len(summaries)} points; the best mean is {best:.4g}.")
    lines.append("Widen the grid or relax a limit.")
    return "\n".join(lines)


def pareto_front(summaries: Sequence[PointSummary], goals: Sequence[Goal]) -> list[PointSummary]:
    """The points no other point beats on both objectives' means (grid order kept)."""
    if len(goals) != 2:
        return []
    first, second = goals
    scored = [s for s in summaries if not any(math.isnan(s.metrics[g.metric].mean) for g in goals)]

    def dominates(a: PointSummary, b: PointSummary) -> bool:
        a1, a2 = a.metrics[first.metric].mean, a.metrics[second.metric].mean
        b1, b2 = b.metrics[first.metric].mean, b.metrics[second.metric].mean
        no_worse = not first.better(b1, a1) and not second.better(b2, a2)
        return no_worse and (first.better(a1, b1) or second.better(a2, b2))

    return [s for s in scored if not any(dominates(o, s) for o in scored if o is not s)]
