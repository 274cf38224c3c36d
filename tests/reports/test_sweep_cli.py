"""``rustok-sim sweep`` on the command line: a mistake is one line and exit status 2."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from rustok_sim.cli import app, main

SHORT = ["--set", "traffic.duration=8", "--set", "traffic.arrivals.rate=40", "--set", "traffic.outage.start=2",
         "--set", "traffic.outage.duration=3"]


def sweep(*args: str, out=None):
    extra = ["--out", str(out)] if out is not None else []
    return CliRunner().invoke(app, ["sweep", "redis_outage", *SHORT, *extra, *args], catch_exceptions=False)


def assert_usage_error(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_a_small_sweep_prints_its_recommendation(tmp_path):
    result = sweep("--grid", "traffic.breaker.timeout=1,4", "--seeds", "2", "--workers", "1",
                   "--objective", "min:cache_error_500s", "--constraint", "time_to_open<=1", out=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Recommended: traffic.breaker.timeout = " in result.output
    assert "4 runs on this process, 0 already done" in result.output
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "line-cache_error_500s.png", "line-cache_error_500s.svg", "line-time_to_open.png", "line-time_to_open.svg"]


@pytest.mark.parametrize(("grid", "message"), [
    ("traffic.breaker.timeout=1:5", "a range is start:stop:step with three numbers"),
    ("traffic.breaker.timeout=5:1:1", "stop 1 is below start 5"),
    ("traffic.breaker.timeout", "expected field=start:stop:step or field=v1,v2,..."),
])
def test_a_bad_grid_is_one_line_and_exit_2(tmp_path, grid, message):
    assert_usage_error(sweep("--grid", grid, out=tmp_path), message)


def test_an_unknown_field_is_the_same_error_as_run_set(tmp_path):
    result = sweep("--grid", "traffic.breaker.timout=1,2", out=tmp_path)
    assert_usage_error(result, "--grid traffic.breaker.timout: unknown field 'traffic.breaker.timout'; did you mean 'timeout'?")
    assert not (tmp_path / "results.csv").exists()


def test_a_value_out_of_range_names_the_point(tmp_path):
    result = sweep("--grid", "traffic.breaker.failure_threshold=-1,2", out=tmp_path)
    assert_usage_error(result, "--grid point traffic.breaker.failure_threshold=-1: field 'traffic.breaker.failure_threshold'")


def test_no_grid_is_an_error(tmp_path):
    assert_usage_error(sweep(out=tmp_path), "no --grid given")


def test_an_unknown_metric_stops_the_sweep_after_one_run(tmp_path):
    result = sweep("--grid", "traffic.breaker.timeout=1,2,3", "--seeds", "2", "--workers", "1",
                   "--objective", "min:cache_eror_500s", out=tmp_path)
    assert_usage_error(result, "--objective: unknown metric 'cache_eror_500s'; did you mean cache_error_500s")
    rows = (tmp_path / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2  # the header and the one run that told us the metric names: kept for the rerun


def test_an_unknown_metric_in_a_constraint(tmp_path):
    result = sweep("--grid", "traffic.breaker.timeout=1", "--seeds", "1", "--workers", "1",
                   "--constraint", "p99_latency<=0.1", out=tmp_path)
    assert_usage_error(result, "--constraint: unknown metric 'p99_latency'")


def test_a_status_code_no_request_got_is_a_counter_at_zero(tmp_path):
    result = sweep("--grid", "profile=hardened", "--seeds", "1", "--workers", "1",
                   "--objective", "min:http_status_counts.500", out=tmp_path, )
    assert result.exit_code == 0, result.output
    assert "http_status_counts.500 (lower is better): 0." in result.output


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    result = sweep("--grid", "traffic.breaker.timeout=1", "--seeds", "1", "--dask", address,
                   "--connect-timeout", "0.5", out=tmp_path)
    assert_usage_error(result, f"--dask {address}: no Dask scheduler answered within 0.5 s")


def test_a_malformed_scheduler_address(tmp_path):
    assert_usage_error(sweep("--grid", "traffic.breaker.timeout=1", "--dask", "my-laptop", out=tmp_path),
                       "expected 'local' or a scheduler address such as tcp://HOST:8786")


def test_results_from_another_sweep_are_not_mixed_in(tmp_path):
    first = sweep("--grid", "traffic.breaker.timeout=1", "--seeds", "1", "--workers", "1", out=tmp_path)
    assert first.exit_code == 0, first.output
    result = sweep("--grid", "traffic.breaker.failure_threshold=1", "--seeds", "1", out=tmp_path)
    assert_usage_error(result, "holds a sweep with different swept fields")


def test_the_console_script_prints_rustok_sim_error(tmp_path, capsys):
    assert main(["sweep", "redis_outage", "--grid", "traffic.breaker.timeout=0:1", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("rustok-sim: error: --grid 'traffic.breaker.timeout=0:1': a range is")
