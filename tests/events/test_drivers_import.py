"""The test driver module imports under both ways of running pytest, from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests/events/test_dispatcher.py::test_run_until_idle_jumps_the_clock_over_retry_delays"


@pytest.mark.parametrize("runner", ["python -m pytest", "pytest script"])
def test_drivers_import_with_either_runner_outside_the_repository(runner: str, tmp_path: Path) -> None:
    # From a directory that is not the repository, so the cwd on sys.path cannot be what helps.
    script = Path(sys.executable).with_name("pytest")
    if runner == "pytest script" and not script.exists():
        pytest.skip(f"no pytest script next to {sys.executable}")
    command = [sys.executable, "-m", "pytest"] if runner == "python -m pytest" else [str(script)]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([*command, "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                           "-c", str(ROOT / "pyproject.toml"), str(ROOT / PROBE)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
