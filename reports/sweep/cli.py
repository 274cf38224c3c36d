"""``rustok-sim sweep``: the command line of `run_sweep`. Thin: parses options, shows a progress
bar, prints the recommendation and a table of the points; every `SweepError` is one line and
exit status 2."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rustok_sim.reports.sweep.errors import SweepError
from rustok_sim.reports.sweep.executors import DEFAULT_CONNECT_TIMEOUT, DaskExecutor, LocalExecutor, make_executor
from rustok_sim.reports.sweep.grid import format_value
from rustok_sim.reports.sweep.runner import ProgressHook, SweepResult, run_sweep
from rustok_sim.reports.sweep.stats import MetricSummary

__all__ = ["sweep"]

_TABLE_ROWS = 25


class SweepUsageError(click.ClickException):
    """A sweep that cannot run as asked: one line, exit status 2."""

    exit_code = 2


@click.command("sweep")
@click.argument("target", metavar="NAME|FILE.toml")
@click.option("--grid", "grids", multiple=True, metavar="FIELD=START:STOP:STEP|V1,V2,...",
              help="A swept field and its values (stop included), e.g. traffic.breaker.timeout=2:20:2 or "
                   "profile=faithful,hardened. Repeatable: the sweep runs every combination.")
@click.option("--random", "sample", type=int, metavar="N",
              help="Run N points drawn at random from the grid instead of all of it.")
@click.option("--random-seed", "sample_seed", type=int, default=1, show_default=True,
              help="Seed of the --random draw (the same seed draws the same points).")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs per point, with seeds 1..K; the 95% intervals are over these.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the CPUs this process may use).")
@click.option("--dask", "dask_address", metavar="local|tcp://HOST:PORT",
              help="Run on Dask distributed: 'local' starts a LocalCluster of --workers processes; an address "
                   "connects to that scheduler.")
@click.option("--connect-timeout", type=click.FloatRange(min=0.1), default=DEFAULT_CONNECT_TIMEOUT, show_default=True,
              help="Seconds to wait for a --dask scheduler before giving up.")
@click.option("--objective", "objectives", multiple=True, metavar="min:METRIC|max:METRIC",
              help="What to optimize (a bare METRIC is minimized). Twice: also a Pareto front of the two.")
@click.option("--constraint", "constraints", multiple=True, metavar="METRIC<=VALUE",
              help="A limit a recommended setting must keep (<=, <, >=, >). Repeatable.")
@click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE",
              help="Override a config field for every run (as `rustok-sim run --set`). Repeatable.")
@click.option("--out", "out_name", type=str, metavar="DIR",
              help="Where results.csv, the summaries and figures go (default: results/sweep-<name>). "
                   "Runs already there are not redone.")
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
def sweep(target: str, grids: tuple[str, ...], sample: int | None, sample_seed: int, seeds: int,
          workers: int | None, dask_address: str | None, connect_timeout: float, objectives: tuple[str, ...],
          constraints: tuple[str, ...], overrides: tuple[str, ...], out_name: str | None, no_plots: bool) -> None:
    """Sweep config fields of a scenario over a grid and seeds: results.csv (one row per run),
    summary.csv (per point, 95% intervals), figures, and a recommendation of the setting that
    meets the constraints with the most margin. Exit 2 for a bad grid, field, metric or scheduler."""
    name = Path(target).stem if target.endswith(".toml") else target
    out = Path(out_name) if out_name is not None else Path("results") / f"sweep-{name}"
    if out.exists() and not out.is_dir():
        raise SweepUsageError(f"--out {out}: exists and is not a directory")
    if dask_address is not None and dask_address != "local" and workers is not None:
        raise SweepUsageError("--workers applies to local processes and --dask local; a remote scheduler has its own workers")
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    executor: LocalExecutor | DaskExecutor | None = None
    try:
        # Executors start nothing until the first run: run_sweep validates every point first.
        executor = make_executor(workers, dask_address, connect_timeout)
        result = _run_with_progress(console, executor, target, grids, sample, sample_seed, seeds, overrides,
                                    objectives, constraints, out)
        figures: list[Path] = []
        if not no_plots:
            from rustok_sim.reports.sweep.plots import save_sweep_figures

            figures = save_sweep_figures(result)
    except SweepError as exc:
        raise SweepUsageError(str(exc)) from None
    except KeyboardInterrupt:
        console.print(f"interrupted: every finished run is in {escape(str(out / 'results.csv'))}; "
                      f"run the same command again to resume")
        raise click.exceptions.Exit(130) from None
    finally:
        if executor is not None:
            executor.close()
    _print_result(console, result, executor.description, figures)


def _run_with_progress(console: Console, executor: LocalExecutor | DaskExecutor, target: str, grids: tuple[str, ...],
                       sample: int | None, sample_seed: int, seeds: int, overrides: tuple[str, ...],
                       objectives: tuple[str, ...], constraints: tuple[str, ...], out: Path) -> SweepResult:
    def sweep_with(progress: ProgressHook | None) -> SweepResult:
        return run_sweep(target, grids, seeds=seeds, sample=sample, sample_seed=sample_seed, overrides=overrides,
                         objectives=objectives, constraints=constraints, out=out, executor=executor,
                         progress=progress)

    if not sys.stdout.isatty():
        return sweep_with(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    # Fits 80 columns: where the runs go is said once the sweep has finished.
    columns = (TextColumn("{task.description}"), BarColumn(bar_width=20), TextColumn("{task.fields[points]}"),
               TextColumn("runs {task.completed}/{task.total}"), TimeElapsedColumn(), TextColumn("left"),
               TimeRemainingColumn(compact=True))
    with Progress(*columns, console=console, transient=True) as bar:
        task = None

        def show(runs_done: int, runs_total: int, points_done: int, points_total: int) -> None:
            nonlocal task
            points = f"points {points_done}/{points_total}"
            if task is None:  # the runs an earlier sweep did are not counted in the speed
                task = bar.add_task(f"sweep {escape(Path(target).stem)}", total=runs_total, completed=runs_done,
                                    points=points)
            else:
                bar.update(task, completed=runs_done, points=points)

        return sweep_with(show)


def _cell(summary: MetricSummary) -> str:
    if math.isnan(summary.mean):
        return "-"
    return f"{summary.mean:.4g}" if math.isnan(summary.half_width) else f"{summary.mean:.4g} ± {summary.half_width:.2g}"


def _print_result(console: Console, result: SweepResult, where: str, figures: list[Path]) -> None:
    console.print(f"[bold]sweep {escape(result.target)}[/bold]: {len(result.summaries)} points x "
                  f"{len(result.seeds)} seeds; {result.executed} runs on {escape(where)}, {result.reused} already done")
    named = list(dict.fromkeys([g.metric for g in result.goals] + [c.metric for c in result.constraints]))
    if named:
        chosen = result.recommendation.summary
        table = Table(title="points (mean ± 95% half-width)", title_justify="left")
        for field in result.fields:
            table.add_column(escape(field))
        for metric in named:
            table.add_column(escape(metric))
        table.add_column("")
        shown = list(result.summaries)
        if len(shown) > _TABLE_ROWS:
            goal = result.goals[0] if result.goals else None
            if goal is not None:
                shown.sort(key=lambda s: (math.isnan(s.metrics[goal.metric].mean),
                                          s.metrics[goal.metric].mean * (1 if goal.direction == "min" else -1)))
            shown = sorted(shown[:_TABLE_ROWS], key=lambda s: s.point.index)
        for summary in shown:
            mark = "[green]recommended[/]" if chosen is not None and summary.point == chosen.point else ""
            table.add_row(*(escape(format_value(v)) for v in summary.point.values),
                          *(escape(_cell(summary.metrics[m])) for m in named), mark)
        console.print(table)
        if len(result.summaries) > len(shown):
            console.print(f"(the {len(shown)} best of {len(result.summaries)} points; summary.csv has them all)")
    console.print(escape(result.recommendation.text))
    files = ["results.csv", "summary.csv", "summary.json", "recommendation.txt"]
    console.print(f"wrote {', '.join(files)} to {escape(str(result.directory))}"
                  + (f" and {len(figures)} figure files to {escape(str(result.directory / 'figures'))}" if figures else ""))
