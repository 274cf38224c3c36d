"""One run of a sweep, as it travels to a worker and back: a `RunTask` (the config as a plain
JSON dict and a seed, a few kilobytes, picklable by any executor) in, a flat dict of numeric
metrics out.

The worker rebuilds and revalidates the config, runs the story with the trace in memory at the
config's trace level (the sweep sets ``summary``, the smallest: no trace file, no per-decision
records kept), and keeps only the metrics a table can hold: nested sections become dotted names
(``http_status_counts.500``, ``breakers.redis.negative.total_rejected``), booleans become 0/1,
``None`` becomes NaN, and series (``timelines``, per-interval lists) and words
(``resolver_variant``) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RunTask", "flatten_metrics", "run_task"]

_SERIES = frozenset({"timelines"})


@dataclass(frozen=True, slots=True)
class RunTask:
    """What a worker needs for one run: the full config (``model_dump(mode="json",
    by_alias=True)``) and the seed. `key` is the sweep's own label for the run, returned
    untouched so results can come back in any order."""

    key: tuple[int, int]
    """(point index in the grid, seed)."""
    config: Mapping[str, Any]
    seed: int


def run_task(task: RunTask) -> tuple[tuple[int, int], dict[str, float]]:
    """Run one (config, seed) and return its key with the flattened metrics. Deterministic: the
    same task gives the same dict in any process on any machine with the same code."""
    from rustok_sim.scenarios.engine.loading import build_config, story_named

    config = build_config(task.config, "sweep run")
    result = story_named(config.scenario).run(config, task.seed)
    return task.key, flatten_metrics(result.metrics)


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric metrics under dotted names (see the module docstring for what is kept)."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if not prefix and key in _SERIES:
            continue
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, bool):
            flat[name] = float(value)
        elif isinstance(value, int):
            flat[name] = value  # counts stay exact integers in the table
        elif isinstance(value, float):
            flat[name] = value if math.isfinite(value) else math.nan
        elif value is None:
            flat[name] = math.nan
    return flat
