"""The live command line: ``rustok-sim live`` writes what ``run`` writes and check-trace accepts it;
``rustok-sim calibrate`` compares it with the simulation; bad input is one line and exit 2;
Ctrl-C leaves no redis-server behind.

Calibration tolerance. The live and the simulated run share the seed, so the same requests
arrive at the same virtual instants; the breaker's clock is virtual in both, and the nemesis
kills and restarts Redis at the window's edges (the restart's wait for PING blocks the paced
clock, so it costs no virtual time). What can still differ is a real call's outcome: on a loaded
machine a healthy GET can miss its 0.25 s wall socket timeout, which the breaker counts as a
failure. So the outcome counts by HTTP status must agree within 5 % (measured here: exactly),
and the times to open and to recover within 1 virtual second (measured: 0.2 % and 0.0 %).
Database loads are not held to it: a SIGKILLed redis-server comes back empty (persistence is
off), so the live run reloads every tenant after the outage, which the simulated Redis, keeping
its keys through a ``refused`` window, does not (measured: 260 live against 166 simulated).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.redis_server

COUNT_TOLERANCE = 0.05
TIME_TOLERANCE_S = 1.0
SHORT = ["--set", "traffic.duration=40", "--set", "traffic.outage.start=10", "--set", "traffic.outage.duration=13",
         "--set", "traffic.breaker.timeout=5", "--set", "traffic.arrivals.rate=50"]


def _cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rustok_sim", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def live_out(tmp_path_factory: pytest.TempPathFactory, redis_binary: str) -> Path:
    out = tmp_path_factory.mktemp("live") / "redis_outage"
    done = _cli("live", "redis_outage", *SHORT, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "redis-server on 127.0.0.1:" in done.stderr
    return out


def test_live_writes_the_files_of_run_with_its_verdicts(live_out: Path) -> None:
    result = json.loads((live_out / "result.json").read_text())
    assert result["format"] == "rustok-sim-result" and result["scenario"] == "redis_outage"
    verdicts = {v["invariant"]: v["status"] for v in result["verdicts"]}
    assert verdicts == {"breaker_legal": "pass", "no_stuck_half_open": "pass",
                        "no_5xx_from_cache_outage": "known-defect", "coalescing": "pass", "no_reload_storm": "pass"}
    header = json.loads((live_out / "trace.jsonl").read_text().splitlines()[0])
    assert header["source"] == "rustok-sim live"


def test_check_trace_accepts_the_live_trace(live_out: Path) -> None:
    done = _cli("check-trace", str(live_out / "trace.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 illegal" in done.stdout


def test_calibration_agrees_with_the_live_outage_within_tolerance(live_out: Path) -> None:
    done = _cli("calibrate", "redis_outage", "--live-result", str(live_out), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "traffic.redis.latency" in report["calibrated"]
    rows = {row["metric"]: row for row in report["metrics"]}
    for metric in ("requests", "http 200", "http 404", "http 500"):
        live, simulated = rows[metric]["live"], rows[metric]["simulated"]
        assert abs(simulated - live) <= COUNT_TOLERANCE * max(live, 1), (metric, live, simulated)
    assert rows["http 500"]["live"] > 0
    for metric in ("time_to_open", "time_to_recover"):
        live, simulated = rows[metric]["live"], rows[metric]["simulated"]
        assert live is not None and simulated is not None
        assert abs(simulated - live) <= TIME_TOLERANCE_S, (metric, live, simulated)


@pytest.mark.parametrize("args, message", [
    (["live", "flood"], "does not run live"),
    (["live", "redis_outage", "--scale", "0"], "--scale"),
    (["live", "redis_outage", "--set", "traffic.nope=1"], "unknown field"),
    (["live", "rollback", "--terminate-connection", "soon"], "AT:RELAY"),
    (["live", "redis_outage", "--terminate-connection", "1:0"], "has no relays"),
    (["live", "rollback", "--rename", "1:0"], "has no tenant traffic"),
    (["live", "redis_outage", "--rename", "1:200"], "tenants are 0..199"),
    (["calibrate", "redis_outage", "--live-result", "/nonexistent/dir"], "cannot read"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = _cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_calibrate_refuses_a_simulated_result(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    assert _cli("run", "redis_outage", "--set", "traffic.duration=40", "--set", "traffic.outage.start=10",
                "--out", str(out)).returncode == 0
    done = _cli("calibrate", "redis_outage", "--live-result", str(out))
    assert done.returncode == 2 and "not of 'rustok-sim run'" in done.stderr


def test_ctrl_c_stops_the_run_and_its_redis_server(tmp_path: Path, redis_binary: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", "rustok_sim", "live", "redis_outage", *SHORT, "--out",
                                str(tmp_path / "interrupted")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # printed once the server answers PING
        found = re.search(r"redis-server on 127\.0\.0\.1:(\d+) \(pid (\d+)\)", line)
        assert found, line
        port, pid = int(found.group(1)), int(found.group(2))
        os.kill(pid, 0)  # it runs
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # reaped before exit; poll only to be generous to a loaded machine
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
