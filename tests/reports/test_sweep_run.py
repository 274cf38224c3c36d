"""Sweeps end to end on a shortened redis_outage: the same results.csv on every executor, and a
resumed sweep that does only the runs that were missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustok_sim.reports.sweep import LocalExecutor, run_sweep
from rustok_sim.reports.sweep.executors import DaskExecutor

# 12 virtual seconds at 50 requests/s with a 4 s outage: a run takes a fraction of a second.
SHORT = ("traffic.duration=12", "traffic.arrivals.rate=50", "traffic.outage.start=3", "traffic.outage.duration=4")
GRID = ("traffic.breaker.failure_threshold=1,5", "traffic.breaker.timeout=1:3:2")


def sweep(out: Path, executor=None, **kwargs):
    return run_sweep("redis_outage", GRID, seeds=2, overrides=SHORT, objectives=["min:cache_error_500s"],
                     constraints=["time_to_open<=1"], out=out, executor=executor, **kwargs)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return sweep(out), (out / "results.csv").read_text(encoding="utf-8")


def test_a_sweep_writes_one_row_per_run_in_grid_order(serial):
    result, text = serial
    lines = text.splitlines()
    assert lines[0].startswith("traffic.breaker.failure_threshold,traffic.breaker.timeout,seed,")
    assert [line.split(",")[:3] for line in lines[1:]] == [
        [f, t, s] for f in ("1", "5") for t in ("1", "3") for s in ("1", "2")]
    assert result.executed == 8 and result.reused == 0
    assert "cache_error_500s" in lines[0].split(",")


def test_two_processes_give_the_same_rows(serial, tmp_path):
    executor = LocalExecutor(2)
    try:
        sweep(tmp_path, executor)
    finally:
        executor.close()
    assert (tmp_path / "results.csv").read_text(encoding="utf-8") == serial[1]


def test_a_dask_cluster_gives_the_same_rows_started_here_or_by_address(serial, tmp_path):
    pytest.importorskip("distributed")
    executor = DaskExecutor("local", workers=2)
    try:
        result = sweep(tmp_path / "local", executor)
        # The same cluster again, reached as a running scheduler is: by its address.
        remote = DaskExecutor(executor._cluster.scheduler_address, connect_timeout=10)
        try:
            sweep(tmp_path / "remote", remote)
            assert remote.description.endswith("(2 workers)")
        finally:
            remote.close()
    finally:
        executor.close()
    for folder in ("local", "remote"):
        assert (tmp_path / folder / "results.csv").read_text(encoding="utf-8") == serial[1]
    assert (tmp_path / "local" / "summary.csv").read_bytes() == (serial[0].directory / "summary.csv").read_bytes()
    assert result.recommendation.text == serial[0].recommendation.text


class CountingExecutor(LocalExecutor):
    """This process, counting the runs it is asked to do."""

    def __init__(self) -> None:
        super().__init__(1)
        self.runs: list[tuple[int, int]] = []

    def run(self, tasks):
        self.runs.extend(task.key for task in tasks)
        yield from super().run(tasks)


def test_an_interrupted_sweep_resumes_without_redoing_finished_runs(serial, tmp_path):
    full = serial[1]
    lines = full.splitlines(keepends=True)
    # As an interrupted sweep leaves it: the header, three finished runs in completion order,
    # and a fourth cut off halfway through its line.
    (tmp_path / "results.csv").write_text("".join([lines[0], lines[3], lines[1], lines[2], lines[4][:25]]),
                                          encoding="utf-8")
    (tmp_path / "sweep.json").write_bytes((serial[0].directory / "sweep.json").read_bytes())
    counting = CountingExecutor()
    progress: list[tuple[int, int, int, int]] = []
    result = sweep(tmp_path, counting, progress=lambda *counts: progress.append(counts))
    # (runs done, runs, points done, points): the kept runs count from the start, point 0 is done.
    assert progress[0] == (3, 8, 1, 4) and progress[-1] == (8, 8, 4, 4) and len(progress) == 6
    # Rows 1-3 are point 0's two seeds and point 1's seed 1; the cut line (point 1, seed 2) is redone.
    assert sorted(counting.runs) == [(1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]
    assert result.executed == 5 and result.reused == 3
    assert (tmp_path / "results.csv").read_text(encoding="utf-8") == full


def test_a_finished_sweep_run_again_runs_nothing(serial, tmp_path):
    (tmp_path / "results.csv").write_text(serial[1], encoding="utf-8")
    (tmp_path / "sweep.json").write_bytes((serial[0].directory / "sweep.json").read_bytes())
    counting = CountingExecutor()
    result = sweep(tmp_path, counting)
    assert counting.runs == [] and result.reused == 8


def test_summaries_and_figures_are_written(serial):
    from rustok_sim.reports.sweep import save_sweep_figures

    result, _ = serial
    paths = save_sweep_figures(result)
    names = sorted(p.name for p in paths)
    assert names == ["heatmap-cache_error_500s.png", "heatmap-cache_error_500s.svg",
                     "heatmap-time_to_open.png", "heatmap-time_to_open.svg"]
    assert all(p.stat().st_size > 0 for p in paths)
    summary = (result.directory / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert summary[0] == "traffic.breaker.failure_threshold,traffic.breaker.timeout,metric,n,mean,sd,ci95_low,ci95_high"
    assert result.recommendation.summary is not None
    assert (result.directory / "recommendation.txt").read_text(encoding="utf-8").startswith("Recommended: ")


def test_a_random_sample_runs_the_drawn_points_in_grid_order(tmp_path):
    result = run_sweep("redis_outage", ["traffic.breaker.failure_threshold=1:8:1", "traffic.breaker.timeout=1:4:1"],
                       seeds=1, sample=3, sample_seed=7, overrides=SHORT, out=tmp_path)
    indexes = [summary.point.index for summary in result.summaries]
    assert len(indexes) == 3 and indexes == sorted(indexes)
    assert result.recommendation.summary is None and "nothing is recommended" in result.recommendation.text
