"""`rustok-sim report`: the reliability report from the command line, with a progress bar while
it runs and a summary in the terminal at the end. Bad input (an unknown scenario, bad
--profiles, an --out that cannot be written, a corrupt stored result) is one line and exit 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["report"]


class ReportUsageError(click.ClickException):
    exit_code = 2


class _RichProgress:
    """`ReportProgress` on a rich progress bar: one task per phase."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def phase(self, name: str, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(name, total=max(total, 1), completed=0 if total else 1, step="")

    def advance(self, label: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, step=label)


@click.command("report")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME",
              help="A catalog entry to include (repeatable; default: every entry).")
@click.option("--profiles", "profiles_text", default="faithful,hardened", show_default=True, metavar="P,P",
              help="Profiles to run each entry under, comma-separated.")
@click.option("--out", "out_name", default="results/report", show_default=True, metavar="DIR",
              help="Where the report goes; runs already stored there with the same config and seed are reused.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Seed of every run.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes for the runs (default: 2, or 1 on a single core).")
@click.option("--live-result", "live_results", multiple=True, metavar="DIR",
              help="A 'rustok-sim live' run (its --out folder or result.json) to compare with its calibrated "
                   "simulation; repeatable. Live runs under DIR/live/ are included anyway.")
def report(scenarios: tuple[str, ...], profiles_text: str, out_name: str, seed: int, workers: int | None,
           live_results: tuple[str, ...]) -> None:
    """Run the catalog (reusing stored runs), the analytic-twin validation and the ci conformance
    profile; write DIR/index.html (self-contained), summary.json, and every figure as PNG and SVG."""
    from rustok_sim.reports.catalog_runs import parse_profiles
    from rustok_sim.reports.report import ReportOptions, build_report, default_workers
    from rustok_sim.reports.results import ReportInputError

    started = time.perf_counter()
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    try:
        options = ReportOptions(out=Path(out_name), scenarios=scenarios or None, profiles=parse_profiles(profiles_text),
                                seed=seed, workers=workers or default_workers(),
                                live_results=tuple(Path(p) for p in live_results))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[step]}"), console=console, transient=True,
                      disable=not console.is_terminal) as bar:
            outcome = build_report(options, _RichProgress(bar))
    except ReportInputError as exc:
        raise ReportUsageError(str(exc)) from None
    elapsed = time.perf_counter() - started
    _print_summary(console, outcome.summary, outcome.ran, outcome.reused)
    console.print(f"wrote {escape(str(outcome.index))}, {escape(str(outcome.summary_path))} and "
                  f"{len(outcome.figures)} figure files in {elapsed:.1f} s "
                  f"({outcome.ran} run(s) made, {outcome.reused} reused)")


def _print_summary(console: Console, summary: dict[str, object], ran: int, reused: int) -> None:
    from rustok_sim.reports.html import number  # counts as the page writes them (2^64 - 1 exactly)

    colours = {"pass": "green", "fail": "red", "known-defect": "yellow"}
    table = Table(title="reliability report", title_justify="left")
    table.add_column("scenario")
    profiles = list(summary["profiles"])  # type: ignore[call-overload]
    for profile in profiles:
        table.add_column(profile)
    by_entry: dict[str, dict[str, list[dict[str, str]]]] = {}
    for run in summary["runs"]:  # type: ignore[attr-defined]
        by_entry.setdefault(run["entry"], {})[run["profile"]] = run["verdicts"]
    for entry, runs in by_entry.items():
        cells = []
        for profile in profiles:
            verdicts = runs.get(profile, [])
            bad = [f"[{colours[v['status']]}]{escape(v['invariant'])}[/]" for v in verdicts if v["status"] != "pass"]
            cells.append(", ".join(bad) if bad else f"[green]all {len(verdicts)} pass[/]")
        table.add_row(escape(entry), *cells)
    console.print(table)
    costs = summary["costs"]
    lines = []
    for entry, rows in costs.items():  # type: ignore[attr-defined]
        worse = [f"{row['measure']} {number(row['faithful'])} vs {number(row['hardened'])}" for row in rows
                 if row["faithful_worse"]]
        if worse:
            lines.append(f"  {escape(entry)}: " + "; ".join(escape(w) for w in worse))
    if lines:
        console.print("[bold]faithful against hardened[/] (where faithful does worse):")
        for line in lines:
            console.print(line)
    console.print(escape(str(summary["twin"]["statement"])))  # type: ignore[index]
    _print_live(console, summary["live"])  # type: ignore[arg-type]
    suites = summary["conformance"]["suites"]  # type: ignore[index]
    statuses = [s["status"] for s in suites]
    console.print(f"conformance ({summary['conformance']['profile']}): "  # type: ignore[index]
                  f"{statuses.count('conformant')} of {len(statuses)} suite runs conformant"
                  + (f", {statuses.count('inconclusive')} inconclusive" if "inconclusive" in statuses else "")
                  + (f", [red]{statuses.count('violation')} violation(s)[/]" if "violation" in statuses else ""))
    curves = summary["curves"]
    if not curves["included"]:  # type: ignore[index]
        console.print(f"[yellow]{escape(str(curves['note']))}[/]")  # type: ignore[index]
    elif curves["recommendation"]:  # type: ignore[index]
        # The curves' sentence says the setting first; the rest (feasible set, costs) is on the page.
        first = str(curves["recommendation"]).split(". ")[0]  # type: ignore[index]
        console.print(f"breaker operating curves: {escape(first)}.")


def _print_live(console: Console, live: dict[str, object]) -> None:
    """One line per live result: the outcome counts and the times, live against simulated."""
    results = live["results"]
    if not results:
        console.print(escape(str(live["note"])))
        return
    wanted = ("http 500", "time_to_open", "time_to_recover", "zombies", "duplicates")
    for result in results:  # type: ignore[attr-defined]
        rows = [m for m in result["metrics"] if m["metric"].split(".")[-1] in wanted and m["live"] is not None]
        parts = [f"{m['metric']} {m['live']:.4g} vs {m['simulated']:.4g}" if m["simulated"] is not None
                 else f"{m['metric']} {m['live']:.4g} vs -" for m in rows]
        console.print(f"live vs simulated, {escape(result['name'])}: " + "; ".join(escape(p) for p in parts)
                      + (" [yellow](the live run fell behind the wall clock)[/]" if result["warning"] else ""))
