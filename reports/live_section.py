"""The report's "Live vs simulated" section: each stored live run against the simulation
calibrated on it.

Where live results come from: every ``DIR/live/<folder>/result.json`` under the report's output
directory (``rustok-sim live NAME --out DIR/live/<name>-<profile>-<seed>``), and every
``--live-result PATH`` (a live run's folder or its ``result.json``). A live result is a
``rustok-sim-result`` whose metrics have the ``live`` section that ``rustok-sim live`` writes
(and whose ``trace.jsonl``, when it is next to it, has the header ``"source": "rustok-sim
live"``); anything else there is an error naming the file, since the report cannot re-run it.

Building the report never starts a service. The comparison is `rustok-sim calibrate`'s own:
`calibrated_config` gives the live run's config with its measured latencies, that simulation
runs once (same seed) into ``<live folder>/calibrated/`` (``result.json`` and ``trace.jsonl``),
and `compare` lists each metric live against simulated. A later report reuses the stored
calibrated run when its config and seed still match the live result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from rustok_sim.reports.results import ReportInputError, StoredResult, read_result
from rustok_sim.scenarios.engine.result import RESULT_FORMAT
from rustok_sim.scenarios.live.calibrate import (
    CalibrationError,
    MetricComparison,
    calibrated_config,
    compare,
    lag_warning,
)

__all__ = ["CALIBRATED_FOLDER", "LIVE_FOLDER", "LiveSource", "calibration_config", "find_live_results",
           "live_comparison", "no_live_note", "outage_statuses", "run_calibrated_job",
           "stored_calibration"]

LIVE_FOLDER: Final = "live"
"""``DIR/live/<folder>/result.json``: where the report looks for live runs by itself."""
CALIBRATED_FOLDER: Final = "calibrated"
"""``<live folder>/calibrated/``: the calibrated simulation of that live run, stored once."""
LIVE_SOURCE: Final = "rustok-sim live"


@dataclass(frozen=True)
class LiveSource:
    """One live result: its file, the JSON as written (calibrate reads it as such), and the
    validated shape."""

    path: Path
    data: dict[str, Any]
    result: StoredResult

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def calibrated_folder(self) -> Path:
        return self.folder / CALIBRATED_FOLDER

    @property
    def name(self) -> str:
        return f"{self.result.scenario}-{self.result.profile}-{self.result.seed}"


def _bad(path: Path, why: str) -> ReportInputError:
    return ReportInputError(f"{path}: {why}; the report reads live results, it cannot re-run them "
                            f"(run 'rustok-sim live' again into that folder, or remove it)")


def read_live_result(path: Path) -> LiveSource:
    """Read and check one live result (a folder or its result.json); every problem is a
    `ReportInputError` naming the file."""
    if path.is_dir():
        path = path / "result.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportInputError(f"--live-result {path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != RESULT_FORMAT:
        raise _bad(path, f"not a rustok-sim result (expected \"format\": \"{RESULT_FORMAT}\")")
    try:
        result = StoredResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "result"
        raise _bad(path, f"field {where!r}: {first['msg']}") from None
    if not result.is_live:
        raise _bad(path, "not a live run (its metrics have no 'live' section: a result of 'rustok-sim run', "
                         "not of 'rustok-sim live')")
    source = _trace_source(path.parent / "trace.jsonl")
    if source is not None and source != LIVE_SOURCE:
        raise _bad(path, f"not a live run (its trace.jsonl says \"source\": {source!r})")
    live = LiveSource(path, data, result)
    calibration_config(live)  # a story calibration does not know is bad input too, before anything runs
    return live


def _trace_source(trace: Path) -> str | None:
    """The ``source`` of a trace's header line, None when there is no trace or no such field."""
    try:
        with trace.open(encoding="utf-8") as stream:
            header = json.loads(stream.readline() or "null")
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return str(header["source"]) if isinstance(header, dict) and "source" in header else None


def find_live_results(out: Path, explicit: Sequence[Path] = ()) -> list[LiveSource]:
    """The live results of a report: ``out/live/*/result.json`` in path order, then each
    explicit one (a folder or a result.json); the same file twice counts once."""
    paths = sorted((out / LIVE_FOLDER).glob("*/result.json")) if (out / LIVE_FOLDER).is_dir() else []
    for raw in explicit:
        paths.append(raw / "result.json" if raw.is_dir() else raw)
    seen: set[Path] = set()
    found = []
    for path in paths:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        found.append(read_live_result(path))
    return found


def calibration_config(live: LiveSource) -> dict[str, Any]:
    """The calibrated simulation's config (as result.json writes it) and what calibration changed."""
    try:
        config, _changes = calibrated_config(live.data)
    except (CalibrationError, KeyError, TypeError, ValueError) as exc:
        raise _bad(live.path, f"calibration cannot use it: {exc}") from None
    dumped: dict[str, Any] = config.model_dump(mode="json", by_alias=True)
    return dumped


def stored_calibration(live: LiveSource) -> StoredResult | None:
    """The calibrated run stored next to `live` when it is still the one `live` calls for."""
    path = live.calibrated_folder / "result.json"
    if not path.is_file():
        return None
    stored = read_result(path)
    return stored if stored.matches(calibration_config(live), live.result.seed) else None


def run_calibrated_job(live_result: str, folder: str) -> str:
    """Run the calibrated simulation of the live result at `live_result` into `folder`
    (result.json written last, through a temporary name) and return the folder. Runs in a
    worker process: arguments and return value are plain data."""
    from rustok_sim.scenarios.engine.loading import story_named

    data = json.loads(Path(live_result).read_text(encoding="utf-8"))
    config, _changes = calibrated_config(data)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    result = story_named(config.scenario).run(config, int(data["seed"]), trace_path=out / "trace.jsonl")
    partial = out / "result.json.partial"
    result.write(partial)
    partial.replace(out / "result.json")
    return folder


def _row(row: MetricComparison) -> dict[str, Any]:
    return {"metric": row.metric, "live": row.live, "simulated": row.simulated,
            "relative_difference": row.relative}


def _traffic(scenario: str, result: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(tenancy metrics, traffic config) of a result with tenant traffic, else None."""
    metrics, traffic = result["metrics"], result["config"].get("traffic")
    if scenario == "mixed":
        metrics = metrics.get("tenancy")
    if not isinstance(metrics, Mapping) or not isinstance(traffic, Mapping):
        return None
    return metrics, traffic


def _outage_counts(metrics: Mapping[str, Any], start: float, end: float, interval: float) -> dict[str, float]:
    counts: dict[str, float] = {}
    for bucket in metrics.get("http_status_by_interval") or ():
        t = float(bucket["t"])
        if t < end and t + interval > start:
            for status, n in (bucket.get("counts") or {}).items():
                counts[str(status)] = counts.get(str(status), 0.0) + float(n)
    return counts


def outage_statuses(live: LiveSource, simulated: StoredResult) -> dict[str, Any] | None:
    """HTTP outcome counts by status during the outage, live against simulated: the per-interval
    counts (``http_status_by_interval``) of the reporting intervals that overlap the outage window,
    so the span is the window rounded out to whole intervals (exact when the window's edges fall
    on them, as in the catalog's ``redis_outage``). None without tenant traffic or an outage."""
    scenario = live.result.scenario
    ours, theirs = _traffic(scenario, live.data), _traffic(scenario, simulated.model_dump())
    if ours is None or theirs is None:
        return None
    traffic = ours[1]
    outage, interval = traffic.get("outage"), traffic.get("interval")
    if not isinstance(outage, Mapping) or not interval:
        return None
    start, end, interval = float(outage["start"]), float(outage["start"]) + float(outage["duration"]), float(interval)
    live_counts = _outage_counts(ours[0], start, end, interval)
    simulated_counts = _outage_counts(theirs[0], start, end, interval)
    statuses = sorted(set(live_counts) | set(simulated_counts))
    rows = [MetricComparison(f"outage http {status}", live_counts.get(status, 0.0), simulated_counts.get(status, 0.0))
            for status in statuses]
    return {"window": [start, end], "span": [interval * (start // interval), interval * -(-end // interval)],
            "metrics": [_row(r) for r in rows]}


def live_comparison(live: LiveSource, simulated: StoredResult) -> dict[str, Any]:
    """What the page and summary.json show for one live result: calibrate's changes, its warning,
    its metric-by-metric comparison, and the outcome counts during the outage."""
    _config, changes = calibrated_config(live.data)
    rows = compare(live.result.scenario, live.data["metrics"], simulated.metrics)
    measured: Mapping[str, Any] = live.data["metrics"]["live"]
    lag, scale = measured.get("lag"), measured.get("scale")
    return {"name": live.name, "scenario": live.result.scenario, "profile": live.result.profile,
            "seed": live.result.seed, "scale": scale, "lag": lag, "calibrated": changes,
            "warning": lag_warning(live.data), "metrics": [_row(r) for r in rows],
            "outage": outage_statuses(live, simulated),
            "verdicts": [v.model_dump() for v in live.result.verdicts]}


def no_live_note(out: Path) -> str:
    """The one line the section shows when there is no live result."""
    return (f"No live result: run 'rustok-sim live redis_outage --out {out / LIVE_FOLDER / 'redis_outage-faithful-1'}' "
            f"(about 35 s; it starts its own redis-server) and build the report again, or pass --live-result DIR.")
