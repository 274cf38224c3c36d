"""`ScenarioResult`: what a run gives back, and its two files, `result.json` and `trace.jsonl`.

`result.json` is byte-identical for the same config and seed: keys sorted, floats as Python
prints them (shortest repr, stable), non-finite numbers written as ``null`` (JSON has none), and
nothing about the machine or the wall clock in it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rustok_sim.conformance.invariants import Verdict
from rustok_sim.model.core.trace import TraceRecord
from rustok_sim.scenarios.engine.config import ScenarioConfig

__all__ = ["RESULT_FORMAT", "RESULT_FORMAT_VERSION", "ScenarioResult", "json_safe"]

RESULT_FORMAT: Final = "rustok-sim-result"
RESULT_FORMAT_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    config: ScenarioConfig
    seed: int
    metrics: Mapping[str, Any]
    verdicts: tuple[Verdict, ...]
    trace: Sequence[TraceRecord] | Path
    """The records the trace level kept: in memory, or the path of the `trace.jsonl` they were
    streamed to."""

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.status == "fail")

    @property
    def ok(self) -> bool:
        """No invariant failed (a known defect of the faithful profile is not a failure)."""
        return not self.failed

    def verdict(self, invariant: str) -> Verdict:
        for verdict in self.verdicts:
            if verdict.invariant == invariant:
                return verdict
        raise KeyError(f"no verdict for {invariant!r}; verdicts: {[v.invariant for v in self.verdicts]}")

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "version": RESULT_FORMAT_VERSION,
            "scenario": self.config.scenario,
            "profile": self.config.profile,
            "seed": self.seed,
            "config": self.config.model_dump(mode="json", by_alias=True),
            "metrics": json_safe(self.metrics),
            "verdicts": [v.as_dict() for v in self.verdicts],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), sort_keys=True, indent=2, allow_nan=False) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")


def json_safe(value: Any) -> Any:
    """Metrics as JSON can hold them: NaN and infinities become None, tuples lists, keys text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
