"""The command line: its commands work, and user errors are one line with the right exit status."""

from __future__ import annotations

import json

import pytest

from rustok_sim import __version__
from rustok_sim.cli import main
from rustok_sim.model.core.tracefile import read_jsonl


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rustok-sim {__version__}"


def test_help_and_bare_invocation(capsys):
    assert main(["--help"]) == 0
    assert "trace-schema" in capsys.readouterr().out
    assert main([]) == 0
    assert "Usage:" in capsys.readouterr().out


@pytest.mark.parametrize("argv, fragment", [
    (["teleport"], "No such command 'teleport'"),
    (["demo", "--nope"], "No such option '--nope'"),
    (["trace-check"], "Missing argument"),
])
def test_usage_errors_are_one_line_with_status_2(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rustok-sim: error: ")
    assert fragment in err
    assert "Traceback" not in err


def test_trace_schema_prints_json(capsys):
    assert main(["trace-schema"]) == 0
    assert "TraceRecord" in json.loads(capsys.readouterr().out)["$defs"]


def test_demo_writes_a_valid_trace_with_the_faithful_defects(tmp_path, capsys):
    path = tmp_path / "demo.jsonl"
    assert main(["demo", "--quiet", "--trace", str(path)]) == 0
    trace = read_jsonl(path)
    anomalies = {r.anomaly for r in trace.records if r.kind == "anomaly"}
    assert {"release_at_zero", "counter_wrap"} <= anomalies
    out = capsys.readouterr().out
    assert "half_open" in out  # CB-B sticks half-open under success_threshold=5
    assert main(["trace-check", str(path)]) == 0


def test_trace_check_bad_file_is_one_line_with_status_1(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "rustok-sim-trace", "version": 2}\n{"kind": "sample"}\n')
    assert main(["trace-check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"rustok-sim: error: {bad}:2: ") and err.count("\n") == 1


def test_demo_prints_tenant_instances_with_their_brackets(capsys):
    """Tenant instances read like `tenants-v1[slug:acme]`: rich must not take the brackets as markup."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "[slug:" in out or "[host:" in out or "[uuid:" in out, "bracketed instance names were eaten"


def test_demo_checks_its_output_path_before_running(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "dir" / "t.jsonl"
    assert main(["demo", "--trace", str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "", "the demo ran before the output path was checked"
    assert "does not exist" in captured.err and captured.err.count("\n") == 1


def test_trace_check_streams_and_never_prints_a_traceback(tmp_path, capsys):
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"format": "rustok-sim-trace", "version": 2}\n' + "[" * 50_000 + "]" * 50_000 + "\n")
    assert main(["trace-check", str(deep)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{deep}:2:" in err and "nested too deeply" in err


def test_trace_check_summarises_by_kind_and_component(tmp_path, capsys):
    path = tmp_path / "demo.jsonl"
    assert main(["demo", "--quiet", "--trace", str(path)]) == 0
    capsys.readouterr()
    assert main(["trace-check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid rustok-sim trace v2" in out and "by component:" in out and "circuit_breaker" in out


def test_a_directory_or_a_missing_trace_is_bad_input_with_status_1(tmp_path, capsys):
    assert main(["trace-check", str(tmp_path)]) == 1
    assert "it is a directory" in capsys.readouterr().err
    assert main(["trace-check", str(tmp_path / "nofile.jsonl")]) == 1
    err = capsys.readouterr().err
    assert ":0:" not in err and "No such file" in err
    assert main(["trace-schema", "-o", str(tmp_path)]) == 1
    assert "it is a directory" in capsys.readouterr().err


def test_trace_check_reads_stdin(monkeypatch, capsys):
    import io as io_module
    import sys as sys_module

    data = b'{"format": "rustok-sim-trace", "version": 2}\n{"kind": "fault", "seq": 1, "t": 0, ' \
           b'"fault": "f", "phase": "start", "target": "x"}\n'
    monkeypatch.setattr(sys_module, "stdin", io_module.TextIOWrapper(io_module.BytesIO(data)))
    assert main(["trace-check", "-"]) == 0
    assert capsys.readouterr().out.startswith("<stdin>: valid rustok-sim trace v2: 1 fault")


def test_an_empty_output_name_is_refused_and_nothing_is_created(tmp_path, capsys, monkeypatch):
    assert main(["trace-schema", "-o", ""]) == 1
    assert "output file name is empty" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--trace", "no/dir/t.jsonl"]) == 1
    capsys.readouterr()
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_names_the_file(capsys):
    import os as os_module

    if not os_module.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    assert main(["trace-schema", "-o", "/dev/full"]) == 1
    err = capsys.readouterr().err
    assert "/dev/full" in err and "No space left" in err and err.count("\n") == 1


def test_a_closed_pipe_ends_quietly_and_python_dash_m_works(tmp_path):
    import subprocess
    import sys as sys_module

    proc = subprocess.run(f"{sys_module.executable} -m rustok_sim demo | head -1", shell=True,
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.stdout.count("\n") == 1 and "Traceback" not in proc.stderr and proc.stderr == ""


def test_demo_shows_each_key_once_unless_asked_for_all(capsys):
    assert main(["demo"]) == 0
    short = capsys.readouterr().out
    assert main(["demo", "--all"]) == 0
    full = capsys.readouterr().out
    assert "more per-key transitions" in short and "more per-key transitions" not in full
    assert short.count("tenants-v1[slug:acme]") == 1 and full.count("tenants-v1[slug:acme]") > 1
    assert "CB-A" in short  # the caption that explains the standalone breaker's 0 transitions
