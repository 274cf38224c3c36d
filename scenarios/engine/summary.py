"""The terminal summary of a scenario run, as `rustok-sim run` and `rustok-sim live` print it: the
metrics that fit on one line, the verdicts, and where the files went. In `scenarios` (not the
command line's module) so that both commands can use it: the layers keep scenarios from
importing the command line."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rustok_sim.scenarios.engine.result import ScenarioResult

__all__ = ["metric_rows", "metric_text", "print_result"]

_COLOURS = {"pass": "green", "fail": "red", "known-defect": "yellow"}


def print_result(console: Console, name: str, result: ScenarioResult, out: Path, *, kind: str = "") -> None:
    """Print the run's summary; `kind` (e.g. "live") is said after the name."""
    said = f" {kind}" if kind else ""
    console.print(f"[bold]{escape(name)}[/bold]{said}: scenario {result.config.scenario}, profile "
                  f"{result.config.profile}, seed {result.seed}")
    metrics = Table(title="metrics", title_justify="left", show_header=False)
    metrics.add_column("metric")
    metrics.add_column("value")
    for key, value in metric_rows(result.metrics):
        text = metric_text(value)
        if text is not None:
            metrics.add_row(escape(key), escape(text))
    console.print(metrics)
    verdicts = Table(title="verdicts", title_justify="left")
    for column in ("invariant", "status", "spec", "detail"):
        verdicts.add_column(column)
    for verdict in result.verdicts:
        verdicts.add_row(escape(verdict.invariant), f"[{_COLOURS[verdict.status]}]{verdict.status}[/]",
                         escape(verdict.spec or ""), escape(verdict.detail))
    console.print(verdicts)
    console.print(f"wrote {escape(str(out / 'result.json'))} and {escape(str(out / 'trace.jsonl'))}")


def metric_rows(metrics: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """Each metric with its name; a section too big for one line (``mixed``: ``flood``,
    ``tenancy``; live: ``live``) is opened, one level deep, into ``section.metric`` rows."""
    rows: list[tuple[str, object]] = []
    for key, value in metrics.items():
        if key == "timelines":
            continue
        if isinstance(value, dict) and metric_text(value) is None and not prefix:
            rows.extend(metric_rows(value, f"{key}."))
        else:
            rows.append((prefix + key, value))
    return rows


def metric_text(value: object) -> str | None:
    """A metric in one short line, or None for what is too long to print (result.json has it)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (int, str, bool)) or value is None:
        return str(value)
    if isinstance(value, (list, tuple)) and len(value) <= 4 and all(isinstance(v, (int, float)) for v in value):
        return "[" + ", ".join(metric_text(v) or "" for v in value) + "]"
    if isinstance(value, dict) and len(value) <= 8 and all(isinstance(v, (int, float, str)) or v is None
                                                            for v in value.values()):
        return ", ".join(f"{k}={metric_text(v)}" for k, v in value.items())
    return None
