"""`rustok-sim report` on bad input: one clear line on stderr, exit 2, no traceback, and no run
started (each check happens before any simulation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustok_sim.cli import main


def _fails_with(capsys: pytest.CaptureFixture[str], argv: list[str], *expected: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rustok-sim: error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]


def test_report_unknown_scenario_is_one_line_with_a_suggestion(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with(capsys, ["report", "--scenario", "redis_outge", "--out", str(tmp_path / "r")],
                "'redis_outge'", "did you mean 'redis_outage'")
    assert not (tmp_path / "r" / "runs").exists()


@pytest.mark.parametrize("profiles, expected", [
    ("faithful,hardend", "unknown profile 'hardend'"),
    ("", "comma-separated"),
    ("faithful,,hardened", "comma-separated"),
])
def test_report_bad_profiles_is_one_line(profiles: str, expected: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with(capsys, ["report", "--profiles", profiles, "--out", str(tmp_path / "r")], expected)


def test_report_unwritable_out_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    _fails_with(capsys, ["report", "--out", str(blocker)], "exists and is not a directory")
    _fails_with(capsys, ["report", "--out", str(blocker / "below")], "cannot write there")


def test_report_corrupt_stored_result_is_one_line_naming_the_file(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "r" / "runs" / "redis_outage-faithful-1"
    broken.mkdir(parents=True)
    (broken / "result.json").write_text('{"format": "rustok-sim-result", "version": 1,', encoding="utf-8")
    (broken / "trace.jsonl").write_text("", encoding="utf-8")
    _fails_with(capsys, ["report", "--scenario", "redis_outage", "--out", str(tmp_path / "r")],
                str(broken / "result.json"), "not valid JSON")


def test_report_stored_result_of_the_wrong_shape_is_one_line(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "r" / "old"
    broken.mkdir(parents=True)
    (broken / "result.json").write_text('{"format": "rustok-sim-result", "version": 1, "seed": "one"}',
                                        encoding="utf-8")
    _fails_with(capsys, ["report", "--out", str(tmp_path / "r")], str(broken / "result.json"), "field")
