"""Stored scenario results as the report reads them: `result.json` validated at the boundary, and
the folders of a report directory that hold one.

The report never imports a story to read a result: `StoredResult` is the file's own shape (the
`ScenarioResult.to_json_dict` layout), so a result written by another version of the stories, or
copied from another machine, is read, matched and plotted the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from rustok_sim.scenarios.engine.result import RESULT_FORMAT

__all__ = ["ReportInputError", "StoredResult", "StoredRun", "StoredVerdict", "find_stored_runs", "read_result"]

VerdictStatus = Literal["pass", "fail", "known-defect"]


class ReportInputError(ValueError):
    """Input the report cannot use (a corrupt result, an unknown scenario, a folder it cannot
    write): one message naming the thing and the rule; the command line exits 2 with it."""


class StoredVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    invariant: str
    status: VerdictStatus
    detail: str
    spec: str | None = None


class StoredResult(BaseModel):
    """One `result.json`: which run (scenario, profile, seed, full config), what it measured,
    and its verdicts."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    format: Literal["rustok-sim-result"]
    version: int
    scenario: str
    profile: Literal["faithful", "hardened"]
    seed: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    verdicts: tuple[StoredVerdict, ...]

    @property
    def is_live(self) -> bool:
        """A run of ``rustok-sim live`` (its metrics have the ``live`` section): real services, so
        never a stand-in for a simulated run of the same config."""
        return isinstance(self.metrics.get("live"), dict)

    def matches(self, config: Mapping[str, Any], seed: int) -> bool:
        """The same run: equal config (every field, as JSON) and the same seed."""
        return self.seed == seed and self.config == dict(config)


class StoredRun(BaseModel):
    """A result and the folder it lives in (with its `trace.jsonl`)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    folder: Path
    result: StoredResult

    @property
    def trace_path(self) -> Path:
        return self.folder / "trace.jsonl"


def read_result(path: Path) -> StoredResult:
    """Read and validate one `result.json`; any problem is a `ReportInputError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                               f"delete it or the folder so the report runs it again") from None
    if not isinstance(data, dict) or data.get("format") != RESULT_FORMAT:
        raise ReportInputError(f"{path}: not a rustok-sim result (expected \"format\": \"{RESULT_FORMAT}\")")
    try:
        return StoredResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "result"
        raise ReportInputError(f"{path}: field {where!r}: {first['msg']} ({exc.error_count()} problem(s)); "
                               f"delete it or the folder so the report runs it again") from None


def find_stored_runs(directory: Path, max_depth: int = 3) -> Iterator[StoredRun]:
    """Every folder under `directory` (at most `max_depth` levels down) holding a `result.json`
    and its `trace.jsonl`, in path order. A `result.json` that does not read is an error, not a
    miss: reusing around it would silently hide a broken run."""
    if not directory.is_dir():
        return
    for depth in range(1, max_depth + 1):
        for path in sorted(directory.glob("/".join(["*"] * depth) + "/result.json")):
            result = read_result(path)
            if (path.parent / "trace.jsonl").is_file():
                yield StoredRun(folder=path.parent, result=result)
