"""`rustok-sim curves`: files written, bad arguments one message and exit status 2."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from rustok_sim.cli import app, main
from rustok_sim.reports.cli_curves import parse_duration, parse_float_list, parse_int_range


def test_curves_writes_figures_csv_and_the_recommendation(tmp_path):
    out = tmp_path / "curves"
    result = CliRunner().invoke(app, ["curves", "--thresholds", "2:5", "--timeouts", "5,30", "--simulate", "20",
                                      "--seed", "3", "--simulation-budget", "50000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("tradeoff", "detection_cdf", "timeout_costs", "false_trip_probability"):
        for suffix in (".png", ".svg"):
            assert (out / f"{name}{suffix}").stat().st_size > 1000
    rows = list(csv.DictReader((out / "curves.csv").open(encoding="utf-8")))
    assert [(r["failure_threshold"], r["timeout"]) for r in rows] == [
        (str(k), t) for k in range(2, 6) for t in ("5.0", "30.0")]
    simulated = list(csv.DictReader((out / "simulation.csv").open(encoding="utf-8")))
    assert len(simulated) == 4
    assert "failure_threshold 4 with timeout 5 s" in (out / "recommendation.txt").read_text(encoding="utf-8")
    assert "failure_threshold 4 with timeout 5 s" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--p0", "1.5"], "p0 must be a probability in [0, 1]"),
    (["--p1", "-0.1"], "p1 must be a probability in [0, 1]"),
    (["--rate", "0"], "rate must be a finite number of requests/s > 0"),
    (["--rate", "-5"], "rate must be"),
    (["--thresholds", "5:2"], "'--thresholds'"),
    (["--thresholds", "0:3"], "thresholds must be"),
    (["--timeouts", "abc"], "'--timeouts'"),
    (["--window", "0"], "window must be"),
    (["--window", "3 weeks"], "'--window'"),
    (["--simulate", "3"], "replications must be 0"),
    (["--max-detection-delay", "0"], "max_detection_delay must be > 0"),
    (["--variant", "hardened", "--half-open-max", "0"], "half_open_max_requests"),
])
def test_a_bad_argument_is_one_message_and_exit_2(tmp_path, args, message, capsys):
    out = tmp_path / "never"
    assert main(["curves", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    result = CliRunner().invoke(app, ["curves", *args, "--out", str(out)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)


def test_the_parsers_read_units_and_ranges():
    assert parse_duration("1w") == 604800.0 and parse_duration("90") == 90.0 and parse_duration("30m") == 1800.0
    assert parse_int_range("1:4") == (1, 2, 3, 4) and parse_int_range("2:8:3") == (2, 5, 8)
    assert parse_int_range("3,4,6") == (3, 4, 6)
    assert parse_float_list("5,1m") == (5.0, 60.0) and parse_float_list("0:10:5") == (0.0, 5.0, 10.0)
