"""`run_sweep`: a scenario over a grid of config values and a number of seeds, on any executor,
resumable, to a `SweepResult` (every run, per-point summaries, the recommendation).

Every point's config is built and validated here before anything runs, so a bad field or value
fails in a second rather than after an hour of runs; workers only receive finished config dicts.
The trace level is forced to ``summary`` (nothing written, the least kept in memory): a sweep
wants metrics, and a trace per run would cost more than the runs.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rustok_sim.reports.sweep.errors import SweepError
from rustok_sim.reports.sweep.executors import Executor, make_executor
from rustok_sim.reports.sweep.grid import Axis, Point, format_value, grid_points, parse_axis, random_points
from rustok_sim.reports.sweep.objective import (
    Constraint,
    Goal,
    Recommendation,
    check_metrics,
    pareto_front,
    parse_constraint,
    parse_goal,
    recommend,
)
from rustok_sim.reports.sweep.runs import RunTask
from rustok_sim.reports.sweep.stats import PointSummary, summarize
from rustok_sim.reports.sweep.store import MANIFEST_FORMAT, ResultsStore, RowKey, atomic_write_text, check_manifest
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.loading import ConfigError, apply_overrides, build_config, load_config

__all__ = ["ProgressHook", "SweepResult", "run_sweep", "write_summaries"]

SWEEP_TRACE_LEVEL: Final = "summary"

ProgressHook = Callable[[int, int, int, int], None]
"""Called as ``hook(runs_done, runs_total, points_done, points_total)`` after every run (and once
before the first, counting runs an earlier sweep already did)."""


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep. `rows` and `summaries` are in grid order (seeds ascending); `executed`
    and `reused` say how many runs this call did and how many it found already done."""

    target: str
    scenario: str
    axes: tuple[Axis, ...]
    seeds: tuple[int, ...]
    goals: tuple[Goal, ...]
    constraints: tuple[Constraint, ...]
    rows: tuple[tuple[Point, int, dict[str, float]], ...]
    summaries: tuple[PointSummary, ...]
    recommendation: Recommendation
    pareto: tuple[PointSummary, ...]
    executed: int
    reused: int
    directory: Path

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(axis.field for axis in self.axes)

    def metric_names(self) -> list[str]:
        return sorted({name for summary in self.summaries for name in summary.metrics})


def _cells(point: Point) -> tuple[str, ...]:
    return tuple(format_value(value) for value in point.values)


def _configs(target: str, axes: Sequence[Axis], points: Sequence[Point],
             overrides: Sequence[str]) -> tuple[ScenarioConfig, list[dict[str, Any]]]:
    """The base config and each point's config as a JSON dict, every one validated."""
    try:
        base = load_config(target, [*overrides, f"trace_level={SWEEP_TRACE_LEVEL}"])
    except ConfigError as exc:
        raise SweepError(str(exc)) from None
    config_cls = type(base)
    base_data = base.model_dump(mode="json", by_alias=True)
    # Each field on its own first, so an unknown one is blamed on its --grid and not on a point.
    for axis in axes:
        try:
            apply_overrides(base_data, [f"{axis.field}=0"], config_cls)
        except ConfigError as exc:
            raise SweepError(f"--grid {axis.field}: {exc.message}") from None
    configs = []
    for point in points:
        try:
            data = apply_overrides(base_data, point.overrides(axes), config_cls)
            config = build_config(data, "grid point")
        except ConfigError as exc:
            raise SweepError(f"--grid point {point.label(axes)}: {exc.message}") from None
        configs.append(config.model_dump(mode="json", by_alias=True))
    return base, configs


def _known_metric(name: str, reported: set[str]) -> bool:
    """Reported, or in a section that is (``http_status_counts.503`` when some run reported
    ``http_status_counts.200``): a status no request got yet is a counter still at zero."""
    section = name.rpartition(".")[0]
    return name in reported or (bool(section) and any(r.startswith(section + ".") for r in reported))


def _check_named_metrics(reported: set[str], goals: Sequence[Goal], constraints: Sequence[Constraint]) -> None:
    unknown_goals = [g for g in goals if not _known_metric(g.metric, reported)]
    unknown_limits = [c for c in constraints if not _known_metric(c.metric, reported)]
    if unknown_goals or unknown_limits:
        check_metrics(reported, unknown_goals, unknown_limits)


def run_sweep(target: str, grid: Sequence[str | Axis], *, seeds: int = 3, sample: int | None = None,
              sample_seed: int = 1, overrides: Sequence[str] = (), objectives: Sequence[str | Goal] = (),
              constraints: Sequence[str | Constraint] = (), out: Path, executor: Executor | None = None,
              progress: ProgressHook | None = None) -> SweepResult:
    """Run `target` (a catalog name or a TOML file, as ``rustok-sim run`` takes) at every point of
    `grid` (``field=start:stop:step`` / ``field=v1,v2`` texts or `Axis` objects; `sample` draws
    that many points instead, with ``random.Random(sample_seed)``) with seeds 1..`seeds`, each run
    with `overrides` (``--set`` texts) under the grid's values. Runs already in
    ``out/results.csv`` are kept and not redone. `executor` defaults to this process (the caller
    closes one it passes). Raises `SweepError` for anything the user can fix."""
    axes = tuple(a if isinstance(a, Axis) else parse_axis(a) for a in grid)
    goals = tuple(g if isinstance(g, Goal) else parse_goal(g) for g in objectives)
    limits = tuple(c if isinstance(c, Constraint) else parse_constraint(c) for c in constraints)
    if len(goals) > 2:
        raise SweepError(f"--objective: at most two objectives (a Pareto front of two); got {len(goals)}")
    if seeds < 1:
        raise SweepError(f"--seeds {seeds}: must be >= 1")
    points = random_points(axes, sample, sample_seed) if sample is not None else grid_points(axes)
    seed_list = tuple(range(1, seeds + 1))
    base, configs = _configs(target, axes, points, overrides)

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"--out {out}: {exc.strerror or exc}") from None
    check_manifest(out, {"format": MANIFEST_FORMAT, "version": 1, "target": target,
                         "base_config": base.model_dump(mode="json", by_alias=True),
                         "fields": [axis.field for axis in axes]})
    store = ResultsStore(out, [axis.field for axis in axes])
    store.load()

    order: list[RowKey] = [(_cells(point), seed) for point in points for seed in seed_list]
    tasks = [RunTask((point.index, seed), config, seed)
             for point, config in zip(points, configs) for seed in seed_list
             if (_cells(point), seed) not in store.rows]
    by_index = {point.index: point for point in points}
    remaining = {point.index: sum((_cells(point), seed) not in store.rows for seed in seed_list) for point in points}
    runs_done, points_done = len(order) - len(tasks), sum(1 for left in remaining.values() if left == 0)
    reported = {name for metrics in store.rows.values() for name in metrics}
    if reported:
        _check_named_metrics(reported, goals, limits)
    if progress is not None:
        progress(runs_done, len(order), points_done, len(points))

    owned = executor is None
    runner: Executor = make_executor(workers=1) if executor is None else executor
    outputs = runner.run(tasks)
    try:
        for (index, seed), metrics in outputs:
            point = by_index[index]
            store.add(_cells(point), seed, metrics)
            if not reported:
                reported = set(metrics)
                _check_named_metrics(reported, goals, limits)  # a typo stops the sweep after one run
            runs_done += 1
            remaining[index] -= 1
            points_done += remaining[index] == 0
            if progress is not None:
                progress(runs_done, len(order), points_done, len(points))
    finally:
        outputs.close()
        if owned:
            runner.close()
    store.finish(order)

    rows = tuple((point, seed, store.rows[(_cells(point), seed)]) for point in points for seed in seed_list)
    named = [g.metric for g in goals] + [c.metric for c in limits]
    summaries = tuple(summarize([(point, [(seed, store.rows[(_cells(point), seed)]) for seed in seed_list])
                                 for point in points], zero_if_unreported=named))
    recommendation = recommend(summaries, axes, goals, limits)
    result = SweepResult(target, base.scenario, axes, seed_list, goals, limits, rows, summaries, recommendation,
                         tuple(pareto_front(summaries, goals)), len(tasks), len(order) - len(tasks), out)
    write_summaries(result)
    return result


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def write_summaries(result: SweepResult) -> list[Path]:
    """``summary.csv`` (per point and metric: n, mean, sd, 95% interval), ``summary.json`` (the
    same with the recommendation and the Pareto front) and ``recommendation.txt`` in the sweep's
    folder. Nothing in them depends on the executor, the worker count or a resume."""
    directory = result.directory
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*result.fields, "metric", "n", "mean", "sd", "ci95_low", "ci95_high"])
    for summary in result.summaries:
        cells = _cells(summary.point)
        for name, metric in summary.metrics.items():
            writer.writerow([*cells, name, metric.n,
                             *("nan" if math.isnan(v) else repr(v) for v in (metric.mean, metric.sd, metric.low, metric.high))])
    atomic_write_text(directory / "summary.csv", buffer.getvalue())

    def point_json(summary: PointSummary) -> dict[str, Any]:
        return dict(zip(result.fields, summary.point.values))

    chosen = result.recommendation.summary
    named = [g.metric for g in result.goals] + [c.metric for c in result.constraints]
    document = {
        "format": "rustok-sim-sweep-summary", "version": 1, "target": result.target, "scenario": result.scenario,
        "fields": list(result.fields), "seeds": list(result.seeds), "points": len(result.summaries),
        "objectives": [str(g) for g in result.goals], "constraints": [str(c) for c in result.constraints],
        "recommendation": {
            "point": point_json(chosen) if chosen is not None else None,
            "confidence": result.recommendation.confidence,
            "text": result.recommendation.text,
            "margins": result.recommendation.margins,
            "as_good": [point_json(s) for s in result.recommendation.as_good],
        },
        "pareto_front": [point_json(s) for s in result.pareto],
        "summaries": [{"point": point_json(s), "metrics": {
            name: {"n": m.n, "mean": _number(m.mean), "ci95": [_number(m.low), _number(m.high)]}
            for name, m in s.metrics.items() if name in named}} for s in result.summaries],
    }
    atomic_write_text(directory / "summary.json", json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n")
    atomic_write_text(directory / "recommendation.txt", result.recommendation.text + "\n")
    return [directory / name for name in ("summary.csv", "summary.json", "recommendation.txt")]
