"""`rustok-sim run` on a toy story: files written, exit status from the verdicts, --json, errors."""

from __future__ import annotations

import json
import sys
import types
from typing import Literal

import pytest
from pydantic import Field

from rustok_sim.cli import main
from rustok_sim.conformance.invariants import Verdict
from rustok_sim.model.core.tracefile import read_jsonl
from rustok_sim.scenarios.engine import loading
from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.story import Story


class ToyConfig(ScenarioConfig):
    scenario: Literal["toy"] = "toy"
    broken: bool = False
    events: int = Field(3, ge=1)


def drive(world, config):
    rng = world.rng("toy")
    draws = []

    def process():
        for _ in range(config.events):
            yield world.env.timeout(rng.random())
            draws.append(world.env.now)
            world.instant_fault("toy_fault", "toy", {"n": len(draws)})

    world.env.process(process())
    world.run(until=100.0)
    return {"draws": draws, "events": config.events}


def judge(config, metrics):
    status = "fail" if config.broken else "pass"
    return [Verdict("toy_invariant", status, f"broken={config.broken}")]


@pytest.fixture(autouse=True)
def toy_story(monkeypatch):
    module = types.ModuleType("rustok_sim_toy_cli_story")
    module.STORY = Story("toy", "a toy", ToyConfig, drive, lambda config: [], judge)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(loading.STORY_MODULES, "toy", module.__name__)


@pytest.fixture()
def toy_file(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text('scenario = "toy"\ndescription = "a toy"\n')
    return path


def test_run_writes_both_files_and_exits_0(tmp_path, toy_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(toy_file), "--seed", "4", "--out", str(out), "--trace-level", "full"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["seed"] == 4 and result["config"]["trace_level"] == "full"
    assert len(read_jsonl(out / "trace.jsonl").records) == 3
    printed = capsys.readouterr().out
    assert "toy_invariant" in printed and "pass" in printed


def test_run_json_prints_the_result_and_a_failed_invariant_exits_1(tmp_path, toy_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(toy_file), "--set", "broken=true", "--json", "--out", str(out)]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((out / "result.json").read_text())
    assert printed["verdicts"] == [{"invariant": "toy_invariant", "status": "fail", "detail": "broken=True",
                                    "spec": None}]


def test_same_seed_same_bytes(tmp_path, toy_file):
    for name in ("a", "b"):
        assert main(["run", str(toy_file), "--seed", "9", "--out", str(tmp_path / name), "--json"]) == 0
    for file in ("result.json", "trace.jsonl"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize("argv, fragment", [
    (["--set", "event=3"], "unknown field 'event'; did you mean 'events'?"),
    (["--set", "events=0"], "field 'events': Input should be greater than or equal to 1"),
    (["--set", "events=many"], "field 'events': Input should be a valid integer"),
    (["--seed", "-1"], "-1 is not in the range x>=0"),
    (["--profile", "strong"], "'strong' is not one of 'faithful', 'hardened'"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, toy_file, capsys, argv, fragment):
    assert main(["run", str(toy_file), "--out", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_toml_syntax_error_names_the_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('scenario = "toy"\nevents = ]\ndescription = "x"\n')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "TOML syntax error" in err and "line" in err


def test_out_that_is_a_file_is_refused(tmp_path, toy_file, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", str(toy_file), "--out", str(blocker)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
