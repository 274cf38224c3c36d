"""The report's figures: pure functions from results (already read and reduced to the plain data
classes below) to matplotlib Figures on the Agg backend. Nothing here runs a simulation, reads a
file or writes one; `rustok_sim.conformance.diagrams.save_figure` writes them.

Conventions: x is virtual time in seconds; fault windows are shaded in every panel of a run
(an instant fault is a vertical line); states are coloured bands, green for the healthy state,
amber for the in-between one, red for the bad one; faithful is on the left, hardened on the right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from rustok_sim.reports.costs import CostRow  # noqa: E402
from rustok_sim.reports.trace_scan import FaultWindow  # noqa: E402
from rustok_sim.reports.twin import TwinValidation, analytic_curve  # noqa: E402

__all__ = ["TimelineData", "defect_cost_figure", "latency_figure", "live_comparison_figure", "timeline_figure",
           "twin_figure"]

GOOD, MIDDLE, BAD, INK, GRID = "#4c9a5b", "#e0a526", "#c0392b", "#30507a", "#cccccc"
FAULT_COLOURS: Final = {"burst": "#e67e22", "redis_outage": "#c0392b", "relay_crash": "#8e44ad", "rollbacks": "#7f8c8d",
                        "slow_handler": "#d35400", "failing_handler": "#d35400", "second_dispatcher": "#2c3e50"}
STATUS_COLOURS: Final = {"2": GOOD, "3": "#5dade2", "4": "#95a5a6", "5": BAD}
BREAKER_STATES: Final = {0.0: ("closed", GOOD), 1.0: ("open", BAD), 2.0: ("half_open", MIDDLE)}
BACKPRESSURE_STATES: Final = {0.0: ("normal", GOOD), 1.0: ("warning", MIDDLE), 2.0: ("critical", BAD)}
REDIS_STATES: Final = {1.0: ("up", GOOD), 0.0: ("down", BAD)}


@dataclass(frozen=True)
class TimelineData:
    """One run's series over virtual time, as its result holds them."""

    profile: str
    timelines: Mapping[str, Sequence[float | None]]
    """``{"t": [...], "<component>/<instance>/<name>": [...]}`` sampled every sample_interval s."""
    faults: Sequence[FaultWindow] = ()
    http_by_interval: Sequence[Mapping[str, object]] = ()
    """``[{"t": start s, "counts": {"200": n, ...}}]``, one per interval"""
    db_loads_by_interval: Sequence[Mapping[str, object]] = ()
    interval: float | None = None
    """seconds per reporting interval (http and db series)"""
    thresholds: Mapping[str, float] = field(default_factory=dict)
    """backpressure depths: ``warning``, ``critical``, ``max``"""
    claimed_rows: Mapping[int, int] = field(default_factory=dict)
    """outbox rows claimed at the end of each virtual second with a row move (from the trace)"""


Band = tuple[str, Sequence[float | None], Mapping[float, tuple[str, str]]]
"""(label, sampled state codes, code -> (state name, colour))"""


def _bands(timelines: Mapping[str, Sequence[float | None]]) -> list[Band]:
    bands: list[Band] = []
    for key, values in timelines.items():
        if key.startswith("circuit_breaker/") and key.endswith("/state"):
            bands.append((f"breaker {key.split('/')[1]}", values, BREAKER_STATES))
    for key, values in timelines.items():
        if key.startswith("backpressure/") and key.endswith("/state"):
            bands.append((f"backpressure {key.split('/')[1]}", values, BACKPRESSURE_STATES))
    if "redis/server/up" in timelines:
        bands.append(("redis", timelines["redis/server/up"], REDIS_STATES))
    return bands


def _panels(runs: Sequence[TimelineData]) -> list[str]:
    wanted = []
    if any(_bands(r.timelines) for r in runs):
        wanted.append("states")
    if any(k.endswith("/depth") for r in runs for k in r.timelines):
        wanted.append("depth")
    if any(k == "event_dispatcher/dispatcher/busy" for r in runs for k in r.timelines):
        wanted.append("busy")
    if any(k == "outbox/store/pending" for r in runs for k in r.timelines) or any(r.claimed_rows for r in runs):
        wanted.append("pending")
    if any(r.http_by_interval for r in runs):
        wanted.append("http")
    if any(r.db_loads_by_interval for r in runs):
        wanted.append("db")
    return wanted


PANEL_LABELS: Final = {"states": "state", "depth": "queue depth\n(events)", "busy": "handlers busy",
                       "pending": "outbox rows", "http": "responses/s\nby status",
                       "db": "DB loads/s"}


def timeline_figure(title: str, runs: Sequence[TimelineData]) -> Figure | None:
    """Per run a column of panels over virtual time: state bands (breakers, backpressure, Redis),
    queue depth with the Warning and Critical depths, handlers busy, outbox pending rows, HTTP
    responses per second by status, database loads per second; fault windows shaded. None when
    the runs recorded no series at all."""
    panels = _panels(runs)
    if not panels:
        return None
    heights = [max(1.0, 0.45 * max(len(_bands(r.timelines)) for r in runs)) if p == "states" else 1.6 for p in panels]
    figure = Figure(figsize=(6.2 * len(runs) + 1.5, 0.9 + sum(heights) * 1.05))
    grid = figure.add_gridspec(len(panels), len(runs), height_ratios=heights, hspace=0.12, wspace=0.08)
    first_axes: Axes | None = None
    row_axes: dict[int, Axes] = {}
    fault_labels: dict[str, str] = {}
    for column, run in enumerate(runs):
        times = [float(t) for t in run.timelines.get("t", []) if t is not None]
        end = times[-1] if times else 1.0
        for row, panel in enumerate(panels):
            axes = figure.add_subplot(grid[row, column], sharex=first_axes,
                                      sharey=row_axes.get(row) if panel != "states" else None)
            first_axes = first_axes or axes
            row_axes.setdefault(row, axes)
            _draw_panel(axes, panel, run, times)
            for window in run.faults:
                colour = FAULT_COLOURS.get(window.fault, "#555555")
                fault_labels[window.fault] = colour
                if window.end is not None and window.end == window.start:
                    axes.axvline(window.start, color=colour, linewidth=1.5, alpha=0.7)
                else:
                    axes.axvspan(window.start, window.end if window.end is not None else end, color=colour,
                                 alpha=0.10 if window.fault == "rollbacks" else 0.16, linewidth=0)
            axes.grid(axis="x", color=GRID, linewidth=0.5)
            if column == 0:
                axes.set_ylabel(PANEL_LABELS[panel], fontsize=8)
            else:  # the rows share their labels (and, but for the state bands, their scale) with column 0
                axes.tick_params(labelleft=False)
            if row == 0:
                axes.set_title(run.profile, fontsize=10)
            if row < len(panels) - 1:
                axes.tick_params(labelbottom=False)
            else:
                axes.set_xlabel("virtual time (s)", fontsize=8)
            axes.tick_params(labelsize=7)
        if first_axes is not None and times:
            first_axes.set_xlim(0, end)
    handles = [Patch(color=c, alpha=0.35, label=f.replace("_", " ")) for f, c in fault_labels.items()]
    if "states" in panels:
        handles += [Patch(color=c, label=label) for label, c in
                    (("healthy", GOOD), ("degraded", MIDDLE), ("failing", BAD))]
    figure.legend(handles=handles, loc="upper right", fontsize=7, ncols=min(len(handles), 6), frameon=False)
    figure.suptitle(title, x=0.01, ha="left", fontsize=11)
    figure.subplots_adjust(left=0.11, right=0.98, top=1 - 0.7 / figure.get_figheight(), bottom=0.55 / figure.get_figheight())
    return figure


def _draw_panel(axes: Axes, panel: str, run: TimelineData, times: Sequence[float]) -> None:
    series = run.timelines
    if panel == "states":
        bands = _bands(series)
        for level, (_label, values, palette) in enumerate(reversed(bands)):
            for start, stop, value in _runs(times, values):
                name_colour = palette.get(value)
                colour = name_colour[1] if name_colour else "#999999"
                axes.broken_barh([(start, stop - start)], (level - 0.4, 0.8), color=colour, linewidth=0)
        axes.set_yticks(range(len(bands)), [label for label, _, _ in reversed(bands)], fontsize=7)
        axes.set_ylim(-0.6, max(len(bands), 1) - 0.4)
    elif panel == "depth":
        limit: float | None = run.thresholds.get("max")
        for key, values in series.items():
            if not key.endswith("/depth"):
                continue
            depths = _floats(values, len(times))
            wrapped = [(t, d) for t, d in zip(times, depths) if limit is not None and d > 2 * limit]
            if wrapped and limit is not None:
                # A wrapped usize (2^64 - 1) would flatten every real depth to zero: clip the
                # axis at the configured maximum and mark the off-scale samples at the top.
                top = limit * 1.15
                axes.plot(times, [min(d, top) for d in depths], color=INK, linewidth=1)
                axes.plot([t for t, _ in wrapped], [top] * len(wrapped), "^", color=BAD, markersize=3)
                axes.text(wrapped[0][0], top, f" depth wrapped to {wrapped[0][1]:.3g} (off scale)", color=BAD,
                          fontsize=7, va="top")
                axes.set_ylim(0, top * 1.05)
            else:
                axes.plot(times, depths, color=INK, linewidth=1)
        for name, colour in (("warning", MIDDLE), ("critical", BAD)):
            if name in run.thresholds:
                axes.axhline(run.thresholds[name], color=colour, linestyle="--", linewidth=1)
                axes.text(0.005, run.thresholds[name], f" {name} {run.thresholds[name]:g}", color=colour,
                          fontsize=7, va="bottom", transform=axes.get_yaxis_transform())
    elif panel == "busy":
        axes.step(times, _floats(series.get("event_dispatcher/dispatcher/busy", []), len(times)), where="post",
                  color=INK, linewidth=1)
    elif panel == "pending":
        if "outbox/store/pending" in series:
            axes.plot(times, _floats(series["outbox/store/pending"], len(times)), color=INK, linewidth=1,
                      label="pending")
        if run.claimed_rows:
            seconds = sorted(run.claimed_rows)
            claimed = [float(run.claimed_rows[s]) for s in seconds]
            xs = [s + 1.0 for s in seconds]  # the count holds from each second's end
            if times and times[-1] > xs[-1]:  # nothing moves after the last transition: the count holds
                xs.append(times[-1])
                claimed.append(claimed[-1])
            axes.step(xs, claimed, where="post", color=BAD, linewidth=1, label="claimed")
        axes.legend(fontsize=6, loc="upper left", frameon=False)
    elif panel == "http":
        _draw_statuses(axes, run)
    elif panel == "db":
        width = run.interval or 1.0
        starts = [float(str(row.get("t", 0))) for row in run.db_loads_by_interval]
        loads = [float(str(row.get("loads", 0))) / width for row in run.db_loads_by_interval]
        axes.bar(starts, loads, width=width, align="edge", color=INK, alpha=0.8)


def _draw_statuses(axes: Axes, run: TimelineData) -> None:
    width = run.interval or 1.0
    counts = [_counts(row.get("counts")) for row in run.http_by_interval]
    statuses = sorted({status for row in counts for status in row})
    starts = [float(str(row.get("t", 0))) for row in run.http_by_interval]
    bottom = [0.0] * len(starts)
    for status in statuses:
        heights = [row.get(status, 0) / width for row in counts]
        axes.bar(starts, heights, width=width, bottom=bottom, align="edge", label=status,
                 color=STATUS_COLOURS.get(status[:1], "#555555"), alpha=0.85, linewidth=0)
        bottom = [b + h for b, h in zip(bottom, heights)]
    if statuses:
        axes.legend(fontsize=6, loc="lower left", ncols=len(statuses), frameon=False)


def _counts(value: object) -> dict[str, float]:
    """An interval's ``{"200": n, ...}``, whatever the JSON held."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, (int, float))}


def _floats(values: Sequence[float | None], n: int) -> list[float]:
    return [float(v) if v is not None else float("nan") for v in list(values)[:n]]


def _runs(times: Sequence[float], values: Sequence[float | None]) -> list[tuple[float, float, float]]:
    """Constant stretches of a sampled state: (start s, stop s, value); a sample holds until the
    next one, the last for one more interval."""
    out: list[tuple[float, float, float]] = []
    n = min(len(times), len(values))
    if n == 0:
        return out
    step = times[1] - times[0] if n > 1 else 1.0
    start, current = times[0], values[0]
    for i in range(1, n):
        if values[i] != current:
            if current is not None:
                out.append((start, times[i], float(current)))
            start, current = times[i], values[i]
    if current is not None:
        out.append((start, times[n - 1] + step, float(current)))
    return out


LATENCY_KEYS: Final = ("p50", "p90", "p99", "p99.9", "max")


def latency_figure(title: str, series: Mapping[str, Mapping[str, Mapping[str, float | None]]]) -> Figure | None:
    """Latency percentiles in milliseconds: a panel per kind of latency (``requests``, ``requests
    during outage``, ``publish to handled``, ...), in each a group of bars per percentile, one bar
    per profile; log scale, a zero written as 0. None when no kind has a value."""
    kinds = {kind: by_profile for kind, by_profile in series.items()
             if any(values.get(k) is not None for values in by_profile.values() for k in LATENCY_KEYS)}
    if not kinds:
        return None
    figure = Figure(figsize=(3.6 * len(kinds) + 0.8, 3.3))
    palette = {"faithful": BAD, "hardened": GOOD}
    first: Axes | None = None
    for i, (kind, by_profile) in enumerate(kinds.items(), 1):
        axes = figure.add_subplot(1, len(kinds), i, sharey=first)
        first = first or axes
        width = 0.8 / max(len(by_profile), 1)
        for j, (profile, values) in enumerate(by_profile.items()):
            xs = [k + (j - (len(by_profile) - 1) / 2) * width for k in range(len(LATENCY_KEYS))]
            ms = [1000.0 * float(values.get(key) or 0.0) for key in LATENCY_KEYS]
            axes.bar([x for x, v in zip(xs, ms) if v > 0], [v for v in ms if v > 0], width=width, label=profile,
                     color=palette.get(profile, INK), alpha=0.85)
            for x, v in zip(xs, ms):
                if v <= 0:
                    # log scale has no zero: write it at the foot of the axes instead of a bar
                    axes.text(x, 0.01, "0", ha="center", va="bottom", fontsize=6, color=palette.get(profile, INK),
                              transform=axes.get_xaxis_transform())
        axes.set_yscale("log")
        axes.set_xticks(range(len(LATENCY_KEYS)), LATENCY_KEYS, fontsize=7)
        axes.set_title(kind, fontsize=9)
        axes.grid(axis="y", color=GRID, linewidth=0.5)
        axes.tick_params(labelsize=7)
        if i == 1:
            axes.set_ylabel("latency (ms, log)", fontsize=8)
            axes.legend(fontsize=7, frameon=False, loc="upper left")
    figure.suptitle(title, x=0.01, ha="left", fontsize=10)
    figure.tight_layout()
    return figure


def defect_cost_figure(costs: Mapping[str, Sequence[CostRow]], measures: Sequence[str]) -> Figure | None:
    """For each measure a panel: per scenario, faithful against hardened (bars, log-ish counts).
    Only scenarios where the measure differs between the profiles appear."""
    panels = []
    for measure in measures:
        rows = [(name, row) for name, rows in costs.items() for row in rows
                if row.measure == measure and row.difference not in (None, 0)]
        if rows:
            panels.append((measure, rows))
    if not panels:
        return None
    figure = Figure(figsize=(4.2 * len(panels) + 0.5, 3.8))
    for i, (measure, rows) in enumerate(panels, 1):
        axes = figure.add_subplot(1, len(panels), i)
        ys = range(len(rows))
        faithful = [row.faithful or 0.0 for _, row in rows]
        hardened = [row.hardened or 0.0 for _, row in rows]
        axes.barh([y - 0.2 for y in ys], faithful, height=0.4, color=BAD, label="faithful")
        axes.barh([y + 0.2 for y in ys], hardened, height=0.4, color=GOOD, label="hardened")
        for y, a, b in zip(ys, faithful, hardened):
            axes.text(a, y - 0.2, f" {a:,.0f}", va="center", fontsize=7)
            axes.text(b, y + 0.2, f" {b:,.0f}", va="center", fontsize=7)
        axes.set_yticks(list(ys), [name for name, _ in rows], fontsize=8)
        axes.invert_yaxis()
        axes.set_title(measure, fontsize=9)
        axes.grid(axis="x", color=GRID, linewidth=0.5)
        axes.margins(x=0.25)
        if i == 1:
            axes.legend(fontsize=7, frameon=False, loc="lower right")
    figure.tight_layout()
    return figure


def twin_figure(validation: TwinValidation) -> Figure | None:
    """Top: the M/M/c/K blocking probability against the arrival rate (closed form, line) with
    the simulated points and their 95% intervals. Bottom: simulated minus closed form, with the
    interval, around zero."""
    points = validation.points
    if not points:
        return None
    mu, c, K = points[0].mu, points[0].c, points[0].K
    figure = Figure(figsize=(7.5, 5.6))
    grid = figure.add_gridspec(2, 1, height_ratios=[3, 1.4], hspace=0.08)
    top = figure.add_subplot(grid[0])
    bottom = figure.add_subplot(grid[1], sharex=top)
    lams, curve = analytic_curve(mu, c, K, max(p.lam for p in points) * 1.1)
    top.plot(lams, curve, color=INK, linewidth=1.5, label=f"closed form M/M/{c}/{K}, mu={mu:g}/s")
    same_shape = [p for p in points if (p.mu, p.c, p.K) == (mu, c, K)]
    for p in same_shape:
        colour = GOOD if p.within else BAD
        top.errorbar([p.lam], [p.p_block], yerr=[[p.p_block - p.ci95[0]], [p.ci95[1] - p.p_block]], fmt="o",
                     color=colour, markersize=4, capsize=3)
        bottom.errorbar([p.lam], [p.p_block - p.analytic], yerr=[[p.p_block - p.ci95[0]], [p.ci95[1] - p.p_block]],
                        fmt="o", color=colour, markersize=4, capsize=3)
    top.plot([], [], "o", color=GOOD, label="simulated, 95% interval holds the closed form")
    if any(not p.within for p in same_shape):
        top.plot([], [], "o", color=BAD, label="simulated, interval misses the closed form")
    top.set_ylabel("P(block)")
    top.legend(fontsize=7, frameon=False, loc="upper left")
    top.grid(color=GRID, linewidth=0.5)
    top.tick_params(labelbottom=False)
    top.set_title("analytic twin: simulated blocking against the closed form", fontsize=10, loc="left")
    bottom.axhline(0, color=INK, linewidth=1)
    bottom.set_ylabel("sim - analytic", fontsize=8)
    bottom.set_xlabel("arrival rate lambda (events/s)")
    bottom.grid(color=GRID, linewidth=0.5)
    figure.subplots_adjust(left=0.12, right=0.97, top=0.93, bottom=0.1)
    return figure


LIVE, SIMULATED = "#30507a", "#e0a526"


def _is_seconds(metric: str) -> bool:
    """Calibration's metric names: the times and latencies are seconds, the rest counts."""
    return "latency" in metric or "time" in metric


def live_comparison_figure(title: str, rows: Sequence[tuple[str, float | None, float | None]]) -> Figure | None:
    """Live against simulated, metric by metric (``(metric, live, simulated)`` as `rustok-sim
    calibrate` compares them): a panel of counts and a panel of times (virtual seconds, log
    scale), a pair of horizontal bars per metric, live above simulated. A missing value has no
    bar; a zero on the log panel is written as 0. None when no metric has a value."""
    shown = [(m, live, sim) for m, live, sim in rows if live is not None or sim is not None]
    panels = [(name, [r for r in shown if _is_seconds(r[0]) == seconds])
              for name, seconds in (("counts", False), ("virtual seconds (log)", True))]
    panels = [(name, panel_rows) for name, panel_rows in panels if panel_rows]
    if not panels:
        return None
    height = 1.2 + 0.32 * max(len(panel_rows) for _, panel_rows in panels)
    figure = Figure(figsize=(4.6 * len(panels) + 0.6, height))
    for i, (name, panel_rows) in enumerate(panels, 1):
        axes = figure.add_subplot(1, len(panels), i)
        log = name.endswith("(log)")
        ys = range(len(panel_rows))
        pairs: tuple[tuple[float, int, str, str], ...] = ((-0.2, 1, LIVE, "live"), (0.2, 2, SIMULATED, "simulated"))
        for offset, index, colour, label in pairs:
            legend: str | None = label
            for y, row in zip(ys, panel_rows):
                value = row[1] if index == 1 else row[2]
                if value is None:
                    continue
                if log and value <= 0:
                    axes.text(0.01, y + offset, "0", va="center", fontsize=6, color=colour,
                              transform=axes.get_yaxis_transform())
                    continue
                axes.barh(y + offset, float(value), height=0.4, color=colour, label=legend)
                legend = None
                axes.text(float(value), y + offset, f" {float(value):.4g}", va="center", fontsize=6)
        if log:
            axes.set_xscale("log")
        axes.set_yticks(list(ys), [row[0] for row in panel_rows], fontsize=7)
        axes.invert_yaxis()
        axes.set_title(name, fontsize=9)
        axes.grid(axis="x", color=GRID, linewidth=0.5)
        axes.margins(x=0.3)
        axes.tick_params(labelsize=7)
        if i == 1:
            figure.legend(*axes.get_legend_handles_labels(), fontsize=7, frameon=False, loc="upper right", ncol=2)
    figure.suptitle(title, x=0.01, ha="left", fontsize=10)
    figure.tight_layout(rect=(0.0, 0.0, 1.0, 0.97))
    return figure
