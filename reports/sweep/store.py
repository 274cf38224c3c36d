"""`results.csv`, one row per run (the swept fields, the seed, every metric), and `sweep.json`,
what the rows are runs of (the scenario, the base config, the swept fields).

The file is safe to interrupt at any moment: each finished run is appended as one line, flushed
and fsynced before the next result is taken, and anything that rewrites the file (a run that
brings a new metric column; the sorted rewrite at the end) writes a temporary file and renames it
over the old one. A line a crash cut in half (no newline at the end of the file) is dropped on
reading, and that run is done again. So an interrupted sweep loses at most the runs in flight.

Cells: integers as digits, floats in their shortest round-trip form, ``nan`` for a metric the run
reported without a value, empty for one it did not report (a status code no request got). Rows
end sorted by point (grid order) then seed, so the same sweep gives the same bytes whatever ran it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from rustok_sim.reports.sweep.errors import SweepError

__all__ = ["MANIFEST_FORMAT", "ResultsStore", "RowKey", "atomic_write_text", "check_manifest"]

MANIFEST_FORMAT: Final = "rustok-sim-sweep"
RowKey = tuple[tuple[str, ...], int]
"""A run's identity in the file: its field cells (as written) and its seed."""


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` all at once: a reader (or a crash) sees the old file or the
    new one, never half of either."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_manifest(directory: Path, manifest: Mapping[str, Any]) -> None:
    """Write `sweep.json`, or, when the folder already holds one, check that it describes the
    same sweep (scenario, base config, swept fields): resuming someone else's rows would mix two
    experiments in one table. More points or seeds on the same fields is the same sweep."""
    path = directory / "sweep.json"
    if path.exists():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SweepError(f"{path}: not a readable sweep manifest ({exc}); use another --out") from None
        for key, what in (("base_config", "base config (scenario and --set overrides)"), ("fields", "swept fields")):
            if existing.get(key) != json.loads(json.dumps(manifest[key])):
                raise SweepError(f"{directory} holds a sweep with different {what}: {_describe(existing.get(key))}; "
                                 f"use another --out, or delete {path.name} and results.csv to start again")
    atomic_write_text(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _describe(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def format_metric(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return "nan" if math.isnan(value) else repr(float(value))


def parse_metric(cell: str) -> float | None:
    if cell == "":
        return None
    try:
        return int(cell)
    except ValueError:
        return float(cell)


class ResultsStore:
    """The rows of one sweep's `results.csv`, in memory and on disk.

    `fields` are the swept fields (the first columns, then ``seed``); metric columns are the
    union of every run's metric names, sorted."""

    def __init__(self, directory: Path, fields: Sequence[str]) -> None:
        self.path = directory / "results.csv"
        self.fields = tuple(fields)
        self.metric_names: list[str] = []
        self.rows: dict[RowKey, dict[str, float]] = {}
        self.dropped = 0
        """Lines of an existing file that could not be read (a line cut short by a crash)."""

    # -- reading ------------------------------------------------------------------------

    def load(self) -> None:
        """Read the runs an earlier (perhaps interrupted) sweep left; rewrite the file without
        any cut-short line so that appends start on a clean line."""
        if not self.path.exists():
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SweepError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines.pop()  # written halfway when the sweep stopped: that run is done again
            self.dropped += 1
        reader = csv.reader(io.StringIO("".join(lines)))
        header = next(reader, None)
        if header is None:
            return
        expected = [*self.fields, "seed"]
        if header[:len(expected)] != expected:
            raise SweepError(f"{self.path}: its first columns are {', '.join(header[:len(expected)])}, "
                             f"this sweep's are {', '.join(expected)}; use another --out")
        names = header[len(expected):]
        for cells in reader:
            if len(cells) != len(header):
                self.dropped += 1
                continue
            try:
                seed = int(cells[len(self.fields)])
                metrics = {name: value for name, cell in zip(names, cells[len(expected):])
                           if (value := parse_metric(cell)) is not None}
            except ValueError:
                self.dropped += 1
                continue
            self.rows[(tuple(cells[:len(self.fields)]), seed)] = metrics
        self.metric_names = sorted(set(names))
        self._rewrite(sort=False)

    # -- writing ------------------------------------------------------------------------

    def add(self, cells: Sequence[str], seed: int, metrics: Mapping[str, float]) -> None:
        """Record one finished run, on disk before this returns."""
        key: RowKey = (tuple(cells), seed)
        self.rows[key] = dict(metrics)
        new = set(metrics) - set(self.metric_names)
        if new or not self.path.exists():
            # A new column changes the header: rewrite everything (atomically) with it.
            self.metric_names = sorted(set(self.metric_names) | new)
            self._rewrite(sort=False)
            return
        with self.path.open("a", encoding="utf-8", newline="") as file:
            file.write(self._line(key))
            file.flush()
            os.fsync(file.fileno())

    def finish(self, order: Iterable[RowKey]) -> None:
        """Rewrite the file with its rows in `order` (then any rows of points no longer in the
        grid, sorted), the form a finished sweep leaves."""
        self._rewrite(sort=True, order=list(order))

    def _line(self, key: RowKey) -> str:
        cells, seed = key
        metrics = self.rows[key]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            [*cells, seed, *(format_metric(metrics.get(name)) for name in self.metric_names)])
        return buffer.getvalue()

    def _rewrite(self, *, sort: bool, order: Sequence[RowKey] = ()) -> None:
        keys = list(self.rows)
        if sort:
            wanted = [key for key in order if key in self.rows]
            chosen = set(wanted)
            keys = wanted + sorted(key for key in self.rows if key not in chosen)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([*self.fields, "seed", *self.metric_names])
        text = buffer.getvalue() + "".join(self._line(key) for key in keys)
        atomic_write_text(self.path, text)
