"""The reliability report, end to end: decide which runs it needs, reuse the ones the output
directory already holds (same config, same seed), run the rest (scenario runs, analytic-twin
points and conformance suites share a pool of worker processes), then read everything back and
write `index.html`, `summary.json`, every figure as PNG and SVG, and each defect's trace excerpt.
The breaker operating curves come from `rustok_sim.reports.curves` and are stored the same way.

Building from stored results runs nothing: with every run and the conformance suites stored,
`build_report` only reads, draws and writes.

Layout of the output directory::

    index.html            the report, self-contained (images inlined)
    summary.json          what the page shows, as data
    figures/*.png|svg     every figure
    excerpts/*.jsonl      each defect's shortest trace excerpt
    runs/<run>/           result.json and trace.jsonl of each run the report made
    conformance/ci.json   the suite runs
    curves/               the breaker operating curves (when rustok_sim.reports.curves is installed)
    live/<run>/           live results (``rustok-sim live ... --out DIR/live/<run>``), each with
                          calibrated/, the simulation calibrated on it (made once, then reused)

Live results (those under ``live/`` and those passed as `ReportOptions.live_results`) are read,
never re-run: the "Live vs simulated" section compares each with its calibrated simulation
(`rustok_sim.reports.live_section`).
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from rustok_sim.conformance.diagrams import save_figure, state_diagram
from rustok_sim.conformance.gate import COMPONENTS
from rustok_sim.reports import plots
from rustok_sim.reports.catalog_runs import PlannedRun, RunRequest, load_run, plan_runs, run_scenario_job
from rustok_sim.reports.conformance_runs import (
    ConformancePlan,
    SuiteSummary,
    read_store,
    run_suite_job,
    suites_of,
    write_store,
)
from rustok_sim.reports.costs import CostRow, defect_costs, metric
from rustok_sim.reports.curves_section import (
    compute_curves_job,
    curves_available,
    curves_section,
    load_stored_curves,
    store_curves,
)
from rustok_sim.reports.explanations import load_explanations
from rustok_sim.reports.html import png_data_uri, render_report
from rustok_sim.reports.live_section import (
    LiveSource,
    find_live_results,
    live_comparison,
    no_live_note,
    run_calibrated_job,
    stored_calibration,
)
from rustok_sim.reports.results import ReportInputError, StoredRun
from rustok_sim.reports.trace_scan import Excerpt, FaultWindow, TraceScan, scan_trace
from rustok_sim.reports.twin import TwinPlan, TwinValidation, twin_requests, validate_twin
from rustok_sim.scenarios.engine.config import PROFILES, Profile
from rustok_sim.scenarios.engine.result import json_safe

__all__ = ["ReportOptions", "ReportOutcome", "ReportProgress", "build_report", "prepare_output"]

SUMMARY_FORMAT: Final = "rustok-sim-report"
COST_MEASURES: Final = ("requests answered 5xx", "events lost (never handled or delivered)", "database loads",
                        "ghost events (rolled back, still delivered)")


class ReportOptions(BaseModel):
    """What to put in the report. `overrides` change catalog entries (``--set`` syntax, per entry),
    which tests use to keep runs short; the command line leaves them empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: Path
    scenarios: tuple[str, ...] | None = None
    """Catalog entries (None: every entry)."""
    profiles: tuple[Profile, ...] = PROFILES
    seed: int = Field(1, ge=0)
    overrides: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    twin: TwinPlan = Field(default_factory=TwinPlan)
    conformance: ConformancePlan = Field(default_factory=ConformancePlan)
    workers: int = Field(2, ge=1, le=64)
    live_results: tuple[Path, ...] = ()
    """Live results besides those under ``out/live/`` (a live run's folder or its result.json)."""


class ReportProgress(Protocol):
    """Told what the report is doing: a phase with its number of steps, then each step done."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, label: str) -> None: ...


class _Silent:
    """Progress nobody watches (library use, tests)."""

    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass


@dataclass
class ReportOutcome:
    index: Path
    summary_path: Path
    summary: dict[str, Any]
    figures: list[Path]
    ran: int
    reused: int


# -- input checks ------------------------------------------------------------------------


def prepare_output(out: Path) -> Path:
    """Create `out` (and its parents) or say in one line why it cannot be written."""
    if out.exists() and not out.is_dir():
        raise ReportInputError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".rustok-sim-report-write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise ReportInputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return out


def _entries(options: ReportOptions) -> list[str]:
    from rustok_sim.scenarios.engine.loading import ConfigError, catalog

    try:
        known = catalog()
    except ConfigError as exc:
        raise ReportInputError(str(exc)) from None
    if options.scenarios is None:
        return list(known)
    chosen: list[str] = []
    for name in options.scenarios:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; entries: {', '.join(known)}"
            raise ReportInputError(f"--scenario {name!r}: no catalog entry of that name{hint}")
        if name not in chosen:
            chosen.append(name)
    return chosen


# -- running what is missing -------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    label: str
    priority: int
    """Lower first: long jobs start early so that two workers finish together."""
    function: Callable[..., Any]
    arguments: tuple[Any, ...]


_LONG_FIRST: Final = {"mmck": 0, "flood_outbox": 1, "mixed": 2, "flood": 3}


def _execute(jobs: Sequence[_Job], workers: int, progress: ReportProgress) -> list[Any]:
    """Run every job (in worker processes when there are several) and return their results in
    the jobs' order."""
    results: list[Any] = [None] * len(jobs)
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].priority, i))
    if workers <= 1 or len(jobs) <= 1:
        for i in order:
            results[i] = jobs[i].function(*jobs[i].arguments)
            progress.advance(jobs[i].label)
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = {pool.submit(jobs[i].function, *jobs[i].arguments): i for i in order}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:
                raise RuntimeError(f"{jobs[i].label} failed: {type(exc).__name__}: {exc}") from exc
            progress.advance(jobs[i].label)
    return results


def _mmck_shape(options: ReportOptions) -> tuple[float, int]:
    """mu and c of the twin's entry (the catalog's `mmck` with this report's overrides)."""
    from rustok_sim.scenarios.engine.loading import ConfigError, load_config

    try:
        config = load_config(options.twin.entry, list(options.overrides.get(options.twin.entry, ())))
    except ConfigError as exc:
        raise ReportInputError(str(exc)) from None
    dumped = config.model_dump(by_alias=True)
    return float(dumped["mu"]), int(dumped["c"])


@dataclass
class _Gathered:
    entries: list[str]
    runs: dict[tuple[str, str], StoredRun]
    """(entry, profile) -> run"""
    reused: dict[tuple[str, str], bool]
    twin_runs: list[tuple[str, StoredRun]]
    suites: list[SuiteSummary]
    curves: Any = None
    """`OperatingCurves` of the curves module, None when it is not installed"""
    curves_reused: bool = False
    ran: int = 0
    reused_count: int = 0


def _gather(options: ReportOptions, progress: ReportProgress) -> _Gathered:
    out = options.out
    entries = _entries(options)
    catalog_requests = [RunRequest(entry, entry, profile, options.seed, options.overrides.get(entry, ()))
                        for entry in entries for profile in options.profiles]
    mu, c = _mmck_shape(options)
    base = options.overrides.get(options.twin.entry, ())
    twin = [RunRequest(r.label, r.entry, r.profile, r.seed, (*base, *r.overrides))
            for r in twin_requests(options.twin, mu, c)]
    planned = plan_runs([*catalog_requests, *twin], out)
    wanted_suites = suites_of(options.conformance)
    stored_suites = read_store(out, options.conformance)
    have = {(s.component, s.variant): s for s in stored_suites.suites} if stored_suites else {}
    missing_suites = [pair for pair in wanted_suites if pair not in have]

    jobs: list[_Job] = []
    missing_runs: list[PlannedRun] = [p for p in planned if p.stored is None]
    for run in missing_runs:
        request = run.request
        priority = _LONG_FIRST.get(request.label, 5 if request in catalog_requests else 6)
        jobs.append(_Job(f"{request.label} ({request.profile})", priority, run_scenario_job,
                         (request.entry, request.overrides, request.profile, request.seed,
                          str(run.target_folder(out)))))
    plan = options.conformance
    for component, variant in missing_suites:
        jobs.append(_Job(f"conformance {component} ({variant})", 4, run_suite_job,
                         (component, variant, plan.profile, plan.max_examples)))
    curves = load_stored_curves(out) if curves_available() else None
    need_curves = curves_available() and curves is None
    if need_curves:
        jobs.append(_Job("breaker operating curves", 4, compute_curves_job, ()))
    progress.phase("running scenarios, twin points, conformance suites and curves" if jobs else "all runs stored",
                   len(jobs))
    results = _execute(jobs, options.workers, progress)
    if need_curves:
        curves = results.pop()
        store_curves(out, curves)

    folders = iter(results[:len(missing_runs)])
    stored: dict[RunRequest, StoredRun] = {}
    for run in planned:
        stored[run.request] = run.stored if run.stored is not None else load_run(Path(next(folders)))
    new_suites = [SuiteSummary.model_validate(data) for data in results[len(missing_runs):]]
    if new_suites:
        have.update({(s.component, s.variant): s for s in new_suites})
        write_store(out, plan, [have[pair] for pair in wanted_suites if pair in have])
    gathered = _Gathered(entries, {}, {}, [], [have[pair] for pair in wanted_suites], curves, not need_curves)
    for request in catalog_requests:
        gathered.runs[(request.entry, request.profile)] = stored[request]
    for run in planned:
        gathered.reused[(run.request.label, run.request.profile)] = run.stored is not None
    twin_entry = options.twin.entry
    catalog_twin = [(f"{twin_entry} (catalog, {p})", gathered.runs[(twin_entry, p)]) for p in options.profiles
                    if (twin_entry, p) in gathered.runs][:1]
    gathered.twin_runs = [*catalog_twin, *((r.label, stored[r]) for r in twin)]
    gathered.ran = len(missing_runs) + len(missing_suites) + need_curves
    gathered.reused_count = (len(planned) - len(missing_runs) + len(wanted_suites) - len(missing_suites)
                             + (curves is not None and not need_curves))
    return gathered


# -- reading results into what the page shows ---------------------------------------------


@dataclass
class _RunView:
    entry: str
    profile: str
    run: StoredRun
    scan: TraceScan
    reused: bool


@dataclass
class _Figures:
    out: Path
    written: list[Path] = field(default_factory=list)
    inline: dict[str, str] = field(default_factory=dict)
    """figure name -> data: URI of its PNG"""

    def save(self, name: str, figure: Any) -> str | None:
        """Write `figure` as figures/`name`.png and .svg and keep its PNG for the page; None (and
        nothing written) when there is no figure."""
        if figure is None:
            return None
        paths = save_figure(figure, self.out / "figures" / name)
        self.written += paths
        self.inline[name] = png_data_uri(paths[0])
        return name


def _thresholds(config: Mapping[str, Any]) -> dict[str, float]:
    """Backpressure depths as the controller computes them (Rust's ``f64 as usize`` truncates)."""
    flood = config.get("flood")
    section = flood.get("backpressure") if isinstance(flood, Mapping) else None
    if isinstance(section, Mapping):
        depth = int(section["max_queue_depth"])
        return {"warning": float(int(depth * float(section["warning_threshold"]))),
                "critical": float(int(depth * float(section["critical_threshold"]))), "max": float(depth)}
    if "K" in config:  # mmck: rejects at K, warns at 90% of it
        return {"warning": float(int(int(config["K"]) * 0.9)), "critical": float(config["K"]), "max": float(config["K"])}
    return {}


def _load_bursts(config: Mapping[str, Any]) -> list[FaultWindow]:
    """The workload's bursts (arrival rate times `factor` over a window), from the config: the
    trace has no record of them, and a burst is the flood's fault."""
    windows = []
    for section_name in ("flood", "traffic", "pipeline"):
        section = config.get(section_name)
        if not isinstance(section, Mapping):
            continue
        producers = section.get("producers")
        arrivals = (producers if isinstance(producers, Mapping) else section).get("arrivals")
        for burst in (arrivals.get("bursts") or []) if isinstance(arrivals, Mapping) else []:
            start = float(burst["start"])
            windows.append(FaultWindow("burst", f"{section_name} arrivals x{float(burst['factor']):g}", start,
                                       start + float(burst["duration"])))
    return windows


def _windows(view: _RunView) -> list[FaultWindow]:
    return sorted([*view.scan.faults, *_load_bursts(view.run.result.config)], key=lambda w: (w.start, w.fault))


def _timeline_data(view: _RunView) -> plots.TimelineData:
    result = view.run.result
    traffic = result.config.get("traffic")
    interval = float(traffic["interval"]) if isinstance(traffic, Mapping) and "interval" in traffic else None
    return plots.TimelineData(profile=view.profile, timelines=result.metrics.get("timelines") or {},
                        faults=_windows(view), http_by_interval=metric(result.metrics, "http_status_by_interval") or (),
                        db_loads_by_interval=metric(result.metrics, "db_loads_by_interval") or (),
                        interval=interval, thresholds=_thresholds(result.config), claimed_rows=view.scan.claimed_rows)


def _latency_series(views: Sequence[_RunView]) -> dict[str, dict[str, dict[str, float | None]]]:
    """kind of latency -> profile -> percentile -> seconds."""
    series: dict[str, dict[str, dict[str, float | None]]] = {}
    for view in views:
        metrics = view.run.result.metrics
        sections = [metrics[p] for p in ("tenancy", "flood", "outbox") if isinstance(metrics.get(p), Mapping)] or [metrics]
        for section in sections:
            if "http_status_counts" in section:
                named = [("requests", "latency"), ("requests during outage", "latency_during_outage")]
            elif "delivery_latency" in section:
                named = [("commit to projection", "delivery_latency")]
            else:
                named = [("publish to handled", "latency")]
            for name, key in named:
                values = section.get(key)
                if isinstance(values, Mapping):
                    series.setdefault(name, {})[view.profile] = dict(values)
    return series


def _verdict_rows(gathered: _Gathered, profiles: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for entry in gathered.entries:
        invariants: list[str] = []
        for profile in profiles:
            for verdict in gathered.runs[(entry, profile)].result.verdicts:
                if verdict.invariant not in invariants:
                    invariants.append(verdict.invariant)
        for invariant in invariants:
            cells = {}
            for profile in profiles:
                found = [v for v in gathered.runs[(entry, profile)].result.verdicts if v.invariant == invariant]
                cells[profile] = found[0].model_dump() if found else None
            rows.append({"entry": entry, "invariant": invariant, "cells": cells})
    return rows


def excerpt_id(entry: str, profile: str, invariant: str) -> str:
    return f"ex-{entry}-{profile}-{invariant}"


def _write_excerpt(out: Path, entry: str, profile: str, excerpt: Excerpt) -> Path:
    path = out / "excerpts" / f"{entry}-{profile}-{excerpt.invariant}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line.text + "\n" for line in excerpt.lines), encoding="utf-8")
    return path


def _relative(path: Path, out: Path) -> str:
    try:
        return str(path.resolve().relative_to(out.resolve()))
    except ValueError:
        return str(path.resolve())


def _cost_dict(row: CostRow) -> dict[str, Any]:
    return {"measure": row.measure, "unit": row.unit, "faithful": row.faithful, "hardened": row.hardened,
            "difference": row.difference, "faithful_worse": row.faithful_worse}


def _twin_dict(validation: TwinValidation) -> dict[str, Any]:
    return {"statement": validation.statement,
            "points": [{"label": p.label, "lambda": p.lam, "mu": p.mu, "c": p.c, "K": p.K, "p_block": p.p_block,
                        "ci95": list(p.ci95), "analytic": p.analytic, "within_ci95": p.within,
                        "relative_error": p.relative_error, "little_residual": p.little_residual}
                       for p in validation.points]}


def _catalog_descriptions() -> dict[str, str]:
    from rustok_sim.scenarios.engine.loading import catalog

    return {name: entry.description for name, entry in catalog().items()}


# -- the whole report ---------------------------------------------------------------------


def build_report(options: ReportOptions, progress: ReportProgress | None = None) -> ReportOutcome:
    """Run or reuse, then write the report into `options.out`; see the module docstring."""
    progress = progress or _Silent()
    out = prepare_output(options.out)
    live_sources = find_live_results(out, options.live_results)  # bad input fails here, before any run
    gathered = _gather(options, progress)
    calibrations = _calibrate_live(live_sources, options.workers, progress)
    profiles = [p for p in options.profiles]
    _clear_drawn_outputs(out)
    figures = _Figures(out)
    entries = gathered.entries
    drawing_steps = 2 * len(entries) + len(gathered.suites) + len(live_sources) + 3
    progress.phase("reading traces and drawing figures", drawing_steps)

    views: dict[tuple[str, str], _RunView] = {}
    for (entry, profile), run in gathered.runs.items():
        not_passed = [v.invariant for v in run.result.verdicts if v.status != "pass"]
        views[(entry, profile)] = _RunView(entry, profile, run, scan_trace(run.trace_path, not_passed),
                                           gathered.reused[(entry, profile)])

    descriptions = _catalog_descriptions()
    scenario_sections = []
    costs: dict[str, list[CostRow]] = {}
    for entry in entries:
        entry_views = [views[(entry, p)] for p in profiles]
        timeline = figures.save(f"timeline-{entry}", plots.timeline_figure(
            f"{entry}: {' | '.join(profiles)} over virtual time (fault windows shaded)",
            [_timeline_data(v) for v in entry_views]))
        progress.advance(f"timeline {entry}")
        latency = figures.save(f"latency-{entry}", plots.latency_figure(
            f"{entry}: latency percentiles", _latency_series(entry_views)))
        progress.advance(f"latency {entry}")
        if "faithful" in profiles and "hardened" in profiles:
            costs[entry] = defect_costs(views[(entry, "faithful")].run.result.metrics,
                                        views[(entry, "hardened")].run.result.metrics)
        scenario_sections.append({
            "entry": entry, "description": descriptions.get(entry, ""), "timeline": timeline, "latency": latency,
            "scenario": entry_views[0].run.result.scenario,
            "runs": [{"profile": v.profile, "folder": _relative(v.run.folder, out), "reused": v.reused,
                      "faults": [{"fault": w.fault, "target": w.target, "start": w.start, "end": w.end}
                                 for w in _windows(v)]} for v in entry_views],
            "costs": [_cost_dict(row) for row in costs.get(entry, [])],
        })
    cost_figure = figures.save("defect-costs", plots.defect_cost_figure(costs, COST_MEASURES))
    progress.advance("defect costs")

    validation = validate_twin([(label, run.result) for label, run in gathered.twin_runs])
    twin_figure = figures.save("twin-mmck", plots.twin_figure(validation))
    progress.advance("analytic twin")

    conformance = []
    for suite in gathered.suites:
        component = COMPONENTS.get(suite.component)
        diagram = None
        if component is not None and component.table is not None:  # a stateless suite has no diagram
            counts = {(s, t, trig): n for s, t, trig, n in suite.edge_counts}
            diagram = figures.save(f"conformance-{suite.component}-{suite.variant}", state_diagram(
                component.table, suite.variant, counts,
                f"{suite.component} ({suite.variant}): reference, {suite.status}"))
        cover = suite.coverage
        conformance.append({"component": suite.component, "variant": suite.variant, "status": suite.status,
                            "detail": suite.detail, "covered": len(cover.get("covered", {})),
                            "edges": cover.get("edges", 0), "missed": cover.get("missed", []),
                            "goals": len(cover.get("goals", {})) + len(cover.get("goals_missed", [])),
                            "goals_reached": len(cover.get("goals", {})),
                            "goals_missed": cover.get("goals_missed", []), "diagram": diagram})
        progress.advance(f"diagram {suite.component} ({suite.variant})")

    live_section = _live_section(live_sources, calibrations, figures, out, progress)

    curves = curves_section(gathered.curves, figures.save, gathered.curves_reused)
    progress.advance("operating curves")

    explanations = load_explanations()
    defects: list[dict[str, Any]] = []
    for (entry, profile), view in views.items():
        for verdict in view.run.result.verdicts:
            if verdict.status == "pass":
                continue
            excerpt = view.scan.excerpts[verdict.invariant]
            excerpt_path = _write_excerpt(out, entry, profile, excerpt)
            defects.append({
                "id": excerpt_id(entry, profile, verdict.invariant), "entry": entry, "profile": profile,
                "invariant": verdict.invariant, "status": verdict.status, "spec": verdict.spec,
                "detail": verdict.detail, "trace": _relative(view.run.trace_path, out),
                "excerpt_file": _relative(excerpt_path, out), "note": excerpt.note, "omitted": excerpt.omitted,
                "lines": [{"number": line.number, "text": line.text} for line in excerpt.lines],
                "explained_by": [s.anchor for s in explanations.sections_for(verdict.invariant)],
                "rule": explanations.invariants.get(verdict.invariant),
            })
    defects.sort(key=lambda d: (entries.index(d["entry"]), profiles.index(d["profile"]), d["invariant"]))

    verdict_counts: dict[str, dict[str, int]] = {p: {"pass": 0, "fail": 0, "known-defect": 0} for p in profiles}
    for (_entry, profile), view in views.items():
        for verdict in view.run.result.verdicts:
            verdict_counts[profile][verdict.status] += 1
    summary: dict[str, Any] = {
        "format": SUMMARY_FORMAT, "version": 1, "seed": options.seed, "profiles": profiles, "scenarios": entries,
        "runs": [{"entry": e, "profile": p, "seed": views[(e, p)].run.result.seed,
                  "folder": _relative(views[(e, p)].run.folder, out), "reused": views[(e, p)].reused,
                  "verdicts": [v.model_dump() for v in views[(e, p)].run.result.verdicts]}
                 for e in entries for p in profiles],
        "verdict_counts": verdict_counts,
        "defects": [{k: d[k] for k in ("entry", "profile", "invariant", "status", "spec", "detail", "trace",
                                       "excerpt_file")} | {"excerpt_lines": [line["number"] for line in d["lines"]]}
                    for d in defects],
        "costs": {entry: [_cost_dict(row) for row in rows] for entry, rows in costs.items()},
        "twin": _twin_dict(validation),
        "conformance": {"profile": options.conformance.profile, "max_examples": options.conformance.max_examples,
                        "suites": [{k: v for k, v in s.items() if k != "diagram"} for s in conformance]},
        "curves": {"included": curves.included, "note": curves.note, "figures": [f["name"] for f in curves.figures],
                   "recommendation": curves.recommendation, "simulation_checks": curves.checks},
        "live": live_section,
        "figures": sorted(_relative(p, out) for p in figures.written),
    }
    summary_path = out / "summary.json"
    summary = json_safe(summary)  # a NaN (no blocking at a point, say) is null in JSON
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    page = render_report({
        "summary": summary, "profiles": profiles, "verdict_rows": _verdict_rows(gathered, profiles),
        "excerpt_id": excerpt_id, "scenarios": scenario_sections, "cost_figure": cost_figure,
        "twin_figure": twin_figure, "twin": summary["twin"], "conformance": conformance, "curves": curves,
        "defects": defects, "explanations": explanations, "images": figures.inline, "live": summary["live"],
        "out": str(out.resolve()),
    })
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    progress.advance("index.html")
    ran_live = sum(1 for _, reused in calibrations if not reused)
    return ReportOutcome(index, summary_path, summary, figures.written, gathered.ran + ran_live,
                         gathered.reused_count + len(calibrations) - ran_live)


def _calibrate_live(sources: Sequence[LiveSource], workers: int,
                    progress: ReportProgress) -> list[tuple[StoredRun, bool]]:
    """Each live result's calibrated simulation: the one stored next to it when it still matches,
    else run now (once) into ``<live folder>/calibrated/``; with whether it was reused."""
    stored = [stored_calibration(source) for source in sources]
    jobs = []
    for source, found in zip(sources, stored):
        if found is not None:
            continue
        try:
            source.calibrated_folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportInputError(f"{source.calibrated_folder}: cannot store the calibrated simulation of "
                                   f"{source.path} there ({exc.strerror or exc})") from None
        jobs.append(_Job(f"calibrated simulation of {source.name}", 5, run_calibrated_job,
                         (str(source.path), str(source.calibrated_folder))))
    if jobs:
        progress.phase("calibrated simulations of the live results", len(jobs))
        _execute(jobs, workers, progress)
    return [(StoredRun(folder=source.calibrated_folder, result=found) if found is not None
             else load_run(source.calibrated_folder), found is not None) for source, found in zip(sources, stored)]


def _live_section(sources: Sequence[LiveSource], calibrations: Sequence[tuple[StoredRun, bool]], figures: _Figures,
                  out: Path, progress: ReportProgress) -> dict[str, Any]:
    """summary.json's ``live``: per live result calibrate's comparison, where the files are and its
    figure; or, with none, the one line that says how to make one."""
    results = []
    names: set[str] = set()
    for source, (simulated, reused) in zip(sources, calibrations):
        comparison = live_comparison(source, simulated.result)
        name = f"live-{source.folder.name}"
        while name in names:
            name += "-"
        names.add(name)
        figure = figures.save(name, plots.live_comparison_figure(
            f"{source.name}: live against the calibrated simulation (same seed)",
            [(row["metric"], row["live"], row["simulated"])
             for row in [*comparison["metrics"], *(comparison["outage"] or {}).get("metrics", [])]]))
        results.append(comparison | {"result": _relative(source.path, out),
                                     "simulated": _relative(simulated.folder / "result.json", out),
                                     "reused": reused, "figure": figure})
        progress.advance(f"live {source.name}")
    return {"results": results, "note": None if results else no_live_note(out)}


def _clear_drawn_outputs(out: Path) -> None:
    """Remove the figures and excerpts of a previous report in `out` (the runs stay): a report of
    fewer scenarios must not leave another report's figures beside its own."""
    for pattern in ("figures/*.png", "figures/*.svg", "excerpts/*.jsonl"):
        for path in out.glob(pattern):
            path.unlink()


def default_workers() -> int:
    """Two workers on this project's 2-core machines; never more than the cores there are."""
    return max(1, min(2, os.cpu_count() or 1))
