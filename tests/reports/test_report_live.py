"""The report's "Live vs simulated" section, from a small fixed result set and one real live run.

The module builds the report twice in one directory: first with no live result (the section is
one line saying how to make one), then after a real ``rustok-sim live redis_outage`` (its own
redis-server on a free port, SIGKILLed through the outage; 24 virtual s at scale 0.25, about 9 s
wall) stored under DIR/live/. The second build reuses every catalog run, runs the calibrated
simulation once next to the live result, and shows calibrate's comparison; the tests hold the
table to `run_calibration`'s own numbers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rustok_sim.cli import main
from rustok_sim.reports.conformance_runs import ConformancePlan
from rustok_sim.reports.live_section import find_live_results
from rustok_sim.reports.report import ReportOptions, ReportOutcome, build_report
from rustok_sim.reports.twin import TwinPlan
from rustok_sim.scenarios.live.calibrate import run_calibration

REDIS_OUTAGE = ("traffic.duration=24.0", "traffic.arrivals.rate=60.0", "traffic.outage.start=6.0",
                "traffic.outage.duration=8.0", "traffic.breaker.timeout=3.0")
SMALL = ReportOptions(
    out=Path("unused"),
    scenarios=("redis_outage",),
    overrides={"redis_outage": REDIS_OUTAGE, "mmck": ("arrivals=2000",)},
    twin=TwinPlan(loads=(1.5,), arrivals=2000),
    conformance=ConformancePlan(components=("backpressure",), max_examples=5),
)
LIVE_FOLDER = Path("live") / "redis_outage-faithful-1"


@dataclass
class Built:
    out: Path
    without_live: ReportOutcome
    without_live_page: str
    with_live: ReportOutcome

    @property
    def live_dir(self) -> Path:
        return self.out / LIVE_FOLDER


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH (the live run starts its own server)")
    out = tmp_path_factory.mktemp("report-live")
    options = SMALL.model_copy(update={"out": out})
    first = build_report(options)
    page = first.index.read_text(encoding="utf-8")
    overrides = [arg for override in REDIS_OUTAGE for arg in ("--set", override)]
    done = subprocess.run([sys.executable, "-m", "rustok_sim", "live", "redis_outage", *overrides,
                           "--out", str(out / LIVE_FOLDER)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    # The same live result found under DIR/live/ and named explicitly counts once.
    second = build_report(options.model_copy(update={"live_results": (out / LIVE_FOLDER,)}))
    return Built(out, first, page, second)


@pytest.mark.redis_server
def test_without_a_live_result_the_section_says_how_to_make_one(built: Built) -> None:
    live = built.without_live.summary["live"]
    assert live["results"] == []
    assert "rustok-sim live redis_outage --out " in live["note"] and str(built.out / "live") in live["note"]
    section = built.without_live_page.split('<h2 id="live">', 1)[1].split("<h2", 1)[0]
    assert "No live result" in section and "<table" not in section and "<img" not in section


@pytest.mark.redis_server
def test_the_section_shows_calibrates_numbers_metric_by_metric(built: Built) -> None:
    results = built.with_live.summary["live"]["results"]
    assert len(results) == 1
    shown = results[0]
    assert (shown["scenario"], shown["profile"], shown["seed"]) == ("redis_outage", "faithful", 1)
    assert shown["result"] == str(LIVE_FOLDER / "result.json")
    live_result = json.loads((built.live_dir / "result.json").read_text(encoding="utf-8"))
    rows, changes = run_calibration(live_result)
    assert shown["calibrated"] == changes and "traffic.redis.latency" in changes
    assert shown["metrics"] == [{"metric": r.metric, "live": r.live, "simulated": r.simulated,
                                 "relative_difference": r.relative} for r in rows]
    by_metric = {m["metric"]: m for m in shown["metrics"]}
    assert {"http 200", "http 404", "http 500", "time_to_open", "time_to_recover", "latency p99"} <= set(by_metric)
    assert by_metric["http 500"]["live"] > 0  # the outage turned requests into 500s (faithful, known defect)
    # During the outage (6-14 s; 5 s reporting intervals, so 5-15 s): the per-interval counts of both runs.
    outage = shown["outage"]
    assert outage["window"] == [6.0, 14.0] and outage["span"] == [5.0, 15.0]
    in_window = [b for b in live_result["metrics"]["http_status_by_interval"] if b["t"] in (5.0, 10.0)]
    assert {m["metric"]: m["live"] for m in outage["metrics"]} == {
        f"outage http {status}": float(sum(b["counts"].get(status, 0) for b in in_window))
        for status in {s for b in in_window for s in b["counts"]}}
    assert {m["metric"]: m["live"] for m in outage["metrics"]}["outage http 500"] > 0
    page = built.with_live.index.read_text(encoding="utf-8")
    section = page.split('<h2 id="live">', 1)[1].split("<h2", 1)[0]
    assert '<table class="live-comparison">' in section and "relative difference" in section
    assert '<table class="live-outage">' in section
    assert f"<td>http 500</td><td class=\"num\">{int(by_metric['http 500']['live']):,}</td>" in section


@pytest.mark.redis_server
def test_the_section_has_its_figure(built: Built) -> None:
    shown = built.with_live.summary["live"]["results"][0]
    assert shown["figure"] == "live-redis_outage-faithful-1"
    for suffix in (".png", ".svg"):
        assert f"figures/live-redis_outage-faithful-1{suffix}" in built.with_live.summary["figures"]
        assert (built.out / "figures" / f"live-redis_outage-faithful-1{suffix}").stat().st_size > 0
    page = built.with_live.index.read_text(encoding="utf-8")
    assert 'alt="redis_outage-faithful-1 live vs simulated" src="data:image/png;base64,' in page


@pytest.mark.redis_server
def test_the_calibrated_simulation_is_stored_next_to_the_live_result_and_reused(built: Built) -> None:
    shown = built.with_live.summary["live"]["results"][0]
    assert shown["simulated"] == str(LIVE_FOLDER / "calibrated" / "result.json") and not shown["reused"]
    assert built.with_live.ran == 1  # only the calibrated simulation: every catalog run was stored
    stored = built.live_dir / "calibrated" / "result.json"
    stamp = stored.stat().st_mtime_ns
    again = build_report(SMALL.model_copy(update={"out": built.out}))
    assert again.ran == 0 and again.summary["live"]["results"][0]["reused"]
    assert stored.stat().st_mtime_ns == stamp
    assert again.summary["live"]["results"][0]["metrics"] == shown["metrics"]


@pytest.mark.redis_server
def test_a_live_result_is_never_reused_as_the_simulated_run_of_its_config(built: Built) -> None:
    # The live run has the catalog run's config and seed, but measured real services.
    folders = {(r["entry"], r["profile"]): r["folder"] for r in built.with_live.summary["runs"]}
    assert folders[("redis_outage", "faithful")] == "runs/redis_outage-faithful-1"


@pytest.mark.redis_server
def test_an_explicit_live_result_is_found_outside_the_report_directory(built: Built, tmp_path: Path) -> None:
    found = find_live_results(tmp_path, [built.live_dir])
    assert [f.path for f in found] == [built.live_dir / "result.json"]
    assert find_live_results(tmp_path, [built.live_dir / "result.json", built.live_dir]) == found


def _fails_with(capsys: pytest.CaptureFixture[str], argv: list[str], *expected: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rustok-sim: error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]


def test_a_corrupt_live_result_under_out_is_one_line_naming_the_file(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "r" / "live" / "redis_outage-faithful-1"
    broken.mkdir(parents=True)
    (broken / "result.json").write_text('{"format": "rustok-sim-result", "version": 1,', encoding="utf-8")
    _fails_with(capsys, ["report", "--scenario", "redis_outage", "--out", str(tmp_path / "r")],
                str(broken / "result.json"), "not valid JSON")
    assert not (tmp_path / "r" / "runs").exists()


def test_a_simulated_result_given_as_live_is_one_line_naming_the_file(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    simulated = tmp_path / "sim"
    simulated.mkdir()
    (simulated / "result.json").write_text(json.dumps({
        "format": "rustok-sim-result", "version": 1, "scenario": "redis_outage", "profile": "faithful", "seed": 1,
        "config": {}, "metrics": {"requests": 10}, "verdicts": []}), encoding="utf-8")
    _fails_with(capsys, ["report", "--scenario", "redis_outage", "--out", str(tmp_path / "r"),
                         "--live-result", str(simulated)], str(simulated / "result.json"), "not a live run")
    assert not (tmp_path / "r" / "runs").exists()
    _fails_with(capsys, ["report", "--out", str(tmp_path / "r"), "--live-result", str(tmp_path / "nowhere")],
                "cannot read")


@pytest.mark.redis_server
def test_the_terminal_summary_has_one_line_per_live_result(built: Built) -> None:
    import io

    from rich.console import Console

    from rustok_sim.reports.cli_report import _print_live

    stream = io.StringIO()
    _print_live(Console(file=stream, width=200), built.with_live.summary["live"])
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("live vs simulated, redis_outage-faithful-1: http 500 ")
    stream = io.StringIO()
    _print_live(Console(file=stream, width=400), built.without_live.summary["live"])
    assert stream.getvalue().startswith("No live result: run 'rustok-sim live redis_outage --out ")
