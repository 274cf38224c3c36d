"""Figures and files of the operating curves. `curve_figures` is pure (curves in, matplotlib
Figures out, Agg backend, no pyplot state); `write_operating_curves` writes them as PNG and SVG
next to the CSVs and the recommendation."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rustok_sim.reports.curves import analytic  # noqa: E402
from rustok_sim.reports.curves.operating import CurvePoint, OperatingCurves  # noqa: E402

__all__ = ["curve_figures", "write_operating_curves"]

_TINY = 1e-12  # floor for log axes: rates below this are drawn on the axis' bottom edge


def _by_timeout(curves: OperatingCurves) -> dict[float, list[CurvePoint]]:
    out: dict[float, list[CurvePoint]] = {}
    for point in curves.points:
        out.setdefault(point.timeout, []).append(point)
    return out


def _tradeoff(curves: OperatingCurves) -> Figure:
    """False trips/week against detection delay (mean and p95), one point per threshold; the
    limits as lines, feasible settings in green, simulated points with their 95% intervals."""
    config = curves.config
    figure = Figure(figsize=(9, 6))
    axes = figure.add_subplot()
    first_timeout = config.timeouts[0]
    points = [p for p in curves.points if p.timeout == first_timeout]
    feasible = {k for k, _t in (curves.recommendation.feasible if curves.recommendation else ())}
    for statistic, marker, label in (("mean", "o", "mean delay"), ("p95", "s", "p95 delay")):
        xs = [p.detection(statistic) for p in points]
        ys = [max(p.false_trips_per_week, _TINY) for p in points]
        axes.plot(xs, ys, marker=marker, linestyle="-" if statistic == "mean" else "--", color="tab:blue",
                  label=f"analytic, {label}", zorder=2)
        for p, x, y in zip(points, xs, ys):
            if p.failure_threshold in feasible:
                axes.plot([x], [y], marker=marker, color="tab:green", markersize=9, zorder=3)
            if statistic == "p95":  # one label per threshold
                axes.annotate(f"k={p.failure_threshold}", (x, y), textcoords="offset points", xytext=(6, 4),
                              fontsize=8)
    for s in curves.simulated:
        for estimate, marker in ((s.detection_mean, "o"), (s.detection_p95, "s")):
            x_err = [[estimate.value - estimate.low], [estimate.high - estimate.value]]
            trips = s.false_trips_per_week
            if trips is not None:
                y, y_err = trips.value, [[trips.value - trips.low], [trips.high - trips.value]]
            else:  # not simulated: place the delay estimate on the analytic rate
                y, y_err = max(s.analytic_false_trips_per_week, _TINY), None
            axes.errorbar([estimate.value], [y], xerr=x_err, yerr=y_err, fmt=marker, color="tab:red",
                          mfc="none", capsize=3, zorder=4)
    if curves.simulated:
        axes.plot([], [], "o", color="tab:red", mfc="none",
                  label=f"simulated ({curves.simulated[0].replications} runs), 95% intervals")
    axes.axhline(config.max_false_trips_per_week, color="grey", linestyle=":",
                 label=f"limit {config.max_false_trips_per_week:g} false trips/week")
    axes.axvline(config.max_detection_delay, color="grey", linestyle="-.",
                 label=f"limit {config.max_detection_delay:g} s ({config.delay_statistic})")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(f"detection delay after errors jump to p1={config.p1:g} (s)")
    axes.set_ylabel(f"false trips per week at p0={config.p0:g}")
    axes.set_title(f"Breaker operating curve across failure_threshold ({config.rate:g} req/s); "
                   f"green = feasible")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper right")
    return figure


def _detection_cdf(curves: OperatingCurves) -> Figure:
    """CDF of the detection delay per threshold (analytic), with the simulated p95 marked."""
    config = curves.config
    figure = Figure(figsize=(9, 5.5))
    axes = figure.add_subplot()
    points = [p for p in curves.points if p.timeout == config.timeouts[0]]
    if config.p1 > 0:
        horizon = max(p.detection_p99 for p in points)
        for p in points:
            steady = analytic.steady_run_distribution(p.failure_threshold, config.p0)
            times, cdf = analytic.detection_delay_cdf_grid(p.failure_threshold, config.p1, config.rate, horizon,
                                                           200, steady)
            axes.plot(times, cdf, label=f"k={p.failure_threshold}")
        for s in curves.simulated:
            axes.errorbar([s.detection_p95.value], [0.95],
                          xerr=[[s.detection_p95.value - s.detection_p95.low],
                                [s.detection_p95.high - s.detection_p95.value]],
                          fmt="x", color="black", capsize=3)
    axes.axvline(config.max_detection_delay, color="grey", linestyle="-.", label="delay limit")
    axes.axhline(0.95, color="grey", linestyle=":", linewidth=0.8)
    axes.set_xlabel("seconds from the jump to p1 until the breaker opens")
    axes.set_ylabel("P(open by then)")
    axes.set_title(f"Detection delay, p1={config.p1:g}, {config.rate:g} req/s (x: simulated p95 with interval)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8, ncol=2)
    return figure


def _timeout_costs(curves: OperatingCurves) -> Figure:
    """What the timeout governs, against the timeout: rejected requests per false trip, mean
    recovery after an outage, failed requests per minute of outage (per threshold)."""
    config = curves.config
    figure = Figure(figsize=(12, 4.5))
    panels: list[tuple[Axes, str, str]] = [
        (figure.add_subplot(1, 3, 1), "rejected_per_false_trip", "requests rejected per false trip"),
        (figure.add_subplot(1, 3, 2), "recovery_mean", "mean recovery after an outage (s)"),
        (figure.add_subplot(1, 3, 3), "outage_failures_per_minute", "failed requests per minute of outage"),
    ]
    thresholds = sorted({p.failure_threshold for p in curves.points})
    for axes, attribute, title in panels:
        for k in thresholds:
            row = sorted((p for p in curves.points if p.failure_threshold == k), key=lambda p: p.timeout)
            values = [getattr(p, attribute) for p in row]
            if all(math.isfinite(v) for v in values):
                axes.plot([p.timeout for p in row], values, marker=".", label=f"k={k}")
        axes.set_xlabel("timeout (s)")
        axes.set_title(title, fontsize=10)
        axes.grid(True, alpha=0.3)
    panels[2][0].legend(fontsize=7, ncol=2)
    figure.suptitle(f"What the timeout costs ({config.rate:g} req/s, p0={config.p0:g}, p1={config.p1:g})")
    figure.tight_layout()
    return figure


def _false_trip_probability(curves: OperatingCurves) -> Figure:
    config = curves.config
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    points = [p for p in curves.points if p.timeout == config.timeouts[0]]
    axes.plot([p.failure_threshold for p in points], [max(p.false_trip_probability, _TINY) for p in points],
              marker="o")
    axes.set_yscale("log")
    axes.set_xlabel("failure_threshold")
    axes.set_ylabel("P(at least one false trip)")
    axes.set_title(f"False trip within {config.window:g} s at p0={config.p0:g}, {config.rate:g} req/s")
    axes.grid(True, which="both", alpha=0.3)
    return figure


def curve_figures(curves: OperatingCurves) -> dict[str, Figure]:
    """The operating-curve figures by file stem: ``tradeoff``, ``detection_cdf``,
    ``timeout_costs``, ``false_trip_probability``."""
    return {"tradeoff": _tradeoff(curves), "detection_cdf": _detection_cdf(curves),
            "timeout_costs": _timeout_costs(curves), "false_trip_probability": _false_trip_probability(curves)}


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_operating_curves(curves: OperatingCurves, out_dir: Path) -> list[Path]:
    """Write every figure (``<name>.png``, ``<name>.svg``), ``curves.csv`` (one row per setting),
    ``simulation.csv`` (when simulated), ``recommendation.txt`` and ``recommendation.json`` into
    `out_dir` (created); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in curve_figures(curves).items():
        for suffix in (".png", ".svg"):
            path = out_dir / f"{name}{suffix}"
            figure.savefig(path, dpi=120 if suffix == ".png" else None)
            written.append(path)
    path = out_dir / "curves.csv"
    _write_csv(path, curves.csv_rows())
    written.append(path)
    if curves.simulated:
        path = out_dir / "simulation.csv"
        _write_csv(path, curves.simulation_rows())
        written.append(path)
    recommendation = curves.recommendation
    if recommendation is not None:
        path = out_dir / "recommendation.txt"
        path.write_text(recommendation.sentence + "\n", encoding="utf-8")
        written.append(path)
        best = recommendation.best
        path = out_dir / "recommendation.json"
        path.write_text(json.dumps({
            "sentence": recommendation.sentence,
            "feasible": [{"failure_threshold": k, "timeout": t} for k, t in recommendation.feasible],
            "best": None if best is None else {"failure_threshold": best.failure_threshold, "timeout": best.timeout},
            "margin": recommendation.margin if math.isfinite(recommendation.margin) else None,
        }, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
