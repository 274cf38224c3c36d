"""Threshold sweeps: a scenario over a grid of config values and seeds, on local processes or
Dask distributed, to `results.csv`, per-point 95% intervals, figures and a recommendation.

The public surface (what a report or a notebook uses):

- `run_sweep(target, grid, seeds=..., objectives=..., constraints=..., out=..., executor=...)`
  runs (or resumes) a sweep and returns a `SweepResult`;
- `make_executor` / `LocalExecutor` / `DaskExecutor` choose where runs execute;
- `sweep_figures(result)` gives the figures by name (matplotlib `Figure`s, nothing re-run),
  `save_sweep_figures(result)` writes them as PNG and SVG;
- `SweepError` is every mistake a user can fix (the command line exits 2 with its message).

Modules: `grid` (axes and points), `runs` (one run's payload), `executors`, `store`
(results.csv), `stats` (t-intervals), `objective` (objectives, constraints, the
recommendation), `runner` (`run_sweep`), `plots`, `cli` (``rustok-sim sweep``).
"""

from rustok_sim.reports.sweep.errors import SweepError
from rustok_sim.reports.sweep.executors import DaskExecutor, LocalExecutor, make_executor
from rustok_sim.reports.sweep.grid import Axis, Point, parse_axis
from rustok_sim.reports.sweep.objective import Constraint, Goal, Recommendation, parse_constraint, parse_goal
from rustok_sim.reports.sweep.runner import SweepResult, run_sweep
from rustok_sim.reports.sweep.stats import MetricSummary, PointSummary

__all__ = ["Axis", "Constraint", "DaskExecutor", "Goal", "LocalExecutor", "MetricSummary", "Point", "PointSummary",
           "Recommendation", "SweepError", "SweepResult", "make_executor", "parse_axis", "parse_constraint",
           "parse_goal", "run_sweep", "save_sweep_figures", "sweep_figures"]


def __getattr__(name: str) -> object:
    # The figures pull in matplotlib (a second of import); a worker process never needs them.
    if name in ("sweep_figures", "save_sweep_figures"):
        from rustok_sim.reports.sweep import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
