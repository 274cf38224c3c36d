"""Which scenario runs a report needs, which of them a report directory already holds, and the
job that runs a missing one.

A run is named by (catalog entry, overrides, profile, seed); its config is resolved exactly as
`rustok-sim run` resolves it, so a folder written by ``rustok-sim run NAME --out DIR/...`` is
reused when its config and seed match, whatever the folder is called. A run that is missing goes
to ``DIR/runs/<label>-<profile>-<seed>/`` with its `result.json` and `trace.jsonl`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rustok_sim.reports.results import ReportInputError, StoredRun, find_stored_runs, read_result
from rustok_sim.scenarios.engine.config import PROFILES, Profile

__all__ = ["PlannedRun", "RunRequest", "parse_profiles", "plan_runs", "run_scenario_job"]


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One run the report wants: a catalog entry with overrides (``--set`` syntax), a profile and
    a seed. `label` names it in the report (the entry, or a twin point such as ``mmck-lambda-5``)."""

    label: str
    entry: str
    profile: Profile
    seed: int = 1
    overrides: tuple[str, ...] = ()

    @property
    def folder_name(self) -> str:
        return f"{_slug(self.label)}-{self.profile}-{self.seed}"


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A request with its resolved config (as `result.json` writes it) and, when the directory
    already holds a matching run, that run."""

    request: RunRequest
    config: dict[str, Any]
    stored: StoredRun | None

    def target_folder(self, directory: Path) -> Path:
        return directory / "runs" / self.request.folder_name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)


def parse_profiles(text: str) -> tuple[Profile, ...]:
    """``faithful,hardened`` -> the profiles in that order; anything else names what is wrong."""
    names = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise ReportInputError(f"--profiles {text!r}: expected a comma-separated list of {', '.join(PROFILES)}")
    chosen: list[Profile] = []
    for name in names:
        if name not in PROFILES:
            raise ReportInputError(f"--profiles {text!r}: unknown profile {name!r}; profiles: {', '.join(PROFILES)}")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def _resolve_config(request: RunRequest) -> dict[str, Any]:
    from rustok_sim.scenarios.engine.loading import ConfigError, load_config

    try:
        config = load_config(request.entry, list(request.overrides), profile=request.profile)
    except ConfigError as exc:
        raise ReportInputError(str(exc)) from None
    dumped: dict[str, Any] = config.model_dump(mode="json", by_alias=True)
    return dumped


def plan_runs(requests: Sequence[RunRequest], directory: Path) -> list[PlannedRun]:
    """Resolve every request's config and match it against the runs stored under `directory`
    (a corrupt `result.json` there is a `ReportInputError`). A live run is never reused: it has the
    config of a simulated run but measured real services."""
    stored = [run for run in find_stored_runs(directory) if not run.result.is_live]
    planned = []
    for request in requests:
        config = _resolve_config(request)
        match = _first_match(stored, config, request.seed)
        planned.append(PlannedRun(request, config, match))
    return planned


def _first_match(stored: Iterable[StoredRun], config: dict[str, Any], seed: int) -> StoredRun | None:
    for run in stored:
        if run.result.matches(config, seed):
            return run
    return None


def run_scenario_job(entry: str, overrides: Sequence[str], profile: Profile, seed: int, folder: str) -> str:
    """Run one scenario into `folder` (result.json, trace.jsonl) and return the folder. Runs in a
    worker process: arguments and return value are plain data."""
    from rustok_sim.scenarios.engine.loading import load_config, story_named

    config = load_config(entry, list(overrides), profile=profile)
    story = story_named(config.scenario)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    result = story.run(config, seed, trace_path=out / "trace.jsonl")
    # result.json last: a folder with a result.json is a finished run (an interrupted one has none).
    partial = out / "result.json.partial"
    result.write(partial)
    partial.replace(out / "result.json")
    return folder


def load_run(folder: Path) -> StoredRun:
    """A finished run's folder, read back."""
    return StoredRun(folder=folder, result=read_result(folder / "result.json"))
