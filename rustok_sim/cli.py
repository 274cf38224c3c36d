"""`rustok-sim`: the command line. Thin: parses, calls model/scenarios/..., renders.

User errors (unknown command, bad option, bad config or trace file) end in one line on stderr
(``rustok-sim: error: ...``) and exit status 2 for usage, 1 for bad input data; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rustok_sim import __version__
from rustok_sim.model.core.trace import Anomaly, Transition
from rustok_sim.model.core.tracefile import TraceFormatError, iter_jsonl, trace_json_schema, write_jsonl

_NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2


class InputError(click.ClickException):
    """Bad input data (a file, a config): reported in one line, exit status 1."""


def _console() -> Console:
    # Wide enough for the summary tables when output is piped (rich assumes 80 columns then).
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


@click.group(name="rustok-sim", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rustok-sim", message="%(prog)s %(version)s")
def app() -> None:
    """Simulation and conformance harness for RusToK's resilience layer."""


@app.command("trace-schema")
@click.option("--output", "-o", "output_name", type=str, metavar="FILE",
              help="Write to this file instead of stdout.")
def trace_schema(output_name: str | None) -> None:
    """Print the JSON Schema of one trace line (header or record)."""
    text = json.dumps(trace_json_schema(), indent=2, sort_keys=True) + "\n"
    output = _writable_output(output_name)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_text(output, text)


def _writable_output(raw: str | None) -> Path | None:
    """The output path, checked before any work: an empty name, a missing folder, a folder or
    no permission fails now instead of after a whole run. Creates nothing."""
    if raw is None:
        return None
    if not raw.strip():
        raise InputError("the output file name is empty")
    path = Path(raw)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(path if path.exists() else parent, os.W_OK):
        raise InputError(f"cannot write {path}: permission denied")
    return path


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


@app.command("trace-check")
@click.argument("path", type=click.Path(path_type=Path))
def trace_check(path: Path) -> None:
    """Validate a JSON Lines trace file (streamed, one line at a time; `-` reads stdin) and print
    what it holds, per record kind and component."""
    meta: dict[str, object] = {}
    counts: dict[str, int] = {}
    components: dict[str, int] = {}
    try:
        for record in iter_jsonl(path, meta_out=meta):
            counts[record.kind] = counts.get(record.kind, 0) + 1
            component = getattr(record, "component", None)
            if component is not None:
                components[component] = components.get(component, 0) + 1
    except TraceFormatError as exc:
        raise InputError(str(exc)) from None
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no records"
    shown = "<stdin>" if str(path) == "-" else path
    click.echo(f"{shown}: valid rustok-sim trace v{meta['version']}: {summary}")
    if components:
        click.echo("  by component: " + ", ".join(f"{name} {n}" for name, n in sorted(components.items())))


@app.command("check-trace")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["trace", "rustok-log"]), default="trace", show_default=True,
              help="trace: a rustok-sim JSON Lines trace; rustok-log: RusToK's tracing output (text or JSON).")
@click.option("--variant", "variants", multiple=True, metavar="[C=]V",
              help="The variant a component ran (repeatable), e.g. circuit_breaker=standalone; a bare V applies "
                   "to every component that has it. Default: the trace header's, else the faithful profile.")
def check_trace(path: Path, fmt: str, variants: tuple[str, ...]) -> None:
    """Check a trace: every line, every transition against its table, the invariants, and a replay
    of recorded inputs through the reference. Exit 0 all passed, 1 a violation, 2 malformed input
    (every malformed line is listed; the rest is still checked) or a usage error."""
    from rustok_sim.conformance.trace_checker import TraceCheckUsageError, check_trace_file

    try:
        report = check_trace_file(path, fmt, variants)  # type: ignore[arg-type]
    except TraceCheckUsageError as exc:
        raise ConfigUsageError(str(exc)) from None
    unreadable = [p for p in report.problems if p.line == 0]
    if unreadable and not report.records:  # no file to speak of: one line, as every other bad input
        raise ConfigUsageError(unreadable[0].reason)
    click.echo(report.text())
    if report.exit_code:
        raise click.exceptions.Exit(report.exit_code)


@app.command("demo")
@click.option("--trace", "trace_name", type=str, metavar="FILE",
              help="Also write the trace as JSON Lines here.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary tables.")
@click.option("--all", "show_all", is_flag=True,
              help="Print every per-key transition (by default only each key's first).")
def demo(trace_name: str | None, quiet: bool, show_all: bool) -> None:
    """Tell the breaker, tenant-resolver and backpressure stories (faithful vs hardened)."""
    from rustok_sim.scenarios.demo import run_demo

    trace_path = _writable_output(trace_name)
    result = run_demo()
    console = _console()
    if not quiet:
        console.print("[bold]Transitions and anomalies[/bold] (virtual time, seconds)")
        seen_keys: set[str] = set()
        hidden = 0
        for record in result.recorder.records:
            if isinstance(record, Transition) and not show_all and "[" in record.instance:
                # Per-key machines (a load slot, a cache entry per tenant key) repeat the same two
                # moves hundreds of times: show each key once, count the rest.
                if record.instance in seen_keys:
                    hidden += 1
                    continue
                seen_keys.add(record.instance)
            if isinstance(record, Transition):
                # Instances and messages are user text (tenant slugs in brackets): escape them.
                console.print(f"  t={record.t:8.2f}  {escape(f'{record.instance:<36}')} "
                              f"{escape(record.from_state)} -> {escape(record.to_state)}  "
                              f"({escape(record.trigger)})")
            elif isinstance(record, Anomaly):
                console.print(f"  t={record.t:8.2f}  {escape(f'{record.instance:<36}')} [red]ANOMALY[/red] "
                              f"{escape(record.anomaly)}: {escape(record.message)}")
        if hidden:
            console.print(f"  ... and {hidden} more per-key transitions (--all prints them, --trace FILE keeps them)")
    for story in ("breaker", "tenants", "backpressure"):
        rows = [s for s in result.summaries if s["story"] == story]
        table = Table(title=f"{story} story", title_justify="left", caption=_CAPTIONS.get(story),
                      caption_justify="left")
        columns = [k for k in rows[0] if k != "story"]
        for column in columns:
            table.add_column(escape(column))
        for row in rows:
            table.add_row(*(escape(str(row[c])) for c in columns))
        console.print(table)
    if trace_path is not None:
        try:
            write_jsonl(result.recorder.records, trace_path, meta={"source": "rustok-sim demo"})
        except OSError as exc:
            raise InputError(exc.strerror or str(exc)) from None
        console.print(f"trace: {len(result.recorder.records)} records written to {escape(str(trace_path))}")


_CAPTIONS = {"breaker": "state_transitions: CB-B's counter; the standalone breaker (CB-A) keeps none, so it reads 0"}


class ConfigUsageError(click.ClickException):
    """A config that cannot run (unknown field, wrong type, out of range, TOML syntax): exit 2."""

    exit_code = 2


@app.command("list")
def list_catalog() -> None:
    """Show the catalog: each named config with the story it runs and what it demonstrates."""
    from rustok_sim.scenarios.engine.loading import ConfigError, catalog

    try:
        entries = catalog()
    except ConfigError as exc:
        raise ConfigUsageError(str(exc)) from None
    table = Table(title="rustok-sim catalog (rustok-sim run NAME)", title_justify="left")
    table.add_column("name")
    table.add_column("scenario")
    table.add_column("what it shows")
    for entry in entries.values():
        table.add_row(escape(entry.name), escape(entry.scenario), escape(entry.description))
    _console().print(table)


@app.command("config-schema")
@click.argument("scenario")
def config_schema(scenario: str) -> None:
    """Print the JSON Schema of a scenario's config (what its TOML file may hold)."""
    from rustok_sim.scenarios.engine.loading import ConfigError, story_named

    try:
        story = story_named(scenario, "config-schema")
    except ConfigError as exc:
        raise ConfigUsageError(str(exc)) from None
    click.echo(json.dumps(story.config.model_json_schema(by_alias=True), indent=2, sort_keys=True))


@app.command("run")
@click.argument("target", metavar="NAME|FILE.toml")
@click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE",
              help="Override a config field (dotted for sections: breaker.failure_threshold=3). Repeatable.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Random seed.")
@click.option("--profile", type=click.Choice(["faithful", "hardened"]),
              help="faithful: as the Rust code does; hardened: as RusToK's policies promise.")
@click.option("--out", "out_name", type=str, metavar="DIR",
              help="Where result.json and trace.jsonl go (default: results/<name>-<profile>-<seed>).")
@click.option("--json", "as_json", is_flag=True, help="Print result.json to stdout instead of the summary.")
@click.option("--trace-level", type=click.Choice(["full", "transitions", "summary"]),
              help="What trace.jsonl keeps (default: the config's trace_level).")
def run_scenario(target: str, overrides: tuple[str, ...], seed: int, profile: str | None, out_name: str | None,
                 as_json: bool, trace_level: str | None) -> None:
    """Run a scenario from the catalog or a TOML file; exit 1 when an invariant fails."""
    from rustok_sim.scenarios.engine.loading import ConfigError, load_config, story_named

    extra = [f"trace_level={trace_level}"] if trace_level is not None else []
    try:
        config = load_config(target, [*overrides, *extra], profile=profile)
        story = story_named(config.scenario)
    except ConfigError as exc:
        raise ConfigUsageError(str(exc)) from None
    name = Path(target).stem if target.endswith(".toml") else target
    out = Path(out_name) if out_name is not None else Path("results") / f"{name}-{config.profile}-{seed}"
    if out.exists() and not out.is_dir():
        raise ConfigUsageError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigUsageError(f"--out {out}: {exc.strerror or exc}") from None
    console = _console()
    show_progress = sys.stdout.isatty() and not as_json
    if show_progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn(f"{escape(name)} ({config.profile}, seed {seed})"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(), console=console,
                      transient=True) as bar:
            task = bar.add_task("run", total=1.0)
            result = story.run(config, seed, trace_path=out / "trace.jsonl",
                               progress=lambda done: bar.update(task, completed=done))
    else:
        result = story.run(config, seed, trace_path=out / "trace.jsonl")
    result.write(out / "result.json")
    if as_json:
        sys.stdout.write(result.to_json())
    else:
        from rustok_sim.scenarios.engine.summary import print_result

        print_result(console, name, result, out)
    if not result.ok:
        raise click.exceptions.Exit(1)


@app.command("conform")
@click.option("--component", "components", multiple=True, metavar="C",
              help="A component to check (repeatable; default: every component with a suite).")
@click.option("--variant", "variants", multiple=True, metavar="V",
              help="A variant of the component (repeatable; default: all of them).")
@click.option("--target", "targets", multiple=True, metavar="C=module:factory",
              help="The implementation to check for component C (default: the reference).")
@click.option("--profile", type=click.Choice(["ci", "thorough"]), default="ci", show_default=True,
              help="ci: fast and derandomized; thorough: many more examples.")
@click.option("--seed", "seed_value", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Fix Hypothesis's random choices (default: ci is derandomized; thorough picks a seed and prints it).")
@click.option("--self-test", is_flag=True, help="Run every suite against every mutant; fail if one survives.")
@click.option("--json", "json_name", type=str, metavar="FILE", help="Also write the verdicts as JSON.")
@click.option("--junit", "junit_name", type=str, metavar="FILE", help="Also write JUnit XML (one test case per suite run).")
@click.option("--artifacts", "artifacts_name", type=str, metavar="DIR",
              help="Write each suite's state diagram (PNG and SVG, edges with counts) and verdicts.json here.")
def conform(components: tuple[str, ...], variants: tuple[str, ...], targets: tuple[str, ...], profile: str,
            seed_value: int | None, self_test: bool, json_name: str | None, junit_name: str | None, artifacts_name: str | None) -> None:
    """Check implementations against the reference model: exit 0 conformant, 1 a violation
    (or a surviving mutant), 2 a usage error, 3 inconclusive (no violation, but a required edge
    or goal was never reached within the budget)."""
    from rustok_sim.conformance import gate

    json_path = _writable_output(json_name)
    junit_path = _writable_output(junit_name)
    if os.getcwd() not in sys.path:
        # A `--target mymodule:factory` in the current directory imports, as under `python -m`.
        sys.path.insert(0, os.getcwd())
    try:
        plugged = gate.parse_targets(targets)
        names = components or tuple(plugged) or tuple(gate.COMPONENTS)
        chosen = [gate.component_named(name) for name in names]
        for variant in variants:
            if not any(variant in c.variants for c in chosen):
                raise gate.GateError(f"no chosen component has variant {variant!r}; variants: "
                                     + "; ".join(f"{c.name}: {', '.join(c.variants)}" for c in chosen))
        console = _console()
        if seed_value is None and profile != "ci":
            import secrets

            seed_value = secrets.randbelow(2**32)
            console.print(f"seed {seed_value} (pass --seed {seed_value} to explore the same examples again)")
        if self_test:
            matrix = gate.self_test(chosen, profile, seed_value)  # type: ignore[arg-type]
            table = Table(title="mutant kill matrix", title_justify="left")
            for column in ("component", "mutant", "variant", "result"):
                table.add_column(column)
            for component_name, mutant, variant, killed in matrix:
                table.add_row(component_name, mutant, variant, "[green]killed[/]" if killed else "[red]SURVIVED[/]")
            console.print(table)
            survivors = [row for row in matrix if not row[3]]
            if json_path is not None:
                _write_text(json_path, json.dumps([{"component": c, "mutant": m, "variant": v, "killed": k}
                                                   for c, m, v, k in matrix], indent=2) + "\n")
            console.print(f"{len(matrix) - len(survivors)} of {len(matrix)} mutant runs killed")
            if survivors:
                raise click.exceptions.Exit(1)
            return
        config = gate.suite_settings(profile)  # type: ignore[arg-type]
        verdicts = []
        for component in chosen:
            spec, factory = plugged.get(component.name, ("reference", component.reference))
            wanted = [v for v in variants if v in component.variants] if variants else list(component.variants)
            for variant in wanted:
                verdicts.append(gate.run_suite(component, variant, factory, spec, config, seed_value))
    except gate.GateError as exc:
        raise ConfigUsageError(str(exc)) from None
    finally:
        for _spec, factory in locals().get("plugged", {}).values():
            close = getattr(factory, "close", None)
            if close is not None:
                close()
    table = Table(title=f"conformance ({profile})", title_justify="left")
    for column in ("component", "variant", "target", "verdict", "coverage", "detail"):
        table.add_column(column)
    for verdict in verdicts:
        colour = {"conformant": "green", "inconclusive": "yellow"}.get(verdict.status, "red")
        table.add_row(verdict.component, verdict.variant, escape(verdict.target),
                      f"[{colour}]{verdict.status}[/]", _coverage_cell(verdict.coverage), escape(verdict.detail))
    console.print(table)
    for verdict in verdicts:
        if verdict.status == "violation":
            continue  # stopped at the difference: what it did not reach yet says nothing
        missed = verdict.coverage.get("missed") if verdict.coverage else None
        if missed:
            required = set(verdict.coverage.get("required_missed", []))
            named = [edge if edge in required else f"{edge} (optional here)" for edge in missed]
            console.print(f"edges not reached ({verdict.component}, {verdict.variant}): {escape('; '.join(named))}")
        goals_missed = verdict.coverage.get("goals_missed") if verdict.coverage else None
        if goals_missed:
            console.print(f"goals not reached ({verdict.component}, {verdict.variant}): {escape('; '.join(goals_missed))}")
    for verdict in verdicts:
        if verdict.status == "violation" and verdict.steps:
            console.print(f"[bold]counterexample[/] ({verdict.component}, {verdict.variant}):")
            steps = list(enumerate(verdict.steps, 1))
            if gate.COMPONENTS[verdict.component].table is None and len(steps) > 2:
                # A validator's outcome depends on its input alone: the last step is the finding.
                console.print(f"  (a stateless component: the {len(steps) - 2} inputs before the last did not "
                              f"matter; --artifacts DIR writes every step)")
                steps = [steps[0], steps[-1]]
            for number, step in steps:
                console.print(f"  {number}. {escape(step)}")
        if verdict.status == "violation":
            console.print(f"reproduce: {escape(_reproduce_command(verdict, profile))}")
    if json_path is not None:
        _write_text(json_path, json.dumps([v.as_dict() for v in verdicts], indent=2) + "\n")
    if junit_path is not None:
        _write_text(junit_path, _junit(verdicts, profile))
    if artifacts_name is not None:
        _write_artifacts(Path(artifacts_name), verdicts, console, profile)
    if any(v.status == "violation" for v in verdicts):
        raise click.exceptions.Exit(1)
    if any(v.status == "inconclusive" for v in verdicts):
        raise click.exceptions.Exit(3)


def _coverage_cell(coverage: Mapping[str, Any]) -> str:
    """Edges of the table reached (stateful components), goals reached (all)."""
    if not coverage:
        return ""
    goals = len(coverage.get("goals", {})) + len(coverage.get("goals_missed", []))
    cell = [f"{len(coverage.get('covered', {}))}/{coverage['edges']} edges"] if coverage.get("edges") else []
    if goals:
        cell.append(f"{len(coverage.get('goals', {}))}/{goals} goals")
    return ", ".join(cell)


def _junit(verdicts: list[Any], profile: str) -> str:
    from xml.etree import ElementTree as ET

    failures = sum(v.status == "violation" for v in verdicts)
    suite = ET.Element("testsuite", name=f"rustok-sim conform ({profile})", tests=str(len(verdicts)),
                       failures=str(failures), errors="0")
    for verdict in verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"conform.{verdict.component}",
                             name=f"{verdict.variant}[{verdict.target}]")
        if verdict.status == "violation":
            failure = ET.SubElement(case, "failure", message=verdict.detail)
            failure.text = "\n".join(verdict.steps) + "\n\nreproduce: " + _reproduce_command(verdict, profile)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _reproduce_command(verdict: Any, profile: str) -> str:
    import shlex

    target = [] if verdict.target == "reference" else ["--target", f"{verdict.component}={verdict.target}"]
    seeded = [] if verdict.seed is None else ["--seed", str(verdict.seed)]
    words = ["rustok-sim", "conform", "--component", verdict.component, "--variant", verdict.variant, *target,
             "--profile", profile, *seeded]
    return " ".join(shlex.quote(w) for w in words)


def _counterexample_test(verdict: Any, profile: str) -> str:
    """A pytest file that re-runs the suite that found the violation (the ci profile is
    derandomized and any other run is seeded, so it finds the same counterexample) and fails
    until the target conforms."""
    steps = "\n".join(f"#   {n}. {step}" for n, step in enumerate(verdict.steps, 1))
    if verdict.target == "reference":
        factory = f"COMPONENTS[{verdict.component!r}].reference"
    elif verdict.target.startswith("exec:"):
        factory = f"exec_factory({verdict.component!r}, {verdict.target[len('exec:'):].strip()!r})"
    else:
        factory = f"load_factory({verdict.target!r})"
    return f'''"""Counterexample found by `rustok-sim conform` ({verdict.component}, {verdict.variant}).

{verdict.detail}
"""
# The steps (shrunk):
{steps}

from rustok_sim.conformance.exec_target import exec_factory  # noqa: F401
from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings
from rustok_sim.conformance.targets import load_factory  # noqa: F401


def test_{verdict.component}_{verdict.variant}_conforms() -> None:
    verdict = run_suite(COMPONENTS[{verdict.component!r}], {verdict.variant!r}, {factory}, {verdict.target!r},
                        suite_settings({profile!r}), {verdict.seed!r})
    assert verdict.status == "conformant", verdict.detail
'''


def _write_counterexample_trace(path: Path, verdict: Any, profile: str) -> None:
    """The counterexample as a trace file `check-trace` and the report read: what the target did
    in the shrunk run (instance ``target``: its state changes and, where the suite writes them,
    its inputs, which `check-trace` replays through the reference, with its config) beside the
    reference's own records of the same run (instances named ``reference``)."""
    from rustok_sim.model.core.tracefile import write_jsonl

    meta: dict[str, Any] = {"source": "rustok-sim conform", "component": verdict.component, "target": verdict.target,
                            "variants": {verdict.component: verdict.variant}, "violation": verdict.detail,
                            "steps": verdict.steps, "reproduce": _reproduce_command(verdict, profile)}
    if verdict.config is not None:
        meta["configs"] = {verdict.component: {"target": verdict.config}}
    write_jsonl(verdict.trace, path, meta)


def _write_artifacts(directory: Path, verdicts: list[Any], console: Console, profile: str) -> None:
    from rustok_sim.conformance import gate
    from rustok_sim.conformance.diagrams import save_figure, state_diagram, timeline_figure

    diagrams = 0
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for verdict in verdicts:
            # A stateless component (a validator) has no table: no state diagram, no timeline.
            table = gate.COMPONENTS[verdict.component].table
            if verdict.status == "violation":
                stem = directory / f"counterexample-{verdict.component}-{verdict.variant}"
                _write_text(stem.with_suffix(".txt"), "\n".join(verdict.steps) + f"\n\n{verdict.detail}\n")
                _write_text(stem.with_suffix(".py"), _counterexample_test(verdict, profile))
                if table is not None:  # a stateless component has no moves to trace
                    _write_counterexample_trace(stem.with_suffix(".trace.jsonl"), verdict, profile)
                    save_figure(timeline_figure(verdict.timeline, f"{verdict.component} ({verdict.variant}) "
                                                f"counterexample\n{verdict.target}", table.states()),
                                directory / f"counterexample-{verdict.component}-{verdict.variant}-timeline")
            if table is not None:
                figure = state_diagram(table, verdict.variant, verdict.edge_counts,
                                       f"{verdict.component} ({verdict.variant}): {verdict.target}, {verdict.status}")
                save_figure(figure, directory / f"{verdict.component}-{verdict.variant}")
                diagrams += 1
        _write_text(directory / "verdicts.json", json.dumps([v.as_dict() for v in verdicts], indent=2) + "\n")
    except OSError as exc:
        raise click.ClickException(f"cannot write artifacts to {directory}: {exc}") from None
    console.print(f"wrote {diagrams} state diagrams (PNG, SVG) and verdicts.json to {escape(str(directory))}")


from rustok_sim.reports.cli_report import report as _report_command  # noqa: E402, I001 - registered after the core commands
app.add_command(_report_command)
from rustok_sim.reports.sweep.cli import sweep as _sweep_command  # noqa: E402, I001 - registered after the core commands
app.add_command(_sweep_command)
from rustok_sim.scenarios.live.cli import calibrate as _calibrate_command, live as _live_command  # noqa: E402, I001 - registered after the core commands
app.add_command(_live_command); app.add_command(_calibrate_command)  # noqa: E702 - one line for the live commands
from rustok_sim.reports.cli_curves import curves_command as _curves_command  # noqa: E402, I001 - registered after the core commands
app.add_command(_curves_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (the console script exits with it)."""
    try:
        status = app.main(args=argv, prog_name="rustok-sim", standalone_mode=False)
    except _NoArgsIsHelp as exc:  # bare `rustok-sim`: the help is the answer, not an error
        click.echo(exc.ctx.get_help() if exc.ctx is not None else "")
        return 0
    except click.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        print(f"rustok-sim: error: {exc.format_message()}{hint}", file=sys.stderr)
        return 2
    except click.ClickException as exc:
        print(f"rustok-sim: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        print("rustok-sim: aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`rustok-sim demo | head`): stop quietly, as a shell tool does.
        # stdout is pointed at devnull so that the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (ValidationError, OSError) as exc:
        print(f"rustok-sim: error: {str(exc).replace(chr(10), '; ')}", file=sys.stderr)
        return 1
    # Without standalone mode click returns a command's `Exit(code)` instead of raising it.
    return status if isinstance(status, int) else 0


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()
