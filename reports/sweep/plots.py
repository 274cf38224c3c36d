"""Figures of a sweep, as pure functions of a `SweepResult` (matplotlib, Agg; nothing re-runs):

- one swept field: the mean of each objective and constraint metric against the field, with its
  95% interval as a band, the constraint's limit as a dashed line and the recommended setting
  marked;
- two swept fields: a heatmap of each such metric's mean over the grid, the value in each cell,
  the cells that break a constraint (on the mean) crossed out, the recommended cell outlined;
- two objectives: the Pareto front, every point's means with their intervals and the front
  joined up.

`save_sweep_figures` writes each as PNG and SVG (SVG without a date or random ids, so the same
sweep gives the same files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from rustok_sim.reports.sweep.grid import Scalar, format_value  # noqa: E402
from rustok_sim.reports.sweep.runner import SweepResult  # noqa: E402
from rustok_sim.reports.sweep.stats import PointSummary  # noqa: E402

__all__ = ["heatmap_figure", "line_figure", "pareto_figure", "save_sweep_figures", "sweep_figures"]

_MAX_ANNOTATED_CELLS = 144


def _plotted_metrics(result: SweepResult) -> list[str]:
    names = [g.metric for g in result.goals] + [c.metric for c in result.constraints]
    return list(dict.fromkeys(names))


def _numeric(values: Sequence[Scalar]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _title(result: SweepResult, metric: str) -> str:
    return f"{result.target}: {metric} ({len(result.seeds)} seeds per point)"


def line_figure(result: SweepResult, metric: str) -> Figure:
    """`metric` against the one swept field: mean, 95% band, limits, the recommended point."""
    axis = result.axes[0]
    summaries = list(result.summaries)
    figure = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = figure.subplots()
    numeric = _numeric([s.point.values[0] for s in summaries])
    xs = [float(s.point.values[0]) if numeric else float(i) for i, s in enumerate(summaries)]
    means = [s.metrics[metric].mean for s in summaries]
    lows = [s.metrics[metric].low for s in summaries]
    highs = [s.metrics[metric].high for s in summaries]
    ax.plot(xs, means, marker="o", color="tab:blue", label="mean over seeds")
    if not all(math.isnan(v) for v in lows):
        ax.fill_between(xs, lows, highs, color="tab:blue", alpha=0.2, label="95% interval")
    for constraint in result.constraints:
        if constraint.metric == metric:
            ax.axhline(constraint.limit, color="tab:red", linestyle="--", label=f"limit {constraint}")
    chosen = result.recommendation.summary
    if chosen is not None and chosen in summaries:
        at = summaries.index(chosen)
        ax.plot([xs[at]], [means[at]], marker="*", markersize=16, color="tab:green", linestyle="none",
                label="recommended")
    if not numeric:
        ax.set_xticks(xs, [format_value(s.point.values[0]) for s in summaries])
    ax.set_xlabel(axis.field)
    ax.set_ylabel(metric)
    ax.set_title(_title(result, metric), fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def heatmap_figure(result: SweepResult, metric: str) -> Figure:
    """The mean of `metric` over the two swept fields (rows: the first field, columns: the
    second); missing cells (a random sample) are blank."""
    rows_axis, columns_axis = result.axes[0], result.axes[1]
    row_of = {format_value(v): i for i, v in enumerate(rows_axis.values)}
    column_of = {format_value(v): j for j, v in enumerate(columns_axis.values)}
    grid = [[math.nan] * len(columns_axis.values) for _ in rows_axis.values]
    broken: list[tuple[int, int]] = []
    cells: dict[int, tuple[int, int]] = {}
    for summary in result.summaries:
        i = row_of[format_value(summary.point.values[0])]
        j = column_of[format_value(summary.point.values[1])]
        grid[i][j] = summary.metrics[metric].mean
        cells[summary.point.index] = (i, j)
        if any(not c.holds(summary.metrics[c.metric].mean) for c in result.constraints):
            broken.append((i, j))
    width = max(5.0, min(12.0, 1.0 + 0.7 * len(columns_axis.values)))
    height = max(3.5, min(10.0, 1.0 + 0.5 * len(rows_axis.values)))
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    figure.colorbar(image, ax=ax, label=f"{metric} (mean)")
    if len(rows_axis.values) * len(columns_axis.values) <= _MAX_ANNOTATED_CELLS:
        finite = [v for row in grid for v in row if not math.isnan(v)]
        middle = (min(finite) + max(finite)) / 2 if finite else 0.0
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                if not math.isnan(value):
                    ax.text(j, i, f"{value:.4g}", ha="center", va="center", fontsize=7,
                            color="black" if value > middle else "white")
    for i, j in broken:
        ax.plot([j], [i], marker="x", markersize=18, color="tab:red", alpha=0.6, linestyle="none")
    chosen = result.recommendation.summary
    if chosen is not None and chosen.point.index in cells:
        i, j = cells[chosen.point.index]
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="tab:green", linewidth=3))
    ax.set_xticks(range(len(columns_axis.values)), [format_value(v) for v in columns_axis.values])
    ax.set_yticks(range(len(rows_axis.values)), [format_value(v) for v in rows_axis.values])
    ax.set_xlabel(columns_axis.field)
    ax.set_ylabel(rows_axis.field)
    notes = (["x: breaks a constraint on the mean"] if result.constraints else []) + \
        (["outlined: recommended"] if chosen is not None else [])
    ax.set_title(_title(result, metric) + ("\n" + "; ".join(notes) if notes else ""), fontsize=9)
    return figure


def pareto_figure(result: SweepResult) -> Figure:
    """The two objectives' means for every point, with 95% intervals, the front joined up."""
    first, second = result.goals
    figure = Figure(figsize=(6.5, 5.0), layout="constrained")
    ax = figure.subplots()

    def xy(summaries: Sequence[PointSummary]) -> tuple[list[float], list[float]]:
        return ([s.metrics[first.metric].mean for s in summaries], [s.metrics[second.metric].mean for s in summaries])

    everything = list(result.summaries)
    xs, ys = xy(everything)
    xerr = [[max(0.0, s.metrics[first.metric].half_width) if not math.isnan(s.metrics[first.metric].low) else 0.0
             for s in everything]] * 2
    yerr = [[max(0.0, s.metrics[second.metric].half_width) if not math.isnan(s.metrics[second.metric].low) else 0.0
             for s in everything]] * 2
    ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="o", color="tab:gray", alpha=0.6, markersize=4,
                label="points (95% intervals)")
    front = sorted(result.pareto, key=lambda s: s.metrics[first.metric].mean)
    fx, fy = xy(front)
    ax.plot(fx, fy, marker="o", color="tab:blue", label="Pareto front")
    for summary, x, y in zip(front, fx, fy):
        ax.annotate(summary.point.label(result.axes), (x, y), fontsize=6, xytext=(4, 4), textcoords="offset points")
    chosen = result.recommendation.summary
    if chosen is not None:
        ax.plot([chosen.metrics[first.metric].mean], [chosen.metrics[second.metric].mean], marker="*",
                markersize=16, color="tab:green", linestyle="none", label="recommended")
    ax.set_xlabel(f"{first.metric} ({'lower' if first.direction == 'min' else 'higher'} is better)")
    ax.set_ylabel(f"{second.metric} ({'lower' if second.direction == 'min' else 'higher'} is better)")
    ax.set_title(f"{result.target}: Pareto front over {', '.join(result.fields)}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def sweep_figures(result: SweepResult) -> dict[str, Figure]:
    """Every figure the sweep supports, by file stem (``line-latency.p99``, ``heatmap-...``,
    ``pareto``). One figure per objective/constraint metric; none when neither was given or the
    sweep has three or more fields (summary.csv has those numbers)."""
    figures: dict[str, Figure] = {}
    if not result.summaries:
        return figures
    for metric in _plotted_metrics(result):
        if len(result.axes) == 1:
            figures[f"line-{metric}"] = line_figure(result, metric)
        elif len(result.axes) == 2:
            figures[f"heatmap-{metric}"] = heatmap_figure(result, metric)
    if len(result.goals) == 2:
        figures["pareto"] = pareto_figure(result)
    return figures


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def save_sweep_figures(result: SweepResult, directory: Path | None = None) -> list[Path]:
    """Write every figure of `sweep_figures` as PNG and SVG under `directory` (default the
    sweep's ``figures/``) and return the paths."""
    folder = directory if directory is not None else result.directory / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with matplotlib.rc_context({"svg.hashsalt": "rustok-sim-sweep"}):
        for name, figure in sweep_figures(result).items():
            for suffix in (".png", ".svg"):
                # Not Path.with_suffix: metric names have dots (latency.p99) that it would eat.
                path = folder / f"{_file_stem(name)}{suffix}"
                metadata = {"Date": None} if suffix == ".svg" else {}
                figure.savefig(path, dpi=120 if suffix == ".png" else None, metadata=metadata)
                written.append(path)
    return written

